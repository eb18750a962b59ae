"""The store for many workers on many machines: one PostgreSQL database (psycopg 3).

Each commit is one transaction that first locks the applications it changes (in id
order) and checks their versions, so two writers of one application never both win: the
second gets ``ConflictError`` and the engine applies its event again on the new state.
Due timers and outbox rows are claimed with ``FOR UPDATE SKIP LOCKED``, in batches, under
a lease; a commit that arms timers or adds outbox rows wakes waiting workers with
``NOTIFY followup_work``. The schema comes from the migrations in ``sql/postgresql/``,
applied by ``followup migrate`` (or ``PostgresStore(url, migrate=True)``).

The store has three parts: its connections and transactions (``PostgresDatabase``,
``_postgres_db.py``); the records, read and written here; and the work shared by many
workers, with faults (``PostgresWork``, ``_postgres_work.py``).

Needs the ``postgresql`` extra: ``pip install 'followup-engine[postgresql]'``.

Example::

    with PostgresStore("postgresql://app@db.example/followup", migrate=True) as store:
        record = store.load("app1", owner="ada")
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, LiteralString, Self, cast

from followup.errors import ConflictError, InputError, StoreError, UnknownApplication
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
)
from followup.store import _migrations
from followup.store._calendar import CalendarEntry, postgres_publish
from followup.store._codec import (
    check_owner_change,
    dump_json,
    gather,
    gather_records,
    not_in_outbox,
    owner_from_row,
    stamp,
    unknown,
    utc,
    where_clause,
)
from followup.store._postgres_db import CHANNEL as CHANNEL  # what LISTEN/NOTIFY wakes workers on
from followup.store._postgres_db import PostgresDatabase
from followup.store._postgres_driver import _driver, _history_clash
from followup.store._postgres_driver import describe as describe  # the CLI imports it from here
from followup.store._postgres_rows import (
    _application,
    _application_filter,
    _application_row,
    _delivery,
    _history_entry,
    _history_row,
    _listing,
    _load,
    _one,
    _outbox_rows,
    _owned,
    _Row,
    _timer,
    _timer_row,
)
from followup.store._postgres_work import PostgresWork

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresStore"]

_Q = _migrations.queries("postgresql")


class PostgresStore:
    """A ``Store`` in a PostgreSQL database, shared by any number of processes.

    ``url`` is a libpq connection string or URI (``postgresql://user@host:5432/db``;
    ``?options=-csearch_path%3Dmyschema`` picks a schema). ``migrate``: bring the schema
    up to date when opening; otherwise a database that lacks migrations is refused with
    a clear error (run ``followup migrate``). ``timeout``: seconds to wait for the
    server when connecting. One store may be shared between threads.
    """

    def __init__(self, url: str, *, migrate: bool = False, timeout: float = 10.0) -> None:
        self.url = url
        self._db = PostgresDatabase(url, timeout=timeout)
        self.where = self._db.where
        self._work = PostgresWork(self._db)
        self.applied: list[int] = []  # the versions this opening applied
        try:
            if migrate:
                self.applied = self.migrate()
            else:
                self._db.check_schema()
        except BaseException:
            self.close()
            raise

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks; return the versions applied."""
        return self._db.migrate()

    def close(self) -> None:
        """Close the connections; the store is unusable afterwards. Closing twice is fine."""
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

    def wait_for_work(self, timeout: float) -> bool:
        """Block until a commit announces new work (NOTIFY) or ``timeout`` seconds
        pass; True if woken. The first call starts listening on its own connection."""
        return self._db.wait_for_work(timeout)

    # -- reads -------------------------------------------------------------------------

    def load(self, application_id: str, *, owner: str | None = None) -> Record:
        return self._db.read("loading from",
                             lambda cur: _load(cur, application_id, owner), snapshot=True)

    def load_with_owner(self, application_id: str, *, owner: str | None = None
                        ) -> tuple[Record, dict[str, int], bool]:
        def work(cur: psycopg.Cursor[Any]) -> tuple[Record, dict[str, int], bool]:
            record = _load(cur, application_id, owner)
            mine = record.application.owner
            counts = {state: int(count)
                      for state, count in cur.execute(_Q["count_by_state"], (mine,))}
            waits = _one(cur.execute(_Q["replan_waits"], (mine,)))
            return record, counts, bool(waits[0])

        return self._db.read("loading from", work, snapshot=True)

    def load_many(self, application_ids: Sequence[str], *, owner: str | None = None
                  ) -> list[Record]:
        ids = list(application_ids)

        def work(cur: psycopg.Cursor[Any]) -> list[Record]:
            apps = [_application(r) for r in cur.execute(_Q["applications_of"], (ids,))]
            history = map(_history_entry, cur.execute(_Q["history_of_many"], (ids,)).fetchall())
            timers = map(_timer, cur.execute(_Q["timers_of_many"], (ids,)).fetchall())
            return gather_records(apps, history, timers, ids, owner)

        return self._db.read("loading from", work, snapshot=True)

    def history(self, application_id: str, *, owner: str | None = None) -> list[HistoryEntry]:
        def work(cur: psycopg.Cursor[Any]) -> list[HistoryEntry]:
            _owned(cur, application_id, owner)
            return [_history_entry(r) for r in cur.execute(_Q["history_of"], (application_id,))]

        return self._db.read("reading history from", work, snapshot=True)

    def applications(
        self, *, owner: str | None = None, states: Collection[str] | None = None,
        archived: bool | None = False,
    ) -> list[Application]:
        sql, params = _listing("applications_head", owner, states, archived)
        return self._db.read("listing applications in",
                             lambda cur: [_application(r) for r in cur.execute(sql, params)])

    def application_rows(
        self, *, owner: str | None = None, states: Collection[str] | None = None,
        archived: bool | None = False,
    ) -> list[ApplicationRow]:
        sql, params = _listing("application_rows_head", owner, states, archived)
        return self._db.read("listing applications in", lambda cur: [
            cast(ApplicationRow, tuple(r)) for r in cur.execute(sql, params)])

    def count_applications(
        self, *, owner: str | None = None, states: Collection[str] | None = None,
        archived: bool | None = False,
    ) -> int:
        where, params = _application_filter(owner, states, archived)
        sql = _Q["count_applications_head"] + where
        return self._db.read("counting applications in",
                             lambda cur: int(_one(cur.execute(sql, params))[0]))

    def count_by_state(self, *, owner: str) -> dict[str, int]:
        return self._db.read("counting applications in", lambda cur: {
            state: int(count) for state, count in cur.execute(_Q["count_by_state"], (owner,))})

    def stale_applications(
        self, fingerprint: str, *, limit: int, after: str | None = None
    ) -> list[tuple[str, str]]:
        params = {"fingerprint": fingerprint, "after": after or "", "limit": max(limit, 0)}
        return self._db.read("looking for applications to re-plan in", lambda cur: [
            (owner, app_id) for owner, app_id in cur.execute(_Q["stale_applications"], params)])

    def due_timers(self, now: datetime, *, limit: int = 1000) -> list[Timer]:
        params = (utc(now), max(limit, 0))
        return self._db.read("reading due timers from",
                             lambda cur: [_timer(r) for r in cur.execute(_Q["due_timers"], params)])

    def timers(
        self,
        *,
        owner: str | None = None,
        application_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Timer]:
        where, params = where_clause(
            ("owner = %s", owner),
            ("application_id = %s", application_id),
            ("fire_at >= %s", None if start is None else utc(start)),
            ("fire_at < %s", None if end is None else utc(end)),
        )
        sql = f"{_Q['timers_head']}{where} ORDER BY fire_at, key"
        return self._db.read("reading timers from",
                             lambda cur: [_timer(r) for r in cur.execute(sql, params)])

    def agenda_rows(self, *, owner: str, start: datetime | None = None,
                    end: datetime | None = None) -> list[AgendaRow]:
        sql, params = _Q["agenda_rows_head"], list[object]([owner])
        if start is not None:
            sql += " AND t.fire_at >= %s"
            params.append(utc(start))
        if end is not None:
            sql += " AND t.fire_at < %s"
            params.append(utc(end))
        sql += " ORDER BY t.fire_at, t.key"
        return self._db.read("reading the agenda from", lambda cur: [
            cast(AgendaRow, tuple(r)) for r in cur.execute(sql, params)])

    def pending_deliveries(self, now: datetime, *, limit: int = 100) -> list[Delivery]:
        params = (utc(now), max(limit, 0))
        return self._db.read("reading the outbox of", lambda cur: [
            _delivery(r) for r in cur.execute(_Q["pending_deliveries"], params)])

    def deliveries(self, *, owner: str | None = None, status: str | None = None) -> list[Delivery]:
        where, params = where_clause(("owner = %s", owner), ("status = %s", status))
        sql = f"{_Q['deliveries_head']}{where} ORDER BY created_at, key, channel"
        return self._db.read("reading the outbox of",
                             lambda cur: [_delivery(r) for r in cur.execute(sql, params)])

    def get_owner(self, owner_id: str) -> Owner | None:
        row = self._db.read("reading owners from",
                            lambda cur: cur.execute(_Q["get_owner"], (owner_id,)).fetchone())
        return None if row is None else owner_from_row(row)

    def get_owners(self, owner_ids: Iterable[str]) -> dict[str, Owner]:
        ids = list(dict.fromkeys(owner_ids))
        rows = self._db.read("reading owners from",
                             lambda cur: cur.execute(_Q["get_owners"], (ids,)).fetchall())
        return {row[0]: owner_from_row(row) for row in rows}

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
        removed = [key for key, timer in batch.timers.items() if timer is None]
        added = [_timer_row(timer) for timer in batch.timers.values() if timer is not None]
        outbox = [row for n in batch.notifications for row in _outbox_rows(n)]
        rows = {app.id: _application_row(app) for app in (c.application for c in changes)}
        pg = _driver()

        def work(cur: psycopg.Cursor[Any]) -> list[Application]:
            stored = dict(cur.execute(_Q["lock_stored"], (batch.ids,)).fetchall())
            results, final = stamp(changes, stored)
            inserts = [(*rows[a.id], a.version, a.id) for a, base in final.values()
                       if base is None]
            updates = [(*rows[a.id], a.version, a.id, base) for a, base in final.values()
                       if base is not None]
            try:
                if inserts:
                    cur.execute(_Q["insert_applications"], _columns(inserts))
            except pg.errors.UniqueViolation as exc:
                raise ConflictError(
                    "another writer created the same application at the same moment; load "
                    "it and retry") from exc
            if updates:  # counted: the rows are locked, so this only guards
                cur.execute(_Q["update_applications"], _columns(updates))
                if cur.rowcount != len(updates):
                    raise StoreError(f"{len(updates) - cur.rowcount} of {len(updates)} "
                                     "applications changed during a commit")
            if history:
                try:
                    cur.execute(_Q["insert_history"], _columns(history))
                except pg.errors.UniqueViolation as exc:
                    raise _history_clash(exc) from exc
            if removed:
                cur.execute(_Q["delete_timer"], (removed,))
            _write_work(cur, added, outbox)
            return results

        return self._db.run("committing to", work)

    def commit_owner(
        self,
        owner: str,
        *,
        timers_removed: Sequence[str] = (),
        timers_added: Sequence[Timer] = (),
        notifications: Sequence[Notification] = (),
    ) -> None:
        check_owner_change(owner, timers_added, notifications)
        removed = list(timers_removed)
        # One row per key, the last given (as one write after another would leave it):
        # one statement may not upsert a row twice.
        added = list({timer.key: _timer_row(timer) for timer in timers_added}.values())
        outbox = [row for n in notifications for row in _outbox_rows(n)]

        def work(cur: psycopg.Cursor[Any]) -> None:
            if removed:
                cur.execute(_Q["delete_owner_timer"], (removed, owner))
            _write_work(cur, added, outbox)

        self._db.run("committing to", work)

    def delete_application(self, application_id: str, *, owner: str) -> None:
        def work(cur: psycopg.Cursor[Any]) -> None:
            # Locked first: a commit to it waits, then finds it gone (ConflictError).
            row = cur.execute(_Q["lock_application"], (application_id,)).fetchone()
            if row is None or row[0] != owner:
                raise UnknownApplication(unknown(application_id, owner))
            for name, params in (("delete_history", (application_id,)),
                                 ("delete_timers", (application_id,)),
                                 ("delete_undelivered", (application_id,)),
                                 ("delete_calendar_entries", (owner, application_id)),
                                 ("delete_faults", (owner, application_id)),
                                 ("delete_application", (application_id, owner))):
                cur.execute(_Q[name], params)

        self._db.run("deleting an application from", work)

    def mark_delivered(self, key: str, channel: str, *, at: datetime) -> None:
        self._update_delivery(_Q["mark_delivered"], (utc(at), key, channel), key, channel)

    def mark_delivered_many(self, rows: Sequence[tuple[str, str]], *, at: datetime) -> None:
        if not rows:
            return
        when = utc(at)
        keys, channels = _columns(rows)

        def work(cur: psycopg.Cursor[Any]) -> None:
            cur.execute(_Q["mark_delivered_many"], (when, keys, channels))
            if cur.rowcount != len(set(rows)):  # raised inside the transaction: nothing marked
                missing = [row for row in rows
                           if cur.execute(_Q["outbox_row_exists"], row).fetchone() is None]
                raise InputError(not_in_outbox(rows, missing))

        self._db.run("updating the outbox of", work)

    def mark_failed(
        self,
        key: str,
        channel: str,
        *,
        error: str,
        next_attempt_at: datetime | None,
        dead: bool,
    ) -> None:
        params = ("dead" if dead else "pending", error,
                  None if next_attempt_at is None else utc(next_attempt_at), key, channel)
        self._update_delivery(_Q["mark_failed"], params, key, channel)

    def _update_delivery(self, sql: LiteralString, params: _Row, key: str, channel: str) -> None:
        count = self._db.run("updating the outbox of",
                             lambda cur: cur.execute(sql, params).rowcount)
        if count == 0:
            raise InputError(f"no notification {key!r} for channel {channel!r} in the outbox")

    def retry_dead(self, *, owner: str | None = None, key: str | None = None) -> int:
        where, params = where_clause(("status = %s", "dead"), ("owner = %s", owner),
                                     ("key = %s", key))
        sql = _Q["retry_dead_head"] + where

        def work(cur: psycopg.Cursor[Any]) -> int:
            count = cur.execute(sql, params).rowcount
            if count:
                cur.execute(_Q["notify_work"])
            return count

        return self._db.run("updating the outbox of", work)

    def put_owner(self, owner: Owner) -> None:
        check_owner(owner)
        channels = None if owner.channels is None else dump_json(
            list(owner.channels), what=f"the channels of owner {owner.id!r}")
        quiet = dump_json(list(owner.quiet_hours), what=f"the quiet hours of owner "
                          f"{owner.id!r}") if owner.quiet_hours else None
        params = (owner.id, owner.timezone, owner.country, owner.subdivision, channels,
                  owner.digest, quiet, owner.looking)
        self._db.run("saving an owner to", lambda cur: cur.execute(_Q["put_owner"], params))

    def publish_calendar(
        self, owner: str, planned: Sequence[CalendarEntry], *, now: datetime, keep: timedelta
    ) -> list[CalendarEntry]:
        return self._db.run("saving the calendar of an owner to",
                            lambda cur: postgres_publish(cur, owner, planned, now=now,
                                                         keep=keep))

    # -- work shared by many workers, and faults: PostgresWork's --------------------------

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


def _columns(rows: Iterable[Sequence[object]]) -> list[list[object]]:
    """Rows as one list per column: the parameters of a statement that writes them all
    at once (``unnest``, in queries.sql)."""
    return [list(column) for column in zip(*rows, strict=True)]


def _write_work(cur: psycopg.Cursor[Any], added: list[_Row], outbox: list[_Row]) -> None:
    """Timers stored and outbox rows added; waiting workers are told."""
    if added:
        cur.execute(_Q["put_timer"], _columns(added))
    if outbox:
        cur.execute(_Q["insert_outbox"], _columns(outbox))
    if added or outbox:
        cur.execute(_Q["notify_work"])
