"""Commands about rule packs and plugins: simulate, validate, graph, plugins."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from followup.language.pack import RulePack
    from followup.model import Contact
    from followup.runtime.simulate import PlannedEvent
    from followup.timing.calendar import WorkCalendar

from followup.cli._common import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_PLUGIN,
    Command,
    Usage,
    contact_options,
    contacts_of,
    local,
    opt,
    parse_contact,
    parse_facts,
    plugin_rules,
    print_json,
    when,
)


def register(cmd: Command) -> None:
    """Add this module's commands to the parser."""
    p = cmd("simulate", "a dry run: the timeline of a hypothetical interview")
    p.add_argument("--interviewed", required=True, metavar="WHEN",
                   help="when the interview is, e.g. 2026-12-23T15:00 (in --tz)")
    p.add_argument("--from", dest="added", metavar="WHEN",
                   help="when the application is added (default: at the interview); an "
                   "earlier time shows what comes before the interview")
    p.add_argument("--tz", "--timezone", dest="timezone", help="the owner's time zone")
    p.add_argument("--country", help="whose public holidays count, e.g. US")
    p.add_argument("--subdivision", help="the state or region, e.g. NY")
    p.add_argument("--until", metavar="WHEN", help="stop here (default: 180 days later)")
    p.add_argument("--company", default="Example Corp", help="the employer's name")
    p.add_argument("--position", dest="position", default="Software Engineer", help="the job title")
    contact_options(p)
    p.add_argument("--fact", action="append", default=[], metavar="NAME=VALUE",
                   help="a fact the rule pack declares (repeatable)")
    p.add_argument("--event", action="append", default=[],
                   metavar='"WHEN EVENT|fact|contact [contact=NAME] [FACT=VALUE]... [ROLE=NAME[, TITLE]]..."',
                   help="what to log at WHEN, as followup log would (repeatable): an event, "
                   "with its contact and any facts and contacts recorded with it (e.g. "
                   '"2027-01-10T09:00 next_round interviewed_at=2027-01-15T14:00 '
                   'interviewer=Ann Park, CTO"); or facts alone ("WHEN fact '
                   'decision_expected_on=2027-01-12") or contacts alone ("WHEN contact '
                   'interviewer=Sam Lee, CTO")')
    p.add_argument("--format", choices=("text", "svg"), default="text",
                   help="text (the default) or svg: the timeline drawn as a picture (states as "
                   "bands, reminders as marks with their deadlines, days off shaded)")
    p.set_defaults(run=_cmd_simulate)

    p = cmd("validate", "check rule packs; FILE:LINE:COL for every problem")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="a rule pack file (YAML); name several to check them all")
    p.set_defaults(run=_cmd_validate)

    p = cmd("graph", "draw the rule pack's state machine and its reminders")
    p.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument("--format", choices=("mermaid", "svg", "dot", "png", "json"),
                   help="mermaid (text), svg (drawn here, no Graphviz needed), dot "
                   "(Graphviz's text), png (needs Graphviz's dot) or json (the machine "
                   "itself, for programs; also --json); default: from the --output "
                   "suffix, else mermaid")
    p.set_defaults(run=_cmd_graph)

    p = cmd("plugins", "list the plugins that loaded and their channels")
    p.set_defaults(run=_cmd_plugins)


def _cmd_simulate(args: argparse.Namespace) -> int:
    from followup.language.loader import load_rules
    from followup.runtime.simulate import simulate

    pack = load_rules(opt(args, "rules", "FOLLOWUP_RULES"), **plugin_rules())
    calendar = pack.calendar.build(timezone=args.timezone, country=args.country,
                                   subdivision=args.subdivision)
    interviewed = when(args.interviewed, calendar, "--interviewed")
    until = when(args.until, calendar, "--until") if args.until else None
    added = when(args.added, calendar, "--from") if args.added else None
    if until is not None and len(args.until.strip()) == 10:  # a bare date: through its end
        until = until + timedelta(days=1) - timedelta(microseconds=1)
    events = [planned_event(text, pack, calendar) for text in args.event]
    sim = simulate(pack, interviewed=interviewed, timezone=args.timezone, country=args.country,
                   subdivision=args.subdivision, until=until, contacts=contacts_of(args),
                   facts=parse_facts(args.fact), events=events, company=args.company,
                   role=args.position, added=added)
    if opt(args, "json"):
        print_json([e.to_json(sim.calendar) for e in sim.timeline])
        return EXIT_OK
    if args.format == "svg":
        from followup.interop.timeline import timeline_svg

        sys.stdout.write(timeline_svg(sim, title=f"{args.company}: followup simulate"))
        return EXIT_OK
    for e in sim.timeline:
        at = sim.calendar.local(e.at).strftime("%a %Y-%m-%d %H:%M %z")
        what = e.rule or e.event or e.role or ""
        if e.facts is not None:
            what = ", ".join(f"{k}={'' if v is None else v}" for k, v in e.facts.items())
        who = f" — {e.contact}{', ' + e.title if e.title else ''}" if e.contact else ""
        due = f"  (due {local(sim.calendar, e.due)})" if e.due else ""
        print(f"{at}  {e.action:<10} {what}{who}{due}  [{e.state}]")
    return EXIT_OK


_EVENT_SHAPE = ('"WHEN EVENT [contact=NAME] [FACT=VALUE]... [ROLE=NAME[, TITLE]]...", '
                '"WHEN fact FACT=VALUE..." or "WHEN contact ROLE=NAME[, TITLE]..."')


def planned_event(text: str, pack: RulePack, calendar: WorkCalendar) -> PlannedEvent:
    """One ``--event`` line: a time, then what is logged then, as ``followup log`` takes
    it: an event of the pack, with ``contact=NAME`` (a per-contact event's contact),
    ``FACT=VALUE`` for each fact recorded with it and ``ROLE=NAME[, TITLE]`` for each
    contact recorded with it (as ``--interviewer`` takes one); or ``fact`` with facts
    alone, or ``contact`` with contacts alone. A value runs to the next ``KEY=`` that
    names a fact, a role or ``contact``, so names and titles may hold spaces and commas.
    ``Usage`` (exit 2) names the line and the shape it should have."""
    from followup.runtime.simulate import PlannedEvent

    def bad(why: str) -> Usage:
        return Usage(f"--event {text!r}: {why}; write {_EVENT_SHAPE}")

    parts = text.split(None, 2)
    if len(parts) < 2:
        raise bad("it needs a time and what happened")
    try:
        at = when(parts[0], calendar, "--event")
    except Usage as exc:
        raise bad(str(exc)) from None
    what = parts[1]
    event = what if what in pack.events or what not in ("fact", "contact") else None
    if event is not None and event not in pack.events:
        known = ", ".join([*pack.events, "fact", "contact"])
        raise bad(f"{event!r} is no event of the rule pack (events: {known})")
    keys = [*pack.facts, *pack.roles, "contact"]
    rest = parts[2] if len(parts) == 3 else ""
    pairs = _pairs(rest, keys) if rest.strip() else []
    if pairs is None:
        raise bad(f"after {what!r} come KEY=VALUE pairs, each KEY a fact of the pack, a "
                  f"role or contact; got {rest!r} (facts: {', '.join(pack.facts)}; roles: "
                  f"{', '.join(pack.roles)})")
    contact: str | None = None
    facts: dict[str, object] = {}
    contacts: list[Contact] = []
    for key, value in pairs:
        if not value and key not in pack.facts:
            raise bad(f"{key}= needs a value")
        if key == "contact" and "contact" not in pack.facts and "contact" not in pack.roles:
            if event is None:
                raise bad("contact=NAME names a per-contact event's contact; to record a "
                          "contact, give its role: interviewer=NAME[, TITLE]")
            if contact is not None:
                raise bad("an event is about one contact; contact= is given twice")
            contact = value
        elif key in pack.facts:
            if key in facts:
                raise bad(f"the fact {key} is given twice")
            facts[key] = value or None  # FACT= removes one (a date of an earlier round)
        else:
            try:
                contacts.append(parse_contact(value, key))
            except Usage as exc:
                raise bad(str(exc)) from None
    if event is None and what == "fact" and (contacts or not facts):
        raise bad("a fact line gives facts only, at least one (FACT=VALUE)")
    if event is None and what == "contact" and (facts or not contacts):
        raise bad("a contact line gives contacts only, at least one (ROLE=NAME[, TITLE])")
    return PlannedEvent(at=at, name=event, contact=contact, facts=facts,
                        contacts=tuple(contacts))


def _pairs(text: str, keys: Iterable[str]) -> list[tuple[str, str]] | None:
    """``KEY=VALUE KEY=VALUE ...`` split at each known key (``None`` when the text does
    not start with one)."""
    names = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    starts = list(re.finditer(rf"(?:^|(?<=\s))({names})=", text))
    if not starts or text[: starts[0].start()].strip():
        return None
    out = []
    for i, found in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        value = text[found.end(): end].strip()
        out.append((found.group(1), value))
    return out


def _cmd_validate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from followup.errors import RulesError
    from followup.language.loader import load_rules

    results = []
    worst = EXIT_OK
    for file in args.files:
        try:
            pack = load_rules(Path(file), **plugin_rules())
        except RulesError as exc:
            worst = EXIT_INPUT
            # In the order they stand: this file's first, each file's by line and column.
            problems = sorted(exc.problems, key=lambda p: (p.file != str(file), p.file,
                                                           p.line, p.column))
            results.append({"file": file, "ok": False, "problems": [
                {"file": p.file, "line": p.line, "column": p.column, "path": p.path,
                 "message": p.message, "severity": p.severity} for p in problems]})
            if not opt(args, "json"):
                for p in problems:
                    print(str(p), file=sys.stderr)
            continue
        results.append({"file": file, "ok": True, "name": pack.name, "rules": [r.name for r in pack.rules],
                        "problems": [{"file": p.file, "line": p.line, "column": p.column,
                                      "path": p.path, "message": p.message,
                                      "severity": p.severity} for p in pack.warnings]})
        if not opt(args, "json"):
            for p in pack.warnings:
                print(str(p), file=sys.stderr)
            print(f"{file}: ok — pack {pack.name!r}, {len(pack.states)} states, "
                  f"{len(pack.events)} events, {len(pack.rules)} rules")
    if opt(args, "json"):
        print_json(results)
    return worst


_GRAPH_SUFFIXES = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot",
                   ".mmd": "mermaid", ".md": "mermaid", ".json": "json"}


def machine_json(pack: RulePack) -> dict[str, Any]:
    """The pack's state machine as data: what ``graph`` draws, for programs. Times are
    as the rule author wrote them (``2 working days after interviewed_at``)."""
    def states(value: Iterable[str] | None) -> list[str] | None:
        return None if value is None else sorted(value, key=pack.states.index)

    return {
        "name": pack.name,
        "states": list(pack.states),
        "initial": pack.initial,
        "active": list(pack.active or pack.states),
        "events": [{"name": e.name, "from": None if e.sources is None else list(e.sources),
                    "to": e.dest, "per_contact": e.per_contact, "role": e.role,
                    "guard": e.guard.source if e.guard else None,
                    "description": e.description} for e in pack.events.values()],
        "transitions": [{"name": t.name, "from": list(t.sources), "to": t.dest,
                         "after": t.after.text if t.after else None,
                         "when": t.when.source if t.when else None,
                         "every": t.every, "did": t.did,
                         "guard": t.guard.source if t.guard else None}
                        for t in pack.transitions],
        "rules": [{"name": r.name, "scope": r.scope, "while": states(r.states),
                   "for_each": r.for_each, "at": r.at.text,
                   "due": r.due.text if r.due else None,
                   "not_before": r.not_before.text if r.not_before else None,
                   "not_after": r.not_after.text if r.not_after else None,
                   "instead": [{"if": o.fact, "at": o.at.text,
                                "due": o.due.text if o.due else None} for o in r.instead],
                   "every": r.every.text if r.every else None, "limit": r.limit,
                   "if": r.condition.source if r.condition else None,
                   "done_by": r.done_by, "until": r.until,
                   "channels": list(r.message.channels),
                   "description": r.description} for r in pack.rules],
    }


def _cmd_graph(args: argparse.Namespace) -> int:
    from pathlib import Path

    from followup.language.loader import load_rules

    fmt = args.format or ("json" if opt(args, "json") else None) or (
        _GRAPH_SUFFIXES.get(Path(args.output).suffix.lower()) if args.output else None
    ) or "mermaid"
    pack = load_rules(opt(args, "rules", "FOLLOWUP_RULES"), **plugin_rules())
    if fmt == "json":
        import json

        data = (json.dumps(machine_json(pack), indent=2, ensure_ascii=False) + "\n").encode()
    elif fmt == "mermaid":
        from followup.interop.graph import to_mermaid

        data = to_mermaid(pack).encode("utf-8")
    elif fmt == "svg":
        from followup.interop.drawing import to_svg

        data = to_svg(pack).encode("utf-8")
    else:
        from followup.interop.drawing import to_dot

        data = to_dot(pack).encode("utf-8")
        if fmt == "png":
            data = _graphviz(data)
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return EXIT_OK


def _graphviz(dot: bytes) -> bytes:
    """A PNG drawn by Graphviz's ``dot`` from ``dot`` text."""
    import shutil
    import subprocess

    program = shutil.which("dot")
    if program is None:
        raise Usage("a PNG needs Graphviz's dot program, which is not installed: install "
                     "Graphviz (apt install graphviz, brew install graphviz), or draw "
                     "--format svg, which needs nothing else")
    try:
        done = subprocess.run([program, "-Tpng"], input=dot, capture_output=True,
                              timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Usage(f"Graphviz's dot ({program}) could not draw the diagram: {exc}") from exc
    if done.returncode != 0:
        problem = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise Usage(f"Graphviz's dot ({program}) could not draw the diagram: {problem}")
    return done.stdout


def _cmd_plugins(args: argparse.Namespace) -> int:
    from followup.delivery.manager import load_plugins

    plugins = load_plugins()
    if opt(args, "json"):
        print_json({"loaded": [{"name": p.name, "origin": p.origin, "channels": list(p.channels)}
                                for p in plugins.loaded],
                     "failed": plugins.failures})
    else:
        for p in plugins.loaded:
            print(f"{p.name:<16} {p.origin}  channels: {', '.join(p.channels) or '-'}")
        for name, error in plugins.failures.items():
            print(f"{name:<16} FAILED: {error}")
    return EXIT_PLUGIN if plugins.failures else EXIT_OK
