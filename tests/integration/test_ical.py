"""The agenda as iCalendar: what ``followup.interop.ical`` writes, read back (and written
again, byte for byte) by ``icalendar``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from followup import Contact, Engine, FakeClock, MemoryStore, export_document, import_items
from followup.interop.ical import (
    CANCELLED_KEEP,
    calendar_entries,
    entries_to_ics,
    reminder_uid,
)
from followup.interop.readers import read_json
from followup.interop.transfer import import_context
from followup.keys import TimerKey
from followup.model import Timer
from followup.testing import RecordingChannel, make_engine

OWNER = "ada"
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = make_engine(owner=OWNER)
    yield engine
    engine.close()


@pytest.fixture
def acme(engine: Engine) -> str:
    """An interview on Wed 2026-12-23 15:00 in New York with two interviewers."""
    return engine.add_application(
        owner=OWNER, company="Acme", role="Engineer",
        facts={"interviewed_at": "2026-12-23T15:00"},
        contacts=[Contact("Jane Doe", "interviewer", title="Engineering Manager"),
                  Contact("Raj Patel", "interviewer")],
    ).id


def _export(engine: Engine, *, todo: bool = False) -> str:
    now = engine.clock.now()
    text = entries_to_ics(calendar_entries(engine, OWNER, now=now),
                          zone=engine.calendar(OWNER).tz, stamp=now, todo=todo)
    # Every output reads back, and is written again the same, by icalendar.
    assert icalendar.Calendar.from_ical(text).to_ical().decode("utf-8") == text
    return text


def _components(text: str, kind: str = "VEVENT") -> dict[str, Any]:
    cal = icalendar.Calendar.from_ical(text)
    return {str(c["UID"]): c for c in cal.walk(kind)}


def _reminders(engine: Engine) -> dict[str, Timer]:
    """The planned reminders by the UID the calendar should give them."""
    return {reminder_uid(i.timer.key, i.application): i.timer
            for i in engine.agenda(owner=OWNER) if i.timer.action == "notify"}


def _uid(engine: Engine, rule: str, contact: str | None = None) -> str:
    (uid,) = [u for u, t in _reminders(engine).items()
              if t.rule == rule and t.contact == contact]
    return uid


def _clock(engine: Engine) -> FakeClock:
    assert isinstance(engine.clock, FakeClock)
    return engine.clock


def test_every_reminder_is_an_event_in_the_owners_zone_with_an_alarm(
    engine: Engine, acme: str
) -> None:
    text = _export(engine)
    events = _components(text)
    reminders = _reminders(engine)
    assert set(events) == set(reminders) and len(events) >= 5
    for uid, timer in reminders.items():
        event = events[uid]
        assert event["DTSTART"].params["TZID"] == "America/New_York"
        assert event["DTSTART"].dt == timer.fire_at
        assert event["DTSTART"].dt.utcoffset() == timer.fire_at.astimezone(NEW_YORK).utcoffset()
        assert event["DTEND"].dt == timer.fire_at + timedelta(minutes=15)
        assert event["DTSTAMP"].dt == engine.clock.now()
        assert int(event["SEQUENCE"]) == 0 and str(event["STATUS"]) == "CONFIRMED"
        (alarm,) = event.walk("VALARM")
        assert str(alarm["ACTION"]) == "DISPLAY"
        assert alarm["TRIGGER"].params["RELATED"] == "START"
        assert event["DTSTART"].dt + alarm["TRIGGER"].dt == timer.fire_at
        assert str(alarm["DESCRIPTION"]) == str(event["SUMMARY"])
    cal = icalendar.Calendar.from_ical(text)
    assert (str(cal["PRODID"]), str(cal["VERSION"]), str(cal["METHOD"])) == (
        "-//followup//EN", "2.0", "PUBLISH")
    (zone,) = cal.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "America/New_York"
    assert {str(c["TZNAME"]) for c in zone.subcomponents} >= {"EST"}


def test_uids_are_opaque_and_name_no_one(engine: Engine, acme: str) -> None:
    for uid in _components(_export(engine)):
        head, _, tail = uid.partition("@")
        assert tail == "followup" and len(head) == 32 and int(head, 16) >= 0
        assert "Jane" not in uid and " " not in uid and acme not in uid


def test_summary_and_description_are_the_notifications_subject_and_draft(
    engine: Engine, acme: str
) -> None:
    events = _components(_export(engine))
    raj = events[_uid(engine, "thank-you-notes", "Raj Patel")]
    channel = RecordingChannel()
    sender = Engine(rules=engine.pack, store=engine.store, clock=engine.clock,
                    channels=[channel])
    _clock(engine).advance(timedelta(days=8))
    sender.run_due()
    by_uid = {reminder_uid(n.key, engine.application(n.application_id) if n.application_id
                           else None): n for n in channel.sent}
    assert {"thank-you-notes", "follow-up-call"} <= {n.rule for n in by_uid.values()}
    for uid, sent in by_uid.items():
        event = events[uid]
        assert str(event["SUMMARY"]) == sent.subject
        assert str(event["DESCRIPTION"]).startswith(sent.body.strip())
    assert "Raj Patel" in str(raj["SUMMARY"])
    thanks = next(e for e in events.values() if "Jane Doe" in str(e["SUMMARY"]))
    assert str(thanks["DESCRIPTION"]).startswith("Dear Jane Doe,")
    assert "Engineering Manager" in str(thanks["DESCRIPTION"])
    assert str(thanks["DESCRIPTION"]).endswith("Due Mon 2026-12-28 17:00 (America/New_York).")


def test_todo_mode_writes_tasks_due_at_the_deadline(engine: Engine, acme: str) -> None:
    text = _export(engine, todo=True)
    assert _components(text, "VEVENT") == {}
    todos = _components(text, "VTODO")
    reminders = _reminders(engine)
    assert set(todos) == set(reminders)
    for uid, timer in reminders.items():
        todo = todos[uid]
        assert todo["DTSTART"].dt == timer.fire_at
        # Without a deadline, a task is due at the end of its 15-minute slot.
        assert todo["DUE"].dt == (timer.due_at or timer.fire_at + timedelta(minutes=15))
        assert todo["DUE"].params["TZID"] == "America/New_York"
        assert str(todo["STATUS"]) == "NEEDS-ACTION"
        (alarm,) = todo.walk("VALARM")
        assert alarm["TRIGGER"].dt == timedelta(0)
    jane = todos[_uid(engine, "thank-you-notes", "Jane Doe")]
    assert jane["DUE"].dt == datetime(2026, 12, 28, 22, 0, tzinfo=UTC)  # 17:00 in New York


def test_the_same_plan_is_the_same_calendar_but_for_its_stamp(engine: Engine, acme: str) -> None:
    first = _export(engine)
    _clock(engine).advance(timedelta(hours=1))
    second = _export(engine)
    assert set(_components(first)) == set(_components(second))
    assert first.replace("DTSTAMP:20261223T210000Z", "DTSTAMP:20261223T220000Z") == second


def test_a_reminder_moved_earlier_gets_a_higher_sequence(engine: Engine, acme: str) -> None:
    call = _uid(engine, "follow-up-call")
    jane = _uid(engine, "thank-you-notes", "Jane Doe")
    before = _components(_export(engine))
    # The employer asks to be called on Monday 28 December: earlier than day 7.
    engine.set_facts(acme, {"follow_up_requested_on": "2026-12-28"}, owner=OWNER)
    after = _components(_export(engine))
    assert after[call]["DTSTART"].dt < before[call]["DTSTART"].dt
    assert int(after[call]["SEQUENCE"]) == int(before[call]["SEQUENCE"]) + 1
    assert after[call]["LAST-MODIFIED"].dt == engine.clock.now()
    assert int(after[jane]["SEQUENCE"]) == int(before[jane]["SEQUENCE"]) == 0


def test_the_sequence_outlives_the_engine(tmp_path: Any) -> None:
    from followup import SQLiteStore

    def engine_on(store: SQLiteStore) -> Engine:
        engine = Engine(store=store, clock=FakeClock(datetime(2026, 12, 23, 21, tzinfo=UTC)),
                        channels=[])
        engine.set_owner(OWNER, timezone="America/New_York", country="US")
        return engine

    with SQLiteStore(tmp_path / "f.db") as store:
        engine = engine_on(store)
        app = engine.add_application(owner=OWNER, company="Acme", role="SRE",
                                     facts={"interviewed_at": "2026-12-23T15:00"})
        _export(engine)
        engine.set_facts(app.id, {"follow_up_requested_on": "2026-12-28"}, owner=OWNER)
        _export(engine)
    with SQLiteStore(tmp_path / "f.db") as store:
        engine = engine_on(store)
        engine.set_facts(app.id, {"follow_up_requested_on": "2026-12-29"}, owner=OWNER)
        events = _components(_export(engine))
        assert int(events[_uid(engine, "follow-up-call")]["SEQUENCE"]) == 2


def test_a_cancelled_reminder_stays_cancelled_for_a_while_then_leaves(engine: Engine) -> None:
    # Tomorrow's interview: every reminder is still to come when it is done or dropped.
    acme = engine.add_application(
        owner=OWNER, company="Acme", role="Engineer",
        facts={"interviewed_at": "2026-12-24T10:00"},
        contacts=[Contact("Jane Doe", "interviewer"), Contact("Raj Patel", "interviewer")]).id
    jane = _uid(engine, "thank-you-notes", "Jane Doe")
    ask = _uid(engine, "ask-decision-date")
    raj = _uid(engine, "thank-you-notes", "Raj Patel")
    before = _components(_export(engine))
    assert {jane, ask, raj} <= set(before)
    engine.record(acme, "thank_you_sent", contact="Jane Doe", owner=OWNER)
    engine.set_facts(acme, {"decision_expected_on": "2027-01-15"}, owner=OWNER)
    events = _components(_export(engine))
    for uid in (jane, ask):
        assert str(events[uid]["STATUS"]) == "CANCELLED"
        assert int(events[uid]["SEQUENCE"]) == int(before[uid]["SEQUENCE"]) + 1
        assert events[uid]["DTSTART"].dt == before[uid]["DTSTART"].dt
        assert events[uid].walk("VALARM") == []
    assert str(events[raj]["STATUS"]) == "CONFIRMED"
    _clock(engine).advance(CANCELLED_KEEP)
    assert str(_components(_export(engine))[jane]["STATUS"]) == "CANCELLED"
    _clock(engine).advance(timedelta(minutes=1))
    assert jane not in _components(_export(engine))


def test_a_reminder_that_went_off_stays_as_it_was_for_a_while(engine: Engine, acme: str) -> None:
    raj = _uid(engine, "thank-you-notes", "Raj Patel")
    before = _components(_export(engine))[raj]
    assert before["DTSTART"].dt <= engine.clock.now()  # due now: the interview is over
    engine.run_due()
    assert raj not in _reminders(engine)  # fired: no longer planned
    after = _components(_export(engine))[raj]
    assert str(after["STATUS"]) == "CONFIRMED"
    assert (after["SEQUENCE"], after["DTSTART"].dt) == (before["SEQUENCE"], before["DTSTART"].dt)
    _clock(engine).advance(CANCELLED_KEEP + timedelta(minutes=1))
    assert raj not in _components(_export(engine))


def test_a_uid_survives_a_renamed_contact_and_a_reimport(engine: Engine, acme: str) -> None:
    uids = set(_components(_export(engine)))
    # The same application imported into another store, with Raj's name corrected.
    document = export_document(engine, OWNER)
    for app in document["applications"]:
        for contact in app["contacts"]:
            if contact["name"] == "Raj Patel":
                contact["name"] = "Raj Patil"
    other = make_engine(owner=OWNER)
    data = json.dumps(document).encode()
    import_items(other, read_json(data, "export.json", import_context(other, OWNER)),
                 owner=OWNER)
    now = other.clock.now()
    text = entries_to_ics(calendar_entries(other, OWNER, now=now),
                          zone=other.calendar(OWNER).tz, stamp=now)
    events = _components(text)
    assert set(events) == uids
    renamed = [e for e in events.values() if "Raj" in str(e["SUMMARY"])]
    assert renamed and all("Raj Patil" in str(e["SUMMARY"]) for e in renamed)


def test_a_key_names_its_contact_by_place_when_the_application_is_known(
    engine: Engine, acme: str
) -> None:
    app = engine.application(acme, owner=OWNER)
    key = str(TimerKey.rule(acme, "thank-you-notes", cycle=0, contact="Raj Patel"))
    renamed = replace(app, contacts=(app.contacts[0], replace(app.contacts[1], name="R. Patel")))
    new_key = str(TimerKey.rule(acme, "thank-you-notes", cycle=0, contact="R. Patel"))
    assert reminder_uid(key, app) == reminder_uid(new_key, renamed)
    assert reminder_uid(key, app) != reminder_uid(key, None) != reminder_uid(new_key, None)
    other_place = str(TimerKey.rule(acme, "thank-you-notes", cycle=0, contact="Jane Doe"))
    assert reminder_uid(other_place, app) != reminder_uid(key, app)


def test_transitions_are_left_out(engine: Engine, acme: str) -> None:
    engine.record(acme, "rejected", owner=OWNER)
    moves = [i for i in engine.agenda(owner=OWNER) if i.timer.action == "transition"]
    assert moves, "the default pack moves a rejected application to keep_warm later"
    events = _components(_export(engine))
    assert not {reminder_uid(i.timer.key, i.application) for i in moves} & set(events)
    assert set(_reminders(engine)) <= set(events)


def test_any_name_reads_back_the_same_and_lines_stay_short(engine: Engine) -> None:
    company = "Société Générale d'Études; Çà et là, Ærø\\Øresund — Ünïcödé Holdings"
    contact = "Zoë Åsa-Ñúñez Þórsdóttir\x1b[31m"
    engine.add_application(
        owner=OWNER, company=company, role="Ingénieure",
        facts={"interviewed_at": "2026-12-23T15:00"},
        contacts=[Contact(contact, "interviewer", title="Directrice, R&D")])
    text = _export(engine)
    (event,) = [e for e in _components(text).values() if "Zoë" in str(e["SUMMARY"])]
    assert company in str(event["SUMMARY"])
    assert "Zoë Åsa-Ñúñez Þórsdóttir[31m" in str(event["SUMMARY"])  # no ESC
    raw = text.encode("utf-8")
    lines = raw.split(b"\r\n")
    assert lines[-1] == b"" and b"\x1b" not in raw
    assert all(len(line) <= 75 for line in lines)
    assert any(line.startswith(b" ") for line in lines)  # something was folded
    for line in lines:
        line.decode("utf-8")  # no character split across two lines
    assert "\n" not in text.replace("\r\n", "") and "\r" not in text.replace("\r\n", "")


def test_an_empty_agenda_is_an_empty_calendar(engine: Engine) -> None:
    text = _export(engine)
    cal = icalendar.Calendar.from_ical(text)
    assert cal.walk("VEVENT") == [] and cal.walk("VTIMEZONE") == []
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")


def test_an_owner_in_utc_gets_utc_times(engine: Engine) -> None:
    utc_engine = Engine(store=MemoryStore(), clock=engine.clock, channels=[])
    utc_engine.set_owner("zed", timezone="UTC", country=None)
    utc_engine.add_application(owner="zed", company="Acme", role="SRE",
                               facts={"interviewed_at": "2026-12-23T15:00"})
    now = utc_engine.clock.now()
    text = entries_to_ics(calendar_entries(utc_engine, "zed", now=now), zone=UTC, stamp=now)
    assert "VTIMEZONE" not in text and "TZID" not in text
    assert all(e["DTSTART"].dt.tzinfo is not None for e in _components(text).values())


def test_the_docs_say_how_long_a_cancelled_reminder_stays() -> None:
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "import-export.md"
    if not doc.exists():
        pytest.skip("needs the source tree's docs/")
    assert f"for **{CANCELLED_KEEP.days} days**" in doc.read_text(encoding="utf-8")
