"""A store that keeps everything in memory: for tests, and for embedders with their own state.

It keeps the same contract as SQLite, checked by the same test suite: what it returns are
the immutable records it keeps (no copies), a commit is checked in full before anything is
applied, instants come back in UTC, and free-form data is kept as JSON reads it back, so
it accepts exactly what SQLite accepts.

Its parts share one set of tables (``_memory_tables.py``), as SQLite's share one file:
the records (applications, history, timers, the outbox, owners) are read and written here;
the work shared by many workers (claims, leases, heartbeats, faults) is ``MemoryWork``'s
(``_memory_work.py``).

>>> with MemoryStore() as store:
...     store.count_applications()
0
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

from followup.errors import InputError, UnknownApplication
from followup.limits import check_owner
from followup.model import (
    Application,
    Change,
    Delivery,
    Fault,
    HistoryEntry,
    Notification,
    Owner,
    Record,
    Timer,
    WorkStatus,
)
from followup.store._calendar import CalendarEntry, memory_publish
from followup.store._codec import (
    archived_condition,
    check_owner_change,
    gather,
    not_in_outbox,
    stamp,
    state_names,
    utc,
)
from followup.store._memory_tables import (
    MemoryTables,
    _application_order,
    _copy,
    _history_entry,
    _outbox_rows,
    _OutboxRow,
    _timer,
    _timer_order,
)
from followup.store._memory_work import MemoryWork

__all__ = ["MemoryStore"]


class MemoryStore:
    """A ``Store`` in this process's memory; gone when the process ends.

    Due timers are found in a timeline kept in (fire_at, key) order (``Timeline``), so a
    tick costs the number of due timers, and arming or dropping one the logarithm of
    all timers, not the number of applications.
    """

    def __init__(self) -> None:
        self._tables = MemoryTables()
        self._work = MemoryWork(self._tables)

    def close(self) -> None:
        """Forget everything; the store is unusable afterwards."""
        self._tables.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- reads -------------------------------------------------------------------------

    def load(self, application_id: str, *, owner: str | None = None) -> Record:
        with self._tables.lock:
            return self._load(application_id, owner)

    def load_with_owner(self, application_id: str, *, owner: str | None = None
                        ) -> tuple[Record, dict[str, int], bool]:
        with self._tables.lock:
            record = self._load(application_id, owner)
            mine = record.application.owner
            counts = dict(self._tables.counts.get(mine, {}))
            timers = self._tables.timers
            waits = any(timers[key].action == "replan"
                        for key in self._tables.timers_of.get(("", mine), ()))
        return record, counts, waits

    def _load(self, application_id: str, owner: str | None) -> Record:
        """``load``, under the lock."""
        app = self._owned(application_id, owner)
        history = self._history_of(application_id)
        timers = [self._tables.timers[key]
                  for key in self._tables.timers_of.get(application_id, ())]
        if len(timers) > 1:
            timers.sort(key=_timer_order)
        return Record(app, tuple(history), tuple(timers))

    def load_many(self, application_ids: Sequence[str], *, owner: str | None = None
                  ) -> list[Record]:
        found = []
        for app_id in dict.fromkeys(application_ids):
            try:
                found.append(self.load(app_id, owner=owner))
            except UnknownApplication:
                continue
        return found

    def history(self, application_id: str, *, owner: str | None = None) -> list[HistoryEntry]:
        with self._tables.lock:
            self._owned(application_id, owner)
            return self._history_of(application_id)

    def _owned(self, app_id: str, owner: str | None) -> Application:
        self._tables.check_open()
        app = self._tables.apps.get(app_id)
        if app is None or (owner is not None and app.owner != owner):
            where = "" if owner is None else f" for owner {owner!r}"
            raise UnknownApplication(f"no application {app_id!r}{where}")
        return _copy(app)

    def _history_of(self, app_id: str) -> list[HistoryEntry]:
        # Kept in seq order (see commit_many); immutable, so handed out as kept.
        return list(self._tables.history[app_id].values())

    def applications(
        self, *, owner: str | None = None, states: Collection[str] | None = None,
        archived: bool | None = False,
    ) -> list[Application]:
        found = self._matching(owner, states, archived)
        found.sort(key=_application_order)
        return [_copy(app) for app in found]

    def count_applications(
        self, *, owner: str | None = None, states: Collection[str] | None = None,
        archived: bool | None = False,
    ) -> int:
        return len(self._matching(owner, states, archived))

    def count_by_state(self, *, owner: str) -> dict[str, int]:
        with self._tables.lock:
            self._tables.check_open()
            return dict(self._tables.counts.get(owner, {}))  # kept with every write

    def _matching(self, owner: str | None, states: Collection[str] | None,
                  archived: bool | None) -> list[Application]:
        names = state_names(states)
        archived_condition(archived)  # the same refusal as the SQL stores'
        with self._tables.lock:
            self._tables.check_open()
            pool = (
                self._tables.apps.values()
                if owner is None
                else [self._tables.apps[i] for i in self._tables.by_owner.get(owner, {})]
            )
            return [
                app
                for app in pool
                if (owner is None or app.owner == owner) and (names is None or app.state in names)
                and (archived is None or (app.archived_at is not None) == archived)
            ]

    def stale_applications(
        self, fingerprint: str, *, limit: int, after: str | None = None
    ) -> list[tuple[str, str]]:
        with self._tables.lock:
            self._tables.check_open()
            found = sorted((app.id, app.owner) for app in self._tables.apps.values()
                           if app.archived_at is None and app.planned_by != fingerprint
                           and app.id > (after or ""))
        return [(owner, app_id) for app_id, owner in found[:max(limit, 0)]]

    def due_timers(self, now: datetime, *, limit: int = 1000) -> list[Timer]:
        now = utc(now)
        with self._tables.lock:
            self._tables.check_open()
            due = itertools.islice(self._tables.timeline.due(now), max(limit, 0))
            return [self._tables.timers[key] for key in due]

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
        with self._tables.lock:
            self._tables.check_open()
            timers_of, timeline = self._tables.timers_of, self._tables.timeline
            if application_id is not None:
                keys = timers_of.get(
                    ("", owner) if application_id == "" and owner is not None else application_id,
                    set())
                if application_id == "" and owner is None:
                    keys = {k for i, ks in timers_of.items() if type(i) is tuple for k in ks}
                found = [self._tables.timers[key] for key in keys]
            else:
                found = [self._tables.timers[key] for key in timeline.between(start, end)]
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
        with self._tables.lock:
            self._tables.check_open()
            return [row.delivery() for row in self._tables.due_rows(now, limit)]

    def deliveries(self, *, owner: str | None = None, status: str | None = None) -> list[Delivery]:
        with self._tables.lock:
            self._tables.check_open()
            found = [
                row
                for row in self._tables.outbox.values()
                if (owner is None or row.notification.owner == owner)
                and (status is None or row.status == status)
            ]
            found.sort(key=_OutboxRow.order)
            return [row.delivery() for row in found]

    def get_owner(self, owner_id: str) -> Owner | None:
        with self._tables.lock:
            self._tables.check_open()
            return self._tables.owners.get(owner_id)

    def get_owners(self, owner_ids: Iterable[str]) -> dict[str, Owner]:
        with self._tables.lock:
            self._tables.check_open()
            owners = self._tables.owners
            return {i: owners[i] for i in owner_ids if i in owners}

    # -- writes ------------------------------------------------------------------------

    def commit(self, change: Change) -> Application:
        return self.commit_many((change,))[0]

    def commit_many(self, changes: Sequence[Change]) -> list[Application]:
        if not changes:
            return []
        # Check and encode everything first; then apply what can no longer fail.
        batch = gather(changes)
        history = [_history_entry(entry) for entry in batch.history]
        timers = {key: None if t is None else _timer(t) for key, t in batch.timers.items()}
        outbox = [row for n in batch.notifications for row in _outbox_rows(n)]
        with self._tables.lock:
            self._tables.check_open()
            apps = self._tables.apps
            stored = {i: apps[i].version for i in batch.ids if i in apps}
            results, final = stamp(changes, stored)
            rows = [_copy(app) for app, _ in final.values()]
            results = [_copy(app) for app in results]
            for entry in history:
                if entry.seq in self._tables.history.get(entry.application_id, ()):
                    raise InputError(
                        f"history entry {entry.seq} of application {entry.application_id!r} "
                        "already exists: history only grows; number new entries from the "
                        "length of the loaded history"
                    )
            for app in rows:
                self._tables.put_application(app)
                self._tables.history.setdefault(app.id, {})
            for entry in history:
                entries = self._tables.history[entry.application_id]
                if entries and entry.seq < next(reversed(entries)):
                    # Entries given out of order: keep the dict in seq order, so that a
                    # load reads it as it is.
                    entries[entry.seq] = entry
                    ordered = sorted(entries.items())
                    entries.clear()
                    entries.update(ordered)
                else:
                    entries[entry.seq] = entry
            for key, timer in timers.items():
                self._tables.drop_timer(key)
                if timer is not None:
                    self._tables.add_timer(timer)
            self._tables.add_rows(outbox)
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
        with self._tables.lock:
            self._tables.check_open()
            for key in timers_removed:
                if key in self._tables.timers and self._tables.timers[key].owner == owner:
                    self._tables.drop_timer(key)
            for timer in added:
                self._tables.drop_timer(timer.key)
                self._tables.add_timer(timer)
            self._tables.add_rows(outbox)

    def delete_application(self, application_id: str, *, owner: str) -> None:
        with self._tables.lock:
            self._owned(application_id, owner)
            self._tables.delete_application(application_id, owner)

    def mark_delivered(self, key: str, channel: str, *, at: datetime) -> None:
        at = utc(at)
        with self._tables.lock:
            self._delivered(self._tables.row(key, channel), at)

    def _delivered(self, row: _OutboxRow, at: datetime) -> None:
        row.status = "delivered"
        row.attempts += 1
        row.delivered_at = at
        row.next_attempt_at = None
        row.claimed_by = None
        n = row.notification
        self._tables.pending.discard((n.key, n.channels[0]))

    def mark_delivered_many(self, rows: Sequence[tuple[str, str]], *, at: datetime) -> None:
        at = utc(at)
        with self._tables.lock:
            self._tables.check_open()
            missing = [row for row in rows if row not in self._tables.outbox]
            if missing:  # checked before anything is marked
                raise InputError(not_in_outbox(rows, missing))
            for row in rows:
                self._delivered(self._tables.outbox[row], at)

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
        with self._tables.lock:
            row = self._tables.row(key, channel)
            row.status = "dead" if dead else "pending"
            row.attempts += 1
            row.last_error = error
            row.next_attempt_at = next_attempt_at
            row.claimed_by = None
            if dead:
                self._tables.pending.discard((key, channel))
            else:
                self._tables.pending.add((key, channel))

    def retry_dead(self, *, owner: str | None = None, key: str | None = None) -> int:
        with self._tables.lock:
            self._tables.check_open()
            count = 0
            for ident, row in self._tables.outbox.items():
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
                    self._tables.pending.add(ident)
                    count += 1
            return count

    def put_owner(self, owner: Owner) -> None:
        check_owner(owner)
        with self._tables.lock:
            self._tables.check_open()
            self._tables.owners[owner.id] = owner

    def publish_calendar(
        self, owner: str, planned: Sequence[CalendarEntry], *, now: datetime, keep: timedelta
    ) -> list[CalendarEntry]:
        with self._tables.lock:
            self._tables.check_open()
            return memory_publish(self._tables.calendar.setdefault(owner, {}), planned, now=now,
                                  keep=keep)

    # -- work shared by many workers, and faults: MemoryWork's ----------------------------

    def claim_delivery(self, key: str, channel: str, *, now: datetime, until: datetime) -> bool:
        return self._work.claim_delivery(key, channel, now=now, until=until)

    def claim_due_timers(
        self, now: datetime, *, worker: str, until: datetime, limit: int = 100
    ) -> list[Timer]:
        return self._work.claim_due_timers(now, worker=worker, until=until, limit=limit)

    def release_timers(
        self, keys: Sequence[str], *, worker: str, until: datetime | None = None
    ) -> None:
        self._work.release_timers(keys, worker=worker, until=until)

    def claim_deliveries(
        self, now: datetime, *, worker: str, until: datetime, limit: int = 100
    ) -> list[Delivery]:
        return self._work.claim_deliveries(now, worker=worker, until=until, limit=limit)

    def renew_claims(self, *, worker: str, now: datetime, until: datetime) -> int:
        return self._work.renew_claims(worker=worker, now=now, until=until)

    def work_status(self, now: datetime) -> WorkStatus:
        return self._work.work_status(now)

    def record_fault(
        self, *, owner: str, application_id: str, error: str, at: datetime, retry_at: datetime
    ) -> Fault:
        return self._work.record_fault(owner=owner, application_id=application_id,
                                       error=error, at=at, retry_at=retry_at)

    def clear_fault(self, *, owner: str, application_id: str) -> None:
        self._work.clear_fault(owner=owner, application_id=application_id)

    def faults(
        self, *, owner: str | None = None, application_id: str | None = None
    ) -> list[Fault]:
        return self._work.faults(owner=owner, application_id=application_id)
