"""``followup export --ics`` and ``followup serve``: the agenda as a calendar."""

from __future__ import annotations

import socket
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest

DAYS = "3650"  # the Acme interview is at a fixed date: reach it whenever the tests run
TIMEOUT = 60  # seconds, as for every run of the command (conftest.py)


def _command() -> list[str]:
    """The installed ``followup`` script, or the module (as conftest.py runs it)."""
    script = Path(sys.executable).parent / "followup"
    return [str(script)] if script.exists() else [sys.executable, "-m", "followup.cli"]


def _uids(text: str, kind: str = "VEVENT") -> dict[str, Any]:
    cal = icalendar.Calendar.from_ical(text)
    return {str(c["UID"]): c for c in cal.walk(kind)}


def _reminders(followup: Any) -> dict[str, datetime]:
    """What ``followup agenda --json`` shows: each reminder's UID and fire time."""
    agenda = followup("agenda", "--days", DAYS, "--json").json()
    return {f"{i['key']}@followup": datetime.fromisoformat(i["at"])
            for i in agenda if i["action"] == "notify"}


def test_export_writes_an_ics_file_for_the_owner_only(
    followup: Any, acme: dict[str, Any]
) -> None:
    out = followup.tmp_path / "followup.ics"
    result = followup("export", "--ics", "--days", DAYS, "--output", str(out))
    assert "reminders to" in result.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = out.read_bytes()
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    events = _uids(data.decode("utf-8"))
    reminders = _reminders(followup)
    assert set(events) == set(reminders)
    assert f"{acme['id']}/thank-you-notes/0/Jane Doe/0@followup" in events
    for uid, at in reminders.items():
        assert events[uid]["DTSTART"].dt == at
    # Again, over an existing file: the same reminders, still private.
    out.chmod(0o644)
    followup("export", "--ics", "--days", DAYS, "--output", str(out), "--todo")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert set(_uids(out.read_text(encoding="utf-8"), "VTODO")) == set(reminders)


def test_export_to_standard_output(followup: Any, acme: dict[str, Any]) -> None:
    result = followup("export", "--ics", "--days", DAYS)
    assert set(_uids(result.stdout)) == set(_reminders(followup))


def test_export_needs_a_format(followup: Any, acme: dict[str, Any]) -> None:
    result = followup("export", "--output", str(followup.tmp_path / "x"), expect=2)
    assert "choose a format: --ics" in result.stderr
    assert not (followup.tmp_path / "x").exists()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_once(followup: Any, path: str) -> tuple[int, str, str, subprocess.Popen[str]]:
    """Start ``followup serve --once``, GET ``path``; returns status, type, body, process."""
    port = _free_port()
    proc = subprocess.Popen(
        [*_command(), "serve", "--once", "--port", str(port), "--days", DAYS],
        cwd=followup.tmp_path, env=followup.env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, encoding="utf-8", errors="replace",
    )
    with proc:
        assert proc.stderr is not None
        ready = proc.stderr.readline()  # printed once the socket listens
        assert f"http://127.0.0.1:{port}/calendar.ics" in ready, ready + proc.stderr.read()
        url = f"http://127.0.0.1:{port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                status, kind = response.status, response.headers["Content-Type"]
                body = response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            with exc:
                status, kind, body = exc.code, exc.headers["Content-Type"], ""
        proc.communicate(timeout=TIMEOUT)
    return status, kind, body, proc


def test_serve_once_answers_one_calendar_request(
    followup: Any, acme: dict[str, Any]
) -> None:
    status, kind, body, proc = _serve_once(followup, "/calendar.ics")
    assert proc.returncode == 0
    assert status == 200
    assert kind == "text/calendar; charset=utf-8"
    events = _uids(body)
    assert f"{acme['id']}/thank-you-notes/0/Jane Doe/0@followup" in events
    reminders = _reminders(followup)
    assert set(events) == set(reminders)
    for uid, event in events.items():
        assert event["DTSTART"].dt == reminders[uid]


def test_serve_answers_404_elsewhere(followup: Any, acme: dict[str, Any]) -> None:
    status, _, _, proc = _serve_once(followup, "/")
    assert status == 404
    assert proc.returncode == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.org"])
def test_serve_refuses_a_public_address_without_public(followup: Any, host: str) -> None:
    result = followup("serve", "--host", host, "--once", expect=2)
    assert "--public" in result.stderr
    assert "no password" in result.stderr
