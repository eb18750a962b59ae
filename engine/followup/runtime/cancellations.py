"""Why a change cancelled a reminder, and whether its action was ever marked done.

``Outcome.cancelled`` lists the timers a change removed without firing. For a person they
are not all alike: a thank-you reminder cancelled because ``thank_you_sent`` was just
logged for that interviewer is done; the same reminder cancelled because ``called``
moved the application on, while no ``thank_you_sent`` for them was ever recorded, is a
note that may never have gone out, and the command line says so. A reminder moved to
another time keeps its key and is among ``Outcome.armed``, not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from followup.errors import InputError
from followup.keys import TimerKey
from followup.language.pack import Rule, RulePack
from followup.model import Application, HistoryEntry, Timer

__all__ = ["Cancellation", "Reason", "cancellations"]

Reason = Literal["done", "stopped", "left_state", "contact_gone", "condition", "replanned"]


@dataclass(frozen=True)
class Cancellation:
    """One cancelled timer and why.

    ``reason``:

    - ``done``: its rule's ``done_by`` event (for its contact) is among the change's
      entries: the normal end of a reminder;
    - ``stopped``: its rule's ``until`` event is among them;
    - ``left_state``: the application is now in a state the rule (or the timed move) is
      not armed in;
    - ``contact_gone``: its contact is no longer on the application;
    - ``condition``: its rule's condition no longer holds (a fact recorded, a contact
      added);
    - ``replanned``: the plan no longer has it for another reason (a limit, a rule the
      pack no longer has).

    ``done_by`` is the event that marks the reminder done (None when its rule names
    none); ``never_done`` is true when the rule names one and it was not recorded (for
    the timer's contact) since the application entered the rule's states: the action the
    reminder asked for may never have been taken.
    """

    timer: Timer
    reason: Reason
    done_by: str | None = None
    never_done: bool = False


def cancellations(pack: RulePack, application: Application, history: Sequence[HistoryEntry],
                  cancelled: Sequence[Timer], added: int) -> tuple[Cancellation, ...]:
    """Why each of ``cancelled`` was cancelled by the change that left ``application``
    with ``history``, the last ``added`` entries of which the change made."""
    new = history[len(history) - added:] if added else ()
    return tuple(_one(pack, application, history, new, t) for t in cancelled)


def _one(pack: RulePack, app: Application, history: Sequence[HistoryEntry],
         new: Sequence[HistoryEntry], timer: Timer) -> Cancellation:
    if timer.action == "transition":
        move = next((m for m in pack.transitions if m.name == _key(timer).name), None)
        left = move is not None and app.state not in move.sources
        return Cancellation(timer, "left_state" if left else "replanned")
    try:
        rule = pack.rule(timer.rule)
    except KeyError:
        return Cancellation(timer, "replanned")
    if timer.action != "notify" or rule.scope != "application":
        return Cancellation(timer, "replanned")
    done_by = rule.done_by
    if done_by is not None and _recorded(pack, done_by, timer.contact, new):
        return Cancellation(timer, "done", done_by)
    never_done = done_by is not None and not _recorded(
        pack, done_by, timer.contact, [h for h in history if h.seq >= _key(timer).cycle])
    return Cancellation(timer, _reason(pack, rule, app, new, timer), done_by, never_done)


def _reason(pack: RulePack, rule: Rule, app: Application, new: Sequence[HistoryEntry],
            timer: Timer) -> Reason:
    if rule.until is not None and _recorded(pack, rule.until, timer.contact, new):
        return "stopped"
    if rule.states is not None and app.state not in rule.states:
        return "left_state"
    if timer.contact is not None and app.contact(timer.contact) is None:
        return "contact_gone"
    if rule.condition is not None:
        return "condition"
    return "replanned"


def _recorded(pack: RulePack, event: str, contact: str | None,
              entries: Sequence[HistoryEntry]) -> bool:
    """Whether ``entries`` record ``event`` (for ``contact``, when it is about one)."""
    spec = pack.events.get(event)
    who = contact if spec is not None and spec.per_contact else None
    return any(h.kind == "event" and h.name == event and (who is None or h.contact == who)
               for h in entries)


def _key(timer: Timer) -> TimerKey:
    try:
        return TimerKey.parse(timer.key)
    except InputError:  # a key no plan writes: count it from the start
        return TimerKey.rule(timer.application_id, timer.rule, cycle=0)
