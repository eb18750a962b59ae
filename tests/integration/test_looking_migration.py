"""An owner stored before the ``looking`` column existed is still looking for work once the
migration that adds it has run, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from followup.model import Owner
from followup.store import SQLiteStore
from followup.store.postgres import PostgresStore
from tests.migrations import ship_before


def test_an_owner_stored_before_on_sqlite_is_looking(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "followup.db"
    version = ship_before(monkeypatch, "sqlite", "owner_looking")
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


@pytest.mark.postgres
def test_an_owner_stored_before_on_postgresql_is_looking(
        empty_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    version = ship_before(monkeypatch, "postgresql", "owner_looking")
    PostgresStore(empty_url, migrate=True).close()
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("INSERT INTO owners (id, timezone) VALUES ('ada', 'Europe/Berlin')")
    monkeypatch.undo()
    with PostgresStore(empty_url, migrate=True) as store:
        assert store.applied[0] == version
        assert store.get_owner("ada") == Owner("ada", timezone="Europe/Berlin", looking=True)
        store.put_owner(Owner("ada", looking=False))
        assert store.get_owner("ada") == Owner("ada", looking=False)
