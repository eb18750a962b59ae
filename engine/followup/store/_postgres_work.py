"""The PostgreSQL store's work queue: claims and leases on due timers and outbox rows,
workers' heartbeats, faults, and the status of it all.

Due timers and outbox rows are claimed with ``FOR UPDATE SKIP LOCKED``, in batches, under
a lease, so workers on many machines never take the same work while a lease runs. The
statements are in ``sql/postgresql/queries.sql``; ``Store`` says what each method promises.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from followup.model import Delivery, Fault, Timer, WorkStatus
from followup.store import _migrations
from followup.store._codec import FORGET_WORKERS_AFTER, utc, where_clause, work_status
from followup.store._postgres_db import PostgresDatabase
from followup.store._postgres_rows import _delivery, _fault, _one, _timer

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresWork"]

_Q = _migrations.queries("postgresql")


class PostgresWork:
    """The work shared by many workers, in one PostgreSQL database."""

    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    def claim_delivery(self, key: str, channel: str, *, now: datetime, until: datetime) -> bool:
        params = (utc(until), key, channel, utc(now))
        return bool(self._db.run("claiming a row of the outbox of",
                                 lambda cur: cur.execute(_Q["claim_delivery"], params).rowcount)
                    == 1)

    def claim_due_timers(
        self, now: datetime, *, worker: str, until: datetime, limit: int
    ) -> list[Timer]:
        params = {"now": utc(now), "until": utc(until), "worker": worker,
                  "limit": max(limit, 0)}
        rows = self._db.run("claiming due timers in",
                            lambda cur: cur.execute(_Q["claim_due_timers"], params).fetchall())
        return sorted(map(_timer, rows), key=lambda t: (t.fire_at, t.key))

    def release_timers(
        self, keys: Sequence[str], *, worker: str, until: datetime | None = None
    ) -> None:
        if keys:
            params = (None if until is None else utc(until), list(keys), worker)
            self._db.run("releasing timers in",
                         lambda cur: cur.execute(_Q["release_timers"], params))

    def claim_deliveries(
        self, now: datetime, *, worker: str, until: datetime, limit: int
    ) -> list[Delivery]:
        params = {"now": utc(now), "until": utc(until), "worker": worker,
                  "limit": max(limit, 0)}
        rows = self._db.run("claiming rows of the outbox of",
                            lambda cur: cur.execute(_Q["claim_deliveries"], params).fetchall())
        found = [_delivery(row) for row in rows]
        found.sort(key=lambda d: (d.notification.created_at, d.notification.key, d.channel))
        return found

    def renew_claims(self, *, worker: str, now: datetime, until: datetime) -> int:
        lease = utc(until)

        def work(cur: psycopg.Cursor[Any]) -> int:
            cur.execute(_Q["worker_seen"], (worker, utc(now)))
            cur.execute(_Q["forget_workers"], (utc(now) - FORGET_WORKERS_AFTER,))
            count = cur.execute(_Q["renew_timers"], (lease, worker)).rowcount
            return count + cur.execute(_Q["renew_deliveries"], (lease, worker)).rowcount

        return self._db.run("renewing the claims in", work)

    def work_status(self, now: datetime) -> WorkStatus:
        at = utc(now)

        def work(cur: psycopg.Cursor[Any]) -> WorkStatus:
            (due_timers,) = _one(cur.execute(_Q["status_due_timers"], (at, at)))
            held_timers = {w: int(n) for w, n in cur.execute(_Q["status_held_timers"], (at,))}
            outbox = cur.execute(_Q["status_deliveries"], (at, at)).fetchall()
            (dead,) = _one(cur.execute(_Q["status_dead"]))
            seen = dict(cur.execute(_Q["status_workers"]).fetchall())
            (faults,) = _one(cur.execute(_Q["status_faults"]))
            return work_status(
                at,
                due_timers=int(due_timers),
                held_timers=held_timers,
                due_deliveries=sum(int(due) for _, due, _, _ in outbox),
                held_deliveries={w: int(held) for w, _, held, _ in outbox if w is not None},
                retrying=sum(int(retrying) for _, _, _, retrying in outbox),
                dead=int(dead),
                seen=seen,
                faults=int(faults),
            )

        return self._db.read("reading the work queue of", work, snapshot=True)

    # -- faults --------------------------------------------------------------------------

    def record_fault(
        self, *, owner: str, application_id: str, error: str, at: datetime, retry_at: datetime
    ) -> Fault:
        params = (owner, application_id, error, utc(at), utc(at), utc(retry_at))
        return self._db.run("recording a fault in",
                            lambda cur: _fault(_one(cur.execute(_Q["record_fault"], params))))

    def clear_fault(self, *, owner: str, application_id: str) -> None:
        self._db.run("clearing a fault in",
                     lambda cur: cur.execute(_Q["clear_fault"], (owner, application_id)))

    def faults(
        self, *, owner: str | None = None, application_id: str | None = None
    ) -> list[Fault]:
        where, params = where_clause(("owner = %s", owner),
                                     ("application_id = %s", application_id))
        sql = f"{_Q['faults_head']}{where} ORDER BY first_at, owner, application_id"
        return self._db.read("reading the faults in",
                             lambda cur: [_fault(r) for r in cur.execute(sql, params)])
