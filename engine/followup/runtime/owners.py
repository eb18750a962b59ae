"""The rules over all of one owner's applications, a part of the engine.

``keep-looking`` and the like are planned per owner, not per application: their timers
have ``application_id == ""`` and are committed with ``Store.commit_owner``. Rules of one
application that look at the owner's others (``elsewhere``, ``active_applications``) are
re-planned when those others move, through a ``replan`` marker that the next ``run_due``
fires, so that recording an event stays one transaction however many applications the
owner has.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from followup.delivery.channels import tell_planned
from followup.errors import InputError, RulesError
from followup.keys import TimerKey
from followup.language.conditions import holds as condition_holds
from followup.language.sandbox import ExpressionError
from followup.model import Application, Notification, Timer
from followup.runtime.planner import owner_timer

if TYPE_CHECKING:
    from followup.delivery.channels import Channel
    from followup.language.pack import MessageSpec, Rule, RulePack
    from followup.runtime.engine import Outcome
    from followup.store import Store
    from followup.timing.calendar import WorkCalendar
    from followup.timing.clock import Clock

__all__ = ["OwnerRules"]


class OwnerRules:
    """The owner-level half of ``Engine`` (which inherits it)."""

    if TYPE_CHECKING:  # provided by Engine
        pack: RulePack
        store: Store
        clock: Clock
        _planners: list[Channel]

        def calendar(self, owner: str) -> WorkCalendar: ...

        def _change(self, application_id: str, owner: str | None, steps: list[Any], *,
                    fire_until: datetime | None = None, force: bool = False,
                    ripple: bool = True) -> Outcome: ...

        def _channels_for(self, owner: str, message: MessageSpec) -> tuple[str, ...]: ...

        def _digest(self, owner: str, fired: datetime,
                    calendar: WorkCalendar) -> dict[str, str]: ...

    def _owner_view(self, owner: str, app: Application | None = None,
                    stored_state: str | None = None,
                    stored: Mapping[str, int] | None = None) -> dict[str, Any]:
        """``active_applications``, ``applications`` (per state) and ``elsewhere`` (the
        owner's other applications per state), with ``app`` in its current state;
        ``stored_state`` is the state the store still holds for ``app`` (None if new);
        ``stored``, the owner's counts per state if already read."""
        if stored is None:
            stored = self.store.count_by_state(owner=owner)
        counts = {s: stored.get(s, 0) for s in self.pack.states}
        if stored_state is not None:
            counts[stored_state] -= 1
        elsewhere = dict(counts)
        if app is not None:
            counts[app.state] = counts.get(app.state, 0) + 1
        active = sum(n for s, n in counts.items() if self.pack.is_active(s))
        return {"active_applications": active, "applications": counts, "elsewhere": elsewhere}

    def _ripple_needs(self, app: Application, before: str | None) -> tuple[bool, bool]:
        """After ``app`` was added (``before`` is None) or moved from ``before``: whether
        the owner's applications whose rules look at the others need re-planning, and
        whether the owner-level rules do."""
        watched = self.pack.watched_states
        moves = {app.state} if before is None else {app.state, before}
        active_changed = before is None or (
            self.pack.is_active(before) != self.pack.is_active(app.state))
        others = (watched is None and active_changed) or (
            watched is not None and bool(moves & watched))
        return others and self.pack.uses_owner_context, active_changed

    @staticmethod
    def _replan_marker(owner: str, now: datetime) -> Timer:
        """The owner-level timer that makes the next ``run_due`` re-plan the owner's
        applications whose rules look at the others."""
        return Timer(application_id="", owner=owner, key=str(TimerKey.replan(owner)),
                     rule="replan", action="replan", fire_at=now)

    def replan_owner(self, owner: str) -> None:
        """Bring one owner's rules over all their applications up to date (after
        applications were added or moved behind the engine's back, e.g. an import): the
        owner-level rules (keep-looking) are planned now; applications whose rules look at
        the others (offer-leverage) are re-planned by the next ``run_due``."""
        self._replan_owner(owner, self.clock.now(), others=True, owner_rules=True)

    def _replan_owner(self, owner: str, now: datetime, *, others: bool,
                      owner_rules: bool) -> None:
        if self.pack.uses_owner_context and others:
            # The others are re-planned by the next run_due, not here, however many the
            # owner has.
            self.store.commit_owner(owner, timers_added=[self._replan_marker(owner, now)])
        if self.pack.owner_rules and owner_rules:
            self._owner_pass(owner, now)

    def _replan_others(self, owner: str) -> None:
        """Re-plan the owner's applications whose rules look at the others."""
        for other in self.store.applications(owner=owner, states=self.pack.owner_context_states):
            try:
                self._change(other.id, owner, [], force=True, ripple=False)
            except (InputError, RulesError):
                continue  # reported when that application is next advanced

    def _owner_pass(
        self, owner: str, now: datetime, *, fire_until: datetime | None = None
    ) -> tuple[list[Timer], list[Notification]]:
        """Plan (and, up to ``fire_until``, fire) the rules over all of ``owner``'s
        applications, and commit their timers and notifications in one transaction."""
        rules = self.pack.owner_rules
        existing = {t.key: t for t in self.store.timers(owner=owner, application_id="")}
        replans = [t for t in existing.values() if t.action == "replan"]
        if replans and fire_until is not None and replans[0].fire_at <= fire_until:
            self._replan_others(owner)
            self.store.commit_owner(owner, timers_removed=[t.key for t in replans])
        existing = {k: t for k, t in existing.items() if t.action != "replan"}
        if not rules:
            return [], []
        calendar = self.calendar(owner)
        by_rule = {t.rule: t for t in existing.values()}
        view = self._owner_view(owner)
        desired: dict[str, Timer] = {}
        fired: list[Timer] = []
        notes: list[Notification] = []
        for rule in rules:
            try:
                holds = rule.condition is None or condition_holds(rule.condition, view)
            except ExpressionError:
                holds = False
            if not holds or sum(view["applications"].values()) == 0:
                continue
            timer = by_rule.get(rule.name) or owner_timer(
                rule, owner, calendar, after=now.replace(second=0, microsecond=0), occurrence=0)
            while timer is not None and fire_until is not None and timer.fire_at <= fire_until:
                notes.append(self._owner_notification(rule, timer, view, calendar))
                fired.append(timer)
                timer = owner_timer(rule, owner, calendar, after=max(timer.fire_at, now),
                                    occurrence=timer.occurrence + 1)
            if timer is not None:
                desired[timer.key] = timer
        removed = [k for k in existing if k not in desired]
        added = [t for k, t in desired.items() if existing.get(k) != t]
        if removed or added or notes:
            self.store.commit_owner(owner, timers_removed=removed, timers_added=added,
                                    notifications=notes)
            if self._planners:
                tell_planned(self._planners, owner=owner, application=None,
                             timers=list(desired.values()), fired=fired, calendar=calendar)
        return fired, notes

    def _owner_notification(self, rule: Rule, timer: Timer, view: Mapping[str, Any],
                            calendar: WorkCalendar) -> Notification:
        context = dict(view) | {"rule": rule.name, "due": None,
                                "at": calendar.local(timer.fire_at).isoformat()}
        try:
            subject = rule.message.subject.render(context).strip()
            body = rule.message.body.render(context) if rule.message.body else ""
        except ExpressionError as exc:
            subject, body = f"{rule.name} ({exc})", ""
        return Notification(
            key=timer.key, application_id="", owner=timer.owner, rule=rule.name,
            created_at=timer.fire_at, subject=subject, body=body, due_at=None,
            channels=self._channels_for(timer.owner, rule.message),
            data={"occurrence": timer.occurrence,
                  **self._digest(timer.owner, timer.fire_at, calendar)})
