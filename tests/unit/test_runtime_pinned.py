"""Behaviour of the runtime that its other tests left open: each test pins one thing a
change to the engine's parts could break unseen (bench/mutation/runtime.md lists them)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from followup import Contact, Engine, FakeClock, MemoryStore, load_rules

# Monday 1 March 2027, 10:00 in New York.
MONDAY = datetime(2027, 3, 1, 15, tzinfo=UTC)


def _engine(text: str | None = None, *, at: datetime = MONDAY) -> Engine:
    pack = load_rules(text=text, cache=False) if text is not None else load_rules()
    engine = Engine(rules=pack, store=MemoryStore(), clock=FakeClock(at), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    return engine


def _interviewers() -> list[Contact]:
    return [Contact("Jane", "interviewer", title="CTO"), Contact("Bob", "interviewer", title="VP")]


# A rule may carry the name of an event: its reminders' history entries then share it.
_RULE_NAMED_AS_EVENT = """\
version: 1
extends: after-interview
rules:
  - name: thank_you_sent
    while: interviewed
    for_each: interviewer
    at: interviewed_at
    notify: {subject: "Say thanks"}
"""


def test_a_reminder_named_as_an_event_is_not_that_event_recorded() -> None:
    engine = _engine(_RULE_NAMED_AS_EVENT)
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"},
                                 contacts=_interviewers())
    assert engine.run_due().fired == 2  # a "thank_you_sent" reminder for each
    outcome = engine.record(app.id, "thank_you_sent", contact="Jane")
    assert outcome.changed
    assert [(h.kind, h.contact) for h in outcome.entries] == [("event", "Jane")]
    assert engine.record(app.id, "thank_you_sent", contact="Bob").application.state == "thanked"


# Two moves of the pack's own that follow one another in one change.
_CHAIN = """\
version: 1
name: chain
states: [open, waiting, closed]
initial: open
facts:
  quiet: {type: bool}
events:
  closed: {from: [open, waiting], to: closed}
transitions:
  - {name: park, from: open, to: waiting, when: "quiet"}
  - {name: shut, from: waiting, to: closed, when: "quiet"}
templates:
  t:
    subject: "x"
rules:
  - name: nudge
    while: open
    at: 1 day after entered
    notify: {template: t}
"""


def test_the_packs_own_moves_in_one_change_take_the_next_places_in_the_history() -> None:
    engine = _engine(_CHAIN)
    app = engine.add_application(owner="ada", company="Acme", role="Engineer")
    outcome = engine.set_facts(app.id, {"quiet": True})
    assert outcome.application.state == "closed"
    assert [(h.seq, h.kind, h.name) for h in engine.history(app.id)] == [
        (0, "created", "created"), (1, "facts", "facts"), (2, "transition", "park"),
        (3, "transition", "shut")]


def test_a_plan_cannot_be_changed_once_made() -> None:
    engine = _engine()
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"},
                                 contacts=_interviewers())
    found = engine.planner.plan(app, engine.history(app.id), engine.calendar("ada"))
    assert [t.rule for t in found.timers] != []
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'timers'"):
        found.timers = []  # type: ignore[misc]
