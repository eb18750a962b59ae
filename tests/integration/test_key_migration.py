"""The migration that escapes stored timer keys (SQLite 0006, PostgreSQL 0004).

Two kinds of proof, on SQLite and on PostgreSQL alike: rows written in the old form for
a corpus of awkward names come out exactly as ``TimerKey`` writes them (and the rows
that must not change do not); and stores written by the old code itself
(``tests/fixtures/old_timer_keys.*``) open, migrate, and go on to deliver every reminder
exactly once, the same reminders as the current code delivers when it tells the same
story from the start.
"""

from __future__ import annotations

import random
import secrets
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from followup import Engine, FakeClock, load_rules
from followup.keys import TimerKey
from followup.model import Notification, Timer
from followup.store import MemoryStore, SQLiteStore, Store, _migrations
from followup.store._codec import to_text
from tests.fixtures import old_timer_keys as fixture
from tests.postgres import drop_schema, need_server, new_schema

MIGRATION = "escaped_timer_keys"
FIRE = datetime(2027, 1, 4, 14, 0, tzinfo=UTC)
# The rules the old stores were written with: the default pack has moved on since.
OLD_PACK = load_rules(Path(__file__).parents[1] / "fixtures" / "old_after_interview.yaml")
END = datetime(2027, 2, 1, 0, 0, tzinfo=UTC)  # how long the migrated stores run on

# -- a corpus of names, written in the old form ------------------------------------------

SPECIALS = ["%", "/", "\n", "\t", "\r", "\x01", "\x1f", "\x7f", "\x80", "\x85", "\x9f",
            "\u2028", "\u2029"]
NAMES = [
    "Jane Doe / HR", "Łukasz Wójcik", "王伟", "50% Jane", "-", "--", "a-b", "%", "%25",
    "%2F", "x/", "/x", "//", "ada/lovelace", "Zoë\nÅngström", "😀/🎉", "\xa0", "plain",
    *(f"a{c}b" for c in SPECIALS), *SPECIALS,
]


def _random_names(count: int) -> list[str]:
    pool = [*SPECIALS, "a", "Z", " ", "-", "2", "F", ":", "Ł", "王", "😀", "\xa0", "%2"]
    rnd = random.Random(20270105)  # the same names on every run
    return ["".join(rnd.choice(pool) for _ in range(rnd.randint(1, 6))) for _ in range(80)]


def old_rule_key(app: str, rule: str, cycle: int, contact: str | None, occurrence: int) -> str:
    """How followup 0.1 wrote a rule's key (scheduler.timer_key)."""
    return f"{app}/{rule}/{cycle}/{contact or '-'}/{occurrence}"


@dataclass(frozen=True)
class Row:
    """A timer row as the old code wrote it, and the key it must have afterwards."""

    key: str
    expected: str
    application_id: str
    owner: str
    rule: str
    action: str
    contact: str | None = None
    occurrence: int = 0
    claimed_by: str | None = None


@dataclass(frozen=True)
class Entry:
    """A history entry with a key, and the key it must have afterwards."""

    application_id: str
    seq: int
    kind: str
    name: str
    key: str
    expected: str


def corpus(*, nul: bool) -> tuple[list[Row], list[Entry], list[str]]:
    """Timer rows and history entries of every kind of key, for every name; and the
    application ids the history needs. ``nul``: names with a NUL too (SQLite only:
    PostgreSQL's text cannot hold one)."""
    names = list(dict.fromkeys([*NAMES, *_random_names(80),
                                *(["a\x00b", "\x00", "x\x00/\x00y"] if nul else [])]))
    rows: list[Row] = []
    entries: list[Entry] = []
    apps: list[str] = []
    for i, name in enumerate(names):
        app = f"app{i}-{name}"
        apps.append(app)
        rows.append(Row(old_rule_key(app, "thank-you-notes", i, name, i % 3),
                        str(TimerKey.rule(app, "thank-you-notes", cycle=i, contact=name,
                                          occurrence=i % 3)),
                        app, "ada", "thank-you-notes", "notify", name, i % 3,
                        claimed_by="w1" if i % 5 == 0 else None))
        rows.append(Row(old_rule_key(app, "follow-up-call", i, None, 0),
                        str(TimerKey.rule(app, "follow-up-call", cycle=i)),
                        app, "ada", "follow-up-call", "notify"))
        rows.append(Row(old_rule_key(app, "transition:keep-warm", i + 1, None, 0),
                        str(TimerKey.transition(app, "keep-warm", cycle=i + 1)),
                        app, "ada", "keep-warm", "transition"))
        rows.append(Row(f"{app}/replan", str(TimerKey.replan(application_id=app)),
                        app, "ada", "replan", "replan"))
        rows.append(Row(f"owner/{name}/keep-looking/2027-01-04",
                        str(TimerKey.owner_rule(name, "keep-looking", day="2027-01-04")),
                        "", name, "keep-looking", "notify"))
        rows.append(Row(f"owner/{name}/replan", str(TimerKey.replan(name)),
                        "", name, "replan", "replan"))
        move = old_rule_key(app, "transition:keep-warm", i, None, 0)
        new_move = str(TimerKey.transition(app, "keep-warm", cycle=i))
        entries += [
            Entry(app, 1, "transition", "keep-warm", move, new_move),
            Entry(app, 2, "skipped", "keep-warm", move, new_move),
            # A notification's key is its identity, kept as it was sent.
            Entry(app, 3, "notified", "thank-you-notes", rows[-6].key, rows[-6].key),
            Entry(app, 4, "event", "called", f"caller/{name}", f"caller/{name}"),
        ]
    # Keys that are not the old form of their row's parts stay as they are: one already
    # escaped, one changed by hand, one with a cycle that is not a number.
    done = str(TimerKey.rule("app-new", "thank-you-notes", cycle=0, contact="Jane / New"))
    rows += [Row(done, done, "app-new", "ada", "thank-you-notes", "notify", "Jane / New"),
             Row("hand/made", "hand/made", "app-x", "ada", "thank-you-notes", "notify", "x/y"),
             Row("app-y/thank-you-notes/one/x/0", "app-y/thank-you-notes/one/x/0", "app-y",
                 "ada", "thank-you-notes", "notify", "x")]
    # One key's new form is another's old one.
    rows += [Row(old_rule_key("app-z", "thank-you-notes", 0, c, 0),
                 str(TimerKey.rule("app-z", "thank-you-notes", cycle=0, contact=c)),
                 "app-z", "ada", "thank-you-notes", "notify", c) for c in ("x/y", "x%2Fy")]
    assert len({r.key for r in rows}) == len(rows)
    return rows, entries, apps


def _check_corpus(keys: dict[tuple[str, str, str], str], history: dict[tuple[str, int], str],
                  rows: list[Row], entries: list[Entry], claims: dict[str, str | None]) -> None:
    """``keys``: each timer row's key by (application_id, owner, rule and contact)."""
    assert len(keys) == len(rows)
    for row in rows:
        assert keys[_ident(row)] == row.expected, row
        assert claims[row.expected] == row.claimed_by
        if row.expected not in ("hand/made", "app-y/thank-you-notes/one/x/0"):
            TimerKey.parse(row.expected)
    for e in entries:
        assert history[(e.application_id, e.seq)] == e.expected, e


def _ident(row: Row) -> tuple[str, str, str]:
    return (row.application_id, row.owner, f"{row.rule}|{row.action}|{row.contact!r}")


def test_sqlite_rewrites_old_keys_of_every_kind_and_only_those(tmp_path: Path) -> None:
    rows, entries, apps = corpus(nul=True)
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for m in _before("sqlite"):
            conn.executescript(m.sql)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                         (m.version, m.name, to_text(FIRE)))
        conn.executemany(
            "INSERT INTO applications (id, owner, company, role, state, version) "
            "VALUES (?, 'ada', 'Acme', 'Engineer', 'interviewed', 1)", [(a,) for a in apps])
        conn.executemany(
            "INSERT INTO timers (key, application_id, owner, rule, action, fire_at, contact, "
            "occurrence, claimed_by, claimed_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r.key, r.application_id, r.owner, r.rule, r.action, to_text(FIRE), r.contact,
              r.occurrence, r.claimed_by, to_text(FIRE) if r.claimed_by else None)
             for r in rows])
        conn.executemany(
            "INSERT INTO history (application_id, seq, at, kind, name, key) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(e.application_id, e.seq, to_text(FIRE), e.kind, e.name, e.key) for e in entries])
    with SQLiteStore(path) as store:
        assert store.applied == _from_here("sqlite")
    with closing(sqlite3.connect(path)) as conn:
        timers = conn.execute("SELECT key, application_id, owner, rule, action, contact, "
                              "claimed_by FROM timers").fetchall()
        history = conn.execute("SELECT application_id, seq, key FROM history").fetchall()
        temp = conn.execute("SELECT name FROM sqlite_temp_master").fetchall()
    keys = {(a, o, f"{r}|{act}|{c!r}"): k for k, a, o, r, act, c, _ in timers}
    _check_corpus(keys, {(a, s): k for a, s, k in history}, rows, entries,
                  {k: w for k, *_, w in timers})
    assert temp == []


@pytest.mark.postgres
def test_postgresql_rewrites_old_keys_of_every_kind_and_only_those() -> None:
    import psycopg

    from followup.store.postgres import PostgresStore

    rows, entries, apps = corpus(nul=False)
    url = new_schema()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            for m in _before("postgresql"):
                conn.execute(m.sql.encode())
                conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                             (m.version, m.name))
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO applications (id, owner, company, role, state, version) "
                    "VALUES (%s, 'ada', 'Acme', 'Engineer', 'interviewed', 1)",
                    [(a,) for a in apps])
                cur.executemany(
                    "INSERT INTO timers (key, application_id, owner, rule, action, fire_at, "
                    "contact, occurrence, claimed_by, claimed_until) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [(r.key, r.application_id, r.owner, r.rule, r.action, FIRE, r.contact,
                      r.occurrence, r.claimed_by, FIRE if r.claimed_by else None)
                     for r in rows])
                cur.executemany(
                    "INSERT INTO history (application_id, seq, at, kind, name, key) "
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    [(e.application_id, e.seq, FIRE, e.kind, e.name, e.key) for e in entries])
        with PostgresStore(url, migrate=True) as store:
            assert store.applied == _from_here("postgresql")
        with psycopg.connect(url) as conn:
            timers = conn.execute("SELECT key, application_id, owner, rule, action, contact, "
                                  "claimed_by FROM timers").fetchall()
            history = conn.execute("SELECT application_id, seq, key FROM history").fetchall()
    finally:
        drop_schema(url)
    keys = {(a, o, f"{r}|{act}|{c!r}"): k for k, a, o, r, act, c, _ in timers}
    _check_corpus(keys, {(a, s): k for a, s, k in history}, rows, entries,
                  {k: w for k, *_, w in timers})


def _version(dialect: str) -> int:
    (found,) = [m.version for m in _migrations.migrations(dialect) if m.name == MIGRATION]
    return found


def _from_here(dialect: str) -> list[int]:
    """The versions a store before the migration under test applies when opened."""
    return [m.version for m in _migrations.migrations(dialect) if m.version >= _version(dialect)]


def _before(dialect: str) -> list[_migrations.Migration]:
    """A dialect's migrations before the one under test."""
    return [m for m in _migrations.migrations(dialect) if m.version < _version(dialect)]


# -- stores written by the old code --------------------------------------------------------


class Recorder:
    """The pack's channel, ``console``, keeping what it is sent."""

    name = "console"

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)


Identity = tuple[str, ...]


def identity(store: Store, n: Notification, cycles: dict[str, int]) -> Identity:
    """What a reminder is for, whatever form its key has: the application, rule,
    contact, state entry and occurrence; or the owner, rule and week of an owner's rule."""
    if n.application_id == "":
        # An owner's nudge by its week: the stores of the old code counted each from the
        # pass that sent the one before, the current code keeps a fixed weekly slot, so the
        # hour may differ; once a week, never twice, is what must hold.
        year, week, _ = n.created_at.isocalendar()
        return ("owner", n.owner, n.rule, f"{year}-W{week:02}")
    return (n.application_id, n.rule, repr(n.contact), str(cycles[n.key]),
            str(n.data["occurrence"]))


def cycles_of(store: Store) -> dict[str, int]:
    """Each sent reminder's state entry, from the history (by the notification's key)."""
    return {h.key: int(h.data["cycle"]) for a in store.applications()
            for h in store.history(a.id) if h.kind == "notified" and h.key is not None}


def run_on(engine: Engine, clock: FakeClock, end: datetime) -> None:
    """A pass every few hours, as a daemon would run them."""
    while clock.now() < end:
        engine.run_due(clock.advance(fixture.STEP))


@cache
def told_from_the_start() -> Counter[Identity]:
    """The reminders the current code delivers when it is told the whole story itself."""
    clock = FakeClock(fixture.START)
    channel = Recorder()
    with MemoryStore() as store:
        engine = Engine(rules=OLD_PACK, store=store, clock=clock, channels=[channel],
                        worker="now")
        before_key = str(TimerKey.replan(application_id="imported/1"))
        fixture.before_upgrade(engine, clock, replan_key=before_key)
        assert clock.now() == fixture.UPGRADE
        run_on(engine, clock, END)
        cycles = cycles_of(store)
        return Counter(identity(store, n, cycles) for n in channel.sent)


def check_keys(store: Store) -> None:
    """Every stored timer key reads back as the parts its row holds; so do the keys of
    timed moves in the history."""
    timers = store.timers()
    assert timers
    for t in timers:
        key = TimerKey.parse(t.key)
        assert str(key) == t.key
        if t.action == "replan":
            assert (key.kind, key.owner, key.application_id) == (
                "replan", t.owner if not t.application_id else "", t.application_id), t
        elif t.application_id == "":
            assert (key.kind, key.owner, key.name) == ("owner", t.owner, t.rule), t
        else:
            kind = "transition" if t.action == "transition" else "rule"
            assert (key.kind, key.application_id, key.name, key.contact, key.occurrence) == (
                kind, t.application_id, t.rule, t.contact, t.occurrence), t
    moves = [h for a in store.applications() for h in store.history(a.id)
             if h.kind in ("transition", "skipped") and h.key is not None]
    assert moves  # the fixture has a timed move that fired before the upgrade
    for h in moves:
        key = TimerKey.parse(h.key or "")
        assert (key.kind, key.application_id, key.name) == ("transition", h.application_id,
                                                            h.name)


def check_special_keys(timers: list[Timer]) -> None:
    """The awkward names are the ones whose keys changed."""
    by_contact = {t.contact: t.key for t in timers if t.application_id == "globex/sre"}
    assert by_contact["Jane Doe / HR"] == "globex%2Fsre/thank-you-notes/0/Jane Doe %2F HR/0"
    assert by_contact["50% Jane"] == "globex%2Fsre/thank-you-notes/0/50%25 Jane/0"
    assert by_contact["-"] == "globex%2Fsre/thank-you-notes/0/%2D/0"
    assert by_contact["Mary\nAnn"] == "globex%2Fsre/brief-references/0/Mary%0AAnn/0"
    assert by_contact["王伟"] == "globex%2Fsre/thank-you-notes/0/王伟/0"
    owner = {t.rule: t.key for t in timers if t.owner == "ada/lovelace" and not t.application_id}
    assert owner == {"keep-looking": "owner/ada%2Flovelace/keep-looking/2027-01-11",
                     "replan": "owner/ada%2Flovelace/replan"}
    assert {t.key for t in timers if t.application_id == "imported/1"} == {"imported%2F1/replan"}
    assert "hooli%251/keep-warm-check-in/6/-/0" in {t.key for t in timers}


def run_the_upgraded(store: Store, before: list[Notification]) -> None:
    """Drive the migrated store to ``END`` and check what was delivered."""
    check_keys(store)
    check_special_keys(store.timers())
    assert {n.key for n in before} == {d.notification.key for d in store.deliveries(
        status="delivered")}  # the outbox keeps the keys it was sent with
    clock = FakeClock(fixture.UPGRADE)
    channel = Recorder()
    engine = Engine(rules=OLD_PACK, store=store, clock=clock, channels=[channel],
                    worker="upgraded")
    run_on(engine, clock, END)
    check_keys(store)

    cycles = cycles_of(store)
    earlier = [identity(store, n, cycles) for n in before]
    later = [identity(store, n, cycles) for n in channel.sent]
    for n in channel.sent:  # sent under keys of the new form
        key = TimerKey.parse(n.key)
        assert (key.application_id, key.contact) == (n.application_id, n.contact) \
            or key.kind == "owner"
    # Nothing sent twice, and nothing sent again that was sent before the upgrade.
    assert len(set(earlier)) == len(earlier)
    assert len(set(later)) == len(later)
    assert set(earlier).isdisjoint(later)
    # The awkward names of the interviews still to come are each reminded of once.
    assert {(i[0], i[1], i[2]) for i in later} >= {
        ("globex/sre", "thank-you-notes", repr("Jane Doe / HR")),
        ("globex/sre", "thank-you-notes", repr("Łukasz Wójcik")),
        ("globex/sre", "thank-you-notes", repr("王伟")),
        ("globex/sre", "thank-you-notes", repr("50% Jane")),
        ("globex/sre", "thank-you-notes", repr("-")),
        ("globex/sre", "brief-references", repr("Mary\nAnn")),
        ("umbrella", "thank-you-notes", repr("O'Brien / Legal")),
        ("imported/1", "thank-you-notes", repr("Jane Doe / HR")),
        ("umbrella", "offer-leverage", "None"),  # after the owner's re-plan marker
        ("pied/piper", "gracious-reply", "None"),
    }
    assert ("owner", "ada/lovelace", "keep-looking", "2027-W02") in later
    # and those sent before are the unusual names of the interviews already past.
    assert {(i[0], i[1], i[2]) for i in earlier} >= {
        ("acme", "thank-you-notes", repr("Łukasz Wójcik")),
        ("acme", "thank-you-notes", repr("50% Jane")),
        ("acme", "brief-references", repr("王伟")),
        ("acme", "brief-references", repr("-")),
    }
    # All of it is what the current code delivers when it tells the story from the start.
    assert Counter(earlier) + Counter(later) == told_from_the_start()


def sent_before(store: Store) -> list[Notification]:
    """What the old code delivered before the upgrade: the outbox's delivered rows."""
    return [d.notification for d in store.deliveries(status="delivered")]


def test_a_sqlite_store_of_the_old_code_migrates_and_delivers_each_reminder_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "followup.db"
    shutil.copyfile(fixture.SQLITE_FILE, path)
    with closing(sqlite3.connect(path)) as conn:
        (version,) = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        old_keys = conn.execute("SELECT key FROM timers").fetchall()
    assert version == _version("sqlite") - 1
    assert ("globex/sre/thank-you-notes/0/Jane Doe / HR/0",) in old_keys
    with SQLiteStore(path) as store:
        assert store.applied == _from_here("sqlite")
        # The owners' counts per state, kept from 0011 on, start from what is stored.
        owners = {a.owner for a in store.applications(archived=None)}
        assert owners
        for owner in owners:
            assert store.count_by_state(owner=owner) == Counter(
                a.state for a in store.applications(owner=owner))
        run_the_upgraded(store, sent_before(store))


@contextmanager
def old_postgres_database() -> Iterator[str]:
    """A database of its own holding the fixture's dump; yields a URL on its schema."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    server = need_server()
    name = f"followup_test_{secrets.token_hex(6)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(make_conninfo(server, dbname=name), autocommit=True) as conn:
            conn.execute(fixture.POSTGRES_FILE.read_bytes())
        yield make_conninfo(server, dbname=name,
                            options=f"-csearch_path={fixture.POSTGRES_SCHEMA}")
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_a_postgresql_store_of_the_old_code_migrates_and_delivers_each_reminder_once() -> None:
    import psycopg

    from followup.store.postgres import PostgresStore

    with old_postgres_database() as url:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        assert row is not None and row[0] == _version("postgresql") - 1
        with PostgresStore(url, migrate=True) as store:
            assert store.applied == _from_here("postgresql")
            run_the_upgraded(store, sent_before(store))


def test_the_fixtures_tell_the_same_story() -> None:
    """The SQLite file and the PostgreSQL dump were written by the same old code from
    the same story: the same timer keys."""
    with closing(sqlite3.connect(fixture.SQLITE_FILE)) as conn:
        keys = sorted(k for (k,) in conn.execute("SELECT key FROM timers"))
    dump = fixture.POSTGRES_FILE.read_text(encoding="utf-8")
    assert keys and all(f"'{k.replace(chr(39), chr(39) * 2)}'" in dump for k in keys)

