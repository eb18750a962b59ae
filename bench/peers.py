"""The stacks a person would build instead of followup, doing the same work, side by side.

The workload (issue 18): 2,000 applications, each with two interviewers and
``interviewed_at`` (Wednesday 23 December 2026, 15:00 in New York), then four events,
each one durable transaction: ``thank_you_sent`` for each interviewer (14 and 15 hours
later), ``called`` (8 days) and ``offer_received`` (15 days); then a drain of 10,000 due
reminders to a sink that does nothing. Adding the applications is set-up, not timed.

What each stack does per event:

- **followup** (``Engine.record``, ``SQLiteStore``, the pack ``SAME_WORK`` below, three
  rules): load the application; check and apply the event (``transitions``); the pack's
  own move to ``thanked`` when both are thanked; re-plan the application's reminders;
  commit state, history, timers and outbox in one transaction.
- **transitions + Huey** (``SqliteHuey``): read the application's row (state, thanked
  contacts, pending task ids) from its own SQLite table; apply the event on a
  ``transitions`` machine (and its move to ``thanked``); revoke every pending task
  (``revoke_by_id``); compute the new state's reminders at working-day deadlines
  (``holidays`` US-NY, ``zoneinfo``); enqueue each as a task with ``eta=`` (its id
  chosen, so it can be revoked later); write the row in one transaction. The consumer's
  share, moving each new task into Huey's schedule (as it does with a task whose time
  has not come), is timed with the events.
- **transitions + APScheduler 3** (``BackgroundScheduler``, ``SQLAlchemyJobStore`` on
  SQLite, started paused so no job runs during the events): the same, revoking with
  ``remove_job`` and scheduling with ``add_job(trigger="date", run_date=...)``.

The drain: followup's ``run_due`` fires 10,000 due thank-you reminders (5,000
applications) and delivers each to a no-op channel, its report counting what went well
(``list_all=False``, as ``followup run`` passes); Huey's consumer work, in this
process, reads the due tasks from the schedule, enqueues, dequeues and executes each;
APScheduler's scheduler thread, resumed, finds the due jobs, runs each (``DebugExecutor``:
in its own thread, no pool) and removes it. Every SQLite file is in WAL mode with
``synchronous = NORMAL``, as followup's store is (Huey and SQLAlchemy are set so).

Each round runs every stack once, in turns, so a change in the machine's load touches
all alike; the ratios are taken per round. The peers need the ``bench`` extra (huey,
APScheduler, SQLAlchemy); without them their rows are left out and the table says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench._common import Row, repeat, sized
from bench.peer_stacks import DELIVERED, INTERVIEWERS, T0, ApsPeer, HueyPeer, Peer, have_peers
from bench.sqlite import scratch
from followup import Contact, Engine, FakeClock, SQLiteStore, load_rules
from followup.model import Notification

__all__ = ["SAME_WORK", "have_peers", "peers"]

GROUP = "7. the stacks a person would build instead (SQLite)"
BEFORE = T0 - timedelta(minutes=1)  # before every reminder's time
EVENTS: tuple[tuple[str, str | None, timedelta], ...] = (
    ("thank_you_sent", INTERVIEWERS[0], timedelta(hours=14)),
    ("thank_you_sent", INTERVIEWERS[1], timedelta(hours=15)),
    ("called", None, timedelta(days=8)),
    ("offer_received", None, timedelta(days=15)),
)

#: followup's pack of the same work the peers do: three rules and the move to thanked.
SAME_WORK = """\
version: 1
name: same-work
states: [interviewed, thanked, followed_up, offer]
initial: interviewed
calendar: {send_window: null}
channels: [sink]
roles: [interviewer]
facts:
  interviewed_at: {type: datetime}
events:
  thank_you_sent: {per: contact}
  called: {from: [interviewed, thanked], to: followed_up}
  offer_received: {from: [interviewed, thanked, followed_up], to: offer}
transitions:
  - {name: all-thanked, from: interviewed, to: thanked, when: {every: interviewer, did: thank_you_sent}}
rules:
  - name: thank-you-notes
    while: interviewed
    for_each: interviewer
    at: interviewed_at
    due: 2 working days after interviewed_at
    done_by: thank_you_sent
    notify: {subject: "Thank {{ contact.name }}"}
  - name: follow-up-call
    while: [interviewed, thanked]
    at: 7 days after interviewed_at
    due: 10 days after interviewed_at
    done_by: called
    notify: {subject: "Call {{ application.company }}"}
  - name: offer-reply
    while: offer
    at: entered
    due: 2 working days after entered
    notify: {subject: "Answer {{ application.company }}'s offer"}
"""


# -- the workloads --------------------------------------------------------------------------


class Sink:
    """followup's no-op channel."""

    name = "sink"

    def send(self, notification: Notification) -> None:
        DELIVERED[0] += 1


def _engine(folder: Path, pack: str | None) -> tuple[Engine, FakeClock]:
    clock = FakeClock(T0)
    rules = load_rules(text=SAME_WORK) if pack is None else load_rules(pack)
    engine = Engine(rules=rules, store=SQLiteStore(folder / "followup.db"), clock=clock,
                    channels=[Sink()])
    engine.set_owner("ada", timezone="America/New_York", country="US", subdivision="NY")
    return engine, clock


def _followup_add(engine: Engine, app: str) -> None:
    engine.add_application(owner="ada", company="Acme", role="Engineer", id=app,
                           facts={"interviewed_at": T0},
                           contacts=[Contact(n, "interviewer") for n in INTERVIEWERS])


def followup_events(apps: int, pack: str | None = None) -> float:
    """Events per second through followup on SQLite (``pack``: a pack's name; the
    same-work pack when None)."""
    with scratch() as folder:
        engine, clock = _engine(folder, pack)
        with engine:
            ids = [f"app{i:06d}" for i in range(apps)]
            for app in ids:
                _followup_add(engine, app)
            start = time.perf_counter()
            for app in ids:
                for event, contact, after in EVENTS:
                    clock.set(T0 + after)
                    engine.record(app, event, contact=contact)
            elapsed = time.perf_counter() - start
            if engine.application(ids[-1]).state != "offer":
                raise AssertionError("followup's events did not end in 'offer'")
    return apps * len(EVENTS) / elapsed


def peer_events(make: Callable[[Path], Peer], apps: int) -> float:
    """Events per second through a peer stack."""
    with scratch() as folder:
        peer = make(folder)
        try:
            ids = [f"app{i:06d}" for i in range(apps)]
            for app in ids:
                peer.add(app)
            peer.settle(BEFORE)
            start = time.perf_counter()
            for app in ids:
                for event, contact, after in EVENTS:
                    peer.record(app, event, contact, T0 + after)
            peer.settle(BEFORE)
            elapsed = time.perf_counter() - start
            if peer.states.load(ids[-1]).state != "offer":
                raise AssertionError("the peer's events did not end in 'offer'")
        finally:
            peer.close()
    return apps * len(EVENTS) / elapsed


def followup_drain(due: int) -> float:
    """Reminders per second: ``run_due`` fires ``due`` thank-you reminders and delivers
    each to a no-op channel, its report counting them as ``followup run``'s does
    (``list_all=False``)."""
    with scratch() as folder:
        engine, _clock = _engine(folder, None)
        with engine:
            for i in range(due // len(INTERVIEWERS)):
                _followup_add(engine, f"app{i:06d}")
            before = DELIVERED[0]
            start = time.perf_counter()
            report = engine.run_due(T0 + timedelta(minutes=1), deliver=True,
                                    list_all=False)
            elapsed = time.perf_counter() - start
    sent = DELIVERED[0] - before
    if sent != due or report.delivery.delivered_count != due:
        raise AssertionError(f"followup delivered {sent} of {due} reminders")
    return due / elapsed


def huey_drain(due: int) -> float:
    with scratch() as folder:
        peer = HueyPeer(folder)
        try:
            for i in range(due // len(INTERVIEWERS)):
                peer.add(f"app{i:06d}")
            peer.settle(BEFORE)  # the tasks wait in the schedule
            before = DELIVERED[0]
            start = time.perf_counter()
            peer.drain(T0 + timedelta(minutes=1))
            elapsed = time.perf_counter() - start
        finally:
            peer.close()
    if DELIVERED[0] - before != due:
        raise AssertionError(f"Huey ran {DELIVERED[0] - before} of {due} reminders")
    return due / elapsed


def aps_drain(due: int) -> float:
    with scratch() as folder:
        peer = ApsPeer(folder)
        try:
            # APScheduler reads the wall clock: these reminders are due now.
            now = datetime.now(UTC)
            for i in range(due):
                peer.schedule(f"drain{i:06d}", now - timedelta(minutes=1),
                              (f"app{i // 2:06d}", "thank-you-notes", INTERVIEWERS[i % 2], ""))
            start = time.perf_counter()
            peer.drain(due)
            elapsed = time.perf_counter() - start
        finally:
            peer.close()
    return due / elapsed


@dataclass
class Round:
    followup: float
    default_pack: float
    huey: float
    aps: float
    followup_drain: float
    huey_drain: float
    aps_drain: float


def peers(apps: int, due: int, runs: int) -> list[Row]:
    """Every stack's events/s and drain/s, in rounds; the ratios to followup per round."""
    found = have_peers()

    def one() -> Round:
        return Round(
            followup=followup_events(apps),
            default_pack=followup_events(apps, "after-interview"),
            huey=peer_events(HueyPeer, apps) if found else 0.0,
            aps=peer_events(ApsPeer, apps) if found else 0.0,
            followup_drain=followup_drain(due),
            huey_drain=huey_drain(due) if found else 0.0,
            aps_drain=aps_drain(due) if found else 0.0,
        )

    rounds = repeat(runs, one)
    what = f"{sized(apps)} applications x {len(EVENTS)} events"
    drained = f"{sized(due)} due reminders to a no-op sink"

    def row(rid: str, figure: str, unit: str, pick: Callable[[Round], float],
            note: str) -> Row:
        return Row(rid, GROUP, figure, unit, tuple(pick(r) for r in rounds), note=note)

    rows = [
        row("7.1", "events/s: followup, the same-work pack (3 rules)", "events/s",
            lambda r: r.followup, f"{what}; SQLiteStore, one transaction per event"),
        row("7.2", "events/s: followup, the default pack", "events/s",
            lambda r: r.default_pack, f"{what}; SQLiteStore, the default pack (all its rules)"),
        row("7.5", "drain/s: followup", "reminders/s", lambda r: r.followup_drain,
            f"{drained}: run_due fires and delivers (list_all=False, as followup run)"),
    ]
    if not found:  # the targets say so
        return rows
    per_round = "per round, then the median"
    return [
        *rows[:2],
        row("7.3", "events/s: transitions + Huey (SqliteHuey, eta= tasks, revoke)",
            "events/s", lambda r: r.huey, what),
        row("7.4", "events/s: transitions + APScheduler 3 (SQLAlchemyJobStore)",
            "events/s", lambda r: r.aps, f"{what}; the scheduler started paused"),
        rows[2],
        row("7.6", "drain/s: Huey's consumer work", "reminders/s", lambda r: r.huey_drain,
            f"{drained}: read_schedule, enqueue, dequeue, execute"),
        row("7.7", "drain/s: APScheduler's scheduler thread", "reminders/s",
            lambda r: r.aps_drain, f"{drained}: due jobs run (DebugExecutor) and removed"),
        row("7.8", "followup over Huey, events (7.1 / 7.3)", "x",
            lambda r: r.followup / r.huey, per_round),
        row("7.9", "followup's default pack over Huey, events (7.2 / 7.3)", "x",
            lambda r: r.default_pack / r.huey, per_round),
        row("7.10", "followup over APScheduler, events (7.1 / 7.4)", "x",
            lambda r: r.followup / r.aps, per_round),
        row("7.11", "followup over Huey, drain (7.5 / 7.6)", "x",
            lambda r: r.followup_drain / r.huey_drain, per_round),
        row("7.12", "followup over APScheduler, drain (7.5 / 7.7)", "x",
            lambda r: r.followup_drain / r.aps_drain, per_round),
    ]
