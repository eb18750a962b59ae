"""Pictures from the command line: ``followup graph`` as Mermaid, SVG, DOT and PNG, and
``followup show --graph``.

A PNG is drawn by Graphviz's ``dot``. These tests never need Graphviz: one puts a
stand-in ``dot`` on the PATH that records what it was given and answers a PNG header,
and one empties the PATH so that no ``dot`` can be found, whether or not the machine
has Graphviz.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from followup import load_rules
from followup.interop.drawing import to_dot, to_svg

PNG = b"\x89PNG\r\n\x1a\n"

FAKE_DOT = f"""#!{sys.executable}
import sys
from pathlib import Path
here = Path(__file__).parent
(here / "args.txt").write_text(" ".join(sys.argv[1:]))
(here / "input.dot").write_bytes(sys.stdin.buffer.read())
sys.stdout.buffer.write({PNG!r} + b"drawn")
"""


def test_the_format_follows_the_suffix(followup: Any, tmp_path: Path) -> None:
    followup("graph", "--output", str(tmp_path / "pack.svg"))
    assert (tmp_path / "pack.svg").read_text(encoding="utf-8") == to_svg(load_rules())
    ET.fromstring((tmp_path / "pack.svg").read_text(encoding="utf-8"))
    followup("graph", "--output", str(tmp_path / "pack.dot"))
    assert (tmp_path / "pack.dot").read_text(encoding="utf-8") == to_dot(load_rules())
    mermaid = followup("graph").stdout
    assert mermaid.startswith("stateDiagram-v2\n")
    assert followup("graph", "--format", "svg").stdout.startswith("<svg ")


def test_a_png_is_drawn_by_graphvizs_dot(followup: Any, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    dot = tools / "dot"
    dot.write_text(FAKE_DOT, encoding="utf-8")
    dot.chmod(0o755)
    target = tmp_path / "pack.png"
    followup("graph", "--output", str(target), env={"PATH": str(tools)})
    assert target.read_bytes() == PNG + b"drawn"
    assert (tools / "args.txt").read_text() == "-Tpng"
    assert (tools / "input.dot").read_text(encoding="utf-8") == to_dot(load_rules())


def test_without_graphviz_a_png_is_refused_with_the_way_out(
    followup: Any, tmp_path: Path
) -> None:
    empty = tmp_path / "nothing"
    empty.mkdir()
    target = tmp_path / "pack.png"
    result = followup("graph", "--format", "png", "--output", str(target),
                      env={"PATH": str(empty)}, expect=2)
    assert "a PNG needs Graphviz's dot program, which is not installed" in result.stderr
    assert "--format svg, which needs nothing else" in result.stderr
    assert not target.exists()


def test_show_draws_one_applications_path(followup: Any, acme: dict[str, Any]) -> None:
    app = acme["id"]
    followup("log", app, "called", "--at", "2026-12-29T10:00")
    followup("log", app, "rejected", "--at", "2027-01-05T10:00")
    drawn = followup("show", app, "--graph").stdout
    assert drawn.startswith("stateDiagram-v2\n    [*] --> interviewed\n")
    assert "    interviewed --> followed_up: 1. called 2026-12-29\n" in drawn
    assert "    followed_up --> rejected: 2. rejected 2027-01-05\n" in drawn
    assert "    thanked --> followed_up: called\n" in drawn  # a move not taken
    assert "    class interviewed,followed_up visited\n" in drawn
    assert drawn.endswith("    class rejected current\n")
