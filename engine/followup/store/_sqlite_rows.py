"""Rows to records and back for the SQLite store: what a write binds, what a read returns.

Instants are kept as text (``to_text``), data and contacts as JSON (``_codec``); the
columns come in the order the statements of ``sql/sqlite/queries.sql`` name them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from followup.errors import InputError
from followup.model import (
    Application,
    Delivery,
    DeliveryStatus,
    Fault,
    HistoryEntry,
    HistoryKind,
    Notification,
    Timer,
    new_timer,
)
from followup.store import _migrations
from followup.store._codec import (
    archived_condition,
    contacts_from_json,
    dump_json,
    facts_from_json,
    from_text,
    load_json,
    state_names,
    to_text,
    where_clause,
    with_condition,
)

_Q = _migrations.queries("sqlite")
_Row = tuple[Any, ...]


def _application_filter(
    owner: str | None, states: Collection[str] | None, archived: bool | None
) -> tuple[str, list[object]]:
    names = state_names(states)
    where, params = where_clause(
        ("owner = ?", owner),
        (
            "state IN (SELECT value FROM json_each(?))",
            None if names is None else dump_json(sorted(names), what="states"),
        ),
    )
    return with_condition(where, archived_condition(archived)), params


def _listing(head: str, owner: str | None, states: Collection[str] | None,
             archived: bool | None) -> tuple[str, list[object]]:
    """A listing of applications: the query ``head`` names, filtered, in the order every
    listing has (``applications`` and ``application_rows`` alike)."""
    where, params = _application_filter(owner, states, archived)
    return f"{_Q[head]}{where} ORDER BY created_at, id", params


def _history_clash(conn: sqlite3.Connection, rows: list[_Row]) -> InputError:
    for row in rows:
        if conn.execute(_Q["history_exists"], row[:2]).fetchone():
            return InputError(
                f"history entry {row[1]} of application {row[0]!r} already exists: history "
                "only grows; number new entries from the length of the loaded history"
            )
    return InputError("a history entry could not be added")  # pragma: no cover


def _opt_text(instant: datetime | None) -> str | None:
    return None if instant is None else to_text(instant)


def _opt_instant(text: str | None) -> datetime | None:
    return None if text is None else from_text(text)


def _application(row: _Row) -> Application:
    (app_id, owner, company, role, state, facts, contacts, created_at, version, archived_at,
     planned_by) = row
    return Application(
        app_id,
        owner,
        company,
        role,
        state,
        facts_from_json(facts),
        contacts_from_json(contacts),
        _opt_instant(created_at),
        version,
        _opt_instant(archived_at),
        planned_by,
    )


def _history_row(entry: HistoryEntry) -> _Row:
    return (
        entry.application_id,
        entry.seq,
        to_text(entry.at),
        entry.kind,
        entry.name,
        entry.contact,
        entry.from_state,
        entry.to_state,
        entry.key,
        dump_json(entry.data, what=f"the data of history entry {entry.seq}"),
    )


def _history_entry(row: _Row) -> HistoryEntry:
    app_id, seq, at, kind, name, contact, from_state, to_state, key, data = row
    return HistoryEntry(
        app_id,
        seq,
        from_text(at),
        cast(HistoryKind, kind),
        name,
        contact,
        from_state,
        to_state,
        key,
        load_json(data),
    )


def _timer_row(timer: Timer) -> _Row:
    return (
        timer.application_id,
        timer.owner,
        timer.key,
        timer.rule,
        timer.action,
        to_text(timer.fire_at),
        _opt_text(timer.due_at),
        timer.contact,
        timer.target,
        timer.occurrence,
    )


def _timer(row: _Row) -> Timer:
    # Without the dataclass's __init__ (model.new_timer): a plan's load, an agenda, a
    # pass over due work read many.
    app_id, owner, key, rule, action, fire_at, due_at, contact, target, occurrence = row
    return new_timer(app_id, owner, key, rule, action, from_text(fire_at),
                     None if due_at is None else from_text(due_at), contact, target,
                     occurrence)


def _outbox_rows(n: Notification) -> list[_Row]:
    """One row per channel; the channel is the last column."""
    head = (
        n.key,
        n.application_id,
        n.owner,
        n.rule,
        to_text(n.created_at),
        n.subject,
        n.body,
        _opt_text(n.due_at),
        n.contact,
        dump_json(n.data, what=f"the data of notification {n.key!r}"),
        _opt_text(n.held_until),  # next_attempt_at: a digest's rows wait for its time
    )
    return [(*head, channel) for channel in n.channels]


def _delivery(row: _Row) -> Delivery:
    (key, app_id, owner, rule, created_at, subject, body, due_at, contact, data) = row[:10]
    channel, status, attempts, next_attempt_at, last_error, delivered_at = row[10:]
    notification = Notification(
        key,
        app_id,
        owner,
        rule,
        from_text(created_at),
        subject,
        body,
        _opt_instant(due_at),
        contact,
        (channel,),
        load_json(data),
    )
    return Delivery(
        notification,
        channel,
        cast(DeliveryStatus, status),
        attempts,
        _opt_instant(next_attempt_at),
        last_error,
        _opt_instant(delivered_at),
    )


def _fault(row: _Row) -> Fault:
    owner, app_id, error, first_at, last_at, attempts, retry_at = row
    return Fault(owner, app_id, error, from_text(first_at), from_text(last_at), attempts,
                 from_text(retry_at))
