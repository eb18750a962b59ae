"""``followup run``: the reminder daemon, one pass at a time."""

from __future__ import annotations

import json

import pytest

JANE_SUBJECT = "Thank Jane Doe for the interview at Acme"
CALL_SUBJECT = "Call Acme about the Engineer role"
ASK_SUBJECT = "Ask Acme when they will decide"


@pytest.fixture
def past_interview(followup):
    """A store whose application was interviewed long ago: every reminder is due.

    Its pack is the default one sending at any hour of any day, so what a pass sends does
    not depend on the time of day the tests run at."""
    pack = followup.write(
        "any-hour.yaml",
        """
        version: 1
        name: any-hour
        extends: after-interview
        calendar:
          workweek: [mon, tue, wed, thu, fri, sat, sun]
          send_window: null
        """,
    )
    followup.env["FOLLOWUP_RULES"] = str(pack)
    followup("init", "--timezone", "UTC")
    return followup(
        "add",
        "--company",
        "Acme",
        "--role",
        "Engineer",
        "--interviewed",
        "2020-01-06T10:00",
        "--interviewer",
        "Jane Doe, Engineering Manager",
        "--json",
    ).json()["id"]


def test_run_once_delivers_each_reminder_once(followup, past_interview):
    first = followup("run", "--once")
    out = first.stdout
    assert out.count(JANE_SUBJECT) == 1, out
    [line] = [line for line in out.splitlines() if JANE_SUBJECT in line]
    # Due by the end of the 2nd working day after Mon 2020-01-06 10:00 UTC.
    assert "2020-01-08" in line and "17:00" in line, line
    assert "Dear Jane Doe," in out
    assert "as Engineering Manager" in out
    assert out.count(CALL_SUBJECT) == 1, out
    # No decision date was recorded: a reminder to ask for one, due with the notes.
    assert out.count(ASK_SUBJECT) == 1, out
    [line] = [line for line in out.splitlines() if ASK_SUBJECT in line]
    assert "2020-01-08" in line and "17:00" in line, line
    assert "Traceback" not in first.stderr

    second = followup("run", "--once")
    assert second.stdout == ""
    assert str(followup.db) in second.stderr  # it says which store it watches
    assert followup("run", "--once", "--json").json() == {
        "fired": 0,
        "delivered": 0,
        "failed": 0,
        "dead": 0,
        "errors": {},
    }

    shown = followup("show", past_interview, "--json").json()
    assert shown["timers"] == []
    notified = [
        (h["kind"], h["name"], h["contact"]) for h in shown["history"] if h["kind"] == "notified"
    ]
    assert sorted(notified, key=str) == [
        ("notified", "ask-decision-date", None),
        ("notified", "follow-up-call", None),
        ("notified", "thank-you-notes", "Jane Doe"),
    ]


def test_run_once_json_is_json_even_when_reminders_go_out(followup, past_interview):
    result = followup("run", "--once", "--json")
    # ask-decision-date, thank-you-notes (Jane Doe) and follow-up-call; the owner's weekly
    # keep-looking nudge is first due a week after the application was added.
    assert json.loads(result.stdout) == {
        "fired": 3, "errors": {}, "delivered": 3, "failed": 0, "dead": 0
    }


def test_demo_once(followup, tmp_path):
    result = followup("run", "--demo", "--once", cwd=tmp_path, env={"FOLLOWUP_DB": None})
    assert (tmp_path / ".followup" / "demo.db").is_file()
    assert not followup.db.exists()
    out = result.stdout
    assert "Thank Jane Doe for the interview at Acme Rockets" in out
    assert "Thank Hank Scorpio for the interview at Globex" in out
    # Raj Patel was thanked in the demo's history: no reminder for him.
    assert "Raj Patel" not in out
    assert "demo:" in result.stderr

    again = followup("run", "--demo", "--once", cwd=tmp_path, env={"FOLLOWUP_DB": None})
    assert "Thank Jane Doe" not in again.stdout
    assert "Thank Hank Scorpio" not in again.stdout
