"""Where followup keeps its records: the narrow ``Store`` seam and its implementations."""

from __future__ import annotations

from followup.store._base import Store
from followup.store._migrations import migrations
from followup.store.memory import MemoryStore
from followup.store.sqlite import SQLiteStore

__all__ = ["MemoryStore", "SQLiteStore", "Store", "migrations", "open_store"]


def open_store(url: str, *, migrate: bool = False) -> Store:
    """Open a store from a URL: ``memory:``, ``sqlite:///relative/or/absolute/path.db``,
    a bare file path (SQLite), or ``postgresql://user@host:port/database`` (needs the
    ``postgresql`` extra). A SQLite file is created and migrated as needed; a PostgreSQL
    database is migrated only when ``migrate`` is true (else it must be up to date:
    ``followup migrate``)."""
    from followup.errors import InputError

    if url in ("memory:", "memory://"):
        return MemoryStore()
    if url.startswith(("postgresql://", "postgres://")):
        from followup.store.postgres import PostgresStore

        return PostgresStore(url, migrate=migrate)
    if url.startswith("sqlite:///"):
        return SQLiteStore(url[len("sqlite:///") :])
    if url.startswith("sqlite://"):
        raise InputError(f"bad store URL {url!r}: write sqlite:///PATH (three slashes)")
    if "://" in url:
        scheme = url.split("://", 1)[0]
        raise InputError(
            f"unknown store {scheme!r} in {url!r}: use sqlite:///PATH, a file path, "
            "postgresql://USER@HOST:PORT/DATABASE or memory:"
        )
    return SQLiteStore(url)
