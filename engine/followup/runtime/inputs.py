"""What each rule of a pack reads, so that a change re-plans only the rules it touched.

A plan is a pure function of the application's state, facts, contacts and history (see
``followup.runtime.planner``). An event that moves no state, a fact set or a contact
recorded changes only some of that, and only the rules that read it can plan anything
else: a ``thank_you_sent`` for one interviewer changes the thank-you note for that one
person, not the follow-up call. ``touched`` says which (rule, contact) pairs a change's
history entries can have moved; every other rule's timers, as stored, are already what
a whole plan would give.

What a rule reads is derived from its compiled fields: the facts named in its anchors
(``at``, ``due``, ``not_before``, ``not_after``, ``instead``) and in its condition, with the facts their
declared defaults count from; the events of ``done_by`` and ``until``; the contacts of
its ``for_each`` role; through its condition, the contacts as a whole (``count``,
``untitled``, ``contacts``), the state (``state``, ``application``) and the owner's other
applications (``elsewhere``; ``applications`` and ``active_applications`` count this one
too, in its state). A condition that names anything else (a name this module does not
know) makes the rule read everything, so it is planned again on every change: when in
doubt, the whole rule.

A change that moves the state is judged too. A rule armed in every state the change
passes through keeps its stay (the same entry, the same keys): it is planned again only
for what the change touched, or when it reads the state. A rule the new state arms that
was not armed all along begins a stay: planned. A rule the new state does not arm has
nothing armed. A move that enters a state again (a new round, an event back into the
state it left) is not judged, nor is anything but an event, a move, facts or a contact:
the change path plans those in full.

The owner's other applications change behind this application's back: their moves
leave the owner a re-plan marker (``followup.runtime.owner_rules``), and while one is
waiting, a change plans again the rules that look at the others (``others=True``), as
a whole plan would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from followup.language.pack import Rule, RulePack, TimeSpec
from followup.model import Application, HistoryEntry, Timer

__all__ = [
    "Inputs",
    "Touched",
    "inputs_of",
    "owner_readers",
    "pack_owns",
    "reads_others_in",
    "rule_inputs",
    "touched",
]

#: The history entries a caller's change adds that this module can judge.
JUDGED = frozenset({"event", "facts", "contact"})
#: Names a condition may read that hold the application's contacts as a whole.
_CONTACT_NAMES = frozenset({"contacts", "count", "untitled"})
#: Names that change with the application's state (its other fields change only through
#: an edit, which plans in full).
_STATE_NAMES = frozenset({"application", "state"})
#: The owner's counts that include this application in its state; ``elsewhere``, the
#: other applications only.
_OWNER_COUNTS = frozenset({"applications", "active_applications"})
#: Names empty while planning (``rule``, ``due`` and ``at`` are set only when a reminder
#: fires; ``contact`` is the rule's own contact, planned again with its pair).
_STEADY_NAMES = frozenset({"rule", "due", "at", "contact"})


@dataclass(frozen=True)
class Inputs:
    """What one rule reads besides the state."""

    facts: frozenset[str]  # facts named, with those their defaults count from
    all_facts: bool  # the condition reads ``facts`` as a whole
    events: frozenset[str]  # done_by and until
    contacts: bool  # the condition reads the contacts as a whole
    everything: bool  # planned again on every change
    state: bool  # the condition reads the state (or counts this application in it)
    others: bool  # the condition reads the owner's other applications


def _fact_closure(pack: RulePack, names: Iterable[str]) -> frozenset[str]:
    """``names`` with every fact their declared defaults count from, transitively."""
    found: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        spec = pack.facts.get(name)
        if spec is not None and spec.default is not None:
            todo.append(spec.default.anchor)
    return frozenset(found & pack.facts.keys())  # not ``entered`` or ``contact_added``


def rule_inputs(pack: RulePack, rule: Rule) -> Inputs:
    """What ``rule`` reads (see the module's docstring)."""
    specs: list[TimeSpec | None] = [rule.at, rule.due, rule.not_before, rule.not_after]
    named: set[str] = set()
    for override in rule.instead:
        named.add(override.fact)
        specs += [override.at, override.due]
    named.update(spec.anchor for spec in specs if spec is not None)
    all_facts = contacts = everything = state = others = False
    if rule.condition is not None:
        for name in rule.condition.names:
            if name in pack.facts:
                named.add(name)
            elif name == "facts":
                all_facts = True
            elif name in _CONTACT_NAMES:
                contacts = True
            elif name in _STATE_NAMES:
                state = True
            elif name in _OWNER_COUNTS:
                state = others = True
            elif name == "elsewhere":
                others = True
            elif name not in _STEADY_NAMES:
                everything = True  # a name not known here
    events = frozenset(e for e in (rule.done_by, rule.until) if e is not None)
    return Inputs(facts=_fact_closure(pack, named), all_facts=all_facts, events=events,
                  contacts=contacts, everything=everything, state=state, others=others)


class _Derived:
    """What ``touched`` needs of one pack, worked out once: what each rule reads, the
    rules that read the owner's counts and the states that arm one, the rules waiting
    for each event, and per move (the states passed through, the state reached) the
    rules it plans and those it leaves to the other checks."""

    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        rules = pack.application_rules
        self.inputs = {rule.name: rule_inputs(pack, rule) for rule in rules}
        self.readers = frozenset(n for n, reads in self.inputs.items() if reads.others)
        self.reader_states = frozenset(
            state for state, armed in pack.rules_by_state.items()
            if not self.readers.isdisjoint(r.name for r in armed))
        self.everything = any(reads.everything for reads in self.inputs.values())
        self.by_event: dict[str, tuple[Rule, ...]] = {}
        for rule in rules:
            for event in self.inputs[rule.name].events:
                self.by_event[event] = (*self.by_event.get(event, ()), rule)
        self.timed = frozenset(auto.name for auto in pack.transitions)
        self._moves: dict[tuple[frozenset[str | None], str], tuple[frozenset[str],
                                                                    tuple[Rule, ...]]] = {}

    def move(self, visited: frozenset[str | None], state: str
             ) -> tuple[frozenset[str], tuple[Rule, ...]]:
        """After a move through ``visited`` into ``state``: the rules planned for the
        move itself (a stay begins, or the rule reads the state), and the other rules
        ``state`` arms (their stay goes on)."""
        found = self._moves.get((visited, state))
        if found is None:
            planned = []
            rest = []
            for rule in self.pack.rules_by_state[state]:
                if (rule.states is not None and not visited <= rule.states) or self.inputs[
                        rule.name].state:
                    planned.append(rule.name)
                else:
                    rest.append(rule)
            found = self._moves[(visited, state)] = (frozenset(planned), tuple(rest))
        return found


# Derived once per pack. A pack is immutable; the cache holds the pack itself, so an id
# is never reused while its entry lives.
_CACHE: dict[int, _Derived] = {}


def _derived(pack: RulePack) -> _Derived:
    found = _CACHE.get(id(pack))
    if found is None or found.pack is not pack:
        if len(_CACHE) >= 64:
            _CACHE.clear()
        found = _CACHE[id(pack)] = _Derived(pack)
    return found


def inputs_of(pack: RulePack) -> dict[str, Inputs]:
    """What each application rule of ``pack`` reads, by rule name."""
    return _derived(pack).inputs


def owner_readers(pack: RulePack) -> frozenset[str]:
    """The application rules of ``pack`` whose conditions read the owner's counts
    (planning them reads the counts from the store)."""
    return _derived(pack).readers


def reads_others_in(pack: RulePack, state: str) -> bool:
    """Whether a rule that ``state`` arms reads the owner's counts."""
    return state in _derived(pack).reader_states


@dataclass(frozen=True)
class Touched:
    """The (rule, contact) pairs a change can have moved: ``rules`` with every contact,
    ``pairs`` for one contact each; ``moved``: the change moved the state, so the
    timed moves are planned again and the rules the new state does not arm are gone."""

    rules: frozenset[str]
    pairs: frozenset[tuple[str, str | None]]
    moved: bool = False

    def covers(self, rule: str, contact: str | None) -> bool:
        return rule in self.rules or (rule, contact) in self.pairs

    def only(self, pack: RulePack, app: Application) -> frozenset[tuple[str, str | None]]:
        """The pairs to plan again, for ``plan(..., only=...)``: each whole rule with
        every contact of its role (or none), and the single pairs."""
        out = set(self.pairs)
        for name in self.rules:
            role = pack.rule(name).for_each
            if role is None:
                out.add((name, None))
            else:
                out.update((name, c.name) for c in app.contacts if c.role == role)
        return frozenset(out)

    def __bool__(self) -> bool:
        return bool(self.rules or self.pairs)


def touched(pack: RulePack, entries: Sequence[HistoryEntry], *, before: str | None,
            others: bool) -> Touched | None:
    """The pairs ``entries`` (a change's new history) can have moved, or ``None`` when
    this module cannot judge them: the change is planned in full. ``before``: the state
    the application was in before them (without it, a move is not judged); ``others``:
    the owner's other applications may have changed since this one was planned (a
    re-plan marker waits)."""
    derived = _derived(pack)
    inputs = derived.inputs
    rules: set[str] = set()
    pairs: set[tuple[str, str | None]] = set()
    facts: set[str] = set()
    events: list[HistoryEntry] = []
    contacts: list[str] = []
    state = before
    visited = {before}
    for entry in entries:
        if entry.to_state is not None:
            if state is None or entry.to_state in (state, pack.initial):
                return None  # not judged, or a stay begins again: in full
            state = entry.to_state
            visited.add(state)
            if entry.kind == "transition":
                continue  # the pack's own move (any other kind is not judged, below)
        if entry.kind not in JUDGED:
            return None
        if entry.kind == "facts":
            changed = entry.data.get("facts")
            if not isinstance(changed, dict):
                return None
            facts.update(str(name) for name in changed)
        elif entry.kind == "event":
            events.append(entry)
        elif entry.contact is None:
            return None
        else:
            contacts.append(entry.contact)
    moved = state != before
    candidates: tuple[Rule, ...] | None = None  # None: every rule
    if moved:
        assert state is not None
        # Rules the new state does not arm have nothing to plan; of those it arms, a
        # rule whose stay begins (or that reads the state) is planned whole.
        planned, candidates = derived.move(frozenset(visited), state)
        rules.update(planned)
    if not (facts or contacts or (others and derived.readers) or derived.everything):
        # Only the events can have touched anything: the rules waiting for them.
        for event in events:
            for rule in derived.by_event.get(event.name, ()):
                if candidates is None or rule in candidates:
                    _touch(pack, rule, event, rules, pairs)
        return Touched(frozenset(rules), frozenset(pairs), moved)
    for rule in pack.application_rules if candidates is None else candidates:
        reads = inputs[rule.name]
        name = rule.name
        if (reads.everything or (others and reads.others)
                or (facts and (reads.all_facts or not reads.facts.isdisjoint(facts)))):
            rules.add(name)
            continue
        if contacts and reads.contacts:
            rules.add(name)
            continue
        if rule.for_each is not None:
            # A contact recorded or changed: its own reminder (a new one, one whose role
            # or details changed, or one to drop).
            pairs.update((name, c) for c in contacts)
        for event in events:
            if event.name in reads.events:
                _touch(pack, rule, event, rules, pairs)
    return Touched(frozenset(rules), frozenset(pairs), moved)


def _touch(pack: RulePack, rule: Rule, event: HistoryEntry, rules: set[str],
           pairs: set[tuple[str, str | None]]) -> None:
    """``event`` is one ``rule`` waits for (``done_by``, ``until``): the rule is
    planned again, or only its pair with the event's contact."""
    spec = pack.events.get(event.name)
    if (rule.for_each is not None and spec is not None and spec.per_contact
            and event.contact is not None):
        pairs.add((rule.name, event.contact))  # done for that contact only
    else:
        rules.add(rule.name)


def pack_owns(pack: RulePack, timers: Iterable[Timer]) -> bool:
    """Whether every stored timer is a reminder of one of ``pack``'s application rules
    or one of its timed moves: a timer left by an edited pack (or an old store's re-plan
    marker) has the change planned in full, which removes it."""
    derived = _derived(pack)
    rules, moves = derived.inputs, derived.timed
    return all((t.action == "notify" and t.rule in rules)
               or (t.action == "transition" and t.rule in moves) for t in timers)
