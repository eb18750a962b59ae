"""The search for a send time moves a day at a time across days off, not a minute at a time.

``WorkCalendar.next_send_time`` skips a day off by waiting for the next local midnight.
Waiting for any earlier wall time would still end on the right instant (the search then
creeps forward a minute per turn), so only the number of turns tells the two apart: a
calendar that counts the days it is asked about pins it, with no clock involved.
(A mutant that waited for the day before survived the timing room's mutation run:
bench/MUTATION.md.)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from followup.timing.calendar import WorkCalendar


class CountingCalendar(WorkCalendar):
    """A calendar that counts how often the search asks whether a day is a working day."""

    asked = 0

    def is_working_day(self, day: date) -> bool:
        self.asked += 1
        return super().is_working_day(day)


@pytest.mark.parametrize(("start", "expected"), [
    # Friday evening in New York, after the window: Monday at its opening.
    (datetime(2026, 12, 4, 23, 30, tzinfo=UTC), datetime(2026, 12, 7, 14, 0, tzinfo=UTC)),
    # Christmas Eve (a Thursday, the 25th a holiday) after hours: Monday the 28th.
    (datetime(2026, 12, 24, 23, 30, tzinfo=UTC), datetime(2026, 12, 28, 14, 0, tzinfo=UTC)),
])
def test_days_off_are_skipped_a_day_at_a_time(start: datetime, expected: datetime) -> None:
    calendar = CountingCalendar(timezone="America/New_York", country="US",
                                send_window=(time(9), time(18)))
    assert calendar.next_send_time(start) == expected
    days = (expected.date() - start.date()).days + 1
    # One question per local day visited (and one for the day the window opens), never
    # one per minute: a weekend crept through a minute at a time asks thousands.
    assert calendar.asked <= 2 * days, calendar.asked
