"""What every benchmark shares: the row it reports, repeated timing, memory readings and
the one application every benchmark drives."""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from followup import Contact, Engine

T = TypeVar("T")

#: The interview every benchmark starts from: Wednesday 23 December 2026, 20:00 UTC.
T0 = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)
INTERVIEWER = "Jane Doe"

#: The realistic sequence a person records after one interview, and when (after T0).
EVENTS: tuple[tuple[str, str | None, timedelta], ...] = (
    ("thank_you_sent", INTERVIEWER, timedelta(hours=14)),
    ("called", None, timedelta(days=8)),
    ("offer_received", None, timedelta(days=15)),
)


@dataclass(frozen=True)
class Row:
    """One figure of the table: the median of ``samples``, one sample per run."""

    id: str
    group: str
    figure: str
    unit: str
    samples: tuple[float, ...]
    note: str = ""
    #: CPU time over wall time while its benchmark ran (children included): well under
    #: 100% for CPU-bound work means the machine was busy with something else.
    cpu_share: float | None = None
    #: This figure over raw transitions (1.11's work) and over python-statemachine
    #: (1.15's), one per round, each measured right before this figure's run in that
    #: round: a ratio the machine's changing speed does not skew. Empty when not paired.
    vs_raw: tuple[float, ...] = ()
    vs_psm: tuple[float, ...] = ()

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def runs(self) -> int:
        return len(self.samples)


def repeat(runs: int, once: Callable[[], T]) -> tuple[T, ...]:
    """``runs`` samples of ``once``, which sets itself up and returns its own measure.

    A full collection before each run, so one run's garbage does not land on the next.
    """
    samples: list[T] = []
    for _ in range(runs):
        gc.collect()
        samples.append(once())
    return tuple(samples)


def timed(work: Callable[[], object]) -> float:
    """Seconds ``work`` takes, by the monotonic performance counter."""
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def traced_bytes(work: Callable[[], object]) -> int:
    """Bytes of Python memory still allocated after ``work`` (while what it returns is
    kept alive), measured with tracemalloc."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = work()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del kept
    return after - before


def proc_status_kb(field: str) -> int | None:
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM), or None where there is none."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def filesystem(path: Path, *, device: bool = False) -> str:
    """The type of the file system holding ``path`` (from /proc/mounts, Linux), with its
    device when asked: for a table's heading."""
    where = str(path.resolve())
    best, kind = "", "unknown"
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) < 3:
                    continue
                mount = fields[1]
                inside = where == mount or where.startswith(mount.rstrip("/") + "/")
                if inside and len(mount) > len(best):
                    best, kind = mount, f"{fields[2]} on {fields[0]}" if device else fields[2]
    except OSError:
        pass
    return kind


def add_interviewed(engine: Engine, app_id: str, *, owner: str = "ada",
                    interviewed_at: datetime = T0) -> str:
    """Add the application every benchmark uses: one interviewer, ``interviewed_at``."""
    return engine.add_application(
        owner=owner, company="Acme", role="Engineer", id=app_id,
        facts={"interviewed_at": interviewed_at},
        contacts=[Contact(INTERVIEWER, "interviewer", title="Engineering Manager")],
    ).id


def sized(n: int) -> str:
    """``100,000``: a size as the table prints it."""
    return f"{n:,}"
