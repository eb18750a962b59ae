"""Helpers for the tests of one store migration: a store as it was before it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from followup.store import _migrations


def ship_before(monkeypatch: pytest.MonkeyPatch, dialect: str, name: str) -> int:
    """Ship the migrations of ``dialect`` as they were before the one called ``name``
    (until ``monkeypatch.undo()``); returns that migration's version."""
    shipped = _migrations.migrations(dialect)
    [version] = [m.version for m in shipped if m.name == name]
    monkeypatch.setattr(_migrations, "migrations", lambda d: shipped[:version - 1])
    return version


def sqlite_indexes(path: Path, table: str) -> set[str]:
    """The names of the indexes of ``table`` in the SQLite file at ``path``."""
    with sqlite3.connect(path) as conn:
        found = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,))}
    conn.close()
    return found
