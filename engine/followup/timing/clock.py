"""The one source of the current time; nothing else in followup reads the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "FakeClock", "SystemClock"]


class Clock(Protocol):
    """Anything that can say what time it is, as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time, from the operating system."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to: for simulations and tests.

    >>> clock = FakeClock(datetime(2026, 12, 23, 20, 0, tzinfo=UTC))
    >>> clock.advance(timedelta(days=1)).isoformat()
    '2026-12-24T20:00:00+00:00'
    """

    def __init__(self, start: datetime) -> None:
        self._now = _aware_utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> datetime:
        """Jump to ``instant`` (backwards too: tests need a clock that misbehaves)."""
        self._now = _aware_utc(instant)
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new time."""
        self._now = self._now + delta
        return self._now


def _aware_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError(f"a clock needs a timezone-aware datetime, got {instant!r}")
    return instant.astimezone(UTC)
