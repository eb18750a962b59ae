"""The retry policy, pinned: the bounds of each wait, one row walked through every attempt
to ``dead`` by the dispatcher's own count, the lease a claim holds its rows for, and the
attempts a daily digest counts from."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from followup import FakeClock, MemoryStore, Notification
from followup.delivery import dispatcher
from followup.delivery.channels import ChannelRegistry
from followup.delivery.dispatcher import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    MAX_ATTEMPTS,
    Dispatcher,
    backoff,
)
from followup.testing import RecordingChannel

START = datetime(2026, 12, 23, 21, 0, tzinfo=UTC)

# The ceiling of the wait after attempt n, for n = 1 .. MAX_ATTEMPTS - 1, worked out by
# hand from the schedule docs/plugins.md states: 30 seconds, doubling, at most 6 hours.
CEILINGS = [30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600]


class Draws(random.Random):
    """A ``random`` whose draws are the ones given, in turn, round and round."""

    def __init__(self, *draws: float) -> None:
        super().__init__()
        self._draws = itertools.cycle(draws)

    def random(self) -> float:
        return next(self._draws)


class Slow:
    """A channel that may take ``timeout`` seconds to send."""

    def __init__(self, name: str, timeout: float) -> None:
        self.name = name
        self.timeout = timeout

    def send(self, notification: Notification) -> None:
        pass


class Watching:
    """A channel that notes, while it sends, until when the store holds its row."""

    name = "console"

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.held: list[datetime | None] = []

    def send(self, notification: Notification) -> None:
        self.held += [row.next_attempt_at for row in self.store.deliveries()
                      if row.notification.key == notification.key]


def reminder(key: str, **data: object) -> Notification:
    """An owner-level reminder of ``ada`` through the ``console`` channel."""
    return Notification(key=key, application_id="", owner="ada", rule="keep-looking",
                        created_at=START, subject=f"Reminder {key}", body="",
                        channels=("console",), data=dict(data))


def one_row(notification: Notification) -> MemoryStore:
    store = MemoryStore()
    store.commit_owner("ada", notifications=[notification])
    return store


# -- each wait --------------------------------------------------------------------------


def test_the_schedule_is_the_one_the_docs_state() -> None:
    assert (MAX_ATTEMPTS, BACKOFF_BASE, BACKOFF_CAP) == (12, 30.0, 6 * 3600.0)
    assert len(CEILINGS) == MAX_ATTEMPTS - 1  # a wait after each attempt but the last


@pytest.mark.parametrize(("attempt", "ceiling"), list(enumerate(CEILINGS, start=1)))
def test_each_wait_lies_in_the_upper_half_of_its_ceiling(attempt: int, ceiling: int) -> None:
    assert backoff(attempt, rng=Draws(0.0)) == timedelta(seconds=ceiling / 2)
    assert backoff(attempt, rng=Draws(1.0)) == timedelta(seconds=ceiling)
    seeded = random.Random(attempt)
    waits = [backoff(attempt, rng=seeded).total_seconds() for _ in range(200)]
    assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
    assert min(waits) < 0.6 * ceiling and max(waits) > 0.9 * ceiling  # spread out


# -- one row, every attempt -------------------------------------------------------------

# Each way a row can fail counts its attempts in a place of its own in the dispatcher:
# a channel's send, a digest's send, and a row that cannot even be sent.
FAILURES = {
    "send": reminder("ada/send"),
    "digest": reminder("ada/digest", digest_at=START.isoformat()),
    "unreadable": reminder("ada/unreadable", digest_at=START.isoformat(), due_local="garbage"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_one_row_is_tried_max_attempts_times_then_dead(
    failure: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Alternately the shortest and the longest wait, so both bounds are walked.
    monkeypatch.setattr(dispatcher, "random", Draws(0.0, 1.0))
    store = one_row(FAILURES[failure])
    channel = RecordingChannel()
    channel.fail(10 * MAX_ATTEMPTS)
    clock = FakeClock(START)
    work = Dispatcher(store, ChannelRegistry([channel]), clock=clock.now)
    for attempt, ceiling in enumerate(CEILINGS, start=1):
        report = work.deliver(clock.now())
        assert not report.dead and not report.delivered
        [row] = report.failed
        assert (row.status, row.attempts) == ("pending", attempt)
        assert row.next_attempt_at is not None
        wait = row.next_attempt_at - clock.now()
        assert wait == timedelta(seconds=ceiling / 2 if attempt % 2 else ceiling)
        clock.advance(wait - timedelta(seconds=1))
        assert not work.deliver(clock.now())  # not due before its wait is over
        clock.advance(timedelta(seconds=1))
    report = work.deliver(clock.now())
    assert not report.failed and not report.delivered
    [row] = report.dead
    assert (row.status, row.attempts, row.next_attempt_at) == ("dead", MAX_ATTEMPTS, None)
    assert [(r.status, r.attempts) for r in store.deliveries()] == [("dead", MAX_ATTEMPTS)]
    clock.advance(timedelta(days=365))
    assert not work.deliver(clock.now())  # a dead row waits for `outbox retry`
    sends = 10 * MAX_ATTEMPTS - channel.failures_left
    assert sends == (0 if failure == "unreadable" else MAX_ATTEMPTS)


# -- the lease --------------------------------------------------------------------------


def test_a_lease_lasts_while_every_send_of_a_batch_could_time_out() -> None:
    store = MemoryStore()
    fast = ChannelRegistry([Slow("console", 5)])
    assert Dispatcher(store, fast).lease() == timedelta(seconds=2 * 30 + 60)
    assert Dispatcher(store, fast, timeout=45).lease() == timedelta(seconds=2 * 45 + 60)
    slow = ChannelRegistry([Slow("console", 5), Slow("webhook", 100)])
    assert Dispatcher(store, slow).lease() == timedelta(seconds=2 * 100 + 60)
    held = Dispatcher(store, slow)
    held.hold = timedelta(seconds=20)  # a worker whose heartbeat renews its claims
    assert held.lease() == timedelta(seconds=20)


@pytest.mark.parametrize("late", [timedelta(minutes=5), timedelta(0), -timedelta(minutes=5), None])
def test_a_claim_is_held_from_the_later_of_now_and_the_clock(late: timedelta | None) -> None:
    store = one_row(reminder("ada/watched"))
    channel = Watching(store)
    clock = None if late is None else FakeClock(START + late).now
    work = Dispatcher(store, ChannelRegistry([channel]), clock=clock)
    assert work.lease() == timedelta(seconds=2 * 30 + 60)
    work.deliver(START)  # a pass that started at START; the clock may have moved on
    start = START if late is None else max(START, START + late)
    assert channel.held == [start + work.lease()]


# -- a digest's attempts ----------------------------------------------------------------


def two_rows_of_one_digest(tried: int) -> MemoryStore:
    """A digest of two rows: one tried ``tried`` times before, one never tried."""
    store = MemoryStore()
    store.commit_owner("ada", notifications=[
        reminder(f"ada/{name}", digest_at=START.isoformat()) for name in ("tried", "new")])
    for _ in range(tried):
        store.mark_failed("ada/tried", "console", error="down", next_attempt_at=START,
                          dead=False)
    return store


def test_a_digest_waits_as_its_most_tried_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatcher, "random", Draws(0.0))
    store = two_rows_of_one_digest(tried=3)
    channel = RecordingChannel()
    channel.fail(1)
    report = Dispatcher(store, ChannelRegistry([channel])).deliver(START)
    assert channel.failures_left == 0  # one message for both rows
    assert {(r.notification.key, r.attempts) for r in report.failed} == {
        ("ada/tried", 4), ("ada/new", 1)}
    # The wait after a fourth attempt, for both: 120 to 240 seconds, here the shortest.
    assert {r.next_attempt_at for r in report.failed} == {START + timedelta(seconds=120)}


def test_a_digest_is_dead_when_its_most_tried_row_is() -> None:
    store = two_rows_of_one_digest(tried=MAX_ATTEMPTS - 1)
    channel = RecordingChannel()
    channel.fail(1)
    report = Dispatcher(store, ChannelRegistry([channel])).deliver(START)
    assert not report.failed
    assert {(r.notification.key, r.status, r.attempts) for r in report.dead} == {
        ("ada/tried", "dead", MAX_ATTEMPTS), ("ada/new", "dead", 1)}
    assert {r.status for r in store.deliveries()} == {"dead"}
