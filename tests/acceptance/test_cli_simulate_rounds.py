"""Interview rounds at the command line: ``followup simulate --event`` with facts,
contacts and a second round, its bad lines, the round in ``graph``, and ``log`` / ``show``
of a second round on a real store."""

from __future__ import annotations

import pytest

from tests.acceptance.test_cli_simulate import CONTRACT_KEYS, assert_in_time_order

BASE = ("simulate", "--interviewed", "2027-01-04T15:00", "--tz", "America/New_York",
        "--country", "US", "--subdivision", "NY", "--interviewer",
        "Jane Doe, Engineering Manager", "--until", "2027-01-26")
ROUND = ("--event", "2027-01-05T10:00 thank_you_sent contact=Jane Doe",
         "--event", "2027-01-05T10:00 fact decision_expected_on=2027-01-07",
         "--event", "2027-01-06T09:00 contact reference=Ana Díaz, Former manager",
         "--event", "2027-01-08T12:00 next_round interviewed_at=2027-01-13T10:00 "
                    "decision_expected_on= interviewer=Ann Park, VP Engineering",
         "--event", "2027-01-14T09:30 thank_you_sent contact=Ann Park")


def test_simulate_takes_facts_contacts_and_a_round(followup):
    timeline = followup(*BASE, *ROUND, "--json").json()
    assert_in_time_order(timeline)
    assert all(set(e) >= CONTRACT_KEYS for e in timeline)
    facts = [(e["at"], e["facts"]) for e in timeline if e["action"] == "fact"]
    assert facts == [
        ("2027-01-05T10:00:00-05:00", {"decision_expected_on": "2027-01-07"}),
        ("2027-01-08T12:00:00-05:00", {"interviewed_at": "2027-01-13T10:00:00-05:00",
                                       "decision_expected_on": None}),
    ]
    contacts = [(e["at"], e["contact"], e["role"], e["title"], e["rule"]) for e in timeline
                if e["action"] == "contact"]
    assert contacts == [
        ("2027-01-06T09:00:00-05:00", "Ana Díaz", "reference", "Former manager", None),
        ("2027-01-08T12:00:00-05:00", "Ann Park", "interviewer", "VP Engineering", None),
    ]
    assert [e["at"] for e in timeline if e["action"] == "start"] == [
        "2027-01-04T15:00:00-05:00", "2027-01-13T10:00:00-05:00"]
    notes = [(e["rule"], e["contact"], e["at"], e["due"]) for e in timeline
             if e["action"] == "notify"]
    # Each round's interviewers, within two working days of their own interview: Jane
    # once, for the first; Ann for the second.
    assert [n for n in notes if n[0] == "thank-you-notes"] == [
        ("thank-you-notes", "Jane Doe", "2027-01-04T16:00:00-05:00", "2027-01-06T17:00:00-05:00"),
        ("thank-you-notes", "Ann Park", "2027-01-13T11:00:00-05:00", "2027-01-15T17:00:00-05:00"),
    ]
    # The call: the first round's (the day after its decision date, 7 January) went out;
    # the second round's counts from the second interview (its decision date removed).
    assert [n for n in notes if n[0] == "follow-up-call"] == [
        ("follow-up-call", None, "2027-01-08T09:00:00-05:00", "2027-01-11T17:00:00-05:00"),
        ("follow-up-call", None, "2027-01-20T10:00:00-05:00", "2027-01-25T17:00:00-05:00"),
    ]
    # And the decision date is asked for again in the second round.
    assert [n[2] for n in notes if n[0] == "ask-decision-date"] == [
        "2027-01-04T16:00:00-05:00", "2027-01-13T11:00:00-05:00"]
    states = [(e["action"], e.get("event"), e["rule"], e["state"]) for e in timeline
              if e["action"] in ("event", "transition")]
    assert states == [
        ("event", "thank_you_sent", None, "interviewed"),
        ("transition", None, "all-thanked", "thanked"),
        ("event", "next_round", None, "interviewed"),
        ("event", "thank_you_sent", None, "interviewed"),
        ("transition", None, "all-thanked", "thanked"),
    ]


def test_simulate_lists_facts_and_contacts_in_text(followup):
    text = followup(*BASE, *ROUND).stdout
    assert "fact       decision_expected_on=2027-01-07  [thanked]" in text
    assert "contact    reference — Ana Díaz, Former manager  [thanked]" in text
    assert "event      next_round  [interviewed]" in text


@pytest.mark.parametrize(("line", "needle"), [
    ("2027-01-08T12:00 next_round interviewed_at=soon", "'soon'"),
    ("2027-01-08T12:00 second_round interviewed_at=2027-01-13T10:00",
     "'second_round' is no event of the rule pack"),
    ("2027-01-08T12:00 fact", "a fact line gives facts only"),
    ("2027-01-08T12:00 contact Ann Park", "come KEY=VALUE pairs"),
    ("2027-01-08 12:00 next_round", "is no event of the rule pack"),
])
def test_a_bad_event_line_is_exit_2_naming_it(followup, line, needle):
    result = followup(*BASE, "--event", line, expect=2)
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    if "'soon'" not in needle:  # a value the fact refuses is told by the fact's own check
        assert repr(line) in result.stderr
        assert "WHEN fact FACT=VALUE" in result.stderr


def test_the_graph_shows_the_round(followup):
    mermaid = followup("graph").stdout
    assert "thanked --> interviewed: next_round" in mermaid
    assert "followed_up --> interviewed: next_round" in mermaid
    machine = followup("graph", "--json").json()
    [event] = [e for e in machine["events"] if e["name"] == "next_round"]
    assert (event["from"], event["to"]) == (["interviewed", "thanked", "followed_up"],
                                           "interviewed")


def test_log_and_show_a_second_round(followup, acme):
    app = acme["id"]
    followup("log", app, "thank_you_sent", "--contact", "Jane Doe")
    followup("log", app, "thank_you_sent", "--contact", "Raj Patel")
    out = followup("log", app, "next_round", "--fact", "interviewed_at=2027-01-13T10:00",
                   "--interviewer", "Ann Park, VP Engineering", "--json").json()
    assert out["state"] == "interviewed"
    thanks = sorted(t["contact"] for t in out["armed"] if t["rule"] == "thank-you-notes")
    assert thanks == ["Ann Park"]  # Jane and Raj were thanked for the first round
    # Raj interviews again: recorded again in this round, he is thanked again.
    again = followup("log", app, "--interviewer", "Raj Patel", "--json").json()
    assert [t["contact"] for t in again["armed"] if t["rule"] == "thank-you-notes"] == [
        "Raj Patel"]
    shown = followup("show", app, "--json").json()
    rounds = shown["rounds"]
    assert [(r["round"], r["event"], r["contacts"]) for r in rounds] == [
        (1, None, ["Jane Doe", "Raj Patel"]),
        (2, "next_round", ["Ann Park", "Raj Patel"]),
    ]
    assert rounds[0]["facts"]["interviewed_at"] == "Wed 2026-12-23 15:00"
    assert rounds[1]["facts"] == {"interviewed_at": "Wed 2027-01-13 10:00"}
    # The history keeps both rounds: the first round's notes to Jane and Raj are there.
    events = [(h["name"], h["contact"]) for h in shown["history"] if h["kind"] == "event"]
    assert events == [("thank_you_sent", "Jane Doe"), ("thank_you_sent", "Raj Patel"),
                      ("next_round", None)]
    text = followup("show", app).stdout
    assert "rounds:\n  1. " in text
    assert "interviewed_at=Wed 2026-12-23 15:00; met Jane Doe, Raj Patel" in text
    assert "(next_round): interviewed_at=Wed 2027-01-13 10:00; met Ann Park, Raj Patel" in text
