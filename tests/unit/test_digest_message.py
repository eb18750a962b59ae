"""The daily digest's message as its reader and a program see it: its key (the same for
every retry), its subject and body, the reminders it lists; and the digest time a
reminder waits for, across a day's end and a daylight-saving change."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from followup import InputError, Notification
from followup.delivery.digest import digest_at, gather, parse_digest_time
from followup.model import Delivery
from followup.timing.calendar import WorkCalendar

NEW_YORK = WorkCalendar(timezone="America/New_York")
SLOT = "2026-12-24T08:00:00-05:00"
NOW = datetime(2026, 12, 24, 13, 0, tzinfo=UTC)


def note(key: str, *, minutes: int, owner: str = "ada/β", due: str | None = None,
         body: str = "", due_at: datetime | None = None, slot: str | None = SLOT) -> Notification:
    data: dict[str, object] = {} if slot is None else {"digest_at": slot}
    if due is not None:
        data["due_local"] = due
    return Notification(key=key, application_id=f"app-{key}", owner=owner, rule="thank-you",
                        created_at=NOW - timedelta(minutes=minutes), subject=f"Thank {key}",
                        body=body, due_at=due_at, contact=f"contact {key}",
                        channels=("console",), data=data)


def test_a_digest_lists_its_reminders_oldest_first_under_one_stable_key() -> None:
    later = note("k2", minutes=5, due="2026-12-25T17:00:00-05:00",
                 body="Dear Jane,\n\nThank you.\n", due_at=NOW + timedelta(days=1))
    earlier = note("k1", minutes=50, body="First line\n", due_at=NOW + timedelta(hours=3))
    message = gather([Delivery(later, "console"), Delivery(earlier, "console")], NOW)
    digest = hashlib.sha256(b"k1\nk2").hexdigest()[:16]
    assert message.key == f"digest/ada%2Fβ/{SLOT}/{digest}"
    assert gather([Delivery(earlier, "console"), Delivery(later, "console")],
                  NOW + timedelta(hours=2)).key == message.key  # a retry: the same key
    assert (message.owner, message.rule, message.application_id) == ("ada/β", "digest", "")
    assert message.created_at == NOW and message.channels == ("console",)
    assert message.subject == "2 reminders for Thu 2026-12-24"
    assert message.body == ("- Thank k1\n"
                            "    First line\n"
                            "- Thank k2 (due Fri 2026-12-25 17:00)\n"
                            "    Dear Jane,\n"
                            "\n"
                            "    Thank you.\n")
    assert message.due_at == NOW + timedelta(hours=3)  # the soonest
    assert message.data == {"digest": SLOT, "reminders": [
        {"key": "k1", "application_id": "app-k1", "rule": "thank-you", "contact": "contact k1",
         "subject": "Thank k1", "due_local": None},
        {"key": "k2", "application_id": "app-k2", "rule": "thank-you", "contact": "contact k2",
         "subject": "Thank k2", "due_local": "2026-12-25T17:00:00-05:00"},
    ]}


def test_a_digest_of_one_reminder_without_a_time_or_deadline_says_so() -> None:
    lone = note("k1", minutes=1, slot=None)
    message = gather([Delivery(lone, "email")], NOW)
    assert message.subject == "1 reminder for today"
    assert message.body == "- Thank k1\n"
    assert message.due_at is None and message.channels == ("email",)
    assert message.key.startswith("digest/ada%2Fβ//")


def test_reminders_created_together_are_listed_by_key() -> None:
    b, a = note("b", minutes=1), note("a", minutes=1)
    message = gather([Delivery(b, "console"), Delivery(a, "console")], NOW)
    assert [r["key"] for r in message.data["reminders"]] == ["a", "b"]


@pytest.mark.parametrize(("fired", "expected"), [
    ("2026-12-24T07:59:59", "2026-12-24T08:00:00-05:00"),  # later today
    ("2026-12-24T08:00:00", "2026-12-24T08:00:00-05:00"),  # at it: this one
    ("2026-12-24T08:00:01", "2026-12-25T08:00:00-05:00"),  # just missed: tomorrow's
    ("2026-12-31T23:30:00", "2027-01-01T08:00:00-05:00"),  # across a year's end
])
def test_a_reminder_waits_for_the_first_digest_at_or_after_it_fired(
        fired: str, expected: str) -> None:
    moment = NEW_YORK.to_utc(datetime.fromisoformat(fired))
    slot = digest_at("08:00", moment, NEW_YORK)
    assert slot.isoformat() == expected
    assert slot.tzinfo is not None and slot.utcoffset() == timedelta(hours=-5)


def test_a_digest_time_a_clock_change_skips_comes_at_the_same_instant_as_the_hour_after() -> None:
    # 2027-03-14 02:30 does not exist in New York: the clocks go from 02:00 to 03:00.
    fired = NEW_YORK.to_utc(datetime(2027, 3, 13, 12, 0))
    slot = digest_at("02:30", fired, NEW_YORK)
    assert slot >= fired
    assert slot.astimezone(UTC) == NEW_YORK.to_utc(datetime(2027, 3, 14, 2, 30))


@pytest.mark.parametrize(("text", "expected"), [
    ("8:00", "08:00"), (" 07:05 ", "07:05"), ("23:59", "23:59"), ("0:0", "00:00")])
def test_a_digest_time_is_written_with_two_digits(text: str, expected: str) -> None:
    assert parse_digest_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "8", "8:00:00", "noon", "8:60", "-1:00", ""])
def test_anything_else_is_refused_saying_what_a_digest_time_is(text: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_digest_time(text)
    assert str(refused.value) == (
        f"a digest time is a local time of day such as 08:00, not {text!r}")


def test_after_a_clock_turned_back_across_midnight_the_day_s_digest_is_not_sent_again() -> None:
    # Casey station, 2010-03-05 02:00 (+11:00) became 2010-03-04 23:00 (+08:00): the hours
    # from 23:00 to 02:00 came twice. A reminder that fired in the second 23:30 of the 4th
    # waits for the 6th's 00:30 digest: the 5th's has already gone out, in the first pass.
    casey = WorkCalendar(timezone="Antarctica/Casey")
    before = digest_at("00:30", datetime(2010, 3, 4, 12, 0, tzinfo=UTC), casey)
    assert before.isoformat() == "2010-03-05T00:30:00+11:00"
    fired = datetime(2010, 3, 4, 15, 30, tzinfo=UTC)
    assert casey.local(fired).isoformat() == "2010-03-04T23:30:00+08:00"
    assert fired > before
    assert digest_at("00:30", fired, casey).isoformat() == "2010-03-06T00:30:00+08:00"
