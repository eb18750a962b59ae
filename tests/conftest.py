"""Fixtures shared across the test tiers: the stores every contract test runs against."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from followup.store import MemoryStore, SQLiteStore, Store
from tests.postgres import postgres_store

# Every store the contract suite runs on; a new store is one more line here.
STORE_FACTORIES: dict[str, Callable[[Path], Store]] = {
    "memory": lambda tmp_path: MemoryStore(),
    "sqlite": lambda tmp_path: SQLiteStore(tmp_path / "followup.db"),
    "postgresql": postgres_store,  # skipped without a server, except in CI
}


# Hypothesis: in CI (CI=true) the same examples on every run, no example database and no
# deadline; each property test sets its own fixed max_examples and stateful_step_count.
settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")


@pytest.fixture(autouse=True, scope="session")
def _pack_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Rule packs the tests load are cached in a folder of this run's own (and the
    commands the tests start inherit it), never in the home directory's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FOLLOWUP_CACHE_DIR", str(tmp_path_factory.mktemp("pack-cache")))
        yield


@pytest.fixture(params=list(STORE_FACTORIES))
def store_factory(request: pytest.FixtureRequest) -> Callable[[Path], Store]:
    """The factory of each kind of store in turn, for tests that open many stores."""
    return STORE_FACTORIES[request.param]


@pytest.fixture(params=list(STORE_FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each kind in turn, closed afterwards."""
    opened = STORE_FACTORIES[request.param](tmp_path)
    try:
        yield opened
    finally:
        opened.close()
