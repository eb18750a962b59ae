"""A JSON export carries what belongs to the owner, not to one application (their settings,
and where the rules over all of their applications stand), and an import puts it back;
the imported applications are planned through the engine, with no marker of the import's
own left in the store."""

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
    export_document,
    import_context,
    import_items,
    read_json,
    read_owner_state,
)

INTERVIEW = datetime(2026, 12, 23, 21, tzinfo=UTC)  # Wed 16:00 in New York


def _source() -> Engine:
    """One application added on Wednesday evening: keep-looking nudges weekly from then."""
    engine = Engine(store=MemoryStore(), clock=FakeClock(INTERVIEW), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US", subdivision="NY",
                     digest="08:00", quiet_hours=["12:00-13:00"])
    engine.add_application(owner="ada", company="Acme", role="Engineer", id="acme",
                           facts={"interviewed_at": "2026-12-23T15:00"},
                           contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
    return engine


def _keep_looking(engine: Engine) -> list[tuple[str, datetime, int]]:
    return [(i.timer.key, i.timer.fire_at, i.timer.occurrence)
            for i in engine.agenda(owner="ada") if i.application is None]


def _import(target: Engine, doc: dict[str, object]) -> object:
    data = json.dumps(doc).encode()
    items = read_json(data, "ada.json", import_context(target, "ada"))
    return import_items(target, items, owner="ada",
                        owner_state=read_owner_state(data, "ada.json"))


def test_the_keep_looking_nudge_keeps_its_day_in_a_fresh_store() -> None:
    source = _source()
    [(_, wednesday, _)] = _keep_looking(source)
    assert wednesday == datetime(2026, 12, 30, 21, tzinfo=UTC)  # a week after, same hour
    doc = export_document(source, "ada")
    assert doc["owner_timers"] == [{"rule": "keep-looking",
                                    "at": "2026-12-30T16:00:00-05:00", "occurrence": 0}]

    # Imported two days later into a store that knows nothing of ada.
    target = Engine(store=MemoryStore(), clock=FakeClock(INTERVIEW + timedelta(days=2)),
                    channels=[])
    report = _import(target, doc)
    assert report.restored == ("settings", "keep-looking")  # type: ignore[attr-defined]
    assert _keep_looking(target) == _keep_looking(source)
    assert target.owner("ada") == source.owner("ada")
    assert target.timers("acme") == source.timers("acme")


def test_settings_already_there_win_and_the_difference_is_reported() -> None:
    doc = export_document(_source(), "ada")
    target = Engine(store=MemoryStore(), clock=FakeClock(INTERVIEW), channels=[])
    mine = target.set_owner("ada", timezone="Europe/Paris")
    report = _import(target, doc)
    assert target.owner("ada") == mine
    assert "settings" not in report.restored  # type: ignore[attr-defined]
    assert any("settings" in p and "kept" in p
               for p in report.problems)  # type: ignore[attr-defined]


def test_a_nudge_the_store_already_plans_is_kept() -> None:
    doc = export_document(_source(), "ada")
    clock = FakeClock(INTERVIEW + timedelta(days=2))
    target = Engine(store=MemoryStore(), clock=clock, channels=[])
    target.set_owner("ada", timezone="America/New_York", country="US")
    target.add_application(owner="ada", company="Globex", role="SRE")
    planned = _keep_looking(target)
    assert planned and planned[0][1] > datetime(2026, 12, 31, tzinfo=UTC)
    report = _import(target, doc)
    assert report.restored == ()  # type: ignore[attr-defined]
    assert _keep_looking(target) == planned


def test_an_import_leaves_no_marker_and_plans_through_the_engine() -> None:
    doc = export_document(_source(), "ada")
    target = Engine(store=MemoryStore(), clock=FakeClock(INTERVIEW), channels=[])
    _import(target, doc)
    # No re-plan marker of an application's (the engine's own marker, over the owner's
    # applications, may be there: replan_owner writes it when rules look at the others).
    assert [t.key for t in target.store.timers(owner="ada")
            if t.action == "replan" and t.application_id] == []
    assert [t.rule for t in target.timers("acme")] == [
        "ask-decision-date", "ask-for-referrals", "thank-you-notes", "follow-up-call"]


def test_an_import_cut_off_after_its_transaction_keeps_its_reminders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = export_document(_source(), "ada")
    target = Engine(store=MemoryStore(), clock=FakeClock(INTERVIEW), channels=[])

    def killed(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt  # the process stops after the records are committed

    monkeypatch.setattr(target, "replan_owner", killed)
    with pytest.raises(KeyboardInterrupt):
        _import(target, doc)
    # The reminders were planned and committed with the application, in one transaction.
    assert [t.rule for t in target.timers("acme")] == [
        "ask-decision-date", "ask-for-referrals", "thank-you-notes", "follow-up-call"]
    monkeypatch.undo()
    report = _import(target, doc)
    assert report.added == () and report.unchanged == ("acme",)  # type: ignore[attr-defined]
    assert [t.rule for t in target.timers("acme")] == [
        "ask-decision-date", "ask-for-referrals", "thank-you-notes", "follow-up-call"]
    assert len(_keep_looking(target)) == 1  # the owner's rules caught up on the second run


@pytest.mark.parametrize(("document", "problem"), [
    ({"settings": "UTC", "applications": []}, "'settings' must be an object"),
    ({"settings": {"timezone": 5}, "applications": []}, "timezone, country"),
    ({"owner_timers": [{"rule": "keep-looking", "at": "2027-01-06T15:00"}],
      "applications": []}, "with its offset"),
    ({"owner_timers": [{"at": "2027-01-06T15:00Z"}], "applications": []}, "expected"),
])
def test_owner_state_of_the_wrong_form_is_refused(document: object, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        read_owner_state(json.dumps(document).encode(), "ada.json")


def test_settings_that_cannot_be_used_are_refused_before_anything_is_written() -> None:
    doc = export_document(_source(), "ada")
    doc["settings"]["timezone"] = "Mars/Olympus"  # type: ignore[index]
    target = Engine(store=MemoryStore(), clock=FakeClock(INTERVIEW), channels=[])
    with pytest.raises(InputError, match="settings in the file cannot be used"):
        _import(target, doc)
    assert target.applications() == [] and target.store.get_owner("ada") is None


def test_a_list_of_applications_carries_no_owner_state() -> None:
    state = read_owner_state(b'[{"company": "Acme", "role": "Engineer"}]', "rows.json")
    assert state.settings is None and state.timers == ()
