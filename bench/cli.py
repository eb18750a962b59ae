"""The command line's start-up: ``followup --help`` against a bare ``python -c pass``.

Both run as subprocesses of this interpreter's environment, alternately, so a change in
the machine's load touches both alike; each figure is wall time from ``subprocess.run``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench._common import Row, repeat

__all__ = ["followup_command", "startup"]

GROUP = "6. command-line start-up"


def followup_command() -> list[str]:
    """The installed ``followup`` script beside this interpreter, or ``-m followup.cli``."""
    script = shutil.which("followup", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "followup.cli"]


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1e3


def startup(runs: int) -> list[Row]:
    """Median wall time of ``python -c pass`` and ``followup --help``, ``runs`` of each."""
    bare = [sys.executable, "-c", "pass"]
    helped = [*followup_command(), "--help"]
    _wall(bare), _wall(helped)  # warm the file cache; not counted
    pairs = repeat(runs, lambda: (_wall(bare), _wall(helped)))
    python = tuple(p for p, _ in pairs)
    followup = tuple(f for _, f in pairs)
    return [
        Row("6.1", GROUP, "`python -c pass`", "ms", python, note="the interpreter alone"),
        Row("6.2", GROUP, "`followup --help`", "ms", followup,
            note=" ".join(Path(a).name if i == 0 else a for i, a in enumerate(helped))),
        Row("6.3", GROUP, "followup's own start-up (6.2 - 6.1, per pair)", "ms",
            tuple(f - p for p, f in pairs), note="imports and argument parsing"),
    ]
