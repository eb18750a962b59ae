"""A worker that runs for days sees an owner's settings changed by another process (the
command line, another engine on the same store) from its next batch of due work on: the
channels chosen, the time zone. On real SQLite files, two engines on one file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from followup import Contact, Engine, FakeClock, SQLiteStore
from followup.model import Change, Owner, replaced
from followup.testing import RecordingChannel

START = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)  # Wed 15:00 in New York
ENDED = START + timedelta(hours=1, minutes=1)  # the interviews have ended


def engine_on(path: Path) -> tuple[Engine, RecordingChannel, RecordingChannel]:
    console, email = RecordingChannel("console"), RecordingChannel("email")
    return (Engine(store=SQLiteStore(path), clock=FakeClock(START), channels=[console, email]),
            console, email)


def test_a_running_engine_sends_through_the_channels_chosen_since_it_started(
        tmp_path: Path) -> None:
    worker, console, email = engine_on(tmp_path / "f.db")
    other, _, _ = engine_on(tmp_path / "f.db")
    with worker, other:
        worker.set_owner("ada", timezone="America/New_York", country="US",
                         channels=["console"])
        worker.add_application(owner="ada", company="Acme", role="Engineer",
                               facts={"interviewed_at": START.isoformat()},
                               contacts=[Contact("Jane Doe", "interviewer")])
        assert worker.owner("ada").channels == ("console",)  # as the worker read it
        other.set_owner("ada", timezone="America/New_York", country="US", channels=["email"])
        report = worker.run_due(ENDED)
        assert report.notifications and console.sent == []
        assert {n.key for n in email.sent} == {n.key for n in report.notifications}
        assert worker.owner("ada").channels == ("email",)


def test_the_owners_of_a_batch_are_read_in_one_go_and_unknown_ones_get_the_defaults(
        tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "f.db")
    engine = Engine(store=store, clock=FakeClock(START), channels=[RecordingChannel()])
    with engine:
        engine.set_owner("ada", timezone="Europe/Paris")
        engine.owners.refresh(["ada", "bob", "ada"])
        assert engine.owner("ada").timezone == "Europe/Paris"
        assert engine.owner("bob") == Owner(id="bob")
        paris = engine.owners.calendar("ada")
        engine.owners.refresh(["ada"])  # unchanged: the calendar built before is kept
        assert engine.owners.calendar("ada") is paris
        store.put_owner(Owner(id="ada", timezone="Asia/Tokyo"))
        engine.owners.refresh(["ada"])
        assert engine.owners.calendar("ada") is not paris
        assert str(engine.owners.calendar("ada").tz) == "Asia/Tokyo"


def test_a_re_plan_batch_reads_its_owners_again(tmp_path: Path) -> None:
    worker, _, _ = engine_on(tmp_path / "f.db")
    other, _, _ = engine_on(tmp_path / "f.db")
    with worker, other:
        worker.set_owner("ada", timezone="America/New_York", channels=["console"])
        app = worker.add_application(owner="ada", company="Acme", role="Engineer",
                                     facts={"interviewed_at": START.isoformat()})
        # Planned by another pack (an edit of the rules): the next re-plan batch takes it.
        worker.store.commit(Change(replaced(app, planned_by="another pack"), app.version))
        other.set_owner("ada", timezone="Europe/Paris", channels=["email"])
        batch = worker.replan_stale()
        assert [r.application_id for r in batch.applications] == [app.id]
        assert worker.owner("ada") == other.owner("ada")
        assert str(worker.calendar("ada").tz) == "Europe/Paris"
