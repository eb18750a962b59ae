"""The engine against a small reference model, on every store of the contract suite.

A hypothesis state machine adds applications, records events (valid and invalid), adds
contacts, sets facts (valid and invalid), jumps the clock forwards and backwards, takes a
channel down, and runs what is due. The model predicts each application's state and which
calls are refused. After every step the invariants hold:

- the history is a valid path through the pack's machine, and replaying it rebuilds the
  application (state, facts, contacts);
- no timer is armed for a state the application is not in (each rule's ``while``);
- re-planning from the rules gives the timers that are stored;
- every notification fired is in the outbox, delivered, pending or dead, and no outbox row
  ever disappears; nothing is sent twice;
- no working-day deadline falls on a non-working day of the owner's calendar;
- a refused call changes nothing at all.

The budget is fixed (``EXAMPLES`` x up to ``STEPS`` per store); under ``CI=true`` the
examples are derandomized by the profile in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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

from followup import Contact, Engine, FakeClock, InputError, load_rules
from followup.model import HistoryEntry
from followup.store import Store
from followup.testing import RecordingChannel

PACK = load_rules()
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
EXAMPLES = int(os.environ.get("FOLLOWUP_MODEL_EXAMPLES", "25"))
STEPS = int(os.environ.get("FOLLOWUP_MODEL_STEPS", "40"))


class AppModel:
    """What the model knows of one application."""

    def __init__(self, app_id: str, contacts: dict[str, str]) -> None:
        self.id = app_id
        self.state = PACK.initial
        self.contacts = contacts  # name -> role
        self.thanked: set[str] = set()  # thanked since the application entered interviewed
        self.last_mover: str | None = None  # the event that last moved it, if one did
        self.facts: set[str] = {"interviewed_at"}

    def enter(self, state: str, mover: str | None) -> None:
        if state != self.state and state == PACK.initial:
            self.thanked = set()
        self.state, self.last_mover = state, mover

    def settle(self) -> None:
        """The pack's own move: every interviewer thanked."""
        for auto in PACK.transitions:
            if auto.timed or self.state not in auto.sources or auto.every is None:
                continue
            people = {n for n, r in self.contacts.items() if r == auto.every}
            if people and people <= self.thanked:
                self.enter(auto.dest, None)


def snapshot(engine: Engine, app_id: str) -> tuple[Any, ...]:
    return (engine.application(app_id), engine.history(app_id), engine.timers(app_id),
            engine.store.deliveries())


def replay(history: list[HistoryEntry]) -> tuple[str | None, dict[str, str], list[dict[str, Any]]]:
    """The application's state, facts and contacts, rebuilt from its history alone."""
    state: str | None = None
    facts: dict[str, str] = {}
    contacts: dict[str, dict[str, Any]] = {}
    for h in history:
        if h.kind == "created":
            facts = dict(h.data["facts"])
            contacts = {c["name"]: dict(c) for c in h.data["contacts"]}
        elif h.kind == "facts":
            for name, value in h.data["facts"].items():
                if value is None:
                    facts.pop(name, None)
                else:
                    facts[name] = value
        elif h.kind == "contact":
            contacts[str(h.contact)] = dict(h.data)
        if h.to_state is not None:
            state = h.to_state
    return state, facts, list(contacts.values())


def valid_path(history: list[HistoryEntry]) -> None:
    state = None
    for h in history:
        assert h.seq == history.index(h)
        if h.kind == "created":
            assert state is None and h.to_state == PACK.initial
        elif h.kind == "event":
            spec = PACK.events[h.name]
            assert h.from_state == state, h
            if spec.sources is not None:
                assert h.from_state in spec.sources, h
            if h.to_state is not None:
                assert spec.dest == h.to_state, h
        elif h.kind == "transition":
            auto = next(t for t in PACK.transitions if t.name == h.name)
            assert h.from_state == state and state in auto.sources and h.to_state == auto.dest, h
        else:
            assert h.to_state is None, h
        if h.to_state is not None:
            state = h.to_state


class EngineMachine(RuleBasedStateMachine):
    """One owner, up to three applications, one channel that may go down."""

    open_store: Callable[[], Store]  # set by the test, per store
    counts: dict[str, int]

    def __init__(self) -> None:
        super().__init__()
        self.counts["examples"] += 1
        self.engine: Engine | None = None
        self.apps: list[AppModel] = []
        self.fired: set[str] = set()  # every notification key a run reported
        self.rows: set[tuple[str, str]] = set()  # every outbox row ever seen

    @initialize(
        start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)),
        zone=st.sampled_from(sorted(ZONES)),
        people=PEOPLE,
    )
    def open(self, start: datetime, zone: str, people: list[tuple[str, str]]) -> None:
        self.clock = FakeClock(start.replace(tzinfo=UTC))
        self.channel = RecordingChannel("console")
        self.engine = Engine(store=self.open_store(), clock=self.clock, channels=[self.channel])
        self.engine.set_owner("p", timezone=zone, country=ZONES[zone])
        self.calendar = self.engine.calendar("p")
        self._add(people, 0)

    def teardown(self) -> None:
        if self.engine is not None:
            self.engine.close()

    def step(self) -> Engine:
        self.counts["steps"] += 1
        assert self.engine is not None
        return self.engine

    # -- what happens ----------------------------------------------------------------

    @precondition(lambda self: len(self.apps) < 3)
    @rule(people=PEOPLE, hours_ago=st.integers(min_value=0, max_value=72))
    def add_application(self, people: list[tuple[str, str]], hours_ago: int) -> None:
        self.step()
        self._add(people, hours_ago)

    def _add(self, people: list[tuple[str, str]], hours_ago: int) -> None:
        assert self.engine is not None
        app = self.engine.add_application(
            owner="p", company=f"Company {len(self.apps)}", role="Engineer",
            facts={"interviewed_at": self.clock.now() - timedelta(hours=hours_ago)},
            contacts=[Contact(name, role, title="Lead") for name, role in people])
        model = AppModel(app.id, dict(people))
        model.settle()
        self.apps.append(model)

    @precondition(lambda self: bool(self.apps))
    @rule(which=st.integers(0, 2), event=st.sampled_from(EVENT_CHOICES),
          who=st.one_of(st.integers(0, 3), st.sampled_from([None, "Nobody"])))
    def record(self, which: int, event: str, who: int | str | None) -> None:
        self._record(which, event, who)

    @precondition(lambda self: bool(self.apps))
    @rule(which=st.integers(0, 2), event=st.sampled_from(EVENT_CHOICES),
          who=st.one_of(st.integers(0, 3), st.sampled_from([None, "Nobody"])))
    def record_again(self, which: int, event: str, who: int | str | None) -> None:
        self._record(which, event, who)

    def _record(self, which: int, event: str, who: int | str | None) -> None:
        engine = self.step()
        model = self.apps[which % len(self.apps)]
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
        if spec is not None and spec.per_contact:
            refused = contact not in model.contacts or (
                spec.role is not None and model.contacts[contact] != spec.role)
        elif spec is not None:
            refused = contact is not None
            if not refused and spec.dest is not None:
                if spec.sources is None or model.state in spec.sources:
                    move = spec.dest
                elif model.last_mover != event:
                    refused = True
        if refused:
            self.refused(model.id, lambda: engine.record(model.id, event, contact=contact))
            return
        engine.record(model.id, event, contact=contact)
        if move is not None:
            model.enter(move, event)
        if spec is not None and spec.per_contact and event == "thank_you_sent" \
                and model.state == PACK.initial and contact is not None:
            model.thanked.add(contact)
        model.settle()

    @precondition(lambda self: bool(self.apps))
    @rule(which=st.integers(0, 2), name=st.sampled_from(NAMES),
          role=st.sampled_from([*ROLE_CHOICES, "boss"]))
    def add_contact(self, which: int, name: str, role: str) -> None:
        engine = self.step()
        model = self.apps[which % len(self.apps)]
        contact = Contact(name, role, title="Lead")
        if role not in ROLES:
            self.refused(model.id, lambda: engine.add_contact(model.id, contact))
            return
        engine.add_contact(model.id, contact)
        model.contacts[name] = role
        model.settle()

    @precondition(lambda self: bool(self.apps))
    @rule(which=st.integers(0, 2),
          fact=st.sampled_from(["decision_expected_on", "follow_up_requested_on",
                                "not_interested"]),
          value=st.one_of(st.none(), st.integers(-5, 40), st.sampled_from(["soon", "maybe"])))
    def set_fact(self, which: int, fact: str, value: int | str | None) -> None:
        engine = self.step()
        model = self.apps[which % len(self.apps)]
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
            model.facts.discard(fact)
        else:
            model.facts.add(fact)
        model.settle()

    @rule(hours=st.one_of(st.just(0), st.integers(1, 24 * 45), st.integers(-72, -1)),
          run=st.booleans(), down=st.one_of(st.just(0), st.integers(1, 30)))
    def jump(self, hours: int, run: bool, down: int) -> None:
        """The clock moves, usually forwards, sometimes backwards (NTP, a VM resumed);
        the channel may go down for the next ``down`` sends; what is due runs."""
        self.step()
        self.clock.advance(timedelta(hours=hours))
        if down:
            self.channel.fail(down)
        if run or hours == 0:
            self._run_due()

    def _run_due(self) -> None:
        engine = self.engine
        assert engine is not None
        now = self.clock.now()
        due_moves = {t.application_id for t in engine.store.due_timers(now)
                     if t.action == "transition"}
        report = engine.run_due()
        assert report.errors == {}
        self.fired |= {n.key for n in report.notifications}
        for model in self.apps:
            if model.id in due_moves:  # rejected -> keep_warm, one working day later
                timed = next(t for t in PACK.transitions if t.timed)
                assert model.state in timed.sources
                model.enter(timed.dest, None)
            model.settle()

    def refused(self, app_id: str, call: Callable[[], object]) -> None:
        engine = self.engine
        assert engine is not None
        before = snapshot(engine, app_id)
        try:
            call()
        except InputError:
            pass
        else:
            raise AssertionError("the model expected this call to be refused")
        assert snapshot(engine, app_id) == before  # a refused call changes nothing

    # -- what must always hold ---------------------------------------------------------

    @invariant()
    def applications_follow_the_model(self) -> None:
        if self.engine is None:
            return
        engine = self.engine
        for model in self.apps:
            app = engine.application(model.id)
            history = engine.history(model.id)
            valid_path(history)
            assert app.state == model.state, (model.state, history)
            assert set(app.facts) == model.facts
            assert {c.name: c.role for c in app.contacts} == model.contacts
            state, facts, contacts = replay(history)
            assert (state, facts) == (app.state, app.facts)
            assert contacts == [{k: v for k, v in asdict(c).items() if k in CONTACT_FIELDS}
                                for c in app.contacts]

    @invariant()
    def timers_belong_to_the_state(self) -> None:
        if self.engine is None:
            return
        engine = self.engine
        apps = {m.id: engine.application(m.id) for m in self.apps}
        for timer in engine.store.timers(owner="p"):
            if timer.action == "replan":
                continue
            if timer.application_id == "":
                assert PACK.rule(timer.rule).scope == "owner"
            else:
                state = apps[timer.application_id].state
                if timer.action == "notify":
                    states = PACK.rule(timer.rule).states
                    assert states is None or state in states, (timer, state)
                else:
                    auto = next(t for t in PACK.transitions if t.name == timer.rule)
                    assert state in auto.sources, (timer, state)
            if timer.action != "notify":
                continue
            rule_ = PACK.rule(timer.rule)
            if not rule_.any_time:
                assert self.calendar.is_working_day(self.calendar.local_date(timer.fire_at))
            offset = rule_.due.offset if rule_.due is not None else None
            if timer.due_at is not None and offset is not None and offset.working_days:
                due = self.calendar.local(timer.due_at)
                assert self.calendar.is_working_day(due.date()), timer
                assert (due.hour, due.minute) == (17, 0), timer

    @invariant()
    def replanning_gives_the_stored_timers(self) -> None:
        if self.engine is None:
            return
        engine = self.engine
        # A move of one application re-plans the owner's others at the next run_due (a
        # "replan" timer says so); until then only those rules may differ.
        pending = any(t.action == "replan" for t in engine.store.timers(owner="p"))
        for model in self.apps:
            record = engine.store.load(model.id)
            planned = engine.planner.plan(record.application, list(record.history),
                                           self.calendar, stored_state=record.application.state).timers
            if not pending:
                assert sorted(planned, key=lambda t: t.key) == sorted(
                    record.timers, key=lambda t: t.key)

    @invariant()
    def nothing_is_lost_or_sent_twice(self) -> None:
        if self.engine is None:
            return
        engine = self.engine
        rows = {(d.notification.key, d.channel): d for d in engine.store.deliveries(owner="p")}
        assert self.rows <= set(rows)  # an outbox row never disappears
        self.rows = set(rows)
        keys = {key for key, _ in rows}
        assert self.fired <= keys
        for model in self.apps:
            notified = {h.key for h in engine.history(model.id) if h.kind == "notified"}
            assert notified <= keys
        assert all(d.status in ("pending", "delivered", "dead") for d in rows.values())
        sent = self.channel.keys()
        assert len(sent) == len(set(sent))  # nothing sent twice
        delivered = {key for (key, _), d in rows.items() if d.status == "delivered"}
        assert delivered == set(sent)


def test_the_engine_keeps_to_the_model_on_every_store(
    store_factory: Callable[[Path], Store], tmp_path: Path,
    request: Any,
) -> None:
    counts = {"examples": 0, "steps": 0}

    def open_store() -> Store:
        return store_factory(Path(tempfile.mkdtemp(dir=tmp_path)))

    machine = type("Machine", (EngineMachine,), {"open_store": staticmethod(open_store),
                                                 "counts": counts})
    run_state_machine_as_test(machine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS))
    assert counts["examples"] >= EXAMPLES and counts["steps"] > counts["examples"]
    # Read by the report of the CI budget: pytest -s shows it.
    print(f"\n{request.node.callspec.id}: {counts['examples']} examples, "
          f"{counts['steps']} steps")
