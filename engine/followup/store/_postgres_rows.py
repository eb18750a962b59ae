"""Rows to records and back for the PostgreSQL store: what a write binds, what a read returns.

Instants go to the driver as aware UTC datetimes (``utc``) and come back as such; data
and contacts are kept as JSON (``_codec``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any, LiteralString, cast

from followup.errors import StoreError, UnknownApplication
from followup.model import (
    Application,
    Delivery,
    DeliveryStatus,
    Fault,
    HistoryEntry,
    HistoryKind,
    Notification,
    Record,
    Timer,
    new_timer,
)
from followup.store import _migrations
from followup.store._codec import (
    archived_condition,
    contacts_from_json,
    contacts_to_json,
    dump_json,
    facts_from_json,
    load_json,
    state_names,
    unknown,
    utc,
    where_clause,
    with_condition,
)

if TYPE_CHECKING:
    import psycopg

_Q = _migrations.queries("postgresql")
_Row = tuple[Any, ...]


def _one(cur: psycopg.Cursor[Any]) -> _Row:
    row = cur.fetchone()
    if row is None:  # pragma: no cover - an aggregate always answers
        raise StoreError("the database returned no row for an aggregate query")
    return cast(_Row, row)


def _owned(cur: psycopg.Cursor[Any], app_id: str, owner: str | None) -> Application:
    row = cur.execute(_Q["application"], (app_id,)).fetchone()
    if row is None or (owner is not None and row[1] != owner):
        raise UnknownApplication(unknown(app_id, owner))
    return _application(row)


def _load(cur: psycopg.Cursor[Any], app_id: str, owner: str | None) -> Record:
    """``Store.load``'s reads, in the caller's snapshot."""
    app = _owned(cur, app_id, owner)
    history = cur.execute(_Q["history_of"], (app_id,)).fetchall()
    timers = cur.execute(_Q["timers_of"], (app_id,)).fetchall()
    return Record(app, tuple(map(_history_entry, history)), tuple(map(_timer, timers)))


def _application_filter(
    owner: str | None, states: Collection[str] | None, archived: bool | None
) -> tuple[LiteralString, list[object]]:
    names = state_names(states)
    where, params = where_clause(("owner = %s", owner),
                                 ("state = ANY(%s)", None if names is None else sorted(names)))
    return with_condition(where, archived_condition(archived)), params


def _listing(head: str, owner: str | None, states: Collection[str] | None,
             archived: bool | None) -> tuple[LiteralString, list[object]]:
    """A listing of applications: the query ``head`` names, filtered, in the order every
    listing has (``applications`` and ``application_rows`` alike)."""
    where, params = _application_filter(owner, states, archived)
    return f"{_Q[head]}{where} ORDER BY created_at NULLS FIRST, id", params


def _opt_utc(instant: datetime | None) -> datetime | None:
    return None if instant is None else utc(instant)


def _application_row(app: Application) -> _Row:
    facts = dump_json(app.facts, what=f"the facts of application {app.id!r}")
    return (app.owner, app.company, app.role, app.state, facts, contacts_to_json(app.contacts),
            _opt_utc(app.created_at), _opt_utc(app.archived_at), app.planned_by)


def _application(row: _Row) -> Application:
    (app_id, owner, company, role, state, facts, contacts, created_at, version, archived_at,
     planned_by) = row
    return Application(app_id, owner, company, role, state, facts_from_json(facts),
                       contacts_from_json(contacts), created_at, version, archived_at,
                       planned_by)


def _history_row(entry: HistoryEntry) -> _Row:
    return (entry.application_id, entry.seq, utc(entry.at), entry.kind, entry.name,
            entry.contact, entry.from_state, entry.to_state, entry.key,
            dump_json(entry.data, what=f"the data of history entry {entry.seq}"))


def _history_entry(row: _Row) -> HistoryEntry:
    app_id, seq, at, kind, name, contact, from_state, to_state, key, data = row
    return HistoryEntry(app_id, seq, at, cast(HistoryKind, kind), name, contact, from_state,
                        to_state, key, load_json(data))


def _timer_row(timer: Timer) -> _Row:
    return (timer.application_id, timer.owner, timer.key, timer.rule, timer.action,
            utc(timer.fire_at), _opt_utc(timer.due_at), timer.contact, timer.target,
            timer.occurrence)


def _timer(row: _Row) -> Timer:
    app_id, owner, key, rule, action, fire_at, due_at, contact, target, occurrence = row
    return new_timer(app_id, owner, key, rule, action, fire_at, due_at, contact, target,
                     occurrence)  # without the dataclass's __init__, as SQLite's rows


def _outbox_rows(n: Notification) -> list[_Row]:
    """One row per channel; the channel is the last column."""
    head = (n.key, n.application_id, n.owner, n.rule, utc(n.created_at), n.subject, n.body,
            _opt_utc(n.due_at), n.contact,
            dump_json(n.data, what=f"the data of notification {n.key!r}"),
            _opt_utc(n.held_until))  # next_attempt_at: a digest's rows wait for its time
    return [(*head, channel) for channel in n.channels]


def _delivery(row: _Row) -> Delivery:
    (key, app_id, owner, rule, created_at, subject, body, due_at, contact, data) = row[:10]
    channel, status, attempts, next_attempt_at, last_error, delivered_at = row[10:]
    notification = Notification(key, app_id, owner, rule, created_at, subject, body, due_at,
                                contact, (channel,), load_json(data))
    return Delivery(notification, channel, cast(DeliveryStatus, status), attempts,
                    next_attempt_at, last_error, delivered_at)


def _fault(row: _Row) -> Fault:
    owner, app_id, error, first_at, last_at, attempts, retry_at = row
    return Fault(owner, app_id, error, first_at, last_at, attempts, retry_at)
