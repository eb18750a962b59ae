"""A WorkCalendar is built from keyword arguments only, so that a call cannot swap the
time zone and the country (both strings) unnoticed.

Turning the ``*`` of its signature into ``/`` broke no other test: it survived the
timing room's mutation run (bench/MUTATION.md).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from followup.timing.calendar import WorkCalendar


def test_the_calendars_options_are_named() -> None:
    build: Any = WorkCalendar  # the type checkers would refuse the call itself
    with pytest.raises(TypeError, match=r"positional argument"):
        build("Europe/Berlin", "DE")
    named = WorkCalendar(timezone="Europe/Berlin", country="DE")
    assert named.holiday_name(date(2026, 10, 3)) is not None  # German Unity Day
