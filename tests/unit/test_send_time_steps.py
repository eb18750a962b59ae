"""The search for a send time jumps to the next moment that can change the answer: across
days off a day at a time, past closing time or through quiet hours that wrap midnight in
one turn, never a minute at a time.

``WorkCalendar.next_send_time`` waits for the next local midnight, opening time or end
of quiet hours. Waiting for an earlier wall time would still end on the right instant
(the search then creeps forward a minute per turn), so only the number of turns tells
the two apart: a calendar that counts them pins it, with no clock involved. (Such
mutants survived the timing room's mutation run: bench/MUTATION.md.)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

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


class TurnCountingCalendar(WorkCalendar):
    """A calendar that counts the turns of the search (one local time read per turn)."""

    turns = 0

    def local(self, instant: datetime) -> datetime:
        self.turns += 1
        return super().local(instant)


def test_closing_time_itself_is_closed() -> None:
    """At 18:00:00 sharp the window is shut: the next turn is tomorrow's midnight, then
    its opening (three turns), not a minute later today."""
    calendar = TurnCountingCalendar(timezone="America/New_York", country="US")
    tuesday_at_six = datetime(2026, 12, 8, 23, 0, tzinfo=UTC)
    assert calendar.next_send_time(tuesday_at_six) == datetime(2026, 12, 9, 14, 0, tzinfo=UTC)
    assert calendar.turns == 3


@pytest.mark.parametrize("start", [
    datetime(2026, 12, 8, 22, 0, tzinfo=UTC),  # the quiet hours' first second
    datetime(2026, 12, 8, 23, 0, tzinfo=UTC),
    datetime(2026, 12, 9, 3, 0, tzinfo=UTC),  # after midnight: today's 07:00
])
def test_quiet_hours_that_wrap_midnight_end_in_one_turn(start: datetime) -> None:
    calendar = TurnCountingCalendar(timezone="UTC", send_window=None,
                                    quiet_hours=[(time(22), time(7))])
    found = calendar.next_send_time(start, working_days_only=False)
    assert found == datetime(2026, 12, 9, 7, 0, tzinfo=UTC)
    assert calendar.turns == 2, calendar.turns
    assert found - start < timedelta(hours=10)


def test_without_a_send_window_the_next_working_day_starts_at_midnight() -> None:
    """No window: a Saturday's reminder goes out at Monday's first minute (00:00), not
    at any later hour of it."""
    calendar = WorkCalendar(timezone="UTC", send_window=None)
    saturday_noon = datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert calendar.next_send_time(saturday_noon) == datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def test_after_closing_the_next_day_is_searched_from_its_midnight() -> None:
    """A window opening at 00:30: after closing, the next send time is 00:30 the next
    day, which a search that resumed at any later hour would miss."""
    calendar = WorkCalendar(timezone="UTC", send_window=(time(0, 30), time(18)))
    tuesday_evening = datetime(2026, 12, 8, 19, tzinfo=UTC)
    assert calendar.next_send_time(tuesday_evening) == datetime(2026, 12, 9, 0, 30, tzinfo=UTC)
