"""Commands that read and write files other programs use: import and export."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from followup.cli._common import (
    EXIT_OK,
    Command,
    Usage,
    day_count,
    open_engine,
    opt,
    owner_id,
    print_json,
)
from followup.cli.lookalikes import options as lookalike_options

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from followup.interop.transfer import ImportItem, OwnerState
    from followup.model import Contact
    from followup.runtime.engine import Engine

_SUFFIXES = {".ics": "ics", ".csv": "csv", ".json": "json", ".vcf": "vcard", ".vcard": "vcard"}
_FORMATS = ("ics", "csv", "json", "vcard")


def register(cmd: Command) -> None:
    """Add this module's commands to the parser."""
    p = cmd("export", "write your reminders, applications, history or contacts to a file")
    # One flag per format, all setting `format`; --format names any of them.
    p.add_argument("--ics", dest="format", action="store_const", const="ics",
                   help="your coming reminders as an iCalendar file (RFC 5545)")
    p.add_argument("--csv", dest="format", action="store_const", const="csv",
                   help="one table (see --table) as CSV")
    p.add_argument("--vcard", dest="format", action="store_const", const="vcard",
                   help="contacts as vCard (of one application with --app)")
    p.add_argument("--format", dest="format", choices=_FORMATS,
                   help="ics, csv, json (applications with contacts and history) or vcard")
    p.add_argument("--table", choices=("applications", "contacts", "history"),
                   default="applications", help="with --csv: which table (default applications)")
    p.add_argument("--raw-csv", action="store_true",
                   help="with --csv: write cells that start like a formula (=, +, -, @) as "
                        "they are, without the leading ' that keeps spreadsheets from running them")
    p.add_argument("--app", metavar="APP", help="with --vcard: only this application's contacts")
    p.add_argument("--vcard-version", choices=("3.0", "4.0"), default="3.0",
                   help="with --vcard: the vCard version (default 3.0)")
    p.add_argument("--todo", action="store_true",
                   help="with --ics: tasks (VTODO) with a due date instead of events")
    p.add_argument("--days", type=day_count, default=90,
                   help="with --ics: how far ahead (default 90)")
    p.add_argument("--output", metavar="FILE",
                   help="write to FILE, readable by you only (default: standard output)")
    _progress_option(p)
    p.set_defaults(run=_cmd_export)

    p = cmd("import", "read applications (CSV, JSON) or contacts (vCard) from a file")
    p.add_argument("file", metavar="FILE", help="the file; its suffix says the format "
                   "(.csv, .json, .vcf) unless --csv, --json-file or --vcard says it")
    p.add_argument("--csv", dest="format", action="store_const", const="csv",
                   help="FILE is CSV: one application a row")
    p.add_argument("--json-file", dest="format", action="store_const", const="json",
                   help="FILE is JSON: followup export's, or a list of applications")
    p.add_argument("--vcard", dest="format", action="store_const", const="vcard",
                   help="FILE holds business cards: contacts of the application --app")
    p.add_argument("--app", metavar="APP", help="with --vcard: the application the contacts join")
    p.add_argument("--keep-photos", action="store_true",
                   help="with --vcard: keep each card's PHOTO (a picture of up to about 48 KB), "
                   "left out by default")
    p.add_argument("--role", help="the role of the contacts read (vCard; a CSV row's contact, "
                   "default recruiter), e.g. interviewer")
    p.add_argument("--preset", choices=("followup", "spreadsheet", "huntr", "teal", "linkedin"),
                   help="with --csv: whose export the file is (default: followup's own "
                   "when the header is, else spreadsheet)")
    p.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD",
                   help="with --csv: read COLUMN as FIELD, e.g. 'Employer=company' (repeatable)")
    p.add_argument("--status", action="append", default=[], metavar="STATUS=STATE",
                   help="with --csv: read the status STATUS as the state STATE (repeatable)")
    p.add_argument("--contacts", metavar="FILE",
                   help="with --csv: the contacts table followup export --csv wrote")
    p.add_argument("--history", metavar="FILE",
                   help="with --csv: the history table followup export --csv wrote")
    p.add_argument("--dry-run", action="store_true",
                   help="check the file and say what would be imported; write nothing")
    lookalike_options(p)
    _progress_option(p)
    p.set_defaults(run=_cmd_import)


def _progress_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show progress on standard error (default: when it is a terminal)")


class _Bar:
    """Progress on standard error: ``importing  120/500  24%``, redrawn in place."""

    def __init__(self, what: str, enabled: bool | None) -> None:
        self.what = what
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.shown = -1
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        percent = done * 100 // total
        if percent == self.shown and done != total:
            return
        self.shown = percent
        sys.stderr.write(f"\r{self.what} {done}/{total} {percent:3d}%")
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.drawn = False


# -- export -----------------------------------------------------------------------------


def _cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    fmt = args.format
    if fmt is None and args.output:
        fmt = _SUFFIXES.get(Path(args.output).suffix.lower())
    if fmt is None:
        raise Usage("choose a format: --ics (an iCalendar file for a calendar app), --csv, "
                     "--format json or --vcard, e.g. followup export --ics --output "
                     "followup.ics")
    if args.output is None and opt(args, "json"):
        raise Usage("the export itself goes to standard output; --json reports on an "
                     "export written with --output FILE")
    bar = _Bar("exporting", args.progress)
    try:
        with open_engine(args) as engine:
            owner = owner_id(args)
            text, count, noun = _render(engine, owner, fmt, args, bar)
    finally:
        bar.close()
    data = text.encode("utf-8")  # bytes, so CRLF line endings stay exactly as written
    if args.output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return EXIT_OK
    target = _write_private(args.output, data)
    if opt(args, "json"):
        report: dict[str, Any] = {"format": fmt, "output": str(target), noun: count}
        if fmt == "ics":
            report["days"] = args.days
        if fmt == "csv":
            report["table"] = args.table
        print_json(report)
    else:
        print(f"wrote {count} {noun if count != 1 else noun[:-1]} to {target}")
    return EXIT_OK


def _render(engine: Engine, owner: str, fmt: str, args: argparse.Namespace,
            bar: _Bar) -> tuple[str, int, str]:
    """The file's text, how many things it holds and what they are."""
    if fmt == "ics":
        from followup.interop.ical import calendar_entries, entries_to_ics

        now = engine.clock.now()
        entries = calendar_entries(engine, owner, now=now, until=now + timedelta(days=args.days))
        text = entries_to_ics(entries, zone=engine.calendar(owner).tz, stamp=now,
                              todo=args.todo, name=f"followup ({owner})")
        return text, len(entries), "reminders"
    if fmt == "vcard":
        from followup.cli.ids import resolve
        from followup.interop.vcard import application_contacts, contacts_to_vcard

        apps = ([engine.application(resolve(engine.store, args.app, owner=owner),
                                    owner=owner)] if args.app
                else engine.applications(owner=owner))
        contacts = application_contacts(apps)
        return contacts_to_vcard(contacts, version=args.vcard_version), len(contacts), "contacts"
    import json

    from followup.interop.transfer import csv_table, export_document

    document = export_document(engine, owner, progress=bar)
    apps = document["applications"]
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n", len(apps), \
            "applications"
    rows = {"applications": len(apps),
            "contacts": sum(len(a["contacts"]) for a in apps),
            "history": sum(len(a["history"]) for a in apps)}[args.table]
    noun = "history entries" if args.table == "history" else args.table
    return csv_table(document, args.table, raw=args.raw_csv), rows, noun


def _write_private(output: str, data: bytes) -> Path:
    """Write ``data`` to ``output`` readable by its owner only, replacing it whole."""
    import tempfile
    from pathlib import Path

    target = Path(output)
    if target.is_dir():
        raise Usage(f"--output {output!r} is a folder: name a file, e.g. "
                     f"{target / 'followup.ics'}")
    if not target.parent.is_dir():
        raise Usage(f"--output {output!r}: the folder {str(target.parent)!r} does not exist")
    # A new file beside the target, readable by its owner only (mkstemp makes it 0o600),
    # then renamed over it: a program reading the file never sees half of it, and an
    # old file readable by others is replaced, not rewritten in place.
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


# -- import -----------------------------------------------------------------------------


def _read(path: str | None, what: str) -> bytes:
    if path is None:
        return b""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise Usage(f"{what} {path!r} cannot be read: {exc.strerror}") from None


def _pairs(items: list[str], option: str, example: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.rpartition("=")
        if not sep or not key.strip() or not value.strip():
            raise Usage(f"{option} takes {example}; got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    fmt = args.format or _SUFFIXES.get(Path(args.file).suffix.lower())
    if fmt not in ("csv", "json", "vcard"):
        raise Usage(f"say what {args.file!r} holds: --csv, --json-file or --vcard (or name "
                     "it .csv, .json or .vcf)")
    if fmt == "vcard" and not args.app:
        raise Usage("--vcard adds contacts to one application: name it with --app APP")
    if fmt != "csv" and (args.contacts or args.history or args.map or args.preset):
        raise Usage("--contacts, --history, --map and --preset go with a CSV file")
    if fmt != "vcard" and args.rename:
        raise Usage("--rename goes with --vcard: in a file of applications, write each "
                    "name as it should be")
    data = _read(args.file, "the file")
    bar = _Bar("importing", args.progress)
    try:
        with open_engine(args) as engine:
            owner = owner_id(args)
            if fmt == "vcard":
                return _import_vcard(engine, owner, data, args)
            items = _items(engine, owner, fmt, data, args)
            state = None
            if fmt == "json":
                from followup.interop.transfer import read_owner_state

                state = read_owner_state(data, args.file)
            return _import_items(engine, owner, items, args, bar, state)
    finally:
        bar.close()


def _items(engine: Engine, owner: str, fmt: str, data: bytes,
           args: argparse.Namespace) -> list[ImportItem]:
    from followup.interop.readers import Context, read_csv, read_json

    ctx = Context(pack=engine.pack, owner=owner, calendar=engine.calendar(owner),
                  now=engine.clock.now(), contact_role=args.role or "recruiter",
                  statuses={k.lower(): v for k, v in _pairs(
                      args.status, "--status", "STATUS=STATE, e.g. 'Phone screen=interviewed'"
                  ).items()})
    if fmt == "json":
        return read_json(data, args.file, ctx)
    return read_csv(data, args.file, ctx, preset=args.preset,
                    mapping=_pairs(args.map, "--map", "COLUMN=FIELD, e.g. 'Employer=company'"),
                    contacts=_read(args.contacts, "--contacts") if args.contacts else None,
                    contacts_source=args.contacts or "",
                    history=_read(args.history, "--history") if args.history else None,
                    history_source=args.history or "")


def _import_items(engine: Engine, owner: str, items: list[ImportItem],
                  args: argparse.Namespace, bar: _Bar, state: OwnerState | None) -> int:
    from followup.cli.lookalikes import Decision, decide, decisions_json, decisions_text
    from followup.interop.names import LookAlike
    from followup.interop.transfer import import_items

    matched: list[tuple[str, Decision]] = []

    def same_people(item: ImportItem, pairs: Sequence[LookAlike]) -> list[bool]:
        app = item.application
        bar.close()  # a question comes on a line of its own
        decided = decide(pairs, choice=args.lookalike,
                         where=f"both contacts of {app.role} at {app.company} ({item.where})")
        matched.extend((app.id, d) for d in decided)
        return [d.same for d in decided]

    report = import_items(engine, items, owner=owner, owner_state=state, progress=bar,
                          dry_run=args.dry_run, same_people=same_people)
    bar.close()
    for problem in report.problems:
        print(f"followup import: warning: {problem}", file=sys.stderr)
    if opt(args, "json"):
        print_json({"file": args.file, "dry_run": args.dry_run, "added": list(report.added),
                     "unchanged": list(report.unchanged), "problems": list(report.problems),
                     "restored": list(report.restored)}
                   | ({"matched": [{"application": app_id} | decisions_json([d])[0]
                                   for app_id, d in matched]} if matched else {}))
        return EXIT_OK
    verb = "would import" if args.dry_run else "imported"
    print(f"{verb} {len(report.added)} application{'' if len(report.added) == 1 else 's'} "
          f"from {args.file}"
          + (f" ({len(report.unchanged)} already there, unchanged)" if report.unchanged else ""))
    if report.restored:
        print(f"  restored from the file: {', '.join(report.restored)}")
    by_id = {i.application.id: i.application for i in items}
    for app_id in report.added:
        app = by_id[app_id]
        print(f"  {app.id}  {app.state:<12} {app.role} at {app.company}")
    for app_id, decision in matched:
        for line in decisions_text([decision]):
            print(f"  {app_id}:{line[1:]}")
    return EXIT_OK


def _import_vcard(engine: Engine, owner: str, data: bytes, args: argparse.Namespace) -> int:
    from followup.cli.ids import resolve
    from followup.cli.lookalikes import decisions_json, decisions_text, rename_stored, settle
    from followup.interop.vcard import cards_to_contacts, read_vcards
    from followup.language.pack import merge_contacts

    cards = read_vcards(data, source=args.file, photos=args.keep_photos)
    contacts = cards_to_contacts(cards, role=args.role, source=args.file)
    args.app = resolve(engine.store, args.app, owner=owner)
    app = engine.application(args.app, owner=owner)
    # The checks the import makes, also for a dry run: the roles, a name given twice.
    merge_contacts(engine.pack, app.contacts, contacts, replace_existing=True, where=args.file)
    # A card spelling a contact already there otherwise (Dr. Jane Q. Doe, Jane Doe) is
    # asked about: the same person is updated, not added a second time.
    contacts, decisions = settle(app.contacts, contacts, args, f"on {app.id} ({args.file})")
    added = [c for c in contacts if app.contact(c.name) is None]
    unchanged = [c for c in contacts if app.contact(c.name) == c]
    updated = [c for c in contacts if c not in added and c not in unchanged]
    outcome = None
    if not args.dry_run and (added or updated):
        outcome = engine.log(args.app, contacts=contacts, owner=owner)  # one transaction
    if not args.dry_run:  # the same person under the card's spelling, when asked for
        rename_stored(engine, args.app, decisions, owner=owner)
    ignored = sorted({name for card in cards for name in card.ignored})
    if opt(args, "json"):
        print_json({"file": args.file, "application": args.app, "dry_run": args.dry_run,
                     "contacts": [c.name for c in contacts], "added": [c.name for c in added],
                     "updated": [c.name for c in updated],
                     "unchanged": [c.name for c in unchanged], "ignored": ignored,
                     "matched": decisions_json(decisions),
                     "problems": list(outcome.problems) if outcome else []})
        return EXIT_OK
    for problem in outcome.problems if outcome else ():
        print(f"followup import: warning: {problem}", file=sys.stderr)
    def listed(verb: str, group: list[Contact], where: str) -> str:
        names = ", ".join(f"{c.name} ({c.role})" for c in group)
        return (f"{verb} {len(group)} contact{'' if len(group) == 1 else 's'} {where}"
                f"{': ' + names if names else ''}")

    dry = args.dry_run
    print(listed("would add" if dry else "added", added, f"to {args.app}"))
    if updated:  # the same name with new details: replaced, as a log would
        print(listed("would update" if dry else "updated", updated, f"of {args.app}"))
    if unchanged:
        print(listed("unchanged:", unchanged, "already there as on the cards"))
    for line in decisions_text(decisions):
        print(line)
    if ignored:
        print(f"  not kept from the cards: {', '.join(ignored)}")
    return EXIT_OK
