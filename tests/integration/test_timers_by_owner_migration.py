"""A SQLite store from before 0013 trades its two indexes of timers by owner and by
application for one of (owner, application_id, fire_at), and finds every timer it found
before: an application's, an owner's own, an owner's in a window, and those deleted with
their application."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from followup.model import Application, Change, Timer
from followup.store import SQLiteStore
from tests.migrations import ship_before, sqlite_indexes

T0 = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)


def _timer(app: str, owner: str, rule: str, hours: int) -> Timer:
    return Timer(application_id=app, owner=owner, key=f"{owner}/{app or '-'}/{rule}",
                 rule=rule, action="notify", fire_at=T0 + timedelta(hours=hours))


def _answers(store: SQLiteStore) -> tuple[object, ...]:
    keys = lambda timers: [t.key for t in timers]  # noqa: E731
    return (keys(store.load("a0").timers),
            keys(store.load("a1", owner="ada").timers),
            [keys(r.timers) for r in store.load_many(["a0", "b0", "a1"])],
            keys(store.timers(owner="ada")),
            keys(store.timers(owner="ada", application_id="")),
            keys(store.timers(application_id="b0")),
            keys(store.timers(application_id="")),
            keys(store.timers(owner="ada", start=T0 + timedelta(hours=2),
                              end=T0 + timedelta(hours=4))))


def test_a_store_from_before_finds_the_same_timers_through_one_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "followup.db"
    version = ship_before(monkeypatch, "sqlite", "timers_by_owner")
    with SQLiteStore(path) as old:
        for i, (app, owner) in enumerate([("a0", "ada"), ("a1", "ada"), ("b0", "bob")]):
            old.commit(Change(Application(app, owner, "Acme", "Engineer", "interviewed",
                                          created_at=T0), None,
                              timers_added=(_timer(app, owner, "thank", 5 - i),
                                            _timer(app, owner, "call", 1 + i))))
        old.commit_owner("ada", timers_added=[_timer("", "ada", "keep-looking", 3)])
        old.commit_owner("bob", timers_added=[_timer("", "bob", "keep-looking", 2)])
        before = _answers(old)
    assert {"timers_owner_fire_at", "timers_application"} <= sqlite_indexes(path, "timers")
    monkeypatch.undo()
    with SQLiteStore(path) as store:
        assert store.applied[0] == version
        indexes = sqlite_indexes(path, "timers")
        assert {"timers_fire_at", "timers_owner_application"} <= indexes
        assert not {"timers_owner_fire_at", "timers_application"} & indexes
        assert _answers(store) == before
        store.delete_application("a0", owner="ada")
        assert [t.key for t in store.timers(owner="ada")] == [
            "ada/a1/call", "ada/-/keep-looking", "ada/a1/thank"]
    assert before == (
        ["ada/a0/call", "ada/a0/thank"], ["ada/a1/call", "ada/a1/thank"],
        [["ada/a0/call", "ada/a0/thank"], ["bob/b0/call", "bob/b0/thank"],
         ["ada/a1/call", "ada/a1/thank"]],
        ["ada/a0/call", "ada/a1/call", "ada/-/keep-looking", "ada/a1/thank", "ada/a0/thank"],
        ["ada/-/keep-looking"], ["bob/b0/call", "bob/b0/thank"],
        ["bob/-/keep-looking", "ada/-/keep-looking"],
        ["ada/a1/call", "ada/-/keep-looking"])  # the window's end is not in it
