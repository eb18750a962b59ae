"""The agenda as iCalendar (RFC 5545), written by the ``icalendar`` library: the file of
``followup export --ics``, the feed of ``followup serve`` and the names the calendar
channel gives its entries.

Two steps, so that a server can tell whether anything changed before it writes::

    entries = calendar_entries(engine, "ada", now=now, until=now + timedelta(days=90))
    text = entries_to_ics(entries, zone=engine.calendar("ada").tz, stamp=now)

How a calendar app keeps step with it:

- **UID**: ``reminder_uid``, a hash of what the reminder is for (the application's id,
  the rule, the state entry, the contact's place among the application's contacts, the
  occurrence; or the owner, the rule and the day), with ``@followup``. It holds no
  name, so correcting a contact's name keeps it, and an export imported into another
  store (the ids travel with it) gives the same UIDs.
- **SEQUENCE**: kept in the store, per owner and reminder (``Store.publish_calendar``):
  0 at first, one more each time its time or text changes or it is cancelled. It never
  falls, so a client that keeps the highest version (RFC 5545 3.8.7.4) takes the new one,
  also when a reminder moves earlier, and also after a restart.
- **A reminder that leaves the plan** (done, or its state was left) before its time
  stays in the calendar with ``STATUS:CANCELLED`` (and no alarm) for ``CANCELLED_KEEP``,
  so that every client learns of it; one that went off stays as it was as long. Then it
  leaves the file.
- **Times**: ``DTSTART`` (and a task's ``DUE``) in the owner's zone with its ``TZID``,
  and a ``VTIMEZONE`` that covers the dates in the file.

Only reminders (timers whose action is ``notify``) are written: a move the pack makes on
its own is nothing to do.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

import icalendar

from followup.errors import InputError
from followup.keys import TimerKey
from followup.model import Application
from followup.store import CalendarEntry

if TYPE_CHECKING:
    from followup.runtime.engine import AgendaItem, Engine
    from followup.timing.calendar import WorkCalendar

__all__ = [
    "CANCELLED_KEEP",
    "EVENT_LENGTH",
    "PRODID",
    "calendar_entries",
    "draft_with_due",
    "entries_to_ics",
    "reminder_uid",
    "reminder_view",
]

#: How long a cancelled reminder (or one that went off) stays in the calendar.
CANCELLED_KEEP = timedelta(days=14)
EVENT_LENGTH = timedelta(minutes=15)
PRODID = "-//followup//EN"
_MAX_SEQUENCE = 2**31 - 1  # SEQUENCE is a signed 32-bit INTEGER
# What a content line may not hold (RFC 5545 3.1: CONTROL), and C1 controls: dropped from
# text a person reads; a line break stays (the library writes it as \n).
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def reminder_uid(key: str, application: Application | None) -> str:
    """The UID of the reminder whose timer key is ``key`` (see the module's docstring).

    ``application`` gives the contact's place among its contacts; without it (or when
    the contact is no longer among them) the contact's name stands in its place.
    """
    try:
        parsed = TimerKey.parse(key)
    except InputError:
        parts: tuple[str, ...] = ("key", key)  # not one of ours: still stable
    else:
        if parsed.kind == "owner":
            parts = ("owner", parsed.owner, parsed.name, parsed.day)
        else:
            parts = (parsed.kind, parsed.application_id, parsed.name, str(parsed.cycle),
                     _contact_ref(parsed.contact, application), str(parsed.occurrence))
    text = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(text).hexdigest()[:32] + "@followup"


def _contact_ref(name: str | None, application: Application | None) -> str:
    if name is None:
        return ""
    if application is not None:
        for place, contact in enumerate(application.contacts):
            if contact.name == name:
                return f"#{place}"
    return "=" + name


def reminder_view(item: AgendaItem, engine: Engine, calendar: WorkCalendar,
                  owner_view: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """The reminder's subject and its draft, as the notification it will make says them
    (``owner_view``: the owner's counts, for a rule over all applications)."""
    timer, app = item.timer, item.application
    if app is None and owner_view is None:
        owner_view = engine.owner_rules.view(timer.owner)
    return engine.owners.preview(timer, app, calendar, view=owner_view)


def calendar_entries(engine: Engine, owner: str, *, now: datetime,
                     until: datetime | None = None) -> list[CalendarEntry]:
    """``owner``'s reminders as their calendar shows them now: every one planned, and
    those that left the plan within ``CANCELLED_KEEP``, with the sequence the store
    keeps (recorded here: see ``Store.publish_calendar``); those from ``until`` on are
    left out of the answer (not of the record)."""
    calendar = engine.calendar(owner)
    owner_view: dict[str, Any] | None = None
    planned: dict[str, CalendarEntry] = {}
    for item in engine.agenda(owner=owner):
        timer = item.timer
        if timer.action != "notify":
            continue
        if item.application is None and owner_view is None:
            owner_view = engine.owner_rules.view(owner)
        summary, draft = reminder_view(item, engine, calendar, owner_view)
        uid = reminder_uid(timer.key, item.application)
        content = {"summary": summary, "description": draft_with_due(draft, timer.due_at,
                                                                   calendar),
                   "due": None if timer.due_at is None else timer.due_at.isoformat()}
        planned.setdefault(uid, CalendarEntry(uid, timer.fire_at, json.dumps(
            content, ensure_ascii=False, sort_keys=True),
            application_id=timer.application_id or None))
    entries = engine.store.publish_calendar(owner, list(planned.values()), now=now,
                                            keep=CANCELLED_KEEP)
    return [e for e in entries if until is None or e.start < until]


def draft_with_due(draft: str, due: datetime | None, calendar: WorkCalendar) -> str:
    """A reminder's draft, then its deadline in the owner's zone: an entry's DESCRIPTION."""
    lines = [draft.strip()] if draft.strip() else []
    if due is not None:
        lines.append(f"Due {calendar.local(due):%a %Y-%m-%d %H:%M} ({calendar.tz}).")
    return "\n\n".join(lines)


def entries_to_ics(entries: Iterable[CalendarEntry], *, zone: tzinfo, stamp: datetime,
                   todo: bool = False, name: str = "followup") -> str:
    """``entries`` as an iCalendar text (CRLF line endings, folded): a ``VEVENT`` of 15
    minutes at each reminder's time, or with ``todo`` a ``VTODO`` due at its deadline,
    with a display alarm at its time; times in ``zone``. ``stamp`` is the ``DTSTAMP``:
    when the content was last changed, for a feed that must be the same bytes while it
    is the same."""
    if stamp.tzinfo is None:
        raise ValueError(f"stamp must carry a time zone: {stamp!r}")
    cal = icalendar.Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", PRODID)
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _text(name))
    # How often a subscribing client should fetch the feed again.
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    days: list[date] = []
    for entry in entries:
        component, dates = _component(entry, zone, stamp, todo)
        cal.add_component(component)
        days += dates
    if days and zone is not UTC:
        cal.add_missing_timezones(first_date=min(days) - timedelta(days=1),
                                  last_date=max(days) + timedelta(days=366))
    return str(cal.to_ical().decode("utf-8"))


def _component(entry: CalendarEntry, zone: tzinfo, stamp: datetime,
               todo: bool) -> tuple[icalendar.Component, list[date]]:
    content = json.loads(entry.content)
    summary, description = _text(content["summary"]), _text(content["description"])
    cancelled = entry.status == "cancelled"
    start = entry.start.astimezone(zone)
    component: icalendar.Component = icalendar.Todo() if todo else icalendar.Event()
    component.add("uid", entry.uid)
    component.add("dtstamp", stamp.astimezone(UTC))
    if entry.changed_at is not None:
        component.add("last-modified", entry.changed_at.astimezone(UTC))
    component.add("sequence", min(entry.sequence, _MAX_SEQUENCE))
    component.add("dtstart", start)
    end = start
    if todo:
        # RFC 5545 wants DUE later than DTSTART: a reminder without a deadline (or one
        # that fires after it) is due at the end of its 15-minute slot.
        due = datetime.fromisoformat(content["due"]) if content["due"] else None
        if due is None or due <= entry.start:
            due = entry.start + EVENT_LENGTH
        end = due.astimezone(zone)
        component.add("due", end)
        component.add("status", "CANCELLED" if cancelled else "NEEDS-ACTION")
    else:
        end = (entry.start + EVENT_LENGTH).astimezone(zone)
        component.add("dtend", end)
        # A reminder is no appointment: it does not make the owner look busy.
        component.add("transp", "TRANSPARENT")
        component.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    component.add("summary", summary)
    if description:
        component.add("description", description)
    if not cancelled:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", timedelta(0), parameters={"RELATED": "START"})
        alarm.add("description", summary or "followup")
        component.add_component(alarm)
    return component, [start.date(), end.date()]


def _text(value: str) -> str:
    """Text a person reads, without the control characters no content line may hold."""
    return _CONTROLS.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
