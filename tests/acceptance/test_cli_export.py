"""``followup export --ics``: the agenda as a calendar file (``followup serve`` is in
test_cli_serve.py)."""

from __future__ import annotations

import stat
from datetime import datetime
from typing import Any

import icalendar

from followup import Engine, SQLiteStore
from followup.interop.ical import reminder_uid

DAYS = "3650"  # the Acme interview is at a fixed date: reach it whenever the tests run


def _uids(text: str, kind: str = "VEVENT") -> dict[str, Any]:
    cal = icalendar.Calendar.from_ical(text)
    return {str(c["UID"]): c for c in cal.walk(kind)}


def _reminders(followup: Any) -> dict[str, datetime]:
    """What ``followup agenda --json`` shows: each reminder's fire time, by the UID
    that its key and application give it."""
    agenda = followup("agenda", "--days", DAYS, "--json").json()
    with SQLiteStore(followup.db) as store:
        apps = {a.id: a for a in Engine(store=store, channels=[]).applications(owner="tester")}
    return {reminder_uid(i["key"], apps.get(i["application"] or "")):
            datetime.fromisoformat(i["at"]) for i in agenda if i["action"] == "notify"}


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
    assert len(events) >= 3 and not any("Jane" in uid for uid in events)
    for uid, at in reminders.items():
        assert events[uid]["DTSTART"].dt == at
        assert int(events[uid]["SEQUENCE"]) == 0
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


def test_the_sequence_grows_from_one_export_to_the_next(
    followup: Any, acme: dict[str, Any]
) -> None:
    first = _uids(followup("export", "--ics", "--days", DAYS).stdout)
    # The employer asks to be called on an earlier day: the call moves earlier.
    followup("log", acme["id"], "--fact", "follow_up_requested_on=2026-12-28")
    second = _uids(followup("export", "--ics", "--days", DAYS).stdout)
    moved = [uid for uid in first if second[uid]["DTSTART"].dt != first[uid]["DTSTART"].dt]
    assert moved
    for uid in moved:
        assert second[uid]["DTSTART"].dt < first[uid]["DTSTART"].dt
        assert int(second[uid]["SEQUENCE"]) == int(first[uid]["SEQUENCE"]) + 1
    assert all(int(second[u]["SEQUENCE"]) == 0 for u in first if u not in moved)
