"""What one event writes, and what it costs: ``python -m bench.writes [--apps N] [--runs R]
[--count WORKLOAD]``.

Three figures a change to the engine's own speed is judged by (issue 18):

- **WAL frames per event** on SQLite: the pages one event's ``COMMIT`` appends to the
  write-ahead log (each frame is one 4 kB page). The store checkpoints only after 10,000
  frames, so with a few hundred applications nothing is checkpointed while the events run
  and the log file's growth, in frames, is exactly what they wrote. Adding the
  applications is counted apart from the events. Frames do not depend on the machine.
- **Events per second**, in memory and on SQLite: ``bench.engine.drive`` (the sequence of
  bench/README.md), the median of ``--runs``, with the CPU share (well under 100% means the
  machine was busy with other work, and the figure is the machine's, not followup's).
- ``--count WORKLOAD`` runs one workload once and nothing else, for
  ``valgrind --tool=callgrind --callgrind-out-file=F python -m bench.writes --count W``:
  ``events-memory``, ``adds-memory`` (the same additions without the events: subtract it
  to count what the events alone cost), ``events-sqlite`` and ``adds-sqlite``;
  ``drain-sqlite`` and ``adds-drain`` (bench/peers.py's drain of ``--apps`` x 2 due
  reminders to a no-op channel, and its set-up alone).

Wire into bench/run.py as rows of group "2. durable events (SQLite)": ``wal_frames(apps)``
returns (frames per added application, frames per event).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import EVENTS, T0, add_interviewed
from bench.engine import drive
from followup import Engine, FakeClock, MemoryStore, SQLiteStore, Store

__all__ = ["drain_frames", "main", "wal_frames"]

_HEADER = 32  # bytes of a WAL file's header
_FRAME_HEADER = 24  # bytes before each page in the log


def _frames(path: Path, page_size: int) -> int:
    wal = Path(f"{path}-wal")
    size = wal.stat().st_size if wal.exists() else 0
    return 0 if size <= _HEADER else (size - _HEADER) // (page_size + _FRAME_HEADER)


def wal_frames(apps: int) -> tuple[float, float]:
    """(WAL frames per application added, WAL frames per event) on a new SQLite file."""
    if apps * 40 > 10_000:
        raise ValueError("at most 250 applications: the log must not be checkpointed")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wal.db"
        store = SQLiteStore(path)
        conn = store._conn
        assert conn is not None
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        clock = FakeClock(T0)
        with Engine(store=store, clock=clock, channels=[]) as engine:
            ids = [f"app{i:06d}" for i in range(apps)]
            for app_id in ids:
                add_interviewed(engine, app_id, owner=f"owner{int(app_id[3:]) // 10}")
            added = _frames(path, page_size)
            for app_id in ids:
                for event, contact, after in EVENTS:
                    clock.set(T0 + after)
                    engine.record(app_id, event, contact=contact)
            total = _frames(path, page_size)
    return added / apps, (total - added) / (apps * len(EVENTS))


def drain_frames(apps: int) -> float:
    """WAL frames per reminder fired and delivered: bench/peers.py's drain (``apps``
    applications, two reminders each) on a new SQLite file, the additions not counted."""
    from bench.peers import _engine, _followup_add
    from bench.sqlite import scratch

    if apps * 60 > 10_000:
        raise ValueError("at most 160 applications: the log must not be checkpointed")
    with scratch() as folder:
        engine, _clock = _engine(folder, None)
        path = folder / "followup.db"
        with engine:
            for i in range(apps):
                _followup_add(engine, f"app{i:06d}")
            conn = engine.store._conn  # type: ignore[attr-defined]
            (page_size,) = conn.execute("PRAGMA page_size").fetchone()
            added = _frames(path, page_size)
            report = engine.run_due(T0 + timedelta(minutes=1), deliver=True)
            drained = _frames(path, page_size) - added
    return drained / len(report.delivery.delivered)


def _adds_only(make_store: type[Store] | object, apps: int) -> None:
    clock = FakeClock(T0)
    with Engine(store=make_store(), clock=clock, channels=[]) as engine:  # type: ignore[operator]
        for i in range(apps):
            add_interviewed(engine, f"app{i:06d}", owner=f"owner{i // 10}")


def _count(workload: str, apps: int) -> None:
    if "drain" in workload:
        _drain(apps, run=workload == "drain-sqlite")
        return
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(1_000_000))

        def sqlite_store() -> Store:
            return SQLiteStore(Path(tmp) / f"{next(counter)}.db")

        make = MemoryStore if workload.endswith("memory") else sqlite_store
        if workload.startswith("events"):
            drive(make, apps)
        else:
            _adds_only(make, apps)


def _drain(apps: int, *, run: bool) -> None:
    """bench.peers.followup_drain's work: ``apps`` applications with two interviewers
    each, then (with ``run``) one run_due that fires and delivers their reminders."""
    from bench.peers import _engine, _followup_add
    from bench.sqlite import scratch

    with scratch() as folder:
        engine, _clock = _engine(folder, None)
        with engine:
            for i in range(apps):
                _followup_add(engine, f"app{i:06d}")
            if run:
                report = engine.run_due(T0 + timedelta(minutes=1), deliver=True)
                if len(report.delivery.delivered) != apps * 2:
                    raise AssertionError("the drain did not deliver every reminder")


def _rate(make: object, apps: int, runs: int) -> tuple[float, float]:
    rates, shares = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        rates.append(drive(make, apps)[1])  # type: ignore[arg-type]
        shares.append((time.process_time() - cpu) / (time.perf_counter() - wall))
    return statistics.median(rates), statistics.median(shares)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", choices=("events-memory", "adds-memory", "events-sqlite",
                                            "adds-sqlite", "drain-sqlite", "adds-drain"))
    args = parser.parse_args(argv)
    if args.count:
        _count(args.count, args.apps)
        return 0
    per_add, per_event = wal_frames(200)
    print(f"WAL frames per application added: {per_add:.1f}; per event: {per_event:.2f}"
          " (200 applications x 3 events)")
    print(f"WAL frames per reminder drained: {drain_frames(150):.2f} (150 applications x 2 "
          "reminders, fired and delivered)")
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(1_000_000))

        def sqlite_store() -> Store:
            return SQLiteStore(Path(tmp) / f"{next(counter)}.db")

        for name, make in (("memory", MemoryStore), ("SQLite", sqlite_store)):
            rate, share = _rate(make, args.apps, args.runs)
            print(f"events/s, {name}: {rate:,.0f} (median of {args.runs}, {args.apps} "
                  f"applications x 3 events, CPU {share:.0%}, load {os.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
