"""A pass over due work: fire every due timer, each application on its own, and deliver
the outbox (what each claimed batch made goes out before the next batch is claimed).

Due timers are claimed from the store in batches under a worker's name, so any number
of engines may run passes on one store. Each application (or one owner's own rules) is
advanced through the engine's change path in isolation: an unexpected failure is
recorded as a ``Fault`` and that row waits for its retry, while the pass goes on for
everyone else.

The changes of a claimed batch's applications are committed together, in one
transaction (``Store.commit_many``), when they do not move their application (a move can
change what the owner's other applications plan, so it is committed at once, alone). If
that transaction fails (another writer changed one of them first, or the store refuses
one), each application of the batch is advanced again on its own, so one row still
stops only itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from followup.delivery.dispatcher import DeliveryReport, Dispatcher
from followup.errors import ConflictError, InputError
from followup.model import Application, Delivery, Fault, Notification, Record, Timer
from followup.runtime.changes import Changes, Outcome, Staged
from followup.runtime.owner_rules import OwnerRules
from followup.runtime.replans import ReplanBatch, read_together
from followup.store import Store
from followup.timing.calendar import why_held
from followup.timing.clock import Clock

__all__ = ["RETRY_FIRST", "RETRY_MOST", "Held", "RunReport", "Runner", "why_held"]

# After an unexpected failure, an application (or an owner's own rules) is tried again
# after 1, 2, 4 ... minutes, at most an hour apart, until it succeeds.
RETRY_FIRST = timedelta(minutes=1)
RETRY_MOST = timedelta(hours=1)
_log = logging.getLogger("followup")


@dataclass(frozen=True)
class Held:
    """A reminder whose time has come but that waits: until when, and why (a day off,
    the send window, quiet hours, the owner's daily digest). A pass that fires nothing
    on a Saturday says so with these instead of saying nothing."""

    owner: str
    application_id: str
    rule: str
    contact: str | None
    key: str
    until: datetime
    reason: str


@dataclass
class RunReport:
    """What one ``run_due`` did. With ``list_all=False`` the pass lists only what went
    wrong (``errors``, ``delivery.failed`` and ``delivery.dead``) and what waits
    (``held``): the applications it advanced and the rows it delivered are counted
    (``fired``, ``delivery.delivered_count``), not kept, so a pass over a long backlog
    holds no more than its current batch."""

    outcomes: list[Outcome] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    errors: dict[str, str] = field(default_factory=dict)  # application id -> what failed
    owner_notifications: list[Notification] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)  # due, but waiting: until when and why
    # What a worker re-planned before the pass (a rule edit reaching applications in
    # flight; see followup.runtime.replans); empty for a bare run_due.
    replanned: ReplanBatch = field(default_factory=ReplanBatch)
    # False: ``run_due(list_all=False)`` made this report, which lists only what went
    # wrong and what waits, and counts the rest in ``fired_unlisted`` and
    # ``delivery.delivered_unlisted``.
    list_all: bool = True
    fired_unlisted: int = 0  # timers fired and owners' reminders made, not listed

    @property
    def fired(self) -> int:
        """How many timers fired, and owners' reminders were made, listed or not."""
        return (sum(len(o.fired) for o in self.outcomes) + len(self.owner_notifications)
                + self.fired_unlisted)

    @property
    def notifications(self) -> list[Notification]:
        return [n for o in self.outcomes for n in o.notifications] + self.owner_notifications


class Runner:
    """Passes over due work, for an engine's parts."""

    def __init__(self, *, store: Store, clock: Clock, changes: Changes,
                 owner_rules: OwnerRules, dispatcher: Dispatcher) -> None:
        self.store = store
        self.clock = clock
        self.changes = changes
        self.owner_rules = owner_rules
        self.dispatcher = dispatcher

    def run(self, now: datetime, *, worker: str, lease: timedelta, limit: int = 1000,
            deliver: bool = True, stop: Callable[[], bool] | None = None,
            list_all: bool = True) -> RunReport:
        """One pass, as ``Engine.run_due`` describes it (claims, isolation of a failed
        row, ``stop``, ``list_all``): due timers are claimed under ``worker`` for
        ``lease``."""
        halt = stop or (lambda: False)
        report = RunReport(list_all=list_all)
        seen: set[tuple[str, str]] = set()  # (owner, application id or "" for the owner's)
        held: dict[tuple[str, str], list[str]] = {}  # claimed keys, per application
        faults = {(f.owner, f.application_id): f for f in self.store.faults()}
        claimed: dict[tuple[str, str], list[Timer]] = {}
        try:
            while True:
                # The lease counts from the clock, not from ``now``: a long pass must
                # not claim timers whose lease is already over.
                batch = self.store.claim_due_timers(
                    now, worker=worker, until=max(now, self.clock.now()) + lease,
                    limit=min(limit, 200))
                if not batch:
                    break
                for t in batch:
                    held.setdefault((t.owner, t.application_id), []).append(t.key)
                    claimed.setdefault((t.owner, t.application_id), []).append(t)
                due = dict.fromkeys((t.owner, t.application_id) for t in batch
                                    if (t.owner, t.application_id) not in seen)
                staged: list[tuple[tuple[str, str], Staged]] = []
                self.changes.owners.refresh(owner for owner, _ in due)
                records = self._read([app_id for _, app_id in due if app_id])
                for whose in due:
                    if halt():  # what is done is committed; the rest waits for a pass
                        # (and nothing more is sent: its rows are left unclaimed)
                        self._commit_staged(staged, now, report, faults, held, claimed,
                                            worker, False)
                        return report
                    seen.add(whose)
                    if not whose[1] and staged:
                        # The owner's re-plan of the applications that look at the
                        # others reads them as stored: what the batch staged before it
                        # (planned with the counts of then) is committed first.
                        self._commit_staged(staged, now, report, faults, held, claimed,
                                            worker, deliver)
                        staged = []
                    failed = self._advance(whose, now, report, faults.get(whose), staged,
                                           record=records.pop(whose, None))
                    if staged and staged[-1][0] == whose:
                        continue  # committed with the batch, below
                    self._advanced(whose, failed, now, report, held, claimed, worker)
                self._commit_staged(staged, now, report, faults, held, claimed, worker,
                                    deliver)
                if deliver:  # what this batch made goes out before the next is claimed
                    self._deliver(now, report)
            # A fault whose retry is due is tried again even if it has no timer due (a
            # plan that failed may have armed none), so a healed row does not stay listed.
            for whose, fault in faults.items():
                if halt():
                    return report
                if whose not in seen and fault.retry_at <= now:
                    seen.add(whose)
                    self._advance(whose, now, report, fault)
                    self._unlist(report, now)
        finally:
            # What is still held was left for later (outside the send window): free it
            # for the next pass of any worker.
            self.store.release_timers([k for keys in held.values() for k in keys],
                                      worker=worker)
        report.held.extend(self._digests(report.notifications, now))
        if deliver:
            self._deliver(now, report)
        return report

    def _deliver(self, now: datetime, report: RunReport) -> None:
        """Deliver what the outbox holds that is due, into the pass's report."""
        self._merge(self.dispatcher.deliver(now, list_all=report.list_all), report)

    @staticmethod
    def _merge(sent: DeliveryReport, report: RunReport) -> None:
        if report.list_all:
            report.delivery.delivered.extend(sent.delivered)
        else:
            report.delivery.delivered_unlisted += sent.delivered_count
        report.delivery.failed.extend(sent.failed)
        report.delivery.dead.extend(sent.dead)

    def _unlist(self, report: RunReport, now: datetime) -> None:
        """With ``list_all=False``: count what the report lists of the applications
        advanced so far and let it go (what waits for a digest is noted first)."""
        if report.list_all:
            return
        report.held.extend(self._digests(report.notifications, now))
        report.fired_unlisted += (sum(len(o.fired) for o in report.outcomes)
                                  + len(report.owner_notifications))
        report.outcomes.clear()
        report.owner_notifications.clear()

    def _advanced(self, whose: tuple[str, str], failed: Fault | None, now: datetime,
                  report: RunReport, held: dict[tuple[str, str], list[str]],
                  claimed: dict[tuple[str, str], list[Timer]], worker: str) -> None:
        if failed is not None:  # its timers wait for the retry
            self.store.release_timers(held.pop(whose, []), worker=worker,
                                      until=failed.retry_at)
        elif whose[1]:
            outcome = report.outcomes[-1]
            report.held.extend(self._held(claimed.pop(whose, []), now, outcome))
            # What fired or was cancelled is gone from the store: only the rest is
            # still claimed, to be released when the pass ends. (A pass keeps no more
            # than that of each application: a long one otherwise holds every timer
            # it claimed, which the garbage collector walks again and again.)
            gone = {t.key for t in (*outcome.fired, *outcome.cancelled)}
            keys = [k for k in held.pop(whose, []) if k not in gone]
            if keys:
                held[whose] = keys
        self._unlist(report, now)

    def _commit_staged(self, staged: list[tuple[tuple[str, str], Staged]], now: datetime,
                       report: RunReport, faults: dict[tuple[str, str], Fault],
                       held: dict[tuple[str, str], list[str]],
                       claimed: dict[tuple[str, str], list[Timer]], worker: str,
                       deliver: bool) -> None:
        """Commit a batch's staged changes in one transaction; if it fails, advance each
        of those applications again on its own. With ``deliver``, on a store that can
        write outbox rows already claimed (``commit_many_claiming``), the reminders the
        batch made are taken for this worker in that same transaction and sent from
        here, without claiming them back from the outbox."""
        if not staged:
            return
        changes = [change.change for _, change in staged]
        claiming = getattr(self.store, "commit_many_claiming", None) if deliver else None
        taken: list[Delivery] = []
        try:
            if claiming is None:
                stored = self.store.commit_many(changes)
            else:
                until = max(now, self.clock.now()) + self.dispatcher.lease()
                stored, taken = claiming(changes, worker=worker, until=until)
        except Exception:  # each alone: a conflict retries, a bad row stops only itself
            for whose, _ in staged:
                failed = self._advance(whose, now, report, faults.get(whose))
                self._advanced(whose, failed, now, report, held, claimed, worker)
            return
        for (whose, change), app in zip(staged, stored, strict=True):
            failed = self._advance(whose, now, report, faults.get(whose),
                                   finish=(change, app))
            self._advanced(whose, failed, now, report, held, claimed, worker)
        if taken:
            self._merge(self.dispatcher.deliver_taken(taken, now), report)

    def _held(self, timers: list[Timer], now: datetime, outcome: Outcome) -> list[Held]:
        """The reminders of one application that were due and did not go out: each
        waits for the next time its owner's calendar lets a reminder go."""
        gone = {t.key for t in (*outcome.fired, *outcome.cancelled)}
        gone |= {t.key for t in outcome.armed if t.fire_at > now}  # moved later
        out = []
        for t in timers:
            if t.key in gone or t.action != "notify" or t.fire_at > now:
                continue
            calendar = self.changes.owners.calendar(t.owner)
            wait = why_held(calendar, now)
            if wait is not None:
                out.append(Held(owner=t.owner, application_id=t.application_id, rule=t.rule,
                                contact=t.contact, key=t.key, until=wait[0], reason=wait[1]))
        return out

    def _digests(self, notifications: list[Notification], now: datetime) -> list[Held]:
        """The reminders made in this pass that wait for their owner's daily digest."""
        out = []
        for n in notifications:
            at = n.data.get("digest_at")
            until = datetime.fromisoformat(str(at)) if at else None
            if until is None or until <= now:
                continue
            calendar = self.changes.owners.calendar(n.owner)
            out.append(Held(owner=n.owner, application_id=n.application_id, rule=n.rule,
                            contact=n.contact, key=n.key, until=until,
                            reason=f"your daily digest at {calendar.local(until):%H:%M}"))
        return out

    def _read(self, ids: list[str]) -> dict[tuple[str, str], Record]:
        """The applications of a claimed batch in one read (``read_together``), by
        (owner, id); empty when the store cannot or the read fails: then each is loaded
        on its own, and one that cannot be read stops only itself."""
        try:
            records = read_together(self.store, ids)
        except Exception:
            return {}
        return {(r.application.owner, i): r for i, r in (records or {}).items()}

    def _advance(self, whose: tuple[str, str], now: datetime, report: RunReport,
                 fault: Fault | None, staged: list[tuple[tuple[str, str], Staged]] | None = None,
                 *, finish: tuple[Staged, Application] | None = None,
                 record: Record | None = None) -> Fault | None:
        """Fire what is due for one application (or one owner's own rules), isolated:
        an unexpected failure is recorded and returned as a fault; a success clears the
        ``fault`` it had. With ``staged``, an application's change that does not move it
        is added there instead of committed (then nothing is reported yet); ``finish``
        is such a change and the application its batch's commit stored; ``record``, the
        application as its batch's read found it (else it is loaded here)."""
        owner, app_id = whose
        try:
            if app_id:
                if finish is not None:
                    outcome = self.changes.finish(*finish)
                elif staged is not None:
                    result = self._stage(app_id, now, record)
                    if isinstance(result, Staged):
                        staged.append((whose, result))
                        return None
                    outcome = result
                else:
                    outcome = self.changes.apply(app_id, None, [], fire_until=now, force=True)
                report.outcomes.append(outcome)
                if outcome.problems:
                    report.errors[app_id] = "; ".join(outcome.problems)
            else:
                report.owner_notifications.extend(self._owner_due(owner, now))
        except Exception as exc:  # one row must not stop the pass
            recorded = self._fault(owner, app_id, exc, now, fault)
            report.errors[app_id or f"owner:{owner}"] = recorded.error
            return recorded
        if fault is not None:
            self.store.clear_fault(owner=owner, application_id=app_id)
        return None

    def _stage(self, app_id: str, now: datetime, record: Record | None) -> Outcome | Staged:
        """The application's change, staged when it can wait for its batch's commit;
        else committed now (with ``apply``'s retries when another writer was first)."""
        result = self.changes.prepare(app_id, fire_until=now, record=record)
        if isinstance(result, Outcome) or not result.alone:
            return result
        try:
            return self.changes.commit(result)
        except ConflictError:
            return self.changes.apply(app_id, None, [], fire_until=now, force=True)

    def _owner_due(self, owner: str, now: datetime) -> tuple[Notification, ...]:
        """The owner's due timers: re-plan the applications that look at the others if
        the owner's marker is due, then fire the owner's own rules."""
        ids, markers = self.owner_rules.due_replans(owner, now)
        for app_id in ids:
            try:
                self.changes.apply(app_id, owner, [], force=True)
            except Exception as exc:  # that application's own fault, not the owner's
                self._fault(owner, app_id, exc, now, None)
        if markers:
            self.store.commit_owner(owner, timers_removed=markers)
        return self.owner_rules.run(owner, now, fire_until=now).notifications

    def _fault(self, owner: str, application_id: str, exc: Exception, now: datetime,
               before: Fault | None) -> Fault:
        """Record an unexpected failure of one application (or an owner's own rules)."""
        attempts = before.attempts if before is not None else 0
        wait = min(RETRY_FIRST * (2 ** min(attempts, 16)), RETRY_MOST)
        error = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:1000]
        _log.warning("%s failed, tried again at %s: %s",
                     f"application {application_id}" if application_id
                     else f"owner {owner!r}'s own rules", (now + wait).isoformat(), error,
                     exc_info=not isinstance(exc, InputError))
        return self.store.record_fault(owner=owner, application_id=application_id,
                                       error=error, at=now, retry_at=now + wait)
