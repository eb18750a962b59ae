"""The history as the rules read it: corrections applied, nothing rewritten.

A correction is an entry of its own, never an edit of an earlier one (``followup.runtime
.corrections`` makes them). So what the planner, the pack's own moves and the checks of a
repeated event read is the history seen through the corrections, ``effective(history)``:

- an entry an ``undo`` names is left out, with the timed and automatic moves it took
  with it (the ``undo`` entry lists them); the ``undo`` entries themselves are
  bookkeeping, and left out too;
- a contact renamed (``rename``) or merged into another (``merge``) is read under the name
  it has now, in every entry made before: an interviewer thanked and then renamed is still
  thanked, a reminder already sent under the old name counts as sent under the new one,
  and a merged contact's thank-you counts for the contact it was merged into.

Entries keep their ``seq``: the position in the stored history stays what a timer's cycle
refers to, so undoing a move brings back the earlier stay with the very timer keys it had.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from followup.keys import rule_key
from followup.model import HistoryEntry, replaced

__all__ = ["CORRECTIONS", "UNDOABLE", "Undoing", "effective", "snoozed_key", "undoing",
           "undone"]

#: The kinds of entry a correction records.
CORRECTIONS = frozenset({"edit", "rename", "merge", "remove", "archive", "unarchive", "undo",
                         "snooze"})
#: The kinds of entry a person makes, which ``undo`` can take back (not ``created``: an
#: application is deleted, not undone; not what the rules did on their own).
UNDOABLE = frozenset({"event", "facts", "contact", "edit", "rename", "merge", "remove",
                      "archive", "unarchive", "snooze"})
#: The kinds that move a contact to another name: ``data["from"]`` and ``data["to"]`` hold
#: the two names.
_MOVES = frozenset({"rename", "merge"})


def undone(history: Iterable[HistoryEntry]) -> set[int]:
    """The ``seq`` of every entry an ``undo`` took back, with the moves it took with it."""
    gone: set[int] = set()
    for h in history:
        if h.kind == "undo":
            gone.add(int(h.data["undone"]))
            gone.update(int(seq) for seq in h.data.get("dropped", ()))
    return gone


@dataclass(frozen=True)
class Undoing:
    """What an ``undo`` at the end of a history takes back (``undoing``): the engine makes
    its entry from this, and an import checks a recorded one against it.

    ``target``: the latest entry a person made that is not undone already. ``before``:
    the entries in effect before it. ``dropped``: when it moved the application,
    directly (an event) or through the pack's own move right after it (the last
    interviewer thanked, or merged away), the positions of the rules' own moves since
    (they followed from the state it entered), which the undo takes back with it;
    ``None`` when it moved nothing."""

    target: HistoryEntry
    before: tuple[HistoryEntry, ...]
    dropped: tuple[int, ...] | None

    def state_before(self, fallback: str) -> str:
        """The state the entries before the target leave (``fallback`` if none moved)."""
        for h in reversed(effective(self.before)):
            if h.to_state is not None:
                return h.to_state
        return fallback


def undoing(history: Sequence[HistoryEntry]) -> Undoing | None:
    """What an ``undo`` appended to ``history`` would take back; ``None`` when nothing
    is left to undo."""
    gone = undone(history)
    target = next((h for h in reversed(history) if h.kind in UNDOABLE and h.seq not in gone),
                  None)
    if target is None:
        return None
    before = tuple(h for h in history if h.seq < target.seq and h.seq not in gone)
    after = [h for h in history if h.seq > target.seq and h.seq not in gone]
    moved = target.to_state is not None or (
        bool(after) and after[0].kind == "transition" and after[0].key is None)
    dropped = (tuple(h.seq for h in after if h.kind in ("transition", "skipped")) if moved
               else None)
    return Undoing(target, before, dropped)


def effective(history: Sequence[HistoryEntry]) -> Sequence[HistoryEntry]:
    """``history`` as the rules read it (see the module's docstring); ``history`` itself,
    not a copy, when it holds no correction."""
    for h in history:
        if h.kind in CORRECTIONS:
            break
    else:
        return history
    gone = undone(history)
    # Walking back, ``names`` maps a name to the one it goes by at the end: a rename
    # seen (later in time) before the entries it renames.
    names: dict[str, str] = {}
    out: list[HistoryEntry] = []
    for h in reversed(history):
        kind = h.kind
        if kind == "undo" or h.seq in gone:
            continue
        if kind in _MOVES:
            old, new = str(h.data["from"]), str(h.data["to"])
            names[old] = names.get(new, new)
        elif kind == "remove" and h.contact is not None:
            names.pop(h.contact, None)  # a later contact of that name is someone else
        if names:
            h = _renamed(h, names)
        out.append(h)
    out.reverse()
    return out


def snoozed_key(application_id: str, snooze: HistoryEntry) -> str:
    """The key of the reminder a ``snooze`` entry holds back, under its contact's name as
    ``effective`` gives it: a reminder renamed with its contact stays snoozed."""
    data = snooze.data
    return rule_key(application_id, snooze.name, int(data["cycle"]), snooze.contact,
                    int(data["occurrence"]))


def _renamed(h: HistoryEntry, names: dict[str, str]) -> HistoryEntry:
    if h.kind == "created":
        contacts = h.data.get("contacts", [])
        if any(c.get("name") in names for c in contacts):
            moved = [dict(c, name=names.get(c.get("name"), c.get("name"))) for c in contacts]
            return replaced(h, data=dict(h.data, contacts=moved))
        return h
    if h.contact is not None and h.contact in names and h.kind not in _MOVES:
        return replaced(h, contact=names[h.contact])
    return h
