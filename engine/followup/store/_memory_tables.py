"""The in-memory store's tables: what SQLite keeps in its file, ``MemoryStore`` keeps here.

Its records (``memory.py``) and its work queue (``_memory_work.py``) both read and write
these tables, as SQLiteStore's two parts share one database; one lock guards them all.
Rows are kept in the form SQLite would give back: instants in UTC, and free-form data as it
reads back from JSON (encoded once when committed, so the in-memory store accepts exactly
what SQLite accepts), frozen: records are immutable values, handed out as they are kept.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sortedcontainers import SortedList

from followup.errors import InputError, StoreError
from followup.model import (
    Application,
    Delivery,
    DeliveryStatus,
    Fault,
    FrozenDict,
    FrozenList,
    HistoryEntry,
    Notification,
    Owner,
    Timer,
    replaced,
)
from followup.store._calendar import CalendarEntry
from followup.store._codec import dump_json, load_json, utc

__all__ = ["MemoryTables", "Timeline"]

_TICK = timedelta(microseconds=1)  # the resolution of datetime: nothing falls between


class Timeline:
    """Every timer's (fire_at, key), in that order: the index a due timer is found by.

    A ``SortedList`` (sortedcontainers): adding and removing one entry costs O(log n),
    where a sorted Python list moves every later entry, so one owner's millionth timer
    would slow every other owner's events. The bounds are 1-tuples: ``(t,)`` sorts
    before every ``(t, key)``, whatever the key's text.
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries = SortedList()

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, fire_at: datetime, key: str) -> None:
        self._entries.add((fire_at, key))

    def remove(self, fire_at: datetime, key: str) -> None:
        self._entries.remove((fire_at, key))

    def clear(self) -> None:
        self._entries.clear()

    def due(self, now: datetime) -> Iterator[str]:
        """The keys of the timers whose time has come by ``now``, earliest first."""
        try:
            bound: tuple[datetime] | None = (now + _TICK,)
        except OverflowError:  # now is the last instant there is: everything is due
            bound = None
        return self._keys(None, bound)

    def between(self, start: datetime | None, end: datetime | None) -> Iterator[str]:
        """The keys of the timers firing from ``start`` on and before ``end`` (None: no
        bound), earliest first."""
        return self._keys(None if start is None else (start,), None if end is None else (end,))

    def _keys(self, low: tuple[datetime] | None, high: tuple[datetime] | None
              ) -> Iterator[str]:
        entries: Iterable[tuple[datetime, str]] = self._entries.irange(
            low, high, inclusive=(True, False))
        return (key for _, key in entries)


@dataclass
class _OutboxRow:
    """One outbox row; ``notification`` is the row's own (one channel, data as read back
    from JSON), handed out as it is."""

    notification: Notification
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
        n = self.notification
        return Delivery(
            n,
            n.channels[0],
            self.status,
            self.attempts,
            self.next_attempt_at,
            self.last_error,
            self.delivered_at,
        )


class MemoryTables:
    """Everything a ``MemoryStore`` holds, in this process's memory, under ``lock``.

    The methods here keep the indexes in step with what they index: the timeline (every
    timer's (fire_at, key), in order, for due timers), the timers of each
    application, and the pending outbox rows. Callers hold ``lock``.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.closed = False
        self.apps: dict[str, Application] = {}
        self.by_owner: dict[str, dict[str, None]] = {}  # owner -> application ids
        # owner -> state -> applications not archived (``Store.count_by_state``), kept
        # with every write rather than counted
        self.counts: dict[str, dict[str, int]] = {}
        # application id -> seq -> the entry, its data as read back from JSON
        self.history: dict[str, dict[int, HistoryEntry]] = {}
        self.timers: dict[str, Timer] = {}
        self.timeline = Timeline()
        # application id -> timer keys; an owner-level timer (no application) is filed
        # under ("", owner), so one owner's timers are found without scanning all owners'.
        self.timers_of: dict[str | tuple[str, str], set[str]] = {}
        self.outbox: dict[tuple[str, str], _OutboxRow] = {}
        self.pending: set[tuple[str, str]] = set()
        self.owners: dict[str, Owner] = {}
        # timer key -> (worker, until); no worker: released, but not claimable until then
        self.claims: dict[str, tuple[str | None, datetime]] = {}
        self.faults: dict[tuple[str, str], Fault] = {}  # (owner, application id) -> fault
        self.workers: dict[str, datetime] = {}  # worker -> last heartbeat
        # owner -> uid -> what their calendar last showed (``Store.publish_calendar``)
        self.calendar: dict[str, dict[str, CalendarEntry]] = {}

    def close(self) -> None:
        """Forget everything; the tables are unusable afterwards."""
        with self.lock:
            self.closed = True
            self.apps.clear()
            self.counts.clear()
            self.history.clear()
            self.timers.clear()
            self.timeline.clear()
            self.timers_of.clear()
            self.outbox.clear()
            self.pending.clear()
            self.owners.clear()
            self.claims.clear()
            self.faults.clear()
            self.workers.clear()
            self.calendar.clear()

    def check_open(self) -> None:
        if self.closed:
            raise StoreError("the in-memory store is closed")

    # -- timers ------------------------------------------------------------------------

    def drop_timer(self, key: str) -> None:
        self.claims.pop(key, None)
        timer = self.timers.pop(key, None)
        if timer is None:
            return
        self.timeline.remove(timer.fire_at, key)
        where = _filed_under(timer)
        keys = self.timers_of[where]
        keys.discard(key)
        if not keys:
            del self.timers_of[where]

    def add_timer(self, timer: Timer) -> None:
        self.timers[timer.key] = timer
        self.timeline.add(timer.fire_at, timer.key)
        self.timers_of.setdefault(_filed_under(timer), set()).add(timer.key)

    # -- applications ----------------------------------------------------------------------

    def put_application(self, app: Application) -> None:
        """Store ``app`` (new, or in place of the one with its id), with its owner's
        index and counts."""
        previous = self.apps.get(app.id)
        if previous is not None:
            if previous.owner != app.owner:
                self.by_owner.get(previous.owner, {}).pop(app.id, None)
            self._count(previous, -1)
        self.apps[app.id] = app
        self.by_owner.setdefault(app.owner, {})[app.id] = None
        self._count(app, 1)

    def _count(self, app: Application, step: int) -> None:
        if app.archived_at is None:  # an archived application is not counted
            states = self.counts.setdefault(app.owner, {})
            n = states[app.state] = states.get(app.state, 0) + step
            if not n:
                del states[app.state]
                if not states:
                    del self.counts[app.owner]

    def delete_application(self, app_id: str, owner: str) -> None:
        """Forget the application and what exists only for it (``Store.delete_application``
        says what that is); nothing here can fail, so it is all or nothing."""
        self._count(self.apps[app_id], -1)
        del self.apps[app_id]
        self.by_owner[owner].pop(app_id, None)
        if not self.by_owner[owner]:
            del self.by_owner[owner]
        self.history.pop(app_id, None)
        for key in list(self.timers_of.get(app_id, ())):
            self.drop_timer(key)
        for ident in [ident for ident, row in self.outbox.items()
                      if row.notification.application_id == app_id
                      and row.status != "delivered"]:
            del self.outbox[ident]
            self.pending.discard(ident)
        entries = self.calendar.get(owner, {})
        for uid in [uid for uid, e in entries.items() if e.application_id == app_id]:
            del entries[uid]
        self.faults.pop((owner, app_id), None)

    # -- the outbox ----------------------------------------------------------------------

    def add_rows(self, rows: Iterable[_OutboxRow]) -> None:
        """Add outbox rows; a (key, channel) already in the outbox is not added again."""
        for row in rows:
            ident = (row.notification.key, row.notification.channels[0])
            if ident not in self.outbox:
                self.outbox[ident] = row
                self.pending.add(ident)

    def due_rows(self, now: datetime, limit: int) -> list[_OutboxRow]:
        """Pending outbox rows due at ``now``, oldest first, at most ``limit``."""
        due = [
            row
            for row in map(self.outbox.__getitem__, self.pending)
            if row.next_attempt_at is None or row.next_attempt_at <= now
        ]
        due.sort(key=_OutboxRow.order)
        return due[: max(limit, 0)]

    def row(self, key: str, channel: str) -> _OutboxRow:
        self.check_open()
        row = self.outbox.get((key, channel))
        if row is None:
            raise InputError(f"no notification {key!r} for channel {channel!r} in the outbox")
        return row


# -- records in the form SQLite would give back --------------------------------------------


def _copy(app: Application) -> Application:
    """``app`` as SQLite would give it back: created_at and archived_at in UTC. Facts
    are frozen (the record's own ``__post_init__``), so the record itself is kept and
    handed out."""
    if app.created_at is not None and app.created_at.tzinfo is not UTC:
        app = replaced(app, created_at=utc(app.created_at))
    if app.archived_at is not None and app.archived_at.tzinfo is not UTC:
        app = replaced(app, archived_at=utc(app.archived_at))
    return app


def _filed_under(timer: Timer) -> str | tuple[str, str]:
    return timer.application_id or ("", timer.owner)


def _application_order(app: Application) -> tuple[bool, datetime | None, str]:
    # SQLite puts a missing created_at first; (False, None) sorts before (True, instant).
    return (app.created_at is not None, app.created_at, app.id)


def _fault_order(fault: Fault) -> tuple[datetime, str, str]:
    return (fault.first_at, fault.owner, fault.application_id)


def _timer_order(timer: Timer) -> tuple[datetime, str]:
    return (timer.fire_at, timer.key)


def _as_read(data: Any, what: str) -> Any:
    """``data`` as SQLite would read it back: encoded (which checks it), and decoded
    again only when its JSON would read back as something else (a tuple, a number as a
    key); frozen data of JSON's own types is already what a read gives."""
    text = dump_json(data, what=what)
    return data if _native(data) else load_json(text)


def _native(value: Any) -> bool:
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is FrozenDict:
        return all(type(k) is str and _native(v) for k, v in value.items())
    if kind is FrozenList:
        return all(_native(v) for v in value)
    return False


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _history_entry(entry: HistoryEntry) -> HistoryEntry:
    """The entry as SQLite would give it back: ``at`` in UTC, its data as JSON reads it
    (checked by encoding it, as SQLite's commit does)."""
    data = entry.data
    if data:
        data = _as_read(data, f"the data of history entry {entry.seq}")
    if entry.at.tzinfo is UTC and data is entry.data:
        return entry
    return replaced(entry, at=utc(entry.at), data=data)


def _timer(timer: Timer) -> Timer:
    due_at = timer.due_at
    if timer.fire_at.tzinfo is UTC and (due_at is None or due_at.tzinfo is UTC):
        return timer
    return replace(
        timer, fire_at=utc(timer.fire_at), due_at=None if due_at is None else utc(due_at)
    )


def _outbox_rows(n: Notification) -> list[_OutboxRow]:
    data = _as_read(n.data, f"the data of notification {n.key!r}")
    due_at = None if n.due_at is None else utc(n.due_at)
    base = replaced(n, created_at=utc(n.created_at), due_at=due_at, data=data)
    held = n.held_until  # a digest's rows wait for its time
    return [_OutboxRow(replaced(base, channels=(channel,)), next_attempt_at=held)
            for channel in n.channels]
