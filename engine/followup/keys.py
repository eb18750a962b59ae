"""The keys of timers: one value type, built and read here and nowhere else.

A timer's key says what the timer is for, so that recomputing a plan finds the same
timers, and the notification a timer fires carries the same idempotency key however
often the plan is recomputed:

- a rule of one application: the application, the rule, the state entry it belongs to
  (the ``cycle``: the position in the history where the application entered the rule's
  states), the contact (or none) and the occurrence (0, 1, 2 ... for a repeating rule);
- a timed move of the pack's own (``transition:NAME``): the application, the move and
  the state entry;
- a rule over all of one owner's applications (``keep-looking``): the owner, the rule
  and the local date it fires;
- the marker that has the next pass re-plan an owner's applications that look at the
  others (``replan``): the owner; or one application to re-plan (written by stores
  before version 0.2, and read still).

The text of a key (``str(key)``) is what a store keeps and what a channel receives as
the idempotency key. Its parts are joined with ``/``; inside a part, ``%``, ``/``, a
lone ``-`` and every control or line-break character are written ``%XX`` (UTF-8,
upper-case hex), so any name a person can type (``Jane Doe / HR``, ``Łukasz``, ``王伟``,
a line break pasted from a card) gives a key that no other parts give, and
``TimerKey.parse`` reads back exactly the parts it was built from. Names without those
characters read in a key as they are, so the keys written before this escaping existed
are unchanged for them (a store migration rewrites the others).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from followup.errors import InputError

__all__ = ["TimerKey", "cycle_of", "escape_part", "rule_key", "unescape_part"]

TimerKind = Literal["rule", "transition", "owner", "replan"]

_TRANSITION = "transition:"
_OWNER = "owner"
_NO_CONTACT = "-"
# What a part may not hold as itself: the escape character, the separator, C0 and C1
# controls, DEL, and the Unicode line and paragraph separators.
_SPECIAL = re.compile("[%/\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPED = re.compile("(?:%[0-9A-F]{2})+")


@lru_cache(maxsize=1 << 14)
def escape_part(text: str) -> str:
    """``text`` as one part of a key: see the module's docstring. (Remembered: plans
    build the keys of the same few names again and again.)"""
    if text == _NO_CONTACT:
        return "%2D"
    if not _SPECIAL.search(text):
        return text
    return _SPECIAL.sub(lambda m: "".join(f"%{b:02X}" for b in m[0].encode()), text)


def unescape_part(text: str) -> str:
    """The part ``escape_part`` made ``text`` from."""
    if "%" not in text:
        return text
    return _ESCAPED.sub(lambda m: bytes.fromhex(m[0].replace("%", "")).decode(), text)


@dataclass(frozen=True, slots=True)
class TimerKey:
    """What a timer is for; ``str(key)`` is its stable text (see the module docstring).

    Build one with ``TimerKey.rule``, ``.transition``, ``.owner_rule`` or ``.replan``;
    read a stored one with ``TimerKey.parse``.

    >>> key = TimerKey.rule("3f9c", "thank-you-notes", cycle=0, contact="Jane Doe / HR")
    >>> str(key)
    '3f9c/thank-you-notes/0/Jane Doe %2F HR/0'
    >>> TimerKey.parse(str(key)).contact
    'Jane Doe / HR'
    """

    kind: TimerKind
    name: str  # the rule or the pack's move; "replan" for the marker
    application_id: str = ""  # "" for the owner's keys
    owner: str = ""  # only in the owner's keys
    cycle: int = 0  # the state entry (history seq) an application's timer belongs to
    contact: str | None = None
    occurrence: int = 0
    day: str = ""  # an owner-level rule's local date, ISO 8601

    @classmethod
    def rule(cls, application_id: str, rule: str, *, cycle: int, contact: str | None = None,
             occurrence: int = 0) -> TimerKey:
        """The key of a rule's reminder for one application."""
        return cls("rule", rule, application_id=application_id, cycle=cycle, contact=contact,
                   occurrence=occurrence)

    @classmethod
    def transition(cls, application_id: str, name: str, *, cycle: int) -> TimerKey:
        """The key of a timed move the pack makes on its own."""
        return cls("transition", name, application_id=application_id, cycle=cycle)

    @classmethod
    def owner_rule(cls, owner: str, rule: str, *, day: str) -> TimerKey:
        """The key of a rule over all of ``owner``'s applications, firing on ``day``."""
        return cls("owner", rule, owner=owner, day=day)

    @classmethod
    def replan(cls, owner: str = "", *, application_id: str = "") -> TimerKey:
        """The key of the marker that has the next pass re-plan ``owner``'s applications
        whose rules look at the others, or the one application ``application_id``."""
        return cls("replan", "replan", owner=owner, application_id=application_id)

    def __str__(self) -> str:
        e = escape_part
        if self.kind == "rule" or self.kind == "transition":
            name = _TRANSITION + self.name if self.kind == "transition" else self.name
            return rule_key(self.application_id, name, self.cycle, self.contact,
                            self.occurrence)
        if self.kind == "owner":
            return f"{_OWNER}/{e(self.owner)}/{e(self.name)}/{e(self.day)}"
        if self.application_id:
            return f"{e(self.application_id)}/replan"
        return f"{_OWNER}/{e(self.owner)}/replan"

    @classmethod
    def parse(cls, text: str) -> TimerKey:
        """The key whose text is ``text``; ``InputError`` if no key has that text
        (a corrupted row, say)."""
        parts = text.split("/")
        try:
            if len(parts) == 5:
                app, name, cycle, contact, occurrence = parts
                name = unescape_part(name)
                kind: TimerKind = "rule"
                if name.startswith(_TRANSITION):
                    kind, name = "transition", name[len(_TRANSITION):]
                key = cls(kind, name, application_id=unescape_part(app), cycle=_number(cycle),
                          contact=None if contact == _NO_CONTACT else unescape_part(contact),
                          occurrence=_number(occurrence))
            elif len(parts) == 4 and parts[0] == _OWNER:
                key = cls("owner", unescape_part(parts[2]), owner=unescape_part(parts[1]),
                          day=unescape_part(parts[3]))
            elif len(parts) == 3 and parts[0] == _OWNER and parts[2] == "replan":
                key = cls.replan(unescape_part(parts[1]))
            elif len(parts) == 2 and parts[1] == "replan":
                key = cls.replan(application_id=unescape_part(parts[0]))
            else:
                raise ValueError("not the shape of a key")
        except ValueError as exc:
            raise InputError(f"{text!r} is not a timer key that followup writes ({exc})") \
                from None
        if str(key) != text:  # e.g. "%2f" for "%2F", or "07" for a cycle of 7
            raise InputError(f"{text!r} is not a timer key that followup writes "
                            f"(it would be written {str(key)!r})")
        return key


def rule_key(application_id: str, rule: str, cycle: int, contact: str | None,
             occurrence: int) -> str:
    """``str(TimerKey.rule(...))`` without building the key first: a plan makes one per
    rule and contact on every change."""
    e = escape_part
    return (f"{e(application_id)}/{e(rule)}/{cycle}/"
            f"{_NO_CONTACT if contact is None else e(contact)}/{occurrence}")


def cycle_of(text: str) -> int:
    """``TimerKey.parse(text).cycle``, read straight off a rule's or a move's key (each
    reminder fired asks); any other text goes through ``parse`` and its checks."""
    parts = text.split("/")
    if len(parts) == 5 and parts[2].isdigit() and parts[2].isascii() and (
            parts[2] == "0" or parts[2][0] != "0"):
        return int(parts[2])
    return TimerKey.parse(text).cycle


def _number(text: str) -> int:
    if not text.isdigit() or not text.isascii():
        raise ValueError(f"{text!r} is not a whole number")
    return int(text)
