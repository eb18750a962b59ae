"""A job search as a record: applications, contacts and their whole history, exported
for people (a benefits agency may ask for one) and imported all or nothing. The export,
a JSON document and its CSV tables, is written by ``export.py`` (its names are also
importable from here); this module brings a record in.

The history is what happened, so an import keeps it as it was written, after checking
that it is a path the rule pack's machine can take: it starts with ``created`` in the
pack's initial state, each event is allowed in the state it was recorded in and moves
where the pack says, each of the pack's own moves goes from one of its states to its
target, and the path ends in the application's state; corrections (an undo, a contact
renamed, ...) are replayed as the engine made them, and read afterwards as the engine
reads them, so the application plans what it planned before it was exported. An
application that comes without a history (a row from another tracker) gets one:
``created``, then the shortest chain of events and the pack's own moves to the state it
is in.

Every application of an import is written in one transaction (``Store.commit_many``),
with the reminders the engine's own change path plans for it (``Changes.prepare_new``):
one bad row, and nothing is written; an import cut off leaves all or nothing. Then the
rules over all of the owner's applications are brought up to date
(``Engine.replan_owner``). An application already stored with the same history is left
as it is and planned again, which heals a lost timer and changes nothing when its plan
is whole.

A JSON export also carries what belongs to the owner rather than to one application
(``OwnerState``): their settings, and where each rule over all of their applications
stands (the next ``keep-looking`` nudge and how many went out), which no application's
history records. An import into a store that has none of these for the owner puts them
back; one that has its own keeps them.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, get_args

from followup.errors import ConflictError, FollowupError, InputError, UnknownApplication
from followup.interop.export import (
    TABLES,
    Progress,
    application_json,
    csv_table,
    entry_json,
    export_document,
)
from followup.interop.names import LookAlike, joined, look_alikes
from followup.keys import TimerKey
from followup.language.pack import RulePack, merge_contacts
from followup.limits import check_application
from followup.model import (
    Application,
    Contact,
    HistoryEntry,
    HistoryKind,
    Owner,
    Timer,
    replaced,
)
from followup.runtime.history import effective, undoing
from followup.runtime.steps import EDITABLE_FIELDS

if TYPE_CHECKING:
    from followup.interop.readers import Context
    from followup.runtime.engine import Engine

__all__ = [
    "HISTORY_KINDS",
    "TABLES",
    "ImportItem",
    "ImportReport",
    "OwnerState",
    "OwnerTimer",
    "Progress",
    "SamePeople",
    "application_json",
    "check_history",
    "csv_table",
    "entry_json",
    "export_document",
    "import_context",
    "import_items",
    "path_to",
    "read_owner_state",
    "synthesized_history",
]

# Whether each pair of spellings among an imported application's contacts is one person.
SamePeople = Callable[["ImportItem", Sequence[LookAlike]], Sequence[bool]]

#: The kinds of history entry, as the engine writes them (corrections included).
HISTORY_KINDS: tuple[str, ...] = get_args(HistoryKind)


@dataclass(frozen=True)
class ImportItem:
    """One application read from a file, with where each part of it came from.

    ``where`` is ``FILE:LINE`` of the row or object that gave the application;
    ``entry_where`` the same for each history entry (empty for a made-up history).
    ``made_up`` says the history was made at the time of the import (the row gave no
    date), so importing the row again matches it by what happened, not when.
    """

    application: Application
    history: tuple[HistoryEntry, ...]
    where: str
    entry_where: tuple[str, ...] = ()
    made_up: bool = False

    def at(self, seq: int) -> str:
        return self.entry_where[seq] if seq < len(self.entry_where) else self.where


@dataclass(frozen=True)
class ImportReport:
    """What an import did: the applications ``added``, those already stored as they
    are in the file (``unchanged``), warnings from planning their reminders
    (``problems``), and what of the owner's own state it put back (``restored``:
    ``"settings"`` and the names of the rules over all of the owner's applications)."""

    added: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())
    restored: tuple[str, ...] = ()


@dataclass(frozen=True)
class OwnerTimer:
    """Where one rule over all of an owner's applications stands: its next firing
    (``at``, aware) and how many times it fired before (``occurrence``)."""

    rule: str
    at: datetime
    occurrence: int = 0


@dataclass(frozen=True)
class OwnerState:
    """What an export says about its owner beyond the applications: their settings
    (``None`` in an export written before they were carried) and their rules over all
    of their applications."""

    settings: Owner | None = None
    timers: tuple[OwnerTimer, ...] = ()


def import_context(engine: Engine, owner: str, *, contact_role: str = "recruiter",
                   statuses: Mapping[str, str] | None = None) -> Context:
    """What ``read_json`` and ``read_csv`` need to read a file for ``owner`` into
    ``engine``: its pack, the owner's calendar and the time now; ``contact_role`` is the
    role of a contact a tracker's row names, ``statuses`` a tracker's statuses read as
    states (``{"phone screen": "interviewed"}``)."""
    from followup.interop.readers import Context

    return Context(pack=engine.pack, owner=owner, calendar=engine.calendar(owner),
                   now=engine.clock.now(), contact_role=contact_role,
                   statuses={k.lower(): v for k, v in (statuses or {}).items()})


def read_owner_state(data: bytes, source: str) -> OwnerState:
    """The owner's state an export document carries (``settings``, ``owner_timers``);
    empty for a file without them (a list of applications, an older export). Raises
    ``InputError`` naming ``source`` for a value of the wrong form."""
    from followup.interop.readers import decode

    try:
        doc = json.loads(decode(data, source))
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    if not isinstance(doc, dict):
        return OwnerState()
    settings = doc.get("settings")
    owner: Owner | None = None
    if settings is not None:
        if not isinstance(settings, dict):
            raise InputError(f"{source}: 'settings' must be an object")
        texts = {k: settings.get(k) for k in ("timezone", "country", "subdivision", "digest")}
        channels, quiet = settings.get("channels"), settings.get("quiet_hours") or []
        looking = settings.get("looking", True)  # a file exported before it: still looking
        if (not all(v is None or isinstance(v, str) for v in texts.values())
                or not (channels is None or _texts(channels)) or not _texts(quiet)
                or not isinstance(looking, bool)):
            raise InputError(f"{source}: 'settings' holds {settings!r}: timezone, country, "
                             "subdivision and digest are text or null, channels and "
                             "quiet_hours lists of text, looking true or false")
        owner = Owner(id=str(doc.get("owner") or ""), channels=None if channels is None
                      else tuple(channels), quiet_hours=tuple(quiet), looking=looking,
                      **texts)
    timers = []
    for i, t in enumerate(doc.get("owner_timers") or []):
        where = f"{source}: owner_timers[{i}]"
        if not (isinstance(t, dict) and isinstance(t.get("rule"), str)
                and isinstance(t.get("at"), str) and isinstance(t.get("occurrence", 0), int)):
            raise InputError(f"{where}: expected {{\"rule\": TEXT, \"at\": TIME, "
                             f"\"occurrence\": N}}, not {t!r}")
        try:
            at = datetime.fromisoformat(t["at"])
        except ValueError:
            at = None
        if at is None or at.tzinfo is None:
            raise InputError(f"{where}: 'at' is {t['at']!r}: write a time with its offset, "
                             "e.g. 2027-01-06T15:00:00-05:00")
        timers.append(OwnerTimer(t["rule"], at, t.get("occurrence", 0)))
    return OwnerState(owner, tuple(timers))


def _texts(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


# -- checking a history ---------------------------------------------------------------


def check_history(pack: RulePack, item: ImportItem) -> None:
    """Raise ``InputError`` naming the file and line unless ``item.history`` is a path
    through the pack's machine that ends in the application's state.

    The history is replayed as the engine wrote it: an ``undo`` that moved the
    application (its ``to`` is set) goes back to the state the entries before the one it
    takes back left, as the engine reads them (``followup.runtime.history.effective``);
    an event about one contact names one of the names the application's contacts have
    had (a contact renamed, merged or removed since keeps the name it had then)."""
    app = item.application
    history = item.history
    autos = {t.name: t for t in pack.transitions}
    if not history or history[0].kind != "created":
        raise InputError(f"{item.where}: the history of {app.id!r} must start with a "
                         "'created' entry")
    contacts = _names_ever(item)
    state = pack.initial
    for i, h in enumerate(history):
        where = f"{item.at(i)}: application {app.id!r}, history entry {i}"
        if h.seq != i:
            raise InputError(f"{where}: its seq is {h.seq}; entries are numbered 0, 1, 2, "
                             "... in the order they happened")
        if h.kind not in HISTORY_KINDS:
            raise InputError(f"{where}: unknown kind {h.kind!r} (kinds: "
                             f"{', '.join(HISTORY_KINDS)})")
        if h.kind in _ENTRY_DATA:
            _check_data(h, where)
        if h.kind == "created":
            if i:
                raise InputError(f"{where}: only the first entry is 'created'")
            if h.to_state != pack.initial:
                raise InputError(f"{where}: created in state {h.to_state!r}, but the rule "
                                 f"pack {pack.name!r} starts in {pack.initial!r}")
            continue
        if h.kind == "event":
            state = _event_move(pack, h, state, contacts, where)
        elif h.kind == "transition":
            auto = autos.get(h.name)
            if auto is None:
                raise InputError(f"{where}: the pack {pack.name!r} makes no move named "
                                 f"{h.name!r} (its moves: {', '.join(autos) or 'none'})")
            if h.from_state != state or state not in auto.sources or h.to_state != auto.dest:
                raise InputError(f"{where}: the move {h.name!r} goes from "
                                 f"{' or '.join(auto.sources)} to {auto.dest}; here it goes "
                                 f"from {h.from_state} to {h.to_state} with the application "
                                 f"in {state}")
            state = auto.dest
        elif h.kind == "undo":
            state = _undo_move(history[:i], h, state, where)
        elif h.to_state is not None:
            raise InputError(f"{where}: {_a(h.kind)} entry moves no application; leave its "
                             f"'to' empty (it says {h.to_state!r})")
    if state != app.state:
        raise InputError(f"{item.where}: application {app.id!r} is in state {app.state!r}, "
                         f"but its history ends in {state!r}")
    marks = [h for h in effective(history) if h.kind in ("archive", "unarchive")]
    if marks and (marks[-1].kind == "archive") != (app.archived_at is not None):
        said = "archived" if app.archived_at is not None else "not archived"
        raise InputError(f"{item.where}: application {app.id!r} is {said}, but the last "
                         f"of its history's archive entries in effect (entry "
                         f"{marks[-1].seq}) is {_a(marks[-1].kind)}: leave its "
                         "'archived_at' out, and the history says whether it is archived")


def _names_ever(item: ImportItem) -> set[str]:
    """Every name the application's contacts have had: those it has, those it was
    created with or given, and both names of each rename, merge or removal."""
    names = {c.name for c in item.application.contacts}
    for h in item.history:
        if h.kind == "created":
            people = h.data.get("contacts", [])
            if isinstance(people, list | tuple):
                names.update(str(c.get("name")) for c in people if isinstance(c, Mapping))
        elif h.kind in ("contact", "remove") and h.contact is not None:
            names.add(h.contact)
        elif h.kind in ("rename", "merge"):
            names.update(str(h.data.get(k)) for k in ("from", "to"))
    return names


# What each correction keeps in its data, read when the history is planned and when a
# later undo takes the correction back, and what a sent reminder's entry keeps (the stay
# and the occurrence it was sent for, read when the history is planned): a key and what
# its value must be.
_TEXT, _CONTACT, _TIME, _NUMBER, _FIELDS = "text", "contact", "time", "number", "fields"
_ENTRY_DATA: dict[str, dict[str, str]] = {
    "edit": {"old": _FIELDS, "new": _FIELDS},
    "rename": {"from": _TEXT, "to": _TEXT, "contact": _CONTACT},
    "merge": {"from": _TEXT, "to": _TEXT, "contact": _CONTACT, "into": _CONTACT,
              "merged": _CONTACT},
    "remove": {"contact": _CONTACT},
    "archive": {},
    "unarchive": {},
    "undo": {"undone": _NUMBER},
    "snooze": {"cycle": _NUMBER, "occurrence": _NUMBER, "until": _TIME},
    "notified": {"cycle": _NUMBER, "occurrence": _NUMBER},
}
_FORMS = {_TEXT: "text", _CONTACT: "a contact object (name, role, ...)",
          _TIME: "a time with its offset, e.g. 2027-01-06T15:00:00+00:00",
          _NUMBER: "a whole number",
          _FIELDS: f"an object of {' and '.join(EDITABLE_FIELDS)} as text"}


def _check_data(h: HistoryEntry, where: str) -> None:
    """Refuse a correction or a sent reminder's entry whose data lacks what the engine
    reads from it."""
    for key, form in _ENTRY_DATA[h.kind].items():
        value = h.data.get(key)
        if not _has_form(value, form):
            raise InputError(f"{where}: {_a(h.kind)} entry keeps {key!r} in its data as "
                             f"{_FORMS[form]}, not {value!r}")
    if h.kind in ("archive", "unarchive") and not (
            h.data.get("was") is None or _has_form(h.data["was"], _TIME)):
        raise InputError(f"{where}: {_a(h.kind)} entry keeps 'was' in its data as null or "
                         f"{_FORMS[_TIME]}, not {h.data['was']!r}")
    if h.kind == "remove" and (h.contact is None
                               or h.data["contact"].get("name") != h.contact):
        raise InputError(f"{where}: a 'remove' entry names the contact it removed, as in "
                         f"its data ({h.data['contact'].get('name')!r}), not {h.contact!r}")
    dropped = h.data.get("dropped", [])
    if h.kind == "undo" and not (isinstance(dropped, list | tuple)
                                 and all(_has_form(d, _NUMBER) for d in dropped)):
        raise InputError(f"{where}: an 'undo' entry keeps 'dropped' in its data as a list "
                         f"of whole numbers, not {dropped!r}")


def _a(kind: str) -> str:
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind!r}"


def _has_form(value: object, form: str) -> bool:
    if form == _TEXT:
        return isinstance(value, str)
    if form == _NUMBER:
        return isinstance(value, int) and not isinstance(value, bool)
    if form == _FIELDS:
        return isinstance(value, Mapping) and all(
            k in EDITABLE_FIELDS and isinstance(v, str) for k, v in value.items())
    if form == _TIME:
        try:
            return datetime.fromisoformat(str(value)).tzinfo is not None
        except ValueError:
            return False
    if not isinstance(value, Mapping):  # a contact
        return False
    try:
        Contact.from_dict(value)
    except (TypeError, ValueError):
        return False
    return True


def _undo_move(before: Sequence[HistoryEntry], h: HistoryEntry, state: str,
               where: str) -> str:
    """The state after the ``undo`` entry ``h``, replayed as the engine made it
    (``followup.runtime.corrections``): it takes back the latest entry a person made that
    is not undone already; when that entry moved the application, directly or through
    the pack's own move right after it, the moves since are dropped and the application
    goes back to the state the entries before it leave, read as the engine reads them."""
    undo = undoing(before)
    seq = int(h.data["undone"])
    if undo is None or undo.target.seq != seq:
        latest = ("none is left" if undo is None
                  else f"entry {undo.target.seq} ({undo.target.kind} {undo.target.name!r})")
        raise InputError(f"{where}: it undoes entry {seq}, but an undo takes back the latest "
                         f"entry a person made that is not undone already: {latest}")
    moved = undo.dropped is not None
    dropped = list(undo.dropped or ())
    if list(h.data.get("dropped", [])) != dropped:
        raise InputError(f"{where}: undoing entry {seq} drops "
                         f"{f'entries {dropped}' if dropped else 'no entry'} (the rules' "
                         f"own moves after it), but its data says 'dropped': "
                         f"{h.data.get('dropped')!r}")
    back = undo.state_before(state) if moved else state
    if h.to_state != (back if back != state else None) or (
            h.to_state is not None and h.from_state != state):
        raise InputError(f"{where}: undoing entry {seq} moves the application from {state} "
                         f"to {back}; here it goes from {h.from_state} to {h.to_state}")
    return back


def _event_move(pack: RulePack, h: HistoryEntry, state: str, contacts: set[str],
                where: str) -> str:
    spec = pack.events.get(h.name)
    if spec is None:
        raise InputError(f"{where}: unknown event {h.name!r}: the pack {pack.name!r} "
                         f"defines {', '.join(pack.events)}")
    if h.from_state != state:
        raise InputError(f"{where}: {h.name!r} is recorded from state {h.from_state!r}, but "
                         f"the entries before it leave the application in {state!r}")
    if spec.sources is not None and state not in spec.sources:
        raise InputError(f"{where}: {h.name!r} cannot be recorded in state {state!r} "
                         f"(allowed in: {', '.join(spec.sources)})")
    moved = spec.dest if spec.dest is not None and spec.dest != state else None
    if h.to_state != moved:
        raise InputError(f"{where}: {h.name!r} in state {state!r} moves to "
                         f"{moved or 'no other state'}, not {h.to_state!r}")
    if spec.per_contact and h.contact not in contacts:
        raise InputError(f"{where}: {h.name!r} is about one contact, and {h.contact!r} is "
                         f"not among the application's contacts "
                         f"({', '.join(sorted(contacts)) or 'none'})")
    if not spec.per_contact and h.contact is not None:
        raise InputError(f"{where}: {h.name!r} is not about one contact; leave its contact "
                         f"empty (it says {h.contact!r})")
    return moved or state


# -- a history for an application that comes without one ------------------------------


def path_to(pack: RulePack, target: str) -> list[tuple[str, str, str, str]]:
    """The shortest chain of moves from the initial state to ``target``, as (kind,
    name, from, to); kind is ``event`` or ``transition``. Events about one contact are
    not used: they need someone to be about. Raises ``InputError`` when none leads there."""
    if target not in pack.states:
        raise InputError(f"{target!r} is not a state of the pack {pack.name!r} (states: "
                         f"{', '.join(pack.states)})")
    edges: list[tuple[str, str, str, str]] = []
    for e in pack.events.values():
        if e.dest is not None and not e.per_contact:
            edges += [("event", e.name, s, e.dest) for s in e.sources or pack.states
                      if s != e.dest]
    for t in pack.transitions:
        edges += [("transition", t.name, s, t.dest) for s in t.sources if s != t.dest]
    came: dict[str, tuple[str, str, str, str] | None] = {pack.initial: None}
    queue = deque([pack.initial])
    while queue:
        state = queue.popleft()
        for edge in edges:
            if edge[2] == state and edge[3] not in came:
                came[edge[3]] = edge
                queue.append(edge[3])
    if target not in came:
        raise InputError(f"no events lead from {pack.initial!r} to {target!r} in the pack "
                         f"{pack.name!r}: give the application's history instead")
    path = []
    step = came[target]
    while step is not None:
        path.append(step)
        step = came[step[2]]
    return path[::-1]


def synthesized_history(pack: RulePack, app: Application, at: datetime
                        ) -> tuple[HistoryEntry, ...]:
    """``created`` at ``at``, then the moves that bring the application to its state."""
    entries = [HistoryEntry(
        application_id=app.id, seq=0, at=at, kind="created", name="created",
        to_state=pack.initial,
        data={"company": app.company, "role": app.role, "facts": dict(app.facts),
              "contacts": [c.to_dict() for c in app.contacts]})]
    for kind, name, source, dest in path_to(pack, app.state):
        entries.append(HistoryEntry(application_id=app.id, seq=len(entries), at=at,
                                    kind="event" if kind == "event" else "transition",
                                    name=name, from_state=source, to_state=dest))
    return tuple(entries)


# -- importing --------------------------------------------------------------------------


def import_items(engine: Engine, items: Sequence[ImportItem], *, owner: str,
                 owner_state: OwnerState | None = None, progress: Progress | None = None,
                 dry_run: bool = False, same_people: SamePeople | None = None
                 ) -> ImportReport:
    """Check every item, write the new ones in one transaction, put back the owner's
    state (``owner_state``, from ``read_owner_state``) where the store has none, then
    plan every item's reminders through the engine. Raises ``InputError`` (and writes
    nothing) at the first problem; with ``dry_run``, checks everything and writes
    nothing.

    ``same_people``, when given, is asked about each item whose history was made from a
    row (another tracker's, without a history of its own) and whose contacts include two
    spellings of one name (``followup.interop.names``): it returns, for each pair, whether
    it is one person, who is then one contact. Contacts that come with a history are
    kept as recorded."""
    seen: dict[str, str] = {}
    for item in items:
        app = item.application
        if app.owner != owner:
            raise InputError(f"{item.where}: application {app.id!r} belongs to "
                             f"{app.owner!r}, not {owner!r}")
        if app.id in seen:
            raise InputError(f"{item.where}: the id {app.id!r} is given twice (first at "
                             f"{seen[app.id]}): ids must be unique")
        seen[app.id] = item.where
        try:  # the store's own limits, so that a dry run refuses what the import would
            check_application(app)
        except InputError as exc:
            raise InputError(f"{item.where}: {exc}") from exc
        merge_contacts(engine.pack, (), item.application.contacts, where=item.where)
        check_history(engine.pack, item)
    if same_people is not None:
        items = [_one_contact_each(engine.pack, item, same_people) for item in items]
    settings = owner_state.settings if owner_state is not None else None
    if settings is not None:
        _check_settings(engine, settings)
    new: list[ImportItem] = []
    unchanged: list[str] = []
    for item in items:
        if _already_stored(engine, item):
            unchanged.append(item.application.id)
        else:
            new.append(item)
    if dry_run:
        return ImportReport(added=tuple(i.application.id for i in new),
                            unchanged=tuple(unchanged))
    # Each new application is planned through the engine's change path and committed
    # with its timers, all in one transaction: an import cut off leaves all or nothing.
    # Planned in the calendar the owner will have: the file's settings when the store
    # has none yet (they are stored just after).
    calendar = (engine.owners.build_calendar(settings)
                if settings is not None and engine.store.get_owner(owner) is None
                else engine.calendar(owner))
    problems: list[str] = []
    changes = []
    for item in new:
        change, found = engine.changes.prepare_new(item.application, item.history,
                                                   calendar=calendar)
        if item.application.archived_at is not None:  # kept, and planned no more
            change = replaced(change, timers_added=())
        changes.append(change)
        problems += [f"{item.application.id}: {p}" for p in found]
    try:
        engine.store.commit_many(changes)
    except ConflictError as exc:
        raise InputError(f"another program added some of these applications while they "
                         f"were being imported ({exc}); nothing was imported: run the "
                         "import again") from exc
    restored: list[str] = []
    if settings is not None:
        restored += _restore_settings(engine, owner, settings, problems)
    if owner_state is not None and owner_state.timers:
        restored += _restore_owner_timers(engine, owner, owner_state.timers)
    # An application imported before is planned again: that heals a timer lost since,
    # and changes nothing when its plan is whole.
    for done, item in enumerate(items, 1):
        if item.application.id in unchanged and item.application.archived_at is None:
            outcome = engine.replan(item.application.id, owner=owner)
            problems += [f"{item.application.id}: {p}" for p in outcome.problems]
        if progress is not None:
            progress(done, len(items))
    if items:
        # The rules over all of the owner's applications (keep-looking) count these
        # too, and rules that look at the others see them, as after adding one.
        engine.replan_owner(owner)
    return ImportReport(added=tuple(i.application.id for i in new),
                        unchanged=tuple(unchanged), problems=tuple(problems),
                        restored=tuple(restored))


def _one_contact_each(pack: RulePack, item: ImportItem, same_people: SamePeople
                      ) -> ImportItem:
    """``item`` with the look-alikes among its contacts that ``same_people`` says are
    one person made one contact, its made-up history made again for them."""
    if item.entry_where:  # a history of its own names its contacts as they are
        return item
    app = item.application
    pairs = look_alikes((), app.contacts)
    if not pairs:
        return item
    answers = list(same_people(item, pairs))
    if len(answers) != len(pairs):
        raise ValueError(f"same_people gave {len(answers)} answers for {len(pairs)} pairs")
    same = [p for p, yes in zip(pairs, answers, strict=True) if yes]
    if not same:
        return item
    app = replace(app, contacts=tuple(joined(app.contacts, same)))
    # A made-up history starts with its created entry, at the time the row gave.
    history = synthesized_history(pack, app, item.history[0].at)
    return replace(item, application=app, history=history)


def _check_settings(engine: Engine, settings: Owner) -> None:
    """Refuse, before anything is written, settings that ``set_owner`` would refuse."""
    from followup.delivery.digest import parse_digest_time
    from followup.timing.calendar import parse_time_range

    try:
        quiet = [parse_time_range(span) for span in settings.quiet_hours]
        engine.pack.calendar.build(timezone=settings.timezone, country=settings.country,
                                   subdivision=settings.subdivision, quiet_hours=quiet)
        if settings.digest is not None:
            parse_digest_time(settings.digest)
        if settings.channels is not None and not settings.channels:
            raise InputError("an owner's channels cannot be empty")
    except FollowupError as exc:
        raise InputError(f"the owner's settings in the file cannot be used: {exc}") from exc


def _restore_settings(engine: Engine, owner: str, settings: Owner,
                      problems: list[str]) -> list[str]:
    """Set the file's settings for an owner the store has none for; note a difference
    from the settings the store already has, which win."""
    mine = engine.store.get_owner(owner)
    theirs = (settings.timezone, settings.country, settings.subdivision, settings.channels,
              settings.digest, settings.quiet_hours, settings.looking)
    if mine is None:
        engine.set_owner(owner, timezone=settings.timezone, country=settings.country,
                         subdivision=settings.subdivision, channels=settings.channels,
                         digest=settings.digest, quiet_hours=settings.quiet_hours,
                         looking=settings.looking)
        return ["settings"]
    if theirs != (mine.timezone, mine.country, mine.subdivision, mine.channels, mine.digest,
                  mine.quiet_hours, mine.looking):
        problems.append(f"the file's settings for {settings.id or owner!r} differ from "
                        f"{owner!r}'s settings here, which are kept (change them with "
                        "followup init or Engine.set_owner)")
    return []


def _restore_owner_timers(engine: Engine, owner: str,
                          timers: Sequence[OwnerTimer]) -> list[str]:
    """Put back where the rules over all of the owner's applications stood, unless the
    store already plans some for this owner: the engine's owner pass (``replan_owner``)
    then keeps those its rules still want, as it keeps its own."""
    if any(t.action != "replan" for t in engine.store.timers(owner=owner, application_id="")):
        return []
    rules = {r.name for r in engine.pack.owner_rules}
    calendar = engine.calendar(owner)
    back = [Timer(application_id="", owner=owner, rule=t.rule, action="notify",
                  key=str(TimerKey.owner_rule(owner, t.rule,
                                              day=calendar.local_date(t.at).isoformat())),
                  fire_at=t.at.astimezone(UTC), occurrence=t.occurrence)
            for t in timers if t.rule in rules]
    if back:
        engine.store.commit_owner(owner, timers_added=back)
    return [t.rule for t in back]


def _already_stored(engine: Engine, item: ImportItem) -> bool:
    """Whether the store holds this application as imported before (its history may
    have grown since); an id taken by another application is an error."""
    app = item.application
    try:
        record = engine.store.load(app.id)
    except UnknownApplication:
        return False
    stored = record.application
    same = (stored.owner == app.owner and stored.company == app.company
            and stored.role == app.role
            and _entries(record.history[: len(item.history)], item.made_up)
            == _entries(item.history, item.made_up))
    if not same:
        raise InputError(f"{item.where}: an application with the id {app.id!r} is already "
                         "in the store, and differs from this one: leave the id out to add "
                         "it as a new application, or give it another id")
    return True


def _entries(history: Iterable[HistoryEntry], timeless: bool) -> list[tuple[Any, ...]]:
    return [(h.seq, None if timeless else h.at, h.kind, h.name, h.contact, h.from_state,
             h.to_state, h.key, None if timeless else h.data) for h in history]
