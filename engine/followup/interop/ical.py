"""The agenda as an iCalendar feed (RFC 5545), written by hand: no dependency.

``agenda_to_ics`` turns ``Engine.agenda`` items into a calendar that a calendar app can
import once or subscribe to (``followup export --ics``, ``followup serve``)::

    items = engine.agenda(owner="ada", end=now + timedelta(days=90))
    text = agenda_to_ics(items, calendar=engine.calendar("ada"), now=now)

How a subscribing calendar keeps step without any state kept here:

- Each reminder's ``UID`` is its timer's key with ``@followup``: the key is stable, so
  every export names the same reminder the same way, and a new export replaces it.
- ``SEQUENCE`` is the reminder's fire time in whole minutes since 1970-01-01 UTC. When a
  reminder moves later (an employer's stated decision date pushes the follow-up call),
  its ``SEQUENCE`` grows, so a client that compares sequences takes the new version. A
  reminder moved *earlier* gets a lower ``SEQUENCE``; a subscription still shows it, as
  clients replace a subscribed feed wholesale, but a one-off import may keep the old one.
- A reminder that was done or cancelled is simply absent from the next export; a
  subscription drops it.

Only reminders (timers whose action is ``notify``) are written: a transition the rules
make on their own (``rejected`` to ``keep_warm`` a day later) is nothing to do, so it is
left out, as are internal re-plans.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from followup.model import Timer
from followup.runtime.engine import AgendaItem
from followup.timing.calendar import WorkCalendar

__all__ = ["agenda_to_ics", "escape_text", "fold_line", "sequence_of", "summary_of"]

EVENT_LENGTH = timedelta(minutes=15)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_SEQUENCE = 2**31 - 1  # SEQUENCE is a signed 32-bit INTEGER
_LINE_OCTETS = 75  # RFC 5545 3.1: lines longer than this are folded


def agenda_to_ics(
    items: Iterable[AgendaItem],
    *,
    calendar: WorkCalendar,
    now: datetime,
    todo: bool = False,
    name: str = "followup",
) -> str:
    """The reminders among ``items`` as an iCalendar text (CRLF line endings, folded).

    Each reminder becomes a ``VEVENT`` of 15 minutes at its fire time, or with
    ``todo=True`` a ``VTODO`` that starts at the fire time and is due at the deadline;
    either way with a display alarm at the fire time. ``calendar`` is the owner's, for
    deadlines written in their local time; ``now`` is the export's ``DTSTAMP``.
    Transitions are left out (see the module's docstring).
    """
    if now.tzinfo is None:
        raise ValueError(f"now must carry a time zone: {now!r}")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//followup//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        # How often a subscribing client should fetch the feed again.
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    stamp = _utc(now)
    for item in items:
        if item.timer.action == "notify":
            lines.extend(_component(item, calendar=calendar, stamp=stamp, todo=todo))
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + "\r\n" for line in lines)


def _component(
    item: AgendaItem, *, calendar: WorkCalendar, stamp: str, todo: bool
) -> list[str]:
    timer = item.timer
    summary = summary_of(item)
    description = _description(item, calendar)
    kind = "VTODO" if todo else "VEVENT"
    lines = [
        f"BEGIN:{kind}",
        f"UID:{escape_text(timer.key + '@followup')}",
        f"DTSTAMP:{stamp}",
        f"SEQUENCE:{sequence_of(timer)}",
        f"DTSTART:{_utc(timer.fire_at)}",
    ]
    if todo:
        # RFC 5545 wants DUE later than DTSTART: a reminder without a deadline (or one
        # that fires after it) is due at the end of its 15-minute slot.
        due = timer.due_at
        if due is None or due <= timer.fire_at:
            due = timer.fire_at + EVENT_LENGTH
        lines += [f"DUE:{_utc(due)}", "STATUS:NEEDS-ACTION"]
    else:
        # A reminder is no appointment: it does not make the owner look busy.
        lines += [f"DTEND:{_utc(timer.fire_at + EVENT_LENGTH)}", "TRANSP:TRANSPARENT"]
    lines += [
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(description)}",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        "TRIGGER;RELATED=START:PT0S",
        f"DESCRIPTION:{escape_text(summary)}",
        "END:VALARM",
        f"END:{kind}",
    ]
    return lines


def summary_of(item: AgendaItem) -> str:
    """The reminder in words: ``thank-you-notes: Jane Doe (Acme)``."""
    timer, app = item.timer, item.application
    if app is None:
        return f"{timer.rule}: all applications"
    if timer.contact:
        return f"{timer.rule}: {timer.contact} ({app.company})"
    return f"{timer.rule}: {app.company}"


def sequence_of(timer: Timer) -> int:
    """The reminder's ``SEQUENCE``: its fire time in minutes since 1970 (see the module)."""
    minutes = int((timer.fire_at - _EPOCH).total_seconds() // 60)
    return min(max(minutes, 0), _MAX_SEQUENCE)


def _description(item: AgendaItem, calendar: WorkCalendar) -> str:
    timer, app = item.timer, item.application
    zone = str(calendar.tz)
    lines = []
    if timer.due_at is not None:
        lines.append(f"Due {_local(calendar, timer.due_at)} ({zone}).")
    else:
        lines.append(f"From {_local(calendar, timer.fire_at)} ({zone}); no deadline.")
    if app is not None:
        lines.append(f"{app.role} at {app.company} (application {app.id}, {app.state}).")
        contact = app.contact(timer.contact) if timer.contact else None
        if contact is not None:
            title = f", {contact.title}" if contact.title else ""
            lines.append(f"{contact.role.capitalize()}: {contact.name}{title}.")
    else:
        lines.append("About all of your applications.")
    lines.append(f"Rule: {timer.rule}.")
    return "\n".join(lines)


def _local(calendar: WorkCalendar, instant: datetime) -> str:
    return calendar.local(instant).strftime("%a %Y-%m-%d %H:%M")


def _utc(instant: datetime) -> str:
    if instant.tzinfo is None:
        raise ValueError(f"an instant must carry a time zone: {instant!r}")
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(text: str) -> str:
    r"""A TEXT value as RFC 5545 3.3.11 writes it: ``\`` ``;`` ``,`` and newlines escaped."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\n", "\\n")


def fold_line(line: str) -> str:
    """``line`` folded as RFC 5545 3.1 asks: at most 75 octets a line, continuations
    starting with a space, never splitting a UTF-8 character (no CRLF at the end)."""
    if len(line.encode("utf-8")) <= _LINE_OCTETS:
        return line
    parts: list[str] = []
    current: list[str] = []
    size, limit = 0, _LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, _LINE_OCTETS - 1  # the leading space counts
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)
