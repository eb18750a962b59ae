"""Every store keeps and refuses the same text: names up to their limit (in any script,
with the characters that a timer key escapes), free text up to its limit, and nothing
with a NUL or a lone surrogate; through the engine, the same refusals come before any
store is touched. (Issue 14: a 10 MB company was kept, a 3,000-character name broke
PostgreSQL's index, a NUL passed SQLite and broke PostgreSQL.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from followup import Engine, FakeClock, limits
from followup.errors import InputError
from followup.limits import (
    CONTACTS_MAX,
    FACTS_MAX,
    ID_MAX,
    NAME_MAX,
    TEXT_MAX,
    check_application,
)
from followup.model import Change, Contact, FrozenDict, HistoryEntry, Owner, replaced
from followup.store import Store
from tests.integration.test_store_contract import application

NOW = datetime(2026, 12, 23, 20, tzinfo=UTC)

# The longest names, in their worst form: characters that a timer key writes as %XX
# (6 bytes each in UTF-8: a C1 control), and four-byte characters.
WORST_ID = "\x9f" * ID_MAX
WORST_NAMES = ["\x9f" * NAME_MAX, "\U0001D504" * NAME_MAX, "王" * NAME_MAX, "/%" * (NAME_MAX // 2)]


def engine_on(store: Store) -> Engine:
    return Engine(store=store, clock=FakeClock(NOW), channels=[])


@pytest.mark.parametrize("name", WORST_NAMES, ids=["c1", "astral", "cjk", "escaped"])
def test_a_name_at_its_limit_is_kept_by_every_store_with_its_timers(
        store: Store, name: str) -> None:
    engine = engine_on(store)
    outcome = engine.add(owner=WORST_ID, id=WORST_ID, company=name, role=name,
                         facts={"interviewed_at": "2026-12-23T15:00:00+00:00",
                                "why_me": "x" * TEXT_MAX},
                         contacts=[Contact(name=name, role="interviewer", title=name)])
    assert any(t.contact == name for t in outcome.armed)  # its key holds the name
    engine.log(WORST_ID, event="thank_you_sent", contact=name, owner=WORST_ID)
    record = store.load(WORST_ID, owner=WORST_ID)
    assert record.application.company == name
    assert record.application.contacts[0].name == name
    assert record.application.facts["why_me"] == "x" * TEXT_MAX
    engine.run_due(datetime(2027, 6, 1, tzinfo=UTC))


def _refused(store: Store, **fields: Any) -> str:
    """What committing an application with ``fields`` says; checks it changed nothing."""
    with pytest.raises(InputError) as caught:
        store.commit(Change(application(**fields), None))
    assert store.applications() == []
    return str(caught.value)


def test_every_store_refuses_text_past_its_limit_with_the_same_message(store: Store) -> None:
    message = _refused(store, company="x" * 10_000_000)
    assert message == ("application 'a1': the company 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                       "...' is 10,000,000 characters long; at most 200 are kept: shorten it")
    assert "at most 200" in _refused(store, company="x" * (NAME_MAX + 1))
    assert "at most 10,000" in _refused(store, facts={"why_me": "x" * (TEXT_MAX + 1)})
    assert "at most 100 are kept" in _refused(store, owner="o" * (ID_MAX + 1))
    assert "at most 200 are kept" in _refused(
        store, contacts=(Contact(name="n" * 3000, role="interviewer"),))
    assert "at most 100 are kept on one application" in _refused(
        store, facts={f"f{i}": "x" for i in range(FACTS_MAX + 1)})
    assert "at most 200 are kept on one application" in _refused(
        store, contacts=tuple(Contact(name=f"n{i}", role="interviewer")
                              for i in range(CONTACTS_MAX + 1)))


@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b", "\udcff"], ids=["nul", "surrogate",
                                                                        "argv-byte"])
def test_every_store_refuses_a_nul_or_a_lone_surrogate_alike(store: Store, bad: str) -> None:
    for fields in ({"company": bad}, {"facts": {"why_me": bad}},
                   {"contacts": (Contact(name=bad, role="interviewer"),)},
                   {"contacts": (Contact(name="Jo", role="interviewer", note=bad),)}):
        message = _refused(store, **fields)
        assert ("NUL" in message) if "\x00" in bad else ("not a character" in message)
    with pytest.raises(InputError, match="NUL" if "\x00" in bad else "not a character"):
        store.put_owner(Owner(id=bad))
    assert store.get_owner("ada") is None


def test_looking_up_a_name_that_is_not_text_is_a_clear_error(store: Store) -> None:
    # Not found (memory), or not text that a database can be asked about.
    with pytest.raises(InputError, match=r"no application|not a character"):
        store.load("a\udcff")


def test_the_engine_refuses_before_the_store_sees_anything(store: Store) -> None:
    engine = engine_on(store)
    with pytest.raises(InputError, match=r"the company .* 10,000,000 characters"):
        engine.add(owner="ada", company="x" * 10_000_000, role="Engineer")
    with pytest.raises(InputError, match=r"the fact .why_me. .*NUL"):
        engine.add(owner="ada", company="Acme", role="Engineer", facts={"why_me": "\x00"})
    app = engine.add_application(owner="ada", company="Acme", role="Engineer", id="a1")
    with pytest.raises(InputError, match=r"the event .* characters long"):
        engine.log("a1", event="x" * 100_000)
    with pytest.raises(InputError, match=r"the idempotency key .* at most 100"):
        engine.log("a1", event="called", key="k" * 101)
    with pytest.raises(InputError, match=r"a contact.s name .*not a character"):
        engine.log("a1", contacts=[Contact(name="\ud800", role="interviewer")])
    with pytest.raises(InputError, match=r"owner .ada..s timezone .* characters long"):
        engine.set_owner("ada", timezone="Europe/" + "x" * 1000)
    with pytest.raises(InputError, match="fact 'decision_expected_on': 9999-12-31 is outside"):
        engine.log("a1", facts={"decision_expected_on": "9999-12-31"})
    with pytest.raises(InputError, match="the time of the event: 9999-12-31 is outside"):
        engine.log("a1", event="called", at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    assert store.load("a1").application == app


def test_every_store_refuses_a_time_past_the_calendar(store: Store) -> None:
    """What an import may bring: a creation or a history entry in the year 9999."""
    far = datetime(9999, 12, 31, tzinfo=UTC)
    assert "the time it was created: 9999-12-31 is outside" in _refused(store, created_at=far)
    with pytest.raises(InputError, match=r"history entry 0 .*its time: 9999-12-31 is outside"):
        store.commit(Change(application(), None, history=(
            HistoryEntry("a1", 0, far, "created", "created", to_state="interviewed"),)))
    assert store.applications() == []


@pytest.mark.parametrize(("field", "value", "said"), [
    ("name", "e" * (TEXT_MAX + 1), r"its name .* at most 10,000"),
    ("contact", "Jane\x00Doe", r"its contact .* holds a NUL"),
    ("key", "k\ud800", r"its key .* U\+D800, which is not a character"),
    ("to_state", "s" * (TEXT_MAX + 1), r"its to state .* characters long"),
])
def test_every_store_refuses_a_history_entry_whose_text_it_cannot_keep(
        store: Store, field: str, value: str, said: str) -> None:
    """What an import may bring: a history entry's own texts, each checked and named."""
    entry = HistoryEntry("a1", 0, NOW, "created", "created", to_state="interviewed")
    with pytest.raises(InputError, match=r"history entry 0 of application 'a1': " + said):
        store.commit(Change(application(), None, history=(replaced(entry, **{field: value}),)))
    assert store.applications() == []


def test_contacts_read_again_are_the_same_and_a_changed_one_is_still_checked(
        store: Store) -> None:
    # A store hands the very same contacts back for an application read twice (they are
    # immutable), and the check of texts knows contacts it passed; a contact made too
    # long afterwards, in a new tuple or a list, is refused all the same.
    jane = Contact(name="Jane", role="interviewer")
    store.commit(Change(application(contacts=(jane,)), None))
    first = store.load("a1").application
    again = store.load("a1").application
    assert first.contacts == (jane,)
    assert again.contacts is first.contacts
    long = Contact(name="x" * (NAME_MAX + 1), role="interviewer")
    for contacts in ((*first.contacts, long), [*first.contacts, long]):
        with pytest.raises(InputError, match=f"is {NAME_MAX + 1:,} characters long"):
            check_application(replaced(first, contacts=contacts))
    check_application(first)  # passed, remembered, still passing
    assert isinstance(first.facts, FrozenDict)
    bad = FrozenDict({**first.facts, "why_me": "x" * (TEXT_MAX + 1)})
    with pytest.raises(InputError, match=f"is {TEXT_MAX + 1:,} characters long"):
        check_application(replaced(first, facts=bad))


def test_the_memory_of_what_passed_holds_at_most_its_bound(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "_PASSED", {})
    base = application()
    made = [(Contact(name=f"c{i}", role="interviewer"),) for i in range(4100)]
    sizes = []
    for contacts in made:
        check_application(replaced(base, contacts=contacts))
        sizes.append(len(limits._PASSED))
    # base's facts and each new tuple of contacts; full at 4,096, then begun again.
    assert sizes[:3] == [2, 3, 4] and max(sizes) == 4096
    assert sizes[4094:4098] == [4096, 1, 3, 4]
