"""Run every benchmark and write the table: ``python bench/run.py [--quick] [--out FILE]``.

``--quick`` uses smaller sizes and fewer runs (and no store of a million); ``--smoke`` uses
tiny ones, only to show that everything still runs (the test suite does this).
``--profile NAME`` runs one workload under cProfile and prints where its time goes. The table goes
to standard output, and to ``--out`` when given. See bench/README.md for what each figure
means and how it is measured.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shlex
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import cli, engine, machine, peers, profiling, sqlite
from bench._common import Row, filesystem
from bench.targets import BASELINE, targets

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark is, and how many runs each figure is the median of."""

    runs: int  # for the quick figures (milliseconds to a few seconds)
    slow_runs: int  # for add_model and run_due
    drivable: int  # applications made drivable by our StateMachine
    add_model: tuple[int, int]  # measured; extrapolated to ``drivable``
    machine_apps: int  # applications driven through the machine benchmarks
    engine_apps: int  # applications driven through the whole engine
    memory_stored: int  # other applications the in-memory store holds for 1.18
    commit_apps: int  # applications whose Changes the raw store commits
    due: int  # due timers for run_due
    stored: tuple[int, ...]  # applications in the store for run_due; the last is added in 3
    simulate_runs: int
    simulate_apps: int  # applications in the many-application dry run
    startup_runs: int
    drain: int  # due reminders drained, followup and its peers (7.5 to 7.7)
    command_apps: int  # applications in the store the everyday commands run on


MODES = {
    "full": Sizes(runs=5, slow_runs=3, drivable=100_000, add_model=(10_000, 20_000),
                  machine_apps=20_000, engine_apps=2_000, memory_stored=100_000,
                  commit_apps=3_000, due=10_000,
                  stored=(10_000, 100_000, 1_000_000), simulate_runs=20, simulate_apps=1_000,
                  startup_runs=10, drain=10_000, command_apps=1_000),
    "quick": Sizes(runs=3, slow_runs=2, drivable=100_000, add_model=(1_000, 3_000),
                   machine_apps=5_000, engine_apps=500, memory_stored=10_000,
                   commit_apps=1_000, due=1_000,
                   stored=(1_000, 10_000, 100_000), simulate_runs=10, simulate_apps=200,
                   startup_runs=5, drain=2_000, command_apps=1_000),
    "smoke": Sizes(runs=1, slow_runs=1, drivable=1_000, add_model=(100, 200),
                   machine_apps=100, engine_apps=20, memory_stored=50, commit_apps=50, due=10,
                   stored=(10, 50), simulate_runs=1, simulate_apps=5, startup_runs=1,
                   drain=20, command_apps=20),
}


def _add_then_run_due(s: Sizes, first_id: int) -> list[Row]:
    """Benchmark 3 (adding the largest store, in a child, with its memory), then
    benchmark 4 on that same store."""
    rows, master, holder = sqlite.adding(s.stored[-1], s.due)
    try:
        return rows + sqlite.run_due(s.due, s.stored[-1], s.slow_runs, first_id=first_id,
                                     master=master, built=rows[0].median)
    finally:
        holder.cleanup()


def benchmarks(s: Sizes) -> list[tuple[str, Callable[[], list[Row]]]]:
    """Every benchmark, with its sizes bound; the table orders their rows by group."""
    smaller = [
        (f"run_due among {n:,}",
         lambda n=n, i=i: sqlite.run_due(s.due, n, s.slow_runs, first_id=1 + 3 * i))
        for i, n in enumerate(s.stored[:-1])
    ]
    largest = 1 + 3 * (len(s.stored) - 1)
    return [
        ("state machine: one more application",
         lambda: machine.per_application_cost(s.drivable, s.runs)),
        ("state machine: transitions add_model",
         lambda: machine.add_model_cost(s.add_model, s.drivable, s.slow_runs)),
        ("state machine: events/s", lambda: machine.events_per_second(s.machine_apps, s.runs)),
        ("engine in memory: events/s", lambda: engine.engine_in_memory(s.engine_apps, s.runs)),
        ("engine in memory, spread: events/s",
         lambda: engine.engine_spread(s.engine_apps, s.runs)),
        ("the floor in memory: events/s", lambda: engine.engine_floor(s.engine_apps, s.runs)),
        (f"engine in memory among {s.memory_stored:,}: events/s",
         lambda: engine.engine_among_stored(s.engine_apps, s.memory_stored, s.runs)),
        ("engine on SQLite: events/s", lambda: sqlite.engine_on_sqlite(s.engine_apps, s.runs)),
        ("the floor on SQLite: events/s",
         lambda: sqlite.floor_on_sqlite(s.engine_apps, s.runs)),
        ("SQLite store: commit, commit_many",
         lambda: sqlite.raw_commits(s.commit_apps, 1_000, s.runs)),
        *smaller,  # type: ignore[list-item]
        (f"add {s.stored[-1]:,} applications, run_due among them",
         lambda: _add_then_run_due(s, largest)),
        ("simulate a year", lambda: engine.simulate_year(s.simulate_runs)),
        (f"simulate a year of {s.simulate_apps:,}",
         lambda: engine.simulate_many(s.simulate_apps, s.slow_runs)),
        ("command-line start-up", lambda: cli.startup(s.startup_runs)),
        ("everyday commands", lambda: cli.everyday(s.startup_runs, s.command_apps)),
        ("followup and the stacks a person would build instead",
         lambda: peers.peers(s.engine_apps, s.drain, s.runs)),
    ]


# -- where it ran ------------------------------------------------------------------------


def _first(path: str, prefix: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(prefix):
                    return line[len(prefix):].lstrip(" \t:").strip()
    except OSError:
        pass
    return None


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes" if dirty.strip() else "")


def environment(load_at_start: str = "", git: str = "") -> list[tuple[str, str]]:
    """The machine and software the figures belong to."""
    cpu = _first("/proc/cpuinfo", "model name") or platform.processor() or "unknown"
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    mem = _first("/proc/meminfo", "MemTotal")
    ram = f"{int(mem.split()[0]) / 1024 / 1024:.1f} GiB" if mem else "unknown"
    distro = (_first("/etc/os-release", "PRETTY_NAME=") or "").strip('"')
    system = f"{distro}, " if distro else ""
    tmp = Path(os.environ.get("TMPDIR", "/tmp")).resolve()
    return [
        ("CPU", f"{cpu}, {cores} logical cores ({usable} usable)"),
        ("RAM", ram),
        ("OS", f"{system}{platform.system()} {platform.release()} {platform.machine()}"),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("transitions", _version("transitions")),
        ("PyYAML", _version("PyYAML")),
        ("holidays", _version("holidays")),
        ("peers", f"huey {_version('huey')}, APScheduler {_version('APScheduler')}, "
                  f"SQLAlchemy {_version('SQLAlchemy')}"),
        ("Jinja2", _version("Jinja2")),
        ("SQLite", f"{sqlite3.sqlite_version} (the library Python's sqlite3 uses)"),
        ("followup", f"{_version('followup-engine')}, git {git or _git()} (when the run began)"),
        ("temporary files", f"{tmp} ({filesystem(tmp)})"),
        ("load average (1 min)", f"{load_at_start or '?'} at the start, {_load()} at the end"),
    ]


def _load() -> str:
    """The 1-minute load average now: other work on the machine skews every figure."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


# -- the table ---------------------------------------------------------------------------


def number(value: float) -> str:
    """A figure with three or more significant digits."""
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows: Sequence[Row], *, command: str, mode: str, started: datetime,
          seconds: float, load_at_start: str = "", git: str = "") -> str:
    """The Markdown page: how it was made, where, and every figure."""
    baseline = next((r.median for r in rows if r.id == BASELINE), None)
    out = [
        "# followup benchmarks",
        "",
        f"Made by `{command}` on {started:%Y-%m-%d %H:%M} UTC "
        f"({mode} sizes; the whole run took {seconds:.0f} s). "
        "How each figure is measured: bench/README.md.",
        "",
        "| machine and software | |",
        "|---|---|",
        *(f"| {k} | {_cell(v)} |" for k, v in environment(load_at_start, git)),
        "",
        "Each figure is the median of its runs; *range* is the lowest and the highest run. "
        f"*vs raw transitions* divides an events/s figure by row {BASELINE} of the same run; "
        "*paired*: the median of each run's ratio to a run of raw transitions made just "
        "before it, which the machine's changing speed does not skew. "
        "*CPU* is the CPU time this process and its children used over the wall time, "
        "while that benchmark ran: well under 100% means waiting, for the disk or for "
        "another process on the machine.",
    ]
    group = None
    for row in rows:
        if row.group != group:
            group = row.group
            out += ["", f"## {group}", "",
                    "| id | figure | median | unit | runs | range | vs raw transitions | CPU "
                    "| notes |",
                    "|---|---|--:|---|--:|---|--:|--:|---|"]
        spread = (f"{number(min(row.samples))} to {number(max(row.samples))}"
                  if row.runs > 1 else "")
        if row.vs_raw:
            ratio = f"{statistics.median(row.vs_raw):.3g}x paired"
        elif baseline and row.unit == "events/s":
            ratio = f"{row.median / baseline:.3g}x"
        else:
            ratio = ""
        cpu = "" if row.cpu_share is None else f"{row.cpu_share:.0%}"
        out.append(f"| {row.id} | {_cell(row.figure)} | {number(row.median)} | {row.unit} | "
                   f"{row.runs} | {spread} | {ratio} | {cpu} | {_cell(row.note)} |")
    out += ["", *targets(rows), ""]
    return "\n".join(out)


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    size.add_argument("--smoke", action="store_true", help="tiny sizes: does it all run?")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    parser.add_argument("--profile", metavar="NAME", choices=sorted(profiling.WORKLOADS),
                        help="print where one workload spends its time (cProfile) instead: "
                        + ", ".join(sorted(profiling.WORKLOADS)))
    parser.add_argument("--top", type=int, default=30, help="rows of the profile (30)")
    args = parser.parse_args(args_list)
    if args.profile:
        profiling.run(args.profile, top=args.top, quick=args.quick, smoke=args.smoke)
        return 0
    load_at_start = _load()
    git = _git()  # the code imported is the checkout's as the run begins
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    script = Path(__file__)
    try:
        shown = script.resolve().relative_to(Path.cwd())
    except ValueError:
        shown = script
    command = shlex.join(["python", str(shown), *args_list])

    started = datetime.now(UTC)
    clock = time.perf_counter()
    rows: list[Row] = []
    steps = benchmarks(MODES[mode])
    for i, (name, bench) in enumerate(steps, 1):
        print(f"[{i}/{len(steps)}] {name} ...", end="", file=sys.stderr, flush=True)
        t, cpu = time.perf_counter(), _cpu_seconds()
        produced = bench()
        wall = time.perf_counter() - t
        share = (_cpu_seconds() - cpu) / wall
        rows += [replace(row, cpu_share=share) for row in produced]
        print(f" {wall:.1f} s, CPU {share:.0%}", file=sys.stderr, flush=True)
    rows.sort(key=lambda row: int(row.group.split(".")[0]))  # stable: in order within one
    text = table(rows, command=command, mode=mode, started=started,
                 seconds=time.perf_counter() - clock, load_at_start=load_at_start, git=git)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + _kept_notes(args.out), encoding="utf-8")
    return 0


#: In the --out file, this line and what follows are written by people and kept.
NOTES_MARK = "<!-- notes below: written by hand, kept when run.py rewrites the table -->"


def _kept_notes(path: Path) -> str:
    """The hand-written notes at the end of ``path``, from NOTES_MARK on ("" if none)."""
    try:
        old = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    at = old.find(NOTES_MARK)
    return "" if at < 0 else "\n" + old[at:]


if __name__ == "__main__":
    sys.exit(main())
