"""Where followup keeps its records: the narrow ``Store`` seam and its implementations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from followup.store._base import Store, listing, offers
from followup.store._calendar import CalendarEntry
from followup.store._migrations import migrations
from followup.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from followup.store.memory import MemoryStore

__all__ = ["CalendarEntry", "MemoryStore", "SQLiteStore", "Store", "listing", "migrations",
           "offers", "open_store"]


def __getattr__(name: str) -> Any:
    """``MemoryStore``, imported when first asked for: a command on a SQLite store
    never needs it."""
    if name == "MemoryStore":
        from followup.store.memory import MemoryStore

        return MemoryStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(url: str, *, migrate: bool = False) -> Store:
    """Open a store from a URL: ``memory:``, ``sqlite:///relative/or/absolute/path.db``,
    a bare file path (SQLite; a ``sqlite:///`` URL may end in ``?synchronous=full``: see
    ``SQLiteStore``), or ``postgresql://user@host:port/database`` (needs the
    ``postgresql`` extra). A SQLite file is created and migrated as needed; a PostgreSQL
    database is migrated only when ``migrate`` is true (else it must be up to date:
    ``followup migrate``)."""
    from followup.errors import InputError

    if url in ("memory:", "memory://"):
        from followup.store.memory import MemoryStore

        return MemoryStore()
    if url.startswith(("postgresql://", "postgres://")):
        from followup.store.postgres import PostgresStore

        return PostgresStore(url, migrate=migrate)
    if url.startswith("sqlite:///"):
        path, _, query = url[len("sqlite:///") :].partition("?")
        return SQLiteStore(path, synchronous=_synchronous(url, query))
    if url.startswith("sqlite://"):
        raise InputError(f"bad store URL {url!r}: write sqlite:///PATH (three slashes)")
    if "://" in url:
        scheme = url.split("://", 1)[0]
        raise InputError(  # not the whole URL: it may hold a password
            f"unknown store {scheme!r}: use sqlite:///PATH, a file path, "
            "postgresql://USER@HOST:PORT/DATABASE or memory:"
        )
    return SQLiteStore(url)


def _synchronous(url: str, query: str) -> Literal["normal", "full"]:
    """The one option a SQLite URL takes: ``?synchronous=normal`` (the default) or
    ``?synchronous=full``."""
    from urllib.parse import parse_qsl

    from followup.errors import InputError

    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - {"synchronous"})
    value = options.get("synchronous", "normal").lower()
    if unknown or value not in ("normal", "full"):
        raise InputError(f"bad store URL {url!r}: a SQLite URL takes only ?synchronous=normal "
                         "(the default) or ?synchronous=full")
    return "full" if value == "full" else "normal"
