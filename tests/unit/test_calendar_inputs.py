"""What a calendar takes and gives as values: a Duration is immutable and hashable (plans
remember instants by it), the default send window is 09:00-18:00, the work week's days
are 0 to 6, an instant whose zone knows no offset is refused like a naive one, and so is
a time range with a zone of its own.

Each of these changed survived the timing room's mutation run (bench/MUTATION.md).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta, tzinfo

import pytest

from followup.errors import CalendarError
from followup.timing.calendar import Duration, WorkCalendar, parse_duration


def test_a_duration_is_an_immutable_value() -> None:
    two_days = parse_duration("2 days")
    assert hash(two_days) == hash(Duration("48 hours is not this", days=2))
    assert {two_days: "x"}[parse_duration("P2D")] == "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        two_days.days = 3  # type: ignore[misc]


def test_the_default_send_window_is_nine_to_six() -> None:
    assert WorkCalendar().send_window == (time(9), time(18))


@pytest.mark.parametrize("day", [-1, 7])
def test_a_work_week_day_outside_0_to_6_is_refused(day: int) -> None:
    with pytest.raises(CalendarError, match=r"days are 0 \(Monday\) to 6"):
        WorkCalendar(workweek=(0, day))


class NoOffset(tzinfo):
    """A zone that cannot say its offset: as good as none."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_an_instant_without_an_offset_is_refused() -> None:
    with pytest.raises(CalendarError, match=r"needs a timezone-aware datetime, got"):
        WorkCalendar().next_send_time(datetime(2026, 12, 7, 12, tzinfo=NoOffset()))


@pytest.mark.parametrize("window", [(time(9, tzinfo=UTC), time(18)),
                                    (time(9), time(18, tzinfo=UTC))])
def test_a_time_range_with_a_zone_is_refused(window: tuple[time, time]) -> None:
    with pytest.raises(CalendarError, match=r"use naive local times, the zone is the owner's"):
        WorkCalendar(send_window=window)
