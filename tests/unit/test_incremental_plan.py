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
# Rules whose conditions look at the owner's other applications: planned again while
# the owner's re-plan marker waits (another application moved).
OTHERS = frozenset({("offer-leverage", None), ("withdraw-elsewhere", None)})

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


class _LoadsAlone(MemoryStore):
    """A store without ``load_with_owner``: the engine reads the owner's counts and
    marker on their own."""

    load_with_owner = None


def _engine(store: type[MemoryStore] = MemoryStore) -> tuple[Engine, str]:
    engine = Engine(store=store(), clock=FakeClock(START), channels=[])
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
    assert calls == [frozenset({("thank-you-notes", "Jane Doe")})]
    assert not {"follow-up-call", "ask-decision-date", "collect-contacts"} & {
        name for name, _ in calls[0] or ()}
    # Jane's note is done; Raj's and every other reminder stay as they were.
    assert [(t.rule, t.contact) for t in outcome.cancelled] == [("thank-you-notes", "Jane Doe")]
    after = {t.key: t for t in engine.timers(app)}
    assert after == {k: t for k, t in before.items() if t.contact != "Jane Doe"}
    assert sorted(after) == _whole(engine, app)


def test_the_last_thank_you_moves_the_state_and_plans_only_what_the_move_touched(
        calls: list[Only]) -> None:
    engine, app = _engine()
    engine.record(app, "thank_you_sent", contact="Jane Doe")
    before = {t.key: t for t in engine.timers(app)}
    calls.clear()
    outcome = engine.record(app, "thank_you_sent", contact="Raj Patel")
    assert engine.application(app).state == "thanked"
    # Every rule armed in "thanked" was armed in "interviewed" too: its stay goes on.
    assert calls == [frozenset({("thank-you-notes", "Raj Patel")})]
    assert {(t.rule, t.contact) for t in outcome.cancelled} == {
        ("thank-you-notes", "Raj Patel")}
    assert sorted(t.key for t in engine.timers(app)) == _whole(engine, app)
    assert {k: t for k, t in before.items() if t.contact != "Raj Patel"} == {
        t.key: t for t in engine.timers(app)}


def test_a_move_plans_the_rules_whose_stay_it_begins_and_drops_those_it_ends(
        calls: list[Only]) -> None:
    engine, app = _engine()
    calls.clear()
    engine.record(app, "called")  # interviewed -> followed_up
    # patience begins its stay; the rules of interviewed and thanked end theirs.
    assert calls == [frozenset({("patience", None)})]
    timers = engine.timers(app)
    assert {t.rule for t in timers} == {"patience"}
    assert sorted(t.key for t in timers) == _whole(engine, app)
    calls.clear()
    engine.record(app, "rejected")  # a timed move (keep-warm) is planned from the new state
    assert calls == [frozenset({("gracious-reply", None)})]
    assert {(t.rule, t.action) for t in engine.timers(app)} == {
        ("gracious-reply", "notify"), ("keep-warm", "transition")}
    assert sorted(t.key for t in engine.timers(app)) == _whole(engine, app)


def test_a_new_round_plans_in_full(calls: list[Only]) -> None:
    engine, app = _engine()
    engine.record(app, "called")
    calls.clear()
    engine.record(app, "next_round")  # back into the initial state: every stay begins again
    assert calls == [None]
    assert sorted(t.key for t in engine.timers(app)) == _whole(engine, app)


@pytest.mark.parametrize("store", [MemoryStore, _LoadsAlone])
def test_another_applications_move_has_the_rules_that_look_at_it_planned_again(
        calls: list[Only], store: type[MemoryStore]) -> None:
    engine, app = _engine(store)
    calls.clear()
    engine.set_facts(app, {"why_me": "I ship"})
    assert calls == []  # read by drafts only, and no marker waits: nothing planned
    other = engine.add_application(owner="ada", company="Initech", role="Engineer",
                                   facts={"interviewed_at": START}).id
    engine.record(other, "offer_received")  # leaves the owner's re-plan marker
    assert engine.owner_rules.waiting("ada")
    calls.clear()
    engine.set_facts(app, {"why_me": "I ship fast"})
    assert calls == [OTHERS]
    assert "offer-leverage" in {t.rule for t in engine.timers(app)}
    assert sorted(t.key for t in engine.timers(app)) == _whole(engine, app)
    engine.run_due(START)  # the marker's re-plan; nothing waits now
    assert not engine.owner_rules.waiting("ada")
    calls.clear()
    engine.set_facts(app, {"why_me": "I ship faster"})
    assert calls == []


def test_an_event_reads_the_owner_s_counts_and_marker_with_the_application(
        monkeypatch: pytest.MonkeyPatch) -> None:
    engine, app = _engine()
    other = engine.add_application(owner="ada", company="Initech", role="Engineer",
                                   facts={"interviewed_at": START}).id
    engine.record(other, "offer_received")  # a marker waits: offer-leverage is planned
    reads: list[str] = []
    for name in ("load", "load_with_owner", "count_by_state", "timers"):
        method = getattr(engine.store, name)

        def read(*args: Any, _method: Any = method, _name: str = name, **kwargs: Any) -> Any:
            reads.append(_name)
            return _method(*args, **kwargs)

        monkeypatch.setattr(engine.store, name, read)
    engine.record(app, "thank_you_sent", contact="Jane Doe")
    assert reads == ["load_with_owner"]
    assert "offer-leverage" in {t.rule for t in engine.timers(app)}
    assert sorted(t.key for t in engine.timers(app)) == _whole(engine, app)


class _Counted(MemoryStore):
    """A store that wraps ``load`` (as one that checks or counts each read would), and
    not ``load_with_owner``."""

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    def load(self, application_id: str, *, owner: str | None = None) -> Any:
        self.loads += 1
        return super().load(application_id, owner=owner)


class _CountedBoth(_Counted):
    def load_with_owner(self, application_id: str, *, owner: str | None = None) -> Any:
        self.loads += 1
        return super().load_with_owner(application_id, owner=owner)


@pytest.mark.parametrize("store", [_Counted, _CountedBoth])
def test_a_store_that_wraps_load_sees_every_change_s_read(store: type[_Counted]) -> None:
    engine, app = _engine(store)
    counted = engine.store
    assert isinstance(counted, _Counted)
    counted.loads = 0
    engine.record(app, "thank_you_sent", contact="Jane Doe")
    engine.set_facts(app, {"why_me": "I ship"})
    assert counted.loads == 2


def test_a_fact_plans_the_rules_that_read_it(calls: list[Only]) -> None:
    engine, app = _engine()
    calls.clear()
    engine.set_facts(app, {"decision_expected_on": "2027-01-08"})
    assert calls == [frozenset({("ask-decision-date", None), ("follow-up-call", None)})]
    assert sorted(t.key for t in engine.timers(app)) == _whole(engine, app)
    calls.clear()
    engine.set_facts(app, {"why_me": "I ship"})  # read by drafts only, not by any timing
    assert calls == []


def test_a_contact_plans_its_own_reminders_and_the_rules_that_count_contacts(
        calls: list[Only]) -> None:
    engine, app = _engine()
    calls.clear()
    engine.add_contact(app, Contact("Mo Chen", "interviewer"))  # no title: collect-contacts
    assert calls == [frozenset({("collect-contacts", None), ("thank-you-notes", "Mo Chen"),
                                ("follow-up-referrals", "Mo Chen"),
                                ("brief-references", "Mo Chen")})]
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
    leverage = rule_inputs(PACK, PACK.rule("offer-leverage"))  # the owner's others
    assert leverage.others and not leverage.state and not leverage.everything
    assert leverage.facts == {"not_interested"}


def test_the_benchmark_of_changes_that_move_no_state_runs_on_sqlite() -> None:
    from bench.incremental import run

    # It refuses to count a change that moved the application (which plans in full).
    assert run(3, changes=True, sqlite=True) > 0
    assert run(3, changes=False, sqlite=False) == 0
