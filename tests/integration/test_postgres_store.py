"""What only the PostgreSQL store does: its migrations, its errors, waking workers, and
two processes changing one application at once (the contract suite covers the rest)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from followup.errors import StoreError
from followup.store import _migrations, open_store
from followup.store._migrations import migrations
from followup.store.postgres import PostgresStore, describe
from tests.integration.test_store_contract import create, timer, update
from tests.postgres import drop_schema, need_server, new_schema

pytestmark = pytest.mark.postgres


def _catalog(url: str) -> list[tuple[object, ...]]:
    """Tables, columns (with types, defaults, nullability, collation) and indexes of the
    schema on the URL's search path."""
    import psycopg

    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, column_default, is_nullable, "
            "collation_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        ).fetchall()
        indexes = conn.execute(
            "SELECT tablename, indexname, regexp_replace(indexdef, ' ON \\S+\\.', ' ON ') "
            "FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname"
        ).fetchall()
        checks = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace "
            "ORDER BY conname"
        ).fetchall()
    return [*columns, *indexes, *checks]


def test_the_migrated_schema_is_exactly_what_the_files_declare(empty_url: str) -> None:
    import psycopg

    with PostgresStore(empty_url, migrate=True) as store:
        assert store.applied == [m.version for m in migrations("postgresql")]
    plain = new_schema()
    try:
        with psycopg.connect(plain, autocommit=True) as conn:
            for migration in migrations("postgresql"):
                conn.execute(migration.sql.encode())
        assert _catalog(empty_url) == _catalog(plain)
        with psycopg.connect(empty_url) as conn:
            rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
        assert rows == [(m.version, m.name) for m in migrations("postgresql")]
        shipped = sorted(p.name for p in (Path(__file__).parents[2] / "engine" / "followup" / "store" / "sql"
                                         / "postgresql").glob("0*.sql"))
        if shipped:  # beside the source tree: what ships is what is in the folder
            assert shipped == [m.file for m in migrations("postgresql")]
    finally:
        drop_schema(plain)


def _lock_waiters(url: str) -> int:
    """How many sessions wait for the migrators' advisory lock of the URL's schema."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid::bigint = %s AND objsubid = 2 "
            "AND objid = hashtext(coalesce(current_schema(), ''))::oid",
            (_migrations._PG_LOCK,)).fetchone()
    return int(row[0]) if row else 0


def test_migrators_at_once_are_one_unit_one_applies_all_the_others_nothing(
        empty_url: str) -> None:
    """Three migrators queue on the lock (held here until all three wait, so the test
    does not depend on how the threads happen to be scheduled): the first applies every
    migration, the other two find nothing to do."""
    import psycopg

    results: list[list[int]] = []
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            with PostgresStore(empty_url, migrate=True) as store:
                results.append(store.applied)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    with psycopg.connect(empty_url, autocommit=True) as holder:
        # The migrators' lock, held for the session (not the transaction).
        holder.execute(_migrations.PG_LOCK_SQL.replace("_xact", ""), (_migrations._PG_LOCK,))
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while _lock_waiters(empty_url) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _lock_waiters(empty_url) == 3
        holder.execute(_migrations.PG_LOCK_SQL.replace("_xact_lock", "_unlock"),
                       (_migrations._PG_LOCK,))
    for t in threads:
        t.join()
    assert errors == []
    everything = [m.version for m in migrations("postgresql")]
    assert sorted(results) == [[], [], everything]
    with PostgresStore(empty_url, migrate=True) as store:
        assert store.applied == []


def _with_extra(monkeypatch: pytest.MonkeyPatch, sql: str) -> list[int]:
    """The shipped migrations and one more at the end, running ``sql``; their versions."""
    shipped = migrations("postgresql")
    extra = _migrations.Migration(len(shipped) + 1, "extra", sql)
    monkeypatch.setattr(_migrations, "migrations", lambda dialect: (*shipped, extra))
    return [m.version for m in (*shipped, extra)]


def test_no_migration_of_a_run_is_seen_before_the_whole_run_commits(
        empty_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    gate = 0x0F0F0F0F  # the last migration waits for this lock, held here
    everything = _with_extra(monkeypatch, f"SELECT pg_advisory_xact_lock({gate})")
    results: list[list[int]] = []

    def migrate() -> None:
        with PostgresStore(empty_url, migrate=True) as store:
            results.append(store.applied)

    with psycopg.connect(empty_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (gate,))
        first = threading.Thread(target=migrate)
        first.start()
        with psycopg.connect(empty_url, autocommit=True) as observer:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not observer.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND NOT granted AND objid::bigint = %s", (gate,)).fetchone()[0]:
                time.sleep(0.02)
            # The first migrator is at its last migration: nothing of its run shows yet.
            assert observer.execute(
                "SELECT to_regclass('schema_migrations')").fetchone() == (None,)
        others = [threading.Thread(target=migrate) for _ in range(2)]
        for t in others:
            t.start()
        while _lock_waiters(empty_url) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        holder.execute("SELECT pg_advisory_unlock(%s)", (gate,))
    for t in (first, *others):
        t.join()
    assert sorted(results) == [[], [], everything]


def test_a_migration_run_that_fails_leaves_the_database_as_it_was(
        empty_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    _with_extra(monkeypatch, "SELECT 1 / 0")
    with pytest.raises(StoreError, match="division by zero"):
        PostgresStore(empty_url, migrate=True)
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("SELECT to_regclass('schema_migrations')").fetchone() == (None,)
        assert conn.execute("SELECT to_regclass('applications')").fetchone() == (None,)


def test_a_database_without_the_schema_is_refused_with_what_to_do(empty_url: str) -> None:
    with pytest.raises(StoreError, match=r"lacks schema migrations \[1.*followup migrate"):
        open_store(empty_url)


def test_a_database_that_is_not_followups_is_refused(empty_url: str) -> None:
    import psycopg

    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(StoreError, match=r"has tables \(invoices\).*not a followup database"):
        PostgresStore(empty_url, migrate=True)


def test_a_database_from_a_newer_followup_is_refused(empty_url: str) -> None:
    import psycopg

    PostgresStore(empty_url, migrate=True).close()
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (99, 'future')")
    with pytest.raises(StoreError, match=r"schema version 99.*newer followup"):
        PostgresStore(empty_url)


def test_no_server_is_a_clear_store_error_that_keeps_the_password_out() -> None:
    need_server()
    url = "postgresql://ada:hunter2-secret@127.0.0.1:1/followup"
    with pytest.raises(StoreError) as caught:
        PostgresStore(url, timeout=2)
    message = str(caught.value)
    assert "cannot connect to PostgreSQL at postgresql://ada@127.0.0.1:1/followup" in message
    assert "is the server running" in message
    assert "hunter2" not in message and "hunter2" not in repr(caught.value.__cause__ or "")
    assert "hunter2" not in describe(url)


def test_a_commit_that_arms_work_wakes_a_listening_worker(empty_url: str) -> None:
    with PostgresStore(empty_url, migrate=True) as listener, PostgresStore(empty_url) as writer:
        assert listener.wait_for_work(0.05) is False  # starts listening; nothing yet
        app = create(writer)
        update(writer, app, timers_added=(timer("a1/t", app.created_at),))  # type: ignore[arg-type]
        assert listener.wait_for_work(5.0) is True
        assert listener.wait_for_work(0.05) is False  # the notices were all taken


FLIP_FLOP = """\
version: 1
states: [a, b]
initial: a
events:
  flip: {from: [a], to: b}
  flop: {from: [b], to: a}
rules: []
"""

_RECORDER = """
import json, sys
from followup import Engine, load_rules
from followup.errors import InvalidEvent
from followup.store.postgres import PostgresStore
url, pack, event, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
done = repeated = refused = 0
with PostgresStore(url) as store:
    engine = Engine(rules=load_rules(pack), store=store, channels=[])
    print("ready", flush=True)
    sys.stdin.readline()  # both start together
    for _ in range(count):
        try:
            if engine.record("shared", event, owner="ada").changed:
                done += 1
            else:  # the state's last move was this very event: a harmless repeat
                repeated += 1
        except InvalidEvent:
            refused += 1
print(json.dumps({"done": done, "repeated": repeated, "refused": refused}))
"""


def test_two_processes_recording_on_one_application_keep_a_valid_history(
    empty_url: str, tmp_path: Path
) -> None:
    from followup import Engine, load_rules

    pack = tmp_path / "flip-flop.yaml"
    pack.write_text(FLIP_FLOP)
    with PostgresStore(empty_url, migrate=True) as store:
        Engine(rules=load_rules(pack), store=store, channels=[]).add_application(
            owner="ada", company="Acme", role="Engineer", id="shared")
    procs = [subprocess.Popen([sys.executable, "-c", _RECORDER, empty_url, str(pack), event,
                               "300"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for event in ("flip", "flop")]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [json.loads(p.communicate(timeout=300)[0].splitlines()[-1]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    with PostgresStore(empty_url) as store:
        history = store.history("shared")
        app = store.load("shared").application
    moves = [h for h in history if h.kind == "event"]
    # Every event moved the application, or was a repeat, or was refused: none was lost.
    assert len(moves) == sum(r["done"] for r in results)
    assert sum(r["done"] + r["repeated"] + r["refused"] for r in results) == 600
    assert results[0]["done"] > 0 and results[1]["done"] > 0  # they did interleave
    # The history is a path through the machine: each move starts where the last ended.
    state = "a"
    for h in moves:
        assert (h.name, h.from_state) in (("flip", "a"), ("flop", "b")), h
        assert h.from_state == state
        state = h.to_state or state
    assert app.state == state
    assert [h.seq for h in history] == list(range(len(history)))


def test_work_in_another_schema_of_the_database_does_not_wake_a_worker(empty_url: str) -> None:
    other = new_schema()
    try:
        with PostgresStore(empty_url, migrate=True) as listener, \
                PostgresStore(other, migrate=True) as elsewhere:
            assert listener.wait_for_work(0.05) is False
            app = create(elsewhere)
            update(elsewhere, app, timers_added=(timer("a1/t", app.created_at),))  # type: ignore[arg-type]
            assert listener.wait_for_work(0.5) is False
    finally:
        drop_schema(other)
