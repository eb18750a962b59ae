"""What the store room's mutation run (bench/mutation/store.md) found the other tests did
not pin down: each test here fails for a change to the stores that no other test saw.
Real SQLite files and the real PostgreSQL server, through the public store API."""

from __future__ import annotations

from pathlib import Path

import pytest

from followup.errors import InputError, StoreError
from followup.model import Change
from followup.store import MemoryStore, SQLiteStore, open_store
from tests.integration.test_store_contract import application

# -- open_store: which store a URL names ---------------------------------------------------


@pytest.mark.parametrize("url", ["memory:", "memory://"])
def test_a_memory_url_opens_an_empty_store_of_its_own(url: str) -> None:
    with open_store(url) as one, open_store(url) as other:
        assert type(one) is MemoryStore
        one.commit(Change(application("a1"), None))
        assert other.count_applications() == 0


def test_a_bare_path_and_a_sqlite_url_open_that_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(str(tmp_path / "plain.db")) as store:
        assert isinstance(store, SQLiteStore) and store.path == tmp_path / "plain.db"
        store.commit(Change(application("a1"), None))
    with open_store(f"sqlite:///{tmp_path}/plain.db") as store:
        assert isinstance(store, SQLiteStore) and store.path == tmp_path / "plain.db"
        assert [a.id for a in store.applications()] == ["a1"]
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///relative.db") as store:  # three slashes, then the path as is
        assert isinstance(store, SQLiteStore) and store.path == Path("relative.db")
    assert (tmp_path / "relative.db").is_file()


def test_two_slashes_are_refused_saying_how_to_write_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"^bad store URL 'sqlite://x\.db': write "
                       r"sqlite:///PATH \(three slashes\)$"):
        open_store("sqlite://x.db")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_scheme_is_refused_without_the_rest_of_the_url() -> None:
    with pytest.raises(InputError, match=r"^unknown store 'mysql': use sqlite:///PATH, a file "
                       r"path, postgresql://USER@HOST:PORT/DATABASE or memory:$") as caught:
        open_store("mysql://ann:hunter2@db.example/followup")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_postgresql_url_opens_the_database_migrated_only_when_asked(
        empty_url: str, scheme: str) -> None:
    url = scheme + empty_url.removeprefix("postgresql")
    with pytest.raises(StoreError, match="lacks schema migrations"):
        open_store(url)
    with open_store(url, migrate=True) as store:
        assert type(store).__name__ == "PostgresStore"
        store.commit(Change(application("a1"), None))
    with open_store(url) as store:
        assert [a.id for a in store.applications()] == ["a1"]
