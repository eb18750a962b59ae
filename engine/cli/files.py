"""Commands that write files other programs read: export."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

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


def register(cmd: Command) -> None:
    """Add this module's commands to the parser."""
    p = cmd("export", "write your coming reminders to a file other programs read")
    # One flag per format, all setting `format`: later formats (--csv, --vcard) join here.
    p.add_argument("--ics", dest="format", action="store_const", const="ics",
                   help="as an iCalendar file (RFC 5545) for a calendar app")
    p.add_argument("--todo", action="store_true",
                   help="with --ics: tasks (VTODO) with a due date instead of events")
    p.add_argument("--days", type=day_count, default=90, help="how far ahead (default 90)")
    p.add_argument("--output", metavar="FILE",
                   help="write to FILE, readable by you only (default: standard output)")
    p.set_defaults(run=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    import tempfile

    from followup.ical import agenda_to_ics

    if args.format is None:
        raise Usage("choose a format: --ics (an iCalendar file for a calendar app), e.g. "
                     "followup export --ics --output followup.ics")
    if args.output is None and opt(args, "json"):
        raise Usage("the calendar itself goes to standard output; --json reports on an "
                     "export written with --output FILE")
    with open_engine(args) as engine:
        owner = owner_id(args)
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
        raise Usage(f"--output {args.output!r} is a folder: name a file, e.g. "
                     f"{target / 'followup.ics'}")
    if not target.parent.is_dir():
        raise Usage(f"--output {args.output!r}: the folder {str(target.parent)!r} does not "
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
    if opt(args, "json"):
        print_json({"format": args.format, "output": str(target), "reminders": reminders,
                     "days": args.days})
    else:
        print(f"wrote {reminders} reminder{'' if reminders == 1 else 's'} to {target}")
    return EXIT_OK
