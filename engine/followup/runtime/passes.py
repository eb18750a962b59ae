"""A pass over due work: fire every due timer, each application on its own, then
deliver the outbox.

Due timers are claimed from the store in batches under a worker's name, so any number
of engines may run passes on one store. Each application (or one owner's own rules) is
advanced through the engine's change path in isolation: an unexpected failure is
recorded as a ``Fault`` and that row waits for its retry, while the pass goes on for
everyone else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from followup.delivery.dispatcher import DeliveryReport, Dispatcher
from followup.errors import InputError
from followup.model import Fault, Notification
from followup.runtime.changes import Changes, Outcome
from followup.runtime.owner_rules import OwnerRules
from followup.store import Store
from followup.timing.clock import Clock

__all__ = ["RETRY_FIRST", "RETRY_MOST", "RunReport", "Runner"]

# After an unexpected failure, an application (or an owner's own rules) is tried again
# after 1, 2, 4 ... minutes, at most an hour apart, until it succeeds.
RETRY_FIRST = timedelta(minutes=1)
RETRY_MOST = timedelta(hours=1)
_log = logging.getLogger("followup")


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
            deliver: bool = True, stop: Callable[[], bool] | None = None) -> RunReport:
        """One pass, as ``Engine.run_due`` describes it (claims, isolation of a failed
        row, ``stop``): due timers are claimed under ``worker`` for ``lease``."""
        halt = stop or (lambda: False)
        report = RunReport()
        seen: set[tuple[str, str]] = set()  # (owner, application id or "" for the owner's)
        held: dict[tuple[str, str], list[str]] = {}  # claimed keys, per application
        faults = {(f.owner, f.application_id): f for f in self.store.faults()}
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
                due = dict.fromkeys((t.owner, t.application_id) for t in batch
                                    if (t.owner, t.application_id) not in seen)
                for whose in due:
                    if halt():
                        return report
                    seen.add(whose)
                    failed = self._advance(whose, now, report, faults.get(whose))
                    if failed is not None:  # its timers wait for the retry
                        self.store.release_timers(held.pop(whose, []), worker=worker,
                                                  until=failed.retry_at)
            # A fault whose retry is due is tried again even if it has no timer due (a
            # plan that failed may have armed none), so a healed row does not stay listed.
            for whose, fault in faults.items():
                if halt():
                    return report
                if whose not in seen and fault.retry_at <= now:
                    seen.add(whose)
                    self._advance(whose, now, report, fault)
        finally:
            # What is still held was left for later (outside the send window): free it
            # for the next pass of any worker.
            self.store.release_timers([k for keys in held.values() for k in keys],
                                      worker=worker)
        if deliver:
            report.delivery = self.dispatcher.deliver(now)
        return report

    def _advance(self, whose: tuple[str, str], now: datetime, report: RunReport,
                 fault: Fault | None) -> Fault | None:
        """Fire what is due for one application (or one owner's own rules), isolated:
        an unexpected failure is recorded and returned as a fault; a success clears the
        ``fault`` it had."""
        owner, app_id = whose
        try:
            if app_id:
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
