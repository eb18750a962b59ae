"""``followup simulate --event``: the grammar of a line (an event, facts, contacts, a
round) and the dry run of what it records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from followup import Contact, load_rules
from followup.cli._common import Usage
from followup.cli.packs import planned_event
from followup.runtime.simulate import PlannedEvent, simulate

PACK = load_rules()
CAL = PACK.calendar.build(timezone="America/New_York", country="US")


def line(text: str) -> PlannedEvent:
    return planned_event(text, PACK, CAL)


def test_an_event_with_its_contact_reads_as_before() -> None:
    e = line("2027-01-05T10:00 thank_you_sent contact=Jane Doe")
    assert (e.at, e.name, e.contact, dict(e.facts), e.contacts) == (
        datetime(2027, 1, 5, 15, tzinfo=UTC), "thank_you_sent", "Jane Doe", {}, ())
    assert line("2027-01-05T10:00 called").name == "called"


def test_a_fact_line_takes_one_or_more_facts() -> None:
    e = line("2027-01-05T10:00 fact decision_expected_on=2027-01-12")
    assert (e.name, dict(e.facts), e.contacts) == (None, {"decision_expected_on": "2027-01-12"}, ())
    e = line("2027-01-05T10:00 fact why_me=I ran the same migration twice follow_up_requested_on=2027-01-20")
    assert dict(e.facts) == {"why_me": "I ran the same migration twice",
                             "follow_up_requested_on": "2027-01-20"}


def test_an_empty_fact_value_removes_the_fact() -> None:
    assert dict(line("2027-01-05T10:00 fact decision_expected_on=").facts) == {
        "decision_expected_on": None}


def test_a_contact_line_reads_names_and_titles_as_the_options_do() -> None:
    e = line("2027-01-05T10:00 contact interviewer=Sam Lee, CTO reference=Ana Díaz")
    assert (e.name, dict(e.facts)) == (None, {})
    assert e.contacts == (Contact("Sam Lee", "interviewer", title="CTO"),
                          Contact("Ana Díaz", "reference"))
    quoted = line('2027-01-05T10:00 contact interviewer="Doe, Jane", Head of Data <jane@x.example>')
    assert quoted.contacts == (Contact("Doe, Jane", "interviewer", title="Head of Data",
                                       email="jane@x.example"),)


def test_a_round_carries_its_interview_and_interviewers() -> None:
    e = line("2027-01-10T09:00 next_round interviewed_at=2027-01-15T14:00 "
             "interviewer=Ann Park, VP Engineering interviewer=Raj Patel")
    assert e.name == "next_round"
    assert dict(e.facts) == {"interviewed_at": "2027-01-15T14:00"}
    assert e.contacts == (Contact("Ann Park", "interviewer", title="VP Engineering"),
                          Contact("Raj Patel", "interviewer"))


def test_a_key_that_is_no_fact_or_role_stays_inside_the_value() -> None:
    # "x=1" is neither a fact, a role nor contact: it is part of the title.
    e = line("2027-01-05T10:00 contact interviewer=Sam Lee, Head of x=1 tooling")
    assert e.contacts == (Contact("Sam Lee", "interviewer", title="Head of x=1 tooling"),)


@pytest.mark.parametrize(("text", "needle"), [
    ("2027-01-05T10:00", "needs a time and what happened"),
    ("yesterday thank_you_sent", "'yesterday' is not a date and time"),
    ("2027-01-05T10:00 thanked_jane", "'thanked_jane' is no event of the rule pack"),
    ("2027-01-05T10:00 thank_you_sent Jane Doe", "come KEY=VALUE pairs"),
    ("2027-01-05T10:00 fact", "a fact line gives facts only"),
    ("2027-01-05T10:00 fact interviewer=Sam Lee", "a fact line gives facts only"),
    ("2027-01-05T10:00 contact decision_expected_on=2027-01-12", "a contact line gives contacts"),
    ("2027-01-05T10:00 contact contact=Sam Lee", "give its role"),
    ("2027-01-05T10:00 called contact=A contact=B", "contact= is given twice"),
    ("2027-01-05T10:00 fact why_me=a why_me=b", "why_me is given twice"),
    ("2027-01-05T10:00 contact interviewer=", "interviewer= needs a value"),
    ("2027-01-05T10:00 contact interviewer=Sam <not an address>", "not an email address"),
])
def test_a_bad_line_names_itself_and_the_shapes(text: str, needle: str) -> None:
    with pytest.raises(Usage) as caught:
        line(text)
    message = str(caught.value)
    assert needle in message
    assert repr(text) in message  # the line, as given
    assert "WHEN fact FACT=VALUE" in message and "WHEN contact ROLE=NAME" in message


def test_the_dry_run_records_facts_and_contacts_as_entries_of_their_own() -> None:
    sim = simulate(PACK, interviewed=datetime(2027, 1, 4, 20, tzinfo=UTC),
                   timezone="America/New_York", country="US",
                   until=datetime(2027, 1, 6, tzinfo=UTC),
                   contacts=[Contact("Jane Doe", "interviewer", title="EM")],
                   events=[line("2027-01-05T10:00 fact decision_expected_on=2027-01-12"),
                           line("2027-01-05T11:00 contact reference=Ana Díaz, Former manager")])
    fact = next(e for e in sim.timeline if e.action == "fact")
    assert fact.to_json(sim.calendar) == {
        "at": "2027-01-05T10:00:00-05:00", "due": None, "rule": None, "action": "fact",
        "state": "interviewed", "contact": None, "facts": {"decision_expected_on": "2027-01-12"}}
    contact = next(e for e in sim.timeline if e.action == "contact")
    assert contact.to_json(sim.calendar) == {
        "at": "2027-01-05T11:00:00-05:00", "due": None, "rule": None, "action": "contact",
        "state": "interviewed", "contact": "Ana Díaz", "role": "reference",
        "title": "Former manager"}
    # The reference recorded is briefed; the decision date stops ask-decision-date.
    assert ("brief-references", "Ana Díaz") in {(e.rule, e.contact) for e in sim.timeline
                                                if e.action == "notify"}


def test_a_round_shows_its_interview_as_a_start_of_its_own() -> None:
    sim = simulate(PACK, interviewed=datetime(2027, 1, 4, 20, tzinfo=UTC),
                   timezone="America/New_York", country="US",
                   until=datetime(2027, 1, 14, tzinfo=UTC),
                   contacts=[Contact("Jane Doe", "interviewer", title="EM")],
                   events=[line("2027-01-08T12:00 next_round interviewed_at=2027-01-13T10:00 "
                                "interviewer=Ann Park, VP")])
    starts = [sim.calendar.local(e.at).isoformat() for e in sim.timeline if e.action == "start"]
    assert starts == ["2027-01-04T15:00:00-05:00", "2027-01-13T10:00:00-05:00"]
    [fact] = [e for e in sim.timeline if e.action == "fact"]
    assert fact.facts == {"interviewed_at": "2027-01-13T10:00:00-05:00"}  # the owner's time
    notes = [(e.rule, e.contact) for e in sim.timeline
             if e.action == "notify" and e.rule == "thank-you-notes"]
    assert notes == [("thank-you-notes", "Jane Doe"), ("thank-you-notes", "Ann Park")]


def test_a_change_that_records_nothing_is_refused() -> None:
    from followup.errors import InputError

    with pytest.raises(InputError, match="records nothing"):
        simulate(PACK, interviewed=datetime(2027, 1, 4, 20, tzinfo=UTC),
                 events=[PlannedEvent(datetime(2027, 1, 5, tzinfo=UTC), None)])
