"""The calendar channel's file: its entries, read and written with ``icalendar``, whole,
under a lock.

Every change reads the file, changes the entries and writes a whole new file beside it,
which then replaces the old one (``os.replace``): a reader never sees half a file, and a
crash leaves the old file or the new. The file is readable by its owner only (mode 0600).
Writers take a lock first (a thread lock, and ``flock`` on ``PATH.lock`` where the
platform has it), so two deliveries at once, from threads or processes, never lose each
other's entries.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar

try:
    import fcntl
except ImportError:  # Windows: the thread lock alone
    fcntl = None  # type: ignore[assignment]

__all__ = ["EVENT_LENGTH", "PRODID", "Entry", "locked", "put", "read", "write"]

PRODID = "-//followup//calendar channel//EN"
EVENT_LENGTH = timedelta(minutes=15)
_KINDS = ("VEVENT", "VTODO")
# What a content line may not hold (RFC 5545 3.1: CONTROL), and C1 controls: dropped from
# text a person reads; a line break stays (the library writes it as \n).
_TEXT_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LOCKS: dict[Path, threading.Lock] = {}  # one per file, so two channel objects share it
_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True)
class Entry:
    """One reminder in the file.

    ``owner`` and ``application`` are as written (controls and an owner's ``%`` as %XX);
    ``key`` is the reminder's timer key; ``status`` is ``planned``, ``fired``,
    ``delivered`` or ``cancelled``; ``zone`` names the zone its times are written in;
    ``stamp`` is when it last changed (``DTSTAMP``).
    """

    uid: str
    key: str
    owner: str
    application: str
    status: str
    start: datetime
    due: datetime | None
    zone: str
    summary: str
    description: str
    sequence: int = 0
    stamp: datetime | None = None

    def component(self, *, todo: bool) -> icalendar.Component:
        """The entry as a ``VEVENT`` (or, with ``todo``, a ``VTODO``)."""
        zone = _zone(self.zone)
        start = self.start.astimezone(zone)
        comp: icalendar.Component = icalendar.Todo() if todo else icalendar.Event()
        comp.add("uid", self.uid)
        if self.stamp is not None:
            comp.add("dtstamp", self.stamp.astimezone(UTC))
        comp.add("sequence", self.sequence)
        comp.add("dtstart", start)
        cancelled = self.status == "cancelled"
        if todo:
            # RFC 5545 wants DUE after DTSTART: without a later deadline, the end of
            # the reminder's 15 minutes.
            due = self.due if self.due is not None and self.due > self.start else (
                self.start + EVENT_LENGTH)
            comp.add("due", due.astimezone(zone))
            comp.add("status", "CANCELLED" if cancelled else "NEEDS-ACTION")
        else:
            comp.add("dtend", (self.start + EVENT_LENGTH).astimezone(zone))
            comp.add("transp", "TRANSPARENT")
            comp.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        comp.add("summary", text(self.summary))
        comp.add("description", text(self.description))
        comp.add("x-followup-owner", self.owner)
        comp.add("x-followup-application", self.application)
        comp.add("x-followup-key", self.key)
        comp.add("x-followup-status", self.status)
        if not cancelled:
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", timedelta(0), parameters={"RELATED": "START"})
            alarm.add("description", text(self.summary) or "followup")
            comp.add_component(alarm)
        return comp

    def says(self, *, todo: bool) -> bytes:
        """What the entry says, without its SEQUENCE and DTSTAMP: equal for an entry
        that did not change, as the file would show it."""
        return bytes(replace(self, sequence=0, stamp=None).component(todo=todo).to_ical())


def text(value: str) -> str:
    """Text a person reads, without the control characters no content line may hold."""
    return _TEXT_CONTROLS.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def _zone(name: str) -> tzinfo:
    if name in ("", "UTC"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def put(entries: dict[str, Entry], entry: Entry, now: datetime, *, todo: bool) -> None:
    """Add ``entry``, or replace the one with its UID: unchanged keeps its SEQUENCE and
    DTSTAMP (a repeated delivery writes nothing); changed gets SEQUENCE + 1."""
    previous = entries.get(entry.uid)
    if previous is None:
        entries[entry.uid] = replace(entry, sequence=0, stamp=now)
    elif previous.says(todo=todo) != entry.says(todo=todo):
        entries[entry.uid] = replace(entry, sequence=previous.sequence + 1, stamp=now)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the file's lock: the thread lock, then an ``flock`` where there is one."""
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(path, threading.Lock())
    with lock:
        if fcntl is None:
            yield
            return
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock


def read(path: Path) -> dict[str, Entry]:
    """The entries of the file (none when there is no file); an entry that is not one
    of ours is left out, so it goes when the file is next written. ``ValueError`` if
    the file is not iCalendar."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    if not data.strip():
        return {}
    entries: dict[str, Entry] = {}
    for comp in icalendar.Calendar.from_ical(data).walk():
        if comp.name in _KINDS:
            entry = _entry(comp)
            if entry is not None:
                entries[entry.uid] = entry
    return entries


def _entry(comp: icalendar.Component) -> Entry | None:
    try:
        start = comp.decoded("DTSTART")
        if not isinstance(start, datetime) or start.tzinfo is None:
            return None
        due = comp.decoded("DUE") if comp.name == "VTODO" and "DUE" in comp else None
        stamp = comp.decoded("DTSTAMP") if "DTSTAMP" in comp else None
        return Entry(
            uid=str(comp["UID"]), key=str(comp.get("X-FOLLOWUP-KEY", "")),
            owner=str(comp["X-FOLLOWUP-OWNER"]),
            application=str(comp.get("X-FOLLOWUP-APPLICATION", "")),
            status=str(comp.get("X-FOLLOWUP-STATUS", "delivered")),
            start=start.astimezone(UTC),
            due=due.astimezone(UTC) if isinstance(due, datetime) else None,
            zone=str(comp["DTSTART"].params.get("TZID", "UTC")),
            summary=str(comp.get("SUMMARY", "")), description=str(comp.get("DESCRIPTION", "")),
            sequence=int(comp.get("SEQUENCE", 0)),
            stamp=stamp.astimezone(UTC) if isinstance(stamp, datetime) else None)
    except (KeyError, ValueError, TypeError):
        return None  # not one of ours


def write(path: Path, entries: dict[str, Entry], *, todo: bool) -> None:
    """Write ``entries`` as the whole file, atomically (see the module's docstring)."""
    cal = icalendar.Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", PRODID)
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "followup")
    cal.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    days: list[date] = []
    for entry in sorted(entries.values(), key=lambda e: (e.start, e.uid)):
        cal.add_component(entry.component(todo=todo))
        days += [entry.start.date(), (entry.due or entry.start).date()]
    if days:
        cal.add_missing_timezones(first_date=min(days) - timedelta(days=1),
                                  last_date=max(days) + timedelta(days=366))
    data = cal.to_ical()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:  # mkstemp made it 0600
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    if os.name == "posix":  # so the new name survives a power cut
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
