"""How far the calendar looks for a working day: three years, leap days counted.

A calendar whose next working day is years away (an empty work week and one listed
working day) finds it up to 3 x 366 days ahead and refuses with a clear error beyond.
A horizon of 3 x 365 days survived the timing room's mutation run (bench/MUTATION.md):
three years that hold a 29 February are 1,096 days long.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from followup.errors import CalendarError
from followup.timing.calendar import WorkCalendar, parse_duration

START = datetime(2026, 1, 1, 12, tzinfo=UTC)
ONE_WORKING_DAY = parse_duration("1 working day")


@pytest.mark.parametrize("ahead", [1, 1096, 3 * 366])
def test_a_working_day_three_years_ahead_is_found(ahead: int) -> None:
    day = START.date() + timedelta(days=ahead)
    calendar = WorkCalendar(workweek=(), extra_working_days=[day])
    assert calendar.add(START, ONE_WORKING_DAY) == START + timedelta(days=ahead)


def test_beyond_three_years_the_calendar_says_what_to_check() -> None:
    calendar = WorkCalendar(workweek=(), extra_working_days=[date(2029, 1, 4)])
    # The message names the day the search started from, not where it gave up.
    with pytest.raises(CalendarError, match=r"no working day within three years after "
                                            r"2026-01-01: check the work week"):
        calendar.add(START, ONE_WORKING_DAY)


def test_a_calendar_without_a_send_time_says_so() -> None:
    """No working day ever: the search for a send time gives up after three years too,
    instead of running on."""
    calendar = WorkCalendar(workweek=())
    with pytest.raises(CalendarError, match=r"no send time within three years of 2026-01-01"):
        calendar.next_send_time(START)


def test_the_last_day_of_the_horizon_is_still_searched() -> None:
    """From midnight, a send time exactly 3 x 366 days later is the last one found."""
    midnight = datetime(2026, 1, 1, tzinfo=UTC)
    last = midnight + timedelta(days=3 * 366)
    calendar = WorkCalendar(workweek=(), extra_working_days=[last.date()], send_window=None)
    assert calendar.next_send_time(midnight) == last
