"""The change path's promises that its other tests left open (bench/MUTATION.md, the
planning sample): what a repeat leaves alone, what a timed move voids, which stored
timers a change trusts, and what an event a rule waits for plans again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from followup import Contact, Engine, FakeClock, MemoryStore, load_rules
from followup.model import Change, Timer

START = datetime(2027, 3, 1, 15, tzinfo=UTC)  # a Monday

# Two timed moves, one into a state named before the one it leaves ("low" < "mid"), one
# into a state named after ("top" > "low"), each due with a reminder of the state it
# leaves: a pass that fires the move must not then send the old state's reminder.
_MOVES = """\
version: 1
name: moves
states: [mid, low, top]
initial: mid
calendar: {send_window: null}
facts:
  met_at: {type: datetime}
events:
  poke: {}
transitions:
  - {name: drop, from: mid, to: low, after: 1 day}
  - {name: rise, from: low, to: top, after: 1 day}
templates:
  t: {subject: "x"}
rules:
  - {name: in-mid, while: mid, at: 36 hours after entered, any_time: true, notify: {template: t}}
  - {name: in-low, while: low, at: 36 hours after entered, any_time: true, notify: {template: t}}
"""

# A rule of the whole application done by a per-contact event, and a per-contact rule
# stopped by an event about no contact.
_WAITS = """\
version: 1
name: waits
states: [open, closed]
initial: open
calendar: {send_window: null}
roles: [interviewer]
facts:
  met_at: {type: datetime}
events:
  thanked: {per: contact}
  stop: {}
  closed: {from: [open], to: closed}
templates:
  t: {subject: "x"}
rules:
  - {name: first-thanks, while: open, at: 3 days after met_at, done_by: thanked,
     notify: {template: t}}
  - {name: each, while: open, for_each: interviewer, at: 4 days after met_at, until: stop,
     notify: {template: t}}
"""

# The default pack with one template's words changed: another fingerprint.
_EDITED = """\
version: 1
name: edited
extends: after-interview
templates:
  patience:
    subject: "Check in with {{ application.company }} once more"
"""


def _engine(text: str | None = None) -> tuple[Engine, FakeClock]:
    clock = FakeClock(START)
    pack = load_rules(text=text, cache=False) if text is not None else load_rules()
    engine = Engine(rules=pack, store=MemoryStore(), clock=clock, channels=[])
    engine.set_owner("ada", timezone="UTC")
    return engine, clock


def _whole(engine: Engine, app: str) -> list[str]:
    record = engine.store.load(app)
    return sorted(t.key for t in engine.planner.plan(
        record.application, record.history, engine.calendar("ada"),
        stored_state=record.application.state).timers)


def test_a_timed_move_voids_what_was_due_in_the_state_it_left() -> None:
    engine, clock = _engine(_MOVES)
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"met_at": START}).id
    # drop (a day in) and in-mid (a day and a half in) are both due: drop goes first.
    clock.set(START + timedelta(days=4))
    assert engine.run_due().notifications == []
    assert engine.application(app).state == "low"
    # The move was made at the pass: rise and in-low count from then, and are both due.
    clock.advance(timedelta(days=3))
    assert engine.run_due().notifications == []
    assert engine.application(app).state == "top"
    assert [h.name for h in engine.history(app) if h.kind == "transition"] == ["drop", "rise"]


def test_a_repeat_under_an_edited_pack_changes_nothing() -> None:
    engine, _ = _engine()
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": START},
                                 contacts=[Contact("Jane Doe", "interviewer"),
                                           Contact("Raj Patel", "interviewer")]).id
    engine.record(app, "thank_you_sent", contact="Jane Doe")
    before = engine.store.load(app)
    edited = Engine(rules=load_rules(text=_EDITED, cache=False), store=engine.store,
                    clock=FakeClock(START), channels=[])
    assert edited.changes.stale(before.application)
    # A per-contact event already recorded for that contact is a repeat: nothing is
    # planned or written, though another pack planned the application.
    outcome = edited.record(app, "thank_you_sent", contact="Jane Doe")
    assert not outcome.changed
    after = engine.store.load(app)
    assert after.application == before.application and after.timers == before.timers


def test_a_change_plans_in_full_when_a_stored_timer_is_not_the_packs() -> None:
    engine, _ = _engine()
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": START}).id
    record = engine.store.load(app)
    stray = Timer(application_id=app, owner="ada", key=f"{app}/gone-rule/0/-/0",
                  rule="gone-rule", action="notify", fire_at=START + timedelta(days=1))
    engine.store.commit(Change(record.application, record.application.version,
                               timers_added=(stray,)))
    # why_me is read by no rule's timing: only the stray timer makes this change plan.
    engine.set_facts(app, {"why_me": "I ship"})
    keys = sorted(t.key for t in engine.timers(app))
    assert stray.key not in keys and keys == _whole(engine, app)


def test_an_event_a_rule_waits_for_plans_that_rule_for_whom_it_concerns() -> None:
    engine, _ = _engine(_WAITS)
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"met_at": START},
                                 contacts=[Contact("Ann", "interviewer"),
                                           Contact("Bo", "interviewer")]).id
    assert {(t.rule, t.contact) for t in engine.timers(app)} == {
        ("first-thanks", None), ("each", "Ann"), ("each", "Bo")}
    # A per-contact event ends a rule of the whole application, not one contact's pair.
    engine.record(app, "thanked", contact="Ann")
    assert {(t.rule, t.contact) for t in engine.timers(app)} == {("each", "Ann"),
                                                                 ("each", "Bo")}
    # An event about no contact ends a per-contact rule for every contact.
    engine.record(app, "stop")
    assert engine.timers(app) == []
    assert _whole(engine, app) == []


def test_a_change_of_an_application_in_a_state_the_pack_lost_plans_in_full() -> None:
    engine, _ = _engine(_WAITS)
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"met_at": START}).id
    record = engine.store.load(app)
    # Written behind the engine's back: a state this pack does not know, planned by it.
    engine.store.commit(Change(replace(record.application, state="lost"),
                               record.application.version))
    engine.set_facts(app, {"met_at": START + timedelta(days=1)})
    assert sorted(t.key for t in engine.timers(app)) == _whole(engine, app)
