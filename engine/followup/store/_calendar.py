"""What an owner's calendar last showed of each reminder, kept so that its ``SEQUENCE``
only grows: the record, the rule that brings it up to date, and that rule on each store.

An iCalendar client keeps the version of an event with the highest ``SEQUENCE`` (RFC 5545
3.8.7.4), so a number that fell would leave the old time in the calendar. The number
cannot be derived from the reminder (an earlier design used its fire time, which falls
when a reminder moves earlier): it is a count, stored, and the stores change it only
through ``Store.publish_calendar``, whose rule is ``reconcile`` here, the same on each.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast

from followup.errors import InputError
from followup.store import _migrations
from followup.store._codec import from_text, to_text, utc

if TYPE_CHECKING:
    import psycopg

__all__ = ["CalendarEntry", "EntryStatus", "memory_publish", "postgres_publish", "reconcile",
           "sqlite_publish"]

EntryStatus = Literal["planned", "cancelled", "passed"]
_STATUSES = ("planned", "cancelled", "passed")


@dataclass(frozen=True)
class CalendarEntry:
    """One reminder as an owner's calendar shows it.

    The caller gives ``uid``, ``start`` (when it fires) and ``content`` (what it says, as
    text the store only compares and keeps); the store answers with the rest:
    ``sequence`` (0 at first, one more at each change), ``status`` (``planned``; or, once
    it left the plan, ``cancelled`` if its time had not come, ``passed`` if it had),
    ``changed_at`` (the last change) and ``ended_at`` (when it left the plan).
    ``application_id``: the application the reminder belongs to (``None`` for an
    owner-level one), given by the caller and kept, so that
    ``Store.delete_application`` deletes its entries; it is no part of what the
    calendar shows, and a change of it alone does not change the sequence.
    """

    uid: str
    start: datetime
    content: str
    sequence: int = 0
    status: EntryStatus = "planned"
    changed_at: datetime | None = None
    ended_at: datetime | None = None
    application_id: str | None = None


def reconcile(
    stored: Mapping[str, CalendarEntry],
    planned: Sequence[CalendarEntry],
    *,
    now: datetime,
    keep: timedelta,
) -> tuple[list[CalendarEntry], list[str], list[CalendarEntry]]:
    """What to write and delete, and the owner's entries after: the rule of
    ``Store.publish_calendar``.

    A planned entry that is new gets sequence 0; one whose start or content differs
    from what is stored, or that comes back after it left, gets one more. A stored
    entry missing from ``planned`` leaves the plan: ``cancelled`` (one more) when its
    start is still to come, else ``passed`` (unchanged: it went off). An entry that
    left more than ``keep`` before ``now`` is deleted.
    """
    now = utc(now)
    seen: set[str] = set()
    writes: list[CalendarEntry] = []
    after: dict[str, CalendarEntry] = {}
    for entry in planned:
        if entry.uid in seen:
            raise InputError(f"the calendar entry {entry.uid!r} is given twice")
        seen.add(entry.uid)
        start = utc(entry.start)
        old = stored.get(entry.uid)
        if old is None:
            new = CalendarEntry(entry.uid, start, entry.content, 0, "planned", now, None,
                                entry.application_id)
        elif old.start == start and old.content == entry.content and old.status == "planned":
            if old.application_id == entry.application_id:
                after[entry.uid] = old
                continue
            # Only whose it is was learned (an entry recorded before it was kept).
            new = replace(old, application_id=entry.application_id)
        else:
            new = CalendarEntry(entry.uid, start, entry.content, old.sequence + 1,
                                "planned", now, None, entry.application_id)
        writes.append(new)
        after[entry.uid] = new
    deletes: list[str] = []
    for uid, old in stored.items():
        if uid in seen:
            continue
        if old.status == "planned":
            if old.start > now:
                old = replace(old, sequence=old.sequence + 1, status="cancelled",
                              changed_at=now, ended_at=now)
            else:
                old = replace(old, status="passed", ended_at=now)
            writes.append(old)
        if old.ended_at is not None and old.ended_at < now - keep:
            deletes.append(uid)
            writes = [w for w in writes if w.uid != uid]
            continue
        after[uid] = old
    return writes, deletes, sorted(after.values(), key=lambda e: (e.start, e.uid))


def _entry(uid: str, start: datetime, content: str, sequence: int, status: str,
           changed_at: datetime, ended_at: datetime | None,
           application_id: str | None) -> CalendarEntry:
    if status not in _STATUSES:
        raise InputError(f"calendar entry {uid!r} has the unknown status {status!r}")
    return CalendarEntry(uid, utc(start), content, int(sequence),
                         cast("EntryStatus", status), utc(changed_at),
                         None if ended_at is None else utc(ended_at), application_id)


# -- on each store -------------------------------------------------------------------


def memory_publish(stored: dict[str, CalendarEntry], planned: Sequence[CalendarEntry], *,
                   now: datetime, keep: timedelta) -> list[CalendarEntry]:
    """``reconcile`` on ``stored`` (one owner's entries by uid), changed in place."""
    writes, deletes, after = reconcile(stored, planned, now=now, keep=keep)
    stored.update((entry.uid, entry) for entry in writes)
    for uid in deletes:
        del stored[uid]
    return after


_SQ = _migrations.queries("sqlite")
_PQ = _migrations.queries("postgresql")


def sqlite_publish(conn: sqlite3.Connection, owner: str, planned: Sequence[CalendarEntry],
                   *, now: datetime, keep: timedelta) -> list[CalendarEntry]:
    """``reconcile`` in the write transaction open on ``conn``."""
    stored = {
        uid: _entry(uid, from_text(start), content, seq, status, from_text(changed),
                    None if ended is None else from_text(ended), app_id)
        for uid, start, content, seq, status, changed, ended, app_id
        in conn.execute(_SQ["calendar_entries"], (owner,)).fetchall()}
    writes, deletes, after = reconcile(stored, planned, now=now, keep=keep)
    conn.executemany(_SQ["calendar_put"], [
        (owner, e.uid, to_text(e.start), e.content, e.sequence, e.status,
         to_text(e.changed_at or now), None if e.ended_at is None else to_text(e.ended_at),
         e.application_id)
        for e in writes])
    conn.executemany(_SQ["calendar_forget"], [(owner, uid) for uid in deletes])
    return after


def postgres_publish(cur: psycopg.Cursor[Any], owner: str, planned: Sequence[CalendarEntry],
                     *, now: datetime, keep: timedelta) -> list[CalendarEntry]:
    """``reconcile`` in the transaction open on ``cur``, under a lock of the owner's."""
    cur.execute(_PQ["calendar_lock"], (owner,))
    stored = {row[0]: _entry(*row)
              for row in cur.execute(_PQ["calendar_entries"], (owner,)).fetchall()}
    writes, deletes, after = reconcile(stored, planned, now=now, keep=keep)
    if writes:
        cur.executemany(_PQ["calendar_put"], [
            (owner, e.uid, e.start, e.content, e.sequence, e.status, e.changed_at or now,
             e.ended_at, e.application_id) for e in writes])
    if deletes:
        cur.executemany(_PQ["calendar_forget"], [(owner, uid) for uid in deletes])
    return after
