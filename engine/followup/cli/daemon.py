"""The long-running command, the reminder daemon, and its outbox."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from followup.model import Notification
    from followup.runtime.engine import Engine, RunReport
    from followup.runtime.passes import Held

from followup.cli._common import (
    EXIT_OK,
    Command,
    Usage,
    describe_store,
    local,
    long_running,
    open_engine,
    opt,
    owner_id,
    print_json,
    seconds,
    store_url,
)


def register(cmd: Command) -> None:
    """Add this module's commands to the parser."""
    p = cmd("run", "the reminder daemon: fire what is due and deliver it")
    p.add_argument("--once", action="store_true", help="one pass, then exit")
    p.add_argument("--interval", type=seconds(0.1, 86400), default=30.0, metavar="SECONDS",
                   help="how often to look for due work (default 30; on PostgreSQL new "
                   "work also wakes the daemon at once)")
    p.add_argument("--demo", action="store_true",
                   help="use a demo store (.followup/demo.db) with demo applications")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="run N worker processes that share the work (default 1); more "
                   "may run on other machines against the same PostgreSQL store")
    p.add_argument("--lease", type=float, default=120.0, metavar="SECONDS",
                   help="how long a worker holds the work it claimed; its heartbeat renews "
                   "it, and work held by a worker that died is taken over this long after "
                   "its last heartbeat (default 120)")
    p.add_argument("--log", choices=["text", "json"], default="text",
                   help="how to report each pass on standard error: text (default) or "
                   "one JSON object per line for log collectors")
    p.set_defaults(run=_cmd_run)

    p = cmd("outbox", "what is waiting to go out, what failed, and what gave up (dead)")
    p.add_argument("--status", choices=["pending", "delivered", "dead"],
                   help="only rows in this state (default: pending and dead)")
    p.add_argument("--retry", action="store_true",
                   help="make your dead reminders pending again (the next run sends them)")
    p.set_defaults(run=_cmd_outbox)


def _cmd_run(args: argparse.Namespace) -> int:
    import signal

    from followup.runtime.workers import Worker, log_to, supervise

    if not args.once:
        long_running()
    if not 1 <= args.workers <= 100:
        raise Usage(f"--workers {args.workers}: from 1 to 100 workers")
    if not 1 <= args.lease <= 86400:
        raise Usage(f"--lease {args.lease:g}: between 1 and 86400 seconds")
    if args.workers > 1:
        if args.demo:
            raise Usage("--demo runs one worker; leave out --workers")
        # The same command once per worker; the last --workers given wins.
        return supervise(args.workers, [sys.executable, "-m", "followup.cli", *args.argv,
                                        "--workers", "1"])
    db = rules = None
    if args.demo:
        db = opt(args, "db", "FOLLOWUP_DB") or os.path.join(".followup", "demo.db")
        rules = opt(args, "rules", "FOLLOWUP_RULES") or "demo"
    with open_engine(args, db=db, rules=rules, create=True) as engine:
        if args.demo:
            _seed_demo(engine, owner_id(args))
        if engine.plugins is not None:
            for name, error in engine.plugins.failures.items():
                print(f"followup: plugin {name!r} failed to load and was skipped: {error}",
                      file=sys.stderr)
        print(f"followup run: watching {describe_store(store_url(args, db))}"
              f" as {engine.worker} (channels: {', '.join(engine.channels.names()) or 'none'})"
              f"{'' if args.once else '; Ctrl-C to stop'}", file=sys.stderr, flush=True)
        if opt(args, "json"):
            # Standard output carries the JSON report alone; reminders go to stderr.
            # `stream` is the console channel's own setting, not part of `Channel`.
            console: Any = engine.channels.get("console")
            if console is not None and hasattr(console, "stream"):
                console.stream = sys.stderr
        engine.lease = timedelta(seconds=args.lease)
        handler = log_to(json_lines=True) if args.log == "json" else None
        worker = Worker(engine, interval=args.interval if not args.demo
                        else min(args.interval, 5.0),
                        on_report=None if handler else _print_problems,
                        list_all=args.once)  # a single pass lists what it fired
        previous = signal.signal(signal.SIGTERM, lambda *_: worker.stop())
        try:
            report = worker.run(once=args.once)
        finally:
            signal.signal(signal.SIGTERM, previous)
            if handler is not None:
                import logging

                logging.getLogger("followup").removeHandler(handler)
        if args.once and opt(args, "json"):
            print_json({"fired": report.fired, "errors": report.errors,
                        "delivered": report.delivery.delivered_count,
                        "failed": len(report.delivery.failed),
                        "dead": len(report.delivery.dead),
                        "reminders": [_reminder_json(n) for n in report.notifications],
                        "held": [_held_json(engine, h) for h in report.held],
                        "replanned": {"applications": len(report.replanned.applications),
                                      "moved": len(report.replanned.moved)}})
        elif args.once:
            _print_pass(engine, report)
    return EXIT_OK


def _reminder_json(n: Notification) -> dict[str, Any]:
    return {"application": n.application_id, "rule": n.rule, "contact": n.contact,
            "subject": n.subject, "key": n.key}


def _held_json(engine: Engine, h: Held) -> dict[str, Any]:
    return {"application": h.application_id, "rule": h.rule, "contact": h.contact,
            "key": h.key, "until": engine.calendar(h.owner).local(h.until).isoformat(),
            "reason": h.reason}


def _print_pass(engine: Engine, report: RunReport) -> None:
    """What one pass did, on standard error (the reminders themselves may be on standard
    output): what fired, and what is due but held, until when and why."""
    fired = report.notifications
    print(f"followup run: fired {len(fired)} reminder{'' if len(fired) == 1 else 's'}"
          f"{':' if fired else ''}", file=sys.stderr)
    for n in fired:
        print(f"  {n.rule}{' — ' + n.contact if n.contact else ''}: {n.subject}",
              file=sys.stderr)
    if report.held:
        count = len(report.held)
        print(f"held {count} reminder{'' if count == 1 else 's'} (due, waiting):",
              file=sys.stderr)
    replanned = report.replanned.applications
    if replanned:  # planned by another pack (an edited pack): see followup replan
        moved = len(report.replanned.moved)
        print(f"re-planned {len(replanned)} application{'' if len(replanned) == 1 else 's'} "
              f"under the pack as it is now ({moved} with reminders moved)", file=sys.stderr)
    for h in report.held:
        until = local(engine.calendar(h.owner), h.until)
        print(f"  {h.rule}{' — ' + h.contact if h.contact else ''}"
              f"{' [' + h.application_id + ']' if h.application_id else ''} until {until}: "
              f"{h.reason}", file=sys.stderr)


def _print_problems(report: RunReport) -> None:
    for app_id, error in report.errors.items():
        print(f"followup: application {app_id} could not be advanced: {error}", file=sys.stderr)
    for row in report.delivery.failed + report.delivery.dead:
        print(f"followup: {row.channel} failed for {row.notification.key}: {row.last_error}",
              file=sys.stderr)


def _cmd_outbox(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        owner = owner_id(args)
        cal = engine.calendar(owner)
        if args.retry:
            count = engine.store.retry_dead(owner=owner)
            if opt(args, "json"):
                print_json({"retried": count})
            else:
                print(f"{count} dead reminder{'' if count == 1 else 's'} will be tried again")
            return EXIT_OK
        rows = engine.store.deliveries(owner=owner, status=args.status)
        if args.status is None:
            rows = [r for r in rows if r.status != "delivered"]
        if opt(args, "json"):
            print_json([{
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
            nxt = f", next try {local(cal, r.next_attempt_at)}" if r.next_attempt_at else ""
            print(f"{r.status:<9} {r.channel:<10} {r.notification.subject}"
                  f"  ({r.attempts} attempt{'' if r.attempts == 1 else 's'}{nxt})")
            if r.last_error:
                print(f"          last error: {r.last_error}")
    return EXIT_OK


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
