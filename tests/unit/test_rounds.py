"""Interview rounds in the engine (followup.runtime.rounds): a move into the initial state
begins a round, with its own reminders and its own people."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from followup import Contact, Engine, FakeClock, MemoryStore
from followup.runtime.rounds import rounds_of

START = datetime(2027, 1, 4, 21, tzinfo=UTC)  # Mon 16:00 in New York, the interview's end


@pytest.fixture
def engine() -> Engine:
    e = Engine(store=MemoryStore(), clock=FakeClock(START), channels=[])
    e.set_owner("o", timezone="America/New_York", country="US")
    return e


def add(engine: Engine) -> str:
    return engine.add_application(
        owner="o", company="Acme", role="Engineer", id="acme",
        facts={"interviewed_at": "2027-01-04T15:00"},
        contacts=[Contact("Jane Doe", "interviewer", title="EM")]).id


def pending(engine: Engine, app: str, rule: str) -> list[tuple[str | None, str]]:
    """(contact, local fire time) of each timer of ``rule``."""
    cal = engine.calendar("o")
    return [(t.contact, cal.local(t.fire_at).strftime("%a %d %H:%M"))
            for t in engine.timers(app) if t.rule == rule]


def later(engine: Engine, iso: str) -> None:
    clock = engine.clock
    assert isinstance(clock, FakeClock)
    clock.set(datetime.fromisoformat(iso))


def test_a_round_from_the_initial_state_itself_begins_anew(engine: Engine) -> None:
    app = add(engine)
    engine.run_due()  # round one's notes go out
    later(engine, "2027-01-06T15:00:00+00:00")
    out = engine.log(app, event="next_round", facts={"interviewed_at": "2027-01-08T10:00"},
                     contacts=[Contact("Ann Park", "interviewer", title="VP")])
    [entry] = [h for h in out.entries if h.kind == "event"]
    assert (entry.from_state, entry.to_state) == ("interviewed", "interviewed")
    # Jane had her note in round one and is not asked again, though never marked thanked;
    # Ann is thanked an hour after the second interview. The call counts from it too.
    assert pending(engine, app, "thank-you-notes") == [("Ann Park", "Fri 08 11:00")]
    assert pending(engine, app, "follow-up-call") == [(None, "Fri 15 10:00")]
    # Every stay begins again: the timers belong to the round's entry.
    assert all(f"/{entry.seq}/" in t.key for t in engine.timers(app) if t.action == "notify"
               and t.rule != "follow-up-referrals")


def test_everyone_of_the_round_thanked_moves_it_not_the_earlier_rounds(engine: Engine) -> None:
    app = add(engine)
    later(engine, "2027-01-06T15:00:00+00:00")
    engine.log(app, event="next_round", facts={"interviewed_at": "2027-01-08T10:00"},
               contacts=[Contact("Ann Park", "interviewer", title="VP")])
    assert engine.record(app, "thank_you_sent", contact="Ann Park").application.state == "thanked"


def test_someone_met_again_is_thanked_again_when_given_with_the_round(engine: Engine) -> None:
    app = add(engine)
    engine.record(app, "thank_you_sent", contact="Jane Doe")
    later(engine, "2027-01-06T15:00:00+00:00")
    # Given unchanged with the round's event: the event goes first, so she is the round's.
    out = engine.log(app, event="next_round", facts={"interviewed_at": "2027-01-08T10:00"},
                     contacts=[Contact("Jane Doe", "interviewer", title="EM")])
    assert [h.kind for h in out.entries] == ["event", "contact", "facts"]
    assert pending(engine, app, "thank-you-notes") == [("Jane Doe", "Fri 08 11:00")]
    assert engine.record(app, "thank_you_sent", contact="Jane Doe").application.state == "thanked"


def test_someone_met_again_is_thanked_again_once_recorded_in_the_round(engine: Engine) -> None:
    app = add(engine)
    engine.record(app, "thank_you_sent", contact="Jane Doe")
    later(engine, "2027-01-06T15:00:00+00:00")
    engine.log(app, event="next_round", facts={"interviewed_at": "2027-01-08T10:00"})
    assert pending(engine, app, "thank-you-notes") == []
    out = engine.add_contact(app, Contact("Jane Doe", "interviewer", title="EM"))
    assert out.changed
    assert pending(engine, app, "thank-you-notes") == [("Jane Doe", "Fri 08 11:00")]
    # In the round now, the same again changes nothing.
    assert not engine.add_contact(app, Contact("Jane Doe", "interviewer", title="EM")).changed
    # And her thank-you for this round can be recorded, though she had one in round one.
    assert engine.record(app, "thank_you_sent", contact="Jane Doe").application.state == "thanked"


def test_an_earlier_rounds_decision_date_no_longer_sets_the_call(engine: Engine) -> None:
    app = add(engine)
    engine.set_facts(app, {"decision_expected_on": "2027-01-06"})
    assert pending(engine, app, "follow-up-call") == [(None, "Thu 07 09:00")]
    later(engine, "2027-01-07T20:00:00+00:00")
    engine.log(app, event="next_round", facts={"interviewed_at": "2027-01-11T10:00"})
    # Day 7 of the new round is Monday 18th, Martin Luther King Jr. Day: Tuesday 09:00.
    assert pending(engine, app, "follow-up-call") == [(None, "Tue 19 09:00")]
    # A date recorded in this round sets it again.
    engine.set_facts(app, {"decision_expected_on": "2027-01-13"})
    assert pending(engine, app, "follow-up-call") == [(None, "Thu 14 09:00")]


def test_a_round_without_a_new_interview_time_arms_nothing_from_the_old_one(
        engine: Engine) -> None:
    app = add(engine)
    later(engine, "2027-01-07T20:00:00+00:00")
    engine.record(app, "next_round")
    assert pending(engine, app, "thank-you-notes") == []
    assert pending(engine, app, "follow-up-call") == []


def test_undoing_the_round_brings_back_the_first(engine: Engine) -> None:
    app = add(engine)
    before = {t.key for t in engine.timers(app)}
    engine.record(app, "next_round")
    assert {t.key for t in engine.timers(app)} != before
    engine.undo(app)
    assert {t.key for t in engine.timers(app)} == before


def test_rounds_of_lists_each_round_with_its_facts_and_people(engine: Engine) -> None:
    app = add(engine)
    later(engine, "2027-01-06T15:00:00+00:00")
    engine.log(app, event="next_round", facts={"interviewed_at": "2027-01-08T10:00"},
               contacts=[Contact("Ann Park", "interviewer", title="VP")])
    first, second = rounds_of(engine.history(app), "interviewed")
    assert (first.number, first.event, first.contacts) == (1, None, ("Jane Doe",))
    assert (second.number, second.event, second.contacts) == (2, "next_round", ("Ann Park",))
    assert second.began == datetime(2027, 1, 6, 15, tzinfo=UTC)
    assert second.facts == {"interviewed_at": "2027-01-08T15:00:00+00:00"}
