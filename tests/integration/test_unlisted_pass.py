"""``run_due(list_all=False)``, the pass ``followup run`` makes: on a real SQLite file it
does what a listing pass does (the same reminders fired, delivered, failed, held for a
digest or a day off, the same faults), its report counts what went well instead of
listing it, and what the report holds does not grow with the backlog."""

from __future__ import annotations

import gc
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from followup import Contact, Engine, FakeClock, SQLiteStore
from followup.runtime.passes import RunReport
from followup.testing import RecordingChannel

START = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
BROKEN = "bob-3"  # its first history row cannot be read: a fault


def _pass(folder: Path, *, list_all: bool, apps: int = 12,
          owners: tuple[str, ...] = ("ada", "bob", "cy"), broken: str | None = BROKEN
          ) -> tuple[RunReport, Engine]:
    """Owners with reminders that go out (bob's), wait for a digest (ada's), fail on
    their channel (cy's), and one application that faults; then one pass, two days on."""
    clock = FakeClock(START)
    console, refusing = RecordingChannel("console"), RecordingChannel("refusing")
    refusing.fail(10**9)  # every send raises
    engine = Engine(store=SQLiteStore(folder / "f.db"), clock=clock,
                    channels=[console, refusing])
    engine.set_owner("ada", timezone="America/New_York", country="US", digest="8:00")
    engine.set_owner("bob", timezone="America/New_York", country="US")
    engine.set_owner("cy", timezone="America/New_York", country="US",
                     channels=["refusing"])
    for owner in owners:
        for i in range(apps):
            engine.add_application(
                owner=owner, company=f"Company {i}", role="Engineer", id=f"{owner}-{i}",
                facts={"interviewed_at": START.isoformat()},
                contacts=[Contact(f"Interviewer {i}", "interviewer"),
                          Contact(f"Lead {i}", "interviewer")])
    if broken is not None:
        with sqlite3.connect(folder / "f.db") as conn:
            conn.execute("UPDATE history SET data = '{\"broken' WHERE application_id = ? "
                         "AND seq = 0", (broken,))
        conn.close()
    clock.set(START + timedelta(days=2))
    return engine.run_due(list_all=list_all), engine


def _keys(rows: list) -> list[tuple[str, str, str]]:
    return sorted((r.notification.key, r.channel, r.status) for r in rows)


def test_a_pass_that_does_not_list_does_what_a_listing_pass_does(tmp_path: Path) -> None:
    (tmp_path / "listed").mkdir()
    (tmp_path / "counted").mkdir()
    listed, first = _pass(tmp_path / "listed", list_all=True)
    counted, second = _pass(tmp_path / "counted", list_all=False)
    with first, second:
        # The listing pass did all four things, so the comparison means something.
        assert listed.fired and listed.delivery.delivered and listed.delivery.failed
        assert any(h.reason.startswith("your daily digest") for h in listed.held)
        assert list(listed.errors) == [BROKEN]
        assert (counted.fired, counted.delivery.delivered_count) == (
            listed.fired, len(listed.delivery.delivered))
        assert counted.outcomes == [] and counted.owner_notifications == []
        assert counted.delivery.delivered == [] and counted.delivery
        assert counted.notifications == []
        assert _keys(counted.delivery.failed) == _keys(listed.delivery.failed)
        assert _keys(counted.delivery.dead) == _keys(listed.delivery.dead)
        assert counted.errors == listed.errors
        assert sorted((h.key, h.until, h.reason) for h in counted.held) == sorted(
            (h.key, h.until, h.reason) for h in listed.held)
        # And the stores agree row for row: what the outbox holds, faults, timers.
        for owner in ("ada", "bob", "cy"):
            assert _keys(second.store.deliveries(owner=owner)) == _keys(
                first.store.deliveries(owner=owner))
            assert [t.key for t in second.store.timers(owner=owner)] == [
                t.key for t in first.store.timers(owner=owner)]
        assert [(f.application_id, f.error) for f in second.store.faults()] == [
            (f.application_id, f.error) for f in first.store.faults()]


def _held_by(report: RunReport) -> int:
    """How many objects the garbage collector tracks that the report reaches (types,
    functions and modules aside)."""
    seen: set[int] = set()
    stack: list[object] = [report]
    while stack:
        item = stack.pop()
        if (id(item) in seen or not gc.is_tracked(item)
                or isinstance(item, type) or callable(item) or type(item).__name__ == "module"):
            continue
        seen.add(id(item))
        stack.extend(gc.get_referents(item))
    return len(seen)


def test_what_a_pass_that_does_not_list_holds_does_not_grow_with_the_backlog(
        tmp_path: Path) -> None:
    sizes, sent = {}, {}
    for apps in (5, 40):
        for list_all in (True, False):
            folder = tmp_path / f"{apps}-{list_all}"
            folder.mkdir()
            report, engine = _pass(folder, list_all=list_all, apps=apps, owners=("bob",),
                                   broken=None)
            with engine:
                sizes[apps, list_all] = _held_by(report)
                sent[apps, list_all] = report.delivery.delivered_count
    assert sent == {(5, True): 25, (5, False): 25, (40, True): 200, (40, False): 200}
    # Listing, the report holds several objects per reminder (so the count can tell);
    # counting, the same however long the backlog.
    assert sizes[40, True] - sizes[5, True] > 175 * 5
    assert sizes[40, False] == sizes[5, False]


def test_a_backlog_in_the_outbox_is_counted_batch_by_batch(tmp_path: Path) -> None:
    """Reminders fired earlier (``deliver=False``) wait in the outbox; a counting pass,
    and ``Engine.deliver(list_all=False)``, send them in batches smaller than the
    backlog and keep none of them."""
    sent = {}
    for how in ("run_due", "deliver"):
        folder = tmp_path / how
        folder.mkdir()
        clock = FakeClock(START)
        console = RecordingChannel("console")
        with Engine(store=SQLiteStore(folder / "f.db"), clock=clock,
                    channels=[console]) as engine:
            engine.set_owner("bob", timezone="America/New_York", country="US")
            for i in range(12):
                engine.add_application(owner="bob", company=f"Company {i}", role="Engineer",
                                       id=f"bob-{i}", facts={"interviewed_at": START.isoformat()},
                                       contacts=[Contact(f"Interviewer {i}", "interviewer")])
            clock.set(START + timedelta(days=2))
            fired = engine.run_due(deliver=False).fired
            assert fired > 20 and console.sent == []  # all of it waits in the outbox
            engine.dispatcher.batch = 7
            report = (engine.run_due(list_all=False).delivery if how == "run_due"
                      else engine.deliver(list_all=False))
            assert report.delivered == [] and report.failed == [] and report.dead == []
            assert report.delivered_count == len(console.sent) == fired
            assert {r.status for r in engine.store.deliveries(owner="bob")} == {"delivered"}
            sent[how] = sorted(n.key for n in console.sent)
    assert sent["run_due"] == sent["deliver"]
