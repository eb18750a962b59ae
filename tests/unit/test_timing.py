"""Tests for followup.timing.calendar: durations, working days, deadlines and send times."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.errors import FollowupError
from followup.timing.calendar import (
    CalendarError,
    Duration,
    WorkCalendar,
    parse_duration,
    parse_time_of_day,
    parse_time_range,
    parse_weekdays,
)

NEW_YORK = WorkCalendar(timezone="America/New_York", country="US")
BERLIN = WorkCalendar(timezone="Europe/Berlin", country="DE", subdivision="BE")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def days(text: str) -> Duration:
    return parse_duration(text)


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 working days", Duration("", working_days=2)),
        ("1 working day", Duration("", working_days=1)),
        ("  2 Working  Days ", Duration("", working_days=2)),
        ("7 days", Duration("", days=7)),
        ("1 day", Duration("", days=1)),
        ("0 days", Duration("")),
        ("2 weeks", Duration("", days=14)),
        ("1 week", Duration("", days=7)),
        ("4 hours", Duration("", seconds=4 * 3600)),
        ("1 hour", Duration("", seconds=3600)),
        ("30 minutes", Duration("", seconds=1800)),
        ("1 minute", Duration("", seconds=60)),
        ("P1W", Duration("", days=7)),
        ("P10D", Duration("", days=10)),
        ("PT4H", Duration("", seconds=4 * 3600)),
        ("PT30M", Duration("", seconds=1800)),
        ("P1DT2H", Duration("", days=1, seconds=7200)),
        ("P3M", Duration("", months=3)),
        ("P1Y2M", Duration("", months=14)),
        ("p1y2m", Duration("", months=14)),
        ("PT0S", Duration("")),
    ],
)
def test_parse_duration_accepts(text: str, expected: Duration) -> None:
    parsed = parse_duration(text)
    assert parsed == expected
    assert parsed.text == text.strip()


@pytest.mark.parametrize(
    "text",
    [
        "2 workdays",
        "",
        "days",
        "-1 days",
        "1.5 days",
        "2days",
        "P",
        "PT",
        "P1DT",
        "P1H",
        "3 months",
    ],
)
def test_parse_duration_rejects_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(CalendarError) as info:
        parse_duration(text)
    message = str(info.value)
    assert message.startswith(f"{text!r} is not a duration: write ")
    assert '"2 working days", "7 days"' in message
    assert "ISO 8601 duration such as P1W" in message


def test_duration_properties() -> None:
    assert days("2 working days").day_based
    assert days("P3M").day_based
    assert not days("P1DT2H").day_based
    assert not days("30 minutes").day_based
    assert not days("0 days")
    assert days("1 minute")
    assert days("P1W") == days("7 days")  # equal amounts, whatever the spelling
    with pytest.raises(CalendarError, match="days must not be negative"):
        Duration("minus one", days=-1)


def test_calendar_error_is_a_value_error_and_ours() -> None:
    assert issubclass(CalendarError, ValueError)
    assert issubclass(CalendarError, FollowupError)


def test_parse_time_of_day_and_range() -> None:
    assert parse_time_of_day("09:00") == time(9)
    assert parse_time_of_day(" 17:30 ") == time(17, 30)
    assert parse_time_of_day("7:05") == time(7, 5)
    assert parse_time_range("09:00-18:00") == (time(9), time(18))
    assert parse_time_range("22:00 - 07:00") == (time(22), time(7))
    for bad in ("24:00", "9am", "17:60", "09:00:00"):
        with pytest.raises(CalendarError, match=f"'{bad}' is not a time of day: write 24-hour"):
            parse_time_of_day(bad)
    with pytest.raises(CalendarError, match="is not a time range: write start-end"):
        parse_time_range("09:00")
    with pytest.raises(CalendarError, match="is empty"):
        parse_time_range("09:00-09:00")


def test_parse_weekdays() -> None:
    assert parse_weekdays(["mon", "TUE", "Wednesday"]) == {0, 1, 2}
    assert parse_weekdays(["sun-thu"]) == {6, 0, 1, 2, 3}
    assert parse_weekdays(["mon-fri"]) == {0, 1, 2, 3, 4}
    assert parse_weekdays("fri, sat") == {4, 5}  # one string is one item, not letters
    assert parse_weekdays([]) == frozenset()
    with pytest.raises(CalendarError, match=r"unknown weekday 'fryday' \(did you mean 'friday'\?\) in 'fryday': use mon,"):
        parse_weekdays(["mon", "fryday"])


# --- construction errors ---------------------------------------------------------------------


def test_unknown_time_zone_suggests_close_matches() -> None:
    with pytest.raises(CalendarError) as info:
        WorkCalendar(timezone="America/New_Yrok")
    assert str(info.value).startswith(
        "unknown time zone 'America/New_Yrok' (did you mean 'America/New_York'?): use an IANA "
    )
    with pytest.raises(CalendarError, match=r"'europe/berlin' \(did you mean 'Europe/Berlin'\?\)"):
        WorkCalendar(timezone="europe/berlin")
    with pytest.raises(CalendarError, match="use an IANA name such as Europe/Berlin"):
        WorkCalendar(timezone="Mars/Olympus_Mons")


def test_unknown_country_and_subdivision() -> None:
    with pytest.raises(CalendarError) as info:
        WorkCalendar(country="XX")
    assert str(info.value) == (
        "unknown country 'XX': use an ISO 3166 alpha-2 code such as US, GB, DE"
    )
    with pytest.raises(CalendarError) as info:
        WorkCalendar(country="NL", subdivision="Zeeland")
    assert str(info.value) == (
        "unknown subdivision 'Zeeland' of NL: expected one of Midden, Noord, Zuid"
    )
    with pytest.raises(CalendarError) as info:
        WorkCalendar(country="DE", subdivision="BYX")
    assert str(info.value).startswith(
        "unknown subdivision 'BYX' of DE (did you mean 'BY'?): expected one of BB, BE, BW, BY,"
    )
    with pytest.raises(CalendarError, match="without a country"):
        WorkCalendar(subdivision="NY")


def test_codes_are_case_insensitive_and_aliases_resolve() -> None:
    lower = WorkCalendar(country="us", subdivision="ny")
    named = WorkCalendar(country="US", subdivision="New York")
    assert lower.holiday_name(date(2026, 2, 12)) == "Lincoln's Birthday"
    assert named.holiday_name(date(2026, 2, 12)) == "Lincoln's Birthday"


def test_bad_calendar_settings() -> None:
    with pytest.raises(CalendarError, match=r"days are 0 \(Monday\) to 6"):
        WorkCalendar(workweek=(0, 7))
    with pytest.raises(CalendarError, match="2026-06-05 listed both"):
        WorkCalendar(extra_holidays=[date(2026, 6, 5)], extra_working_days=[date(2026, 6, 5)])
    with pytest.raises(CalendarError, match="is empty"):
        WorkCalendar(quiet_hours=[(time(9), time(9))])
    with pytest.raises(CalendarError, match="timezone-aware"):
        NEW_YORK.local(datetime(2026, 6, 1, 12))
    with pytest.raises(CalendarError, match="naive local wall time"):
        NEW_YORK.to_utc(utc(2026, 6, 1, 12))


# --- working days and deadlines --------------------------------------------------------------


def test_two_working_days_over_christmas_in_new_york() -> None:
    interview = utc(2026, 12, 23, 20)  # Wed 15:00 EST
    assert NEW_YORK.is_working_day(date(2026, 12, 24))
    assert NEW_YORK.holiday_name(date(2026, 12, 25)) == "Christmas Day"
    assert NEW_YORK.deadline(interview, days("2 working days")) == utc(2026, 12, 28, 22)
    assert NEW_YORK.deadline(interview, days("1 working day")) == utc(2026, 12, 24, 22)


def test_interview_the_day_before_thanksgiving() -> None:
    interview = utc(2026, 11, 25, 20)  # Wed 15:00 EST; Thu 26th is Thanksgiving
    assert not NEW_YORK.is_working_day(date(2026, 11, 26))
    assert NEW_YORK.deadline(interview, days("1 working day")) == utc(2026, 11, 27, 22)
    assert NEW_YORK.deadline(interview, days("2 working days")) == utc(2026, 11, 30, 22)
    assert NEW_YORK.add(interview, days("1 working day")) == utc(2026, 11, 27, 20)


def test_observed_holiday_is_not_a_working_day() -> None:
    assert NEW_YORK.holiday_name(date(2026, 7, 3)) == "Independence Day (observed)"
    assert NEW_YORK.deadline(utc(2026, 7, 2, 14), days("1 working day")) == utc(2026, 7, 6, 21)


def test_regional_holiday_counts_only_in_its_subdivision() -> None:
    bavaria = WorkCalendar(timezone="Europe/Berlin", country="DE", subdivision="BY")
    interview = utc(2026, 1, 5, 9)  # Mon 10:00 CET; Tue 6th is Epiphany in Bavaria only
    assert bavaria.holiday_name(date(2026, 1, 6)) == "Epiphany"
    assert BERLIN.holiday_name(date(2026, 1, 6)) is None
    assert bavaria.deadline(interview, days("1 working day")) == utc(2026, 1, 7, 16)
    assert BERLIN.deadline(interview, days("1 working day")) == utc(2026, 1, 6, 16)

    new_york = WorkCalendar(timezone="America/New_York", country="US", subdivision="NY")
    california = WorkCalendar(timezone="America/New_York", country="US", subdivision="CA")
    wednesday = utc(2026, 2, 11, 15)  # Thu 12th is Lincoln's Birthday in New York
    assert new_york.deadline(wednesday, days("1 working day")) == utc(2026, 2, 13, 22)
    assert california.deadline(wednesday, days("1 working day")) == utc(2026, 2, 12, 22)


def test_owner_date_differs_from_the_utc_date() -> None:
    los_angeles = WorkCalendar(timezone="America/Los_Angeles", country="US")
    thursday_night = utc(2026, 6, 5, 5, 30)  # Thu 22:30 PDT, already Friday in UTC
    assert los_angeles.local_date(thursday_night) == date(2026, 6, 4)
    assert los_angeles.deadline(thursday_night, days("1 working day")) == utc(2026, 6, 6, 0)
    assert los_angeles.add(thursday_night, days("1 day")) == utc(2026, 6, 6, 5, 30)

    auckland = WorkCalendar(timezone="Pacific/Auckland", country="NZ")
    sunday_evening_utc = utc(2026, 3, 1, 20)  # Mon 2 March 09:00 NZDT
    assert auckland.local_date(sunday_evening_utc) == date(2026, 3, 2)
    assert auckland.local(sunday_evening_utc).hour == 9
    assert auckland.deadline(sunday_evening_utc, days("1 working day")) == utc(2026, 3, 3, 4)


def test_days_keep_local_time_across_spring_forward() -> None:
    saturday = utc(2027, 3, 13, 15)  # Sat 10:00 EST; clocks go forward on Sun 14th
    assert NEW_YORK.add(saturday, days("1 day")) == utc(2027, 3, 14, 14)  # 10:00 EDT
    assert NEW_YORK.add(saturday, days("PT24H")) == utc(2027, 3, 14, 15)  # 11:00 EDT
    friday = utc(2027, 3, 12, 17)
    assert NEW_YORK.deadline(friday, days("1 day")) == utc(2027, 3, 13, 22)  # 17:00 EST
    assert NEW_YORK.deadline(friday, days("2 days")) == utc(2027, 3, 14, 21)  # 17:00 EDT
    assert NEW_YORK.deadline(friday, days("1 working day")) == utc(2027, 3, 15, 21)


def test_days_keep_local_time_across_fall_back() -> None:
    saturday = utc(2026, 10, 31, 14)  # Sat 10:00 EDT; clocks go back on Sun 1 November
    assert NEW_YORK.add(saturday, days("1 day")) == utc(2026, 11, 1, 15)  # 10:00 EST
    assert NEW_YORK.add(saturday, days("PT24H")) == utc(2026, 11, 1, 14)  # 09:00 EST
    assert NEW_YORK.deadline(saturday, days("2 days")) == utc(2026, 11, 2, 22)  # 17:00 EST
    second_half_past_one = utc(2026, 11, 1, 6, 30)  # 01:30 EST, the repeated hour
    assert NEW_YORK.add(second_half_past_one, days("PT1H")) == utc(2026, 11, 1, 7, 30)
    assert NEW_YORK.add(second_half_past_one, days("0 days")) == second_half_past_one


def test_berlin_daylight_saving() -> None:
    saturday = utc(2026, 3, 28, 8)  # Sat 09:00 CET; CEST from Sun 29th
    assert BERLIN.add(saturday, days("1 day")) == utc(2026, 3, 29, 7)
    assert BERLIN.deadline(utc(2026, 3, 27, 8), days("1 working day")) == utc(2026, 3, 30, 15)
    assert BERLIN.add(utc(2026, 10, 24, 7), days("1 day")) == utc(2026, 10, 25, 8)


def test_to_utc_resolves_gaps_and_folds() -> None:
    assert NEW_YORK.to_utc(datetime(2027, 3, 14, 2, 30)) == utc(2027, 3, 14, 7, 30)  # 03:30 EDT
    assert NEW_YORK.to_utc(datetime(2026, 11, 1, 1, 30)) == utc(2026, 11, 1, 5, 30)  # first
    assert BERLIN.to_utc(datetime(2026, 3, 29, 2, 30)) == utc(2026, 3, 29, 1, 30)  # 03:30 CEST
    assert BERLIN.to_utc(datetime(2026, 10, 25, 2, 30)) == utc(2026, 10, 25, 0, 30)
    assert NEW_YORK.to_utc(datetime(2026, 6, 1, 9)).tzinfo is UTC


def test_months_clamp_to_the_end_of_the_month() -> None:
    cal = WorkCalendar()
    assert cal.add(utc(2026, 1, 31, 10), days("P1M")) == utc(2026, 2, 28, 10)
    assert cal.add(utc(2028, 1, 31, 10), days("P1M")) == utc(2028, 2, 29, 10)
    assert cal.add(utc(2026, 12, 31, 10), days("P1Y2M")) == utc(2028, 2, 29, 10)
    assert cal.add(utc(2026, 11, 15, 10), days("P3M")) == utc(2027, 2, 15, 10)
    assert cal.add(utc(2026, 1, 1, 10), days("P1DT2H")) == utc(2026, 1, 2, 12)
    assert cal.deadline(utc(2026, 1, 1, 10), days("P1DT2H")) == utc(2026, 1, 2, 12)


def test_custom_work_week_and_extra_dates() -> None:
    sun_to_thu = parse_weekdays(["sun-thu"])
    plain = WorkCalendar(timezone="Asia/Jerusalem", workweek=sun_to_thu)
    thursday = utc(2026, 6, 4, 9)  # Thu 12:00 IDT
    assert not plain.is_working_day(date(2026, 6, 5))
    assert plain.is_working_day(date(2026, 6, 7))
    assert plain.deadline(thursday, days("1 working day")) == utc(2026, 6, 7, 14)

    day_off = WorkCalendar(
        timezone="Asia/Jerusalem", workweek=sun_to_thu, extra_holidays=[date(2026, 6, 7)]
    )
    assert day_off.holiday_name(date(2026, 6, 7)) == "custom holiday"
    assert day_off.deadline(thursday, days("1 working day")) == utc(2026, 6, 8, 14)

    friday_on = WorkCalendar(
        timezone="Asia/Jerusalem", workweek=sun_to_thu, extra_working_days=[date(2026, 6, 5)]
    )
    assert friday_on.deadline(thursday, days("1 working day")) == utc(2026, 6, 5, 14)

    christmas_on = WorkCalendar(
        timezone="America/New_York", country="US", extra_working_days=[date(2026, 12, 25)]
    )
    assert christmas_on.holiday_name(date(2026, 12, 25)) == "Christmas Day"
    assert christmas_on.deadline(utc(2026, 12, 23, 20), days("2 working days")) == utc(
        2026, 12, 25, 22
    )


def test_working_days_from_a_weekend_and_zero_working_days() -> None:
    saturday = utc(2026, 6, 13, 15)
    assert NEW_YORK.deadline(saturday, days("1 working day")) == utc(2026, 6, 15, 21)
    assert NEW_YORK.add(saturday, days("0 working days")) == saturday
    assert NEW_YORK.deadline(saturday, days("0 days")) == utc(2026, 6, 13, 21)


def test_start_and_end_of_day() -> None:
    assert NEW_YORK.start_of_day(date(2026, 6, 10)) == utc(2026, 6, 10, 13)
    assert NEW_YORK.end_of_day(date(2026, 6, 10)) == utc(2026, 6, 10, 21)
    bare = WorkCalendar(timezone="Europe/Berlin", send_window=None, close_of_business=None)
    assert bare.start_of_day(date(2026, 6, 10)) == utc(2026, 6, 9, 22)
    assert bare.end_of_day(date(2026, 6, 10)) == utc(2026, 6, 10, 21, 59)


# --- send times ------------------------------------------------------------------------------

LUNCH = WorkCalendar(timezone="America/New_York", country="US", quiet_hours=[(time(12), time(13))])


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (utc(2026, 6, 10, 14, 0, 5), utc(2026, 6, 10, 14, 0, 5)),  # Wed 10:00:05, open
        (utc(2026, 6, 10, 11, 15), utc(2026, 6, 10, 13)),  # 07:15 -> window opens at 09:00
        (utc(2026, 6, 10, 16, 30), utc(2026, 6, 10, 17)),  # 12:30 lunch -> 13:00
        (utc(2026, 6, 10, 22), utc(2026, 6, 11, 13)),  # 18:00 closes -> Thu 09:00
        (utc(2026, 6, 12, 23), utc(2026, 6, 15, 13)),  # Fri 19:00 -> Mon 09:00
        (utc(2026, 7, 2, 22, 30), utc(2026, 7, 6, 13)),  # Thu evening, Fri 3rd observed July 4
        (utc(2026, 12, 24, 3), utc(2026, 12, 24, 14)),  # 22:00 on the 23rd -> 09:00 on the 24th
    ],
)
def test_next_send_time_with_window_and_lunch(instant: datetime, expected: datetime) -> None:
    sent = LUNCH.next_send_time(instant)
    assert sent == expected
    assert sent.tzinfo is UTC


def test_next_send_time_returns_a_qualifying_instant_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    instant = datetime(2026, 6, 10, 23, 0, 0, 123, tzinfo=tokyo)  # 10:00:00.000123 in New York
    sent = LUNCH.next_send_time(instant)
    assert sent == instant
    assert sent.tzinfo is UTC
    assert sent.microsecond == 123


def test_quiet_hours_wrapping_midnight() -> None:
    night = WorkCalendar(
        timezone="America/New_York", send_window=None, quiet_hours=[(time(22), time(7))]
    )
    saturday_late = utc(2026, 6, 14, 3, 30)  # Sat 23:30 EDT
    assert night.next_send_time(saturday_late, working_days_only=False) == utc(2026, 6, 14, 11)
    sunday_early = utc(2026, 6, 14, 7)  # Sun 03:00 EDT
    assert night.next_send_time(sunday_early, working_days_only=False) == utc(2026, 6, 14, 11)
    assert night.next_send_time(saturday_late) == utc(2026, 6, 15, 11)  # Mon 07:00, not 00:00
    assert night.next_send_time(utc(2026, 6, 15, 21)) == utc(2026, 6, 15, 21)  # Mon 17:00


def test_window_and_quiet_hours_overlap() -> None:
    late_start = WorkCalendar(
        timezone="Europe/Berlin", quiet_hours=[(time(17), time(9, 30))], country="DE"
    )
    assert late_start.next_send_time(utc(2026, 6, 10, 6)) == utc(2026, 6, 10, 7, 30)
    assert late_start.next_send_time(utc(2026, 6, 10, 15, 30)) == utc(2026, 6, 11, 7, 30)


def test_send_window_wrapping_midnight() -> None:
    evenings = WorkCalendar(timezone="UTC", send_window=(time(20), time(2)))
    assert evenings.next_send_time(utc(2026, 6, 10, 15)) == utc(2026, 6, 10, 20)
    assert evenings.next_send_time(utc(2026, 6, 11, 1)) == utc(2026, 6, 11, 1)


def test_next_send_time_on_weekends_when_allowed() -> None:
    saturday = utc(2026, 6, 13, 14)  # Sat 10:00 EDT
    assert LUNCH.next_send_time(saturday, working_days_only=False) == saturday
    assert LUNCH.next_send_time(saturday) == utc(2026, 6, 15, 13)


def test_next_send_time_in_the_repeated_hour() -> None:
    cal = WorkCalendar(
        timezone="America/New_York", send_window=None, quiet_hours=[(time(1), time(1, 45))]
    )
    second_half_past_one = utc(2026, 11, 1, 6, 30)  # 01:30 EST, after the first 01:45 passed
    assert cal.next_send_time(second_half_past_one, working_days_only=False) == utc(
        2026, 11, 1, 6, 45
    )


def test_next_send_time_gives_up_on_an_empty_work_week() -> None:
    with pytest.raises(CalendarError, match="no send time within three years"):
        WorkCalendar(workweek=()).next_send_time(utc(2026, 6, 10))
    with pytest.raises(CalendarError, match="no working day within three years"):
        WorkCalendar(workweek=()).deadline(utc(2026, 6, 10), days("1 working day"))


# --- properties ------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(start=instants, n=st.integers(min_value=0, max_value=15))
def test_working_day_deadlines_land_on_close_of_business(start: datetime, n: int) -> None:
    due = NEW_YORK.local(NEW_YORK.deadline(start, Duration("n working days", working_days=n)))
    assert due.time() == time(17)
    assert due.date() >= NEW_YORK.local_date(start)
    if n >= 1:
        assert NEW_YORK.is_working_day(due.date())
        assert due.date() > NEW_YORK.local_date(start)


@settings(max_examples=200, deadline=None)
@given(instant=instants)
def test_next_send_time_is_open_and_not_earlier(instant: datetime) -> None:
    sent = LUNCH.next_send_time(instant)
    local = LUNCH.local(sent)
    assert sent >= instant
    assert LUNCH.is_working_day(local.date())
    assert time(9) <= local.time() < time(18)
    assert not time(12) <= local.time() < time(13)
    assert sent - instant < timedelta(days=6)
