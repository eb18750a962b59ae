"""Channels that misbehave in ways beyond raising an ordinary error, and a clock that
jumps backwards. Each delivery either succeeds once or stays pending with a readable
error; no other channel loses a reminder; nothing is sent twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from followup import Contact, Engine, FakeClock, Notification, SQLiteStore, load_rules
from followup.testing import RecordingChannel

START = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
PACK = load_rules("two-channels.yaml", text="""
version: 1
extends: after-interview
channels: [console, odd]
""")


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("even the error is broken")


class Odd:
    """A channel whose send does something strange, chosen by the test."""

    name = "odd"
    timeout = 5.0

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.calls = 0

    def send(self, notification: Notification) -> object:
        self.calls += 1
        if self.behaviour == "system-exit":
            raise SystemExit(3)
        if self.behaviour == "keyboard-interrupt":
            raise KeyboardInterrupt
        if self.behaviour == "generator-exit":
            raise GeneratorExit
        if self.behaviour == "unprintable":
            raise Unprintable
        if self.behaviour == "garbage":
            return {"status": "maybe", "ok": False}  # not None: a channel answers nothing
        raise AssertionError(self.behaviour)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine(rules=PACK, store=SQLiteStore(tmp_path / "f.db"), clock=FakeClock(START),
                    channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    yield engine
    engine.close()


def _add(engine: Engine) -> None:
    engine.add_application(
        owner="ada", company="Acme", role="Engineer", facts={"interviewed_at": START, "interview_ends_at": START},
        contacts=[Contact("Jane Doe", "interviewer", title="CTO")])


@pytest.mark.parametrize("behaviour",
                         ["system-exit", "keyboard-interrupt", "generator-exit", "unprintable"])
def test_a_channel_that_raises_anything_fails_alone_and_is_retried(
    engine: Engine, behaviour: str
) -> None:
    console, odd = RecordingChannel("console"), Odd(behaviour)
    engine.channels.register(console)
    engine.channels.register(odd)
    _add(engine)
    report = engine.run_due()  # returns: the daemon is not stopped by the plugin
    assert len(console.sent) == report.fired >= 2
    assert odd.calls == report.fired
    failed = {row.notification.key: row.last_error for row in report.delivery.failed}
    assert set(failed) == set(console.keys())
    rows = [d for d in engine.store.deliveries() if d.channel == "odd"]
    assert rows and all(d.status == "pending" and d.attempts == 1 for d in rows)
    for row in rows:
        error = row.last_error or ""
        expected = {"system-exit": "SystemExit", "keyboard-interrupt": "KeyboardInterrupt",
                    "generator-exit": "GeneratorExit", "unprintable": "Unprintable"}[behaviour]
        assert error.startswith(expected), error
    # Later passes retry it; the console's reminders are never sent again.
    engine.clock.set(START + timedelta(hours=2))  # type: ignore[attr-defined]
    engine.deliver()
    assert len(console.sent) == len(set(console.keys())) == report.fired


def test_a_channel_that_returns_garbage_counts_as_delivered_once(engine: Engine) -> None:
    console, odd = RecordingChannel("console"), Odd("garbage")
    engine.channels.register(console)
    engine.channels.register(odd)
    _add(engine)
    report = engine.run_due()
    assert not report.delivery.failed and not report.delivery.dead
    assert odd.calls == report.fired
    engine.clock.set(START + timedelta(days=1))  # type: ignore[attr-defined]
    engine.deliver()
    assert odd.calls == report.fired  # a returned value is not a failure: never resent
    assert {d.status for d in engine.store.deliveries()} == {"delivered"}


def test_the_clock_jumping_backwards_sends_nothing_twice_and_loses_no_timer(
    engine: Engine,
) -> None:
    console, odd = RecordingChannel("console"), RecordingChannel("odd")
    engine.channels.register(console)
    engine.channels.register(odd)
    _add(engine)
    clock = engine.clock
    assert isinstance(clock, FakeClock)
    first = engine.run_due()
    sent = console.keys()
    assert first.fired >= 2 and len(sent) == first.fired
    armed = {t.key: t for t in engine.store.timers(owner="ada")}
    # Back two days (a VM resumed from an old snapshot, a wrong NTP answer): runs at the
    # earlier time fire nothing again and deliver nothing again.
    clock.set(START - timedelta(days=2))
    again = engine.run_due()
    assert again.fired == 0 and not again.delivery
    assert console.keys() == sent
    assert {t.key: t for t in engine.store.timers(owner="ada")} == armed
    # Time comes right again: every timer armed before the jump still fires, once.
    for days in range(1, 40):
        clock.set(START + timedelta(days=days))
        engine.run_due()
    assert len(console.keys()) == len(set(console.keys()))
    assert sorted(console.keys()) == sorted(odd.keys())
    fired = set(console.keys())
    assert {k for k, t in armed.items() if t.action == "notify"} <= fired
    assert {d.status for d in engine.store.deliveries()} == {"delivered"}
