"""A SQLite store from before 0014 gets an index of the timers a worker holds, and one
from before 0015 an index of the outbox rows a worker holds: a heartbeat's renewal (and
the status's count of held timers) reads that index instead of every timer or every
pending row, renews exactly what it renewed before, and each index holds only the work
held at the time."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from followup.model import Application, Change, Notification, Timer, replaced
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


def _held(path: Path, table: str = "timers") -> list[tuple[str, str]]:
    """(key, worker) of each row of ``table`` (timers or outbox) in its index of held
    rows, read through it."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(f"SELECT key, claimed_by FROM {table} INDEXED BY "
                            f"{table}_claimed_by WHERE claimed_by IS NOT NULL ORDER BY key"
                            ).fetchall()
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


def _fill_outbox(store: SQLiteStore) -> None:
    """Ten applications of two owners, each with one reminder pending on one channel."""
    for i in range(10):
        app, owner = f"a{i}", ("ada", "bo")[i % 2]
        note = Notification(key=f"{app}/note", application_id=app, owner=owner, rule="note",
                            created_at=T0, subject="Follow up", body="…",
                            channels=("console",))
        store.commit(Change(Application(app, owner, "Acme", "Engineer", "interviewed",
                                        created_at=T0), None, notifications=(note,)))


def _partial(path: Path, table: str) -> dict[str, bool]:
    """Whether each index of ``table`` is partial (has a WHERE clause)."""
    with sqlite3.connect(path) as conn:
        found = {row[1]: bool(row[4]) for row in conn.execute(f"PRAGMA index_list({table})")}
    conn.close()
    return found


def test_a_heartbeat_reads_only_the_outbox_rows_its_worker_holds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "followup.db"
    version = ship_before(monkeypatch, "sqlite", "outbox_claimed_by")
    with SQLiteStore(path) as old:
        _fill_outbox(old)
        assert [d.notification.key for d in
                old.claim_deliveries(T0, worker="w1", until=LEASE, limit=3)] \
            == ["a0/note", "a1/note", "a2/note"]
        assert len(old.claim_deliveries(T0, worker="w2", until=LEASE, limit=2)) == 2
    assert "outbox_claimed_by" not in sqlite_indexes(path, "outbox")
    # every pending row, at every beat
    assert "USING INDEX outbox_status_next_attempt" in _plan(path, "renew_deliveries")
    monkeypatch.undo()
    with SQLiteStore(path) as store:
        assert store.applied[0] == version
        assert "outbox_claimed_by" in sqlite_indexes(path, "outbox")
        assert _partial(path, "outbox")["outbox_claimed_by"]  # not the rows no one holds
        assert "USING INDEX outbox_claimed_by" in _plan(path, "renew_deliveries")
        assert _held(path, "outbox") == [("a0/note", "w1"), ("a1/note", "w1"),
                                          ("a2/note", "w1"), ("a3/note", "w2"),
                                          ("a4/note", "w2")]
        later = LEASE + timedelta(minutes=2)
        assert store.renew_claims(worker="w1", now=T0, until=later) == 3
        status = store.work_status(LEASE)
        assert status.held_deliveries == 3  # w1's, renewed; w2's lease is over
        assert status.due_deliveries == 7  # w2's two and the five never claimed
        # A row delivered, or failed (to be retried, or dead), leaves the index.
        store.mark_delivered("a0/note", "console", at=T0)
        retry = T0 + timedelta(hours=1)
        store.mark_failed("a1/note", "console", error="down", next_attempt_at=retry,
                          dead=False)
        store.mark_failed("a3/note", "console", error="gone", next_attempt_at=None,
                          dead=True)
        assert _held(path, "outbox") == [("a2/note", "w1"), ("a4/note", "w2")]
        assert store.renew_claims(worker="w1", now=T0, until=later) == 1
        assert {d.notification.key: d.next_attempt_at
                for d in store.deliveries(status="pending")} == {
            "a1/note": retry, "a2/note": later, "a4/note": LEASE,
            **{f"a{i}/note": None for i in range(5, 10)}}
