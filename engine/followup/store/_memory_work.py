"""The in-memory store's work queue: who holds which due timer and outbox row, and until
when; which workers were seen; which applications failed; and the status of it all.

It keeps its claims, heartbeats and faults in the store's tables (``_memory_tables.py``),
beside the timers and outbox rows they are about, so that storing a timer again frees its
claim, as in SQLite. ``Store`` says what each method promises.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from followup.model import Delivery, Fault, Timer, WorkStatus
from followup.store._codec import FORGET_WORKERS_AFTER, utc, work_status
from followup.store._memory_tables import MemoryTables, _fault_order

__all__ = ["MemoryWork"]


class MemoryWork:
    """The work shared by many workers, in one ``MemoryStore``'s tables."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    def claim_delivery(self, key: str, channel: str, *, now: datetime, until: datetime) -> bool:
        now, until = utc(now), utc(until)
        t = self._t
        with t.lock:
            t.check_open()
            row = t.outbox.get((key, channel))
            if row is None or row.status != "pending":
                return False
            if row.next_attempt_at is not None and row.next_attempt_at > now:
                return False
            row.next_attempt_at = until
            return True

    def claim_due_timers(
        self, now: datetime, *, worker: str, until: datetime, limit: int
    ) -> list[Timer]:
        now, until = utc(now), utc(until)
        t = self._t
        with t.lock:
            t.check_open()
            taken: list[Timer] = []
            for key in t.timeline.due(now):
                if len(taken) >= limit:
                    break
                claim = t.claims.get(key)
                if claim is None or claim[1] <= now:
                    t.claims[key] = (worker, until)
                    taken.append(t.timers[key])
            return taken

    def release_timers(
        self, keys: Sequence[str], *, worker: str, until: datetime | None = None
    ) -> None:
        until = None if until is None else utc(until)
        t = self._t
        with t.lock:
            t.check_open()
            for key in keys:
                claim = t.claims.get(key)
                if claim is not None and claim[0] == worker:
                    if until is None:
                        del t.claims[key]
                    else:
                        t.claims[key] = (None, until)

    def claim_deliveries(
        self, now: datetime, *, worker: str, until: datetime, limit: int
    ) -> list[Delivery]:
        now, until = utc(now), utc(until)
        t = self._t
        with t.lock:
            t.check_open()
            taken = t.due_rows(now, limit)
            for row in taken:
                row.next_attempt_at = until
                row.claimed_by = worker
            return [row.delivery() for row in taken]

    def renew_claims(self, *, worker: str, now: datetime, until: datetime) -> int:
        now, until = utc(now), utc(until)
        t = self._t
        with t.lock:
            t.check_open()
            t.workers[worker] = now
            for gone in [w for w, seen in t.workers.items()
                         if seen < now - FORGET_WORKERS_AFTER]:
                del t.workers[gone]
            count = 0
            for key, (holder, _) in t.claims.items():
                if holder == worker:
                    t.claims[key] = (worker, until)
                    count += 1
            for ident in t.pending:
                row = t.outbox[ident]
                if row.claimed_by == worker:
                    row.next_attempt_at = until
                    count += 1
            return count

    def work_status(self, now: datetime) -> WorkStatus:
        now = utc(now)
        t = self._t
        with t.lock:
            t.check_open()
            timers: dict[str, int] = {}
            deliveries: dict[str, int] = {}
            due_timers = 0
            for key in t.timeline.due(now):
                claim = t.claims.get(key)
                if claim is None or claim[1] <= now:
                    due_timers += 1
            for key, (holder, until) in t.claims.items():
                if holder is not None and until > now and key in t.timers:
                    timers[holder] = timers.get(holder, 0) + 1
            due_deliveries = retrying = 0
            for row in map(t.outbox.__getitem__, t.pending):
                held = row.next_attempt_at is not None and row.next_attempt_at > now
                if held and row.claimed_by is not None:
                    deliveries[row.claimed_by] = deliveries.get(row.claimed_by, 0) + 1
                elif not held:
                    due_deliveries += 1
                if row.attempts > 0:
                    retrying += 1
            dead = sum(1 for row in t.outbox.values() if row.status == "dead")
            return work_status(
                now,
                due_timers=due_timers,
                held_timers=timers,
                due_deliveries=due_deliveries,
                held_deliveries=deliveries,
                retrying=retrying,
                dead=dead,
                seen=dict(t.workers),
                faults=len(t.faults),
            )

    # -- faults --------------------------------------------------------------------------

    def record_fault(
        self, *, owner: str, application_id: str, error: str, at: datetime, retry_at: datetime
    ) -> Fault:
        at, retry_at = utc(at), utc(retry_at)
        t = self._t
        with t.lock:
            t.check_open()
            before = t.faults.get((owner, application_id))
            fault = Fault(owner, application_id, error,
                          at if before is None else before.first_at, at,
                          1 if before is None else before.attempts + 1, retry_at)
            t.faults[(owner, application_id)] = fault
            return fault

    def clear_fault(self, *, owner: str, application_id: str) -> None:
        t = self._t
        with t.lock:
            t.check_open()
            t.faults.pop((owner, application_id), None)

    def faults(
        self, *, owner: str | None = None, application_id: str | None = None
    ) -> list[Fault]:
        t = self._t
        with t.lock:
            t.check_open()
            found = [f for f in t.faults.values()
                     if (owner is None or f.owner == owner)
                     and (application_id is None or f.application_id == application_id)]
        found.sort(key=_fault_order)
        return found
