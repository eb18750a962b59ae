"""The change path: every change to an application, one transaction.

A change loads the application, runs its steps (an event, facts, a contact), makes the
pack's own moves, fires what is due, plans, and commits the new state, the history, the
timers removed and armed and the outbox rows together, or not at all. If another writer
changed the application first, it loads and runs the steps again.

The plan is computed once per change, and only as far as the change reaches: an event,
a fact or a contact re-plans only the rules that read it, and a move only the rules whose
stay it begins or that read the state (``followup.runtime.inputs``); every other timer
stays as stored. Firing reminders changes only the plans of their own rules (the next
occurrence, or none), so after they fire only those rules are planned again; a new
application, a forced re-plan, a new round and a timed move plan in full.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from followup.delivery.channels import Channel, tell_planned
from followup.errors import ConflictError, FollowupError
from followup.language.pack import RulePack
from followup.model import (
    Application,
    Change,
    HistoryEntry,
    Notification,
    Record,
    Timer,
    replaced,
)
from followup.runtime.firing import Firer
from followup.runtime.history import CORRECTIONS
from followup.runtime.inputs import owner_readers, pack_owns, reads_others_in, touched
from followup.runtime.owner_rules import OwnerRules
from followup.runtime.owners import OwnerBook
from followup.runtime.planner import Plan, plan, send_time
from followup.runtime.steps import Step
from followup.store import Store, offers
from followup.timing.calendar import WorkCalendar
from followup.timing.clock import Clock

__all__ = ["Changes", "Outcome", "Planner", "Staged"]

_KEYED = frozenset({"event", "facts", "contact"}) | CORRECTIONS  # what a caller records
RETRIES = 5  # attempts when another writer changed the application first
MAX_FIRES = 10_000  # a pack cannot make one change fire forever


@dataclass(frozen=True)
class Outcome:
    """What one change did to one application."""

    application: Application
    entries: tuple[HistoryEntry, ...] = ()
    armed: tuple[Timer, ...] = ()  # timers new or moved
    cancelled: tuple[Timer, ...] = ()  # timers removed without firing
    fired: tuple[Timer, ...] = ()
    notifications: tuple[Notification, ...] = ()
    changed: bool = True  # False when the change was a harmless repeat
    problems: tuple[str, ...] = ()  # rules skipped because their condition failed


@dataclass
class Staged:
    """A change made and not yet committed (``Changes.prepare``): ``change`` to commit,
    alone or with others (``Store.commit_many``), then ``Changes.finish`` with the
    application as stored. ``alone``: it moves the application, so what it commits can
    change what the owner's other applications plan; commit it before anything else."""

    change: Change
    alone: bool
    record: Record
    work: _Work
    calendar: WorkCalendar
    now: datetime
    armed: tuple[Timer, ...]
    cancelled: tuple[Timer, ...]
    removed: tuple[str, ...]
    appended: tuple[HistoryEntry, ...]
    problems: tuple[str, ...]
    owner_rules: bool


class Planner:
    """An application's plan, with the owner's counts its rules may look at."""

    def __init__(self, pack: RulePack, owner_rules: OwnerRules) -> None:
        self.pack = pack
        self.owner_rules = owner_rules

    def plan(self, app: Application, history: Sequence[HistoryEntry], calendar: WorkCalendar,
             *, stored_state: str | None = None, counts: _Counts | None = None,
             only: frozenset[tuple[str, str | None]] | None = None,
             moves: bool | None = None) -> Plan:
        """The plan of ``app`` (see ``followup.runtime.planner.plan``); ``stored_state``
        is the state the store holds for it (None if new), ``counts`` the owner's
        counts per state, read once per change and only when a rule planned reads
        them."""
        extra = None
        looks = self.pack.owner_context_states
        if self.pack.uses_owner_context and (looks is None or app.state in looks) and (
                only is None or not owner_readers(self.pack).isdisjoint(r for r, _ in only)):
            # Only the rules of the application's state can look at the others.
            stored = (counts or _Counts(self.owner_rules.store, app.owner)).get()
            extra = self.owner_rules.view(app.owner, app, stored_state, stored)
        return plan(self.pack, app, history, calendar, extra, only=only, moves=moves)


class _Counts:
    """The owner's applications per state as stored, read on first use only, and
    whether a re-plan marker waits for the owner (``waiting``: None until read); both
    given when read with the application (``Store.load_with_owner``)."""

    def __init__(self, store: Store, owner: str, counts: dict[str, int] | None = None,
                 waiting: bool | None = None) -> None:
        self._store = store
        self._owner = owner
        self._counts = counts
        self.waiting = waiting

    def get(self) -> dict[str, int]:
        if self._counts is None:
            self._counts = dict(self._store.count_by_state(owner=self._owner))
        return self._counts


@dataclass
class _Work:
    """A change on its way to the commit."""

    app: Application
    history: list[HistoryEntry]
    planned: list[Timer]
    problems: list[str]
    fired: list[Timer] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)


class Changes:
    """Runs changes on applications: steps, moves, firing, the plan, one commit."""

    def __init__(self, *, pack: RulePack, store: Store, clock: Clock, owners: OwnerBook,
                 firer: Firer, planner: Planner, owner_rules: OwnerRules,
                 planners: Sequence[Channel] = (),
                 on_transition: Callable[[Application, HistoryEntry], object] | None = None
                 ) -> None:
        self.pack = pack
        self.store = store
        self.clock = clock
        self.owners = owners
        self.firer = firer
        self.planner = planner
        self.owner_rules = owner_rules
        self.planners = list(planners)
        self.on_transition = on_transition
        # Whether a change loads with Store.load_with_owner (see _load).
        self._with_owner = (pack.uses_owner_context
                            and offers(type(store), "load_with_owner", "load"))

    def apply(self, application_id: str, owner: str | None, steps: Sequence[Step], *,
              fire_until: datetime | None = None, force: bool = False,
              key: str | None = None) -> Outcome:
        """Run ``steps`` on the stored application and commit; with ``fire_until``, fire
        what is due by then; with ``force``, plan and commit even if no step changed
        anything (a re-plan). With ``key``, the change is made once: every entry it
        records carries the key, and a change whose key is in the history already
        changes nothing (a form sent twice, a request retried)."""
        for attempt in range(RETRIES):
            record, counts = self._load(application_id, owner)
            now = self.clock.now()
            app = record.application
            history = list(record.history)
            if key is not None and any(h.key == key and h.kind in _KEYED for h in history):
                return Outcome(application=record.application, changed=False)
            changed = False
            for step in steps:
                result = step(app, history, now)
                if result is not None:
                    app, entry = result
                    history.append(entry if key is None else replaced(entry, key=key))
                    changed = True
            if not changed and not force:
                return Outcome(application=record.application, changed=False)
            try:
                return self.settle(record, app, history[len(record.history):], now,
                                   fire_until=fire_until, counts=counts)
            except ConflictError:
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _load(self, application_id: str, owner: str | None) -> tuple[Record, _Counts | None]:
        """The application as stored; when the pack's rules read the owner's other
        applications and the store can (``load_with_owner``), with the owner's counts
        and whether a re-plan marker waits, read in the same snapshot: one read where
        there would be three."""
        if not self._with_owner:
            return self.store.load(application_id, owner=owner), None
        found: tuple[Record, dict[str, int], bool] = cast(Any, self.store).load_with_owner(
            application_id, owner=owner)
        record, counts, waiting = found
        return record, _Counts(self.store, record.application.owner, counts, waiting)

    def create(self, app: Application, created: HistoryEntry, now: datetime) -> Outcome:
        """Commit a new application (ConflictError if its id is taken)."""
        return self.settle(Record(application=app, history=(), timers=()), app, [created], now,
                           new=True)

    def prepare_new(self, app: Application, history: Sequence[HistoryEntry], *,
                    calendar: WorkCalendar | None = None) -> tuple[Change, tuple[str, ...]]:
        """A new application with the history it comes with (an import) and the timers
        the rules plan for it now, as one ``Change`` to commit together with others
        (``Store.commit_many``); and the problems planning found. Nothing is fired: what
        is due goes out at the next ``run_due``. ``calendar``: the owner's, when it is
        not yet stored (an import that brings the owner's settings)."""
        calendar = calendar or self.owners.calendar(app.owner)
        app = replaced(app, planned_by=self.pack.fingerprint)
        found = self.planner.plan(app, history, calendar, counts=_Counts(self.store, app.owner))
        problems = (*found.problems, *self.firer.draft_gaps(app, found.timers))
        return Change(application=app, expected_version=None, history=tuple(history),
                      timers_added=tuple(found.timers)), problems

    def settle(self, record: Record, app: Application, new_entries: Sequence[HistoryEntry],
               now: datetime, *, fire_until: datetime | None = None,
               new: bool = False, counts: _Counts | None = None) -> Outcome:
        """Make the pack's own moves, fire what is due, plan, and commit once
        (``counts``: the owner's, when read with ``record``)."""
        staged = self._stage_settled(record, app, new_entries, now, fire_until=fire_until,
                                     new=new, counts=counts)
        return staged if isinstance(staged, Outcome) else self.commit(staged)

    def prepare(self, application_id: str, *, fire_until: datetime,
                record: Record | None = None) -> Outcome | Staged:
        """What ``apply(application_id, None, [], fire_until=..., force=True)`` would
        commit, left to the caller: a pass over due timers commits the changes of many
        applications in one transaction (``Store.commit_many``). An ``Outcome`` when
        there is nothing to write. ``record``: the application as the caller read it
        (with the rest of its batch); its version guards the commit as a load's would."""
        if record is None:
            record = self.store.load(application_id)
        return self._stage_settled(record, record.application, [], self.clock.now(),
                                   fire_until=fire_until)

    def stale(self, app: Application) -> bool:
        """Whether another pack (or none) planned ``app``: its next change plans it in
        full, whatever the change, and records this pack (``planned_by``)."""
        return app.planned_by != self.pack.fingerprint

    def stage_replan(self, record: Record, *, stale: bool) -> Outcome | Staged | None:
        """What a re-plan of the application ``record`` holds (as loaded) would commit
        (``apply(id, owner, [], force=True)``), left to the caller
        (``followup.runtime.replans``); an ``Outcome`` when there is nothing to write.
        With ``stale``: ``None``, unplanned, when this pack planned the application
        already (another worker came first)."""
        if stale and not self.stale(record.application):
            return None
        return self._stage_settled(record, record.application, [], self.clock.now())

    def commit(self, staged: Staged) -> Outcome:
        """Commit one staged change alone and finish it (``ConflictError`` if another
        writer changed the application since it was loaded)."""
        return self.finish(staged, self.store.commit(staged.change))

    def _stage_settled(self, record: Record, app: Application,
                       new_entries: Sequence[HistoryEntry], now: datetime, *,
                       fire_until: datetime | None = None, new: bool = False,
                       counts: _Counts | None = None) -> Outcome | Staged:
        calendar = self.owners.calendar(app.owner)
        history = [*record.history, *new_entries]
        stored_state = None if new else record.application.state
        counts = counts or _Counts(self.store, app.owner)
        # The pack's own moves follow from the latest entry (an event logged for later
        # than now moves the application at that time, not before it).
        app, moves = self.firer.auto(app, history, calendar,
                                     max(now, history[-1].at) if history else now)
        history.extend(moves)
        found = self._plan_change(record, app, history, calendar, stored_state=stored_state,
                                  counts=counts, whole=new or self.stale(record.application),
                                  firing=fire_until is not None)
        work = _Work(app, history, found.timers, list(found.problems))
        if fire_until is not None:
            self._fire_due(work, calendar, fire_until, stored_state, counts)
        return self._stage(record, work, calendar, now, new=new, stored_state=stored_state)

    def _plan_change(self, record: Record, app: Application, history: Sequence[HistoryEntry],
                     calendar: WorkCalendar, *, stored_state: str | None, counts: _Counts,
                     whole: bool, firing: bool) -> Plan:
        """The plan after the history entries past ``record``'s: the stored timers, with
        the rules those entries touched planned again (``followup.runtime.inputs``); in
        full when they cannot be judged (or ``whole``), or when the stored timers are
        not all the pack's. ``firing`` with no entry added (a pass over due timers):
        the stored timers as they are, which the change that stored them planned, unless
        the owner's other applications moved since (a re-plan marker waits) and a rule
        looks at them."""
        stored = record.timers
        added = history[len(record.history):]
        if (firing and not whole and not added and pack_owns(self.pack, stored)
                and not self._others_moved(app, counts)):
            return Plan(sorted(stored, key=lambda t: (t.fire_at, t.key)))
        change = None
        if not whole and added:
            before = record.application.state
            change = touched(self.pack, added, before=before,
                             others=self._others_moved(app, counts))
        if change is None or not pack_owns(self.pack, stored):
            return self.planner.plan(app, history, calendar, stored_state=stored_state,
                                     counts=counts)
        if change.moved:
            # Only the rules the new state arms keep their reminders; the timed moves
            # are planned again, from the new state.
            armed = {r.name for r in self.pack.rules_by_state[app.state]}
            kept = [t for t in stored if t.action == "notify" and t.rule in armed
                    and not change.covers(t.rule, t.contact)]
        else:
            kept = [t for t in stored if not (t.action == "notify"
                                              and change.covers(t.rule, t.contact))]
            if not change:
                return Plan(kept)
        found = self.planner.plan(app, history, calendar, stored_state=stored_state,
                                  counts=counts, only=change.only(self.pack, app),
                                  moves=change.moved)
        return Plan(sorted([*kept, *found.timers], key=lambda t: (t.fire_at, t.key)),
                    found.problems)

    def _others_moved(self, app: Application, counts: _Counts) -> bool:
        """Whether a rule the application's state arms reads the owner's other
        applications and a re-plan marker waits: another application moved since this
        one was planned (one store read, only for such rules, unless read with the
        application)."""
        if not reads_others_in(self.pack, app.state):
            return False
        if counts.waiting is None:
            counts.waiting = self.owner_rules.waiting(app.owner)
        return counts.waiting

    def _fire_due(self, work: _Work, calendar: WorkCalendar, until: datetime,
                  stored_state: str | None, counts: _Counts) -> None:
        """Fire the planned timers due by ``until``, in time order, into ``work``."""
        # A reminder that came due while nothing ran (or that was due the moment it was
        # armed) goes out now, but only inside the send window.
        sendable = send_time(calendar, until) == until
        fired_keys: set[str] = set()
        for _ in range(MAX_FIRES):
            due = [t for t in work.planned if t.fire_at <= until and (
                sendable or t.action != "notify" or t.fire_at == until
                or self.pack.rule(t.rule).any_time)]
            if not due:
                return
            state = work.app.state
            touched: set[tuple[str, str | None]] = set()
            for timer in due:
                if timer.key in fired_keys:
                    raise FollowupError(f"timer {timer.key} came due twice in one pass: the "
                                        "plan did not record that it fired (a bug)")
                result = self.firer.fire(work.app, timer, work.history, calendar, until)
                fired_keys.add(timer.key)
                work.fired.append(timer)
                work.history.extend(result.entries)
                work.app = result.application
                if result.notification is not None:
                    work.notifications.append(result.notification)
                    touched.add((timer.rule, timer.contact))
                if work.app.state != state:
                    break  # a timed move: what was planned for the old state is void
            if work.app.state != state:
                work.app, moves = self.firer.auto(work.app, work.history, calendar, until)
                work.history.extend(moves)
                self._replan(work, calendar, stored_state, counts, None)
            else:
                # Only the fired reminders' own rules change: a repeating one's next
                # occurrence; a once-only one has none left in this stay (its `notified`
                # entry, of the timing it fired for, says so to any later plan). A timed
                # move whose guard said no is noted and not armed again.
                gone = fired_keys
                kept = [t for t in work.planned if t.key not in gone and not (
                    t.action == "notify" and (t.rule, t.contact) in touched)]
                work.planned = kept
                again = frozenset(pair for pair in touched
                                  if self.pack.rule(pair[0]).every is not None)
                if again:
                    self._replan(work, calendar, stored_state, counts, again, keep=kept)
        raise FollowupError(f"application {work.app.id}: more than {MAX_FIRES} timers fired "
                            "in one pass (a pack that re-arms at once?)")

    def _replan(self, work: _Work, calendar: WorkCalendar, stored_state: str | None,
                counts: _Counts, only: frozenset[tuple[str, str | None]] | None,
                keep: Sequence[Timer] = ()) -> None:
        found = self.planner.plan(work.app, work.history, calendar, stored_state=stored_state,
                                  counts=counts, only=only)
        work.planned = sorted([*keep, *found.timers], key=lambda t: (t.fire_at, t.key))
        work.problems.extend(p for p in found.problems if p not in work.problems)

    def _stage(self, record: Record, work: _Work, calendar: WorkCalendar, now: datetime, *,
               new: bool, stored_state: str | None) -> Outcome | Staged:
        app, planned, fired = work.app, work.planned, work.fired
        stale = self.stale(app)
        if stale:  # this pack plans it now
            app = work.app = replaced(app, planned_by=self.pack.fingerprint)
        old = {t.key: t for t in record.timers}
        fresh = {t.key: t for t in planned}
        fired_keys = {t.key for t in fired}
        # A timer kept from the load is the very one loaded: no need to compare fields.
        armed = tuple(t for k, t in fresh.items() if (was := old.get(k)) is not t and was != t)
        problems = [*work.problems,
                    *self.firer.draft_gaps(app, [t for t in armed if t.key not in old])]
        cancelled = tuple(t for k, t in old.items() if k not in fresh and k not in fired_keys)
        removed = tuple(k for k in old if k not in fresh)
        appended = tuple(work.history[len(record.history):])
        if not new and not (appended or armed or removed or stale):
            # Nothing to write (a due reminder waiting for the send window, or a re-plan
            # that found the plan unchanged).
            return Outcome(application=record.application, changed=False,
                           problems=tuple(problems))
        # A move can change what the owner's other applications plan (offer-leverage):
        # the marker that has the next run_due re-plan them is written in this same
        # transaction, not another, however many applications the owner has.
        others = owner_rules = False
        moved = new or app.state != record.application.state
        if moved:
            others, owner_rules = self.owner_rules.ripple_needs(app, stored_state)
        elif app.archived_at != record.application.archived_at:
            # Archived (or back): the owner's active applications change as if it left.
            others, owner_rules = self.owner_rules.ripple_needs(app, None)
        marker = (self.owner_rules.marker(app.owner, now),) if others else ()
        change = Change(
            application=app,
            expected_version=None if new else record.application.version,
            history=appended,
            timers_removed=removed,
            timers_added=armed + marker,
            notifications=tuple(work.notifications),
        )
        return Staged(change=change, alone=moved, record=record, work=work,
                      calendar=calendar, now=now, armed=armed, cancelled=cancelled,
                      removed=removed, appended=appended, problems=tuple(problems),
                      owner_rules=owner_rules)

    def finish(self, staged: Staged, stored: Application) -> Outcome:
        """What follows a staged change's commit (``stored``: the application as the
        store wrote it): channels that follow the plan are told, transitions observed,
        the owner's own rules run when the move asks for it; its ``Outcome``."""
        work, armed, appended = staged.work, staged.armed, staged.appended
        if self.planners and (armed or staged.removed):
            calendar = staged.calendar
            tell_planned(self.planners, owner=stored.owner, application=stored,
                         timers=work.planned, fired=work.fired, calendar=calendar,
                         preview=lambda t: self.owners.preview(t, stored, calendar))
        if self.on_transition is not None:
            for entry in appended:
                if entry.to_state is not None and entry.kind in ("event", "transition"):
                    self.on_transition(stored, entry)
        if staged.owner_rules:
            self.owner_rules.run(stored.owner, staged.now)
        return Outcome(application=stored, entries=appended, armed=armed,
                       cancelled=staged.cancelled, fired=tuple(work.fired),
                       notifications=tuple(work.notifications), problems=staged.problems)
