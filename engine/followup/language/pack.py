"""A rule pack, compiled: what the engine runs. Built by ``followup.language.loader``.

Everything here is checked and compiled when the pack loads: states and events exist,
durations parse, conditions and templates compile. The engine never re-reads YAML.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, time
from functools import cached_property
from typing import Literal

from followup.errors import InputError, InvalidFact, Problem, suggest
from followup.language.expressions import Condition, Template
from followup.model import Contact
from followup.timing.calendar import Duration, WorkCalendar

__all__ = [
    "AutoTransition",
    "CalendarSpec",
    "EventSpec",
    "FactSpec",
    "MessageSpec",
    "Override",
    "Rule",
    "RulePack",
    "TimeSpec",
    "edit_distance",
    "merge_contacts",
    "misspelt_rule",
]

FactType = Literal["datetime", "date", "text", "bool", "number"]
#: What a pack says about itself, not what it does: left out of ``RulePack.fingerprint``.
_NOT_MEANING = frozenset({"name", "description", "files", "warnings"})

#: The anchor meaning "when the application entered the rule's state(s)".
ENTERED = "entered"
#: The anchor meaning "when the application was added".
CREATED = "created"
#: The anchor meaning "when this contact was recorded" (in per-contact rules).
CONTACT_ADDED = "contact_added"
#: The application's own fields, which no fact sets, and how each is changed instead
#: (what ``check_fact_names`` says when one is given as a fact).
APPLICATION_FIELDS = {
    "company": "change it with followup edit APP --company NAME (Engine.edit)",
    "role": "change it with followup edit APP --role NAME (Engine.edit)",
    "id": "an application keeps the id it was added with",
    "owner": "an application keeps the owner it was added for",
    "state": "the state follows the events logged (followup log APP EVENT)",
}
#: Names about the owner's other applications, for application rules.
OWNER_NAMES = frozenset({"active_applications", "applications", "elsewhere"})
#: Names about the owner's own settings (``Owner``), for rules with ``scope: owner`` only.
OWNER_SETTINGS = frozenset({"looking"})


@dataclass(frozen=True)
class TimeSpec:
    """``[DURATION after] ANCHOR``: an instant relative to a fact or to entering a state."""

    text: str
    anchor: str
    offset: Duration | None = None


@dataclass(frozen=True)
class Override:
    """A timing that wins over a rule's own when ``fact`` is known."""

    fact: str
    at: TimeSpec
    due: TimeSpec | None = None


@dataclass(frozen=True)
class MessageSpec:
    """What a reminder says and where it goes."""

    subject: Template
    body: Template | None
    channels: tuple[str, ...]
    template: str | None = None  # the template's name, when from templates:
    own_channels: bool = False  # the rule names its channels (an owner's choice yields)


@dataclass(frozen=True)
class Rule:
    """A reminder: armed in some states, fired at a time, due by a deadline."""

    name: str
    states: frozenset[str] | None  # None: armed in every state
    at: TimeSpec
    message: MessageSpec
    due: TimeSpec | None = None
    for_each: str | None = None
    condition: Condition | None = None
    instead: tuple[Override, ...] = ()
    every: Duration | None = None
    limit: int | None = None
    done_by: str | None = None
    until: str | None = None
    any_time: bool = False
    description: str = ""
    scope: Literal["application", "owner"] = "application"
    not_before: TimeSpec | None = None  # never fires earlier (e.g. before the interview ends)
    # Never fires at or after it: instead at close of business of the working day before
    # (e.g. preparation for an interview that starts before the send window opens).
    not_after: TimeSpec | None = None


@dataclass(frozen=True)
class EventSpec:
    """An event a person records."""

    name: str
    per_contact: bool = False
    role: str | None = None
    sources: tuple[str, ...] | None = None  # None: any state
    dest: str | None = None  # None: the state does not change
    guard: Condition | None = None
    description: str = ""


@dataclass(frozen=True)
class AutoTransition:
    """A move the rules make themselves: when a condition holds, or after a time."""

    name: str
    sources: tuple[str, ...]
    dest: str
    every: str | None = None  # with did: every contact of this role ...
    did: str | None = None  # ... has had this per-contact event
    when: Condition | None = None
    guard: Condition | None = None
    after: Duration | None = None

    @property
    def timed(self) -> bool:
        return self.after is not None


@dataclass(frozen=True)
class FactSpec:
    name: str
    type: FactType
    description: str = ""
    default: TimeSpec | None = None  # a datetime or date fact's value until one is recorded
    free: bool = False  # any text a person writes (notes): declared with free: true


@dataclass(frozen=True)
class CalendarSpec:
    """The pack's calendar; an owner's time zone, country and subdivision override it."""

    timezone: str = "UTC"
    country: str | None = None
    subdivision: str | None = None
    workweek: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    send_window: tuple[time, time] | None = (time(9), time(18))
    quiet_hours: tuple[tuple[time, time], ...] = ()
    close_of_business: time | None = time(17)
    holidays: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()

    def build(
        self,
        *,
        timezone: str | None = None,
        country: str | None = None,
        subdivision: str | None = None,
        quiet_hours: Sequence[tuple[time, time]] = (),
        check_country: bool = True,
    ) -> WorkCalendar:
        """The working calendar of an owner who lives by this pack; ``quiet_hours`` are
        the owner's own, on top of the pack's (``check_country``: see WorkCalendar)."""
        if country is not None and subdivision is None and country != self.country:
            sub = None  # another country's subdivision makes no sense
        else:
            sub = subdivision if subdivision is not None else self.subdivision
        return WorkCalendar(
            timezone=timezone or self.timezone,
            country=country if country is not None else self.country,
            subdivision=sub,
            workweek=self.workweek,
            extra_holidays=self.holidays,
            extra_working_days=self.working_days,
            send_window=self.send_window,
            quiet_hours=(*self.quiet_hours, *quiet_hours),
            close_of_business=self.close_of_business,
            check_country=check_country,
        )


@dataclass(frozen=True)
class RulePack:
    """A loaded, checked rule pack."""

    name: str
    files: tuple[str, ...]  # the file and every file it extends, child first
    states: tuple[str, ...]
    initial: str
    calendar: CalendarSpec
    channels: tuple[str, ...]
    roles: tuple[str, ...]
    facts: dict[str, FactSpec]
    events: dict[str, EventSpec]
    transitions: tuple[AutoTransition, ...]
    rules: tuple[Rule, ...]
    description: str = ""
    warnings: tuple[Problem, ...] = field(default=())
    active: tuple[str, ...] = ()  # states in play; empty means every state

    def is_active(self, state: str) -> bool:
        return not self.active or state in self.active

    @property
    def owner_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.scope == "owner")

    @property
    def application_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.scope == "application")

    @cached_property
    def watched_states(self) -> frozenset[str] | None:
        """The states whose comings and goings change another application's plan:
        ``None`` when any move does (a condition counts active applications)."""
        conditions = [r.condition for r in self.application_rules]
        conditions += [t.when for t in self.transitions] + [t.guard for t in self.transitions]
        conditions += [e.guard for e in self.events.values()]
        watched: set[str] = set()
        for c in conditions:
            if c is None or not c.names & OWNER_NAMES:
                continue
            if "active_applications" in c.names:
                return None
            watched |= c.fields.get("elsewhere", frozenset()) | c.fields.get(
                "applications", frozenset())
        return frozenset(watched)

    @cached_property
    def rules_by_state(self) -> dict[str, tuple[Rule, ...]]:
        """Per state, the application rules that can arm in it (``while`` names it, or
        names no state), in the pack's order."""
        return {state: tuple(r for r in self.application_rules
                             if r.states is None or state in r.states)
                for state in self.states}

    @cached_property
    def owner_context_states(self) -> frozenset[str] | None:
        """The states in which some application rule looks at the owner's other
        applications (None: any state)."""
        states: set[str] = set()
        for r in self.application_rules:
            if r.condition is not None and r.condition.names & OWNER_NAMES:
                if r.states is None:
                    return None
                states |= r.states
        for t in self.transitions:
            if any(c is not None and c.names & OWNER_NAMES for c in (t.when, t.guard)):
                states |= set(t.sources)
        if any(e.guard is not None and e.guard.names & OWNER_NAMES
               for e in self.events.values()):
            return None
        return frozenset(states)

    @cached_property
    def fingerprint(self) -> str:
        """A hash of what the pack means: its compiled states, events, moves, rules,
        templates and calendar, whichever files they came from. The same YAML gives the
        same fingerprint from any path, after a move, from the pack cache or compiled
        again; a change of anything the engine runs (a rule's ``at``, a template's
        text) gives another. Its name, description, files and warnings are left out:
        they change nothing the engine does. Each application records the fingerprint
        of the pack that last planned it (``Application.planned_by``)."""
        import hashlib
        import json

        from followup.language._packcodec import encode  # it imports this module

        meaning = {f.name: encode(getattr(self, f.name), fast=False) for f in fields(self)
                   if f.name not in _NOT_MEANING}
        text = json.dumps(meaning, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]

    @cached_property
    def uses_owner_context(self) -> bool:
        """Whether an application's plan depends on the owner's other applications."""
        conditions = [r.condition for r in self.application_rules]
        conditions += [t.when for t in self.transitions] + [t.guard for t in self.transitions]
        conditions += [e.guard for e in self.events.values()]
        return any(c is not None and c.names & OWNER_NAMES for c in conditions)

    def check_fact_names(self, names: Iterable[str], *, where: str = "--fact") -> None:
        """Refuse a fact the pack does not declare, with the closest declared one: a
        misspelt ``decison_expected_on`` would be stored and never read. A field of the
        application itself (``company``) is named as such, since no fact changes it."""
        for name in names:
            if name in self.facts:
                continue
            if name in APPLICATION_FIELDS:
                raise InvalidFact(
                    f"{where} {name}: {name!r} is the application's own field, not a fact, "
                    f"so it cannot be logged as one; {APPLICATION_FIELDS[name]}")
            declared = ", ".join(self.facts) or "none"
            raise InvalidFact(
                f"{where} {name}: the rule pack {self.name!r} declares no fact {name!r}"
                f"{suggest(name, self.facts)}; facts are {declared}. To keep other text, "
                f"declare it in your pack under facts: ({name}: {{free: true}})")

    def rule(self, name: str) -> Rule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(name)


#: How many single-character edits make a rule's name a misspelling of an inherited one.
NEAR_MISS = 2


def edit_distance(a: str, b: str, *, most: int = NEAR_MISS) -> int:
    """The Levenshtein distance of ``a`` and ``b`` (insertions, deletions, substitutions),
    or ``most + 1`` once it is sure to be larger than ``most``.

    >>> edit_distance("thank-you-note", "thank-you-notes")
    1
    """
    if abs(len(a) - len(b)) > most:
        return most + 1
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (char != other)))
        if min(current) > most:
            return most + 1
        previous = current
    return previous[-1]


def misspelt_rule(name: str, inherited: Iterable[str]) -> str | None:
    """The inherited rule ``name`` is a misspelling of, if any: within ``NEAR_MISS``
    edits (one for a name of four characters or fewer), the closest first. A pack that
    extends another and names ``thank-you-note`` meant ``thank-you-notes``, not a 12th
    rule that sends a second reminder."""
    most = 1 if len(name) <= 4 else NEAR_MISS
    close = sorted((edit_distance(name, other, most=most), other) for other in inherited)
    return close[0][1] if close and close[0][0] <= most else None


def merge_contacts(pack: RulePack, existing: Iterable[Contact], new: Iterable[Contact], *,
                   replace_existing: bool = False, where: str = "") -> tuple[Contact, ...]:
    """``existing`` with ``new`` added (or, with ``replace_existing``, replacing the one of
    the same name), in order: the one check of an application's contacts.

    Refuses a contact without a name, a role the pack does not define and a name given
    twice, with an ``InputError`` that starts with ``where`` (a file and line) when given,
    e.g. ``apps.json:3: contact 'Jane Doe' has the unknown role 'interviewr' (did you mean
    'interviewer'?): roles are interviewer, referral, reference, recruiter``.
    """
    at = f"{where}: " if where else ""
    out = {c.name: c for c in existing}
    for c in new:
        if not c.name.strip():
            raise InputError(f"{at}a contact needs a name")
        if c.role not in pack.roles:
            raise InputError(f"{at}contact {c.name!r} has the unknown role {c.role!r}"
                             f"{suggest(c.role, pack.roles)}: roles are {', '.join(pack.roles)}")
        if c.name in out and not replace_existing:
            raise InputError(f"{at}two contacts are named {c.name!r}: names must be unique "
                             "within an application")
        out[c.name] = c
    return tuple(out.values())
