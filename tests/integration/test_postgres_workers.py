"""Many workers on one PostgreSQL store: every reminder arrives, none twice by accident,
and a worker killed mid-batch loses nothing.

Real parts throughout: the PostgreSQL server on this machine (a schema per test), worker
processes started with the installed ``followup run``, and a webhook receiver on loopback
that records each request's Idempotency-Key.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.drain import PACK, Sink
from followup import Engine, FakeClock, MemoryStore, load_rules
from followup.delivery.dispatcher import BATCH
from followup.model import Change
from followup.store.postgres import PostgresStore
from tests.postgres import drop_schema, new_schema

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REMINDERS = 10_000


@pytest.fixture
def store_url() -> Iterator[str]:
    url = new_schema()
    with PostgresStore(url, migrate=True):
        pass
    yield url
    drop_schema(url)


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = Sink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def seed(url: str, pack_file: Path, count: int) -> None:
    """``count`` applications of 50 owners, each with one reminder due now: planned in
    memory by the engine itself, then written to PostgreSQL in batches."""
    planner = Engine(rules=load_rules(pack_file), store=MemoryStore(), channels=[],
                     clock=FakeClock(datetime(2026, 11, 20, 12, tzinfo=UTC)))
    for i in range(count):
        planner.add_application(owner=f"owner{i % 50}", company=f"Company {i}", role="Role",
                                id=f"app{i:05d}")
    with PostgresStore(url) as store:
        batch: list[Change] = []
        for app in planner.store.applications():
            record = planner.store.load(app.id)
            batch.append(Change(app, None, history=record.history, timers_added=record.timers))
            if len(batch) == 1000:
                store.commit_many(batch)
                batch = []
        store.commit_many(batch)
        assert len(store.due_timers(datetime.now(UTC), limit=count + 1)) == count


def followup_command() -> list[str]:
    script = Path(sys.executable).with_name("followup")
    return [str(script)] if script.exists() else [sys.executable, "-m", "followup.cli"]


def start_workers(url: str, pack_file: Path, sink: Sink, count: int,
                  tmp_path: Path) -> list[subprocess.Popen[bytes]]:
    env = dict(os.environ, FOLLOWUP_DB=url, FOLLOWUP_RULES=str(pack_file),
               FOLLOWUP_PLUGINS="webhook", FOLLOWUP_WEBHOOK_URL=sink.url,
               FOLLOWUP_WEBHOOK_SECRET="s3cret-for-the-test-only", FOLLOWUP_WEBHOOK_TIMEOUT="5")
    workers = []
    for n in range(count):
        with (tmp_path / f"worker{n}.log").open("wb") as log:  # the child keeps its copy
            workers.append(subprocess.Popen(
                [*followup_command(), "run", "--interval", "0.5", "--lease", "10"],
                env=env, stdout=subprocess.DEVNULL, stderr=log))
    return workers


def seeded_workers(url: str, sink: Sink, tmp_path: Path) -> list[subprocess.Popen[bytes]]:
    """Ten thousand reminders due now, and four workers started on them."""
    pack_file = tmp_path / "drain.yaml"
    pack_file.write_text(PACK)
    seed(url, pack_file, REMINDERS)
    return start_workers(url, pack_file, sink, 4, tmp_path)


def wait_for(condition: object, workers: list[subprocess.Popen[bytes]], tmp_path: Path,
             limit: float = 300.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            logs = "\n".join(p.read_text(errors="replace")[-2000:]
                             for p in sorted(tmp_path.glob("worker*.log")))
            pytest.fail(f"the workers did not finish in {limit:g} s; their logs:\n{logs}")
        time.sleep(0.2)


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            w.wait(timeout=30)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()


def all_delivered(url: str) -> bool:
    with PostgresStore(url) as store:
        status = store.work_status(datetime.now(UTC))
    return (status.due_deliveries, status.held_deliveries) == (0, 0)


def check_store_drained(url: str) -> None:
    with PostgresStore(url) as store:
        status = store.work_status(datetime.now(UTC))
        rows = store.deliveries()
    assert (status.due_timers, status.held_timers) == (0, 0), status
    assert (status.due_deliveries, status.held_deliveries, status.dead) == (0, 0, 0), status
    assert len(rows) == REMINDERS
    assert {r.status for r in rows} == {"delivered"}


def test_four_workers_drain_ten_thousand_reminders_each_once(
    store_url: str, sink: Sink, tmp_path: Path
) -> None:
    workers = seeded_workers(store_url, sink, tmp_path)
    try:
        wait_for(lambda: sink.unique() >= REMINDERS, workers, tmp_path)
        time.sleep(1.0)  # a repeat would come now, if any worker were to send one
    finally:
        stop(workers)
    assert sink.unique() == REMINDERS
    repeated = {key: n for key, n in sink.keys.items() if n > 1}
    assert repeated == {}, f"sent more than once: {list(repeated.items())[:5]}"
    check_store_drained(store_url)
    with PostgresStore(store_url) as store:
        seen = store.work_status(datetime.now(UTC)).workers
    assert len(seen) == 4  # all four took part (each noted its heartbeat)
    assert all(w.returncode == 0 for w in workers)  # SIGTERM: a clean stop


def test_a_worker_killed_mid_batch_loses_nothing(
    store_url: str, sink: Sink, tmp_path: Path
) -> None:
    workers = seeded_workers(store_url, sink, tmp_path)
    try:
        wait_for(lambda: sink.unique() >= REMINDERS // 5, workers, tmp_path)
        workers[0].send_signal(signal.SIGKILL)  # mid-batch: it holds claims it never ends
        workers[0].wait()
        wait_for(lambda: sink.unique() >= REMINDERS, workers, tmp_path)
        # The killed worker may have sent its last batch before it died, unrecorded: the
        # receiver has every reminder, and those rows stay claimed until the lease (10 s)
        # ends and another worker sends them again. Wait for that, not only the receiver.
        wait_for(lambda: all_delivered(store_url), workers, tmp_path)
        time.sleep(1.0)
    finally:
        stop(workers)
    assert workers[0].returncode == -signal.SIGKILL
    assert sink.unique() == REMINDERS  # nothing lost
    # At most the reminders whose delivery the killed worker had not yet recorded (a
    # batch's sends are recorded together) are sent again, each once, with the same key,
    # for the receiver to drop.
    repeats = {key: n for key, n in sink.keys.items() if n > 1}
    assert all(n == 2 for n in repeats.values()), repeats
    assert len(repeats) <= BATCH, repeats
    check_store_drained(store_url)
