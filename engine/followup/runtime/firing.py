"""What moves an application without an event: the pack's own transitions
(``all-thanked``), and a due timer fired into a move or a notification.

``Firer`` works on values: it takes an application and its history and returns the
application as it leaves it with the history entries to add. It writes nothing; the
change path (``followup.runtime.changes``) commits what it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

from followup.errors import InputError
from followup.keys import cycle_of
from followup.language.pack import RulePack
from followup.model import Application, HistoryEntry, Notification, Timer
from followup.runtime.facts import Context, build_context, contact_view
from followup.runtime.history import effective
from followup.runtime.machine import AUTO_PREFIX, StateMachine
from followup.runtime.owners import OwnerBook
from followup.runtime.planner import entries_of, run_start, variant_of
from followup.runtime.rounds import round_contacts, round_start
from followup.runtime.steps import moved
from followup.timing.calendar import WorkCalendar

__all__ = ["MAX_AUTO_STEPS", "Fired", "Firer"]

MAX_AUTO_STEPS = 32  # a pack whose own transitions loop is stopped, not spun forever


@dataclass(frozen=True)
class Fired:
    """What firing one timer did: the application after it, the history entries to add,
    and the notification it made (``None`` for a move)."""

    application: Application
    entries: tuple[HistoryEntry, ...]
    notification: Notification | None = None


class Firer:
    """The pack's own moves and the firing of due timers."""

    def __init__(self, pack: RulePack, machine: StateMachine, owners: OwnerBook) -> None:
        self.pack = pack
        self.machine = machine
        self.owners = owners
        # The last application's context without a contact: the reminders one pass fires
        # for an application (a thank-you note per interviewer) share all but ``contact``
        # and the reminder's own names. By identity: records are immutable.
        self._base: tuple[Application, WorkCalendar, dict[str, Any]] | None = None

    def auto(self, app: Application, history: Sequence[HistoryEntry], calendar: WorkCalendar,
             now: datetime) -> tuple[Application, list[HistoryEntry]]:
        """The moves the pack makes on its own when a condition holds: the application
        after them and the history entries that record them."""
        added: list[HistoryEntry] = []
        for _ in range(MAX_AUTO_STEPS):
            step = self._auto_step(app, history, added, calendar, now)
            if step is None:
                return app, added
            added.append(step)
            app = moved(app, step.to_state or app.state)
        raise InputError(f"the pack's own transitions keep moving application {app.id} "
                         f"(more than {MAX_AUTO_STEPS} moves at once): check 'transitions:'")

    def _auto_step(self, app: Application, history: Sequence[HistoryEntry],
                   added: Sequence[HistoryEntry], calendar: WorkCalendar,
                   now: datetime) -> HistoryEntry | None:
        # ``history`` and the moves ``added`` since are read together, not copied: a
        # change runs this on every application it touches.
        for auto in self.pack.transitions:
            if auto.timed or app.state not in auto.sources:
                continue
            if auto.every is not None and not _every_did(
                    app, history, added, auto.every, auto.did or "", auto.sources,
                    self.pack.initial):
                continue
            new_state = self.machine.apply(app.state, AUTO_PREFIX + auto.name,
                                           lambda: Context(self.pack, app, calendar))
            if new_state is not None:
                return HistoryEntry(
                    application_id=app.id, seq=len(history) + len(added), at=now,
                    kind="transition",
                    name=auto.name, from_state=app.state, to_state=new_state)
        return None

    def fire(self, app: Application, timer: Timer, history: Sequence[HistoryEntry],
             calendar: WorkCalendar, at: datetime) -> Fired:
        """Fire ``timer`` at ``at``: a timed move, or a reminder rendered for its
        contact."""
        seq = len(history)
        if timer.action == "transition":
            new_state = self.machine.apply(app.state, AUTO_PREFIX + timer.rule,
                                           lambda: Context(self.pack, app, calendar))
            if new_state is not None:
                return Fired(moved(app, new_state), (HistoryEntry(
                    application_id=app.id, seq=seq, at=at, kind="transition",
                    name=timer.rule, from_state=app.state, to_state=new_state,
                    key=timer.key),))
            # A guard said no: note it, so the timer is not armed again for this entry.
            return Fired(app, (HistoryEntry(
                application_id=app.id, seq=seq, at=at, kind="skipped", name=timer.rule,
                key=timer.key, data={"reason": "its condition did not hold"}),))
        rule = self.pack.rule(timer.rule)
        contact = app.contact(timer.contact) if timer.contact else None
        due_local = calendar.local(timer.due_at).isoformat() if timer.due_at else None
        base = self._base
        if base is None or base[0] is not app or base[1] is not calendar:
            base = self._base = (app, calendar, build_context(self.pack, app, calendar))
        context = {**base[2], "contact": contact_view(contact), "rule": rule.name,
                   "due": due_local, "at": calendar.local(at).isoformat()}
        notification = self.owners.notification(
            rule, timer, context, fallback=f"{rule.name}: {app.company}", at=at,
            calendar=calendar, data={"company": app.company, "role": app.role,
                                     "due_local": due_local, "occurrence": timer.occurrence})
        entry = HistoryEntry(
            application_id=app.id, seq=seq, at=at, kind="notified", name=rule.name,
            contact=timer.contact, key=timer.key,
            data={"cycle": cycle_of(timer.key), "occurrence": timer.occurrence,
                  "variant": variant_of(rule, app),
                  "due": timer.due_at.isoformat() if timer.due_at else None})
        return Fired(app, (entry,), notification)

    def draft_gaps(self, app: Application, timers: Sequence[Timer]) -> list[str]:
        """Warnings for drafts about a contact that would go out without a field they
        show, such as a thank-you note to an interviewer whose title is not recorded, or
        without a text fact they use, such as why_me (once per rule and fact)."""
        gaps = []
        facts_told: set[tuple[str, str]] = set()
        for timer in timers:
            if timer.action != "notify" or timer.contact is None:
                continue
            contact = app.contact(timer.contact)
            if contact is None:
                continue
            message = self.pack.rule(timer.rule).message
            shown = message.subject.contact_fields | (
                message.body.contact_fields if message.body else frozenset())
            missing = [f for f in ("name", "title", "email") if f in shown
                       and not getattr(contact, f).strip()]
            if missing:
                gaps.append(
                    f"{timer.rule}: {contact.name!r} has no {' or '.join(missing)}, so the "
                    f"draft will go out without it; record it (followup log {app.id} "
                    f"--{contact.role} \"{contact.name}, TITLE\")")
            used = message.subject.names | (message.body.names if message.body else frozenset())
            for name in sorted(used):
                spec = self.pack.facts.get(name)
                if (spec is None or spec.type != "text" or name in app.facts
                        or (timer.rule, name) in facts_told):
                    continue
                facts_told.add((timer.rule, name))
                what = f" ({spec.description})" if spec.description else ""
                gaps.append(
                    f"{timer.rule}: the fact {name}{what} is not recorded, so the draft will "
                    f"go out without it; record it (followup log {app.id} --fact {name}=...)")
        return gaps


def _every_did(app: Application, history: Sequence[HistoryEntry],
               added: Sequence[HistoryEntry], role: str, event: str,
               sources: tuple[str, ...], initial: str) -> bool:
    """Whether every contact of ``role`` has had ``event`` since the application entered
    ``sources``; in a later round, every contact of ``role`` recorded in that round, since
    it began at the earliest (``followup.runtime.rounds``)."""
    read = effective(history)  # an event undone is not done; a renamed contact's counts
    entries = entries_of(chain(read, added))
    start = run_start(entries, sources)
    this_round = round_start(entries, initial)
    if this_round is not None and (start is None or start.seq < this_round.seq):
        start = this_round
    people = {c.name for c in app.contacts if c.role == role}
    if this_round is not None:
        people &= round_contacts(read, this_round)
    if not people:
        return False
    since = start.seq if start else 0
    done = {h.contact for h in chain(read, added)
            if h.kind == "event" and h.name == event and h.seq >= since}
    return people <= done
