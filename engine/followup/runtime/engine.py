"""The engine: records events, keeps each application's timers in step with the rules,
fires what is due and hands notifications to the dispatcher.

Every change to an application is one transaction: its new state, the history entries,
the timers removed and armed, and the notifications for the outbox are committed
together, or not at all.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from followup.delivery.channels import Channel, ChannelRegistry, Planner, tell_planned
from followup.delivery.digest import parse_digest_time
from followup.delivery.dispatcher import DeliveryReport, Dispatcher
from followup.delivery.manager import Plugins, load_plugins, observe
from followup.errors import (
    ConflictError,
    FollowupError,
    InputError,
    RulesError,
)
from followup.language.loader import load_rules
from followup.language.pack import RulePack
from followup.model import (
    Application,
    Change,
    Contact,
    HistoryEntry,
    Notification,
    Owner,
    Record,
    Timer,
)
from followup.runtime.facts import normalize_fact
from followup.runtime.firing import Firing
from followup.runtime.machine import StateMachine
from followup.runtime.owners import OwnerRules
from followup.runtime.planner import (
    plan,
    send_time,
)
from followup.runtime.steps import (
    Step,
    contact_step,
    event_step,
    facts_step,
    merge_contacts,
)
from followup.store import MemoryStore, Store
from followup.timing.calendar import WorkCalendar, parse_time_range
from followup.timing.clock import Clock, SystemClock

__all__ = ["AgendaItem", "Engine", "Outcome", "RunReport"]

_RETRIES = 5  # attempts when another writer changed the application first
# How long a worker holds the due timers it claimed; a worker's heartbeat renews it, so a
# worker that dies frees its work this long after its last beat.
_LEASE = timedelta(minutes=2)


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


@dataclass(frozen=True)
class AgendaItem:
    """A coming reminder or move, with the application it belongs to (``None`` for a
    rule over all of the owner's applications, such as keep-looking)."""

    timer: Timer
    application: Application | None


@dataclass
class RunReport:
    """What one ``run_due`` did."""

    outcomes: list[Outcome] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    errors: dict[str, str] = field(default_factory=dict)  # application id -> what failed
    owner_notifications: list[Notification] = field(default_factory=list)

    @property
    def fired(self) -> int:
        return sum(len(o.fired) for o in self.outcomes) + len(self.owner_notifications)

    @property
    def notifications(self) -> list[Notification]:
        return [n for o in self.outcomes for n in o.notifications] + self.owner_notifications


class Engine(OwnerRules, Firing):
    """followup's heart: rules, a store and a clock.

    >>> from datetime import UTC, datetime
    >>> from followup import Engine, FakeClock, MemoryStore
    >>> engine = Engine(store=MemoryStore(), clock=FakeClock(datetime(2026, 12, 23, 20, tzinfo=UTC)),
    ...                 channels=[])
    >>> app = engine.add_application(owner="ada", company="Acme", role="Engineer",
    ...                              facts={"interviewed_at": "2026-12-23T15:00:00-05:00"})
    >>> app.state
    'interviewed'
    """

    def __init__(
        self,
        *,
        rules: RulePack | str | os.PathLike[str] | None = None,
        store: Store | None = None,
        clock: Clock | None = None,
        channels: Iterable[Channel] | ChannelRegistry | None = None,
        plugins: Plugins | None = None,
        worker: str | None = None,
        lease: timedelta = _LEASE,
    ) -> None:
        """``rules``: a loaded pack, a path to a pack or a built-in pack's name (the
        default pack when omitted). ``store``: where records live (in memory when
        omitted). ``clock``: the only source of the time. ``channels``: where
        notifications go; ``None`` loads the installed channel plugins. ``plugins``: plugins
        already loaded (``followup.delivery.manager.load_plugins``): their channels, and their
        observers of transitions and deliveries. ``worker``: this engine's name when
        several share a store (default: host, process id and a random part); it claims
        due work under that name for ``lease`` at a time (see ``run_due``)."""
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.lease = lease
        self.plugins: Plugins | None = plugins
        if plugins is not None:
            self.channels = plugins.channels
        elif channels is None:
            self.plugins = load_plugins()
            self.channels = self.plugins.channels
        elif isinstance(channels, ChannelRegistry):
            self.channels = channels
        else:
            self.channels = ChannelRegistry(channels)
        packs = self.plugins.packs if self.plugins is not None else None
        sandbox = self.plugins.sandbox if self.plugins is not None else None
        self.pack = (rules if isinstance(rules, RulePack)
                     else load_rules(rules, packs=packs, sandbox=sandbox))
        self.store: Store = store if store is not None else MemoryStore()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.machine = StateMachine(self.pack)
        self.dispatcher = Dispatcher(
            self.store, self.channels, worker=self.worker, clock=lambda: self.clock.now(),
            on_delivered=lambda row: observe(self.plugins, "followup_delivered", delivery=row))
        self._calendars: dict[str, WorkCalendar] = {}
        self._owners: dict[str, Owner] = {}  # like the calendars: one read per owner
        # Channels that follow the plan as well as deliver (a calendar feed).
        self._planners = [c for c in self.channels if isinstance(c, Planner)]

    # -- owners --------------------------------------------------------------------

    def set_owner(
        self,
        owner: str,
        *,
        timezone: str | None = None,
        country: str | None = None,
        subdivision: str | None = None,
        channels: Iterable[str] | None = None,
        digest: str | None = None,
        quiet_hours: Iterable[str] = (),
    ) -> Owner:
        """Set the time zone, country and subdivision an owner lives by, the channels
        their reminders go to (``None``: the rule pack's), and ``digest``: a local time
        of day (``"08:00"``) to get the day's reminders at once, one message per channel,
        instead of each when it fires (see ``followup.delivery.digest``), and ``quiet_hours``:
        time ranges (``"22:00-07:00"``) in the owner's time zone when no reminder goes
        out, on top of the pack's. Reminders planned from then on follow them; ``replan``
        moves those already planned."""
        chosen = None if channels is None else tuple(channels)
        if chosen is not None and not chosen:
            raise InputError("an owner's channels cannot be empty: name at least one, or "
                             "leave them out to use the rule pack's")
        record = Owner(id=owner, timezone=timezone, country=country, subdivision=subdivision,
                       channels=chosen,
                       digest=None if digest is None else parse_digest_time(digest),
                       quiet_hours=tuple(_quiet_span(span) for span in quiet_hours))
        self._calendar_for(record)  # raises CalendarError on a bad zone or country
        self.store.put_owner(record)
        self._calendars.pop(owner, None)
        self._owners[owner] = record
        return record

    def owner(self, owner: str) -> Owner:
        """An owner's settings, read once per engine (``set_owner`` updates them)."""
        found = self._owners.get(owner)
        if found is None:
            found = self.store.get_owner(owner) or Owner(id=owner)
            self._owners[owner] = found
        return found

    def calendar(self, owner: str) -> WorkCalendar:
        """The working calendar of ``owner`` (the pack's, with the owner's zone and
        holidays)."""
        cal = self._calendars.get(owner)
        if cal is None:
            cal = self._calendar_for(self.owner(owner))
            self._calendars[owner] = cal
        return cal

    def _calendar_for(self, owner: Owner) -> WorkCalendar:
        # A bad zone or country raises CalendarError, an InputError.
        return self.pack.calendar.build(
            timezone=owner.timezone, country=owner.country, subdivision=owner.subdivision,
            quiet_hours=[parse_time_range(span) for span in owner.quiet_hours])

    # -- applications --------------------------------------------------------------

    def add_application(
        self,
        *,
        owner: str,
        company: str,
        role: str,
        facts: Mapping[str, object] | None = None,
        contacts: Iterable[Contact] = (),
        id: str | None = None,
    ) -> Application:
        """Add an application in the pack's initial state and arm its timers."""
        return self.add(
            owner=owner, company=company, role=role, facts=facts, contacts=contacts, id=id
        ).application

    def add(
        self,
        *,
        owner: str,
        company: str,
        role: str,
        facts: Mapping[str, object] | None = None,
        contacts: Iterable[Contact] = (),
        id: str | None = None,
    ) -> Outcome:
        """Like ``add_application``, with the whole ``Outcome``: the timers armed and any
        ``problems`` (such as a draft that would go out without a contact's title)."""
        if not owner or not company or not role:
            raise InputError("an application needs an owner, a company and a role")
        now = self.clock.now()
        calendar = self.calendar(owner)
        app = Application(
            id=id or secrets.token_hex(6),
            owner=owner,
            company=company,
            role=role,
            state=self.pack.initial,
            facts=self._facts(facts or {}, calendar),
            contacts=merge_contacts(self.pack, (), contacts),
            created_at=now,
        )
        created = HistoryEntry(
            application_id=app.id, seq=0, at=now, kind="created", name="created",
            to_state=app.state,
            data={"company": company, "role": role, "facts": dict(app.facts),
                  "contacts": [c.to_dict() for c in app.contacts]},
        )
        record = Record(application=app, history=(), timers=())
        try:
            return self._settle(record, app, [created], now, expected_version=None)
        except ConflictError as exc:
            raise InputError(f"an application with the id {app.id!r} already exists: "
                             "choose another id, or leave it out for a new one") from exc

    def application(self, application_id: str, *, owner: str | None = None) -> Application:
        return self.store.load(application_id, owner=owner).application

    def applications(
        self, *, owner: str | None = None, states: Iterable[str] | None = None
    ) -> list[Application]:
        return self.store.applications(owner=owner, states=list(states) if states else None)

    def history(self, application_id: str, *, owner: str | None = None) -> list[HistoryEntry]:
        return self.store.history(application_id, owner=owner)

    def timers(self, application_id: str, *, owner: str | None = None) -> list[Timer]:
        return list(self.store.load(application_id, owner=owner).timers)

    # -- changes -------------------------------------------------------------------

    def log(
        self,
        application_id: str,
        *,
        event: str | None = None,
        contact: str | None = None,
        facts: Mapping[str, object] | None = None,
        contacts: Iterable[Contact] = (),
        at: datetime | None = None,
        key: str | None = None,
        owner: str | None = None,
    ) -> Outcome:
        """Record what happened, all in one transaction: new ``contacts``, then ``facts``
        (``None`` removes one), then ``event`` (about ``contact``, for a per-contact event).

        If any part is refused, nothing changes. Recording the same thing twice is
        harmless: a repeated ``key``, a per-contact event already recorded for that contact
        since the state was entered, or an event whose move has already been made changes
        nothing (``Outcome.changed`` is False).
        """
        steps: list[Step] = [contact_step(self.pack, c) for c in contacts]
        if facts:
            steps.append(facts_step(self.pack, self.calendar, facts))
        if event is not None:
            steps.append(event_step(self.pack, self.machine, self.calendar, event,
                                    contact=contact, at=at, key=key))
        elif contact is not None:
            raise InputError("a contact names who an event is about: give the event too")
        if not steps:
            raise InputError("nothing to record: give an event, facts or contacts")
        return self._change(application_id, owner, steps)

    def record(
        self,
        application_id: str,
        event: str,
        *,
        contact: str | None = None,
        at: datetime | None = None,
        key: str | None = None,
        owner: str | None = None,
    ) -> Outcome:
        """Record that ``event`` happened (to ``contact``, for a per-contact event).

        Raises ``UnknownEvent`` or ``InvalidEvent`` and changes nothing when the event does
        not fit. Recording the same event twice is harmless (see ``log``).
        """
        return self.log(application_id, event=event, contact=contact, at=at, key=key,
                        owner=owner)

    def set_facts(
        self, application_id: str, facts: Mapping[str, object], *, owner: str | None = None
    ) -> Outcome:
        """Record or change facts (``None`` removes one); the plan follows."""
        return self._change(application_id, owner, [facts_step(self.pack, self.calendar, facts)])

    def add_contact(
        self, application_id: str, contact: Contact, *, owner: str | None = None
    ) -> Outcome:
        """Add or update a contact (an interviewer, a reference, ...); per-contact rules
        arm for it."""
        return self._change(application_id, owner, [contact_step(self.pack, contact)])

    def replan(self, application_id: str, *, owner: str | None = None) -> Outcome:
        """Recompute an application's timers from the rules (after a rule edit, or to
        heal a lost timer row)."""
        return self._change(application_id, owner, [], force=True)

    # -- time ----------------------------------------------------------------------

    def run_due(self, now: datetime | None = None, *, limit: int = 1000,
                deliver: bool = True) -> RunReport:
        """Fire every timer due at ``now`` (the clock's time when omitted), then deliver
        the outbox. Touches only applications with something due.

        Due timers are claimed in batches under this engine's ``worker`` name, so any
        number of engines (threads, processes, machines) may run this on one store: each
        timer is taken by one of them, and a timer a worker left unfinished (it died) is
        free again when its lease ends. An application whose timers two workers took is
        changed by one at a time (the version check), so nothing fires twice."""
        now = now or self.clock.now()
        report = RunReport()
        seen: set[str] = set()  # application ids, and "owner:ID" for owner-level timers
        held: list[str] = []  # keys claimed in this pass; the ones not fired are let go

        def whose(timer: Timer) -> str:
            return timer.application_id or f"owner:{timer.owner}"

        try:
            while True:
                # The lease counts from the clock, not from ``now``: a long pass must
                # not claim timers whose lease is already over.
                batch = self.store.claim_due_timers(
                    now, worker=self.worker, until=max(now, self.clock.now()) + self.lease,
                    limit=min(limit, 200))
                if not batch:
                    break
                held.extend(t.key for t in batch)
                due = [t for t in batch if whose(t) not in seen]
                for owner in dict.fromkeys(t.owner for t in due if t.application_id == ""):
                    seen.add(f"owner:{owner}")  # one owner-level pass per owner
                    try:
                        _timers, notes = self._owner_pass(owner, now, fire_until=now)
                        report.owner_notifications.extend(notes)
                    except (InputError, RulesError) as exc:
                        report.errors[f"owner:{owner}"] = str(exc)
                for app_id in dict.fromkeys(t.application_id for t in due if t.application_id):
                    seen.add(app_id)
                    try:
                        outcome = self._fire(app_id, now)
                        report.outcomes.append(outcome)
                        if outcome.problems:
                            report.errors[app_id] = "; ".join(outcome.problems)
                    except (InputError, RulesError) as exc:
                        # One application whose rules fail must not hold up the others;
                        # it is reported on every pass until its rules or facts are fixed.
                        report.errors[app_id] = str(exc)
        finally:
            # What is still held was left for later (outside the send window, or a
            # failure): free it for the next pass of any worker.
            self.store.release_timers(held, worker=self.worker)
        if deliver:
            report.delivery = self.dispatcher.deliver(now)
        return report

    def deliver(self, now: datetime | None = None) -> DeliveryReport:
        """Deliver the outbox's pending notifications through their channels."""
        return self.dispatcher.deliver(now or self.clock.now())

    def _fire(self, application_id: str, now: datetime) -> Outcome:
        return self._change(application_id, None, [], fire_until=now, force=True)

    # -- the agenda ----------------------------------------------------------------

    def agenda(
        self, *, owner: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[AgendaItem]:
        """What is coming for one owner, earliest first."""
        timers = self.store.timers(owner=owner, start=start, end=end)
        apps = {a.id: a for a in self.store.applications(owner=owner)}
        return [AgendaItem(timer=t, application=apps.get(t.application_id))
                for t in timers
                if (t.application_id in apps or t.application_id == "") and t.action != "replan"]

    # -- the core --------------------------------------------------------------------

    def _change(
        self,
        application_id: str,
        owner: str | None,
        steps: list[Step],
        *,
        fire_until: datetime | None = None,
        force: bool = False,
        ripple: bool = True,
    ) -> Outcome:
        for attempt in range(_RETRIES):
            record = self.store.load(application_id, owner=owner)
            now = self.clock.now()
            app = record.application
            history = list(record.history)
            changed = False
            for step in steps:
                result = step(app, history, now)
                if result is not None:
                    app, changed = result, True
            if not changed and not force:
                return Outcome(application=record.application, changed=False)
            try:
                return self._settle(record, app, history[len(record.history):], now,
                                    expected_version=record.application.version,
                                    fire_until=fire_until, ripple=ripple)
            except ConflictError:
                if attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _settle(
        self,
        record: Record,
        app: Application,
        new_entries: list[HistoryEntry],
        now: datetime,
        *,
        expected_version: int | None,
        fire_until: datetime | None = None,
        ripple: bool = True,
    ) -> Outcome:
        """Make the pack's own moves, fire what is due, re-plan, and commit once."""
        calendar = self.calendar(app.owner)
        history = list(record.history) + new_entries
        # The pack's own moves follow from the latest entry (an event logged for later
        # than now moves the application at that time, not before it).
        app = self._auto(app, history, calendar, max(now, history[-1].at) if history else now)
        fired: list[Timer] = []
        notifications: list[Notification] = []
        problems: list[str] = []
        stored_state = None if expected_version is None else record.application.state
        # The owner's counts per state are read once per change, however often it re-plans.
        counts: dict[str, int] = {}
        planned = self._plan(app, history, calendar, problems, stored_state, counts)
        if fire_until is not None:
            # A reminder that came due while nothing ran (or that was due the moment it
            # was armed) goes out now, but only inside the send window.
            sendable = send_time(calendar, fire_until) == fire_until
            for _ in range(10_000):  # bounded: a pack cannot make this spin forever
                due = [t for t in planned if t.fire_at <= fire_until and (
                    sendable or t.action != "notify" or t.fire_at == fire_until
                    or self.pack.rule(t.rule).any_time)]
                if not due:
                    break
                timer = due[0]
                if any(t.key == timer.key for t in fired):
                    raise FollowupError(f"timer {timer.key} came due twice in one pass: the "
                                        "plan did not record that it fired (a bug)")
                at = fire_until
                app = self._fire_timer(app, timer, history, calendar, at, notifications)
                fired.append(timer)
                app = self._auto(app, history, calendar, at)
                planned = self._plan(app, history, calendar, problems, stored_state, counts)
        old = {t.key: t for t in record.timers}
        new = {t.key: t for t in planned}
        fired_keys = {t.key for t in fired}
        armed = tuple(t for k, t in new.items() if old.get(k) != t)
        problems.extend(self._draft_gaps(app, [t for t in armed if t.key not in old]))
        cancelled = tuple(t for k, t in old.items() if k not in new and k not in fired_keys)
        removed = tuple(k for k in old if k not in new)
        appended = tuple(history[len(record.history):])
        if expected_version is not None and not (appended or armed or removed):
            # Nothing to write (a due reminder waiting for the send window, or a re-plan
            # that found the plan unchanged).
            return Outcome(application=record.application, changed=False,
                           problems=tuple(problems))
        # A move can change what the owner's other applications plan (offer-leverage):
        # the marker that has the next run_due re-plan them is written in this same
        # transaction, not another, however many applications the owner has.
        others = owner_rules = False
        if ripple and (expected_version is None or app.state != record.application.state):
            others, owner_rules = self._ripple_needs(app, stored_state)
        marker = (self._replan_marker(app.owner, now),) if others else ()
        change = Change(
            application=app,
            expected_version=expected_version,
            history=appended,
            timers_removed=removed,
            timers_added=armed + marker,
            notifications=tuple(notifications),
        )
        stored = self.store.commit(change)
        if self._planners and (armed or removed):
            tell_planned(self._planners, owner=stored.owner, application=stored,
                         timers=planned, fired=fired, calendar=calendar)
        if self.plugins is not None:
            for entry in appended:
                if entry.to_state is not None and entry.kind in ("event", "transition"):
                    observe(self.plugins, "followup_transition", application=stored, entry=entry)
        if owner_rules:
            self._replan_owner(stored.owner, now, others=False, owner_rules=True)
        return Outcome(
            application=stored,
            entries=appended,
            armed=armed,
            cancelled=cancelled,
            fired=tuple(fired),
            notifications=tuple(notifications),
            problems=tuple(problems),
        )

    def _plan(self, app: Application, history: list[HistoryEntry],
              calendar: WorkCalendar, problems: list[str],
              stored_state: str | None = None,
              counts: dict[str, int] | None = None) -> list[Timer]:
        """The plan of ``app``; ``counts``, when given, keeps the owner's stored counts
        per state between the plans of one change (filled on first use)."""
        found: list[str] = []
        extra = None
        looks = self.pack.owner_context_states
        if self.pack.uses_owner_context and (looks is None or app.state in looks):
            # Only the rules of the application's state can look at the others.
            if counts is None:
                counts = {}
            if not counts:
                counts.update(self.store.count_by_state(owner=app.owner))
                counts[""] = 0  # read: an owner with no applications stays read
            extra = self._owner_view(app.owner, app, stored_state, counts)
        timers = plan(self.pack, app, history, calendar, found, extra)
        problems.extend(p for p in found if p not in problems)
        return timers

    # -- helpers -------------------------------------------------------------------

    def _facts(self, facts: Mapping[str, object], calendar: WorkCalendar) -> dict[str, str]:
        return {
            name: normalize_fact(self.pack.facts.get(name), name, value, calendar)
            for name, value in facts.items()
            if value is not None
        }

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _quiet_span(text: str) -> str:
    """A quiet-hours range in one spelling ("22:00-07:00"); CalendarError if it is not."""
    first, last = parse_time_range(text.strip())
    return f"{first:%H:%M}-{last:%H:%M}"
