"""An owner stored before the ``looking`` column existed is still looking for work once the
migration that adds it has run, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from followup.model import Owner
from followup.store import SQLiteStore, _migrations
from followup.store.postgres import PostgresStore
from tests.postgres import drop_schema, new_schema


def _before(monkeypatch: pytest.MonkeyPatch, dialect: str) -> int:
    """Ship the migrations as they were before the one adding ``looking``; its version."""
    shipped = _migrations.migrations(dialect)
    [version] = [m.version for m in shipped if m.name == "owner_looking"]
    monkeypatch.setattr(_migrations, "migrations", lambda d: shipped[:version - 1])
    return version


def test_an_owner_stored_before_on_sqlite_is_looking(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "followup.db"
    version = _before(monkeypatch, "sqlite")
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO owners (id, timezone) VALUES ('ada', 'Europe/Berlin')")
    conn.close()
    monkeypatch.undo()
    with SQLiteStore(path) as store:
        assert store.applied[0] == version
        assert store.get_owner("ada") == Owner("ada", timezone="Europe/Berlin", looking=True)
        store.put_owner(Owner("ada", looking=False))
        assert store.get_owner("ada") == Owner("ada", looking=False)


@pytest.fixture
def empty_url() -> Iterator[str]:
    url = new_schema()
    yield url
    drop_schema(url)


@pytest.mark.postgres
def test_an_owner_stored_before_on_postgresql_is_looking(
        empty_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    version = _before(monkeypatch, "postgresql")
    PostgresStore(empty_url, migrate=True).close()
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("INSERT INTO owners (id, timezone) VALUES ('ada', 'Europe/Berlin')")
    monkeypatch.undo()
    with PostgresStore(empty_url, migrate=True) as store:
        assert store.applied[0] == version
        assert store.get_owner("ada") == Owner("ada", timezone="Europe/Berlin", looking=True)
        store.put_owner(Owner("ada", looking=False))
        assert store.get_owner("ada") == Owner("ada", looking=False)
