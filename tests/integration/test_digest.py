"""The daily digest on a real SQLite store: an owner's reminders of a day go out as one
message per channel at their chosen time, each still tracked by its own key; and channels
whose send is a coroutine function."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from followup import (
    Contact,
    Engine,
    FakeClock,
    InputError,
    Notification,
    Owner,
    SQLiteStore,
    load_rules,
)
from followup.cli import main
from followup.testing import RecordingChannel

START = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
DIGEST = datetime(2027, 1, 5, 13, 0, tzinfo=UTC)  # Tuesday 08:00 in New York


class Attempts(RecordingChannel):
    """Records every attempt, failed or not."""

    def __init__(self, name: str = "console") -> None:
        super().__init__(name)
        self.attempts: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.attempts.append(notification)
        super().send(notification)


def engine_for(tmp_path: Path, *channels: object, clock: FakeClock, pack: str | None = None
               ) -> Engine:
    rules = load_rules("p.yaml", text=pack) if pack else None
    return Engine(rules=rules, store=SQLiteStore(tmp_path / "f.db"), clock=clock,
                  channels=list(channels))  # type: ignore[arg-type]


def interview(engine: Engine, owner: str = "ada", company: str = "Acme") -> str:
    return engine.add_application(
        owner=owner, company=company, role="Engineer", facts={"interviewed_at": START, "interview_ends_at": START},
        contacts=[Contact("Jane Doe", "interviewer", title="CTO"),
                  Contact("Raj Patel", "interviewer", title="Staff Engineer")]).id


def test_the_day_s_reminders_go_out_once_at_the_digest_time(tmp_path: Path) -> None:
    console = RecordingChannel()
    clock = FakeClock(START)
    with engine_for(tmp_path, console, clock=clock) as engine:
        owner = engine.set_owner("ada", timezone="America/New_York", country="US",
                                 digest="8:00")
        assert owner.digest == "08:00"
        interview(engine)
        first = engine.run_due()
        assert first.fired == 4 and console.sent == []  # fired, and held for the digest
        rows = engine.store.deliveries(owner="ada")
        assert len(rows) == 4 and {r.status for r in rows} == {"pending"}
        assert {r.notification.held_until for r in rows} == {DIGEST}
        clock.set(DIGEST - timedelta(minutes=1))
        assert not engine.deliver()
        clock.set(DIGEST)
        report = engine.deliver()
        assert len(report.delivered) == 4
        (message,) = console.sent
        assert message.subject == "4 reminders for Tue 2027-01-05"
        keys = {r.notification.key for r in rows}
        assert {r["key"] for r in message.data["reminders"]} == keys
        for row in rows:
            assert row.notification.subject in message.body
        assert {r.status for r in engine.store.deliveries(owner="ada")} == {"delivered"}
        clock.advance(timedelta(hours=1))
        assert not engine.run_due().delivery  # nothing sent twice


def test_a_failed_digest_retries_all_its_reminders_together(tmp_path: Path) -> None:
    console = Attempts()
    clock = FakeClock(START)
    with engine_for(tmp_path, console, clock=clock) as engine:
        engine.set_owner("ada", timezone="America/New_York", country="US", digest="08:00")
        interview(engine)
        engine.run_due()
        console.fail(2)
        clock.set(DIGEST)
        report = engine.deliver()
        assert len(report.failed) == 4 and not report.delivered
        assert all("the digest of 4 reminders failed" in str(row.last_error)
                   for row in report.failed)
        retry_at = {r.next_attempt_at for r in engine.store.deliveries(owner="ada")}
        assert len(retry_at) == 1  # one backoff for all of them
        for minutes in range(1, 60):
            clock.set(DIGEST + timedelta(minutes=minutes))
            engine.deliver()
        assert len(console.attempts) == 3 and len(console.sent) == 1
        assert len({n.key for n in console.attempts}) == 1  # the same message each time
        assert {r.status for r in engine.store.deliveries(owner="ada")} == {"delivered"}
        assert {r.attempts for r in engine.store.deliveries(owner="ada")} == {3}  # 2 failed, 1 sent


def test_owners_without_a_digest_are_unchanged_and_digests_never_mix_owners(
    tmp_path: Path,
) -> None:
    console = RecordingChannel()
    clock = FakeClock(START)
    with engine_for(tmp_path, console, clock=clock) as engine:
        engine.set_owner("ada", timezone="America/New_York", country="US", digest="08:00")
        engine.set_owner("bob", timezone="America/New_York", country="US")
        engine.set_owner("cy", timezone="Europe/Berlin", country="DE", digest="08:00")
        interview(engine, "ada")
        interview(engine, "bob", "Initech")
        interview(engine, "cy", "Globex")
        engine.run_due()
        assert {n.owner for n in console.sent} == {"bob"} and len(console.sent) == 4
        clock.set(DIGEST)
        engine.deliver()
        digests = [n for n in console.sent if n.rule == "digest"]
        assert sorted(n.owner for n in digests) == ["ada", "cy"]
        for message in digests:
            company = "Acme" if message.owner == "ada" else "Globex"
            assert all(company in r["subject"] or r["rule"] != "thank-you-notes"
                       for r in message.data["reminders"])
        # Berlin's 08:00 came first (07:00 UTC on Tuesday); New York's at 13:00 UTC.
        cy = next(n for n in digests if n.owner == "cy")
        assert cy.data["digest"] == "2027-01-05T08:00:00+01:00"


def test_a_channel_may_take_a_digest_s_reminders_one_by_one(tmp_path: Path) -> None:
    console, feed = RecordingChannel("console"), RecordingChannel("feed")
    feed.digest = False  # type: ignore[attr-defined]
    clock = FakeClock(START)
    pack = "version: 1\nextends: after-interview\nchannels: [console, feed]\n"
    with engine_for(tmp_path, console, feed, clock=clock, pack=pack) as engine:
        engine.set_owner("ada", timezone="America/New_York", country="US", digest="08:00")
        interview(engine)
        engine.run_due()
        assert feed.sent == []
        clock.set(DIGEST)
        engine.deliver()
        assert len(console.sent) == 1 and len(feed.sent) == 4


def test_the_digest_setting_is_kept_and_checked(tmp_path: Path) -> None:
    with engine_for(tmp_path, clock=FakeClock(START)) as engine:
        engine.set_owner("ada", timezone="Europe/Berlin", digest="07:30")
    with SQLiteStore(tmp_path / "f.db") as store:
        assert store.get_owner("ada") == Owner("ada", "Europe/Berlin", digest="07:30")
    with engine_for(tmp_path, clock=FakeClock(START)) as engine:
        for bad in ("25:00", "eight", "8"):
            with pytest.raises(InputError, match="a local time of day such as 08:00"):
                engine.set_owner("ada", digest=bad)


def test_followup_init_takes_a_digest_time(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "cli.db")
    assert main(["--db", db, "--owner", "ada", "init", "--timezone", "Europe/Berlin",
                 "--digest", "7:45", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["digest"] == "07:45"
    with SQLiteStore(db) as store:
        owner = store.get_owner("ada")
        assert owner is not None and owner.digest == "07:45"
    assert main(["--db", db, "init", "--digest", "noon"]) == 2
    assert "--digest: a digest time is a local time of day" in capsys.readouterr().err


# -- channels whose send is a coroutine function ----------------------------------------


class AsyncChannel:
    name = "chat"
    timeout = 0.5

    def __init__(self, *, hang: bool = False) -> None:
        self.hang = hang
        self.sent: list[str] = []

    async def send(self, notification: Notification) -> None:
        if self.hang:
            await asyncio.sleep(3)
        await asyncio.sleep(0)
        self.sent.append(notification.key)


def test_an_async_channel_is_awaited_and_one_that_hangs_times_out(tmp_path: Path) -> None:
    console, chat = RecordingChannel(), AsyncChannel()
    clock = FakeClock(START)
    pack = "version: 1\nextends: after-interview\nchannels: [console, chat]\n"
    with engine_for(tmp_path, console, chat, clock=clock, pack=pack) as engine:
        engine.set_owner("ada", timezone="America/New_York", country="US")
        interview(engine)
        report = engine.run_due()
        assert sorted(chat.sent) == sorted(n.key for n in console.sent) and len(chat.sent) == 4
        assert not report.delivery.failed
    stuck = AsyncChannel(hang=True)
    with engine_for(tmp_path / "b", console, stuck, clock=FakeClock(START), pack=pack) as engine:
        engine.set_owner("ada", timezone="America/New_York", country="US")
        interview(engine)
        report = engine.run_due()
        assert {row.channel for row in report.delivery.failed} == {"chat"}
        assert all("timed out after 0.5 s" in str(row.last_error)
                   for row in report.delivery.failed)
        assert {row.channel for row in report.delivery.delivered} == {"console"}
