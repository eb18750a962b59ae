"""Delivery: from the outbox to the channels, at least once, each channel on its own.

A notification is written to the outbox in the same transaction as the change that made
it, one row per channel. The dispatcher sends pending rows; a success is marked delivered,
a failure is retried with exponential backoff and jitter, and after ``max_attempts`` the
row is dead: kept, visible, and retryable. A channel that raises never stops the others,
and one that hangs costs at most its timeout (``channel.timeout`` seconds, or the
dispatcher's): sends run on a thread per channel, kept for the pass, one send at a time;
a batch's sends for one channel are handed to its thread together, and a thread whose
send hangs is left behind (it sends nothing more) and the next send gets a new one. A
channel whose ``send`` is a coroutine function runs there too, under ``asyncio.run``. The
rows of an owner's daily digest go out together, as one message per channel
(``followup.delivery.digest``).

A channel may keep what its sends share (a connection, a session) from one send to the
next: at the end of each pass the dispatcher calls the ``release()`` method of every
channel it sent through, when the channel has one (the webhook and email channels do).

Rows are claimed in batches, and the rows of a batch that went out are marked delivered
together, in one transaction, when the store offers ``mark_delivered_many`` (one row at a
time otherwise, and when the batch's mark fails, so that a row that cannot be marked
stops only itself). A worker that dies before the mark leaves the batch's rows to be
sent again when their lease ends: at least once, as before.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import queue
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from followup.delivery.channels import Channel, ChannelRegistry
from followup.delivery.digest import gather
from followup.model import Delivery, replaced
from followup.store import Store

__all__ = ["BACKOFF_BASE", "BACKOFF_CAP", "BATCH", "MAX_ATTEMPTS", "DeliveryReport",
           "Dispatcher", "backoff"]

# The retry schedule, stated here and nowhere else (docs/plugins.md shows it worked out,
# and a test holds the two together): a row is tried at most MAX_ATTEMPTS times; the wait
# before retry n is between half and all of min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (n - 1)).
MAX_ATTEMPTS = 12
BACKOFF_BASE = 30.0  # seconds
BACKOFF_CAP = 6 * 3600.0  # seconds
# Outbox rows claimed, sent and marked delivered together: a worker that dies between a
# batch's sends and its mark leaves at most this many reminders to be sent again.
BATCH = 100


@dataclass
class DeliveryReport:
    """What one pass over the outbox did: each row tried, as the store holds it after
    the attempt (``status``, ``attempts``, ``last_error``, ``next_attempt_at`` and
    ``delivered_at`` as written), in the list of how it ended."""

    delivered: list[Delivery] = field(default_factory=list)
    failed: list[Delivery] = field(default_factory=list)  # will be retried; see last_error
    dead: list[Delivery] = field(default_factory=list)  # gave up after MAX_ATTEMPTS
    # Rows delivered but not listed in ``delivered`` (``run_due(list_all=False)``).
    delivered_unlisted: int = 0

    @property
    def delivered_count(self) -> int:
        """How many rows were delivered, listed or not."""
        return len(self.delivered) + self.delivered_unlisted

    def __bool__(self) -> bool:
        return bool(self.delivered or self.delivered_unlisted or self.failed or self.dead)


def backoff(attempt: int, *, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP,
            rng: random.Random | None = None) -> timedelta:
    """The wait before retry number ``attempt`` (1, 2, ...): exponential, capped, with
    full jitter in its upper half so that retries of many rows spread out."""
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    r = (rng or random).random()
    return timedelta(seconds=ceiling / 2 + r * ceiling / 2)


class Dispatcher:
    """Sends the outbox's pending rows through the registered channels."""

    def __init__(self, store: Store, channels: ChannelRegistry, *, max_attempts: int = MAX_ATTEMPTS,
                 batch: int = BATCH, timeout: float = 30.0, worker: str = "dispatcher",
                 on_delivered: Callable[[Delivery], object] | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.on_delivered = on_delivered
        # The time a lease counts from: the clock's, when a pass runs long, since a
        # lease counted from the pass's start could be over before its rows are sent.
        self.clock = clock
        self.worker = worker  # the name its claims on outbox rows are held under
        # How long claimed rows are held; None: long enough for every send of a batch to
        # time out. A worker whose heartbeat renews its claims may hold them for less.
        self.hold: timedelta | None = None
        self.store = store
        self.channels = channels
        self.max_attempts = max_attempts
        self.batch = batch
        self.timeout = timeout  # seconds a send may take, unless the channel sets its own

    def deliver(self, now: datetime, *, list_all: bool = True) -> DeliveryReport:
        """Send every pending row due at ``now``. Rows are claimed in batches, each
        with a lease longer than its sends may take: another worker on the same store
        skips them, and if this process dies mid-send they are due again when the lease
        ends. A row that fails is due again only after its backoff, so one pass tries
        each row at most once. ``list_all=False``: the rows delivered are counted
        (``delivered_unlisted``), not listed, so a long backlog holds no more than a
        batch."""
        report = DeliveryReport()
        senders = _Senders()
        try:
            while True:
                start = max(now, self.clock()) if self.clock is not None else now
                rows = self.store.claim_deliveries(now, worker=self.worker,
                                                   until=start + self.lease(),
                                                   limit=self.batch)
                if not rows:
                    return report
                self._batch(rows, now, report, senders)
                if not list_all:
                    report.delivered_unlisted += len(report.delivered)
                    report.delivered.clear()
        finally:
            self._release(senders)

    def deliver_taken(self, rows: list[Delivery], now: datetime) -> DeliveryReport:
        """Send rows this worker already holds (written already claimed, see
        ``commit_many_claiming`` in ``followup.store``), as ``deliver`` sends the rows
        it claims, batch by batch."""
        report = DeliveryReport()
        senders = _Senders()
        try:
            for first in range(0, len(rows), self.batch):
                self._batch(rows[first:first + self.batch], now, report, senders)
        finally:
            self._release(senders)
        return report

    def _release(self, senders: _Senders) -> None:
        for name in senders.close():
            release = getattr(self.channels.get(name), "release", None)
            if callable(release):
                # A channel that cannot let go opens anew at its next send anyway.
                with contextlib.suppress(Exception):
                    release()

    def _batch(self, rows: list[Delivery], now: datetime, report: DeliveryReport,
               senders: _Senders) -> None:
        """Send one claimed batch, then mark what went out."""
        sent: list[Delivery] = []
        digests: dict[tuple[str, str, str], list[Delivery]] = defaultdict(list)
        alone: dict[str, list[Delivery]] = defaultdict(list)  # per channel, in order
        for row in rows:
            try:
                slot = row.notification.data.get("digest_at")
                channel = self.channels.get(row.channel)
                if not isinstance(slot, str) or not getattr(channel, "digest", True):
                    alone[row.channel].append(row)
                elif (held := row.notification.held_until) is not None and held > now:
                    continue  # not its time (a store that ignored held_until)
                else:
                    digests[(row.notification.owner, row.channel, slot)].append(row)
            except Exception as exc:  # one row must not stop the others
                self._broken([row], exc, now, report)
        for name, group in alone.items():
            self._each(name, group, now, report, sent, senders)
        for group in digests.values():
            try:
                self._digest(group, now, report, sent, senders)
            except Exception as exc:
                self._broken(group, exc, now, report)
        self._mark_sent(sent, now, report)

    def _mark_sent(self, sent: list[Delivery], now: datetime, report: DeliveryReport) -> None:
        """Mark the rows that went out: together when the store can, else one by one
        (a row whose mark fails is retried after its backoff, as a failed send is)."""
        mark_many = getattr(self.store, "mark_delivered_many", None)
        if mark_many is not None and len(sent) > 1:
            try:
                mark_many([(row.notification.key, row.channel) for row in sent], at=now)
            except Exception:  # the rows are marked one by one below, to find the one at fault
                pass
            else:
                for row in sent:
                    self._report_delivered(row, now, report)
                return
        for row in sent:
            try:
                self._delivered(row, now, report)
            except Exception as exc:
                self._broken([row], exc, now, report)

    def lease(self) -> timedelta:
        """How long a claimed batch is held: every row of it could take the longest
        channel timeout (a heartbeat renews it while a worker is alive)."""
        if self.hold is not None:
            return self.hold
        longest = max([self.timeout, *(float(getattr(self.channels.get(name), "timeout", None)
                                             or self.timeout)
                                       for name in self.channels.names())])
        return timedelta(seconds=longest * 2 + 60)

    def _send(self, channel: Channel, rows: list[Delivery], senders: _Senders
              ) -> list[str | None]:
        """Send each of ``rows`` through ``channel``, in order, on its sending thread, so
        that a send that hangs costs at most the channel's timeout (and the sends after
        it go on a new thread); for each row None on success, else what went wrong."""
        timeout = float(getattr(channel, "timeout", None) or self.timeout)
        outcomes: list[list[BaseException | None]] = [[] for _ in rows]

        def attempt(row: Delivery, outcome: list[BaseException | None]) -> None:
            try:
                if inspect.iscoroutinefunction(channel.send):
                    import asyncio  # here: 50 ms of start-up for the rare coroutine channel

                    asyncio.run(channel.send(row.notification))
                else:
                    channel.send(row.notification)
                outcome.append(None)
            except BaseException as exc:  # a failing channel must not stop the others
                outcome.append(exc)

        errors: list[str | None] = []
        while len(errors) < len(rows):
            first = len(errors)
            done = senders.run(rows[first].channel,
                               [functools.partial(attempt, row, outcomes[i])
                                for i, row in enumerate(rows[first:], first)], timeout)
            for outcome in outcomes[first:first + done]:
                errors.append(None if outcome[0] is None else _describe(outcome[0]))
            if len(errors) < len(rows):  # the next one did not finish in time
                errors.append(f"timed out after {timeout:g} s (the channel did not answer)")
        return errors

    def _digest(self, rows: list[Delivery], now: datetime, report: DeliveryReport,
                sent: list[Delivery], senders: _Senders) -> None:
        """Send one digest's rows (one owner, one channel) as one message; all of them
        are delivered, or all are retried together."""
        message = Delivery(gather(rows, now), rows[0].channel)
        channel = self.channels.get(message.channel)
        if channel is None:
            loaded = ", ".join(self.channels.names()) or "none"
            error: str | None = f"no channel named {message.channel!r} is loaded (loaded: {loaded})"
        else:
            error = self._send(channel, [message], senders)[0]
        if error is None:
            sent.extend(rows)
            return
        error = f"the digest of {len(rows)} reminders failed: {error}"
        attempts = max(row.attempts for row in rows) + 1
        dead = attempts >= self.max_attempts
        next_at = None if dead else now + backoff(attempts)
        for row in rows:
            self._failed(row, error, next_at, dead, report)

    def _broken(self, rows: list[Delivery], exc: Exception, now: datetime,
                report: DeliveryReport) -> None:
        """Rows whose delivery failed outside a channel's send (a row the store holds
        in a form that cannot be read, say): each fails as a send would, with the
        error, and is retried after its backoff; the pass goes on with the others."""
        error = f"{type(exc).__name__}: {exc}"
        for row in rows:
            dead = row.attempts + 1 >= self.max_attempts
            next_at = None if dead else now + backoff(row.attempts + 1)
            self._failed(row, error, next_at, dead, report)

    def _each(self, name: str, rows: list[Delivery], now: datetime, report: DeliveryReport,
              sent: list[Delivery], senders: _Senders) -> None:
        """Send each of ``rows`` (of the channel ``name``) on its own."""
        channel = self.channels.get(name)
        errors: list[str | None]
        try:
            if channel is None:
                loaded = ", ".join(self.channels.names()) or "none"
                errors = [f"no channel named {name!r} is loaded (loaded: {loaded})"] * len(rows)
            else:
                errors = self._send(channel, rows, senders)
        except Exception as exc:  # outside the sends: each row fails with it
            self._broken(rows, exc, now, report)
            return
        for row, error in zip(rows, errors, strict=True):
            if error is None:
                sent.append(row)
                continue
            try:
                dead = row.attempts + 1 >= self.max_attempts
                next_at = None if dead else now + backoff(row.attempts + 1)
                self._failed(row, error, next_at, dead, report)
            except Exception as exc:  # one row must not stop the others
                self._broken([row], exc, now, report)

    # The row as the store holds it after ``mark_delivered`` / ``mark_failed`` (see the
    # Store protocol): the report and the ``followup_delivered`` observers see that, not
    # the row as it was claimed before the attempt.

    def _delivered(self, row: Delivery, now: datetime, report: DeliveryReport) -> None:
        self.store.mark_delivered(row.notification.key, row.channel, at=now)
        self._report_delivered(row, now, report)

    def _report_delivered(self, row: Delivery, now: datetime, report: DeliveryReport) -> None:
        # Built, not ``replaced``: a record made by its class keeps its fields without a
        # dict of its own, one object fewer for the garbage collector to walk while a
        # long pass's report holds it.
        done = Delivery(row.notification, row.channel, status="delivered",
                        attempts=row.attempts + 1, next_attempt_at=None,
                        last_error=row.last_error, delivered_at=now)
        report.delivered.append(done)
        if self.on_delivered is not None:
            self.on_delivered(done)

    def _failed(self, row: Delivery, error: str, next_at: datetime | None, dead: bool,
                report: DeliveryReport) -> None:
        self.store.mark_failed(row.notification.key, row.channel, error=error,
                               next_attempt_at=next_at, dead=dead)
        tried = replaced(row, status="dead" if dead else "pending", attempts=row.attempts + 1,
                         next_attempt_at=next_at, last_error=error)
        (report.dead if dead else report.failed).append(tried)


class _Senders:
    """The sending threads of one pass, one per channel, each running its channel's
    sends one at a time: a thread is started once per channel and pass, not per send,
    and it is handed a batch's sends together (the dispatcher wakes once per batch, or
    when a send runs past its timeout). A thread whose send did not finish in time is
    left to it (a daemon, so it never holds up the process's exit) and the channel's
    next send gets a new one."""

    def __init__(self) -> None:
        self._threads: dict[str, queue.SimpleQueue[Callable[[], None] | None]] = {}
        self._used: set[str] = set()

    def run(self, channel: str, jobs: list[Callable[[], None]], timeout: float) -> int:
        """Run ``jobs`` one after another on ``channel``'s thread, each given ``timeout``
        seconds from its start; how many finished in time. When one did not, the thread
        is left to it and the jobs after it are not run (the caller hands them on)."""
        self._used.add(channel)
        work = self._threads.get(channel)
        if work is None:
            work = self._threads[channel] = queue.SimpleQueue()
            threading.Thread(target=_serve, args=(work,), name=f"followup-send-{channel}",
                             daemon=True).start()
        progress = _Progress(time.monotonic())

        def run_all() -> None:
            for job in jobs:
                with progress.changed:
                    if progress.abandoned:
                        return
                    progress.started = time.monotonic()
                job()
                with progress.changed:
                    if progress.abandoned:
                        return  # finished too late: it counts as timed out
                    progress.done += 1
            with progress.changed:
                progress.changed.notify()

        work.put(run_all)
        with progress.changed:
            while progress.done < len(jobs):
                left = progress.started + timeout - time.monotonic()
                if left <= 0:
                    progress.abandoned = True
                    del self._threads[channel]
                    work.put(None)  # the hung thread ends once its send returns, if ever
                    break
                progress.changed.wait(left)
            return progress.done

    def close(self) -> set[str]:
        """End the threads; the channels sent through in the pass."""
        for jobs in self._threads.values():
            jobs.put(None)
        self._threads.clear()
        return self._used


class _Progress:
    """How far a sending thread is through the jobs it was handed."""

    __slots__ = ("abandoned", "changed", "done", "started")

    def __init__(self, started: float) -> None:
        self.changed = threading.Condition()
        self.done = 0  # jobs finished in time
        self.started = started  # when the job under way started (monotonic)
        self.abandoned = False  # the caller stopped waiting: run nothing more


def _serve(jobs: queue.SimpleQueue[Callable[[], None] | None]) -> None:
    while (job := jobs.get()) is not None:
        job()


def _describe(exc: BaseException) -> str:
    """What went wrong, for the outbox's last_error: even an exception whose message
    cannot be made must not stop the pass (it would hold up every other channel)."""
    try:
        text = str(exc)
    except Exception:
        text = "(the channel's error has no readable message)"
    return f"{type(exc).__name__}: {text}"
