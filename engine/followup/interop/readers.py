"""Reading applications from files: followup's own JSON and CSV, and the CSV exports of
other job trackers through a column mapping (``followup.interop.presets``).

Everything read becomes ``ImportItem``s, checked and written by ``followup.interop.transfer``.
A problem stops the reading with an ``InputError`` that names the file, the line (and
for JSON the column) and what was expected: the bytes that are not UTF-8, a row with
too many fields, a date that is not a date, a quote never closed.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from dateutil import parser as dateparser

from followup.errors import InputError
from followup.interop._filetext import MAX_CELL, MAX_FILE, Located, Row, csv_rows, decode
from followup.interop.presets import FIELDS, Preset, choose_preset
from followup.interop.transfer import HISTORY_KINDS, ImportItem, synthesized_history
from followup.language.pack import RulePack
from followup.model import Application, Contact, HistoryEntry
from followup.runtime.facts import normalize_fact
from followup.timing.calendar import WorkCalendar

__all__ = ["MAX_CELL", "MAX_FILE", "Context", "decode", "read_csv", "read_json"]

_CONTACT_KEYS = {"name", "role", "title", "email", "phone", "organization", "name_parts",
                 "address", "note", "other_emails", "other_phones"}
_CONTACT_LISTS = {"organization", "name_parts", "address", "other_emails", "other_phones"}


@dataclass(frozen=True)
class Context:
    """What reading needs: the pack, the owner and their calendar, the time now, the
    role of contacts a tracker's row names, and the tracker's statuses added by hand."""

    pack: RulePack
    owner: str
    calendar: WorkCalendar
    now: datetime
    contact_role: str = "recruiter"
    statuses: Mapping[str, str] = field(default_factory=dict)


# -- one application from its fields ---------------------------------------------------


def _instant(text: str, ctx: Context, where: str, what: str, dates: str = "iso") -> datetime:
    """``text`` as an aware instant: ISO 8601 always; with a preset's ``dates`` of
    "month-first" or "day-first", any date python-dateutil reads, in that order when
    ambiguous (11/20/24, 8:15 AM). A time left out is midnight in the owner's zone."""
    value = text.strip()
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        if dates == "iso":
            raise InputError(f"{where}: {what} {text[:60]!r} is not a date and time: write "
                             "e.g. 2026-12-23T15:00 or 2026-12-23") from None
        # What the text leaves out (the year of "Nov 20") comes from today, not the
        # wall clock.
        today = datetime.combine(ctx.calendar.local_date(ctx.now), time())
        try:
            with warnings.catch_warnings():  # a zone name it does not know: local time
                warnings.simplefilter("ignore", dateparser.UnknownTimezoneWarning)
                instant = dateparser.parse(value, dayfirst=dates == "day-first",
                                           default=today)
        except (ValueError, OverflowError):
            example = "23/12/2026" if dates == "day-first" else "12/23/2026"
            raise InputError(f"{where}: {what} {text[:60]!r} is not a date and time: write "
                             f"e.g. 2026-12-23T15:00, 2026-12-23 or {example} "
                             f"({dates})") from None
    return instant if instant.tzinfo else ctx.calendar.to_utc(instant)


def _item(fields: Mapping[str, Any], ctx: Context, where: str, *,
          facts: Mapping[str, str], contacts: Sequence[Contact],
          history: Sequence[Mapping[str, Any]] | None, history_where: Sequence[str] = (),
          dates: str = "iso", row_key: str = "") -> ImportItem:
    company, role = str(fields.get("company") or "").strip(), str(fields.get("role") or "").strip()
    if not company or not role:
        missing = "company" if not company else "role"
        raise InputError(f"{where}: the application has no {missing}")
    stated = str(fields.get("state") or "").strip()
    state = _state(stated, ctx, where) if stated else None
    created = fields.get("created_at")
    created_at = _instant(str(created), ctx, where, "created_at", dates) if created else None
    archived = fields.get("archived_at")  # only a JSON export carries it
    archived_at = _instant(str(archived), ctx, where, "archived_at", dates) if archived else None
    normalized = {}
    for name, value in facts.items():
        if str(value).strip() == "":
            continue
        spec = ctx.pack.facts.get(name)
        if spec is not None and spec.type == "datetime" and dates != "iso":
            value = _instant(str(value), ctx, where, name, dates).isoformat()
        try:
            normalized[name] = normalize_fact(spec, name, value, ctx.calendar)
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
    app_id = str(fields.get("id") or "").strip() or _made_up_id(ctx.owner, company, role, row_key)
    entries: tuple[HistoryEntry, ...]
    if history:
        entries = tuple(_entry(app_id, h, ctx, w) for h, w in zip(history, history_where,
                                                                  strict=True))
        ended = next((h.to_state for h in reversed(entries) if h.to_state), ctx.pack.initial)
        if archived_at is None:  # a CSV table has no column for it: the history says
            archived_at = _archived_at(entries)
        app = Application(id=app_id, owner=ctx.owner, company=company, role=role,
                          state=state or ended, facts=normalized, contacts=tuple(contacts),
                          created_at=created_at or entries[0].at, archived_at=archived_at)
        return ImportItem(app, entries, where, tuple(history_where))
    app = Application(id=app_id, owner=ctx.owner, company=company, role=role,
                      state=state or ctx.pack.initial, facts=normalized,
                      contacts=tuple(contacts), created_at=created_at or ctx.now,
                      archived_at=archived_at)
    try:
        made = synthesized_history(ctx.pack, app, app.created_at or ctx.now)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    return ImportItem(app, made, where, made_up=created_at is None)


def _archived_at(history: Sequence[HistoryEntry]) -> datetime | None:
    """When the history last archived the application, unless it was brought back (or
    the archive undone) since. Read before the history is checked (``check_history``
    says what is wrong with an entry), so an entry of the wrong form is passed over."""
    taken_back = {h.data.get("undone") for h in history if h.kind == "undo"}
    marks = [h for h in history
             if h.kind in ("archive", "unarchive") and h.seq not in taken_back]
    return marks[-1].at if marks and marks[-1].kind == "archive" else None


def _state(text: str, ctx: Context, where: str) -> str:
    if text in ctx.pack.states:
        return text
    found = ctx.statuses.get(text.strip().lower())
    if found == "":
        return ctx.pack.initial
    if found in ctx.pack.states:
        return found
    raise InputError(f"{where}: {text!r} is not a state of the pack ({', '.join(ctx.pack.states)})"
                     f" nor a status this import knows"
                     f"{' (' + ', '.join(sorted(ctx.statuses)) + ')' if ctx.statuses else ''}: "
                     f"say which state it means, e.g. --status \"{text}={ctx.pack.initial}\"")


def _made_up_id(owner: str, company: str, role: str, row_key: str) -> str:
    # The same row imported again gets the same id, so an import can be run twice.
    return hashlib.sha256("\x1f".join((owner, company, role, row_key)).encode()).hexdigest()[:12]


def _entry(app_id: str, h: Mapping[str, Any], ctx: Context, where: str) -> HistoryEntry:
    def text(key: str) -> str | None:
        value = h.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise InputError(f"{where}: history {key!r} must be text, not {value!r}")
        return value

    seq = h.get("seq")
    try:
        number = int(seq) if isinstance(seq, int | str) and not isinstance(seq, bool) else -1
    except ValueError:
        number = -1
    if number < 0:
        raise InputError(f"{where}: history 'seq' must be a whole number from 0, not {seq!r}")
    kind, name, at = text("kind"), text("name"), text("at")
    if kind not in HISTORY_KINDS:
        raise InputError(f"{where}: history 'kind' must be one of {', '.join(HISTORY_KINDS)}, "
                         f"not {kind!r}")
    if name is None or at is None:
        raise InputError(f"{where}: a history entry needs 'at' and 'name'")
    data = h.get("data") or {}
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: history 'data' is not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise InputError(f"{where}: history 'data' must be a JSON object, not {data!r}")
    return HistoryEntry(application_id=app_id, seq=number,
                        at=_instant(at, ctx, where, "at"), kind=kind,  # type: ignore[arg-type]
                        name=name, contact=text("contact"), from_state=text("from"),
                        to_state=text("to"), key=text("key"), data=data)


def _contact(values: Mapping[str, Any], where: str) -> Contact:
    unknown = sorted(set(values) - _CONTACT_KEYS)
    if unknown:
        raise InputError(f"{where}: a contact has the unknown field {unknown[0]!r} (fields: "
                         f"{', '.join(sorted(_CONTACT_KEYS))})")
    clean: dict[str, Any] = {}
    for key, value in values.items():
        if key in _CONTACT_LISTS:
            if isinstance(value, str):
                try:
                    value = json.loads(value) if value.strip() else []
                except json.JSONDecodeError:
                    raise InputError(f"{where}: contact {key!r} must be a JSON list of text, "
                                     f"such as [\"Acme\", \"Platform\"], not {value!r}") from None
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InputError(f"{where}: contact {key!r} must be a list of text, not "
                                 f"{value!r}")
        elif value is None:
            value = ""
        elif not isinstance(value, str):
            raise InputError(f"{where}: contact {key!r} must be text, not {value!r}")
        clean[key] = value
    if not str(clean.get("name", "")).strip() or not str(clean.get("role", "")).strip():
        raise InputError(f"{where}: a contact needs a name and a role")
    return Contact.from_dict(clean)


# -- JSON -----------------------------------------------------------------------------


def read_json(data: bytes, source: str, ctx: Context) -> list[ImportItem]:
    """The applications of a JSON file: ``followup export``'s document, or a list of
    application objects (``company`` and ``role`` at least)."""
    text = decode(data, source)
    doc, lines = Located(text, source).parse()

    def where(path: tuple[Any, ...]) -> str:
        return f"{source}:{lines.get(path, 1)}"

    base: tuple[Any, ...] = ()
    apps = doc
    if isinstance(doc, dict) and "applications" in doc:
        apps, base = doc["applications"], ("applications",)
    if not isinstance(apps, list):
        raise InputError(f"{where(base)}: expected a list of applications (or an object with "
                         "'applications'), not " + type(apps).__name__)
    items = []
    for i, obj in enumerate(apps):
        path = (*base, i)
        if not isinstance(obj, dict):
            raise InputError(f"{where(path)}: an application must be an object, not {obj!r}")
        unknown = sorted(set(obj) - {"id", "company", "role", "state", "created_at",
                                     "archived_at", "facts", "contacts", "history"})
        if unknown:
            raise InputError(f"{where(path)}: unknown field {unknown[0]!r} (fields: id, "
                             "company, role, state, created_at, archived_at, facts, "
                             "contacts, history)")
        facts = obj.get("facts") or {}
        if not isinstance(facts, dict):
            raise InputError(f"{where((*path, 'facts'))}: 'facts' must be an object")
        contacts_in = obj.get("contacts") or []
        history = obj.get("history") or None
        if not isinstance(contacts_in, list) or not isinstance(history or [], list):
            raise InputError(f"{where(path)}: 'contacts' and 'history' must be lists")
        contacts = []
        for j, c in enumerate(contacts_in):
            if not isinstance(c, dict):
                raise InputError(f"{where((*path, 'contacts', j))}: a contact must be an object")
            contacts.append(_contact(c, where((*path, "contacts", j))))
        for j, h in enumerate(history or []):
            if not isinstance(h, dict):
                raise InputError(f"{where((*path, 'history', j))}: a history entry must be "
                                 "an object")
        items.append(_item(
            obj, ctx, where(path), facts={str(k): str(v) for k, v in facts.items()},
            contacts=contacts, history=history,
            history_where=[where((*path, "history", j)) for j in range(len(history or []))],
            row_key=json.dumps(obj, sort_keys=True)))
    return items


# -- CSV ------------------------------------------------------------------------------


def read_csv(data: bytes, source: str, ctx: Context, *, preset: str | None = None,
             mapping: Mapping[str, str] | None = None, contacts: bytes | None = None,
             contacts_source: str = "", history: bytes | None = None,
             history_source: str = "") -> list[ImportItem]:
    """The applications of a CSV file, one a row, read with ``preset``'s columns (or
    the one that fits the header) and ``mapping`` (column -> field) on top; followup's
    own contacts and history tables may come beside it."""
    found: list[tuple[Preset, dict[str, str]]] = []

    def reads(header: list[str]) -> Collection[str]:
        chosen = choose_preset(preset, header)
        found.append((chosen, chosen.resolve(header, mapping or {}, source)))
        return found[0][1].values()

    _, rows = csv_rows(data, source, reads)  # a file without a header row never gets here
    chosen, columns = found[0]
    statuses = {**chosen.statuses, **{k.lower(): v for k, v in ctx.statuses.items()}}
    ctx = Context(ctx.pack, ctx.owner, ctx.calendar, ctx.now, ctx.contact_role, statuses)
    by_app_contacts = _grouped(contacts, contacts_source, "application") if contacts else {}
    by_app_history = _grouped(history, history_source, "application") if history else {}
    items = []
    for row in rows:
        where = f"{source}:{row.line}"
        fields = {f: row.cells[c] for f, c in columns.items() if f in FIELDS}
        facts = {f.removeprefix("fact:"): row.cells[c] for f, c in columns.items()
                 if f.startswith("fact:")}
        app_id = fields.get("id", "").strip()
        people = [_contact({k: v for k, v in r.cells.items() if k != "application"},
                           f"{contacts_source}:{r.line}")
                  for r in by_app_contacts.pop(app_id, [])] if app_id else []
        name = fields.get("contact", "").strip()
        if name:
            people.append(Contact(
                name=name, role=fields.get("contact_role", "").strip() or ctx.contact_role,
                title=fields.get("contact_title", "").strip(),
                email=fields.get("contact_email", "").strip(),
                phone=fields.get("contact_phone", "").strip()))
        entries = by_app_history.pop(app_id, []) if app_id else []
        items.append(_item(
            fields, ctx, where, facts=facts, contacts=people,
            history=[r.cells for r in entries] or None,
            history_where=[f"{history_source}:{r.line}" for r in entries],
            dates=chosen.dates, row_key="\x1e".join(row.cells.values())))
    for leftover, what, src in ((by_app_contacts, "contact", contacts_source),
                                (by_app_history, "history entry", history_source)):
        for app_id, extra in leftover.items():
            raise InputError(f"{src}:{extra[0].line}: this {what} belongs to application "
                             f"{app_id!r}, which is not in {source}")
    return items


def _grouped(data: bytes, source: str, key: str) -> dict[str, list[Row]]:
    header, rows = csv_rows(data, source)
    if key not in header:
        raise InputError(f"{source}:1: no column {key!r}: this file is not one that "
                         f"followup export wrote (columns: {', '.join(header)})")
    out: dict[str, list[Row]] = {}
    for row in rows:
        out.setdefault(row.cells[key].strip(), []).append(row)
    return out
