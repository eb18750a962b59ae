"""Why a change cancelled a reminder (``followup.runtime.cancellations``), on the default
pack and a real engine: done, left behind by a move with its action never marked done,
stopped, or ended by a condition; a reminder moved to another time is not cancelled."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from followup import Contact, Engine, FakeClock, MemoryStore
from followup.runtime.cancellations import Cancellation, cancellations
from followup.runtime.engine import Outcome

JANE, RAJ = "Jane Doe", "Raj Patel"


@pytest.fixture
def engine() -> Engine:
    # Thursday 24 December 2026, 15:00 UTC: the day after the interview.
    engine = Engine(store=MemoryStore(), clock=FakeClock(datetime(2026, 12, 24, 15, tzinfo=UTC)),
                    channels=[])
    engine.set_owner("ada", timezone="America/New_York")
    engine.add(owner="ada", company="Acme", role="Engineer", id="acme",
               facts={"interviewed_at": "2026-12-23T15:00-05:00"},
               contacts=[Contact(JANE, "interviewer", title="CTO"), Contact(RAJ, "interviewer")])
    return engine


def why(engine: Engine, outcome: Outcome) -> dict[tuple[str, str | None], Cancellation]:
    record = engine.store.load("acme")
    found = cancellations(engine.pack, record.application, record.history,
                          outcome.cancelled, len(outcome.entries))
    assert [c.timer for c in found] == list(outcome.cancelled)
    return {(c.timer.rule, c.timer.contact): c for c in found}


def test_a_reminder_whose_action_is_recorded_is_done(engine: Engine) -> None:
    got = why(engine, engine.record("acme", "thank_you_sent", contact=JANE))
    assert list(got) == [("thank-you-notes", JANE)]
    assert (got["thank-you-notes", JANE].reason, got["thank-you-notes", JANE].done_by,
            got["thank-you-notes", JANE].never_done) == ("done", "thank_you_sent", False)


def test_a_move_cancels_the_note_never_sent_and_says_so(engine: Engine) -> None:
    engine.record("acme", "thank_you_sent", contact=JANE)
    got = why(engine, engine.record("acme", "called"))
    # Raj was never thanked: his note is cancelled by the move, never marked done.
    raj = got["thank-you-notes", RAJ]
    assert (raj.reason, raj.done_by, raj.never_done) == ("left_state", "thank_you_sent", True)
    # The call itself is the follow-up call's action.
    call = got["follow-up-call", None]
    assert (call.reason, call.never_done) == ("done", False)
    # A rule that names no done_by cannot say it was never done.
    ask = got["ask-decision-date", None]
    assert (ask.reason, ask.done_by, ask.never_done) == ("left_state", None, False)
    assert ("thank-you-notes", JANE) not in got  # cancelled before, when it was done


def test_a_condition_that_stops_holding_cancels_with_its_reason(engine: Engine) -> None:
    got = why(engine, engine.log("acme", facts={"decision_expected_on": "2027-01-08"}))
    assert got["ask-decision-date", None].reason == "condition"
    assert not got["ask-decision-date", None].never_done


def test_an_until_event_stops_a_reminder(engine: Engine) -> None:
    # Raj has no title: collect-contacts asks for it until contacts_complete.
    assert any(t.rule == "collect-contacts" for t in engine.timers("acme"))
    got = why(engine, engine.record("acme", "contacts_complete"))
    assert got["collect-contacts", None].reason == "stopped"


def test_a_reminder_moved_to_another_time_is_not_cancelled(engine: Engine) -> None:
    outcome = engine.log("acme", facts={"follow_up_requested_on": "2027-01-05"})
    assert "follow-up-call" not in {t.rule for t in outcome.cancelled}
    assert "follow-up-call" in {t.rule for t in outcome.armed}
