"""Helpers for the tests of one store migration: a store as it was before it."""

from __future__ import annotations

import pytest

from followup.store import _migrations


def ship_before(monkeypatch: pytest.MonkeyPatch, dialect: str, name: str) -> int:
    """Ship the migrations of ``dialect`` as they were before the one called ``name``
    (until ``monkeypatch.undo()``); returns that migration's version."""
    shipped = _migrations.migrations(dialect)
    [version] = [m.version for m in shipped if m.name == name]
    monkeypatch.setattr(_migrations, "migrations", lambda d: shipped[:version - 1])
    return version
