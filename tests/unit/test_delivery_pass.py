"""One pass of the dispatcher over the outbox, as an embedder and a channel's author see
it: what the report says, rows claimed batch after batch, each channel released once
after the pass, a missing channel named with the ones that loaded, a hung send costing
its own timeout and the next send a new thread, and a mark that fails retried as a send
that failed. On the in-memory store."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from followup import MemoryStore, Notification
from followup.delivery.channels import ChannelRegistry
from followup.delivery.dispatcher import BACKOFF_BASE, DeliveryReport, Dispatcher, backoff
from followup.errors import InputError
from followup.model import Delivery
from followup.testing import RecordingChannel

START = datetime(2026, 12, 23, 21, 0, tzinfo=UTC)


def reminder(key: str, *channels: str, **data: object) -> Notification:
    return Notification(key=key, application_id="", owner="ada", rule="keep-looking",
                        created_at=START, subject=f"Reminder {key}", body="",
                        channels=channels or ("console",), data=dict(data))


def outbox(*notifications: Notification) -> MemoryStore:
    store = MemoryStore()
    store.commit_owner("ada", notifications=list(notifications))
    return store


def test_a_report_is_true_when_anything_was_tried() -> None:
    row = Delivery(reminder("ada/1"), "console")
    assert not DeliveryReport()
    assert DeliveryReport(delivered=[row])
    assert DeliveryReport(failed=[row])
    assert DeliveryReport(dead=[row])


class Counting(MemoryStore):
    """A memory store that notes the size of each batch claimed and how rows are marked."""

    def __init__(self) -> None:
        super().__init__()
        self.claims: list[int] = []
        self.marks: list[str] = []
        self.refuse_many = False
        self.refuse_one: set[str] = set()

    def claim_deliveries(self, now: datetime, *, worker: str, until: datetime,
                         limit: int = 100) -> list[Delivery]:
        rows = super().claim_deliveries(now, worker=worker, until=until, limit=limit)
        self.claims.append(len(rows))
        return rows

    def mark_delivered(self, key: str, channel: str, *, at: datetime) -> None:
        self.marks.append(key)
        if key in self.refuse_one:
            raise InputError(f"cannot mark {key}")
        super().mark_delivered(key, channel, at=at)

    def mark_delivered_many(self, rows: Sequence[tuple[str, str]], *, at: datetime) -> None:
        self.marks.append(f"{len(rows)} together")
        if self.refuse_many:
            raise InputError("cannot mark a batch")
        super().mark_delivered_many(rows, at=at)


def test_a_pass_claims_batch_after_batch_until_nothing_is_due() -> None:
    store = Counting()
    store.commit_owner("ada", notifications=[reminder(f"ada/{i}") for i in range(5)])
    channel = RecordingChannel()
    report = Dispatcher(store, ChannelRegistry([channel]), batch=2).deliver(START)
    assert store.claims == [2, 2, 1, 0]
    assert store.marks == ["2 together", "2 together", "ada/4"]  # a lone row on its own
    assert sorted(channel.keys()) == [f"ada/{i}" for i in range(5)]
    assert len(report.delivered) == 5 and not report.failed
    assert {(d.status, d.attempts) for d in store.deliveries()} == {("delivered", 1)}


def test_when_the_batch_cannot_be_marked_each_row_is_and_one_that_cannot_is_retried() -> None:
    store = Counting()
    store.commit_owner("ada", notifications=[reminder(f"ada/{i}") for i in range(3)])
    store.refuse_many = True
    store.refuse_one = {"ada/1"}
    seen: list[str] = []
    work = Dispatcher(store, ChannelRegistry([RecordingChannel()]),
                      on_delivered=lambda row: seen.append(row.notification.key))
    report = work.deliver(START)
    assert store.marks == ["3 together", "ada/0", "ada/1", "ada/2"]
    assert [d.notification.key for d in report.delivered] == seen == ["ada/0", "ada/2"]
    [failed] = report.failed
    assert (failed.notification.key, failed.status, failed.attempts) == ("ada/1", "pending", 1)
    assert failed.last_error == "InputError: cannot mark ada/1"
    assert failed.next_attempt_at is not None
    assert START + timedelta(seconds=BACKOFF_BASE / 2) <= failed.next_attempt_at <= (
        START + timedelta(seconds=BACKOFF_BASE))


def test_the_report_and_observers_see_each_row_as_the_store_holds_it() -> None:
    store = outbox(reminder("ada/1"))
    seen: list[Delivery] = []
    report = Dispatcher(store, ChannelRegistry([RecordingChannel()]),
                        on_delivered=seen.append).deliver(START)
    [row] = report.delivered
    assert seen == [row] == store.deliveries()
    assert (row.status, row.attempts, row.delivered_at, row.next_attempt_at) == (
        "delivered", 1, START, None)


# -- channels that are missing --------------------------------------------------------


def test_a_reminder_for_a_channel_not_loaded_fails_naming_the_ones_that_are() -> None:
    store = outbox(reminder("ada/1", "sms"))
    report = Dispatcher(store, ChannelRegistry([RecordingChannel("console"),
                                                RecordingChannel("email")])).deliver(START)
    [row] = report.failed
    assert row.last_error == "no channel named 'sms' is loaded (loaded: console, email)"
    store = outbox(reminder("ada/1", "sms"))
    [row] = Dispatcher(store, ChannelRegistry()).deliver(START).failed
    assert row.last_error == "no channel named 'sms' is loaded (loaded: none)"


def test_a_digest_for_a_channel_not_loaded_fails_every_row_saying_how_many() -> None:
    slot = START.isoformat()
    store = outbox(reminder("ada/1", "sms", digest_at=slot),
                   reminder("ada/2", "sms", digest_at=slot))
    report = Dispatcher(store, ChannelRegistry([RecordingChannel()])).deliver(START)
    assert {d.notification.key for d in report.failed} == {"ada/1", "ada/2"}
    assert {d.last_error for d in report.failed} == {
        "the digest of 2 reminders failed: no channel named 'sms' is loaded (loaded: console)"}
    store = outbox(reminder("ada/1", "sms", digest_at=slot))
    [row] = Dispatcher(store, ChannelRegistry()).deliver(START).failed
    assert row.last_error == (
        "the digest of 1 reminders failed: no channel named 'sms' is loaded (loaded: none)")


class HeldAnyway(MemoryStore):
    """A store that hands out a digest's rows before their time (one that ignores
    ``held_until``): the dispatcher still keeps them for the digest. Its leases hold as
    any store's do: a row claimed is not handed out again before the lease ends."""

    def claim_deliveries(self, now: datetime, *, worker: str, until: datetime,
                         limit: int = 100) -> list[Delivery]:
        early = timedelta(days=1)
        return super().claim_deliveries(now + early, worker=worker, until=until + early,
                                        limit=limit)


def test_a_digest_s_rows_handed_out_early_wait_for_their_time() -> None:
    slot = (START + timedelta(hours=11)).isoformat()
    store = HeldAnyway()
    store.commit_owner("ada", notifications=[reminder("ada/1", digest_at=slot),
                                             reminder("ada/now")])
    channel = RecordingChannel()
    report = Dispatcher(store, ChannelRegistry([channel])).deliver(START)
    assert [d.notification.key for d in report.delivered] == channel.keys() == ["ada/now"]
    assert not report.failed and not report.dead
    channel.sent.clear()
    later = Dispatcher(store, ChannelRegistry([channel])).deliver(START + timedelta(hours=11))
    assert [d.notification.key for d in later.delivered] == ["ada/1"]
    assert channel.subjects() == ["1 reminder for Thu 2026-12-24"]


# -- releasing what channels keep -----------------------------------------------------


class Keeping(RecordingChannel):
    """A channel that keeps a connection between sends and lets go when told."""

    def __init__(self, name: str, *, refuses: bool = False) -> None:
        super().__init__(name)
        self.released = 0
        self.refuses = refuses

    def release(self) -> None:
        self.released += 1
        if self.refuses:
            raise OSError("the connection is already gone")


def test_every_channel_sent_through_is_released_once_after_the_pass() -> None:
    refusing, keeping, idle = Keeping("console", refuses=True), Keeping("email"), Keeping("idle")
    store = outbox(*(reminder(f"ada/{i}", "console", "email") for i in range(3)))
    report = Dispatcher(store, ChannelRegistry([refusing, keeping, idle]), batch=2).deliver(START)
    assert len(report.delivered) == 6
    assert (refusing.released, keeping.released, idle.released) == (1, 1, 0)
    assert len(keeping.sent) == 3


# -- sending threads ------------------------------------------------------------------


class Threads(RecordingChannel):
    """Notes the thread each send runs on; hangs on the sends it is told to."""

    def __init__(self, name: str, *, hang: Sequence[str] = (), timeout: float | None = None
                 ) -> None:
        super().__init__(name)
        self.threads: list[threading.Thread] = []
        self.hang = set(hang)
        self.timeout = timeout
        self.go = threading.Event()

    def send(self, notification: Notification) -> None:
        self.threads.append(threading.current_thread())
        if notification.key in self.hang:
            self.go.wait(30)
            raise RuntimeError("too late")
        super().send(notification)


def test_each_channel_sends_on_a_thread_of_its_own_kept_for_the_pass() -> None:
    console, email = Threads("console"), Threads("email")
    store = outbox(*(reminder(f"ada/{i}", "console", "email") for i in range(3)))
    Dispatcher(store, ChannelRegistry([console, email]), batch=2).deliver(START)
    assert len(console.threads) == len(email.threads) == 3
    assert len(set(console.threads)) == len(set(email.threads)) == 1
    assert console.threads[0] is not email.threads[0]
    assert console.threads[0] is not threading.current_thread()
    assert console.threads[0].name == "followup-send-console" and console.threads[0].daemon
    # The pass's threads end with it: a daemon running pass after pass gathers none.
    for thread in (console.threads[0], email.threads[0]):
        thread.join(10)
        assert not thread.is_alive()


def test_a_hung_send_costs_its_channel_s_timeout_and_the_next_send_a_new_thread() -> None:
    slow = Threads("console", hang=["ada/0"], timeout=0.2)
    other = Threads("email", timeout=None)
    store = outbox(*(reminder(f"ada/{i}", "console", "email") for i in range(3)))
    try:
        report = Dispatcher(store, ChannelRegistry([slow, other]), timeout=7).deliver(START)
    finally:
        slow.go.set()
    [failed] = report.failed
    assert (failed.notification.key, failed.channel) == ("ada/0", "console")
    assert failed.last_error == "timed out after 0.2 s (the channel did not answer)"
    assert len(report.delivered) == 5
    assert slow.keys() == ["ada/1", "ada/2"]
    assert slow.threads[1] is not slow.threads[0] and slow.threads[2] is slow.threads[1]


class Late(Threads):
    """Answers one send only after its timeout (then successfully)."""

    def __init__(self, late: str, timeout: float) -> None:
        super().__init__("console", timeout=timeout)
        self.late = late
        self.answered = threading.Event()

    def send(self, notification: Notification) -> None:
        if notification.key == self.late:
            self.threads.append(threading.current_thread())
            time.sleep(self.timeout * 3)  # type: ignore[operator]
            self.sent.append(notification)
            self.answered.set()
            return
        super().send(notification)


def test_a_send_that_answers_after_its_timeout_failed_and_the_next_go_on_a_new_thread() -> None:
    channel = Late("ada/1", timeout=0.2)
    store = outbox(*(reminder(f"ada/{i}") for i in range(4)))
    report = Dispatcher(store, ChannelRegistry([channel])).deliver(START)
    assert channel.answered.wait(5)
    time.sleep(0.1)  # the late thread had its chance to go on (it must not)
    [failed] = report.failed
    assert (failed.notification.key, failed.last_error) == (
        "ada/1", "timed out after 0.2 s (the channel did not answer)")
    assert sorted(d.notification.key for d in report.delivered) == ["ada/0", "ada/2", "ada/3"]
    # ada/0 and ada/1 on the first thread; ada/2 and ada/3 on a new one, once each.
    assert [n.key for n in channel.sent] == ["ada/0", "ada/2", "ada/3", "ada/1"]
    first, _, second, third = channel.threads
    assert channel.threads[1] is first and second is third and second is not first


class Hanging:
    """A channel without a timeout of its own, whose send never returns in time."""

    name = "console"

    def __init__(self) -> None:
        self.go = threading.Event()

    def send(self, notification: Notification) -> None:
        self.go.wait(30)


@pytest.mark.parametrize("own", [None, 0])
def test_a_channel_without_a_timeout_of_its_own_gets_the_dispatcher_s(own: float | None) -> None:
    channel = Hanging()
    channel.timeout = own  # type: ignore[attr-defined]
    try:
        report = Dispatcher(outbox(reminder("ada/1")), ChannelRegistry([channel]),  # type: ignore[list-item]
                            timeout=0.25).deliver(START)
    finally:
        channel.go.set()
    [row] = report.failed
    assert row.last_error == "timed out after 0.25 s (the channel did not answer)"


def test_a_row_tried_more_often_than_a_lowered_limit_is_dead_at_its_next_failure() -> None:
    # An operator lowers max_attempts while rows have been tried more often than that.
    slot = START.isoformat()
    # A digest whose row cannot be read (its due time is garbage) fails outside a send.
    unreadable = (START - timedelta(minutes=1)).isoformat()
    store = outbox(reminder("ada/one"), reminder("ada/digest", digest_at=slot),
                   reminder("ada/unreadable", digest_at=unreadable, due_local="garbage"))
    for key in ("ada/one", "ada/digest", "ada/unreadable"):
        for _ in range(5):
            store.mark_failed(key, "console", error="down", next_attempt_at=START, dead=False)
    channel = RecordingChannel()
    channel.fail(2)
    report = Dispatcher(store, ChannelRegistry([channel]), max_attempts=3).deliver(START)
    assert not report.failed
    assert {(d.notification.key, d.status, d.attempts, d.next_attempt_at)
            for d in report.dead} == {("ada/one", "dead", 6, None),
                                      ("ada/digest", "dead", 6, None),
                                      ("ada/unreadable", "dead", 6, None)}


def test_the_options_of_a_wait_and_of_a_dispatcher_are_given_by_name() -> None:
    assert backoff(1, base=10, cap=10) <= timedelta(seconds=10)
    with pytest.raises(TypeError):
        backoff(1, 10.0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        Dispatcher(MemoryStore(), ChannelRegistry(), 3)  # type: ignore[misc]
