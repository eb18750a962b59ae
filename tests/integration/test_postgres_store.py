"""What only the PostgreSQL store does: its migrations, its errors, waking workers, and
two processes changing one application at once (the contract suite covers the rest)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from followup.errors import StoreError
from followup.store import open_store
from followup.store._migrations import migrations
from followup.store.postgres import PostgresStore, describe
from tests.integration.test_store_contract import create, timer, update
from tests.postgres import drop_schema, need_server, new_schema

pytestmark = pytest.mark.postgres


@pytest.fixture
def empty_url() -> Iterator[str]:
    """A URL whose schema exists and is empty."""
    url = new_schema()
    yield url
    drop_schema(url)


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


def test_migrating_twice_and_at_once_applies_each_migration_once(empty_url: str) -> None:
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            with PostgresStore(empty_url, migrate=True) as store:
                results.append(store.applied)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # Each migration is its own transaction under the lock, so the three may share the
    # work (one applies 1 and 2, another 3): what counts is that each ran exactly once.
    applied = [version for versions in results for version in versions]
    assert sorted(applied) == [m.version for m in migrations("postgresql")]
    assert all(versions == sorted(versions) for versions in results)
    with PostgresStore(empty_url, migrate=True) as store:
        assert store.applied == []


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
