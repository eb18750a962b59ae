"""A rule edit reaches 10,000 applications in flight, on SQLite and on PostgreSQL.

10,000 applications are planned under one pack (follow-up-call 7 days after the
interview), some thank-you notes go out, the pack changes (the call 5 days after), and
workers re-plan in bounded batches (two at once on PostgreSQL) until none is stale.
Every application then has exactly the timers a fresh plan with the new pack gives, was
re-planned once (its version grew by one), and nothing was sent twice: the notes sent
under the old pack are not sent again, and the calls go out once, at their new times.
A small pack keeps the setup quick; the timers it plans are simple enough to write
down, and the test checks that the engine plans exactly those.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from followup import Engine, FakeClock, SQLiteStore
from followup.keys import TimerKey
from followup.language.loader import load_rules
from followup.model import Application, Change, HistoryEntry, Timer
from followup.runtime.workers import Worker
from followup.store import Store, _migrations
from followup.store.postgres import PostgresStore
from tests.postgres import drop_schema, new_schema

COUNT = 10_000
EARLY = 41  # the first applications were interviewed early enough for a note at T0
OWNERS = [f"owner-{n}" for n in range(20)]
T0 = datetime(2026, 12, 1, 15, tzinfo=UTC)
PACK = """\
version: 1
name: tiny
states: [interviewed, followed_up]
initial: interviewed
calendar: {workweek: [mon, tue, wed, thu, fri, sat, sun], send_window: null}
events:
  called: {from: [interviewed], to: followed_up}
facts:
  interviewed_at: {type: datetime}
  early: {type: bool}
rules:
  - name: thank-you
    while: interviewed
    if: "early"
    at: 1 hour after interviewed_at
    notify: {subject: "Thank them"}
  - name: follow-up-call
    while: interviewed
    at: 7 days after interviewed_at
    done_by: called
    notify: {subject: "Call {{ application.company }}"}
"""
OLD = load_rules(text=PACK, cache=False)
NEW = load_rules(text=PACK.replace("at: 7 days", "at: 5 days"), cache=False)


def interviewed(i: int) -> datetime:
    """Application i's interview: from 100 minutes before T0, a minute apart."""
    return T0 + timedelta(minutes=i - 100)


def app_id(i: int) -> str:
    return f"app-{i:05d}"


def timers(i: int, owner: str, call_after: timedelta, *, noted: bool) -> list[Timer]:
    """What the small pack plans for application i: its note (unless sent), its call."""
    aid = app_id(i)
    out = [Timer(aid, owner, str(TimerKey.rule(aid, "follow-up-call", cycle=0)),
                 "follow-up-call", "notify", interviewed(i) + call_after)]
    if i < EARLY and not noted:
        out.append(Timer(aid, owner, str(TimerKey.rule(aid, "thank-you", cycle=0)),
                         "thank-you", "notify", interviewed(i) + timedelta(hours=1)))
    return sorted(out, key=lambda t: (t.fire_at, t.key))


def fill(store: Store, engine: Engine) -> None:
    """10,000 applications planned under the old pack, written in batches; the timers
    are written down, and the engine plans exactly these (checked on a sample)."""
    for owner in OWNERS:
        engine.set_owner(owner, timezone="UTC")
    changes = []
    for i in range(COUNT):
        owner = OWNERS[i % len(OWNERS)]
        facts = {"interviewed_at": interviewed(i).isoformat()}
        if i < EARLY:
            facts["early"] = "true"
        app = Application(app_id(i), owner, f"Company {i}", "Engineer", "interviewed",
                          facts, created_at=interviewed(i), planned_by=OLD.fingerprint)
        created = HistoryEntry(app.id, 0, interviewed(i), "created", "created",
                               to_state="interviewed")
        change = Change(app, None, (created,), timers_added=tuple(
            timers(i, owner, timedelta(days=7), noted=False)))
        if i % 500 == 0 or i == EARLY - 1:
            planned, _ = engine.changes.prepare_new(app, (created,))
            assert planned == change
        changes.append(change)
        if len(changes) == 2000:
            store.commit_many(changes)
            changes = []


def run_across_the_edit(store: Store, *, workers: int) -> None:
    clock = FakeClock(T0)
    old = Engine(rules=OLD, store=store, clock=clock, channels=[], worker="old")
    fill(store, old)
    # Under the old pack the early notes go out (no channel: their rows stay pending,
    # which is what a second send would add to).
    Worker(old, replan_batch=1000, watch_rules=False).run(once=True)
    notes = sorted(d.notification.key for d in store.deliveries())
    assert len(notes) == EARLY
    versions = {a.id: a.version for a in store.applications()}

    # The pack changes: workers re-plan in bounded batches, each pass at most one.
    engines = [Engine(rules=NEW, store=store, clock=clock, channels=[], worker=f"new-{n}")
               for n in range(workers)]
    done: list[str] = []  # what each pass re-planned
    passes: list[int] = []  # how many applications each pass re-planned or found done
    ended: list[bool] = []  # whether each pass's walk ended (the last ids, or another met)

    def work(engine: Engine) -> None:
        worker = Worker(engine, replan_batch=1000, watch_rules=False)
        while store.stale_applications(NEW.fingerprint, limit=1):
            batch = worker.run(once=True).replanned
            assert batch.errors == ()
            done.extend(a.application_id for a in batch.applications)
            passes.append(len(batch.applications) + batch.taken)
            ended.append(batch.last is None or batch.taken > 0)

    threads = [threading.Thread(target=work, args=(e,)) for e in engines[1:]]
    for t in threads:
        t.start()
    work(engines[0])
    for t in threads:
        t.join()
    # Bounded batches, each application re-planned by one worker; workers at once
    # start their walks at different places, and one that meets another (it reads an
    # application the other planned, and plans nothing) moves on.
    assert max(passes) <= 1000
    assert sorted(done) == [app_id(i) for i in range(COUNT)]
    assert sum(passes) - COUNT <= 2000 * (workers - 1)
    # A batch is full unless its walk ended; full batches are as many as the work
    # allows. How many short ones there are is the race's: near the end both workers
    # find the last applications (one of them still in the other's transaction), and
    # this loop, unlike a worker's schedule, tries again at once.
    assert all(n == 1000 or end for n, end in zip(passes, ended, strict=True)), passes
    assert sum(n == 1000 for n in passes) <= (COUNT + 2000 * (workers - 1)) // 1000

    # Each application exactly as a fresh plan with the new pack has it, re-planned once.
    assert store.stale_applications(NEW.fingerprint, limit=1) == []
    apps = store.applications()
    assert len(apps) == COUNT
    stored: dict[str, list[Timer]] = {}
    for t in store.timers():
        stored.setdefault(t.application_id, []).append(t)
    for i, app in enumerate(apps):
        assert app.id == app_id(i)  # created a minute apart: in id order
        assert app.planned_by == NEW.fingerprint
        assert app.version == versions[app.id] + 1, app.id
        assert stored[app.id] == timers(i, app.owner, timedelta(days=5), noted=True), app.id
    sample = engines[0]
    for i in range(0, COUNT, 997):
        record = store.load(app_id(i))
        assert list(record.timers) == sample.planner.plan(
            record.application, record.history, sample.calendar(record.application.owner)
        ).timers
    assert sorted(d.notification.key for d in store.deliveries()) == notes  # none again

    # The calls go out once, at their new times (5 days after), not their old ones.
    clock.set(T0 + timedelta(days=5, minutes=30))
    for _ in range(2):
        Worker(sample, watch_rules=False).run(once=True)
    calls = [d.notification for d in store.deliveries() if d.notification.rule != "thank-you"]
    assert sorted(n.application_id for n in calls) == [app_id(i) for i in range(131)]
    assert sorted(d.notification.key for d in store.deliveries()
                  if d.notification.rule == "thank-you") == notes


def test_ten_thousand_applications_follow_a_pack_edit_on_sqlite(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "followup.db") as store:
        run_across_the_edit(store, workers=1)


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = new_schema()
    yield url
    drop_schema(url)


@pytest.mark.postgres
def test_ten_thousand_applications_follow_a_pack_edit_on_postgresql(pg_url: str) -> None:
    with PostgresStore(pg_url, migrate=True) as store:
        run_across_the_edit(store, workers=2)


def test_the_stale_applications_are_found_through_the_index(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "followup.db") as store:
        conn = store._conn
        assert conn is not None
        query = _migrations.queries("sqlite")["stale_applications"]
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {query}",
                                               ("p", "", "p", "", 10))]
        assert [p for p in plan if p.startswith(("SEARCH", "SCAN"))] == [
            "SEARCH applications USING INDEX applications_stale (planned_by<?)",
            "SEARCH applications USING INDEX applications_stale (planned_by>?)"], plan

