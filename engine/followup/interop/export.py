"""A job search written out for people: the JSON document ``followup export`` writes,
and its CSV tables.

The document holds each of the owner's applications with its contacts and its whole
history, instants in the owner's time zone with their offset; and what belongs to the
owner rather than to one application: their settings, and where each rule over all of
their applications stands (the next ``keep-looking`` nudge and how many went out), which
no application's history records. ``transfer.py`` reads such a document back in.

The CSV tables are safe to open in a spreadsheet: a cell that a spreadsheet would run as
a formula (OWASP's rule: one starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) is written with a leading ``'``, which spreadsheets read as "this is
text". So a company named ``=HYPERLINK(...)`` shows as that text rather than as a link,
and ``=cmd|' -C calc'!A0`` runs nothing. A cell that already starts with ``'`` before
such a character gets one more, so ``restore_cell`` reads every neutralised cell back to
exactly what was exported; the import does that. ``raw=True`` writes the cells as they
are, for programs that want them so.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from followup.errors import InputError
from followup.model import Application, HistoryEntry

if TYPE_CHECKING:
    from followup.runtime.engine import Engine
    from followup.timing.calendar import WorkCalendar

__all__ = [
    "TABLES",
    "Progress",
    "application_json",
    "csv_table",
    "entry_json",
    "export_document",
    "neutralise_cell",
    "restore_cell",
]

#: Called as work goes on with (done, total); the command line draws a bar with it.
Progress = Callable[[int, int], None]

FORMAT_VERSION = 1


# -- the document ----------------------------------------------------------------------


def entry_json(h: HistoryEntry, calendar: WorkCalendar) -> dict[str, Any]:
    """A history entry as JSON; instants in the owner's time zone, with the offset."""
    return {"seq": h.seq, "at": calendar.local(h.at).isoformat(), "kind": h.kind,
            "name": h.name, "contact": h.contact, "from": h.from_state, "to": h.to_state,
            "key": h.key, "data": h.data}


def application_json(app: Application, history: Sequence[HistoryEntry],
                     calendar: WorkCalendar) -> dict[str, Any]:
    """An application with its contacts and history, as ``followup export`` writes it."""
    return {
        "id": app.id, "company": app.company, "role": app.role, "state": app.state,
        "created_at": calendar.local(app.created_at).isoformat() if app.created_at else None,
        "archived_at": (calendar.local(app.archived_at).isoformat()
                        if app.archived_at else None),
        "facts": dict(app.facts),
        "contacts": [c.to_dict() for c in app.contacts],
        "history": [entry_json(h, calendar) for h in history],
    }


def export_document(engine: Engine, owner: str, *, progress: Progress | None = None
                    ) -> dict[str, Any]:
    """Everything about ``owner``'s applications, as one JSON-ready document: the
    owner's settings, where their rules over all of their applications stand, and each
    application with its contacts and history."""
    calendar = engine.calendar(owner)
    apps = engine.store.applications(owner=owner, archived=None)  # the archived ones too
    out = []
    for done, app in enumerate(apps, 1):
        out.append(application_json(app, engine.history(app.id, owner=owner), calendar))
        if progress is not None:
            progress(done, len(apps))
    settings = engine.owner(owner)
    owner_timers = [{"rule": i.timer.rule, "at": calendar.local(i.timer.fire_at).isoformat(),
                     "occurrence": i.timer.occurrence}
                    for i in engine.agenda(owner=owner) if i.application is None]
    return {"format": "followup", "version": FORMAT_VERSION, "owner": owner,
            "exported_at": calendar.local(engine.clock.now()).isoformat(),
            "timezone": str(calendar.tz),
            "settings": {"timezone": settings.timezone, "country": settings.country,
                         "subdivision": settings.subdivision,
                         "channels": None if settings.channels is None
                         else list(settings.channels),
                         "digest": settings.digest, "quiet_hours": list(settings.quiet_hours),
                         "looking": settings.looking},
            "owner_timers": owner_timers, "applications": out}


# -- its tables, as CSV -----------------------------------------------------------------


TABLES = ("applications", "contacts", "history")
_APP_COLUMNS = ["id", "company", "role", "state", "created_at"]
_CONTACT_COLUMNS = ["application", "name", "role", "title", "email", "phone", "organization",
                    "name_parts", "address", "note", "other_emails", "other_phones"]
_HISTORY_COLUMNS = ["application", "seq", "at", "kind", "name", "contact", "from", "to", "key",
                    "data"]


# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection").
_FORMULA_STARTS = frozenset("=+-@\t\r")


def neutralise_cell(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs as a formula: with a leading ``'``
    when it starts (after any ``'``) with ``=``, ``+``, ``-``, ``@``, a tab or a CR.

    >>> neutralise_cell("=1+2"), neutralise_cell("'=1+2"), neutralise_cell("Acme")
    ("'=1+2", "''=1+2", 'Acme')
    """
    return "'" + text if text.lstrip("'")[:1] in _FORMULA_STARTS else text


def restore_cell(text: str) -> str:
    """The text ``neutralise_cell`` made ``text`` from; any other cell as it is.

    >>> restore_cell("'=1+2"), restore_cell("''=1+2"), restore_cell("'quoted'")
    ('=1+2', "'=1+2", "'quoted'")
    """
    if text[:1] == "'" and text.lstrip("'")[:1] in _FORMULA_STARTS:
        return text[1:]
    return text


def csv_table(document: Mapping[str, Any], table: str, *, raw: bool = False) -> str:
    """One table of an ``export_document`` as CSV: ``applications`` (one row each, a
    ``fact:NAME`` column per fact), ``contacts`` or ``history`` (one row per contact or
    entry, with its ``application``). Lists and history data are written as JSON.

    Cells a spreadsheet would run as a formula are neutralised (``neutralise_cell``)
    unless ``raw``."""
    apps = document["applications"]
    if table == "applications":
        facts = sorted({name for a in apps for name in a["facts"]})
        header = _APP_COLUMNS + [f"fact:{name}" for name in facts]
        rows = [[str(a[c] or "") for c in _APP_COLUMNS]
                + ["" if (v := a["facts"].get(n)) is None else str(v) for n in facts]
                for a in apps]
    elif table == "contacts":
        header = _CONTACT_COLUMNS
        rows = [[a["id"]] + [_cell(c.get(k, "")) for k in _CONTACT_COLUMNS[1:]]
                for a in apps for c in a["contacts"]]
    elif table == "history":
        header = _HISTORY_COLUMNS
        rows = [[a["id"]] + [_cell(h[k]) for k in _HISTORY_COLUMNS[1:]]
                for a in apps for h in a["history"]]
    else:
        raise InputError(f"no table named {table!r}: tables are {', '.join(TABLES)}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows if raw else [[neutralise_cell(c) for c in row] for row in rows])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    return str(value)
