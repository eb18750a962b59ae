"""A row that fails stops only itself.

1,000 applications of 100 owners, one of them poisoned: a contact name that used to
break timer keys, firing that raises, a history row the store cannot read, a fact no
calendar can read, a channel that raises for it. Every other reminder goes out in the
same pass; the poisoned application is recorded as a fault (``store.faults()``), waits
for its retry instead of being tried on every pass, and goes out once healed. Then the
same on PostgreSQL, through ``followup run --workers 2`` in subprocesses.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from followup import Contact, Engine, FakeClock, Notification, SQLiteStore, Store
from followup.testing import RecordingChannel
from tests import postgres
from tests.acceptance.conftest import followup_command

OWNERS, PER_OWNER = 100, 10
START = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday, inside the send window
POISONED = "owner-37-app-4"


def _fill(engine: Engine, *, interviewed: datetime, poisoned_contact: str = "Ann Lee",
          channels: list[str] | None = None) -> list[str]:
    """100 owners with 10 applications each, interviewed at ``interviewed``, each with
    one interviewer; returns the application ids."""
    ids = []
    for o in range(OWNERS):
        owner = f"owner-{o}"
        engine.set_owner(owner, timezone="UTC", channels=channels)
        for a in range(PER_OWNER):
            app_id = f"{owner}-app-{a}"
            name = poisoned_contact if app_id == POISONED else f"Interviewer {o}.{a}"
            engine.add_application(
                owner=owner, company=f"Company {o}.{a}", role="Engineer", id=app_id,
                facts={"interviewed_at": interviewed.isoformat()},
                contacts=[Contact(name, "interviewer", title="Lead")])
            ids.append(app_id)
    return ids


class _Picky(RecordingChannel):
    """A recording channel that raises for the poisoned application's reminders."""

    def send(self, notification: Notification) -> None:
        if notification.application_id == POISONED:
            raise RuntimeError("this channel cannot take that one")
        super().send(notification)


def _break_firing(engine: Engine) -> Callable[[], None]:
    # What every due reminder goes through (a pass that fires only once-only reminders
    # plans nothing again, so a broken planner would not be reached).
    original = engine.firer.fire

    def fire(app: Any, *args: Any, **kwargs: Any) -> Any:
        if app.id == POISONED:
            raise RuntimeError("firing broke on this application")
        return original(app, *args, **kwargs)

    engine.firer.fire = fire  # type: ignore[method-assign]
    return lambda: setattr(engine.firer, "fire", original)


def _sql(path: Path, statement: str, *params: object) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(statement, params)
    conn.close()


def _break_history(path: Path) -> Callable[[], None]:
    with sqlite3.connect(path) as conn:
        (data,) = conn.execute("SELECT data FROM history WHERE application_id = ? AND seq = 0",
                               (POISONED,)).fetchone()
    conn.close()
    _sql(path, "UPDATE history SET data = '{\"broken' WHERE application_id = ? AND seq = 0",
         POISONED)
    return lambda: _sql(path, "UPDATE history SET data = ? WHERE application_id = ? AND seq = 0",
                        data, POISONED)


def _break_fact(path: Path) -> Callable[[], None]:
    with sqlite3.connect(path) as conn:
        (facts,) = conn.execute("SELECT facts FROM applications WHERE id = ?",
                                (POISONED,)).fetchone()
    conn.close()
    broken = json.dumps({**json.loads(facts), "interviewed_at": "the day after never"})
    _sql(path, "UPDATE applications SET facts = ? WHERE id = ?", broken, POISONED)
    return lambda: _sql(path, "UPDATE applications SET facts = ? WHERE id = ?", facts, POISONED)


@pytest.mark.slow
@pytest.mark.parametrize("poison", ["slash", "firing", "history", "fact", "channel"])
def test_one_poisoned_row_stops_only_itself(tmp_path: Path, poison: str) -> None:
    path = tmp_path / "followup.db"
    clock = FakeClock(START)
    channel = _Picky() if poison == "channel" else RecordingChannel()
    engine = Engine(rules="demo", store=SQLiteStore(path), clock=clock, channels=[channel])
    ids = _fill(engine, interviewed=START - timedelta(hours=1),
                poisoned_contact="Jane Doe / HR" if poison == "slash" else "Ann Lee")
    heal: Callable[[], None] = lambda: None  # noqa: E731
    if poison == "firing":
        heal = _break_firing(engine)
    elif poison == "history":
        heal = _break_history(path)
    elif poison == "fact":
        heal = _break_fact(path)

    report = engine.run_due()

    # Everyone else's reminders went out in this one pass: a thank-you note and the
    # questions about the decision date and about referrals, for each of the 999 others.
    sent: dict[str, list[str]] = {}
    for n in channel.sent:
        sent.setdefault(n.application_id, []).append(n.rule)
    others = [i for i in ids if i != POISONED]
    assert [i for i in others if sorted(sent.get(i, [])) != [
        "ask-decision-date", "ask-for-referrals", "thank-you-notes"]] == []
    faults = engine.store.faults()
    if poison == "slash":  # a name is never poison: it goes out like the others
        assert sorted(sent[POISONED]) == [
            "ask-decision-date", "ask-for-referrals", "thank-you-notes"]
        assert faults == [] and report.errors == {}
        assert {n.contact for n in channel.sent if n.application_id == POISONED} \
            == {None, "Jane Doe / HR"}
        return
    assert POISONED not in sent
    if poison == "channel":  # the outbox's own retries hold it, not a fault
        rows = engine.store.deliveries(owner="owner-37")
        mine = [d for d in rows if d.notification.application_id == POISONED]
        assert mine and all(d.status == "pending" and d.attempts == 1 for d in mine)
        assert faults == []
        return
    assert [(f.owner, f.application_id, f.attempts) for f in faults] == [
        ("owner-37", POISONED, 1)]
    assert POISONED in report.errors and faults[0].error in report.errors[POISONED]
    first_retry = faults[0].retry_at
    assert first_retry > START

    # Before its retry time the poisoned row is left alone; then tried again.
    clock.set(first_retry - timedelta(seconds=1))
    assert POISONED not in engine.run_due().errors
    assert engine.store.faults()[0].attempts == 1
    clock.set(first_retry)
    assert POISONED in engine.run_due().errors
    again = engine.store.faults()[0]
    assert again.attempts == 2 and again.retry_at - first_retry > first_retry - START

    # Healed, it goes out at its next try, once, and the fault is gone.
    heal()
    clock.set(again.retry_at)
    report = engine.run_due()
    assert report.errors == {}
    assert engine.store.faults() == []
    assert sorted(n.rule for n in channel.sent if n.application_id == POISONED) == [
        "ask-decision-date", "ask-for-referrals", "thank-you-notes"]
    assert len(channel.sent) == len(set(channel.keys())) == 3 * len(ids)
    engine.close()


# -- PostgreSQL, two worker processes ----------------------------------------------------


def _pg_break_fact(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        (facts,) = conn.execute("SELECT facts FROM applications WHERE id = %s",
                                (POISONED,)).fetchone()  # type: ignore[misc]
        broken = json.dumps({**json.loads(facts), "interviewed_at": "the day after never"})
        conn.execute("UPDATE applications SET facts = %s WHERE id = %s", (broken, POISONED))


@pytest.mark.slow
@pytest.mark.postgres
def test_two_workers_on_postgresql_deliver_everyone_but_the_poisoned_row(
        tmp_path: Path) -> None:
    url = postgres.new_schema()
    store: Store | None = None
    supervisor = None
    try:
        from followup.store.postgres import PostgresStore

        store = PostgresStore(url, migrate=True)
        now = datetime.now(UTC).replace(microsecond=0)
        engine = Engine(rules="demo", store=store, clock=FakeClock(now), channels=[])
        ids = _fill(engine, interviewed=now - timedelta(hours=1), channels=["file"])
        engine.close()
        _pg_break_fact(url)

        out = tmp_path / "reminders.jsonl"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")}
        env.update(FOLLOWUP_DB=url, FOLLOWUP_RULES="demo", FOLLOWUP_PLUGINS="file",
                   FOLLOWUP_FILE_PATH=str(out), HOME=str(tmp_path))
        log = tmp_path / "run.log"
        with log.open("wb") as errors:
            supervisor = subprocess.Popen(
                [*followup_command(), "run", "--workers", "2", "--interval", "0.2"],
                env=env, stdout=subprocess.DEVNULL, stderr=errors, cwd=tmp_path)
        wanted = 3 * (len(ids) - 1)
        deadline = time.monotonic() + 120
        lines: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            if out.exists():
                # Whole lines only: the workers may be writing the last one.
                lines = [json.loads(x) for x in out.read_text().split("\n")[:-1] if x.strip()]
                if len(lines) >= wanted:
                    break
            assert supervisor.poll() is None, log.read_text()
            time.sleep(0.2)
        status = subprocess.run([*followup_command(), "status", "--json"], env=env,
                                capture_output=True, text=True, timeout=60, check=True)
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=60) == 0, log.read_text()
        keys = [line["key"] for line in lines]
        assert len(keys) == wanted, f"{len(keys)} of {wanted} reminders went out"
        assert len(set(keys)) == len(keys)  # none twice
        assert {line["application_id"] for line in lines} == set(ids) - {POISONED}
        faults = json.loads(status.stdout)["faults"]
        assert [f["application_id"] for f in faults] == [POISONED]
    finally:
        if supervisor is not None and supervisor.poll() is None:
            supervisor.kill()
        postgres.drop_schema(url)
