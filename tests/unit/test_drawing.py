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
from followup.interop.graph import to_mermaid

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


def _svg_timings(svg: str) -> dict[tuple[str, str], list[str]]:
    """(state, rule) -> the timing lines under that reminder in that state's box."""
    root = ET.fromstring(svg)
    found: dict[tuple[str, str], list[str]] = {}
    for box in root.iter(f"{SVG}g"):
        if box.attrib.get("class") != "state":
            continue
        state = box.attrib["id"].removeprefix("state-")
        for reminder in box.iter(f"{SVG}g"):
            if reminder.attrib.get("class") == "reminder":
                texts = [t.text or "" for t in reminder.iter(f"{SVG}text")]
                assert texts[0].startswith("⏰ " + reminder.attrib["data-rule"])
                found[(state, reminder.attrib["data-rule"])] = texts[1:]
    return found


def _mermaid_timings(text: str) -> dict[tuple[str, str], str]:
    """(state, rule) -> the timing the Mermaid text gives that reminder in that state."""
    found: dict[tuple[str, str], str] = {}
    state = None
    for line in text.splitlines():
        if line.startswith("    note right of "):
            state = line.removeprefix("    note right of ")
        elif line.strip() == "end note":
            state = None
        elif state is not None:
            name, timing = line.strip().split(" - ", 1)
            found[(state, name.split(" (each ")[0])] = timing
    return found


def test_each_reminder_in_the_svg_shows_its_timing_as_the_mermaid_text_does() -> None:
    pack = load_rules()
    svg = _svg_timings(to_svg(pack))
    mermaid = _mermaid_timings(to_mermaid(pack))
    assert set(svg) == set(mermaid)
    assert len(svg) >= len(pack.application_rules)
    for where, lines in svg.items():
        # Mermaid writes the parts on one line, with ';' as ','.
        assert "; ".join(lines).replace(";", ",") == mermaid[where], where


def test_the_svg_timings_of_a_pack_in_its_own_words(tmp_path: Path) -> None:
    pack_file = tmp_path / "pack.yaml"
    pack_file.write_text(PACK, encoding="utf-8")
    pack = load_rules(pack_file)
    timings = _svg_timings(to_svg(pack))
    assert timings == {
        ("waiting", "say-thanks"): ["at met_at", "due 2 working days after met_at"],
        ("waiting", "call-them"): [
            "at 7 days after met_at", "due 10 days after met_at",
            "instead at called_back_on when called_back_on is known"],
        ("done", "stay-in-touch"): ["at entered", "every 90 days, 4x"],
    }
    dot = to_dot(pack)
    assert "    at 7 days after met_at\\l" in dot
    assert "    every 90 days, 4x\\l" in dot


PACK = """\
version: 1
name: tiny
states: [waiting, done]
initial: waiting
roles: [interviewer]
facts:
  met_at: {type: datetime}
  called_back_on: {type: date}
events:
  finished: {from: waiting, to: done}
rules:
  - name: say-thanks
    while: waiting
    at: met_at
    due: 2 working days after met_at
    notify: {subject: "Say thanks"}
  - name: call-them
    while: waiting
    at: 7 days after met_at
    due: 10 days after met_at
    instead:
      - {if: called_back_on, at: called_back_on}
    notify: {subject: "Call them"}
  - name: stay-in-touch
    while: done
    every: 90 days
    limit: 4
    notify: {subject: "Check in"}
"""
