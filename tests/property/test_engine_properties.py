"""Invariants of the engine under random events, contacts, facts and clock jumps."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from followup import Contact, Engine, FakeClock, InputError, MemoryStore, load_rules

PACK = load_rules()
EVENTS = sorted(PACK.events)
NAMES = ["Ann", "Bob", "Cy"]
# A fixed budget in CI: the same number of examples on every run.
EXAMPLES = int(os.environ.get("FOLLOWUP_PROPERTY_EXAMPLES", "150"))

step = st.one_of(
    st.tuples(st.just("event"), st.sampled_from(EVENTS), st.sampled_from([None, *NAMES])),
    st.tuples(st.just("wait"), st.integers(min_value=1, max_value=24 * 40), st.none()),
    st.tuples(st.just("fact"), st.sampled_from(["decision_expected_on", "follow_up_requested_on"]),
              st.integers(min_value=0, max_value=60)),
)


def valid_path(history: list, initial: str) -> bool:  # type: ignore[type-arg]
    state = None
    for h in history:
        if h.kind == "created":
            state = h.to_state
            continue
        if h.kind == "event":
            spec = PACK.events[h.name]
            if spec.sources is not None and h.from_state not in spec.sources:
                return False
            if h.from_state != state:
                return False
            if spec.dest is not None and h.to_state != spec.dest:
                return False
        if h.kind == "transition":
            auto = next(t for t in PACK.transitions if t.name == h.name)
            if h.from_state != state or state not in auto.sources or h.to_state != auto.dest:
                return False
        if h.to_state is not None:
            state = h.to_state
    return state is not None and initial == history[0].to_state


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)),
    zone=st.sampled_from(["America/New_York", "Europe/Berlin", "Pacific/Auckland", "UTC"]),
    interviewers=st.integers(min_value=0, max_value=3),
    steps=st.lists(step, max_size=25),
)
def test_random_lives_keep_the_invariants(
    start: datetime, zone: str, interviewers: int, steps: list[tuple[str, object, object]]
) -> None:
    clock = FakeClock(start.replace(tzinfo=UTC))
    engine = Engine(store=MemoryStore(), clock=clock, channels=[])
    engine.set_owner("p", timezone=zone, country="US" if zone == "America/New_York" else None)
    calendar = engine.calendar("p")
    app = engine.add_application(
        owner="p", company="Acme", role="Engineer",
        facts={"interviewed_at": clock.now()},
        contacts=[Contact(n, "interviewer") for n in NAMES[:interviewers]],
    ).id
    for kind, a, b in steps:
        if kind == "event":
            before = (engine.application(app), engine.history(app), engine.timers(app))
            try:
                engine.record(app, str(a), contact=b if isinstance(b, str) else None)
            except InputError:
                # A refused event changes nothing at all.
                assert (engine.application(app), engine.history(app), engine.timers(app)) == before
        elif kind == "wait":
            assert isinstance(a, int)
            clock.advance(timedelta(hours=a))
            engine.run_due()
        else:
            assert isinstance(b, int)
            day = (calendar.local(clock.now()) + timedelta(days=b)).date()
            engine.set_facts(app, {str(a): day.isoformat()})
        application = engine.application(app)
        history = engine.history(app)
        assert [h.seq for h in history] == list(range(len(history)))
        assert valid_path(history, PACK.initial)
        assert application.state == next(
            h.to_state for h in reversed(history) if h.to_state is not None
        )
        for timer in engine.timers(app):
            if timer.action == "notify":
                rule = PACK.rule(timer.rule)
                assert rule.states is None or application.state in rule.states
                assert calendar.is_working_day(calendar.local_date(timer.fire_at))
                offset = rule.due.offset if rule.due is not None else None
                if timer.due_at is not None and offset is not None and offset.working_days:
                    # A working-day deadline falls on a working day, at close of business.
                    due = calendar.local(timer.due_at)
                    assert calendar.is_working_day(due.date())
                    assert (due.hour, due.minute) == (17, 0)
            else:
                auto = next(t for t in PACK.transitions if t.name == timer.rule)
                assert application.state in auto.sources
        # Recomputing the plan gives what is stored: timers are derived, never the truth.
        assert engine.replan(app).armed == ()
        # Every notification fired is in the outbox: delivered, pending or dead.
        fired = {h.key for h in history if h.kind == "notified"}
        outbox = {d.notification.key for d in engine.store.deliveries(owner="p")}
        assert fired <= outbox
