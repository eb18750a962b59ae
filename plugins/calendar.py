"""The calendar channel: keeps an iCalendar file of your reminders for a calendar app.

For people who live in their calendar. Point a calendar app at the file (subscribe to
it, or sync the folder it is in) and every reminder shows up at its time, with an alarm.
Configure it with the path of the file::

    FOLLOWUP_CALENDAR_PATH=~/followup/reminders.ics
    FOLLOWUP_CALENDAR_COMPONENT=event      # or todo: a task with its deadline as DUE
    FOLLOWUP_CALENDAR_KEEP_DAYS=90         # how long past reminders stay in the file

or ``path``, ``component`` and ``keep_days`` in the table ``[channels.calendar]`` of the
settings file. The path may contain ``{owner}``: then each owner gets a file of their
own (``reminders-{owner}.ics``); without it one file holds every owner's reminders,
which suits one person.

What ``{owner}`` becomes in a file name (``owner_file_name``): the owner as it is when
it is a plain name (lower-case ASCII letters and digits, with ``.``, ``_``, ``@`` or
``-`` after the first; ending in a letter, a digit, ``_`` or ``@``; at most 64
characters; not a device name Windows reserves; not ending in ``-`` and 16 hex digits).
Any other owner becomes a readable slug (its ASCII letters and digits, lower-cased, other
runs as ``_``, at most 40 characters, ``owner`` when none is left), ``-``, and the first
16 hex digits of the SHA-256 of the owner's exact text (UTF-8). So ``ada`` is
``reminders-ada.ics`` and ``ada x`` is ``reminders-ada_x-1bd72a378921edfa.ics``, while
``Ada``, ``ada.``, ``ada_x``, ``../x`` and ``王伟`` each get a file of their own: two
owners never share a file, even where file names ignore case, and no owner names a path
outside the folder. (Before this rule an owner that is not a plain name had a file named
with ``_`` for each unsafe character, which two owners could share; that file is no
longer written: point the calendar app at the new one.)

Any name may stand in a reminder: text a person reads (``SUMMARY``, ``DESCRIPTION``)
loses its control characters, and values that name something (``UID``, the owner, the
application) write theirs as ``%XX``, so every entry is valid iCalendar, one line per
property, and reads back as it was written.

Without any ``FOLLOWUP_CALENDAR_...`` setting the channel is not
registered; with a setting but no path, or a path that names a folder or a file that
followup did not write, loading fails with a ``PluginError`` that says what to change.

What the file holds
-------------------
Each reminder is a ``VEVENT`` (15 minutes at the reminder's time, transparent: it does not
make you look busy) or, with ``component = todo``, a ``VTODO`` that starts at the
reminder's time and is due at its deadline; either way with a ``VALARM`` at the
reminder's time, its times in the owner's zone (``TZID``, with a ``VTIMEZONE``). Its
``UID`` is the one ``followup export --ics`` and ``followup serve`` give the reminder
(``followup.interop.ical.reminder_uid``: opaque, and stable when a contact's name is
corrected), so a calendar app always knows which reminder an entry is.

The file follows the plan, not only what was sent:

- ``planned(...)``, an optional channel method the engine calls after every change to an
  application's timers (see ``followup.delivery.channels.Planner``), gives the reminders now
  planned. A new one is added, at its future time, so the alarm rings when it is due; one
  that moved (an employer's stated date pushes the follow-up call) is rewritten with its
  ``SEQUENCE`` one higher and a new ``DTSTAMP``, so a client replaces the old version; one
  that left the plan without firing (done, or its state was left) is kept as
  ``STATUS:CANCELLED`` (``SEQUENCE`` one higher, no alarm) for as long as the feed keeps
  one (``CANCELLED_KEEP`` in ``followup.interop.ical``), then removed.
- ``send(notification)``, when a reminder routed to ``calendar`` goes out, rewrites its
  entry with the text it was sent with (the subject, and the draft in the description),
  again with a higher ``SEQUENCE``. The same notification sent twice (delivery is at least
  once) changes nothing.
- A reminder whose time has passed stays ``keep_days`` days, then it is dropped.

How the file is written: ``followup.plugins.calendar_file``.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from followup import (
    Application,
    Channel,
    Clock,
    FollowupError,
    Notification,
    PluginError,
    Settings,
    SystemClock,
    Timer,
    WorkCalendar,
    hookimpl,
)
from followup.interop.ical import CANCELLED_KEEP, draft_with_due, reminder_uid
from followup.plugins.calendar_file import PRODID, Entry, locked, put, read, write

__all__ = [
    "CalendarChannel",
    "CalendarFileError",
    "followup_register_channels",
    "owner_file_name",
]

CHANNEL = "calendar"
# An owner that is its own file name: one that no other owner's name, no hashed name and
# no case-folding of either can equal.
_OWNER_PLAIN = re.compile(r"[a-z0-9](?:[a-z0-9._@-]{0,62}[a-z0-9_@])?")
_OWNER_HASHED = re.compile(r".*-[0-9a-f]{16}")
_OWNER_UNSAFE = re.compile(r"[^a-z0-9]+")
_WINDOWS_DEVICES = re.compile(r"(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\..*)?")
# In a value that names something (owner, application), control characters are written
# %XX, so that the value is one valid line and still tells any two apart. An owner's %
# is written %25 too (keys already escape theirs).
_ID_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_OWNER_SPECIAL = re.compile("[%\x00-\x1f\x7f-\x9f]")


class CalendarFileError(FollowupError):
    """The calendar file could not be read or written; the dispatcher retries later."""


class CalendarChannel:
    """Keeps reminders in an iCalendar file: planned ones, and the ones it was sent."""

    name = CHANNEL
    #: Its entries are one per reminder: an owner's daily digest reaches it one by one.
    digest = False

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        todo: bool = False,
        keep_days: int = 90,
        clock: Clock | None = None,
    ) -> None:
        """``path`` may hold ``{owner}`` (one file per owner); ``todo`` writes VTODOs
        instead of VEVENTs; ``clock`` dates each change (``DTSTAMP``)."""
        text = os.path.expanduser(os.fspath(path))
        #: The file (absolute, so a later ``chdir`` cannot move it); may hold ``{owner}``.
        self.path = os.path.abspath(text)
        self.todo = todo
        self.keep = timedelta(days=keep_days)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self.check()

    # -- the channel contract ---------------------------------------------------------

    def send(self, notification: Notification) -> None:
        """The reminder went out: its entry now shows the text it was sent with."""
        owner = _owner_field(notification.owner)
        with self._editing(notification.owner) as entries:
            planned = next((e for e in entries.values()
                            if e.key == notification.key and e.owner == owner), None)
            uid = planned.uid if planned is not None else reminder_uid(notification.key, None)
            zone = planned.zone if planned is not None else "UTC"
            entry = Entry(
                uid=uid, key=notification.key, owner=owner,
                application=_id_field(notification.application_id), status="delivered",
                start=notification.created_at, due=notification.due_at, zone=zone,
                summary=notification.subject, description=_sent_description(notification))
            put(entries, entry, self._clock.now(), todo=self.todo)

    def planned(
        self,
        *,
        owner: str,
        application: Application | None,
        timers: Sequence[Timer],
        fired: Sequence[Timer],
        calendar: WorkCalendar,
        messages: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        """Bring ``application``'s (or, when None, the owner-level) planned reminders in
        step with ``timers``, the reminders it has now; ``fired`` went out just now.
        ``messages``: each reminder's subject and draft by key, as its notification would
        say them now (the engine gives them; without them an entry names its rule)."""
        app_id = _id_field(application.id if application is not None else "")
        escaped_owner = _owner_field(owner)
        said = messages or {}
        wanted = [self._planned_entry(escaped_owner, application, t, calendar, said.get(t.key))
                  for t in timers if t.action == "notify"]
        gone_off = {t.key for t in fired}
        now = self._clock.now()
        with self._editing(owner) as entries:
            keep = {e.uid for e in wanted}
            for uid, old in list(entries.items()):
                if old.owner != escaped_owner or old.application != app_id:
                    continue
                if old.key in gone_off and old.status == "planned":
                    entries[uid] = replace(old, status="fired")
                elif old.status == "planned" and uid not in keep:
                    # Done, or its state was left: cancelled, for every client to see.
                    put(entries, replace(old, status="cancelled"), now, todo=self.todo)
            for entry in wanted:
                previous = entries.get(entry.uid)
                if previous is None or previous.status in ("planned", "cancelled"):
                    put(entries, entry, now, todo=self.todo)

    # -- checks -----------------------------------------------------------------------

    def check(self) -> None:
        """Refuse a path that cannot work, with what to change: called when loading."""
        where = f"channel 'calendar': FOLLOWUP_CALENDAR_PATH={self.path!r}"
        try:
            probe = self.path.format(owner="ada")
        except (KeyError, IndexError, ValueError):
            raise PluginError(f"{where}: only {{owner}} may stand in braces in the path") from None
        file = Path(probe)
        if file.is_dir() or self.path.endswith(os.sep):
            raise PluginError(f"{where} names a folder: name a file in it, such as "
                              "reminders.ics")
        folder = _existing_parent(file)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PluginError(f"{where}: cannot write in the folder {folder}: choose "
                              "another path, or give yourself write permission there")
        if "{owner}" not in self.path and file.exists():
            try:
                head = file.read_text(encoding="utf-8")[:4096]
            except (OSError, UnicodeDecodeError) as exc:
                raise PluginError(f"{where}: cannot read the file: {exc}") from exc
            if head.strip() and f"PRODID:{PRODID}" not in head:
                raise PluginError(f"{where} is a file followup did not write (it would be "
                                  "replaced): choose a new file name")

    def file_for(self, owner: str) -> Path:
        """The file that holds ``owner``'s reminders."""
        if "{owner}" not in self.path:
            return Path(self.path)
        return Path(self.path.replace("{owner}", owner_file_name(owner)))

    # -- the file -----------------------------------------------------------------------

    @contextmanager
    def _editing(self, owner: str) -> Iterator[dict[str, Entry]]:
        """The file's entries, under the lock; written back if the block ends normally
        and changed something. Past reminders leave after ``keep_days``, cancelled
        ones ``CANCELLED_KEEP`` after they were cancelled."""
        path = self.file_for(owner)
        try:
            with locked(path):
                try:
                    entries = read(path)
                except ValueError as exc:
                    raise CalendarFileError(f"calendar file {path} is not iCalendar ({exc}): "
                                            "move it away, and followup writes a new one") \
                        from exc
                before = dict(entries)
                yield entries
                now = self._clock.now()
                for uid, e in list(entries.items()):
                    if e.status == "cancelled":
                        if e.stamp is not None and e.stamp < now - CANCELLED_KEEP:
                            del entries[uid]
                    elif e.status != "planned" and e.start < now - self.keep:
                        del entries[uid]
                if entries != before:
                    write(path, entries, todo=self.todo)
        except OSError as exc:
            raise CalendarFileError(f"calendar file {path}: {exc.strerror or exc}") from exc

    def _planned_entry(self, owner: str, application: Application | None, timer: Timer,
                       calendar: WorkCalendar, message: tuple[str, str] | None) -> Entry:
        if message is not None and message[0].strip():
            summary, description = message[0], draft_with_due(message[1], timer.due_at, calendar)
        else:
            summary = _planned_summary(timer, application)
            description = _planned_description(timer, application, calendar)
        return Entry(
            uid=reminder_uid(timer.key, application), key=timer.key, owner=owner,
            application=_id_field(application.id if application is not None else ""),
            status="planned", start=timer.fire_at, due=timer.due_at, zone=str(calendar.tz),
            summary=summary, description=description)

    def __repr__(self) -> str:
        return f"CalendarChannel({self.path!r})"


def owner_file_name(owner: str) -> str:
    """What ``{owner}`` stands for in a file name: ``owner`` itself when it is a plain
    name, else a slug and a hash of its exact text (see the module's docstring).

    >>> owner_file_name("ada"), owner_file_name("ada.")
    ('ada', 'ada-7222444dfd036fa9')
    """
    plain = (_OWNER_PLAIN.fullmatch(owner) and not _OWNER_HASHED.fullmatch(owner)
             and not _WINDOWS_DEVICES.fullmatch(owner))
    if plain:
        return owner
    slug = _OWNER_UNSAFE.sub("_", owner.lower())[:40].strip("_") or "owner"
    digest = hashlib.sha256(owner.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{slug}-{digest}"


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match[0].encode("utf-8"))


def _id_field(value: str) -> str:
    """A value that names something (the application): controls as %XX."""
    return _ID_CONTROLS.sub(_percent, value)


def _owner_field(owner: str) -> str:
    """``X-FOLLOWUP-OWNER``: the owner with ``%`` and controls as %XX, so that no two
    owners share a value and every value is one line."""
    return _OWNER_SPECIAL.sub(_percent, owner)


def _existing_parent(file: Path) -> Path:
    folder = file.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _planned_summary(timer: Timer, app: Application | None) -> str:
    who = f"{timer.contact} ({app.company})" if app and timer.contact else (
        app.company if app else "all applications")
    return f"{timer.rule}: {who}"


def _planned_description(timer: Timer, app: Application | None,
                         calendar: WorkCalendar) -> str:
    zone = str(calendar.tz)
    lines = []
    if timer.due_at is not None:
        lines.append(f"Due {calendar.local(timer.due_at):%a %Y-%m-%d %H:%M} ({zone}).")
    if app is not None:
        lines.append(f"{app.role} at {app.company} (application {app.id}).")
    else:
        lines.append("About all of your applications.")
    lines.append(f"Rule: {timer.rule}.")
    return "\n".join(lines)


def _sent_description(notification: Notification) -> str:
    lines = []
    due = notification.data.get("due_local")
    if isinstance(due, str):
        lines.append(f"Due {datetime.fromisoformat(due):%a %Y-%m-%d %H:%M}.")
    if notification.body.strip():
        lines.append(notification.body.rstrip())
    lines.append(f"Rule: {notification.rule}.")
    return "\n".join(lines)


@hookimpl
def followup_register_channels(register: Callable[[Channel], None], settings: Settings) -> None:
    """Register the ``calendar`` channel when any ``FOLLOWUP_CALENDAR_...`` setting is
    present; check its path, component and keep_days first."""
    if not settings.configured(CHANNEL):
        return
    path = settings.require(CHANNEL, "path")
    component = (settings.get(CHANNEL, "component") or "event").strip().lower()
    if component not in ("event", "todo"):
        raise PluginError(f"channel 'calendar': FOLLOWUP_CALENDAR_COMPONENT must be event "
                          f"or todo, not {component!r}")
    keep_days = settings.integer(CHANNEL, "keep_days", 90)
    if keep_days < 0:
        raise PluginError(f"channel 'calendar': FOLLOWUP_CALENDAR_KEEP_DAYS must be 0 or "
                          f"more, not {keep_days}")
    register(CalendarChannel(path, todo=component == "todo", keep_days=keep_days))
