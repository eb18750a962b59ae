"""``followup replan``: a rule edit reaches every application in flight.

Each application records which rule pack planned it; after the pack is edited, this
re-plans every application not archived that another pack planned, in batches (each
one transaction), with progress on standard error, and prints what moved. ``--dry-run``
shows each reminder that would move and changes nothing. The logic is
``followup.runtime.replans``; the daemon does the same, one batch per pass.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from followup.cli._common import EXIT_FAIL, EXIT_OK, Command, Usage, local, open_engine, print_json
from followup.cli.files import _Bar, _progress_option

if TYPE_CHECKING:
    from followup.runtime.engine import Engine
    from followup.runtime.replans import Move, Replanned

__all__ = ["register"]

BATCH_MOST = 10_000  # applications per transaction, at most


def register(cmd: Command) -> None:
    """Add this module's command to the parser (``--help`` imports no engine: the
    default batch is read when the command runs)."""
    p = cmd("replan", "re-plan the applications another rule pack planned (after an edit)")
    p.add_argument("--dry-run", action="store_true",
                   help="show what would move (each reminder: old time -> new time) and "
                   "change nothing")
    p.add_argument("--batch", type=int, default=None, metavar="N",
                   help="applications re-planned per transaction (default: as many as a "
                   f"daemon's pass re-plans; at most {BATCH_MOST:,})")
    p.add_argument("--all", action="store_true",
                   help="re-plan every application not archived, even those this pack "
                   "planned already (heals a lost timer)")
    _progress_option(p)
    p.set_defaults(run=_cmd_replan)


def _cmd_replan(args: argparse.Namespace) -> int:
    from followup.limits import REPLAN_BATCH
    from followup.runtime.replans import ReplanBatch, Replanner

    if args.batch is None:
        args.batch = REPLAN_BATCH
    if not 1 <= args.batch <= BATCH_MOST:
        raise Usage(f"--batch {args.batch}: give a number of applications from 1 to "
                    f"{BATCH_MOST:,}")
    with open_engine(args) as engine:
        replanner = Replanner(engine.changes, engine.store)
        todo = _everyone(engine) if args.all else _stale(engine)
        bar = _Bar("re-planning", args.progress)
        done: list[Replanned] = []
        errors: list[tuple[str, str]] = []
        try:
            for start in range(0, len(todo), args.batch):
                batch: ReplanBatch = replanner.these(todo[start:start + args.batch],
                                                     dry_run=args.dry_run)
                done += batch.applications
                errors += batch.errors
                bar(min(start + args.batch, len(todo)), len(todo))
        finally:
            bar.close()
        for app_id, error in errors:
            print(f"followup replan: application {app_id} could not be re-planned: {error}",
                  file=sys.stderr)
        if getattr(args, "json", False):
            print_json(_as_json(engine, done, errors, args.dry_run))
        else:
            _print(engine, done, args.dry_run, stale=not args.all)
    return EXIT_FAIL if errors else EXIT_OK


def _stale(engine: Engine) -> list[tuple[str, str]]:
    """(owner, id) of every application not archived that another pack planned."""
    found: list[tuple[str, str]] = []
    after: str | None = None
    while True:
        page = engine.store.stale_applications(engine.pack.fingerprint, limit=1000,
                                               after=after)
        found += page
        if len(page) < 1000:
            return found
        after = page[-1][1]


def _everyone(engine: Engine) -> list[tuple[str, str]]:
    return sorted(((a.owner, a.id) for a in engine.store.applications()),
                  key=lambda pair: pair[1])


def _counts(done: list[Replanned]) -> dict[str, int]:
    return {kind: sum(a.count(kind) for a in done)
            for kind in ("moved", "added", "cancelled", "changed")}


def _print(engine: Engine, done: list[Replanned], dry_run: bool, *, stale: bool) -> None:
    pack = f"the rule pack {engine.pack.name!r} ({engine.pack.fingerprint[:8]})"
    if not done:
        print(f"Nothing to re-plan: every application was planned by {pack}."
              if stale else "Nothing to re-plan: there are no applications.")
        return
    if dry_run:
        for app in done:
            if not app.moves:
                continue
            print(f"{app.application_id} ({app.owner})")
            for move in app.moves:
                print(f"  {_line(engine, app.owner, move)}")
    counts = _counts(done)
    n = len(done)
    what = (f"{counts['moved']} reminder{'' if counts['moved'] == 1 else 's'} "
            f"{'would move' if dry_run else 'moved'}, {counts['added']} "
            f"{'would be added' if dry_run else 'added'}, {counts['cancelled']} "
            f"{'would be cancelled' if dry_run else 'cancelled'}")
    if dry_run:
        print(f"Would re-plan {n} application{'' if n == 1 else 's'} with {pack}: {what}. "
              "Nothing was changed.")
    else:
        print(f"Re-planned {n} application{'' if n == 1 else 's'} with {pack}: {what}.")


def _line(engine: Engine, owner: str, move: Move) -> str:
    cal = engine.calendar(owner)
    name = move.rule + (f" — {move.contact}" if move.contact else "")
    before = "(new)" if move.before is None else local(cal, move.before)
    after = "cancelled" if move.after is None else local(cal, move.after)
    if move.kind == "changed":
        after += " (same time, another deadline)"
    return f"{name}: {before} -> {after}"


def _as_json(engine: Engine, done: list[Replanned], errors: list[tuple[str, str]],
             dry_run: bool) -> dict[str, Any]:
    moves = []
    for app in done:
        cal = engine.calendar(app.owner)
        for m in app.moves:
            moves.append({
                "application": app.application_id, "owner": app.owner, "rule": m.rule,
                "contact": m.contact, "action": m.action, "kind": m.kind, "key": m.key,
                "before": None if m.before is None else cal.local(m.before).isoformat(),
                "after": None if m.after is None else cal.local(m.after).isoformat()})
    return {"dry_run": dry_run, "rules": engine.pack.name,
            "fingerprint": engine.pack.fingerprint, "applications": len(done),
            **_counts(done), "errors": dict(errors), "moves": moves}
