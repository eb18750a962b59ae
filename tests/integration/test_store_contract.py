"""The Store contract: the same scenarios, with the same exact answers, on every store."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from followup.errors import ConflictError, InputError, StoreError, UnknownApplication
from followup.model import (
    Application,
    Change,
    Contact,
    Delivery,
    Fault,
    HistoryEntry,
    Notification,
    Owner,
    Timer,
    replaced,
)
from followup.store import CalendarEntry, Store

T0 = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def application(app_id: str = "a1", owner: str = "ada", **fields: Any) -> Application:
    fields.setdefault("company", "Acme")
    fields.setdefault("role", "Engineer")
    fields.setdefault("state", "interviewed")
    fields.setdefault("created_at", T0)
    return Application(id=app_id, owner=owner, **fields)


def entry(app_id: str, seq: int, **fields: Any) -> HistoryEntry:
    fields.setdefault("at", minutes(seq))
    fields.setdefault("kind", "event")
    fields.setdefault("name", f"event-{seq}")
    return HistoryEntry(application_id=app_id, seq=seq, **fields)


def timer(key: str, fire_at: datetime, app_id: str = "a1", owner: str = "ada") -> Timer:
    return Timer(
        application_id=app_id,
        owner=owner,
        key=key,
        rule="thank-you-notes",
        action="notify",
        fire_at=fire_at,
        due_at=fire_at + timedelta(days=2),
        contact="Jane Doe",
        occurrence=1,
    )


def notification(
    key: str,
    channels: tuple[str, ...] = ("console",),
    app_id: str = "a1",
    owner: str = "ada",
    created_at: datetime = T0,
) -> Notification:
    return Notification(
        key=key,
        application_id=app_id,
        owner=owner,
        rule="thank-you-notes",
        created_at=created_at,
        subject=f"Thank {key}",
        body="Dear Jane,\n…",
        due_at=created_at + timedelta(days=2),
        contact="Jane Doe",
        channels=channels,
        data={"company": "Acme", "occurrence": 1, "nested": {"list": [1, "two", None]}},
    )


def create(store: Store, app_id: str = "a1", owner: str = "ada", **kw: Any) -> Application:
    """Commit a new application with a 'created' history entry."""
    app = application(app_id, owner, **kw)
    first = entry(app_id, 0, kind="created", name="created", to_state=app.state)
    return store.commit(Change(app, None, history=(first,)))


def update(store: Store, app: Application, **kw: Any) -> Application:
    """Commit a change to ``app`` at its current version; ``kw`` are Change fields."""
    return store.commit(Change(app, app.version, **kw))


def snapshot(store: Store) -> tuple[object, ...]:
    """Everything a store holds that the contract can read, to show nothing changed."""
    apps = store.applications()
    return (
        apps,
        [store.history(a.id) for a in apps],
        store.timers(),
        store.deliveries(),
    )


# -- commit and load ------------------------------------------------------------------


def test_a_new_application_round_trips_exactly(store: Store) -> None:
    contacts = (
        Contact("Jane Doe", "interviewer", title="Engineering Manager", email="jane@acme.test"),
        Contact("Zoë Ångström", "reference", phone="+1 555 0100"),
    )
    app = application(
        facts={"interviewed_at": "2026-12-23T15:00:00-05:00", "why_me": "Ünïcode ✓"},
        contacts=contacts,
        created_at=datetime(2026, 12, 23, 15, 0, 0, 123456, tzinfo=NEW_YORK),
        version=99,  # ignored: the store decides the version
    )
    history = (
        entry("a1", 0, kind="created", name="created", to_state="interviewed"),
        entry("a1", 1, contact="Jane Doe", key="k-1", data={"n": 1, "x": [True, None, 2.5]}),
    )
    timers = (timer("t-1", minutes(60)), timer("t-2", minutes(30)))

    stored = store.commit(Change(app, None, history=history, timers_added=timers))

    assert stored == replace(app, version=1)
    record = store.load("a1")
    assert record.application == stored
    assert record.application.created_at == datetime(2026, 12, 23, 20, 0, 0, 123456, tzinfo=UTC)
    assert record.application.created_at is not None
    assert record.application.created_at.utcoffset() == timedelta(0)
    assert record.application.contacts == contacts
    assert record.history == history
    assert record.timers == (timers[1], timers[0])  # earliest first
    assert all(t.fire_at.tzinfo is not None for t in record.timers)


def test_versions_grow_by_one_with_every_commit(store: Store) -> None:
    app = create(store)
    assert app.version == 1
    app = update(store, replace(app, state="thanked"), history=(entry("a1", 1),))
    assert app.version == 2
    app = update(store, app)
    assert app.version == 3
    assert store.load("a1").application == replace(application(state="thanked"), version=3)


def test_an_update_rewrites_every_field(store: Store) -> None:
    app = create(store)
    same_index_columns = replace(app, company="Acme Corp", facts={"why_me": "x"})
    app = update(store, same_index_columns)
    assert store.load("a1").application == app
    moved = replace(app, owner="bob", state="offer", created_at=minutes(5), role="Lead")
    app = update(store, moved)
    assert store.load("a1", owner="bob").application == app
    assert store.applications(owner="ada") == []
    assert [a.id for a in store.applications(owner="bob", states=["offer"])] == ["a1"]


def test_an_application_without_created_at_is_kept_as_such(store: Store) -> None:
    stored = store.commit(Change(application(created_at=None), None))
    assert stored.created_at is None
    assert store.load("a1").application.created_at is None


def test_a_stale_version_conflicts_and_changes_nothing(store: Store) -> None:
    app = create(store)
    update(store, app)  # now at version 2
    before = snapshot(store)
    stale = Change(
        replace(app, state="thanked"),
        1,
        history=(entry("a1", 1),),
        timers_added=(timer("t-1", T0),),
        notifications=(notification("n-1"),),
    )
    with pytest.raises(ConflictError, match=r"'a1' is at version 2, not 1"):
        store.commit(stale)
    assert snapshot(store) == before


def test_creating_an_existing_application_conflicts_and_changes_nothing(store: Store) -> None:
    create(store)
    before = snapshot(store)
    again = Change(
        application(company="Other"),
        None,
        history=(entry("a1", 5),),
        timers_added=(timer("t-1", T0),),
        notifications=(notification("n-1"),),
    )
    with pytest.raises(ConflictError, match="'a1' already exists"):
        store.commit(again)
    assert snapshot(store) == before


def test_updating_a_missing_application_conflicts(store: Store) -> None:
    with pytest.raises(ConflictError, match="'ghost' does not exist"):
        store.commit(Change(application("ghost"), 3))
    assert store.count_applications() == 0


def test_records_handed_out_cannot_be_changed(store: Store) -> None:
    # Records are immutable values: a store hands out what it keeps, and neither the
    # caller's dicts given to a commit nor the records a read returns can change it.
    facts = {"why_me": "ten years of Python"}
    data: dict[str, Any] = {"list": [1], "nested": {"k": "v"}}
    app = application(facts=facts)
    stored = store.commit(Change(app, None, history=(entry("a1", 0, data=data),)))
    facts["why_me"] = "changed by the caller"
    data["list"].append(2)
    data["nested"]["k"] = "w"

    record = store.load("a1")
    assert record.application.facts == {"why_me": "ten years of Python"}
    assert record.history[0].data == {"list": [1], "nested": {"k": "v"}}
    handed_out: list[Any] = [
        stored.facts, record.application.facts, record.history[0].data,
        record.history[0].data["list"], record.history[0].data["nested"],
        store.history("a1")[0].data, store.applications()[0].facts,
    ]
    for value in handed_out:
        with pytest.raises(TypeError, match="cannot be changed"):
            value["x"] = "y"
    with pytest.raises(TypeError, match="cannot be changed"):
        record.history[0].data["list"].append(3)
    with pytest.raises(TypeError, match="cannot be changed"):
        record.application.facts.update({"x": "y"})  # type: ignore[attr-defined]
    assert store.load("a1").application.facts == {"why_me": "ten years of Python"}
    assert store.history("a1")[0].data == {"list": [1], "nested": {"k": "v"}}

    store.commit(Change(app, 1, notifications=(notification("n-1"),)))
    for delivery in (store.deliveries()[0], store.pending_deliveries(T0)[0]):
        with pytest.raises(TypeError, match="cannot be changed"):
            delivery.notification.data["company"] = "Changed"  # type: ignore[index]
    assert store.deliveries()[0].notification.data["company"] == "Acme"
    # A changed record is a new record with a new mapping; JSON still reads them all.
    moved = replaced(record.application, facts={**record.application.facts, "x": "y"})
    assert moved.facts == {"why_me": "ten years of Python", "x": "y"}
    assert record.application.facts == {"why_me": "ten years of Python"}
    assert json.loads(json.dumps(record.history[0].data)) == {"list": [1], "nested": {"k": "v"}}


def test_history_is_loaded_in_order(store: Store) -> None:
    app = create(store)
    app = update(store, app, history=(entry("a1", 1), entry("a1", 2)))
    update(store, app, history=(entry("a1", 3, kind="transition", from_state="x", to_state="y"),))
    history = store.history("a1")
    assert [h.seq for h in history] == [0, 1, 2, 3]
    assert history[3] == entry("a1", 3, kind="transition", from_state="x", to_state="y")
    assert store.load("a1").history == tuple(history)


def test_a_history_entry_given_twice_is_refused_and_changes_nothing(store: Store) -> None:
    app = create(store)
    before = snapshot(store)
    with pytest.raises(InputError, match="history entry 0 of application 'a1' already exists"):
        update(store, app, history=(entry("a1", 0),), timers_added=(timer("t", T0),))
    with pytest.raises(InputError, match="given twice"):
        update(store, app, history=(entry("a1", 1), entry("a1", 1)))
    with pytest.raises(InputError, match="belongs to application 'a2'"):
        update(store, app, history=(entry("a2", 1),))
    # A timer is its application's, and its owner's: one of another is refused alike.
    with pytest.raises(InputError, match="timer 't' belongs to application 'a2' of owner "
                                         "'ada' but is committed with 'a1'"):
        update(store, app, timers_added=(timer("t", T0, app_id="a2"),))
    with pytest.raises(InputError, match="of owner 'bob' but is committed with 'a1' of "
                                         "owner 'ada'"):
        update(store, app, timers_added=(timer("t", T0, owner="bob"),))
    with pytest.raises(InputError, match="of owner 'bob'"):
        update(store, app, timers_added=(timer("t", T0, app_id="", owner="bob"),))
    assert snapshot(store) == before
    # The owner's own timer (a re-plan marker) may go with its application's change.
    update(store, app, timers_added=(timer("owner/ada/replan", T0, app_id=""),))
    assert [t.key for t in store.timers(owner="ada", application_id="")] == [
        "owner/ada/replan"]


def test_data_that_is_not_json_is_refused_and_changes_nothing(store: Store) -> None:
    app = create(store)
    before = snapshot(store)
    with pytest.raises(InputError, match="history entry 1 cannot be stored as JSON"):
        update(store, app, history=(entry("a1", 1, data={"when": T0}),))
    bad = replace(notification("n-1"), data={"nan": float("nan")})
    with pytest.raises(InputError, match="notification 'n-1' cannot be stored as JSON"):
        update(store, app, notifications=(bad,))
    assert snapshot(store) == before


def test_a_naive_datetime_is_refused_and_changes_nothing(store: Store) -> None:
    app = create(store)
    before = snapshot(store)
    naive = datetime(2026, 12, 24, 9, 0)
    with pytest.raises(InputError, match="naive datetime"):
        update(store, app, timers_added=(timer("t-1", naive),))
    with pytest.raises(InputError, match="naive datetime"):
        update(store, app, history=(entry("a1", 1, at=naive),))
    with pytest.raises(InputError, match="naive datetime"):
        update(store, replace(app, created_at=naive))
    with pytest.raises(InputError, match="naive datetime"):
        store.due_timers(naive)
    assert snapshot(store) == before


def test_local_times_in_a_daylight_saving_fold_keep_their_instant(store: Store) -> None:
    first = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK)  # EDT: 05:30 UTC
    second = first.replace(fold=1)  # the same wall time an hour later, EST: 06:30 UTC
    app = create(store)
    update(store, app, timers_added=(timer("t-1", first), timer("t-2", second)))
    assert [(t.key, t.fire_at) for t in store.timers()] == [
        ("t-1", datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        ("t-2", datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),
    ]
    assert [t.key for t in store.due_timers(datetime(2026, 11, 1, 6, 0, tzinfo=UTC))] == ["t-1"]


# -- timers ---------------------------------------------------------------------------


def test_timers_are_replaced_by_key_and_removed(store: Store) -> None:
    app = create(store)
    app = update(store, app, timers_added=(timer("t-1", minutes(10)), timer("t-2", minutes(20))))
    moved = timer("t-1", minutes(30))
    app = update(store, app, timers_added=(moved,))
    assert store.load("a1").timers == (timer("t-2", minutes(20)), moved)
    assert store.due_timers(minutes(15)) == []

    app = update(store, app, timers_removed=("t-2", "never-armed"))
    assert store.load("a1").timers == (moved,)

    # Removed and added in one change: the addition wins.
    again = timer("t-1", minutes(5))
    update(store, app, timers_removed=("t-1",), timers_added=(again,))
    assert store.timers() == [again]
    assert store.due_timers(minutes(5)) == [again]


def test_due_timers_are_only_the_due_ones_earliest_first_ties_by_key(store: Store) -> None:
    a1 = create(store, "a1")
    a2 = create(store, "a2", owner="bob")
    update(store, a1, timers_added=(timer("k-b", minutes(10)), timer("k-late", minutes(60))))
    update(
        store,
        a2,
        timers_added=(
            timer("k-a", minutes(10), "a2", "bob"),
            timer("k-c", minutes(5), "a2", "bob"),
            timer("k-d", minutes(20), "a2", "bob"),
        ),
    )
    keys = [t.key for t in store.due_timers(minutes(20))]
    assert keys == ["k-c", "k-a", "k-b", "k-d"]  # fire_at <= now, inclusive
    assert [t.key for t in store.due_timers(minutes(20), limit=2)] == ["k-c", "k-a"]
    assert store.due_timers(minutes(4)) == []
    assert store.due_timers(minutes(60), limit=0) == []
    assert store.due_timers(minutes(60))[-1] == timer("k-late", minutes(60))
    # An instant in another zone means the same moment.
    assert len(store.due_timers(minutes(10).astimezone(NEW_YORK))) == 3


def test_the_agenda_filters_by_owner_application_and_time(store: Store) -> None:
    a1 = create(store, "a1")
    a2 = create(store, "a2")
    b1 = create(store, "b1", owner="bob")
    update(store, a1, timers_added=(timer("a1-1", minutes(10)), timer("a1-2", minutes(30))))
    update(store, a2, timers_added=(timer("a2-1", minutes(20), "a2"),))
    update(store, b1, timers_added=(timer("b1-1", minutes(15), "b1", "bob"),))

    def keys(**kw: Any) -> list[str]:
        return [t.key for t in store.timers(**kw)]

    assert keys() == ["a1-1", "b1-1", "a2-1", "a1-2"]
    assert keys(owner="ada") == ["a1-1", "a2-1", "a1-2"]
    assert keys(owner="bob") == ["b1-1"]
    assert keys(owner="nobody") == []
    assert keys(application_id="a1") == ["a1-1", "a1-2"]
    assert keys(application_id="a1", owner="bob") == []
    assert keys(start=minutes(15)) == ["b1-1", "a2-1", "a1-2"]  # start is inclusive
    assert keys(end=minutes(20)) == ["a1-1", "b1-1"]  # end is exclusive
    assert keys(owner="ada", start=minutes(10), end=minutes(30)) == ["a1-1", "a2-1"]
    assert keys(application_id="a1", start=minutes(11)) == ["a1-2"]


# -- owners and listing ---------------------------------------------------------------


def test_reads_are_scoped_to_the_owner(store: Store) -> None:
    create(store, "a1", owner="ada")
    create(store, "b1", owner="bob")
    assert store.load("a1", owner="ada").application.owner == "ada"
    with pytest.raises(UnknownApplication, match="no application 'a1' for owner 'bob'"):
        store.load("a1", owner="bob")
    with pytest.raises(UnknownApplication, match="no application 'a1' for owner 'bob'"):
        store.history("a1", owner="bob")
    with pytest.raises(UnknownApplication, match="no application 'zz'"):
        store.load("zz")
    with pytest.raises(UnknownApplication, match="no application 'zz'"):
        store.history("zz")
    assert [a.id for a in store.applications(owner="bob")] == ["b1"]
    assert [a.id for a in store.applications()] == ["a1", "b1"]


def test_applications_are_ordered_by_creation_then_id_and_filtered(store: Store) -> None:
    create(store, "c", created_at=minutes(1))
    create(store, "b", created_at=minutes(2), state="offer")
    create(store, "a", created_at=minutes(2))
    create(store, "z", owner="bob", created_at=minutes(0), state="offer")
    create(store, "n", created_at=None)
    assert [a.id for a in store.applications()] == ["n", "z", "c", "a", "b"]
    assert [a.id for a in store.applications(owner="ada")] == ["n", "c", "a", "b"]
    assert [a.id for a in store.applications(states={"offer"})] == ["z", "b"]
    assert [a.id for a in store.applications(owner="ada", states=["offer", "x"])] == ["b"]
    assert store.applications(states=[]) == []
    assert store.applications(owner="nobody") == []
    with pytest.raises(InputError, match="not the string 'offer'"):
        store.applications(states="offer")


def test_count_applications(store: Store) -> None:
    assert store.count_applications() == 0
    create(store, "a1")
    create(store, "a2", state="offer")
    create(store, "b1", owner="bob", state="offer")
    assert store.count_applications() == 3
    assert store.count_applications(owner="ada") == 2
    assert store.count_applications(states=["offer"]) == 2
    assert store.count_applications(owner="bob", states=("interviewed",)) == 0
    assert store.count_applications(states=()) == 0


def test_owners_are_put_and_got(store: Store) -> None:
    assert store.get_owner("ada") is None
    store.put_owner(Owner("ada", timezone="America/New_York", country="US", subdivision="NY"))
    assert store.get_owner("ada") == Owner("ada", "America/New_York", "US", "NY")
    store.put_owner(Owner("ada", timezone="Europe/Berlin"))
    assert store.get_owner("ada") == Owner("ada", "Europe/Berlin")
    store.put_owner(Owner("bob"))
    assert store.get_owner("bob") == Owner("bob")
    assert store.get_owner("ada") == Owner("ada", "Europe/Berlin")


def test_owners_are_got_together(store: Store) -> None:
    get_owners = getattr(store, "get_owners")  # noqa: B009 - not part of Store
    assert get_owners([]) == {} and get_owners(["ada"]) == {}
    quiet = Owner("ada", "Europe/Berlin", channels=("email",), digest="08:00",
                  quiet_hours=("22:00-07:00",), looking=False)
    store.put_owner(quiet)
    store.put_owner(Owner("bob"))
    store.put_owner(Owner("zoë 🌱"))
    assert get_owners(["ada", "nobody", "bob", "ada", "zoë 🌱"]) == {
        "ada": quiet, "bob": Owner("bob"), "zoë 🌱": Owner("zoë 🌱")}
    assert get_owners(["bob"]) == {"bob": store.get_owner("bob")}


# -- the outbox -----------------------------------------------------------------------


def pending(store: Store, now: datetime, limit: int = 100) -> list[tuple[str, str]]:
    return [(d.notification.key, d.channel) for d in store.pending_deliveries(now, limit=limit)]


def test_notifications_become_one_pending_row_per_channel(store: Store) -> None:
    app = create(store)
    sent = notification("n-1", channels=("email", "console"))
    update(store, app, notifications=(sent,))
    rows = store.deliveries()
    assert rows == [
        Delivery(replace(sent, channels=("console",)), "console"),
        Delivery(replace(sent, channels=("email",)), "email"),
    ]
    assert rows[0].status == "pending"
    assert rows[0].attempts == 0
    assert rows[0].notification.due_at == T0 + timedelta(days=2)


def test_the_outbox_keeps_one_row_per_key_and_channel(store: Store) -> None:
    app = create(store)
    first = notification("n-1", channels=("console",))
    app = update(store, app, notifications=(first,))
    store.mark_delivered("n-1", "console", at=minutes(1))
    changed = replace(first, subject="A different subject", channels=("console", "email"))
    update(store, app, notifications=(changed, changed))
    rows = {(d.channel, d.status, d.notification.subject) for d in store.deliveries()}
    assert rows == {
        ("console", "delivered", "Thank n-1"),  # not added again, not reset
        ("email", "pending", "A different subject"),
    }


def test_pending_deliveries_are_due_ones_oldest_first(store: Store) -> None:
    app = create(store)
    update(
        store,
        app,
        notifications=(
            notification("n-b", created_at=minutes(2)),
            notification("n-a", created_at=minutes(2)),
            notification("n-c", created_at=minutes(1), channels=("email", "console")),
        ),
    )
    assert pending(store, T0) == [
        ("n-c", "console"),
        ("n-c", "email"),
        ("n-a", "console"),
        ("n-b", "console"),
    ]
    assert pending(store, T0, limit=2) == [("n-c", "console"), ("n-c", "email")]
    assert pending(store, T0, limit=0) == []

    store.mark_failed("n-c", "email", error="SMTP 451", next_attempt_at=minutes(10), dead=False)
    assert ("n-c", "email") not in pending(store, minutes(9))
    assert ("n-c", "email") in pending(store, minutes(10))
    [row] = [d for d in store.deliveries() if d.channel == "email"]
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "SMTP 451")
    assert row.next_attempt_at == minutes(10)


def test_delivered_failed_dead_and_retried(store: Store) -> None:
    a1 = create(store, "a1")
    b1 = create(store, "b1", owner="bob")
    update(store, a1, notifications=(notification("n-1"), notification("n-2")))
    update(store, b1, notifications=(notification("n-3", app_id="b1", owner="bob"),))

    store.mark_delivered("n-1", "console", at=minutes(1))
    store.mark_failed("n-2", "console", error="boom", next_attempt_at=minutes(5), dead=False)
    store.mark_failed("n-2", "console", error="boom again", next_attempt_at=None, dead=True)
    store.mark_failed("n-3", "console", error="bob's", next_attempt_at=None, dead=True)

    by_key = {d.notification.key: d for d in store.deliveries()}
    assert by_key["n-1"].status == "delivered"
    assert by_key["n-1"].delivered_at == minutes(1)
    assert by_key["n-1"].attempts == 1
    assert by_key["n-2"].status == "dead"
    assert by_key["n-2"].attempts == 2
    assert by_key["n-2"].last_error == "boom again"
    assert pending(store, minutes(100)) == []

    assert [d.notification.key for d in store.deliveries(status="dead")] == ["n-2", "n-3"]
    assert [d.notification.key for d in store.deliveries(owner="bob")] == ["n-3"]
    assert [d.notification.key for d in store.deliveries(owner="ada", status="dead")] == ["n-2"]
    assert store.deliveries(owner="ada", status="pending") == []

    assert store.retry_dead(owner="nobody") == 0
    assert store.retry_dead(key="n-2") == 1
    assert pending(store, T0) == [("n-2", "console")]
    [retried] = store.deliveries(status="pending")
    assert (retried.attempts, retried.next_attempt_at) == (0, None)
    assert store.retry_dead(owner="bob") == 1
    assert store.retry_dead() == 0
    assert len(store.deliveries(status="pending")) == 2
    assert [d.notification.key for d in store.deliveries(status="delivered")] == ["n-1"]


def test_marking_an_unknown_delivery_is_an_input_error(store: Store) -> None:
    with pytest.raises(InputError, match="no notification 'n-x' for channel 'console'"):
        store.mark_delivered("n-x", "console", at=T0)
    with pytest.raises(InputError, match="no notification 'n-x' for channel 'sms'"):
        store.mark_failed("n-x", "sms", error="e", next_attempt_at=None, dead=True)


def test_a_batch_of_deliveries_is_marked_together_or_not_at_all(store: Store) -> None:
    app = create(store)
    update(store, app, notifications=(notification("n-1", ("console", "sms")),
                                      notification("n-2")))
    mark_many = getattr(store, "mark_delivered_many")  # noqa: B009 - not part of Store
    before = snapshot(store)
    with pytest.raises(InputError, match="no notification 'n-x' for channel 'console'"):
        mark_many([("n-1", "console"), ("n-x", "console"), ("n-2", "console")], at=minutes(1))
    assert snapshot(store) == before  # the rows that exist were not marked either
    mark_many([("n-1", "console"), ("n-2", "console")], at=minutes(2))
    mark_many([], at=minutes(3))
    delivered = store.deliveries(status="delivered")
    assert [(d.notification.key, d.channel, d.attempts, d.delivered_at) for d in delivered] == [
        ("n-1", "console", 1, minutes(2)), ("n-2", "console", 1, minutes(2))]
    assert pending(store, minutes(5)) == [("n-1", "sms")]
    # A row named twice is marked twice, as two calls of mark_delivered would.
    mark_many([("n-1", "sms"), ("n-1", "sms")], at=minutes(6))
    [sms] = [d for d in store.deliveries(status="delivered") if d.channel == "sms"]
    assert (sms.attempts, sms.delivered_at) == (2, minutes(6))


# -- batches --------------------------------------------------------------------------


def test_commit_many_writes_everything_in_one_go(store: Store) -> None:
    a1 = application("a1")
    a2 = application("a2", owner="bob")
    results = store.commit_many(
        [
            Change(a1, None, history=(entry("a1", 0),), timers_added=(timer("t-1", T0),)),
            Change(a2, None, notifications=(notification("n-1", app_id="a2", owner="bob"),)),
            Change(replace(a1, state="thanked"), 1, history=(entry("a1", 1),)),
            Change(a1, 2, timers_removed=("t-1",), timers_added=(timer("t-2", T0),)),
        ]
    )
    assert [(a.id, a.version, a.state) for a in results] == [
        ("a1", 1, "interviewed"),
        ("a2", 1, "interviewed"),
        ("a1", 2, "thanked"),
        ("a1", 3, "interviewed"),
    ]
    record = store.load("a1")
    assert record.application == results[3]
    assert [h.seq for h in record.history] == [0, 1]
    assert [t.key for t in record.timers] == ["t-2"]
    assert [d.notification.key for d in store.deliveries()] == ["n-1"]
    assert store.commit_many([]) == []


def test_commit_many_is_all_or_nothing(store: Store) -> None:
    existing = create(store, "a3")
    before = snapshot(store)
    changes = [
        Change(
            application("a1"),
            None,
            history=(entry("a1", 0),),
            timers_added=(timer("t-1", T0),),
            notifications=(notification("n-1"),),
        ),
        Change(application("a2"), None, timers_added=(timer("t-2", T0, "a2"),)),
        Change(existing, existing.version + 1, timers_removed=("t-1",)),  # stale
    ]
    with pytest.raises(ConflictError, match="'a3' is at version 1, not 2"):
        store.commit_many(changes)
    assert snapshot(store) == before
    assert store.count_applications() == 1
    with pytest.raises(UnknownApplication, match="no application 'a1'"):  # not half-created
        store.load("a1")


def test_commit_many_conflicts_within_the_batch(store: Store) -> None:
    with pytest.raises(ConflictError, match="'a1' already exists"):
        store.commit_many([Change(application("a1"), None), Change(application("a1"), None)])
    with pytest.raises(ConflictError, match="'a1' is at version 1, not 2"):
        store.commit_many([Change(application("a1"), None), Change(application("a1"), 2)])
    assert store.count_applications() == 0


# -- lifetime -------------------------------------------------------------------------


def test_a_closed_store_refuses_work(store: Store) -> None:
    create(store)
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        store.load("a1")
    with pytest.raises(StoreError, match="closed"):
        store.commit(Change(application("a2"), None))
    with pytest.raises(StoreError, match="closed"):
        store.due_timers(T0)


def test_a_store_is_a_context_manager(store: Store) -> None:
    with store as same:
        assert same is store
        create(store)
    with pytest.raises(StoreError, match="closed"):
        store.applications()


def test_owner_level_timers_and_notifications(store: Store) -> None:
    store.commit_owner(
        "ada",
        timers_added=[timer("o1", minutes(10), app_id=""), timer("o2", minutes(20), app_id="")],
    )
    store.commit_owner("bob", timers_added=[timer("b1", minutes(5), app_id="", owner="bob")])
    assert [t.key for t in store.due_timers(minutes(15))] == ["b1", "o1"]
    assert [t.key for t in store.timers(owner="ada", application_id="")] == ["o1", "o2"]
    # Removing another owner's timer does nothing; removing one's own does.
    store.commit_owner("ada", timers_removed=["b1", "o1"],
                       notifications=[notification("n1", ("console", "file"), app_id="")])
    assert [t.key for t in store.timers(application_id="")] == ["b1", "o2"]
    rows = store.deliveries(owner="ada")
    assert [(d.notification.key, d.channel, d.notification.application_id) for d in rows] == [
        ("n1", "console", ""), ("n1", "file", "")
    ]
    # The same notification again is not a second row.
    store.commit_owner("ada", notifications=[notification("n1", app_id="")])
    assert len(store.deliveries(owner="ada")) == 2
    # One key twice in one change: the last one given is kept; a notification twice is
    # one row per channel.
    store.commit_owner("ada", timers_added=[timer("o3", minutes(30), app_id=""),
                                            timer("o3", minutes(40), app_id="")],
                       notifications=[notification("n2", app_id=""),
                                      notification("n2", app_id="")])
    [o3] = [t for t in store.timers(owner="ada", application_id="") if t.key == "o3"]
    assert o3.fire_at == minutes(40)
    assert [d.channel for d in store.deliveries(owner="ada")
            if d.notification.key == "n2"] == ["console"]


def test_an_owner_level_change_holds_only_that_owners_rows(store: Store) -> None:
    with pytest.raises(InputError, match="not an owner-level timer of 'ada'"):
        store.commit_owner("ada", timers_added=[timer("x", minutes(1), app_id="", owner="bob")])
    with pytest.raises(InputError, match="not an owner-level timer"):
        store.commit_owner("ada", timers_added=[timer("y", minutes(1), app_id="a1")])
    with pytest.raises(InputError, match="not an owner-level notification"):
        store.commit_owner("ada", notifications=[notification("n", app_id="a1")])
    assert store.timers() == [] and store.deliveries() == []


def test_count_by_state(store: Store) -> None:
    store.commit_many([
        Change(application=application("a1"), expected_version=None),
        Change(application=application("a2", state="offer"), expected_version=None),
        Change(application=application("a3", state="offer"), expected_version=None),
        Change(application=application("b1", owner="bob"), expected_version=None),
    ])
    assert store.count_by_state(owner="ada") == {"interviewed": 1, "offer": 2}
    assert store.count_by_state(owner="nobody") == {}


def test_count_by_state_follows_every_write(store: Store) -> None:
    def counted(owner: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in store.applications(owner=owner):
            out[a.state] = out.get(a.state, 0) + 1
        return out

    a1 = create(store, "a1")
    a2 = create(store, "a2", state="offer")
    create(store, "b1", owner="bob", archived_at=minutes(1))  # archived: not counted
    assert store.count_by_state(owner="ada") == {"interviewed": 1, "offer": 1} == counted("ada")
    assert store.count_by_state(owner="bob") == {}
    a1 = update(store, replace(a1, state="offer"))  # a move
    assert store.count_by_state(owner="ada") == {"offer": 2} == counted("ada")
    a1 = update(store, replace(a1, company="Initech"))  # no move: the same counts
    assert store.count_by_state(owner="ada") == {"offer": 2}
    a2 = update(store, replace(a2, archived_at=minutes(2)))  # archived
    assert store.count_by_state(owner="ada") == {"offer": 1} == counted("ada")
    a2 = update(store, replace(a2, state="rejected"))  # moved while archived
    assert store.count_by_state(owner="ada") == {"offer": 1}
    update(store, replace(a2, archived_at=None))  # back, in its new state
    assert store.count_by_state(owner="ada") == {"offer": 1, "rejected": 1} == counted("ada")
    store.delete_application("a1", owner="ada")
    assert store.count_by_state(owner="ada") == {"rejected": 1} == counted("ada")
    store.delete_application("b1", owner="bob")  # archived: nothing to take away
    assert store.count_by_state(owner="bob") == {}
    with pytest.raises(ConflictError, match="'a2' already exists"):  # refused: no count moves
        store.commit_many([Change(application=application("a3", state="offer"),
                                  expected_version=None),
                           Change(application=application("a2"), expected_version=None)])
    assert store.count_by_state(owner="ada") == {"rejected": 1} == counted("ada")


def test_an_owner_keeps_their_channels(store: Store) -> None:
    store.put_owner(Owner("ada", timezone="Europe/Berlin", channels=("email", "console")))
    store.put_owner(Owner("bob"))
    assert store.get_owner("ada") == Owner("ada", timezone="Europe/Berlin",
                                           channels=("email", "console"))
    assert store.get_owner("bob") == Owner("bob")


def test_an_owner_keeps_their_digest_time(store: Store) -> None:
    store.put_owner(Owner("ada", timezone="Europe/Berlin", digest="08:00"))
    assert store.get_owner("ada") == Owner("ada", timezone="Europe/Berlin", digest="08:00")
    store.put_owner(Owner("ada", timezone="Europe/Berlin"))
    assert store.get_owner("ada") == Owner("ada", timezone="Europe/Berlin")


def test_an_owner_keeps_their_quiet_hours(store: Store) -> None:
    store.put_owner(Owner("ada", quiet_hours=("22:00-07:00", "12:00-13:00")))
    assert store.get_owner("ada") == Owner("ada", quiet_hours=("22:00-07:00", "12:00-13:00"))
    store.put_owner(Owner("ada"))
    assert store.get_owner("ada") == Owner("ada")


def test_an_owner_is_looking_for_work_until_they_say_they_stopped(store: Store) -> None:
    store.put_owner(Owner("ada", timezone="Europe/Berlin"))
    store.put_owner(Owner("bob", looking=False))
    ada, bob = store.get_owner("ada"), store.get_owner("bob")
    assert ada is not None and ada.looking is True
    assert bob == Owner("bob", looking=False)
    store.put_owner(Owner("bob", digest="08:00"))  # a whole record: looking again
    assert store.get_owner("bob") == Owner("bob", digest="08:00", looking=True)
    store.put_owner(Owner("ada", timezone="Europe/Berlin", looking=False))
    assert store.get_owner("ada") == Owner("ada", timezone="Europe/Berlin", looking=False)


def test_a_notification_held_for_a_digest_is_not_due_before_it(store: Store) -> None:
    held = replace(notification("n1"), data={"digest_at": "2026-12-24T08:00:00-05:00"})
    store.commit(Change(application=application(), expected_version=None,
                        notifications=(held, notification("n2"))))
    slot = datetime(2026, 12, 24, 13, tzinfo=UTC)
    (row,) = [d for d in store.deliveries() if d.notification.key == "n1"]
    assert row.next_attempt_at == slot and row.attempts == 0 and row.status == "pending"
    assert row.notification == held
    assert [d.notification.key for d in store.pending_deliveries(slot - timedelta(seconds=1))] \
        == ["n2"]
    assert sorted(d.notification.key for d in store.pending_deliveries(slot)) == ["n1", "n2"]


def test_a_row_is_claimed_by_one_sender_at_a_time(store: Store) -> None:
    store.commit(Change(application=application(), expected_version=None,
                        notifications=(notification("n1"),)))
    lease = minutes(10)
    assert store.claim_delivery("n1", "console", now=T0, until=lease)
    assert not store.claim_delivery("n1", "console", now=T0, until=lease)  # held
    assert not store.claim_delivery("n1", "console", now=minutes(9), until=minutes(20))
    assert store.claim_delivery("n1", "console", now=lease, until=minutes(20))  # lease over
    store.mark_delivered("n1", "console", at=minutes(11))
    assert not store.claim_delivery("n1", "console", now=minutes(30), until=minutes(40))
    assert not store.claim_delivery("nope", "console", now=T0, until=lease)


# -- faults: a row that fails stops only itself ------------------------------------------


def test_a_fault_counts_its_attempts_and_keeps_when_it_began(store: Store) -> None:
    first = store.record_fault(owner="ada", application_id="a1", error="KeyError: 'x'",
                               at=T0, retry_at=minutes(1))
    assert first == Fault("ada", "a1", "KeyError: 'x'", T0, T0, 1, minutes(1))
    assert store.faults() == [first]
    again = store.record_fault(owner="ada", application_id="a1", error="ValueError: bad",
                               at=minutes(1).astimezone(NEW_YORK), retry_at=minutes(3))
    assert again == Fault("ada", "a1", "ValueError: bad", T0, minutes(1), 2, minutes(3))
    assert again.last_at.utcoffset() == timedelta(0)  # instants come back in UTC
    assert store.faults() == [again]
    # A success forgets it; the next failure starts a new run of failures.
    store.clear_fault(owner="ada", application_id="a1")
    assert store.faults() == []
    store.clear_fault(owner="ada", application_id="a1")  # none: nothing to do
    fresh = store.record_fault(owner="ada", application_id="a1", error="OSError: disk",
                               at=minutes(10), retry_at=minutes(11))
    assert (fresh.attempts, fresh.first_at) == (1, minutes(10))


def test_faults_are_oldest_first_and_scoped_like_every_read(store: Store) -> None:
    # Any Unicode names; the owner's own rules have application id "".
    store.record_fault(owner="ada/lovelace", application_id="", error="E1", at=minutes(5),
                       retry_at=minutes(6))
    store.record_fault(owner="王伟", application_id="b/1 %2F", error="E2", at=minutes(1),
                       retry_at=minutes(2))
    store.record_fault(owner="ada/lovelace", application_id="a1", error="E3", at=minutes(5),
                       retry_at=minutes(6))
    store.record_fault(owner="ada", application_id="a1", error="E4", at=minutes(9),
                       retry_at=minutes(10))
    store.record_fault(owner="王伟", application_id="b/1 %2F", error="E5", at=minutes(20),
                       retry_at=minutes(30))  # a repeat keeps its place: first_at

    def ids(**scope: str) -> list[tuple[str, str]]:
        return [(f.owner, f.application_id) for f in store.faults(**scope)]

    assert ids() == [("王伟", "b/1 %2F"), ("ada/lovelace", ""), ("ada/lovelace", "a1"),
                     ("ada", "a1")]
    assert ids(owner="ada/lovelace") == [("ada/lovelace", ""), ("ada/lovelace", "a1")]
    assert ids(owner="ada") == [("ada", "a1")]
    assert ids(application_id="a1") == [("ada/lovelace", "a1"), ("ada", "a1")]
    assert ids(application_id="") == [("ada/lovelace", "")]
    assert ids(owner="ada", application_id="a1") == [("ada", "a1")]
    assert ids(owner="nobody") == []
    # Clearing one owner's fault leaves another owner's of the same application id.
    store.clear_fault(owner="ada/lovelace", application_id="a1")
    assert ids(application_id="a1") == [("ada", "a1")]
    assert store.work_status(T0).faults == 3


def test_a_fault_keeps_a_long_error_and_refuses_naive_instants(store: Store) -> None:
    error = "RuntimeError: " + "ünïcode ✓ " * 200
    assert store.record_fault(owner="ada", application_id="a1", error=error, at=T0,
                              retry_at=minutes(1)).error == error
    assert store.faults()[0].error == error
    with pytest.raises(InputError, match="naive datetime"):
        store.record_fault(owner="ada", application_id="a2", error="x",
                           at=datetime(2026, 12, 23, 20, 0), retry_at=minutes(1))
    assert [f.application_id for f in store.faults()] == ["a1"]


def test_timers_released_until_a_retry_wait_for_it(store: Store) -> None:
    app = create(store)
    update(store, app, timers_added=(timer("a1/a", minutes(1)), timer("a1/b", minutes(2)),
                                     timer("a1/c", minutes(3))))
    held = store.claim_due_timers(minutes(5), worker="w1", until=minutes(60))
    assert [t.key for t in held] == ["a1/a", "a1/b", "a1/c"]
    # Someone else's timers are not theirs to release, with or without a time.
    store.release_timers(["a1/a"], worker="w2", until=minutes(8))
    store.release_timers(["a1/a", "a1/b"], worker="w1", until=minutes(8))
    store.release_timers(["a1/c"], worker="w1")  # no time: free at once, as before
    status = store.work_status(minutes(5))
    assert (status.due_timers, status.held_timers) == (1, 0)  # waiting is not held
    assert [(w.id, w.timers) for w in status.workers] == []
    assert [t.key for t in store.claim_due_timers(minutes(5), worker="w2",
                                                  until=minutes(60))] == ["a1/c"]
    assert store.claim_due_timers(minutes(7), worker="w1", until=minutes(60)) == []
    assert store.renew_claims(worker="w1", now=minutes(7), until=minutes(90)) == 0
    # At the retry they are free for any worker.
    assert store.work_status(minutes(8)).due_timers == 2
    taken = store.claim_due_timers(minutes(8), worker="w3", until=minutes(60))
    assert [t.key for t in taken] == ["a1/a", "a1/b"]


def test_storing_a_waiting_timer_again_frees_it(store: Store) -> None:
    app = create(store)
    app = update(store, app, timers_added=(timer("a1/a", minutes(1)),))
    store.claim_due_timers(minutes(5), worker="w1", until=minutes(60))
    store.release_timers(["a1/a"], worker="w1", until=minutes(30))
    assert store.claim_due_timers(minutes(5), worker="w2", until=minutes(60)) == []
    update(store, app, timers_added=(timer("a1/a", minutes(1)),))  # re-planned
    assert [t.key for t in store.claim_due_timers(minutes(5), worker="w2",
                                                  until=minutes(60))] == ["a1/a"]


# -- the calendar: a SEQUENCE that only grows ---------------------------------------------

KEEP = timedelta(days=14)


def planned(uid: str, start: datetime, content: str = "Thank Jane") -> CalendarEntry:
    return CalendarEntry(uid=uid, start=start, content=content)


def shown(entries: list[CalendarEntry]) -> list[tuple[str, int, str]]:
    return [(e.uid, e.sequence, e.status) for e in entries]


def test_a_calendar_entry_counts_its_changes_even_when_it_moves_earlier(store: Store) -> None:
    first = store.publish_calendar("ada", [planned("u1", minutes(600)),
                                           planned("u2", minutes(900))], now=T0, keep=KEEP)
    assert shown(first) == [("u1", 0, "planned"), ("u2", 0, "planned")]
    assert first[0] == CalendarEntry("u1", minutes(600), "Thank Jane", 0, "planned", T0, None)
    # The same again changes nothing, not even when it was last changed.
    again = store.publish_calendar("ada", [planned("u1", minutes(600)),
                                           planned("u2", minutes(900))],
                                   now=minutes(1), keep=KEEP)
    assert again == first
    # Earlier: the sequence still grows; new text: grows again.
    moved = store.publish_calendar("ada", [planned("u1", minutes(300)),
                                           planned("u2", minutes(900), "Thank Jane Doe")],
                                   now=minutes(2), keep=KEEP)
    assert shown(moved) == [("u1", 1, "planned"), ("u2", 1, "planned")]
    assert [e.changed_at for e in moved] == [minutes(2), minutes(2)]
    assert moved[1].content == "Thank Jane Doe"
    back = store.publish_calendar("ada", [planned("u1", minutes(600)),
                                          planned("u2", minutes(900), "Thank Jane Doe")],
                                  now=minutes(3), keep=KEEP)
    assert shown(back) == [("u1", 2, "planned"), ("u2", 1, "planned")]


def test_a_calendar_entry_that_leaves_is_cancelled_or_passed_then_forgotten(
        store: Store) -> None:
    store.publish_calendar("ada", [planned("soon", minutes(10)), planned("later", minutes(500)),
                                   planned("kept", minutes(700))], now=T0, keep=KEEP)
    # At minute 20 "soon" has gone off and "later" was cancelled before its time.
    left = store.publish_calendar("ada", [planned("kept", minutes(700))], now=minutes(20),
                                  keep=KEEP)
    assert shown(left) == [("soon", 0, "passed"), ("later", 1, "cancelled"),
                           ("kept", 0, "planned")]
    assert [e.ended_at for e in left] == [minutes(20), minutes(20), None]
    assert left[1].changed_at == minutes(20) and left[0].changed_at == T0
    # Still shown while it is kept, unchanged.
    assert store.publish_calendar("ada", [planned("kept", minutes(700))], now=minutes(20) + KEEP,
                                  keep=KEEP) == left
    # Planned again: back, one more.
    back = store.publish_calendar("ada", [planned("later", minutes(500)),
                                          planned("kept", minutes(700))],
                                  now=minutes(30), keep=KEEP)
    assert shown(back) == [("soon", 0, "passed"), ("later", 2, "planned"),
                           ("kept", 0, "planned")]
    gone = store.publish_calendar("ada", [], now=minutes(40), keep=KEEP)
    assert shown(gone) == [("soon", 0, "passed"), ("later", 3, "cancelled"),
                           ("kept", 1, "cancelled")]
    assert shown(store.publish_calendar("ada", [], now=minutes(21) + KEEP, keep=KEEP)) == [
        ("later", 3, "cancelled"), ("kept", 1, "cancelled")]  # "soon" left at minute 20
    assert store.publish_calendar("ada", [], now=minutes(41) + KEEP, keep=KEEP) == []


def test_each_owner_has_a_calendar_of_their_own(store: Store) -> None:
    for owner in ("ada", "Ada", "王伟", "ada\nx"):
        store.publish_calendar(owner, [planned("u1", minutes(60), owner)], now=T0, keep=KEEP)
    store.publish_calendar("王伟", [planned("u1", minutes(90), "王伟")], now=minutes(1),
                           keep=KEEP)
    assert shown(store.publish_calendar("ada", [planned("u1", minutes(60), "ada")],
                                        now=minutes(2), keep=KEEP)) == [("u1", 0, "planned")]
    [wang] = store.publish_calendar("王伟", [planned("u1", minutes(90), "王伟")],
                                    now=minutes(2), keep=KEEP)
    assert (wang.sequence, wang.start, wang.content) == (1, minutes(90), "王伟")
    [other] = store.publish_calendar("ada\nx", [planned("u1", minutes(60), "ada\nx")],
                                     now=minutes(2), keep=KEEP)
    assert other.sequence == 0


def test_a_bad_calendar_change_is_refused_and_writes_nothing(store: Store) -> None:
    store.publish_calendar("ada", [planned("u1", minutes(60))], now=T0, keep=KEEP)
    with pytest.raises(InputError, match="the calendar entry 'u2' is given twice"):
        store.publish_calendar("ada", [planned("u2", minutes(5)), planned("u2", minutes(6))],
                               now=minutes(1), keep=KEEP)
    with pytest.raises(InputError, match="naive"):
        store.publish_calendar("ada", [planned("u3", datetime(2027, 1, 1))],
                               now=minutes(1), keep=KEEP)
    assert shown(store.publish_calendar("ada", [planned("u1", minutes(60))], now=minutes(2),
                                        keep=KEEP)) == [("u1", 0, "planned")]


# -- archived applications, the pack that planned each, deleting ------------------------


def test_archived_at_and_planned_by_round_trip_and_change(store: Store) -> None:
    app = create(store, planned_by="pack-1")
    assert store.load("a1").application == app
    assert (app.archived_at, app.planned_by) == (None, "pack-1")
    archived = update(store, replace(app, archived_at=datetime(2027, 1, 4, 9, tzinfo=NEW_YORK),
                                     planned_by="pack-2"))
    stored = store.load("a1").application
    assert stored == archived
    assert stored.archived_at == datetime(2027, 1, 4, 14, tzinfo=UTC)
    assert stored.archived_at is not None and stored.archived_at.utcoffset() == timedelta(0)
    # Only the body changes (no indexed column): the marks stay as they are.
    body = update(store, replace(stored, company="Acme Corp"))
    assert store.load("a1").application == body and body.planned_by == "pack-2"
    back = update(store, replace(body, archived_at=None, planned_by=""))
    assert store.load("a1").application == back
    assert (back.archived_at, back.planned_by) == (None, "")


def test_a_bad_archive_time_is_refused_and_changes_nothing(store: Store) -> None:
    app = create(store)
    before = snapshot(store)
    with pytest.raises(InputError, match="naive"):
        update(store, replace(app, archived_at=datetime(2027, 1, 4)))
    with pytest.raises(InputError, match="the time it was archived"):
        update(store, replace(app, archived_at=datetime(1, 1, 2, tzinfo=UTC)))
    with pytest.raises(InputError, match="fingerprint of the pack"):
        update(store, replace(app, planned_by="x" * 100_000))
    assert snapshot(store) == before


def test_archived_applications_are_left_out_unless_asked_for(store: Store) -> None:
    create(store, "a1", created_at=minutes(1))
    create(store, "a2", created_at=minutes(2), state="offer", archived_at=minutes(5))
    create(store, "a3", created_at=minutes(3), state="offer")
    create(store, "b1", owner="bob", created_at=minutes(0), archived_at=minutes(5))
    assert [a.id for a in store.applications()] == ["a1", "a3"]
    assert [a.id for a in store.applications(archived=True)] == ["b1", "a2"]
    assert [a.id for a in store.applications(archived=None)] == ["b1", "a1", "a2", "a3"]
    assert [a.id for a in store.applications(owner="ada", states=["offer"],
                                             archived=True)] == ["a2"]
    assert [a.id for a in store.applications(owner="bob")] == []
    assert store.count_applications() == 2
    assert store.count_applications(archived=True) == 2
    assert store.count_applications(archived=None) == 4
    assert store.count_applications(owner="ada", states=["offer"], archived=None) == 2
    # An archived application is not active: the owner's rules do not count it.
    assert store.count_by_state(owner="ada") == {"interviewed": 1, "offer": 1}
    assert store.count_by_state(owner="bob") == {}
    with pytest.raises(InputError, match="archived is True, False or None"):
        store.applications(archived="yes")  # type: ignore[arg-type]


def test_stale_applications_are_those_another_pack_planned_in_id_order(store: Store) -> None:
    store.commit_many([
        Change(application("c", planned_by="old"), None),
        Change(application("a", planned_by=""), None),
        Change(application("b", owner="bob", planned_by="new"), None),
        Change(application("d", owner="bob", planned_by="older"), None),
        Change(application("e", planned_by="old", archived_at=minutes(1)), None),
        Change(application("f", planned_by="zzz"), None),
        Change(application("王", planned_by="old"), None),
    ])
    assert store.stale_applications("new", limit=100) == [
        ("ada", "a"), ("ada", "c"), ("bob", "d"), ("ada", "f"), ("ada", "王")]
    first = store.stale_applications("new", limit=2)
    assert first == [("ada", "a"), ("ada", "c")]
    assert store.stale_applications("new", limit=2, after=first[-1][1]) == [
        ("bob", "d"), ("ada", "f")]
    assert store.stale_applications("new", limit=2, after="f") == [("ada", "王")]
    assert store.stale_applications("new", limit=2, after="王") == []
    assert store.stale_applications("new", limit=0) == []
    assert store.stale_applications("old", limit=100) == [
        ("ada", "a"), ("bob", "b"), ("bob", "d"), ("ada", "f")]
    # Planned by the pack now: no longer stale.
    store.commit(Change(replace(store.load("a").application, planned_by="new"), 1))
    assert [i for _, i in store.stale_applications("new", limit=100)] == ["c", "d", "f", "王"]


def test_deleting_an_application_removes_what_is_only_its_own(store: Store) -> None:
    for app_id, owner in (("a1", "ada"), ("a2", "ada"), ("b1", "bob")):
        app = create(store, app_id, owner)
        update(store, app, history=(entry(app_id, 1),),
               timers_added=(timer(f"{app_id}-t", minutes(10), app_id, owner),),
               notifications=(notification(f"{app_id}-sent", ("console", "email"), app_id,
                                           owner),
                              notification(f"{app_id}-dead", app_id=app_id, owner=owner),
                              notification(f"{app_id}-later", app_id=app_id, owner=owner)))
        store.mark_delivered(f"{app_id}-sent", "console", at=minutes(1))
        store.mark_failed(f"{app_id}-dead", "console", error="boom", next_attempt_at=None,
                          dead=True)
        store.record_fault(owner=owner, application_id=app_id, error="E", at=T0,
                           retry_at=minutes(1))
    for owner, app_ids in (("ada", ("a1", "a2")), ("bob", ("b1",))):
        store.publish_calendar(owner, [
            *(replace(planned(f"{i}-u", minutes(60)), application_id=i) for i in app_ids),
            planned("owner-u", minutes(70))], now=T0, keep=KEEP)
    store.record_fault(owner="ada", application_id="", error="E", at=T0, retry_at=minutes(1))
    claimed = store.claim_due_timers(minutes(20), worker="w", until=minutes(30))
    assert {t.key for t in claimed} == {"a1-t", "a2-t", "b1-t"}

    store.delete_application("a1", owner="ada")

    with pytest.raises(UnknownApplication):
        store.load("a1")
    with pytest.raises(UnknownApplication):
        store.history("a1")
    assert [a.id for a in store.applications(archived=None)] == ["a2", "b1"]
    assert [t.key for t in store.timers()] == ["a2-t", "b1-t"]
    # The delivered row stays (what went out); the rest of a1's outbox is gone.
    assert sorted((d.notification.key, d.channel, d.status) for d in store.deliveries()
                  if d.notification.application_id == "a1") == [
        ("a1-sent", "console", "delivered")]
    assert len([d for d in store.deliveries() if d.notification.application_id != "a1"]) == 8
    assert [(f.owner, f.application_id) for f in store.faults()] == [
        ("ada", ""), ("ada", "a2"), ("bob", "b1")]
    # Its calendar entries are gone; the owner's own and the others' stay.
    assert shown(store.publish_calendar(
        "ada", [replace(planned("a2-u", minutes(60)), application_id="a2"),
                planned("owner-u", minutes(70))], now=minutes(1), keep=KEEP)) == [
        ("a2-u", 0, "planned"), ("owner-u", 0, "planned")]
    assert [e.uid for e in store.publish_calendar(
        "bob", [replace(planned("b1-u", minutes(60)), application_id="b1"),
                planned("owner-u", minutes(70))], now=minutes(1), keep=KEEP)] == [
        "b1-u", "owner-u"]
    assert store.work_status(minutes(20)).held_timers == 2  # a2-t and b1-t, still held


def test_deleting_an_unknown_or_anothers_application_changes_nothing(store: Store) -> None:
    app = create(store, "a1", "ada")
    update(store, app, timers_added=(timer("t", minutes(10)),),
           notifications=(notification("n"),))
    before = snapshot(store)
    with pytest.raises(UnknownApplication, match="'a1' for owner 'bob'"):
        store.delete_application("a1", owner="bob")
    with pytest.raises(UnknownApplication, match="no application 'zz'"):
        store.delete_application("zz", owner="ada")
    assert snapshot(store) == before
    # Gone for good: deleting again is unknown, and the id is free for a commit.
    store.delete_application("a1", owner="ada")
    with pytest.raises(UnknownApplication):
        store.delete_application("a1", owner="ada")
    assert create(store, "a1", "ada").version == 1
    assert store.history("a1") == [entry("a1", 0, kind="created", name="created",
                                         to_state="interviewed")]


def test_a_commit_to_a_deleted_application_conflicts(store: Store) -> None:
    app = create(store)
    store.delete_application("a1", owner="ada")
    with pytest.raises(ConflictError):
        update(store, replace(app, state="thanked"), history=(entry("a1", 1),))
    assert store.applications(archived=None) == []


def test_a_calendar_entry_learns_its_application_without_a_new_sequence(store: Store) -> None:
    create(store)
    store.publish_calendar("ada", [planned("u1", minutes(60))], now=T0, keep=KEEP)
    [learned] = store.publish_calendar(
        "ada", [replace(planned("u1", minutes(60)), application_id="a1")], now=minutes(1),
        keep=KEEP)
    assert (learned.sequence, learned.changed_at, learned.application_id) == (0, T0, "a1")
    store.delete_application("a1", owner="ada")
    assert store.publish_calendar("ada", [], now=minutes(2), keep=KEEP) == []


def test_load_many_reads_several_applications_as_load_does(store: Store) -> None:
    load_many = cast(Any, store).load_many  # offered by the three stores, not the protocol
    for app_id, owner in (("a1", "ada"), ("a2", "ada"), ("b1", "bob"), ("a3", "ada")):
        app = create(store, app_id, owner)
        update(store, app, history=(entry(app_id, 1), entry(app_id, 2)),
               timers_added=(timer(f"{app_id}-late", minutes(90), app_id, owner),
                             timer(f"{app_id}-soon", minutes(10), app_id, owner)))
    records = load_many(["b1", "zz", "a1", "a3", "a1"])
    assert records == [store.load("b1"), store.load("a1"), store.load("a3")]
    assert [t.key for t in records[1].timers] == ["a1-soon", "a1-late"]
    assert [h.seq for h in records[1].history] == [0, 1, 2]
    assert [r.application.id for r in load_many(["b1", "a2", "a1"], owner="ada")] == [
        "a2", "a1"]
    assert load_many([]) == []


def test_load_with_owner_reads_the_owner_s_counts_and_marker_with_the_application(
        store: Store) -> None:
    load_with_owner = cast(Any, store).load_with_owner  # the three stores', not the protocol
    a1 = create(store, "a1", "ada")
    create(store, "a2", "ada", state="thanked")
    create(store, "a3", "ada", state="thanked")
    create(store, "b1", "bob")
    update(store, a1, history=(entry("a1", 1),),
           timers_added=(timer("a1-soon", minutes(10)),))
    record, counts, waiting = load_with_owner("a1")
    assert record == store.load("a1")
    assert counts == store.count_by_state(owner="ada") == {"interviewed": 1, "thanked": 2}
    assert waiting is False
    # An owner-level timer that is not a re-plan marker is not one; the marker is, and
    # only for its owner.
    owner_timer = replace(timer("owner/ada/keep-looking", minutes(5), app_id=""),
                          rule="keep-looking")
    store.commit_owner("ada", timers_added=[owner_timer])
    assert load_with_owner("a1")[2] is False
    marker = Timer(application_id="", owner="ada", key="owner/ada/replan", rule="replan",
                   action="replan", fire_at=T0)
    store.commit_owner("ada", timers_added=[marker])
    assert load_with_owner("a1", owner="ada")[2] is True
    assert load_with_owner("b1")[1:] == ({"interviewed": 1}, False)
    with pytest.raises(UnknownApplication):
        load_with_owner("a1", owner="bob")
    with pytest.raises(UnknownApplication):
        load_with_owner("zz")


def test_agenda_rows_are_the_agenda_s_lines_with_each_company(store: Store) -> None:
    """``Engine.agenda_rows``: the store's own query where it has one (SQLite,
    PostgreSQL), else made from ``agenda`` (memory): the same lines either way, and the
    same as ``agenda``'s."""
    from followup import Engine, FakeClock

    engine = Engine(store=store, clock=FakeClock(T0), channels=[])
    a1 = create(store, "a1", "ada", company="Acme")
    a2 = create(store, "a2", "ada", company="Globex — Zürich")
    gone = create(store, "a3", "ada", company="Initech")
    b1 = create(store, "b1", "bob", company="Bob's")
    later = replace(timer("a1-later", minutes(30)), due_at=None, contact=None)
    update(store, a1, timers_added=(timer("a1-soon", minutes(10)), later,
                                    replace(timer("a1-move", minutes(20)), action="transition",
                                            rule="give-up", due_at=None)))
    update(store, a2, timers_added=(timer("a2-b", minutes(10), app_id="a2"),
                                    timer("a2-a", minutes(10), app_id="a2")))
    update(store, replace(gone, archived_at=minutes(1)),
           timers_added=(timer("a3-x", minutes(5), app_id="a3"),))
    update(store, b1, timers_added=(timer("b1-x", minutes(5), app_id="b1", owner="bob"),))
    mine = replace(timer("owner/ada/keep-looking", minutes(15), app_id=""),
                   rule="keep-looking", contact=None)
    spent = replace(timer("owner/ada/spent", minutes(1), app_id=""), action="spent")
    marker = replace(timer("owner/ada/replan", minutes(2), app_id=""), action="replan")
    store.commit_owner("ada", timers_added=[mine, spent, marker])

    rows = engine.agenda_rows(owner="ada")
    assert [(r[5], r[2], r[3], r[6]) for r in rows] == [
        ("a1", "thank-you-notes", "notify", "Acme"),  # minute 10; keys a1-soon < a2-a
        ("a2", "thank-you-notes", "notify", "Globex — Zürich"),
        ("a2", "thank-you-notes", "notify", "Globex — Zürich"),
        ("", "keep-looking", "notify", None),  # the owner's own: no company
        ("a1", "give-up", "transition", "Acme"),
        ("a1", "thank-you-notes", "notify", "Acme"),
    ]  # not: the archived a3, bob's, the spent mark, the re-plan marker
    assert rows[0] == (minutes(10), minutes(10) + timedelta(days=2), "thank-you-notes",
                       "notify", "Jane Doe", "a1", "Acme")
    assert rows[-1] == (minutes(30), None, "thank-you-notes", "notify", None, "a1", "Acme")
    assert all(r[0].tzinfo is not None and r[0].utcoffset() == timedelta(0) for r in rows)
    expected = [(i.timer.fire_at, i.timer.due_at, i.timer.rule, i.timer.action,
                 i.timer.contact, i.timer.application_id,
                 None if i.application is None else i.application.company)
                for i in engine.agenda(owner="ada")]
    assert rows == expected
    # start <= fire_at < end, as timers() bounds them
    assert [r[0] for r in engine.agenda_rows(owner="ada", start=minutes(15), end=minutes(30))
            ] == [minutes(15), minutes(20)]
    assert engine.agenda_rows(owner="bob") == [
        (minutes(5), minutes(5) + timedelta(days=2), "thank-you-notes", "notify", "Jane Doe",
         "b1", "Bob's")]
    assert engine.agenda_rows(owner="nobody") == []
    with pytest.raises(InputError):
        engine.agenda_rows(owner="ada", end=datetime(2027, 1, 1))  # naive: refused


def test_listing_gives_what_applications_gives_as_the_lines_of_a_listing(
        store: Store) -> None:
    """``followup.store.listing``: the store's ``application_rows`` where it has one
    (SQLite, PostgreSQL), else made from ``applications`` (memory): the same lines, in
    the same order, under every filter."""
    from followup.store import listing

    a1 = create(store, "a1", "ada", company="Acme")
    create(store, "a2", "ada", company="Globex — Zürich", state="thanked",
           created_at=minutes(-5))
    a3 = create(store, "a3", "ada", company="Initech", created_at=minutes(3))
    create(store, "b1", "bob", company="Bob's")
    update(store, replace(a3, archived_at=minutes(4)))
    update(store, replace(a1, role="Staff Engineer"))
    assert listing(store, owner="ada") == [
        ("a2", "thanked", "Engineer", "Globex — Zürich", minutes(-5), None),
        ("a1", "interviewed", "Staff Engineer", "Acme", T0, None)]
    assert listing(store, owner="ada", archived=True) == [
        ("a3", "interviewed", "Engineer", "Initech", minutes(3), minutes(4))]
    for owner in ("ada", "bob", None, "nobody"):
        for states in (None, ["thanked"], ["interviewed", "thanked"], []):
            for archived in (False, True, None):
                apps = store.applications(owner=owner, states=states, archived=archived)
                assert listing(store, owner=owner, states=states, archived=archived) == [
                    (a.id, a.state, a.role, a.company, a.created_at, a.archived_at)
                    for a in apps], (owner, states, archived)
    rows = listing(store, owner=None, archived=None)
    assert all(r[4] is not None and r[4].utcoffset() == timedelta(0) for r in rows)
