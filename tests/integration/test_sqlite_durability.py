"""The SQLite store's durability is chosen (``synchronous``: normal or full) and a file
that may not be written is read, not refused (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from followup.errors import InputError, StoreError
from followup.model import Change, Owner
from followup.store import SQLiteStore, open_store
from tests.integration.test_store_contract import application

NORMAL, FULL = 1, 2  # what PRAGMA synchronous reports


def _synchronous(store: object) -> int:
    assert isinstance(store, SQLiteStore) and store._conn is not None
    return int(store._conn.execute("PRAGMA synchronous").fetchone()[0])


def test_normal_is_the_default_and_full_is_chosen_by_option_or_url(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "a.db") as store:
        assert _synchronous(store) == NORMAL
    with SQLiteStore(tmp_path / "a.db", synchronous="full") as store:
        assert _synchronous(store) == FULL
    with open_store(f"sqlite:///{tmp_path}/b.db?synchronous=full") as store:
        assert _synchronous(store) == FULL
        assert (tmp_path / "b.db").exists()
    with open_store(f"sqlite:///{tmp_path}/b.db?synchronous=normal") as store:
        assert _synchronous(store) == NORMAL


@pytest.mark.parametrize("query", ["synchronous=off", "fast=1"])
def test_another_setting_is_refused(tmp_path: Path, query: str) -> None:
    with pytest.raises(InputError, match=r"only \?synchronous=normal .* or \?synchronous=full"):
        open_store(f"sqlite:///{tmp_path}/c.db?{query}")
    with pytest.raises(InputError, match="choose 'normal' or 'full'"):
        SQLiteStore(tmp_path / "d.db", synchronous="off")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", [0o444, 0o445, 0o400])  # execute bits write nothing
def test_a_file_without_write_permission_is_read_and_refuses_writes(
        tmp_path: Path, mode: int) -> None:
    path = tmp_path / "ro.db"
    with SQLiteStore(path) as store:
        store.commit(Change(application("a1"), None))
    path.chmod(mode)
    try:
        with SQLiteStore(path) as store:
            assert store.read_only
            assert [a.id for a in store.applications()] == ["a1"]
            with pytest.raises(StoreError, match=r"read-only .* \(chmod u\+w\)"):
                store.put_owner(Owner("ada"))
            with pytest.raises(StoreError, match="read-only"):
                store.commit(Change(application("a2"), None))
            assert store.work_status(datetime(2027, 1, 1, tzinfo=UTC)).due_timers == 0
    finally:
        path.chmod(0o600)
    with SQLiteStore(path) as store:
        assert not store.read_only and [a.id for a in store.applications()] == ["a1"]


def test_the_durability_benchmark_still_runs(tmp_path: Path) -> None:
    """bench/durability.py measures both settings (never how fast: that is its table)."""
    from bench.durability import measure

    results = measure(tmp_path, commits=3, adds=2, rounds=1)
    assert set(results) == {"commits", "engine adds"}
    assert all(set(by) == {"normal", "full"} for by in results.values())
