"""Corrections, kept as history: an application's fields edited, a contact renamed, merged
or removed, the application archived or deleted, the latest entry undone, one reminder
snoozed.

Each correction is one change on the change path (``followup.runtime.changes``): one
transaction, at most once per idempotency key, the plan made again in full (the
incremental plan judges only events, facts and contacts), and one entry in the history
that ``followup show`` prints. Nothing earlier is rewritten: the planner reads the history
through ``followup.runtime.history.effective``, which applies renames, merges and undos
as it reads.

Undo takes back the latest entry a person made (an event, facts, a contact, an edit, a
rename, merge or removal, an archive, a snooze) that is not undone already, with a
compensating ``undo`` entry: the facts, contacts and fields it changed go back to what
they were before it, and an event that moved the application takes back that move and the
moves that followed it (the pack's own moves then settle again from there). A reminder
already delivered is not unsent; one that did not go out yet comes back with its old key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta

from followup.errors import InputError
from followup.keys import TimerKey
from followup.language.pack import RulePack
from followup.limits import check_input
from followup.model import Application, Contact, HistoryEntry, HistoryKind, Timer, replaced
from followup.runtime.changes import Changes, Outcome
from followup.runtime.history import Undoing, effective, snoozed_key, undoing
from followup.runtime.steps import EDITABLE_FIELDS, Step, Stepped, facts_step
from followup.store import Store
from followup.timing.calendar import WorkCalendar

__all__ = [
    "Corrections",
    "archive_step",
    "edit_step",
    "merge_step",
    "remove_step",
    "rename_step",
    "snooze_step",
    "undo_step",
]


class Corrections:
    """The corrections of ``Engine`` (see the module's docstring); each method is one
    change, made once per ``key``."""

    def __init__(self, *, pack: RulePack, store: Store, changes: Changes,
                 calendar_of: Callable[[str], WorkCalendar],
                 replan_owner: Callable[[str], None]) -> None:
        self.pack = pack
        self.store = store
        self.changes = changes
        self.calendar_of = calendar_of
        self.replan_owner = replan_owner

    def edit(self, application_id: str, *, company: str | None, role: str | None,
             facts: Mapping[str, object] | None, key: str | None,
             owner: str | None) -> Outcome:
        check_input(owner=owner, application_id=application_id, company=company, role=role,
                    key=key, facts=facts)
        steps: list[Step] = []
        if company is not None or role is not None:
            steps.append(edit_step(company=company, role=role))
        if facts:
            steps.append(facts_step(self.pack, self.calendar_of, facts))
        if not steps:
            raise InputError("nothing to edit: give a company, a role or facts")
        return self.changes.apply(application_id, owner, steps, key=key)

    def contact(self, application_id: str, step: Step, *, key: str | None,
                owner: str | None, names: Sequence[str]) -> Outcome:
        check_input(owner=owner, application_id=application_id, key=key)
        for name in names:
            check_input(contact=name)
        return self.changes.apply(application_id, owner, [step], key=key)

    def archive(self, application_id: str, archived: bool, *, key: str | None,
                owner: str | None) -> Outcome:
        check_input(owner=owner, application_id=application_id, key=key)
        return self.changes.apply(application_id, owner, [archive_step(archived)], key=key)

    def delete(self, application_id: str, *, owner: str) -> Application:
        check_input(owner=owner, application_id=application_id)
        app = self.store.load(application_id, owner=owner).application
        self.store.delete_application(application_id, owner=owner)
        self.replan_owner(owner)  # one fewer application for the owner's own rules
        return app

    def undo(self, application_id: str, *, key: str | None, owner: str | None) -> Outcome:
        check_input(owner=owner, application_id=application_id, key=key)
        return self.changes.apply(application_id, owner, [undo_step()], key=key)

    def snooze(self, application_id: str, reminder: str, *, until: datetime | None,
               by: timedelta | None, now: datetime, key: str | None,
               owner: str | None) -> Outcome:
        check_input(owner=owner, application_id=application_id, key=key)
        if (until is None) == (by is None):
            raise InputError("say how long to snooze: a time (until) or a duration (by), "
                             "one of the two")
        if by is not None:
            if by <= timedelta(0):
                raise InputError(f"a snooze lasts a while: {by} is not after now")
            until = now + by
        assert until is not None
        if until.tzinfo is None or until.utcoffset() is None:
            raise InputError(f"the time to snooze until must carry a time zone: {until!r}")
        record = self.store.load(application_id, owner=owner)
        timer = pending(record.timers, reminder, record.application.id)
        if until <= timer.fire_at:
            calendar = self.calendar_of(record.application.owner)
            raise InputError(
                f"{timer.rule}{_who(timer.contact)} goes out at {_local(calendar, timer.fire_at)}"
                f" already, later than {_local(calendar, until)}: a snooze only holds a "
                "reminder back, so nothing changed")
        return self.changes.apply(application_id, owner, [snooze_step(timer, until)], key=key)


def pending(timers: Sequence[Timer], reminder: str, application_id: str) -> Timer:
    """The pending reminder whose key is ``reminder``; ``InputError`` listing the pending
    ones when there is none."""
    reminders = [t for t in timers if t.action == "notify"]
    for t in reminders:
        if t.key == reminder:
            return t
    listed = "; ".join(f"{t.key} ({t.rule}{_who(t.contact)}, {t.fire_at.isoformat()})"
                       for t in reminders) or "none"
    raise InputError(f"no pending reminder {reminder!r} on application {application_id}: "
                     f"only a reminder still to come can be snoozed (pending: {listed})")


def _local(calendar: WorkCalendar, instant: datetime) -> str:
    return calendar.local(instant).strftime("%a %Y-%m-%d %H:%M %Z")


def _who(contact: str | None) -> str:
    return f" for {contact}" if contact else ""


def _entry(app: Application, history: Sequence[HistoryEntry], now: datetime,
           kind: HistoryKind, name: str, *, contact: str | None = None,
           from_state: str | None = None, to_state: str | None = None,
           data: Mapping[str, object]) -> HistoryEntry:
    return HistoryEntry(application_id=app.id, seq=len(history), at=now, kind=kind,
                        name=name, contact=contact, from_state=from_state,
                        to_state=to_state, data=data)


# -- the application's own fields -----------------------------------------------------


def edit_step(*, company: str | None, role: str | None) -> Step:
    """Changing the company or the role (``None`` keeps one)."""
    given = {"company": company, "role": role}
    for field, value in given.items():
        if value is not None and not value.strip():
            raise InputError(f"an application's {field} cannot be empty: give the new "
                             f"{field}, or leave it out to keep the one it has")

    def step(app: Application, history: Sequence[HistoryEntry], now: datetime
             ) -> Stepped | None:
        old = {f: getattr(app, f) for f in EDITABLE_FIELDS
               if given[f] is not None and given[f] != getattr(app, f)}
        if not old:
            return None
        new = {f: given[f] for f in old}
        return replaced(app, **new), _entry(app, history, now, "edit", "edit",
                                            data={"old": old, "new": new})

    return step


def archive_step(archived: bool) -> Step:
    """Archiving the application (kept with its history, planned no more), or bringing
    it back."""
    def step(app: Application, history: Sequence[HistoryEntry], now: datetime
             ) -> Stepped | None:
        if (app.archived_at is not None) == archived:
            return None  # already so
        was = None if app.archived_at is None else app.archived_at.isoformat()
        kind: HistoryKind = "archive" if archived else "unarchive"
        return (replaced(app, archived_at=now if archived else None),
                _entry(app, history, now, kind, kind, data={"was": was}))

    return step


# -- contacts ----------------------------------------------------------------------------


def _contact(app: Application, name: str) -> Contact:
    found = app.contact(name)
    if found is None:
        names = ", ".join(repr(c.name) for c in app.contacts) or "none recorded yet"
        raise InputError(f"no contact named {name!r} on application {app.id} "
                         f"(contacts: {names})")
    return found


def _with(contacts: Sequence[Contact], name: str, contact: Contact | None) -> tuple[Contact, ...]:
    """``contacts`` with the one named ``name`` replaced by ``contact`` in its place
    (removed when ``None``; added at the end when there is none)."""
    out = [c if c.name != name else contact for c in contacts]
    if contact is not None and all(c.name != name for c in contacts):
        out.append(contact)
    return tuple(c for c in out if c is not None)


def _moved(history: Sequence[HistoryEntry], kind: str, name: str, to: str) -> bool:
    """Whether a rename or merge (``kind``) of ``name`` to ``to`` is in effect."""
    return any(h.kind == kind and h.data.get("from") == name and h.data.get("to") == to
               for h in effective(history))


def rename_step(name: str, new_name: str) -> Step:
    """Renaming a contact: what was recorded about them counts under the new name."""
    if not new_name.strip():
        raise InputError("a contact's new name cannot be empty")

    def step(app: Application, history: Sequence[HistoryEntry], now: datetime
             ) -> Stepped | None:
        if name == new_name:
            return None
        if (app.contact(name) is None and app.contact(new_name) is not None
                and _moved(history, "rename", name, new_name)):
            return None  # renamed already
        old = _contact(app, name)
        if app.contact(new_name) is not None:
            raise InputError(f"application {app.id} has a contact named {new_name!r} "
                             f"already: to make {name!r} and {new_name!r} one person, merge "
                             "them (followup contact merge)")
        return (replaced(app, contacts=_with(app.contacts, name, replaced(old, name=new_name))),
                _entry(app, history, now, "rename", "rename",
                       data={"from": name, "to": new_name, "contact": old.to_dict()}))

    return step


def merge_step(name: str, into: str) -> Step:
    """Merging contact ``name`` into ``into``: the fields ``into`` leaves blank are taken
    from ``name``, what was recorded about ``name`` counts for ``into``, and ``name`` is
    gone."""
    def step(app: Application, history: Sequence[HistoryEntry], now: datetime
             ) -> Stepped | None:
        if name == into:
            raise InputError(f"a contact cannot be merged into itself ({name!r})")
        if (app.contact(name) is None and app.contact(into) is not None
                and _moved(history, "merge", name, into)):
            return None  # merged already
        gone, kept = _contact(app, name), _contact(app, into)
        filled = {f.name: getattr(gone, f.name) for f in fields(Contact)
                  if f.name not in ("name", "role") and not getattr(kept, f.name)
                  and getattr(gone, f.name)}
        merged = replaced(kept, **filled)
        contacts = _with(_with(app.contacts, into, merged), name, None)
        return replaced(app, contacts=contacts), _entry(
            app, history, now, "merge", "merge",
            data={"from": name, "to": into, "contact": gone.to_dict(),
                  "into": kept.to_dict(), "merged": merged.to_dict()})

    return step


def remove_step(name: str) -> Step:
    """Removing a contact: their reminders are cancelled."""
    def step(app: Application, history: Sequence[HistoryEntry], now: datetime
             ) -> Stepped | None:
        gone = _contact(app, name)
        return (replaced(app, contacts=_with(app.contacts, name, None)),
                _entry(app, history, now, "remove", "remove", contact=name,
                       data={"contact": gone.to_dict()}))

    return step


# -- snooze ------------------------------------------------------------------------------


def snooze_step(timer: Timer, until: datetime) -> Step:
    """Holding ``timer`` (a pending reminder) back until ``until``: the planner moves it
    there, then into the owner's send window, on every plan until it fires or its stay
    ends."""
    parts = TimerKey.parse(timer.key)
    at = until.astimezone(UTC).isoformat()

    def step(app: Application, history: Sequence[HistoryEntry], now: datetime
             ) -> Stepped | None:
        entry = _entry(app, history, now, "snooze", timer.rule, contact=timer.contact,
                       data={"timer": timer.key, "cycle": parts.cycle,
                             "occurrence": parts.occurrence, "until": at})
        for h in reversed(effective(history)):
            if h.kind == "snooze" and snoozed_key(app.id, h) == timer.key:
                if h.data.get("until") == at:
                    return None  # snoozed so already
                break
        return app, entry

    return step


# -- undo --------------------------------------------------------------------------------


def undo_step() -> Step:
    """Taking back the latest entry a person made that is not undone already (see the
    module's docstring)."""
    def step(app: Application, history: Sequence[HistoryEntry], now: datetime
             ) -> Stepped | None:
        undo = undoing(history)
        if undo is None:
            raise InputError(f"nothing to undo on application {app.id}: what it has is what "
                             "it was added with and what the rules did (followup show "
                             f"{app.id} lists its history)")
        return _undo(app, history, undo, now)

    return step


def _undo(app: Application, history: Sequence[HistoryEntry], undo: Undoing,
          now: datetime) -> Stepped:
    target, before = undo.target, undo.before
    data: dict[str, object] = {"undone": target.seq, "kind": target.kind}
    state = app.state
    kind = target.kind
    # A move the entry made goes back, with the rules' own moves since (Undoing).
    if undo.dropped is not None:
        data["dropped"] = list(undo.dropped)
        state = undo.state_before(app.state)
    if kind == "facts":
        changed = target.data.get("facts", {})
        facts = dict(app.facts)
        restored: dict[str, str | None] = {}
        for name in changed:
            value = _fact_before(before, name)
            restored[name] = value
            if value is None:
                facts.pop(name, None)
            else:
                facts[name] = value
        data["facts"] = restored
        app = replaced(app, facts=facts)
    elif kind in ("contact", "rename", "merge", "remove"):
        contacts: dict[str, Contact | None] = {}
        if kind == "contact" and target.contact is not None:
            contacts[target.contact] = _contact_before(before, target.contact)
        elif kind == "rename":
            contacts[str(target.data["to"])] = None
            contacts[str(target.data["from"])] = Contact.from_dict(target.data["contact"])
        elif kind == "merge":
            contacts[str(target.data["to"])] = Contact.from_dict(target.data["into"])
            contacts[str(target.data["from"])] = Contact.from_dict(target.data["contact"])
        else:
            contacts[str(target.data["contact"]["name"])] = Contact.from_dict(
                target.data["contact"])
        people = app.contacts
        if kind == "rename":  # the old name back in the new name's place
            people = _with(people, str(target.data["to"]),
                           contacts[str(target.data["from"])])
        else:
            for name, contact in contacts.items():
                people = _with(people, name, contact)
        data["contacts"] = {n: None if c is None else c.to_dict() for n, c in contacts.items()}
        app = replaced(app, contacts=people)
    elif kind == "edit":
        old = dict(target.data.get("old", {}))
        data["fields"] = old
        app = replaced(app, **old)
    elif kind in ("archive", "unarchive"):
        was = target.data.get("was")
        archived_at = None if was is None else datetime.fromisoformat(str(was))
        data["archived_at"] = was
        app = replaced(app, archived_at=archived_at)
    # a snooze needs nothing more: the planner no longer reads it
    moved_to = state if state != app.state else None
    entry = _entry(app, history, now, "undo", target.name, contact=target.contact,
                   from_state=app.state if moved_to else None, to_state=moved_to, data=data)
    return replaced(app, state=state), entry


def _fact_before(before: Sequence[HistoryEntry], name: str) -> str | None:
    """The value ``name`` had after ``before`` (the entries in effect before the one
    undone): set by facts, an undo or the application's creation."""
    for h in reversed(before):
        if h.kind in ("facts", "undo", "created"):
            facts = h.data.get("facts")
            if isinstance(facts, Mapping) and name in facts:
                value = facts[name]
                return None if value is None else str(value)
            if h.kind == "created":
                return None
    return None


def _contact_before(before: Sequence[HistoryEntry], name: str) -> Contact | None:
    """The contact named ``name`` as it was after ``before``, or ``None`` if there was
    none."""
    for h in reversed(before):
        kind, data = h.kind, h.data
        if kind == "contact" and h.contact == name:
            return Contact.from_dict(data)
        if kind in ("rename", "merge"):
            if data.get("from") == name:
                return None
            if data.get("to") == name:  # the contact as the rename or merge left it
                left = data["contact"] if kind == "rename" else data["merged"]
                return replaced(Contact.from_dict(left), name=name)
        if kind == "remove" and h.contact == name:
            return None
        if kind == "undo":
            contacts = data.get("contacts")
            if isinstance(contacts, Mapping) and name in contacts:
                found = contacts[name]
                return None if found is None else Contact.from_dict(found)
        if kind == "created":
            for c in data.get("contacts", []):
                if c.get("name") == name:
                    return Contact.from_dict(c)
            return None
    return None
