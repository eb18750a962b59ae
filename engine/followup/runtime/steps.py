"""The steps a change is made of: recording an event, setting facts, adding a contact.

A step takes the application, its history so far and the time, and returns the
application as it leaves it with the one history entry that records the step, or
``None`` when it changes nothing (a repeat).
``Engine`` runs a change's steps in order on a freshly loaded application, then settles
and commits the result; if another writer got there first, it loads and runs them again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from followup.errors import InputError, InvalidEvent, InvalidFact
from followup.language.expressions import ExpressionError
from followup.language.pack import RulePack, merge_contacts
from followup.model import Application, Contact, HistoryEntry, replaced
from followup.runtime.facts import Context, normalize_fact
from followup.runtime.history import effective
from followup.runtime.machine import StateMachine
from followup.runtime.planner import entries_of
from followup.runtime.rounds import round_contacts, round_start
from followup.timing.calendar import WorkCalendar

__all__ = [
    "EDITABLE_FIELDS",
    "Step",
    "already_done",
    "contact_step",
    "event_step",
    "facts_step",
    "merge_contacts",
    "moved",
]

Stepped = tuple[Application, HistoryEntry]
#: The application's own fields that ``Engine.edit`` changes.
EDITABLE_FIELDS = ("company", "role")
Step = Callable[[Application, Sequence[HistoryEntry], datetime], Stepped | None]


def event_step(pack: RulePack, machine: StateMachine,
               calendar_of: Callable[[str], WorkCalendar], event: str, *,
               contact: str | None, at: datetime | None, key: str | None) -> Step:
    """Recording ``event`` (about ``contact``, at ``at``, once per ``key``)."""
    spec = pack.events.get(event)
    if spec is None:
        machine.apply(pack.initial, event)  # raises UnknownEvent
        raise AssertionError("unreachable")
    if at is not None and at.tzinfo is None:
        raise InputError(f"the time of an event must carry a time zone: {at!r}")

    def step(app: Application, history: Sequence[HistoryEntry], now: datetime
             ) -> Stepped | None:
        when = at or now
        if key is not None and any(h.key == key for h in history if h.kind == "event"):
            return None
        if spec.per_contact:
            names = ", ".join(c.name for c in app.contacts) or "none recorded yet"
            if contact is None:
                raise InvalidEvent(f"{event!r} is about one contact: say which "
                                   f"(contacts: {names})")
            person = app.contact(contact)
            if person is None:
                raise InvalidEvent(f"no contact named {contact!r} on this application "
                                   f"(contacts: {names})")
            if spec.role is not None and person.role != spec.role:
                raise InvalidEvent(f"{event!r} is for a {spec.role}; {contact!r} is a "
                                   f"{person.role}")
            # A repeat within this round of the application (since it last entered
            # its initial state, e.g. since it was reopened) changes nothing.
            read = effective(history)  # an undone event is not a repeat
            rounds = [e for e in entries_of(read) if e.state == pack.initial]
            since = rounds[-1].seq if rounds else 0
            if any(h.kind == "event" and h.name == event and h.contact == contact
                   and h.seq >= since for h in read):
                return None
        elif contact is not None:
            raise InvalidEvent(f"{event!r} is not about one contact: leave out the contact")
        calendar = calendar_of(app.owner)
        try:
            new_state = machine.apply(
                app.state, event, lambda: Context(pack, app, calendar))
        except InvalidEvent:
            if already_done(history, event):
                return None
            raise
        except ExpressionError as exc:
            raise InvalidEvent(f"{event!r}: its condition failed: {exc}") from exc
        if new_state is None:
            raise InvalidEvent(f"{event!r} was refused by its condition "
                               f"({spec.guard.source if spec.guard else ''})")
        return moved(app, new_state), HistoryEntry(
            application_id=app.id, seq=len(history), at=when.astimezone(now.tzinfo),
            kind="event", name=event, contact=contact, from_state=app.state,
            # An event that leads into the initial state begins a new round even from
            # that state (a second interview): it enters the state again.
            to_state=new_state if new_state != app.state or spec.dest == pack.initial
            else None, key=key,
        )

    return step

def facts_step(pack: RulePack, calendar_of: Callable[[str], WorkCalendar],
               facts: Mapping[str, object]) -> Step:
    """Setting facts (``None`` removes one); recorded only when something changed."""
    def step(app: Application, history: Sequence[HistoryEntry], now: datetime
             ) -> Stepped | None:
        calendar = calendar_of(app.owner)
        updated = dict(app.facts)
        changes: dict[str, str | None] = {}
        for name, value in facts.items():
            if name in EDITABLE_FIELDS and name not in pack.facts:
                # Else stored as a fact no rule reads, and the field stays as it was.
                raise InvalidFact(f"{name} is a field, not a fact: change it with "
                                  f"edit({name}=...) (followup edit APP --{name} VALUE)")
            if value is None:
                if name in updated:
                    del updated[name]
                    changes[name] = None
                continue
            text = normalize_fact(pack.facts.get(name), name, value, calendar)
            if updated.get(name) != text:
                updated[name] = text
                changes[name] = text
        if not changes:
            return None
        return replace(app, facts=updated), HistoryEntry(
            application_id=app.id, seq=len(history), at=now, kind="facts", name="facts",
            data={"facts": changes})

    return step

def contact_step(pack: RulePack, contact: Contact) -> Step:
    """Adding a contact, or updating the one of the same name; recording again one of an
    earlier round, who is then one of this round's people too (someone who interviews
    you again is thanked again)."""
    def step(app: Application, history: Sequence[HistoryEntry], now: datetime
             ) -> Stepped | None:
        if app.contact(contact.name) == contact and not _earlier_round(pack, history,
                                                                       contact.name):
            return None
        contacts = merge_contacts(pack, app.contacts, [contact], replace_existing=True)
        return replace(app, contacts=contacts), HistoryEntry(
            application_id=app.id, seq=len(history), at=now, kind="contact", name="contact",
            contact=contact.name, data=contact.to_dict())

    return step

def _earlier_round(pack: RulePack, history: Sequence[HistoryEntry], name: str) -> bool:
    """Whether the contact ``name`` was last recorded in a round before the current one."""
    read = effective(history)
    start = round_start(entries_of(read), pack.initial)
    return start is not None and name not in round_contacts(read, start)


def already_done(history: Sequence[HistoryEntry], event: str) -> bool:
    """Whether ``event`` is what last moved the application into its state."""
    for h in reversed(effective(history)):
        if h.to_state is not None:
            return h.kind == "event" and h.name == event
    return False


def moved(app: Application, state: str) -> Application:
    """``app`` in ``state``."""
    return replaced(app, state=state)
