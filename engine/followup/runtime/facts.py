"""Facts as recorded (text) and as the rules read them (typed), and the context that
conditions and templates see."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from followup.errors import InvalidFact
from followup.language.pack import FactSpec, RulePack
from followup.limits import check_day
from followup.model import Application, Contact
from followup.timing.calendar import WorkCalendar

__all__ = ["Context", "build_context", "contact_view", "fact_value", "normalize_fact",
           "read_fact"]

_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off", ""}


def normalize_fact(spec: FactSpec | None, name: str, value: object, calendar: WorkCalendar) -> str:
    """The text to store for a fact, checked against its declared type.

    Datetimes without an offset are read in the owner's time zone and stored in UTC;
    dates are stored as YYYY-MM-DD. Raises ``InvalidFact`` with the expected form.
    """
    kind = spec.type if spec else "text"
    text = value.isoformat() if isinstance(value, date | datetime) else str(value)
    try:
        if kind == "datetime":
            instant = value if isinstance(value, datetime) else datetime.fromisoformat(text.strip())
            check_day(instant.date(), f"fact {name!r}")
            if instant.tzinfo is None:
                instant = calendar.to_utc(instant)
            return instant.astimezone(UTC).isoformat()
        if kind == "date":
            day = value.date() if isinstance(value, datetime) else date.fromisoformat(text.strip())
            check_day(day, f"fact {name!r}")
            return day.isoformat()
        if kind == "bool":
            if isinstance(value, bool):
                return "true" if value else "false"
            low = text.strip().lower()
            if low in _TRUE:
                return "true"
            if low in _FALSE:
                return "false"
            raise ValueError(text)
        if kind == "number":
            float(text)
            return text.strip()
    except ValueError:
        expected = {
            "datetime": "a date and time such as 2026-12-23T15:00 (the owner's time zone) or "
            "2026-12-23T15:00-05:00",
            "date": "a date such as 2027-01-08",
            "bool": "true or false",
            "number": "a number such as 3 or 2.5",
        }[kind]
        raise InvalidFact(f"fact {name!r} must be {expected}, not {text!r}") from None
    return text


_READ: dict[tuple[str, str], date] = {}


def read_fact(spec: FactSpec | None, text: str | None) -> Any:
    """A stored fact's typed value (``None`` when not recorded)."""
    if text is None:
        return None
    kind = spec.type if spec else "text"
    if kind == "datetime" or kind == "date":
        # Plans read the same stored instants over and over; the values are immutable.
        found = _READ.get((kind, text))
        if found is None:
            found = datetime.fromisoformat(text) if kind == "datetime" else date.fromisoformat(text)
            if len(_READ) >= 8192:
                _READ.clear()
            _READ[kind, text] = found
        return found
    if kind == "bool":
        return text == "true"
    if kind == "number":
        number = float(text)
        return int(number) if number.is_integer() else number
    return text


def fact_value(pack: RulePack, app: Application, name: str, calendar: WorkCalendar,
               _depth: int = 0) -> Any:
    """A fact's typed value: as recorded, else its declared default (``interview_ends_at``
    is an hour after ``interviewed_at`` until the person records when it ended), else
    ``None``. A date fact's default is the owner's local date of the instant."""
    spec = pack.facts.get(name)
    text = app.facts.get(name)
    if text is not None or spec is None or spec.default is None or _depth > len(pack.facts):
        return read_fact(spec, text)  # the depth bound: defaults form no cycle (load checks)
    default = spec.default
    base = fact_value(pack, app, default.anchor, calendar, _depth + 1)
    if not isinstance(base, date):
        return None
    start = base if isinstance(base, datetime) else calendar.start_of_day(base)
    if default.offset is not None:
        start = calendar.add(start, default.offset)
    return calendar.local_date(start) if spec.type == "date" else start


def contact_view(contact: Contact | None) -> dict[str, str] | None:
    if contact is None:
        return None
    return {
        "name": contact.name,
        "title": contact.title,
        "role": contact.role,
        "email": contact.email,
        "phone": contact.phone,
    }


def _count_roles(pack: RulePack, contacts: Iterable[Contact]) -> dict[str, int]:
    """Contacts per role: the roles seen, in order, then the pack's others at 0."""
    count: dict[str, int] = {}
    for c in contacts:
        count[c.role] = count.get(c.role, 0) + 1
    for role in pack.roles:
        count.setdefault(role, 0)
    return count


def build_context(
    pack: RulePack,
    app: Application,
    calendar: WorkCalendar,
    *,
    contact: Contact | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What a condition or template sees (``Context``), every name worked out."""
    return Context(pack, app, calendar, contact=contact, extra=extra).full()


class Context(Mapping[str, Any]):
    """What a condition or template sees: facts by name (``None`` when unknown), the
    application, its contacts, ``count.ROLE`` and, in a per-contact rule, ``contact``;
    ``extra`` adds to it (the owner's counts) and wins over the rest. Instants appear in
    the owner's local time.

    Each name is worked out when first asked for: a condition reads one or two of them,
    and some (a fact's default, the contacts' views) take calendar arithmetic or new
    dicts. Iterating (``**context``, as the sandbox is called) works out all of them."""

    __slots__ = ("_app", "_calendar", "_extra", "_known", "_pack", "_person")

    def __init__(self, pack: RulePack, app: Application, calendar: WorkCalendar, *,
                 contact: Contact | None = None,
                 extra: Mapping[str, Any] | None = None) -> None:
        self._pack = pack
        self._app = app
        self._calendar = calendar
        self._person = contact
        self._extra = extra or {}
        self._known: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        known = self._known
        if name in known:
            return known[name]
        if name in self._extra:
            value = self._extra[name]
        elif name in _MAKERS:
            value = _MAKERS[name](self)
        elif name in self._pack.facts or name in self._app.facts:
            value = self._fact(name)
        else:
            raise KeyError(name)
        known[name] = value
        return value

    def _names(self) -> dict[str, None]:
        return dict.fromkeys((*self._pack.facts, *self._app.facts, *_MAKERS, *self._extra))

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def full(self) -> dict[str, Any]:
        """Every name and its value, as a dict of its own."""
        facts = self._facts()
        out = dict(facts)
        for name, make in _MAKERS.items():
            out[name] = facts if name == "facts" else make(self)
        out.update(self._extra)
        return out

    def _fact(self, name: str) -> Any:
        pack, app = self._pack, self._app
        spec = pack.facts.get(name)
        if name not in app.facts and (spec is None or spec.default is None):
            return None
        value = fact_value(pack, app, name, self._calendar)
        return value.astimezone(self._calendar.tz) if isinstance(value, datetime) else value

    def _facts(self) -> dict[str, Any]:
        facts = dict.fromkeys(self._pack.facts)
        app = self._app
        for name, spec in self._pack.facts.items():
            if spec.default is not None and name not in app.facts:
                facts[name] = self._fact(name)
        for name in app.facts:
            facts[name] = self._fact(name)
        return facts

    def _application(self) -> dict[str, Any]:
        app = self._app
        return {
            "id": app.id,
            "owner": app.owner,
            "company": app.company,
            "role": app.role,
            "state": app.state,
            "created_at": app.created_at and app.created_at.astimezone(self._calendar.tz),
        }

    def _state(self) -> str:
        return self._app.state

    def _contacts(self) -> list[dict[str, str] | None]:
        return [contact_view(c) for c in self._app.contacts]

    def _count(self) -> dict[str, int]:
        return _count_roles(self._pack, self._app.contacts)

    def _untitled(self) -> dict[str, int]:
        # Contacts per role still without a title: the names on a thank-you note must be
        # exact, so collect-contacts asks until each has one.
        return _count_roles(self._pack, (c for c in self._app.contacts if not c.title.strip()))

    def _contact(self) -> dict[str, str] | None:
        return contact_view(self._person)

    def _nothing(self) -> None:
        return None


# The names every context has besides the facts, each with the function that works it
# out.
_MAKERS: dict[str, Callable[[Context], Any]] = {
    "facts": Context._facts, "application": Context._application, "state": Context._state,
    "contacts": Context._contacts, "count": Context._count, "untitled": Context._untitled,
    "contact": Context._contact, "rule": Context._nothing, "due": Context._nothing,
    "at": Context._nothing}
