"""One person is one contact: a new contact spelt like one already there is asked about.

``followup log --interviewer``, ``add`` and ``import`` (cards, applications) find each
new contact whose name is another spelling of a contact's already on the application, or
given beside it (``followup.interop.names``). On a terminal the person is asked whether
it is the same person; elsewhere the command is refused (exit 2) unless ``--same``
(update that contact) or ``--new`` (add another) says it, so that a script never merges
or splits people by guessing. The same person keeps the name already there unless the
person says to take the new spelling (``r`` to the question, or ``--same --rename``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from followup.cli._common import Usage, printable

if TYPE_CHECKING:  # the names and the model are imported when a command runs, not for --help
    from followup.interop.names import LookAlike
    from followup.model import Contact
    from followup.runtime.engine import Engine

__all__ = ["Decision", "decide", "decisions_json", "decisions_text", "options",
           "rename_stored", "resolved", "settle"]

_TRIES = 3  # unclear answers before the question is given up


def options(p: argparse.ArgumentParser, *, rename: bool = True) -> None:
    """``--same``, ``--new`` (and ``--rename``): what a command does with a look-alike."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--same", dest="lookalike", action="store_const", const="same",
                       help="a new contact spelt like one already there (Dr. Jane Q. Doe, "
                       "Jane Doe) is that person: update them, keeping their name")
    group.add_argument("--new", dest="lookalike", action="store_const", const="new",
                       help="a new contact spelt like one already there is someone else: "
                       "add them")
    if rename:
        p.add_argument("--rename", action="store_true",
                       help="with --same: the contact takes the new spelling as its name")


class Decision:
    """What was decided for one look-alike: the same person (``same``), then under the
    new spelling (``rename``), or another. (A plain class: ``followup --help`` and every
    command import this module, and making a ``typing.NamedTuple`` or a dataclass costs
    milliseconds of each.)"""

    __slots__ = ("pair", "rename", "same")

    def __init__(self, pair: LookAlike, same: bool, rename: bool = False) -> None:
        self.pair = pair
        self.same = same
        self.rename = rename

    def __repr__(self) -> str:
        return f"Decision(pair={self.pair!r}, same={self.same!r}, rename={self.rename!r})"


def decide(pairs: Sequence[LookAlike], *, choice: str | None, where: str,
           rename: bool = False, asked: bool | None = None) -> list[Decision]:
    """A decision for each of ``pairs``: ``choice`` (``same``, with ``rename`` or not,
    or ``new``) when given, else the person's answer on a terminal (``asked``: whether
    to ask; default, when standard input and error are a terminal: the question goes to
    standard error); else ``Usage`` naming every match and the options."""
    if rename and choice != "same":
        raise Usage("--rename gives the contact --same updates the new spelling: give "
                    "--same too")
    if not pairs:
        return []
    if choice is not None:
        return [Decision(p, choice == "same", rename) for p in pairs]
    if not (sys.stdin.isatty() and sys.stderr.isatty() if asked is None else asked):
        shown = "; ".join(f"{p.new.name!r} looks like {p.existing.name!r} "
                          f"({p.existing.role})" for p in pairs)
        raise Usage(f"{shown}, {where}: say whether it is the same person: --same (one "
                    "contact, under the name already there; --same --rename: under the "
                    "new one) or --new (someone else: another contact)")
    return [_ask(p) for p in pairs]


def _ask(pair: LookAlike) -> Decision:
    # Shown as text even when standard error is left exact (--json): a name from a card
    # may hold control sequences.
    new, old = printable(pair.new.name, ""), printable(pair.existing.name, "")
    question = (f"{new} looks like {old} ({printable(pair.existing.role, '')}): the same "
                "person? [Y/n/r] ")
    for _ in range(_TRIES):
        sys.stderr.write(question)
        sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:  # end of input: no answer
            break
        answer = line.strip().casefold()
        if answer in ("", "y", "yes"):
            return Decision(pair, True)
        if answer in ("r", "rename"):
            return Decision(pair, True, rename=True)
        if answer in ("n", "no"):
            return Decision(pair, False)
        sys.stderr.write(f"answer y (the same person, named {old}), r (the same person, "
                         f"named {new} from now on) or n (someone else: add them)\n")
    raise Usage(f"no answer whether {pair.new.name!r} is {pair.existing.name!r}: nothing "
                "was changed; run the command again with --same or --new")


def resolved(new: Sequence[Contact], decisions: Sequence[Decision], *,
             rename: bool = False) -> list[Contact]:
    """``new`` with each contact decided to be the same person as another replaced by
    that person, updated (``followup.interop.names.joined``); with ``rename`` (contacts
    not stored yet), under the new spelling when the decision says so."""
    from followup.interop.names import joined
    from followup.model import replaced

    out = joined(new, [d.pair for d in decisions if d.same])
    if rename:
        for d in decisions:
            if d.same and d.rename:
                out = [replaced(c, name=d.pair.new.name) if c.name == d.pair.existing.name
                       else c for c in out]
    return out


def settle(existing: Sequence[Contact], new: Sequence[Contact], args: argparse.Namespace,
           where: str, *, stored: bool = True) -> tuple[list[Contact], list[Decision]]:
    """The contacts to record for ``new`` joining ``existing``, and the decisions made
    about look-alikes (``args.lookalike``: ``--same``/``--new``; ``args.rename``).
    ``stored``: ``existing`` are stored contacts, renamed after the change is recorded
    (``rename_stored``); otherwise nothing is stored yet and a rename is made here."""
    from followup.interop.names import look_alikes

    decisions = decide(look_alikes(existing, new), choice=getattr(args, "lookalike", None),
                       rename=getattr(args, "rename", False), where=where)
    return resolved(new, decisions, rename=not stored), decisions


def rename_stored(engine: Engine, application_id: str, decisions: Sequence[Decision], *,
                  owner: str) -> list[tuple[str, str]]:
    """Give each stored contact taken for the same person under a new spelling that
    spelling (``Engine.rename_contact``: what was recorded about them follows); the
    renames made, (old, new)."""
    done: list[tuple[str, str]] = []
    for d in decisions:
        if d.same and d.rename and d.pair.existing.name not in (old for old, _ in done):
            engine.rename_contact(application_id, d.pair.existing.name, d.pair.new.name,
                                  owner=owner)
            done.append((d.pair.existing.name, d.pair.new.name))
    return done


def decisions_json(decisions: Sequence[Decision]) -> list[dict[str, Any]]:
    """The decisions for ``--json``: each new ``name``, the ``contact`` it looked like,
    whether it was taken as the ``same`` person and whether that contact was
    ``renamed`` to the new spelling."""
    return [{"name": d.pair.new.name, "contact": d.pair.existing.name, "same": d.same,
             "renamed": d.same and d.rename} for d in decisions]


def decisions_text(decisions: Sequence[Decision]) -> list[str]:
    """One line for each decision, for people."""
    return [f"  {d.pair.new.name}: the same person as {d.pair.existing.name}"
            + (" (renamed to the new spelling)" if d.rename else " (kept that name)")
            if d.same else f"  {d.pair.new.name}: someone else than {d.pair.existing.name}"
            for d in decisions]
