"""What moves an application without an event, a part of the engine: the pack's own
transitions (``all-thanked``), and a due timer fired into a move or a notification (its
message rendered, its channels and its digest chosen).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from followup.delivery.digest import digest_at
from followup.errors import InputError
from followup.keys import TimerKey
from followup.language.sandbox import ExpressionError
from followup.model import Application, HistoryEntry, Notification, Timer
from followup.runtime.facts import build_context
from followup.runtime.machine import AUTO_PREFIX
from followup.runtime.planner import entries_of, run_start, variant_of
from followup.runtime.steps import moved

if TYPE_CHECKING:
    from followup.language.pack import MessageSpec, RulePack
    from followup.model import Owner
    from followup.runtime.machine import StateMachine
    from followup.timing.calendar import WorkCalendar

__all__ = ["MAX_AUTO_STEPS", "Firing"]

MAX_AUTO_STEPS = 32  # a pack whose own transitions loop is stopped, not spun forever


class Firing:
    """The pack's own moves and the firing of due timers (``Engine`` inherits it)."""

    if TYPE_CHECKING:  # provided by Engine
        pack: RulePack
        machine: StateMachine

        def owner(self, owner: str) -> Owner: ...

    def _auto(self, app: Application, history: list[HistoryEntry], calendar: WorkCalendar,
              now: datetime) -> Application:
        """Make the moves the pack makes on its own when a condition holds."""
        for _ in range(MAX_AUTO_STEPS):
            for auto in self.pack.transitions:
                if auto.timed or app.state not in auto.sources:
                    continue
                if auto.every is not None and not self._every_did(app, history, auto.every,
                                                                   auto.did or "", auto.sources):
                    continue
                new_state = self.machine.apply(
                    app.state, AUTO_PREFIX + auto.name,
                    lambda app=app: build_context(self.pack, app, calendar))  # type: ignore[misc]
                if new_state is None:
                    continue
                history.append(HistoryEntry(
                    application_id=app.id, seq=len(history), at=now, kind="transition",
                    name=auto.name, from_state=app.state, to_state=new_state))
                app = moved(app, new_state)
                break
            else:
                return app
        raise InputError(f"the pack's own transitions keep moving application {app.id} "
                         f"(more than {MAX_AUTO_STEPS} moves at once): check 'transitions:'")

    @staticmethod
    def _every_did(app: Application, history: list[HistoryEntry], role: str, event: str,
                   sources: tuple[str, ...]) -> bool:
        people = {c.name for c in app.contacts if c.role == role}
        if not people:
            return False
        start = run_start(entries_of(history), sources)
        since = start.seq if start else 0
        done = {h.contact for h in history
                if h.kind == "event" and h.name == event and h.seq >= since}
        return people <= done

    def _fire_timer(self, app: Application, timer: Timer, history: list[HistoryEntry],
                    calendar: WorkCalendar, at: datetime,
                    notifications: list[Notification]) -> Application:
        if timer.action == "transition":
            new_state = self.machine.apply(app.state, AUTO_PREFIX + timer.rule,
                                           lambda: build_context(self.pack, app, calendar))
            if new_state is not None:
                history.append(HistoryEntry(
                    application_id=app.id, seq=len(history), at=at, kind="transition",
                    name=timer.rule, from_state=app.state, to_state=new_state, key=timer.key))
                return moved(app, new_state)
            # A guard said no: note it, so the timer is not armed again for this entry.
            history.append(HistoryEntry(
                application_id=app.id, seq=len(history), at=at, kind="skipped",
                name=timer.rule, key=timer.key, data={"reason": "its condition did not hold"}))
            return app
        rule = self.pack.rule(timer.rule)
        contact = app.contact(timer.contact) if timer.contact else None
        due_local = calendar.local(timer.due_at).isoformat() if timer.due_at else None
        context = build_context(self.pack, app, calendar, contact=contact, extra={
            "rule": rule.name, "due": due_local, "at": calendar.local(at).isoformat()})
        try:
            subject = rule.message.subject.render(context).strip()
            body = rule.message.body.render(context) if rule.message.body else ""
        except ExpressionError as exc:
            subject = f"{rule.name}: {app.company} ({exc})"
            body = ""
        cycle = TimerKey.parse(timer.key).cycle
        notification = Notification(
            key=timer.key, application_id=app.id, owner=app.owner, rule=rule.name,
            created_at=at, subject=subject, body=body, due_at=timer.due_at,
            contact=timer.contact, channels=self._channels_for(app.owner, rule.message),
            data={"company": app.company, "role": app.role, "due_local": due_local,
                  "occurrence": timer.occurrence, **self._digest(app.owner, at, calendar)},
        )
        notifications.append(notification)
        history.append(HistoryEntry(
            application_id=app.id, seq=len(history), at=at, kind="notified", name=rule.name,
            contact=timer.contact, key=timer.key,
            data={"cycle": cycle, "occurrence": timer.occurrence,
                  "variant": variant_of(rule, app),
                  "due": timer.due_at.isoformat() if timer.due_at else None}))
        return app

    def _channels_for(self, owner: str, message: MessageSpec) -> tuple[str, ...]:
        """Where a reminder goes: the rule's own channels, else the owner's choice, else
        the pack's default channels."""
        if message.own_channels:
            return message.channels
        chosen = self.owner(owner).channels
        return chosen if chosen else message.channels

    def _draft_gaps(self, app: Application, timers: list[Timer]) -> list[str]:
        """Warn when a draft about a contact would go out without a field it shows,
        such as a thank-you note to an interviewer whose title is not recorded."""
        gaps = []
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
        return gaps

    def _digest(self, owner: str, fired: datetime, calendar: WorkCalendar) -> dict[str, str]:
        """For an owner who gets a daily digest, the digest a reminder waits for."""
        digest = self.owner(owner).digest
        if digest is None:
            return {}
        return {"digest_at": digest_at(digest, fired, calendar).isoformat()}
