"""The plan: every timer an application should have armed, derived from its state,
facts, contacts, history and the rules.

Timers are never the only truth. ``plan`` can be called at any time and gives the same
answer for the same inputs, so a rule edit re-plans every open application, and a lost
timer row heals itself. A timer's key names its rule, contact, the state entry it belongs
to and its occurrence, so the same reminder always carries the same idempotency key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from followup.keys import TimerKey, rule_key
from followup.language.conditions import holds
from followup.language.expressions import ExpressionError
from followup.language.pack import (
    CONTACT_ADDED,
    CREATED,
    ENTERED,
    AutoTransition,
    Rule,
    RulePack,
    TimeSpec,
)
from followup.model import (
    Application,
    Contact,
    HistoryEntry,
    Timer,
    new_timer,
    replaced,
)
from followup.runtime.facts import Context, fact_value
from followup.runtime.history import effective, snoozed_key
from followup.runtime.rounds import recorded_facts, round_contacts, round_start, stale
from followup.timing.calendar import Duration, WorkCalendar

__all__ = [
    "Entry",
    "Plan",
    "entries_of",
    "owner_slot",
    "owner_timer",
    "plan",
    "run_start",
    "variant_of",
]


@dataclass(frozen=True)
class Entry:
    """The application entered ``state`` at ``at`` (history position ``seq``)."""

    state: str
    seq: int
    at: datetime


def entries_of(history: Iterable[HistoryEntry]) -> list[Entry]:
    """Every entry into a state, in order: an event that leads back into the state the
    application is in (a new round, see ``followup.runtime.rounds``) enters it again."""
    out: list[Entry] = []
    for h in history:
        if h.to_state is not None and (not out or h.to_state != out[-1].state
                                       or h.kind == "event"):
            out.append(Entry(h.to_state, h.seq, h.at))
    return out


def run_start(entries: Sequence[Entry], states: frozenset[str] | Iterable[str] | None) -> Entry | None:
    """When the application last entered the set ``states`` (and has stayed in it since);
    ``None`` when it is not in the set now. ``None`` for states means every state."""
    if not entries:
        return None
    if states is None:
        return entries[0]
    wanted = states if isinstance(states, frozenset) else frozenset(states)
    start: Entry | None = None
    for e in reversed(entries):
        if e.state not in wanted:
            break
        start = e
    return start




# -- calendar arithmetic, remembered -------------------------------------------------------
#
# Re-planning an application after each event computes the same instants again: the same
# anchor plus the same rule offset, on the same owner's calendar. A WorkCalendar is a pure
# function of how it was built, and every instant it returns is in UTC, so the answers are
# remembered in the calendar's own ``memo``, keyed by the UTC instant and the offset's
# amounts: they live and die with the calendar, and the keys hold only instants, numbers
# and words, which the garbage collector does not walk. Keys are normalised to UTC: two
# local times an hour apart that differ only in ``fold`` compare equal. Errors are not
# remembered; they are raised again next time.

_MEMO_SIZE = 1 << 15  # answers per calendar; a full memo begins again


def _utc_key(instant: datetime) -> datetime | None:
    if instant.tzinfo is UTC:
        return instant
    if instant.tzinfo is None or instant.utcoffset() is None:
        return None  # the calendar refuses it, with its own message
    return instant.astimezone(UTC)


def _remember(memo: dict[object, datetime], key: object, value: datetime) -> datetime:
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = value
    return value


def send_time(calendar: WorkCalendar, instant: datetime) -> datetime:
    """``calendar.next_send_time(instant)``, remembered."""
    at = _utc_key(instant)
    if at is None:
        return calendar.next_send_time(instant)
    memo = calendar.memo
    found = memo.get(at)
    return found if found is not None else _remember(memo, at, calendar.next_send_time(at))


def _asked(at: datetime, duration: Duration, what: str) -> tuple[object, ...]:
    return (at, duration.months, duration.days, duration.working_days, duration.seconds,
            what)


def add_time(calendar: WorkCalendar, start: datetime, duration: Duration) -> datetime:
    """``calendar.add(start, duration)``, remembered."""
    at = _utc_key(start)
    if at is None:
        return calendar.add(start, duration)
    memo = calendar.memo
    key = _asked(at, duration, "add")
    found = memo.get(key)
    return found if found is not None else _remember(memo, key, calendar.add(at, duration))


def deadline_time(calendar: WorkCalendar, start: datetime, duration: Duration) -> datetime:
    """``calendar.deadline(start, duration)``, remembered."""
    at = _utc_key(start)
    if at is None:
        return calendar.deadline(start, duration)
    memo = calendar.memo
    key = _asked(at, duration, "deadline")
    found = memo.get(key)
    return (found if found is not None
            else _remember(memo, key, calendar.deadline(at, duration)))


class _Anchors:
    """Resolves a rule's ``at``/``due`` anchors to instants for one application."""

    def __init__(
        self,
        pack: RulePack,
        app: Application,
        calendar: WorkCalendar,
        added: dict[str, datetime],
        recorded: Mapping[str, datetime] | None = None,
    ) -> None:
        self.pack = pack
        self.app = app
        self.calendar = calendar
        self.added = added  # when each contact was first recorded
        self.recorded = recorded or {}  # when each fact was last recorded
        self.contact: str | None = None
        # Rules and contacts share anchors (``2 working days after interviewed_at`` for
        # each interviewer): each instant is worked out once per plan.
        self._fired: dict[tuple[object, ...], datetime | None] = {}
        self._deadlines: dict[tuple[object, ...], datetime | None] = {}

    def value(self, anchor: str, entered: Entry) -> datetime | date | None:
        if anchor == ENTERED:
            return entered.at
        if anchor == CREATED:
            return self.app.created_at
        if anchor == CONTACT_ADDED:
            return self.added.get(self.contact or "", self.app.created_at)
        value = fact_value(self.pack, self.app, anchor, self.calendar)
        return value if isinstance(value, datetime | date) else None

    def start(self, anchor: str, entered: Entry) -> datetime | None:
        """The anchor as an instant: a date counts from the opening of its send window."""
        base = self.value(anchor, entered)
        if base is None:
            return None
        return base if isinstance(base, datetime) else self.calendar.start_of_day(base)

    def _key(self, spec: TimeSpec, entered: Entry) -> tuple[object, ...]:
        # By identity: the pack's specs live as long as this plan, and hashing a frozen
        # dataclass walks its fields.
        return (id(spec), entered.at, self.contact if spec.anchor == CONTACT_ADDED else None)

    def fire(self, spec: TimeSpec, entered: Entry) -> datetime | None:
        key = self._key(spec, entered)
        if key in self._fired:
            return self._fired[key]
        start = self.start(spec.anchor, entered)
        if start is not None and spec.offset is not None:
            start = add_time(self.calendar, start, spec.offset)
        self._fired[key] = start
        return start

    def deadline(self, spec: TimeSpec, entered: Entry) -> datetime | None:
        key = self._key(spec, entered)
        if key in self._deadlines:
            return self._deadlines[key]
        found = self._deadlines[key] = self._deadline(spec, entered)
        return found

    def _deadline(self, spec: TimeSpec, entered: Entry) -> datetime | None:
        base = self.value(spec.anchor, entered)
        if base is None:
            return None
        if not isinstance(base, datetime):
            start = self.calendar.start_of_day(base)
            if spec.offset is None:
                return working_deadline(self.calendar, self.calendar.end_of_day(base))
        else:
            start = base
            if spec.offset is None:
                return start
        return working_deadline(self.calendar, deadline_time(self.calendar, start, spec.offset))


_NEXT_WORKING_DAY = Duration("1 working day", working_days=1)


def working_deadline(calendar: WorkCalendar, deadline: datetime) -> datetime:
    """Every deadline on a working day: one that falls on a weekend or a holiday ("10 days
    after" landing on a Saturday) moves to close of business on the next working day, when
    the person can act on it."""
    day = calendar.local_date(deadline)
    if calendar.is_working_day(day):
        return deadline
    return calendar.end_of_day(calendar.local_date(add_time(calendar, deadline,
                                                            _NEXT_WORKING_DAY)))


@dataclass(frozen=True)
class Plan:
    """What ``plan`` found: the timers, earliest first, and the rules it skipped because
    their condition could not be evaluated (one line each)."""

    timers: list[Timer]
    problems: tuple[str, ...] = ()


def plan(
    pack: RulePack,
    app: Application,
    history: Sequence[HistoryEntry],
    calendar: WorkCalendar,
    extra: Mapping[str, Any] | None = None,
    *,
    only: frozenset[tuple[str, str | None]] | None = None,
    moves: bool | None = None,
) -> Plan:
    """Every timer ``app`` should have armed now, earliest first. ``extra`` adds to what
    conditions see (the owner's counts). ``only``, when given, limits the plan to those
    (rule, contact) pairs of the application's reminders: after reminders fire, only
    their own rules change (the next occurrence, or none), so the rest of the plan
    stands. ``moves``: whether to plan the pack's timed moves too (by default only in
    a whole plan)."""
    if app.archived_at is not None:
        return Plan([])  # kept with its history, planned no more
    # What has happened: the events, the notifications already sent (per rule, state
    # entry and contact), the timed moves whose guard said no, when each contact was
    # first recorded, and the reminders snoozed; read through the corrections.
    history = effective(history)
    entries = entries_of(history)
    events: list[HistoryEntry] = []
    fired: dict[tuple[str, int, str | None], list[HistoryEntry]] = {}
    skipped: set[str | None] = set()
    added: dict[str, datetime] = {}
    snoozed: dict[str, datetime] = {}
    for h in history:
        kind = h.kind
        if kind == "event":
            events.append(h)
        elif kind == "notified":
            fired.setdefault((h.name, int(h.data["cycle"]), h.contact), []).append(h)
        elif kind == "skipped":
            skipped.add(h.key)
        elif kind == "created":
            for c in h.data.get("contacts", []):
                added.setdefault(str(c.get("name")), h.at)
        elif kind == "contact" and h.contact is not None:
            added.setdefault(h.contact, h.at)
        elif kind == "snooze":
            snoozed[snoozed_key(app.id, h)] = datetime.fromisoformat(str(h.data["until"]))
    anchors = _Anchors(pack, app, calendar, added, recorded_facts(history))
    # A later round (next_round, reopened) begins every stay anew, and its per-contact
    # reminders are for the people recorded in it (followup.runtime.rounds).
    this_round = round_start(entries, pack.initial)
    people = round_contacts(history, this_round) if this_round is not None else None
    timers: list[Timer] = []
    context_cache: dict[str | None, Context] = {}

    def context(contact: Contact | None) -> Context:
        # Worked out name by name: a condition reads one or two.
        key = contact.name if contact else None
        found = context_cache.get(key)
        if found is None:
            found = context_cache[key] = Context(pack, app, calendar, contact=contact,
                                                 extra=extra)
        return found

    # Rules armed in the same states share their stay: when it began, whether it is a
    # return, and the events since.
    stays: dict[frozenset[str] | None, _Stay | None] = {}
    # Only the rules that can arm in the application's state: the others would find no
    # stay. A state the pack does not know (stored under an edited pack) gets every rule.
    problems: list[str] = []
    rules = pack.rules_by_state.get(app.state)
    only_rules = None if only is None else {name for name, _ in only}
    for rule in rules if rules is not None else _application_rules(pack):
        if only_rules is not None and rule.name not in only_rules:
            continue
        states = rule.states
        if states in stays:
            stay = stays[states]
        else:
            stay = stays[states] = _stay(entries, events, states, this_round)
        if stay is None:
            continue
        entered = stay.entered
        targets: list[Contact | None]
        if rule.for_each is not None:
            targets = [c for c in app.contacts if c.role == rule.for_each and (
                people is None or this_round is None or stay.entered.seq < this_round.seq
                or c.name in people)]
        else:
            targets = [None]
        for contact in targets:
            if only is not None and (rule.name, contact.name if contact else None) not in only:
                continue
            if (rule.done_by is not None or rule.until is not None) and _finished(
                    pack, rule, contact, stay.events, events):
                continue
            if rule.condition is not None:
                try:
                    holds_now = holds(rule.condition, context(contact))
                except ExpressionError as exc:
                    # A condition that cannot be evaluated for this application arms
                    # nothing, and says so; it must not stop the application's other rules.
                    problems.append(f"rule {rule.name!r} was skipped: {exc}")
                    continue
                if not holds_now:
                    continue
            timer = _rule_timer(rule, app, contact, entered, anchors, calendar, fired,
                                stay.reentered)
            if timer is not None:
                until = snoozed.get(timer.key) if snoozed else None
                if until is not None and until > timer.fire_at:  # no earlier than asked
                    timer = replaced(timer, fire_at=until if rule.any_time
                                     else send_time(calendar, until))
                timers.append(timer)
    for auto in pack.transitions if (only is None if moves is None else moves) else ():
        timer = _transition_timer(auto, app, entries, calendar)
        if timer is not None and timer.key not in skipped:
            timers.append(timer)
    timers.sort(key=_timer_order)
    return Plan(timers, tuple(dict.fromkeys(problems)))


def _timer_order(timer: Timer) -> tuple[datetime, str]:
    return timer.fire_at, timer.key


@dataclass(frozen=True, slots=True)
class _Stay:
    """The application's current stay in a set of states."""

    entered: Entry  # when it began
    reentered: bool  # it had been in these states before, and left
    events: list[HistoryEntry]  # the events recorded since it began


def _stay(entries: Sequence[Entry], events: Sequence[HistoryEntry],
          states: frozenset[str] | None, this_round: Entry | None = None) -> _Stay | None:
    entered = run_start(entries, states)
    if entered is None:
        return None
    if this_round is not None and states is not None and entered.seq < this_round.seq:
        entered = this_round  # a stay begins again with each round
    seq = entered.seq
    reentered = states is not None and any(e.state in states for e in entries if e.seq < seq)
    return _Stay(entered, reentered, [e for e in events if e.seq >= seq])


# Compiled once per pack: which rules are the application's. A pack is immutable; the
# cache holds the pack itself, so an id is never reused while its entry lives.
_RULES: dict[int, tuple[RulePack, tuple[Rule, ...]]] = {}


def _application_rules(pack: RulePack) -> tuple[Rule, ...]:
    found = _RULES.get(id(pack))
    if found is None or found[0] is not pack:
        if len(_RULES) >= 64:
            _RULES.clear()
        found = _RULES[id(pack)] = (pack, pack.application_rules)
    return found[1]


def _finished(
    pack: RulePack,
    rule: Rule,
    contact: Contact | None,
    cycle_events: Sequence[HistoryEntry],
    all_events: Sequence[HistoryEntry],
) -> bool:
    """``done_by`` completes the reminder for this stay in the rule's states; ``until``
    stops it for good."""
    for name, events in ((rule.done_by, cycle_events), (rule.until, all_events)):
        if name is None:
            continue
        who = contact.name if contact is not None and pack.events[name].per_contact else None
        for e in events:
            if e.name == name and (who is None or e.contact == who):
                return True
    return False


def _rule_timer(
    rule: Rule,
    app: Application,
    contact: Contact | None,
    entered: Entry,
    anchors: _Anchors,
    calendar: WorkCalendar,
    fired: dict[tuple[str, int, str | None], list[HistoryEntry]],
    reentered: bool = False,
) -> Timer | None:
    cname = contact.name if contact else None
    anchors.contact = cname
    done = fired.get((rule.name, entered.seq, cname), [])
    occurrence = len(done)
    variant = variant_of(rule, app)
    if rule.every is None and any(d.data.get("variant", "") == variant for d in done):
        return None  # sent once for this timing (a new timing, e.g. the employer's date, re-arms)
    if rule.limit is not None and occurrence >= rule.limit:
        return None
    due: datetime | None = None
    override_due = False
    if rule.every is None or occurrence == 0:
        at_spec, due_spec = rule.at, rule.due
        for override in rule.instead:
            if app.facts.get(override.fact) is not None and not (
                    reentered and _earlier(anchors, override.fact, entered)):
                at_spec, due_spec = override.at, override.due
                override_due = due_spec is None
                break
        if (at_spec.anchor not in (ENTERED, CREATED, CONTACT_ADDED) and reentered
                and _earlier(anchors, at_spec.anchor, entered)):
            # Back in these states after leaving them (reopened, or a new round): a time
            # counted from a fact of an earlier round (recorded, and worth a time, before
            # this return) belongs to that round.
            return None
        raw = anchors.fire(at_spec, entered)
        if raw is None:
            return None
        if rule.not_before is not None:
            floor = anchors.fire(rule.not_before, entered)
            if floor is not None and floor > raw:
                raw = floor
        if due_spec is not None:
            due = anchors.deadline(due_spec, entered)
    else:
        assert rule.every is not None
        raw = add_time(calendar, done[-1].at, rule.every)
    fire_at = raw if rule.any_time else send_time(calendar, raw)
    if rule.not_after is not None and (rule.every is None or occurrence == 0):
        fire_at = _before(calendar, fire_at, anchors.fire(rule.not_after, entered))
    if override_due:  # the employer's own day: due by the end of the day it fires
        due = working_deadline(calendar, calendar.end_of_day(calendar.local_date(fire_at)))
    return new_timer(app.id, app.owner, rule_key(app.id, rule.name, entered.seq, cname, occurrence),
                     rule.name, "notify", fire_at, due, cname, None, occurrence)


def _earlier(anchors: _Anchors, fact: str, entered: Entry) -> bool:
    """Whether ``fact`` belongs to a round before the stay that began at ``entered``
    (see ``followup.runtime.rounds.stale``)."""
    start = anchors.start(fact, entered)
    return start is not None and stale(anchors.pack, anchors.recorded, fact, start, entered.at)


def _before(calendar: WorkCalendar, fire_at: datetime, limit: datetime | None) -> datetime:
    """``fire_at``, or when it is not before ``limit`` (an interview at 08:30, before the
    send window opens), close of business on the last working day before ``limit``'s
    date: the evening before, when the person can still act on it."""
    if limit is None or fire_at < limit:
        return fire_at
    day = calendar.local_date(limit) - timedelta(days=1)
    for _ in range(366):  # a calendar with no working day in a year has none at all
        if calendar.is_working_day(day):
            return calendar.end_of_day(day)
        day -= timedelta(days=1)
    return fire_at


def _transition_timer(
    auto: AutoTransition, app: Application, entries: Sequence[Entry], calendar: WorkCalendar
) -> Timer | None:
    if auto.after is None:
        return None
    entered = run_start(entries, auto.sources)
    if entered is None:
        return None
    return new_timer(app.id, app.owner,
                     str(TimerKey.transition(app.id, auto.name, cycle=entered.seq)),
                     auto.name, "transition", add_time(calendar, entered.at, auto.after),
                     None, None, auto.dest, 0)


def owner_timer(
    rule: Rule,
    owner: str,
    calendar: WorkCalendar,
    *,
    after: datetime,
    occurrence: int,
    past: datetime | None = None,
) -> Timer | None:
    """The next timer of an owner-level rule: ``every`` after ``after`` (the slot of the
    last nudge, or the moment the rule's condition came to hold), and past ``past`` (a
    pass that ran late skips the slots it missed rather than sending them all).

    The nudges keep a fixed weekly (or monthly) slot: each counts from the slot before
    it, not from when that one went out, so a nudge a holiday held to Wednesday 09:00 is
    followed by the next Tuesday 14:00 again. A slot the send window moved travels in the
    timer's ``target`` (an owner-level timer moves no application, so the field is free),
    as an instant; otherwise the slot is the fire time itself."""
    if rule.every is None or (rule.limit is not None and occurrence >= rule.limit):
        return None
    raw = calendar.add(after, rule.every)
    while past is not None and raw <= past:
        raw = calendar.add(raw, rule.every)
    fire_at = raw if rule.any_time else calendar.next_send_time(raw)
    day = calendar.local_date(fire_at).isoformat()
    return Timer(
        application_id="",
        owner=owner,
        key=str(TimerKey.owner_rule(owner, rule.name, day=day)),
        rule=rule.name,
        action="notify",
        fire_at=fire_at,
        target=None if raw == fire_at else raw.astimezone(UTC).isoformat(),
        occurrence=occurrence,
    )


def owner_slot(timer: Timer) -> datetime:
    """The slot an owner-level timer was planned for (before the send window moved it);
    its fire time for a timer planned before slots were kept."""
    if timer.target:
        try:
            return datetime.fromisoformat(timer.target)
        except ValueError:
            pass
    return timer.fire_at


def variant_of(rule: Rule, app: Application) -> str:
    """Which timing a one-off rule uses now: '' for its own, else the fact of the first
    ``instead`` that applies. A reminder is sent once per timing."""
    for override in rule.instead:
        if app.facts.get(override.fact) is not None:
            return override.fact
    return ""
