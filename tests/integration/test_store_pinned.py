"""What the store room's mutation run (bench/mutation/store.md) found the other tests did
not pin down: each test here fails for a change to the stores that no other test saw.
Real SQLite files and the real PostgreSQL server, through the public store API."""

from __future__ import annotations

import inspect
import re
import shutil
import sqlite3
import threading
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from followup.errors import InputError, SchemaError, StoreError
from followup.model import Change, Owner, replaced
from followup.store import MemoryStore, SQLiteStore, Store, migrations, open_store
from followup.store.postgres import PostgresStore
from tests.integration.test_store_contract import (
    T0,
    application,
    create,
    entry,
    notification,
    timer,
    update,
)
from tests.postgres import drop_schema, new_schema

STORES = (MemoryStore, SQLiteStore, PostgresStore)


def _shape(method: object) -> list[tuple[str, object, object]]:
    """A method's parameters as a caller sees them: name, kind, default."""
    assert callable(method)
    return [(p.name, p.kind, p.default) for p in inspect.signature(method).parameters.values()]


# -- the seam: every store takes the same arguments the same way --------------------------


@pytest.mark.parametrize("kind", STORES, ids=lambda k: k.__name__)
def test_each_store_takes_every_argument_as_the_seam_declares_it(kind: type) -> None:
    """Names, keyword-only markers and defaults of every method of ``Store`` (and of
    ``mark_delivered_many`` and ``load_many``, which ``Store``'s docstring describes) are
    the same on each store: a caller written against the seam works on any of them."""
    declared = [name for name, value in vars(Store).items()
                if callable(value) and not name.startswith("_")]
    assert len(declared) >= 30  # the seam as it is now, or more
    for name in declared:
        assert _shape(getattr(kind, name)) == _shape(getattr(Store, name)), name
    keyword = inspect.Parameter.KEYWORD_ONLY
    assert [(n, k) for n, k, _ in _shape(kind.mark_delivered_many)][1:] == [
        ("rows", inspect.Parameter.POSITIONAL_OR_KEYWORD), ("at", keyword)]
    assert _shape(kind.load_many)[1:] == [
        ("application_ids", inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty),
        ("owner", keyword, None)]


def test_the_seam_declares_its_options_keyword_only_with_these_defaults() -> None:
    """What the seam's docstrings promise: options are keyword-only; the limits default
    to 1,000 due timers and 100 outbox rows or claims; listings leave archived
    applications out."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    options = {name: {p: (kind, default) for p, kind, default in _shape(value)[1:]
                      if kind is keyword}
               for name, value in vars(Store).items()
               if callable(value) and not name.startswith("_")}
    assert options["due_timers"] == {"limit": (keyword, 1000)}
    assert options["pending_deliveries"] == {"limit": (keyword, 100)}
    for name in ("claim_due_timers", "claim_deliveries"):
        assert options[name]["limit"] == (keyword, 100)
    for name in ("applications", "count_applications"):
        assert options[name]["archived"] == (keyword, False)
    assert options["publish_calendar"] == {"now": (keyword, inspect.Parameter.empty),
                                           "keep": (keyword, inspect.Parameter.empty)}

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


# -- the outbox ---------------------------------------------------------------------------


def test_retrying_one_dead_key_retries_that_key_only(store: Store) -> None:
    app = create(store)
    update(store, app, notifications=tuple(notification(k) for k in ("n-1", "n-2", "n-3")))
    for key in ("n-1", "n-2", "n-3"):
        store.mark_failed(key, "console", error="boom", next_attempt_at=None, dead=True)
    assert store.retry_dead(key="n-2") == 1
    assert [d.notification.key for d in store.pending_deliveries(T0)] == ["n-2"]
    assert [d.notification.key for d in store.deliveries(status="dead")] == ["n-1", "n-3"]


# -- data as JSON reads it back -----------------------------------------------------------


def test_data_comes_back_as_json_reads_it_on_every_store(store: Store) -> None:
    """A tuple in the data of a history entry or a notification comes back a list, and a
    number used as a key comes back text, from every store (the in-memory store too,
    which keeps the data it is given only when JSON would read it back unchanged)."""
    data = {"pair": (1, 2), 3: "three", "nested": {"inner": (True, None)}}
    as_read = {"pair": [1, 2], "3": "three", "nested": {"inner": [True, None]}}
    app = create(store)
    update(store, app, history=(entry("a1", 1, data=data),),
           notifications=(replaced(notification("n-1"), data=data),))
    [_, kept] = store.history("a1")
    [delivery] = store.deliveries()
    for read in (kept.data, delivery.notification.data):
        assert read == as_read
        assert type(read["pair"]) is not tuple and type(read["nested"]["inner"]) is not tuple


# -- PostgreSQL: a transaction the server aborts is run again -----------------------------


def _aborting_owners(url: str, errcode: str, times: int) -> None:
    """Make the server abort the first ``times`` writes of an owner with ``errcode``, as
    it aborts a transaction to break a deadlock or a serialization conflict; the
    sequence ``tries`` counts the attempts (a sequence is not rolled back)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("CREATE SEQUENCE tries")
        admin.execute(sql.SQL("""
            CREATE FUNCTION abort_owner() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('tries') <= {times} THEN
                    RAISE EXCEPTION 'aborted by the test' USING ERRCODE = {errcode};
                END IF;
                RETURN NEW;
            END $$""").format(times=sql.Literal(times), errcode=sql.Literal(errcode)))
        admin.execute("CREATE TRIGGER abort_owner BEFORE INSERT OR UPDATE ON owners "
                      "FOR EACH ROW EXECUTE FUNCTION abort_owner()")


def _tries(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        row = admin.execute("SELECT last_value FROM tries").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("errcode", ["serialization_failure", "deadlock_detected"])
def test_an_aborted_transaction_is_run_again_until_it_passes(empty_url: str, errcode: str) -> None:
    with PostgresStore(empty_url, migrate=True) as store:
        _aborting_owners(empty_url, errcode, times=4)
        store.put_owner(Owner("ada", "Europe/Paris"))
        assert _tries(empty_url) == 5
        assert store.get_owner("ada") == Owner("ada", "Europe/Paris")


@pytest.mark.parametrize("errcode", ["serialization_failure", "deadlock_detected"])
def test_a_transaction_aborted_five_times_is_a_store_error_and_writes_nothing(
        empty_url: str, errcode: str) -> None:
    with PostgresStore(empty_url, migrate=True) as store:
        _aborting_owners(empty_url, errcode, times=5)
        with pytest.raises(StoreError, match=r"^saving an owner to postgresql://\S+ failed: "
                           r"aborted by the test$"):
            store.put_owner(Owner("ada"))
        assert _tries(empty_url) == 5
        assert store.get_owner("ada") is None
        store.put_owner(Owner("ada"))  # the sixth try passes: the store is still usable
        assert store.get_owner("ada") == Owner("ada")


# -- migrations: a database whose record of them is damaged -------------------------------


def _record(path: Path, sql: str, *params: object) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute(sql, params)


def test_a_database_that_records_its_migrations_with_a_gap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "followup.db"
    with SQLiteStore(path):
        pass
    newest = len(migrations("sqlite"))
    _record(path, "DELETE FROM schema_migrations WHERE version = 2")
    left = [1, *range(3, newest + 1)]
    with pytest.raises(SchemaError, match=rf"records schema versions {re.escape(str(left))} "
                       "with gaps; the database was changed by hand or is damaged"):
        SQLiteStore(path)


def test_a_database_that_records_a_version_0_is_refused(tmp_path: Path) -> None:
    """Versions run from 1: a row 0 is damage, even one that names a migration."""
    path = tmp_path / "followup.db"
    with SQLiteStore(path):
        pass
    known = migrations("sqlite")
    _record(path, "INSERT INTO schema_migrations VALUES (0, ?, '2026-01-01T00:00:00.000000Z')",
            known[-1].name)
    recorded = list(range(len(known) + 1))
    with pytest.raises(SchemaError, match=rf"records schema versions "
                       rf"{re.escape(str(recorded))} with gaps"):
        SQLiteStore(path)


# -- SQLite: how much room the disk has, in a full disk's message -------------------------


@pytest.mark.parametrize(("free", "shown"), [
    ((1 << 30) + (1 << 29), "1.5 GB free on its disk"),
    (1 << 30, "1.0 GB free on its disk"),
    ((1 << 30) - (1 << 20), "1023.0 MB free on its disk"),
    (5 << 20, "5.0 MB free on its disk"),
])
def test_the_free_space_is_shown_in_gb_from_one_gb(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free: int, shown: str) -> None:
    from followup.store._sqlite_db import _free_space

    seen: list[object] = []

    def usage(path: object) -> object:
        seen.append(path)
        return SimpleNamespace(total=10 << 30, used=(10 << 30) - free, free=free)

    monkeypatch.setattr(shutil, "disk_usage", usage)
    assert _free_space(tmp_path / "followup.db") == shown
    assert seen == [tmp_path]  # the folder that holds the file


def test_free_space_that_cannot_be_read_is_said_so(tmp_path: Path) -> None:
    from followup.store._sqlite_db import _free_space

    assert _free_space(tmp_path / "missing" / "followup.db") == (
        "the free space could not be read")


# -- PostgreSQL: a worker waits through notices of other schemas --------------------------


def test_a_worker_woken_by_another_schema_waits_on_for_its_own(empty_url: str) -> None:
    """Notices from a store in another schema of the database are passed over, and the
    worker goes on waiting for the rest of its time: its own schema's notice, coming
    after one of another schema, still wakes it. (The worker waits in a thread of its
    own while the two commits come, half a second apart, so that the other schema's
    notice reaches it alone.)"""
    other = new_schema()
    try:
        with PostgresStore(empty_url, migrate=True) as listener, \
                PostgresStore(empty_url) as writer, \
                PostgresStore(other, migrate=True) as elsewhere:
            assert listener.wait_for_work(0.05) is False  # starts listening
            woken: list[bool] = []
            waiting = threading.Thread(target=lambda: woken.append(listener.wait_for_work(10.0)))
            waiting.start()
            try:
                time.sleep(0.5)
                app = create(elsewhere)
                update(elsewhere, app, timers_added=(timer("a1/t", T0),))
                time.sleep(0.5)
                app = create(writer)
                update(writer, app, timers_added=(timer("a1/t", T0),))
            finally:
                waiting.join()
            assert woken == [True]
            assert listener.wait_for_work(0.05) is False
    finally:
        drop_schema(other)


# -- what a commit keeps as it was given, and what it refuses -----------------------------


def test_a_fact_holding_a_list_is_kept_as_json_reads_it_on_every_store(store: Store) -> None:
    """Facts the engine writes are text; a program writing to the store itself may give
    any JSON value, which comes back as JSON reads it (the facts' text is remembered
    only for facts that can be a dictionary's key)."""
    create(store, facts={"tags": ["remote", "python"], "level": "senior"})
    assert store.load("a1").application.facts == {"tags": ["remote", "python"],
                                                  "level": "senior"}


@pytest.mark.parametrize("field", ["name", "contact", "key", "from_state", "to_state"])
def test_a_history_entry_with_a_nul_in_its_texts_is_refused_by_every_store(
        store: Store, field: str) -> None:
    app = create(store)
    bad = entry("a1", 1, **{field: "thank\x00you"})
    with pytest.raises(InputError, match=rf"history entry 1 of application 'a1': its "
                       rf"{field.replace('_', ' ')} .* holds a NUL character"):
        update(store, app, history=(bad,))
    assert len(store.history("a1")) == 1


def test_a_worker_seen_exactly_a_day_ago_is_still_listed_by_every_store(
        store: Store) -> None:
    store.renew_claims(worker="old", now=T0, until=T0)
    store.renew_claims(worker="new", now=T0 + timedelta(days=1), until=T0)
    seen = [w.id for w in store.work_status(T0 + timedelta(days=1)).workers]
    assert sorted(seen) == ["new", "old"]
    store.renew_claims(worker="new", now=T0 + timedelta(days=1, seconds=1), until=T0)
    assert [w.id for w in store.work_status(T0 + timedelta(days=1)).workers] == ["new"]


def test_a_timer_s_deadline_in_another_zone_comes_back_in_utc_from_every_store(
        store: Store) -> None:
    app = create(store)
    due = datetime(2027, 1, 8, 17, 0, tzinfo=ZoneInfo("America/New_York"))
    update(store, app, timers_added=(replaced(timer("t-1", T0), due_at=due),))
    [kept] = store.timers()
    assert kept.due_at == due and kept.due_at.utcoffset() == timedelta(0)
    assert kept.due_at.isoformat() == "2027-01-08T22:00:00+00:00"


def test_history_entries_given_out_of_order_are_kept_in_order_by_every_store(
        store: Store) -> None:
    app = create(store)
    update(store, app, history=(entry("a1", 2), entry("a1", 1)))
    assert [h.seq for h in store.history("a1")] == [0, 1, 2]
    assert [h.seq for h in store.load("a1").history] == [0, 1, 2]


def test_instants_read_back_are_remembered_within_a_bound(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from followup.store import _codec

    monkeypatch.setattr(_codec, "_instants", {})
    start = datetime(2027, 3, 1, 15, tzinfo=UTC)
    texts = [_codec.to_text(start + timedelta(seconds=i)) for i in range(8200)]
    sizes = []
    for i, text in enumerate(texts):
        read = _codec.from_text(text)
        assert read == start + timedelta(seconds=i) and read.tzinfo is UTC
        assert _codec.from_text(text) is read  # the same instant, not read again
        sizes.append(len(_codec._instants))
    assert max(sizes) == 8192 and sizes[8191:8194] == [8192, 1, 2]
    # A local time's text is read as written (stores write UTC; a hand-made text keeps
    # its offset).
    assert _codec.from_text("2027-03-01T10:00:00-05:00") == start


def test_a_commit_that_claims_takes_what_goes_out_at_once_for_its_worker(
        tmp_path: Path) -> None:
    # SQLite's commit_many_claiming: the outbox rows of what goes out at once are written
    # held for the worker (as claim_deliveries leaves a row it takes), in the same
    # transaction, and handed back; a digest's row waits for its time, unclaimed; a
    # (key, channel) already in the outbox is neither written again nor taken.
    store = SQLiteStore(tmp_path / "f.db")
    store.commit(Change(application(), None, notifications=(notification("k0"),)))
    lease = T0 + timedelta(minutes=5)
    digest = replaced(notification("k2"), data={"digest_at": "2027-01-01T13:00:00+00:00"})
    apps, taken = store.commit_many_claiming(
        [Change(replaced(application(), version=1), 1, notifications=(
            notification("k0"), notification("k1", ("console", "email")), digest))],
        worker="w1", until=lease)
    assert [a.version for a in apps] == [2]
    assert [(d.notification.key, d.channel, d.status, d.attempts, d.next_attempt_at)
            for d in taken] == [("k1", "console", "pending", 0, lease),
                                ("k1", "email", "pending", 0, lease)]
    assert [d.notification.channels for d in taken] == [("console",), ("email",)]
    assert taken[0].notification.subject == "Thank k1"
    # Another worker, before the lease ends, finds only k0 (written unclaimed before);
    # the digest's row is not due before its time.
    other = store.claim_deliveries(T0, worker="w2", until=lease, limit=10)
    assert [(d.notification.key, d.channel) for d in other] == [("k0", "console")]
    # When w1's lease ends without a mark (it died), its rows are due again.
    later = store.claim_deliveries(lease, worker="w2", until=lease + timedelta(minutes=5),
                                   limit=10)
    assert sorted((d.notification.key, d.channel) for d in later) == [
        ("k0", "console"), ("k1", "console"), ("k1", "email")]
    assert store.commit_many_claiming([], worker="w1", until=lease) == ([], [])
    # Rows all new are written together; a row's notification with that one channel is
    # the very one committed (nothing copied for it).
    fresh = [notification(f"k{i}") for i in (3, 4)]
    _, taken = store.commit_many_claiming(
        [Change(replaced(application(), version=2), 2, notifications=tuple(fresh))],
        worker="w1", until=lease)
    assert [(d.notification.key, d.channel) for d in taken] == [
        ("k3", "console"), ("k4", "console")]
    assert all(d.notification is n for d, n in zip(taken, fresh, strict=True))
    store.close()
