"""One person is one contact: a new contact spelt like one already there is asked about.

``followup log --interviewer``, ``add`` and ``import`` (cards, applications) find each
new contact whose name is another spelling of a contact's already on the application
(``followup.interop.names``). On a terminal the person is asked whether it is the same
person; elsewhere the command is refused (exit 2) unless ``--same`` (update that contact)
or ``--new`` (add another) says it, so that a script never merges or splits people by
guessing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from followup.cli._common import Usage
from followup.interop.names import LookAlike, look_alikes, merged_contact
from followup.model import Contact

__all__ = ["Decision", "decide", "decisions_json", "decisions_text", "options", "resolved",
           "settle"]

_TRIES = 3  # unclear answers before the question is given up


def options(p: argparse.ArgumentParser) -> None:
    """``--same`` and ``--new``: what a command does with a look-alike contact."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--same", dest="lookalike", action="store_const", const="same",
                       help="a new contact spelt like one already there (Dr. Jane Q. Doe, "
                       "Jane Doe) is that person: update them, keeping their name")
    group.add_argument("--new", dest="lookalike", action="store_const", const="new",
                       help="a new contact spelt like one already there is someone else: "
                       "add them")


@dataclass(frozen=True)
class Decision:
    """What was decided for one look-alike: the same person (``same``) or another."""

    pair: LookAlike
    same: bool


def decide(pairs: Sequence[LookAlike], *, choice: str | None, where: str,
           asked: bool | None = None) -> list[Decision]:
    """A decision for each of ``pairs``: ``choice`` (``same`` or ``new``) when given,
    else the person's answer on a terminal (``asked``: whether to ask; default, when
    standard input is a terminal); else ``Usage`` naming every match and the options."""
    if not pairs:
        return []
    if choice is not None:
        return [Decision(p, choice == "same") for p in pairs]
    if not (sys.stdin.isatty() if asked is None else asked):
        shown = "; ".join(f"{p.new.name!r} looks like {p.existing.name!r} "
                          f"({p.existing.role})" for p in pairs)
        raise Usage(f"{shown}, {where}: say whether it is the same person: --same "
                       "(update the contact already there, keeping its name) or --new "
                       "(add another contact)")
    return [Decision(p, _ask(p)) for p in pairs]


def _ask(pair: LookAlike) -> bool:
    question = (f"{pair.new.name} looks like {pair.existing.name} ({pair.existing.role}): "
                "the same person? [Y/n] ")
    for _ in range(_TRIES):
        sys.stderr.write(question)
        sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:  # end of input: no answer
            break
        answer = line.strip().casefold()
        if answer in ("", "y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        sys.stderr.write("answer y (the same person: update them) or n (someone else: "
                         "add them)\n")
    raise Usage(f"no answer whether {pair.new.name!r} is {pair.existing.name!r}: nothing "
                "was changed; run the command again with --same or --new")


def resolved(new: Sequence[Contact], decisions: Sequence[Decision]) -> list[Contact]:
    """``new`` with each contact decided to be the same person as another replaced by
    that person, updated (``merged_contact``): once, where two new spellings of one
    person come together."""
    out: list[Contact] = []
    for contact in new:
        same = next((d.pair.existing for d in decisions
                     if d.same and d.pair.new is contact), None)
        if same is None:
            out.append(contact)
            continue
        for i, earlier in enumerate(out):
            if earlier.name == same.name:
                out[i] = merged_contact(earlier, contact)
                break
        else:
            out.append(merged_contact(same, contact))
    return out


def settle(existing: Sequence[Contact], new: Sequence[Contact], args: argparse.Namespace,
           where: str) -> tuple[list[Contact], list[Decision]]:
    """The contacts to record for ``new`` joining ``existing``, and the decisions made
    about look-alikes (``args.lookalike``: ``--same``/``--new``)."""
    decisions = decide(look_alikes(existing, new), choice=getattr(args, "lookalike", None),
                       where=where)
    return resolved(new, decisions), decisions


def decisions_json(decisions: Sequence[Decision]) -> list[dict[str, Any]]:
    """The decisions for ``--json``: each new ``name``, the ``contact`` it looked like
    and whether it was taken as the ``same`` person."""
    return [{"name": d.pair.new.name, "contact": d.pair.existing.name, "same": d.same}
            for d in decisions]


def decisions_text(decisions: Sequence[Decision]) -> list[str]:
    """One line for each decision, for people."""
    return [f"  {d.pair.new.name}: the same person as {d.pair.existing.name} (kept that name)"
            if d.same else f"  {d.pair.new.name}: someone else than {d.pair.existing.name}"
            for d in decisions]
