"""The rules over all of one owner's applications.

``keep-looking`` and the like are planned per owner, not per application: their timers
have ``application_id == ""`` and are committed with ``Store.commit_owner``. Rules of one
application that look at the owner's others (``elsewhere``, ``active_applications``) are
re-planned when those others move, through a ``replan`` marker that the next ``run_due``
fires, so that recording an event stays one transaction however many applications the
owner has. ``OwnerRules`` says which applications to re-plan; the engine re-plans them
through its own change path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from followup.delivery.channels import Channel, tell_planned
from followup.keys import TimerKey
from followup.language.conditions import holds as condition_holds
from followup.language.expressions import ExpressionError
from followup.language.pack import Rule, RulePack
from followup.limits import LATEST
from followup.model import Application, Notification, Timer
from followup.runtime.owners import OwnerBook
from followup.runtime.planner import owner_slot, owner_timer
from followup.store import Store
from followup.timing.calendar import WorkCalendar

__all__ = ["SPENT_AT", "OwnerPass", "OwnerRules", "spent"]


# When a spent series "fires": never (the last day followup plans in).
SPENT_AT = datetime.combine(LATEST, time(), tzinfo=UTC)


def spent(rule: Rule, owner: str, occurrence: int) -> Timer:
    """The mark of an owner's rule that sent all ``limit`` of its reminders while its
    condition held (``occurrence`` of them): never due, and kept until the condition
    stops holding, so that nothing else (a new application, an owner's edited settings,
    an import) starts the series again."""
    return Timer(application_id="", owner=owner,
                 key=str(TimerKey.owner_rule(owner, rule.name, day="spent")),
                 rule=rule.name, action="spent", fire_at=SPENT_AT, occurrence=occurrence)


@dataclass(frozen=True)
class OwnerPass:
    """What one pass over an owner's own rules did: the timers fired and the
    notifications they made (committed)."""

    fired: tuple[Timer, ...] = ()
    notifications: tuple[Notification, ...] = ()


class OwnerRules:
    """The rules over all of one owner's applications, and the counts they read."""

    def __init__(self, pack: RulePack, store: Store, owners: OwnerBook,
                 planners: Sequence[Channel] = ()) -> None:
        self.pack = pack
        self.store = store
        self.owners = owners
        self.planners = list(planners)  # channels that follow the plan (a calendar feed)

    def view(self, owner: str, app: Application | None = None,
             stored_state: str | None = None,
             stored: Mapping[str, int] | None = None) -> dict[str, Any]:
        """``active_applications``, ``applications`` (per state) and ``elsewhere`` (the
        owner's other applications per state), with ``app`` in its current state, and
        ``looking``: whether the owner still looks for work (``Owner.looking``);
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
        in_play = self.pack.active  # as RulePack.is_active says: empty means every state
        active = (sum(n for s, n in counts.items() if s in in_play) if in_play
                  else sum(counts.values()))
        return {"active_applications": active, "applications": counts, "elsewhere": elsewhere,
                "looking": self.owners.owner(owner).looking}

    def ripple_needs(self, app: Application, before: str | None) -> tuple[bool, bool]:
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
    def marker(owner: str, now: datetime) -> Timer:
        """The owner-level timer that makes the next ``run_due`` re-plan the owner's
        applications whose rules look at the others."""
        return Timer(application_id="", owner=owner, key=str(TimerKey.replan(owner)),
                     rule="replan", action="replan", fire_at=now)

    def _markers(self, owner: str) -> list[Timer]:
        """The owner's re-plan markers, as stored."""
        return [t for t in self.store.timers(owner=owner, application_id="")
                if t.action == "replan"]

    def waiting(self, owner: str) -> bool:
        """Whether the owner's re-plan marker waits (another application moved since
        the last ``run_due`` re-planned those that look at the others)."""
        return bool(self._markers(owner))

    def mark(self, owner: str, now: datetime) -> None:
        """Have the next ``run_due`` re-plan the owner's applications that look at the
        others (nothing when the pack has no such rules)."""
        if self.pack.uses_owner_context:
            self.store.commit_owner(owner, timers_added=[self.marker(owner, now)])

    def due_replans(self, owner: str, until: datetime) -> tuple[list[str], list[str]]:
        """When the owner's re-plan marker is due by ``until``: the ids of the
        applications to re-plan and the marker keys to remove once they are; else two
        empty lists."""
        markers = [t for t in self._markers(owner) if t.fire_at <= until]
        if not markers:
            return [], []
        others = self.store.applications(owner=owner, states=self.pack.owner_context_states)
        return [a.id for a in others], [t.key for t in markers]

    def run(self, owner: str, now: datetime, *, fire_until: datetime | None = None
            ) -> OwnerPass:
        """Plan (and, up to ``fire_until``, fire) the rules over all of ``owner``'s
        applications, and commit their timers and notifications in one transaction."""
        rules = self.pack.owner_rules
        if not rules:
            return OwnerPass()
        existing = {t.key: t for t in self.store.timers(owner=owner, application_id="")
                    if t.action != "replan"}
        calendar = self.owners.calendar(owner)
        by_rule = {t.rule: t for t in existing.values()}
        view = self.view(owner)
        desired: dict[str, Timer] = {}
        fired: list[Timer] = []
        notes: list[Notification] = []
        start = now.replace(second=0, microsecond=0)
        for rule in rules:
            if not self._holds(rule, view):
                continue
            timer = by_rule.get(rule.name)
            if timer is None:
                timer = owner_timer(rule, owner, calendar, after=start, occurrence=0)
            elif rule.limit is not None and timer.occurrence >= rule.limit:
                timer = spent(rule, owner, timer.occurrence)  # (a pack may lower a limit)
            elif timer.action == "spent":  # a pack that raised the limit: on from now
                timer = owner_timer(rule, owner, calendar, after=start,
                                    occurrence=timer.occurrence)
            while (timer is not None and timer.action == "notify" and fire_until is not None
                   and timer.fire_at <= fire_until):
                notes.append(self._notification(rule, timer, view, calendar))
                fired.append(timer)
                timer = owner_timer(rule, owner, calendar, after=owner_slot(timer),
                                    occurrence=timer.occurrence + 1, past=now) or spent(
                    rule, owner, timer.occurrence + 1)
            if timer is not None:
                desired[timer.key] = timer
        removed = [k for k in existing if k not in desired]
        added = [t for k, t in desired.items() if existing.get(k) != t]
        if removed or added or notes:
            self.store.commit_owner(owner, timers_removed=removed, timers_added=added,
                                    notifications=notes)
            if self.planners:
                planned = [t for t in desired.values() if t.action == "notify"]
                tell_planned(self.planners, owner=owner, application=None,
                             timers=planned, fired=fired, calendar=calendar,
                             preview=lambda t: self.owners.preview(t, None, calendar, view=view))
        return OwnerPass(tuple(fired), tuple(notes))

    @staticmethod
    def _holds(rule: Rule, view: Mapping[str, Any]) -> bool:
        if sum(view["applications"].values()) == 0:
            return False  # an owner with no applications gets no nudges
        try:
            return rule.condition is None or condition_holds(rule.condition, view)
        except ExpressionError:
            return False

    def _notification(self, rule: Rule, timer: Timer, view: Mapping[str, Any],
                      calendar: WorkCalendar) -> Notification:
        context = dict(view) | {"rule": rule.name, "due": None,
                                "at": calendar.local(timer.fire_at).isoformat()}
        return self.owners.notification(rule, timer, context, fallback=rule.name,
                                        at=timer.fire_at, calendar=calendar,
                                        data={"occurrence": timer.occurrence})
