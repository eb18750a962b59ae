"""A SQLite store from before 0014 gets an index of the timers a worker holds: a
heartbeat's renewal (and the status's count of held timers) reads that index instead of
every timer, renews exactly what it renewed before, and the index holds only the timers
held at the time."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from followup.model import Application, Change, Timer, replaced
from followup.store import SQLiteStore, _migrations
from tests.migrations import ship_before, sqlite_indexes

T0 = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)
LEASE = T0 + timedelta(minutes=2)


def _fill(store: SQLiteStore) -> None:
    """Ten applications of two owners, each with one timer due at T0 and one later."""
    for i in range(10):
        app, owner = f"a{i}", ("ada", "bo")[i % 2]
        timers = tuple(Timer(application_id=app, owner=owner, key=f"{app}/{rule}",
                             rule=rule, action="notify", fire_at=T0 + timedelta(days=days))
                       for rule, days in (("due", 0), ("later", 3)))
        store.commit(Change(Application(app, owner, "Acme", "Engineer", "interviewed",
                                        created_at=T0), None, timers_added=timers))


def _held(path: Path) -> list[tuple[str, str]]:
    """(key, worker) of each timer in the index of held timers, read through it."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT key, claimed_by FROM timers INDEXED BY timers_claimed_by "
                            "WHERE claimed_by IS NOT NULL ORDER BY key").fetchall()
    conn.close()
    return [(key, worker) for key, worker in rows]


def _plan(path: Path, query: str) -> str:
    sql = _migrations.queries("sqlite")[query]
    with sqlite3.connect(path) as conn:
        plan = conn.execute(f"EXPLAIN QUERY PLAN {sql}", ("x",) * sql.count("?")).fetchall()
    conn.close()
    return " ".join(str(row[-1]) for row in plan)


def test_a_heartbeat_reads_only_the_timers_its_worker_holds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "followup.db"
    version = ship_before(monkeypatch, "sqlite", "claimed_by")
    with SQLiteStore(path) as old:
        _fill(old)
        assert [t.key for t in old.claim_due_timers(T0, worker="w1", until=LEASE, limit=3)] \
            == ["a0/due", "a1/due", "a2/due"]
        assert len(old.claim_due_timers(T0, worker="w2", until=LEASE, limit=2)) == 2
    assert "timers_claimed_by" not in sqlite_indexes(path, "timers")
    assert "SCAN timers" in _plan(path, "renew_timers")  # every timer, at every beat
    monkeypatch.undo()
    with SQLiteStore(path) as store:
        assert store.applied[0] == version
        assert "timers_claimed_by" in sqlite_indexes(path, "timers")
        assert "USING COVERING INDEX timers_claimed_by" in _plan(path, "renew_timers")
        assert "USING INDEX timers_claimed_by" in _plan(path, "status_held_timers")
        assert _held(path) == [("a0/due", "w1"), ("a1/due", "w1"), ("a2/due", "w1"),
                               ("a3/due", "w2"), ("a4/due", "w2")]
        later = LEASE + timedelta(minutes=2)
        assert store.renew_claims(worker="w1", now=T0, until=later) == 3
        assert store.work_status(LEASE).held_timers == 3  # w1's, renewed; w2's lease is over
        # A timer let go or stored again (fired, re-planned) leaves the index.
        store.release_timers(["a0/due"], worker="w1")
        a1 = store.load("a1")
        store.commit(Change(replaced(a1.application, version=a1.application.version + 1),
                            a1.application.version, timers_removed=("a1/due",)))
        assert _held(path) == [("a2/due", "w1"), ("a3/due", "w2"), ("a4/due", "w2")]
        assert store.renew_claims(worker="w1", now=T0, until=later) == 1
