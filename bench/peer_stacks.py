"""The peer stacks of bench/peers.py: transitions + Huey and transitions + APScheduler 3,
each keeping its applications' state in a SQLite table of its own (see bench/peers.py for
what each does per event, and why).
"""

from __future__ import annotations

import importlib.util
import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["DELIVERED", "INTERVIEWERS", "T0", "ApsPeer", "HueyPeer", "Peer", "have_peers", "sink"]

NEW_YORK = ZoneInfo("America/New_York")
T0 = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)  # 15:00 in New York, a Wednesday
INTERVIEWERS = ("Jane Doe", "John Roe")


def have_peers() -> bool:
    """Whether the ``bench`` extra's peers are installed."""
    return all(importlib.util.find_spec(m) is not None
               for m in ("huey", "apscheduler", "sqlalchemy"))


# -- what every peer computes: the reminders of a state, at working-day deadlines ----------


class WorkingDays:
    """US-NY working days (``holidays``) and New York time (``zoneinfo``)."""

    def __init__(self) -> None:
        import holidays

        self.off = holidays.country_holidays("US", subdiv="NY")

    def after(self, day: date, n: int) -> date:
        while n:
            day += timedelta(days=1)
            if day.weekday() < 5 and day not in self.off:
                n -= 1
        return day

    def deadline(self, instant: datetime, n: int) -> datetime:
        """17:00 (close of business) of the n-th working day after ``instant``'s day."""
        day = self.after(instant.astimezone(NEW_YORK).date(), n)
        return datetime(day.year, day.month, day.day, 17, tzinfo=NEW_YORK).astimezone(UTC)


@dataclass
class AppRow:
    state: str
    thanked: list[str]
    pending: list[str]  # task or job ids


def reminders(days: WorkingDays, app: str, row: AppRow, now: datetime
              ) -> list[tuple[str, datetime, str, str, str]]:
    """(id, fire at, rule, contact, due) for every reminder of ``row``'s state."""
    out = []
    if row.state == "interviewed":
        for name in INTERVIEWERS:
            if name not in row.thanked:
                out.append((f"{app}/thank-you/{name}/{now.timestamp():.0f}", T0,
                            "thank-you-notes", name, days.deadline(T0, 2).isoformat()))
    if row.state in ("interviewed", "thanked"):
        out.append((f"{app}/call/{now.timestamp():.0f}", T0 + timedelta(days=7),
                    "follow-up-call", "", (T0 + timedelta(days=10)).isoformat()))
    if row.state == "offer":
        out.append((f"{app}/offer/{now.timestamp():.0f}", now, "offer-reply", "",
                    days.deadline(now, 2).isoformat()))
    return out


class States:
    """The peers' own table of applications, in WAL mode with synchronous NORMAL."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("pragma journal_mode = wal")
        self.db.execute("pragma synchronous = normal")
        self.db.execute("create table apps (id text primary key, state text, thanked text, "
                        "pending text)")

    def load(self, app: str) -> AppRow:
        state, thanked, pending = self.db.execute(
            "select state, thanked, pending from apps where id = ?", (app,)).fetchone()
        return AppRow(state, thanked.split("\n") if thanked else [],
                      pending.split("\n") if pending else [])

    def save(self, app: str, row: AppRow, *, new: bool = False) -> None:
        values = (row.state, "\n".join(row.thanked), "\n".join(row.pending), app)
        with self.db:  # one transaction
            if new:
                self.db.execute("insert into apps (state, thanked, pending, id) "
                                "values (?, ?, ?, ?)", values)
            else:
                self.db.execute("update apps set state = ?, thanked = ?, pending = ? "
                                "where id = ?", values)

    def close(self) -> None:
        self.db.close()


def machine() -> Any:
    """The states and moves of ``SAME_WORK`` as a ``transitions`` machine (the static
    pattern: one machine, ``events[name].trigger(model)`` on a model holding a state)."""
    from transitions import Machine

    m = Machine(model=None, states=["interviewed", "thanked", "followed_up", "offer"],
                initial="interviewed", send_event=True, auto_transitions=False)
    m.add_transition("thank_you_sent", "interviewed", None)
    m.add_transition("thank_you_sent", ["thanked", "followed_up", "offer"], None)
    m.add_transition("all_thanked", "interviewed", "thanked")
    m.add_transition("called", ["interviewed", "thanked"], "followed_up")
    m.add_transition("offer_received", ["interviewed", "thanked", "followed_up"], "offer")
    return m


class _Model:
    def __init__(self, state: str) -> None:
        self.state = state


class Peer:
    """One peer stack: ``schedule`` and ``revoke`` are its scheduler's."""

    def __init__(self, folder: Path) -> None:
        self.states = States(folder / "apps.db")
        self.days = WorkingDays()
        self.events = machine().events

    def schedule(self, task_id: str, fire_at: datetime, args: tuple[str, ...]) -> None:
        raise NotImplementedError

    def revoke(self, task_id: str) -> None:
        raise NotImplementedError

    def settle(self, now: datetime) -> None:
        """The consumer's share of scheduling (Huey moves new tasks into its schedule),
        at ``now``: BEFORE every reminder's time, so none runs here."""

    def close(self) -> None:
        self.states.close()

    def add(self, app: str) -> None:
        row = AppRow("interviewed", [], [])
        self._arm(app, row, T0)
        self.states.save(app, row, new=True)

    def record(self, app: str, event: str, contact: str | None, now: datetime) -> None:
        row = self.states.load(app)
        model = _Model(row.state)
        self.events[event].trigger(model)
        if contact is not None and contact not in row.thanked:
            row.thanked.append(contact)
        if model.state == "interviewed" and set(INTERVIEWERS) <= set(row.thanked):
            self.events["all_thanked"].trigger(model)
        row.state = model.state
        for task_id in row.pending:
            self.revoke(task_id)
        row.pending = []
        self._arm(app, row, now)
        self.states.save(app, row)

    def _arm(self, app: str, row: AppRow, now: datetime) -> None:
        for task_id, fire_at, rule, contact, due in reminders(self.days, app, row, now):
            self.schedule(task_id, fire_at, (app, rule, contact, due))
            row.pending.append(task_id)


DELIVERED = [0]


def sink(app: str, rule: str, contact: str, due: str) -> None:
    """Where every peer's reminder goes: nowhere (it is counted)."""
    DELIVERED[0] += 1


class HueyPeer(Peer):
    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        from huey import Huey
        from huey.storage import SqliteStorage

        class NormalSync(SqliteStorage):  # type: ignore[misc]
            def _create_connection(self) -> sqlite3.Connection:
                conn: sqlite3.Connection = super()._create_connection()
                conn.execute("pragma synchronous = normal")
                return conn

        logging.getLogger("huey").setLevel(logging.ERROR)  # not a line per revoked task
        self.huey = Huey("bench", results=False, utc=True, storage_class=NormalSync,
                         filename=str(folder / "huey.db"))
        self.task = self.huey.task(name="remind")(sink)

    def schedule(self, task_id: str, fire_at: datetime, args: tuple[str, ...]) -> None:
        self.task.schedule(args=args, eta=_naive(fire_at), id=task_id)

    def revoke(self, task_id: str) -> None:
        self.huey.revoke_by_id(task_id)

    def settle(self, now: datetime) -> None:
        while (task := self.huey.dequeue()) is not None:
            self.huey.execute(task, _naive(now))  # not due yet: into the schedule

    def drain(self, now: datetime) -> None:
        for task in self.huey.read_schedule(_naive(now)):  # the consumer's scheduler
            self.huey.enqueue(task)
        while (task := self.huey.dequeue()) is not None:  # its worker
            self.huey.execute(task, _naive(now))


class ApsPeer(Peer):
    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
        from apscheduler.executors.debug import DebugExecutor
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler
        from sqlalchemy import create_engine, event

        engine = create_engine(f"sqlite:///{folder / 'jobs.db'}")

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            conn.execute("pragma journal_mode = wal")
            conn.execute("pragma synchronous = normal")

        self.done = threading.Event()
        self.expected = 0
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine)},
            executors={"default": DebugExecutor()}, timezone=UTC,
            job_defaults={"misfire_grace_time": None, "coalesce": False})
        self.scheduler.add_listener(self._ran, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        self.scheduler.start(paused=True)

    def _ran(self, _event: Any) -> None:
        if self.expected and DELIVERED[0] >= self.expected:
            self.done.set()

    def schedule(self, task_id: str, fire_at: datetime, args: tuple[str, ...]) -> None:
        self.scheduler.add_job("bench.peer_stacks:sink", trigger="date", run_date=fire_at,
                               id=task_id, args=list(args))

    def revoke(self, task_id: str) -> None:
        self.scheduler.remove_job(task_id)

    def drain(self, expected: int) -> None:
        self.done.clear()
        self.expected = DELIVERED[0] + expected
        self.scheduler.resume()
        if not self.done.wait(timeout=600):
            raise AssertionError(f"APScheduler ran {DELIVERED[0]} of {self.expected} jobs")

    def close(self) -> None:
        self.scheduler.shutdown(wait=True)
        super().close()


def _naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)
