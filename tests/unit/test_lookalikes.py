"""What the command line does with a look-alike contact (``followup.cli.lookalikes``)
and what ``import_items(same_people=...)`` does with two spellings in one row."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from followup import (
    Contact,
    Engine,
    FakeClock,
    ImportItem,
    MemoryStore,
    import_context,
    import_items,
    read_json,
)
from followup.cli._common import Usage
from followup.cli.lookalikes import decide, resolved
from followup.interop.names import LookAlike, look_alikes

JANE = Contact("Jane Doe", "interviewer", title="CTO")
CARD = Contact("Dr. Jane Q. Doe", "interviewer", email="jane@acme.example")


def test_a_choice_answers_every_look_alike() -> None:
    pairs = look_alikes([JANE], [CARD])
    [same] = decide(pairs, choice="same", where="on acme", asked=False)
    assert (same.same, same.rename) == (True, False)
    [renamed] = decide(pairs, choice="same", rename=True, where="on acme", asked=False)
    assert (renamed.same, renamed.rename) == (True, True)
    [other] = decide(pairs, choice="new", where="on acme", asked=False)
    assert not other.same
    assert decide([], choice=None, where="on acme", asked=False) == []


def test_without_a_terminal_or_a_choice_it_is_refused_with_the_options() -> None:
    with pytest.raises(Usage) as refused:
        decide(look_alikes([JANE], [CARD]), choice=None, where="on acme", asked=False)
    message = str(refused.value)
    assert message.startswith("'Dr. Jane Q. Doe' looks like 'Jane Doe' (interviewer), on acme")
    assert "--same" in message and "--new" in message
    with pytest.raises(Usage, match="--rename"):
        decide(look_alikes([JANE], [CARD]), choice="new", rename=True, where="", asked=False)


@pytest.mark.parametrize(("typed", "same", "rename"), [
    ("\n", True, False), ("y\n", True, False), ("YES\n", True, False),
    ("n\n", False, False), ("r\n", True, True), ("what?\nno\n", False, False),
])
def test_the_answers_on_a_terminal(monkeypatch: pytest.MonkeyPatch, typed: str, same: bool,
                                   rename: bool) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    monkeypatch.setattr("sys.stderr", shown := io.StringIO())
    [decision] = decide(look_alikes([JANE], [CARD]), choice=None, where="", asked=True)
    assert (decision.same, decision.rename) == (same, rename)
    assert shown.getvalue().startswith(
        "Dr. Jane Q. Doe looks like Jane Doe (interviewer): the same person? [Y/n/r] ")


def test_no_answer_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("perhaps\n"))  # then the end of input
    monkeypatch.setattr("sys.stderr", io.StringIO())
    with pytest.raises(Usage, match=re.escape("no answer whether 'Dr. Jane Q. Doe' is 'J")):
        decide(look_alikes([JANE], [CARD]), choice=None, where="", asked=True)


def test_new_spellings_come_together_and_may_take_the_new_name() -> None:
    ann, later = Contact("Ann Lee", "reference"), Contact("Ms. Ann Lee", "reference", title="CTO")
    decisions = decide(look_alikes([], [ann, later]), choice="same", rename=True, where="",
                       asked=False)
    assert resolved([ann, later], decisions) == [Contact("Ann Lee", "reference", title="CTO")]
    assert resolved([ann, later], decisions, rename=True) == [
        Contact("Ms. Ann Lee", "reference", title="CTO")]


def _rows(engine: Engine, contacts: list[dict[str, str]]) -> list[ImportItem]:
    rows = [{"company": "Initech", "role": "Engineer", "contacts": contacts,
             "facts": {"interviewed_at": "2026-12-23T15:00"}}]
    return read_json(json.dumps(rows).encode(), "rows.json", import_context(engine, "ada"))


def test_import_items_makes_one_contact_of_one_person_when_told() -> None:
    engine = Engine(store=MemoryStore(), clock=FakeClock(datetime(2026, 12, 24, 15, tzinfo=UTC)),
                    channels=[])
    engine.set_owner("ada", timezone="America/New_York")
    contacts = [{"name": "Ann Lee", "role": "interviewer"},
                {"name": "Dr. Ann Lee", "role": "interviewer", "title": "CTO"},
                {"name": "Bo Chen", "role": "interviewer"}]
    asked: list[list[LookAlike]] = []

    def same_people(item: object, pairs: Sequence[LookAlike]) -> list[bool]:
        asked.append(list(pairs))
        return [True] * len(pairs)

    report = import_items(engine, _rows(engine, contacts), owner="ada",
                          same_people=same_people)
    assert [(p.new.name, p.existing.name) for p in asked[0]] == [("Dr. Ann Lee", "Ann Lee")]
    [app_id] = report.added
    app = engine.application(app_id)
    assert [(c.name, c.title) for c in app.contacts] == [("Ann Lee", "CTO"), ("Bo Chen", "")]
    created = engine.history(app_id)[0]
    assert [c["name"] for c in created.data["contacts"]] == ["Ann Lee", "Bo Chen"]
    assert sorted(str(t.contact) for t in engine.timers(app_id)
                  if t.rule == "thank-you-notes") == ["Ann Lee", "Bo Chen"]

    # Without same_people, names stay as they are (the API matches names exactly).
    other = Engine(store=MemoryStore(), clock=engine.clock, channels=[])
    other.set_owner("ada", timezone="America/New_York")
    [kept] = import_items(other, _rows(other, contacts), owner="ada").added
    assert len(other.application(kept).contacts) == 3


def test_import_items_refuses_a_wrong_number_of_answers() -> None:
    engine = Engine(store=MemoryStore(), clock=FakeClock(datetime(2026, 12, 24, 15, tzinfo=UTC)),
                    channels=[])
    engine.set_owner("ada", timezone="America/New_York")
    items = _rows(engine, [{"name": "Ann Lee", "role": "interviewer"},
                           {"name": "ANN LEE", "role": "interviewer"}])
    with pytest.raises(ValueError, match="1 pairs"):
        import_items(engine, items, owner="ada", same_people=lambda item, pairs: [])
    assert engine.applications(owner="ada") == []
