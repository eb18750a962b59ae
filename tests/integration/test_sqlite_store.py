"""What only the SQLite store promises: its file, its journal, its migrations, its locks."""

from __future__ import annotations

import re
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from followup.errors import SchemaError, StoreError
from followup.model import Application, Change, Timer
from followup.store import SQLiteStore, _migrations

T0 = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)
SQL_DIR = Path(__file__).resolve().parents[2] / "engine" / "followup" / "store" / "sql" / "sqlite"


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain connection to the file, in autocommit mode, closed afterwards."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        yield conn


def new_application(app_id: str = "a1") -> Change:
    app = Application(app_id, "ada", "Acme", "Engineer", "interviewed", created_at=T0)
    timer = Timer(app_id, "ada", f"{app_id}/t", "thank-you-notes", "notify", T0)
    return Change(app, None, timers_added=(timer,))


def migration_files() -> list[Path]:
    return sorted(p for p in SQL_DIR.iterdir() if re.fullmatch(r"\d{4}_[a-z0-9_]+\.sql", p.name))


def schema(conn: sqlite3.Connection) -> list[tuple[str, str, str, str]]:
    return conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    ).fetchall()


def test_the_file_is_created_private_with_its_folders(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "followup.db"
    with SQLiteStore(path) as store:
        store.commit(new_application())
        wal = path.with_name(path.name + "-wal")
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600  # SQLite copies the file's mode
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_journal_is_wal_and_writes_are_durable_enough(tmp_path: Path) -> None:
    path = tmp_path / "followup.db"
    with SQLiteStore(path) as store:
        store.commit(new_application())
        assert store._conn is not None
        assert store._conn.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        assert store._conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    with raw(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_migrations_are_recorded_one_row_per_file(tmp_path: Path) -> None:
    path = tmp_path / "followup.db"
    with SQLiteStore(path) as store:
        assert store.migrate() == []  # already up to date
    with raw(path) as conn:
        rows = conn.execute("SELECT version, name, applied_at FROM schema_migrations").fetchall()
    expected = [(int(p.name[:4]), p.stem[5:]) for p in migration_files()]
    assert expected[0] == (1, "initial")
    assert [(v, n) for v, n, _ in rows] == expected
    for _, _, applied_at in rows:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", applied_at)
    # What ships in the package is what is in the folder.
    shipped = [(m.version, m.name) for m in _migrations.migrations("sqlite")]
    assert shipped == expected


def test_the_migrated_schema_is_exactly_what_the_files_declare(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "migrated.db"):
        pass
    with raw(tmp_path / "migrated.db") as migrated, raw(tmp_path / "plain.db") as plain:
        for path in migration_files():
            plain.executescript(path.read_text(encoding="utf-8"))
        assert schema(migrated) == schema(plain)
        tables = {name for kind, name, _, _ in schema(migrated) if kind == "table"}
    assert tables == {"applications", "calendar_entries", "faults", "history", "outbox",
                      "owner_counts", "owners", "schema_migrations", "timers", "workers"}


def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "followup.db"
    with SQLiteStore(path) as store:
        stored = store.commit(new_application())
    with SQLiteStore(path) as store:
        record = store.load("a1")
    assert record.application == stored
    assert [t.key for t in record.timers] == ["a1/t"]


def test_a_database_from_a_newer_followup_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "followup.db"
    with SQLiteStore(path):
        pass
    with raw(path) as conn:
        conn.execute(
            "INSERT INTO schema_migrations VALUES (9999, 'future', '2030-01-01T00:00:00.000000Z')"
        )
    with pytest.raises(SchemaError, match=r"schema version 9999.*knows versions up to \d+"):
        SQLiteStore(path)


def test_a_database_with_a_different_migration_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "followup.db"
    with SQLiteStore(path):
        pass
    with raw(path) as conn:
        conn.execute("UPDATE schema_migrations SET name = 'other' WHERE version = 1")
    with pytest.raises(SchemaError, match="records migration 1 as 'other'"):
        SQLiteStore(path)


def test_a_database_that_is_not_followups_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "theirs.db"
    with raw(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(SchemaError, match=r"has tables \(invoices\) but no schema_migrations"):
        SQLiteStore(path)


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just notes\n" * 100)
    with pytest.raises(StoreError, match=r"notes\.txt failed: it is not a SQLite database"):
        SQLiteStore(path)


def test_a_locked_database_is_a_store_error_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "followup.db"
    with SQLiteStore(path, timeout=0.05) as store, raw(path) as other:
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError, match="in use by another process") as caught:
                store.commit(new_application())
            assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        finally:
            other.execute("ROLLBACK")
        assert store.count_applications() == 0
        assert store.timers() == []
        store.commit(new_application())  # and the store still works
        assert store.count_applications() == 1


def test_due_timers_use_the_fire_at_index(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "followup.db") as store:
        assert store._conn is not None
        sql = _migrations.queries("sqlite")["due_timers"]
        plan = store._conn.execute(f"EXPLAIN QUERY PLAN {sql}", ("x", 10)).fetchall()
    details = " ".join(row[-1] for row in plan)
    assert "USING INDEX timers_fire_at" in details
    assert "TEMP B-TREE" not in details  # ordered by the index, no sort
