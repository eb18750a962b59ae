"""A pass commits the due reminders of a claimed batch's applications in one transaction,
and when that transaction fails, advances each application on its own: nothing lost,
nothing sent twice, a bad row stopping only itself. On real SQLite files."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from followup import Contact, Engine, FakeClock, SQLiteStore
from followup.delivery.dispatcher import BATCH
from followup.errors import InputError, StoreError
from followup.model import Application, Change, Delivery, Owner, Record, Timer
from followup.testing import RecordingChannel

START = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)  # Wed 15:00 in New York
ENDED = START + timedelta(hours=1, minutes=1)  # the interviews have ended


class CountingStore(SQLiteStore):
    """A SQLite store that notes how changes reach it, and can refuse a batch once."""

    def __init__(self, path: Path, *, refuse_batches: int = 0) -> None:
        super().__init__(path)
        self.alone: list[str] = []
        self.batches: list[list[str]] = []
        self.refuse_batches = refuse_batches

    def commit(self, change: Change) -> Application:
        self.alone.append(change.application.id)
        return super().commit(change)

    def commit_many(self, changes: Sequence[Change]) -> list[Application]:
        self._batch(changes)
        return super().commit_many(changes)

    def commit_many_claiming(self, changes: Sequence[Change], *, worker: str,
                             until: datetime) -> tuple[list[Application], list[Delivery]]:
        self._batch(changes)  # a pass that delivers commits its batches this way
        return super().commit_many_claiming(changes, worker=worker, until=until)

    def _batch(self, changes: Sequence[Change]) -> None:
        ids = [c.application.id for c in changes]
        if self.refuse_batches:
            self.refuse_batches -= 1
            raise InputError(f"refused a batch of {len(ids)} (as a store refusing one row)")
        self.batches.append(ids)


def engine_with(store: CountingStore, apps: int) -> tuple[Engine, RecordingChannel, list[str]]:
    channel = RecordingChannel()
    engine = Engine(store=store, clock=FakeClock(START), channels=[channel])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    ids = [engine.add_application(owner="ada", company=f"Acme {i}", role="Engineer",
                                  facts={"interviewed_at": START.isoformat()},
                                  contacts=[Contact(f"Jane {i}", "interviewer",
                                                    title="Manager")]).id
           for i in range(apps)]
    store.alone.clear()
    return engine, channel, ids


def test_the_due_reminders_of_a_batch_are_committed_in_one_transaction(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "f.db")
    engine, channel, ids = engine_with(store, 5)
    with engine:
        report = engine.run_due(ENDED)
        assert [sorted(batch) for batch in store.batches] == [sorted(ids)]
        assert store.alone == []
        assert sorted(o.application.id for o in report.outcomes) == sorted(ids)
        sent = [n.key for n in channel.sent]
        assert len(sent) == len(set(sent)) and {n.application_id for n in channel.sent} == set(ids)
        assert not engine.run_due(ENDED).fired  # all of it was committed: nothing due again
        assert all(store.history(i)[-1].kind == "notified" for i in ids)


def test_a_failed_batch_advances_each_application_on_its_own(tmp_path: Path) -> None:
    refused = CountingStore(tmp_path / "refused.db", refuse_batches=1)
    plain = CountingStore(tmp_path / "plain.db")
    engine, channel, ids = engine_with(refused, 4)
    other, other_channel, _ = engine_with(plain, 4)
    with engine, other:
        report = engine.run_due(ENDED)
        expected = other.run_due(ENDED)
        assert refused.batches == [] and sorted(refused.alone) == sorted(ids)
        assert not report.errors
        # The same reminders as a pass whose batch went through (ids are each engine's own).
        assert sorted((n.rule, n.contact) for n in report.notifications) == sorted(
            (n.rule, n.contact) for n in expected.notifications)
        assert {n.application_id for n in report.notifications} == set(ids)
        assert len(channel.sent) == len(other_channel.sent)
        assert len({n.key for n in channel.sent}) == len(channel.sent)  # none twice
        assert not engine.run_due(ENDED).fired


class Noting(CountingStore):
    """Notes each batch of due timers claimed, in one log with the channel's sends."""

    def __init__(self, path: Path, log: list[str]) -> None:
        super().__init__(path)
        self.log = log

    def claim_due_timers(self, now: datetime, *, worker: str, until: datetime,
                         limit: int = 100) -> list[Timer]:
        batch = super().claim_due_timers(now, worker=worker, until=until, limit=limit)
        self.log.append(f"claimed {len(batch)}")
        return batch


def test_what_a_batch_made_goes_out_before_the_next_batch_is_claimed(tmp_path: Path) -> None:
    log: list[str] = []
    store = Noting(tmp_path / "f.db", log)
    engine, channel, ids = engine_with(store, 5)
    channel.send = lambda n: log.append(f"sent {n.application_id}")  # type: ignore[method-assign]
    with engine:
        log.clear()
        report = engine.run_due(ENDED, limit=2)
    # Each claim is followed by the sends of the applications it committed, then the
    # next claim; the last claim finds nothing.
    claims = [i for i, line in enumerate(log) if line.startswith("claimed")]
    sends = [sorted(set(log[a + 1:b])) for a, b in pairwise(claims)]
    assert len(store.batches) > 1 and log[claims[-1]:] == ["claimed 0"]
    assert sends == [sorted(f"sent {i}" for i in set(batch)) for batch in store.batches]
    delivered = [d.notification.key for d in report.delivery.delivered]
    assert sorted(delivered) == sorted(n.key for n in report.notifications)
    assert {n.application_id for n in report.notifications} == set(ids)


class Unreadable(CountingStore):
    """Refuses to read a batch's applications or owners together (``load_many``,
    ``get_owners``), as a store that is briefly away would; reads one at a time work."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.loads: list[str] = []

    def load_many(self, application_ids: Sequence[str], *, owner: str | None = None
                  ) -> list[Record]:
        raise StoreError("the store is away for batches")

    def get_owners(self, owner_ids: Iterable[str]) -> dict[str, Owner]:
        raise StoreError("the store is away for owners")

    def load(self, application_id: str, *, owner: str | None = None) -> Record:
        self.loads.append(application_id)
        return super().load(application_id, owner=owner)


class Reads(CountingStore):
    """Notes each application read on its own (``load``)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.loads: list[str] = []

    def load(self, application_id: str, *, owner: str | None = None) -> Record:
        self.loads.append(application_id)
        return super().load(application_id, owner=owner)


def test_a_claimed_batch_s_applications_are_read_together(tmp_path: Path) -> None:
    store = Reads(tmp_path / "f.db")
    engine, channel, ids = engine_with(store, 3)
    with engine:
        store.loads.clear()
        report = engine.run_due(ENDED)
    assert store.loads == [] and {o.application.id for o in report.outcomes} == set(ids)
    assert channel.sent


def test_when_a_batch_cannot_be_read_together_each_application_is_read_alone(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = Unreadable(tmp_path / "f.db")
    plain = CountingStore(tmp_path / "plain.db")
    engine, channel, ids = engine_with(store, 4)
    other, other_channel, _ = engine_with(plain, 4)
    with engine, other:
        store.loads.clear()
        with caplog.at_level(logging.WARNING, logger="followup"):
            report = engine.run_due(ENDED)
        expected = other.run_due(ENDED)
    assert sorted(store.loads) == sorted(ids) and not report.errors
    assert len(channel.sent) == len(other_channel.sent) == len(expected.notifications) > 0
    assert [sorted(batch) for batch in store.batches] == [sorted(ids)]  # still one commit
    assert "reading the owners of a batch failed, their settings as read before stay: " \
           "the store is away for owners" in caplog.text


def test_the_plugin_guide_says_the_dispatcher_s_batch() -> None:
    text = Path(__file__).parents[2].joinpath("docs", "plugins.md").read_text(encoding="utf-8")
    assert f"marked delivered in batches of {BATCH}," in text


class Claims(CountingStore):
    """Notes what each claim of the outbox returned."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.claimed: list[str] = []

    def claim_deliveries(self, now: datetime, *, worker: str, until: datetime,
                         limit: int = 100) -> list[Delivery]:
        rows = super().claim_deliveries(now, worker=worker, until=until, limit=limit)
        self.claimed += [d.notification.key for d in rows]
        return rows


def test_a_pass_sends_what_it_fired_without_claiming_it_back(tmp_path: Path) -> None:
    store = Claims(tmp_path / "f.db")
    engine, channel, _ = engine_with(store, 5)
    with engine:
        report = engine.run_due(ENDED)
        sent = sorted(n.key for n in channel.sent)
        assert sent == sorted(n.key for n in report.notifications) and len(sent) == 15
        assert sorted(d.notification.key for d in report.delivery.delivered) == sent
        assert store.claimed == []  # taken when they were written, in the batch's commit
        assert {d.status for d in store.deliveries()} == {"delivered"}
        assert not engine.run_due(ENDED).delivery.delivered  # nothing twice
