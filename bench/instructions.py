"""The everyday commands of two checkouts counted in instructions: ``python -m
bench.instructions OLD NEW [--apps N]``.

A command's wall time on a shared 2-core machine moves by 5 to 15% from run to run, more
than most changes to start-up are worth; the number of instructions the process runs
barely moves. Each command (``bench.cli.EVERYDAY``) and ``python -c pass`` runs under
Valgrind's cachegrind (``--cache-sim=no``: it counts instructions, user space only),
once per checkout after an unrecorded run that warms the pack cache, the dataclass code
cache and ``__pycache__``; each run gets a fresh copy of one SQLite store of ``N``
applications (``bench.cli.make_store``), so ``add`` and ``log`` find the same store every
time. ``PYTHONHASHSEED`` is fixed: set and dict order, and with them the work, are the
same in every run. OLD and NEW are the roots of two checkouts (``git worktree add
/tmp/old COMMIT``); their ``engine/`` comes first on ``PYTHONPATH``.

Instructions are not time: a cache miss or a system call costs more than its count
says. Use this to tell whether a change to start-up helps; use ``bench.cli`` for what a
person waits.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.cli import EVERYDAY, child_environment, make_store

_COUNT = re.compile(r"I\s+refs:\s+([\d,]+)")


def count(argv: list[str], env: dict[str, str]) -> int:
    """The instructions ``argv`` runs under cachegrind (it must succeed)."""
    done = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        check=False)
    found = _COUNT.search(done.stderr)
    if done.returncode or found is None:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-800:]}")
    return int(found.group(1).replace(",", ""))


def measure(root: Path, folder: Path, side: str, apps: int) -> dict[str, int]:
    """Instructions of ``python -c pass`` and of each everyday command, for the checkout
    at ``root``, in a folder ``side`` of its own (its caches) beside a copy of the store
    in ``folder``."""
    mine = folder / side
    mine.mkdir()
    env = child_environment(mine) | {
        "PYTHONPATH": f"{root / 'engine'}{os.pathsep}{root}", "PYTHONHASHSEED": "0"}
    command = [sys.executable, "-m", "followup.cli"]
    bare = [sys.executable, "-c", "pass"]
    subprocess.run(bare, env=env, check=True)  # warms __pycache__ (PYTHONPYCACHEPREFIX)
    counts = {"python -c pass": count(bare, env)}
    for name, argv in EVERYDAY:
        for recorded in (False, True):  # the first run warms the caches
            shutil.copyfile(folder / "store.db", mine / "store.db")
            args = [*command, *argv(apps - 1)]
            if recorded:
                counts[name] = count(args, env)
            else:
                subprocess.run(args, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=True)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--apps", type=int, default=1_000,
                        help="applications in the store (default 1,000)")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="followup-bench-instructions-") as name:
        folder = Path(name)
        make_store(folder / "store.db", args.apps)
        old = measure(args.old.resolve(), folder, "old", args.apps)
        new = measure(args.new.resolve(), folder, "new", args.apps)
    base_old, base_new = old["python -c pass"], new["python -c pass"]
    print(f"| command | {args.old} | {args.new} | new / old | over python: old | new | "
          "new / old |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for name, before in old.items():
        after = new[name]
        over_old, over_new = before - base_old, after - base_new
        over = f"{over_old / 1e6:,.1f}M | {over_new / 1e6:,.1f}M | " + (
            f"{over_new / over_old:.3f}x" if over_old > 0 else "")
        print(f"| {name} | {before / 1e6:,.1f}M | {after / 1e6:,.1f}M | "
              f"{after / before:.3f}x | {over} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
