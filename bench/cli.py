"""The command line's start-up: ``followup --help`` and the everyday commands against a
bare ``python -c pass``.

All run as subprocesses of this interpreter's environment, alternately, so a change in
the machine's load touches all alike; each figure is wall time from ``subprocess.run``.
The everyday commands (``add``, ``log``, ``show``, ``list``, ``agenda``) run on a SQLite
store of 1,000 applications made for the purpose, with a pack cache of their own (warmed
by one unrecorded run of each, as a person's second command finds it). Python keeps
compiled modules (``__pycache__``) as an installed package does; where this environment
forbids writing them (``PYTHONDONTWRITEBYTECODE``), the children write them to a
temporary ``PYTHONPYCACHEPREFIX`` instead, or every command would compile every module.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path

from bench._common import INTERVIEWER, T0, Row, add_interviewed, repeat, sized

__all__ = ["EVERYDAY", "everyday", "followup_command", "make_store", "startup"]

GROUP = "6. command-line start-up"
ROOT = Path(__file__).resolve().parents[1]


def followup_command() -> list[str]:
    """The installed ``followup`` script beside this interpreter, or ``-m followup.cli``."""
    script = shutil.which("followup", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "followup.cli"]


def _timed(argv: list[str], env: Mapping[str, str] | None = None) -> tuple[float, float]:
    """Wall time and CPU time (user and system) of one run of ``argv``, in ms. The CPU
    time counts only the command's own work, so it says how long a command takes where
    the machine is busy with other work too."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                          check=False)
    took = (time.perf_counter() - start) * 1e3
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace')[-500:]}")
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1e3
    return took, cpu


def _wall(argv: list[str], env: Mapping[str, str] | None = None) -> float:
    return _timed(argv, env)[0]


def startup(runs: int) -> list[Row]:
    """Median wall time of ``python -c pass`` and ``followup --help``, ``runs`` of each,
    in the environment the everyday commands run in (``child_environment``: compiled
    modules kept, as an installed package has them)."""
    bare = [sys.executable, "-c", "pass"]
    helped = [*followup_command(), "--help"]
    with tempfile.TemporaryDirectory(prefix="followup-bench-startup-") as name:
        env = child_environment(Path(name))
        _wall(bare, env)  # warm the file cache and the compiled modules; not counted
        _wall(helped, env)
        pairs = repeat(runs, lambda: (_wall(bare, env), _wall(helped, env)))
    python = tuple(p for p, _ in pairs)
    followup = tuple(f for _, f in pairs)
    return [
        Row("6.1", GROUP, "`python -c pass`", "ms", python, note="the interpreter alone"),
        Row("6.2", GROUP, "`followup --help`", "ms", followup,
            note=" ".join(Path(a).name if i == 0 else a for i, a in enumerate(helped))),
        Row("6.3", GROUP, "followup's own start-up (6.2 - 6.1, per pair)", "ms",
            tuple(f - p for p, f in pairs), note="imports and argument parsing"),
    ]


GROUP_EVERYDAY = "6. command-line start-up"

#: The everyday commands, as run against the store: each gets the run's number ``i``.
EVERYDAY: tuple[tuple[str, Callable[[int], list[str]]], ...] = (
    ("add", lambda i: ["add", "--company", f"Initech {i}", "--role", "Engineer",
                       "--interviewed", "2026-12-23T15:00", "--interviewer", "Bob Roe"]),
    ("log", lambda i: ["log", f"app{i:06d}", "thank_you_sent", "--contact", INTERVIEWER]),
    ("show", lambda i: ["show", f"app{i:06d}"]),
    ("list", lambda i: ["list"]),
    ("agenda", lambda i: ["agenda"]),
)


def make_store(path: Path, apps: int) -> None:
    """A SQLite store of ``apps`` applications of one owner in New York (US holidays,
    subdivision NY), each as every benchmark adds it, interviewed a minute apart."""
    from followup import Engine, FakeClock, SQLiteStore

    with Engine(store=SQLiteStore(path), clock=FakeClock(T0), channels=[]) as engine:
        engine.set_owner("ada", timezone="America/New_York", country="US", subdivision="NY")
        for i in range(apps):
            add_interviewed(engine, f"app{i:06d}", owner="ada",
                            interviewed_at=T0 + timedelta(minutes=i))


def child_environment(folder: Path) -> dict[str, str]:
    """The environment the commands run in: this one, with the store, the owner and a
    pack cache in ``folder``, and compiled modules kept (see the module's docstring)."""
    env = dict(os.environ)
    env.update(FOLLOWUP_DB=str(folder / "store.db"), FOLLOWUP_OWNER="ada",
               FOLLOWUP_CACHE_DIR=str(folder / "cache"))
    for name in list(env):  # no settings of a person's own, no channels configured
        if name.startswith("FOLLOWUP_") and name not in (
                "FOLLOWUP_DB", "FOLLOWUP_OWNER", "FOLLOWUP_CACHE_DIR"):
            del env[name]
    if sys.flags.dont_write_bytecode or env.get("PYTHONDONTWRITEBYTECODE"):
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def _rounds(runs: int, env: Mapping[str, str], command: list[str], apps: int
            ) -> dict[str, list[tuple[float, float]]]:
    """Per everyday command, ``runs`` (wall, CPU) pairs over the ``python -c pass`` run
    just before it; "python" holds the bare runs themselves."""
    bare = [sys.executable, "-c", "pass"]
    _timed(bare, env)
    for _name, argv in EVERYDAY:  # warms the file cache, the pack cache and pycache
        _timed([*command, *argv(apps - 1)], env)
    over: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in EVERYDAY}
    over["python"] = []
    for i in range(runs):
        for name, argv in EVERYDAY:
            wall0, cpu0 = _timed(bare, env)
            wall, cpu = _timed([*command, *argv(i)], env)
            over["python"].append((wall0, cpu0))
            over[name].append((wall - wall0, cpu - cpu0))
    return over


def everyday(runs: int, apps: int = 1_000) -> list[Row]:
    """Each everyday command on a store of ``apps`` applications: its wall time over a
    ``python -c pass`` run just before it, per round (the median of those differences is
    the figure the issue's target is about); the note gives the same for CPU time."""
    with tempfile.TemporaryDirectory(prefix="followup-bench-cli-") as name:
        folder = Path(name)
        make_store(folder / "store.db", apps)
        over = _rounds(runs, child_environment(folder), followup_command(), apps)
    rows = []
    for n, (name, argv) in enumerate(EVERYDAY, 4):
        shown = " ".join(argv(0)).replace("app000000", "APP")
        cpu = statistics.median(c for _w, c in over[name])
        rows.append(Row(f"6.{n}", GROUP_EVERYDAY,
                        f"`followup {name}` over `python -c pass`, {sized(apps)} applications",
                        "ms", tuple(w for w, _c in over[name]),
                        note=f"followup {shown}; CPU time over python's: {cpu:.0f} ms"))
    cpu = statistics.median(c for _w, c in over["python"])
    rows.append(Row(f"6.{4 + len(EVERYDAY)}", GROUP_EVERYDAY,
                    "`python -c pass`, the runs just before each command", "ms",
                    tuple(w for w, _c in over["python"]),
                    note=f"the interpreter alone; CPU time {cpu:.0f} ms"))
    return rows


def compare(old: Path, new: Path, runs: int, apps: int = 1_000) -> str:
    """The everyday commands of two checkouts' ``engine/`` folders (say, made with ``git
    archive``), on copies of one store, in turns: a Markdown table of each command's wall
    and CPU time over bare python, medians of ``runs``. Each uses its own pack cache."""
    with tempfile.TemporaryDirectory(prefix="followup-bench-cli-") as name:
        folder = Path(name)
        trees = {}
        for label, engine in (("old", old), ("new", new)):
            (folder / label).mkdir()
            env = child_environment(folder / label)
            env["PYTHONPATH"] = str(engine.resolve())
            trees[label] = env
            # Each checkout makes its own store, so its schema is the one it knows.
            made = f"from bench.cli import make_store; make_store({str(folder / label / 'store.db')!r}, {apps})"
            subprocess.run([sys.executable, "-c", made], check=True, cwd=ROOT,
                           env={**env, "PYTHONPATH": f"{engine.resolve()}{os.pathsep}{ROOT}"})
        command = [sys.executable, "-m", "followup.cli"]
        got: dict[str, dict[str, list[tuple[float, float]]]] = {"old": {}, "new": {}}
        for _ in range(runs):  # one round of each in turn
            for label, env in trees.items():
                for key, pairs in _rounds(1, env, command, apps).items():
                    got[label].setdefault(key, []).extend(pairs)
    lines = ["| command | old: wall | new: wall | old: CPU | new: CPU |",
             "|---|--:|--:|--:|--:|"]
    for key in [name for name, _ in EVERYDAY] + ["python"]:
        cells = [statistics.median(p[k] for p in got[label][key])
                 for k in (0, 1) for label in ("old", "new")]
        lines.append(f"| {key} | " + " | ".join(f"{c:.0f} ms" for c in cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m bench.cli OLD/engine NEW/engine [ROUNDS]
    print(compare(Path(sys.argv[1]), Path(sys.argv[2]),
                  int(sys.argv[3]) if len(sys.argv) > 3 else 5))
