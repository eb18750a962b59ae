"""SQLite: durable events per second, the raw store, and ``run_due`` over a big store.

Every store here is a ``SQLiteStore`` on a fresh file in a temporary directory (WAL,
``synchronous = NORMAL`` as the store sets it). ``run_due`` runs in a child process of its
own, so its resident memory is that of a process that opened the store and ran the tick,
not what earlier benchmarks left behind. Run as ``python -m bench.sqlite run-due DB NOW
EXPECTED`` that child prints one line of JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

from bench._common import EVENTS, T0, Row, add_interviewed, proc_status_kb, repeat, sized
from bench.engine import drive, drive_floor
from followup import Engine, FakeClock, MemoryStore, SQLiteStore
from followup.model import Change, HistoryEntry, Notification, Timer

__all__ = [
    "Template",
    "adding",
    "build_store",
    "engine_on_sqlite",
    "floor_on_sqlite",
    "raw_commits",
    "run_due",
    "template",
]

GROUP_EVENTS = "2. durable events (SQLite)"
GROUP_ADD = "3. adding applications (SQLite)"
GROUP_RUN_DUE = "4. run_due (SQLite)"
ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_ID = "tpl000"


@contextmanager
def scratch() -> Iterator[Path]:
    """A temporary directory for database files, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="followup-bench-") as name:
        yield Path(name)


def _open(path: Path) -> SQLiteStore:
    return SQLiteStore(path)


# -- the engine on SQLite ----------------------------------------------------------------


def engine_on_sqlite(apps: int, runs: int) -> list[Row]:
    """The in-memory engine benchmark (bench/engine.py) on a SQLite file: one
    transaction per event."""
    with scratch() as tmp:
        counter = iter(range(1_000_000))

        def fresh() -> SQLiteStore:
            return _open(tmp / f"events{next(counter)}.db")

        added, recorded = zip(*repeat(runs, lambda: drive(fresh, apps)), strict=True)
    what = f"{sized(apps)} applications x 3 events, each a transaction of its own"
    return [
        Row("2.1", GROUP_EVENTS, "events/s: whole engine on SQLite", "events/s", recorded,
            note=what),
        Row("2.2", GROUP_EVENTS, "applications added/s: whole engine on SQLite",
            "applications/s", added, note="the set-up of 2.1"),
    ]


def floor_on_sqlite(apps: int, runs: int) -> list[Row]:
    """``drive_floor`` (bench/engine.py) on a SQLite file: the least an event recorded
    one transaction at a time can cost, the engine's own work aside."""
    with scratch() as tmp:
        counter = iter(range(1_000_000))

        def fresh() -> SQLiteStore:
            return _open(tmp / f"floor{next(counter)}.db")

        rates = repeat(runs, lambda: drive_floor(fresh, apps))
    return [Row("2.5", GROUP_EVENTS,
                "events/s: the floor on SQLite (load, apply, one history entry, commit)",
                "events/s", rates,
                note=f"{sized(apps)} applications x 3 events; as 1.17 on SQLiteStore: one read "
                "and one write transaction per event, no rule looked at")]


# -- Changes made by the engine, copied for other applications ----------------------------


class _Recording(MemoryStore):
    """A MemoryStore that keeps every Change committed to it."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[Change] = []

    def commit(self, change: Change) -> Any:
        self.changes.append(change)
        return super().commit(change)


class Template:
    """The Changes the engine made for one application, to copy onto other ids.

    ``changes[0]`` adds the application; the rest are its events, in order.
    """

    def __init__(self, changes: Sequence[Change]) -> None:
        self.changes = tuple(changes)

    def copy(self, step: int, app_id: str, owner: str) -> Change:
        """Change ``step`` as it would be for application ``app_id`` of ``owner``."""
        change = self.changes[step]

        def key(text: str) -> str:
            return app_id + text[len(TEMPLATE_ID):] if text.startswith(TEMPLATE_ID) else text

        def entry(h: HistoryEntry) -> HistoryEntry:
            return replace(h, application_id=app_id, key=None if h.key is None else key(h.key))

        def timer(t: Timer) -> Timer:
            return replace(t, application_id=app_id, owner=owner, key=key(t.key))

        def note(n: Notification) -> Notification:
            return replace(n, application_id=app_id, owner=owner, key=key(n.key))

        return replace(
            change,
            application=replace(change.application, id=app_id, owner=owner),
            history=tuple(entry(h) for h in change.history),
            timers_removed=tuple(key(k) for k in change.timers_removed),
            timers_added=tuple(timer(t) for t in change.timers_added),
            notifications=tuple(note(n) for n in change.notifications),
        )


def template(*, events: bool = True, interviewed_at: datetime = T0) -> Template:
    """What the engine commits for one application interviewed at ``interviewed_at``:
    its addition and, with ``events``, the three events of bench/engine.py."""
    store = _Recording()
    clock = FakeClock(interviewed_at)
    with Engine(store=store, clock=clock, channels=[]) as engine:
        add_interviewed(engine, TEMPLATE_ID, owner="owner", interviewed_at=interviewed_at)
        if events:
            for event, contact, after in EVENTS:
                clock.set(interviewed_at + after)
                engine.record(TEMPLATE_ID, event, contact=contact)
    return Template(store.changes)


def _stream(tpl: Template, apps: int) -> list[Change]:
    """Every step of the template for ``apps`` applications, step by step: all the
    additions, then every application's first event, and so on."""
    return [tpl.copy(step, f"app{i:06d}", f"owner{i // 10}")
            for step in range(len(tpl.changes)) for i in range(apps)]


def raw_commits(apps: int, batch: int, runs: int) -> list[Row]:
    """``SQLiteStore.commit`` one Change at a time, and ``commit_many`` in batches, of
    the engine's own Changes (an insert and three updates per application)."""
    changes = _stream(template(), apps)

    def one_by_one(path: Path) -> float:
        with _open(path) as store:
            start = time.perf_counter()
            for change in changes:
                store.commit(change)
            return len(changes) / (time.perf_counter() - start)

    def batched(path: Path) -> float:
        with _open(path) as store:
            start = time.perf_counter()
            for i in range(0, len(changes), batch):
                store.commit_many(changes[i:i + batch])
            return len(changes) / (time.perf_counter() - start)

    with scratch() as tmp:
        single = repeat(runs, lambda: one_by_one(tmp / f"one{time.perf_counter_ns()}.db"))
        many = repeat(runs, lambda: batched(tmp / f"many{time.perf_counter_ns()}.db"))
    what = f"{sized(len(changes))} Changes: per application one insert, three updates"
    return [
        Row("2.3", GROUP_EVENTS, "SQLiteStore.commit(): changes/s", "changes/s", single,
            note=what + "; one transaction each"),
        Row("2.4", GROUP_EVENTS, f"SQLiteStore.commit_many(), batches of {sized(batch)}: "
            "changes/s", "changes/s", many, note=what),
    ]


# -- run_due over a big store -------------------------------------------------------------

#: The tick: the morning after the interview, when each due application's thank-you
#: reminder (09:00) is due and its follow-up call (a week later) is not.
NOW = T0 + timedelta(hours=14)


def build_store(path: Path, *, apps: int, due: int, batch: int = 1000,
                memory: list[tuple[int, int]] | None = None) -> float:
    """Fill a new store with ``apps`` applications, ``due`` of them (spread evenly) with
    one timer due at NOW; return the seconds it took. With ``memory``, append
    (applications written, resident kB) after each tenth of the work.

    Fast: the engine adds one application of each kind to a MemoryStore; its Change is
    copied for every other id and written with ``commit_many`` in batches of ``batch``.
    """
    if not 0 < due <= apps:
        raise ValueError(f"due ({due}) must be between 1 and apps ({apps})")
    soon = template(events=False)
    later = template(events=False, interviewed_at=T0 + timedelta(days=60))
    stride = apps / due
    due_at = {int(k * stride) for k in range(due)}
    tenth = max(batch, apps // 10)
    start = time.perf_counter()
    with _open(path) as store:
        for lo in range(0, apps, batch):
            store.commit_many([
                (soon if i in due_at else later).copy(0, f"app{i:07d}", f"owner{i // 10}")
                for i in range(lo, min(apps, lo + batch))
            ])
            written = min(apps, lo + batch)
            if memory is not None and (written % tenth == 0 or written == apps):
                memory.append((written, proc_status_kb("VmRSS") or 0))
        # An application may have several reminders due (the thank-you note and the
        # question about the decision date): count applications, not timers.
        timers = store.due_timers(NOW, limit=100 * due)
        found = len({t.application_id for t in timers})
    if found != due:
        raise AssertionError(f"built a store with {found} applications due, not {due}")
    return time.perf_counter() - start


def adding(apps: int, due: int) -> tuple[list[Row], Path, tempfile.TemporaryDirectory[str]]:
    """Add ``apps`` applications to a new SQLite file in a child process, reading its
    resident memory as it goes. Returns the rows, and the file (with ``due`` of them due
    at NOW) with the directory holding it, for ``run_due`` to use; the caller removes it."""
    holder = tempfile.TemporaryDirectory(prefix="followup-bench-")
    path = Path(holder.name) / "master.db"
    built = _run_child("build", str(path), str(apps), str(due))
    samples = built["memory"]
    first_n, first_kb = samples[0]
    peak_kb = max(kb for _, kb in samples)
    curve = ", ".join(f"{n // 1000:,}k: {kb / 1024:.0f}" for n, kb in samples)
    size_mb = path.stat().st_size / 1e6
    what = f"{sized(apps)} applications"
    rows = [
        Row("3.1", GROUP_ADD, f"add {what} to SQLite", "s", (built["seconds"],),
            note=f"commit_many of engine-made Changes, batches of 1,000, in a child process; "
            f"{size_mb:,.0f} MB file"),
        Row("3.2", GROUP_ADD, f"applications added/s, {what}", "applications/s",
            (apps / built["seconds"],)),
        Row("3.3", GROUP_ADD, f"resident memory after the first {sized(first_n)}", "MB",
            (first_kb / 1024,), note="VmRSS of the child"),
        Row("3.4", GROUP_ADD, f"resident memory, highest while adding {what}", "MB",
            (peak_kb / 1024,), note=f"VmRSS (MB) after each tenth: {curve}"),
    ]
    return rows, path, holder


def run_due(due: int, apps: int, runs: int, *, first_id: int,
            master: Path | None = None, built: float = 0.0) -> list[Row]:
    """``Engine.run_due`` (no delivery) on a store of ``apps`` applications of which
    ``due`` have a timer due: seconds per call and the child process's resident memory.
    ``master``, when given, is a store built that way already (see ``adding``), in
    ``built`` seconds."""
    with scratch() as tmp:
        rows: list[Row] = []
        if master is None:
            master = tmp / "master.db"
            built = build_store(master, apps=apps, due=due)
            rows.append(Row(f"4.{first_id}", GROUP_RUN_DUE,
                            f"build a store of {sized(apps)} applications", "s", (built,),
                            note="commit_many of engine-made Changes, batches of 1,000; "
                            f"{master.stat().st_size / 1e6:,.0f} MB file"))
        else:
            rows.append(Row(f"4.{first_id}", GROUP_RUN_DUE,
                            f"build a store of {sized(apps)} applications", "s",
                            (built,), note="the store of 3.1, built once"))

        def once() -> dict[str, Any]:
            copy = tmp / "run.db"
            for suffix in ("", "-wal", "-shm"):
                Path(str(copy) + suffix).unlink(missing_ok=True)
            shutil.copyfile(master, copy)
            _flush(copy)
            return _run_child("run-due", str(copy), NOW.isoformat(), str(due))

        results = repeat(runs, once)
        for suffix in ("", "-wal", "-shm"):
            Path(str(tmp / "run.db") + suffix).unlink(missing_ok=True)
    what = f"{sized(due)} due among {sized(apps)}"
    seconds = tuple(r["seconds"] for r in results)
    per_app = 1e3 * median(seconds) / due
    fired = median(tuple(r["fired"] for r in results))
    return [
        *rows,
        Row(f"4.{first_id + 1}", GROUP_RUN_DUE, f"run_due: {what}", "s", seconds,
            note=f"{per_app:.2f} ms per due application; deliver=False; {due:,} applications "
                 f"advanced, {fired:,.0f} reminders fired"),
        Row(f"4.{first_id + 2}", GROUP_RUN_DUE, f"run_due: peak resident memory, {what}",
            "MB", tuple(r["hwm_kb"] / 1024 for r in results),
            note="VmHWM of the child process; "
            f"{median(r['base_kb'] for r in results) / 1024:.0f} MB "
            "after opening the store, before run_due"),
    ]


def _flush(path: Path) -> None:
    """Write a copied file out to the disk before it is timed: otherwise the first fsync
    of the timed work (a checkpoint's) also writes out the whole copy, which costs in
    proportion to the file's size (2.3 GB with 1,000,000 applications)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _run_child(*args: str) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-m", "bench.sqlite", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the {args[0]} child failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _build_child(path: str, apps: int, due: int) -> None:
    """The child that adds: build the store, print the time and the memory readings."""
    memory: list[tuple[int, int]] = []
    seconds = build_store(Path(path), apps=apps, due=due, memory=memory)
    print(json.dumps({"seconds": seconds, "memory": memory,
                      "hwm_kb": proc_status_kb("VmHWM") or 0}))


def _run_due_child(path: str, now: str, expected: int) -> None:
    """The child: open the store, run one tick, print what it took."""
    instant = datetime.fromisoformat(now)
    with Engine(store=_open(Path(path)), clock=FakeClock(instant), channels=[]) as engine:
        base = proc_status_kb("VmRSS") or 0
        start = time.perf_counter()
        report = engine.run_due(instant, deliver=False)
    # Closing is timed too: the last connection's close copies the write-ahead log into
    # the file (a checkpoint, with an fsync). Whether a checkpoint falls inside run_due
    # depends on how many pages it wrote (one every 10,000), so timing run_due alone
    # would charge a big store for a checkpoint that a small one pays after the clock
    # stopped.
    seconds = time.perf_counter() - start
    fired = report.fired
    apps = len({o.application.id for o in report.outcomes if o.fired})
    if apps != expected:
        raise SystemExit(f"run_due advanced {apps} applications, not {expected}")
    print(json.dumps({"seconds": seconds, "fired": fired, "base_kb": base,
                      "hwm_kb": proc_status_kb("VmHWM") or 0,
                      "rss_kb": proc_status_kb("VmRSS") or 0}))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "run-due":
        _run_due_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 5 and sys.argv[1] == "build":
        _build_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        raise SystemExit("usage: python -m bench.sqlite run-due DB NOW EXPECTED | "
                         "build DB APPLICATIONS DUE")
