"""A small reference model of the engine under the default rule pack, for the model test.

It is written from the pack's text and the promises in DESIGN.md, not from the engine's
code, so the two can disagree: the state machine (events, the pack's own moves), which
reminders an application owes (per rule and contact: ``no``, ``yes`` or ``maybe`` where
the model cannot tell without the engine's arithmetic), the owner's keep-looking nudge,
and the outbox (each row's status and attempts, the retry waits' bounds) under a channel
whose weather the test sets: fine, down (raises before sending) or lossy (sends, then
raises: the answer was lost, so a second send of that key is allowed).

When a reminder is owed is not modelled (working days, send windows, holidays belong to
the calendar's own tests); that it is owed, and that it stops being owed, is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from followup import load_rules
from followup.delivery.dispatcher import BACKOFF_BASE, BACKOFF_CAP, MAX_ATTEMPTS
from followup.language.pack import CONTACT_ADDED, CREATED, ENTERED, Rule
from followup.model import Delivery, Notification, Timer
from followup.timing.calendar import WorkCalendar
from followup.timing.clock import FakeClock

PACK = load_rules()
Owed = Literal["no", "yes", "maybe"]
Weather = Literal["fine", "down", "lossy"]


class AppModel:
    """What the model knows of one application."""

    def __init__(self, app_id: str, contacts: dict[str, str], *, ahead: bool = False,
                 at: datetime | None = None) -> None:
        self.id = app_id
        self.ahead = ahead  # the interview lay ahead when the application was added
        self.contacts = contacts  # name -> role
        # Rounds (a move into the initial state after the first: next_round, reopened):
        # each as (its entry's index, its place in the order of records, its time), and
        # each contact's records as (place, time). A later round's people are those
        # recorded after it began, or before it at its time or later.
        self.order = 0
        self.rounds: list[tuple[int, int, datetime | None]] = []
        self.marks: dict[str, list[tuple[int, datetime | None]]] = {
            name: [(0, at)] for name in contacts}
        self.facts: dict[str, str] = {"interviewed_at": "set"}
        self.entries: list[str] = [PACK.initial]  # each state entered, in order
        self.events: list[tuple[int, str, str | None]] = []  # (entry index, event, contact)
        self.fired: list[tuple[str, str | None, int, str]] = []  # rule, contact, stay, variant
        self.last_mover: str | None = None  # the event that last moved it, if one did

    @property
    def state(self) -> str:
        return self.entries[-1]

    def enter(self, state: str, mover: str | None, at: datetime | None = None) -> None:
        """A move; an event into the initial state enters it again, from it too: a round."""
        if state != self.state or (mover is not None and state == PACK.initial):
            self.entries.append(state)
            if state == PACK.initial:
                self.order += 1
                self.rounds.append((len(self.entries) - 1, self.order, at))
        self.last_mover = mover

    def mark(self, name: str, at: datetime | None) -> None:
        """The contact ``name`` recorded (added, changed, or recorded again in a later
        round) at ``at``."""
        self.order += 1
        self.marks.setdefault(name, []).append((self.order, at))

    def round_people(self) -> set[str] | None:
        """The contacts of the current round when it is a later one, else None."""
        if not self.rounds:
            return None
        _, order, at = self.rounds[-1]
        return {name for name, marks in self.marks.items()
                if any(o > order or (w is not None and at is not None and w >= at)
                       for o, w in marks)}

    def records(self, name: str, role: str) -> bool:
        """Whether recording the contact ``name`` as ``role`` (the test's contacts differ
        only in role) writes an entry: new, changed, or of an earlier round."""
        people = self.round_people()
        return (self.contacts.get(name) != role
                or (people is not None and name not in people))

    def stay(self, states: frozenset[str] | tuple[str, ...] | None) -> tuple[int, bool] | None:
        """Where the current stay in ``states`` began (an index into ``entries``) and
        whether it is a return to them; None when the application is not in them."""
        if states is None:
            return 0, False
        if self.state not in states:
            return None
        i = len(self.entries) - 1
        while i > 0 and self.entries[i - 1] in states:
            i -= 1
        if self.rounds and i < self.rounds[-1][0]:
            i = self.rounds[-1][0]  # a stay begins again with each round
        return i, any(s in states for s in self.entries[:i])

    def did(self, event: str, since: int, contact: str | None = None) -> bool:
        return any(e == event and i >= since and (contact is None or c == contact)
                   for i, e, c in self.events)

    def record(self, event: str, contact: str | None) -> None:
        self.events.append((len(self.entries) - 1, event, contact))

    def settle(self) -> None:
        """The pack's own moves that need no clock: every interviewer thanked."""
        for auto in PACK.transitions:
            stay = self.stay(auto.sources)
            if auto.timed or stay is None or auto.every is None or auto.did is None:
                continue
            people = {n for n, r in self.contacts.items() if r == auto.every}
            this_round = self.round_people()
            if this_round is not None:
                people &= this_round  # a later round: its own people
            if people and all(self.did(auto.did, stay[0], n) for n in people):
                self.enter(auto.dest, None)

    @property
    def not_interested(self) -> bool:
        return self.facts.get("not_interested") == "true"

    def variant(self, rule: Rule) -> str:
        """Which timing a one-off reminder has now: its own, or the first ``instead``
        whose fact is known (each timing is sent once)."""
        return next((o.fact for o in rule.instead if o.fact in self.facts), "")


class OwnerModel:
    """One owner's applications."""

    def __init__(self) -> None:
        self.apps: list[AppModel] = []

    def active(self) -> int:
        return sum(a.state in PACK.active for a in self.apps)

    def count(self, state: str, *, besides: AppModel | None = None) -> int:
        return sum(a.state == state for a in self.apps if a is not besides)

    def owes(self, app: AppModel, rule: Rule, contact: str | None, *, settled: bool) -> Owed:
        """Whether ``app`` owes ``rule``'s reminder (to ``contact``) now. ``settled``:
        the owner's re-plan of applications that look at the others has run."""
        if rule.for_each is not None and app.contacts.get(str(contact)) != rule.for_each:
            return "no"
        stay = app.stay(rule.states)
        if stay is None:
            return "no"
        start, reentered = stay
        if (rule.for_each is not None and app.rounds and start >= app.rounds[-1][0]
                and contact not in (app.round_people() or set())):
            return "no"  # a later round's reminders are for its own people
        if rule.done_by is not None and app.did(
                rule.done_by, start, contact if PACK.events[rule.done_by].per_contact else None):
            return "no"
        if rule.until is not None and app.did(rule.until, 0):
            return "no"
        if not condition(self, app, rule):
            return "maybe" if looks_around(rule) and not settled else "no"
        sent = [v for r, c, s, v in app.fired if (r, c, s) == (rule.name, contact, start)]
        if rule.limit is not None and len(sent) >= rule.limit:
            return "no"
        if rule.every is None and app.variant(rule) in sent:
            return "no"
        at = next((o.at for o in rule.instead if o.fact in app.facts), rule.at)
        if reentered and at.anchor not in (ENTERED, CREATED, CONTACT_ADDED):
            return "maybe"  # a fact recorded before the return may belong to the last round
        if looks_around(rule) and not settled:
            return "maybe"
        return "yes"

    def fired(self, note: Notification) -> None:
        """A reminder went out: the model counts it against its stay."""
        app = next(a for a in self.apps if a.id == note.application_id)
        rule = PACK.rule(note.rule)
        stay = app.stay(rule.states)
        assert stay is not None, (note.key, app.state)  # fired outside the rule's states
        sent = (rule.name, note.contact, stay[0], app.variant(rule))
        assert rule.every is not None or sent not in app.fired, f"{note.key} sent again"
        if rule.limit is not None:
            assert [f[:3] for f in app.fired].count(sent[:3]) < rule.limit, note.key
        app.fired.append(sent)


# The pack's conditions, said again in Python, by their text (a pack with a condition not
# said here fails at once). Every contact the test records has a title: none is untitled.
CONDITIONS: dict[str, Callable[[OwnerModel, AppModel], bool]] = {
    "interviewed_at > application.created_at": lambda o, a: a.ahead,
    "count.interviewer == 0": lambda o, a: "interviewer" not in a.contacts.values(),
    "count.interviewer == 0 or untitled.interviewer > 0":
        lambda o, a: "interviewer" not in a.contacts.values(),
    "count.referral == 0": lambda o, a: "referral" not in a.contacts.values(),
    "decision_expected_on is none and not not_interested":
        lambda o, a: "decision_expected_on" not in a.facts and not a.not_interested,
    "not not_interested": lambda o, a: not a.not_interested,
    "elsewhere.offer > 0 and not not_interested":
        lambda o, a: o.count("offer", besides=a) > 0 and not a.not_interested,
    "elsewhere.accepted > 0": lambda o, a: o.count("accepted", besides=a) > 0,
}
# The owner's own rules (keep-looking), over all of the owner's applications. The
# model's owners never say they stopped looking (tests/unit/test_looking.py does).
OWNER_CONDITIONS: dict[str, Callable[[OwnerModel], bool]] = {
    "active_applications < 3": lambda o: o.active() < 3,
    "looking and active_applications > 0 and active_applications < 3 and "
    "applications.accepted == 0":
        lambda o: 0 < o.active() < 3 and o.count("accepted") == 0,
    "active_applications == 0 and applications.accepted == 0":
        lambda o: o.active() == 0 and o.count("accepted") == 0,
    "looking and active_applications == 0 and applications.offer == 0 and "
    "applications.accepted == 0":
        lambda o: o.active() == 0 and o.count("offer") == 0 and o.count("accepted") == 0,
}
for _rule in PACK.rules:
    if _rule.condition is not None:
        assert _rule.condition.source in (
            OWNER_CONDITIONS if _rule.scope == "owner" else CONDITIONS), _rule.condition.source
assert not [e for e in PACK.events.values() if e.guard is not None]
assert not [t for t in PACK.transitions if t.guard is not None or t.when is not None]


def condition(owner: OwnerModel, app: AppModel, rule: Rule) -> bool:
    return rule.condition is None or CONDITIONS[rule.condition.source](owner, app)


def looks_around(rule: Rule) -> bool:
    """Its condition counts the owner's other applications: re-planned by the owner's
    next pass, not at once."""
    return rule.condition is not None and "elsewhere" in rule.condition.names


def owner_owes(owner: OwnerModel, rule: Rule) -> Owed:
    """Whether an owner's own rule must be armed after a pass (``maybe``: its limit may
    have been reached; the model does not count an owner's nudges)."""
    assert rule.condition is not None
    if not OWNER_CONDITIONS[rule.condition.source](owner):
        return "no"
    return "yes" if rule.limit is None else "maybe"


class FlakyChannel:
    """The console channel under the test's weather, read from the fake clock: down
    until a time (each send raises before anything goes out), or lossy until a time
    (each send goes out, then raises as if the answer were lost). ``log`` keeps every
    attempt: (key, "ok" | "refused" | "lost")."""

    name = "console"

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.weather: tuple[Weather, datetime] = ("fine", clock.now())
        self.log: list[tuple[str, str]] = []

    def now(self) -> Weather:
        kind, until = self.weather
        return kind if self.clock.now() < until else "fine"

    def send(self, notification: Notification) -> None:
        weather = self.now()
        outcome = {"fine": "ok", "down": "refused", "lossy": "lost"}[weather]
        self.log.append((notification.key, outcome))
        if weather == "down":
            raise ConnectionError("console is down (the model test's weather)")
        if weather == "lossy":
            raise TimeoutError("console took it, but its answer was lost")


@dataclass
class Row:
    """One outbox row as the model expects it."""

    status: str = "pending"
    attempts: int = 0
    next_at: datetime | None = None  # the store's value, once checked against its bounds


class Outbox:
    """The outbox, one channel: what a delivery pass must do to each row."""

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self.bounds: dict[str, tuple[datetime, datetime]] = {}  # retry waits to check

    def check(self, deliveries: list[Delivery], log: list[tuple[str, str]]) -> None:
        """The store's rows are the model's, each with its status and attempts, a retry
        wait just set within its bounds (then taken as the model's); no key reached the
        channel twice without a failure in between, and the rows delivered are the keys
        the channel took."""
        rows = {d.notification.key: d for d in deliveries}
        assert all(d.channel == "console" for d in deliveries)
        assert set(rows) == set(self.rows)  # nothing lost, nothing unexplained
        for key, want in self.rows.items():
            got = rows[key]
            assert (got.status, got.attempts) == (want.status, want.attempts), (got, want)
            if key in self.bounds:  # failed just now: waits within its bounds
                low, high = self.bounds[key]
                assert got.next_attempt_at is not None and low <= got.next_attempt_at <= high
                assert got.last_error
                want.next_at = got.next_attempt_at
        self.bounds = {}
        assert sent_twice(log) == []
        delivered = {k for k, d in rows.items() if d.status == "delivered"}
        assert delivered == {k for k, outcome in log if outcome == "ok"}

    def add(self, key: str) -> None:
        assert key not in self.rows, f"{key} fired twice"
        self.rows[key] = Row()

    def deliver(self, now: datetime, weather: Weather) -> Counter[tuple[str, str]]:
        """Every pending row due at ``now`` is tried once, in any order; returns the
        attempts the channel must have seen."""
        assert not self.bounds, "the last pass's retry waits were not checked"
        seen: Counter[tuple[str, str]] = Counter()
        for key, row in self.rows.items():
            if row.status != "pending" or (row.next_at is not None and row.next_at > now):
                continue
            row.attempts += 1
            seen[(key, {"fine": "ok", "down": "refused", "lossy": "lost"}[weather])] += 1
            if weather == "fine":
                row.status, row.next_at = "delivered", None
            elif row.attempts >= MAX_ATTEMPTS:
                row.status, row.next_at = "dead", None
            else:
                ceiling = timedelta(seconds=min(BACKOFF_CAP,
                                                BACKOFF_BASE * 2 ** (row.attempts - 1)))
                self.bounds[key] = (now + ceiling / 2, now + ceiling)
        return seen


def check_reminders(owner: OwnerModel, app: AppModel, state: str, timers: list[Timer],
                    calendar: WorkCalendar, *, settled: bool) -> int:
    """``app``'s stored timers against the model: each reminder pending is owed, each
    the model says must be owed is pending, each move armed leaves the state it is in,
    and working-day times fall on working days. Returns how many reminders the model
    said must be owed."""
    pending = {(t.rule, t.contact) for t in timers if t.action == "notify"}
    for timer in timers:
        if timer.action != "notify":
            auto = next(t for t in PACK.transitions if t.name == timer.rule)
            assert state in auto.sources, (timer, state)
            continue
        rule = PACK.rule(timer.rule)
        assert owner.owes(app, rule, timer.contact, settled=settled) != "no", timer
        if not rule.any_time:
            assert calendar.is_working_day(calendar.local_date(timer.fire_at)), timer
        offset = rule.due.offset if rule.due is not None else None
        if timer.due_at is not None and offset is not None and offset.working_days:
            due = calendar.local(timer.due_at)
            assert calendar.is_working_day(due.date()), timer
            assert (due.hour, due.minute) == (17, 0), timer  # the pack's close of business
    owed = 0
    for rule in PACK.rules:
        if rule.scope == "owner":
            continue
        targets: list[str | None] = [None] if rule.for_each is None else [
            n for n, r in app.contacts.items() if r == rule.for_each]
        for contact in targets:
            if owner.owes(app, rule, contact, settled=settled) == "yes":
                owed += 1
                assert (rule.name, contact) in pending, (rule.name, contact, timers)
    return owed


def sent_twice(log: list[tuple[str, str]]) -> list[str]:
    """Keys the channel received again after a send that did not fail (a "lost" send
    is a failure: its sender was told it failed, so it tries again)."""
    landed: set[str] = set()
    twice = []
    for key, outcome in log:
        if key in landed:
            twice.append(key)
        if outcome == "ok":
            landed.add(key)
    return twice
