"""What every store does the same way: instants as text, JSON, and checking changes.

The stores share these so that they cannot drift apart: an instant is kept in UTC as
``2026-12-23T20:00:00.000000Z`` (fixed width, so text order is time order), free-form data
is kept as JSON (so the in-memory store accepts exactly what SQLite accepts), and a batch
of changes is checked and reduced to its net effect the same way before any store writes.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from typing import Any, LiteralString

from followup.errors import ConflictError, InputError
from followup.limits import (
    EARLIEST,
    LATEST,
    TEXT_MAX,
    check_application,
    check_day,
    check_text,
    texts_fine,
)
from followup.model import (
    Application,
    Change,
    Contact,
    FrozenDict,
    HistoryEntry,
    Notification,
    Owner,
    Record,
    Timer,
    WorkerStatus,
    WorkStatus,
    freeze,
    replaced,
)

__all__ = [
    "FORGET_WORKERS_AFTER",
    "Batch",
    "archived_condition",
    "check_owner_change",
    "contacts_from_json",
    "contacts_to_json",
    "dump_json",
    "facts_from_json",
    "facts_to_json",
    "from_text",
    "gather",
    "gather_records",
    "load_json",
    "next_version",
    "not_in_outbox",
    "stamp",
    "state_names",
    "to_text",
    "unknown",
    "utc",
    "where_clause",
    "with_condition",
    "work_status",
]

# One encoder, built once: json.dumps with options builds a new encoder on every call.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def utc(instant: datetime) -> datetime:
    """``instant`` as an aware UTC datetime; a naive one is refused."""
    if instant.tzinfo is UTC:
        return instant
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InputError(
            f"naive datetime {instant.isoformat()}: followup keeps instants in UTC and "
            "needs to know which instant you mean; pass an aware datetime (tzinfo=UTC)"
        )
    try:
        return instant.astimezone(UTC)
    except OverflowError as exc:
        raise InputError(f"{instant.isoformat()} is out of range in UTC") from exc


def to_text(instant: datetime) -> str:
    """The stored form of an instant: UTC with microseconds, e.g. ``...T20:00:00.000000Z``.

    >>> to_text(datetime(2026, 12, 23, 20, 0, tzinfo=UTC))
    '2026-12-23T20:00:00.000000Z'
    """
    # This runs for every instant of every row written, and the same instants recur (an
    # application's created_at on each commit, the "now" of a tick, a deadline's 17:00):
    # remember recent ones. Only UTC ones: two local times that differ only in ``fold``
    # compare equal, though they are an hour apart.
    if instant.tzinfo is not UTC:
        return _format(instant)
    text = _texts.get(instant)
    if text is None:
        text = _format(instant)
        if len(_texts) >= 8192:
            _texts.clear()
        _texts[instant] = text
    return text


_texts: dict[datetime, str] = {}


def _format(instant: datetime) -> str:
    utc_instant = utc(instant)
    # isoformat() of a UTC instant ends in "+00:00" and leaves out a zero fraction; it is
    # much faster than isoformat(timespec=...) or strftime.
    text = utc_instant.isoformat()[:-6]
    return text + "Z" if utc_instant.microsecond else text + ".000000Z"


def from_text(text: str) -> datetime:
    """An instant read back from its stored form, as an aware UTC datetime. Recent ones
    are remembered, as ``to_text`` remembers them (a datetime is immutable): the same
    instants come back in every row read (the moment a batch of reminders was due, a
    deadline's close of business, an application's creation at each of its loads)."""
    found = _instants.get(text)
    if found is None:
        found = datetime.fromisoformat(text)
        if len(_instants) >= 8192:
            _instants.clear()
        _instants[text] = found
    return found


_instants: dict[str, datetime] = {}


def dump_json(value: Any, *, what: str) -> str:
    """``value`` as compact JSON; ``what`` names it in the error if it cannot be."""
    if not value:
        if isinstance(value, dict):
            return "{}"
        if isinstance(value, list | tuple):
            return "[]"
    try:
        return _encode(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} cannot be stored as JSON: {exc}") from exc


def facts_to_json(facts: Mapping[str, str], *, what: str) -> str:
    """An application's facts as JSON. They seldom change between two commits of one
    application, so their text is remembered by content (names and values, in order).
    Only all-text facts are remembered: a text never equals a number, so a hit is exact
    (whereas 1, 1.0 and True are equal keys with different JSON)."""
    if not facts:
        return "{}"
    try:
        key = tuple(facts.items())
        text = _facts_texts.get(key)
    except TypeError:  # a value that cannot be a key cannot be stored either
        return dump_json(facts, what=what)
    if text is None:
        text = dump_json(facts, what=what)
        if all(type(value) is str for _, value in key):
            if len(_facts_texts) >= 4096:
                _facts_texts.clear()
            _facts_texts[key] = text
    return text


_facts_texts: dict[tuple[tuple[str, str], ...], str] = {}


def not_in_outbox(rows: Sequence[tuple[str, str]], missing: Sequence[tuple[str, str]]) -> str:
    """The error of ``mark_delivered_many`` when some rows are not in the outbox."""
    key, channel = (missing or rows)[0]
    return (f"no notification {key!r} for channel {channel!r} in the outbox (of "
            f"{len(rows)} rows marked delivered together, {len(missing)} are not there; "
            "none was marked)")


def owner_from_row(row: Sequence[Any]) -> Owner:
    """An owner's settings from a row of the SQL stores' ``get_owner`` (id, timezone,
    country, subdivision, channels, digest, quiet_hours, looking)."""
    owner_id, timezone, country, subdivision, channels, digest, quiet, looking = row
    return Owner(owner_id, timezone, country, subdivision,
                 None if channels is None else tuple(load_json(channels)), digest,
                 () if quiet is None else tuple(load_json(quiet)), bool(looking))


def load_json(text: str) -> Any:
    """A value written by ``dump_json``, frozen (``followup.model.freeze``): records hold
    it as it is, and hand it out to every reader without a copy. Frozen values can be
    shared, so a text read again gives the value it gave before (remembered for 4,096
    short texts): most history entries carry the same few small objects."""
    found = _json_read.get(text)
    if found is None:
        found = freeze(json.loads(text))
        if len(text) <= 256:
            if len(_json_read) >= 4096:
                _json_read.clear()
                _json_read["{}"] = _NO_DATA
            _json_read[text] = found
    return found


def facts_from_json(text: str) -> FrozenDict[str, str]:
    """An application's facts as ``facts_to_json`` wrote them. Frozen facts are shared
    values, so one text read again gives the very mapping it gave before (remembered
    for 4,096 texts): loading an application seldom decodes its facts."""
    facts = _facts_read.get(text)
    if facts is None:
        facts = _NO_DATA if text == "{}" else freeze(json.loads(text))
        if len(_facts_read) >= 4096:
            _facts_read.clear()
            _facts_read["{}"] = _NO_DATA
        _facts_read[text] = facts
    return facts


_NO_DATA: FrozenDict[str, Any] = FrozenDict()
_facts_read: dict[str, FrozenDict[str, str]] = {}
_json_read: dict[str, Any] = {"{}": _NO_DATA}


def contacts_to_json(contacts: tuple[Contact, ...]) -> str:
    """An application's contacts as a JSON array of objects."""
    if not contacts:
        return "[]"
    try:
        return _contacts_json(contacts)
    except (TypeError, ValueError) as exc:
        raise InputError(f"contacts cannot be stored as JSON: {exc}") from exc


# Contacts rarely change between two commits of an application; they are immutable and
# hashable, so their JSON is remembered rather than encoded on every commit.
@lru_cache(maxsize=4096)
def _contacts_json(contacts: tuple[Contact, ...]) -> str:
    return _encode([c.to_dict() for c in contacts])


@lru_cache(maxsize=4096)
def contacts_from_json(text: str) -> tuple[Contact, ...]:
    """Contacts written by ``contacts_to_json``. Remembered, as their JSON is: an
    application read for each of its events gets the very same (immutable) contacts back,
    which the check of its texts then knows (``followup.limits``)."""
    if text == "[]":
        return ()
    return tuple(Contact.from_dict(fields) for fields in json.loads(text))


def state_names(states: Collection[str] | None) -> frozenset[str] | None:
    """A ``states=`` filter as a set; a bare string is refused, not read letter by letter."""
    if states is None:
        return None
    if isinstance(states, str):
        raise InputError(f"states must be a collection of state names, not the string {states!r}")
    return frozenset(states)


@dataclass(frozen=True)
class Batch:
    """The net effect of a sequence of changes, apart from the applications themselves.

    ``timers`` maps each touched key to the timer it ends with, or ``None`` if it ends
    removed. ``notifications`` keep their order; the outbox keeps the first of a
    (key, channel) pair.
    """

    ids: list[str]  # distinct application ids, in the order first seen
    history: list[HistoryEntry]
    timers: dict[str, Timer | None]
    notifications: list[Notification]


def gather(changes: Sequence[Change]) -> Batch:
    """Check what needs no stored data, and reduce ``changes`` to their net effect.

    Raises ``InputError`` for a history entry of another application, a timer of another
    application or owner (an owner's own timer, ``application_id`` "", may go with its
    application's change), a history position given twice, and for text past its
    limit or that no store can keep (see ``followup.limits``), so that every store
    refuses the same.
    """
    ids: dict[str, None] = {}
    history: list[HistoryEntry] = []
    seen: set[tuple[str, int]] = set()
    timers: dict[str, Timer | None] = {}
    notifications: list[Notification] = []
    for change in changes:
        app_id = change.application.id
        check_application(change.application)
        _check_plan_marks(change.application)
        ids[app_id] = None
        for entry in change.history:
            _check_entry(entry)
            if entry.application_id != app_id:
                raise InputError(
                    f"history entry {entry.seq} belongs to application "
                    f"{entry.application_id!r} but is committed with {app_id!r}"
                )
            if (app_id, entry.seq) in seen:
                raise InputError(
                    f"history entry {entry.seq} of application {app_id!r} is given twice"
                )
            seen.add((app_id, entry.seq))
            history.append(entry)
        # Within one change, removals come first: a key both removed and added stays.
        for key in change.timers_removed:
            timers[key] = None
        owner = change.application.owner
        for timer in change.timers_added:
            # The application's own, or its owner's (a re-plan marker goes with a move).
            if timer.application_id not in (app_id, "") or timer.owner != owner:
                raise InputError(
                    f"timer {timer.key!r} belongs to application {timer.application_id!r} "
                    f"of owner {timer.owner!r} but is committed with {app_id!r} of owner "
                    f"{owner!r}")
            timers[timer.key] = timer
        notifications.extend(change.notifications)
    return Batch(list(ids), history, timers, notifications)


def gather_records(apps: Iterable[Application], history: Iterable[HistoryEntry],
                   timers: Iterable[Timer], ids: Iterable[str], owner: str | None
                   ) -> list[Record]:
    """``load_many``'s answer from what a store read: a ``Record`` per application of
    ``ids`` found (and ``owner``'s, when given), in the order of ``ids``, with its
    history in order and its timers earliest first (as read)."""
    by_id = {a.id: a for a in apps if owner is None or a.owner == owner}
    entries: dict[str, list[HistoryEntry]] = {}
    for entry in history:
        entries.setdefault(entry.application_id, []).append(entry)
    armed: dict[str, list[Timer]] = {}
    for timer in timers:
        armed.setdefault(timer.application_id, []).append(timer)
    return [Record(by_id[i], tuple(entries.get(i, ())), tuple(armed.get(i, ())))
            for i in dict.fromkeys(ids) if i in by_id]


def not_text(exc: UnicodeEncodeError) -> InputError:
    """What a driver's failure to encode a value says: some text is not Unicode. (The
    limits refuse such text before a write; this covers a lookup by such a name.)"""
    bad = exc.object[exc.start:exc.end] if isinstance(exc.object, str) else ""
    return InputError(
        f"{bad!a} is not a character, so no store can keep or find text that holds "
        "it: on a command line, this comes from bytes that are not UTF-8 (use a UTF-8 "
        "locale, LANG=C.UTF-8); in a JSON file, from a lone surrogate escape such as "
        "\\ud800")


def _check_plan_marks(app: Application) -> None:
    """When an application was archived is an aware instant inside the calendar, and the
    fingerprint of the pack that planned it is text a store can keep."""
    if app.archived_at is not None:
        utc(app.archived_at)
        check_day(app.archived_at.date(), f"application {app.id!r}: the time it was archived")
    if app.planned_by:
        check_text(app.planned_by, f"application {app.id!r}: the fingerprint of the pack "
                   "that planned it", limit=TEXT_MAX)


def archived_condition(archived: bool | None) -> LiteralString | None:
    """The SQL condition of an ``archived=`` filter: ``False`` (the default of every
    listing) the applications not archived, ``True`` only the archived ones, ``None``
    all of them (no condition)."""
    if archived is None:
        return None
    if type(archived) is not bool:
        raise InputError(f"archived is True, False or None, not {archived!r}")
    return "archived_at IS NOT NULL" if archived else "archived_at IS NULL"


def with_condition(where: LiteralString, condition: LiteralString | None) -> LiteralString:
    """``where`` (from ``where_clause``) with one more condition that takes no value."""
    if condition is None:
        return where
    return f"{where} AND {condition}" if where else f" WHERE {condition}"


def _check_entry(entry: HistoryEntry) -> None:
    """A history entry's own texts (its data is JSON, where a NUL is escaped) can be kept:
    an import brings entries written elsewhere), and its time is inside the calendar."""
    texts = _entry_texts(entry)
    if EARLIEST <= entry.at.date() <= LATEST and texts_fine(texts, TEXT_MAX):
        return  # every commit asks: the messages below are made only for what is refused
    what = f"history entry {entry.seq} of application {entry.application_id!r}"
    check_day(entry.at.date(), f"{what}: its time")
    for field, value in zip(_ENTRY_TEXTS, texts, strict=True):
        check_text(value, f"{what}: its {field.replace('_', ' ')}", limit=TEXT_MAX)


_ENTRY_TEXTS = ("name", "contact", "key", "from_state", "to_state")  # a history entry's own
_entry_texts = attrgetter(*_ENTRY_TEXTS)


def next_version(app_id: str, expected: int | None, stored: int | None) -> int:
    """The version a commit writes, or ``ConflictError`` if ``expected`` is stale."""
    if expected is None:
        if stored is not None:
            raise ConflictError(f"application {app_id!r} already exists (version {stored})")
        return 1
    if stored is None:
        raise ConflictError(
            f"application {app_id!r} does not exist, but the change expects version "
            f"{expected}; create it with expected_version=None"
        )
    if stored != expected:
        raise ConflictError(
            f"application {app_id!r} is at version {stored}, not {expected}: another "
            "writer changed it; load it again and retry"
        )
    return expected + 1


def stamp(
    changes: Sequence[Change], stored: Mapping[str, int]
) -> tuple[list[Application], dict[str, tuple[Application, int | None]]]:
    """Give each change's application its new version, checking it against ``stored``.

    Returns the applications as each change leaves them, and for each application id
    the row to write with the version it replaces (``None``: insert). Changes to the
    same application chain: the second expects the version the first wrote.
    """
    current: dict[str, int | None] = {}
    results: list[Application] = []
    final: dict[str, tuple[Application, int | None]] = {}
    for change in changes:
        app = change.application
        known = current[app.id] if app.id in current else stored.get(app.id)
        version = next_version(app.id, change.expected_version, known)
        current[app.id] = version
        stamped = replaced(app, version=version)
        results.append(stamped)
        final[app.id] = (stamped, final[app.id][1] if app.id in final else known)
    return results, final


def check_owner_change(
    owner: str, timers: Sequence[Timer], notifications: Sequence[Notification]
) -> None:
    """An owner-level change holds only that owner's owner-level timers and notices."""
    for timer in timers:
        if timer.owner != owner or timer.application_id != "":
            raise InputError(
                f"timer {timer.key!r} is not an owner-level timer of {owner!r}: owner-level "
                "timers have application_id '' and the owner's id"
            )
    for n in notifications:
        if n.owner != owner or n.application_id != "":
            raise InputError(
                f"notification {n.key!r} is not an owner-level notification of {owner!r}"
            )


# A worker not seen for this long is dropped from the table of workers at the next
# heartbeat of any worker (its leases ended long before): `followup status` shows the
# workers of today, not every process that ever ran.
FORGET_WORKERS_AFTER = timedelta(days=1)


def where_clause(
    *conditions: tuple[LiteralString, object],
) -> tuple[LiteralString, list[object]]:
    """A SQL WHERE clause of the conditions whose value is given (not ``None``), and the
    values in order: ``where_clause(("owner = ?", "ada"), ("state = ?", None))``."""
    parts: list[LiteralString] = [sql for sql, value in conditions if value is not None]
    params = [value for _, value in conditions if value is not None]
    return (" WHERE " + " AND ".join(parts) if parts else ""), params


def unknown(app_id: str, owner: str | None) -> str:
    """The message of ``UnknownApplication``, the same from every store."""
    return f"no application {app_id!r}" + ("" if owner is None else f" for owner {owner!r}")


def work_status(
    at: datetime,
    *,
    due_timers: int,
    held_timers: Mapping[str, int],
    due_deliveries: int,
    held_deliveries: Mapping[str, int],
    retrying: int,
    dead: int,
    seen: Mapping[str, datetime],
    faults: int = 0,
) -> WorkStatus:
    """The work queue from a store's counts: one line per worker seen or holding work."""
    names = sorted(set(seen) | set(held_timers) | set(held_deliveries))
    return WorkStatus(
        at=at,
        due_timers=due_timers,
        held_timers=sum(held_timers.values()),
        due_deliveries=due_deliveries,
        held_deliveries=sum(held_deliveries.values()),
        retrying=retrying,
        dead=dead,
        workers=tuple(
            WorkerStatus(w, seen.get(w), held_timers.get(w, 0), held_deliveries.get(w, 0))
            for w in names
        ),
        faults=faults,
    )
