"""A store that keeps everything in memory: for tests, and for embedders with their own state.

It keeps the same contract as SQLite, checked by the same test suite: what it returns are
copies, a commit is checked in full before anything is applied, instants come back in
UTC, and free-form data is kept as JSON text, so it accepts exactly what SQLite accepts.

>>> with MemoryStore() as store:
...     store.count_applications()
0
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from operator import itemgetter
from types import TracebackType
from typing import Self

from followup.errors import InputError, StoreError, UnknownApplication
from followup.model import (
    Application,
    Change,
    Delivery,
    DeliveryStatus,
    Fault,
    HistoryEntry,
    Notification,
    Owner,
    Record,
    Timer,
    WorkStatus,
    replaced,
)
from followup.store._codec import (
    FORGET_WORKERS_AFTER,
    check_owner_change,
    dump_json,
    gather,
    load_json,
    stamp,
    state_names,
    utc,
    work_status,
)

__all__ = ["MemoryStore"]

_fire_at = itemgetter(0)


@dataclass
class _OutboxRow:
    """One outbox row; ``notification`` carries no data, which is kept as JSON text."""

    notification: Notification
    data: str
    status: DeliveryStatus = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    claimed_by: str | None = None

    def order(self) -> tuple[datetime, str, str]:
        n = self.notification
        return (n.created_at, n.key, n.channels[0])

    def delivery(self) -> Delivery:
        n = replace(self.notification, data=load_json(self.data))
        return Delivery(
            n,
            n.channels[0],
            self.status,
            self.attempts,
            self.next_attempt_at,
            self.last_error,
            self.delivered_at,
        )


class MemoryStore:
    """A ``Store`` in this process's memory; gone when the process ends.

    Due timers are found by bisecting a list kept sorted by (fire_at, key), so a tick
    costs the number of due timers, not the number of applications.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self._apps: dict[str, Application] = {}
        self._by_owner: dict[str, dict[str, None]] = {}  # owner -> application ids
        # application id -> seq -> (the entry, its data as JSON); the entry's own data
        # dict is the caller's and never handed out.
        self._history: dict[str, dict[int, tuple[HistoryEntry, str]]] = {}
        self._timers: dict[str, Timer] = {}
        self._timeline: list[tuple[datetime, str]] = []  # (fire_at, key), sorted
        # application id -> timer keys; an owner-level timer (no application) is filed
        # under ("", owner), so one owner's timers are found without scanning all owners'.
        self._timers_of: dict[str | tuple[str, str], set[str]] = {}
        self._outbox: dict[tuple[str, str], _OutboxRow] = {}
        self._pending: set[tuple[str, str]] = set()
        self._owners: dict[str, Owner] = {}
        # timer key -> (worker, until); no worker: released, but not claimable until then
        self._claims: dict[str, tuple[str | None, datetime]] = {}
        self._faults: dict[tuple[str, str], Fault] = {}  # (owner, application id) -> fault
        self._workers: dict[str, datetime] = {}  # worker -> last heartbeat

    def close(self) -> None:
        """Forget everything; the store is unusable afterwards."""
        with self._lock:
            self._closed = True
            self._apps.clear()
            self._history.clear()
            self._timers.clear()
            self._timeline.clear()
            self._timers_of.clear()
            self._outbox.clear()
            self._pending.clear()
            self._owners.clear()
            self._claims.clear()
            self._faults.clear()
            self._workers.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the in-memory store is closed")

    # -- reads -------------------------------------------------------------------------

    def load(self, application_id: str, *, owner: str | None = None) -> Record:
        with self._lock:
            app = self._owned(application_id, owner)
            history = self._history_of(application_id)
            timers = [self._timers[key] for key in self._timers_of.get(application_id, ())]
        if len(timers) > 1:
            timers.sort(key=_timer_order)
        return Record(app, tuple(history), tuple(timers))

    def history(self, application_id: str, *, owner: str | None = None) -> list[HistoryEntry]:
        with self._lock:
            self._owned(application_id, owner)
            return self._history_of(application_id)

    def _owned(self, app_id: str, owner: str | None) -> Application:
        self._check_open()
        app = self._apps.get(app_id)
        if app is None or (owner is not None and app.owner != owner):
            where = "" if owner is None else f" for owner {owner!r}"
            raise UnknownApplication(f"no application {app_id!r}{where}")
        return _copy(app)

    def _history_of(self, app_id: str) -> list[HistoryEntry]:
        # Kept in seq order (see commit_many); each entry goes out with its own data.
        return [replaced(entry, data=load_json(data)) for entry, data in self._history[app_id].values()]

    def applications(
        self, *, owner: str | None = None, states: Collection[str] | None = None
    ) -> list[Application]:
        found = self._matching(owner, states)
        found.sort(key=_application_order)
        return [_copy(app) for app in found]

    def count_applications(
        self, *, owner: str | None = None, states: Collection[str] | None = None
    ) -> int:
        return len(self._matching(owner, states))

    def count_by_state(self, *, owner: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self._lock:
            self._check_open()
            for app_id in self._by_owner.get(owner, {}):
                state = self._apps[app_id].state
                counts[state] = counts.get(state, 0) + 1
        return counts

    def _matching(self, owner: str | None, states: Collection[str] | None) -> list[Application]:
        names = state_names(states)
        with self._lock:
            self._check_open()
            pool = (
                self._apps.values()
                if owner is None
                else [self._apps[i] for i in self._by_owner.get(owner, {})]
            )
            return [
                app
                for app in pool
                if (owner is None or app.owner == owner) and (names is None or app.state in names)
            ]

    def due_timers(self, now: datetime, *, limit: int = 1000) -> list[Timer]:
        now = utc(now)
        with self._lock:
            self._check_open()
            end = min(bisect.bisect_right(self._timeline, now, key=_fire_at), max(limit, 0))
            return [self._timers[key] for _, key in self._timeline[:end]]

    def timers(
        self,
        *,
        owner: str | None = None,
        application_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Timer]:
        start = None if start is None else utc(start)
        end = None if end is None else utc(end)
        with self._lock:
            self._check_open()
            if application_id is not None:
                keys = self._timers_of.get(
                    ("", owner) if application_id == "" and owner is not None else application_id,
                    set())
                if application_id == "" and owner is None:
                    keys = {k for i, ks in self._timers_of.items() if type(i) is tuple for k in ks}
                found = [self._timers[key] for key in keys]
            else:
                lo = 0 if start is None else bisect.bisect_left(self._timeline, start, key=_fire_at)
                hi = (
                    len(self._timeline)
                    if end is None
                    else bisect.bisect_left(self._timeline, end, key=_fire_at)
                )
                found = [self._timers[key] for _, key in self._timeline[lo:hi]]
        found = [
            t
            for t in found
            if (owner is None or t.owner == owner)
            and (start is None or t.fire_at >= start)
            and (end is None or t.fire_at < end)
        ]
        found.sort(key=_timer_order)
        return found

    def pending_deliveries(self, now: datetime, *, limit: int = 100) -> list[Delivery]:
        now = utc(now)
        with self._lock:
            self._check_open()
            return [row.delivery() for row in self._due_rows(now, limit)]

    def _due_rows(self, now: datetime, limit: int) -> list[_OutboxRow]:
        """Pending outbox rows due at ``now``, oldest first, at most ``limit``."""
        due = [
            row
            for row in map(self._outbox.__getitem__, self._pending)
            if row.next_attempt_at is None or row.next_attempt_at <= now
        ]
        due.sort(key=_OutboxRow.order)
        return due[: max(limit, 0)]

    def deliveries(self, *, owner: str | None = None, status: str | None = None) -> list[Delivery]:
        with self._lock:
            self._check_open()
            found = [
                row
                for row in self._outbox.values()
                if (owner is None or row.notification.owner == owner)
                and (status is None or row.status == status)
            ]
            found.sort(key=_OutboxRow.order)
            return [row.delivery() for row in found]

    def get_owner(self, owner_id: str) -> Owner | None:
        with self._lock:
            self._check_open()
            return self._owners.get(owner_id)

    # -- writes ------------------------------------------------------------------------

    def commit(self, change: Change) -> Application:
        return self.commit_many((change,))[0]

    def commit_many(self, changes: Sequence[Change]) -> list[Application]:
        if not changes:
            return []
        # Check and copy everything first; then apply what can no longer fail.
        batch = gather(changes)
        history = [(_history_entry(entry), _data(entry)) for entry in batch.history]
        timers = {key: None if t is None else _timer(t) for key, t in batch.timers.items()}
        outbox = [row for n in batch.notifications for row in _outbox_rows(n)]
        with self._lock:
            self._check_open()
            stored = {i: self._apps[i].version for i in batch.ids if i in self._apps}
            results, final = stamp(changes, stored)
            rows = [_copy(app) for app, _ in final.values()]
            results = [_copy(app) for app in results]
            for entry, _ in history:
                if entry.seq in self._history.get(entry.application_id, ()):
                    raise InputError(
                        f"history entry {entry.seq} of application {entry.application_id!r} "
                        "already exists: history only grows; number new entries from the "
                        "length of the loaded history"
                    )
            for app in rows:
                previous = self._apps.get(app.id)
                if previous is not None and previous.owner != app.owner:
                    self._by_owner.get(previous.owner, {}).pop(app.id, None)
                self._apps[app.id] = app
                self._by_owner.setdefault(app.owner, {})[app.id] = None
                self._history.setdefault(app.id, {})
            for entry, data in history:
                entries = self._history[entry.application_id]
                if entries and entry.seq < next(reversed(entries)):
                    # Entries given out of order: keep the dict in seq order, so that a
                    # load reads it as it is.
                    entries[entry.seq] = (entry, data)
                    ordered = sorted(entries.items())
                    entries.clear()
                    entries.update(ordered)
                else:
                    entries[entry.seq] = (entry, data)
            for key, timer in timers.items():
                self._drop_timer(key)
                if timer is not None:
                    self._add_timer(timer)
            for row in outbox:
                ident = (row.notification.key, row.notification.channels[0])
                if ident not in self._outbox:
                    self._outbox[ident] = row
                    self._pending.add(ident)
        return results

    def commit_owner(
        self,
        owner: str,
        *,
        timers_removed: Sequence[str] = (),
        timers_added: Sequence[Timer] = (),
        notifications: Sequence[Notification] = (),
    ) -> None:
        check_owner_change(owner, timers_added, notifications)
        added = [_timer(t) for t in timers_added]
        outbox = [row for n in notifications for row in _outbox_rows(n)]
        with self._lock:
            self._check_open()
            for key in timers_removed:
                if key in self._timers and self._timers[key].owner == owner:
                    self._drop_timer(key)
            for timer in added:
                self._drop_timer(timer.key)
                self._add_timer(timer)
            for row in outbox:
                ident = (row.notification.key, row.notification.channels[0])
                if ident not in self._outbox:
                    self._outbox[ident] = row
                    self._pending.add(ident)

    def _drop_timer(self, key: str) -> None:
        self._claims.pop(key, None)
        timer = self._timers.pop(key, None)
        if timer is None:
            return
        at = bisect.bisect_left(self._timeline, (timer.fire_at, key))
        del self._timeline[at]
        where = _filed_under(timer)
        keys = self._timers_of[where]
        keys.discard(key)
        if not keys:
            del self._timers_of[where]

    def _add_timer(self, timer: Timer) -> None:
        self._timers[timer.key] = timer
        bisect.insort(self._timeline, (timer.fire_at, timer.key))
        self._timers_of.setdefault(_filed_under(timer), set()).add(timer.key)

    def mark_delivered(self, key: str, channel: str, *, at: datetime) -> None:
        at = utc(at)
        with self._lock:
            row = self._row(key, channel)
            row.status = "delivered"
            row.attempts += 1
            row.delivered_at = at
            row.next_attempt_at = None
            row.claimed_by = None
            self._pending.discard((key, channel))

    def mark_failed(
        self,
        key: str,
        channel: str,
        *,
        error: str,
        next_attempt_at: datetime | None,
        dead: bool,
    ) -> None:
        next_attempt_at = None if next_attempt_at is None else utc(next_attempt_at)
        with self._lock:
            row = self._row(key, channel)
            row.status = "dead" if dead else "pending"
            row.attempts += 1
            row.last_error = error
            row.next_attempt_at = next_attempt_at
            row.claimed_by = None
            if dead:
                self._pending.discard((key, channel))
            else:
                self._pending.add((key, channel))

    def claim_delivery(self, key: str, channel: str, *, now: datetime, until: datetime) -> bool:
        now, until = utc(now), utc(until)
        with self._lock:
            self._check_open()
            row = self._outbox.get((key, channel))
            if row is None or row.status != "pending":
                return False
            if row.next_attempt_at is not None and row.next_attempt_at > now:
                return False
            row.next_attempt_at = until
            return True

    # -- work shared by many workers ---------------------------------------------------

    def claim_due_timers(
        self, now: datetime, *, worker: str, until: datetime, limit: int = 100
    ) -> list[Timer]:
        now, until = utc(now), utc(until)
        with self._lock:
            self._check_open()
            taken: list[Timer] = []
            end = bisect.bisect_right(self._timeline, now, key=_fire_at)
            for _, key in self._timeline[:end]:
                if len(taken) >= limit:
                    break
                claim = self._claims.get(key)
                if claim is None or claim[1] <= now:
                    self._claims[key] = (worker, until)
                    taken.append(self._timers[key])
            return taken

    def release_timers(
        self, keys: Sequence[str], *, worker: str, until: datetime | None = None
    ) -> None:
        until = None if until is None else utc(until)
        with self._lock:
            self._check_open()
            for key in keys:
                claim = self._claims.get(key)
                if claim is not None and claim[0] == worker:
                    if until is None:
                        del self._claims[key]
                    else:
                        self._claims[key] = (None, until)

    def claim_deliveries(
        self, now: datetime, *, worker: str, until: datetime, limit: int = 100
    ) -> list[Delivery]:
        now, until = utc(now), utc(until)
        with self._lock:
            self._check_open()
            taken = self._due_rows(now, limit)
            for row in taken:
                row.next_attempt_at = until
                row.claimed_by = worker
            return [row.delivery() for row in taken]

    def renew_claims(self, *, worker: str, now: datetime, until: datetime) -> int:
        now, until = utc(now), utc(until)
        with self._lock:
            self._check_open()
            self._workers[worker] = now
            for gone in [w for w, seen in self._workers.items()
                         if seen < now - FORGET_WORKERS_AFTER]:
                del self._workers[gone]
            count = 0
            for key, (holder, _) in self._claims.items():
                if holder == worker:
                    self._claims[key] = (worker, until)
                    count += 1
            for ident in self._pending:
                row = self._outbox[ident]
                if row.claimed_by == worker:
                    row.next_attempt_at = until
                    count += 1
            return count

    def work_status(self, now: datetime) -> WorkStatus:
        now = utc(now)
        with self._lock:
            self._check_open()
            timers: dict[str, int] = {}
            deliveries: dict[str, int] = {}
            due_timers = 0
            end = bisect.bisect_right(self._timeline, now, key=_fire_at)
            for _, key in self._timeline[:end]:
                claim = self._claims.get(key)
                if claim is None or claim[1] <= now:
                    due_timers += 1
            for key, (holder, until) in self._claims.items():
                if holder is not None and until > now and key in self._timers:
                    timers[holder] = timers.get(holder, 0) + 1
            due_deliveries = retrying = 0
            for row in map(self._outbox.__getitem__, self._pending):
                held = row.next_attempt_at is not None and row.next_attempt_at > now
                if held and row.claimed_by is not None:
                    deliveries[row.claimed_by] = deliveries.get(row.claimed_by, 0) + 1
                elif not held:
                    due_deliveries += 1
                if row.attempts > 0:
                    retrying += 1
            dead = sum(1 for row in self._outbox.values() if row.status == "dead")
            return work_status(
                now,
                due_timers=due_timers,
                held_timers=timers,
                due_deliveries=due_deliveries,
                held_deliveries=deliveries,
                retrying=retrying,
                dead=dead,
                seen=dict(self._workers),
                faults=len(self._faults),
            )

    # -- faults --------------------------------------------------------------------------

    def record_fault(
        self, *, owner: str, application_id: str, error: str, at: datetime, retry_at: datetime
    ) -> Fault:
        at, retry_at = utc(at), utc(retry_at)
        with self._lock:
            self._check_open()
            before = self._faults.get((owner, application_id))
            fault = Fault(owner, application_id, error,
                          at if before is None else before.first_at, at,
                          1 if before is None else before.attempts + 1, retry_at)
            self._faults[(owner, application_id)] = fault
            return fault

    def clear_fault(self, *, owner: str, application_id: str) -> None:
        with self._lock:
            self._check_open()
            self._faults.pop((owner, application_id), None)

    def faults(
        self, *, owner: str | None = None, application_id: str | None = None
    ) -> list[Fault]:
        with self._lock:
            self._check_open()
            found = [f for f in self._faults.values()
                     if (owner is None or f.owner == owner)
                     and (application_id is None or f.application_id == application_id)]
        found.sort(key=_fault_order)
        return found

    def _row(self, key: str, channel: str) -> _OutboxRow:
        self._check_open()
        row = self._outbox.get((key, channel))
        if row is None:
            raise InputError(f"no notification {key!r} for channel {channel!r} in the outbox")
        return row

    def retry_dead(self, *, owner: str | None = None, key: str | None = None) -> int:
        with self._lock:
            self._check_open()
            count = 0
            for ident, row in self._outbox.items():
                n = row.notification
                if (
                    row.status == "dead"
                    and (owner is None or n.owner == owner)
                    and (key is None or n.key == key)
                ):
                    row.status = "pending"
                    row.attempts = 0
                    row.next_attempt_at = None
                    row.claimed_by = None
                    self._pending.add(ident)
                    count += 1
            return count

    def put_owner(self, owner: Owner) -> None:
        with self._lock:
            self._check_open()
            self._owners[owner.id] = owner


# -- copies, in the form SQLite would give back --------------------------------------------


def _copy(app: Application) -> Application:
    if app.created_at is not None and app.created_at.tzinfo is not UTC:
        return replaced(app, facts=dict(app.facts), created_at=utc(app.created_at))
    return replaced(app, facts=dict(app.facts))


def _filed_under(timer: Timer) -> str | tuple[str, str]:
    return timer.application_id or ("", timer.owner)


def _application_order(app: Application) -> tuple[bool, datetime | None, str]:
    # SQLite puts a missing created_at first; (False, None) sorts before (True, instant).
    return (app.created_at is not None, app.created_at, app.id)


def _fault_order(fault: Fault) -> tuple[datetime, str, str]:
    return (fault.first_at, fault.owner, fault.application_id)


def _timer_order(timer: Timer) -> tuple[datetime, str]:
    return (timer.fire_at, timer.key)


def _data(entry: HistoryEntry) -> str:
    return dump_json(entry.data, what=f"the data of history entry {entry.seq}")


def _history_entry(entry: HistoryEntry) -> HistoryEntry:
    return entry if entry.at.tzinfo is UTC else replaced(entry, at=utc(entry.at))


def _timer(timer: Timer) -> Timer:
    due_at = timer.due_at
    if timer.fire_at.tzinfo is UTC and (due_at is None or due_at.tzinfo is UTC):
        return timer
    return replace(
        timer, fire_at=utc(timer.fire_at), due_at=None if due_at is None else utc(due_at)
    )


def _outbox_rows(n: Notification) -> list[_OutboxRow]:
    data = dump_json(n.data, what=f"the data of notification {n.key!r}")
    due_at = None if n.due_at is None else utc(n.due_at)
    base = replace(n, created_at=utc(n.created_at), due_at=due_at, data={})
    held = n.held_until  # a digest's rows wait for its time
    return [_OutboxRow(replace(base, channels=(channel,)), data, next_attempt_at=held)
            for channel in n.channels]
