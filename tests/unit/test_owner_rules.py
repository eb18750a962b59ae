"""Rules over all of one owner's applications, and rules that look at the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from followup import Contact, Engine, FakeClock, MemoryStore, Notification, Store, load_rules

NY = "America/New_York"
START = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)  # Mon 10:00 in New York


class Recorder:
    name = "console"

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def engine(clock: FakeClock, recorder: Recorder) -> Engine:
    e = Engine(store=MemoryStore(), clock=clock, channels=[recorder])
    e.set_owner("ada", timezone=NY, country="US")
    return e


def add(engine: Engine, company: str, owner: str = "ada") -> str:
    return engine.add_application(
        owner=owner, company=company, role="Engineer",
        facts={"interviewed_at": engine.clock.now(), "decision_expected_on": "2027-03-01"},
        contacts=[Contact("Jane Doe", "interviewer", title="Manager")],
    ).id


def owner_timers(engine: Engine, owner: str = "ada") -> list[tuple[str, str]]:
    cal = engine.calendar(owner)
    return [(t.rule, cal.local(t.fire_at).isoformat())
            for t in engine.store.timers(owner=owner, application_id="")]


def test_keep_looking_nudges_weekly_while_fewer_than_three_are_active(
    engine: Engine, clock: FakeClock, recorder: Recorder
) -> None:
    add(engine, "Acme")
    assert owner_timers(engine) == [("keep-looking", "2027-01-11T10:00:00-05:00")]
    clock.set(datetime(2027, 1, 11, 15, 0, tzinfo=UTC))
    report = engine.run_due()
    [note] = [n for n in report.notifications if n.rule == "keep-looking"]
    assert note.application_id == "" and note.subject == "Keep looking: 1 application in play"
    # Monday 18 January is Martin Luther King Jr. Day: the nudge waits for Tuesday.
    assert owner_timers(engine) == [("keep-looking", "2027-01-19T09:00:00-05:00")]
    # A second and a third application: three in play, no more nudges.
    add(engine, "Globex")
    assert owner_timers(engine) == [("keep-looking", "2027-01-19T09:00:00-05:00")]
    add(engine, "Initech")
    assert owner_timers(engine) == []
    # Another owner is untouched by ada's applications.
    assert owner_timers(engine, "bob") == []


def test_the_nudges_resume_when_an_application_drops_out(engine: Engine, clock: FakeClock) -> None:
    apps = [add(engine, c) for c in ("Acme", "Globex", "Initech")]
    assert owner_timers(engine) == []
    clock.advance(timedelta(days=2))  # Wed 2027-01-06 10:00 in New York
    engine.record(apps[0], "rejected")
    assert owner_timers(engine) == [("keep-looking", "2027-01-13T10:00:00-05:00")]


def test_an_offer_reminds_the_other_active_applications(
    engine: Engine, clock: FakeClock, recorder: Recorder
) -> None:
    acme, globex, initech = (add(engine, c) for c in ("Acme", "Globex", "Initech"))
    engine.record(initech, "rejected")
    clock.advance(timedelta(days=1))
    engine.record(acme, "offer_received")
    # The others are re-planned by the daemon's next pass, not inside the event.
    assert not [t for t in engine.timers(globex) if t.rule == "offer-leverage"]
    report = engine.run_due()
    # Due at once (it counts from when Globex entered its state): fired in that pass,
    # for Globex alone (Initech is out of play, Acme has the offer).
    [note] = [n for n in recorder.sent if n.rule == "offer-leverage"]
    assert [n.application_id for n in report.notifications if n.rule == "offer-leverage"] == [
        globex
    ]
    assert note.application_id == globex
    assert note.subject == "Ask Globex for their timeline: you have an offer elsewhere"


def test_a_draft_without_the_interviewers_title_is_flagged(engine: Engine) -> None:
    out = engine.add(owner="ada", company="Acme", role="Engineer",
                     facts={"interviewed_at": engine.clock.now()},
                     contacts=[Contact("Raj Patel", "interviewer")])
    problem, why_me = out.problems
    assert problem.startswith("thank-you-notes: 'Raj Patel' has no title")
    assert why_me.startswith("thank-you-notes: the fact why_me ")
    added = engine.add_contact(out.application.id, Contact("Mei Chen", "interviewer",
                                                           title="CTO"))
    # Mei's title is known; only why_me is still missing from her draft too.
    assert [p.split(":")[1].strip().split()[:3] for p in added.problems] == [
        ["the", "fact", "why_me"]]


def test_a_referral_recorded_later_is_due_a_working_day_after_it_was_recorded(
    engine: Engine, clock: FakeClock
) -> None:
    app = add(engine, "Acme")
    clock.set(datetime(2027, 1, 8, 20, 0, tzinfo=UTC))  # Fri 15:00 in New York
    engine.add_contact(app, Contact("Bob Net", "referral"))
    [timer] = [t for t in engine.timers(app) if t.rule == "follow-up-referrals"]
    cal = engine.calendar("ada")
    assert cal.local(timer.fire_at).isoformat() == "2027-01-08T15:00:00-05:00"
    assert timer.due_at is not None
    assert cal.local(timer.due_at).isoformat() == "2027-01-11T17:00:00-05:00"


def test_every_owners_nudge_goes_out_however_many_are_due(clock: FakeClock) -> None:
    from followup import MemoryStore

    engine = Engine(store=MemoryStore(), clock=clock, channels=[])
    for i in range(5):
        engine.set_owner(f"p{i}", timezone=NY, country="US")
        add(engine, "Acme", owner=f"p{i}")
    clock.set(datetime(2027, 1, 12, 15, 0, tzinfo=UTC))  # a week later, a Tuesday
    # A small window: the due rows come in several batches.
    report = engine.run_due(limit=2, deliver=False)
    nudged = sorted(n.owner for n in report.owner_notifications)
    assert nudged == [f"p{i}" for i in range(5)]


_NUDGES = """\
version: 1
name: nudges
states: [open, closed]
initial: open
calendar: {send_window: null}
events:
  closed: {from: [open], to: closed}
templates:
  t: {subject: "x"}
rules:
  - {name: nudge, scope: owner, every: 7 days, limit: %d, any_time: true,
     notify: {template: t}}
"""


def test_a_limit_lowered_below_the_nudges_sent_sends_no_more() -> None:
    store, clock, sent = MemoryStore(), FakeClock(START), Recorder()
    weekly = Engine(store=store, clock=clock, channels=[sent],
                    rules=load_rules(text=_NUDGES % 5))
    weekly.add_application(owner="ada", company="Acme", role="Engineer")
    for week in (1, 2, 3):
        clock.set(START + timedelta(weeks=week))
        weekly.run_due()
    [next_one] = store.timers(owner="ada", application_id="")
    assert (len(sent.sent), next_one.occurrence) == (3, 3)
    # The pack now allows two: the fourth, already armed, is dropped, not sent.
    fewer = Engine(store=store, clock=clock, channels=[sent],
                   rules=load_rules(text=_NUDGES % 2))
    for week in (4, 5):
        clock.set(START + timedelta(weeks=week))
        fewer.run_due()
    assert len(sent.sent) == 3
    [mark] = store.timers(owner="ada", application_id="")
    assert (mark.action, mark.occurrence) == ("spent", 3)  # never due
    assert fewer.agenda(owner="ada") == []


def test_the_monthly_nudges_stay_three_whatever_runs_the_owner_s_rules_again(
        store: Store) -> None:
    clock, sent = FakeClock(START), Recorder()
    engine = Engine(store=store, clock=clock, channels=[sent])
    engine.set_owner("ada", timezone=NY, country="US")
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": START},
                                 contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
    engine.record(app.id, "rejected")  # nothing in play: a nudge a month, three at most

    def monthly() -> int:
        return len([n for n in sent.sent if n.rule == "keep-looking-monthly"])

    for day in range(0, 200, 3):
        clock.set(START + timedelta(days=day))
        engine.run_due()
    assert monthly() == 3
    # A new time zone plans the owner's rules again: the series does not start over.
    engine.update_owner("ada", timezone="America/Chicago")
    [mark] = [t for t in store.timers(owner="ada", application_id="")
              if t.rule == "keep-looking-monthly"]
    assert (mark.action, mark.occurrence) == ("spent", 3)  # kept by every store as given
    for day in range(200, 400, 3):
        clock.set(START + timedelta(days=day))
        engine.run_due()
    assert monthly() == 3
    # Once an application is in play the condition stops holding; when none is again,
    # a new series begins.
    other = engine.add_application(owner="ada", company="Initech", role="Engineer",
                                   facts={"interviewed_at": START + timedelta(days=400)})
    engine.record(other.id, "rejected")
    for day in range(400, 500, 3):
        clock.set(START + timedelta(days=day))
        engine.run_due()
    assert monthly() == 6
