"""The diagram of the default pack in the docs is the one the pack draws today."""

from __future__ import annotations

from pathlib import Path

import pytest

from followup import load_rules
from followup.interop.graph import to_mermaid

DOC = Path(__file__).resolve().parents[2] / "docs" / "diagram.md"


def test_the_docs_diagram_is_the_default_packs() -> None:
    if not DOC.exists():
        pytest.skip("needs the source tree's docs/")
    text = DOC.read_text(encoding="utf-8")
    drawn = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert drawn == to_mermaid(load_rules()), (
        "docs/diagram.md is out of date: regenerate its mermaid block with `followup graph`"
    )


def test_the_diagram_shows_every_state_move_and_rule() -> None:
    pack = load_rules()
    drawn = to_mermaid(pack)
    assert drawn.startswith("stateDiagram-v2\n    [*] --> interviewed\n")
    for state in pack.states:
        assert f" {state} " in drawn or f" {state}:" in drawn or f"--> {state}" in drawn
    assert "    interviewed --> thanked: all-thanked (every interviewer did thank_you_sent)" in drawn
    assert "    rejected --> keep_warm: keep-warm (after 1 working day)" in drawn
    assert "    keep_warm --> interviewed: reopened" in drawn
    for rule in pack.rules:
        assert rule.name in drawn
