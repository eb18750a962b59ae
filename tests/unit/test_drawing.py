"""The default pack drawn as SVG: the image in the docs is the one the pack draws today,
it is well-formed, shows every state, move and rule, and no arrow crosses a box."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import pairwise
from pathlib import Path

import pytest

from followup import load_rules
from followup.interop.drawing import moves, to_dot, to_svg

IMAGE = Path(__file__).resolve().parents[2] / "docs" / "diagram.svg"
SVG = "{http://www.w3.org/2000/svg}"


def test_the_docs_image_is_the_default_packs() -> None:
    if not IMAGE.exists():
        pytest.skip("needs the source tree's docs/")
    assert IMAGE.read_text(encoding="utf-8") == to_svg(load_rules()), (
        "docs/diagram.svg is out of date: regenerate it with  followup graph --output "
        "docs/diagram.svg"
    )


def test_the_drawing_is_the_same_every_time() -> None:
    assert to_svg(load_rules()) == to_svg(load_rules())


def test_the_svg_shows_every_state_move_and_rule() -> None:
    pack = load_rules()
    root = ET.fromstring(to_svg(pack))
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    for state in pack.states:
        assert state in texts
    for move in moves(pack):
        assert move.label in texts
    for rule in pack.rules:
        assert any(rule.name in t for t in texts), rule.name


def _boxes(root: ET.Element) -> list[tuple[float, float, float, float]]:
    return [tuple(float(g.attrib[k]) for k in ("x", "y", "width", "height"))  # type: ignore[misc]
            for g in root.iter(f"{SVG}rect") if "rx" in g.attrib]


def test_no_arrow_crosses_a_box() -> None:
    root = ET.fromstring(to_svg(load_rules()))
    boxes = _boxes(root)
    assert len(boxes) == len(load_rules().states) + 1  # and the owner rules' box
    for path in root.iter(f"{SVG}path"):
        points = [(float(x), float(y)) for x, y in re.findall(r"(-?\d+) (-?\d+)", path.attrib["d"])]
        for (x1, y1), (x2, y2) in pairwise(points):
            for bx, by, bw, bh in boxes:
                # Segments are horizontal or vertical: one crosses a box when it passes
                # strictly inside it (ending on its edge is how an arrow arrives).
                inside_x = min(x1, x2) < bx + bw - 1 and max(x1, x2) > bx + 1
                inside_y = min(y1, y2) < by + bh - 1 and max(y1, y2) > by + 1
                assert not (inside_x and inside_y), (path.attrib["d"], (bx, by, bw, bh))


def test_dot_text_names_every_state_and_move() -> None:
    pack = load_rules()
    dot = to_dot(pack)
    assert dot.startswith('digraph "after-interview" {\n')
    for move in moves(pack):
        assert f'"{move.source}" -> "{move.dest}" [label="{move.label}"];' in dot
