"""Engine.update_owner edits an owner's settings and re-plans; why_held says why a due
reminder waits. Both on the real engine and calendar, in memory."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from followup import Contact
from followup.errors import CalendarError
from followup.runtime.passes import why_held
from followup.testing import make_engine
from followup.timing.calendar import WorkCalendar


def _engine():
    engine = make_engine(start=datetime(2026, 12, 20, 12, tzinfo=UTC))
    engine.set_owner("ada", timezone="America/New_York", country="US", subdivision="NY",
                     digest="08:00", quiet_hours=["22:00-07:00"])
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2026-12-23T15:00-05:00"},
                                 contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
    return engine, app.id


def test_update_owner_changes_only_what_is_given_and_replans():
    engine, app_id = _engine()
    before = {t.key: t.fire_at for t in engine.timers(app_id, owner="ada")}
    update = engine.update_owner("ada", timezone="Asia/Tokyo")
    assert update.before.timezone == "America/New_York"
    assert (update.after.timezone, update.after.country, update.after.subdivision,
            update.after.digest, update.after.quiet_hours) == (
        "Asia/Tokyo", "US", "NY", "08:00", ("22:00-07:00",))
    assert engine.owner("ada") == update.after
    [outcome] = update.replanned
    assert outcome.application.id == app_id
    after = {t.key: t.fire_at for t in engine.timers(app_id, owner="ada")}
    assert after.keys() == before.keys()
    assert after != before  # the send window is Tokyo's now
    assert {t.key for t in outcome.armed} == {k for k in after if after[k] != before[k]}


def test_update_owner_resets_with_empty_values_and_drops_the_old_subdivision():
    engine, _ = _engine()
    after = engine.update_owner("ada", country="DE").after
    assert (after.country, after.subdivision) == ("DE", None)
    after = engine.update_owner("ada", digest="", quiet_hours=[]).after
    assert (after.digest, after.quiet_hours, after.timezone) == (None, (), "America/New_York")


def test_update_owner_refuses_a_bad_value_and_changes_nothing():
    engine, app_id = _engine()
    settings = engine.owner("ada")
    timers = engine.timers(app_id, owner="ada")
    with pytest.raises(CalendarError, match="America/Chicago"):
        engine.update_owner("ada", timezone="America/Chicgo")
    assert engine.store.get_owner("ada") == settings
    assert engine.timers(app_id, owner="ada") == timers


def test_has_owner():
    engine, _ = _engine()
    assert engine.has_owner("ada")
    assert not engine.has_owner("bo")


@pytest.mark.parametrize(("now", "until", "reason"), [
    # Sat 26 Dec 2026 at noon: a weekend day.
    (datetime(2026, 12, 26, 12, tzinfo=UTC), datetime(2026, 12, 28, 9, tzinfo=UTC),
     "Saturday 2026-12-26 is not a working day"),
    # Fri 25 Dec 2026: a holiday, named.
    (datetime(2026, 12, 25, 12, tzinfo=UTC), datetime(2026, 12, 28, 9, tzinfo=UTC),
     "Friday 2026-12-25 is not a working day (Christmas Day)"),
    # Tuesday before the window opens.
    (datetime(2026, 12, 22, 7, tzinfo=UTC), datetime(2026, 12, 22, 9, tzinfo=UTC),
     "outside the send window 09:00-18:00"),
    # Tuesday in the quiet hour.
    (datetime(2026, 12, 22, 12, 30, tzinfo=UTC), datetime(2026, 12, 22, 13, tzinfo=UTC),
     "quiet hours 12:00-13:00"),
])
def test_why_held(now, until, reason):
    calendar = WorkCalendar(country="US", quiet_hours=[(time(12), time(13))])
    assert why_held(calendar, now) == (until, reason)


def test_nothing_holds_a_reminder_inside_the_window():
    assert why_held(WorkCalendar(), datetime(2026, 12, 22, 10, tzinfo=UTC)) is None


def test_owners_with_the_same_settings_share_one_calendar():
    engine, _ = _engine()  # ada: New York, US-NY, quiet 22:00-07:00
    engine.set_owner("bo", timezone="America/New_York", country="US", subdivision="NY",
                     quiet_hours=["22:00-07:00"], digest="09:00", channels=["console"])
    engine.set_owner("cy", timezone="America/New_York", country="US", subdivision="NY")
    engine.set_owner("di", timezone="Europe/Berlin", country="DE")
    ada, bo, cy, di = (engine.calendar(o) for o in ("ada", "bo", "cy", "di"))
    assert ada is bo  # digest and channels are no part of a calendar
    assert cy is not ada and di is not ada  # quiet hours, zone and country are
    assert (str(di.tz), cy.quiet_hours) == ("Europe/Berlin", ada.quiet_hours[:-1])
    # The calendar an owner's settings give, whoever else shares it.
    day = datetime(2026, 12, 31, 23, tzinfo=UTC)  # 18:00 in New York
    assert bo.next_send_time(day) == WorkCalendar(
        timezone="America/New_York", country="US", subdivision="NY",
        quiet_hours=[(time(22), time(7))]).next_send_time(day)
    # An owner who moves gets the calendar of where they live now; the others keep theirs.
    engine.update_owner("bo", timezone="Europe/Berlin", country="DE", subdivision="",
                        quiet_hours=[])
    assert engine.calendar("bo") is di
    assert engine.calendar("ada") is ada
