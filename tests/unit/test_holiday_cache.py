"""Each country's holidays kept between commands (timing/_holidaycache.py): the cached
answer is the ``holidays`` package's own for every day, a year the cache has needs no
``holidays`` at all, and an entry that is damaged or for another release is not used."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import holidays
import pytest

from followup.timing._holidaycache import HolidayYears
from followup.timing.calendar import WorkCalendar

PLACES = [("US", "NY"), ("GB", "SCT"), ("DE", "BY"), ("JP", None)]


def _days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


class Loads:
    """``load`` for HolidayYears that counts its calls, or refuses to be called."""

    def __init__(self, country: str, subdivision: str | None, *, allowed: bool = True) -> None:
        self.country, self.subdivision, self.allowed, self.calls = (
            country, subdivision, allowed, 0)

    def __call__(self) -> Any:
        assert self.allowed, "the holidays package was asked, though the cache has the year"
        self.calls += 1
        return holidays.country_holidays(self.country, subdiv=self.subdivision)


@pytest.mark.parametrize(("country", "subdivision"), PLACES)
def test_every_day_is_what_holidays_says_before_and_after_the_cache(
        tmp_path: Path, country: str, subdivision: str | None) -> None:
    env = {"FOLLOWUP_CACHE_DIR": str(tmp_path)}
    truth = holidays.country_holidays(country, subdiv=subdivision)
    years = range(2024, 2029)
    first = HolidayYears(country, subdivision, Loads(country, subdivision), env)
    for year in years:
        for day in _days(year):
            assert first.get(day) == truth.get(day), day
    again = HolidayYears(country, subdivision, Loads(country, subdivision, allowed=False), env)
    for year in years:
        for day in _days(year):
            assert again.get(day) == truth.get(day), day


def test_a_holiday_observed_across_new_year_stays_in_its_year(tmp_path: Path) -> None:
    env = {"FOLLOWUP_CACHE_DIR": str(tmp_path)}
    # 1 January 2022 was a Saturday: the US observed it on Friday 31 December 2021.
    years = HolidayYears("US", None, Loads("US", None), env)
    assert years.get(date(2021, 12, 31)) == "New Year's Day (observed)"
    assert years.get(date(2022, 1, 1)) == "New Year's Day"
    cached = HolidayYears("US", None, Loads("US", None, allowed=False), env)
    assert cached.get(date(2021, 12, 31)) == "New Year's Day (observed)"
    assert cached.get(date(2022, 1, 1)) == "New Year's Day"


def test_an_instant_is_read_as_its_day(tmp_path: Path) -> None:
    years = HolidayYears("US", None, Loads("US", None), {"FOLLOWUP_CACHE_DIR": str(tmp_path)})
    assert years.get(datetime(2026, 12, 25, 23, 59)) == "Christmas Day"


def test_a_new_year_is_learnt_once_and_kept(tmp_path: Path) -> None:
    env = {"FOLLOWUP_CACHE_DIR": str(tmp_path)}
    load = Loads("US", "NY")
    HolidayYears("US", "NY", load, env).get(date(2026, 7, 4))
    assert load.calls == 1
    later = Loads("US", "NY")
    second = HolidayYears("US", "NY", later, env)
    assert second.get(date(2026, 12, 25)) == "Christmas Day"
    assert later.calls == 0
    assert second.get(date(2031, 12, 25)) == "Christmas Day"
    assert later.calls == 1
    [entry] = (tmp_path / "holidays").glob("*.json")
    assert sorted(json.loads(entry.read_text(encoding="utf-8"))["years"]) == ["2026", "2031"]


@pytest.mark.parametrize("spoil", ["another release", "not json", "a day that is no date",
                                   "open to the group"])
def test_an_entry_not_to_be_believed_is_not_used(tmp_path: Path, spoil: str) -> None:
    env = {"FOLLOWUP_CACHE_DIR": str(tmp_path)}
    HolidayYears("US", "NY", Loads("US", "NY"), env).get(date(2026, 7, 4))
    [entry] = (tmp_path / "holidays").glob("*.json")
    raw = json.loads(entry.read_text(encoding="utf-8"))
    raw["years"]["2026"] = [["2026-03-03", "Planted Day"]]
    if spoil == "another release":
        raw["key"][1][1] = "0" * 64
    elif spoil == "a day that is no date":
        raw["years"]["2026"] = [["the third of March", "Planted Day"]]
    text = "{\"key\": [" if spoil == "not json" else json.dumps(raw)
    entry.write_text(text, encoding="utf-8")
    if spoil == "open to the group":
        entry.parent.chmod(0o770)
    load = Loads("US", "NY")
    years = HolidayYears("US", "NY", load, env)
    assert years.get(date(2026, 3, 3)) is None
    assert years.get(date(2026, 7, 4)) == "Independence Day"
    assert load.calls == 1


def test_with_the_cache_off_the_package_answers(tmp_path: Path) -> None:
    load = Loads("US", "NY")
    years = HolidayYears("US", "NY", load, {"FOLLOWUP_CACHE_DIR": "off"})
    assert years.get(date(2026, 11, 26)) == "Thanksgiving Day"
    assert load.calls == 1
    assert not list(tmp_path.iterdir())


def test_a_stored_calendar_reads_its_holidays_from_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The calendar an owner's stored settings make (check_country=False) uses the
    cache; one checked now (an explicit country) still asks the package."""
    monkeypatch.setenv("FOLLOWUP_CACHE_DIR", str(tmp_path))
    stored = WorkCalendar(timezone="America/New_York", country="US", subdivision="NY",
                          check_country=False)
    assert not stored.is_working_day(date(2026, 11, 26))
    assert stored.holiday_name(date(2026, 2, 12)) == "Lincoln's Birthday"
    [entry] = (tmp_path / "holidays").glob("*.json")
    assert "2026" in json.loads(entry.read_text(encoding="utf-8"))["years"]
