"""Commands for whoever runs followup for others: migrate the store, see the work queue."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING

from followup.cli._common import (
    EXIT_OK,
    Command,
    Usage,
    describe_store,
    open_store_at,
    opt,
    print_json,
    sqlite_path,
    store_url,
)

if TYPE_CHECKING:
    from followup.model import Fault


def register(cmd: Command) -> None:
    """Add this module's commands to the parser."""
    p = cmd("migrate", "bring the store's schema up to date (safe while workers run)")
    p.set_defaults(run=_cmd_migrate)

    p = cmd("status", "the work queue: due, claimed, retrying and dead work, per worker, "
            "and the applications whose last attempt failed")
    p.set_defaults(run=_cmd_status)


def _cmd_migrate(args: argparse.Namespace) -> int:
    from followup.store import migrations

    url = store_url(args)
    if url.startswith("memory:"):
        raise Usage("a memory: store has no schema to migrate; name a SQLite file or a "
                    "postgresql:// URL with --db")
    dialect = "sqlite" if sqlite_path(url) is not None else "postgresql"
    # Opening migrates: a SQLite file always, PostgreSQL because we ask.
    with open_store_at(args, create=True, migrate=True) as store:
        applied = getattr(store, "applied", None)
    newest = len(migrations(dialect))
    where = describe_store(url)
    if opt(args, "json"):
        print_json({"store": where, "version": newest, "applied": applied or []})
    elif applied:
        print(f"{where}: applied migration{'s' if len(applied) > 1 else ''} "
              f"{', '.join(map(str, applied))}; schema version {newest}")
    else:
        print(f"{where}: up to date (schema version {newest})")
    return EXIT_OK


def _cmd_status(args: argparse.Namespace) -> int:
    from followup.timing.clock import SystemClock

    url = store_url(args)
    with open_store_at(args) as store:
        status = store.work_status(SystemClock().now())
        faults = store.faults()
    if opt(args, "json"):
        print_json({
            "at": status.at.isoformat(),
            "due_timers": status.due_timers, "held_timers": status.held_timers,
            "due_deliveries": status.due_deliveries,
            "held_deliveries": status.held_deliveries,
            "retrying": status.retrying, "dead": status.dead,
            "workers": [{"id": w.id, "seen_at": _iso(w.seen_at), "timers": w.timers,
                         "deliveries": w.deliveries} for w in status.workers],
            "faults": [_fault_json(f) for f in faults],
        })
        return EXIT_OK
    print(f"{describe_store(url)} at {status.at:%Y-%m-%d %H:%M:%S} UTC")
    print(f"  timers      {status.due_timers:>8} due   {status.held_timers:>8} claimed")
    print(f"  deliveries  {status.due_deliveries:>8} due   {status.held_deliveries:>8} claimed"
          f"   {status.retrying:>8} retrying   {status.dead:>8} dead")
    if not status.workers:
        print("no worker has run on this store yet")
    for w in status.workers:
        seen = "never" if w.seen_at is None else _ago(status.at, w.seen_at)
        print(f"  worker {w.id}: seen {seen}; holds {w.timers} timers, "
              f"{w.deliveries} deliveries")
    if not faults:
        print("no faults: no application's last attempt failed")
    else:
        print(f"{len(faults)} fault{'s' if len(faults) > 1 else ''}: these stopped on an "
              "unexpected error and are tried again at their next try; the others go on")
    for f in faults:
        what = f"application {f.application_id}" if f.application_id else "owner's rules"
        print(f"  {f.owner}: {what}: failed {f.attempts} time{'s' if f.attempts > 1 else ''} "
              f"since {_utc(f.first_at)}, next try {_utc(f.retry_at)}: {_one_line(f.error)}")
    return EXIT_OK


def _fault_json(fault: Fault) -> dict[str, object]:
    """A fault as JSON, its instants in UTC (ISO 8601)."""
    return {"owner": fault.owner, "application_id": fault.application_id,
            "error": fault.error, "attempts": fault.attempts,
            "first_at": fault.first_at.isoformat(), "last_at": fault.last_at.isoformat(),
            "retry_at": fault.retry_at.isoformat()}


def _utc(instant: datetime) -> str:
    return f"{instant:%Y-%m-%d %H:%M:%S} UTC"


def _one_line(text: str) -> str:
    """``text`` on one line of a terminal: its control characters shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()


def _ago(now: datetime, then: datetime) -> str:
    seconds = int((now - then).total_seconds())
    if seconds < 120:
        return f"{max(seconds, 0)} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"
