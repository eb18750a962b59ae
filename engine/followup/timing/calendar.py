"""Durations, and the working calendar one owner lives by.

Instants are stored as aware UTC datetimes; every calendar step (adding days, counting
working days, finding close of business) happens on the owner's local wall clock, so a
daylight-saving change or a date line never moves a deadline.

>>> cal = WorkCalendar(timezone="America/New_York", country="US")
>>> interview = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)  # Wed 15:00 in New York
>>> cal.deadline(interview, parse_duration("2 working days")).isoformat()
'2026-12-28T22:00:00+00:00'
"""

from __future__ import annotations

import calendar
import importlib.util
import re
import sys
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from followup.errors import CalendarError, suggest

__all__ = [
    "CalendarError",
    "Duration",
    "WorkCalendar",
    "parse_duration",
    "parse_time_of_day",
    "parse_time_range",
    "parse_weekdays",
    "why_held",
]


# --- durations ------------------------------------------------------------------------------

_ACCEPTED_DURATIONS = (
    'write "2 working days", "7 days", "2 weeks", "4 hours", "30 minutes" '
    "or an ISO 8601 duration such as P1W, P10D, PT4H or P1DT2H"
)
_WORDS = re.compile(
    r"(?P<n>\d+)\s+(?P<unit>working\s+days?|days?|weeks?|hours?|minutes?)", re.IGNORECASE
)
_ISO = re.compile(
    r"P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+)S)?)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Duration:
    """A span of time as a rule states it: calendar months and days, working days, seconds.

    Two durations are equal when their amounts are, however they were written.
    """

    text: str = field(compare=False)  # as written, for messages
    months: int = 0
    days: int = 0
    working_days: int = 0
    seconds: int = 0

    def __post_init__(self) -> None:
        for name in ("months", "days", "working_days", "seconds"):
            if getattr(self, name) < 0:
                raise CalendarError(f"duration {self.text!r}: {name} must not be negative")

    @property
    def day_based(self) -> bool:
        """True when the duration counts whole days only, so a deadline lands at day's end."""
        return self.seconds == 0

    def __bool__(self) -> bool:
        return any((self.months, self.days, self.working_days, self.seconds))


def parse_duration(text: str) -> Duration:
    """Read "2 working days", "7 days", "4 hours", "P1W", "PT30M", ... into a Duration."""
    cleaned = text.strip()
    words = _WORDS.fullmatch(cleaned)
    if words:
        n, unit = int(words["n"]), words["unit"].lower()
        if unit.startswith("working"):
            return Duration(cleaned, working_days=n)
        if unit.startswith("day"):
            return Duration(cleaned, days=n)
        if unit.startswith("week"):
            return Duration(cleaned, days=7 * n)
        return Duration(cleaned, seconds=n * (3600 if unit.startswith("hour") else 60))
    iso = _ISO.fullmatch(cleaned)
    if iso and any(iso.groupdict().values()):
        g = {key: int(value or 0) for key, value in iso.groupdict().items()}
        return Duration(
            cleaned,
            months=12 * g["y"] + g["mo"],
            days=7 * g["w"] + g["d"],
            seconds=3600 * g["h"] + 60 * g["mi"] + g["s"],
        )
    raise CalendarError(f"{text!r} is not a duration: {_ACCEPTED_DURATIONS}")


# --- times of day and weekdays -------------------------------------------------------------

_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_NAMES = {name: i for i, full in enumerate(_WEEKDAYS) for name in (full, full[:3])}


def parse_time_of_day(text: str) -> time:
    """Read a 24-hour "HH:MM" such as "09:00" or "17:30"."""
    found = _TIME.fullmatch(text.strip())
    if not found:
        raise CalendarError(
            f"{text!r} is not a time of day: write 24-hour HH:MM such as 09:00 or 17:30"
        )
    return time(int(found[1]), int(found[2]))


def parse_time_range(text: str) -> tuple[time, time]:
    """Read "09:00-18:00"; a range may wrap midnight, as "22:00-07:00" does."""
    start, sep, end = text.partition("-")
    if not sep:
        raise CalendarError(
            f"{text!r} is not a time range: write start-end such as 09:00-18:00 or 22:00-07:00"
        )
    first, last = parse_time_of_day(start), parse_time_of_day(end)
    if first == last:
        raise CalendarError(f"time range {text!r} is empty: its start and end must differ")
    return first, last


def parse_weekdays(names: Iterable[str]) -> frozenset[int]:
    """Read weekday names ("mon", "Friday", or a range such as "sun-thu"); Monday is 0."""
    items = [names] if isinstance(names, str) else list(names)
    days: set[int] = set()
    for token in (t.strip() for item in items for t in item.split(",") if t.strip()):
        first, sep, last = token.partition("-")
        start = _weekday(first, token)
        stop = _weekday(last, token) if sep else start
        days.update((start + i) % 7 for i in range((stop - start) % 7 + 1))
    return frozenset(days)


def _weekday(name: str, token: str) -> int:
    key = name.strip().lower()
    if key in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES[key]
    raise CalendarError(
        f"unknown weekday {name.strip()!r}{suggest(key, _WEEKDAY_NAMES)} in {token!r}: "
        "use mon, tue, wed, thu, fri, sat, sun (or full names, or a range such as mon-fri)"
    )


# --- the calendar ---------------------------------------------------------------------------

_LATER = object()  # a calendar's holidays, not loaded yet (check_country=False)
_SHORT_LIST = 60  # list every valid subdivision in a message when there are at most this many
_SEARCH_DAYS = 3 * 366  # how far ahead to look for a working day or a send time before giving up


class WorkCalendar:
    """One owner's calendar: time zone, working days, send window and quiet hours."""

    def __init__(
        self,
        *,
        timezone: str = "UTC",
        country: str | None = None,
        subdivision: str | None = None,
        workweek: Collection[int] = (0, 1, 2, 3, 4),
        extra_holidays: Collection[date] = (),
        extra_working_days: Collection[date] = (),
        send_window: tuple[time, time] | None = (time(9), time(18)),
        quiet_hours: Sequence[tuple[time, time]] = (),
        close_of_business: time | None = time(17),
        check_country: bool = True,
    ) -> None:
        """``check_country=False``: the country and subdivision were checked before (an
        owner's stored settings), so the ``holidays`` package, slow to import, is loaded
        on the first question about a day instead (a command that only shows times never
        loads it), and not at all for a year the holiday cache has (``_holidaycache``);
        a country it no longer knows raises ``CalendarError`` then."""
        self.tz = _zone(timezone)
        self._country = (country, subdivision)
        self._holidays: Any = (_country_holidays(country, subdivision) if check_country
                               or country is None else _LATER)
        if any(not 0 <= d <= 6 for d in workweek):
            raise CalendarError(f"workweek {sorted(workweek)!r}: days are 0 (Monday) to 6")
        clash = set(extra_holidays) & set(extra_working_days)
        if clash:
            listed = ", ".join(d.isoformat() for d in sorted(clash))
            raise CalendarError(
                f"{listed} listed both as extra holidays and as extra working days: keep one"
            )
        for span in [*([send_window] if send_window else []), *quiet_hours]:
            _check_range(span)
        self.workweek = frozenset(workweek)
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_working_days = frozenset(extra_working_days)
        self.send_window = send_window
        self.quiet_hours = tuple(quiet_hours)
        self.close_of_business = close_of_business
        self._working: dict[date, bool] = {}
        # What the planner worked out on this calendar (runtime.planner): it lives and
        # dies with the calendar.
        self.memo: dict[object, datetime] = {}

    # days

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` is in the work week and no holiday, or listed as a working day."""
        known = self._working.get(day)
        if known is None:
            known = day in self.extra_working_days or (
                day.weekday() in self.workweek and self.holiday_name(day) is None
            )
            self._working[day] = known
        return known

    def holiday_name(self, day: date) -> str | None:
        """The name of the holiday on ``day``, or None when it is no holiday."""
        if self._holidays is _LATER:
            from followup.timing._holidaycache import HolidayYears

            country, subdivision = self._country
            self._holidays = HolidayYears(
                country or "", subdivision,
                lambda: _country_holidays(country, subdivision))
        if self._holidays is not None:
            name = self._holidays.get(day)
            if name is not None:
                return str(name)
        return "custom holiday" if day in self.extra_holidays else None

    # instants

    def local(self, instant: datetime) -> datetime:
        """``instant`` on the owner's wall clock, as an aware datetime."""
        return _aware(instant).astimezone(self.tz)

    def local_date(self, instant: datetime) -> date:
        """The owner's calendar date at ``instant``."""
        return self.local(instant).date()

    def to_utc(self, local_naive: datetime) -> datetime:
        """The UTC instant of a naive wall time in the owner's zone.

        A wall time skipped by a spring-forward change moves forward by the gap (02:30
        becomes 03:30); one repeated by a fall-back change means its first occurrence.
        """
        if local_naive.tzinfo is not None:
            raise CalendarError(f"to_utc needs a naive local wall time, got {local_naive!r}")
        # With fold=0, zoneinfo reads a skipped time with the offset in force before the
        # change, which is exactly "forward by the gap"; a repeated time gets its first offset.
        return local_naive.replace(tzinfo=self.tz, fold=0).astimezone(UTC)

    def start_of_day(self, day: date) -> datetime:
        """When the send window opens on local date ``day`` (local midnight without one)."""
        opening = self.send_window[0] if self.send_window else time(0)
        return self.to_utc(datetime.combine(day, opening))

    def end_of_day(self, day: date) -> datetime:
        """Close of business on local date ``day`` (23:59 local when none is set)."""
        return self.to_utc(datetime.combine(day, self.close_of_business or time(23, 59)))

    def add(self, start: datetime, duration: Duration) -> datetime:
        """When something fires: ``duration`` after ``start``, keeping the local time of day."""
        local = self.local(start)
        target = self._shift(local.date(), duration)
        base = (
            start.astimezone(UTC)  # same date: keep the instant itself, even inside a fold
            if target == local.date()
            else self.to_utc(datetime.combine(target, local.time()))
        )
        return base + timedelta(seconds=duration.seconds)

    def deadline(self, start: datetime, duration: Duration) -> datetime:
        """When something is due: close of business on the target day, for day-based spans."""
        if duration.day_based:
            return self.end_of_day(self._shift(self.local_date(start), duration))
        return self.add(start, duration)

    def next_send_time(self, instant: datetime, *, working_days_only: bool = True) -> datetime:
        """The earliest instant at or after ``instant`` when a message may go out."""
        current = _aware(instant).astimezone(UTC)
        limit = current + timedelta(days=_SEARCH_DAYS)
        while current <= limit:
            local = self.local(current)
            day, now = local.date(), local.time()
            if working_days_only and not self.is_working_day(day):
                wait_until = datetime.combine(day + timedelta(days=1), time(0))
            else:
                blocked = self._blocked_until(day, now)
                if blocked is None:
                    return current
                wait_until = blocked
            current = self._after(wait_until, current)
        raise CalendarError(
            f"no send time within three years of {instant.isoformat()}: check the work week "
            f"{sorted(self.workweek)}, send window and quiet hours of this calendar"
        )

    # helpers

    def _shift(self, day: date, duration: Duration) -> date:
        if duration.months:
            month0 = day.month - 1 + duration.months
            year, month = day.year + month0 // 12, month0 % 12 + 1
            day = date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
        day += timedelta(days=duration.days)
        for _ in range(duration.working_days):
            day = self._next_working_day(day)
        return day

    def _next_working_day(self, start: date) -> date:
        day = start
        for _ in range(_SEARCH_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise CalendarError(
            f"no working day within three years after {start.isoformat()}: check the work week "
            f"{sorted(self.workweek)} and extra holidays of this calendar"
        )

    def _blocked_until(self, day: date, now: time) -> datetime | None:
        """The local wall time to wait for, or None when ``now`` on ``day`` is open."""
        if self.send_window and not _inside(now, self.send_window):
            opening, closing = self.send_window
            if opening < closing and now >= closing:
                return datetime.combine(day + timedelta(days=1), time(0))
            return datetime.combine(day, opening)
        for span in self.quiet_hours:
            if _inside(now, span):
                wraps_to_tomorrow = span[0] > span[1] and now >= span[0]
                return datetime.combine(day + timedelta(days=int(wraps_to_tomorrow)), span[1])
        return None

    def _after(self, wall: datetime, current: datetime) -> datetime:
        """``wall`` as a UTC instant later than ``current`` (its second occurrence if need be)."""
        candidate = self.to_utc(wall)
        if candidate <= current:
            candidate = wall.replace(tzinfo=self.tz, fold=1).astimezone(UTC)
        return candidate if candidate > current else current + timedelta(minutes=1)


def why_held(calendar: WorkCalendar, now: datetime) -> tuple[datetime, str] | None:
    """When a reminder due at ``now`` may go out under ``calendar``, and why not now:
    ``None`` when it may go now. The reason names the day off (a weekend day or the
    holiday), the send window or the quiet hours, in the owner's time.

    >>> from datetime import UTC
    >>> until, why = why_held(WorkCalendar(), datetime(2026, 12, 26, 12, tzinfo=UTC))
    >>> until.isoformat(), why
    ('2026-12-28T09:00:00+00:00', 'Saturday 2026-12-26 is not a working day')
    """
    until = calendar.next_send_time(now)
    if until <= now:
        return None
    local = calendar.local(now)
    day, clock = local.date(), local.time()
    if not calendar.is_working_day(day):
        holiday = calendar.holiday_name(day)
        return until, (f"{local:%A} {day.isoformat()} is not a working day"
                       + (f" ({holiday})" if holiday else ""))
    window = calendar.send_window
    if window is not None and not _inside(clock, window):
        return until, f"outside the send window {window[0]:%H:%M}-{window[1]:%H:%M}"
    for span in calendar.quiet_hours:
        if _inside(clock, span):
            return until, f"quiet hours {span[0]:%H:%M}-{span[1]:%H:%M}"
    return until, "outside the times reminders may go out"


def _inside(now: time, span: tuple[time, time]) -> bool:
    start, end = span
    return start <= now < end if start < end else (now >= start or now < end)


def _check_range(span: tuple[time, time]) -> None:
    start, end = span
    if start.tzinfo is not None or end.tzinfo is not None:
        raise CalendarError(f"time range {span!r}: use naive local times, the zone is the owner's")
    if start == end:
        raise CalendarError(f"time range {start:%H:%M}-{end:%H:%M} is empty: start and end differ")


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise CalendarError(f"a calendar needs a timezone-aware datetime, got {instant!r}")
    return instant


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        hint = suggest(name, sorted(available_timezones()))
        raise CalendarError(
            f"unknown time zone {name!r}{hint}: use an IANA name such as Europe/Berlin"
        ) from exc


def _country_holidays(country: str | None, subdivision: str | None) -> Any:
    if country is None:
        if subdivision is not None:
            raise CalendarError(f"subdivision {subdivision!r} given without a country: add one")
        return None
    import holidays  # only for a calendar with a country: it is slow to import

    code = country.strip().upper()
    codes = _country_codes()
    if code not in codes:
        alpha2 = sorted(c for c in codes if len(c) == 2)
        raise CalendarError(
            f"unknown country {country!r}{suggest(code, alpha2)}: use an ISO 3166 alpha-2 "
            "code such as US, GB, DE"
        )
    _import_country(code)
    try:
        valid = list(getattr(holidays, code).subdivisions)
        subdiv = None if subdivision is None else _subdivision(code, subdivision, valid)
        return holidays.country_holidays(code, subdiv=subdiv)
    except NotImplementedError as exc:  # an alias holidays lists but will not build
        raise CalendarError(f"no holidays for country {country!r}: {exc}") from exc


@cache
def _country_codes() -> frozenset[str]:
    """Every country code (and alias) the ``holidays`` package knows, read from its
    registry without importing a country: ``holidays.list_supported_countries()`` imports
    all of them (about 250 modules) to list their subdivisions, which a check of one code
    does not need. Older versions without that registry fall back to it."""
    try:
        from holidays.registry import EntityLoader

        return frozenset(EntityLoader.get_country_codes())
    except (ImportError, AttributeError):
        import holidays

        return frozenset(holidays.list_supported_countries())


def _import_country(code: str) -> None:
    """Import the one module of ``holidays`` that defines ``code``, and no other.

    ``holidays`` finds a country's class by importing ``holidays.countries.NAME``, which
    first runs the package ``holidays.countries``, and that imports all 250 countries
    (about as long as the rest of a command). A module already in ``sys.modules`` is
    used as it is, so loading this one file under its own name first lets ``holidays``
    build the calendar from it alone. If that fails for any reason (another version of
    holidays), nothing is kept and ``holidays`` imports the country its own way.
    """
    try:
        from holidays.registry import COUNTRIES, IMPORT_LOCK
    except ImportError:
        return
    module = next((m for m, names in COUNTRIES.items() if code in names[1:]), None)
    name = f"holidays.countries.{module}"
    if module is None or "holidays.countries" in sys.modules or name in sys.modules:
        return
    import holidays

    file = Path(holidays.__file__).parent / "countries" / f"{module}.py"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        return
    with IMPORT_LOCK:
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded
        try:
            spec.loader.exec_module(loaded)
        except Exception:
            sys.modules.pop(name, None)


def _subdivision(country: str, subdivision: str, valid: list[str]) -> str:
    wanted = subdivision.strip().lower()
    for code in valid:
        if code.lower() == wanted:
            return code
    import holidays

    aliases: dict[str, str] = getattr(getattr(holidays, country), "subdivisions_aliases", {})
    for alias, code in aliases.items():
        if alias.lower() == wanted:
            return code
    if not valid:
        raise CalendarError(f"country {country} has no subdivisions: remove {subdivision!r}")
    hint = suggest(subdivision.strip(), valid)
    choices = (
        f"expected one of {', '.join(valid)}"
        if len(valid) <= _SHORT_LIST
        else "see the subdivisions the holidays package lists for it"
    )
    raise CalendarError(f"unknown subdivision {subdivision!r} of {country}{hint}: {choices}")

