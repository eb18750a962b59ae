"""Each country's holidays, kept between commands, so a command that asks about a working
day does not import the ``holidays`` package (tens of milliseconds) to learn a year it
learnt before.

A calendar whose country was checked earlier (an owner's stored settings) reads its
holidays a year at a time: from ``holidays`` in the user's cache folder
(``followup.cachefiles``) when an entry for this country, subdivision and ``holidays``
release has that year; otherwise from the ``holidays`` package, and the year is added to
the entry. The release is told by the package's ``version.py`` (found, not imported), so
upgrading ``holidays`` starts a new entry. A year is everything ``holidays`` says of its
days with the years on either side loaded too, so a holiday observed across New Year is
where it belongs.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from followup.cachefiles import cache_root, digest, read_entry, write_entry

__all__ = ["KEEP", "HolidayYears"]

FORMAT = 2  # the entry format; a change makes every older entry a miss
KEEP = 16  # entries kept (one per country, subdivision and holidays release)


class HolidayYears:
    """``get(day)``: the name of the holiday on ``day`` or None, as the object
    ``load()`` returns (``holidays.country_holidays(...)``) would say, read from the cache
    where it can be. ``load`` raises what checking the country raises."""

    def __init__(self, country: str, subdivision: str | None, load: Any,
                 environ: Mapping[str, str] | None = None) -> None:
        self._what = [country, subdivision]
        self._load = load
        self._real: Any = None
        self._years: dict[int, dict[date, str]] = {}
        self._entry: dict[str, Any] | None = None
        root = cache_root(environ)
        self._folder = None if root is None else root / "holidays"

    def get(self, day: date) -> str | None:
        if type(day) is not date:  # a datetime: its day, as holidays reads it
            day = date(day.year, day.month, day.day)
        found = self._years.get(day.year)
        if found is None:
            found = self._years[day.year] = self._year(day.year)
        return found.get(day)

    def _year(self, year: int) -> dict[date, str]:
        entry = self._read()
        kept = None if entry is None else entry["years"].get(str(year))
        if kept is not None:
            return {date.fromisoformat(day): name for day, name in kept}
        if self._real is None:
            self._real = self._load()
        for near in (year - 1, year, year + 1):
            self._real.get(date(near, 1, 1))  # loads that year's holidays
        days = {day: str(name) for day, name in self._real.items() if day.year == year}
        if entry is not None and self._folder is not None:
            entry["years"][str(year)] = sorted((d.isoformat(), n) for d, n in days.items())
            write_entry(self._folder, entry["name"], json.dumps(entry, ensure_ascii=False),
                        keep=KEEP)
        return days

    def _read(self) -> dict[str, Any] | None:
        """This calendar's entry (read once), or None when nothing can be kept."""
        if self._entry is not None or self._folder is None:
            return self._entry
        release = _release()
        if release is None:
            return None
        key = [FORMAT, release, *self._what]
        text = json.dumps(key, ensure_ascii=False)
        name = digest(text.encode("utf-8", "surrogatepass"))[:32]
        entry: dict[str, Any] = {"key": key, "name": f"{name}.json", "years": {}}
        found = read_entry(self._folder, entry["name"])
        if found is not None:
            try:
                raw = json.loads(found)
                if raw["key"] == key and isinstance(raw["years"], dict):
                    entry["years"] = {
                        str(y): [(str(day), str(n)) for day, n in days]
                        for y, days in raw["years"].items()}
                    for days in entry["years"].values():
                        for day, _name in days:
                            date.fromisoformat(day)
            except (ValueError, TypeError, KeyError):
                entry["years"] = {}
        self._entry = entry
        return entry


@cache
def _release() -> list[str] | None:
    """Where the ``holidays`` package is and a digest of its ``version.py``, found
    without importing it (once a process: a daemon's many calendars ask once); None
    when it cannot be found."""
    try:
        spec = importlib.util.find_spec("holidays")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    try:
        version = (Path(spec.origin).parent / "version.py").read_bytes()
    except OSError:
        return None
    return [spec.origin, digest(version)]
