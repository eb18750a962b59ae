"""A test kit for plugin authors and embedders: a fake clock, a recording channel, and an
engine that uses both, also as pytest fixtures.

Installed with followup, this module is a pytest plugin: a test asks for
``followup_engine``, ``followup_clock`` or ``followup_channel`` and gets them fresh::

    def test_my_channel_gets_the_thank_you(followup_engine, followup_channel):
        followup_engine.add_application(
            owner="ada", company="Acme", role="Engineer",
            facts={"interviewed_at": "2026-12-23T15:00"},
            contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
        followup_engine.run_due()
        assert followup_channel.subjects() == ["Thank Jane Doe for the interview at Acme", ...]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import pytest

from followup.delivery.channels import Channel
from followup.language.pack import RulePack
from followup.model import Notification
from followup.runtime.engine import Engine
from followup.store import MemoryStore
from followup.timing.clock import FakeClock

__all__ = [
    "START",
    "RecordingChannel",
    "followup_channel",
    "followup_clock",
    "followup_engine",
    "make_engine",
]

#: Where the fake clock starts: Wednesday 23 December 2026, 16:00 in New York.
START = datetime(2026, 12, 23, 21, 0, tzinfo=UTC)


class RecordingChannel:
    """A channel that keeps what it is sent, in ``sent`` (oldest first); ``fail`` makes
    the next sends raise, to test what happens to a failed delivery.

    >>> channel = RecordingChannel()  # named "console", the default pack's channel
    >>> channel.fail(1)
    >>> channel.sent, channel.subjects()
    ([], [])
    """

    def __init__(self, name: str = "console") -> None:
        self.name = name
        self.sent: list[Notification] = []
        self.failures_left = 0

    def fail(self, times: int = 1) -> None:
        """Make the next ``times`` sends raise ``ConnectionError``."""
        self.failures_left = times

    def send(self, notification: Notification) -> None:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise ConnectionError(f"{self.name} is down (RecordingChannel.fail)")
        self.sent.append(notification)

    def subjects(self) -> list[str]:
        """The subjects of the notifications sent, oldest first."""
        return [n.subject for n in self.sent]

    def keys(self) -> list[str]:
        """The idempotency keys of the notifications sent, oldest first."""
        return [n.key for n in self.sent]


def make_engine(
    *,
    rules: RulePack | str | None = None,
    channels: Iterable[Channel] = (),
    start: datetime = START,
    owner: str = "ada",
    timezone: str = "America/New_York",
    country: str | None = "US",
) -> Engine:
    """An engine in memory on a ``FakeClock`` at ``start``, with ``owner`` set up."""
    engine = Engine(rules=rules, store=MemoryStore(), clock=FakeClock(start),
                    channels=list(channels))
    engine.set_owner(owner, timezone=timezone, country=country)
    return engine


@pytest.fixture
def followup_clock() -> FakeClock:
    """A ``FakeClock`` at ``START``."""
    return FakeClock(START)


@pytest.fixture
def followup_channel() -> RecordingChannel:
    """A ``RecordingChannel`` named ``console`` (the default pack's channel)."""
    return RecordingChannel()


@pytest.fixture
def followup_engine(
    followup_clock: FakeClock, followup_channel: RecordingChannel
) -> Iterator[Engine]:
    """An engine with the default pack, in memory, on ``followup_clock``, delivering to
    ``followup_channel``; owner ``ada`` lives in New York."""
    engine = Engine(store=MemoryStore(), clock=followup_clock, channels=[followup_channel])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    yield engine
    engine.close()
