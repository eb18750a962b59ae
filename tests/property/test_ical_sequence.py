"""A calendar entry's SEQUENCE never falls: 1,000 random re-plans of applications
(facts that move reminders earlier or later, contacts added, notes sent, rejections and
reopenings, time passing), each followed by an export, and after each export every
reminder's SEQUENCE is at least what it was, and higher when its time, text or status
changed (RFC 5545 3.8.7.4). A fixed budget: 50 examples of 20 steps, derandomized."""

from __future__ import annotations

import json
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from followup import Contact, InputError
from followup.interop.ical import calendar_entries
from followup.store import CalendarEntry
from followup.testing import make_engine

EXAMPLES, STEPS = 50, 20
OWNER = "ada"
DAY0 = date(2026, 12, 23)
NAMES = ["Jane Doe", "Raj Patel", "Łukasz Wójcik", "王伟"]

step = st.one_of(
    st.tuples(st.just("fact"), st.sampled_from(["follow_up_requested_on",
                                               "decision_expected_on"]),
              st.integers(min_value=-3, max_value=40)),
    st.tuples(st.just("contact"), st.sampled_from(["interviewer", "referral", "reference"]),
              st.sampled_from(NAMES)),
    st.tuples(st.just("thanked"), st.sampled_from(NAMES), st.just(0)),
    st.tuples(st.just("event"), st.sampled_from(["rejected", "reopened", "called"]),
              st.just(0)),
    st.tuples(st.just("wait"), st.just(""), st.integers(min_value=1, max_value=96)),
)
replans = [0]
grown = [0]  # entries whose sequence grew: the property had something to check


def _apply(engine: object, app_id: str, change: tuple[str, str, object]) -> None:
    from followup import Engine, FakeClock

    assert isinstance(engine, Engine) and isinstance(engine.clock, FakeClock)
    kind, name, value = change
    assert isinstance(value, (int, str))
    try:
        if kind == "fact":
            day = DAY0 + timedelta(days=int(value))
            engine.set_facts(app_id, {name: day.isoformat()}, owner=OWNER)
        elif kind == "contact":
            engine.add_contact(app_id, Contact(str(value), name), owner=OWNER)
        elif kind == "thanked":
            engine.record(app_id, "thank_you_sent", contact=name, owner=OWNER)
        elif kind == "event":
            engine.record(app_id, name, owner=OWNER)
        else:
            engine.clock.advance(timedelta(hours=int(value)))
            engine.run_due()
    except InputError:
        pass  # not possible in this state (or no such contact): the plan stays as it was


def _check(before: dict[str, CalendarEntry], after: list[CalendarEntry]) -> None:
    for entry in after:
        old = before.get(entry.uid)
        if old is None:
            continue
        assert entry.sequence >= old.sequence, (old, entry)
        moved = (old.start, json.loads(old.content)) != (entry.start, json.loads(entry.content))
        # Leaving the plan when its time has come ("passed") changes nothing it says.
        left_or_back = old.status != entry.status and entry.status != "passed"
        if moved or left_or_back:
            assert entry.sequence > old.sequence, (old, entry)
        grown[0] += entry.sequence > old.sequence


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=STEPS, max_size=STEPS))
def test_the_sequence_never_falls_across_random_replans(
        changes: list[tuple[str, str, object]]) -> None:
    engine = make_engine(owner=OWNER)
    app = engine.add_application(
        owner=OWNER, company="Acme", role="Engineer",
        facts={"interviewed_at": "2026-12-23T15:00"},
        contacts=[Contact("Jane Doe", "interviewer")])
    seen = {e.uid: e for e in calendar_entries(engine, OWNER, now=engine.clock.now())}
    for change in changes:
        _apply(engine, app.id, change)
        after = calendar_entries(engine, OWNER, now=engine.clock.now())
        replans[0] += 1
        _check(seen, after)
        seen.update((e.uid, e) for e in after)


def test_the_budget_was_spent() -> None:
    # Run after the property (pytest keeps the file's order): it saw every re-plan.
    if replans[0] == 0:
        import pytest

        pytest.skip("the property test did not run in this session")
    assert replans[0] == EXAMPLES * STEPS == 1000
    assert grown[0] >= 100
