"""``followup simulate``: the dry run, held to its contract in DESIGN.md."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

BASE = (
    "simulate",
    "--interviewed",
    "2026-12-23T15:00",
    "--tz",
    "America/New_York",
    "--country",
    "US",
    "--subdivision",
    "NY",
)
JANE = ("--interviewer", "Jane Doe, Engineering Manager")
CONTRACT_KEYS = {"at", "due", "rule", "action", "state", "contact"}
NEW_YORK = ZoneInfo("America/New_York")
INTERVIEW = datetime(2026, 12, 23, 15, 0, tzinfo=NEW_YORK)


def simulate(followup, *args):
    return followup(*BASE, *args, "--json").json()


def notes(timeline):
    """(rule, contact, at, due) of each reminder."""
    return [
        (e["rule"], e["contact"], e["at"], e["due"]) for e in timeline if e["action"] == "notify"
    ]


def only(timeline, *rules):
    """The reminders of these rules, as ``notes`` shows them."""
    return [n for n in notes(timeline) if n[0] in rules]


def assert_in_time_order(timeline):
    ats = [datetime.fromisoformat(e["at"]) for e in timeline]
    assert ats == sorted(ats), [e["at"] for e in timeline]


def assert_new_york_offset(text):
    """An instant written with the offset New York had at that instant."""
    instant = datetime.fromisoformat(text)
    assert instant.utcoffset() is not None, text
    assert instant.utcoffset() == instant.astimezone(NEW_YORK).utcoffset(), text


def weekly_keep_looking(first, last):
    """keep-looking's weekly nudges, weeks ``first``..``last`` after the interview, at the
    interview's local time of day (Python adds days to wall-clock time, as the calendar does)."""
    return [
        ("keep-looking", None, (INTERVIEW + timedelta(weeks=n)).isoformat(), None)
        for n in range(first, last + 1)
    ]


def test_the_contract(followup):
    timeline = simulate(followup, *JANE)
    assert isinstance(timeline, list)
    assert timeline
    for entry in timeline:
        assert set(entry) >= CONTRACT_KEYS, entry
        assert_new_york_offset(entry["at"])
        if entry["due"] is not None:
            assert_new_york_offset(entry["due"])
            # A deadline of N working days ends on its own day, never at midnight.
            assert datetime.fromisoformat(entry["due"]).time().isoformat() != "00:00:00", entry
        assert entry["state"] == "interviewed"
    assert_in_time_order(timeline)
    assert notes(timeline) == [
        # No decision date was recorded at the interview: ask for one, by the same deadline.
        ("ask-decision-date", None, "2026-12-23T16:00:00-05:00", "2026-12-28T17:00:00-05:00"),
        # No referral named at the interview: ask for one.
        ("ask-for-referrals", None, "2026-12-23T16:00:00-05:00", "2026-12-28T17:00:00-05:00"),
        # When the interview ends (an hour after 15:00). Two working days after Wed 23rd:
        # Thu 24th, then Mon 28th (Fri 25th is Christmas).
        ("thank-you-notes", "Jane Doe", "2026-12-23T16:00:00-05:00", "2026-12-28T17:00:00-05:00"),
        # Day 10 is Saturday 2 January: due the next working day, Monday the 4th.
        ("follow-up-call", None, "2026-12-30T15:00:00-05:00", "2027-01-04T17:00:00-05:00"),
        # One application in play, fewer than three: a nudge every week for the 180 days the
        # dry run covers, at 15:00 New York time before and after the clocks change (Mar 14).
        *weekly_keep_looking(1, 25),
    ]
    assert notes(timeline)[-1][2] == "2027-06-16T15:00:00-04:00"
    assert {e["subject"] for e in timeline if e["rule"] == "keep-looking"} == {
        "Keep looking: 1 application in play"
    }
    # A dry run touches no store.
    assert not followup.db.exists()


def test_a_thank_you_moves_the_state(followup):
    timeline = simulate(
        followup, *JANE, "--event", "2026-12-24T10:00 thank_you_sent contact=Jane Doe"
    )
    assert_in_time_order(timeline)
    [event] = [e for e in timeline if e["action"] == "event"]
    assert (event["at"], event["event"], event["contact"], event["rule"]) == (
        "2026-12-24T10:00:00-05:00",
        "thank_you_sent",
        "Jane Doe",
        None,
    )
    [move] = [e for e in timeline if e["action"] == "transition"]
    assert (move["at"], move["rule"], move["state"]) == (
        "2026-12-24T10:00:00-05:00",
        "all-thanked",
        "thanked",
    )
    index = timeline.index(move)
    assert {e["state"] for e in timeline[index:]} == {"thanked"}
    assert {e["state"] for e in timeline if e["at"] < "2026-12-24"} == {"interviewed"}
    # Jane was thanked once; the follow-up call still comes, now in `thanked`.
    assert only(timeline, "thank-you-notes", "follow-up-call") == [
        ("thank-you-notes", "Jane Doe", "2026-12-23T16:00:00-05:00", "2026-12-28T17:00:00-05:00"),
        ("follow-up-call", None, "2026-12-30T15:00:00-05:00", "2027-01-04T17:00:00-05:00"),
    ]
    assert timeline[-1]["state"] == "thanked"


def test_an_offer_cancels_the_follow_up_call(followup):
    timeline = simulate(followup, *JANE, "--event", "2026-12-28T10:00 offer_received")
    assert_in_time_order(timeline)
    cancels = [e for e in timeline if e["action"] == "cancel"]
    assert [(e["rule"], e["at"], e["state"]) for e in cancels] == [
        ("follow-up-call", "2026-12-28T10:00:00-05:00", "offer")
    ]
    # The application's own reminders: those that went out before the offer, no call, and
    # the offer's own: reply to it (no reply-by date recorded, so no deadline).
    assert [n[0] for n in notes(timeline) if n[0] != "keep-looking"] == [
        "ask-decision-date",
        "ask-for-referrals",
        "thank-you-notes",
        "reply-to-offer",
    ]
    assert only(timeline, "reply-to-offer") == [
        ("reply-to-offer", None, "2026-12-28T10:00:00-05:00", None)]
    # After it nothing more: with an offer to weigh and nothing else in play, no nudge to
    # keep looking, weekly or monthly.
    assert [e for e in timeline if e["at"] > "2026-12-28T10:00:00-05:00"] == []
    assert timeline[-1]["state"] == "offer"


def test_a_decision_date_moves_the_follow_up_call(followup):
    timeline = simulate(followup, *JANE, "--fact", "decision_expected_on=2027-01-08")
    # The working day after Fri 2027-01-08 is Mon 2027-01-11; the send window opens at 09:00.
    # It is due a working day later, Tuesday: a window, not the same afternoon.
    assert only(timeline, "follow-up-call") == [
        ("follow-up-call", None, "2027-01-11T09:00:00-05:00", "2027-01-12T17:00:00-05:00")
    ]
    # The date is known: no reminder to ask for it.
    assert only(timeline, "ask-decision-date") == []


def test_without_an_interviewer_a_reminder_to_record_them(followup):
    timeline = simulate(followup, "--until", "2026-12-29")
    assert notes(timeline) == [
        ("ask-decision-date", None, "2026-12-23T16:00:00-05:00", "2026-12-28T17:00:00-05:00"),
        ("ask-for-referrals", None, "2026-12-23T16:00:00-05:00", "2026-12-28T17:00:00-05:00"),
        # No one to thank yet: when the interview ends and on the next two working days
        # (Christmas Day, Friday the 25th, is none), a reminder to record them.
        ("collect-contacts", None, "2026-12-23T16:00:00-05:00", None),
        ("collect-contacts", None, "2026-12-24T16:00:00-05:00", None),
        ("collect-contacts", None, "2026-12-28T16:00:00-05:00", None),
    ]


def test_human_output_names_the_rules(followup):
    result = followup(*BASE, *JANE)
    lines = result.stdout.splitlines()
    [thanks] = [line for line in lines if "thank-you-notes" in line]
    assert thanks.startswith("Wed 2026-12-23 16:00 -0500")  # when the interview ends
    assert "Jane Doe" in thanks
    assert "Mon 2026-12-28 17:00" in thanks
    [call] = [line for line in lines if "follow-up-call" in line]
    assert call.startswith("Wed 2026-12-30 15:00 -0500")


def test_a_user_pack_changes_only_what_it_says(followup):
    pack = followup.write(
        "one-day.yaml",
        """
        version: 1
        name: one-day
        extends: after-interview
        rules:
          - name: thank-you-notes
            due: 1 working day after interviewed_at
    """,
    )
    args = (*JANE, "--interviewer", "Raj Patel", "--fact", "decision_expected_on=2027-01-08")
    default = simulate(followup, *args)
    mine = simulate(followup, "--rules", str(pack), *args)
    assert len(mine) == len(default)
    thanked = 0
    for ours, theirs in zip(mine, default, strict=True):
        if ours["rule"] == "thank-you-notes" and ours["action"] == "notify":
            assert theirs["due"] == "2026-12-28T17:00:00-05:00"
            assert ours["due"] == "2026-12-24T17:00:00-05:00"
            assert {**ours, "due": theirs["due"]} == theirs
            thanked += 1
        else:
            assert ours == theirs
    assert thanked == 2


@pytest.mark.parametrize(
    ("subdivision", "due"),
    [
        ("BY", "2027-01-08T17:00:00+01:00"),  # Epiphany, Wed 2027-01-06, is a holiday in Bavaria
        ("BE", "2027-01-07T17:00:00+01:00"),  # and a working day in Berlin
    ],
)
def test_regional_holidays(followup, subdivision, due):
    timeline = followup(
        "simulate",
        "--interviewed",
        "2027-01-05T10:00",
        "--tz",
        "Europe/Berlin",
        "--country",
        "DE",
        "--subdivision",
        subdivision,
        "--interviewer",
        "Anna Schmidt",
        "--until",
        "2027-01-31",
        "--json",
    ).json()
    assert [n for n in notes(timeline) if n[0] == "thank-you-notes"] == [
        ("thank-you-notes", "Anna Schmidt", "2027-01-05T11:00:00+01:00", due)
    ]


def test_daylight_saving_does_not_move_the_local_time(followup):
    # Clocks in New York go forward on Sun 2027-03-14.
    timeline = followup(
        "simulate",
        "--interviewed",
        "2027-03-10T15:00",
        "--tz",
        "America/New_York",
        "--country",
        "US",
        "--subdivision",
        "NY",
        "--interviewer",
        "Jane Doe",
        "--json",
    ).json()
    assert only(timeline, "thank-you-notes", "follow-up-call") == [
        ("thank-you-notes", "Jane Doe", "2027-03-10T16:00:00-05:00", "2027-03-12T17:00:00-05:00"),
        # Day 10 is Saturday the 20th: due the next working day.
        ("follow-up-call", None, "2027-03-17T15:00:00-04:00", "2027-03-22T17:00:00-04:00"),
    ]
    # The weekly nudge keeps the interview's local time of day too.
    weekly = only(timeline, "keep-looking")
    assert weekly[0][2] == "2027-03-17T15:00:00-04:00"
    assert {datetime.fromisoformat(n[2]).strftime("%a %H:%M %z") for n in weekly} == {
        "Wed 15:00 -0400"
    }


def test_without_close_of_business_a_deadline_ends_before_midnight(followup):
    pack = followup.write(
        "no-cob.yaml",
        """
        version: 1
        name: no-cob
        extends: after-interview
        calendar:
          close_of_business: null
    """,
    )
    timeline = simulate(followup, "--rules", str(pack), *JANE)
    [thanks] = [n for n in notes(timeline) if n[0] == "thank-you-notes"]
    due = datetime.fromisoformat(thanks[3])
    assert due.date().isoformat() == "2026-12-28"
    assert (due.hour, due.minute) == (23, 59)


def test_until_a_bare_date_includes_that_day(followup):
    timeline = simulate(followup, *JANE, "--until", "2026-12-30")
    assert [n[0] for n in notes(timeline)] == [
        "ask-decision-date",
        "ask-for-referrals",
        "thank-you-notes",
        "follow-up-call",
        "keep-looking",
    ]
    assert timeline[-1]["at"] == "2026-12-30T15:00:00-05:00"
    timeline = simulate(followup, *JANE, "--until", "2026-12-29")
    assert [n[0] for n in notes(timeline)] == [
        "ask-decision-date", "ask-for-referrals", "thank-you-notes"]


def test_an_event_before_the_interview_is_refused_or_in_order(followup):
    result = followup(
        *BASE, *JANE, "--event", "2026-12-22T10:00 offer_received", "--json", expect=None
    )
    if result.returncode == 0:
        assert_in_time_order(result.json())
    else:
        assert result.returncode == 2
        assert "offer_received" in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--event", "2026-12-24T10:00 reopened"), "'reopened'"),
        (("--event", "2026-12-24T10:00 thank_you_sent contact=Bob Smith"), "'Bob Smith'"),
        (("--event", "yesterday"), "--event"),
        (("--fact", "decision_expected_on=soon"), "'soon'"),
        (("--tz", "Mars/Olympus_Mons"), "Mars/Olympus_Mons"),
    ],
)
def test_bad_input_is_exit_2(followup, args, needle):
    result = followup(*BASE, *JANE, *args, expect=2)
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_bad_user_pack_is_exit_2_with_its_location(followup):
    pack = followup.write(
        "mine.yaml",
        """
        version: 1
        name: mine
        extends: after-interview
        rules:
          - name: thank-you-notes
            while: interviewd
    """,
    )
    result = followup(*BASE, *JANE, "--rules", str(pack), expect=2)
    assert result.stderr.startswith(f"{pack}:6:12: ")
    assert result.stdout == ""


def test_from_shows_what_comes_before_the_interview(followup):
    timeline = simulate(followup, *JANE, "--from", "2026-12-22T16:00", "--until", "2026-12-23")
    assert_in_time_order(timeline)
    assert [(e["action"], e["rule"], e["at"]) for e in timeline[:3]] == [
        ("added", None, "2026-12-22T16:00:00-05:00"),
        # The morning of the interview, when the send window opens; due when it starts.
        ("notify", "prepare-for-interview", "2026-12-23T09:00:00-05:00"),
        ("start", None, "2026-12-23T15:00:00-05:00"),
    ]
    assert timeline[1]["due"] == "2026-12-23T15:00:00-05:00"
    # Without --from the application is added at the interview: nothing lies ahead.
    assert only(simulate(followup, *JANE, "--until", "2026-12-23"), "prepare-for-interview") == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--from", "2026-12-23T15:01"), "comes after the interview"),
        (("--from", "2026-12-22T12:00", "--event", "2026-12-22T10:00 called"),
         "before the application is added"),
    ],
)
def test_from_after_the_interview_or_an_event_before_it_is_exit_2(followup, args, needle):
    result = followup(*BASE, *JANE, *args, expect=2)
    assert needle in result.stderr
    assert result.stdout == ""


def test_format_svg_draws_the_timeline(followup):
    import xml.etree.ElementTree as ET

    shown = simulate(followup, *JANE, "--until", "2027-01-31")
    result = followup(*BASE, *JANE, "--until", "2027-01-31", "--format", "svg")
    root = ET.fromstring(result.stdout)
    entries = root.findall(".//{http://www.w3.org/2000/svg}g[@class='entry']")
    assert len(entries) == len(shown)
    assert [g.get("data-action") for g in entries] == [e["action"] for e in shown]
