"""The dry run: what would happen after a hypothetical interview, as a timeline.

It runs the real engine on an in-memory store with a fake clock, stepping from one due
timer or recorded change to the next, so the timeline is exactly what ``followup run``
would do. Each entry follows the contract in DESIGN.md: ``at``, ``due``, ``rule``,
``action``, ``state``, ``contact`` (and a few more keys).

A change the person is assumed to record (``PlannedEvent``) is what ``followup log``
records in one go: an event, facts and contacts, or any of them alone; a second
interview is an event such as ``next_round`` with its ``interviewed_at`` and its
interviewers, and its interview shows as a ``start`` entry of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from followup.errors import InputError
from followup.language.pack import RulePack
from followup.model import Contact
from followup.runtime.engine import Engine, Outcome
from followup.store import MemoryStore
from followup.timing.calendar import WorkCalendar
from followup.timing.clock import FakeClock

__all__ = ["TIMELINE_MOST", "PlannedEvent", "TimelineEntry", "simulate"]

_OWNER = "simulation"

# A dry run's bound: a pack that repeats a reminder every minute would otherwise keep a
# dry run of months busy for hours (a pack may come from anyone).
TIMELINE_MOST = 2_000
_TURNS_MOST = 100_000


@dataclass(frozen=True)
class PlannedEvent:
    """What the person is assumed to record at ``at``, in one change as ``followup log``
    records it: the contacts, then the facts, then the event ``name`` (about ``contact``,
    for a per-contact event). ``name`` is ``None`` for facts or contacts alone."""

    at: datetime
    name: str | None
    contact: str | None = None
    facts: Mapping[str, object] = field(default_factory=dict)
    contacts: tuple[Contact, ...] = ()

    @property
    def label(self) -> str:
        """How an error names it: the event, else what it records."""
        if self.name is not None:
            return self.name
        return "facts" if self.facts else "contacts"


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    action: str  # added, start, event, fact, contact, notify, transition, cancel
    state: str
    rule: str | None = None
    due: datetime | None = None
    contact: str | None = None
    event: str | None = None
    subject: str | None = None
    detail: str | None = None
    facts: Mapping[str, str | None] | None = None  # a fact entry: each as recorded (None: removed)
    role: str | None = None  # a contact entry: the contact's role ...
    title: str | None = None  # ... and title

    def to_json(self, calendar: WorkCalendar) -> dict[str, Any]:
        out: dict[str, Any] = {
            "at": calendar.local(self.at).isoformat(),
            "due": calendar.local(self.due).isoformat() if self.due else None,
            "rule": self.rule,
            "action": self.action,
            "state": self.state,
            "contact": self.contact,
        }
        if self.event is not None:
            out["event"] = self.event
        if self.subject is not None:
            out["subject"] = self.subject
        if self.detail is not None:
            out["detail"] = self.detail
        if self.facts is not None:
            out["facts"] = dict(self.facts)
        if self.role is not None:
            out["role"] = self.role
            out["title"] = self.title or ""
        return out


@dataclass
class Simulation:
    calendar: WorkCalendar
    timeline: list[TimelineEntry] = field(default_factory=list)
    state: str = ""  # the application's state as the timeline is built
    interviews: list[datetime] = field(default_factory=list)  # each interviewed_at, in turn
    instants: frozenset[str] = frozenset()  # the facts that hold an instant (shown local)


def simulate(
    pack: RulePack,
    *,
    interviewed: datetime,
    timezone: str | None = None,
    country: str | None = None,
    subdivision: str | None = None,
    until: datetime | None = None,
    contacts: Sequence[Contact] = (),
    facts: Mapping[str, object] | None = None,
    events: Iterable[PlannedEvent] = (),
    company: str = "Example Corp",
    role: str = "the role",
    added: datetime | None = None,
) -> Simulation:
    """Run the rules over a hypothetical interview and return the timeline.

    ``interviewed`` may be naive (read in ``timezone``). ``added`` is when the application
    is added (default: at the interview); an interview added ahead of time shows what comes
    before it, the entry ``added`` first and ``start`` at the interview. ``until`` defaults
    to 180 days after the interview.
    """
    engine = Engine(rules=pack, store=MemoryStore(), clock=FakeClock(datetime(2000, 1, 1, tzinfo=UTC)),
                    channels=[])
    engine.set_owner(_OWNER, timezone=timezone, country=country, subdivision=subdivision)
    calendar = engine.calendar(_OWNER)
    start = interviewed if interviewed.tzinfo else calendar.to_utc(interviewed)
    begin = start if added is None else (added if added.tzinfo else calendar.to_utc(added))
    if begin > start:
        raise InputError(f"--from {calendar.local(begin).isoformat()} comes after the interview "
                         f"({calendar.local(start).isoformat()}): an application is added at "
                         "its interview or before it")
    end = until or (start + timedelta(days=180))
    if end.tzinfo is None:
        end = calendar.to_utc(end)
    clock = engine.clock
    assert isinstance(clock, FakeClock)
    clock.set(begin)
    all_facts: dict[str, object] = {"interviewed_at": start, **(facts or {})}
    if "interviewed_at" not in pack.facts:
        all_facts.pop("interviewed_at")
    sim = Simulation(calendar=calendar, instants=frozenset(
        name for name, spec in pack.facts.items() if spec.type == "datetime"))
    outcome = engine.add(owner=_OWNER, company=company, role=role, facts=all_facts,
                          contacts=contacts, id="sim")
    if begin < start:
        sim.timeline.append(TimelineEntry(at=begin, action="added", state=pack.initial))
    else:
        sim.timeline.append(TimelineEntry(at=start, action="start", state=pack.initial))
    _collect(sim, outcome, begin, skip_created=True)
    app_id = outcome.application.id
    sim.state = outcome.application.state
    sim.interviews.append(start)
    pending = sorted(events, key=lambda e: e.at)
    for e in pending:
        if e.at.tzinfo is None:
            raise InputError(f"event {e.label!r} at {e.at} needs a time zone")
        if e.at < begin:
            raise InputError(f"event {e.label!r} at {calendar.local(e.at).isoformat()} comes "
                             "before the application is added: a dry run starts at the "
                             "interview, or at --from")
        if e.name is None and not e.facts and not e.contacts:
            raise InputError(f"the change at {calendar.local(e.at).isoformat()} records "
                             "nothing: give an event, facts or contacts")
    ran_at: datetime | None = None
    for _ in range(_TURNS_MOST):
        if len(sim.timeline) > TIMELINE_MOST:
            raise InputError(_too_long(sim, end))
        timers = engine.store.timers(owner=_OWNER)  # the application's and the owner's
        next_timer = timers[0].fire_at if timers else None
        if next_timer is not None and next_timer <= clock.now() and ran_at == clock.now():
            # Still due after a pass at this very time: it waits for the send window.
            next_timer = calendar.next_send_time(clock.now() + timedelta(minutes=1))
        next_event = pending[0].at if pending else None
        if next_timer is None and next_event is None:
            break
        if next_event is not None and (next_timer is None or next_event <= next_timer):
            if next_event > end:
                break
            planned = pending.pop(0)
            clock.set(max(planned.at, clock.now()))
            out = engine.log(app_id, event=planned.name, contact=planned.contact,
                             facts=planned.facts or None, contacts=planned.contacts,
                             at=planned.at if planned.name is not None else None)
            ran_at = None  # the event may have armed something due at once
            _collect(sim, out, clock.now())
        else:
            assert next_timer is not None
            if next_timer > end:
                break
            clock.set(max(next_timer, clock.now()))
            report = engine.run_due(clock.now(), deliver=False)
            ran_at = clock.now()
            for out in report.outcomes:
                _collect(sim, out, clock.now())
            for note in report.owner_notifications:
                sim.timeline.append(TimelineEntry(at=note.created_at, action="notify",
                                                  state=sim.state, rule=note.rule,
                                                  subject=note.subject))
    else:  # every turn fires, records or ends: this many means a loop
        raise InputError(f"the dry run did not end within {_TURNS_MOST:,} steps (it had "
                         f"reached {calendar.local(clock.now()).isoformat()}): give an "
                         "earlier --until")
    # Each interview among what happened before and after it: the first when it came
    # after the application was added, and each later round's.
    for interview in sim.interviews[0 if begin < start else 1:]:
        if interview > end:
            continue
        later = [i for i, e in enumerate(sim.timeline) if e.at > interview]
        at = later[0] if later else len(sim.timeline)
        state = sim.timeline[at - 1].state
        sim.timeline.insert(at, TimelineEntry(at=interview, action="start", state=state))
    return sim


def _too_long(sim: Simulation, end: datetime) -> str:
    rules: dict[str, int] = {}
    for entry in sim.timeline:
        if entry.rule is not None:
            rules[entry.rule] = rules.get(entry.rule, 0) + 1
    busiest = max(rules, key=rules.__getitem__, default=None)
    most = f"; {rules[busiest]:,} of them from rule {busiest!r}" if busiest else ""
    last = sim.timeline[-1].at
    return (f"the dry run made more than {TIMELINE_MOST:,} entries by "
            f"{sim.calendar.local(last).isoformat()}, before its end at "
            f"{sim.calendar.local(end).isoformat()}{most}: give an earlier --until, or "
            "let the rule repeat less often (every) or fewer times (limit)")


def _collect(sim: Simulation, outcome: Outcome, now: datetime, *, skip_created: bool = False) -> None:
    notes = {n.key: n for n in outcome.notifications}
    for h in outcome.entries:
        if h.to_state is not None:
            sim.state = h.to_state
        current = sim.state
        if h.kind == "created" and skip_created:
            continue
        if h.kind == "event":
            sim.timeline.append(TimelineEntry(at=h.at, action="event", state=current,
                                              event=h.name, contact=h.contact))
        elif h.kind == "facts":
            changed: dict[str, str | None] = {}
            for name, value in h.data.get("facts", {}).items():
                text = None if value is None else str(value)
                if text is not None and name in sim.instants:
                    instant = datetime.fromisoformat(text)
                    text = sim.calendar.local(instant).isoformat()
                    if name == "interviewed_at":
                        sim.interviews.append(instant)
                changed[str(name)] = text
            sim.timeline.append(TimelineEntry(at=h.at, action="fact", state=current,
                                              facts=changed))
        elif h.kind == "contact":
            sim.timeline.append(TimelineEntry(
                at=h.at, action="contact", state=current, contact=h.contact,
                role=str(h.data.get("role", "")), title=str(h.data.get("title", ""))))
        elif h.kind == "transition":
            sim.timeline.append(TimelineEntry(at=h.at, action="transition", state=current,
                                              rule=h.name))
        elif h.kind == "notified" and h.key in notes:
            n = notes[h.key]
            sim.timeline.append(TimelineEntry(at=h.at, action="notify", state=current,
                                              rule=h.name, due=n.due_at, contact=h.contact,
                                              subject=n.subject))
    final = outcome.application.state
    for t in outcome.cancelled:
        sim.timeline.append(TimelineEntry(
            at=now, action="cancel", state=final, rule=t.rule, due=t.due_at, contact=t.contact,
            detail=f"would have fired {sim.calendar.local(t.fire_at).isoformat()}"))
