"""The default store: one SQLite file, in WAL mode, for one machine and a few processes.

Each ``commit`` and ``commit_many`` is exactly one ``BEGIN IMMEDIATE`` ... ``COMMIT``; the
version check happens inside it, so two processes cannot both win. The schema comes from
the migrations in ``sql/sqlite/`` and the statements from ``sql/sqlite/queries.sql``.

Example::

    with SQLiteStore("followup.db", timeout=2.0) as store:
        record = store.load("app1", owner="ada")
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from followup.errors import InputError, StoreError, UnknownApplication
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
from followup.store import _migrations
from followup.store._codec import (
    FORGET_WORKERS_AFTER,
    check_owner_change,
    contacts_to_json,
    dump_json,
    facts_to_json,
    from_text,
    gather,
    load_json,
    stamp,
    to_text,
    unknown,
    where_clause,
    work_status,
)
from followup.store._sqlite_rows import (
    _application,
    _application_filter,
    _delivery,
    _fault,
    _history_clash,
    _history_entry,
    _history_row,
    _opt_text,
    _outbox_rows,
    _Row,
    _timer,
    _timer_row,
)

__all__ = ["SQLiteStore"]

_Q = _migrations.queries("sqlite")


class SQLiteStore:
    """A ``Store`` in one SQLite file, created (mode 0600) and migrated when opened.

    ``timeout`` is how many seconds to wait for another process's write to finish before
    giving up with ``StoreError``. One store may be shared between threads.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 5.0) -> None:
        self.path = Path(path)
        self._timeout = timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._create_file()
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=timeout,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=64,
            )
        except sqlite3.Error as exc:
            raise self._error("opening", exc) from exc
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode survives a process crash; only power loss can drop the
            # last commits, and never corrupts the file.
            conn.execute("PRAGMA synchronous = NORMAL")
            # A checkpoint (copying the WAL back into the file, with an fsync) every
            # 10,000 pages instead of SQLite's 1,000: batches of commits run about 12%
            # faster (bench 2.4); the WAL grows to about 40 MB and is cut back to 64 MB
            # at most after each checkpoint.
            conn.execute("PRAGMA wal_autocheckpoint = 10000")
            conn.execute("PRAGMA journal_size_limit = 67108864")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {max(0, int(timeout * 1000))}")
        except sqlite3.Error as exc:
            conn.close()
            raise self._error("opening", exc) from exc
        self._conn = conn
        try:
            self.applied = self.migrate()  # the versions this opening applied
        except BaseException:
            self.close()
            raise

    def _create_file(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StoreError(f"cannot create the database file {self.path}: {exc}") from exc

    # -- the connection and its transactions ------------------------------------------

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks; return the versions applied."""
        with self._lock:
            conn = self._connection()
            try:
                return _migrations.apply_sqlite(conn, str(self.path))
            except sqlite3.Error as exc:
                raise self._error("migrating", exc) from exc

    def close(self) -> None:
        """Close the connection; the store is unusable afterwards. Closing twice is fine."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the store on {self.path} is closed")
        return self._conn

    def _error(self, what: str, exc: sqlite3.Error) -> StoreError:
        if _migrations.is_busy(exc):
            return StoreError(
                f"{what} {self.path} failed: the file is in use by another process, which "
                f"held it locked for more than {self._timeout:g}s; try again, or stop the "
                "other process"
            )
        if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
            return StoreError(f"{what} {self.path} failed: it is not a SQLite database file")
        name = getattr(exc, "sqlite_errorname", "")
        if name == "SQLITE_FULL" or name == "SQLITE_IOERR_WRITE":
            # A full disk, or a file not allowed to grow (a quota, a file size limit):
            # SQLite says only "disk I/O error" for the second.
            return StoreError(
                f"{what} {self.path} failed: {exc}: the disk may be full or the file may not "
                f"grow any larger ({_free_space(self.path)}); make room and try again. "
                "What was committed before is kept; nothing of this attempt was written"
            )
        return StoreError(f"{what} {self.path} failed: {exc}")

    @contextmanager
    def _reading(self, what: str, *, snapshot: bool = False) -> Iterator[sqlite3.Connection]:
        """The connection for reads; ``snapshot`` wraps them in one read transaction."""
        with self._lock:
            conn = self._connection()
            try:
                if snapshot:
                    conn.execute("BEGIN")
                try:
                    yield conn
                finally:
                    if conn.in_transaction:
                        conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._error(what, exc) from exc

    @contextmanager
    def _writing(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed if the block ends well, else rolled back."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise self._error(what, exc) from exc

    # -- reads -------------------------------------------------------------------------

    def load(self, application_id: str, *, owner: str | None = None) -> Record:
        with self._reading("loading from", snapshot=True) as conn:
            app = self._owned(conn, application_id, owner)
            history = conn.execute(_Q["history_of"], (application_id,)).fetchall()
            timers = conn.execute(_Q["timers_of"], (application_id,)).fetchall()
        return Record(
            app,
            tuple(_history_entry(row) for row in history),
            tuple(_timer(row) for row in timers),
        )

    def history(self, application_id: str, *, owner: str | None = None) -> list[HistoryEntry]:
        with self._reading("reading history from", snapshot=True) as conn:
            self._owned(conn, application_id, owner)
            rows = conn.execute(_Q["history_of"], (application_id,)).fetchall()
        return [_history_entry(row) for row in rows]

    def _owned(self, conn: sqlite3.Connection, app_id: str, owner: str | None) -> Application:
        row = conn.execute(_Q["application"], (app_id,)).fetchone()
        if row is None or (owner is not None and row[1] != owner):
            raise UnknownApplication(unknown(app_id, owner))
        return _application(row)

    def applications(
        self, *, owner: str | None = None, states: Collection[str] | None = None
    ) -> list[Application]:
        where, params = _application_filter(owner, states)
        sql = f"{_Q['applications_head']}{where} ORDER BY created_at, id"
        with self._reading("listing applications in") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [_application(row) for row in rows]

    def count_applications(
        self, *, owner: str | None = None, states: Collection[str] | None = None
    ) -> int:
        where, params = _application_filter(owner, states)
        with self._reading("counting applications in") as conn:
            (count,) = conn.execute(_Q["count_applications_head"] + where, params).fetchone()
        return int(count)

    def count_by_state(self, *, owner: str) -> dict[str, int]:
        with self._reading("counting applications in") as conn:
            rows = conn.execute(_Q["count_by_state"], (owner,)).fetchall()
        return {state: count for state, count in rows}

    def due_timers(self, now: datetime, *, limit: int = 1000) -> list[Timer]:
        params = (to_text(now), max(limit, 0))
        with self._reading("reading due timers from") as conn:
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
            ("application_id = ?", application_id),
            ("fire_at >= ?", None if start is None else to_text(start)),
            ("fire_at < ?", None if end is None else to_text(end)),
        )
        sql = f"{_Q['timers_head']}{where} ORDER BY fire_at, key"
        with self._reading("reading timers from") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [_timer(row) for row in rows]

    def pending_deliveries(self, now: datetime, *, limit: int = 100) -> list[Delivery]:
        params = (to_text(now), max(limit, 0))
        with self._reading("reading the outbox of") as conn:
            rows = conn.execute(_Q["pending_deliveries"], params).fetchall()
        return [_delivery(row) for row in rows]

    def deliveries(self, *, owner: str | None = None, status: str | None = None) -> list[Delivery]:
        where, params = where_clause(("owner = ?", owner), ("status = ?", status))
        sql = f"{_Q['deliveries_head']}{where} ORDER BY created_at, key, channel"
        with self._reading("reading the outbox of") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [_delivery(row) for row in rows]

    def get_owner(self, owner_id: str) -> Owner | None:
        with self._reading("reading owners from") as conn:
            row = conn.execute(_Q["get_owner"], (owner_id,)).fetchone()
        if row is None:
            return None
        owner_id, timezone, country, subdivision, channels, digest, quiet = row
        return Owner(owner_id, timezone, country, subdivision,
                     None if channels is None else tuple(load_json(channels)), digest,
                     () if quiet is None else tuple(load_json(quiet)))

    # -- writes ------------------------------------------------------------------------

    def commit(self, change: Change) -> Application:
        return self._commit((change,))[0]

    def commit_many(self, changes: Sequence[Change]) -> list[Application]:
        if not changes:
            return []
        return self._commit(changes)

    def _commit(self, changes: Sequence[Change]) -> list[Application]:
        # Everything that needs no stored data is checked and encoded before the lock.
        batch = gather(changes)
        history = [_history_row(entry) for entry in batch.history]
        removed = [(key,) for key, timer in batch.timers.items() if timer is None]
        added = [_timer_row(timer) for timer in batch.timers.values() if timer is not None]
        outbox = [row for n in batch.notifications for row in _outbox_rows(n)]
        with self._writing("committing to") as conn:
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
        removed = [(key, owner) for key in timers_removed]
        added = [_timer_row(timer) for timer in timers_added]
        outbox = [row for n in notifications for row in _outbox_rows(n)]
        with self._writing("committing to") as conn:
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
        stored = {row[0]: row[1:] for row in cursor}  # id -> version, owner, state, created_at
        results, final = stamp(changes, {app_id: row[0] for app_id, row in stored.items()})
        inserts: list[_Row] = []
        updates: list[_Row] = []
        body_updates: list[_Row] = []
        for app, base in final.values():
            facts = facts_to_json(app.facts, what=f"the facts of application {app.id!r}")
            contacts = contacts_to_json(app.contacts)
            created_at = _opt_text(app.created_at)
            row = (app.owner, app.company, app.role, app.state, facts, contacts, created_at)
            if base is None:
                inserts.append((*row, app.version, app.id))
            elif stored[app.id][1:] == (app.owner, app.state, created_at):
                # Leaving indexed columns out of the SET spares rewriting their index pages.
                body = (app.company, app.role, facts, contacts)
                body_updates.append((*body, app.version, app.id, base))
            else:
                updates.append((*row, app.version, app.id, base))
        if inserts:
            conn.executemany(_Q["insert_application"], inserts)
        written = 0
        if updates:
            written += conn.executemany(_Q["update_application"], updates).rowcount
        if body_updates:
            written += conn.executemany(_Q["update_application_body"], body_updates).rowcount
        # The versions were checked under this transaction's lock; this only guards.
        if written != len(updates) + len(body_updates):
            raise StoreError(f"an application changed during a commit to {self.path}")
        return results

    def mark_delivered(self, key: str, channel: str, *, at: datetime) -> None:
        self._update_delivery(_Q["mark_delivered"], (to_text(at), key, channel), key, channel)

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

    def claim_delivery(self, key: str, channel: str, *, now: datetime, until: datetime) -> bool:
        params = (to_text(until), key, channel, to_text(now))
        with self._writing("claiming a row of the outbox of") as conn:
            return bool(conn.execute(_Q["claim_delivery"], params).rowcount == 1)

    # -- work shared by many workers ---------------------------------------------------

    def claim_due_timers(
        self, now: datetime, *, worker: str, until: datetime, limit: int = 100
    ) -> list[Timer]:
        at = to_text(now)
        params = (worker, to_text(until), at, at, max(limit, 0))
        with self._writing("claiming due timers in") as conn:
            rows = conn.execute(_Q["claim_due_timers"], params).fetchall()
        return sorted((_timer(row) for row in rows), key=lambda t: (t.fire_at, t.key))

    def release_timers(
        self, keys: Sequence[str], *, worker: str, until: datetime | None = None
    ) -> None:
        if not keys:
            return
        lease = _opt_text(until)
        with self._writing("releasing timers in") as conn:
            conn.executemany(_Q["release_timer"], [(lease, key, worker) for key in keys])

    def claim_deliveries(
        self, now: datetime, *, worker: str, until: datetime, limit: int = 100
    ) -> list[Delivery]:
        params = (to_text(until), worker, to_text(now), max(limit, 0))
        with self._writing("claiming rows of the outbox of") as conn:
            rows = conn.execute(_Q["claim_deliveries"], params).fetchall()
        found = [_delivery(row) for row in rows]
        found.sort(key=lambda d: (d.notification.created_at, d.notification.key, d.channel))
        return found

    def renew_claims(self, *, worker: str, now: datetime, until: datetime) -> int:
        lease = to_text(until)
        with self._writing("renewing the claims in") as conn:
            conn.execute(_Q["worker_seen"], (worker, to_text(now)))
            conn.execute(_Q["forget_workers"], (to_text(now - FORGET_WORKERS_AFTER),))
            count = conn.execute(_Q["renew_timers"], (lease, worker)).rowcount
            count += conn.execute(_Q["renew_deliveries"], (lease, worker)).rowcount
        return count

    def work_status(self, now: datetime) -> WorkStatus:
        at = to_text(now)
        with self._reading("reading the work queue of", snapshot=True) as conn:
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
        with self._writing("recording a fault in") as conn:
            row = conn.execute(_Q["record_fault"], params).fetchone()
        return _fault(row)

    def clear_fault(self, *, owner: str, application_id: str) -> None:
        with self._writing("clearing a fault in") as conn:
            conn.execute(_Q["clear_fault"], (owner, application_id))

    def faults(
        self, *, owner: str | None = None, application_id: str | None = None
    ) -> list[Fault]:
        where, params = where_clause(("owner = ?", owner),
                                     ("application_id = ?", application_id))
        sql = f"{_Q['faults_head']}{where} ORDER BY first_at, owner, application_id"
        with self._reading("reading the faults in") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [_fault(row) for row in rows]

    def _update_delivery(self, sql: str, params: _Row, key: str, channel: str) -> None:
        with self._writing("updating the outbox of") as conn:
            if conn.execute(sql, params).rowcount == 0:
                raise InputError(f"no notification {key!r} for channel {channel!r} in the outbox")

    def retry_dead(self, *, owner: str | None = None, key: str | None = None) -> int:
        where, params = where_clause(("status = ?", "dead"), ("owner = ?", owner),
                                     ("key = ?", key))
        sql = _Q["retry_dead_head"] + where
        with self._writing("updating the outbox of") as conn:
            return conn.execute(sql, params).rowcount

    def put_owner(self, owner: Owner) -> None:
        channels = None if owner.channels is None else dump_json(
            list(owner.channels), what=f"the channels of owner {owner.id!r}")
        quiet = dump_json(list(owner.quiet_hours), what=f"the quiet hours of owner "
                          f"{owner.id!r}") if owner.quiet_hours else None
        params = (owner.id, owner.timezone, owner.country, owner.subdivision, channels,
                  owner.digest, quiet)
        with self._writing("saving an owner to") as conn:
            conn.execute(_Q["put_owner"], params)


def _free_space(path: Path) -> str:
    """How much room the disk holding ``path`` has left, for a message."""
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return "the free space could not be read"
    if free >= 1 << 30:
        return f"{free / (1 << 30):.1f} GB free on its disk"
    return f"{free / (1 << 20):.1f} MB free on its disk"
