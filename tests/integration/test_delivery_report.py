"""A ``DeliveryReport`` holds each row tried as the store holds it after the attempt, on
every store: what docs/embedding.md promises (``Delivery`` objects with the right
``status``, ``attempts``, ``last_error``, ``delivered_at``), not the row as it was claimed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from followup import Contact, Delivery, Engine, FakeClock, Store, hookimpl, load_plugins, load_rules
from followup.delivery.dispatcher import MAX_ATTEMPTS
from followup.testing import RecordingChannel

START = datetime(2026, 12, 23, 21, 0, tzinfo=UTC)  # Wed 16:00 in New York
# Two reminders go out at START (the question of the decision date and the thank-you
# note): the referral question is silenced to keep the rows few.
PACK = ("version: 1\nextends: after-interview\nchannels: [console]\n"
        "rules:\n  - {name: ask-for-referrals, enabled: false}\n")


def _engine(store: Store, channel: RecordingChannel, *, digest: str | None = None) -> Engine:
    engine = Engine(rules=load_rules(text=PACK), store=store, clock=FakeClock(START),
                    channels=[channel])
    engine.set_owner("ada", timezone="America/New_York", country="US", digest=digest)
    engine.add_application(owner="ada", company="Acme", role="Engineer",
                           facts={"interviewed_at": "2026-12-23T15:00"},
                           contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
    return engine


def _stored(engine: Engine, rows: list[Delivery]) -> list[Delivery]:
    """The same rows, read back from the store."""
    wanted = {(row.notification.key, row.channel) for row in rows}
    return [row for row in engine.store.deliveries()
            if (row.notification.key, row.channel) in wanted]


def test_a_first_try_success_is_reported_delivered_as_stored(store: Store) -> None:
    channel = RecordingChannel()
    engine = _engine(store, channel)
    report = engine.run_due()
    assert len(report.delivery.delivered) == 2 and not report.delivery.failed
    for row in report.delivery.delivered:
        assert (row.status, row.attempts, row.delivered_at, row.last_error) == (
            "delivered", 1, START, None)
        assert row.next_attempt_at is None
    assert report.delivery.delivered == _stored(engine, report.delivery.delivered)


def test_a_failure_is_reported_with_its_error_and_next_try_as_stored(store: Store) -> None:
    channel = RecordingChannel()
    channel.fail(2)
    engine = _engine(store, channel)
    report = engine.run_due()
    assert len(report.delivery.failed) == 2 and not report.delivery.delivered
    for row in report.delivery.failed:
        assert (row.status, row.attempts, row.delivered_at) == ("pending", 1, None)
        assert row.last_error == "ConnectionError: console is down (RecordingChannel.fail)"
        assert row.next_attempt_at is not None and row.next_attempt_at > START
    assert report.delivery.failed == _stored(engine, report.delivery.failed)

    # Delivered on the second try: two attempts, and the last error is kept.
    later = engine.deliver(START + timedelta(hours=1))
    assert [(r.status, r.attempts) for r in later.delivered] == [("delivered", 2)] * 2
    assert all(r.last_error is not None for r in later.delivered)
    assert later.delivered == _stored(engine, later.delivered)


def test_the_last_failure_is_reported_dead_as_stored(store: Store) -> None:
    channel = RecordingChannel()
    channel.fail(2 * MAX_ATTEMPTS)
    engine = _engine(store, channel)
    report = engine.run_due()
    now = START
    for _ in range(MAX_ATTEMPTS - 1):
        assert not report.delivery.dead
        now += timedelta(hours=7)  # past the longest wait
        report.delivery = engine.deliver(now)
    assert len(report.delivery.dead) == 2 and not report.delivery.failed
    for row in report.delivery.dead:
        assert (row.status, row.attempts, row.next_attempt_at) == ("dead", MAX_ATTEMPTS, None)
        assert row.last_error is not None
    assert report.delivery.dead == _stored(engine, report.delivery.dead)


@pytest.mark.parametrize("fails", [0, 1])
def test_the_rows_of_a_digest_are_reported_as_stored(
    store: Store, fails: int
) -> None:
    channel = RecordingChannel()
    channel.fail(fails)
    engine = _engine(store, channel, digest="08:00")
    engine.run_due()  # fires; the rows wait for the digest's time
    report = engine.deliver(datetime(2026, 12, 24, 13, 0, tzinfo=UTC))  # 08:00 in New York
    rows = report.delivered + report.failed
    assert len(rows) == 2 and len(report.failed) == 2 * fails
    assert {(r.status, r.attempts) for r in rows} == {("pending" if fails else "delivered", 1)}
    assert rows == _stored(engine, rows)


def test_an_observer_of_deliveries_sees_the_row_as_stored(
    store_factory: Callable[[Path], Store], tmp_path: Path
) -> None:
    seen: list[Delivery] = []

    class Observer:
        @hookimpl
        def followup_delivered(self, delivery: Delivery) -> None:
            seen.append(delivery)

    class Channels:
        @hookimpl
        def followup_register_channels(self, register: Callable[[RecordingChannel], None]
                                       ) -> None:
            register(RecordingChannel())

    plugins = load_plugins(extra={"observer": Observer(), "channels": Channels()},
                           environ={"FOLLOWUP_PLUGINS": ""})
    engine = Engine(store=store_factory(tmp_path), clock=FakeClock(START), plugins=plugins)
    engine.set_owner("ada", timezone="America/New_York", country="US")
    engine.add_application(owner="ada", company="Acme", role="Engineer",
                           facts={"interviewed_at": "2026-12-23T15:00"},
                           contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
    report = engine.run_due()
    assert seen == report.delivery.delivered and len(seen) == 3
    assert all(d.status == "delivered" and d.delivered_at == START for d in seen)
    engine.close()


def test_each_channel_gets_a_copy_that_names_it_alone(store: Store) -> None:
    """docs/plugins.md: a channel's copy names that channel alone (each is sent, retried
    and given up on its own, from its own outbox row); the notifications the engine
    reports, made before the outbox splits them, name every channel."""
    email, chat = RecordingChannel("email"), RecordingChannel("chat")
    pack = "version: 1\nextends: after-interview\nchannels: [email, chat]\n"
    engine = Engine(rules=load_rules(text=pack), store=store, clock=FakeClock(START),
                    channels=[email, chat])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    engine.add_application(owner="ada", company="Acme", role="Engineer",
                           facts={"interviewed_at": "2026-12-23T15:00"},
                           contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
    report = engine.run_due()
    assert report.notifications and all(n.channels == ("email", "chat")
                                        for n in report.notifications)
    assert email.sent and all(n.channels == ("email",) for n in email.sent)
    assert chat.sent and all(n.channels == ("chat",) for n in chat.sent)
    assert sorted(email.keys()) == sorted(chat.keys()) == sorted(
        n.key for n in report.notifications)
