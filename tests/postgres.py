"""The PostgreSQL server the tests use, and a fresh schema per test.

The server is ``FOLLOWUP_TEST_POSTGRES`` (default: postgresql://postgres@127.0.0.1:5432/test,
trust authentication). In CI (``CI=true``, or ``FOLLOWUP_REQUIRE_POSTGRES=1``) a missing
server fails the tests that need it; on a machine without PostgreSQL they are skipped with
the reason.
"""

from __future__ import annotations

import os
import secrets
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pytest

from followup.store import Store

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    return os.environ.get("FOLLOWUP_TEST_POSTGRES", DEFAULT_URL)


def required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("FOLLOWUP_REQUIRE_POSTGRES") == "1"


@cache
def _unreachable() -> str | None:
    """Why the server cannot be used, or None when it can."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'followup-engine[postgresql]')"
    try:
        with psycopg.connect(server_url(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL at {server_url()}: {str(exc).strip().splitlines()[0]}"
    return None


def need_server() -> str:
    """The server's URL; skips the test (fails it in CI) when there is none."""
    reason = _unreachable()
    if reason is not None:
        if required():
            pytest.fail(f"PostgreSQL is required here (CI): {reason}")
        pytest.skip(reason)
    return server_url()


def with_schema(url: str, schema: str) -> str:
    """``url`` with its search path set to ``schema``."""
    glue = "&" if "?" in url else "?"
    return f"{url}{glue}options={quote(f'-csearch_path={schema}')}"


def new_schema() -> str:
    """A new, empty schema on the server; returns a URL that uses it."""
    import psycopg

    url = need_server()
    name = f"followup_test_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    return with_schema(url, name)


def drop_schema(schema_url: str) -> None:
    import psycopg

    name = schema_url.rsplit("search_path%3D", 1)[1]
    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def postgres_store(tmp_path: Path) -> Store:
    """A migrated PostgresStore on a schema of its own, dropped when the store closes."""
    from followup.store.postgres import PostgresStore

    url = new_schema()

    class TestStore(PostgresStore):
        def close(self) -> None:
            super().close()
            drop_schema(url)

    return TestStore(url, migrate=True)
