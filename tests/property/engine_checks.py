"""What the model test checks that needs no model: a history is a valid path through the
pack's machine and rebuilds its application; what a call or a restart may not change; and
how the test opens, reopens and throws away each kind of store."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from followup import Engine
from followup.model import HistoryEntry
from followup.store import MemoryStore, SQLiteStore, Store
from tests.postgres import drop_schema, new_schema
from tests.property.engine_reference import PACK

# Added to the options of a PostgreSQL URL made by tests.postgres.new_schema (they end it).
NO_FLUSH = quote(" -csynchronous_commit=off")


def snapshot(engine: Engine, ids: list[str]) -> tuple[Any, ...]:
    """Everything about ``ids`` and the owner that a refused call or a restart must keep."""
    return (tuple((engine.application(i), engine.history(i), engine.timers(i)) for i in ids),
            engine.store.deliveries(), engine.store.timers(owner="p"), engine.owner("p"))


def replay(history: list[HistoryEntry]) -> tuple[str | None, dict[str, str], list[dict[str, Any]]]:
    """The application's state, facts and contacts, rebuilt from its history alone."""
    state: str | None = None
    facts: dict[str, str] = {}
    contacts: dict[str, dict[str, Any]] = {}
    for h in history:
        if h.kind == "created":
            facts = dict(h.data["facts"])
            contacts = {c["name"]: dict(c) for c in h.data["contacts"]}
        elif h.kind == "facts":
            for name, value in h.data["facts"].items():
                if value is None:
                    facts.pop(name, None)
                else:
                    facts[name] = value
        elif h.kind == "contact":
            contacts[str(h.contact)] = dict(h.data)
        if h.to_state is not None:
            state = h.to_state
    return state, facts, list(contacts.values())


def valid_path(history: list[HistoryEntry]) -> None:
    """Each entry follows from the one before under the pack's machine."""
    state = None
    for i, h in enumerate(history):
        assert h.seq == i
        if h.kind == "created":
            assert state is None and h.to_state == PACK.initial
        elif h.kind == "event":
            spec = PACK.events[h.name]
            assert h.from_state == state, h
            if spec.sources is not None:
                assert h.from_state in spec.sources, h
            if h.to_state is not None:
                assert spec.dest == h.to_state, h
        elif h.kind == "transition":
            auto = next(t for t in PACK.transitions if t.name == h.name)
            assert h.from_state == state and state in auto.sources and h.to_state == auto.dest, h
        else:
            assert h.to_state is None, h
        if h.to_state is not None:
            state = h.to_state


class Stores:
    """How the test opens a new store of one kind, the same store again after a restart
    (the memory store is kept: it cannot be reopened), and how it throws one away."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind, self.folder = kind, folder

    def open(self) -> Store:
        if self.kind == "memory":
            return MemoryStore()
        if self.kind == "sqlite":
            return SQLiteStore(Path(tempfile.mkdtemp(dir=self.folder)) / "followup.db")
        from followup.store.postgres import PostgresStore

        # A schema of its own; commits that wait for no disk flush (what survives a
        # restart is the same: the server stays up), so the steps cost less.
        return PostgresStore(new_schema() + NO_FLUSH, migrate=True)

    def reopen(self, store: Store) -> Store:
        if isinstance(store, SQLiteStore):
            return SQLiteStore(store.path)
        if self.kind == "postgresql":
            from followup.store.postgres import PostgresStore

            assert isinstance(store, PostgresStore)
            return PostgresStore(store.url)
        return store

    def dispose(self, store: Store) -> None:
        store.close()
        if self.kind == "postgresql":
            from followup.store.postgres import PostgresStore

            assert isinstance(store, PostgresStore)
            drop_schema(store.url.removesuffix(NO_FLUSH))
