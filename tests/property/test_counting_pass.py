"""A pass that counts (``run_due(list_all=False)``) does what a listing pass does, on any
mix of owners, applications, events and pass times: the same reminders fired, delivered,
failed, held for a digest or a day off, and the stores alike afterwards; only the
report's lists differ, each replaced by its count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from followup import Contact, Engine, FakeClock, MemoryStore
from followup.runtime.passes import RunReport
from followup.testing import RecordingChannel

START = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
KINDS = ("plain", "digest", "refusing")


owners = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 3)), min_size=1, max_size=4)
# Per application: None, or an event and how many hours after START it is recorded.
events = st.one_of(st.none(), st.tuples(st.sampled_from(["thank_you_sent", "called",
                                                         "rejected", "offer_received"]),
                                        st.integers(1, 60)))


def _run(mix: list[tuple[str, int]], happened: list[tuple[str, int] | None],
         hours: list[int], batch: int, list_all: bool) -> tuple[list[RunReport], Engine]:
    clock = FakeClock(START)
    refusing = RecordingChannel("refusing")
    refusing.fail(10**9)  # every send raises
    engine = Engine(store=MemoryStore(), clock=clock,
                    channels=[RecordingChannel("console"), refusing])
    engine.dispatcher.batch = batch
    apps: list[str] = []
    for o, (kind, count) in enumerate(mix):
        owner = f"owner{o}"
        engine.set_owner(owner, timezone="America/New_York", country="US",
                         digest="8:00" if kind == "digest" else None,
                         channels=["refusing"] if kind == "refusing" else None)
        for a in range(count):
            apps.append(engine.add_application(
                owner=owner, company=f"Company {a}", role="Engineer", id=f"{owner}-{a}",
                facts={"interviewed_at": START.isoformat()},
                contacts=[Contact("Jane Doe", "interviewer")]).id)
    for app_id, event in zip(apps, happened, strict=False):
        if event is not None:
            clock.set(START + timedelta(hours=event[1]))
            engine.record(app_id, event[0], contact="Jane Doe"
                          if event[0] == "thank_you_sent" else None)
    reports = []
    for hour in sorted(hours):
        clock.set(max(clock.now(), START + timedelta(hours=hour)))
        reports.append(engine.run_due(list_all=list_all))
    return reports, engine


def _keys(rows: list) -> list[tuple[str, str, str, int]]:
    return sorted((r.notification.key, r.channel, r.status, r.attempts) for r in rows)


@settings(max_examples=50)
@given(owners, st.lists(events, max_size=12), st.lists(st.integers(0, 24 * 9), min_size=1,
                                                       max_size=3), st.integers(1, 8))
def test_a_counting_pass_does_what_a_listing_pass_does(
        mix: list[tuple[str, int]], happened: list[tuple[str, int] | None],
        hours: list[int], batch: int) -> None:
    listed, first = _run(mix, happened, hours, batch, True)
    counted, second = _run(mix, happened, hours, batch, False)
    for a, b in zip(listed, counted, strict=True):
        assert b.outcomes == [] and b.owner_notifications == [] and b.delivery.delivered == []
        assert (b.fired, b.delivery.delivered_count) == (a.fired, len(a.delivery.delivered))
        assert _keys(b.delivery.failed) == _keys(a.delivery.failed)
        assert _keys(b.delivery.dead) == _keys(a.delivery.dead)
        assert b.errors == a.errors
        assert sorted((h.key, h.until, h.reason) for h in b.held) == sorted(
            (h.key, h.until, h.reason) for h in a.held)
    for o in range(len(mix)):
        owner = f"owner{o}"
        assert _keys(second.store.deliveries(owner=owner)) == _keys(
            first.store.deliveries(owner=owner))
        assert [(t.key, t.fire_at) for t in second.store.timers(owner=owner)] == [
            (t.key, t.fire_at) for t in first.store.timers(owner=owner)]
