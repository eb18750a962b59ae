"""``followup import`` killed with SIGKILL: the store holds none of the file or all of it,
each application with its reminders (planned by the engine and committed in the
import's one transaction), and running the same import again changes nothing."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from followup import SQLiteStore

ROWS = 1500


def _command() -> list[str]:
    script = Path(sys.executable).with_name("followup")
    return [str(script)] if script.exists() else [sys.executable, "-m", "followup.cli"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_command(), *args], env=env, capture_output=True, text=True,
                          timeout=300)


def _planned(db: Path) -> dict[str, list[tuple[str, str]]]:
    """Each application's armed timers (rule, key)."""
    with SQLiteStore(db) as store:
        return {app.id: sorted((t.rule, t.key) for t in store.timers(application_id=app.id))
                for app in store.applications()}


@pytest.mark.slow
def test_an_import_killed_midway_leaves_all_or_nothing_and_loses_no_reminder(
    tmp_path: Path,
) -> None:
    sheet = tmp_path / "tracker.csv"
    with sheet.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["Company", "Role", "Status", "Interview Date", "Contact"])
        for i in range(ROWS):
            writer.writerow([f"Company {i}", "Engineer", "interviewed", "2026-11-20T15:00",
                             f"Person {i}"])
    env = dict(os.environ, FOLLOWUP_OWNER="ada", FOLLOWUP_PLUGINS="console",
               FOLLOWUP_RULES="demo")
    env.pop("FOLLOWUP_DB", None)
    reference, killed = tmp_path / "reference.db", tmp_path / "killed.db"
    for db in (reference, killed):
        done = _run(["--db", str(db), "init", "--timezone", "UTC"], env)
        assert done.returncode == 0, done.stderr
    done = _run(["--db", str(reference), "import", str(sheet)], env)
    assert done.returncode == 0, done.stderr
    expected = _planned(reference)
    assert len(expected) == ROWS and all(expected.values())

    # The import writes every application in one transaction, then plans each one's
    # reminders, with progress on standard error: kill it at its first progress line.
    proc = subprocess.Popen([*_command(), "--db", str(killed), "import", "--progress",
                             str(sheet)], env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)
    assert proc.stderr is not None
    seen = b""
    while b"/" not in seen:
        chunk = proc.stderr.read1(64)  # type: ignore[attr-defined]
        if not chunk:
            break
        seen += chunk
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()

    stored = _planned(killed)
    assert len(stored) in (0, ROWS), f"a partial import: {len(stored)} of {ROWS}"
    # Killed before its one commit, nothing is there; after it, the applications are
    # there but only some are planned. Either way, the same import again completes it.
    done = _run(["--db", str(killed), "import", str(sheet)], env)
    assert done.returncode == 0, done.stderr
    assert ("imported 0 applications" in done.stdout) == bool(stored), done.stdout
    done = _run(["--db", str(killed), "run", "--once"], env)
    assert done.returncode == 0, done.stderr
    reran = _planned(killed)
    assert sorted(reran) == sorted(expected)
    missing = [app for app, timers in expected.items()
               if not {key.split("/", 1)[1] for _, key in timers}
               <= {key.split("/", 1)[1] for _, key in reran[app]} | _fired(killed, app)]
    assert missing == [], f"applications left without their reminders: {missing[:5]}"


def _fired(db: Path, app_id: str) -> set[str]:
    """The keys (without the application id) of reminders that already went out."""
    with SQLiteStore(db) as store:
        return {h.key.split("/", 1)[1] for h in store.history(app_id)
                if h.kind == "notified" and h.key}
