"""The records followup keeps: owners, applications, contacts, history, timers, outbox.

These are plain data. The rules give them meaning; the stores keep them. Every instant is
an aware datetime in UTC; local time exists only inside the calendar.

Every record is an immutable value, down to what it holds: facts and data are
``FrozenDict`` (and their lists ``FrozenList``), so a store hands out the very records it
keeps, and one record may be shared by every reader, without a copy. To change a record,
make a new one (``replaced``, ``dataclasses.replace``) with a new mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, NoReturn, TypeVar

__all__ = [
    "AgendaRow",
    "Application",
    "ApplicationRow",
    "Change",
    "Contact",
    "Delivery",
    "Fault",
    "FrozenDict",
    "FrozenList",
    "HistoryEntry",
    "Notification",
    "Owner",
    "Record",
    "Timer",
    "WorkStatus",
    "WorkerStatus",
    "freeze",
    "new_timer",
    "replaced",
]

HistoryKind = Literal[
    "created", "event", "transition", "notified", "skipped", "facts", "contact",
    # corrections (followup.runtime.corrections): entries of their own, never rewrites
    "edit", "rename", "merge", "remove", "archive", "unarchive", "undo", "snooze",
]
# "spent": an owner's rule that sent its ``limit`` of reminders while its condition held;
# kept (never due) until the condition stops holding, so that the series does not start
# again (followup.runtime.owner_rules).
TimerAction = Literal["notify", "transition", "replan", "spent"]
DeliveryStatus = Literal["pending", "delivered", "dead"]
#: One line of an owner's agenda, as ``Engine.agenda_rows`` gives it: a timer's
#: ``fire_at``, ``due_at``, ``rule``, ``action`` (``notify`` or ``transition``),
#: ``contact`` and ``application_id`` (``""`` for a rule over all of the owner's
#: applications), and its application's ``company`` (``None`` for such a rule). A plain
#: tuple: an agenda of a thousand applications is thousands of them.
AgendaRow = tuple[datetime, datetime | None, str, str, str | None, str, str | None]
#: One line of a listing of applications, as ``followup.store.listing`` gives it: an
#: application's ``id``, ``state``, ``role``, ``company``, ``created_at`` and
#: ``archived_at``, without its facts, contacts or history.
ApplicationRow = tuple[str, str, str, str, datetime | None, datetime | None]

_K = TypeVar("_K")
_V = TypeVar("_V")


def _refuse(self: object, *args: object, **kwargs: object) -> NoReturn:
    raise TypeError(f"a {type(self).__name__} cannot be changed: records are shared "
                    "values; build a new mapping and a new record (replaced(record, ...))")


class FrozenDict(dict[_K, _V]):
    """A ``dict`` that refuses every change after it is made.

    A ``dict`` and not a read-only view, so that everything that reads a dict keeps
    working on it unchanged: ``json.dumps``, ``==`` with a plain dict, ``dict(...)``,
    ``pickle`` and ``copy`` (a copy is the value itself). Typed as ``Mapping`` on the
    records, so mypy and pyright point at any code that tries to change one.
    """

    __slots__ = ()
    __setitem__ = _refuse
    __delitem__ = _refuse
    __ior__ = _refuse
    clear = _refuse
    pop = _refuse
    popitem = _refuse
    setdefault = _refuse
    update = _refuse

    def __repr__(self) -> str:
        return dict.__repr__(self)

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[type[FrozenDict[_K, _V]], tuple[dict[_K, _V]]]:
        return (type(self), (dict(self),))

    def __copy__(self) -> FrozenDict[_K, _V]:
        return self

    def __deepcopy__(self, memo: object) -> FrozenDict[_K, _V]:
        return self


class FrozenList(list[_V]):
    """A ``list`` that refuses every change after it is made (lists inside data)."""

    __slots__ = ()
    __setitem__ = _refuse
    __delitem__ = _refuse
    __iadd__ = _refuse
    __imul__ = _refuse
    append = _refuse
    clear = _refuse
    extend = _refuse
    insert = _refuse
    pop = _refuse
    remove = _refuse
    reverse = _refuse
    sort = _refuse

    def __repr__(self) -> str:
        return list.__repr__(self)

    def __reduce__(self) -> tuple[type[FrozenList[_V]], tuple[list[_V]]]:
        return (type(self), (list(self),))

    def __copy__(self) -> FrozenList[_V]:
        return self

    def __deepcopy__(self, memo: object) -> FrozenList[_V]:
        return self


_EMPTY: FrozenDict[str, Any] = FrozenDict()


def freeze(value: Any) -> Any:
    """``value`` with every dict and list inside made frozen (a frozen one is kept as it
    is, so freezing what a store hands out costs one type check)."""
    kind = type(value)
    if kind is FrozenDict or kind is FrozenList or kind is str:
        return value
    if kind is dict:
        for item in value.values():
            if type(item) not in _SCALARS:
                break
        else:  # flat, the usual data: one copy, no walk
            return FrozenDict(value)
    if isinstance(value, Mapping):
        return FrozenDict({key: freeze(item) for key, item in value.items()})
    if kind is tuple:
        return tuple(freeze(item) for item in value)
    if isinstance(value, list):
        return FrozenList([freeze(item) for item in value])
    return value


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _frozen_text(facts: Mapping[str, str]) -> FrozenDict[str, str]:
    """Facts (text to text) frozen; one copy at most, none when frozen already."""
    return facts if type(facts) is FrozenDict else FrozenDict(facts)


@dataclass(frozen=True)
class Owner:
    """The person an application belongs to, with the calendar they live by.

    ``None`` for timezone/country/subdivision means "use the rule pack's calendar";
    ``channels``, when set, are where this owner's reminders go instead of the pack's
    default channels (a rule that names its own channels keeps them). ``digest``, when
    set, is a local time of day (``"08:00"``): the owner's reminders are then gathered
    and sent once a day at that time, one message per channel. ``quiet_hours`` are time
    ranges (``"22:00-07:00"``) in the owner's time zone when no reminder goes out, on top
    of the rule pack's quiet hours. ``looking`` is false once the person says they stopped
    looking for work; rules over all their applications read it (the default pack's
    keep-looking nudges stop).
    """

    id: str
    timezone: str | None = None
    country: str | None = None
    subdivision: str | None = None
    channels: tuple[str, ...] | None = None
    digest: str | None = None
    quiet_hours: tuple[str, ...] = ()
    looking: bool = True


@dataclass(frozen=True)
class Contact:
    """Someone connected to an application; ``name`` is unique within it.

    The fields after ``phone`` keep what a business card (a vCard) says, so that a card
    imported and exported again loses nothing: ``name_parts`` are the structured name
    (family, given, additional, prefixes, suffixes), ``organization`` the company then
    its units, ``address`` the seven parts of a postal address (PO box, extended,
    street, locality, region, postal code, country), ``other_emails`` and
    ``other_phones`` those beyond the first, ``photo`` the card's picture as a ``data:``
    URI (or the address of one), kept only when an import asks for it.
    """

    name: str
    role: str  # interviewer, referral, reference, recruiter, or a role the pack adds
    title: str = ""
    email: str = ""
    phone: str = ""
    organization: tuple[str, ...] = ()
    name_parts: tuple[str, ...] = ()
    address: tuple[str, ...] = ()
    note: str = ""
    other_emails: tuple[str, ...] = ()
    other_phones: tuple[str, ...] = ()
    photo: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The contact as a JSON object, the one form every store, export and history
        entry uses: the five first fields always, a business card's when set (so the
        object of a contact without them is what it always was)."""
        out: dict[str, Any] = {"name": self.name, "role": self.role, "title": self.title,
                               "email": self.email, "phone": self.phone}
        for name in _CARD_LISTS:
            value = getattr(self, name)
            if value:
                out[name] = list(value)
        if self.note:
            out["note"] = self.note
        if self.photo:
            out["photo"] = self.photo
        return out

    @classmethod
    def from_dict(cls, fields: Mapping[str, Any]) -> Contact:
        """A contact from the object ``to_dict`` writes (lists become tuples)."""
        values = dict(fields)
        for name in _CARD_LISTS:
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)


# The fields of a business card that hold several values (see Contact).
_CARD_LISTS = ("organization", "name_parts", "address", "other_emails", "other_phones")


@dataclass(frozen=True)
class Application:
    """One job application: where it stands and what is known about it.

    ``facts`` hold text as recorded (ISO 8601 for instants and dates); the rule pack's
    fact declarations say how to read each one. ``version`` grows with every commit and
    guards against two writers changing the same application at once.
    """

    id: str
    owner: str
    company: str
    role: str
    state: str
    facts: Mapping[str, str] = _EMPTY
    contacts: tuple[Contact, ...] = ()
    created_at: datetime | None = None
    version: int = 0
    # Kept with its history but planned no more: no reminders, out of lists by default.
    archived_at: datetime | None = None
    # The fingerprint of the rule pack that last planned it ("" before fingerprints were
    # kept): an application planned by another pack is re-planned in full.
    planned_by: str = ""

    def __post_init__(self) -> None:
        if type(self.facts) is not FrozenDict:
            object.__setattr__(self, "facts", _frozen_text(self.facts))

    def contact(self, name: str) -> Contact | None:
        for c in self.contacts:
            if c.name == name:
                return c
        return None


@dataclass(frozen=True)
class HistoryEntry:
    """One thing that happened to an application, in the order it happened.

    ``seq`` is the entry's position in its application's history (0, 1, 2, ...).
    ``name`` is the event for ``event``, the rule or transition for ``transition`` and
    ``notified``; ``skipped`` notes a timed transition whose guard said no. ``key`` is an idempotency key: for an event, the caller's; for a
    notification, the notification's own.
    """

    application_id: str
    seq: int
    at: datetime
    kind: HistoryKind
    name: str
    contact: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    key: str | None = None
    data: Mapping[str, Any] = _EMPTY

    def __post_init__(self) -> None:
        if type(self.data) is not FrozenDict:
            object.__setattr__(self, "data", freeze(self.data))


@dataclass(frozen=True)
class Timer:
    """Something due later for one application; derived from the rules, never the truth.

    ``key`` is stable: the same rule, contact, state entry and occurrence always give the
    same key, so recomputing the plan finds the same timers and a notification it fires
    carries the same idempotency key however often it is recomputed.
    """

    application_id: str
    owner: str
    key: str
    rule: str
    action: TimerAction
    fire_at: datetime
    due_at: datetime | None = None
    contact: str | None = None
    target: str | None = None  # the state a transition timer moves to
    occurrence: int = 0


@dataclass(frozen=True)
class Notification:
    """A reminder to deliver: what it says, to whom, and its idempotency key."""

    key: str
    application_id: str
    owner: str
    rule: str
    created_at: datetime
    subject: str
    body: str
    due_at: datetime | None = None
    contact: str | None = None
    channels: tuple[str, ...] = ()
    data: Mapping[str, Any] = _EMPTY

    def __post_init__(self) -> None:
        if type(self.data) is not FrozenDict:
            object.__setattr__(self, "data", freeze(self.data))

    @property
    def held_until(self) -> datetime | None:
        """When the outbox first tries it: the daily digest it waits for
        (``data["digest_at"]``, ISO 8601), or None to send at once."""
        text = self.data.get("digest_at")
        return datetime.fromisoformat(text).astimezone(UTC) if isinstance(text, str) else None


@dataclass(frozen=True)
class Delivery:
    """One notification on its way through one channel (a row of the outbox)."""

    notification: Notification
    channel: str
    status: DeliveryStatus = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class Record:
    """An application as loaded for change: itself, its history and its armed timers."""

    application: Application
    history: tuple[HistoryEntry, ...]
    timers: tuple[Timer, ...]


@dataclass(frozen=True)
class Change:
    """Everything one event changes, committed in a single transaction.

    ``application`` is the new row; ``expected_version`` is the version it was loaded at
    (``None`` for a new application). The store writes the application with
    ``version = expected_version + 1`` (or 1 when new) and raises ``ConflictError`` if the
    stored version differs.
    """

    application: Application
    expected_version: int | None
    history: tuple[HistoryEntry, ...] = ()
    timers_removed: tuple[str, ...] = ()  # timer keys
    # Inserted, or replacing a timer with the same key; each the application's own or
    # its owner's (application_id ""), of the application's owner: a store refuses any
    # other.
    timers_added: tuple[Timer, ...] = ()
    notifications: tuple[Notification, ...] = ()  # one outbox row per channel, pending


@dataclass(frozen=True)
class Fault:
    """An application (or, with application_id "", an owner's own rules) whose last
    attempt to fire, plan or deliver failed unexpectedly; it is retried at retry_at."""

    owner: str
    application_id: str  # "" for the owner's own rules (keep-looking)
    error: str  # what failed: exception type and message, one line
    first_at: datetime  # first failure of this run of failures
    last_at: datetime  # latest failure
    attempts: int  # failures in a row
    retry_at: datetime  # when a pass may try it again


@dataclass(frozen=True)
class WorkerStatus:
    """One worker as the store last saw it, and the work it holds now."""

    id: str
    seen_at: datetime | None  # its last heartbeat
    timers: int = 0  # due timers it has claimed and not finished
    deliveries: int = 0  # outbox rows it has claimed and not finished


@dataclass(frozen=True)
class WorkStatus:
    """The work queue at one instant: what is due, held, retrying and dead."""

    at: datetime
    due_timers: int  # due and free for any worker to claim
    held_timers: int  # claimed, lease not ended
    due_deliveries: int  # pending outbox rows due and free to claim
    held_deliveries: int  # claimed by a worker, lease not ended
    retrying: int  # pending rows with at least one failed attempt
    dead: int  # gave up; kept for `followup outbox --retry`
    workers: tuple[WorkerStatus, ...] = ()
    faults: int = 0  # applications (and owners' own rules) whose last attempt failed


def new_timer(application_id: str, owner: str, key: str, rule: str, action: TimerAction,
              fire_at: datetime, due_at: datetime | None, contact: str | None,
              target: str | None, occurrence: int) -> Timer:
    """``Timer(...)`` with every field given, without the frozen dataclass's ``__init__``
    (which sets each field through ``object.__setattr__``): plans make one per rule and
    contact on every change, and stores one per row they read. ``Timer`` has no checks
    in ``__init__`` to skip."""
    timer = _new(Timer)
    timer.__dict__.update(application_id=application_id, owner=owner, key=key, rule=rule,
                          action=action, fire_at=fire_at, due_at=due_at, contact=contact,
                          target=target, occurrence=occurrence)
    return timer


_new = object.__new__
_Record = TypeVar("_Record")


def replaced(record: _Record, **changes: Any) -> _Record:
    """``dataclasses.replace(record, **changes)`` without its field walk and the frozen
    ``__init__`` (which sets each field through ``object.__setattr__``): copying the
    fields' dict is all that ``__init__`` would do, at a sixth of the cost, besides the
    one thing ``__post_init__`` does (freezing a new ``facts`` or ``data``), done here.
    The engine and the stores make several per change."""
    if not hasattr(record, "__dict__"):  # pragma: no cover - should the model grow slots
        return replace(record, **changes)  # type: ignore[type-var]
    new = object.__new__(type(record))
    fields = new.__dict__
    fields.update(record.__dict__)
    fields.update(changes)
    facts = changes.get("facts")
    if facts is not None and type(facts) is not FrozenDict:
        fields["facts"] = _frozen_text(facts)
    data = changes.get("data")
    if data is not None and type(data) is not FrozenDict:
        fields["data"] = freeze(data)
    return new
