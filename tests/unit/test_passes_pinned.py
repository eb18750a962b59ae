"""What a pass over due work promises, pinned where a single-line change to
``followup.runtime.passes`` and ``followup.runtime.owners`` went unnoticed: the edge of a
quiet-hours span that wraps past midnight, the reminders a pass holds back on a day off
(until when, and why), the owner's re-plan marker taken away once it served, and an
owner's subdivision kept when the same country is given again, the channels an edit
gives, owners read one by one from a store without ``get_owners``, an application
the owner's re-plan cannot read faulting alone, which due reminders a pass reports
as held (not those it sent, not those its re-plan moved later), and an engine that keeps
a bounded number of owners forgetting none of their settings. In memory."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from followup import Contact, Engine, FakeClock, MemoryStore, load_rules
from followup.errors import StoreError
from followup.model import Owner, Record
from followup.runtime import owners
from followup.runtime.owners import edited
from followup.runtime.passes import why_held
from followup.testing import RecordingChannel
from followup.timing.calendar import WorkCalendar

NEW_YORK = ZoneInfo("America/New_York")


def test_a_span_past_midnight_holds_from_its_first_minute() -> None:
    calendar = WorkCalendar(quiet_hours=[(time(22, 0), time(7, 0))], send_window=None)
    at_start = datetime(2027, 1, 6, 22, 0, tzinfo=UTC)  # a Wednesday, 22:00 sharp
    held = why_held(calendar, at_start)
    assert held is not None and held[1] == "quiet hours 22:00-07:00"
    assert held[0] == datetime(2027, 1, 7, 7, 0, tzinfo=UTC)
    late = why_held(calendar, datetime(2027, 1, 6, 23, 30, tzinfo=UTC))  # before midnight
    assert late is not None and late[1] == "quiet hours 22:00-07:00"
    assert why_held(calendar, datetime(2027, 1, 6, 21, 59, tzinfo=UTC)) is None
    assert why_held(calendar, datetime(2027, 1, 7, 7, 0, tzinfo=UTC)) is None  # its end


def test_on_a_day_off_a_pass_says_until_when_and_why_each_reminder_waits() -> None:
    friday = datetime(2027, 1, 8, 15, 0, tzinfo=NEW_YORK)
    clock = FakeClock(friday.astimezone(UTC))
    engine = Engine(store=MemoryStore(), clock=clock, channels=[RecordingChannel()])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": friday.isoformat()},
                                 contacts=[Contact("Jane Doe", "interviewer")])
    saturday = datetime(2027, 1, 9, 12, 0, tzinfo=NEW_YORK).astimezone(UTC)
    clock.set(saturday)
    due = [t for t in engine.store.timers(owner="ada", application_id=app.id)
           if t.action == "notify" and t.fire_at <= saturday]
    assert due  # something waits for Monday
    report = engine.run_due()
    assert not report.fired
    monday = engine.calendar("ada").next_send_time(saturday)
    assert monday.astimezone(NEW_YORK).date().isoformat() == "2027-01-11"
    assert sorted((h.key, h.until, h.reason) for h in report.held) == sorted(
        (t.key, monday, "Saturday 2027-01-09 is not a working day") for t in due)


def test_the_owner_s_re_plan_marker_is_gone_once_the_others_are_re_planned() -> None:
    clock = FakeClock(datetime(2027, 1, 6, 15, 0, tzinfo=UTC))
    engine = Engine(store=MemoryStore(), clock=clock, channels=[RecordingChannel()])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    ids = [engine.add_application(owner="ada", company=f"Acme {i}", role="Engineer",
                                  facts={"interviewed_at": "2027-01-06T09:00:00-05:00"}).id
           for i in range(2)]
    engine.record(ids[0], "offer_received")

    def markers() -> list[str]:
        return [t.key for t in engine.store.timers(owner="ada", application_id="")
                if t.action == "replan"]

    assert markers()  # the offer changes what the other application plans
    engine.run_due()
    assert markers() == []


def test_the_same_country_again_keeps_the_subdivision() -> None:
    before = Owner("ada", timezone="America/New_York", country="US", subdivision="NY")
    same = edited(before, timezone=None, country="US", subdivision=None, channels=None,
                  digest=None, quiet_hours=None)
    assert same["subdivision"] == "NY"
    other = edited(before, timezone=None, country="DE", subdivision=None, channels=None,
                   digest=None, quiet_hours=None)
    assert other["subdivision"] is None


def test_channels_given_are_kept_and_none_given_go_back_to_the_pack_s() -> None:
    before = Owner("ada", channels=("console",))
    keep = dict(timezone=None, country=None, subdivision=None, digest=None, quiet_hours=None)
    assert edited(before, channels=["email"], **keep)["channels"] == ("email",)
    assert edited(before, channels=[], **keep)["channels"] is None
    assert edited(before, channels=None, **keep)["channels"] == ("console",)


class OneByOne(MemoryStore):
    """A store without ``get_owners``: owners are read one at a time."""

    get_owners = None


def test_a_store_without_get_owners_has_its_owners_read_one_by_one() -> None:
    store = OneByOne()
    engine = Engine(store=store, channels=[RecordingChannel()])
    store.put_owner(Owner("ada", timezone="Europe/Paris"))
    engine.owners.refresh(["ada", "bob"])
    assert engine.owner("ada") == Owner("ada", timezone="Europe/Paris")
    assert engine.owner("bob") == Owner("bob")


class Poisoned(MemoryStore):
    """A store that cannot read one application."""

    def __init__(self) -> None:
        super().__init__()
        self.poisoned = ""

    def load(self, application_id: str, *, owner: str | None = None) -> Record:
        if application_id == self.poisoned:
            raise StoreError(f"application {application_id} cannot be read")
        return super().load(application_id, owner=owner)


def test_an_application_the_owner_s_re_plan_cannot_read_faults_alone() -> None:
    store = Poisoned()
    clock = FakeClock(datetime(2027, 1, 6, 15, 0, tzinfo=UTC))
    engine = Engine(store=store, clock=clock, channels=[RecordingChannel()])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    ids = [engine.add_application(owner="ada", company=f"Acme {i}", role="Engineer",
                                  facts={"interviewed_at": "2027-01-06T09:00:00-05:00"}).id
           for i in range(2)]
    engine.record(ids[0], "offer_received")
    store.poisoned = ids[1]
    report = engine.run_due()
    assert "owner:ada" not in report.errors  # the owner's own pass went through
    [fault] = store.faults(owner="ada")
    assert (fault.application_id, fault.error) == (
        ids[1], f"StoreError: application {ids[1]} cannot be read")
    assert not [t for t in store.timers(owner="ada", application_id="") if t.action == "replan"]


# Two reminders, one that waits for the owner's calendar and one that goes out at any
# time, each armed for its own application.
_HELD = """\
version: 1
name: held
states: [open]
initial: open
facts:
  urgent: {type: bool}
templates:
  t: {subject: "x"}
rules:
  - {name: calm, while: open, if: "not urgent", at: %s after entered, notify: {template: t}}
  - {name: loud, while: open, if: "urgent", at: 1 day after entered, any_time: true,
     notify: {template: t}}
"""
SUNDAY = datetime(2027, 3, 7, 15, 0, tzinfo=UTC)


def _held_pass(calm_after: str) -> tuple[Engine, list[str]]:
    """Two applications of one owner armed a day ahead (15:00 and 15:10 on Monday),
    then quiet hours 14:00-16:00 set without a re-plan; the engine returned runs its
    rules with ``calm`` armed ``calm_after`` entering, on the same store, at 15:30."""
    store, clock = MemoryStore(), FakeClock(SUNDAY)
    engine = Engine(store=store, clock=clock, channels=[RecordingChannel()],
                    rules=load_rules(text=_HELD % "1 day"))
    engine.set_owner("ada", timezone="UTC")
    ids = [engine.add_application(owner="ada", company="Calm", role="r",
                                  facts={"urgent": False}).id]
    clock.set(SUNDAY + timedelta(minutes=10))
    ids.append(engine.add_application(owner="ada", company="Loud", role="r",
                                      facts={"urgent": True}).id)
    engine.set_owner("ada", timezone="UTC", quiet_hours=["14:00-16:00"])  # no re-plan
    clock.set(SUNDAY + timedelta(days=1, minutes=30))
    return Engine(store=store, clock=clock, channels=[RecordingChannel()],
                  rules=load_rules(text=_HELD % calm_after)), ids


def test_a_pass_holds_what_waits_and_not_what_another_application_sent() -> None:
    engine, (calm, loud) = _held_pass("1 day")
    report = engine.run_due()
    assert [(n.rule, n.application_id) for n in report.notifications] == [("loud", loud)]
    assert [(h.rule, h.application_id, h.until, h.reason) for h in report.held] == [
        ("calm", calm, SUNDAY + timedelta(days=1, hours=1), "quiet hours 14:00-16:00")]


def test_a_reminder_its_pass_moved_later_is_not_reported_held() -> None:
    engine, (calm, _) = _held_pass("3 days")  # the edited pack moves it to Wednesday
    report = engine.run_due()
    [moved] = [t for t in engine.store.timers(owner="ada", application_id=calm)]
    assert moved.fire_at == SUNDAY + timedelta(days=3, hours=1)  # after quiet hours
    assert report.held == []


def _five_owners_pass(monkeypatch: pytest.MonkeyPatch, kept: int) -> tuple[Engine, list[str]]:
    """Five owners in five zones, one application each, then a pass a week on, with the
    engine keeping at most ``kept`` owners at once."""
    monkeypatch.setattr(owners, "OWNERS_KEPT", kept)
    clock = FakeClock(datetime(2027, 1, 6, 15, 0, tzinfo=UTC))
    engine = Engine(store=MemoryStore(), clock=clock, channels=[RecordingChannel()])
    zones = ["America/New_York", "Asia/Tokyo", "Europe/Paris", "Australia/Sydney", "UTC"]
    for i, zone in enumerate(zones):
        engine.set_owner(f"owner{i}", timezone=zone)
        engine.add_application(owner=f"owner{i}", company="Acme", role="Engineer", id=f"app{i}",
                               facts={"interviewed_at": "2027-01-06T09:00:00-05:00"},
                               contacts=[Contact("Jane Doe", "interviewer")])
    clock.set(datetime(2027, 1, 13, 15, 0, tzinfo=UTC))
    report = engine.run_due()
    return engine, sorted(f"{n.key} {n.owner}" for n in report.notifications)


def test_an_engine_keeps_a_bounded_number_of_owners_and_forgets_none_of_their_settings(
        monkeypatch: pytest.MonkeyPatch) -> None:
    roomy, fired = _five_owners_pass(monkeypatch, 100)
    tight, fired_tight = _five_owners_pass(monkeypatch, 2)
    assert fired and fired_tight == fired  # the same reminders, at the same times
    assert [(t.key, t.fire_at) for t in tight.store.timers()] == [
        (t.key, t.fire_at) for t in roomy.store.timers()]
    assert len(tight.owners._owners) <= 2 and len(tight.owners._calendars) <= 2
    assert len(roomy.owners._owners) == 5
    for i in range(5):  # what was forgotten is read again, as stored
        assert tight.owner(f"owner{i}") == roomy.owner(f"owner{i}")
        assert tight.calendar(f"owner{i}").tz == roomy.calendar(f"owner{i}").tz
