"""Changes that move no state, for counting what re-planning only the touched rules saves.

``python -m bench.incremental --apps N [--adds-only] [--sqlite]`` adds N applications of
the default pack (two interviewers each, interviewed at T0), then, unless
``--adds-only``, records on each the changes a person makes in the days after an
interview that leave it in ``interviewed``: a thank-you note to one of the two
interviewers, the decision date the employer named, a reference added and briefed. Run
both under callgrind and subtract to count instructions per change:

    valgrind --tool=callgrind python -m bench.incremental --apps 200
    valgrind --tool=callgrind python -m bench.incremental --apps 200 --adds-only

(the total ``Collected`` of the first minus the second, over 4 x N changes). Without
valgrind it prints the changes per second, a figure for a quiet machine only.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench._common import T0
from followup import Contact, Engine, FakeClock, MemoryStore, SQLiteStore
from followup.store import Store

#: Per application: (what, argument, when after T0).
CHANGES = 4


def run(apps: int, *, changes: bool, sqlite: bool) -> float:
    """Add ``apps`` applications and (with ``changes``) make CHANGES changes on each;
    the changes per second."""
    with tempfile.TemporaryDirectory() as tmp:
        store: Store = SQLiteStore(Path(tmp) / "b.db") if sqlite else MemoryStore()
        clock = FakeClock(T0)
        with Engine(store=store, clock=clock, channels=[]) as engine:
            ids = [f"app{i:06d}" for i in range(apps)]
            for i, app_id in enumerate(ids):
                engine.add_application(
                    owner=f"owner{i // 10}", company="Acme", role="Engineer", id=app_id,
                    facts={"interviewed_at": T0},
                    contacts=[Contact("Jane Doe", "interviewer", title="Manager"),
                              Contact("Raj Patel", "interviewer", title="Lead")])
            if not changes:
                return 0.0
            start = time.perf_counter()
            for app_id in ids:
                clock.set(T0 + timedelta(hours=14))
                engine.record(app_id, "thank_you_sent", contact="Jane Doe")
                engine.set_facts(app_id, {"decision_expected_on": "2027-01-08"})
                engine.add_contact(app_id, Contact("Lee Wong", "reference"))
                engine.record(app_id, "reference_briefed", contact="Lee Wong")
                if engine.application(app_id).state != "interviewed":
                    raise AssertionError("a change moved the application")
            return apps * CHANGES / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=200)
    parser.add_argument("--adds-only", action="store_true")
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args(argv)
    rate = run(args.apps, changes=not args.adds_only, sqlite=args.sqlite)
    if rate:
        print(f"changes/s: {rate:,.0f} ({args.apps} applications x {CHANGES} changes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
