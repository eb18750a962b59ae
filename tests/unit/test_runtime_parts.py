"""The runtime's parts, each built on its own: the engine only wires them.

``OwnerBook`` (owners' settings and calendars), ``Firer`` (the pack's own moves, firing a
timer), ``OwnerRules`` (rules over all of an owner's applications), ``Planner`` and
``Changes`` (the change path), and the promise that a change plans once: firing
reminders re-plans only their own rules, not the whole application after each one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followup import Contact, Engine, FakeClock, MemoryStore, SQLiteStore, load_rules
from followup.errors import InputError
from followup.keys import TimerKey, cycle_of
from followup.model import Application, HistoryEntry, Owner, Timer
from followup.runtime.changes import Changes, Planner
from followup.runtime.firing import Firer
from followup.runtime.machine import StateMachine
from followup.runtime.owner_rules import OwnerRules
from followup.runtime.owners import OwnerBook
from followup.runtime.passes import Runner, RunReport
from followup.testing import RecordingChannel

START = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)  # Wed 15:00 in New York
PACK = load_rules()


def _app(**changes: Any) -> Application:
    values: dict[str, Any] = dict(
        id="a1", owner="ada", company="Acme", role="Engineer", state="interviewed",
        facts={"interviewed_at": START.isoformat()},
        contacts=(Contact("Jane Doe / HR", "interviewer", title="Manager"),), created_at=START)
    values.update(changes)
    return Application(**values)


def _created(app: Application) -> HistoryEntry:
    return HistoryEntry(application_id=app.id, seq=0, at=START, kind="created",
                        name="created", to_state=app.state,
                        data={"contacts": [c.to_dict() for c in app.contacts]})


def test_engine_has_no_base_classes_of_its_own() -> None:
    assert Engine.__bases__ == (object,)
    engine = Engine(store=MemoryStore(), clock=FakeClock(START), channels=[])
    assert isinstance(engine.owners, OwnerBook)
    assert isinstance(engine.firer, Firer)
    assert isinstance(engine.owner_rules, OwnerRules)
    assert isinstance(engine.changes, Changes)
    assert isinstance(engine.runner, Runner)


def test_an_engine_makes_each_part_when_first_used_and_once() -> None:
    import threading

    from followup.runtime.corrections import Corrections

    engine = Engine(store=MemoryStore(), clock=FakeClock(START), channels=[])
    parts = ("owner_rules", "planner", "firer", "changes", "dispatcher", "runner",
             "corrections")
    assert not set(parts) & set(vars(engine))  # made on first use, not by the engine
    seen: list[object] = []
    start = threading.Barrier(8)

    def ask() -> None:
        start.wait()
        seen.append(engine.runner)  # the runner, and with it the parts it uses

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(runner) for runner in seen}) == 1
    assert engine.runner.changes is engine.changes and engine.changes.firer is engine.firer
    assert isinstance(engine.corrections, Corrections)
    assert engine.corrections.changes is engine.changes
    assert set(parts) <= set(vars(engine))
    # A part an embedder puts in place is the one the engine uses.
    other = Engine(store=MemoryStore(), clock=FakeClock(START), channels=[])
    other.dispatcher = engine.dispatcher
    assert other.runner.dispatcher is engine.dispatcher


def test_the_state_machine_keeps_transitions_quiet_unless_told() -> None:
    import logging

    log = logging.getLogger("transitions")
    before = log.level
    try:
        for configured, expected in ((logging.NOTSET, logging.WARNING),
                                     (logging.DEBUG, logging.DEBUG)):
            log.setLevel(configured)
            engine = Engine(store=MemoryStore(), clock=FakeClock(START), channels=[])
            engine.set_owner("ada", timezone="America/New_York")
            app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                         facts={"interviewed_at": START.isoformat()})
            engine.record(app.id, "called")  # the machine is built at the first event
            assert log.level == expected
    finally:
        log.setLevel(before)


def test_owner_book_reads_an_owner_once_and_builds_their_calendar() -> None:
    store = MemoryStore()
    store.put_owner(Owner(id="ada", timezone="America/New_York", country="US",
                          channels=("email",)))
    book = OwnerBook(PACK, store)
    assert str(book.calendar("ada").tz) == "America/New_York"
    store.put_owner(Owner(id="ada", timezone="Europe/Paris"))  # behind the book's back
    assert book.owner("ada").timezone == "America/New_York"  # read once
    assert book.channels_for("ada", PACK.rule("thank-you-notes").message) == ("email",)
    assert book.owner("bob") == Owner(id="bob")  # never set: the pack's defaults


def test_firer_fires_a_reminder_into_a_notification_and_one_history_entry() -> None:
    book = OwnerBook(PACK, MemoryStore())
    firer = Firer(PACK, StateMachine(PACK), book)
    app = _app()
    key = str(TimerKey.rule(app.id, "thank-you-notes", cycle=0, contact="Jane Doe / HR"))
    timer = Timer(application_id=app.id, owner="ada", key=key, rule="thank-you-notes",
                  action="notify", fire_at=START, contact="Jane Doe / HR")
    fired = firer.fire(app, timer, [_created(app)], book.calendar("ada"), START)
    assert fired.application == app
    assert fired.notification is not None and fired.notification.key == key
    assert "Jane Doe / HR" in fired.notification.subject
    (entry,) = fired.entries
    assert (entry.kind, entry.seq, entry.contact, entry.data["cycle"]) == (
        "notified", 1, "Jane Doe / HR", 0)


def test_firer_makes_the_packs_own_move_and_returns_its_entry() -> None:
    firer = Firer(PACK, StateMachine(PACK), OwnerBook(PACK, MemoryStore()))
    app = _app()
    history = [_created(app), HistoryEntry(
        application_id=app.id, seq=1, at=START, kind="event", name="thank_you_sent",
        contact="Jane Doe / HR")]
    moved, entries = firer.auto(app, history, OwnerBook(PACK, MemoryStore()).calendar("ada"),
                                START)
    assert moved.state == "thanked"
    assert [(e.kind, e.name, e.seq) for e in entries] == [("transition", "all-thanked", 2)]
    assert history[-1].name == "thank_you_sent"  # the caller's list is left as it was


def test_owner_rules_count_an_owners_applications_per_state() -> None:
    store = MemoryStore()
    rules = OwnerRules(PACK, store, OwnerBook(PACK, store))
    view = rules.view("ada", _app(state="offer"), stored_state=None,
                      stored={"interviewed": 2})
    assert view["active_applications"] == 2
    assert view["elsewhere"]["interviewed"] == 2 and view["applications"]["offer"] == 1
    marker = rules.marker("ada/x", START)
    assert TimerKey.parse(marker.key) == TimerKey.replan("ada/x")


def _run_counting_plans(engine: Engine, now: datetime
                        ) -> tuple[RunReport, list[frozenset[tuple[str, str | None]] | None]]:
    """``engine.run_due(now)``, and the ``only`` of each plan the pass asked for."""
    calls: list[frozenset[tuple[str, str | None]] | None] = []
    plan = Planner.plan

    def counting(self: Planner, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("only"))
        return plan(self, *args, **kwargs)

    Planner.plan = counting  # type: ignore[method-assign]
    try:
        return engine.run_due(now), calls
    finally:
        Planner.plan = plan  # type: ignore[method-assign]


def test_a_run_starts_from_the_stored_timers_and_plans_only_the_fired_rules() -> None:
    clock = FakeClock(START)
    channel = RecordingChannel()
    engine = Engine(store=MemoryStore(), clock=clock, channels=[channel])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    app = engine.add_application(
        owner="ada", company="Acme", role="Engineer",
        facts={"interviewed_at": START.isoformat()},
        contacts=[Contact("Jane Doe", "interviewer", title="CTO"),
                  Contact("Raj Patel", "interviewer", title="Staff Engineer")])
    # When the interview ends, an hour after it began.
    report, calls = _run_counting_plans(engine, START + timedelta(hours=1, minutes=1))
    assert sorted(n.rule for n in report.notifications) == [
        "ask-decision-date", "ask-for-referrals", "thank-you-notes", "thank-you-notes"]
    # No whole plan (the stored timers are what the last change planned), and none of
    # the four reminders' rules repeats: nothing is planned at all.
    assert calls == []
    # And what that left armed is exactly what a whole plan gives.
    record = engine.store.load(app.id)
    whole = engine.planner.plan(record.application, record.history, engine.calendar("ada"),
                                stored_state=record.application.state).timers
    assert sorted(t.key for t in whole) == sorted(t.key for t in record.timers)


def test_a_repeating_reminder_fired_plans_only_its_next_occurrence() -> None:
    pack = load_rules(text="version: 1\nextends: after-interview\nrules:\n  - name: nag\n"
                      "    while: interviewed\n    at: 1 hour after interviewed_at\n"
                      "    every: 2 days\n", cache=False)
    engine = Engine(rules=pack, store=MemoryStore(), clock=FakeClock(START), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": START.isoformat()})
    report, calls = _run_counting_plans(engine, START + timedelta(hours=1, minutes=1))
    fired = {n.rule for n in report.notifications}
    assert {"nag", "collect-contacts", "ask-decision-date", "ask-for-referrals"} <= fired
    # One plan, of the two repeating rules that fired (collect-contacts is the pack's),
    # not of the once-only ones fired beside them.
    assert calls == [frozenset({("nag", None), ("collect-contacts", None)})]
    record = engine.store.load(app.id)
    nags = [t for t in record.timers if t.rule == "nag"]
    assert [t.occurrence for t in nags] == [1]
    whole = engine.planner.plan(record.application, record.history, engine.calendar("ada"),
                                stored_state=record.application.state).timers
    assert sorted(t.key for t in whole) == sorted(t.key for t in record.timers)


def test_a_fault_due_for_retry_is_tried_even_without_a_due_timer() -> None:
    clock = FakeClock(START)
    engine = Engine(store=MemoryStore(), clock=clock, channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    app = engine.add_application(  # an interview weeks ahead: nothing due for a while
        owner="ada", company="Acme", role="Engineer",
        facts={"interviewed_at": (START + timedelta(days=30)).isoformat()})
    later = START + timedelta(hours=1)
    engine.store.record_fault(owner="ada", application_id=app.id, error="RuntimeError: x",
                              at=START, retry_at=later)
    clock.set(later - timedelta(seconds=1))
    engine.run_due(deliver=False)
    assert [f.application_id for f in engine.store.faults()] == [app.id]  # not yet
    clock.set(later)
    report = engine.run_due(deliver=False)
    assert engine.store.faults() == [] and report.errors == {}


def test_the_retry_schedule_in_the_docs_is_the_engines() -> None:
    from followup.runtime.passes import RETRY_FIRST, RETRY_MOST

    text = Path(__file__).parents[2].joinpath("docs", "cli.md").read_text()
    first, most = RETRY_FIRST, RETRY_MOST
    assert (first, most) == (timedelta(minutes=1), timedelta(hours=1))
    assert "tries it again 1, 2, 4 ... minutes later (at most an hour apart)" in text


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_pass_asked_to_stop_ends_before_the_next_application(
        kind: str, tmp_path: Path) -> None:
    # On SQLite the pass commits what it fired with the outbox rows already claimed
    # (commit_many_claiming): asked to stop, it sends none of them either.
    clock = FakeClock(START)
    channel = RecordingChannel()
    store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "f.db")
    engine = Engine(store=store, clock=clock, channels=[channel])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    ids = [engine.add_application(owner="ada", company=f"Acme {i}", role="Engineer",
                                  facts={"interviewed_at": START.isoformat()}).id
           for i in range(3)]
    asked: list[int] = []

    def stop() -> bool:  # yes from the second question on
        asked.append(1)
        return len(asked) > 1

    ended = START + timedelta(hours=1, minutes=1)  # the interviews have ended
    first = engine.run_due(ended, stop=stop)
    assert len(first.outcomes) == 1 and channel.sent == []  # nothing delivered
    rest = engine.run_due(ended)  # the others were let go
    done = [o.application.id for o in first.outcomes + rest.outcomes]
    assert sorted(done) == sorted(ids)
    assert {n.application_id for n in channel.sent} == set(ids)


@given(app=st.text(min_size=1, max_size=12), rule=st.text(min_size=1, max_size=12),
       cycle=st.integers(0, 10**6), contact=st.none() | st.text(max_size=12),
       occurrence=st.integers(0, 99), move=st.booleans())
def test_the_cycle_read_off_a_key_is_the_one_parse_reads(
        app: str, rule: str, cycle: int, contact: str | None, occurrence: int,
        move: bool) -> None:
    key = (TimerKey.transition(app, rule, cycle=cycle) if move else
           TimerKey.rule(app, rule, cycle=cycle, contact=contact, occurrence=occurrence))
    assert cycle_of(str(key)) == TimerKey.parse(str(key)).cycle == cycle


@pytest.mark.parametrize("text", ["a/r/07/-/0", "a/r/x/-/0", "a/r/-1/-/0", "a/r/٣/-/0",
                                  "a/r/1/-", "owner/ada/replan"])
def test_a_key_that_is_not_a_rules_has_no_cycle_read_off_it(text: str) -> None:
    if text == "owner/ada/replan":  # a key of another kind: the cycle parse gives
        assert cycle_of(text) == TimerKey.parse(text).cycle == 0
        return
    with pytest.raises(InputError, match="is not a timer key that followup writes"):
        cycle_of(text)
