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
reminder's time. Its ``UID`` is the reminder's idempotency key with ``@followup``: stable,
so a calendar app always knows which reminder an entry is.

The file follows the plan, not only what was sent:

- ``planned(...)``, an optional channel method the engine calls after every change to an
  application's timers (see ``followup.delivery.channels.Planner``), gives the reminders now
  planned. A new one is added, at its future time, so the alarm rings when it is due; one
  that moved (an employer's stated date pushes the follow-up call) is rewritten with its
  ``SEQUENCE`` one higher and a new ``DTSTAMP``, so a client replaces the old version; one
  that left the plan without firing (done, or its state was left) is **removed**.
- ``send(notification)``, when a reminder routed to ``calendar`` goes out, rewrites its
  entry with the text it was sent with (the subject, and the draft in the description),
  again with a higher ``SEQUENCE``. The same notification sent twice (delivery is at least
  once) changes nothing.
- A reminder whose time has passed stays ``keep_days`` days, then it is dropped.

How the file is written
-----------------------
Every change reads the file, changes the entries and writes a whole new file beside it,
which then replaces the old one (``os.replace``): a reader never sees half a file, and a
crash leaves the old file or the new. The file is readable by its owner only (mode
0600). Writers take a lock first (a thread lock, and ``flock`` on ``PATH.lock`` where
the platform has it), so two deliveries at once, from threads or processes, never lose
each other's entries.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from followup.interop.ical import escape_text, fold_line

try:
    import fcntl
except ImportError:  # Windows: the thread lock alone
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "CalendarChannel",
    "CalendarFileError",
    "followup_register_channels",
    "owner_file_name",
]

CHANNEL = "calendar"
EVENT_LENGTH = timedelta(minutes=15)
_PRODID = "-//followup//calendar channel//EN"
_KINDS = ("VEVENT", "VTODO")
# An owner that is its own file name: one that no other owner's name, no hashed name and
# no case-folding of either can equal.
_OWNER_PLAIN = re.compile(r"[a-z0-9](?:[a-z0-9._@-]{0,62}[a-z0-9_@])?")
_OWNER_HASHED = re.compile(r".*-[0-9a-f]{16}")
_OWNER_UNSAFE = re.compile(r"[^a-z0-9]+")
_WINDOWS_DEVICES = re.compile(r"(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\..*)?")
# What a content line may not hold (RFC 5545 3.1: CONTROL), and C1 controls: dropped from
# text a person reads; CR and LF stay for ``escape_text``, which writes them as ``\n``.
_TEXT_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# In a value that names something (UID, owner, application), control characters are
# written %XX, so that the value is one valid line and still tells any two apart. An
# owner's % is written %25 too (keys already escape theirs).
_ID_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_OWNER_SPECIAL = re.compile("[%\x00-\x1f\x7f-\x9f]")
_LOCKS: dict[Path, threading.Lock] = {}  # one per file, so two channel objects share it
_LOCKS_GUARD = threading.Lock()


class CalendarFileError(FollowupError):
    """The calendar file could not be read or written; the dispatcher retries later."""


@dataclass
class _Entry:
    """One reminder in the file: its identity, and its lines without UID/DTSTAMP/SEQUENCE."""

    kind: str
    uid: str  # as written (escaped)
    owner: str  # as written (escaped)
    application: str  # as written (escaped); "" for a reminder over all applications
    status: str  # planned | fired | delivered
    start: datetime
    sequence: int
    stamp: str
    body: list[str]

    def lines(self) -> list[str]:
        return [f"BEGIN:{self.kind}", f"UID:{self.uid}", f"DTSTAMP:{self.stamp}",
                f"SEQUENCE:{self.sequence}", *self.body, f"END:{self.kind}"]


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
        entry = self._entry(
            uid=notification.key, owner=owner, application=notification.application_id,
            status="delivered", start=notification.created_at, due=notification.due_at,
            summary=notification.subject, description=_sent_description(notification))
        with self._editing(notification.owner) as entries:
            _put(entries, entry, self._stamp())

    def planned(
        self,
        *,
        owner: str,
        application: Application | None,
        timers: Sequence[Timer],
        fired: Sequence[Timer],
        calendar: WorkCalendar,
    ) -> None:
        """Bring ``application``'s (or, when None, the owner-level) planned reminders in
        step with ``timers``, the reminders it has now; ``fired`` went out just now."""
        app_id = _id_field(application.id if application is not None else "")
        escaped_owner = _owner_field(owner)
        stamp = self._stamp()
        wanted = [self._planned_entry(owner, application, t, calendar)
                  for t in timers if t.action == "notify"]
        gone_off = {_id_field(t.key + "@followup") for t in fired}
        with self._editing(owner) as entries:
            keep = {e.uid for e in wanted}
            for uid, old in list(entries.items()):
                if old.owner != escaped_owner or old.application != app_id:
                    continue
                if uid in gone_off and old.status == "planned":
                    old.status = "fired"
                    old.body = _with_status(old.body, "fired")
                elif old.status == "planned" and uid not in keep:
                    del entries[uid]  # cancelled: done, or its state was left
            for entry in wanted:
                previous = entries.get(entry.uid)
                if previous is None or previous.status == "planned":
                    _put(entries, entry, stamp)

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
            if head.strip() and f"PRODID:{_PRODID}" not in head:
                raise PluginError(f"{where} is a file followup did not write (it would be "
                                  "replaced): choose a new file name")

    def file_for(self, owner: str) -> Path:
        """The file that holds ``owner``'s reminders."""
        if "{owner}" not in self.path:
            return Path(self.path)
        return Path(self.path.replace("{owner}", owner_file_name(owner)))

    # -- the file -----------------------------------------------------------------------

    @contextmanager
    def _editing(self, owner: str) -> Iterator[dict[str, _Entry]]:
        """The file's entries, under the lock; written back if the block ends normally."""
        path = self.file_for(owner)
        try:
            with _locked(path):
                entries = _read(path)
                before = {uid: e.lines() for uid, e in entries.items()}
                yield entries
                horizon = self._clock.now() - self.keep
                for uid in [u for u, e in entries.items()
                            if e.status != "planned" and e.start < horizon]:
                    del entries[uid]
                if {uid: e.lines() for uid, e in entries.items()} != before:
                    _write(path, entries)
        except OSError as exc:
            raise CalendarFileError(f"calendar file {path}: {exc.strerror or exc}") from exc

    def _stamp(self) -> str:
        return _utc(self._clock.now())

    def _planned_entry(self, owner: str, application: Application | None, timer: Timer,
                       calendar: WorkCalendar) -> _Entry:
        return self._entry(
            uid=timer.key, owner=_owner_field(owner),
            application=application.id if application is not None else "",
            status="planned", start=timer.fire_at, due=timer.due_at,
            summary=_planned_summary(timer, application),
            description=_planned_description(timer, application, calendar))

    def _entry(self, *, uid: str, owner: str, application: str, status: str,
               start: datetime, due: datetime | None, summary: str,
               description: str) -> _Entry:
        kind = "VTODO" if self.todo else "VEVENT"
        body = [f"DTSTART:{_utc(start)}"]
        if self.todo:
            # RFC 5545 wants DUE after DTSTART: without a later deadline, the end of
            # the reminder's 15 minutes.
            deadline = due if due is not None and due > start else start + EVENT_LENGTH
            body += [f"DUE:{_utc(deadline)}", "STATUS:NEEDS-ACTION"]
        else:
            body += [f"DTEND:{_utc(start + EVENT_LENGTH)}", "TRANSP:TRANSPARENT"]
        body += [
            f"SUMMARY:{_text(summary)}",
            f"DESCRIPTION:{_text(description)}",
            f"X-FOLLOWUP-OWNER:{owner}",
            f"X-FOLLOWUP-APPLICATION:{_id_field(application)}",
            f"X-FOLLOWUP-STATUS:{status}",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "TRIGGER;RELATED=START:PT0S",
            f"DESCRIPTION:{_text(summary)}",
            "END:VALARM",
        ]
        return _Entry(kind=kind, uid=_id_field(uid + "@followup"), owner=owner,
                      application=_id_field(application), status=status,
                      start=start.astimezone(UTC), sequence=0, stamp="", body=body)

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


def _text(value: str) -> str:
    """A TEXT value a person reads: without control characters, escaped."""
    return escape_text(_TEXT_CONTROLS.sub("", value))


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match[0].encode("utf-8"))


def _id_field(value: str) -> str:
    """A value that names something (UID, application): controls as %XX, escaped."""
    return escape_text(_ID_CONTROLS.sub(_percent, value))


def _owner_field(owner: str) -> str:
    """``X-FOLLOWUP-OWNER``: the owner with ``%`` and controls as %XX, escaped, so that
    no two owners share a value and every value is one line."""
    return escape_text(_OWNER_SPECIAL.sub(_percent, owner))


def _put(entries: dict[str, _Entry], entry: _Entry, stamp: str) -> None:
    """Add ``entry``, or replace the one with its UID: unchanged keeps its SEQUENCE and
    DTSTAMP (a repeated delivery writes nothing), changed gets SEQUENCE + 1."""
    previous = entries.get(entry.uid)
    if previous is None:
        entry.sequence, entry.stamp = 0, stamp
    elif previous.body == entry.body and previous.kind == entry.kind:
        return
    else:
        entry.sequence, entry.stamp = previous.sequence + 1, stamp
    entries[entry.uid] = entry


def _with_status(body: list[str], status: str) -> list[str]:
    return [f"X-FOLLOWUP-STATUS:{status}" if line.startswith("X-FOLLOWUP-STATUS:") else line
            for line in body]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
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


def _read(path: Path) -> dict[str, _Entry]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    # Lines end in CRLF (or LF), and only there: not at the other characters that
    # str.splitlines takes for line breaks (U+2028, U+0085, ...), which a name may hold.
    lines = re.split(r"\r?\n", re.sub(r"\r?\n[ \t]", "", text))
    entries: dict[str, _Entry] = {}
    current: list[str] | None = None
    for line in lines:
        if current is None:
            if line in (f"BEGIN:{k}" for k in _KINDS):
                current = [line]
            continue
        current.append(line)
        if line == "END:" + current[0][len("BEGIN:"):]:
            entry = _parse(current)
            if entry is not None:
                entries[entry.uid] = entry
            current = None
    return entries


def _parse(block: list[str]) -> _Entry | None:
    kind = block[0][len("BEGIN:"):]
    fields: dict[str, str] = {}
    body: list[str] = []
    for line in block[1:-1]:
        name, _, value = line.partition(":")
        if name in ("UID", "DTSTAMP", "SEQUENCE"):
            fields[name] = value
            continue
        body.append(line)
        if name.startswith(("X-FOLLOWUP-", "DTSTART")):
            fields.setdefault(name, value)
    try:
        start = datetime.strptime(fields["DTSTART"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return _Entry(kind=kind, uid=fields["UID"], owner=fields["X-FOLLOWUP-OWNER"],
                      application=fields.get("X-FOLLOWUP-APPLICATION", ""),
                      status=fields.get("X-FOLLOWUP-STATUS", "delivered"), start=start,
                      sequence=int(fields.get("SEQUENCE", "0")),
                      stamp=fields.get("DTSTAMP", ""), body=body)
    except (KeyError, ValueError):
        return None  # not one of ours: left out when the file is next written


def _write(path: Path, entries: dict[str, _Entry]) -> None:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{_PRODID}", "CALSCALE:GREGORIAN",
             "X-WR-CALNAME:followup", "REFRESH-INTERVAL;VALUE=DURATION:PT15M"]
    for entry in sorted(entries.values(), key=lambda e: (e.start, e.uid)):
        lines.extend(entry.lines())
    lines.append("END:VCALENDAR")
    data = "".join(fold_line(line) + "\r\n" for line in lines).encode("utf-8")
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


def _existing_parent(file: Path) -> Path:
    folder = file.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


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
