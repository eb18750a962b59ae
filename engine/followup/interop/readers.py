"""Reading applications from files: followup's own JSON and CSV, and the CSV exports of
other job trackers through a column mapping (``followup.interop.presets``).

Everything read becomes ``ImportItem``s, checked and written by ``followup.interop.transfer``.
A problem stops the reading with an ``InputError`` that names the file, the line (and
for JSON the column) and what was expected: the bytes that are not UTF-8, a row with
too many fields, a date that is not a date, a quote never closed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import warnings
from bisect import bisect_right
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, NoReturn

from dateutil import parser as dateparser

from followup.errors import InputError
from followup.interop.export import restore_cell
from followup.interop.presets import FIELDS, Preset, choose_preset
from followup.interop.transfer import HISTORY_KINDS, ImportItem, synthesized_history
from followup.language.pack import RulePack
from followup.model import Application, Contact, HistoryEntry
from followup.runtime.facts import normalize_fact
from followup.timing.calendar import WorkCalendar

__all__ = ["MAX_CELL", "MAX_FILE", "Context", "decode", "read_csv", "read_json"]

MAX_FILE = 64 * 1024 * 1024  # bytes: larger files are refused, not read into memory
MAX_CELL = 10_000  # characters in one CSV cell or JSON string
_MAX_DEPTH = 32
_FIELD_LIMIT = csv.field_size_limit()  # characters: the csv module refuses longer fields
_LONG_CELL = "\x00long cell "  # what stands for a long cell nobody reads
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


def decode(data: bytes, source: str) -> str:
    """``data`` as text (UTF-8, with or without a byte order mark)."""
    if len(data) > MAX_FILE:
        raise InputError(f"{source}: the file is {len(data)} bytes; at most {MAX_FILE} are "
                         "read: split it")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{source}:{line}: byte 0x{data[exc.start]:02x} is not UTF-8: save "
                         "the file as UTF-8 (in a spreadsheet: 'CSV UTF-8')") from None


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
        app = Application(id=app_id, owner=ctx.owner, company=company, role=role,
                          state=state or ended, facts=normalized, contacts=tuple(contacts),
                          created_at=created_at or entries[0].at)
        return ImportItem(app, entries, where, tuple(history_where))
    app = Application(id=app_id, owner=ctx.owner, company=company, role=role,
                      state=state or ctx.pack.initial, facts=normalized,
                      contacts=tuple(contacts), created_at=created_at or ctx.now)
    try:
        made = synthesized_history(ctx.pack, app, app.created_at or ctx.now)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    return ImportItem(app, made, where, made_up=created_at is None)


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
    doc, lines = _Located(text, source).parse()

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
        unknown = sorted(set(obj) - {"id", "company", "role", "state", "created_at", "facts",
                                     "contacts", "history"})
        if unknown:
            raise InputError(f"{where(path)}: unknown field {unknown[0]!r} (fields: id, "
                             "company, role, state, created_at, facts, contacts, history)")
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


class _Located:
    """A JSON parser that also says on which line each object and list starts."""

    def __init__(self, text: str, source: str) -> None:
        self.text, self.source = text, source
        self.lines: dict[tuple[Any, ...], int] = {}
        self.breaks = [i for i, ch in enumerate(text) if ch == "\n"]
        self.decoder = json.JSONDecoder(parse_constant=self._constant)

    def parse(self) -> tuple[Any, dict[tuple[Any, ...], int]]:
        value, end = self.value(0, (), 0)
        if self.skip(end) != len(self.text):
            self.fail(self.skip(end), "extra data after the JSON value")
        return value, self.lines

    def line(self, pos: int) -> int:
        return bisect_right(self.breaks, pos - 1) + 1

    def fail(self, pos: int, problem: str) -> NoReturn:
        column = pos - (self.breaks[self.line(pos) - 2] + 1 if self.line(pos) > 1 else 0) + 1
        raise InputError(f"{self.source}:{self.line(pos)}:{column}: {problem}")

    def _constant(self, name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    def skip(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos] in " \t\r\n":
            pos += 1
        return pos

    def value(self, pos: int, path: tuple[Any, ...], depth: int) -> tuple[Any, int]:
        pos = self.skip(pos)
        if depth > _MAX_DEPTH:
            self.fail(pos, f"nested more than {_MAX_DEPTH} deep")
        if pos >= len(self.text):
            self.fail(pos, "the file ends where a value was expected: it is truncated")
        opening = self.text[pos]
        if opening not in "{[":
            try:
                value, end = self.decoder.raw_decode(self.text, pos)
            except json.JSONDecodeError as exc:
                self.fail(exc.pos, exc.msg)
            except ValueError as exc:
                self.fail(pos, str(exc))
            if isinstance(value, str) and len(value) > MAX_CELL:
                self.fail(pos, f"a text of {len(value)} characters; at most {MAX_CELL} are read")
            return value, end
        self.lines[path] = self.line(pos)
        closing = "}" if opening == "{" else "]"
        out: Any = {} if opening == "{" else []
        pos = self.skip(pos + 1)
        if self.text[pos : pos + 1] == closing:
            return out, pos + 1
        while True:
            pos = self.skip(pos)
            if opening == "{":
                if self.text[pos : pos + 1] != '"':
                    self.fail(pos, "expected a key in double quotes")
                key, pos = self.decoder.raw_decode(self.text, pos)
                pos = self.skip(pos)
                if self.text[pos : pos + 1] != ":":
                    self.fail(pos, f"expected ':' after the key {key!r}")
                out[key], pos = self.value(pos + 1, (*path, key), depth + 1)
            else:
                item, pos = self.value(pos, (*path, len(out)), depth + 1)
                out.append(item)
            pos = self.skip(pos)
            ch = self.text[pos : pos + 1]
            if ch == closing:
                return out, pos + 1
            if ch != ",":
                self.fail(pos, f"expected ',' or '{closing}'"
                          + ("; the file is truncated" if not ch else ""))
            pos += 1


# -- CSV ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    line: int
    cells: dict[str, str]  # header -> value


def _rows(data: bytes, source: str,
          reads: Callable[[list[str]], Collection[str]] | None = None
          ) -> tuple[list[str], list[_Row]]:
    """The header and the rows of a CSV file. ``reads(header)`` names the columns an
    import reads (all of them when None): only their cells must fit in ``MAX_CELL``. A
    longer cell of a column nobody reads (a tracker's ``htmlDescription``) is not kept:
    it stands in the row as ``_LONG_CELL`` and a hash of its text, so two rows that
    differ only there stay apart. A row holds at most the csv module's field limit
    (``_FIELD_LIMIT`` characters) per column of the header."""
    text = decode(data, source)
    reader = csv.reader(io.StringIO(text), strict=True)
    rows: list[_Row] = []
    header: list[str] | None = None
    read: Collection[str] = ()
    line = 1
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                _check_cells(record, record, source, start)
                header = [h.strip() for h in record]
                read = header if reads is None else frozenset(reads(header))
                continue
            if len(record) != len(header):
                raise InputError(f"{source}:{start}: {len(record)} fields, but the header "
                                 f"has {len(header)} ({', '.join(header)}): check the commas "
                                 "and quotes of this row")
            cells = _check_cells(record, header, source, start, read)
            rows.append(_Row(start, dict(zip(header, map(restore_cell, cells), strict=True))))
    except csv.Error as exc:
        problem, at = str(exc), reader.line_num
        if "end of data" in problem:  # name the row where the open quote is
            problem += ": a quoted field in this row is never closed (the file may be truncated)"
            at = line
        elif "field larger than field limit" in problem:
            problem = (f"field larger than {_FIELD_LIMIT:,} characters, more than any column "
                       "of a tracker's export holds (is it a CSV file?)")
        raise InputError(f"{source}:{at}: not valid CSV: {problem}") from None
    if header is None:
        raise InputError(f"{source}:1: the file is empty: expected a header row such as "
                         "company,role,status")
    return header, rows


def _check_cells(record: list[str], header: Sequence[str], source: str, line: int,
                 read: Collection[str] | None = None) -> list[str]:
    """``record`` with each long cell of an unread column replaced (see ``_rows``);
    ``InputError`` for a long cell of a column that is read (``read`` None: all)."""
    out = record
    for i, cell in enumerate(record):
        if len(cell) <= MAX_CELL:
            continue
        name = header[i]
        if read is None or name in read:
            raise InputError(f"{source}:{line}: field {i + 1} is {len(cell)} characters "
                             f"long; at most {MAX_CELL} are read (column {name.strip()!r}; "
                             "a column the import does not read may be longer)")
        if out is record:
            out = list(record)
        digest = hashlib.sha256(cell.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        out[i] = f"{_LONG_CELL}{digest}"
    return out


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

    _, rows = _rows(data, source, reads)  # a file without a header row never gets here
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


def _grouped(data: bytes, source: str, key: str) -> dict[str, list[_Row]]:
    header, rows = _rows(data, source)
    if key not in header:
        raise InputError(f"{source}:1: no column {key!r}: this file is not one that "
                         f"followup export wrote (columns: {', '.join(header)})")
    out: dict[str, list[_Row]] = {}
    for row in rows:
        out.setdefault(row.cells[key].strip(), []).append(row)
    return out
