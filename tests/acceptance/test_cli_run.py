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
        "reminders": [],
        "held": [],
        "replanned": {"applications": 0, "moved": 0},
    }

    shown = followup("show", past_interview, "--json").json()
    assert shown["timers"] == []
    notified = [
        (h["kind"], h["name"], h["contact"]) for h in shown["history"] if h["kind"] == "notified"
    ]
    assert sorted(notified, key=str) == [
        ("notified", "ask-decision-date", None),
        ("notified", "ask-for-referrals", None),
        ("notified", "follow-up-call", None),
        ("notified", "thank-you-notes", "Jane Doe"),
    ]


def test_run_once_json_is_json_even_when_reminders_go_out(followup, past_interview):
    result = followup("run", "--once", "--json")
    # ask-decision-date, thank-you-notes (Jane Doe) and follow-up-call; the owner's weekly
    # keep-looking nudge is first due a week after the application was added.
    data = json.loads(result.stdout)
    reminders = {(r["rule"], r["contact"]) for r in data.pop("reminders")}
    assert {("ask-decision-date", None), ("thank-you-notes", "Jane Doe"),
            ("follow-up-call", None)} <= reminders
    assert data == {"fired": len(reminders), "errors": {}, "delivered": len(reminders),
                    "failed": 0, "dead": 0, "held": [],
                    "replanned": {"applications": 0, "moved": 0}}


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


def _today_off_pack(followup, extra: str = "") -> None:
    """A pack whose work week leaves out today (in UTC, the owner's zone here): what came
    due long ago waits for tomorrow."""
    from datetime import UTC, datetime

    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    today = datetime.now(UTC).weekday()
    workweek = ", ".join(d for i, d in enumerate(days) if i != today)
    pack = followup.write("today-off.yaml", f"""
        version: 1
        name: today-off
        extends: after-interview
        calendar:
          workweek: [{workweek}]
          send_window: null
        {extra}""")
    followup.env["FOLLOWUP_RULES"] = str(pack)
    followup("init", "--timezone", "UTC")
    followup("add", "--company", "Acme", "--role", "Engineer", "--interviewed",
             "2020-01-06T10:00", "--interviewer", "Jane Doe, CTO")


def test_run_once_says_what_is_held_on_a_day_off_and_until_when(followup):
    from datetime import UTC, datetime, timedelta

    _today_off_pack(followup)
    result = followup("run", "--once")
    assert result.stdout == ""  # nothing went out ...
    assert "fired 0 reminders" in result.stderr
    # ... and it says why, and until when, instead of saying nothing.
    today = datetime.now(UTC)
    tomorrow = (today + timedelta(days=1)).strftime("%a %Y-%m-%d 00:00")
    assert f"{today:%A} {today:%Y-%m-%d} is not a working day" in result.stderr
    assert "thank-you-notes — Jane Doe" in result.stderr
    assert f"until {tomorrow}" in result.stderr
    data = followup("run", "--once", "--json").json()
    assert data["fired"] == 0
    held = {(h["rule"], h["contact"]) for h in data["held"]}
    assert ("thank-you-notes", "Jane Doe") in held
    assert {h["until"] for h in data["held"]} == {
        (today + timedelta(days=1)).strftime("%Y-%m-%dT00:00:00+00:00")}


def test_the_agenda_says_what_is_held_and_until_when(followup):
    from datetime import UTC, datetime, timedelta

    _today_off_pack(followup)
    today = datetime.now(UTC)
    tomorrow = today + timedelta(days=1)
    why = f"{today:%A} {today:%Y-%m-%d} is not a working day"
    lines = followup("agenda").stdout.splitlines()
    [line] = [x for x in lines if "thank-you-notes" in x and "Jane Doe" in x]
    assert line.startswith("overdue "), line  # its deadline passed long ago
    assert line.endswith(f"(held until {tomorrow:%a %Y-%m-%d} 00:00: {why})"), line
    assert [x for x in lines if "(all applications)" in x and "[" not in x], lines
    items = followup("agenda", "--json").json()
    [item] = [i for i in items if i["rule"] == "thank-you-notes"]
    assert (item["status"], item["overdue"], item["due_now"]) == ("overdue", True, True)
    assert item["held"] == {"until": f"{tomorrow:%Y-%m-%d}T00:00:00+00:00", "reason": why}
    later = [i for i in items if not i["due_now"]]
    assert later and all(i["held"] is None for i in later)


def test_run_once_names_the_quiet_hours_that_hold_a_reminder(followup, past_interview):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    span = f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=1):%H:%M}"
    followup("settings", "--quiet-hours", span)
    data = followup("run", "--once", "--json").json()
    assert data["fired"] == 0
    assert data["held"], data
    assert {h["reason"] for h in data["held"]} == {f"quiet hours {span}"}
    # When they end, it goes.
    assert {h["until"][11:16] for h in data["held"]} == {span[-5:]}


def test_run_once_reports_what_fired_and_what_waits_for_the_digest(followup, past_interview):
    from datetime import UTC, datetime, timedelta

    digest = f"{datetime.now(UTC) + timedelta(hours=2):%H:%M}"
    followup("settings", "--digest", digest)
    result = followup("run", "--once")
    fired = [line for line in result.stderr.splitlines() if line.startswith("  ")
             and "until" not in line]
    assert f"fired {len(fired)} reminders:" in result.stderr
    assert "  thank-you-notes — Jane Doe: Thank Jane Doe for the interview at Acme" in fired
    held = [line for line in result.stderr.splitlines() if f"your daily digest at {digest}" in line]
    assert len(held) == len(fired)  # each waits for the digest
