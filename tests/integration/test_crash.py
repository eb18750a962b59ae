"""Killing the process between an event's commit and its delivery loses nothing."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

CRASH = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import UTC, datetime
    from followup import Contact, Engine, FakeClock, SQLiteStore

    class DiesOnSend:
        name = "console"
        def send(self, notification):
            # The notification is committed to the outbox; die before it is delivered.
            os.kill(os.getpid(), signal.SIGKILL)

    clock = FakeClock(datetime(2026, 1, 7, 15, 0, tzinfo=UTC))
    engine = Engine(store=SQLiteStore(sys.argv[1]), clock=clock, channels=[DiesOnSend()])
    engine.set_owner("ada", timezone="UTC")
    engine.add_application(owner="ada", company="Acme", role="Engineer", id="app1",
                           facts={"interviewed_at": "2026-01-06T10:00:00+00:00"},
                           contacts=[Contact("Jane Doe", "interviewer")])
    engine.run_due()
    print("not reached")
    """
)


def _followup() -> list[str]:
    script = Path(sys.executable).parent / "followup"
    return [str(script)] if script.exists() else [sys.executable, "-m", "followup.cli"]


def test_a_reminder_committed_before_a_crash_is_delivered_after_restart(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH, str(db)], capture_output=True, text=True, timeout=60
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert "not reached" not in crashed.stdout

    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT channel, status FROM outbox WHERE rule = 'thank-you-notes'"
        ).fetchall()
    conn.close()
    assert rows == [("console", "pending")]

    env = {"FOLLOWUP_OWNER": "ada", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    first = subprocess.run(
        [*_followup(), "--db", str(db), "run", "--once"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("Thank Jane Doe for the interview at Acme") == 1

    second = subprocess.run(
        [*_followup(), "--db", str(db), "run", "--once"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert second.returncode == 0, second.stderr
    assert "Thank Jane Doe" not in second.stdout

    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT channel, status FROM outbox WHERE rule = 'thank-you-notes'"
        ).fetchall()
        fired = conn.execute(
            "SELECT count(*) FROM history WHERE kind = 'notified' AND name = 'thank-you-notes'"
        ).fetchone()
    conn.close()
    assert rows == [("console", "delivered")]
    assert fired == (1,)
