"""The hot path builds records without their dataclass ``__init__``; what it builds must
be indistinguishable from the real thing, field for field, and stay so when a field is
added to the record."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from followup.model import Application, Contact, FrozenDict, Timer, new_timer, replaced
from followup.runtime.steps import moved
from followup.store._memory_tables import _copy

AT = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)


def test_new_timer_equals_the_dataclass_built_one() -> None:
    made = new_timer("a1", "ann", "a1/x/0/-/0", "x", "notify", AT, None, "Jane", None, 2)
    real = Timer(application_id="a1", owner="ann", key="a1/x/0/-/0", rule="x",
                 action="notify", fire_at=AT, due_at=None, contact="Jane", occurrence=2)
    assert made == real
    assert hash(made) == hash(real)
    assert vars(made) == vars(real)
    assert set(vars(made)) == {f.name for f in fields(Timer)}


def test_moved_and_copies_keep_every_field() -> None:
    app = Application("a1", "ann", "Acme", "Engineer", "interviewed", {"why_me": "x"},
                      (Contact("Jane", "interviewer"),), AT, 3)
    there = moved(app, "thanked")
    assert there == Application("a1", "ann", "Acme", "Engineer", "thanked", {"why_me": "x"},
                                (Contact("Jane", "interviewer"),), AT, 3)
    assert app.state == "interviewed"  # the original is untouched
    # Records are immutable values: the memory store keeps and hands out the record
    # itself, and a new facts mapping given to replaced is frozen like the constructor's.
    assert _copy(app) is app
    assert type(app.facts) is FrozenDict
    assert type(replaced(app, facts={"why_me": "y"}).facts) is FrozenDict
    assert set(vars(replaced(app, version=4))) == {f.name for f in fields(Application)}
    assert replaced(app, version=4).version == 4 and app.version == 3
