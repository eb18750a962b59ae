"""The whole engine: events per second in memory, and a year's dry run.

Each application is added with one interviewer and ``interviewed_at``, then the person
records thank_you_sent (for the interviewer), called and offer_received, each at its own
time on a ``FakeClock``. Every ``Engine.record`` call counts as one event; adding the
applications is set-up, timed as a figure of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bench._common import EVENTS, INTERVIEWER, T0, Row, add_interviewed, repeat, sized
from followup import Contact, Engine, FakeClock, MemoryStore, Store, load_rules
from followup.simulate import PlannedEvent, simulate

__all__ = ["drive", "engine_in_memory", "simulate_year"]

NEW_YORK = ZoneInfo("America/New_York")


def drive(make_store: Callable[[], Store], apps: int) -> tuple[float, float]:
    """Add ``apps`` applications, then record EVENTS on each; return (applications
    added per second, events recorded per second). The store is closed afterwards."""
    clock = FakeClock(T0)
    with Engine(store=make_store(), clock=clock, channels=[]) as engine:
        ids = [f"app{i:06d}" for i in range(apps)]
        start = time.perf_counter()
        for app_id in ids:
            add_interviewed(engine, app_id, owner=f"owner{int(app_id[3:]) // 10}")
        added = time.perf_counter() - start
        recorded = 0
        start = time.perf_counter()
        for app_id in ids:
            for event, contact, after in EVENTS:
                clock.set(T0 + after)
                engine.record(app_id, event, contact=contact)
                recorded += 1
        elapsed = time.perf_counter() - start
        last = engine.application(ids[-1])
        if last.state != "offer":
            raise AssertionError(f"the event sequence ended in {last.state!r}, not 'offer'")
    return apps / added, recorded / elapsed


def engine_in_memory(apps: int, runs: int) -> list[Row]:
    """``Engine`` with ``MemoryStore``, ``FakeClock``, no channels, the default pack."""
    added, recorded = zip(*repeat(runs, lambda: drive(MemoryStore, apps)), strict=True)
    what = f"{sized(apps)} applications x {len(EVENTS)} events"
    return [
        Row("1.13", "1. state machine", "events/s: whole engine, in memory", "events/s",
            recorded, note=what + " (thank_you_sent, called, offer_received)"),
        Row("1.14", "1. state machine", "applications added/s: whole engine, in memory",
            "applications/s", added, note="the set-up of 1.13: one interviewer, interviewed_at"),
    ]


def simulate_year(runs: int) -> list[Row]:
    """``followup.simulate.simulate`` over 12 months: the default pack, two interviewers
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
    return [Row("4.1", "4. dry run", "simulate 12 months of one application", "ms", samples,
                note=f"default pack, 2 interviewers (US-NY); {entries[0]} timeline entries; "
                f"the first run in the process, not counted: {cold:.0f} ms")]
