"""Rounds of interviews on one application: which round it is in, who belongs to it.

A round begins each time the application enters its pack's initial state: when it is
added, and again on an event that leads there (the default pack's ``next_round``, a
second interview; ``reopened``), even from that very state. Everything the rules count
"since the application entered these states" counts from the round's start at the
earliest, so a new round has its own thank-you notes, its own call window and its own
limits, and what was sent in an earlier round stays in the history, sent.

A later round is about the people of that round: a per-contact reminder armed in it, and
a move that waits for "every interviewer", look only at the contacts recorded since the
round began (or with the change that began it), not at the earlier rounds' people, who
were thanked already. Someone who interviews you again is recorded again in the new
round, and so thanked again: after the event that began it (``log`` writes a change's
contacts before its event, and a contact given unchanged is written again only when it
belongs to an earlier round than the current one).

A time counted from a fact (``interviewed_at``) belongs to the round in which the fact
was recorded: a value from before the round began, recorded before it, is the earlier
round's and arms nothing (nor does it set a timing, such as an earlier round's decision
date for the follow-up call).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from followup.language.pack import RulePack
from followup.model import HistoryEntry

if TYPE_CHECKING:
    from followup.runtime.planner import Entry

__all__ = ["Round", "recorded_facts", "round_contacts", "round_start", "rounds_of", "stale"]


def round_start(entries: Sequence[Entry], initial: str) -> Entry | None:
    """The entry that began the application's current round, when that is not its first
    (``None`` in the first round): the last entry into ``initial`` after the first."""
    for e in reversed(entries):
        if e is entries[0]:
            return None
        if e.state == initial:
            return e
    return None


def round_contacts(history: Iterable[HistoryEntry], start: Entry) -> frozenset[str]:
    """The contacts recorded in the round that began at ``start``: added or recorded
    again after it, or before it at its time or later (the contacts a ``log`` records
    with its event are written just before the event, at the same time or later: an
    event logged for an earlier time begins the round then)."""
    names: set[str] = set()
    for h in history:
        if h.seq < start.seq and h.at < start.at:
            continue  # an earlier round's (after the start in order, it is this round's)
        if h.kind == "contact" and h.contact is not None:
            names.add(h.contact)
        elif h.kind == "created":
            names.update(str(c.get("name")) for c in h.data.get("contacts", ()))
    return frozenset(names)


def recorded_facts(history: Iterable[HistoryEntry]) -> dict[str, datetime]:
    """When each fact was last recorded (set, changed or removed)."""
    out: dict[str, datetime] = {}
    for h in history:
        if h.kind == "facts":
            changed = h.data.get("facts")
            if isinstance(changed, Mapping):
                for name in changed:
                    out[str(name)] = h.at
        elif h.kind == "created":
            for name in h.data.get("facts", {}):
                out[str(name)] = h.at
    return out


def stale(pack: RulePack, recorded: Mapping[str, datetime], fact: str, value: datetime,
          start: datetime) -> bool:
    """Whether ``fact`` (worth ``value``) belongs to a round before the one that began
    at ``start``: its value is earlier and it was recorded earlier (a fact not recorded
    is read through its default: ``interview_ends_at`` is as old as ``interviewed_at``)."""
    if value >= start:
        return False
    seen: set[str] = set()
    name: str | None = fact
    while name is not None and name not in seen:
        seen.add(name)
        at = recorded.get(name)
        if at is not None:
            return at < start
        spec = pack.facts.get(name)
        name = spec.default.anchor if spec is not None and spec.default is not None else None
    return True


@dataclass(frozen=True)
class Round:
    """One round of an application, as ``followup show`` lists them: its number (from 1),
    when it began (the application added, or the event that began it, ``event``), the
    facts recorded in it (their last values, as stored) and the contacts recorded in it,
    in order."""

    number: int
    began: datetime
    event: str | None
    facts: Mapping[str, str | None]
    contacts: tuple[str, ...]


def rounds_of(history: Sequence[HistoryEntry], initial: str) -> list[Round]:
    """Every round of the application whose (effective) history this is, in order; an
    entry belongs to the last round it is counted in by ``round_contacts``' rule."""
    from followup.runtime.planner import entries_of

    starts = [e for i, e in enumerate(entries_of(history)) if i == 0 or e.state == initial]
    facts: list[dict[str, str | None]] = [{} for _ in starts]
    people: list[dict[str, None]] = [{} for _ in starts]
    for h in history:
        which = max((i for i, s in enumerate(starts) if h.seq >= s.seq or h.at >= s.at),
                    default=0)
        if h.kind == "created":
            facts[which].update(h.data.get("facts", {}))
            people[which].update((str(c.get("name")), None) for c in h.data.get("contacts", ()))
        elif h.kind == "facts" and isinstance(h.data.get("facts"), Mapping):
            facts[which].update(h.data["facts"])
        elif h.kind == "contact" and h.contact is not None:
            people[which][h.contact] = None
    by_seq = {h.seq: h for h in history}
    return [Round(number=i + 1, began=s.at,
                  event=None if i == 0 else by_seq[s.seq].name if s.seq in by_seq else None,
                  facts=facts[i], contacts=tuple(people[i]))
            for i, s in enumerate(starts)]
