"""A change plans again only the rules whose inputs it touched (followup.runtime.inputs)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from followup import Contact, Engine, FakeClock, MemoryStore, load_rules
from followup.runtime.changes import Planner
from followup.runtime.inputs import rule_inputs

START = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)  # 15:00 in New York
PACK = load_rules()
# Rules whose conditions look at the owner's other applications: planned on every change.
ALWAYS = frozenset((r.name, None) for r in PACK.application_rules
                   if rule_inputs(PACK, r).everything)

Only = frozenset[tuple[str, str | None]] | None


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Only]]:
    """The ``only`` of every plan the engine computes."""
    seen: list[Only] = []
    plan = Planner.plan

    def counting(self: Planner, *args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("only"))
        return plan(self, *args, **kwargs)

    monkeypatch.setattr(Planner, "plan", counting)
    yield seen


def _engine() -> tuple[Engine, str]:
    engine = Engine(store=MemoryStore(), clock=FakeClock(START), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    app = engine.add_application(
        owner="ada", company="Acme", role="Engineer", facts={"interviewed_at": START},
        contacts=[Contact("Jane Doe", "interviewer", title="CTO"),
                  Contact("Raj Patel", "interviewer", title="Lead")])
    return engine, app.id


def _whole(engine: Engine, app: str) -> list[str]:
    record = engine.store.load(app)
    return sorted(t.key for t in engine.planner.plan(
        record.application, record.history, engine.calendar("ada"),
        stored_state=record.application.state).timers)


def test_a_thank_you_for_one_interviewer_plans_only_that_reminder(calls: list[Only]) -> None:
    engine, app = _engine()
    before = {t.key: t for t in engine.timers(app)}
    calls.clear()
    outcome = engine.record(app, "thank_you_sent", contact="Jane Doe")
    assert calls == [frozenset({("thank-you-notes", "Jane Doe")}) | ALWAYS]
    assert not {"follow-up-call", "ask-decision-date", "collect-contacts"} & {
        name for name, _ in calls[0] or ()}
    # Jane's note is done; Raj's and every other reminder stay as they were.
    assert [(t.rule, t.contact) for t in outcome.cancelled] == [("thank-you-notes", "Jane Doe")]
    after = {t.key: t for t in engine.timers(app)}
    assert after == {k: t for k, t in before.items() if t.contact != "Jane Doe"}
    assert sorted(after) == _whole(engine, app)


def test_the_last_thank_you_moves_the_state_and_plans_in_full(calls: list[Only]) -> None:
    engine, app = _engine()
    engine.record(app, "thank_you_sent", contact="Jane Doe")
    calls.clear()
    engine.record(app, "thank_you_sent", contact="Raj Patel")
    assert engine.application(app).state == "thanked"
    assert calls == [None]
    assert sorted(t.key for t in engine.timers(app)) == _whole(engine, app)


def test_a_fact_plans_the_rules_that_read_it(calls: list[Only]) -> None:
    engine, app = _engine()
    calls.clear()
    engine.set_facts(app, {"decision_expected_on": "2027-01-08"})
    assert calls == [frozenset({("ask-decision-date", None), ("follow-up-call", None)}) | ALWAYS]
    assert sorted(t.key for t in engine.timers(app)) == _whole(engine, app)
    calls.clear()
    engine.set_facts(app, {"why_me": "I ship"})  # read by drafts only, not by any timing
    assert calls == [ALWAYS]


def test_a_contact_plans_its_own_reminders_and_the_rules_that_count_contacts(
        calls: list[Only]) -> None:
    engine, app = _engine()
    calls.clear()
    engine.add_contact(app, Contact("Mo Chen", "interviewer"))  # no title: collect-contacts
    assert calls == [frozenset({("collect-contacts", None), ("thank-you-notes", "Mo Chen"),
                                ("follow-up-referrals", "Mo Chen"),
                                ("brief-references", "Mo Chen")}) | ALWAYS]
    timers = engine.timers(app)
    assert {(t.rule, t.contact) for t in timers} >= {("thank-you-notes", "Mo Chen"),
                                                     ("collect-contacts", None)}
    assert sorted(t.key for t in timers) == _whole(engine, app)


def test_what_a_rule_reads_comes_from_its_fields() -> None:
    thank = rule_inputs(PACK, PACK.rule("thank-you-notes"))
    # interview_ends_at counts from interviewed_at until it is recorded.
    assert thank.facts == {"interviewed_at", "interview_ends_at"}
    assert thank.events == {"thank_you_sent"} and not thank.contacts and not thank.everything
    call = rule_inputs(PACK, PACK.rule("follow-up-call"))
    assert {"follow_up_requested_on", "decision_expected_on", "not_interested"} <= call.facts
    assert rule_inputs(PACK, PACK.rule("collect-contacts")).contacts
    assert rule_inputs(PACK, PACK.rule("offer-leverage")).everything  # the owner's others


def test_the_benchmark_of_changes_that_move_no_state_runs_on_sqlite() -> None:
    from bench.incremental import run

    # It refuses to count a change that moved the application (which plans in full).
    assert run(3, changes=True, sqlite=True) > 0
    assert run(3, changes=False, sqlite=False) == 0
