"""The engine against a small reference model (``engine_reference.py``), on every store.

A hypothesis state machine adds applications, records events (valid and invalid), adds
contacts, sets facts (valid and invalid), jumps the clock forwards and backwards, sets the
channel's weather (down, or lossy: it sends but its answer is lost, then it recovers),
runs what is due, retries the outbox, and restarts: the engine and its store are closed
and a new Engine opens the same SQLite file or PostgreSQL schema (the memory store cannot
be reopened, so there the new Engine gets the same store object). The model predicts each
application's state, which calls are refused, which reminders are owed, and each outbox
row's status and attempts. After every step (an application the step could not change is
compared through one read of them all; the others, and all after a pass, whole):

- state, facts and contacts agree with the model; the history is a valid path through
  the pack's machine, and replaying it rebuilds the application;
- every pending reminder is one the model says is owed (none for a state left, a note
  done, a condition that no longer holds, a limit reached), and every one the model says
  must be owed is pending; no timer is armed for a state the application is not in;
  re-planning from the rules gives the stored timers; no working-day deadline falls on a
  non-working day; keep-looking is armed exactly while fewer than three are in play;
- the outbox holds every notification fired, each row with the status and attempts the
  model predicts and a retry wait within its bounds; the channel saw exactly the
  attempts the model predicts, and no key reached it twice without a failure in between;
- a refused call, and a restart, change nothing at all.

The budget: ``EXAMPLES`` examples per store (more where a step costs less) of up to
``STEPS`` steps, over 10,000 steps in all; ``pytest -s`` prints the steps taken. For a
longer search set ``FOLLOWUP_MODEL_EXAMPLES`` (examples on every store) and
``FOLLOWUP_MODEL_STEPS``, e.g.
``FOLLOWUP_MODEL_EXAMPLES=100 FOLLOWUP_MODEL_STEPS=500 pytest tests/property/test_engine_model.py``.
Under ``CI=true`` the examples are derandomized by the profile in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from followup import Contact, Engine, FakeClock, InputError
from followup.model import HistoryEntry, Notification, Timer
from followup.store import MemoryStore
from tests.postgres import need_server
from tests.property.engine_checks import Stores, replay, snapshot, valid_path
from tests.property.engine_reference import (
    PACK,
    AppModel,
    FlakyChannel,
    Outbox,
    OwnerModel,
    Weather,
    check_reminders,
    owner_owes,
)

EVENTS = sorted(PACK.events)
NAMES = ["Ann", "Bob", "Cy", "Dee"]
ROLES = list(PACK.roles)
# Weighted towards the moves that lead somewhere: an offer ends an application's story,
# so it comes seldom; thank-you notes and reopening come often.
EVENT_CHOICES = [*EVENTS, "no_such_event", "thank_you_sent", "thank_you_sent",
                 "thank_you_sent", "rejected", "reopened", "reopened", "called"]
ROLE_CHOICES = [*ROLES, "interviewer", "interviewer"]
PEOPLE = st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(ROLE_CHOICES)),
                  max_size=4, unique_by=lambda p: p[0])
CONTACT_FIELDS = ("name", "role", "title", "email", "phone")
ZONES = {"America/New_York": "US", "Europe/Berlin": "DE", "Pacific/Auckland": "NZ",
         "UTC": None}
# How far the clock jumps, in hours: often a day or three, sometimes weeks, sometimes back.
HOURS = st.one_of(st.just(0), st.integers(1, 72), st.integers(1, 72), st.integers(1, 24 * 45),
                  st.integers(-72, -1))
RESTART = st.sampled_from([False, False, False, True])  # the process ends, a new one starts
EXAMPLES = {"memory": 30, "sqlite": 20, "postgresql": 12}
if "FOLLOWUP_MODEL_EXAMPLES" in os.environ:
    EXAMPLES = dict.fromkeys(EXAMPLES, int(os.environ["FOLLOWUP_MODEL_EXAMPLES"]))
STEPS = int(os.environ.get("FOLLOWUP_MODEL_STEPS", "190"))


class EngineMachine(RuleBasedStateMachine):
    """One owner, up to five applications, one channel whose weather changes."""

    stores: Stores  # set by the test, per kind of store
    counts: dict[str, int]

    def __init__(self) -> None:
        super().__init__()
        self.counts["examples"] += 1
        self.engine: Engine | None = None
        self.owner = OwnerModel()
        self.outbox = Outbox()
        self.passed = False  # the last step was a pass over due work
        # The applications the last step may have changed (None: any); the others are
        # checked against the model by one read of all of them.
        self.touched: set[str] | None = None

    @initialize(
        start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)),
        zone=st.sampled_from(sorted(ZONES)),
        people=PEOPLE,
    )
    def open(self, start: datetime, zone: str, people: list[tuple[str, str]]) -> None:
        self.clock = FakeClock(start.replace(tzinfo=UTC))
        self.channel = FlakyChannel(self.clock)
        self.engine = Engine(rules=PACK, store=self.stores.open(), clock=self.clock,
                             channels=[self.channel])
        self.engine.set_owner("p", timezone=zone, country=ZONES[zone])
        self.calendar = self.engine.calendar("p")
        self._add(people, 0)

    def teardown(self) -> None:
        log = getattr(self, "channel", None)
        if log is not None:  # what the run went through, for the report of the budget
            self.counts["failed"] += sum(outcome != "ok" for _, outcome in log.log)
            received = Counter(key for key, outcome in log.log if outcome != "refused")
            self.counts["resent"] += sum(n > 1 for n in received.values())
        if self.engine is not None:
            self.stores.dispose(self.engine.store)

    def step(self) -> Engine:
        self.counts["steps"] += 1
        self.passed = False
        self.touched = set()
        assert self.engine is not None
        return self.engine

    @property
    def apps(self) -> list[AppModel]:
        return self.owner.apps

    # -- what happens ----------------------------------------------------------------

    @precondition(lambda self: len(self.apps) < 5)
    @rule(people=PEOPLE, hours_ago=st.integers(min_value=-48, max_value=72))
    def add_application(self, people: list[tuple[str, str]], hours_ago: int) -> None:
        self.step()
        self._add(people, hours_ago)

    def _add(self, people: list[tuple[str, str]], hours_ago: int) -> None:
        assert self.engine is not None
        app = self.engine.add_application(
            owner="p", company=f"Company {len(self.apps)}", role="Engineer",
            facts={"interviewed_at": self.clock.now() - timedelta(hours=hours_ago)},
            contacts=[Contact(name, role, title="Lead") for name, role in people])
        model = AppModel(app.id, dict(people), ahead=hours_ago < 0, at=self.clock.now())
        if self.touched is not None:
            self.touched.add(app.id)
        model.settle()
        self.apps.append(model)

    @precondition(lambda self: bool(self.apps))
    @rule(which=st.integers(0, 4), event=st.sampled_from(EVENT_CHOICES),
          who=st.one_of(st.integers(0, 3), st.sampled_from([None, "Nobody"])))
    def record(self, which: int, event: str, who: int | str | None) -> None:
        self._record(which, event, who)

    @precondition(lambda self: bool(self.apps))
    @rule(which=st.integers(0, 4), event=st.sampled_from(EVENT_CHOICES),
          who=st.one_of(st.integers(0, 3), st.sampled_from([None, "Nobody"])))
    def record_again(self, which: int, event: str, who: int | str | None) -> None:
        """The same again: what happens most is recorded most."""
        self._record(which, event, who)

    def _record(self, which: int, event: str, who: int | str | None) -> None:
        engine = self.step()
        model = self.apps[which % len(self.apps)]
        self.touched = {model.id}
        # Mostly a contact of the application (per-contact events need one), else none
        # or a stranger.
        names = sorted(model.contacts, key=lambda n: (model.contacts[n] != "interviewer", n))
        contact = names[who % len(names)] if isinstance(who, int) and names else (
            None if isinstance(who, int) else who)
        if contact is not None and not PACK.events.get(event, PACK.events[EVENTS[0]]).per_contact \
                and isinstance(who, int) and who != 3:
            contact = None  # mostly the right form for events about no one
        spec = PACK.events.get(event)
        refused = spec is None
        move: str | None = None
        repeat = False
        if spec is not None and spec.per_contact:
            refused = contact not in model.contacts or (
                spec.role is not None and model.contacts[contact] != spec.role)
        elif spec is not None:
            refused = contact is not None
            if not refused and spec.dest is not None:
                if spec.sources is None or model.state in spec.sources:
                    move = spec.dest
                elif model.last_mover == event:
                    repeat = True  # its move is made already: harmless, nothing changes
                else:
                    refused = True
        if refused:
            self.refused(model.id, lambda: engine.record(model.id, event, contact=contact))
            return
        engine.record(model.id, event, contact=contact)
        if move is not None:
            model.enter(move, event, self.clock.now())
        if not repeat:
            model.record(event, contact)
        model.settle()

    @precondition(lambda self: bool(self.apps))
    @rule(which=st.integers(0, 4), name=st.sampled_from(NAMES),
          role=st.sampled_from([*ROLE_CHOICES, "boss"]))
    def add_contact(self, which: int, name: str, role: str) -> None:
        engine = self.step()
        model = self.apps[which % len(self.apps)]
        self.touched = {model.id}
        contact = Contact(name, role, title="Lead")
        if role not in ROLES:
            self.refused(model.id, lambda: engine.add_contact(model.id, contact))
            return
        engine.add_contact(model.id, contact)
        if model.records(name, role):
            model.mark(name, self.clock.now())
        model.contacts[name] = role
        model.settle()

    @precondition(lambda self: bool(self.apps))
    @rule(which=st.integers(0, 4),
          fact=st.sampled_from(["decision_expected_on", "follow_up_requested_on",
                                "not_interested"]),
          value=st.one_of(st.none(), st.integers(-5, 40), st.sampled_from(["soon", "maybe"])))
    def set_fact(self, which: int, fact: str, value: int | str | None) -> None:
        engine = self.step()
        model = self.apps[which % len(self.apps)]
        self.touched = {model.id}
        text: str | None
        if isinstance(value, int):
            if fact == "not_interested":
                text = "true" if value % 2 else "false"
            else:
                text = (self.calendar.local(self.clock.now()) + timedelta(days=value)).date(
                ).isoformat()
        else:
            text = value
        if text in ("soon", "maybe"):  # neither a date nor a bool
            self.refused(model.id, lambda: engine.set_facts(model.id, {fact: text}))
            return
        engine.set_facts(model.id, {fact: text})
        if text is None:
            model.facts.pop(fact, None)
        else:
            model.facts[fact] = text
        model.settle()

    @rule(hours=HOURS, run=st.booleans(), restart=RESTART)
    def jump(self, hours: int, run: bool, restart: bool) -> None:
        """The clock moves, usually forwards, sometimes backwards (NTP, a VM resumed),
        maybe while the process is down; what is due runs."""
        self.step()
        self.clock.advance(timedelta(hours=hours))
        if restart:
            self.restart()
        if run or hours == 0:
            self._run_due()

    @rule(hours=HOURS, restart=RESTART)
    def jump_and_run(self, hours: int, restart: bool) -> None:
        """The clock moves and what is due runs (the daemon's pass)."""
        self.jump(hours, True, restart)

    @rule(weather=st.sampled_from(["down", "down", "lossy", "fine"]),
          minutes=st.integers(1, 24 * 60))
    def weather(self, weather: Weather, minutes: int) -> None:
        """The channel goes down, or starts losing its answers, for a while."""
        self.step()
        self.channel.weather = (weather, self.clock.now() + timedelta(minutes=minutes))

    @rule(minutes=st.integers(0, 8 * 60))
    def retry(self, minutes: int) -> None:
        """Time passes and only the outbox is delivered (a retry of what failed)."""
        self.step()
        self.retry_once(minutes)

    @rule(hours=st.integers(1, 30), every=st.sampled_from([15, 45, 120]))
    def storm(self, hours: int, every: int) -> None:
        """A long outage: what is due runs, and the outbox is retried every ``every``
        minutes through it (polls that find nothing due are skipped: the passes around
        them check that nothing goes out early); rows that fail twelve times are dead
        (kept, never sent again)."""
        self.step()
        start = self.clock.now()
        end = start + timedelta(hours=hours)
        self.channel.weather = ("down", end)
        self._run_due()
        self.outbox_agrees()
        tick = timedelta(minutes=every)
        while True:
            waits = [r.next_at for r in self.outbox.rows.values()
                     if r.status == "pending" and r.next_at is not None]
            if not waits or min(waits) >= end:
                break
            polls = -(-(max(min(waits), self.clock.now()) - start) // tick)  # rounded up
            self.clock.set(start + max(polls, 1) * tick)
            self.retry_once(0)
            self.outbox_agrees()

    def retry_once(self, minutes: int) -> None:
        engine = self.engine
        assert engine is not None
        self.clock.advance(timedelta(minutes=minutes))
        expected = self.outbox.deliver(self.clock.now(), self.channel.now())
        before = len(self.channel.log)
        engine.deliver()
        assert Counter(self.channel.log[before:]) == expected

    def restart(self) -> None:
        """The process ends and a new one opens the same store: nothing is lost."""
        engine = self.step()
        self.counts["steps"] -= 1  # part of the step that asked for it
        ids = [m.id for m in self.apps]
        before = snapshot(engine, ids)
        store = engine.store
        if not isinstance(store, MemoryStore):
            engine.close()
        self.engine = Engine(rules=PACK, store=self.stores.reopen(store), clock=self.clock,
                             channels=[self.channel])
        self.calendar = self.engine.calendar("p")
        assert snapshot(self.engine, ids) == before
        self.counts["restarts"] += 1
        self.touched = None

    def _run_due(self) -> None:
        engine = self.engine
        assert engine is not None
        now = self.clock.now()
        due_moves = {t.application_id: t.rule for t in engine.store.due_timers(now)
                     if t.action == "transition"}
        before = len(self.channel.log)
        report = engine.run_due()
        assert report.errors == {}
        notes: dict[str, list[Notification]] = {}
        for note in report.notifications:
            self.counts["fired"] += 1
            self.outbox.add(note.key)
            notes.setdefault(note.application_id, []).append(note)
        for model in self.apps:
            # A reminder of the state a timed move leaves fired before the move (e.g. the
            # reply to a "no" before keep_warm); the others after it.
            mine = notes.get(model.id, [])
            for note in [n for n in mine if model.stay(PACK.rule(n.rule).states)]:
                self.owner.fired(note)
                mine.remove(note)
            if model.id in due_moves:  # e.g. rejected -> keep_warm, a working day later
                timed = next(t for t in PACK.transitions if t.name == due_moves[model.id])
                assert model.state in timed.sources
                model.enter(timed.dest, None)
            model.settle()
            for note in mine:
                self.owner.fired(note)
        expected = self.outbox.deliver(now, self.channel.now())
        assert Counter(self.channel.log[before:]) == expected
        self.passed = True
        self.touched = None

    def refused(self, app_id: str, call: Callable[[], object]) -> None:
        """``call`` is refused with a message and changes nothing (the application it
        names is read whole; the others by the invariant's one read of all)."""
        engine = self.engine
        assert engine is not None
        ids = [app_id]
        before = snapshot(engine, ids)
        with pytest.raises(InputError, match=r"\w"):
            call()
        self.counts["refused"] += 1
        assert snapshot(engine, ids) == before  # a refused call changes nothing

    # -- what must always hold ---------------------------------------------------------

    @invariant()
    def the_engine_keeps_to_the_model(self) -> None:
        if self.engine is None:
            return
        engine = self.engine
        owner_timers = engine.store.timers(owner="p")
        settled = not any(t.action == "replan" for t in owner_timers)
        stored = {a.id: a for a in engine.store.applications(owner="p")}
        assert set(stored) == {m.id for m in self.apps}
        for model in self.apps:
            app = stored[model.id]
            assert app.state == model.state and set(app.facts) == set(model.facts)
            assert {c.name: c.role for c in app.contacts} == model.contacts
            if self.touched is not None and model.id not in self.touched:
                continue  # the step could not change it: read whole when it can
            record = engine.store.load(model.id)
            self.application_agrees(model, record.application, list(record.history))
            self.reminders_agree(model, record.application.state, list(record.timers), settled)
            if settled:  # else the next pass re-plans those that look at the others
                planned = engine.planner.plan(record.application, list(record.history),
                                              self.calendar,
                                              stored_state=record.application.state).timers
                assert sorted(planned, key=lambda t: t.key) == sorted(
                    record.timers, key=lambda t: t.key)
        armed = {t.rule for t in owner_timers if t.application_id == "" and t.action == "notify"}
        assert all(PACK.rule(name).scope == "owner" for name in armed)
        if self.passed and settled:  # the owner's rules are planned by the pass
            for rule_ in PACK.rules:
                if rule_.scope == "owner":
                    owed = owner_owes(self.owner, rule_)
                    assert owed != ("yes" if rule_.name not in armed else "no"), (
                        rule_.name, armed, [m.state for m in self.apps])
        self.outbox_agrees()

    def application_agrees(self, model: AppModel, app: Any, history: list[HistoryEntry]) -> None:
        valid_path(history)
        assert app.state == model.state, (model.state, history)
        assert set(app.facts) == set(model.facts)
        assert {c.name: c.role for c in app.contacts} == model.contacts
        state, facts, contacts = replay(history)
        assert (state, facts) == (app.state, app.facts)
        assert contacts == [{k: v for k, v in asdict(c).items() if k in CONTACT_FIELDS}
                            for c in app.contacts]

    def reminders_agree(self, model: AppModel, state: str, timers: list[Timer],
                        settled: bool) -> None:
        self.counts["owed"] += check_reminders(self.owner, model, state, timers,
                                               self.calendar, settled=settled)

    def outbox_agrees(self) -> None:
        engine = self.engine
        assert engine is not None
        rows = engine.store.deliveries(owner="p")
        self.outbox.check(rows, self.channel.log)
        self.counts["dead"] = max(self.counts["dead"], sum(d.status == "dead" for d in rows))


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgresql"])
def test_the_engine_keeps_to_the_model_on_every_store(kind: str, tmp_path: Path) -> None:
    counts = Counter[str]()
    machine = type("Machine", (EngineMachine,), {"stores": Stores(kind, tmp_path),
                                                 "counts": counts})
    if kind == "postgresql":
        need_server()  # skipped without a server, except in CI
    run_state_machine_as_test(machine, settings=settings(
        max_examples=EXAMPLES[kind], stateful_step_count=STEPS))
    # Read by the report of the CI budget: pytest -s shows it.
    print(f"\n{kind}: {counts['examples']} examples, {counts['steps']} steps "
          f"({counts['fired']} reminders fired, {counts['restarts']} restarts, "
          f"{counts['refused']} calls refused, {counts['owed']} owed reminders found, "
          f"{counts['failed']} sends failed, {counts['resent']} keys sent again after a "
          f"lost answer, most rows dead at once: {counts['dead']})")
    # The budget is kept: hypothesis ends a few examples early, never many.
    assert counts["examples"] >= EXAMPLES[kind]
    assert counts["steps"] >= 0.75 * EXAMPLES[kind] * STEPS
