"""Fixtures shared across the test tiers: the stores every contract test runs against."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from followup.store import MemoryStore, SQLiteStore, Store
from tests.postgres import postgres_store

# Every store the contract suite runs on; a new store is one more line here.
STORE_FACTORIES: dict[str, Callable[[Path], Store]] = {
    "memory": lambda tmp_path: MemoryStore(),
    "sqlite": lambda tmp_path: SQLiteStore(tmp_path / "followup.db"),
    "postgresql": postgres_store,  # skipped without a server, except in CI
}


@pytest.fixture(params=list(STORE_FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each kind in turn, closed afterwards."""
    opened = STORE_FACTORIES[request.param](tmp_path)
    try:
        yield opened
    finally:
        opened.close()
