"""Where the time goes: one workload under cProfile, its top functions printed.

``python bench/run.py --profile NAME [--quick | --smoke] [--top N]`` runs the workload
once to warm up (loading the pack, the holidays, the caches), then once under
``cProfile``, and prints the functions by cumulative time and by own time. cProfile adds
a cost to every Python call, so compare shares between two profiles, not seconds with
the table. Sizes are those of the full run unless ``--quick`` or ``--smoke``.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
from collections.abc import Callable
from pathlib import Path

from bench import engine, sqlite
from bench.sqlite import scratch
from followup import MemoryStore

__all__ = ["WORKLOADS", "run"]


def _engine(apps: int) -> Callable[[], object]:
    return lambda: engine.drive(MemoryStore, apps)


def _engine_sqlite(apps: int) -> Callable[[], object]:
    def work() -> object:
        with scratch() as tmp:
            counter = iter(range(1_000_000))
            return engine.drive(lambda: sqlite.SQLiteStore(tmp / f"{next(counter)}.db"), apps)

    return work


def _commits(apps: int, batch: int) -> Callable[[], object]:
    changes = sqlite._stream(sqlite.template(), apps)

    def work() -> object:
        with scratch() as tmp, sqlite.SQLiteStore(tmp / "commits.db") as store:
            if batch == 1:
                for change in changes:
                    store.commit(change)
            else:
                for i in range(0, len(changes), batch):
                    store.commit_many(changes[i:i + batch])
        return None

    return work


def _run_due(apps: int, due: int) -> Callable[[], object]:
    def work() -> object:
        from followup import Engine, FakeClock

        with scratch() as tmp:
            path = Path(tmp) / "due.db"
            sqlite.build_store(path, apps=apps, due=due)
            with Engine(store=sqlite.SQLiteStore(path), clock=FakeClock(sqlite.NOW),
                        channels=[]) as eng:
                # Only the tick is profiled (the build is set-up).
                profiler = _current
                if profiler is not None:
                    profiler.enable()
                eng.run_due(sqlite.NOW, deliver=False)
                if profiler is not None:
                    profiler.disable()
        return None

    work.manages_profiler = True  # type: ignore[attr-defined]
    return work


#: name -> (full size, quick size, smoke size) -> the workload
WORKLOADS: dict[str, Callable[[int], Callable[[], object]]] = {
    "engine": lambda n: _engine(n),
    "engine-sqlite": lambda n: _engine_sqlite(n),
    "commit": lambda n: _commits(n, 1),
    "commit-many": lambda n: _commits(n, 1_000),
    "run-due": lambda n: _run_due(n, n),
    "simulate": lambda n: lambda: engine.simulate_year(1),
    "simulate-many": lambda n: lambda: engine.simulate_many(n, 1),
}
_SIZES = {
    "engine": (2_000, 500, 20), "engine-sqlite": (2_000, 500, 20),
    "commit": (3_000, 1_000, 50), "commit-many": (3_000, 1_000, 50),
    "run-due": (2_000, 500, 10), "simulate": (1, 1, 1), "simulate-many": (1_000, 200, 5),
}
_current: cProfile.Profile | None = None


def run(name: str, *, top: int = 30, quick: bool = False, smoke: bool = False) -> None:
    """Profile workload ``name`` and print its top ``top`` functions, twice sorted."""
    global _current
    full, small, tiny = _SIZES[name]
    size = tiny if smoke else small if quick else full
    work = WORKLOADS[name](size)
    work()  # warm-up: pack, holidays, caches
    profiler = cProfile.Profile()
    manages = getattr(work, "manages_profiler", False)
    _current = profiler if manages else None
    if not manages:
        profiler.enable()
    work()
    if not manages:
        profiler.disable()
    _current = None
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"# profile of {name!r} (size {size:,}); {total:.3f} s of CPU under cProfile\n")
    for key, title in (("cumulative", "by cumulative time"), ("tottime", "by own time")):
        out.seek(0)
        out.truncate()
        stats.sort_stats(key).print_stats(top)
        body = out.getvalue()
        start = body.find("   ncalls")
        print(f"## {title}\n")
        print(body[start:].rstrip() + "\n" if start >= 0 else body)
    sys.stdout.flush()
