"""The engine end to end in memory: events, timers, firing, delivery, repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from followup import (
    Contact,
    Engine,
    FakeClock,
    InputError,
    InvalidEvent,
    InvalidFact,
    MemoryStore,
    Notification,
    RulePack,
    UnknownApplication,
    UnknownEvent,
    load_rules,
)

NY = "America/New_York"
# Wed 2026-12-23 15:00 in New York.
INTERVIEW = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)


class Recorder:
    name = "console"

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)


class Broken:
    name = "broken"

    def __init__(self) -> None:
        self.calls = 0

    def send(self, notification: Notification) -> None:
        self.calls += 1
        raise ConnectionError("down")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(INTERVIEW + timedelta(hours=1))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


# The engine's mechanics, shown on two rules of the default pack; the pack's own advice
# is shown rule by rule in tests/scenarios.
BASE = """
version: 1
extends: after-interview
rules:
""" + "".join(f"  - {{name: {name}, enabled: false}}\n" for name in (
    "collect-contacts", "follow-up-referrals", "ask-decision-date", "patience",
    "brief-references", "keep-looking", "offer-leverage", "gracious-reply",
    "keep-warm-check-in", "prepare-for-interview", "ask-for-referrals", "keep-looking-monthly",
    "reply-to-offer", "withdraw-elsewhere", "decline-graciously",
))
TWO_RULES = load_rules("two-rules.yaml", text=BASE)


def with_rules(extra: str) -> RulePack:
    """The two rules, plus more rules given as YAML list items."""
    return load_rules("mine.yaml", text=BASE + extra)


@pytest.fixture
def engine(clock: FakeClock, recorder: Recorder) -> Engine:
    e = Engine(rules=TWO_RULES, store=MemoryStore(), clock=clock, channels=[recorder])
    e.set_owner("ada", timezone=NY, country="US", subdivision="NY")
    return e


def add(engine: Engine, *names: str, **facts: object) -> str:
    app = engine.add_application(
        owner="ada",
        company="Acme",
        role="Engineer",
        facts={"interviewed_at": "2026-12-23T15:00", **facts},
        contacts=[Contact(n, "interviewer", title="Manager") for n in names],
    )
    return app.id


def local(engine: Engine, instant: datetime | None) -> str | None:
    return engine.calendar("ada").local(instant).isoformat() if instant else None


def test_an_application_arms_one_thank_you_per_interviewer_and_the_call(engine: Engine) -> None:
    app = add(engine, "Jane Doe", "Raj Patel")
    timers = engine.timers(app)
    seen = [(t.rule, t.contact, local(engine, t.fire_at), local(engine, t.due_at)) for t in timers]
    assert seen == [
        # When the interview ends (an hour after 15:00); the call's day 10, Saturday
        # 2 January, moves to the next working day.
        ("thank-you-notes", "Jane Doe", "2026-12-23T16:00:00-05:00", "2026-12-28T17:00:00-05:00"),
        ("thank-you-notes", "Raj Patel", "2026-12-23T16:00:00-05:00", "2026-12-28T17:00:00-05:00"),
        ("follow-up-call", None, "2026-12-30T15:00:00-05:00", "2027-01-04T17:00:00-05:00"),
    ]


def test_a_naive_interview_time_is_read_in_the_owners_zone(engine: Engine) -> None:
    app = engine.application(add(engine, "Jane Doe"))
    assert app.facts["interviewed_at"] == "2026-12-23T20:00:00+00:00"


def test_three_interviewers_thanked_one_by_one(engine: Engine) -> None:
    app = add(engine, "A", "B", "C")
    for name in ("A", "B"):
        out = engine.record(app, "thank_you_sent", contact=name)
        assert out.application.state == "interviewed"
        assert [t.contact for t in out.cancelled] == [name]
    out = engine.record(app, "thank_you_sent", contact="C")
    assert out.application.state == "thanked"
    assert [h.kind for h in out.entries] == ["event", "transition"]
    assert [t.rule for t in engine.timers(app)] == ["follow-up-call"]


def test_no_interviewers_means_not_yet_thanked(engine: Engine) -> None:
    app = add(engine)
    assert engine.application(app).state == "interviewed"


def test_leaving_a_state_cancels_its_reminders(engine: Engine) -> None:
    app = add(engine, "Jane Doe")
    out = engine.record(app, "offer_received")
    assert out.application.state == "offer"
    assert sorted(t.rule for t in out.cancelled) == ["follow-up-call", "thank-you-notes"]
    assert engine.timers(app) == []


def test_an_event_recorded_twice_is_harmless(engine: Engine) -> None:
    app = add(engine, "Jane Doe", "Raj Patel")
    first = engine.record(app, "thank_you_sent", contact="Jane Doe")
    again = engine.record(app, "thank_you_sent", contact="Jane Doe")
    assert first.changed and not again.changed
    engine.record(app, "called")
    before = engine.history(app)
    assert not engine.record(app, "called").changed
    assert engine.history(app) == before


def test_a_repeated_idempotency_key_changes_nothing(engine: Engine) -> None:
    app = add(engine, "Jane Doe")
    assert engine.record(app, "opted_out", key="k1").changed
    assert not engine.record(app, "opted_out", key="k1").changed
    assert [h.name for h in engine.history(app) if h.kind == "event"] == ["opted_out"]


def test_an_event_not_allowed_in_the_state_changes_nothing(engine: Engine) -> None:
    app = add(engine, "Jane Doe")
    before = (engine.application(app), engine.history(app), engine.timers(app))
    with pytest.raises(InvalidEvent, match="'reopened' cannot be recorded in state 'interviewed'"):
        engine.record(app, "reopened")
    with pytest.raises(UnknownEvent, match="thank_you_sent"):
        engine.record(app, "thanked_them")
    with pytest.raises(InvalidEvent, match="no contact named 'Nobody'"):
        engine.record(app, "thank_you_sent", contact="Nobody")
    with pytest.raises(InvalidEvent, match="say which"):
        engine.record(app, "thank_you_sent")
    assert (engine.application(app), engine.history(app), engine.timers(app)) == before


def test_a_bad_fact_changes_nothing(engine: Engine) -> None:
    app = add(engine, "Jane Doe")
    before = engine.application(app)
    with pytest.raises(InvalidFact, match=r"decision_expected_on.*a date such as"):
        engine.set_facts(app, {"decision_expected_on": "next week"})
    assert engine.application(app) == before


def test_the_employers_date_wins(engine: Engine) -> None:
    app = add(engine, "Jane Doe")
    engine.set_facts(app, {"decision_expected_on": "2027-01-08"})  # a Friday
    [call] = [t for t in engine.timers(app) if t.rule == "follow-up-call"]
    assert local(engine, call.fire_at) == "2027-01-11T09:00:00-05:00"
    engine.set_facts(app, {"follow_up_requested_on": "2027-01-05"})
    [call] = [t for t in engine.timers(app) if t.rule == "follow-up-call"]
    assert local(engine, call.fire_at) == "2027-01-05T09:00:00-05:00"
    assert local(engine, call.due_at) == "2027-01-06T17:00:00-05:00"  # a working day's grace


def test_run_due_fires_once_and_delivers_once(
    engine: Engine, clock: FakeClock, recorder: Recorder
) -> None:
    app = add(engine, "Jane Doe")
    report = engine.run_due()
    assert report.fired == 1
    [note] = recorder.sent
    assert note.subject == "Thank Jane Doe for the interview at Acme"
    assert "Dear Jane Doe," in note.body
    assert note.key == f"{app}/thank-you-notes/0/Jane Doe/0"
    assert engine.run_due().fired == 0
    assert len(recorder.sent) == 1
    clock.set(datetime(2026, 12, 30, 20, 0, tzinfo=UTC))
    engine.run_due()
    assert [n.rule for n in recorder.sent] == ["thank-you-notes", "follow-up-call"]


def test_a_failing_channel_does_not_block_the_others(clock: FakeClock, recorder: Recorder) -> None:
    pack = with_rules("""
  - name: thank-you-notes
    notify: {template: thank-you, channels: [broken, console]}
""")
    broken = Broken()
    engine = Engine(rules=pack, store=MemoryStore(), clock=clock, channels=[recorder, broken])
    engine.set_owner("ada", timezone=NY, country="US")
    add(engine, "Jane Doe")
    report = engine.run_due()
    assert len(recorder.sent) == 1
    assert broken.calls == 1
    [row] = report.delivery.failed
    assert row.channel == "broken" and "down" in str(row.last_error)
    # Not retried before its backoff, retried after it; still once per key on console.
    assert not engine.deliver(clock.now()).failed
    later = engine.deliver(clock.now() + timedelta(hours=1))
    assert broken.calls == 2 and len(later.failed) == 1
    assert len(recorder.sent) == 1


def test_rejection_moves_to_keep_warm_one_working_day_later(engine: Engine) -> None:
    app = add(engine, "Jane Doe")
    engine.record(app, "rejected", at=datetime(2026, 12, 24, 15, 0, tzinfo=UTC))
    [timer] = engine.timers(app)
    assert timer.action == "transition" and timer.target == "keep_warm"
    # Thu 24th + 1 working day: Fri 25th is Christmas, then the weekend.
    assert local(engine, timer.fire_at) == "2026-12-28T10:00:00-05:00"
    engine.run_due(datetime(2026, 12, 28, 15, 0, tzinfo=UTC))
    assert engine.application(app).state == "keep_warm"
    assert engine.timers(app) == []


def test_another_owners_application_is_invisible(engine: Engine) -> None:
    app = add(engine, "Jane Doe")
    with pytest.raises(UnknownApplication, match=f"no application '{app}' for owner 'someone-else'"):
        engine.application(app, owner="someone-else")
    with pytest.raises(UnknownApplication, match=f"no application '{app}' for owner 'someone-else'"):
        engine.record(app, "called", owner="someone-else")
    assert engine.agenda(owner="someone-else") == []
    assert len(engine.agenda(owner="ada")) == 2


def test_replan_is_stable(engine: Engine) -> None:
    app = add(engine, "Jane Doe")
    before = engine.timers(app)
    out = engine.replan(app)
    assert out.armed == () and out.cancelled == ()
    assert engine.timers(app) == before


def test_repeating_the_thank_you_that_moved_the_application_is_harmless(engine: Engine) -> None:
    app = add(engine, "Jane Doe")
    assert engine.record(app, "thank_you_sent", contact="Jane Doe").application.state == "thanked"
    again = engine.record(app, "thank_you_sent", contact="Jane Doe")
    assert not again.changed
    assert [h.name for h in engine.history(app) if h.kind == "event"] == ["thank_you_sent"]


def test_log_is_all_or_nothing(engine: Engine) -> None:
    app = add(engine, "Jane Doe")
    before = (engine.application(app), engine.history(app), engine.timers(app))
    with pytest.raises(InvalidEvent, match="'reopened' cannot be recorded in state 'interviewed'"):
        engine.log(app, event="reopened", facts={"decision_expected_on": "2027-01-08"},
                   contacts=[Contact("Mei Chen", "interviewer")])
    with pytest.raises(InvalidFact, match=r"'decision_expected_on' must be a date .*, not 'soon'"):
        engine.log(app, facts={"decision_expected_on": "soon"},
                   contacts=[Contact("Mei Chen", "interviewer")])
    assert (engine.application(app), engine.history(app), engine.timers(app)) == before
    out = engine.log(app, event="called", facts={"decision_expected_on": "2027-01-08"},
                     contacts=[Contact("Mei Chen", "interviewer")])
    assert out.application.state == "followed_up"
    assert [h.kind for h in out.entries] == ["contact", "facts", "event"]


def test_a_duplicate_id_is_bad_input(engine: Engine) -> None:
    from followup import InputError

    engine.add_application(owner="ada", company="A", role="R", id="same")
    with pytest.raises(InputError, match="already exists"):
        engine.add_application(owner="ada", company="B", role="R", id="same")
    assert engine.application("same").company == "A"


def test_until_stops_a_reminder_for_good(clock: FakeClock) -> None:
    pack = with_rules("""
  - name: check-in
    while: rejected
    at: 1 day after entered
    every: 30 days
    until: opted_out
""")
    engine = Engine(rules=pack, store=MemoryStore(), clock=clock, channels=[])
    engine.set_owner("ada", timezone=NY)
    app = add(engine)
    engine.record(app, "rejected")

    def reminders() -> list[str]:
        return [t.rule for t in engine.timers(app) if t.action == "notify"]

    assert reminders() == ["check-in"]
    engine.record(app, "opted_out")
    assert reminders() == []
    engine.record(app, "reopened")
    engine.record(app, "rejected")
    assert reminders() == []


def test_a_rule_whose_condition_fails_is_skipped_and_reported(
    clock: FakeClock, recorder: Recorder
) -> None:
    pack = with_rules("""
  - name: odd
    while: rejected
    if: "decision_expected_on < '2027-01-01'"
""")
    engine = Engine(rules=pack, store=MemoryStore(), clock=clock, channels=[recorder])
    engine.set_owner("ada", timezone=NY)
    bad = add(engine, "Ann", decision_expected_on="2026-12-30")
    good = add(engine, "Jane Doe")
    out = engine.record(bad, "rejected")  # what happened is kept
    assert out.application.state == "rejected"
    [problem] = out.problems
    assert problem.startswith("rule 'odd' was skipped: condition")
    # The other rules of that application, and other applications, go on.
    assert [t.rule for t in engine.timers(bad)] == ["keep-warm"]
    clock.set(datetime(2027, 1, 29, 15, 0, tzinfo=UTC))  # a Friday, 10:00 in New York
    report = engine.run_due()
    # The pass fires what the change planned: the timed move of the one, the reminders
    # of the other; "odd" is not armed in keep_warm, so nothing is left to report.
    assert report.errors == {}
    assert {n.application_id for n in recorder.sent} == {good}
    assert engine.application(bad).state == "keep_warm"
    # A change that plans the rule again reports it again.
    engine.record(bad, "reopened")
    out = engine.record(bad, "rejected")
    assert [p.split(":")[0] for p in out.problems] == ["rule 'odd' was skipped"]


def test_a_hanging_channel_costs_at_most_its_timeout(clock: FakeClock, recorder: Recorder) -> None:
    import threading

    release = threading.Event()

    class Hangs:
        name = "hangs"
        timeout = 0.2

        def send(self, notification: Notification) -> None:
            release.wait(10)

    pack = with_rules("""
  - name: thank-you-notes
    notify: {template: thank-you, channels: [hangs, console]}
""")
    engine = Engine(rules=pack, store=MemoryStore(), clock=clock, channels=[Hangs(), recorder])
    engine.set_owner("ada", timezone=NY)
    add(engine, "Jane Doe")
    report = engine.run_due()
    release.set()
    assert len(recorder.sent) == 1
    [row] = report.delivery.failed
    assert row.channel == "hangs" and str(row.last_error).startswith("timed out after 0.2 s")


def test_an_owners_channels_win_over_the_packs_but_not_over_a_rules_own(
    clock: FakeClock, recorder: Recorder
) -> None:
    from followup.testing import RecordingChannel

    email = RecordingChannel("email")
    pack = with_rules("""
  - name: follow-up-call
    notify: {template: follow-up-call, channels: [console]}
""")
    engine = Engine(rules=pack, store=MemoryStore(), clock=clock, channels=[recorder, email])
    engine.set_owner("ada", timezone=NY, country="US", channels=["email"])
    add(engine, "Jane Doe")
    engine.run_due()
    assert [n.rule for n in email.sent] == ["thank-you-notes"]
    assert recorder.sent == []
    clock.set(datetime(2026, 12, 30, 20, 0, tzinfo=UTC))
    engine.run_due()
    assert [n.rule for n in recorder.sent] == ["follow-up-call"]
    with pytest.raises(InputError, match="cannot be empty"):
        engine.set_owner("ada", channels=[])


def test_an_owners_quiet_hours_hold_reminders_on_top_of_the_packs(
    clock: FakeClock, recorder: Recorder
) -> None:
    def first_reminder(quiet: tuple[str, ...]) -> datetime:
        engine = Engine(store=MemoryStore(), clock=clock, channels=[recorder])
        engine.set_owner("ada", timezone=NY, country="US", quiet_hours=quiet)
        app = engine.add_application(
            owner="ada", company="Acme", role="Engineer",
            facts={"interviewed_at": INTERVIEW},
            contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
        return min(t.fire_at for t in engine.timers(app.id, owner="ada"))

    # Without quiet hours of her own the thank-you reminder fires when the interview ends,
    # at 16:00; with 14:00-17:30 (New York) it waits until 17:30.
    assert first_reminder(()) == INTERVIEW + timedelta(hours=1)
    assert first_reminder(("14:00-17:30",)) == datetime(2026, 12, 23, 22, 30, tzinfo=UTC)
    engine = Engine(store=MemoryStore(), clock=clock, channels=[recorder])
    assert engine.set_owner("ada", quiet_hours=[" 9:00-10:00 "]).quiet_hours == ("09:00-10:00",)
    with pytest.raises(InputError, match="not a time range"):
        engine.set_owner("ada", quiet_hours=["after dinner"])
