"""How much text followup keeps: the limits on every name and free text, checked alike
before any store sees them, so memory, SQLite and PostgreSQL accept and refuse the same.

Any Unicode text up to its limit is valid everywhere. What is refused, with an
``InputError`` that names the field and says what to do, is:

- text longer than its limit: ``NAME_MAX`` characters for a name (a company, a role, a
  contact's name, title, email or phone, a fact's or an event's name, a channel), or
  ``ID_MAX`` for an identifier (an owner, an application id, an idempotency key), or
  ``TEXT_MAX`` for free text (a fact's value, a contact's note or address);
- more than ``CONTACTS_MAX`` contacts or ``FACTS_MAX`` facts on one application, or more
  than ``ITEMS_MAX`` entries in one list of a business card (its emails, phones, ...);
- a NUL character, which PostgreSQL cannot keep in text and SQLite would cut short;
- an instant or a date outside the years ``EARLIEST.year`` to ``LATEST.year`` (1900 to
  2999): far beyond any interview and any rule's reach, and far enough from the ends
  of Python's calendar (year 9999) that every rule's arithmetic stays inside it;
- a lone surrogate (``"\\ud800"`` in JSON, or command-line bytes that are not UTF-8, which
  Python reads as U+DC80-U+DCFF): it is not a character and no store can encode it.

Why these sizes: PostgreSQL indexes a timer's key, which holds the application's id and
a contact's name, and a btree index row holds at most 2,704 bytes. A name of ``NAME_MAX``
characters and an id of ``ID_MAX``, each written out in the key's escaped form (at most
6 bytes a character), leave room to spare for the rule's name; free text is not indexed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date

from followup.errors import InputError
from followup.model import Application, Contact, FrozenDict, Owner

__all__ = [
    "CONTACTS_MAX",
    "EARLIEST",
    "FACTS_MAX",
    "ID_MAX",
    "ITEMS_MAX",
    "LATEST",
    "NAME_MAX",
    "REPLAN_BATCH",
    "TEXT_MAX",
    "check_application",
    "check_contact",
    "check_contacts",
    "check_day",
    "check_facts",
    "check_input",
    "check_owner",
    "check_text",
    "texts_fine",
]

ID_MAX = 100
EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
NAME_MAX = 200
TEXT_MAX = 10_000
CONTACTS_MAX = 200
FACTS_MAX = 100
ITEMS_MAX = 20
#: How many applications a batch re-plans unless told (followup.runtime.replans): small
#: enough that a daemon's pass stays short, large enough that a pack edit reaches 10,000
#: applications in 100 passes.
REPLAN_BATCH = 100

_SHOWN = 40  # characters of a refused value that a message shows


def check_text(value: object, what: str, *, limit: int = NAME_MAX) -> None:
    """Refuse ``value`` (a str; other values are checked where they are read) if it is
    longer than ``limit`` characters, holds a NUL or is not Unicode text."""
    if not isinstance(value, str):
        return
    if len(value) > limit:
        raise InputError(
            f"{what} {_shown(value)} is {len(value):,} characters long; at most {limit:,} "
            "are kept: shorten it")
    if "\x00" in value:
        raise InputError(
            f"{what} {_shown(value)} holds a NUL character (\\x00), which no store keeps: "
            "remove it")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = value[exc.start]
        raise InputError(
            f"{what} {_shown(value)} holds U+{ord(bad):04X}, which is not a character: "
            "text must be valid Unicode (UTF-8). On a command line, this comes from bytes "
            "that are not UTF-8: use a UTF-8 locale (LANG=C.UTF-8) or convert the text; "
            "in a JSON file, from a lone surrogate escape such as \\ud800") from None


def check_day(day: date, what: str) -> None:
    """Refuse a date (of an instant, a fact, an option) outside ``EARLIEST``-``LATEST``."""
    if not EARLIEST <= day <= LATEST:
        raise InputError(
            f"{what}: {day.isoformat()} is outside the years {EARLIEST.year}-{LATEST.year} "
            "that followup plans in: check the year")


def _fine(value: object, limit: int) -> bool:
    """Whether ``check_text`` would pass ``value``, quickly (every commit asks): the
    messages are made only for what is refused."""
    if not isinstance(value, str):
        return True
    if len(value) > limit or "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def texts_fine(values: Iterable[object], limit: int) -> bool:
    """Whether ``check_text`` would pass each of ``values`` at ``limit``: a caller that
    checks many texts on every commit asks this first, and makes its messages (through
    ``check_text``) only when the answer is no."""
    return all(_fine(value, limit) for value in values)


# Facts and contacts that passed, by identity (each held, so that its id is not reused
# while it is remembered): an application's facts and contacts seldom change between two
# commits, and a store hands the same immutable mapping or tuple back for the same text
# (``store._codec.facts_from_json``, ``contacts_from_json``).
_PASSED: dict[int, object] = {}
_PASSED_MOST = 4096


def _known_fine(value: object, kind: type, check: Callable[[], bool]) -> bool:
    """``check()``, remembered for ``value`` when it passes and is of the immutable
    ``kind`` (a mutable one could change after it passed)."""
    if _PASSED.get(id(value)) is value and type(value) is kind:
        return True
    if not check():
        return False
    if type(value) is kind:
        if len(_PASSED) >= _PASSED_MOST:
            _PASSED.clear()
        _PASSED[id(value)] = value
    return True


def _facts_fine(facts: Mapping[str, object]) -> bool:
    return _known_fine(facts, FrozenDict, lambda: len(facts) <= FACTS_MAX and all(
        _fine(k, NAME_MAX) and _fine(v, TEXT_MAX) for k, v in facts.items()))


def _contacts_fine(contacts: Sequence[Contact]) -> bool:
    return _known_fine(contacts, tuple, lambda: len(contacts) <= CONTACTS_MAX and all(
        _contact_fine(c) for c in contacts))


def _contact_fine(contact: Contact) -> bool:
    """Whether ``check_contact`` would pass ``contact`` (a card's lists aside), quickly."""
    return (all(_fine(v, NAME_MAX) for v in (contact.name, contact.role, contact.title,
                                             contact.email, contact.phone))
            and _fine(contact.note, TEXT_MAX)
            and not any(contact.organization + contact.name_parts + contact.address
                        + contact.other_emails + contact.other_phones))


def check_contact(contact: Contact, where: str = "") -> None:
    """Refuse a contact whose fields are too long or not text (see the module)."""
    if _contact_fine(contact):
        return
    name = contact.name if isinstance(contact.name, str) else ""
    of = f"{where}contact {_shown(name)}'s" if name and len(name) <= NAME_MAX else \
        f"{where}a contact's"
    check_text(contact.name, f"{where}a contact's name")
    for field in ("role", "title", "email", "phone"):
        check_text(getattr(contact, field), f"{of} {field}")
    check_text(contact.note, f"{of} note", limit=TEXT_MAX)
    for field in ("organization", "name_parts", "address", "other_emails", "other_phones"):
        items = tuple(getattr(contact, field))
        if len(items) > ITEMS_MAX:
            raise InputError(f"{of} {field} has {len(items):,} entries; at most {ITEMS_MAX} "
                             "are kept")
        for item in items:
            check_text(item, f"{of} {field.replace('_', ' ')}",
                       limit=TEXT_MAX if field == "address" else NAME_MAX)


def check_facts(facts: Mapping[str, object], where: str = "") -> None:
    """Refuse facts that are too many or too long (see the module); values that are not
    text (a date, say) are read by the fact's own rules."""
    if len(facts) > FACTS_MAX:
        raise InputError(f"{where}{len(facts):,} facts; at most {FACTS_MAX} are kept on one "
                         "application")
    for name, value in facts.items():
        check_text(name, f"{where}a fact's name")
        check_text(value, f"{where}the fact {_shown(name)}", limit=TEXT_MAX)


def check_contacts(contacts: Iterable[Contact], where: str = "") -> None:
    """Refuse too many contacts, or one that is too long (see the module)."""
    listed = list(contacts)
    if len(listed) > CONTACTS_MAX:
        raise InputError(f"{where}{len(listed):,} contacts; at most {CONTACTS_MAX} are kept "
                         "on one application")
    for contact in listed:
        check_contact(contact, where)


def check_application(app: Application) -> None:
    """Refuse an application any of whose texts is past its limit (see the module)."""
    if (_fine(app.id, ID_MAX) and _fine(app.owner, ID_MAX) and _fine(app.company, NAME_MAX)
            and _fine(app.role, NAME_MAX) and _fine(app.state, NAME_MAX)
            and _facts_fine(app.facts) and _contacts_fine(app.contacts)
            and (app.created_at is None or EARLIEST <= app.created_at.date() <= LATEST)):
        return
    where = f"application {_shown(app.id)}: " if len(app.id) <= ID_MAX else ""
    if app.created_at is not None:
        check_day(app.created_at.date(), f"{where}the time it was created")
    check_text(app.id, "an application's id", limit=ID_MAX)
    check_text(app.owner, f"{where}the owner", limit=ID_MAX)
    check_text(app.company, f"{where}the company")
    check_text(app.role, f"{where}the role")
    check_text(app.state, f"{where}the state")
    check_facts(app.facts, where)
    check_contacts(app.contacts, where)


def check_input(
    *,
    owner: object = None,
    application_id: object = None,
    company: object = None,
    role: object = None,
    event: object = None,
    contact: object = None,
    key: object = None,
    facts: Mapping[str, object] | None = None,
    contacts: Iterable[Contact] = (),
) -> None:
    """What a caller hands the engine, checked before anything reads it (so that no
    message quotes ten megabytes back)."""
    texts = ((owner, "the owner", ID_MAX), (application_id, "the application's id", ID_MAX),
             (company, "the company", NAME_MAX), (role, "the role", NAME_MAX),
             (event, "the event", NAME_MAX), (contact, "the contact", NAME_MAX),
             (key, "the idempotency key", ID_MAX))
    if not facts and not contacts:
        for value, _what, limit in texts:
            if not _fine(value, limit):
                break
        else:
            return  # every event asks: the messages below are made only for what is refused
    for value, what, limit in texts:
        check_text(value, what, limit=limit)
    check_facts(facts or {})
    check_contacts(contacts)


def check_owner(owner: Owner) -> None:
    """Refuse an owner whose id or settings are past their limits (see the module)."""
    check_text(owner.id, "an owner", limit=ID_MAX)
    for field in ("timezone", "country", "subdivision", "digest"):
        check_text(getattr(owner, field), f"owner {_shown(owner.id)}'s {field}")
    for channel in owner.channels or ():
        check_text(channel, f"owner {_shown(owner.id)}'s channel")
    for span in owner.quiet_hours:
        check_text(span, f"owner {_shown(owner.id)}'s quiet hours")


def _shown(value: str) -> str:
    """A value for a message: quoted, cut at ``_SHOWN`` characters, every character that
    cannot be printed (a control, a surrogate) escaped."""
    cut = value[:_SHOWN]
    text = repr(cut) if cut.isprintable() else ascii(cut)
    return text[:-1] + "..." + text[-1] if len(value) > _SHOWN else text
