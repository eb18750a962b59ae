"""``followup graph --json``: the rule pack's machine as data, not a drawing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from followup import load_rules


def test_graph_json_is_the_machine(followup: Any, tmp_path: Path) -> None:
    pack = load_rules()
    data = followup("graph", "--json").json()
    assert data["name"] == pack.name
    assert data["states"] == list(pack.states)
    assert data["initial"] == pack.initial
    assert [e["name"] for e in data["events"]] == list(pack.events)
    called = next(e for e in data["events"] if e["name"] == "called")
    spec = pack.events["called"]
    assert (called["from"], called["to"]) == (list(spec.sources or ()), spec.dest)
    assert [r["name"] for r in data["rules"]] == [r.name for r in pack.rules]
    notes = next(r for r in data["rules"] if r["name"] == "thank-you-notes")
    assert notes["for_each"] == "interviewer"
    assert notes["due"] == pack.rule("thank-you-notes").due.text  # type: ignore[union-attr]
    assert [t["name"] for t in data["transitions"]] == [t.name for t in pack.transitions]
    # The same with --format json, and into a .json file by its suffix.
    assert followup("graph", "--format", "json").json() == data
    followup("graph", "--output", str(tmp_path / "machine.json"))
    assert json.loads((tmp_path / "machine.json").read_text(encoding="utf-8")) == data
    # Without --json, still Mermaid.
    assert followup("graph").stdout.startswith("stateDiagram-v2\n")


def test_graph_json_follows_the_chosen_pack(followup: Any) -> None:
    pack = followup.write("mine.yaml", """
        version: 1
        name: mine
        extends: after-interview
        states: [ghosted]
        events:
          ghosted: {from: [followed_up], to: ghosted}
        """)
    data = followup("graph", "--json", "--rules", str(pack)).json()
    assert data["name"] == "mine"
    assert "ghosted" in data["states"]
    assert {"name": "ghosted", "from": ["followed_up"], "to": "ghosted"}.items() <= next(
        e for e in data["events"] if e["name"] == "ghosted").items()
