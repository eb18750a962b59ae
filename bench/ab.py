"""Two checkouts of followup side by side: ``python -m bench.ab OLD NEW [--rounds N]
[--workload NAME ...]``.

OLD and NEW are the roots of two checkouts (``git worktree add /tmp/old COMMIT``). Each
round runs every workload once per checkout, in a process of its own whose ``PYTHONPATH``
puts that checkout's ``engine/`` and ``bench/`` first, the order of the two swapped every
other round, so the machine's changing speed touches both alike. Printed per workload:
each checkout's median and runs, and the median of NEW's per-round ratio to OLD (the
paired ratio). Workloads (``bench.peers`` and ``bench.engine``, at group 7's and group
1's sizes): ``default`` and ``same`` (events/s on SQLite with the default pack and the
same-work pack), ``drain`` (10,000 due reminders fired and delivered to a no-op sink),
``memory`` (1.13: events/s in memory).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

WORKLOADS = {
    "default": "from bench import peers; print(peers.followup_events(2000, 'after-interview'))",
    "same": "from bench import peers; print(peers.followup_events(2000))",
    "drain": "from bench import peers; print(peers.followup_drain(10000))",
    "memory": ("from bench.engine import drive; from followup import MemoryStore; "
               "print(drive(MemoryStore, 2000)[1])"),
}


def run(root: Path, workload: str) -> float:
    """One run of ``workload`` on the checkout at ``root``."""
    env = {**os.environ, "PYTHONPATH": f"{root / 'engine'}{os.pathsep}{root}"}
    out = subprocess.run([sys.executable, "-c", WORKLOADS[workload]], cwd=root, env=env,
                         check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--workload", action="append", choices=sorted(WORKLOADS))
    args = parser.parse_args(argv)
    for workload in args.workload or sorted(WORKLOADS):
        runs: dict[Path, list[float]] = {args.old: [], args.new: []}
        for i in range(args.rounds):
            for root in (args.old, args.new) if i % 2 == 0 else (args.new, args.old):
                runs[root].append(run(root.resolve(), workload))
        ratios = [n / o for n, o in zip(runs[args.new], runs[args.old], strict=True)]
        for root in (args.old, args.new):
            print(f"{workload}: {root}: median {statistics.median(runs[root]):,.0f} "
                  f"({', '.join(f'{x:,.0f}' for x in runs[root])})")
        print(f"{workload}: new over old, paired: {statistics.median(ratios):.3f}x "
              f"({min(ratios):.3f} to {max(ratios):.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
