"""``followup export --ics``: the agenda as a calendar file (``followup serve`` is in
test_cli_serve.py)."""

from __future__ import annotations

import stat
from datetime import datetime
from typing import Any

import icalendar

DAYS = "3650"  # the Acme interview is at a fixed date: reach it whenever the tests run


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
