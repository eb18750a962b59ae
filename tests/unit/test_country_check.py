"""A calendar's country is checked against the registry of ``holidays`` and only that
country is imported, with the same messages as when every country was loaded to check it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date

import pytest

from followup.errors import CalendarError
from followup.timing.calendar import WorkCalendar


def calendar(country: str, subdivision: str | None = None) -> WorkCalendar:
    return WorkCalendar(timezone="UTC", country=country, subdivision=subdivision)


@pytest.mark.parametrize(("country", "subdivision", "day"), [
    ("us", "ny", date(2027, 2, 12)),  # Lincoln's Birthday: New York's, not the nation's
    ("USA", "New York", date(2027, 2, 12)),  # the alpha-3 code and the subdivision's name
    ("DE", "Bayern", date(2027, 1, 6)),  # Epiphany: Bavaria's, not the nation's
])
def test_codes_aliases_and_subdivision_names_are_read(
        country: str, subdivision: str, day: date) -> None:
    assert calendar(country, subdivision).holiday_name(day) is not None
    assert calendar(country).holiday_name(day) is None
    assert calendar("UK").holiday_name(date(2026, 12, 25)) is not None  # an alias


@pytest.mark.parametrize(("country", "subdivision", "message"), [
    ("USS", None, "unknown country 'USS' (did you mean 'US'?): use an ISO 3166 alpha-2 code"),
    ("Germany", None, "unknown country 'Germany': use an ISO 3166 alpha-2 code such as US"),
    ("US", "NYY", "unknown subdivision 'NYY' of US (did you mean 'NY'?): expected one of AK"),
    ("AX", "X", "country AX has no subdivisions: remove 'X'"),
])
def test_a_bad_country_or_subdivision_says_what_to_write(
        country: str, subdivision: str | None, message: str) -> None:
    with pytest.raises(CalendarError, match=r"^" + message.replace("(", r"\(").replace(
            ")", r"\)").replace("?", r"\?")):
        calendar(country, subdivision)


PROGRAM = textwrap.dedent("""
    import json, sys
    from followup.timing.calendar import WorkCalendar
    WorkCalendar(timezone="UTC", country=sys.argv[1])
    print(json.dumps(sorted(m for m in sys.modules if m.startswith("holidays.countries"))))
""")


@pytest.mark.parametrize(("country", "module"), [("DE", "germany"), ("US", "united_states")])
def test_only_the_one_country_is_imported(country: str, module: str) -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM, country], capture_output=True,
                          text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == [f"holidays.countries.{module}"]
