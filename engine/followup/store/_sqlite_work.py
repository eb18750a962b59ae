"""The SQLite store's work queue: claims and leases on due timers and outbox rows, workers'
heartbeats, faults, and the status of it all.

Each claim is one ``BEGIN IMMEDIATE`` transaction, so two processes on one file never take
the same timer or row while a lease runs. The statements are in ``sql/sqlite/queries.sql``;
``Store`` says what each method promises.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from followup.model import Delivery, Fault, Timer, WorkStatus
from followup.store import _migrations
from followup.store._codec import (
    FORGET_WORKERS_AFTER,
    from_text,
    to_text,
    where_clause,
    work_status,
)
from followup.store._sqlite_db import SQLiteDatabase
from followup.store._sqlite_rows import _delivery, _fault, _opt_text, _timer

__all__ = ["SQLiteWork"]

_Q = _migrations.queries("sqlite")


class SQLiteWork:
    """The work shared by many workers, in one SQLite file."""

    def __init__(self, db: SQLiteDatabase) -> None:
        self._db = db

    def claim_delivery(self, key: str, channel: str, *, now: datetime, until: datetime) -> bool:
        params = (to_text(until), key, channel, to_text(now))
        with self._db.writing("claiming a row of the outbox of") as conn:
            return bool(conn.execute(_Q["claim_delivery"], params).rowcount == 1)

    def claim_due_timers(
        self, now: datetime, *, worker: str, until: datetime, limit: int
    ) -> list[Timer]:
        at = to_text(now)
        params = (worker, to_text(until), at, at, max(limit, 0))
        with self._db.writing("claiming due timers in") as conn:
            rows = conn.execute(_Q["claim_due_timers"], params).fetchall()
        return sorted((_timer(row) for row in rows), key=lambda t: (t.fire_at, t.key))

    def release_timers(
        self, keys: Sequence[str], *, worker: str, until: datetime | None = None
    ) -> None:
        if not keys:
            return
        lease = _opt_text(until)
        with self._db.writing("releasing timers in") as conn:
            conn.executemany(_Q["release_timer"], [(lease, key, worker) for key in keys])

    def claim_deliveries(
        self, now: datetime, *, worker: str, until: datetime, limit: int
    ) -> list[Delivery]:
        params = (to_text(until), worker, to_text(now), max(limit, 0))
        with self._db.writing("claiming rows of the outbox of") as conn:
            rows = conn.execute(_Q["claim_deliveries"], params).fetchall()
        found = [_delivery(row) for row in rows]
        found.sort(key=lambda d: (d.notification.created_at, d.notification.key, d.channel))
        return found

    def renew_claims(self, *, worker: str, now: datetime, until: datetime) -> int:
        lease = to_text(until)
        with self._db.writing("renewing the claims in") as conn:
            conn.execute(_Q["worker_seen"], (worker, to_text(now)))
            conn.execute(_Q["forget_workers"], (to_text(now - FORGET_WORKERS_AFTER),))
            count = conn.execute(_Q["renew_timers"], (lease, worker)).rowcount
            count += conn.execute(_Q["renew_deliveries"], (lease, worker)).rowcount
        return count

    def work_status(self, now: datetime) -> WorkStatus:
        at = to_text(now)
        with self._db.reading("reading the work queue of", snapshot=True) as conn:
            (due_timers,) = conn.execute(_Q["status_due_timers"], (at, at)).fetchone()
            held_timers = dict(conn.execute(_Q["status_held_timers"], (at,)).fetchall())
            outbox = conn.execute(_Q["status_deliveries"], (at, at)).fetchall()
            (dead,) = conn.execute(_Q["status_dead"]).fetchone()
            seen = dict(conn.execute(_Q["status_workers"]).fetchall())
            (faults,) = conn.execute(_Q["status_faults"]).fetchone()
        held_deliveries = {w: int(held or 0) for w, _, held, _ in outbox if w is not None}
        return work_status(
            from_text(at),
            due_timers=int(due_timers),
            held_timers=held_timers,
            due_deliveries=sum(int(due or 0) for _, due, _, _ in outbox),
            held_deliveries=held_deliveries,
            retrying=sum(int(retrying or 0) for _, _, _, retrying in outbox),
            dead=int(dead),
            seen={w: from_text(t) for w, t in seen.items()},
            faults=int(faults),
        )

    # -- faults --------------------------------------------------------------------------

    def record_fault(
        self, *, owner: str, application_id: str, error: str, at: datetime, retry_at: datetime
    ) -> Fault:
        when = to_text(at)
        params = (owner, application_id, error, when, when, to_text(retry_at))
        with self._db.writing("recording a fault in") as conn:
            row = conn.execute(_Q["record_fault"], params).fetchone()
        return _fault(row)

    def clear_fault(self, *, owner: str, application_id: str) -> None:
        with self._db.writing("clearing a fault in") as conn:
            conn.execute(_Q["clear_fault"], (owner, application_id))

    def faults(
        self, *, owner: str | None = None, application_id: str | None = None
    ) -> list[Fault]:
        where, params = where_clause(("owner = ?", owner),
                                     ("application_id = ?", application_id))
        sql = f"{_Q['faults_head']}{where} ORDER BY first_at, owner, application_id"
        with self._db.reading("reading the faults in") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [_fault(row) for row in rows]
