"""Commands for one person's applications: init, add, log, list, show, agenda."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from followup.model import Contact

from followup.cli._common import (
    EXIT_OK,
    Command,
    Usage,
    contact_options,
    contacts_of,
    day_count,
    describe_store,
    local,
    open_engine,
    opt,
    owner_id,
    parse_facts,
    plugin_rules,
    print_json,
    store_url,
    timer_json,
    when,
)


def register(cmd: Command) -> None:
    """Add this module's commands to the parser."""
    p = cmd("init", "create the store and set your time zone and holidays")
    p.add_argument("--timezone", "--tz", help="your IANA time zone, e.g. Europe/Berlin")
    p.add_argument("--country", help="whose public holidays count, e.g. US, GB, DE")
    p.add_argument("--subdivision", help="the state or region, e.g. NY, BY")
    p.add_argument("--channels", metavar="NAME,NAME",
                   help="where your reminders go, e.g. console,email (default: the rule "
                   "pack's channels)")
    p.add_argument("--digest", metavar="HH:MM",
                   help="get your reminders once a day at this local time, one message per "
                   "channel (default: each when it is due)")
    p.add_argument("--quiet-hours", metavar="HH:MM-HH:MM[,...]",
                   help="times of day when no reminder reaches you, in your time zone, on "
                   "top of the rule pack's, e.g. 22:00-07:00")
    p.set_defaults(run=_cmd_init)

    p = cmd("add", "add an application (after an interview)")
    p.add_argument("--company", required=True)
    p.add_argument("--role", required=True, help="the job you interviewed for")
    p.add_argument("--interviewed", metavar="WHEN",
                   help="when the interview was, e.g. 2026-12-23T15:00 (your time zone)")
    contact_options(p)
    p.add_argument("--fact", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--id", help="choose the application's id (default: a random one)")
    p.set_defaults(run=_cmd_add)

    p = cmd("log", "record what happened: an event, a fact, a new contact")
    p.add_argument("application", metavar="APP")
    p.add_argument("event", nargs="?", help="the event, e.g. thank_you_sent or called")
    p.add_argument("--contact", metavar="NAME", help="who the event is about")
    p.add_argument("--at", metavar="WHEN", help="when it happened (default: now)")
    p.add_argument("--key", help="an idempotency key: logging the same key again does nothing")
    p.add_argument("--fact", action="append", default=[], metavar="NAME=VALUE")
    contact_options(p)
    p.set_defaults(run=_cmd_log)

    p = cmd("list", "list your applications")
    p.add_argument("--state", action="append", help="only in this state (repeatable)")
    p.set_defaults(run=_cmd_list)

    p = cmd("show", "show one application: facts, contacts, history, what is coming")
    p.add_argument("application", metavar="APP")
    p.add_argument("--graph", action="store_true",
                   help="draw its path so far over the rule pack's machine (Mermaid text)")
    p.set_defaults(run=_cmd_show)

    p = cmd("agenda", "what is coming, earliest first")
    p.add_argument("--days", type=day_count, default=30, help="how far ahead (default 30)")
    p.set_defaults(run=_cmd_agenda)


def _cmd_init(args: argparse.Namespace) -> int:
    from followup.language.loader import load_rules
    from followup.timing.calendar import CalendarError, parse_time_range

    pack = load_rules(opt(args, "rules", "FOLLOWUP_RULES"), **plugin_rules())
    timezone = args.timezone or os.environ.get("TZ") or None
    try:  # check the settings before a store file is created
        pack.calendar.build(timezone=timezone, country=args.country, subdivision=args.subdivision)
    except CalendarError as exc:
        raise Usage(str(exc)) from exc
    digest = None
    if args.digest:  # checked before a store file is created
        from followup.delivery.digest import parse_digest_time
        from followup.errors import InputError

        try:
            digest = parse_digest_time(args.digest)
        except InputError as exc:
            raise Usage(f"--digest: {exc}") from exc
    quiet = [span.strip() for span in (args.quiet_hours or "").split(",") if span.strip()]
    for span in quiet:  # checked before a store file is created
        try:
            parse_time_range(span)
        except CalendarError as exc:
            raise Usage(f"--quiet-hours: {exc}") from exc
    channels = None
    if args.channels:  # checked before a store file is created
        from followup.delivery.manager import load_plugins

        loaded = load_plugins().channels
        channels = [c.strip() for c in args.channels.split(",") if c.strip()]
        unknown = [c for c in channels if loaded.get(c) is None]
        if unknown or not channels:
            raise Usage(f"no channel named {', '.join(map(repr, unknown)) or repr('')} is "
                         f"loaded (loaded: {', '.join(loaded.names()) or 'none'}); see "
                         "followup plugins")
    with open_engine(args, create=True, migrate=True) as engine:
        owner = engine.set_owner(owner_id(args), timezone=timezone, channels=channels,
                                 country=args.country, subdivision=args.subdivision,
                                 digest=digest, quiet_hours=quiet)
        cal = engine.calendar(owner.id)
        where = describe_store(store_url(args))
        if opt(args, "json"):
            print_json({"store": where, "owner": owner.id, "timezone": str(cal.tz),
                         "country": owner.country, "subdivision": owner.subdivision,
                         "digest": owner.digest, "quiet_hours": list(owner.quiet_hours)})
        else:
            print(f"followup store ready at {where}")
            print(f"owner {owner.id}: time zone {cal.tz}, holidays of "
                  f"{owner.country or engine.pack.calendar.country or 'no country'}"
                  f"{'-' + owner.subdivision if owner.subdivision else ''}")
            if owner.digest:
                print(f"reminders come once a day at {owner.digest} ({cal.tz})")
            if owner.quiet_hours:
                print(f"no reminders during {', '.join(owner.quiet_hours)} ({cal.tz})")
    return EXIT_OK


def _cmd_add(args: argparse.Namespace) -> int:
    with open_engine(args, create=True) as engine:
        owner = owner_id(args)
        cal = engine.calendar(owner)
        facts: dict[str, object] = dict(parse_facts(args.fact))
        if args.interviewed:
            facts["interviewed_at"] = when(args.interviewed, cal, "--interviewed")
        outcome = engine.add(owner=owner, company=args.company, role=args.role,
                             facts=facts, contacts=contacts_of(args), id=args.id)
        app = outcome.application
        for problem in outcome.problems:
            print(f"followup add: warning: {problem}", file=sys.stderr)
        timers = engine.timers(app.id, owner=owner)
        if opt(args, "json"):
            print_json({"id": app.id, "state": app.state, "problems": list(outcome.problems),
                         "timers": [timer_json(cal, t) for t in timers]})
        else:
            print(f"added {app.id}: {app.role} at {app.company} ({app.state})")
            for t in timers:
                print(f"  {local(cal, t.fire_at)}  {t.rule}"
                      f"{' — ' + t.contact if t.contact else ''}"
                      f"{'  due ' + local(cal, t.due_at) if t.due_at else ''}")
    return EXIT_OK


def _cmd_log(args: argparse.Namespace) -> int:

    with open_engine(args) as engine:
        owner = owner_id(args)
        cal = engine.calendar(owner)
        facts = parse_facts(args.fact)
        new_contacts: list[Contact] = contacts_of(args)
        if not (args.event or facts or new_contacts):
            raise Usage("say what happened: an EVENT, --fact NAME=VALUE or a new contact "
                         f"(events: {', '.join(engine.pack.events)})")
        at = when(args.at, cal, "--at") if args.at else None
        outcome = engine.log(args.application, event=args.event, contact=args.contact,
                             facts=facts, contacts=new_contacts, at=at, key=args.key,
                             owner=owner)
        changed = outcome.changed
        app = engine.application(args.application, owner=owner)
        for problem in outcome.problems:
            print(f"followup log: warning: {problem}", file=sys.stderr)
        if opt(args, "json"):
            print_json({"id": app.id, "state": app.state, "changed": changed,
                         "problems": list(outcome.problems),
                         "cancelled": [timer_json(cal, t) for t in outcome.cancelled],
                         "armed": [timer_json(cal, t) for t in outcome.armed]})
        elif not changed:
            print(f"{app.id}: already recorded, nothing changed (state {app.state})")
        else:
            print(f"{app.id}: recorded; now {app.state}")
            for t in outcome.cancelled:
                print(f"  cancelled {t.rule}{' — ' + t.contact if t.contact else ''}")
            for t in outcome.armed:
                print(f"  next {local(cal, t.fire_at)}  {t.rule}"
                      f"{' — ' + t.contact if t.contact else ''}")
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        apps = engine.applications(owner=owner_id(args), states=args.state)
        if opt(args, "json"):
            print_json([{"id": a.id, "company": a.company, "role": a.role, "state": a.state,
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

    with open_engine(args) as engine:
        owner = owner_id(args)
        cal = engine.calendar(owner)
        record = engine.store.load(args.application, owner=owner)
        app = record.application
        if args.graph:
            from followup.interop.graph import path_to_mermaid

            sys.stdout.write(path_to_mermaid(engine.pack, record.history, calendar=cal))
            return EXIT_OK
        # The application's last attempt failed: its reminders wait for a retry.
        faults = engine.store.faults(owner=app.owner, application_id=app.id)
        fault = faults[0] if faults else None
        if opt(args, "json"):
            print_json({
                "id": app.id, "owner": app.owner, "company": app.company, "role": app.role,
                "state": app.state, "facts": app.facts,
                "contacts": [c.to_dict() for c in app.contacts],
                "events_allowed": engine.machine.allowed(app.state),
                "history": [{"seq": h.seq, "at": cal.local(h.at).isoformat(), "kind": h.kind,
                             "name": h.name, "contact": h.contact, "from": h.from_state,
                             "to": h.to_state} for h in record.history],
                "timers": [timer_json(cal, t) for t in record.timers],
                "fault": None if fault is None else {
                    "error": fault.error, "attempts": fault.attempts,
                    "first_at": cal.local(fault.first_at).isoformat(),
                    "last_at": cal.local(fault.last_at).isoformat(),
                    "retry_at": cal.local(fault.retry_at).isoformat()},
            })
            return EXIT_OK
        print(f"{app.id}: {app.role} at {app.company} — {app.state}")
        if fault is not None:
            error = "".join(c if c.isprintable() else repr(c)[1:-1] for c in fault.error)
            print(f"  fault: failed {fault.attempts} time{'s' if fault.attempts > 1 else ''} "
                  f"since {local(cal, fault.first_at)}; its reminders wait for the next try "
                  f"at {local(cal, fault.retry_at)}: {error}")
        for name, value in app.facts.items():
            spec = engine.pack.facts.get(name)
            if spec is not None and spec.type == "datetime":
                value = local(cal, datetime.fromisoformat(value))
            print(f"  {name}: {value}")
        for c in app.contacts:
            print(f"  {c.role}: {c.name}{', ' + c.title if c.title else ''}")
        print("history:")
        for h in record.history:
            label = h.name if h.kind != "created" else "added"
            move = f" → {h.to_state}" if h.to_state and h.kind != "created" else ""
            print(f"  {local(cal, h.at)}  {h.kind:<10} {label}"
                  f"{' — ' + h.contact if h.contact else ''}{move}")
        print("coming:")
        for t in record.timers:
            print(f"  {local(cal, t.fire_at)}  {t.rule}{' — ' + t.contact if t.contact else ''}"
                  f"{'  due ' + local(cal, t.due_at) if t.due_at else ''}")
        print(f"you can log: {', '.join(engine.machine.allowed(app.state))}")
    return EXIT_OK


def _cmd_agenda(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        owner = owner_id(args)
        cal = engine.calendar(owner)
        now = engine.clock.now()
        items = engine.agenda(owner=owner, end=now + timedelta(days=args.days))
        if opt(args, "json"):
            print_json([timer_json(cal, i.timer) | {
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
            print(f"{flag}{local(cal, t.fire_at)}  {t.rule:<20} {where}"
                  f"{' — ' + t.contact if t.contact else ''}"
                  f"{'  due ' + local(cal, t.due_at) if t.due_at else ''}"
                  f"{'  [' + t.application_id + ']' if t.application_id else ''}")
    return EXIT_OK
