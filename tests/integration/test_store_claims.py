"""The Store contract for work shared by many workers: claims, leases, heartbeats and
the status of the queue, with the same answers on every store."""

from __future__ import annotations

from datetime import timedelta

from followup.model import Change, Timer
from followup.store import Store
from tests.integration.test_store_contract import (
    T0,
    application,
    create,
    minutes,
    notification,
    timer,
    update,
)


def armed(store: Store, *timers: Timer) -> None:
    """A new application 'a1' with these timers armed."""
    app = create(store)
    update(store, app, timers_added=timers)


def keys(timers: list[Timer]) -> list[str]:
    return [t.key for t in timers]


def test_due_timers_are_claimed_once_earliest_first_until_the_lease_ends(store: Store) -> None:
    armed(store, timer("a1/c", minutes(3)), timer("a1/a", minutes(1)),
          timer("a1/b", minutes(1)), timer("a1/later", minutes(60)))
    first = store.claim_due_timers(minutes(5), worker="w1", until=minutes(15), limit=2)
    assert keys(first) == ["a1/a", "a1/b"]
    assert first[0] == timer("a1/a", minutes(1))
    second = store.claim_due_timers(minutes(5), worker="w2", until=minutes(15))
    assert keys(second) == ["a1/c"]  # the held ones are skipped, the future one not due
    assert store.claim_due_timers(minutes(14), worker="w2", until=minutes(30)) == []
    # w1 died: at the end of its lease its timers are free again.
    taken = store.claim_due_timers(minutes(15), worker="w2", until=minutes(30))
    assert keys(taken) == ["a1/a", "a1/b", "a1/c"]


def test_limit_zero_claims_nothing(store: Store) -> None:
    armed(store, timer("a1/a", minutes(1)))
    assert store.claim_due_timers(minutes(5), worker="w1", until=minutes(9), limit=0) == []
    assert keys(store.claim_due_timers(minutes(5), worker="w1", until=minutes(9))) == ["a1/a"]


def test_released_timers_are_free_at_once_but_only_the_holders(store: Store) -> None:
    armed(store, timer("a1/a", minutes(1)), timer("a1/b", minutes(2)))
    store.claim_due_timers(minutes(5), worker="w1", until=minutes(60))
    store.release_timers(["a1/a", "a1/b"], worker="someone else")  # not theirs: no effect
    assert store.claim_due_timers(minutes(5), worker="w2", until=minutes(60)) == []
    store.release_timers(["a1/a", "gone"], worker="w1")
    assert keys(store.claim_due_timers(minutes(5), worker="w2", until=minutes(60))) == ["a1/a"]
    store.release_timers([], worker="w1")


def test_storing_a_timer_again_frees_it(store: Store) -> None:
    armed(store, timer("a1/a", minutes(1)))
    store.claim_due_timers(minutes(5), worker="w1", until=minutes(60))
    app = store.load("a1").application
    update(store, app, timers_added=(timer("a1/a", minutes(2)),))
    assert keys(store.claim_due_timers(minutes(5), worker="w2", until=minutes(60))) == ["a1/a"]


def test_a_fired_timer_removed_by_a_commit_is_gone_for_every_worker(store: Store) -> None:
    armed(store, timer("a1/a", minutes(1)))
    store.claim_due_timers(minutes(5), worker="w1", until=minutes(6))
    app = store.load("a1").application
    update(store, app, timers_removed=("a1/a",))
    assert store.claim_due_timers(minutes(60), worker="w2", until=minutes(70)) == []
    assert store.work_status(minutes(60)).held_timers == 0


def test_deliveries_are_claimed_in_batches_oldest_first(store: Store) -> None:
    store.commit(Change(application(), None, notifications=(
        notification("n2", created_at=minutes(2)), notification("n1", created_at=minutes(1)),
        notification("n3", ("console", "email"), created_at=minutes(3)))))
    first = store.claim_deliveries(minutes(5), worker="w1", until=minutes(15), limit=2)
    assert [(d.notification.key, d.channel) for d in first] == [("n1", "console"),
                                                               ("n2", "console")]
    assert first[0].next_attempt_at == minutes(15)  # the lease
    assert first[0].status == "pending"
    second = store.claim_deliveries(minutes(5), worker="w2", until=minutes(15))
    assert [(d.notification.key, d.channel) for d in second] == [("n3", "console"),
                                                                ("n3", "email")]
    assert store.claim_deliveries(minutes(6), worker="w3", until=minutes(16)) == []
    store.mark_delivered("n1", "console", at=minutes(7))
    store.mark_failed("n2", "console", error="refused", next_attempt_at=minutes(20), dead=False)
    # w2 died: its rows are due again when the lease ends; n2 waits for its backoff.
    again = store.claim_deliveries(minutes(15), worker="w3", until=minutes(25))
    assert [(d.notification.key, d.channel) for d in again] == [("n3", "console"),
                                                               ("n3", "email")]
    assert [d.notification.key for d in store.claim_deliveries(
        minutes(20), worker="w3", until=minutes(30))] == ["n2"]


def test_a_heartbeat_extends_the_leases_of_its_worker_only(store: Store) -> None:
    armed(store, timer("a1/a", minutes(1)), timer("a1/b", minutes(2)))
    store.commit(Change(application("a2"), None, notifications=(notification("n1", app_id="a2"),
                                                                 notification("n2", app_id="a2"))))
    store.claim_due_timers(minutes(5), worker="w1", until=minutes(10), limit=1)
    store.claim_due_timers(minutes(5), worker="w2", until=minutes(10), limit=1)
    store.claim_deliveries(minutes(5), worker="w1", until=minutes(10), limit=1)
    assert store.renew_claims(worker="w1", now=minutes(8), until=minutes(40)) == 2
    # At minute 10 w2's lease has ended, w1's has not.
    assert keys(store.claim_due_timers(minutes(10), worker="w3", until=minutes(50))) == ["a1/b"]
    assert [d.notification.key for d in store.claim_deliveries(
        minutes(10), worker="w3", until=minutes(50))] == ["n2"]
    # A delivery that ends its claim is no longer renewed.
    store.mark_delivered("n1", "console", at=minutes(11))
    assert store.renew_claims(worker="w1", now=minutes(12), until=minutes(60)) == 1


def test_the_status_of_the_work(store: Store) -> None:
    armed(store, timer("a1/a", minutes(1)), timer("a1/b", minutes(2)),
          timer("a1/c", minutes(3)), timer("a1/later", minutes(90)))
    store.commit(Change(application("a2"), None, notifications=(
        notification("n1", app_id="a2"), notification("n2", app_id="a2"),
        notification("n3", app_id="a2"), notification("n4", app_id="a2"))))
    empty = store.work_status(T0 - timedelta(minutes=1))
    assert (empty.due_timers, empty.held_timers, empty.workers) == (0, 0, ())
    store.renew_claims(worker="w1", now=minutes(4), until=minutes(4))
    store.claim_due_timers(minutes(5), worker="w1", until=minutes(20), limit=2)
    store.claim_deliveries(minutes(5), worker="w2", until=minutes(20), limit=1)
    store.mark_failed("n2", "console", error="down", next_attempt_at=minutes(30), dead=False)
    store.mark_failed("n3", "console", error="gone", next_attempt_at=None, dead=True)
    status = store.work_status(minutes(6))
    assert status.at == minutes(6)
    assert (status.due_timers, status.held_timers) == (1, 2)
    assert (status.due_deliveries, status.held_deliveries) == (1, 1)  # n4 due, n1 held
    assert (status.retrying, status.dead) == (1, 1)  # n2 waits for its retry, n3 gave up
    by_id = {w.id: w for w in status.workers}
    assert set(by_id) == {"w1", "w2"}
    assert (by_id["w1"].seen_at, by_id["w1"].timers, by_id["w1"].deliveries) == (minutes(4), 2, 0)
    assert (by_id["w2"].seen_at, by_id["w2"].timers, by_id["w2"].deliveries) == (None, 0, 1)
    # After the leases end, the held work counts as due again.
    later = store.work_status(minutes(25))
    assert (later.due_timers, later.held_timers) == (3, 0)
    assert (later.due_deliveries, later.held_deliveries) == (2, 0)


def test_workers_not_seen_for_a_day_are_forgotten(store: Store) -> None:
    store.renew_claims(worker="old", now=T0, until=minutes(2))
    store.renew_claims(worker="recent", now=minutes(60 * 20), until=minutes(60 * 20 + 2))
    assert {w.id for w in store.work_status(minutes(60 * 20)).workers} == {"old", "recent"}
    store.renew_claims(worker="recent", now=minutes(60 * 25), until=minutes(60 * 25 + 2))
    assert {w.id for w in store.work_status(minutes(60 * 25)).workers} == {"recent"}
