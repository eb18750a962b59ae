"""Commands for one person's applications: add, log, list, show, agenda (init and
settings are in ``settings``)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from followup.cli.lookalikes import Decision
    from followup.model import Application, Contact, HistoryEntry
    from followup.runtime.cancellations import Cancellation
    from followup.runtime.engine import Engine
    from followup.store import Store
    from followup.timing.calendar import WorkCalendar

from followup.cli import settings
from followup.cli._common import (
    EXIT_OK,
    Command,
    Usage,
    contact_options,
    contacts_of,
    day_count,
    local,
    open_engine,
    open_store_at,
    opt,
    owner_id,
    parse_facts,
    plugin_rules,
    print_json,
    timer_json,
    when,
)
from followup.cli.corrections import history_label
from followup.cli.ids import resolve
from followup.cli.lookalikes import (
    decisions_json,
    decisions_text,
    options,
    rename_stored,
    settle,
)


def register(cmd: Command) -> None:
    """Add this module's commands to the parser."""
    settings.register(cmd)  # init and settings come first, as a person starts there

    p = cmd("add", "add an application (after an interview)")
    p.add_argument("--company", required=True, help="the employer")
    p.add_argument("--role", required=True, help="the job you interviewed for")
    p.add_argument("--interviewed", metavar="WHEN",
                   help="when the interview was, e.g. 2026-12-23T15:00 (your time zone)")
    contact_options(p)
    options(p)
    p.add_argument("--fact", action="append", default=[], metavar="NAME=VALUE",
                   help="a fact the rule pack declares, e.g. decision_expected_on=2027-01-08 "
                   "(repeatable)")
    p.add_argument("--id", help="choose the application's id (default: a random one)")
    p.set_defaults(run=_cmd_add)

    p = cmd("log", "record what happened: an event, a fact, a new contact")
    p.add_argument("application", metavar="APP",
                   help="the application's id, or a unique start of it (see followup list)")
    p.add_argument("event", nargs="?", help="the event, e.g. thank_you_sent or called")
    p.add_argument("--contact", metavar="NAME", help="who the event is about")
    p.add_argument("--at", metavar="WHEN", help="when it happened (default: now)")
    p.add_argument("--key", help="an idempotency key: logging the same key again does nothing")
    p.add_argument("--fact", action="append", default=[], metavar="NAME=VALUE",
                   help="record or change a fact the rule pack declares, e.g. "
                   "decision_expected_on=2027-01-08 (repeatable)")
    contact_options(p)
    options(p)
    p.set_defaults(run=_cmd_log)
    _list_events_in_help(p)

    p = cmd("list", "list your applications")
    p.add_argument("--state", action="append", help="only in this state (repeatable)")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--archived", action="store_true",
                       help="only the archived applications (left out by default)")
    shown.add_argument("--all", action="store_true",
                       help="the archived applications too, marked archived")
    p.set_defaults(run=_cmd_list)

    p = cmd("show", "show one application: facts, contacts, history, what is coming")
    p.add_argument("application", metavar="APP",
                   help="the application's id, or a unique start of it (see followup list)")
    p.add_argument("--graph", action="store_true",
                   help="draw its path so far over the rule pack's machine (Mermaid text)")
    p.set_defaults(run=_cmd_show)

    p = cmd("agenda", "what is coming, earliest first")
    p.add_argument("--days", type=day_count, default=30, help="how far ahead (default 30)")
    p.set_defaults(run=_cmd_agenda)


def _list_events_in_help(p: argparse.ArgumentParser) -> None:
    """``log --help`` ends with the events of the rule pack in use (``--rules``,
    FOLLOWUP_RULES or the default), read only when the help is shown."""
    plain = p.format_help

    def format_help() -> str:
        return plain() + "\n" + events_text(sys.argv[1:]) + "\n"

    setattr(p, "format_help", format_help)  # noqa: B010 - this parser's own help


def events_text(argv: list[str]) -> str:
    """The events a person may log, with what each means, for the pack ``argv`` names."""
    from followup.errors import FollowupError
    from followup.language.loader import load_rules

    rules = os.environ.get("FOLLOWUP_RULES") or None
    for place, arg in enumerate(argv):
        if arg == "--rules" and place + 1 < len(argv):
            rules = argv[place + 1]
        elif arg.startswith("--rules="):
            rules = arg.partition("=")[2]
    try:
        pack = load_rules(rules, **plugin_rules())
    except FollowupError as exc:
        return f"events: the rule pack {rules!r} could not be read: {exc}"
    lines = [f"events of the rule pack {pack.name!r}:"]
    for e in pack.events.values():
        where = f"in {', '.join(e.sources)}" if e.sources else "in any state"
        move = f" → {e.dest}" if e.dest else ""
        who = "; about one --contact" if e.per_contact else ""
        lines.append(f"  {e.name:<20} {where}{move}{who}"
                     f"{': ' + e.description if e.description else ''}")
    return "\n".join(lines)


def _cmd_add(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        owner = owner_id(args)
        if not engine.has_owner(owner):
            # Else a UTC owner would be made in silence, and a 10:00 interview in New York
            # would show as 15:00.
            raise Usage(f"owner {owner!r} has no settings yet, so followup does not know "
                        "your time zone: run  followup init --timezone ZONE [--country CODE] "
                        "first (e.g. --timezone America/New_York --country US)")
        cal = engine.calendar(owner)
        facts: dict[str, object] = dict(parse_facts(args.fact))
        engine.pack.check_fact_names(facts)
        if args.interviewed:
            facts["interviewed_at"] = when(args.interviewed, cal, "--interviewed")
        contacts, decisions = settle((), contacts_of(args), args,
                                     "both given to the new application", stored=False)
        outcome = engine.add(owner=owner, company=args.company, role=args.role,
                             facts=facts, contacts=contacts, id=args.id)
        app = outcome.application
        for problem in outcome.problems:
            print(f"followup add: warning: {problem}", file=sys.stderr)
        timers = engine.timers(app.id, owner=owner)
        if opt(args, "json"):
            print_json({"id": app.id, "state": app.state, "problems": list(outcome.problems),
                         "timers": [timer_json(cal, t) for t in timers]}
                       | ({"matched": decisions_json(decisions)} if decisions else {}))
        else:
            print(f"added {app.id}: {app.role} at {app.company} ({app.state})")
            for line in decisions_text(decisions):
                print(line)
            for t in timers:
                print(f"  {local(cal, t.fire_at)}  {t.rule}"
                      f"{' — ' + t.contact if t.contact else ''}"
                      f"{'  due ' + local(cal, t.due_at) if t.due_at else ''}")
    return EXIT_OK


def _cmd_log(args: argparse.Namespace) -> int:
    from followup.runtime.cancellations import cancellations

    with open_engine(args) as engine:
        owner = owner_id(args)
        cal = engine.calendar(owner)
        facts = parse_facts(args.fact)
        for field in ("company", "role"):  # the application's own, for followup edit
            if field in facts and field not in engine.pack.facts:
                raise Usage(f"{field} is a field, not a fact: use followup edit "
                            f"{args.application} --{field} {shlex.quote(facts[field])}")
        engine.pack.check_fact_names(facts)
        new_contacts: list[Contact] = contacts_of(args)
        if not (args.event or facts or new_contacts):
            raise Usage("say what happened: an EVENT, --fact NAME=VALUE or a new contact "
                         f"(events: {', '.join(engine.pack.events)})")
        at = when(args.at, cal, "--at") if args.at else None
        args.application = resolve(engine.store, args.application, owner=owner)
        decisions: list[Decision] = []
        if new_contacts:
            before = engine.application(args.application, owner=owner)
            new_contacts, decisions = settle(before.contacts, new_contacts, args,
                                             f"on {before.id}")
        outcome = engine.log(args.application, event=args.event, contact=args.contact,
                             facts=facts, contacts=new_contacts, at=at, key=args.key,
                             owner=owner)
        record = engine.store.load(args.application, owner=owner)
        app = record.application
        why = cancellations(engine.pack, app, record.history, outcome.cancelled,
                            len(outcome.entries))
        # The same person under the new spelling: renamed once the change is recorded.
        if rename_stored(engine, args.application, decisions, owner=owner):
            app = engine.application(args.application, owner=owner)
        changed = outcome.changed or app.version != record.application.version
        for problem in outcome.problems:
            print(f"followup log: warning: {problem}", file=sys.stderr)
        if opt(args, "json"):
            print_json({"id": app.id, "state": app.state, "changed": changed,
                         "problems": list(outcome.problems),
                         "cancelled": [timer_json(cal, c.timer) | {
                             "reason": c.reason, "done_by": c.done_by,
                             "never_done": c.never_done} for c in why],
                         "armed": [timer_json(cal, t) for t in outcome.armed]}
                       | ({"matched": decisions_json(decisions)} if decisions else {}))
        elif not changed:
            print(f"{app.id}: already recorded, nothing changed (state {app.state})")
        else:
            print(f"{app.id}: recorded; now {app.state}")
            for line in decisions_text(decisions):
                print(line)
            for c in why:
                print(_cancelled_text(engine, cal, app, c))
            for t in outcome.armed:
                print(f"  next {local(cal, t.fire_at)}  {t.rule}"
                      f"{' — ' + t.contact if t.contact else ''}")
    return EXIT_OK


_BECAUSE = {
    "stopped": "stopped for good",
    "left_state": "the application is now {state}",
    "contact_gone": "the contact is gone",
    "condition": "its condition no longer holds",
    "replanned": "no longer planned",
}


def _cancelled_text(engine: Engine, cal: WorkCalendar, app: Application,
                    c: Cancellation) -> str:
    """A cancelled reminder for people: as done, or why, and when its action was never
    marked done, what it asked for and how to record it."""
    t = c.timer
    line = f"  cancelled {t.rule}{' — ' + t.contact if t.contact else ''}"
    if c.reason == "done":
        return line
    line += f" ({_BECAUSE[c.reason].format(state=app.state)})"
    if not c.never_done or c.done_by is None:
        return line
    subject = engine.owners.preview(t, app, cal)[0]
    command = f"followup log {shlex.quote(app.id)} {c.done_by}"
    if t.contact is not None and engine.pack.events[c.done_by].per_contact:
        command += f" --contact {shlex.quote(t.contact)}"
    advice = (f": if it was done, record it: {command}"
              if c.done_by in engine.machine.allowed(app.state) else "")
    return f'{line}: "{subject}" was never marked done{advice}'


def _cmd_list(args: argparse.Namespace) -> int:
    if args.state:  # checked against the rule pack's states, else it would match nothing
        with open_engine(args) as engine:
            from followup.errors import suggest

            for state in args.state:
                if state not in engine.pack.states:
                    raise Usage(f"--state {state!r}: the rule pack {engine.pack.name!r} has "
                                f"no such state{suggest(state, engine.pack.states)}; states "
                                f"are {', '.join(engine.pack.states)}")
            return _list(engine.store, args)
    # A listing reads stored applications and needs no rules: the engine, the pack and
    # the plugins are not loaded.
    with open_store_at(args) as store:
        return _list(store, args)


def _list(store: Store, args: argparse.Namespace) -> int:
    from followup.store import listing

    owner = owner_id(args)
    archived = True if args.archived else None if args.all else False
    rows = listing(store, owner=owner, states=args.state or None, archived=archived)
    if opt(args, "json"):
        print_json([{"id": app_id, "company": company, "role": role, "state": state,
                     "created_at": created_at.isoformat() if created_at else None,
                     "archived_at": archived_at.isoformat() if archived_at else None}
                    for app_id, state, role, company, created_at, archived_at in rows])
        return EXIT_OK
    if not rows and store.get_owner(owner) is None:
        print("no applications yet: first tell followup your time zone with  followup "
              "init --timezone ZONE [--country CODE], then add one with  followup add")
    elif not rows and args.archived:
        print("no archived applications (followup archive APP archives one)")
    elif not rows and not args.all and store.count_applications(
            owner=owner, states=args.state or None, archived=True):
        print("no applications but archived ones: followup list --archived lists them")
    elif not rows:
        print("no applications yet: add one with  followup add --company ACME --role "
              "ENGINEER --interviewed 2026-12-23T15:00")
    sys.stdout.write("".join(  # one write: a long list is many lines
        f"{app_id}  {state:<12} {role} at {company}"
        f"{'  (archived)' if args.all and archived_at is not None else ''}\n"
        for app_id, state, role, company, _created_at, archived_at in rows))
    return EXIT_OK


def _cmd_show(args: argparse.Namespace) -> int:
    from followup.runtime.history import CORRECTIONS

    with open_engine(args) as engine:
        owner = owner_id(args)
        cal = engine.calendar(owner)
        record = engine.store.load(resolve(engine.store, args.application, owner=owner),
                                   owner=owner)
        app = record.application
        if args.graph:
            from followup.interop.graph import path_to_mermaid

            sys.stdout.write(path_to_mermaid(engine.pack, record.history, calendar=cal))
            return EXIT_OK
        # The application's last attempt failed: its reminders wait for a retry.
        faults = engine.store.faults(owner=app.owner, application_id=app.id)
        fault = faults[0] if faults else None
        rounds = _rounds(engine, cal, record.history)
        if opt(args, "json"):
            print_json({
                "id": app.id, "owner": app.owner, "company": app.company, "role": app.role,
                "state": app.state, "facts": app.facts,
                "contacts": [c.to_dict() for c in app.contacts],
                "events_allowed": engine.machine.allowed(app.state),
                "history": [{"seq": h.seq, "at": cal.local(h.at).isoformat(), "kind": h.kind,
                             "name": h.name, "contact": h.contact, "from": h.from_state,
                             "to": h.to_state} | ({"data": h.data} if h.kind in CORRECTIONS
                                                  else {}) for h in record.history],
                "archived_at": None if app.archived_at is None
                else cal.local(app.archived_at).isoformat(),
                "timers": [timer_json(cal, t) for t in record.timers],
                "rounds": rounds,
                "fault": None if fault is None else {
                    "error": fault.error, "attempts": fault.attempts,
                    "first_at": cal.local(fault.first_at).isoformat(),
                    "last_at": cal.local(fault.last_at).isoformat(),
                    "retry_at": cal.local(fault.retry_at).isoformat()},
            })
            return EXIT_OK
        print(f"{app.id}: {app.role} at {app.company} — {app.state}"
              f"{f' (archived {local(cal, app.archived_at)})' if app.archived_at else ''}")
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
        if len(rounds) > 1:  # a second interview (next_round) or a reopening
            print("rounds:")
            for r in rounds:
                said = [f"{k}={'' if v is None else v}" for k, v in r["facts"].items()]
                print(f"  {r['round']}. {local(cal, datetime.fromisoformat(r['began']))}"
                      f"{' (' + r['event'] + ')' if r['event'] else ''}"
                      f"{': ' + ', '.join(said) if said else ''}"
                      f"{'; met ' + ', '.join(r['contacts']) if r['contacts'] else ''}")
        print("history:")
        for h in record.history:
            label = "added" if h.kind == "created" else history_label(h, cal)
            move = f" → {h.to_state}" if h.to_state and h.kind != "created" else ""
            print(f"  {local(cal, h.at)}  {h.kind:<10} {label}"
                  f"{' — ' + h.contact if h.contact else ''}{move}")
        print("coming:")
        for t in record.timers:
            print(f"  {local(cal, t.fire_at)}  {t.rule}{' — ' + t.contact if t.contact else ''}"
                  f"{'  due ' + local(cal, t.due_at) if t.due_at else ''}")
        print(f"you can log: {', '.join(engine.machine.allowed(app.state))}")
    return EXIT_OK


def _rounds(engine: Engine, cal: WorkCalendar, history: Sequence[HistoryEntry]
            ) -> list[dict[str, Any]]:
    """The application's rounds (followup.runtime.rounds) as ``show`` prints them: facts
    that hold an instant in the owner's time."""
    from followup.runtime.history import effective
    from followup.runtime.rounds import rounds_of

    out = []
    for r in rounds_of(effective(history), engine.pack.initial):
        facts: dict[str, str | None] = {}
        for name, value in r.facts.items():
            spec = engine.pack.facts.get(name)
            if value is not None and spec is not None and spec.type == "datetime":
                value = local(cal, datetime.fromisoformat(value))
            facts[name] = value
        out.append({"round": r.number, "began": cal.local(r.began).isoformat(),
                    "event": r.event, "facts": facts, "contacts": list(r.contacts)})
    return out


def _cmd_agenda(args: argparse.Namespace) -> int:
    from followup.timing.calendar import why_held

    with open_engine(args) as engine:
        owner = owner_id(args)
        cal = engine.calendar(owner)
        now = engine.clock.now()
        end = now + timedelta(days=args.days)
        held = why_held(cal, now)
        if opt(args, "json"):
            out = []
            for i in engine.agenda(owner=owner, end=end):
                t, app = i.timer, i.application
                status, waits = _status(t.fire_at, t.due_at, t.action, now, held)
                out.append(timer_json(cal, t) | {
                    "company": app.company if app else None,
                    "role": app.role if app else None,
                    "status": status, "overdue": status == "overdue",
                    "due_now": t.fire_at <= now,
                    "held": None if waits is None else {
                        "until": cal.local(waits[0]).isoformat(), "reason": waits[1]},
                })
            print_json(out)
            return EXIT_OK
        # The lines alone (Engine.agenda_rows): no records are made for them.
        rows = engine.agenda_rows(owner=owner, end=end)
        if not rows:
            print(f"nothing in the next {args.days} days")
        shown: dict[datetime, str] = {}  # many reminders share a time: each shown once

        def when(instant: datetime) -> str:
            text = shown.get(instant)
            if text is None:
                text = shown[instant] = local(cal, instant)
            return text

        lines = []
        for fire_at, due_at, rule, action, contact, app_id, company in rows:
            status, waits = _status(fire_at, due_at, action, now, held)
            flag = "" if status == "coming" else status
            lines.append(f"{flag:<8}{when(fire_at)}  {rule:<20} "
                         f"{'(all applications)' if company is None else company}"
                         f"{' — ' + contact if contact else ''}"
                         f"{'  due ' + when(due_at) if due_at else ''}"
                         f"{'  [' + app_id + ']' if app_id else ''}"
                         f"{f'  (held until {when(waits[0])}: {waits[1]})' if waits else ''}"
                         "\n")
        sys.stdout.write("".join(lines))  # one write: a long agenda is many lines
    return EXIT_OK


def _status(fire_at: datetime, due_at: datetime | None, action: str, now: datetime,
            held: tuple[datetime, str] | None) -> tuple[str, tuple[datetime, str] | None]:
    """A line's status: ``overdue`` once the deadline passed, ``due`` once its time came
    (it goes at the next pass), else ``coming``; and, for a reminder whose time came,
    until when and why it is held (``held``: ``why_held`` now), if it is."""
    due_now = fire_at <= now
    waits = held if due_now and action == "notify" else None
    if due_at is not None and due_at <= now:
        return "overdue", waits
    return ("due" if due_now else "coming"), waits
