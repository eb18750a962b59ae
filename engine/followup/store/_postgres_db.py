"""The connections of a ``PostgresStore``: one that runs every transaction (again, when
PostgreSQL aborted it to break a deadlock), and one, opened when first needed, that
listens for new work.

The store's records (``postgres.py``) and its work queue (``_postgres_work.py``) both run
their statements through it; psycopg's errors become ``StoreError``s a person can act on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from followup.errors import StoreError
from followup.store import _migrations
from followup.store._codec import not_text
from followup.store._postgres_driver import _driver, _first_line, check_url, describe

if TYPE_CHECKING:
    import psycopg

__all__ = ["CHANNEL", "PostgresDatabase"]

_T = TypeVar("_T")
_RETRIES = 5  # a transaction PostgreSQL aborted to break a deadlock is run again
CHANNEL = "followup_work"  # what LISTEN/NOTIFY wakes workers on


class PostgresDatabase:
    """A PostgreSQL database, connected to at once; ``where`` names it in messages
    (never with the password). ``timeout``: seconds to wait for the server when
    connecting. One lock lets threads share the one connection for transactions."""

    def __init__(self, url: str, *, timeout: float) -> None:
        check_url(url)
        self.url = url
        self.where = describe(url)
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = self._connect(timeout)
        self._listener: psycopg.Connection[Any] | None = None
        self._schema: str | None = None  # the listener's schema: whose notices wake it
        self._timeout = timeout

    def _connect(self, timeout: float) -> psycopg.Connection[Any]:
        pg = _driver()
        try:
            conn = pg.connect(self.url, autocommit=True,
                                   connect_timeout=max(1, round(timeout)))
            conn.execute("SET TIME ZONE 'UTC'")
        except pg.Error as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL at {self.where}: {_first_line(exc)}; is the "
                "server running, and are the host, port, user and database in the URL right?"
            ) from exc
        return cast("psycopg.Connection[Any]", conn)

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks; return the versions applied."""
        with self._lock:
            conn = self._connection()
            try:
                return _migrations.apply_postgres(conn, self.where)
            except _driver().Error as exc:
                raise StoreError(f"migrating {self.where} failed: {_first_line(exc)}") from exc

    def check_schema(self) -> None:
        """Refuse a database that lacks migrations, saying how to apply them."""
        with self._lock:
            conn = self._connection()
            try:
                missing = _migrations.pending_postgres(conn, self.where)
            except _driver().Error as exc:
                raise StoreError(f"reading {self.where} failed: {_first_line(exc)}") from exc
        if missing:
            raise StoreError(
                f"{self.where} lacks schema migrations {missing}: run  followup migrate "
                "--db URL  once (it is safe while workers run), then start again"
            )

    def close(self) -> None:
        """Close the connections; unusable afterwards. Closing twice is fine."""
        with self._lock:
            for conn in (self._conn, self._listener):
                if conn is not None:
                    conn.close()
            self._conn = self._listener = None

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            raise StoreError(f"the store on {self.where} is closed")
        return self._conn

    def run(self, what: str, work: Callable[[psycopg.Cursor[Any]], _T], *,
            snapshot: bool = False) -> _T:
        """``work`` in one transaction, run again if PostgreSQL broke a deadlock or a
        serialization conflict by aborting it; driver errors become ``StoreError``."""
        pg = _driver()
        for attempt in range(_RETRIES):
            with self._lock:
                conn = self._connection()
                try:
                    with conn.transaction(), conn.cursor() as cur:
                        if snapshot:  # several reads that must see one state
                            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, "
                                        "READ ONLY")
                        return work(cur)
                except (pg.errors.DeadlockDetected,
                        pg.errors.SerializationFailure) as exc:
                    if attempt == _RETRIES - 1:
                        raise StoreError(f"{what} {self.where} failed: {_first_line(exc)}") \
                            from exc
                except pg.OperationalError as exc:
                    raise StoreError(
                        f"{what} {self.where} failed: {_first_line(exc)} (the connection to "
                        "the server was lost; try again)") from exc
                except pg.Error as exc:
                    raise StoreError(f"{what} {self.where} failed: {_first_line(exc)}") from exc
                except UnicodeEncodeError as exc:
                    raise not_text(exc) from exc
            time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def read(self, what: str, work: Callable[[psycopg.Cursor[Any]], _T], *,
             snapshot: bool = False) -> _T:
        """Reads; with ``snapshot``, all of them see the database as of one moment."""
        return self.run(what, work, snapshot=snapshot)

    # -- waking workers ---------------------------------------------------------------

    def wait_for_work(self, timeout: float) -> bool:
        """Block until a commit announces new work (NOTIFY) or ``timeout`` seconds
        pass; True if woken. The first call starts listening on its own connection."""
        pg = _driver()
        try:
            listener = self._listener
            if listener is None:
                listener = self._listener = pg.connect(
                    self.url, autocommit=True, connect_timeout=max(1, round(self._timeout)))
                row = listener.execute("SELECT current_schema()").fetchone()
                self._schema = row[0] if row else None
                listener.execute(f"LISTEN {CHANNEL}")
            deadline = time.monotonic() + timeout
            while True:  # notices from stores in other schemas do not count
                left = max(0.0, deadline - time.monotonic())
                payloads = [n.payload for n in listener.notifies(timeout=left, stop_after=1)]
                if self._schema in payloads:
                    break
                if not payloads or left == 0.0:
                    return False
            # Take every other notice already queued: one pass serves them all.
            for _ in listener.notifies(timeout=0.0):
                pass
            return True
        except pg.Error as exc:
            if self._listener is not None:
                self._listener.close()
            self._listener = None
            raise StoreError(f"listening on {self.where} failed: {_first_line(exc)}") from exc
