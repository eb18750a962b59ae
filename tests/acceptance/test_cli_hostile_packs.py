"""Hostile rule packs at the command line (issue 14, items 1 and 2): ``followup validate``
refuses them with exit 2 and ``FILE:LINE:COL``, never a traceback, never a line of a file
it was not meant to read; and ``followup run`` stops on SIGTERM while a slow template runs."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.acceptance.conftest import Followup, followup_command

HEAD = "version: 1\nname: mine\nextends: after-interview\n"


@pytest.mark.parametrize(("body", "where", "words"), [
    ("rules:\n  - name: nudge\n    while: interviewed\n    if: \"'a'.ljust(3*10**9) == ''\"\n",
     "mine.yaml:7:9:", "too big"),
    ("templates:\n  thank-you:\n    subject: \"{% for i in 'x'*40000 %}"
     "{{ 'a'.ljust(10**8)|length }}{% endfor %}\"\n", "mine.yaml:6:14:", "too big"),
    ("templates:\n  thank-you:\n    subject: \"{{ 'a'.ljust(10**9)|length }}\"\n",
     "mine.yaml:6:14:", "too big"),
    ("rules:\n  - name: nudge\n    while: interviewed\n    if: \"" + "(" * 100 + "state"
     + ")" * 100 + "\"\n", "mine.yaml:7:9:", "deep"),
    ("templates:\n  thank-you:\n    subject: \"{{ cycler }}\"\n", "mine.yaml:6:14:",
     "unknown name 'cycler'"),
])
def test_validate_refuses_what_would_exceed_the_bounds(
        followup: Followup, body: str, where: str, words: str) -> None:
    pack = followup.write("mine.yaml", HEAD + body)
    result = followup("validate", str(pack), expect=2, cwd=followup.tmp_path)
    assert "Traceback" not in result.stderr + result.stdout
    text = result.stdout + result.stderr
    assert where in text and words in text, text


@pytest.mark.parametrize("parent", ["/etc/passwd", "../" * 12 + "etc/passwd", "link.yaml"])
def test_validate_refuses_extends_out_of_the_folder_without_echoing(
        followup: Followup, parent: str) -> None:
    (followup.tmp_path / "link.yaml").symlink_to("/etc/passwd")
    pack = followup.write("mine.yaml", f"version: 1\nextends: {parent}\n")
    result = followup("validate", str(pack), expect=2)
    text = result.stdout + result.stderr
    assert "mine.yaml:2:10:" in text and "root:" not in text and "Traceback" not in text, text


def test_simulate_refuses_a_timeline_past_its_bound(followup: Followup) -> None:
    # A reminder every minute: over 500 a day, so months of it would keep a dry run busy
    # for hours; it stops at the bound, naming the rule, and prints no timeline.
    pack = followup.write("mine.yaml", HEAD + "rules:\n  - name: nag\n    while: interviewed\n"
                          "    at: 1 minute after interviewed_at\n    every: 1 minute\n")
    result = followup("simulate", "--rules", str(pack), "--interviewed", "2027-03-01T10:00",
                      "--tz", "America/New_York", "--json", expect=2)
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert "more than 2,000 entries" in result.stderr and "from rule 'nag'" in result.stderr
    assert "--until" in result.stderr, result.stderr


SLOW = """
version: 1
name: slow
extends: after-interview
calendar:
  workweek: [mon, tue, wed, thu, fri, sat, sun]
  send_window: null
templates:
  thank-you:
    subject: "{% set a = 'x' * 40000 %}{% set l1 = a|batch(1)|list %}{% set l2 = a|batch(1)|list %}{% for i in a %}{% if l1 != l2 %}!{% endif %}{% endfor %}Thanks"
"""


def test_run_stops_on_sigterm_while_a_slow_template_runs(followup: Followup) -> None:
    pack = followup.write("slow.yaml", SLOW)
    followup.env["FOLLOWUP_RULES"] = str(pack)
    followup("init", "--timezone", "UTC")
    followup("add", "--company", "Acme", "--role", "Engineer", "--interviewed",
             "2020-01-06T10:00", "--interviewer", "Jane Doe")
    env = dict(followup.env, FOLLOWUP_PLUGINS="console")
    daemon = subprocess.Popen([*followup_command(), "run", "--interval", "60"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              cwd=followup.tmp_path)
    try:
        assert daemon.stderr is not None
        assert b"followup run: watching" in daemon.stderr.readline()
        time.sleep(0.5)  # the pass is under way, in the slow template
        daemon.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        daemon.wait(timeout=60)
        assert time.monotonic() - stopped < 10  # unbounded, it would run for minutes
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        if daemon.stderr is not None:
            daemon.stderr.close()
    assert daemon.returncode == 0
