"""The default store: one SQLite file, in WAL mode, for one machine and a few processes.

Each ``commit`` and ``commit_many`` is exactly one ``BEGIN IMMEDIATE`` ... ``COMMIT``; the
version check happens inside it, so two processes cannot both win. The schema comes from
the migrations in ``sql/sqlite/`` and the statements from ``sql/sqlite/queries.sql``.

The store has three parts: the file, its connection and transactions (``SQLiteDatabase``,
``_sqlite_db.py``); the records, read and written here; and the work shared by many
workers, with faults (``SQLiteWork``, ``_sqlite_work.py``).

Example::

    with SQLiteStore("followup.db", timeout=2.0) as store:
        record = store.load("app1", owner="ada")
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

from followup.errors import InputError, StoreError, UnknownApplication
from followup.limits import check_owner
from followup.model import (
    AgendaRow,
    Application,
    ApplicationRow,
    Change,
    Delivery,
    Fault,
    HistoryEntry,
    Notification,
    Owner,
    Record,
    Timer,
    WorkStatus,
    replaced,
)
from followup.store import _migrations
from followup.store._calendar import CalendarEntry, sqlite_publish
from followup.store._codec import (
    check_owner_change,
    contacts_to_json,
    dump_json,
    facts_to_json,
    from_text,
    gather,
    gather_records,
    not_in_outbox,
    owner_from_row,
    stamp,
    to_text,
    unknown,
    where_clause,
)
from followup.store._sqlite_db import SQLiteDatabase, Synchronous
from followup.store._sqlite_rows import (
    _application,
    _application_filter,
    _delivery,
    _history_clash,
    _history_entry,
    _history_row,
    _listing,
    _opt_instant,
    _opt_text,
    _outbox_rows,
    _Row,
    _timer,
    _timer_row,
)
from followup.store._sqlite_work import SQLiteWork

__all__ = ["SQLiteStore"]

_Q = _migrations.queries("sqlite")


_INDEXED = ("owner", "state", "created_at", "archived_at", "planned_by")


@functools.cache
def _update_sql(changed: tuple[int, ...]) -> str:
    """The update of an application's row that SETs the indexed columns ``changed``
    (positions in ``_INDEXED``) besides the others: leaving an unchanged indexed column
    out spares rewriting its index's entry."""
    sets = "".join(f", {_INDEXED[i]} = ?" for i in changed)
    return f"{_Q['update_application_head'].rstrip()}{sets} WHERE id = ? AND version = ?"


class SQLiteStore:
    """A ``Store`` in one SQLite file, created (mode 0600) and migrated when opened.

    ``timeout`` is how many seconds to wait for another process's write to finish before
    giving up with ``StoreError``. One store may be shared between threads.
    ``synchronous``: ``"normal"`` (the default; a power loss may drop the last commits,
    never corrupt the file) or ``"full"`` (nothing committed is lost, at a cost per
    commit): see ``SQLiteDatabase``. A file without write permission is opened
    read-only (``read_only``): reads work, writes are a ``StoreError``.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 5.0,
                 synchronous: Synchronous = "normal") -> None:
        self._db = SQLiteDatabase(path, timeout=timeout, synchronous=synchronous)
        self.read_only = self._db.read_only
        self.path = self._db.path
        self._work = SQLiteWork(self._db)
        try:
            self.applied = self.migrate()  # the versions this opening applied
        except BaseException:
            self.close()
            raise

    @property
    def _conn(self) -> sqlite3.Connection | None:
        """The open connection (``None`` once closed); tests read its settings."""
        return self._db.conn

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks; return the versions applied."""
        return self._db.migrate()

    def close(self) -> None:
        """Close the connection; the store is unusable afterwards. Closing twice is fine."""
        self._db.close()

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
        with self._db.reading("loading from", snapshot=True) as conn:
            return self._load(conn, application_id, owner)

    def load_with_owner(self, application_id: str, *, owner: str | None = None
                        ) -> tuple[Record, dict[str, int], bool]:
        with self._db.reading("loading from", snapshot=True) as conn:
            record = self._load(conn, application_id, owner)
            mine = record.application.owner
            counts = conn.execute(_Q["count_by_state"], (mine,)).fetchall()
            (waits,) = conn.execute(_Q["replan_waits"], (mine,)).fetchone()
        return record, {state: count for state, count in counts}, bool(waits)

    def _load(self, conn: sqlite3.Connection, application_id: str, owner: str | None
              ) -> Record:
        app = self._owned(conn, application_id, owner)
        history = conn.execute(_Q["history_of"], (application_id,)).fetchall()
        timers = conn.execute(_Q["timers_of"], (app.owner, application_id)).fetchall()
        return Record(
            app,
            tuple(_history_entry(row) for row in history),
            tuple(_timer(row) for row in timers),
        )

    def load_many(self, application_ids: Sequence[str], *, owner: str | None = None
                  ) -> list[Record]:
        ids = dump_json(list(application_ids), what="ids")
        with self._db.reading("loading from", snapshot=True) as conn:
            apps = [_application(row) for row in conn.execute(_Q["applications_of"], (ids,))]
            history = conn.execute(_Q["history_of_many"], (ids,)).fetchall()
            timers = conn.execute(_Q["timers_of_many"], (ids,)).fetchall()
        return gather_records(apps, map(_history_entry, history), map(_timer, timers),
                              application_ids, owner)

    def history(self, application_id: str, *, owner: str | None = None) -> list[HistoryEntry]:
        with self._db.reading("reading history from", snapshot=True) as conn:
            self._owned(conn, application_id, owner)
            rows = conn.execute(_Q["history_of"], (application_id,)).fetchall()
        return [_history_entry(row) for row in rows]

    def _owned(self, conn: sqlite3.Connection, app_id: str, owner: str | None) -> Application:
        row = conn.execute(_Q["application"], (app_id,)).fetchone()
        if row is None or (owner is not None and row[1] != owner):
            raise UnknownApplication(unknown(app_id, owner))
        return _application(row)

    def applications(
        self, *, owner: str | None = None, states: Collection[str] | None = None,
        archived: bool | None = False,
    ) -> list[Application]:
        sql, params = _listing("applications_head", owner, states, archived)
        with self._db.reading("listing applications in") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [_application(row) for row in rows]

    def application_rows(
        self, *, owner: str | None = None, states: Collection[str] | None = None,
        archived: bool | None = False,
    ) -> list[ApplicationRow]:
        sql, params = _listing("application_rows_head", owner, states, archived)
        with self._db.reading("listing applications in") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [(app_id, state, role, company, _opt_instant(created_at),
                 _opt_instant(archived_at))
                for app_id, state, role, company, created_at, archived_at in rows]

    def count_applications(
        self, *, owner: str | None = None, states: Collection[str] | None = None,
        archived: bool | None = False,
    ) -> int:
        where, params = _application_filter(owner, states, archived)
        with self._db.reading("counting applications in") as conn:
            (count,) = conn.execute(_Q["count_applications_head"] + where, params).fetchone()
        return int(count)

    def count_by_state(self, *, owner: str) -> dict[str, int]:
        with self._db.reading("counting applications in") as conn:
            rows = conn.execute(_Q["count_by_state"], (owner,)).fetchall()
        return {state: count for state, count in rows}

    def stale_applications(
        self, fingerprint: str, *, limit: int, after: str | None = None
    ) -> list[tuple[str, str]]:
        params = (fingerprint, after or "", fingerprint, after or "", max(limit, 0))
        with self._db.reading("looking for applications to re-plan in") as conn:
            rows = conn.execute(_Q["stale_applications"], params).fetchall()
        return [(owner, app_id) for owner, app_id in rows]

    def due_timers(self, now: datetime, *, limit: int = 1000) -> list[Timer]:
        params = (to_text(now), max(limit, 0))
        with self._db.reading("reading due timers from") as conn:
            rows = conn.execute(_Q["due_timers"], params).fetchall()
        return [_timer(row) for row in rows]

    def timers(
        self,
        *,
        owner: str | None = None,
        application_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Timer]:
        where, params = where_clause(
            ("owner = ?", owner),
            # The index of timers begins with the owner: an application's is its row's.
            ("owner = (SELECT owner FROM applications WHERE id = ?)",
             application_id if owner is None and application_id else None),
            ("application_id = ?", application_id),
            ("fire_at >= ?", None if start is None else to_text(start)),
            ("fire_at < ?", None if end is None else to_text(end)),
        )
        sql = f"{_Q['timers_head']}{where} ORDER BY fire_at, key"
        with self._db.reading("reading timers from") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [_timer(row) for row in rows]

    def agenda_rows(self, *, owner: str, start: datetime | None = None,
                    end: datetime | None = None) -> list[AgendaRow]:
        sql, params = _Q["agenda_rows_head"], [owner]
        if start is not None:
            sql += " AND t.fire_at >= ?"
            params.append(to_text(start))
        if end is not None:
            sql += " AND t.fire_at < ?"
            params.append(to_text(end))
        sql += " ORDER BY t.fire_at, t.key"
        with self._db.reading("reading the agenda from") as conn:
            rows = conn.execute(sql, params).fetchall()
        # Many lines share an instant (from_text remembers each): no records are made.
        return [(from_text(fire_at), None if due_at is None else from_text(due_at), *rest)
                for fire_at, due_at, *rest in rows]

    def pending_deliveries(self, now: datetime, *, limit: int = 100) -> list[Delivery]:
        params = (to_text(now), max(limit, 0))
        with self._db.reading("reading the outbox of") as conn:
            rows = conn.execute(_Q["pending_deliveries"], params).fetchall()
        return [_delivery(row) for row in rows]

    def deliveries(self, *, owner: str | None = None, status: str | None = None) -> list[Delivery]:
        where, params = where_clause(("owner = ?", owner), ("status = ?", status))
        sql = f"{_Q['deliveries_head']}{where} ORDER BY created_at, key, channel"
        with self._db.reading("reading the outbox of") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [_delivery(row) for row in rows]

    def get_owner(self, owner_id: str) -> Owner | None:
        with self._db.reading("reading owners from") as conn:
            row = conn.execute(_Q["get_owner"], (owner_id,)).fetchone()
        return None if row is None else owner_from_row(row)

    def get_owners(self, owner_ids: Iterable[str]) -> dict[str, Owner]:
        ids = list(dict.fromkeys(owner_ids))
        with self._db.reading("reading owners from") as conn:
            rows = conn.execute(_Q["get_owners"], (dump_json(ids, what="owner ids"),)).fetchall()
        return {row[0]: owner_from_row(row) for row in rows}

    # -- writes ------------------------------------------------------------------------

    def commit(self, change: Change) -> Application:
        return self._commit((change,))[0][0]

    def commit_many(self, changes: Sequence[Change]) -> list[Application]:
        if not changes:
            return []
        return self._commit(changes)[0]

    def commit_many_claiming(self, changes: Sequence[Change], *, worker: str,
                             until: datetime) -> tuple[list[Application], list[Delivery]]:
        if not changes:
            return [], []
        return self._commit(changes, (worker, until))

    def _commit(self, changes: Sequence[Change], claim: tuple[str, datetime] | None = None
                ) -> tuple[list[Application], list[Delivery]]:
        """The applications as stored, and the outbox rows taken for ``claim``'s worker
        until its instant (see ``commit_many_claiming``; none without ``claim``)."""
        # Everything that needs no stored data is checked and encoded before the lock.
        batch = gather(changes)
        history = [_history_row(entry) for entry in batch.history]
        removed = [(key,) for key, timer in batch.timers.items() if timer is None]
        added = [_timer_row(timer) for timer in batch.timers.values() if timer is not None]
        notifications = batch.notifications
        taking: list[Notification] = []
        if claim is not None:  # what goes out at once is taken as it is written
            taking = [n for n in notifications if n.held_until is None]
            notifications = [n for n in notifications if n.held_until is not None]
        outbox = [row for n in notifications for row in _outbox_rows(n)]
        with self._db.writing("committing to") as conn:
            results = self._write_applications(conn, changes, batch.ids)
            if history:
                try:
                    conn.executemany(_Q["insert_history"], history)
                except sqlite3.IntegrityError as exc:
                    raise _history_clash(conn, history) from exc
            if removed:
                conn.executemany(_Q["delete_timer"], removed)
            if added:
                conn.executemany(_Q["put_timer"], added)
            if outbox:
                conn.executemany(_Q["insert_outbox"], outbox)
            taken = _insert_claimed(conn, taking, *claim) if claim is not None else []
        return results, taken

    def commit_owner(
        self,
        owner: str,
        *,
        timers_removed: Sequence[str] = (),
        timers_added: Sequence[Timer] = (),
        notifications: Sequence[Notification] = (),
    ) -> None:
        check_owner_change(owner, timers_added, notifications)
        removed = [(key, owner) for key in timers_removed]
        added = [_timer_row(timer) for timer in timers_added]
        outbox = [row for n in notifications for row in _outbox_rows(n)]
        with self._db.writing("committing to") as conn:
            if removed:
                conn.executemany(_Q["delete_owner_timer"], removed)
            if added:
                conn.executemany(_Q["put_timer"], added)
            if outbox:
                conn.executemany(_Q["insert_outbox"], outbox)

    def _write_applications(
        self, conn: sqlite3.Connection, changes: Sequence[Change], ids: list[str]
    ) -> list[Application]:
        """Check the versions and write the rows; the applications as each change left them."""
        if len(ids) == 1:
            cursor = conn.execute(_Q["stored_of_one"], ids)
        else:
            cursor = conn.execute(_Q["stored_of_many"], (dump_json(ids, what="ids"),))
        # id -> version, then the indexed columns: owner, state, created_at, archived_at,
        # planned_by
        stored = {row[0]: row[1:] for row in cursor}
        results, final = stamp(changes, {app_id: row[0] for app_id, row in stored.items()})
        inserts: list[_Row] = []
        # The indexed columns whose values change -> the rows of such updates.
        updates: dict[tuple[int, ...], list[_Row]] = {}
        for app, base in final.values():
            facts = facts_to_json(app.facts, what=f"the facts of application {app.id!r}")
            contacts = contacts_to_json(app.contacts)
            created_at = _opt_text(app.created_at)
            archived_at = _opt_text(app.archived_at)
            indexed = (app.owner, app.state, created_at, archived_at, app.planned_by)
            if base is None:
                inserts.append((app.owner, app.company, app.role, app.state, facts, contacts,
                                created_at, archived_at, app.planned_by, app.version, app.id))
                continue
            changed = tuple(i for i, (old, new) in enumerate(zip(stored[app.id][1:], indexed,
                                                                  strict=True)) if old != new)
            updates.setdefault(changed, []).append(
                (app.company, app.role, facts, contacts, app.version,
                 *(indexed[i] for i in changed), app.id, base))
        if inserts:
            conn.executemany(_Q["insert_application"], inserts)
        written = 0
        for changed, rows in updates.items():
            written += conn.executemany(_update_sql(changed), rows).rowcount
        # The versions were checked under this transaction's lock; this only guards.
        if written != sum(len(rows) for rows in updates.values()):
            raise StoreError(f"an application changed during a commit to {self.path}")
        return results

    def delete_application(self, application_id: str, *, owner: str) -> None:
        with self._db.writing("deleting an application from") as conn:
            self._owned(conn, application_id, owner)
            # History first: its rows refer to the application's.
            conn.execute(_Q["delete_history"], (application_id,))
            conn.execute(_Q["delete_timers"], (owner, application_id))
            conn.execute(_Q["delete_undelivered"], (application_id,))
            conn.execute(_Q["delete_calendar_entries"], (owner, application_id))
            conn.execute(_Q["delete_faults"], (owner, application_id))
            conn.execute(_Q["delete_application"], (application_id, owner))

    def mark_delivered(self, key: str, channel: str, *, at: datetime) -> None:
        self._update_delivery(_Q["mark_delivered"], (to_text(at), key, channel), key, channel)

    def mark_delivered_many(self, rows: Sequence[tuple[str, str]], *, at: datetime) -> None:
        if not rows:
            return
        when = to_text(at)
        with self._db.writing("updating the outbox of") as conn:
            count = conn.executemany(_Q["mark_delivered"],
                                     [(when, key, channel) for key, channel in rows]).rowcount
            if count != len(rows):  # raised inside the transaction: nothing is marked
                raise InputError(not_in_outbox(rows, [
                    row for row in rows
                    if conn.execute(_Q["outbox_row_exists"], row).fetchone() is None]))

    def mark_failed(
        self,
        key: str,
        channel: str,
        *,
        error: str,
        next_attempt_at: datetime | None,
        dead: bool,
    ) -> None:
        params = (
            "dead" if dead else "pending",
            error,
            None if next_attempt_at is None else to_text(next_attempt_at),
            key,
            channel,
        )
        self._update_delivery(_Q["mark_failed"], params, key, channel)

    def _update_delivery(self, sql: str, params: _Row, key: str, channel: str) -> None:
        with self._db.writing("updating the outbox of") as conn:
            if conn.execute(sql, params).rowcount == 0:
                raise InputError(f"no notification {key!r} for channel {channel!r} in the outbox")

    def retry_dead(self, *, owner: str | None = None, key: str | None = None) -> int:
        where, params = where_clause(("status = ?", "dead"), ("owner = ?", owner),
                                     ("key = ?", key))
        sql = _Q["retry_dead_head"] + where
        with self._db.writing("updating the outbox of") as conn:
            return conn.execute(sql, params).rowcount

    def put_owner(self, owner: Owner) -> None:
        check_owner(owner)
        channels = None if owner.channels is None else dump_json(
            list(owner.channels), what=f"the channels of owner {owner.id!r}")
        quiet = dump_json(list(owner.quiet_hours), what=f"the quiet hours of owner "
                          f"{owner.id!r}") if owner.quiet_hours else None
        params = (owner.id, owner.timezone, owner.country, owner.subdivision, channels,
                  owner.digest, quiet, int(owner.looking))
        with self._db.writing("saving an owner to") as conn:
            conn.execute(_Q["put_owner"], params)


    def publish_calendar(
        self, owner: str, planned: Sequence[CalendarEntry], *, now: datetime, keep: timedelta
    ) -> list[CalendarEntry]:
        with self._db.writing("saving the calendar of an owner to") as conn:
            return sqlite_publish(conn, owner, planned, now=now, keep=keep)

    # -- work shared by many workers, and faults: SQLiteWork's ----------------------------

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


def _insert_claimed(conn: sqlite3.Connection, notifications: Sequence[Notification],
                    worker: str, until: datetime) -> list[Delivery]:
    """Write the outbox rows of ``notifications`` held for ``worker`` until ``until`` (as
    ``claim_deliveries`` leaves a row it takes); return each row written: a (key,
    channel) already in the outbox is neither written nor taken."""
    lease = to_text(until)
    rows = [(n, channel, (*head, lease, channel, worker))
            for n in notifications for *head, _held, channel in _outbox_rows(n)]
    if not rows:
        return []
    # All of them at once; should one be in the outbox already (the count says so),
    # undo that and write them one by one, to learn which went in.
    conn.execute("SAVEPOINT claiming")
    if conn.executemany(_Q["insert_outbox_claimed"], [row for *_, row in rows]
                        ).rowcount == len(rows):
        conn.execute("RELEASE claiming")
        written = rows
    else:
        conn.execute("ROLLBACK TO claiming")
        conn.execute("RELEASE claiming")
        written = [(n, channel, row) for n, channel, row in rows
                   if conn.execute(_Q["insert_outbox_claimed"], row).rowcount == 1]
    # A row's notification is the one committed when it has that one channel.
    return [Delivery(n if n.channels == (channel,) else replaced(n, channels=(channel,)),
                     channel, next_attempt_at=until) for n, channel, _row in written]
