"""An application stored before the columns ``archived_at`` and ``planned_by`` existed is
not archived and was planned by no known pack (so the next re-plan of stale applications
takes it) once the migration that adds them has run, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from followup.model import Application, Change
from followup.store import SQLiteStore
from followup.store.postgres import PostgresStore
from tests.migrations import ship_before

T0 = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)
_ROW = ("INSERT INTO applications (id, owner, company, role, state, created_at, version) "
        "VALUES ('a1', 'ada', 'Acme', 'Engineer', 'interviewed', {created}, 1)")


def _check(store: SQLiteStore | PostgresStore, version: int) -> None:
    assert store.applied[0] == version
    app = store.load("a1").application
    assert app == Application("a1", "ada", "Acme", "Engineer", "interviewed", created_at=T0,
                              version=1)
    assert (app.archived_at, app.planned_by) == (None, "")
    assert store.stale_applications("any pack", limit=10) == [("ada", "a1")]
    store.commit(Change(replace(app, planned_by="p", archived_at=T0), 1))
    assert store.applications() == [] and store.stale_applications("q", limit=10) == []
    assert store.applications(archived=True)[0].planned_by == "p"


def test_an_application_stored_before_on_sqlite_is_not_archived_and_stale(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "followup.db"
    version = ship_before(monkeypatch, "sqlite", "application_archive")
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(_ROW.format(created="'2026-12-23T20:00:00.000000Z'"))
    conn.close()
    monkeypatch.undo()
    with SQLiteStore(path) as store:
        _check(store, version)


@pytest.mark.postgres
def test_an_application_stored_before_on_postgresql_is_not_archived_and_stale(
        empty_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    version = ship_before(monkeypatch, "postgresql", "application_archive")
    PostgresStore(empty_url, migrate=True).close()
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute(_ROW.format(created="'2026-12-23T20:00:00Z'"))
    monkeypatch.undo()
    with PostgresStore(empty_url, migrate=True) as store:
        _check(store, version)
