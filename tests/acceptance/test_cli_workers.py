"""``followup run --workers N``: N worker processes under one supervisor, which starts a
worker again when it dies, stops them all on SIGTERM (exit 0), and gives up at once when
a worker's input is wrong. Also ``followup migrate`` and ``followup status`` on SQLite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from tests.acceptance.conftest import Followup, followup_command


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _wait(condition: object, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"waited {limit:g} s for {what}"
        time.sleep(0.1)


def test_workers_are_supervised_restarted_and_stopped(followup: Followup) -> None:
    followup("init", "--timezone", "UTC")
    env = dict(followup.env, FOLLOWUP_PLUGINS="console")
    supervisor = subprocess.Popen(
        [*followup_command(), "run", "--workers", "2", "--interval", "0.2", "--lease", "5"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=followup.tmp_path)
    try:
        _wait(lambda: len(_children(supervisor.pid)) == 2, "two workers")
        first = _children(supervisor.pid)
        # Both take part: each notes its heartbeat in the store.
        _wait(lambda: len(followup("status", "--json").json()["workers"]) == 2,
              "two heartbeats")
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        _wait(lambda: len(_children(supervisor.pid)) == 2
              and victim not in _children(supervisor.pid), "a worker started again")
        _wait(lambda: len(followup("status", "--json").json()["workers"]) == 3,
              "the new worker's heartbeat")
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=60)
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
    assert supervisor.stderr is not None
    stderr = supervisor.stderr.read().decode()
    supervisor.stderr.close()
    assert supervisor.returncode == 0, stderr
    assert f"exited with -{int(signal.SIGKILL)}; starting another" in stderr
    assert _children(supervisor.pid) == set()
    status = followup("status", "--json").json()
    assert len(status["workers"]) == 3  # the killed one, its replacement, the other
    assert status["held_timers"] == status["held_deliveries"] == 0


def test_workers_whose_input_is_wrong_stop_the_supervisor(followup: Followup) -> None:
    followup("init", "--timezone", "UTC")
    result = followup("run", "--workers", "2", "--rules", str(followup.tmp_path / "nope.yaml"),
                      expect=2)
    assert "nope.yaml" in result.stderr
    assert "starting another" not in result.stderr


def test_migrate_and_status_on_sqlite(followup: Followup) -> None:
    followup("init", "--timezone", "UTC")
    migrated = followup("migrate", "--json").json()
    assert migrated["applied"] == [] and migrated["version"] >= 3
    text = followup("status").stdout
    assert "no worker has run on this store yet" in text
    status = json.loads(followup("status", "--json").stdout)
    assert status["due_timers"] == 0 and status["dead"] == 0
    missing = followup("--db", str(followup.tmp_path / "none.db"), "status", expect=2)
    assert "followup init" in missing.stderr
