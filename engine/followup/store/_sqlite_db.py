"""One SQLite file opened for a ``SQLiteStore``: the connection and its settings, the
migrations, and the transactions every read and write runs in.

The store's records (``sqlite.py``) and its work queue (``_sqlite_work.py``) both run
their statements through it; sqlite3's errors become ``StoreError``s a person can act on.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from followup.errors import StoreError
from followup.store import _migrations

__all__ = ["SQLiteDatabase"]


class SQLiteDatabase:
    """One SQLite file, created (mode 0600) and opened in WAL mode; not yet migrated.

    ``timeout`` is how many seconds to wait for another process's write to finish before
    giving up with ``StoreError``. One lock lets threads share the one connection.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float) -> None:
        self.path = Path(path)
        self._timeout = timeout
        self._lock = threading.Lock()
        self.conn: sqlite3.Connection | None = None  # None once closed
        self._create_file()
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=timeout,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=64,
            )
        except sqlite3.Error as exc:
            raise self._error("opening", exc) from exc
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode survives a process crash; only power loss can drop the
            # last commits, and never corrupts the file.
            conn.execute("PRAGMA synchronous = NORMAL")
            # A checkpoint (copying the WAL back into the file, with an fsync) every
            # 10,000 pages instead of SQLite's 1,000: batches of commits run about 12%
            # faster (bench 2.4); the WAL grows to about 40 MB and is cut back to 64 MB
            # at most after each checkpoint.
            conn.execute("PRAGMA wal_autocheckpoint = 10000")
            conn.execute("PRAGMA journal_size_limit = 67108864")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {max(0, int(timeout * 1000))}")
        except sqlite3.Error as exc:
            conn.close()
            raise self._error("opening", exc) from exc
        self.conn = conn

    def _create_file(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StoreError(f"cannot create the database file {self.path}: {exc}") from exc

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks; return the versions applied."""
        with self._lock:
            conn = self._connection()
            try:
                return _migrations.apply_sqlite(conn, str(self.path))
            except sqlite3.Error as exc:
                raise self._error("migrating", exc) from exc

    def close(self) -> None:
        """Close the connection; unusable afterwards. Closing twice is fine."""
        with self._lock:
            if self.conn is not None:
                self.conn.close()
                self.conn = None

    def _connection(self) -> sqlite3.Connection:
        if self.conn is None:
            raise StoreError(f"the store on {self.path} is closed")
        return self.conn

    def _error(self, what: str, exc: sqlite3.Error) -> StoreError:
        if _migrations.is_busy(exc):
            return StoreError(
                f"{what} {self.path} failed: the file is in use by another process, which "
                f"held it locked for more than {self._timeout:g}s; try again, or stop the "
                "other process"
            )
        if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
            return StoreError(f"{what} {self.path} failed: it is not a SQLite database file")
        name = getattr(exc, "sqlite_errorname", "")
        if name == "SQLITE_FULL" or name == "SQLITE_IOERR_WRITE":
            # A full disk, or a file not allowed to grow (a quota, a file size limit):
            # SQLite says only "disk I/O error" for the second.
            return StoreError(
                f"{what} {self.path} failed: {exc}: the disk may be full or the file may not "
                f"grow any larger ({_free_space(self.path)}); make room and try again. "
                "What was committed before is kept; nothing of this attempt was written"
            )
        return StoreError(f"{what} {self.path} failed: {exc}")

    @contextmanager
    def reading(self, what: str, *, snapshot: bool = False) -> Iterator[sqlite3.Connection]:
        """The connection for reads; ``snapshot`` wraps them in one read transaction."""
        with self._lock:
            conn = self._connection()
            try:
                if snapshot:
                    conn.execute("BEGIN")
                try:
                    yield conn
                finally:
                    if conn.in_transaction:
                        conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._error(what, exc) from exc

    @contextmanager
    def writing(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed if the block ends well, else rolled back."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise self._error(what, exc) from exc


def _free_space(path: Path) -> str:
    """How much room the disk holding ``path`` has left, for a message."""
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return "the free space could not be read"
    if free >= 1 << 30:
        return f"{free / (1 << 30):.1f} GB free on its disk"
    return f"{free / (1 << 20):.1f} MB free on its disk"
