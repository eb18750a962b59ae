"""The command explains itself: every option of every subcommand says what it is for,
and ``log --help`` lists the events of the rule pack in use."""

from __future__ import annotations

import argparse

import pytest

from followup.cli import _parser


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    for action in _parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("followup has no subcommands")


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_option_has_help(name: str) -> None:
    parser = _subcommands()[name]
    assert parser.description, name
    missing = [a.option_strings or [a.dest] for a in parser._actions if not a.help]
    assert missing == [], f"followup {name}: options without help: {missing}"


def test_log_help_lists_the_events(followup) -> None:
    out = followup("log", "--help").stdout
    assert "events of the rule pack 'after-interview':" in out
    assert "thank_you_sent" in out and "about one --contact" in out
    assert "called               in interviewed, thanked → followed_up" in out
    # The pack in use: --rules, or FOLLOWUP_RULES.
    pack = followup.write("ghost.yaml", """
        version: 1
        name: ghost
        extends: after-interview
        states: [ghosted]
        events:
          ghosted: {from: [followed_up], to: ghosted, description: they stopped answering}
        """)
    out = followup("log", "--help", "--rules", str(pack)).stdout
    assert "events of the rule pack 'ghost':" in out
    assert "ghosted" in out and "they stopped answering" in out
    out = followup("log", "--help", env={"FOLLOWUP_RULES": str(pack)}).stdout
    assert "they stopped answering" in out
