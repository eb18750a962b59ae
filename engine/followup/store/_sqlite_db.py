"""One SQLite file opened for a ``SQLiteStore``: the connection and its settings, the
migrations, and the transactions every read and write runs in.

The store's records (``sqlite.py``) and its work queue (``_sqlite_work.py``) both run
their statements through it; sqlite3's errors become ``StoreError``s a person can act on.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from types import TracebackType
from typing import Literal
from urllib.parse import quote

from followup.errors import InputError, StoreError
from followup.store import _migrations
from followup.store._codec import not_text

__all__ = ["SQLiteDatabase", "Synchronous"]


Synchronous = Literal["normal", "full"]


class SQLiteDatabase:
    """One SQLite file, created (mode 0600) and opened in WAL mode; not yet migrated.

    ``timeout`` is how many seconds to wait for another process's write to finish before
    giving up with ``StoreError``. One lock lets threads share the one connection.
    ``synchronous`` is SQLite's setting of that name: ``"normal"`` (the default) survives
    a crash of the process or of the operating system's processes, but a power loss may
    drop the last commits (never corrupt the file); ``"full"`` syncs the log to disk at
    every commit, so a power loss drops nothing committed, at a cost per commit
    (docs/cli.md, bench/durability.py). A file that cannot be written (no write
    permission: mode 0444, say) is opened read-only: it can be read, and every write is
    a ``StoreError`` that says so.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float,
                 synchronous: Synchronous = "normal") -> None:
        self.path = Path(path)
        self._timeout = timeout
        self._lock = threading.Lock()
        self.conn: sqlite3.Connection | None = None  # None once closed
        if synchronous not in ("normal", "full"):
            raise InputError(f"synchronous={synchronous!r}: choose 'normal' or 'full'")
        self.read_only = self._create_file()
        conn = self._open()
        try:
            if not self.read_only:
                conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode survives a process crash; only power loss can drop the
            # last commits, and never corrupts the file. FULL syncs at every commit.
            conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
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

    def _open(self) -> sqlite3.Connection:
        """The connection: read-write, or read-only for a file that cannot be written.
        A read-only WAL database needs its ``-shm`` file, which SQLite cannot make in a
        folder it may not write; then, if no log waits to be copied back, the file is
        read as it is (``immutable``)."""
        def connect(target: str | Path, uri: bool = False) -> sqlite3.Connection:
            return sqlite3.connect(target, timeout=self._timeout, isolation_level=None,
                                   check_same_thread=False, cached_statements=64, uri=uri)

        try:
            if not self.read_only:
                return connect(self.path)
            uri = f"file:{quote(str(self.path.absolute()))}?mode=ro"
            conn = connect(uri, uri=True)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.Error:
                conn.close()
                wal = Path(f"{self.path}-wal")
                if wal.exists() and wal.stat().st_size > 0:
                    raise
            return connect(f"{uri}&immutable=1", uri=True)
        except sqlite3.Error as exc:
            raise self._error("opening", exc) from exc

    def _create_file(self) -> bool:
        """Make the file (and its folder, mode 0700) if it is missing; whether it can
        only be read."""
        if self.path.exists() and (not os.access(self.path, os.W_OK)
                                   or not self.path.stat().st_mode & 0o222):
            return True  # root may write anything: the mode bits say what is meant
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StoreError(f"cannot create the database file {self.path}: {exc}") from exc
        return False

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks; return the versions applied. A
        read-only file that lacks some is a ``StoreError``: it cannot be brought up to
        date."""
        with self._lock:
            conn = self._connection()
            try:
                if self.read_only:
                    missing = _migrations.pending_sqlite(conn, str(self.path))
                    if missing:
                        raise StoreError(
                            f"{self.path} is read-only and lacks schema migrations "
                            f"{missing}: make it writable (chmod u+w) and open it once, so "
                            "that followup brings it up to date")
                    return []
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
        if name.startswith("SQLITE_READONLY"):
            return StoreError(
                f"{what} {self.path} failed: the store is read-only (its file or its folder "
                "may not be written); it can be read, but to change it make it writable "
                "(chmod u+w)")
        if name == "SQLITE_FULL" or name == "SQLITE_IOERR_WRITE":
            # A full disk, or a file not allowed to grow (a quota, a file size limit):
            # SQLite says only "disk I/O error" for the second.
            return StoreError(
                f"{what} {self.path} failed: {exc}: the disk may be full or the file may not "
                f"grow any larger ({_free_space(self.path)}); make room and try again. "
                "What was committed before is kept; nothing of this attempt was written"
            )
        return StoreError(f"{what} {self.path} failed: {exc}")

    def reading(self, what: str, *, snapshot: bool = False) -> _Held:
        """The connection for reads (``with db.reading(...) as conn``); ``snapshot``
        wraps them in one read transaction."""
        return _Held(self, what, "BEGIN" if snapshot else None)

    def writing(self, what: str) -> _Held:
        """One write transaction (``with db.writing(...) as conn``): committed if the
        block ends well, else rolled back."""
        return _Held(self, what, "BEGIN IMMEDIATE")


class _Held:
    """The connection held under the database's lock for one ``with`` block, in a
    transaction begun by ``begin`` (none for plain reads); sqlite3's errors become
    ``StoreError``s. A class, not a generator, as every store call runs through one."""

    __slots__ = ("_begin", "_conn", "_db", "_what")

    def __init__(self, db: SQLiteDatabase, what: str, begin: str | None) -> None:
        self._db = db
        self._what = what
        self._begin = begin

    def __enter__(self) -> sqlite3.Connection:
        db = self._db
        db._lock.acquire()
        try:
            conn = self._conn = db._connection()
            if self._begin is not None:
                conn.execute(self._begin)
        except sqlite3.Error as exc:
            db._lock.release()
            raise db._error(self._what, exc) from exc
        except BaseException:
            db._lock.release()
            raise
        return conn

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 trace: TracebackType | None) -> None:
        db, conn = self._db, self._conn
        try:
            try:
                writes = self._begin == "BEGIN IMMEDIATE"
                if writes and exc is None:
                    conn.execute("COMMIT")
                elif conn.in_transaction:  # a write that failed, or the end of a read
                    conn.execute("ROLLBACK" if writes else "COMMIT")
            except sqlite3.Error as failed:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise db._error(self._what, failed) from failed
            if isinstance(exc, sqlite3.Error):
                raise db._error(self._what, exc) from exc
            if isinstance(exc, UnicodeEncodeError):
                raise not_text(exc) from exc
        finally:
            db._lock.release()


def _free_space(path: Path) -> str:
    """How much room the disk holding ``path`` has left, for a message."""
    import shutil

    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return "the free space could not be read"
    if free >= 1 << 30:
        return f"{free / (1 << 30):.1f} GB free on its disk"
    return f"{free / (1 << 20):.1f} MB free on its disk"
