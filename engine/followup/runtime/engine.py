"""The engine: records events, keeps each application's timers in step with the rules,
fires what is due and hands notifications to the dispatcher.

Every change to an application is one transaction: its new state, the history entries,
the timers removed and armed, and the notifications for the outbox are committed
together, or not at all.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

from followup.delivery.channels import Channel, ChannelRegistry, Planner
from followup.delivery.digest import parse_digest_time
from followup.errors import ConflictError, InputError
from followup.language.loader import load_rules
from followup.language.pack import RulePack
from followup.limits import REPLAN_BATCH, check_day, check_input, check_owner
from followup.model import AgendaRow, Application, Contact, HistoryEntry, Owner, Timer
from followup.runtime.facts import normalize_fact
from followup.runtime.machine import StateMachine
from followup.runtime.owners import OwnerBook, OwnerUpdate, edited
from followup.runtime.steps import Step, contact_step, event_step, facts_step, merge_contacts
from followup.store import Store, offers
from followup.timing.calendar import WorkCalendar, parse_time_range
from followup.timing.clock import Clock, SystemClock

if TYPE_CHECKING:
    from followup.delivery.dispatcher import DeliveryReport, Dispatcher
    from followup.delivery.manager import Plugins
    from followup.runtime.changes import Changes, Outcome
    from followup.runtime.changes import Planner as ApplicationPlanner
    from followup.runtime.corrections import Corrections
    from followup.runtime.firing import Firer
    from followup.runtime.owner_rules import OwnerRules
    from followup.runtime.passes import Runner, RunReport
    from followup.runtime.replans import ReplanBatch

__all__ = ["AgendaItem", "Engine", "Outcome", "OwnerUpdate", "RunReport"]


def __getattr__(name: str) -> Any:
    """``Outcome`` and ``RunReport``, named here as before, from the modules that make
    them (imported when first asked for: a command that only reads needs neither)."""
    if name == "Outcome":
        from followup.runtime.changes import Outcome

        return Outcome
    if name == "RunReport":
        from followup.runtime.passes import RunReport

        return RunReport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# How long a worker holds the due timers it claimed; a worker's heartbeat renews it, so a
# worker that dies frees its work this long after its last beat.
_LEASE = timedelta(minutes=2)


_T = TypeVar("_T")


class _Part(Generic[_T]):
    """One of an engine's parts, made when first used (once, whichever thread asks
    first), so that a command that only reads (``show``, ``list``, ``agenda``) imports
    nothing of what records, fires, delivers or corrects."""

    def __init__(self, make: Callable[[Engine], _T]) -> None:
        self._make = make
        self._name = make.__name__
        self.__doc__ = make.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, engine: None, owner: type | None = None) -> _Part[_T]: ...

    @overload
    def __get__(self, engine: Engine, owner: type | None = None) -> _T: ...

    def __get__(self, engine: Engine | None, owner: type | None = None) -> _Part[_T] | _T:
        if engine is None:
            return self
        with engine._making:
            made: _T | None = engine.__dict__.get(self._name)
            if made is None:  # from now on found in the engine's own attributes
                made = engine.__dict__[self._name] = self._make(engine)
        return made


@dataclass(frozen=True)
class AgendaItem:
    """A coming reminder or move, with the application it belongs to (``None`` for a
    rule over all of the owner's applications, such as keep-looking)."""

    timer: Timer
    application: Application | None


class Engine:
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
        already loaded (``followup.load_plugins``): their channels, and their observers
        of transitions and deliveries. ``worker``: this engine's name when several share
        a store (default: host, process id and a random part); it claims due work under
        that name for ``lease`` at a time (see ``run_due``)."""
        self.worker = worker or f"{_host()}:{os.getpid()}:{os.urandom(3).hex()}"
        self.lease = lease
        self.plugins: Plugins | None = plugins
        if plugins is not None:
            self.channels = plugins.channels
        elif channels is None:
            from followup.delivery.manager import load_plugins

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
        if store is None:
            from followup.store.memory import MemoryStore

            store = MemoryStore()
        self.store: Store = store
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.machine = StateMachine(self.pack)
        # The parts, each with its own constructor: the engine only wires them. The
        # owners' book is read by every command; the others are made when first used.
        self.owners = OwnerBook(self.pack, self.store)
        self._planners = [c for c in self.channels if isinstance(c, Planner)]  # calendar feeds
        self._making = threading.RLock()

    @_Part
    def owner_rules(self) -> OwnerRules:
        """The rules over all of an owner's applications (keep-looking)."""
        from followup.runtime.owner_rules import OwnerRules

        return OwnerRules(self.pack, self.store, self.owners, self._planners)

    @_Part
    def planner(self) -> ApplicationPlanner:
        """What each application's rules plan."""
        from followup.runtime.changes import Planner as ApplicationPlanner

        return ApplicationPlanner(self.pack, self.owner_rules)

    @_Part
    def firer(self) -> Firer:
        """What a due timer does when it fires."""
        from followup.runtime.firing import Firer

        return Firer(self.pack, self.machine, self.owners)

    @_Part
    def changes(self) -> Changes:
        """Every change to an application, as one transaction."""
        from followup.runtime.changes import Changes

        return Changes(
            pack=self.pack, store=self.store, clock=self.clock, owners=self.owners,
            firer=self.firer, planner=self.planner, owner_rules=self.owner_rules,
            planners=self._planners, on_transition=self._observe_transition)

    @_Part
    def dispatcher(self) -> Dispatcher:
        """Delivers the outbox through the channels."""
        from followup.delivery.dispatcher import Dispatcher

        return Dispatcher(
            self.store, self.channels, worker=self.worker, clock=lambda: self.clock.now(),
            on_delivered=lambda row: self._observe("followup_delivered", delivery=row))

    @_Part
    def runner(self) -> Runner:
        """Passes over due work (``run_due``)."""
        from followup.runtime.passes import Runner

        return Runner(store=self.store, clock=self.clock, changes=self.changes,
                      owner_rules=self.owner_rules, dispatcher=self.dispatcher)

    @_Part
    def corrections(self) -> Corrections:
        """Edits, contacts, archive, delete, undo and snooze."""
        from followup.runtime.corrections import Corrections

        return Corrections(pack=self.pack, store=self.store, changes=self.changes,
                           calendar_of=self.calendar, replan_owner=self.replan_owner)

    def _observe(self, hook: str, **given: object) -> None:
        if self.plugins is not None:
            from followup.delivery.manager import observe

            observe(self.plugins, hook, **given)

    def _observe_transition(self, application: Application, entry: HistoryEntry) -> None:
        self._observe("followup_transition", application=application, entry=entry)

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
        looking: bool = True,
    ) -> Owner:
        """Set the time zone, country and subdivision an owner lives by, the channels
        their reminders go to (``None``: the rule pack's), and ``digest``: a local time
        of day (``"08:00"``) to get the day's reminders at once, one message per channel,
        instead of each when it fires (see ``followup.delivery.digest``), and ``quiet_hours``:
        time ranges (``"22:00-07:00"``) in the owner's time zone when no reminder goes
        out, on top of the pack's; ``looking``: false once the person stopped looking for
        work, read by owner-level rules as the name ``looking``. Reminders planned from then
        on follow them; ``replan`` moves those already planned."""
        chosen = None if channels is None else tuple(channels)
        quiet_hours = tuple(quiet_hours)
        check_owner(Owner(id=owner, timezone=timezone, country=country,
                          subdivision=subdivision, channels=chosen, digest=digest,
                          quiet_hours=quiet_hours))
        if chosen is not None and not chosen:
            raise InputError("an owner's channels cannot be empty: name at least one, or "
                             "leave them out to use the rule pack's")
        if not isinstance(looking, bool):  # "no" would be true
            raise InputError(f"looking is True or False, not {looking!r}")
        record = Owner(id=owner, timezone=timezone, country=country, subdivision=subdivision,
                       channels=chosen,
                       digest=None if digest is None else parse_digest_time(digest),
                       quiet_hours=tuple(_quiet_span(span) for span in quiet_hours),
                       looking=looking)
        return self.owners.put(record)  # CalendarError on a bad zone or country

    def update_owner(
        self,
        owner: str,
        *,
        timezone: str | None = None,
        country: str | None = None,
        subdivision: str | None = None,
        channels: Iterable[str] | None = None,
        digest: str | None = None,
        quiet_hours: Iterable[str] | None = None,
        looking: bool | None = None,
    ) -> OwnerUpdate:
        """Change only the settings given (``None`` keeps one; ``""``, or an empty list
        for ``channels`` and ``quiet_hours``, puts it back to the pack's), then re-plan
        each of the owner's applications so their reminders follow at once. A bad value
        raises ``InputError`` and changes nothing (see ``owners.edited``)."""
        before = self.owners.owner(owner)
        after = self.set_owner(owner, **edited(
            before, timezone=timezone, country=country, subdivision=subdivision,
            channels=channels, digest=digest, quiet_hours=quiet_hours, looking=looking))
        replanned = tuple(self.replan(app.id, owner=owner)
                          for app in self.store.applications(owner=owner))
        self.replan_owner(owner)
        return OwnerUpdate(before=before, after=after, replanned=replanned)

    def has_owner(self, owner: str) -> bool:
        """Whether ``owner``'s settings were ever stored (``set_owner``): the command
        line refuses to add an application for an owner whose time zone nobody chose."""
        return self.owners.stored(owner)

    def owner(self, owner: str) -> Owner:
        """An owner's settings, read once per engine (``set_owner`` updates them)."""
        return self.owners.owner(owner)

    def calendar(self, owner: str) -> WorkCalendar:
        """The working calendar of ``owner`` (the pack's, with the owner's zone and
        holidays)."""
        return self.owners.calendar(owner)

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
        contacts = tuple(contacts)
        check_input(owner=owner, application_id=id, company=company, role=role, facts=facts,
                    contacts=contacts)
        now = self.clock.now()
        calendar = self.calendar(owner)
        app = Application(
            id=id or os.urandom(6).hex(),  # what secrets.token_hex(6) gives, without its import
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
        try:
            return self.changes.create(app, created, now)
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
        harmless: a repeated ``key`` (the whole change, facts and contacts as well as the
        event, is recorded once per key), a per-contact event already recorded for that
        contact since the state was entered, or an event whose move has already been made
        changes nothing (``Outcome.changed`` is False).
        """
        contacts = tuple(contacts)
        check_input(owner=owner, application_id=application_id, event=event,
                    contact=contact, key=key, facts=facts, contacts=contacts)
        if at is not None:
            check_day(at.date(), "the time of the event")
        steps: list[Step] = [contact_step(self.pack, c) for c in contacts]
        if facts:
            steps.append(facts_step(self.pack, self.calendar, facts))
        if event is not None:
            spec = self.pack.events.get(event)
            step = event_step(self.pack, self.machine, self.calendar, event,
                              contact=contact, at=at, key=key)
            # An event that begins a new round (into the initial state: next_round) goes
            # first, so the people and facts recorded with it are the new round's.
            first = spec is not None and spec.dest == self.pack.initial
            if first:
                steps.insert(0, step)
            else:
                steps.append(step)
        elif contact is not None:
            raise InputError("a contact names who an event is about: give the event too")
        if not steps:
            raise InputError("nothing to record: give an event, facts or contacts")
        return self.changes.apply(application_id, owner, steps, key=key)

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
        return self.changes.apply(application_id, owner,
                                  [facts_step(self.pack, self.calendar, facts)])

    def add_contact(
        self, application_id: str, contact: Contact, *, owner: str | None = None
    ) -> Outcome:
        """Add or update a contact (an interviewer, a reference, ...); per-contact rules
        arm for it."""
        return self.changes.apply(application_id, owner, [contact_step(self.pack, contact)])

    def replan(self, application_id: str, *, owner: str | None = None) -> Outcome:
        """Recompute an application's timers from the rules (after a rule edit, or to
        heal a lost timer row)."""
        return self.changes.apply(application_id, owner, [], force=True)

    def replan_stale(self, *, limit: int = REPLAN_BATCH, dry_run: bool = False,
                     after: str | None = None) -> ReplanBatch:
        """Re-plan one batch of at most ``limit`` applications (not archived) that
        another rule pack planned, in id order, from the id after ``after``
        (``ReplanBatch.last`` of the batch before), and return what moved for each;
        ``dry_run`` computes the same and changes nothing. Nothing already sent is sent
        again (see ``followup.runtime.replans``)."""
        from followup.runtime.replans import Replanner

        return Replanner(self.changes, self.store).stale(limit=limit, after=after,
                                                         dry_run=dry_run)

    def replan_owner(self, owner: str) -> None:
        """Bring one owner's rules over all their applications up to date (after
        applications were added or moved behind the engine's back, e.g. an import): the
        owner-level rules (keep-looking) are planned now; applications whose rules look at
        the others (offer-leverage) are re-planned by the next ``run_due``."""
        now = self.clock.now()
        self.owner_rules.mark(owner, now)
        self.owner_rules.run(owner, now)

    # -- corrections: entries of their own (followup.runtime.corrections) ---------------
    # Each is one transaction, made once per ``key``; the plan follows, and ``show``
    # prints the entry. A bad input raises InputError and changes nothing.

    def edit(self, application_id: str, *, company: str | None = None,
             role: str | None = None, facts: Mapping[str, object] | None = None,
             key: str | None = None, owner: str | None = None) -> Outcome:
        """Change the company, the role or facts (the interview's time is the fact
        ``interviewed_at``; ``None`` removes a fact)."""
        return self.corrections.edit(application_id, company=company, role=role,
                                     facts=facts, key=key, owner=owner)

    def rename_contact(self, application_id: str, name: str, new_name: str, *,
                       key: str | None = None, owner: str | None = None) -> Outcome:
        """Rename a contact; what was recorded about them counts under the new name."""
        from followup.runtime.corrections import rename_step

        return self.corrections.contact(application_id, rename_step(name, new_name),
                                        key=key, owner=owner, names=(name, new_name))

    def merge_contacts(self, application_id: str, name: str, into: str, *,
                       key: str | None = None, owner: str | None = None) -> Outcome:
        """Merge contact ``name`` into ``into``: ``into``'s blank fields are filled from
        it, what was recorded about it counts for ``into``, and ``name`` is gone."""
        from followup.runtime.corrections import merge_step

        return self.corrections.contact(application_id, merge_step(name, into),
                                        key=key, owner=owner, names=(name, into))

    def remove_contact(self, application_id: str, name: str, *, key: str | None = None,
                       owner: str | None = None) -> Outcome:
        """Remove a contact; their reminders are cancelled."""
        from followup.runtime.corrections import remove_step

        return self.corrections.contact(application_id, remove_step(name), key=key,
                                        owner=owner, names=(name,))

    def archive(self, application_id: str, *, key: str | None = None,
                owner: str | None = None) -> Outcome:
        """Keep an application with its history but plan nothing more for it (its timers
        are cancelled; it no longer counts as active for the owner's own rules)."""
        return self.corrections.archive(application_id, True, key=key, owner=owner)

    def unarchive(self, application_id: str, *, key: str | None = None,
                  owner: str | None = None) -> Outcome:
        """Bring an archived application back: it is planned again."""
        return self.corrections.archive(application_id, False, key=key, owner=owner)

    def delete(self, application_id: str, *, owner: str) -> Application:
        """Delete an application and its history for good (``Store.delete_application``);
        returns it as it was. ``archive`` keeps it instead."""
        return self.corrections.delete(application_id, owner=owner)

    def undo(self, application_id: str, *, key: str | None = None,
             owner: str | None = None) -> Outcome:
        """Take back the latest entry a person made that is not undone already, with an
        ``undo`` entry; ``InputError`` when there is nothing to undo."""
        return self.corrections.undo(application_id, key=key, owner=owner)

    def snooze(self, application_id: str, reminder: str, *, until: datetime | None = None,
               by: timedelta | None = None, key: str | None = None,
               owner: str | None = None) -> Outcome:
        """Hold back the pending reminder whose timer key is ``reminder`` until ``until``
        or for ``by``; it then goes out in the owner's send window, as any reminder."""
        return self.corrections.snooze(application_id, reminder, until=until, by=by,
                                       now=self.clock.now(), key=key, owner=owner)

    # -- time ----------------------------------------------------------------------

    def run_due(self, now: datetime | None = None, *, limit: int = 1000,
                deliver: bool = True, stop: Callable[[], bool] | None = None,
                list_all: bool = True) -> RunReport:
        """Fire every timer due at ``now`` (the clock's time when omitted) and deliver
        the outbox: what each batch of due timers made goes out before the next batch
        is claimed, and what is left at the end of the pass after it. Touches only
        applications with something due.

        Due timers are claimed in batches under this engine's ``worker`` name, so any
        number of engines (threads, processes, machines) may run this on one store: each
        timer is taken by one of them, and a timer a worker left unfinished (it died) is
        free again when its lease ends. An application whose timers two workers took is
        changed by one at a time (the version check), so nothing fires twice.

        An application (or an owner's own rules) that fails unexpectedly stops only
        itself: the failure is recorded as a ``Fault`` (``store.faults()``, ``followup
        status``, ``followup show``), reported in ``RunReport.errors``, and its timers
        wait for a retry 1, 2, 4 ... minutes later (at most an hour), while the pass goes
        on for everyone else.

        ``stop``, when given, is asked before each application: once it says true, the
        pass ends there (what it claimed and did not reach is let go for the next pass,
        and nothing more is delivered), so a worker asked to stop does not wait for the rest of
        a long pass.

        ``list_all=False``: the report lists only what went wrong and what waits, and
        counts what fired and was delivered (``RunReport``), so a pass over a backlog of
        any length holds no more than its current batch; ``followup run`` passes so."""
        return self.runner.run(now or self.clock.now(), worker=self.worker, lease=self.lease,
                               limit=limit, deliver=deliver, stop=stop, list_all=list_all)

    def deliver(self, now: datetime | None = None, *, list_all: bool = True
                ) -> DeliveryReport:
        """Deliver the outbox's pending notifications through their channels
        (``list_all=False``: count what was delivered instead of listing it, as
        ``run_due`` does)."""
        return self.dispatcher.deliver(now or self.clock.now(), list_all=list_all)

    # -- the agenda ----------------------------------------------------------------

    def agenda(
        self, *, owner: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[AgendaItem]:
        """What is coming for one owner, earliest first."""
        timers = self.store.timers(owner=owner, start=start, end=end)
        apps = {a.id: a for a in self.store.applications(owner=owner)}
        return [AgendaItem(timer=t, application=apps.get(t.application_id))
                for t in timers
                if (t.application_id in apps or t.application_id == "")
                and t.action in ("notify", "transition")]

    def agenda_rows(
        self, *, owner: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[AgendaRow]:
        """``agenda`` as the lines a person reads (``AgendaRow``): the same timers in the
        same order, each with its application's company, without records; from the store
        in one query when it offers ``agenda_rows`` (``followup.store.offers``)."""
        if offers(type(self.store), "agenda_rows", "timers", "applications"):
            rows = cast(Any, self.store).agenda_rows(owner=owner, start=start, end=end)
            return cast(list[AgendaRow], rows)
        out: list[AgendaRow] = []
        for item in self.agenda(owner=owner, start=start, end=end):
            t, app = item.timer, item.application
            out.append((t.fire_at, t.due_at, t.rule, t.action, t.contact, t.application_id,
                        None if app is None else app.company))
        return out

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


def _host() -> str:
    """This machine's name, as ``socket.gethostname()`` gives it (without importing
    ``socket`` where ``os.uname`` has it)."""
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)
    import socket

    return socket.gethostname()
