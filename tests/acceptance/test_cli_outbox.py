"""`followup outbox`: what waits, what failed and why, and trying dead ones again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# The default pack, sending at any hour of any day: what `run --once` sends does not
# depend on the time of day the tests run at.
ANY_HOUR = """\
version: 1
name: any-hour
extends: after-interview
calendar:
  workweek: [mon, tue, wed, thu, fri, sat, sun]
  send_window: null
"""


def run(tmp_path: Path, *args: str, block_console: bool = False) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "followup"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "followup.cli"]
    pack = tmp_path / "any-hour.yaml"
    if not pack.exists():
        pack.write_text(ANY_HOUR, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")}
    env.update(FOLLOWUP_DB=str(tmp_path / "f.db"), FOLLOWUP_OWNER="tester",
               FOLLOWUP_RULES=str(pack), HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path),
               PYTHONIOENCODING="utf-8")
    if block_console:
        env["FOLLOWUP_PLUGINS_BLOCK"] = "console"
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env,
                          timeout=60, check=False)


def test_a_reminder_that_could_not_go_out_waits_in_the_outbox(tmp_path: Path) -> None:
    assert run(tmp_path, "init", "--timezone", "UTC").returncode == 0
    added = run(tmp_path, "add", "--company", "Acme", "--role", "Engineer", "--interviewed",
                "2020-01-06T10:00", "--interviewer", "Jane Doe, CTO",
                "--fact", "decision_expected_on=2020-01-20", "--json")
    assert added.returncode == 0, added.stderr
    # No console channel: the reminders wait in the outbox, with the reason.
    ran = run(tmp_path, "run", "--once", block_console=True)
    assert ran.returncode == 0
    assert "no channel named 'console' is loaded" in ran.stderr
    rows = json.loads(run(tmp_path, "outbox", "--json").stdout)
    assert {r["rule"] for r in rows} == {"ask-for-referrals", "thank-you-notes", "follow-up-call"}
    assert all(r["status"] == "pending" and r["attempts"] == 1 for r in rows)
    assert all("no channel named 'console'" in r["last_error"] for r in rows)
    text = run(tmp_path, "outbox").stdout
    assert "Thank Jane Doe for the interview at Acme  (1 attempt, next try" in text
    # Nothing is dead yet; the next run (with the console back) sends them once.
    assert json.loads(run(tmp_path, "outbox", "--retry", "--json").stdout) == {"retried": 0}
    assert json.loads(run(tmp_path, "outbox", "--status", "dead", "--json").stdout) == []
