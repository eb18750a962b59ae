"""ISO 8601 durations count their seconds (PT1H2M3S is 3,723 seconds, not 3,717) and
their months move the calendar date (P1M from 15 November is 15 December, same year).

Seconds and months were not pinned, so a sign flipped on the seconds and a year counted
as 11 months survived the timing room's mutation run (bench/MUTATION.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from followup.timing.calendar import Duration, WorkCalendar, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("PT1H2M3S", 3600 + 120 + 3),
    ("PT45S", 45),
    ("P1DT0H0M30S", 30),
])
def test_iso_seconds_add_up(text: str, seconds: int) -> None:
    parsed = parse_duration(text)
    assert parsed.seconds == seconds
    assert parsed == Duration(text, days=parsed.days, seconds=seconds)


@pytest.mark.parametrize(("start", "months", "end"), [
    ((2026, 11, 15), "P1M", (2026, 12, 15)),  # into December, the same year
    ((2026, 12, 15), "P1M", (2027, 1, 15)),
    ((2026, 1, 31), "P1M", (2026, 2, 28)),  # the month's last day when it is shorter
    ((2026, 3, 10), "P1Y", (2027, 3, 10)),
])
def test_months_move_the_calendar_date(start: tuple[int, int, int], months: str,
                                       end: tuple[int, int, int]) -> None:
    noon = datetime(*start, 12, tzinfo=UTC)
    assert WorkCalendar(timezone="UTC").add(noon, parse_duration(months)) == datetime(
        *end, 12, tzinfo=UTC)
