"""A channel that raises, hangs or is down for an hour never costs the others a reminder,
and its own reminders arrive after it recovers, once per idempotency key."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from followup import Contact, Engine, FakeClock, Notification, SQLiteStore, load_rules
from followup.testing import RecordingChannel

START = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York

PACK = load_rules("three-channels.yaml", text="""
version: 1
extends: after-interview
channels: [console, flaky, stuck]
""")


class Stuck:
    """Hangs on its first send for much longer than its timeout, then works."""

    name = "stuck"
    timeout = 0.2

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.calls += 1
        if self.calls == 1:
            self.release.wait(30)
            return
        self.sent.append(notification)


def test_a_channel_down_for_an_hour_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path,
) -> None:
    console, flaky, stuck = RecordingChannel("console"), RecordingChannel("flaky"), Stuck()
    clock = FakeClock(START)
    engine = Engine(rules=PACK, store=SQLiteStore(tmp_path / "f.db"), clock=clock,
                    channels=[console, flaky, stuck])
    try:
        engine.set_owner("ada", timezone="America/New_York", country="US")
        engine.add_application(
            owner="ada", company="Acme", role="Engineer",
            facts={"interviewed_at": START, "interview_ends_at": START},
            contacts=[Contact("Jane Doe", "interviewer", title="CTO"),
                      Contact("Raj Patel", "interviewer", title="Staff Engineer")])
        flaky.fail(10_000)  # down from now on
        first = engine.run_due()
        stuck.release.set()
        # The console delivered everything at once, whatever the others did.
        assert len(console.sent) == 4 and first.fired == 4
        assert {row.channel for row in first.delivery.failed} == {"flaky", "stuck"}
        assert all("timed out" in str(row.last_error) for row in first.delivery.failed
                   if row.channel == "stuck")
        # An hour of the daemon's passes (every 30 s) while flaky is down: nothing arrives
        # there, and nothing is given up as dead.
        for seconds in range(30, 3601, 30):
            clock.set(START + timedelta(seconds=seconds))
            engine.deliver()
        assert flaky.sent == []
        assert not engine.store.deliveries(status="dead")
        # It recovers; within the backoff's reach everything arrives, once per key.
        flaky.failures_left = 0
        for minutes in range(65, 60 * 8, 5):
            clock.set(START + timedelta(minutes=minutes))
            engine.deliver()
        keys = sorted(n.key for n in console.sent)
        assert sorted(flaky.keys()) == keys
        assert sorted(n.key for n in stuck.sent) == keys
        assert len(set(flaky.keys())) == len(flaky.keys())
        pending = [d for d in engine.store.deliveries() if d.status != "delivered"]
        assert pending == []
    finally:
        engine.close()


def test_an_outbox_row_that_cannot_be_read_fails_alone(tmp_path: Path) -> None:
    """A row whose digest time is not a time (written by hand, or by a broken tool)
    fails with the error and is retried; the other rows of the pass go out."""
    from followup.model import Change, Record

    store = SQLiteStore(tmp_path / "followup.db")
    channel = RecordingChannel()
    engine = Engine(store=store, clock=FakeClock(START), channels=[channel])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": START.isoformat(),
                                        "interview_ends_at": START.isoformat()},
                                 contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
    record: Record = store.load(app.id)
    bad = Notification(key="hand-written", application_id=app.id, owner="ada", rule="x",
                       created_at=START, subject="broken", body="", channels=("console",))
    store.commit(Change(application=record.application,
                        expected_version=record.application.version, notifications=(bad,)))
    with sqlite3.connect(tmp_path / "followup.db") as conn:  # the store itself refuses it
        conn.execute("""UPDATE outbox SET data = '{"digest_at": "not a time"}'
                        WHERE key = 'hand-written'""")
    conn.close()
    report = engine.run_due()
    assert sorted(n.rule for n in channel.sent) == [
        "ask-decision-date", "ask-for-referrals", "thank-you-notes"]
    [failed] = report.delivery.failed
    assert failed.notification.key == "hand-written" and failed.attempts == 1
    assert failed.last_error is not None and "not a time" in failed.last_error
    [row] = [d for d in store.deliveries(owner="ada") if d.notification.key == "hand-written"]
    assert row.status == "pending" and row.next_attempt_at is not None
