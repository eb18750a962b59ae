"""Running the engine as a worker: the daemon's loop, its heartbeat, and many at once.

A worker repeats ``Engine.run_due``: it claims due timers and outbox rows in batches
under its name, and a heartbeat thread renews its leases while it is alive, so work it
holds is never taken by another worker while it runs, and is taken over when it dies.
Between passes it waits for new work: on PostgreSQL a commit wakes it at once
(LISTEN/NOTIFY); on every store it also looks every ``interval`` seconds.

``followup run --workers N`` starts N worker processes under one supervisor, which
restarts a worker that dies and stops them all on Ctrl-C or SIGTERM. Workers on other
machines need nothing more than the same store URL.

Each pass is logged on the ``followup.worker`` logger; ``json_logging()`` makes the
records one JSON object per line, for log collectors (``log_to``).

A rule edit reaches the applications in flight: before firing what is due, each pass
re-plans one batch of the applications another pack planned (``replan_batch`` of them,
``followup.runtime.replans``), walking them in id order from a place of the worker's
own, so a pack edit reaches every application within a few passes and workers do not
all take the same batch. A worker also notices when a file of its rule pack changes on
disk (``watch_rules``): at the next pass it loads the pack again and goes on with the
new one (re-planning everyone, batch by batch); a pack that no longer loads is logged
and the old one kept.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from followup.limits import REPLAN_BATCH
from followup.runtime.replans import ReplanBatch, pack_digest, start_among

if TYPE_CHECKING:
    from followup.runtime.engine import Engine, RunReport

__all__ = ["JSONFormatter", "Worker", "log_to", "reloaded", "supervise"]

log = logging.getLogger("followup.worker")


class Worker:
    """One engine's loop of passes over due work, with a heartbeat.

    >>> from followup import Engine, MemoryStore
    >>> worker = Worker(Engine(store=MemoryStore(), channels=[]), interval=0.1)
    >>> worker.run(once=True).fired
    0
    """

    def __init__(self, engine: Engine, *, interval: float = 30.0,
                 on_report: Callable[[RunReport], object] | None = None,
                 replan_batch: int = REPLAN_BATCH, watch_rules: bool = True,
                 list_all: bool = True) -> None:
        self.engine = engine
        # False: each pass's report lists only what went wrong and what waits, and
        # counts the rest (``Engine.run_due``), so a long backlog keeps memory flat.
        self.list_all = list_all
        self.interval = interval  # seconds between looks when nothing wakes the worker
        self.on_report = on_report
        self.replan_batch = replan_batch  # stale applications re-planned per pass (0: none)
        self._after: str | None = None  # where the walk goes on
        self._walking = False  # False: the next pass starts a new walk
        self._walks = 0
        self._rules = pack_digest(engine.pack) if watch_rules else None
        self.stopping = threading.Event()
        # Renew well before the lease ends: three beats per lease.
        self.beat = max(0.05, engine.lease.total_seconds() / 3)
        # The heartbeat renews outbox claims too, so they need no longer a lease.
        engine.dispatcher.hold = engine.lease

    def stop(self) -> None:
        """Finish the pass under way, then return from ``run``."""
        self.stopping.set()

    def heartbeat(self) -> int:
        """Renew this worker's leases now; how many claims were extended."""
        now = self.engine.clock.now()
        return self.engine.store.renew_claims(worker=self.engine.worker, now=now,
                                              until=now + self.engine.lease)

    def run(self, *, once: bool = False) -> RunReport:
        """Pass over due work until ``stop`` (or once); returns the last pass's report."""
        beating = threading.Thread(target=self._beat, name="followup-heartbeat", daemon=True)
        self.heartbeat()
        beating.start()
        log.info("worker started", extra={"worker": self.engine.worker})
        try:
            while True:
                report = self._pass()
                if once or self.stopping.is_set():
                    return report
                self._wait()
                if self.stopping.is_set():
                    return report
        finally:
            self.stopping.set()
            beating.join(timeout=5)
            log.info("worker stopped", extra={"worker": self.engine.worker})

    def _pass(self) -> RunReport:
        started = time.monotonic()
        self._watch_rules()
        replanned = self._replan()
        report = self.engine.run_due(stop=self.stopping.is_set, list_all=self.list_all)
        report.replanned = replanned
        delivery = report.delivery
        log.info("pass", extra={
            "worker": self.engine.worker, "replanned": len(replanned.applications),
            "fired": report.fired,
            "delivered": delivery.delivered_count, "failed": len(delivery.failed),
            "dead": len(delivery.dead), "errors": len(report.errors),
            "seconds": round(time.monotonic() - started, 3)})
        for app_id, error in report.errors.items():
            log.warning("application could not be advanced",
                        extra={"worker": self.engine.worker, "application": app_id,
                               "error": error})
        for row in delivery.failed + delivery.dead:
            log.warning("delivery failed", extra={
                "worker": self.engine.worker, "channel": row.channel,
                "key": row.notification.key, "error": row.last_error,
                "dead": row.status == "dead"})
        if self.on_report is not None:
            self.on_report(report)
        return report

    def _replan(self) -> ReplanBatch:
        """One batch of the applications another pack planned, from where the last
        pass's left off (round to the start at the end)."""
        if self.replan_batch <= 0:
            return ReplanBatch()
        try:
            if not self._walking:  # a new walk, from a place of this worker's own
                sample = self.engine.store.stale_applications(
                    self.engine.pack.fingerprint, limit=self.replan_batch * 32)
                self._after = start_among(self.engine.worker, [i for _, i in sample],
                                          self._walks)
                self._walks += 1
            batch = self.engine.replan_stale(limit=self.replan_batch, after=self._after)
            if not batch.applications and not batch.taken and self._after is not None:
                batch = self.engine.replan_stale(limit=self.replan_batch)  # from the start
        except Exception as exc:  # the store may be away: firing reports it too
            log.warning("re-planning failed", extra={"worker": self.engine.worker,
                                                     "error": str(exc)})
            return ReplanBatch()
        # The walk goes on after this batch, unless it reached the end or met another
        # worker at work: then the next pass starts a new walk elsewhere.
        self._after = batch.last
        self._walking = batch.last is not None and not batch.taken
        for app_id, error in batch.errors:
            log.warning("application could not be re-planned",
                        extra={"worker": self.engine.worker, "application": app_id,
                               "error": error})
        return batch

    def _watch_rules(self) -> None:
        """Load the rule pack again when one of its files changed since it was read."""
        if self._rules is None:
            return
        now = pack_digest(self.engine.pack)
        if now == self._rules:
            return
        self._rules = now
        try:
            engine = reloaded(self.engine)
        except Exception as exc:  # a pack being edited may not load yet: keep the old
            log.warning("the rule pack changed and does not load; the old one stays",
                        extra={"worker": self.engine.worker, "error": str(exc)})
            return
        engine.dispatcher.hold = engine.lease
        self.engine = engine
        self._rules = pack_digest(engine.pack)
        log.info("rule pack loaded again", extra={"worker": engine.worker,
                                                  "fingerprint": engine.pack.fingerprint})

    def _wait(self) -> None:
        wait = getattr(self.engine.store, "wait_for_work", None)
        if wait is None:
            self.stopping.wait(self.interval)
            return
        # Wake on a notice, but in slices, so that a stop is seen within a second.
        deadline = time.monotonic() + self.interval
        while not self.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or wait(min(left, 1.0)):
                return

    def _beat(self) -> None:
        while not self.stopping.wait(self.beat):
            try:
                self.heartbeat()
            except Exception as exc:  # the next beat tries again; the pass reports errors
                log.warning("heartbeat failed", extra={"worker": self.engine.worker,
                                                       "error": str(exc)})


def reloaded(engine: Engine) -> Engine:
    """An engine like ``engine`` (its store, clock, channels, plugins, worker name and
    lease) with its rule pack read again from the files it came from."""
    from followup.runtime.engine import Engine

    first = engine.pack.files[0]
    rules = (first.removeprefix("<builtin>/").removesuffix(".yaml")
             if first.startswith("<builtin>/") else first)
    return Engine(rules=rules, store=engine.store, clock=engine.clock,
                  channels=None if engine.plugins is not None else engine.channels,
                  plugins=engine.plugins, worker=engine.worker, lease=engine.lease)


def supervise(count: int, command: Sequence[str], *, restart_after: float = 1.0) -> int:
    """Run ``count`` copies of ``command`` (one worker each) until they all finish, or
    until SIGTERM (exit 0 once they stopped) or Ctrl-C (exit 130). A copy that dies (a
    signal, a crash, the store unreachable) is started again; one that exits because its
    input or a plugin is wrong (exit 2 or 4) stops them all, with its exit code, since a
    new copy would fail the same way."""
    children: dict[int, subprocess.Popen[bytes]] = {}
    stopped_by: list[int] = []  # the signal that asked for the stop
    worst = 0

    def start(slot: int) -> None:
        children[slot] = subprocess.Popen(list(command))

    def stop_all() -> None:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    def stop(signum: int, _frame: object) -> None:
        stopped_by.append(signum)
        stop_all()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for slot in range(count):
            start(slot)
        while children:
            time.sleep(0.2)
            for slot, child in list(children.items()):
                code = child.poll()
                if code is None:
                    continue
                del children[slot]
                if stopped_by or code == 0:
                    continue
                if code in (2, 4):  # bad input or a broken plugin: another try fails alike
                    worst = max(worst, code)
                    stopped_by.append(0)
                    stop_all()
                    continue
                log.warning("worker exited; starting another",
                            extra={"slot": slot, "code": code})
                print(f"followup run: worker {slot} exited with {code}; starting another",
                      file=sys.stderr, flush=True)
                time.sleep(restart_after)
                if not stopped_by:
                    start(slot)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for child in children.values():
            if child.poll() is None:
                child.terminate()
            child.wait()
    if worst:
        return worst
    return 130 if signal.SIGINT in stopped_by else 0


# -- structured logs ---------------------------------------------------------------------

# The attributes every LogRecord has; anything else came from ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JSONFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message and the extras."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD)
        return f"followup: {record.getMessage()}{' ' + extras if extras else ''}"


def log_to(stream: Any = None, *, json_lines: bool = True,
           level: int = logging.INFO) -> logging.Handler:
    """Send the ``followup`` loggers' records to ``stream`` (stderr), as JSON lines or
    as text; returns the handler (remove it to undo)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JSONFormatter() if json_lines else _TextFormatter())
    logger = logging.getLogger("followup")
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler
