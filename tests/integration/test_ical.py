"""The agenda as iCalendar: what ``followup.interop.ical`` writes, read back by ``icalendar``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest

from followup import Contact, Engine, FakeClock
from followup.interop.ical import agenda_to_ics, fold_line
from followup.runtime.engine import AgendaItem
from followup.testing import make_engine

OWNER = "ada"


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


def _agenda(engine: Engine) -> list[AgendaItem]:
    return engine.agenda(owner=OWNER)


def _export(engine: Engine, *, todo: bool = False) -> str:
    return agenda_to_ics(_agenda(engine), calendar=engine.calendar(OWNER),
                         now=engine.clock.now(), todo=todo)


def _components(text: str, kind: str = "VEVENT") -> dict[str, Any]:
    cal = icalendar.Calendar.from_ical(text)
    return {str(c["UID"]): c for c in cal.walk(kind)}


def _uid(engine: Engine, rule: str, contact: str = "-") -> str:
    (timer,) = [i.timer for i in _agenda(engine)
                if i.timer.rule == rule and (i.timer.contact or "-") == contact]
    return f"{timer.key}@followup"


def test_every_reminder_is_an_event_at_its_fire_time_with_an_alarm(
    engine: Engine, acme: str
) -> None:
    text = _export(engine)
    events = _components(text)
    reminders = {f"{i.timer.key}@followup": i.timer for i in _agenda(engine)}
    assert set(events) == set(reminders)
    assert f"{acme}/thank-you-notes/0/Jane Doe/0@followup" in events
    for uid, timer in reminders.items():
        event = events[uid]
        assert event["DTSTART"].dt == timer.fire_at
        assert event["DTEND"].dt == timer.fire_at + timedelta(minutes=15)
        assert event["DTSTAMP"].dt == engine.clock.now()
        (alarm,) = event.walk("VALARM")
        assert str(alarm["ACTION"]) == "DISPLAY"
        assert alarm["TRIGGER"].params["RELATED"] == "START"
        assert event["DTSTART"].dt + alarm["TRIGGER"].dt == timer.fire_at
        assert str(alarm["DESCRIPTION"]) == str(event["SUMMARY"])
    cal = icalendar.Calendar.from_ical(text)
    assert str(cal["PRODID"]) == "-//followup//EN"
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == "followup"
    assert "DTSTART:20261223T200000Z\r\n" in text  # UTC, in the Z form


def test_summaries_and_descriptions_say_what_to_do(engine: Engine, acme: str) -> None:
    events = _components(_export(engine))
    jane = events[_uid(engine, "thank-you-notes", "Jane Doe")]
    assert str(jane["SUMMARY"]) == "thank-you-notes: Jane Doe (Acme)"
    description = str(jane["DESCRIPTION"])
    # Due by the end of the 2nd working day, in the owner's time.
    assert "Due Mon 2026-12-28 17:00 (America/New_York)." in description
    assert "Interviewer: Jane Doe, Engineering Manager." in description
    assert str(events[_uid(engine, "follow-up-call")]["SUMMARY"]) == "follow-up-call: Acme"
    (looking,) = [e for uid, e in events.items() if uid.startswith(f"owner/{OWNER}/keep-looking")]
    assert str(looking["SUMMARY"]) == "keep-looking: all applications"


def test_todo_mode_writes_tasks_due_at_the_deadline(engine: Engine, acme: str) -> None:
    text = _export(engine, todo=True)
    assert _components(text, "VEVENT") == {}
    todos = _components(text, "VTODO")
    timers = {f"{i.timer.key}@followup": i.timer for i in _agenda(engine)}
    assert set(todos) == set(timers)
    for uid, timer in timers.items():
        todo = todos[uid]
        assert todo["DTSTART"].dt == timer.fire_at
        # Without a deadline, a task is due at the end of its 15-minute slot.
        assert todo["DUE"].dt == (timer.due_at or timer.fire_at + timedelta(minutes=15))
        assert todo["DUE"].dt > todo["DTSTART"].dt
        (alarm,) = todo.walk("VALARM")
        assert alarm["TRIGGER"].params["RELATED"] == "START"
        assert alarm["TRIGGER"].dt == timedelta(0)
    jane = todos[_uid(engine, "thank-you-notes", "Jane Doe")]
    assert jane["DUE"].dt == datetime(2026, 12, 28, 22, 0, tzinfo=UTC)  # 17:00 in New York


def test_uids_are_stable_across_exports(engine: Engine, acme: str) -> None:
    first = _export(engine)
    assert isinstance(engine.clock, FakeClock)
    engine.clock.advance(timedelta(hours=1))
    second = _export(engine)
    assert first != second  # DTSTAMP moved ...
    assert set(_components(first)) == set(_components(second))  # ... the UIDs did not
    assert first.replace("20261223T210000Z", "20261223T220000Z") == second


def test_a_moved_reminder_keeps_its_uid_with_a_higher_sequence(engine: Engine, acme: str) -> None:
    uid = _uid(engine, "follow-up-call")
    jane = _uid(engine, "thank-you-notes", "Jane Doe")
    exported = _components(_export(engine))
    before, jane_before = exported[uid], exported[jane]
    # The employer will decide on 15 January: the call moves to the next working day.
    engine.set_facts(acme, {"decision_expected_on": "2027-01-15"}, owner=OWNER)
    exported = _components(_export(engine))
    after, jane_after = exported[uid], exported[jane]
    assert after["DTSTART"].dt > before["DTSTART"].dt
    assert after["DTSTART"].dt == datetime(2027, 1, 19, 14, 0, tzinfo=UTC)  # Tue 09:00 (Mon MLK)
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    # A reminder that did not move keeps its SEQUENCE.
    assert int(jane_after["SEQUENCE"]) == int(jane_before["SEQUENCE"])


def test_a_done_or_cancelled_reminder_is_absent(engine: Engine, acme: str) -> None:
    jane = _uid(engine, "thank-you-notes", "Jane Doe")
    ask = _uid(engine, "ask-decision-date")
    assert {jane, ask} <= set(_components(_export(engine)))
    engine.record(acme, "thank_you_sent", contact="Jane Doe", owner=OWNER)
    engine.set_facts(acme, {"decision_expected_on": "2027-01-15"}, owner=OWNER)
    events = _components(_export(engine))
    assert jane not in events and ask not in events
    assert f"{acme}/thank-you-notes/0/Raj Patel/0@followup" in events


def test_transitions_are_left_out(engine: Engine, acme: str) -> None:
    engine.record(acme, "rejected", owner=OWNER)
    timers = [i.timer for i in _agenda(engine)]
    moves = [t for t in timers if t.action == "transition"]
    assert moves, "the default pack moves a rejected application to keep_warm later"
    events = _components(_export(engine))
    assert set(events) == {f"{t.key}@followup" for t in timers if t.action == "notify"}
    assert not {f"{t.key}@followup" for t in moves} & set(events)


def test_a_long_summary_is_folded_and_reads_back_the_same(engine: Engine) -> None:
    company = "Société Générale d'Études; Çà et là, Ærø\\Øresund — Ünïcödé Holdings"
    contact = "Zoë Åsa-Ñúñez Þórsdóttir"
    app = engine.add_application(
        owner=OWNER, company=company, role="Ingénieure",
        facts={"interviewed_at": "2026-12-23T15:00"},
        contacts=[Contact(contact, "interviewer", title="Directrice, R&D")])
    text = _export(engine)
    uid = f"{app.id}/thank-you-notes/0/{contact}/0@followup"
    event = _components(text)[uid]
    assert str(event["SUMMARY"]) == f"thank-you-notes: {contact} ({company})"
    assert f"Interviewer: {contact}, Directrice, R&D." in str(event["DESCRIPTION"])
    raw = text.encode("utf-8")
    lines = raw.split(b"\r\n")
    assert lines[-1] == b""  # the last line ends with CRLF too
    assert all(len(line) <= 75 for line in lines)
    assert any(line.startswith(b" ") for line in lines)  # something was folded
    for line in lines:
        line.decode("utf-8")  # no character split across two lines


def test_lines_end_with_crlf(engine: Engine, acme: str) -> None:
    text = _export(engine)
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert "\r" not in text.replace("\r\n", "")


@pytest.mark.parametrize("line", ["x" * 74, "x" * 75, "x" * 76, "é" * 80, "a" + "€" * 60])
def test_fold_line_keeps_every_line_within_75_octets(line: str) -> None:
    folded = fold_line(line).encode("utf-8").split(b"\r\n")
    assert all(len(part) <= 75 for part in folded)
    assert all(part.startswith(b" ") for part in folded[1:])
    assert b"".join([folded[0], *(p[1:] for p in folded[1:])]).decode("utf-8") == line


def test_an_empty_agenda_is_an_empty_calendar(engine: Engine) -> None:
    text = _export(engine)
    cal = icalendar.Calendar.from_ical(text)
    assert cal.walk("VEVENT") == []
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
