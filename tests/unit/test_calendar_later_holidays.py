"""A calendar built from settings checked before loads its holidays on first use.

An owner's stored country was checked when it was set, so ``OwnerBook`` builds their
calendar with ``check_country=False``: a command that only shows times (``show``,
``list``) then never imports the ``holidays`` package, which is slow to import, and a
year the holiday cache has needs no ``holidays`` at all. What changes is which modules
are imported, which a fresh interpreter shows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from followup import CalendarError, Engine, MemoryStore
from followup.timing.calendar import WorkCalendar

SCRIPT = """
import sys
from datetime import UTC, date, datetime
from followup.timing.calendar import WorkCalendar
calendar = WorkCalendar(timezone="America/New_York", country="US", check_country=False)
calendar.local(datetime(2026, 7, 4, 12, tzinfo=UTC))
print("holidays" in sys.modules)
print(calendar.holiday_name(date(2026, 7, 4)))
print("holidays" in sys.modules)
"""


def _script(cache: str) -> list[str]:
    env = {**os.environ, "FOLLOWUP_CACHE_DIR": cache}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120, check=False, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\n")[:3]


def test_holidays_are_imported_on_the_first_question_about_a_day() -> None:
    assert _script("off") == ["False", "Independence Day", "True"]


def test_a_year_the_holiday_cache_has_needs_no_holidays_at_all(tmp_path: Path) -> None:
    assert _script(str(tmp_path)) == ["False", "Independence Day", "True"]  # learnt
    assert _script(str(tmp_path)) == ["False", "Independence Day", "False"]  # kept


def test_a_country_unknown_later_is_refused_at_the_first_question() -> None:
    calendar = WorkCalendar(country="XX", check_country=False)
    with pytest.raises(CalendarError, match="unknown country 'XX'"):
        calendar.is_working_day(date(2026, 7, 6))


def test_a_country_is_still_checked_when_it_is_set() -> None:
    with pytest.raises(CalendarError, match="unknown country 'XX'"):
        WorkCalendar(country="XX")
    engine = Engine(store=MemoryStore(), channels=[])
    with pytest.raises(CalendarError, match="unknown country 'XX'"):
        engine.set_owner("ada", country="XX")
    assert not engine.has_owner("ada")


def test_an_owners_calendar_knows_their_holidays() -> None:
    engine = Engine(store=MemoryStore(), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    assert engine.calendar("ada").holiday_name(date(2026, 7, 3)) == "Independence Day (observed)"
    assert not engine.calendar("ada").is_working_day(date(2026, 7, 3))
