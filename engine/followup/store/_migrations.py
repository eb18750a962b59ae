"""The SQL that ships with followup, per dialect: versioned migrations and named queries.

Under ``followup/store/sql/<dialect>/`` each ``NNNN_description.sql`` is one migration,
applied once, in version order, and recorded in the table ``schema_migrations(version,
name, applied_at)`` that the first migration creates (SQLite: each migration in its own
transaction; PostgreSQL: a whole run in one). Other
``.sql`` files hold named queries: blocks that each start with a ``-- name: NAME`` line.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, LiteralString, cast

from followup.errors import SchemaError
from followup.shipped import shipped

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    import psycopg

__all__ = [
    "PG_LOCK_SQL",
    "Migration",
    "apply_postgres",
    "apply_sqlite",
    "is_busy",
    "migrations",
    "pending_postgres",
    "pending_sqlite",
    "queries",
    "sql_dir",
]

_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_QUERY_NAME = re.compile(r"^--\s*name:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
# Held for the whole of a PostgreSQL migration run, so that of two `followup migrate` (or
# two workers opening with migrate=True) one applies everything and the other nothing.
# One lock per schema (a hash of its name beside a constant): the stores of other
# schemas in the same database (one per tenant, or per test) do not wait for each other.
_PG_LOCK = 0x666F6C6C  # "foll"
PG_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s, hashtext(coalesce(current_schema(), '')))"
_UPGRADE = "upgrade followup (pip install --upgrade followup-engine) or use another file"


@dataclass(frozen=True)
class Migration:
    """One schema step: ``0001_initial.sql`` is version 1, name ``initial``."""

    version: int
    name: str
    sql: str

    @property
    def file(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"


def sql_dir(dialect: str) -> Traversable:
    """The folder of a dialect's SQL inside the installed package."""
    return shipped("followup.store", "sql", dialect)


@cache
def migrations(dialect: str) -> tuple[Migration, ...]:
    """A dialect's migrations in version order; versions run 1, 2, 3 ... without gaps."""
    found = sorted(
        (
            Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8"))
            for entry in sql_dir(dialect).iterdir()
            if (match := _MIGRATION_FILE.match(entry.name))
        ),
        key=lambda m: m.version,
    )
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise SchemaError(
            f"the {dialect} migrations shipped with followup are numbered {versions}; "
            "they must run 1, 2, 3 ... without gaps or repeats (a broken installation?)"
        )
    return tuple(found)


@cache
def queries(dialect: str, file: str = "queries.sql") -> dict[str, LiteralString]:
    """The named queries in one of a dialect's files, by name (``LiteralString``: text
    that ships with followup, never built from input, as psycopg asks of a query)."""
    found: dict[str, list[str]] = {}
    lines: list[str] | None = None
    for line in (sql_dir(dialect) / file).read_text(encoding="utf-8").splitlines():
        if match := _QUERY_NAME.match(line):
            name = match[1]
            if name in found:
                raise SchemaError(f"query {name!r} is defined twice in {dialect}/{file}")
            lines = found[name] = []
        elif lines is not None and line.strip() and not line.lstrip().startswith("--"):
            lines.append(line.rstrip())
    # mypy reads LiteralString as str, so to it this cast is redundant; pyright needs it.
    return {name: cast(LiteralString, "\n".join(body).rstrip(";"))  # type: ignore[redundant-cast]
            for name, body in found.items()}


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` says the database is locked by another connection."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def apply_sqlite(conn: sqlite3.Connection, where: str) -> list[int]:
    """Bring the SQLite database on ``conn`` up to date; return the versions applied.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Raises
    ``SchemaError`` if the database is newer than this code or not followup's, and lets
    ``sqlite3.Error`` through when the database is busy or cannot be read.
    """
    known = migrations("sqlite")
    recorded = _recorded(conn, where)
    _check(recorded, known, where)
    applied: list[int] = []
    for migration in known:
        if migration.version in recorded:
            continue
        # executescript commits any open transaction first, so the script carries its own.
        script = (
            f"BEGIN IMMEDIATE;\n{migration.sql.rstrip()}\n;\n"
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES "
            f"({migration.version}, '{migration.name}', "
            "strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'));\n"
            "COMMIT;"
        )
        try:
            conn.executescript(script)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if is_busy(exc):
                raise
            if _recorded(conn, where).get(migration.version) == migration.name:
                continue  # another process applied it while we waited for the lock
            raise SchemaError(f"migration {migration.file} failed on {where}: {exc}") from exc
        applied.append(migration.version)
    return applied


def pending_sqlite(conn: sqlite3.Connection, where: str) -> list[int]:
    """The versions a SQLite database lacks, found without writing (a read-only file).

    Raises ``SchemaError`` if the database is newer than this code or not followup's."""
    known = migrations("sqlite")
    recorded = _recorded(conn, where)
    _check(recorded, known, where)
    return [m.version for m in known if m.version not in recorded]


def _recorded(conn: sqlite3.Connection, where: str) -> dict[int, str]:
    """The migrations a database says it has, by version."""
    tables = {
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    if "schema_migrations" in tables:
        return dict(conn.execute("SELECT version, name FROM schema_migrations"))
    if tables:
        raise SchemaError(
            f"{where} has tables ({', '.join(sorted(tables))}) but no schema_migrations: "
            "it is not a followup database; point followup at a new file"
        )
    return {}


def _check(recorded: dict[int, str], known: tuple[Migration, ...], where: str) -> None:
    """Refuse a database this code does not understand."""
    if not recorded:
        return
    newest = max(recorded)
    if newest > len(known):
        raise SchemaError(
            f"{where} has schema version {newest}, but this followup knows versions up to "
            f"{len(known)}: it was written by a newer followup; {_UPGRADE}"
        )
    if sorted(recorded) != list(range(1, newest + 1)):
        raise SchemaError(
            f"{where} records schema versions {sorted(recorded)} with gaps; "
            "the database was changed by hand or is damaged"
        )
    for version, name in recorded.items():
        if known[version - 1].name != name:
            raise SchemaError(
                f"{where} records migration {version} as {name!r}, but this followup's "
                f"migration {version} is {known[version - 1].file}: the database comes "
                f"from a different build of followup; {_UPGRADE}"
            )


def pending_postgres(conn: psycopg.Connection[Any], where: str) -> list[int]:
    """The versions a PostgreSQL database lacks (all of them for an empty one).

    Raises ``SchemaError`` if the database is newer than this code or not followup's."""
    known = migrations("postgresql")
    recorded = _recorded_postgres(conn, where)
    _check(recorded, known, where)
    return [m.version for m in known if m.version not in recorded]


def apply_postgres(conn: psycopg.Connection[Any], where: str) -> list[int]:
    """Bring the PostgreSQL database on ``conn`` (autocommit) up to date; return the
    versions applied.

    The whole run is one transaction under one advisory lock: of several migrators at
    once, the first to take the lock applies every pending migration, and the others,
    once it commits, find nothing left to do. PostgreSQL's DDL is transactional, so a
    run cut off halfway (or a migration that fails) leaves nothing behind: the database
    keeps the version it had."""
    known = migrations("postgresql")
    with conn.transaction():
        # Taken before anything is read: the records read next are those of the
        # migrator that held the lock before us, if any.
        conn.execute(PG_LOCK_SQL, (_PG_LOCK,))
        recorded = _recorded_postgres(conn, where)
        _check(recorded, known, where)
        pending = [m for m in known if m.version not in recorded]
        for migration in pending:
            conn.execute(migration.sql.encode("utf-8"))
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
    return [m.version for m in pending]


def _recorded_postgres(conn: psycopg.Connection[Any], where: str) -> dict[int, str]:
    """The migrations a PostgreSQL database says it has, by version (its current schema:
    the first one on the search path)."""
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if row is not None and row[0]:
        return {int(v): str(n) for v, n in
                conn.execute("SELECT version, name FROM schema_migrations")}
    tables = [name for (name,) in conn.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() ORDER BY table_name")]
    if tables:
        raise SchemaError(
            f"{where} has tables ({', '.join(tables)}) but no schema_migrations: it is not a "
            "followup database; use another database or schema (?options=-csearch_path%3DNAME)"
        )
    return {}
