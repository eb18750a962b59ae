"""``followup.store.offers``: the engine uses a store's optional method only where it
stands at or beneath what it replaces, so a subclass that wraps a read keeps seeing it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from followup import Engine, FakeClock, MemoryStore, SQLiteStore
from followup.model import Timer
from followup.store import offers

START = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)


class _HidesRule(SQLiteStore):
    """Wraps ``timers`` (say, to hide what a person muted) and not ``agenda_rows``."""

    def timers(self, **kw: Any) -> list[Timer]:
        return [t for t in super().timers(**kw) if t.rule != "prepare-for-interview"]


class _HidesRuleInBoth(_HidesRule):
    """Wraps both: its own ``agenda_rows`` is used."""

    def agenda_rows(self, **kw: Any) -> list[Any]:
        return [r for r in super().agenda_rows(**kw) if r[2] != "prepare-for-interview"]


class _Switched(SQLiteStore):
    agenda_rows = None  # switched off


def test_offers_follows_the_classes_that_define_each_method() -> None:
    assert offers(SQLiteStore, "agenda_rows", "timers", "applications")
    assert offers(SQLiteStore, "load_with_owner", "load")
    assert not offers(MemoryStore, "agenda_rows", "timers", "applications")  # has none
    assert not offers(_HidesRule, "agenda_rows", "timers", "applications")
    assert offers(_HidesRule, "agenda_rows", "applications")  # only timers is wrapped
    assert offers(_HidesRuleInBoth, "agenda_rows", "timers", "applications")
    assert not offers(_Switched, "agenda_rows", "timers")
    assert not offers(SQLiteStore, "no_such_method")


def test_the_agenda_s_lines_go_through_a_wrapped_timers(tmp_path: Path) -> None:
    lines = {}
    for kind in (SQLiteStore, _HidesRule, _HidesRuleInBoth):
        with Engine(store=kind(tmp_path / f"{kind.__name__}.db"), clock=FakeClock(START),
                    channels=[]) as engine:
            engine.set_owner("ada", timezone="America/New_York", country="US")
            engine.add_application(owner="ada", company="Acme", role="Engineer",
                                   facts={"interviewed_at": START + timedelta(days=1)})
            rows = engine.agenda_rows(owner="ada")
            assert rows == [(i.timer.fire_at, i.timer.due_at, i.timer.rule, i.timer.action,
                             i.timer.contact, i.timer.application_id,
                             i.application and i.application.company)
                            for i in engine.agenda(owner="ada")]
            lines[kind] = {r[2] for r in rows}
    assert "prepare-for-interview" in lines[SQLiteStore]
    assert lines[_HidesRule] == lines[_HidesRuleInBoth] == (
        lines[SQLiteStore] - {"prepare-for-interview"})
