"""Faults at the command line: ``followup status`` lists them, ``followup show APP`` says
whether the application has one. The faults are written through the store's own API,
as the engine records them when an application fails unexpectedly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from followup.store import SQLiteStore
from tests.acceptance.conftest import OWNER, Followup

T0 = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)  # 15:00 in New York, the owner's zone


def record_faults(followup: Followup, app_id: str) -> None:
    """Three faults: the owner's application (failed twice), another owner's own rules
    (a name with a slash), and another owner's application of the same id."""
    with SQLiteStore(followup.db) as store:
        store.record_fault(owner=OWNER, application_id=app_id, error="KeyError: 'why_me'",
                           at=T0, retry_at=T0 + timedelta(minutes=1))
        store.record_fault(owner="ada/lovelace", application_id="",
                           error="ValueError: bad date 'héllo'\nsecond line",
                           at=T0 + timedelta(minutes=1), retry_at=T0 + timedelta(minutes=2))
        store.record_fault(owner=OWNER, application_id=app_id, error="KeyError: 'why_me'",
                           at=T0 + timedelta(minutes=2), retry_at=T0 + timedelta(minutes=4))
        store.record_fault(owner="王伟", application_id=app_id, error="OSError: disk full",
                           at=T0 + timedelta(minutes=3), retry_at=T0 + timedelta(hours=1))


def test_status_lists_each_fault(followup: Followup, acme: dict[str, Any]) -> None:
    app_id = acme["id"]
    record_faults(followup, app_id)

    text = followup("status").stdout
    assert "3 faults: these stopped on an unexpected error" in text
    lines = [line.strip() for line in text.splitlines()]
    assert (f"{OWNER}: application {app_id}: failed 2 times since 2026-12-23 20:00:00 UTC, "
            "next try 2026-12-23 20:04:00 UTC: KeyError: 'why_me'") in lines
    assert ("ada/lovelace: owner's rules: failed 1 time since 2026-12-23 20:01:00 UTC, "
            "next try 2026-12-23 20:02:00 UTC: ValueError: bad date 'héllo'\\nsecond line"
            ) in lines
    assert (f"王伟: application {app_id}: failed 1 time since 2026-12-23 20:03:00 UTC, "
            "next try 2026-12-23 21:00:00 UTC: OSError: disk full") in lines

    status = followup("status", "--json").json()
    assert status["faults"] == [
        {"owner": OWNER, "application_id": app_id, "error": "KeyError: 'why_me'",
         "attempts": 2, "first_at": "2026-12-23T20:00:00+00:00",
         "last_at": "2026-12-23T20:02:00+00:00", "retry_at": "2026-12-23T20:04:00+00:00"},
        {"owner": "ada/lovelace", "application_id": "",
         "error": "ValueError: bad date 'héllo'\nsecond line", "attempts": 1,
         "first_at": "2026-12-23T20:01:00+00:00", "last_at": "2026-12-23T20:01:00+00:00",
         "retry_at": "2026-12-23T20:02:00+00:00"},
        {"owner": "王伟", "application_id": app_id, "error": "OSError: disk full",
         "attempts": 1, "first_at": "2026-12-23T20:03:00+00:00",
         "last_at": "2026-12-23T20:03:00+00:00", "retry_at": "2026-12-23T21:00:00+00:00"},
    ]


def test_status_without_faults_says_so(followup: Followup, acme: dict[str, Any]) -> None:
    text = followup("status").stdout
    assert "no faults: no application's last attempt failed" in text
    status = followup("status", "--json").json()
    assert status["faults"] == []


def test_show_gives_the_applications_own_fault(followup: Followup,
                                                acme: dict[str, Any]) -> None:
    app_id = acme["id"]
    assert followup("show", app_id, "--json").json()["fault"] is None
    assert "fault" not in followup("show", app_id).stdout
    record_faults(followup, app_id)

    text = followup("show", app_id).stdout
    (line,) = [line.strip() for line in text.splitlines() if "fault" in line]
    assert line == ("fault: failed 2 times since Wed 2026-12-23 15:00; its reminders wait "
                    "for the next try at Wed 2026-12-23 15:04: KeyError: 'why_me'")
    # Its fault, not the one of another owner's application with the same id, in the
    # owner's time zone.
    assert followup("show", app_id, "--json").json()["fault"] == {
        "error": "KeyError: 'why_me'", "attempts": 2,
        "first_at": "2026-12-23T15:00:00-05:00", "last_at": "2026-12-23T15:02:00-05:00",
        "retry_at": "2026-12-23T15:04:00-05:00"}

    with SQLiteStore(followup.db) as store:  # a later success clears it
        store.clear_fault(owner=OWNER, application_id=app_id)
    assert followup("show", app_id, "--json").json()["fault"] is None
    assert len(followup("status", "--json").json()["faults"]) == 2
