"""What SQLite's ``synchronous = FULL`` costs against ``NORMAL`` (the store's default).

Method. For each setting in turn, alternating, ``--rounds`` times: a fresh store file in
``--dir`` (default: a temporary folder in the current directory, so that the numbers are
those of the disk the store would live on, not of a RAM-backed /tmp), then

- *commits*: ``--commits`` single ``SQLiteStore.commit`` calls, each one transaction with
  a new application, one history entry and one timer (the shape of a recorded event);
- *engine adds*: ``--adds`` ``Engine.add_application`` calls (planning included), each
  one transaction, as ``followup add`` makes.

Each workload's time is taken with ``time.perf_counter`` around the whole loop; the
table gives the median of the rounds as microseconds per transaction and transactions
per second, and FULL's time over NORMAL's. In WAL mode, NORMAL syncs the log only at a
checkpoint; FULL syncs it at every commit, so its cost is about one ``fsync`` of the log
per commit: it depends on the disk (and on its cache), far more than on followup.

Run: ``python bench/durability.py [--commits 2000] [--adds 300] [--rounds 3] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median

if __package__ in (None, ""):  # run as a script: the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import add_interviewed, filesystem
from followup import Engine, FakeClock, SQLiteStore
from followup.model import Application, Change, HistoryEntry, Timer

__all__ = ["main", "measure"]

T0 = datetime(2026, 12, 23, 20, tzinfo=UTC)
SETTINGS = ("normal", "full")


def _commits(store: SQLiteStore, count: int) -> Callable[[], None]:
    return lambda: _commit_all(store, count)


def _commit_all(store: SQLiteStore, count: int) -> None:
    for i in range(count):
        app_id = f"a{i}"
        app = Application(id=app_id, owner="ada", company="Acme", role="Engineer",
                          state="interviewed", created_at=T0)
        store.commit(Change(
            app, None,
            history=(HistoryEntry(app_id, 0, T0, "created", "created", to_state="interviewed"),),
            timers_added=(Timer(app_id, "ada", f"{app_id}/r/0/-/0", "r", "notify",
                                T0 + timedelta(days=1)),)))


def _adds(store: SQLiteStore, count: int) -> Callable[[], None]:
    engine = Engine(store=store, clock=FakeClock(T0), channels=[])  # not timed

    def add_all() -> None:
        for i in range(count):
            add_interviewed(engine, f"e{i}")

    return add_all


def measure(folder: Path, *, commits: int, adds: int, rounds: int,
            progress: Callable[[str], None] = lambda _: None) -> dict[str, dict[str, float]]:
    """Median seconds per transaction, by workload and setting."""
    times: dict[tuple[str, str], list[float]] = {}
    for round_ in range(rounds):
        for setting in SETTINGS:
            for name, work, count in (("commits", _commits, commits), ("engine adds", _adds, adds)):
                path = folder / f"{setting}-{round_}-{name.replace(' ', '-')}.db"
                with SQLiteStore(path, synchronous=setting) as store:  # type: ignore[arg-type]
                    run = work(store, count)
                    start = time.perf_counter()
                    run()
                    took = time.perf_counter() - start
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
                times.setdefault((name, setting), []).append(took / count)
                progress(f"round {round_ + 1}/{rounds} {setting:6} {name}: "
                         f"{took / count * 1e6:,.0f} us each")
    out: dict[str, dict[str, float]] = {}
    for (name, setting), values in times.items():
        out.setdefault(name, {})[setting] = median(values)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--adds", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None,
                        help="where the store files go (default: a temporary folder here)")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="followup-durability-", dir=args.dir or Path.cwd()))
    try:
        results = measure(folder, commits=args.commits, adds=args.adds, rounds=args.rounds,
                          progress=lambda line: print(line, file=sys.stderr))
        print(f"synchronous = NORMAL vs FULL, {args.rounds} rounds (median), "
              f"{platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}, "
              f"files on {filesystem(folder, device=True)}\n")
        print("| workload | transactions | NORMAL | FULL | FULL / NORMAL |")
        print("|---|---:|---:|---:|---:|")
        for name, count in (("commits", args.commits), ("engine adds", args.adds)):
            normal, full = results[name]["normal"], results[name]["full"]
            print(f"| {name} | {count:,} | {normal * 1e6:,.0f} us ({1 / normal:,.0f}/s) | "
                  f"{full * 1e6:,.0f} us ({1 / full:,.0f}/s) | {full / normal:.2f} |")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
