"""What the commands share: reading options, opening the engine, printing."""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO, cast

if TYPE_CHECKING:
    from followup.model import Contact, Timer
    from followup.runtime.engine import Engine
    from followup.store import Store
    from followup.timing.calendar import WorkCalendar

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_STORE, EXIT_PLUGIN = 0, 1, 2, 3, 4

ROLES_OPTIONS = ("interviewer", "reference", "referral", "recruiter")

# Makes one subcommand's parser: cmd(name, help).
Command = Callable[[str, str], argparse.ArgumentParser]


#: The collector's first threshold while a command that ends when its work is done runs
#: (``short_lived``): Python's default (700) runs a collection every few hundred objects
#: made, and a command makes some 150,000 while it imports and reads, in collections
#: that find next to nothing (measured in bench/RESULTS.md, the notes of 2026-12-06 21:04).
SHORT_LIVED_THRESHOLD = 100_000

_thresholds: list[tuple[int, ...]] = []  # the collector's own, while short_lived holds


def short_lived() -> None:
    """Tune Python's garbage collector for a process that ends with this command: collect
    cycles seldom while it runs (``SHORT_LIVED_THRESHOLD``). ``long_running`` undoes it."""
    import gc

    if not _thresholds:
        _thresholds.append(gc.get_threshold())
    gc.set_threshold(SHORT_LIVED_THRESHOLD, *_thresholds[0][1:])


def long_running() -> None:
    """Put the collector back as Python sets it, for a command that runs until stopped
    (``run``, ``serve``): over days, cycles are collected as often as Python would."""
    import gc

    if _thresholds:
        gc.set_threshold(*_thresholds.pop())


def ending() -> None:
    """The process ends now: what it made is left to the operating system, not walked by
    the interpreter's last collections (``gc.freeze``; what it saves: bench/RESULTS.md,
    the notes of 2026-12-06 21:04). Everything else of a normal exit still runs:
    ``atexit`` handlers, flushing the standard streams, joining threads."""
    import gc

    gc.freeze()


class Usage(Exception):
    """A usage mistake found after argparse (exit 2)."""


def default_db() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "followup", "followup.db")


def contact_options(p: argparse.ArgumentParser) -> None:
    for role in ROLES_OPTIONS:
        p.add_argument(f"--{role}", action="append", default=[], metavar='"NAME[, TITLE][ <EMAIL>]"',
                       help=f"a contact with the role {role} (repeatable)")


MAX_DAYS = 36_600  # how far ahead a command looks at most: a hundred years


def day_count(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if days < 0:
        raise argparse.ArgumentTypeError("the number of days cannot be negative")
    if days > MAX_DAYS:
        raise argparse.ArgumentTypeError(f"{days:,} days is too far ahead: at most "
                                         f"{MAX_DAYS:,} (a hundred years)")
    return days


def seconds(least: float, most: float) -> Callable[[str], float]:
    """An argparse type: a number of seconds from ``least`` to ``most``."""

    def read(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not least <= value <= most:  # also refuses nan
            raise argparse.ArgumentTypeError(
                f"{text} seconds: give a number from {least:g} to {most:g}")
        return value

    return read


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("followup-engine")
    except PackageNotFoundError:
        return "unknown"


def opt(args: argparse.Namespace, name: str, env: str | None = None, default: Any = None) -> Any:
    value = getattr(args, name, None)
    if value is None and env:
        value = os.environ.get(env)
    return default if value is None else value


def owner_id(args: argparse.Namespace) -> str:
    return str(opt(args, "owner", "FOLLOWUP_OWNER") or os.environ.get("USER") or "me")


def sqlite_path(url: str) -> str | None:
    """The file behind a SQLite store URL, or None for other stores."""
    if url.startswith("memory:"):
        return None
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :].partition("?")[0]
    return None if "://" in url else url


def store_url(args: argparse.Namespace, db: str | None = None) -> str:
    """The store the options name: --db, else FOLLOWUP_DB, else the default file."""
    return str(db or opt(args, "db", "FOLLOWUP_DB") or default_db())


def describe_store(url: str) -> str:
    """A store URL fit to print: a PostgreSQL password is left out."""
    if url.startswith(("postgresql://", "postgres://")):
        from followup.store.postgres import describe

        return describe(url)
    return url


def open_store_at(
    args: argparse.Namespace,
    *,
    db: str | None = None,
    create: bool = False,
    migrate: bool = False,
) -> Store:
    """The store the options name, as ``open_engine`` opens it (same ``create`` and
    ``migrate``), for commands that need no rules."""
    from followup.store import open_store

    url = store_url(args, db)
    if not create and sqlite_path(url) is not None and not os.path.exists(sqlite_path(url) or ""):
        raise Usage(f"no followup store at {sqlite_path(url)}: create it with  followup init")
    return open_store(url, migrate=migrate)


#: Commands that deliver reminders or serve them: they load every plugin. The others load
#: plugins only when one could change what they do (``plugins_for_planning``).
DELIVERING = frozenset({"run", "serve"})


def open_engine(
    args: argparse.Namespace,
    *,
    db: str | None = None,
    rules: str | None = None,
    create: bool = False,
    migrate: bool = False,
) -> Engine:
    """The engine on the store the options name. ``create``: a missing SQLite file is
    made; ``migrate``: a PostgreSQL database is brought up to date (SQLite always is).

    A command in ``DELIVERING`` gets every installed plugin's channels; any other gets
    the plugins only when one could change its plan, and no channels otherwise."""
    from followup.runtime.engine import Engine

    store = open_store_at(args, db=db, create=create, migrate=migrate)
    try:
        pack = rules or opt(args, "rules", "FOLLOWUP_RULES")
        if getattr(args, "command", None) in DELIVERING:
            return Engine(rules=pack, store=store)
        from followup.delivery.manager import plugins_for_planning

        plugins = plugins_for_planning()
        if plugins is None:
            return Engine(rules=pack, store=store, channels=[])
        return Engine(rules=pack, store=store, plugins=plugins)
    except BaseException:
        store.close()
        raise


def plugin_rules() -> dict[str, Any]:
    """What ``load_rules`` needs from the installed plugins: the rule packs they offer by
    name (``packs``) and the sandbox with their template filters (``sandbox``); nothing
    is loaded when only followup's own plugins are installed (they offer neither)."""
    from followup.delivery.manager import plugins_for_planning

    plugins = plugins_for_planning()
    if plugins is None:
        return {"packs": None, "sandbox": None}
    return {"packs": plugins.packs, "sandbox": plugins.sandbox}


def parse_contact(text: str, role: str) -> Contact:
    """A contact from an option's value: a name, then a title after a comma, then an
    address in angle brackets, as an email header writes one. A name holding a comma is
    quoted as in a header: ``"Doe, Jane" <jane@x.example>``, ``"Doe, Jane", CTO``."""
    from followup.model import Contact

    example = f'--{role} "Jane Doe, Engineering Manager <jane@x.example>"'
    email = ""
    text = text.strip()
    if text.endswith(">") and "<" in text:
        cut = text.rindex("<")
        text, email = text[:cut].strip(), _address(text[cut + 1 : -1], role, example)
    name, title = _name_and_title(text, role, example)
    if not name:
        raise Usage(f"--{role} needs a name: {example}")
    return Contact(name=name, role=role, title=title, email=email)


def _name_and_title(text: str, role: str, example: str) -> tuple[str, str]:
    if not text.startswith('"'):
        name, _, title = text.partition(",")
        return name.strip(), title.strip()
    end = re.search(r'(?<!\\)(?:\\\\)*"', text[1:])  # the first unescaped quote
    if end is None:
        raise Usage(f"--{role} {text!r}: the quote around the name is not closed: {example}")
    from email.utils import unquote

    name, rest = unquote(text[: end.end() + 1]).strip(), text[end.end() + 1 :].strip()
    if rest and not rest.startswith(","):
        raise Usage(f"--{role} {text!r}: after the quoted name comes a comma and the title, "
                    f"or the address: {example}")
    return name, rest[1:].strip()


def _address(spec: str, role: str, example: str) -> str:
    from email.errors import HeaderParseError
    from email.headerregistry import Address

    spec = spec.strip()
    try:
        return Address(addr_spec=spec).addr_spec if spec else ""
    except (HeaderParseError, ValueError, IndexError) as exc:
        raise Usage(f"--{role}: <{spec}> is not an email address ({exc}): {example}") from None


def contacts_of(args: argparse.Namespace) -> list[Contact]:
    return [parse_contact(t, role) for role in ROLES_OPTIONS for t in getattr(args, role, [])]


def parse_facts(items: Sequence[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise Usage(f"--fact takes NAME=VALUE, e.g. decision_expected_on=2027-01-08; got {item!r}")
        out[name.strip()] = value.strip()
    return out


def when(text: str, calendar: WorkCalendar, what: str) -> datetime:
    from followup.limits import check_day

    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Usage(f"{what}: {text!r} is not a date and time; write e.g. 2026-12-23T15:00 "
                     "(read in your time zone) or 2026-12-23T15:00-05:00") from None
    check_day(value.date(), what)
    return value if value.tzinfo else calendar.to_utc(value)


def print_json(value: Any) -> None:
    import json

    json.dump(value, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def local(calendar: WorkCalendar, instant: datetime | None) -> str:
    if instant is None:
        return ""
    return calendar.local(instant).strftime("%a %Y-%m-%d %H:%M")


def timer_json(calendar: WorkCalendar, t: Timer) -> dict[str, Any]:
    return {
        "application": t.application_id,
        "rule": t.rule,
        "action": t.action,
        "at": calendar.local(t.fire_at).isoformat(),
        "due": calendar.local(t.due_at).isoformat() if t.due_at else None,
        "contact": t.contact,
        "key": t.key,
    }


# What a terminal would act on rather than show: escape sequences (CSI, as in colours and
# cursor moves; OSC, DCS, SOS, PM and APC strings up to their terminator or the end of the
# line, as in window titles and hyperlinks; the short ones), their 8-bit C1 forms, and
# every other C0 or C1 control character and DEL. A business card or a pasted name may
# hold any of them.
_SEQUENCES = ("(?:\x1b\\[|\x9b)[0-?]*[ -/]*[@-~]?"
              "|(?:\x1b[\\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\\\|\x9c)?"
              "|\x1b[ -/]*[0-~]?")
_CONTROLS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {}


def _control(keep: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The control characters not in ``keep``, and what to take out: the sequences
    (each begins with one of them) and those characters. A kept line feed is no match,
    so a long text without the others is looked through once, not matched per line."""
    found = _CONTROLS.get(keep)
    if found is None:
        single = "[" + re.escape("".join(
            c for c in map(chr, (*range(0x20), *range(0x7F, 0xA0))) if c not in keep)) + "]"
        found = _CONTROLS[keep] = (re.compile(single), re.compile(f"{_SEQUENCES}|{single}"))
    return found


def printable(text: str, keep: str = "\n\t") -> str:
    r"""``text`` without control sequences: what a terminal shows is what it holds.

    ``keep`` names the control characters to leave in (line feed and tab by default).

    >>> printable("Jane \x1b[31mDoe\x1b[0m\x1b]0;owned\x07\r\n")
    'Jane Doe\n'
    """
    if text.isprintable():
        return text
    controls, taken_out = _control(keep)
    return text if controls.search(text) is None else taken_out.sub("", text)


class _Printable(io.TextIOBase):
    """A text stream that writes through to another without control sequences."""

    def __init__(self, stream: TextIO, keep: str) -> None:
        super().__init__()
        self.stream = stream
        self._keep = keep

    def write(self, text: str) -> int:
        self.stream.write(printable(text, self._keep))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def fileno(self) -> int:
        return self.stream.fileno()

    def isatty(self) -> bool:
        return self.stream.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding

    @property
    def buffer(self) -> Any:
        """The stream's bytes: exports written here (CSV, iCalendar) stay exact."""
        return self.stream.buffer


class HumanOutput:
    """While a command runs, standard output and error show user data without control
    sequences (an ESC in a name cannot recolour, move or retitle the terminal), unless
    the command prints JSON, which stays exact. ``restore`` puts the streams back."""

    def __init__(self, *, json: bool) -> None:
        self._saved = (sys.stdout, sys.stderr)
        if not json:
            sys.stdout = cast(TextIO, _Printable(sys.stdout, "\n\t"))
            # Progress bars redraw their line with a carriage return.
            sys.stderr = cast(TextIO, _Printable(sys.stderr, "\n\t\r"))

    def restore(self) -> None:
        # Nothing to flush first: the filter writes through at once.
        sys.stdout, sys.stderr = self._saved

