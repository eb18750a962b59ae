"""A SQLite store from before 0012 loses the index of each owner's applications by state
(its counts are kept in ``owner_counts`` since 0011), and what it answered from that
index it answers the same through the owner's rows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from followup.model import Application, Change
from followup.store import SQLiteStore
from tests.migrations import ship_before, sqlite_indexes

T0 = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)


def test_a_store_from_before_drops_the_owner_state_index_and_answers_alike(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "followup.db"
    version = ship_before(monkeypatch, "sqlite", "drop_owner_state_index")
    with SQLiteStore(path) as old:
        for i, state in enumerate(["thanked", "offer", "thanked", "rejected"]):
            old.commit(Change(Application(f"a{i}", "ada", "Acme", "Engineer", state,
                                          created_at=T0.replace(minute=i)), None))
        old.commit(Change(Application("b0", "bob", "Initech", "Engineer", "thanked",
                                      created_at=T0), None))
        before = ([a.id for a in old.applications(owner="ada", states=["thanked", "offer"])],
                  old.count_applications(owner="ada", states=["thanked"]),
                  old.count_by_state(owner="ada"))
    assert "applications_owner_state" in sqlite_indexes(path, "applications")
    monkeypatch.undo()
    with SQLiteStore(path) as store:
        assert store.applied[0] == version
        assert "applications_owner_state" not in sqlite_indexes(path, "applications")
        assert ([a.id for a in store.applications(owner="ada", states=["thanked", "offer"])],
                store.count_applications(owner="ada", states=["thanked"]),
                store.count_by_state(owner="ada")) == before
    assert before == (["a0", "a1", "a2"], 2, {"thanked": 2, "offer": 1, "rejected": 1})
