"""The fake clock takes only aware times and keeps them in UTC, like the real one.

The timing room's tests never built a FakeClock, so the check that refuses a naive
datetime survived mutation turned round (bench/MUTATION.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from followup.timing.clock import FakeClock, SystemClock

BERLIN_NOON = datetime(2026, 12, 23, 12, tzinfo=timezone(timedelta(hours=1)))


def test_aware_times_are_kept_in_utc() -> None:
    clock = FakeClock(BERLIN_NOON)
    assert clock.now() == BERLIN_NOON and clock.now().tzinfo is UTC
    assert clock.advance(timedelta(hours=2)) == datetime(2026, 12, 23, 13, tzinfo=UTC)
    assert clock.set(BERLIN_NOON - timedelta(days=1)) == datetime(2026, 12, 22, 11, tzinfo=UTC)
    assert clock.now() == datetime(2026, 12, 22, 11, tzinfo=UTC)


@pytest.mark.parametrize("set_to", [FakeClock, lambda t: FakeClock(BERLIN_NOON).set(t)],
                         ids=["start", "set"])
def test_a_naive_time_is_refused_with_the_value(set_to: Callable[[datetime], object]) -> None:
    naive = datetime(2026, 12, 23, 12)
    with pytest.raises(ValueError, match=r"aware datetime, got datetime\.datetime\(2026, 12, 23"):
        set_to(naive)


def test_the_system_clock_answers_in_utc() -> None:
    assert SystemClock().now().tzinfo is UTC
