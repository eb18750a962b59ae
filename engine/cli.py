"""The ``followup`` command: add applications, log what happened, see the agenda, run
the reminder daemon, dry-run and validate rule packs.

Exit codes (scripts may rely on them):
  0  success
  1  an unexpected failure (a bug: please report it)
  2  bad input: usage, a rule pack, a fact, an event, an unknown application
  3  the store failed or is busy (for example, the SQLite file is locked)
  4  a plugin or channel could not be loaded
  130 interrupted (Ctrl-C)

Heavy modules are imported inside the commands, so ``followup --help`` starts fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from followup.engine import Engine
    from followup.model import Contact, Timer
    from followup.timing import WorkCalendar

__all__ = ["main"]

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_STORE, EXIT_PLUGIN = 0, 1, 2, 3, 4

_ROLES_OPTIONS = ("interviewer", "reference", "referral", "recruiter")


class _Usage(Exception):
    """A usage mistake found after argparse (exit 2)."""


def _default_db() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "followup", "followup.db")


def _common() -> argparse.ArgumentParser:
    # SUPPRESS lets these options stand before or after the subcommand.
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--db", default=argparse.SUPPRESS, metavar="PATH|URL",
                   help="the store: a SQLite file path, sqlite:///PATH or memory: "
                   "(env FOLLOWUP_DB; default ~/.local/share/followup/followup.db)")
    p.add_argument("--rules", default=argparse.SUPPRESS, metavar="FILE",
                   help="a rule pack file or built-in pack name (env FOLLOWUP_RULES; "
                   "default: after-interview)")
    p.add_argument("--owner", default=argparse.SUPPRESS,
                   help="whose applications (env FOLLOWUP_OWNER; default: $USER)")
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                   help="print JSON for programs instead of text")
    return p


def _parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="followup", parents=[common],
        description="Reminders for the days after a job interview, driven by rules in YAML.",
        epilog="Exit codes: 0 ok, 1 unexpected failure, 2 bad input, 3 store failed or "
        "busy, 4 plugin failed, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"followup {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def cmd(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, parents=[common])

    p = cmd("init", "create the store and set your time zone and holidays")
    p.add_argument("--timezone", "--tz", help="your IANA time zone, e.g. Europe/Berlin")
    p.add_argument("--country", help="whose public holidays count, e.g. US, GB, DE")
    p.add_argument("--subdivision", help="the state or region, e.g. NY, BY")
    p.add_argument("--channels", metavar="NAME,NAME",
                   help="where your reminders go, e.g. console,email (default: the rule "
                   "pack's channels)")

    p = cmd("add", "add an application (after an interview)")
    p.add_argument("--company", required=True)
    p.add_argument("--role", required=True, help="the job you interviewed for")
    p.add_argument("--interviewed", metavar="WHEN",
                   help="when the interview was, e.g. 2026-12-23T15:00 (your time zone)")
    _contact_options(p)
    p.add_argument("--fact", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--id", help="choose the application's id (default: a random one)")

    p = cmd("log", "record what happened: an event, a fact, a new contact")
    p.add_argument("application", metavar="APP")
    p.add_argument("event", nargs="?", help="the event, e.g. thank_you_sent or called")
    p.add_argument("--contact", metavar="NAME", help="who the event is about")
    p.add_argument("--at", metavar="WHEN", help="when it happened (default: now)")
    p.add_argument("--key", help="an idempotency key: logging the same key again does nothing")
    p.add_argument("--fact", action="append", default=[], metavar="NAME=VALUE")
    _contact_options(p)

    p = cmd("list", "list your applications")
    p.add_argument("--state", action="append", help="only in this state (repeatable)")

    p = cmd("show", "show one application: facts, contacts, history, what is coming")
    p.add_argument("application", metavar="APP")

    p = cmd("agenda", "what is coming, earliest first")
    p.add_argument("--days", type=_days, default=30, help="how far ahead (default 30)")

    p = cmd("run", "the reminder daemon: fire what is due and deliver it")
    p.add_argument("--once", action="store_true", help="one pass, then exit")
    p.add_argument("--interval", type=float, default=30.0, metavar="SECONDS",
                   help="how often to look for due work (default 30)")
    p.add_argument("--demo", action="store_true",
                   help="use a demo store (.followup/demo.db) with demo applications")

    p = cmd("simulate", "a dry run: the timeline of a hypothetical interview")
    p.add_argument("--interviewed", required=True, metavar="WHEN")
    p.add_argument("--tz", "--timezone", dest="timezone", help="the owner's time zone")
    p.add_argument("--country")
    p.add_argument("--subdivision")
    p.add_argument("--until", metavar="WHEN", help="stop here (default: 180 days later)")
    p.add_argument("--company", default="Example Corp")
    p.add_argument("--position", dest="position", default="Software Engineer", help="the job title")
    _contact_options(p)
    p.add_argument("--fact", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--event", action="append", default=[], metavar='"WHEN EVENT [contact=NAME]"')

    p = cmd("validate", "check rule packs; FILE:LINE:COL for every problem")
    p.add_argument("files", nargs="+", metavar="FILE")

    p = cmd("graph", "draw the rule pack's state machine and its reminders (Mermaid text)")
    p.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")

    cmd("plugins", "list the plugins that loaded and their channels")

    p = cmd("outbox", "what is waiting to go out, what failed, and what gave up (dead)")
    p.add_argument("--status", choices=["pending", "delivered", "dead"],
                   help="only rows in this state (default: pending and dead)")
    p.add_argument("--retry", action="store_true",
                   help="make your dead reminders pending again (the next run sends them)")

    p = cmd("export", "write your coming reminders to a file other programs read")
    # One flag per format, all setting `format`: later formats (--csv, --vcard) join here.
    p.add_argument("--ics", dest="format", action="store_const", const="ics",
                   help="as an iCalendar file (RFC 5545) for a calendar app")
    p.add_argument("--todo", action="store_true",
                   help="with --ics: tasks (VTODO) with a due date instead of events")
    p.add_argument("--days", type=_days, default=90, help="how far ahead (default 90)")
    p.add_argument("--output", metavar="FILE",
                   help="write to FILE, readable by you only (default: standard output)")

    p = cmd("serve", "serve your reminders as a calendar feed: GET /calendar.ics")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="the port (default 8765; 0: any free)")
    p.add_argument("--public", action="store_true",
                   help="allow a --host other than loopback (the feed has no authentication)")
    p.add_argument("--todo", action="store_true",
                   help="serve tasks (VTODO) with a due date instead of events")
    p.add_argument("--days", type=_days, default=90, help="how far ahead (default 90)")
    p.add_argument("--once", action="store_true", help="answer one request, then exit")
    return parser


def _contact_options(p: argparse.ArgumentParser) -> None:
    for role in _ROLES_OPTIONS:
        p.add_argument(f"--{role}", action="append", default=[], metavar='"NAME[, TITLE][ <EMAIL>]"',
                       help=f"a contact with the role {role} (repeatable)")


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if days < 0:
        raise argparse.ArgumentTypeError("the number of days cannot be negative")
    return days


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("followup-engine")
    except PackageNotFoundError:
        return "unknown"


# -- helpers -------------------------------------------------------------------------

def _opt(args: argparse.Namespace, name: str, env: str | None = None, default: Any = None) -> Any:
    value = getattr(args, name, None)
    if value is None and env:
        value = os.environ.get(env)
    return default if value is None else value


def _owner(args: argparse.Namespace) -> str:
    return str(_opt(args, "owner", "FOLLOWUP_OWNER") or os.environ.get("USER") or "me")


def _sqlite_path(url: str) -> str | None:
    """The file behind a SQLite store URL, or None for other stores."""
    if url.startswith("memory:"):
        return None
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :]
    return None if "://" in url else url


def _engine(
    args: argparse.Namespace,
    *,
    db: str | None = None,
    rules: str | None = None,
    create: bool = False,
) -> Engine:
    from followup.engine import Engine
    from followup.store import open_store

    url = db or _opt(args, "db", "FOLLOWUP_DB") or _default_db()
    if not create and _sqlite_path(url) is not None and not os.path.exists(_sqlite_path(url) or ""):
        raise _Usage(f"no followup store at {_sqlite_path(url)}: create it with  followup init")
    store = open_store(url)
    try:
        return Engine(rules=rules or _opt(args, "rules", "FOLLOWUP_RULES"), store=store)
    except BaseException:
        store.close()
        raise


def _plugin_packs() -> dict[str, Path]:
    """The rule packs installed plugins offer by name (for --rules NAME, extends: NAME)."""
    from followup.manager import load_plugins

    return load_plugins().packs


def _parse_contact(text: str, role: str) -> Contact:
    from followup.model import Contact

    email = ""
    text = text.strip()
    if text.endswith(">") and "<" in text:
        text, email = text[: text.rindex("<")].strip(), text[text.rindex("<") + 1 : -1].strip()
    name, _, title = text.partition(",")
    if not name.strip():
        raise _Usage(f"a {role} needs a name: --{role} \"Jane Doe, Engineering Manager\"")
    return Contact(name=name.strip(), role=role, title=title.strip(), email=email)


def _contacts(args: argparse.Namespace) -> list[Contact]:
    return [_parse_contact(t, role) for role in _ROLES_OPTIONS for t in getattr(args, role, [])]


def _facts(items: Sequence[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise _Usage(f"--fact takes NAME=VALUE, e.g. decision_expected_on=2027-01-08; got {item!r}")
        out[name.strip()] = value.strip()
    return out


def _when(text: str, calendar: WorkCalendar, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _Usage(f"{what}: {text!r} is not a date and time; write e.g. 2026-12-23T15:00 "
                     "(read in your time zone) or 2026-12-23T15:00-05:00") from None
    return value if value.tzinfo else calendar.to_utc(value)


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def _local(calendar: WorkCalendar, instant: datetime | None) -> str:
    if instant is None:
        return ""
    return calendar.local(instant).strftime("%a %Y-%m-%d %H:%M")


def _timer_json(calendar: WorkCalendar, t: Timer) -> dict[str, Any]:
    return {
        "application": t.application_id,
        "rule": t.rule,
        "action": t.action,
        "at": calendar.local(t.fire_at).isoformat(),
        "due": calendar.local(t.due_at).isoformat() if t.due_at else None,
        "contact": t.contact,
        "key": t.key,
    }


# -- commands ------------------------------------------------------------------------

def _cmd_init(args: argparse.Namespace) -> int:
    from followup.loader import load_rules
    from followup.timing import CalendarError

    pack = load_rules(_opt(args, "rules", "FOLLOWUP_RULES"), packs=_plugin_packs())
    timezone = args.timezone or os.environ.get("TZ") or None
    try:  # check the settings before a store file is created
        pack.calendar.build(timezone=timezone, country=args.country, subdivision=args.subdivision)
    except CalendarError as exc:
        raise _Usage(str(exc)) from exc
    channels = None
    if args.channels:  # checked before a store file is created
        from followup.manager import load_plugins

        loaded = load_plugins().channels
        channels = [c.strip() for c in args.channels.split(",") if c.strip()]
        unknown = [c for c in channels if loaded.get(c) is None]
        if unknown or not channels:
            raise _Usage(f"no channel named {', '.join(map(repr, unknown)) or repr('')} is "
                         f"loaded (loaded: {', '.join(loaded.names()) or 'none'}); see "
                         "followup plugins")
    with _engine(args, create=True) as engine:
        owner = engine.set_owner(_owner(args), timezone=timezone, channels=channels,
                                 country=args.country, subdivision=args.subdivision)
        cal = engine.calendar(owner.id)
        where = _opt(args, "db", "FOLLOWUP_DB") or _default_db()
        if _opt(args, "json"):
            _print_json({"store": where, "owner": owner.id, "timezone": str(cal.tz),
                         "country": owner.country, "subdivision": owner.subdivision})
        else:
            print(f"followup store ready at {where}")
            print(f"owner {owner.id}: time zone {cal.tz}, holidays of "
                  f"{owner.country or engine.pack.calendar.country or 'no country'}"
                  f"{'-' + owner.subdivision if owner.subdivision else ''}")
    return EXIT_OK


def _cmd_add(args: argparse.Namespace) -> int:
    with _engine(args, create=True) as engine:
        owner = _owner(args)
        cal = engine.calendar(owner)
        facts: dict[str, object] = dict(_facts(args.fact))
        if args.interviewed:
            facts["interviewed_at"] = _when(args.interviewed, cal, "--interviewed")
        outcome = engine.add(owner=owner, company=args.company, role=args.role,
                             facts=facts, contacts=_contacts(args), id=args.id)
        app = outcome.application
        for problem in outcome.problems:
            print(f"followup add: warning: {problem}", file=sys.stderr)
        timers = engine.timers(app.id, owner=owner)
        if _opt(args, "json"):
            _print_json({"id": app.id, "state": app.state, "problems": list(outcome.problems),
                         "timers": [_timer_json(cal, t) for t in timers]})
        else:
            print(f"added {app.id}: {app.role} at {app.company} ({app.state})")
            for t in timers:
                print(f"  {_local(cal, t.fire_at)}  {t.rule}"
                      f"{' — ' + t.contact if t.contact else ''}"
                      f"{'  due ' + _local(cal, t.due_at) if t.due_at else ''}")
    return EXIT_OK


def _cmd_log(args: argparse.Namespace) -> int:

    with _engine(args) as engine:
        owner = _owner(args)
        cal = engine.calendar(owner)
        facts = _facts(args.fact)
        new_contacts: list[Contact] = _contacts(args)
        if not (args.event or facts or new_contacts):
            raise _Usage("say what happened: an EVENT, --fact NAME=VALUE or a new contact "
                         f"(events: {', '.join(engine.pack.events)})")
        at = _when(args.at, cal, "--at") if args.at else None
        outcome = engine.log(args.application, event=args.event, contact=args.contact,
                             facts=facts, contacts=new_contacts, at=at, key=args.key,
                             owner=owner)
        changed = outcome.changed
        app = engine.application(args.application, owner=owner)
        for problem in outcome.problems:
            print(f"followup log: warning: {problem}", file=sys.stderr)
        if _opt(args, "json"):
            _print_json({"id": app.id, "state": app.state, "changed": changed,
                         "problems": list(outcome.problems),
                         "cancelled": [_timer_json(cal, t) for t in outcome.cancelled],
                         "armed": [_timer_json(cal, t) for t in outcome.armed]})
        elif not changed:
            print(f"{app.id}: already recorded, nothing changed (state {app.state})")
        else:
            print(f"{app.id}: recorded; now {app.state}")
            for t in outcome.cancelled:
                print(f"  cancelled {t.rule}{' — ' + t.contact if t.contact else ''}")
            for t in outcome.armed:
                print(f"  next {_local(cal, t.fire_at)}  {t.rule}"
                      f"{' — ' + t.contact if t.contact else ''}")
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        apps = engine.applications(owner=_owner(args), states=args.state)
        if _opt(args, "json"):
            _print_json([{"id": a.id, "company": a.company, "role": a.role, "state": a.state,
                          "created_at": a.created_at.isoformat() if a.created_at else None}
                         for a in apps])
            return EXIT_OK
        if not apps:
            print("no applications yet: add one with  followup add --company ACME --role "
                  "ENGINEER --interviewed 2026-12-23T15:00")
        for a in apps:
            print(f"{a.id}  {a.state:<12} {a.role} at {a.company}")
    return EXIT_OK


def _cmd_show(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        owner = _owner(args)
        cal = engine.calendar(owner)
        record = engine.store.load(args.application, owner=owner)
        app = record.application
        if _opt(args, "json"):
            _print_json({
                "id": app.id, "owner": app.owner, "company": app.company, "role": app.role,
                "state": app.state, "facts": app.facts,
                "contacts": [
                    {"name": c.name, "role": c.role, "title": c.title, "email": c.email,
                     "phone": c.phone} for c in app.contacts],
                "events_allowed": engine.machine.allowed(app.state),
                "history": [{"seq": h.seq, "at": cal.local(h.at).isoformat(), "kind": h.kind,
                             "name": h.name, "contact": h.contact, "from": h.from_state,
                             "to": h.to_state} for h in record.history],
                "timers": [_timer_json(cal, t) for t in record.timers],
            })
            return EXIT_OK
        print(f"{app.id}: {app.role} at {app.company} — {app.state}")
        for name, value in app.facts.items():
            spec = engine.pack.facts.get(name)
            if spec is not None and spec.type == "datetime":
                value = _local(cal, datetime.fromisoformat(value))
            print(f"  {name}: {value}")
        for c in app.contacts:
            print(f"  {c.role}: {c.name}{', ' + c.title if c.title else ''}")
        print("history:")
        for h in record.history:
            label = h.name if h.kind != "created" else "added"
            move = f" → {h.to_state}" if h.to_state and h.kind != "created" else ""
            print(f"  {_local(cal, h.at)}  {h.kind:<10} {label}"
                  f"{' — ' + h.contact if h.contact else ''}{move}")
        print("coming:")
        for t in record.timers:
            print(f"  {_local(cal, t.fire_at)}  {t.rule}{' — ' + t.contact if t.contact else ''}"
                  f"{'  due ' + _local(cal, t.due_at) if t.due_at else ''}")
        print(f"you can log: {', '.join(engine.machine.allowed(app.state))}")
    return EXIT_OK


def _cmd_agenda(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        owner = _owner(args)
        cal = engine.calendar(owner)
        now = engine.clock.now()
        items = engine.agenda(owner=owner, end=now + timedelta(days=args.days))
        if _opt(args, "json"):
            _print_json([_timer_json(cal, i.timer) | {
                "company": i.application.company if i.application else None,
                "role": i.application.role if i.application else None,
                "overdue": i.timer.fire_at <= now} for i in items])
            return EXIT_OK
        if not items:
            print(f"nothing in the next {args.days} days")
        for i in items:
            t = i.timer
            flag = "now " if t.fire_at <= now else "    "
            where = i.application.company if i.application else "(all applications)"
            print(f"{flag}{_local(cal, t.fire_at)}  {t.rule:<20} {where}"
                  f"{' — ' + t.contact if t.contact else ''}"
                  f"{'  due ' + _local(cal, t.due_at) if t.due_at else ''}"
                  f"{'  [' + t.application_id + ']' if t.application_id else ''}")
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    import time as _time

    db = rules = None
    if args.demo:
        db = _opt(args, "db", "FOLLOWUP_DB") or os.path.join(".followup", "demo.db")
        rules = _opt(args, "rules", "FOLLOWUP_RULES") or "demo"
    with _engine(args, db=db, rules=rules, create=True) as engine:
        if args.demo:
            _seed_demo(engine, _owner(args))
        if engine.plugins is not None:
            for name, error in engine.plugins.failures.items():
                print(f"followup: plugin {name!r} failed to load and was skipped: {error}",
                      file=sys.stderr)
        print(f"followup run: watching {db or _opt(args, 'db', 'FOLLOWUP_DB') or _default_db()}"
              f" (channels: {', '.join(engine.channels.names()) or 'none'})"
              f"{'' if args.once else '; Ctrl-C to stop'}", file=sys.stderr, flush=True)
        if _opt(args, "json"):
            # Standard output carries the JSON report alone; reminders go to stderr.
            console = engine.channels.get("console")
            if console is not None and hasattr(console, "stream"):
                console.stream = sys.stderr
        while True:
            report = engine.run_due()
            for app_id, error in report.errors.items():
                print(f"followup: application {app_id} could not be advanced: {error}",
                      file=sys.stderr)
            for row, error in report.delivery.failed + report.delivery.dead:
                print(f"followup: {row.channel} failed for {row.notification.key}: {error}",
                      file=sys.stderr)
            if args.once:
                if _opt(args, "json"):
                    _print_json({"fired": report.fired, "errors": report.errors,
                                 "delivered": len(report.delivery.delivered),
                                 "failed": len(report.delivery.failed),
                                 "dead": len(report.delivery.dead)})
                return EXIT_OK
            _time.sleep(args.interval if not args.demo else min(args.interval, 5.0))


def _seed_demo(engine: Engine, owner: str) -> None:
    from followup.model import Contact

    if engine.applications(owner=owner):
        return
    now = engine.clock.now()
    engine.set_owner(owner, timezone="UTC")
    first = engine.add_application(
        owner=owner, company="Acme Rockets", role="Propulsion Engineer",
        facts={"interviewed_at": now - timedelta(days=8), "why_me": "I have fired real engines"},
        contacts=[Contact("Jane Doe", "interviewer", title="Engineering Manager"),
                  Contact("Raj Patel", "interviewer", title="Staff Engineer")])
    engine.record(first.id, "thank_you_sent", contact="Raj Patel", at=now - timedelta(days=7))
    engine.add_application(
        owner=owner, company="Globex", role="Data Analyst",
        facts={"interviewed_at": now - timedelta(days=7) + timedelta(seconds=40)},
        contacts=[Contact("Hank Scorpio", "interviewer", title="CEO")])
    print(f"demo: two applications added for {owner}; reminders follow, one more about "
          "40 seconds from now", file=sys.stderr)


def _cmd_simulate(args: argparse.Namespace) -> int:
    from followup.loader import load_rules
    from followup.simulate import PlannedEvent, simulate

    pack = load_rules(_opt(args, "rules", "FOLLOWUP_RULES"), packs=_plugin_packs())
    calendar = pack.calendar.build(timezone=args.timezone, country=args.country,
                                   subdivision=args.subdivision)
    interviewed = _when(args.interviewed, calendar, "--interviewed")
    until = _when(args.until, calendar, "--until") if args.until else None
    if until is not None and len(args.until.strip()) == 10:  # a bare date: through its end
        until = until + timedelta(days=1) - timedelta(microseconds=1)
    events = []
    for text in args.event:
        parts = text.split(None, 2)
        if len(parts) < 2:
            raise _Usage(f'--event takes "WHEN EVENT [contact=NAME]", got {text!r}')
        contact = None
        if len(parts) == 3:
            key, sep, value = parts[2].partition("=")
            if key.strip() != "contact" or not sep:
                raise _Usage(f'--event: after the event name write contact=NAME, got {parts[2]!r}')
            contact = value.strip()
        events.append(PlannedEvent(at=_when(parts[0], calendar, "--event"), name=parts[1],
                                   contact=contact))
    sim = simulate(pack, interviewed=interviewed, timezone=args.timezone, country=args.country,
                   subdivision=args.subdivision, until=until, contacts=_contacts(args),
                   facts=_facts(args.fact), events=events, company=args.company,
                   role=args.position)
    if _opt(args, "json"):
        _print_json([e.to_json(sim.calendar) for e in sim.timeline])
        return EXIT_OK
    for e in sim.timeline:
        at = sim.calendar.local(e.at).strftime("%a %Y-%m-%d %H:%M %z")
        what = e.rule or e.event or ""
        who = f" — {e.contact}" if e.contact else ""
        due = f"  (due {_local(sim.calendar, e.due)})" if e.due else ""
        print(f"{at}  {e.action:<10} {what}{who}{due}  [{e.state}]")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from followup.errors import RulesError
    from followup.loader import load_rules

    results = []
    worst = EXIT_OK
    for file in args.files:
        try:
            pack = load_rules(Path(file), packs=_plugin_packs())
        except RulesError as exc:
            worst = EXIT_INPUT
            results.append({"file": file, "ok": False, "problems": [
                {"file": p.file, "line": p.line, "column": p.column, "path": p.path,
                 "message": p.message, "severity": p.severity} for p in exc.problems]})
            if not _opt(args, "json"):
                for p in exc.problems:
                    print(str(p), file=sys.stderr)
            continue
        results.append({"file": file, "ok": True, "name": pack.name, "rules": [r.name for r in pack.rules],
                        "problems": [{"file": p.file, "line": p.line, "column": p.column,
                                      "path": p.path, "message": p.message,
                                      "severity": p.severity} for p in pack.warnings]})
        if not _opt(args, "json"):
            for p in pack.warnings:
                print(str(p), file=sys.stderr)
            print(f"{file}: ok — pack {pack.name!r}, {len(pack.states)} states, "
                  f"{len(pack.events)} events, {len(pack.rules)} rules")
    if _opt(args, "json"):
        _print_json(results)
    return worst


def _cmd_graph(args: argparse.Namespace) -> int:
    from followup.graph import to_mermaid
    from followup.loader import load_rules

    text = to_mermaid(load_rules(_opt(args, "rules", "FOLLOWUP_RULES"), packs=_plugin_packs()))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _cmd_plugins(args: argparse.Namespace) -> int:
    from followup.manager import load_plugins

    plugins = load_plugins()
    if _opt(args, "json"):
        _print_json({"loaded": [{"name": p.name, "origin": p.origin, "channels": list(p.channels)}
                                for p in plugins.loaded],
                     "failed": plugins.failures})
    else:
        for p in plugins.loaded:
            print(f"{p.name:<16} {p.origin}  channels: {', '.join(p.channels) or '-'}")
        for name, error in plugins.failures.items():
            print(f"{name:<16} FAILED: {error}")
    return EXIT_PLUGIN if plugins.failures else EXIT_OK


def _cmd_outbox(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        owner = _owner(args)
        cal = engine.calendar(owner)
        if args.retry:
            count = engine.store.retry_dead(owner=owner)
            if _opt(args, "json"):
                _print_json({"retried": count})
            else:
                print(f"{count} dead reminder{'' if count == 1 else 's'} will be tried again")
            return EXIT_OK
        rows = engine.store.deliveries(owner=owner, status=args.status)
        if args.status is None:
            rows = [r for r in rows if r.status != "delivered"]
        if _opt(args, "json"):
            _print_json([{
                "key": r.notification.key, "channel": r.channel, "status": r.status,
                "rule": r.notification.rule, "subject": r.notification.subject,
                "attempts": r.attempts, "last_error": r.last_error,
                "next_attempt_at": (cal.local(r.next_attempt_at).isoformat()
                                    if r.next_attempt_at else None),
            } for r in rows])
            return EXIT_OK
        if not rows:
            print("nothing waiting, nothing failed")
        for r in rows:
            nxt = f", next try {_local(cal, r.next_attempt_at)}" if r.next_attempt_at else ""
            print(f"{r.status:<9} {r.channel:<10} {r.notification.subject}"
                  f"  ({r.attempts} attempt{'' if r.attempts == 1 else 's'}{nxt})")
            if r.last_error:
                print(f"          last error: {r.last_error}")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    import tempfile

    from followup.ical import agenda_to_ics

    if args.format is None:
        raise _Usage("choose a format: --ics (an iCalendar file for a calendar app), e.g. "
                     "followup export --ics --output followup.ics")
    if args.output is None and _opt(args, "json"):
        raise _Usage("the calendar itself goes to standard output; --json reports on an "
                     "export written with --output FILE")
    with _engine(args) as engine:
        owner = _owner(args)
        now = engine.clock.now()
        items = engine.agenda(owner=owner, end=now + timedelta(days=args.days))
        text = agenda_to_ics(items, calendar=engine.calendar(owner), now=now, todo=args.todo,
                             name=f"followup ({owner})")
    data = text.encode("utf-8")  # bytes, so CRLF line endings stay exactly as written
    reminders = sum(1 for i in items if i.timer.action == "notify")
    if args.output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return EXIT_OK
    target = Path(args.output)
    if target.is_dir():
        raise _Usage(f"--output {args.output!r} is a folder: name a file, e.g. "
                     f"{target / 'followup.ics'}")
    if not target.parent.is_dir():
        raise _Usage(f"--output {args.output!r}: the folder {str(target.parent)!r} does not "
                     "exist")
    # A new file beside the target, readable by its owner only (mkstemp makes it 0o600),
    # then renamed over it: a calendar app reading the file never sees half of it, and
    # an old file readable by others is replaced, not rewritten in place.
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    if _opt(args, "json"):
        _print_json({"format": args.format, "output": str(target), "reminders": reminders,
                     "days": args.days})
    else:
        print(f"wrote {reminders} reminder{'' if reminders == 1 else 's'} to {target}")
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    import ipaddress
    import socket
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from followup.errors import FollowupError
    from followup.ical import agenda_to_ics

    host = args.host.strip("[]")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not args.public:
        raise _Usage(f"refusing to listen on {args.host}: the calendar holds your "
                     "applications, contacts and deadlines, and the server asks for no "
                     "password, so anyone who can reach it could read them. Listen on "
                     "127.0.0.1 (the default), or add --public if you mean it (e.g. behind "
                     "a proxy that authenticates)")
    if not 0 <= args.port <= 65535:
        raise _Usage(f"--port {args.port}: a port is 0 to 65535 (0: any free port)")
    owner = _owner(args)
    engine = _engine(args)  # fails now, not at the first request, when there is no store

    def feed() -> bytes:
        now = engine.clock.now()
        items = engine.agenda(owner=owner, end=now + timedelta(days=args.days))
        return agenda_to_ics(items, calendar=engine.calendar(owner), now=now, todo=args.todo,
                             name=f"followup ({owner})").encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        server_version = "followup"
        timeout = 30  # a client that stalls does not hold the (one-thread) server forever

        def do_GET(self) -> None:
            self._answer(body=True)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def _answer(self, *, body: bool) -> None:
            if self.path.split("?", 1)[0] != "/calendar.ics":
                self.send_error(404, "not found: the feed is /calendar.ics")
                return
            try:
                data = feed()  # regenerated on every request: always the store's truth
            except FollowupError as exc:
                self.send_error(503, f"the store could not be read: {exc}")
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if body:
                self.wfile.write(data)

    class Server(HTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    with engine:
        try:
            server = Server((host, args.port), Handler)
        except OSError as exc:
            raise _Usage(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; "
                         "choose another --port (0: any free port)") from exc
        with server:
            port = server.server_address[1]
            shown = f"[{host}]" if ":" in host else host
            print(f"followup serve: http://{shown}:{port}/calendar.ics for {owner}"
                  f"{' (one request)' if args.once else '; Ctrl-C to stop'}",
                  file=sys.stderr, flush=True)
            if args.once:
                server.handle_request()
            else:
                server.serve_forever()
    return EXIT_OK


_COMMANDS = {
    "init": _cmd_init, "add": _cmd_add, "log": _cmd_log, "list": _cmd_list, "show": _cmd_show,
    "agenda": _cmd_agenda, "run": _cmd_run, "simulate": _cmd_simulate,
    "validate": _cmd_validate, "plugins": _cmd_plugins, "graph": _cmd_graph, "outbox": _cmd_outbox,
    "export": _cmd_export, "serve": _cmd_serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_INPUT
    from followup.errors import FollowupError, InputError, PluginError, RulesError, StoreError

    try:
        return _COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `followup agenda | head`): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except _Usage as exc:
        print(f"followup {args.command}: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except RulesError as exc:
        for p in exc.problems:
            print(str(p), file=sys.stderr)
        return EXIT_INPUT
    except InputError as exc:
        print(f"followup {args.command}: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except StoreError as exc:
        print(f"followup {args.command}: {exc}", file=sys.stderr)
        return EXIT_STORE
    except PluginError as exc:
        print(f"followup {args.command}: {exc}", file=sys.stderr)
        return EXIT_PLUGIN
    except FollowupError as exc:
        print(f"followup {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
