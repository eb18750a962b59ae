"""A rule edit reaches applications in flight (``followup.runtime.replans``): the pack's
fingerprint, stale applications re-planned in batches with what moved, dry runs, nothing
sent twice, and the worker that does it pass by pass, on memory and on SQLite."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from followup import Engine, FakeClock, MemoryStore, SQLiteStore
from followup.language.loader import load_rules
from followup.language.pack import RulePack
from followup.runtime.replans import start_among
from followup.runtime.workers import Worker
from followup.store import Store

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = (ROOT / "rules" / "after-interview.yaml").read_text(encoding="utf-8")
CALL_AT = "at: 7 days after interviewed_at"
T0 = datetime(2026, 12, 1, 15, tzinfo=UTC)  # a Tuesday, 15:00 UTC


def pack(folder: Path, name: str, *edits: tuple[str, str]) -> Path:
    """The default pack with ``edits`` (old text, new text), as a file in ``folder``."""
    text = DEFAULT
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


EDITS: dict[str, tuple[tuple[str, str], ...]] = {
    "old": (),
    "call5": ((CALL_AT, "at: 5 days after interviewed_at"),),
    "call9": ((CALL_AT, "at: 9 days after interviewed_at"),),
    "due3": (("due: 2 working days after interviewed_at",
              "due: 3 working days after interviewed_at"),),
}


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RulePack]:
    """The default pack and edits of it, each loaded once for the module."""
    folder = tmp_path_factory.mktemp("packs")
    return {name: load_rules(pack(folder, f"{name}.yaml", *edits))
            for name, edits in EDITS.items()}


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    opened: list[Store] = []

    def make() -> Store:
        store: Store = (MemoryStore() if request.param == "memory"
                        else SQLiteStore(tmp_path / f"s{len(opened)}.db"))
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def engine(rules: RulePack | Path, store: Store, clock: FakeClock, worker: str = "w"
           ) -> Engine:
    return Engine(rules=rules, store=store, clock=clock, channels=[], worker=worker)


def fill(e: Engine, count: int) -> list[str]:
    e.set_owner("ada", timezone="UTC")
    e.set_owner("bob", timezone="Europe/Berlin")
    return [e.add_application(owner="ada" if i % 3 else "bob", company=f"C{i}", role="R",
                              id=f"app{i:02d}",
                              facts={"interviewed_at": (T0 - timedelta(hours=i)).isoformat()}
                              ).id for i in range(count)]


# -- the fingerprint ------------------------------------------------------------------


def test_the_fingerprint_is_what_the_pack_means_not_where_it_lives(
        tmp_path: Path, packs: dict[str, RulePack]) -> None:
    default = load_rules()
    assert packs["old"].fingerprint == default.fingerprint  # the same YAML, another file
    moved = shutil.copy(packs["old"].files[0], tmp_path / "b.yaml")
    assert load_rules(moved, cache=False).fingerprint == default.fingerprint
    commented = pack(tmp_path, "c.yaml", (CALL_AT, CALL_AT + "  # a week"))
    assert load_rules(commented).fingerprint == default.fingerprint
    assert len({p.fingerprint for p in packs.values()}) == len(packs)
    worded = pack(tmp_path, "e.yaml", ("Hiring can take a long time.", "Be patient."))
    assert load_rules(worded).fingerprint not in {p.fingerprint for p in packs.values()}
    assert len(default.fingerprint) == 32


# -- stale applications, in batches ----------------------------------------------------


def test_a_pack_edit_re_plans_each_application_once_in_batches(
        packs: dict[str, RulePack], make_store: Callable[[], Store]) -> None:
    clock = FakeClock(T0)
    store = make_store()
    old = engine(packs["old"], store, clock)
    ids = fill(old, 7)
    assert {a.planned_by for a in store.applications()} == {old.pack.fingerprint}
    assert old.replan_stale().applications == ()  # planned by this pack: nothing stale
    before = {i: store.load(i) for i in ids}
    new = engine(packs["call5"], store, clock)
    first = new.replan_stale(limit=3)
    assert [a.application_id for a in first.applications] == ids[:3]
    assert first.last == ids[2] and not first.dry_run and first.errors == ()
    rest = new.replan_stale(limit=3, after=first.last)
    last = new.replan_stale(limit=3, after=rest.last)
    assert [a.application_id for a in rest.applications + last.applications] == ids[3:]
    assert last.last is None
    assert new.replan_stale().applications == ()
    for batch in (first, rest, last):
        for app in batch.applications:
            [move] = app.moves
            was = {t.key: t for t in before[app.application_id].timers}[move.key]
            assert (move.rule, move.kind, move.before) == ("follow-up-call", "moved",
                                                           was.fire_at)
            assert move.after is not None and move.after < was.fire_at
            assert app.owner == before[app.application_id].application.owner
    assert first.count("moved") == 3 and first.count("added") == first.count("cancelled") == 0
    for i in ids:
        stored = store.load(i)
        assert stored.application.planned_by == new.pack.fingerprint
        assert stored.application.version == before[i].application.version + 1  # once
        # Exactly what planning it fresh with the new pack gives.
        fresh = new.planner.plan(stored.application, stored.history, new.calendar(
            stored.application.owner))
        assert list(stored.timers) == fresh.timers


def test_a_dry_run_shows_the_same_moves_and_changes_nothing(
        packs: dict[str, RulePack], make_store: Callable[[], Store]) -> None:
    clock = FakeClock(T0)
    stores = [make_store(), make_store()]
    engines = []
    for store in stores:
        fill(engine(packs["old"], store, clock), 4)
        engines.append(engine(packs["call9"], store, clock))
    before = [(a, stores[0].load(a.id)) for a in stores[0].applications()]
    dry = engines[0].replan_stale(dry_run=True)
    assert dry.dry_run and len(dry.moved) == 4
    assert [(a, stores[0].load(a.id)) for a in stores[0].applications()] == before
    # Deterministic: the same store and pack give the same result, dry or not.
    assert engines[0].replan_stale(dry_run=True) == dry
    done = engines[1].replan_stale()
    assert done.applications == dry.applications
    assert all(m.kind == "moved" and m.after is not None and m.before is not None
               and m.after > m.before for a in done.applications for m in a.moves)


def test_archived_applications_are_not_re_planned(
        packs: dict[str, RulePack], make_store: Callable[[], Store]) -> None:
    clock = FakeClock(T0)
    store = make_store()
    ids = fill(engine(packs["old"], store, clock), 3)
    new = engine(packs["call5"], store, clock)
    new.archive(ids[1])
    # Archiving went through the new pack's change path: it is no longer stale either.
    assert [a.application_id for a in new.replan_stale().applications] == [ids[0], ids[2]]
    assert store.timers(application_id=ids[1]) == []


def test_any_change_to_a_stale_application_plans_it_in_full(
        packs: dict[str, RulePack], make_store: Callable[[], Store]) -> None:
    clock = FakeClock(T0)
    store = make_store()
    [app_id] = fill(engine(packs["old"], store, clock), 1)
    new = engine(packs["call5"], store, clock)
    # A fact that follow-up-call does not read: planned incrementally it would keep the
    # old call; stale, the application is planned in full.
    outcome = new.set_facts(app_id, {"why_me": "I ship"})
    assert [t.rule for t in outcome.armed] == ["follow-up-call"]
    stored = store.load(app_id)
    assert stored.application.planned_by == new.pack.fingerprint
    assert list(stored.timers) == new.planner.plan(stored.application, stored.history,
                                                   new.calendar("bob")).timers


# -- nothing sent twice ----------------------------------------------------------------


def _sent(store: Store, rule: str) -> list[str]:
    return [d.notification.key for d in store.deliveries() if d.notification.rule == rule]


@pytest.mark.parametrize("edited", [
    "due3",  # another rule's timing: the call's own is unchanged
    "call9",  # the call's own timing: it went out at day 7; now it would be day 9
    "call5",  # or day 5: already past, and already sent
])
def test_a_reminder_sent_under_the_old_pack_is_not_sent_again(
        packs: dict[str, RulePack], make_store: Callable[[], Store], edited: str) -> None:
    clock = FakeClock(T0)
    store = make_store()
    old = engine(packs["old"], store, clock)
    [app_id] = fill(old, 1)
    clock.set(T0 + timedelta(days=7, hours=1))
    old.run_due()
    [call] = _sent(store, "follow-up-call")
    sent = len(store.deliveries())
    new = engine(packs[edited], store, clock)
    batch = new.replan_stale()
    assert [a.application_id for a in batch.applications] == [app_id]
    assert all(m.rule != "follow-up-call" for m in batch.applications[0].moves)
    for days in (0, 3, 30):
        clock.set(T0 + timedelta(days=7 + days, hours=2))
        new.run_due()
    assert _sent(store, "follow-up-call") == [call]
    assert len(store.deliveries()) >= sent
    assert [h.key for h in store.history(app_id)
            if h.kind == "notified" and h.name == "follow-up-call"] == [call]


def test_a_reminder_not_sent_yet_goes_out_at_its_new_time_once(
        packs: dict[str, RulePack], make_store: Callable[[], Store]) -> None:
    clock = FakeClock(T0)
    store = make_store()
    old = engine(packs["old"], store, clock)
    fill(old, 1)
    clock.set(T0 + timedelta(days=6))  # the edit comes after day 5: the new time has passed
    new = engine(packs["call5"], store, clock)
    [moved] = new.replan_stale().applications[0].moves
    assert moved.after is not None and moved.after < clock.now()
    new.run_due()
    new.run_due()
    clock.set(T0 + timedelta(days=8))
    new.run_due()
    assert len(_sent(store, "follow-up-call")) == 1


# -- the worker: one batch a pass, and an edited pack file ------------------------------


def test_a_worker_re_plans_one_batch_per_pass_until_none_is_stale(
        packs: dict[str, RulePack], make_store: Callable[[], Store]) -> None:
    # Before the interviews: nothing is due, so no pass plans an application by firing.
    clock = FakeClock(T0 - timedelta(days=3))
    store = make_store()
    ids = fill(engine(packs["old"], store, clock), 7)
    new = engine(packs["call5"], store, clock, worker="w1")
    worker = Worker(new, interval=0.1, replan_batch=3)
    seen: list[str] = []
    for _ in range(4):
        report = worker.run(once=True)
        assert len(report.replanned.applications) <= 3
        seen += [a.application_id for a in report.replanned.applications]
    assert sorted(seen) == ids  # each once, from where worker w1 starts
    start = start_among("w1", ids)
    assert seen[0] == (ids[0] if start is None else ids[ids.index(start) + 1])
    assert store.stale_applications(new.pack.fingerprint, limit=10) == []


def test_workers_start_their_walks_at_different_places() -> None:
    ids = [f"app-{i:05d}" for i in range(10_000)]
    starts = {start_among(f"host:{pid}:abc", ids) for pid in range(50)}
    assert len(starts) > 45  # spread over the ids, whatever they look like
    assert start_among("w1", ids) == start_among("w1", ids)
    assert start_among("w1", []) is None
    assert {start_among(f"w{n}", ["a"]) for n in range(20)} == {None}  # from the start


def test_a_worker_loads_its_pack_again_when_the_file_changes(
        tmp_path: Path, make_store: Callable[[], Store], caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(T0 - timedelta(days=3))
    store = make_store()
    path = pack(tmp_path, "rules.yaml")
    first = engine(path, store, clock)
    ids = fill(first, 2)
    worker = Worker(first, interval=0.1)
    assert worker.run(once=True).replanned.applications == ()
    # A pack that does not load yet (half written) is logged, and the old one kept.
    path.write_text(DEFAULT.replace("version: 1", "version: [", 1), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="followup"):
        assert worker.run(once=True).replanned.applications == ()
    assert worker.engine is first
    assert "does not load" in caplog.text
    pack(tmp_path, "rules.yaml", (CALL_AT, "at: 5 days after interviewed_at"))
    report = worker.run(once=True)
    assert worker.engine is not first and worker.engine.store is store
    assert worker.engine.worker == first.worker
    assert worker.engine.pack.fingerprint != first.pack.fingerprint
    assert sorted(a.application_id for a in report.replanned.applications) == ids
    assert all(a.planned_by == worker.engine.pack.fingerprint for a in store.applications())


def test_a_worker_may_leave_re_planning_to_others(
        packs: dict[str, RulePack], make_store: Callable[[], Store]) -> None:
    clock = FakeClock(T0 - timedelta(days=3))  # nothing due: no pass plans by firing
    store = make_store()
    fill(engine(packs["old"], store, clock), 2)
    new = engine(packs["call5"], store, clock)
    assert Worker(new, replan_batch=0).run(once=True).replanned.applications == ()
    assert len(store.stale_applications(new.pack.fingerprint, limit=10)) == 2
