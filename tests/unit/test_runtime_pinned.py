"""Behaviour of the runtime that its other tests left open: each test pins one thing a
change to the engine's parts could break unseen (bench/mutation/runtime.md lists them)."""

from __future__ import annotations

import copy
import dataclasses
import gc
import logging
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from followup import Contact, Engine, FakeClock, MemoryStore, load_rules
from followup.errors import ConflictError, InputError
from followup.model import (
    Application,
    Change,
    HistoryEntry,
    Notification,
    Owner,
    Record,
    Timer,
)
from followup.runtime import inputs, planner
from followup.runtime.cancellations import cancellations
from followup.runtime.corrections import Corrections
from followup.runtime.history import effective
from followup.runtime.owners import edited
from followup.runtime.passes import why_held
from followup.runtime.replans import Move, Replanned, pack_digest
from followup.runtime.rounds import rounds_of
from followup.runtime.simulate import TIMELINE_MOST, PlannedEvent, simulate
from followup.runtime.workers import Worker, supervise
from followup.timing.calendar import Duration, WorkCalendar, parse_duration

# Monday 1 March 2027, 10:00 in New York.
MONDAY = datetime(2027, 3, 1, 15, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


def _engine(text: str | None = None, *, at: datetime = MONDAY) -> Engine:
    pack = load_rules(text=text, cache=False) if text is not None else load_rules()
    engine = Engine(rules=pack, store=MemoryStore(), clock=FakeClock(at), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    return engine


def _interviewers() -> list[Contact]:
    return [Contact("Jane", "interviewer", title="CTO"), Contact("Bob", "interviewer", title="VP")]


# A rule may carry the name of an event: its reminders' history entries then share it.
_RULE_NAMED_AS_EVENT = """\
version: 1
extends: after-interview
rules:
  - name: thank_you_sent
    while: interviewed
    for_each: interviewer
    at: interviewed_at
    notify: {subject: "Say thanks"}
"""


def test_a_reminder_named_as_an_event_is_not_that_event_recorded() -> None:
    engine = _engine(_RULE_NAMED_AS_EVENT)
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"},
                                 contacts=_interviewers())
    assert engine.run_due().fired == 2  # a "thank_you_sent" reminder for each
    outcome = engine.record(app.id, "thank_you_sent", contact="Jane")
    assert outcome.changed
    assert [(h.kind, h.contact) for h in outcome.entries] == [("event", "Jane")]
    assert engine.record(app.id, "thank_you_sent", contact="Bob").application.state == "thanked"


# Two moves of the pack's own that follow one another in one change.
_CHAIN = """\
version: 1
name: chain
states: [open, waiting, closed]
initial: open
facts:
  quiet: {type: bool}
events:
  closed: {from: [open, waiting], to: closed}
transitions:
  - {name: park, from: open, to: waiting, when: "quiet"}
  - {name: shut, from: waiting, to: closed, when: "quiet"}
templates:
  t:
    subject: "x"
rules:
  - name: nudge
    while: open
    at: 1 day after entered
    notify: {template: t}
"""


def test_the_packs_own_moves_in_one_change_take_the_next_places_in_the_history() -> None:
    engine = _engine(_CHAIN)
    app = engine.add_application(owner="ada", company="Acme", role="Engineer")
    outcome = engine.set_facts(app.id, {"quiet": True})
    assert outcome.application.state == "closed"
    assert [(h.seq, h.kind, h.name) for h in engine.history(app.id)] == [
        (0, "created", "created"), (1, "facts", "facts"), (2, "transition", "park"),
        (3, "transition", "shut")]


def test_a_plan_cannot_be_changed_once_made() -> None:
    engine = _engine()
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"},
                                 contacts=_interviewers())
    found = engine.planner.plan(app, engine.history(app.id), engine.calendar("ada"))
    assert [t.rule for t in found.timers] != []
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'timers'"):
        found.timers = []  # type: ignore[misc]


_RECURRING_BEFORE_A_VISIT = """\
version: 1
extends: after-interview
rules:
  - name: call-before-the-visit
    while: interviewed
    at: visit_on
    not_after: visit_at
    every: 1 day
    limit: 2
    notify: {subject: "Call before the visit"}
facts:
  visit_on: {type: date}
  visit_at: {type: datetime}
"""


def test_a_recurring_reminder_keeps_its_first_occurrence_before_the_limit() -> None:
    engine = _engine(_RECURRING_BEFORE_A_VISIT)
    # Friday's visit at 08:00, before the send window opens: Thursday at close of business.
    app = engine.add_application(owner="ada", company="Acme", role="Engineer", facts={
        "interviewed_at": "2027-03-01T09:30", "visit_on": "2027-03-05",
        "visit_at": "2027-03-05T08:00"})
    calendar = engine.calendar("ada")
    assert [calendar.local(t.fire_at).isoformat() for t in engine.timers(app.id)
            if t.rule == "call-before-the-visit"] == ["2027-03-04T17:00:00-05:00"]


def test_a_contact_renamed_back_and_forth_takes_each_name_in_turn() -> None:
    engine = _engine()
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"},
                                 contacts=_interviewers())
    engine.rename_contact(app.id, "Jane", "Janet")
    engine.rename_contact(app.id, "Janet", "Jane")
    outcome = engine.rename_contact(app.id, "Jane", "Janet")
    assert outcome.changed
    assert [c.name for c in engine.application(app.id).contacts] == ["Janet", "Bob"]
    # The same rename once more is a repeat: nothing changes.
    assert not engine.rename_contact(app.id, "Jane", "Janet").changed


def test_a_reminder_held_by_the_second_of_two_quiet_spans_names_that_span() -> None:
    engine = _engine()
    engine.set_owner("ada", timezone="America/New_York", country="US",
                     quiet_hours=["22:00-07:00", "12:00-13:00"])
    calendar = engine.calendar("ada")
    # Monday 12:30 in New York: a working day, inside the send window, in the lunch span.
    held = why_held(calendar, datetime(2027, 3, 1, 17, 30, tzinfo=UTC))
    assert held is not None
    assert held[1] == "quiet hours 12:00-13:00"
    assert calendar.local(held[0]).isoformat() == "2027-03-01T13:00:00-05:00"
    # Monday 23:30 is past the send window before it is in the night's span.
    late = why_held(calendar, datetime(2027, 3, 2, 4, 30, tzinfo=UTC))
    assert late is not None and late[1] == "outside the send window 09:00-18:00"


def test_a_dry_run_starts_a_round_only_at_an_interview_not_at_any_instant_fact() -> None:
    pack = load_rules(text=_RECURRING_BEFORE_A_VISIT, cache=False)
    interview = datetime(2027, 3, 1, 14, 30, tzinfo=UTC)
    sim = simulate(pack, interviewed=interview, timezone="America/New_York", country="US",
                   until=datetime(2027, 3, 20, tzinfo=UTC), events=[PlannedEvent(
                       at=datetime(2027, 3, 2, 15, tzinfo=UTC), name=None,
                       facts={"visit_at": "2027-03-05T08:00"})])
    assert [e.at for e in sim.timeline if e.action == "start"] == [interview]
    assert [dict(e.facts or {}) for e in sim.timeline if e.action == "fact"] == [
        {"visit_at": "2027-03-05T08:00:00-05:00"}]


def test_a_dry_run_shows_the_packs_own_moves_made_as_the_application_is_added() -> None:
    interview = datetime(2027, 3, 1, 14, 30, tzinfo=UTC)
    sim = simulate(load_rules(text=_CHAIN, cache=False), interviewed=interview,
                   timezone="America/New_York", facts={"quiet": True})
    assert [(e.action, e.rule, e.state) for e in sim.timeline] == [
        ("start", None, "open"), ("transition", "park", "waiting"),
        ("transition", "shut", "closed")]


def test_undoing_a_fact_brings_back_its_value_from_before_other_facts_were_set() -> None:
    engine = _engine()
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"})
    engine.set_facts(app.id, {"decision_expected_on": "2027-03-12"})
    engine.set_facts(app.id, {"why_me": "I ran the same migration twice"})
    engine.set_facts(app.id, {"decision_expected_on": "2027-03-19"})
    outcome = engine.undo(app.id)
    assert outcome.application.facts["decision_expected_on"] == "2027-03-12"
    assert outcome.application.facts["why_me"] == "I ran the same migration twice"


def test_a_pack_edit_reaches_a_hundred_applications_per_batch_unless_told() -> None:
    store = MemoryStore()
    first = Engine(store=store, clock=FakeClock(MONDAY), channels=[])
    for n in range(101):
        first.add_application(owner="ada", company="Acme", role="Engineer", id=f"a{n:03}")
    edited = Engine(rules=load_rules(text=_RULE_NAMED_AS_EVENT, cache=False), store=store,
                    clock=FakeClock(MONDAY), channels=[])
    batch = edited.replan_stale()
    assert len(batch.applications) == 100
    assert batch.last == "a099"
    rest = edited.replan_stale(after=batch.last)
    assert [a.application_id for a in rest.applications] == ["a100"]
    assert rest.last is None


class _Contested(MemoryStore):
    """A store where another writer changes the application after every load."""

    def __init__(self) -> None:
        super().__init__()
        self.rival: Engine | None = None
        self.loads = 0
        self._busy = False

    def load(self, application_id: str, *, owner: str | None = None) -> Record:
        record = super().load(application_id, owner=owner)
        if self.rival is not None and not self._busy:
            self.loads += 1
            self._busy = True
            try:
                self.rival.set_facts(application_id, {"why_me": f"take {self.loads}"})
            finally:
                self._busy = False
        return record


def test_a_change_that_loses_every_race_gives_up_with_the_conflict() -> None:
    store = _Contested()
    engine = Engine(store=store, clock=FakeClock(MONDAY), channels=[])
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"})
    store.rival = Engine(store=store, clock=FakeClock(MONDAY), channels=[])
    with pytest.raises(ConflictError, match=r"is at version \d+, not \d+"):
        engine.set_facts(app.id, {"decision_expected_on": "2027-03-12"})
    assert store.loads == 5  # tried again four times, then gave up
    assert "decision_expected_on" not in engine.application(app.id).facts


def test_a_reminder_is_snoozed_after_the_application_moved_on_its_own() -> None:
    engine = _engine()
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"},
                                 contacts=_interviewers())
    engine.record(app.id, "thank_you_sent", contact="Jane")
    engine.record(app.id, "thank_you_sent", contact="Bob")  # all thanked: a move of its own
    assert engine.history(app.id)[-1].kind == "transition"
    call = next(t for t in engine.timers(app.id) if t.rule == "follow-up-call")
    later = call.fire_at + timedelta(days=2)
    assert engine.snooze(app.id, call.key, until=later).changed
    assert [t.fire_at for t in engine.timers(app.id) if t.key == call.key] == [later]


def test_a_worker_starts_its_walk_among_the_first_32_stale_applications_per_batch() -> None:
    store = MemoryStore()
    first = Engine(store=store, clock=FakeClock(MONDAY), channels=[])
    for n in range(40):
        first.add_application(owner="ada", company="Acme", role="Engineer", id=f"a{n:03}")
    edited = Engine(rules=load_rules(text=_RULE_NAMED_AS_EVENT, cache=False), store=store,
                    clock=FakeClock(MONDAY), channels=[], worker="alpha")
    report = Worker(edited, replan_batch=1, watch_rules=False).run(once=True)
    # "alpha"'s first walk starts after the 17th of the first 32 (a016), not at the
    # start, nor among all 40 (after a020).
    assert [a.application_id for a in report.replanned.applications] == ["a017"]


class _Feed:
    """A calendar-like channel: it follows the plan and keeps what each reminder will say."""

    name = "feed"

    def __init__(self) -> None:
        self.messages: dict[str, tuple[str, str]] = {}
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)

    def planned(self, *, owner: str, application: Application | None, timers: Sequence[Timer],
                fired: Sequence[Timer], calendar: WorkCalendar,
                messages: dict[str, tuple[str, str]]) -> None:
        self.messages.update(messages)


def test_a_feed_is_told_what_each_reminder_will_say_as_it_will_say_it() -> None:
    feed = _Feed()
    engine = Engine(store=MemoryStore(), clock=FakeClock(MONDAY), channels=[feed])
    engine.set_owner("ada", timezone="America/New_York", country="US", channels=["feed"])
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"},
                                 contacts=_interviewers())
    previews = {k: v for k, v in feed.messages.items() if "thank-you-notes" in k}
    assert len(previews) == 2
    assert any("Jane" in subject + body for subject, body in previews.values())
    report = engine.run_due(MONDAY + timedelta(hours=1))
    notes = {n.key: (n.subject, n.body) for n in report.notifications
             if n.application_id == app.id and n.rule == "thank-you-notes"}
    assert notes == previews


def _first_run_then(flag: Path, first: str, others: str) -> str:
    """A script whose first run (the one that makes ``flag``) runs ``first``, and every
    other run ``others``."""
    return ("import os, sys, time\n"
            "try:\n"
            f"    os.close(os.open({str(flag)!r}, os.O_CREAT | os.O_EXCL))\n"
            "except FileExistsError:\n"
            f"    {others}\n"
            f"{first}\n")


def test_a_worker_that_exits_on_bad_input_stops_the_others_at_once(tmp_path: Path) -> None:
    # Two copies: the first to create the flag keeps working (10 s), the other exits 2.
    script = _first_run_then(tmp_path / "first", "time.sleep(10)", "sys.exit(2)")
    started = time.monotonic()
    assert supervise(2, [sys.executable, "-c", script], restart_after=0.1) == 2
    assert time.monotonic() - started < 8  # the working copy was stopped, not waited for


def test_undoing_a_fact_leaves_a_timed_move_made_since_an_earlier_undo() -> None:
    clock = FakeClock(MONDAY)
    engine = Engine(store=MemoryStore(), clock=clock, channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"})
    engine.record(app.id, "rejected")
    engine.set_facts(app.id, {"why_me": "I ran the same migration twice"})
    engine.record(app.id, "reopened")
    assert engine.undo(app.id).application.state == "rejected"  # the reopening taken back
    clock.advance(timedelta(days=2))
    engine.run_due()  # a working day after the rejection: keep-warm, a move with a timer
    assert [h.kind for h in engine.history(app.id)][-1] == "transition"
    assert engine.application(app.id).state == "keep_warm"
    outcome = engine.undo(app.id)  # takes back the fact, and only the fact
    assert "why_me" not in outcome.application.facts
    assert outcome.application.state == "keep_warm"
    assert "dropped" not in outcome.entries[0].data


def test_a_merge_made_again_is_a_repeat_that_changes_nothing() -> None:
    engine = _engine()
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"},
                                 contacts=_interviewers())
    assert engine.merge_contacts(app.id, "Bob", "Jane").changed
    again = engine.merge_contacts(app.id, "Bob", "Jane")
    assert not again.changed
    assert [c.name for c in again.application.contacts] == ["Jane"]


def test_a_round_begins_only_on_entering_the_initial_state() -> None:
    engine = _engine()
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"},
                                 contacts=[Contact("Jane", "interviewer", title="CTO")])
    assert engine.record(app.id, "thank_you_sent", contact="Jane").application.state == "thanked"
    assert [r.number for r in rounds_of(effective(engine.history(app.id)), "interviewed")] == [1]


def test_what_is_recorded_after_a_round_began_belongs_to_it_even_if_recorded_first() -> None:
    clock = FakeClock(MONDAY)
    engine = Engine(store=MemoryStore(), clock=clock, channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"})
    clock.advance(timedelta(days=2))
    engine.set_facts(app.id, {"why_me": "I ran the same migration twice"})
    # The second interview is logged afterwards, for an hour before: it began then.
    engine.log(app.id, event="next_round", at=clock.now() - timedelta(hours=1),
               facts={"interviewed_at": "2027-03-03T09:00"})
    first, second = rounds_of(effective(engine.history(app.id)), "interviewed")
    assert "why_me" not in first.facts
    assert second.facts["why_me"] == "I ran the same migration twice"


class _Unreadable(MemoryStore):
    """A store that cannot read one application once ``broken`` is set."""

    broken = False

    def load(self, application_id: str, *, owner: str | None = None) -> Record:
        if self.broken and application_id == "bad":
            raise RuntimeError("this row cannot be read")
        return super().load(application_id, owner=owner)


def test_a_failed_application_is_logged_with_when_it_is_tried_again(
        caplog: pytest.LogCaptureFixture) -> None:
    store = _Unreadable()
    engine = Engine(store=store, clock=FakeClock(MONDAY), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    engine.add_application(owner="ada", company="Acme", role="Engineer", id="bad",
                           facts={"interviewed_at": "2027-03-01T09:30"},
                           contacts=_interviewers())
    store.broken = True
    now = MONDAY + timedelta(hours=1)
    with caplog.at_level(logging.WARNING, logger="followup"):
        report = engine.run_due(now)
    assert report.errors == {"bad": "RuntimeError: this row cannot be read"}
    assert [f.retry_at for f in store.faults()] == [now + timedelta(minutes=1)]
    assert [r.getMessage() for r in caplog.records if r.name == "followup"] == [
        "application bad failed, tried again at 2027-03-01T16:01:00+00:00: "
        "RuntimeError: this row cannot be read"]


def test_undoing_a_contact_change_walks_back_past_another_contacts_rename() -> None:
    engine = _engine()
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"},
                                 contacts=_interviewers())
    engine.rename_contact(app.id, "Bob", "Robert")
    engine.add_contact(app.id, Contact("Jane", "interviewer", title="CEO"))
    outcome = engine.undo(app.id)
    assert [(c.name, c.title) for c in outcome.application.contacts] == [
        ("Jane", "CTO"), ("Robert", "VP")]


_WAITING = """\
version: 1
name: waiting
states: [open, waiting]
initial: open
facts:
  met_at: {type: datetime}
events:
  wait: {from: [open], to: waiting}
templates:
  t:
    subject: "x"
rules:
  - name: chase
    while: waiting
    at: 1 day after met_at
    notify: {template: t}
"""


def test_a_first_stay_counts_from_a_fact_recorded_before_it_began() -> None:
    clock = FakeClock(MONDAY)
    engine = Engine(rules=load_rules(text=_WAITING, cache=False), store=MemoryStore(),
                    clock=clock, channels=[])
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"met_at": MONDAY.isoformat()})
    clock.advance(timedelta(days=3))
    engine.record(app.id, "wait")
    assert [(t.rule, t.fire_at) for t in engine.timers(app.id)] == [
        ("chase", MONDAY + timedelta(days=1))]


_MOVED_TO_THE_OWNER = """\
version: 1
extends: after-interview
rules:
  - name: my-nudge
    {where}
    every: 7 days
    notify: {{subject: "Nudge"}}
"""


def test_a_reminder_whose_rule_now_covers_all_applications_is_cancelled_as_replanned() -> None:
    store = MemoryStore()
    before = Engine(rules=load_rules(text=_MOVED_TO_THE_OWNER.format(
        where="while: interviewed\n    at: entered"), cache=False),
        store=store, clock=FakeClock(MONDAY), channels=[])
    app = before.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"})
    assert "my-nudge" in {t.rule for t in before.timers(app.id)}
    after = Engine(rules=load_rules(text=_MOVED_TO_THE_OWNER.format(
        where='scope: owner\n    if: "active_applications < 3"'), cache=False),
        store=store, clock=FakeClock(MONDAY), channels=[])
    outcome = after.replan(app.id)
    gone = cancellations(after.pack, outcome.application, after.history(app.id),
                         [t for t in outcome.cancelled if t.rule == "my-nudge"],
                         len(outcome.entries))
    assert [(c.timer.rule, c.reason) for c in gone] == [("my-nudge", "replanned")]


def test_workers_that_all_finish_leave_the_supervisor_with_success() -> None:
    assert supervise(2, [sys.executable, "-c", "pass"], restart_after=0.1) == 0


_GUARDED_MOVE = """\
version: 1
name: guarded
states: [open, closed]
initial: open
facts:
  quiet: {type: bool}
events:
  closed: {from: [open], to: closed}
transitions:
  - {name: lapse, from: open, to: closed, after: 1 day, if: "not quiet"}
templates:
  t:
    subject: "x"
rules:
  - name: nudge
    while: open
    at: 1 day after entered
    any_time: true
    notify: {template: t}
"""


def test_a_timed_move_whose_guard_says_no_is_noted_once_and_not_armed_again() -> None:
    clock = FakeClock(MONDAY)
    engine = Engine(rules=load_rules(text=_GUARDED_MOVE, cache=False), store=MemoryStore(),
                    clock=clock, channels=[])
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"quiet": True})
    clock.advance(timedelta(days=2))
    report = engine.run_due()
    assert report.errors == {}
    assert engine.application(app.id).state == "open"
    assert [(h.kind, h.name) for h in engine.history(app.id)][1:] == [
        ("notified", "nudge"), ("skipped", "lapse")]
    assert [t.rule for t in engine.timers(app.id)] == []


class _Overtaken(MemoryStore):
    """A store where, at the first commit, another worker re-plans the same applications
    with the same pack just before it."""

    def __init__(self) -> None:
        super().__init__()
        self.rival: Engine | None = None

    def commit_many(self, changes: Sequence[Change]) -> list[Application]:
        rival, self.rival = self.rival, None
        if rival is not None:
            for change in changes:
                rival.replan(change.application.id)
        return super().commit_many(changes)


def test_a_re_plan_another_worker_made_first_is_counted_as_taken() -> None:
    store = _Overtaken()
    first = Engine(store=store, clock=FakeClock(MONDAY), channels=[])
    app = first.add_application(owner="ada", company="Acme", role="Engineer",
                                facts={"interviewed_at": "2027-03-01T09:30"})
    edited = load_rules(text=_RULE_NAMED_AS_EVENT, cache=False)
    mine = Engine(rules=edited, store=store, clock=FakeClock(MONDAY), channels=[])
    store.rival = Engine(rules=edited, store=store, clock=FakeClock(MONDAY), channels=[])
    batch = mine.replan_stale()
    assert (batch.applications, batch.taken, batch.errors) == ((), 1, ())
    assert mine.application(app.id).planned_by == edited.fingerprint


def test_the_corrections_are_built_with_keywords_only() -> None:
    engine = _engine()
    with pytest.raises(TypeError, match="positional argument"):
        Corrections(engine.pack, engine.store, engine.changes,  # type: ignore[misc]
                    engine.calendar, engine.replan_owner)


def test_a_contact_given_again_unchanged_after_a_move_is_a_repeat() -> None:
    clock = FakeClock(MONDAY)
    engine = Engine(store=MemoryStore(), clock=clock, channels=[])
    jane = Contact("Jane", "interviewer", title="CTO")
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"}, contacts=[jane])
    clock.advance(timedelta(days=8))
    # followed_up sorts before interviewed, the initial state: it begins no round.
    assert engine.record(app.id, "called").application.state == "followed_up"
    assert not engine.add_contact(app.id, jane).changed


def test_a_workers_pass_is_logged_with_how_long_it_took(
        caplog: pytest.LogCaptureFixture) -> None:
    engine = Engine(store=MemoryStore(), clock=FakeClock(MONDAY), channels=[], worker="w")
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="followup.worker"):
        Worker(engine, watch_rules=False).run(once=True)
    took = time.monotonic() - started
    passes = [r for r in caplog.records if r.getMessage() == "pass"]
    assert len(passes) == 1
    assert 0 <= passes[0].__dict__["seconds"] <= took


def test_renaming_a_contact_that_is_not_there_is_refused_after_another_rename() -> None:
    engine = _engine()
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30"},
                                 contacts=[Contact("Amy", "interviewer", title="CTO")])
    engine.rename_contact(app.id, "Amy", "Ann")
    with pytest.raises(InputError, match="no contact named 'Zed'"):
        engine.rename_contact(app.id, "Zed", "Ann")


def test_a_new_country_drops_the_old_ones_subdivision_whichever_sorts_first() -> None:
    for old, new in (("DE", "US"), ("US", "DE")):
        before = Owner("ada", timezone="UTC", country=old, subdivision="XX")
        after = edited(before, timezone=None, country=new, subdivision=None, channels=None,
                       digest=None, quiet_hours=None)
        assert (after["country"], after["subdivision"]) == (new, None)


def test_the_rounds_of_a_history_pass_over_a_facts_entry_that_holds_no_facts() -> None:
    created = HistoryEntry(application_id="a1", seq=0, at=MONDAY, kind="created",
                           name="created", to_state="interviewed",
                           data={"facts": {"why_me": "I ran it"}, "contacts": []})
    odd = HistoryEntry(application_id="a1", seq=1, at=MONDAY, kind="facts", name="facts",
                       data={"facts": "not a mapping"})
    (only,) = rounds_of([created, odd], "interviewed")
    assert only.facts == {"why_me": "I ran it"}


def test_a_pass_without_re_planning_reports_an_empty_batch() -> None:
    engine = Engine(store=MemoryStore(), clock=FakeClock(MONDAY), channels=[])
    bare = engine.run_due()
    quiet = Worker(engine, replan_batch=0, watch_rules=False).run(once=True)
    for batch in (bare.replanned, quiet.replanned):
        assert (batch.applications, batch.errors, batch.last, batch.taken) == ((), (), None, 0)


def test_a_built_in_pack_is_watched_by_its_file_and_a_pack_from_text_is_not() -> None:
    built_in = load_rules()
    assert built_in.files == ("<builtin>/after-interview.yaml",)
    [digest] = pack_digest(built_in) or [None]
    assert digest is not None and len(digest) == 64  # a SHA-256 of the file
    text = (Path(__file__).parents[2] / "rules" / "after-interview.yaml").read_text()
    assert pack_digest(load_rules(text=text)) is None  # no file to watch


def test_an_interview_time_recorded_for_the_moment_a_round_begins_is_that_rounds() -> None:
    engine = Engine(store=MemoryStore(), clock=FakeClock(MONDAY), channels=[])
    engine.set_owner("o", timezone="America/New_York", country="US")
    app = engine.add_application(owner="o", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:00"}).id
    # Recorded in round one, for the time the next round then begins.
    engine.set_facts(app, {"interviewed_at": "2027-03-05T10:00"})
    clock = engine.clock
    assert isinstance(clock, FakeClock)
    clock.set(datetime(2027, 3, 5, 15, tzinfo=UTC))  # Fri 10:00 in New York
    engine.record(app, "next_round")
    cal = engine.calendar("o")
    assert [cal.local(t.fire_at).strftime("%a %d %H:%M") for t in engine.timers(app)
            if t.rule == "follow-up-call"] == ["Fri 12 10:00"]


def test_a_history_begun_in_a_state_the_pack_no_longer_starts_in_has_its_first_round() -> None:
    engine = Engine(store=MemoryStore(), clock=FakeClock(MONDAY), channels=[])
    app = engine.add_application(owner="o", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:00"}).id
    [first] = rounds_of(engine.history(app), "applied")  # an edited pack's initial state
    assert (first.number, first.began, first.event) == (1, MONDAY, None)


def test_a_worker_renews_its_leases_three_times_per_lease() -> None:
    engine = Engine(store=MemoryStore(), channels=[], lease=timedelta(seconds=30))
    assert Worker(engine, watch_rules=False).beat == 10.0
    short = Engine(store=MemoryStore(), channels=[], lease=timedelta(milliseconds=90))
    assert Worker(short, watch_rules=False).beat == 0.05  # the floor


class Notices(MemoryStore):
    """A store that can be woken (as PostgreSQL's LISTEN is): nothing ever wakes it."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait_for_work(self, timeout: float) -> bool:
        self.waits.append(timeout)
        time.sleep(timeout)
        return False


def test_a_worker_with_nothing_to_do_waits_its_interval_in_slices_of_a_second() -> None:
    store = Notices()
    reports: list[object] = []

    def reported(report: object) -> None:  # a pass at once, then one after the wait
        reports.append(report)
        if len(reports) == 2:
            worker.stop()

    worker = Worker(Engine(store=store, channels=[]), interval=1.5, watch_rules=False,
                    on_report=reported)
    started = time.monotonic()
    worker.run()
    assert len(reports) == 2 and time.monotonic() - started >= 1.5
    assert store.waits[0] == 1.0 and 0.3 < store.waits[1] <= 0.5  # 1.5 s in all
    assert all(0 < w <= 1.0 for w in store.waits)


def test_a_re_plan_counts_each_kind_of_move_apart() -> None:
    def move(key: str, before: datetime | None, after: datetime | None) -> Move:
        return Move(key, "r", "notify", None, before, after)

    later = MONDAY + timedelta(days=1)
    done = Replanned("o", "a", (move("1", None, MONDAY), move("2", MONDAY, None),
                                move("3", MONDAY, MONDAY), move("4", MONDAY, later),
                                move("5", later, MONDAY)))
    assert {kind: done.count(kind) for kind in ("added", "cancelled", "changed", "moved")} \
        == {"added": 1, "cancelled": 1, "changed": 1, "moved": 2}


def test_a_worker_that_exits_for_a_broken_plugin_is_not_started_again(tmp_path: Path) -> None:
    # The first run exits 4 (a plugin that does not load); a second would exit 0.
    script = _first_run_then(tmp_path / "ran", "sys.exit(4)", "sys.exit(0)")
    assert supervise(1, [sys.executable, "-c", script], restart_after=0.1) == 4


# -- the planner's memory of calendar arithmetic, and the cache of rule inputs -------------
#
# Neither changes an answer; each is there for speed (the same anchor plus the same offset
# comes back with every event of an application) and must stay within its bound.

class _CountingCalendar(WorkCalendar):
    """A calendar that counts the questions it is asked."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def add(self, start: datetime, duration: Duration) -> datetime:
        self.asked.append("add")
        return super().add(start, duration)

    def deadline(self, start: datetime, duration: Duration) -> datetime:
        self.asked.append("deadline")
        return super().deadline(start, duration)

    def next_send_time(self, instant: datetime, *, working_days_only: bool = True) -> datetime:
        self.asked.append("send")
        return super().next_send_time(instant, working_days_only=working_days_only)


def test_the_planner_asks_the_calendar_once_per_question() -> None:
    calendar = _CountingCalendar()
    two, three = parse_duration("2 working days"), parse_duration("3 working days")
    later = MONDAY + timedelta(hours=1)
    answers = [planner.add_time(calendar, MONDAY, two), planner.add_time(calendar, later, three),
               planner.add_time(calendar, MONDAY, two), planner.add_time(calendar, later, three)]
    answers += [planner.send_time(calendar, MONDAY), planner.send_time(calendar, MONDAY)]
    answers += [planner.deadline_time(calendar, MONDAY, two) for _ in range(2)]
    # The same instant given in New York's time is the same question.
    answers.append(planner.add_time(calendar, MONDAY.astimezone(NEW_YORK), two))
    answers.append(planner.add_time(calendar, MONDAY, three))  # another question
    assert calendar.asked == ["add", "add", "send", "deadline", "add"]
    plain = WorkCalendar()
    assert answers == [plain.add(MONDAY, two), plain.add(later, three)] * 2 \
        + [plain.next_send_time(MONDAY)] * 2 + [plain.deadline(MONDAY, two)] * 2 \
        + [plain.add(MONDAY, two), plain.add(MONDAY, three)]
    # Its keys hold only instants, numbers and words: once collected, the garbage
    # collector no longer walks the memo (a busy worker's full collections stay short).
    gc.collect()
    assert len(calendar.memo) == 5 and not gc.is_tracked(calendar.memo)


def test_the_planners_memory_holds_at_most_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planner, "_MEMO_SIZE", 4)
    calendar, other = WorkCalendar(), WorkCalendar()
    sizes = []
    for hour in range(10):
        planner.send_time(calendar, MONDAY + timedelta(hours=hour))
        sizes.append(len(calendar.memo))
    assert sizes == [1, 2, 3, 4, 1, 2, 3, 4, 1, 2]  # full at 4, then begun again
    assert other.memo == {}  # each calendar remembers its own answers


def test_the_cache_of_rule_inputs_holds_at_most_64_packs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pack = load_rules()
    expected = inputs.inputs_of(pack)
    monkeypatch.setattr(inputs, "_CACHE", {})
    sizes = []
    for each in [copy.copy(pack) for _ in range(66)]:  # packs alike, each its own object
        assert inputs.inputs_of(each) == expected
        sizes.append(len(inputs._CACHE))
    assert sizes == [*range(1, 65), 1, 2]  # full at 64, then begun again


def test_a_dry_run_stops_at_its_bound_naming_the_rule() -> None:
    pack = load_rules(text="version: 1\nextends: after-interview\nrules:\n  - name: nag\n"
                      "    while: interviewed\n    at: 1 minute after interviewed_at\n"
                      "    every: 1 minute\n", cache=False)
    # 544 entries in a day: within the bound.
    day = simulate(pack, interviewed=MONDAY, timezone="America/New_York",
                   until=MONDAY + timedelta(days=1))
    assert len(day.timeline) == 544 and day.timeline[-1].rule == "nag"
    with pytest.raises(InputError) as raised:
        simulate(pack, interviewed=MONDAY, timezone="America/New_York")
    message = str(raised.value)
    assert f"more than {TIMELINE_MOST:,} entries by 2027-03-04T16:15:00-05:00" in message
    assert "before its end at 2027-08-28T11:00:00-04:00" in message
    assert "from rule 'nag'" in message and "earlier --until" in message
    # Said once, in the rules reference's table of bounds.
    table = (Path(__file__).parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    assert f"| a dry run (`followup simulate`) | {TIMELINE_MOST:,} entries " in table


def test_a_dry_run_leaves_out_what_is_recorded_after_its_end() -> None:
    pack = load_rules(text="version: 1\nextends: after-interview\nrules:\n  - name: nag\n"
                      "    while: interviewed\n    at: 1 hour after interviewed_at\n", cache=False)
    end = MONDAY + timedelta(days=2)
    sim = simulate(pack, interviewed=MONDAY, timezone="America/New_York", until=end,
                   events=[PlannedEvent(end + timedelta(seconds=1), "called")])
    assert [e.action for e in sim.timeline if e.rule == "nag"] == ["notify"]
    assert all(e.at <= end for e in sim.timeline)
    assert "called" not in [e.event for e in sim.timeline]


def test_reminders_fired_together_each_read_their_own_application_and_contact() -> None:
    # A pass fires several reminders per application (a thank-you note per interviewer),
    # and the context they share is built once per application: none may show another's.
    engine = _engine()
    ids = [engine.add_application(
        owner="ada", company=company, role="Engineer",
        facts={"interviewed_at": MONDAY.isoformat()},
        contacts=[Contact(f"{company} Jane", "interviewer", title="CTO"),
                  Contact(f"{company} Bob", "interviewer", title="VP")]).id
        for company in ("Acme", "Initech")]
    report = engine.run_due(MONDAY + timedelta(hours=1, minutes=1))
    notes = [n for n in report.notifications if n.rule == "thank-you-notes"]
    assert len(notes) == 4
    for n in notes:
        company = engine.application(n.application_id).company
        assert n.contact is not None and n.contact.startswith(company)
        assert n.contact in n.subject + (n.body or "") and company in n.subject + (n.body or "")
        other = ({"Acme", "Initech"} - {company}).pop()
        assert other not in n.subject + (n.body or "")
    assert {n.application_id for n in notes} == set(ids)
