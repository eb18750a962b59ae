"""Commands that correct what was recorded: edit, contact rename|merge|remove, archive,
unarchive, delete, undo, snooze. Each is one change, kept in the history as an entry of
its own (see ``followup.runtime.corrections``)."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from followup.cli._common import (
    EXIT_INPUT,
    EXIT_OK,
    Command,
    Usage,
    local,
    open_engine,
    opt,
    owner_id,
    parse_facts,
    print_json,
    timer_json,
    when,
)
from followup.cli.ids import resolve

if TYPE_CHECKING:
    from followup.model import HistoryEntry
    from followup.runtime.changes import Outcome
    from followup.runtime.engine import Engine
    from followup.timing.calendar import WorkCalendar

__all__ = ["history_label", "register"]

_APP_HELP = "the application's id, or a unique start of it (see followup list)"
_KEY_HELP = "an idempotency key: the same command with the same key again changes nothing"


def register(cmd: Command) -> None:
    """Add this module's commands to the parser."""
    p = cmd("edit", "change an application's company, role, interview time or facts")
    p.add_argument("application", metavar="APP", help=_APP_HELP)
    p.add_argument("--company", help="the employer's name as it should read")
    p.add_argument("--role", help="the job's title as it should read")
    p.add_argument("--interviewed", metavar="WHEN",
                   help="when the interview was, e.g. 2026-12-23T15:00 (your time zone)")
    p.add_argument("--fact", action="append", default=[], metavar="NAME=VALUE",
                   help="set a fact the rule pack declares (repeatable); NAME= removes it")
    p.add_argument("--key", help=_KEY_HELP)
    p.set_defaults(run=_cmd_edit)

    p = cmd("contact", "rename, merge or remove a contact of an application")
    p.add_argument("action", metavar="ACTION", choices=("rename", "merge", "remove"),
                   help="rename, merge or remove: rename APP NAME NEW_NAME; merge APP NAME "
                   "INTO (NAME's details fill INTO's blanks, then NAME is gone); remove "
                   "APP NAME")
    p.add_argument("application", metavar="APP", help=_APP_HELP)
    p.add_argument("name", metavar="NAME", help="the contact, as recorded")
    p.add_argument("other", metavar="OTHER", nargs="?",
                   help="rename: the new name; merge: the contact NAME becomes part of")
    p.add_argument("--key", help=_KEY_HELP)
    p.set_defaults(run=_cmd_contact)

    p = cmd("archive", "keep an application and its history, with no more reminders")
    p.add_argument("application", metavar="APP", help=_APP_HELP)
    p.add_argument("--key", help=_KEY_HELP)
    p.set_defaults(run=_cmd_archive, archived=True)

    p = cmd("unarchive", "bring an archived application back; its reminders are planned again")
    p.add_argument("application", metavar="APP", help=_APP_HELP)
    p.add_argument("--key", help=_KEY_HELP)
    p.set_defaults(run=_cmd_archive, archived=False)

    p = cmd("delete", "delete an application and its history for good")
    p.add_argument("application", metavar="APP", help=_APP_HELP)
    p.add_argument("--yes", action="store_true",
                   help="do not ask: needed when no terminal can answer the question")
    p.set_defaults(run=_cmd_delete)

    p = cmd("undo", "take back the latest thing you recorded on an application")
    p.add_argument("application", metavar="APP", help=_APP_HELP)
    p.add_argument("--key", help=_KEY_HELP)
    p.set_defaults(run=_cmd_undo)

    p = cmd("snooze", "hold one coming reminder back until a time or for a while")
    p.add_argument("application", metavar="APP", help=_APP_HELP)
    p.add_argument("reminder", metavar="REMINDER",
                   help="the reminder: its rule (e.g. follow-up-call) or its key "
                   "(followup show APP --json lists the keys)")
    p.add_argument("--contact", metavar="NAME",
                   help="whose reminder, when the rule has one per contact")
    until = p.add_mutually_exclusive_group(required=True)
    until.add_argument("--until", metavar="WHEN",
                       help="not before this time, e.g. 2026-12-28T09:00 (your time zone)")
    until.add_argument("--for", dest="span", metavar="DURATION",
                       help="for this long from now: 2h, 3d, 1w, 30m, or e.g. "
                       "'1 working day', '2 days', P1W")
    p.add_argument("--key", help=_KEY_HELP)
    p.set_defaults(run=_cmd_snooze)


def _cmd_edit(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        owner = owner_id(args)
        cal = engine.calendar(owner)
        facts: dict[str, object | None] = {
            name: (value if value != "" else None) for name, value in parse_facts(args.fact).items()}
        engine.pack.check_fact_names(facts)
        if args.interviewed:
            facts["interviewed_at"] = when(args.interviewed, cal, "--interviewed")
        if args.company is None and args.role is None and not facts:
            raise Usage("say what to change: --company, --role, --interviewed or --fact")
        app_id = resolve(engine.store, args.application, owner=owner)
        outcome = engine.edit(app_id, company=args.company, role=args.role, facts=facts,
                              key=args.key, owner=owner)
        return _report(args, engine, cal, outcome, "edited")


def _cmd_contact(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        owner = owner_id(args)
        cal = engine.calendar(owner)
        if args.action == "remove" and args.other is not None:
            raise Usage(f"contact remove takes one name; {args.other!r} is one too many")
        if args.action != "remove" and args.other is None:
            what = "the new name" if args.action == "rename" else "the contact to merge into"
            raise Usage(f"contact {args.action} APP NAME needs {what} after NAME")
        app_id = resolve(engine.store, args.application, owner=owner)
        other: str = args.other or ""
        if args.action == "rename":
            outcome = engine.rename_contact(app_id, args.name, other, key=args.key,
                                            owner=owner)
            done = f"renamed {args.name} to {args.other}"
        elif args.action == "merge":
            outcome = engine.merge_contacts(app_id, args.name, other, key=args.key,
                                            owner=owner)
            done = f"merged {args.name} into {args.other}"
        else:
            outcome = engine.remove_contact(app_id, args.name, key=args.key, owner=owner)
            done = f"removed {args.name}"
        return _report(args, engine, cal, outcome, done)


def _cmd_archive(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        owner = owner_id(args)
        cal = engine.calendar(owner)
        app_id = resolve(engine.store, args.application, owner=owner)
        if args.archived:
            outcome = engine.archive(app_id, key=args.key, owner=owner)
        else:
            outcome = engine.unarchive(app_id, key=args.key, owner=owner)
        return _report(args, engine, cal, outcome,
                       "archived" if args.archived else "back from the archive")


def _cmd_delete(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        owner = owner_id(args)
        app_id = resolve(engine.store, args.application, owner=owner)
        app = engine.application(app_id, owner=owner)
        if not args.yes:
            if not sys.stdin.isatty():
                print(f"followup delete: refused: deleting {app_id} ({app.role} at "
                      f"{app.company}) removes its history for good, and no terminal is "
                      "here to confirm it; pass --yes to delete it (or followup archive "
                      "to keep it without reminders)", file=sys.stderr)
                return EXIT_INPUT
            answer = input(f"delete {app_id} ({app.role} at {app.company}) and its history "
                           "for good? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("nothing deleted", file=sys.stderr)
                return EXIT_INPUT
        engine.delete(app_id, owner=owner)
        if opt(args, "json"):
            print_json({"id": app_id, "deleted": True})
        else:
            print(f"{app_id}: deleted ({app.role} at {app.company}) with its history")
    return EXIT_OK


def _cmd_undo(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        owner = owner_id(args)
        cal = engine.calendar(owner)
        app_id = resolve(engine.store, args.application, owner=owner)
        outcome = engine.undo(app_id, key=args.key, owner=owner)
        undone = next((e for e in outcome.entries if e.kind == "undo"), None)
        what = "undid " + history_label(undone, cal) if undone is not None else "undone"
        return _report(args, engine, cal, outcome, what)


def _cmd_snooze(args: argparse.Namespace) -> int:
    from followup.timing.calendar import parse_duration

    with open_engine(args) as engine:
        owner = owner_id(args)
        cal = engine.calendar(owner)
        app_id = resolve(engine.store, args.application, owner=owner)
        key = _reminder(engine, app_id, owner, args.reminder, args.contact)
        if args.until:
            until = when(args.until, cal, "--until")
        else:
            try:
                span = parse_duration(_SHORT.sub(_spelled, args.span.strip()))
            except ValueError as exc:
                raise Usage(f"--for {args.span!r}: {exc}") from None
            until = cal.add(engine.clock.now(), span)
        outcome = engine.snooze(app_id, key, until=until, key=args.key, owner=owner)
        return _report(args, engine, cal, outcome, "snoozed")


_SHORT = re.compile(r"^(\d+)\s*([mhdw])$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _spelled(match: re.Match[str]) -> str:
    return f"{match[1]} {_UNITS[match[2].lower()]}"


def _reminder(engine: Engine, app_id: str, owner: str, text: str,
              contact: str | None) -> str:
    """The key of the pending reminder ``text`` names: its key, or its rule (with
    ``contact`` when the rule has one reminder per contact)."""
    timers = [t for t in engine.timers(app_id, owner=owner) if t.action == "notify"]
    if any(t.key == text for t in timers):
        return text
    found = [t for t in timers if t.rule == text and (contact is None or t.contact == contact)]
    if len(found) == 1:
        return found[0].key
    pending = "; ".join(f"{t.rule}{' --contact ' + repr(t.contact) if t.contact else ''}"
                        for t in timers) or "none"
    if found:
        raise Usage(f"{text!r} has {len(found)} reminders pending, one per contact: say "
                    f"whose with --contact (pending: {pending})")
    who = f" for {contact!r}" if contact else ""
    raise Usage(f"no pending reminder {text!r}{who} on {app_id}: only a reminder still to "
                f"come can be snoozed (pending: {pending})")


def _report(args: argparse.Namespace, engine: Engine, cal: WorkCalendar, outcome: Outcome,
            done: str) -> int:
    """Print what a correction changed, as ``log`` does."""
    app = outcome.application
    for problem in outcome.problems:
        print(f"followup {args.command}: warning: {problem}", file=sys.stderr)
    if opt(args, "json"):
        out: dict[str, Any] = {
            "id": app.id, "state": app.state, "changed": outcome.changed,
            "archived": app.archived_at is not None, "company": app.company,
            "role": app.role, "problems": list(outcome.problems),
            "entries": [{"seq": e.seq, "kind": e.kind, "name": e.name, "contact": e.contact,
                         "data": e.data} for e in outcome.entries],
            "cancelled": [timer_json(cal, t) for t in outcome.cancelled],
            "armed": [timer_json(cal, t) for t in outcome.armed]}
        print_json(out)
    elif not outcome.changed:
        print(f"{app.id}: already so, nothing changed (state {app.state})")
    else:
        print(f"{app.id}: {done}; now {app.state}"
              f"{' (archived)' if app.archived_at is not None else ''}")
        for t in outcome.cancelled:
            print(f"  cancelled {t.rule}{' — ' + t.contact if t.contact else ''}")
        for t in outcome.armed:
            print(f"  next {local(cal, t.fire_at)}  {t.rule}"
                  f"{' — ' + t.contact if t.contact else ''}")
    return EXIT_OK


def history_label(h: HistoryEntry, cal: WorkCalendar) -> str:
    """How ``show`` names a history entry of a correction (its name for the others)."""
    data = h.data
    if h.kind == "edit":
        old, new = data.get("old", {}), data.get("new", {})
        return ", ".join(f"{f} {old.get(f)!r} → {new.get(f)!r}" for f in new)
    if h.kind in ("rename", "merge"):
        return f"{data.get('from')} {'→' if h.kind == 'rename' else 'into'} {data.get('to')}"
    if h.kind == "remove":
        return "contact"  # show adds who
    if h.kind == "archive":
        return "archived"
    if h.kind == "unarchive":
        return "back from the archive"
    if h.kind == "undo":
        kind = data.get("kind")
        return f"#{data.get('undone')} {kind}{'' if h.name == kind else ' ' + h.name}"
    if h.kind == "snooze":
        until = data.get("until")
        shown = local(cal, datetime.fromisoformat(until)) if isinstance(until, str) else until
        return f"{h.name} until {shown}"
    return h.name
