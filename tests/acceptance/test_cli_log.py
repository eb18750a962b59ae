"""``followup log``: events, facts and contacts, with their effects on state and timers."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

NEW_YORK = ZoneInfo("America/New_York")

EVENTS = (
    "thank_you_sent",
    "reference_briefed",
    "referral_contacted",
    "called",
    "offer_received",
    "rejected",
    "reopened",
    "opted_out",
)

# The reminders that follow the interview go out when it ends, an hour after 15:00.
ASK = (
    "ask-decision-date",
    "notify",
    "2026-12-23T16:00:00-05:00",
    "2026-12-28T17:00:00-05:00",
    None,
)
ASK_REFERRALS = (
    "ask-for-referrals",
    "notify",
    "2026-12-23T16:00:00-05:00",
    "2026-12-28T17:00:00-05:00",
    None,
)
# Raj Patel's title is missing: a reminder to get it (it repeats; no deadline).
COLLECT = ("collect-contacts", "notify", "2026-12-23T16:00:00-05:00", None, None)
THANK_JANE = (
    "thank-you-notes",
    "notify",
    "2026-12-23T16:00:00-05:00",
    "2026-12-28T17:00:00-05:00",
    "Jane Doe",
)
THANK_RAJ = (
    "thank-you-notes",
    "notify",
    "2026-12-23T16:00:00-05:00",
    "2026-12-28T17:00:00-05:00",
    "Raj Patel",
)
# Day 10, Saturday 2 January, is no working day: due Monday the 4th.
CALL = ("follow-up-call", "notify", "2026-12-30T15:00:00-05:00", "2027-01-04T17:00:00-05:00", None)


def timers_of(items):
    """The timers, without prepare-for-interview: it is armed only when the application
    was added (by the wall clock) before the interview, so it depends on the day the
    tests run (tests/scenarios/the-interview.yaml shows it)."""
    return [(t["rule"], t["action"], t["at"], t["due"], t["contact"]) for t in items
            if t["rule"] != "prepare-for-interview"]


def assert_a_patience_nudge(timer, app, called):
    """``timer`` is patience's first nudge: 7 working days after ``called`` (at least 9
    calendar days; with New York's holidays and the send window, at most 16), inside the
    send window of a weekday."""
    assert (timer["application"], timer["rule"], timer["action"]) == (app, "patience", "notify")
    assert (timer["due"], timer["contact"]) == (None, None)
    assert timer["key"] == f"{app}/patience/4/-/0"  # counted from entry 4 of the history
    at = datetime.fromisoformat(timer["at"]).astimezone(NEW_YORK)
    assert called + timedelta(days=9) <= at <= called + timedelta(days=16), (called, timer)
    assert at.weekday() < 5, timer
    assert "09:00" <= at.strftime("%H:%M") < "18:00", timer


@pytest.fixture
def app(acme):
    """An application in New York, interviewed Wed 2026-12-23 15:00 by Jane and Raj."""
    assert timers_of(acme["timers"]) == [ASK, ASK_REFERRALS, COLLECT, THANK_JANE, THANK_RAJ, CALL]
    return acme["id"]


def test_the_way_through_the_states(followup, app):
    # Jane is thanked: her reminder goes, Raj's stays, the state stays.
    out = followup("log", app, "thank_you_sent", "--contact", "Jane Doe", "--json").json()
    assert (out["id"], out["state"], out["changed"]) == (app, "interviewed", True)
    assert timers_of(out["cancelled"]) == [THANK_JANE]
    assert out["armed"] == []

    # Saying it again is harmless.
    history = followup("show", app, "--json").json()["history"]
    again = followup("log", app, "thank_you_sent", "--contact", "Jane Doe")
    assert "nothing changed" in again.stdout
    assert followup("show", app, "--json").json()["history"] == history

    # Raj is thanked too: everyone is, so the pack moves the application on its own.
    out = followup("log", app, "thank_you_sent", "--contact", "Raj Patel", "--json").json()
    assert (out["state"], out["changed"]) == ("thanked", True)
    assert timers_of(out["cancelled"]) == [THANK_RAJ]
    shown = followup("show", app, "--json").json()
    assert shown["state"] == "thanked"
    # Still to do in `thanked`: ask when they will decide and for referrals, get Raj's
    # title, and call.
    assert timers_of(shown["timers"]) == [ASK, ASK_REFERRALS, COLLECT, CALL]
    moves = [(h["kind"], h["name"], h["contact"], h["from"], h["to"]) for h in shown["history"]]
    assert moves[1:] == [
        ("event", "thank_you_sent", "Jane Doe", "interviewed", None),
        ("event", "thank_you_sent", "Raj Patel", "interviewed", None),
        ("transition", "all-thanked", None, "interviewed", "thanked"),
    ]

    # The call is made: its reminder and the questions still open are cancelled;
    # patience starts: a nudge 7 working days after the call (by the wall clock).
    out = followup("log", app, "called", "--json").json()
    assert (out["state"], out["changed"]) == ("followed_up", True)
    assert timers_of(out["cancelled"]) == [ASK, ASK_REFERRALS, COLLECT, CALL]
    [patience] = out["armed"]
    shown = followup("show", app, "--json").json()
    assert shown["timers"] == [patience]
    call = shown["history"][-1]
    assert (call["seq"], call["kind"], call["name"], call["to"]) == (
        4,
        "event",
        "called",
        "followed_up",
    )
    assert_a_patience_nudge(patience, app, datetime.fromisoformat(call["at"]))

    # Made twice: nothing changes, and that is no error.
    again = followup("log", app, "called")
    assert "nothing changed" in again.stdout
    out = followup("log", app, "called", "--json").json()
    assert (out["state"], out["changed"], out["cancelled"], out["armed"]) == (
        "followed_up",
        False,
        [],
        [],
    )

    # An offer ends the patience; then "reopened" does not fit the state.
    out = followup("log", app, "offer_received", "--json").json()
    assert out["state"] == "offer"
    assert out["cancelled"] == [patience | {"reason": "left_state", "done_by": None,
                                            "never_done": False}]
    # Only the offer's own reminder: reply to it.
    assert [t["rule"] for t in followup("show", app, "--json").json()["timers"]] == [
        "reply-to-offer"]
    before = followup("show", app, "--json").json()
    refused = followup("log", app, "reopened", expect=2)
    assert "'reopened'" in refused.stderr
    assert "'offer'" in refused.stderr
    assert "rejected" in refused.stderr and "keep_warm" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert followup("show", app, "--json").json() == before


def test_same_key_twice_changes_nothing(followup, app):
    first = followup("log", app, "offer_received", "--key", "mail-42", "--json").json()
    assert first["changed"] is True
    second = followup("log", app, "offer_received", "--key", "mail-42", "--json").json()
    assert (second["state"], second["changed"]) == ("offer", False)


def test_a_fact_logged_again_with_its_key_is_not_changed_back(followup, app):
    followup("log", app, "--fact", "decision_expected_on=2027-01-08", "--key", "form-1")
    followup("log", app, "--fact", "decision_expected_on=2027-02-01", "--key", "form-2")
    replay = followup("log", app, "--fact", "decision_expected_on=2027-01-08", "--key",
                      "form-1")
    assert "already recorded, nothing changed" in replay.stdout
    facts = followup("show", app, "--json").json()["facts"]
    assert facts["decision_expected_on"] == "2027-02-01"


def test_unknown_event_lists_the_events(followup, app):
    before = followup("show", app, "--json").json()
    result = followup("log", app, "thank_you_snet", "--contact", "Jane Doe", expect=2)
    assert "'thank_you_snet'" in result.stderr
    for event in EVENTS:
        assert event in result.stderr
    assert followup("show", app, "--json").json() == before


def test_unknown_application(followup, app):
    before = followup("show", app, "--json").json()
    result = followup("log", "no-such-app", "called", expect=2)
    assert "'no-such-app'" in result.stderr
    assert "Traceback" not in result.stderr
    assert followup("show", app, "--json").json() == before
    assert followup("show", "no-such-app", expect=2).stdout == ""


def test_per_contact_event_needs_a_known_contact(followup, app):
    before = followup("show", app, "--json").json()
    missing = followup("log", app, "thank_you_sent", expect=2)
    assert "Jane Doe" in missing.stderr and "Raj Patel" in missing.stderr
    stranger = followup("log", app, "thank_you_sent", "--contact", "Bob Smith", expect=2)
    assert "'Bob Smith'" in stranger.stderr
    assert followup("show", app, "--json").json() == before


def test_nothing_to_log_is_a_usage_error(followup, app):
    result = followup("log", app, expect=2)
    assert "thank_you_sent" in result.stderr


def test_bad_fact_changes_nothing(followup, app):
    before = followup("show", app, "--json").json()
    result = followup("log", app, "--fact", "decision_expected_on=tomorrow", expect=2)
    assert "decision_expected_on" in result.stderr
    assert "'tomorrow'" in result.stderr
    assert "Traceback" not in result.stderr
    assert followup("show", app, "--json").json() == before


def test_fact_without_equals_is_a_usage_error(followup, app):
    before = followup("show", app, "--json").json()
    result = followup("log", app, "--fact", "decision_expected_on", expect=2)
    assert "NAME=VALUE" in result.stderr
    assert followup("show", app, "--json").json() == before


def test_decision_date_moves_the_follow_up_call(followup, app):
    out = followup("log", app, "--fact", "decision_expected_on=2027-01-08", "--json").json()
    assert out["changed"] is True
    moved_call = (
        "follow-up-call",
        "notify",
        "2027-01-11T09:00:00-05:00",
        "2027-01-12T17:00:00-05:00",
        None,
    )
    # The date is known: no need to ask for it any more.
    assert timers_of(out["cancelled"]) == [ASK]
    assert timers_of(out["armed"]) == [moved_call]
    shown = followup("show", app, "--json").json()
    assert shown["facts"]["decision_expected_on"] == "2027-01-08"
    # 1 working day after Fri 2027-01-08 is Mon 2027-01-11; the send window opens at 09:00;
    # due a working day later.
    assert timers_of(shown["timers"]) == [ASK_REFERRALS, COLLECT, THANK_JANE, THANK_RAJ,
                                          moved_call]


def test_new_interviewer_gets_a_thank_you_reminder(followup, app):
    followup("log", app, "--interviewer", "Mei Chen, Recruiter")
    shown = followup("show", app, "--json").json()
    assert shown["contacts"][-1] == {
        "name": "Mei Chen",
        "role": "interviewer",
        "title": "Recruiter",
        "email": "",
        "phone": "",
    }
    assert (
        "thank-you-notes",
        "notify",
        "2026-12-23T16:00:00-05:00",
        "2026-12-28T17:00:00-05:00",
        "Mei Chen",
    ) in timers_of(shown["timers"])


def test_new_contact_with_a_bad_fact_changes_nothing(followup, app):
    before = followup("show", app, "--json").json()
    followup(
        "log", app, "--interviewer", "Mei Chen", "--fact", "decision_expected_on=tomorrow", expect=2
    )
    assert followup("show", app, "--json").json() == before


def test_refused_event_with_a_fact_changes_nothing(followup, app):
    before = followup("show", app, "--json").json()
    followup("log", app, "reopened", "--fact", "decision_expected_on=2027-01-08", expect=2)
    assert followup("show", app, "--json").json() == before
