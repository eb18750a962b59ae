"""The calendar channel on a real file, parsed back with icalendar: reminders at their
times in the owner's zone with alarms, opaque stable UIDs, a moved reminder replaced, a
cancelled one kept as cancelled for a while, then removed."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest

from followup import (
    Channel,
    Contact,
    Engine,
    FakeClock,
    MemoryStore,
    Notification,
    PluginError,
    Settings,
    load_rules,
)
from followup.delivery.manager import load_plugins
from followup.interop.ical import CANCELLED_KEEP, reminder_uid
from followup.model import Timer
from followup.plugins.calendar import CalendarChannel, followup_register_channels

START = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
PACK = load_rules("calendar.yaml", text="version: 1\nextends: after-interview\n"
                                         "channels: [calendar]\n")


def engine_with(channel: CalendarChannel, clock: FakeClock) -> Engine:
    engine = Engine(rules=PACK, store=MemoryStore(), clock=clock, channels=[channel])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    return engine


def components(path: Path, kind: str = "VEVENT") -> dict[str, Any]:
    data = path.read_bytes()
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar.to_ical() == data  # reads back, and is written again the same
    return {str(c["UID"]): c for c in calendar.walk(kind)}


def alarm_at(component: Any) -> datetime:
    """When the component's alarm rings."""
    (alarm,) = component.walk("VALARM")
    trigger = alarm.decoded("TRIGGER")
    start: datetime = component.decoded("DTSTART")
    return start + trigger if isinstance(trigger, timedelta) else trigger


def uid(engine: Engine, timer: Timer) -> str:
    """The UID of a planned reminder: the one the export and the feed give it."""
    app = engine.application(timer.application_id) if timer.application_id else None
    return reminder_uid(timer.key, app)


def sent(key: str) -> str:
    """The UID of a reminder that was sent without having been planned here."""
    return reminder_uid(key, None)


def add_acme(engine: Engine) -> str:
    return engine.add_application(
        owner="ada", company="Acme", role="Engineer", facts={"interviewed_at": START},
        contacts=[Contact("Jane Doe", "interviewer", title="CTO")]).id


def test_planned_reminders_are_events_with_alarms_at_their_times(tmp_path: Path) -> None:
    path = tmp_path / "reminders.ics"
    clock = FakeClock(START)
    engine = engine_with(CalendarChannel(path, clock=clock), clock)
    app_id = add_acme(engine)
    reminders = [t for t in engine.timers(app_id) if t.action == "notify"]
    assert len(reminders) >= 3
    events = components(path)
    mine = {uid for uid, c in events.items() if str(c["X-FOLLOWUP-APPLICATION"]) == app_id}
    assert mine == {uid(engine, t) for t in reminders}
    assert all(u.endswith("@followup") and " " not in u and "Jane" not in u for u in mine)
    # The rules over all of the owner's applications are there too (keep-looking).
    (nudge,) = [t for t in engine.agenda(owner="ada") if t.application is None]
    assert alarm_at(events[uid(engine, nudge.timer)]) == nudge.timer.fire_at
    for timer in reminders:
        event = events[uid(engine, timer)]
        assert event.decoded("DTSTART") == timer.fire_at
        assert event["DTSTART"].params["TZID"] == "America/New_York"
        assert alarm_at(event) == timer.fire_at
        assert event["SEQUENCE"] == 0
        assert str(event["X-FOLLOWUP-STATUS"]) == "planned"
        assert str(event["X-FOLLOWUP-KEY"]) == timer.key
    (zone,) = icalendar.Calendar.from_ical(path.read_bytes()).walk("VTIMEZONE")
    assert str(zone["TZID"]) == "America/New_York"
    call = next(t for t in reminders if t.rule == "follow-up-call")
    assert "Acme" in str(events[uid(engine, call)]["SUMMARY"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".reminders.ics.*"))  # no temporary file left behind


def test_planned_reminders_say_what_their_notifications_will_say(tmp_path: Path) -> None:
    # The same subject and draft as the export and the feed: not the rule's name.
    from followup.interop.ical import calendar_entries

    path = tmp_path / "reminders.ics"
    clock = FakeClock(START)
    engine = engine_with(CalendarChannel(path, clock=clock), clock)
    app_id = add_acme(engine)
    events = components(path)
    exported = {e.uid: json.loads(e.content)
                for e in calendar_entries(engine, "ada", now=START)}
    thanks = next(t for t in engine.timers(app_id) if t.rule == "thank-you-notes")
    event = events[uid(engine, thanks)]
    assert str(event["SUMMARY"]) == "Thank Jane Doe for the interview at Acme"
    assert "Dear Jane Doe," in str(event["DESCRIPTION"])
    assert "Due " in str(event["DESCRIPTION"])
    for key, content in exported.items():
        assert str(events[key]["SUMMARY"]) == content["summary"]
        assert str(events[key]["DESCRIPTION"]) == content["description"]


def test_a_calendar_written_before_messages_is_still_told_the_plan(tmp_path: Path) -> None:
    # A third-party channel whose planned() has no ``messages`` keeps working.
    told: list[list[str]] = []

    class OldCalendar:
        name = "old"

        def send(self, notification: Notification) -> None:
            pass

        def planned(self, *, owner: str, application: Any, timers: Any, fired: Any,
                    calendar: Any) -> None:
            told.append([t.rule for t in timers])

    engine = Engine(rules=PACK, store=MemoryStore(), clock=FakeClock(START),
                    channels=[OldCalendar()])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    add_acme(engine)
    assert told and "thank-you-notes" in told[0]


def test_a_moved_reminder_replaces_the_old_one_and_a_cancelled_one_is_marked_then_removed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "reminders.ics"
    clock = FakeClock(START)
    engine = engine_with(CalendarChannel(path, clock=clock), clock)
    app_id = add_acme(engine)
    call = next(t for t in engine.timers(app_id) if t.rule == "follow-up-call")
    call_uid = uid(engine, call)
    before = components(path)[call_uid]

    clock.advance(timedelta(hours=1))
    engine.set_facts(app_id, {"decision_expected_on": "2027-01-20"})
    moved = next(t for t in engine.timers(app_id) if t.rule == "follow-up-call")
    assert moved.key == call.key and moved.fire_at != call.fire_at
    after = components(path)
    assert list(after).count(call_uid) == 1
    assert after[call_uid].decoded("DTSTART") == moved.fire_at
    assert alarm_at(after[call_uid]) == moved.fire_at
    assert after[call_uid]["SEQUENCE"] == before["SEQUENCE"] + 1
    assert after[call_uid].decoded("DTSTAMP") == START + timedelta(hours=1)

    clock.advance(timedelta(hours=1))
    engine.record(app_id, "called")  # done: the follow-up call's reminder is cancelled
    cancelled = components(path)[call_uid]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["X-FOLLOWUP-STATUS"]) == "cancelled"
    assert cancelled["SEQUENCE"] == after[call_uid]["SEQUENCE"] + 1
    assert cancelled.walk("VALARM") == []  # it rings no more
    engine.record(app_id, "rejected")  # the state is left: its reminders go too
    planned = {u for u, c in components(path).items()
               if str(c["X-FOLLOWUP-STATUS"]) == "planned"
               and str(c["X-FOLLOWUP-APPLICATION"]) == app_id}
    assert planned == {uid(engine, t) for t in engine.timers(app_id) if t.action == "notify"}
    assert planned != {u for u, c in after.items()
                       if str(c["X-FOLLOWUP-APPLICATION"]) == app_id}
    # Once CANCELLED_KEEP has passed, the next change leaves the cancelled ones out.
    assert call_uid in components(path)
    clock.advance(CANCELLED_KEEP + timedelta(minutes=1))
    engine.add_application(owner="ada", company="Globex", role="SRE",
                           facts={"interviewed_at": clock.now()})
    assert call_uid not in components(path)


def test_a_delivered_reminder_shows_what_was_sent_and_a_repeat_changes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "reminders.ics"
    clock = FakeClock(START)
    channel = CalendarChannel(path, clock=clock)
    engine = engine_with(channel, clock)
    add_acme(engine)
    clock.advance(timedelta(hours=2))  # the interview is over: the first reminders are due
    report = engine.run_due()
    sent = [row.notification for row in report.delivery.delivered]
    assert sent and not report.delivery.failed
    events = components(path)
    for notification in sent:
        app = engine.application(notification.application_id)
        event = events[reminder_uid(notification.key, app)]
        assert str(event["SUMMARY"]) == notification.subject
        assert str(event["X-FOLLOWUP-STATUS"]) == "delivered"
        assert event["SEQUENCE"] >= 1  # it was planned first, then sent
        assert alarm_at(event) == notification.created_at
    thanks = next(n for n in sent if n.rule == "thank-you-notes")
    thanks_uid = reminder_uid(thanks.key, engine.application(thanks.application_id))
    assert thanks.body.splitlines()[0] in str(events[thanks_uid]["DESCRIPTION"])
    written = path.read_bytes()
    clock.advance(timedelta(minutes=5))
    channel.send(thanks)  # at least once: the same notification again
    assert path.read_bytes() == written
    # Later changes to the plan leave delivered reminders alone.
    engine.record(report.outcomes[0].application.id, "rejected")
    assert str(components(path)[thanks_uid]["X-FOLLOWUP-STATUS"]) == "delivered"


def test_todo_mode_writes_tasks_due_at_their_deadlines(tmp_path: Path) -> None:
    path = tmp_path / "tasks.ics"
    clock = FakeClock(START)
    engine = engine_with(CalendarChannel(path, todo=True, clock=clock), clock)
    app_id = add_acme(engine)
    todos = components(path, "VTODO")
    assert todos and not components(path, "VEVENT")
    for timer in (t for t in engine.timers(app_id) if t.action == "notify"):
        todo = todos[uid(engine, timer)]
        if timer.due_at is not None and timer.due_at > timer.fire_at:
            assert todo.decoded("DUE") == timer.due_at
        assert alarm_at(todo) == timer.fire_at


def test_past_reminders_are_dropped_after_keep_days(tmp_path: Path) -> None:
    path = tmp_path / "reminders.ics"
    clock = FakeClock(START)
    channel = CalendarChannel(path, keep_days=10, clock=clock)
    channel.send(notification("old/1"))
    clock.advance(timedelta(days=11))
    channel.send(notification("new/1", created_at=clock.now()))
    assert set(components(path)) == {sent("new/1")}


def notification(key: str, owner: str = "ada", **changes: Any) -> Notification:
    values: dict[str, Any] = dict(
        key=key, application_id="app-1", owner=owner, rule="thank-you-notes",
        created_at=START, subject=f"Reminder {key}", body="Dear Jane,\nthank you.\n",
        due_at=START + timedelta(days=2), contact="Jane Doe", channels=("calendar",),
        data={"due_local": "2027-01-06T17:00:00-05:00"})
    values.update(changes)
    return Notification(**values)


def test_two_senders_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "reminders.ics"
    # Two channel objects on one file, as two engines in one process would have.
    channels = [CalendarChannel(path), CalendarChannel(path)]
    start = threading.Barrier(2)

    def send_many(channel: CalendarChannel, prefix: str) -> None:
        start.wait()
        for i in range(25):
            channel.send(notification(f"{prefix}/{i}"))

    threads = [threading.Thread(target=send_many, args=(c, p))
               for c, p in zip(channels, "ab", strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(components(path)) == 50


_SENDER = """
import sys
from tests.integration.test_channel_calendar import notification
from followup.plugins.calendar import CalendarChannel

path, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
channel = CalendarChannel(path)
print("ready", flush=True)
sys.stdin.readline()  # both start together
for i in range(count):
    channel.send(notification(f"{prefix}/{i}"))
"""


def test_two_processes_at_once_lose_nothing(tmp_path: Path) -> None:
    # Two daemons on one machine share the file: only the flock on PATH.lock keeps one
    # from writing over what the other just added.
    path = tmp_path / "reminders.ics"
    root = Path(__file__).parents[2]
    senders = [subprocess.Popen([sys.executable, "-c", _SENDER, str(path), prefix, "60"],
                                cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
               for prefix in "ab"]
    for sender in senders:
        assert sender.stdout is not None and sender.stdout.readline() == "ready\n"
    for sender in senders:
        assert sender.stdin is not None
        sender.stdin.write("go\n")
        sender.stdin.flush()
    for sender in senders:
        sender.communicate(timeout=60)  # waits, and closes the pipes
        assert sender.returncode == 0
    assert len(components(path)) == 120


def test_an_owner_placeholder_gives_each_owner_a_file(tmp_path: Path) -> None:
    channel = CalendarChannel(tmp_path / "cal" / "reminders-{owner}.ics")
    channel.send(notification("a/1", owner="ada"))
    channel.send(notification("b/1", owner="bob/../x"))
    assert set(components(tmp_path / "cal" / "reminders-ada.ics")) == {sent("a/1")}
    (other,) = [p for p in (tmp_path / "cal").glob("*.ics") if p.name != "reminders-ada.ics"]
    assert other.parent == tmp_path / "cal" and "/" not in other.name
    assert set(components(other)) == {sent("b/1")}


OWNERS = ["ada", "ada.", "Ada", "ada x", "ada_x", "ada/x", "../x", "..", ".", "王伟", "王伟 ",
          "con", "ada-0123456789abcdef", "x" * 300, "a\r\nb", "a\x00b"]


def test_owners_never_share_a_file_and_never_leave_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "cal"
    channel = CalendarChannel(folder / "reminders-{owner}.ics")
    for number, owner in enumerate(OWNERS):
        channel.send(notification(f"k/{number}", owner=owner))
    files = sorted(folder.glob("*.ics"))
    assert len(files) == len(OWNERS)
    assert {channel.file_for(owner) for owner in OWNERS} == set(files)
    # Names that differ only in case get files of their own too (macOS, Windows).
    assert len({f.name.lower() for f in files}) == len(files)
    for number, owner in enumerate(OWNERS):
        path = channel.file_for(owner)
        assert path.parent == folder and len(path.name.encode()) <= 255
        assert set(components(path)) == {sent(f"k/{number}")}
    names = {owner: channel.file_for(owner).name for owner in OWNERS}
    assert names["ada"] == "reminders-ada.ics" and names["ada_x"] == "reminders-ada_x.ics"
    assert names["ada x"] == "reminders-ada_x-1bd72a378921edfa.ics"
    assert names["王伟"].startswith("reminders-owner-") and names["con"] != "reminders-con.ics"


NAMES = ["Łukasz Wójcik", "王伟", "Jane\u2028Doe", "Jane\x85Doe", "Jane\x1b[31mDoe",
         "Jane\x0bDoe\x1c", "Jane\r\nDoe", "Jane\rDoe"]


def test_any_name_gives_valid_entries_that_a_repeat_leaves_alone(tmp_path: Path) -> None:
    path = tmp_path / "reminders.ics"
    channel = CalendarChannel(path)
    notes = [notification(f"k/{n}", owner=name, contact=name, subject=f"Thank {name}",
                          body=f"Dear {name},\nthank you.\n")
             for n, name in enumerate(NAMES)]
    for note in notes:
        channel.send(note)
    written = path.read_bytes()
    for note in notes:  # delivered again (at least once): nothing changes
        channel.send(note)
    assert path.read_bytes() == written
    text = written.decode("utf-8")
    assert all(line.startswith((" ", "BEGIN:", "END:")) or ":" in line
               for line in text.split("\r\n") if line)
    assert not any(c in text.replace("\r\n", "") for c in "\r\n\x1b\x85\x0b\x1c")
    found = components(path)
    assert set(found) == {sent(f"k/{n}") for n in range(len(NAMES))}
    assert str(found[sent("k/0")]["SUMMARY"]) == "Thank Łukasz Wójcik"
    assert str(found[sent("k/2")]["SUMMARY"]) == "Thank Jane\u2028Doe"
    assert str(found[sent("k/4")]["SUMMARY"]) == "Thank Jane[31mDoe"
    # Owners whose names differ only in a line break keep apart in one file.
    owners = {str(c["X-FOLLOWUP-OWNER"]) for c in found.values()}
    assert len(owners) == len(NAMES)


def test_planned_reminders_for_any_name_are_kept_in_step(tmp_path: Path) -> None:
    path = tmp_path / "reminders.ics"
    clock = FakeClock(START)
    engine = engine_with(CalendarChannel(path, clock=clock), clock)
    app_id = engine.add_application(
        owner="ada", company="Acme\u2028Corp", role="Engineer", facts={"interviewed_at": START},
        contacts=[Contact(name, "interviewer") for name in NAMES]).id
    planned = {uid(engine, t) for t in engine.timers(app_id) if t.action == "notify"}
    assert planned <= set(components(path))
    written = path.read_bytes()
    engine.replan(app_id)
    assert path.read_bytes() == written  # the same plan writes nothing
    engine.record(app_id, "thank_you_sent", contact=NAMES[2], at=START + timedelta(hours=1))
    now = set(components(path))
    left = {uid(engine, t) for t in engine.timers(app_id) if t.action == "notify"}
    assert left <= now and len(left) < len(planned)
    assert not (planned - left) & {uid for uid, c in components(path).items()
                                   if str(c["X-FOLLOWUP-STATUS"]) == "planned"}


def register(env: dict[str, str]) -> list[Channel]:
    found: list[Channel] = []
    followup_register_channels(register=found.append, settings=Settings(environ=env))
    return found


def test_settings_are_checked_when_loading(tmp_path: Path) -> None:
    assert register({}) == []
    with pytest.raises(PluginError, match="FOLLOWUP_CALENDAR_PATH"):
        register({"FOLLOWUP_CALENDAR_COMPONENT": "todo"})
    with pytest.raises(PluginError, match="must be event or todo, not 'task'"):
        register({"FOLLOWUP_CALENDAR_PATH": str(tmp_path / "r.ics"),
                  "FOLLOWUP_CALENDAR_COMPONENT": "task"})
    with pytest.raises(PluginError, match="names a folder"):
        register({"FOLLOWUP_CALENDAR_PATH": str(tmp_path)})
    with pytest.raises(PluginError, match="KEEP_DAYS must be a whole number"):
        register({"FOLLOWUP_CALENDAR_PATH": str(tmp_path / "r.ics"),
                  "FOLLOWUP_CALENDAR_KEEP_DAYS": "ninety"})
    with pytest.raises(PluginError, match=r"only \{owner\}"):
        register({"FOLLOWUP_CALENDAR_PATH": str(tmp_path / "{who}.ics")})
    mine = tmp_path / "mine.ics"
    mine.write_text("BEGIN:VCALENDAR\r\nPRODID:-//Someone else//EN\r\nEND:VCALENDAR\r\n")
    with pytest.raises(PluginError, match="did not write"):
        register({"FOLLOWUP_CALENDAR_PATH": str(mine)})
    (channel,) = register({"FOLLOWUP_CALENDAR_PATH": str(tmp_path / "r.ics"),
                           "FOLLOWUP_CALENDAR_COMPONENT": "TODO"})
    assert isinstance(channel, CalendarChannel) and channel.todo


def test_the_entry_point_loads_it_and_a_bad_setting_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "reminders.ics"
    plugins = load_plugins(environ={"FOLLOWUP_PLUGINS": "calendar",
                                    "FOLLOWUP_CALENDAR_PATH": str(path)})
    assert plugins.channels.names() == ["calendar"]
    broken = load_plugins(environ={"FOLLOWUP_PLUGINS": "calendar,console",
                                   "FOLLOWUP_CALENDAR_COMPONENT": "todo"})
    assert "FOLLOWUP_CALENDAR_PATH" in broken.failures["calendar"]
    assert broken.channels.names() == ["console"]
