"""A send time inside the hour that a fall-back repeats is found exactly, in the second
occurrence when the first has passed.

At 01:10:30 EST on 1 November 2026 (New York's second 01:10, the clocks went back at
02:00 EDT), quiet hours until 01:30 end at the second 01:30: 06:30:00 UTC. The calendar
takes that wall time's later occurrence (``fold=1``) when its first is not after now.
Without that step the search creeps on a minute at a time and stops at 01:30:30, thirty
seconds late: the fold handling is not equivalent to leaving it out, which the issue on
mutation testing wondered (``candidate <= current`` made ``>`` survived the first run;
bench/MUTATION.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from followup.timing.calendar import WorkCalendar

QUIET_UNTIL_HALF_PAST_ONE = WorkCalendar(
    timezone="America/New_York", send_window=None, quiet_hours=[(time(0), time(1, 30))])


def test_the_second_half_past_one_is_found_to_the_second() -> None:
    second_ten_past_one = datetime(2026, 11, 1, 6, 10, 30, tzinfo=UTC)  # 01:10:30 EST
    found = QUIET_UNTIL_HALF_PAST_ONE.next_send_time(second_ten_past_one,
                                                     working_days_only=False)
    assert found == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30:00 EST


def test_the_first_half_past_one_is_found_before_the_clocks_go_back() -> None:
    first_ten_past_one = datetime(2026, 11, 1, 5, 10, 30, tzinfo=UTC)  # 01:10:30 EDT
    found = QUIET_UNTIL_HALF_PAST_ONE.next_send_time(first_ten_past_one,
                                                     working_days_only=False)
    assert found == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30:00 EDT
