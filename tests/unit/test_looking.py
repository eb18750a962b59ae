"""An owner who says they stopped looking for work: the default pack's keep-looking
nudges (weekly and monthly) stop at once and come back when they say they look again;
only rules over all of an owner's applications can test ``looking``; an export carries it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from followup import (
    Contact,
    Engine,
    FakeClock,
    InputError,
    MemoryStore,
    RulesError,
    export_document,
    import_context,
    import_items,
    load_rules,
    read_json,
    read_owner_state,
)

START = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)  # Mon 10:00 in New York


def _engine() -> Engine:
    engine = Engine(store=MemoryStore(), clock=FakeClock(START), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    engine.add_application(owner="ada", company="Acme", role="Engineer", id="acme",
                           facts={"interviewed_at": START},
                           contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
    return engine


def _owner_rules(engine: Engine) -> list[str]:
    return [t.rule for t in engine.store.timers(owner="ada", application_id="")
            if t.action == "notify"]


def test_saying_you_stopped_looking_stops_the_weekly_nudge_and_back() -> None:
    engine = _engine()
    assert _owner_rules(engine) == ["keep-looking"]
    update = engine.update_owner("ada", looking=False)
    assert (update.before.looking, update.after.looking) == (True, False)
    assert _owner_rules(engine) == []
    assert engine.owner("ada").timezone == "America/New_York"  # the rest is kept
    engine.clock.advance(timedelta(days=30))  # type: ignore[attr-defined]
    report = engine.run_due()
    assert [n.rule for n in report.notifications if n.rule.startswith("keep-looking")] == []
    engine.update_owner("ada", looking=True)
    assert _owner_rules(engine) == ["keep-looking"]


def test_the_monthly_nudge_with_nothing_in_play_stops_too() -> None:
    engine = _engine()
    engine.record("acme", "rejected")
    assert _owner_rules(engine) == ["keep-looking-monthly"]
    engine.update_owner("ada", looking=False)
    assert _owner_rules(engine) == []
    engine.update_owner("ada", looking=None)  # not given: kept
    assert _owner_rules(engine) == [] and engine.owner("ada").looking is False
    engine.update_owner("ada", looking=True)
    assert _owner_rules(engine) == ["keep-looking-monthly"]


_PACK = """\
version: 1
extends: after-interview
rules:
  - name: {name}
    {scope}
    if: "looking"
    every: 7 days
    notify: {{template: keep-looking}}
"""


def test_an_owner_rule_may_test_looking() -> None:
    pack = load_rules(text=_PACK.format(name="still-looking", scope="scope: owner"),
                      cache=False)
    rule = next(r for r in pack.owner_rules if r.name == "still-looking")
    assert rule.condition is not None and "looking" in rule.condition.names


def test_an_application_rule_cannot_test_looking() -> None:
    with pytest.raises(RulesError, match=r"looking is a setting of the owner.*scope: owner"):
        load_rules(text=_PACK.format(name="per-application", scope="while: interviewed"),
                   cache=False)


def test_an_export_carries_looking_and_an_older_file_means_looking() -> None:
    source = _engine()
    source.update_owner("ada", looking=False)
    doc = export_document(source, "ada")
    assert doc["settings"]["looking"] is False  # type: ignore[index]
    for value, expected in ((False, False), (None, True)):
        settings = dict(doc["settings"])  # type: ignore[call-overload]
        if value is None:
            del settings["looking"]  # a file exported before the setting existed
        data = json.dumps({**doc, "settings": settings}).encode()
        target = Engine(store=MemoryStore(), clock=FakeClock(START), channels=[])
        items = read_json(data, "ada.json", import_context(target, "ada"))
        import_items(target, items, owner="ada", owner_state=read_owner_state(data, "ada.json"))
        assert target.owner("ada").looking is expected


def test_a_looking_that_is_not_true_or_false_is_refused() -> None:
    doc = {"settings": {"looking": "no"}, "applications": []}
    with pytest.raises(InputError, match="looking true or false"):
        read_owner_state(json.dumps(doc).encode(), "ada.json")


def test_looking_must_be_true_or_false() -> None:
    engine = _engine()
    with pytest.raises(InputError, match="looking is True or False, not 'no'"):
        engine.update_owner("ada", looking="no")  # type: ignore[arg-type]
    assert engine.owner("ada").looking is True
    assert _owner_rules(engine) == ["keep-looking"]
