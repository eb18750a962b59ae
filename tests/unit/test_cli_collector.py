"""The ``followup`` program sets Python's garbage collector for a process that ends with
its command (followup.cli.command): cycles are collected seldom while it runs, and what
it made is frozen before the interpreter's exit, so the exit does not walk it. A command
that runs until stopped (``run``, ``serve``) puts the collector back as Python sets it."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from followup.cli import main
from followup.cli._common import SHORT_LIVED_THRESHOLD, long_running, short_lived

# A process that runs the program's entry as the console script does, with `main`
# replaced by one that notes the collector's thresholds during the command; at exit it
# says what was frozen and whether atexit handlers still ran.
_PROGRAM = """
import atexit, gc, json, sys
import followup.cli as cli

seen = {}
real = cli.main

def spy(argv=None, **options):
    seen["during"] = gc.get_threshold()
    return real(["--version"], **options)

cli.main = spy
before = gc.get_threshold()

@atexit.register
def report():
    print(json.dumps({"before": before, "during": seen["during"],
                      "frozen": gc.get_freeze_count()}))

sys.exit(cli.command())
"""


def test_the_program_collects_seldom_and_freezes_what_it_made_at_its_end() -> None:
    done = subprocess.run([sys.executable, "-c", _PROGRAM], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    *printed, last = done.stdout.strip().splitlines()
    assert printed and printed[0].startswith("followup ")  # --version still answered
    seen = json.loads(last)
    assert seen["during"] == [SHORT_LIVED_THRESHOLD, *seen["before"][1:]]
    assert seen["frozen"] > 10_000  # the modules, classes and functions it had loaded


def test_long_running_puts_back_what_short_lived_changed() -> None:
    before = gc.get_threshold()
    try:
        short_lived()
        short_lived()  # twice: the thresholds to go back to are still Python's own
        assert gc.get_threshold() == (SHORT_LIVED_THRESHOLD, *before[1:])
        long_running()
        assert gc.get_threshold() == before
        long_running()  # nothing to put back
        assert gc.get_threshold() == before
    finally:
        gc.set_threshold(*before)


@pytest.mark.parametrize(("argv", "collects_as_python"), [
    ([], True),            # runs until stopped
    (["--once"], False),   # one pass, then the process ends
])
def test_run_until_stopped_collects_as_python_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str],
        collects_as_python: bool) -> None:
    from followup.runtime import workers

    seen: list[tuple[int, ...]] = []

    def run(self: workers.Worker, *, once: bool = False) -> object:
        seen.append(gc.get_threshold())
        raise KeyboardInterrupt  # stops here: what the worker would do is not the point

    monkeypatch.setattr(workers.Worker, "run", run)
    before = gc.get_threshold()
    try:
        short_lived()
        code = main(["run", "--db", str(tmp_path / "f.db"), "--owner", "ada", *argv])
    finally:
        long_running()
        gc.set_threshold(*before)
    assert code == 130
    assert seen == [before if collects_as_python else (SHORT_LIVED_THRESHOLD, *before[1:])]


def test_serve_until_stopped_collects_as_python_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from followup.cli import feed

    seen: list[tuple[int, ...]] = []

    def serve_forever(self: feed.FeedServer, poll_interval: float = 0.5) -> None:
        seen.append(gc.get_threshold())
        raise KeyboardInterrupt

    monkeypatch.setattr(feed.FeedServer, "serve_forever", serve_forever)
    db = str(tmp_path / "f.db")
    assert main(["init", "--db", db, "--owner", "ada", "--timezone", "UTC"]) == 0
    before = gc.get_threshold()
    try:
        short_lived()
        code = main(["serve", "--db", db, "--owner", "ada", "--port", "0"])
    finally:
        long_running()
        gc.set_threshold(*before)
    assert code == 130
    assert seen == [before]
