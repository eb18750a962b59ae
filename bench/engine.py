"""The whole engine: events per second in memory, and a year's dry run.

Each application is added with one interviewer and ``interviewed_at``, then the person
records thank_you_sent (for the interviewer), called and offer_received, each at its own
time on a ``FakeClock``. Every ``Engine.record`` call counts as one event; adding the
applications is set-up, timed as a figure of its own.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bench._common import EVENTS, INTERVIEWER, T0, Row, add_interviewed, repeat, sized
from bench.machine import psm_runner, raw_runner
from followup import Contact, Engine, FakeClock, MemoryStore, Store, load_rules
from followup.model import Change, HistoryEntry
from followup.runtime.simulate import PlannedEvent, simulate
from followup.runtime.steps import moved

__all__ = ["drive", "drive_floor", "engine_among_stored", "engine_floor", "engine_in_memory",
           "engine_spread", "paired", "simulate_many", "simulate_year"]

GROUP_DRY = "5. dry run"

NEW_YORK = ZoneInfo("America/New_York")


def drive(make_store: Callable[[], Store], apps: int, *,
          spread: bool = False) -> tuple[float, float]:
    """Add ``apps`` applications, then record EVENTS on each; return (applications
    added per second, events recorded per second). The store is closed afterwards.

    With ``spread``, application i is interviewed i minutes after T0 (and its events
    move with it), so no two applications share an instant: the engine's memory of
    calendar arithmetic then helps only between one application's own plans."""
    clock = FakeClock(T0)
    with Engine(store=make_store(), clock=clock, channels=[]) as engine:
        ids = [f"app{i:06d}" for i in range(apps)]
        return _add_and_record(engine, clock, ids, spread=spread)


def _add_and_record(engine: Engine, clock: FakeClock, ids: list[str], *,
                    spread: bool = False) -> tuple[float, float]:
    """``drive``'s work on ``engine``, which may hold other applications already."""
    clock.set(T0)
    shift = {app_id: timedelta(minutes=i if spread else 0) for i, app_id in enumerate(ids)}
    start = time.perf_counter()
    for i, app_id in enumerate(ids):
        add_interviewed(engine, app_id, owner=f"{ids[0]}-owner{i // 10}",
                        interviewed_at=T0 + shift[app_id])
    added = time.perf_counter() - start
    recorded = 0
    start = time.perf_counter()
    for app_id in ids:
        for event, contact, after in EVENTS:
            clock.set(T0 + shift[app_id] + after)
            engine.record(app_id, event, contact=contact)
            recorded += 1
    elapsed = time.perf_counter() - start
    last = engine.application(ids[-1])
    if last.state != "offer":
        raise AssertionError(f"the event sequence ended in {last.state!r}, not 'offer'")
    return len(ids) / added, recorded / elapsed


def drive_floor(make_store: Callable[[], Store], apps: int) -> float:
    """The least any event costs in this design, in events per second: the store's load,
    the machine's apply (a ``transitions`` trigger), one history entry, the application
    moved, and the store's commit of that change. No rule is looked at, nothing is
    planned or checked: the engine's own work (1.13) comes on top of this.

    The applications are added first (by the engine, so that their records are the real
    ones), then EVENTS are applied to each, in the same order as ``drive``."""
    clock = FakeClock(T0)
    with Engine(store=make_store(), clock=clock, channels=[]) as engine:
        ids = [f"app{i:06d}" for i in range(apps)]
        for app_id in ids:
            add_interviewed(engine, app_id, owner=f"owner{int(app_id[3:]) // 10}")
        store, machine = engine.store, engine.machine
        start = time.perf_counter()
        for app_id in ids:
            for event, contact, after in EVENTS:
                record = store.load(app_id)
                app = record.application
                state = machine.apply(app.state, event)
                if state is None:
                    raise AssertionError(f"{event} was refused in {app.state}")
                entry = HistoryEntry(application_id=app_id, seq=len(record.history),
                                     at=T0 + after, kind="event", name=event, contact=contact,
                                     from_state=app.state,
                                     to_state=state if state != app.state else None)
                store.commit(Change(moved(app, state), app.version, history=(entry,)))
        elapsed = time.perf_counter() - start
        last = store.load(ids[-1]).application
        if last.state != "offer":
            raise AssertionError(f"the floor's events ended in {last.state!r}, not 'offer'")
    return apps * len(EVENTS) / elapsed


def engine_floor(apps: int, runs: int) -> list[Row]:
    """``drive_floor`` with ``MemoryStore``: the least the in-memory engine can cost."""
    rates, vs_raw, vs_psm = paired(runs, apps, lambda: drive_floor(MemoryStore, apps))
    return [Row("1.17", "1. state machine",
                "events/s: the floor in memory (load, apply, one history entry, commit)",
                "events/s", rates, vs_raw=vs_raw, vs_psm=vs_psm,
                note=f"{sized(apps)} applications x {len(EVENTS)} events; MemoryStore load and "
                "commit (copies in and out, as the Store contract says), our StateMachine.apply, "
                "no rule looked at: what any event costs before the engine's own work")]


def engine_in_memory(apps: int, runs: int) -> list[Row]:
    """``Engine`` with ``MemoryStore``, ``FakeClock``, no channels, the default pack."""
    added: list[float] = []

    def events() -> float:
        adds, recorded = drive(MemoryStore, apps)
        added.append(adds)
        return recorded

    recorded, vs_raw, vs_psm = paired(runs, apps, events)
    what = f"{sized(apps)} applications x {len(EVENTS)} events"
    return [
        Row("1.13", "1. state machine", "events/s: whole engine, in memory", "events/s",
            recorded, vs_raw=vs_raw, vs_psm=vs_psm,
            note=what + " (thank_you_sent, called, offer_received)"),
        Row("1.14", "1. state machine", "applications added/s: whole engine, in memory",
            "applications/s", tuple(added),
            note="the set-up of 1.13: one interviewer, interviewed_at"),
    ]


def engine_among_stored(apps: int, stored: int, runs: int) -> list[Row]:
    """1.13's events on a ``MemoryStore`` that holds ``stored`` other applications (ten
    per owner, each with its reminders) besides, each run right after a run of 1.13 on
    an empty store: the ratio of the two, per round, is what the others cost an event."""
    clock = FakeClock(T0)
    rates: list[float] = []
    ratios: list[float] = []
    with Engine(store=MemoryStore(), clock=clock, channels=[]) as engine:
        start = time.perf_counter()
        for i in range(stored):
            add_interviewed(engine, f"stored{i:07d}", owner=f"stored-owner{i // 10}")
        built = time.perf_counter() - start
        timers = len(engine.store.timers())

        def round_() -> None:
            alone = drive(MemoryStore, apps)[1]
            ids = [f"round{len(rates)}-app{i:06d}" for i in range(apps)]
            rates.append(_add_and_record(engine, clock, ids)[1])
            ratios.append(rates[-1] / alone)

        repeat(runs, round_)
    what = f"{sized(apps)} applications x {len(EVENTS)} events, as 1.13"
    return [
        Row("1.18", "1. state machine",
            f"events/s: whole engine, in memory, among {sized(stored)} other applications",
            "events/s", tuple(rates),
            note=f"{what}; the store holds {sized(stored)} more ({sized(timers)} timers, "
            f"added in {built:.0f} s before the runs)"),
        Row("1.19", "1. state machine",
            f"1.18 over 1.13: events among {sized(stored)} stored over events in an empty "
            "store", "x", tuple(ratios),
            note="per round, each 1.18 run right after a 1.13 run: 1.0 means the others "
            "cost an event nothing"),
    ]


def engine_spread(apps: int, runs: int) -> list[Row]:
    """1.13 with every application interviewed at its own minute."""
    recorded, vs_raw, vs_psm = paired(runs, apps,
                                      lambda: drive(MemoryStore, apps, spread=True)[1])
    return [Row("1.16", "1. state machine",
                "events/s: whole engine, in memory, each application at its own time",
                "events/s", recorded, vs_raw=vs_raw, vs_psm=vs_psm,
                note="as 1.13, application i interviewed i minutes after the others: no "
                "two share a deadline")]


def paired(runs: int, apps: int, once: Callable[[], float]
           ) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """``runs`` samples of ``once`` (events per second), each right after one run of raw
    transitions (1.11's work) and one of python-statemachine (1.15's, when installed),
    ``apps`` applications each: the samples, and the ratio of each sample to its round's
    two. The machine's speed changes from minute to minute; within one round it hardly
    does."""
    pack = load_rules(None)
    raw = raw_runner(pack, apps)
    psm = psm_runner(pack, min(apps, 2_000))
    samples: list[float] = []
    vs_raw: list[float] = []
    vs_psm: list[float] = []

    def round_() -> None:
        raw_rate = raw()
        psm_rate = psm.run() if psm is not None else None
        rate = once()
        samples.append(rate)
        vs_raw.append(rate / raw_rate)
        if psm_rate is not None:
            vs_psm.append(rate / psm_rate)

    repeat(runs, round_)
    return tuple(samples), tuple(vs_raw), tuple(vs_psm)



def simulate_year(runs: int) -> list[Row]:
    """``followup.runtime.simulate.simulate`` over 12 months: the default pack, two interviewers
    in New York, both thanked, a call, then a rejection."""
    pack = load_rules(None)
    interviewed = datetime(2026, 12, 23, 15, 0)  # naive: read in the owner's zone
    events = [
        PlannedEvent(datetime(2026, 12, 24, 10, 0, tzinfo=NEW_YORK), "thank_you_sent",
                     INTERVIEWER),
        PlannedEvent(datetime(2026, 12, 24, 11, 0, tzinfo=NEW_YORK), "thank_you_sent",
                     "John Roe"),
        PlannedEvent(datetime(2026, 12, 31, 14, 0, tzinfo=NEW_YORK), "called"),
        PlannedEvent(datetime(2027, 1, 22, 12, 0, tzinfo=NEW_YORK), "rejected"),
    ]
    contacts = [Contact(INTERVIEWER, "interviewer", title="Engineering Manager"),
                Contact("John Roe", "interviewer", title="Staff Engineer")]

    def once() -> tuple[float, int]:
        start = time.perf_counter()
        sim = simulate(pack, interviewed=interviewed, timezone="America/New_York",
                       country="US", subdivision="NY", until=datetime(2027, 12, 23, 15, 0),
                       contacts=contacts, events=events)
        elapsed = time.perf_counter() - start
        if not any(e.action == "event" and e.event == "rejected" for e in sim.timeline):
            raise AssertionError("the simulated year lost its rejection")
        return elapsed * 1e3, len(sim.timeline)

    cold, _ = once()  # the first run also loads the country's holidays: not counted
    samples, entries = zip(*repeat(runs, once), strict=True)
    return [Row("5.1", GROUP_DRY, "simulate 12 months of one application", "ms", samples,
                note=f"default pack, 2 interviewers (US-NY); {entries[0]} timeline entries; "
                f"the first run in the process, not counted: {cold:.0f} ms")]


def simulate_many(apps: int, runs: int) -> list[Row]:
    """12 months of ``apps`` applications on one engine, as ``simulate`` steps one: from
    each recorded event or due timer to the next, every tick a ``run_due``."""
    def once() -> tuple[float, int]:
        start = time.perf_counter()
        fired = _year_of(apps)
        return time.perf_counter() - start, fired

    samples, fired = zip(*repeat(runs, once), strict=True)
    return [Row("5.2", GROUP_DRY, f"simulate 12 months of {sized(apps)} applications", "s",
                samples,
                note=f"default pack, one engine and MemoryStore, 10 applications per owner, "
                f"interviews a minute apart; thank_you_sent, called, rejected; "
                f"{fired[0]:,} reminders and moves fired by run_due")]


def _year_of(apps: int) -> int:
    """Run the year; return how many timers ``run_due`` fired."""
    clock = FakeClock(T0)
    end = T0 + timedelta(days=365)
    steps = ((timedelta(hours=14), "thank_you_sent", INTERVIEWER),
             (timedelta(days=8), "called", None), (timedelta(days=30), "rejected", None))
    pending: list[tuple[datetime, int, str, str | None]] = []
    with Engine(store=MemoryStore(), clock=clock, channels=[]) as engine:
        for i in range(apps):
            at = T0 + timedelta(minutes=i)
            clock.set(at)
            add_interviewed(engine, f"app{i:06d}", owner=f"owner{i // 10}", interviewed_at=at)
            pending += [(at + after, i, name, who) for after, name, who in steps]
        heapq.heapify(pending)
        fired = 0
        ran_at = None
        while True:
            due = engine.store.due_timers(end, limit=1)
            next_timer = due[0].fire_at if due else None
            if next_timer is not None and next_timer <= clock.now() and ran_at == clock.now():
                # Still due after a pass at this very time: it waits for the send window.
                calendar = engine.calendar(due[0].owner)
                next_timer = calendar.next_send_time(clock.now() + timedelta(minutes=1))
            next_event = pending[0][0] if pending else None
            if next_event is not None and (next_timer is None or next_event <= next_timer):
                at, i, name, who = heapq.heappop(pending)
                clock.set(max(at, clock.now()))
                engine.record(f"app{i:06d}", name, contact=who, at=at)
                ran_at = None
            elif next_timer is not None and next_timer <= end:
                clock.set(max(next_timer, clock.now()))
                fired += engine.run_due(clock.now(), deliver=False).fired
                ran_at = clock.now()
            else:
                break
        states = {a.state for a in engine.applications()}
        if states != {"keep_warm"}:
            raise AssertionError(f"the simulated year ended in {sorted(states)}, not keep_warm")
    return fired
