"""A WorkCalendar is built from keyword arguments only, so that a call cannot swap the
time zone and the country (both strings) unnoticed; ``next_send_time`` names its
``working_days_only`` too.

Turning the ``*`` of either signature into ``/`` broke no other test: both survived the
timing room's mutation run (bench/MUTATION.md).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from followup.timing.calendar import WorkCalendar


def test_the_calendars_options_are_named() -> None:
    build: Any = WorkCalendar  # the type checkers would refuse the call itself
    with pytest.raises(TypeError, match=r"positional argument"):
        build("Europe/Berlin", "DE")
    named = WorkCalendar(timezone="Europe/Berlin", country="DE")
    assert named.holiday_name(date(2026, 10, 3)) is not None  # German Unity Day


def test_working_days_only_is_named() -> None:
    calendar: Any = WorkCalendar(timezone="UTC")
    saturday = datetime(2026, 12, 5, 12, tzinfo=UTC)
    with pytest.raises(TypeError, match=r"positional argument"):
        calendar.next_send_time(saturday, False)
    assert calendar.next_send_time(saturday, working_days_only=False) == saturday
