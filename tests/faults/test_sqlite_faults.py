"""Faults of the SQLite store, each in a real process on a real file: killed during a
migration, the file locked by another process, the disk full. Afterwards the store opens
at a consistent schema version, the error says what happened, and nothing committed is
lost."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from followup import SQLiteStore
from followup.store._migrations import migrations

LATEST = len(migrations("sqlite"))

KILLED_IN_MIGRATION = textwrap.dedent(
    """
    import os, signal, sqlite3, sys
    from followup.store import _migrations
    from followup import SQLiteStore

    version = int(sys.argv[2])
    real = _migrations.migrations("sqlite")
    # Migration VERSION dies after its own statements ran, before its COMMIT.
    patched = tuple(
        m if m.version != version else _migrations.Migration(
            m.version, m.name, m.sql.rstrip().rstrip(";") + ";\\nSELECT die();")
        for m in real)
    _migrations.migrations = lambda dialect: patched

    connect = sqlite3.connect
    def dying_connect(*args, **kwargs):
        conn = connect(*args, **kwargs)
        conn.create_function("die", 0, lambda: os.kill(os.getpid(), signal.SIGKILL))
        return conn
    sqlite3.connect = dying_connect
    SQLiteStore(sys.argv[1])
    print("not reached")
    """
)


def _versions(db: Path) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "schema_migrations" not in tables:
            assert tables == set(), tables  # nothing half made
            return []
        return sorted(v for (v,) in conn.execute("SELECT version FROM schema_migrations"))
    finally:
        conn.close()


@pytest.mark.parametrize("version", range(1, LATEST + 1))
def test_killed_during_a_migration_the_store_opens_at_a_consistent_version(
    tmp_path: Path, version: int
) -> None:
    db = tmp_path / "f.db"
    if version > 1:  # an older followup made the file: versions before this one
        conn = sqlite3.connect(db, isolation_level=None)
        for m in migrations("sqlite")[: version - 1]:
            conn.executescript(f"BEGIN;\n{m.sql}\n;INSERT INTO schema_migrations VALUES "
                               f"({m.version}, '{m.name}', '2026-01-01T00:00:00Z');COMMIT;")
        conn.close()
    killed = subprocess.run([sys.executable, "-c", KILLED_IN_MIGRATION, str(db), str(version)],
                            capture_output=True, text=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert "not reached" not in killed.stdout
    # The migration that died left nothing behind: the file is at the version before it.
    assert _versions(db) == list(range(1, version))
    with SQLiteStore(db) as store:
        assert store.migrate() == []  # opening applied the rest
    assert _versions(db) == list(range(1, LATEST + 1))
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        columns = [row[1] for row in conn.execute("PRAGMA table_info(owners)")]
        assert columns.count("channels") == 1
    finally:
        conn.close()


HOLD_LOCK = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    conn.execute("ROLLBACK")
    """
)


def _followup() -> list[str]:
    script = Path(sys.executable).parent / "followup"
    return [str(script)] if script.exists() else [sys.executable, "-m", "followup.cli"]


def test_a_file_locked_by_another_process_is_a_clear_error_and_changes_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "f.db"
    env = {"FOLLOWUP_OWNER": "ada", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    init = subprocess.run([*_followup(), "--db", str(db), "init", "--timezone", "UTC"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert init.returncode == 0, init.stderr
    before = db.read_bytes()
    with subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline() == "locked\n"
        added = subprocess.run(
            [*_followup(), "--db", str(db), "add", "--company", "Acme", "--role", "Engineer",
             "--interviewed", "2027-01-04T10:00"],
            capture_output=True, text=True, timeout=60, env=env)
        holder.stdin.close()
        holder.wait(timeout=60)
    assert added.returncode == 3, (added.stdout, added.stderr)
    assert "in use by another process" in added.stderr
    assert "Traceback" not in added.stderr
    assert db.read_bytes() == before
    with SQLiteStore(db) as store:
        assert store.applications() == []


DISK_FULL = textwrap.dedent(
    """
    import resource, signal, sys
    from datetime import UTC, datetime
    from followup import Contact, Engine, FakeClock, SQLiteStore, StoreError

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
    store = SQLiteStore(sys.argv[1])
    engine = Engine(store=store, clock=FakeClock(datetime(2027, 1, 4, 15, tzinfo=UTC)),
                    channels=[])
    engine.set_owner("ada", timezone="UTC")
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    for i in range(100_000):
        try:
            app = engine.add_application(
                owner="ada", company=f"Company {i}", role="Engineer",
                facts={"interviewed_at": "2027-01-04T10:00", "why_me": "x" * 500},
                contacts=[Contact(f"Person {i}", "interviewer")])
        except StoreError as exc:
            print("error", exc, flush=True)
            break
        print("committed", app.id, flush=True)
    else:
        print("the disk never filled")
    """
)


def test_a_full_disk_is_a_store_error_and_loses_nothing_committed(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    SQLiteStore(db).close()
    limit = 192 * 1024
    full = subprocess.run([sys.executable, "-c", DISK_FULL, str(db), str(limit)],
                          capture_output=True, text=True, timeout=120)
    assert full.returncode == 0, full.stderr
    lines = full.stdout.splitlines()
    committed = [line.split()[1] for line in lines if line.startswith("committed ")]
    [error] = [line for line in lines if line.startswith("error ")]
    assert committed, full.stdout
    assert str(db) in error and "failed" in error  # says which file and that it failed
    assert "the disk may be full or the file may not grow any larger" in error, error
    assert "free on its disk" in error and "nothing of this attempt was written" in error, error
    with SQLiteStore(db) as store:
        assert {a.id for a in store.applications()} == set(committed)
        for app_id in committed:
            record = store.load(app_id)
            assert record.history and record.history[0].kind == "created"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
    assert os.path.getsize(db) > 0
