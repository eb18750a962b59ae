"""An application whose history holds corrections (an edit, a contact renamed, merged or
removed, an archive, an undo, a snooze) exported and imported into a fresh SQLite file:
the same state, facts, contacts, history and timers after as before. And a history whose
corrections are not what the engine writes is refused, naming the entry."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import pytest

from followup import Contact, Engine, FakeClock, InputError, SQLiteStore
from followup.interop.readers import Context, read_csv, read_json
from followup.interop.transfer import (
    HISTORY_KINDS,
    csv_table,
    export_document,
    import_items,
    read_owner_state,
)
from followup.model import HistoryKind, Record

NY = "America/New_York"
# Wed 2026-12-23 15:00 in New York; the clock stands an hour later.
INTERVIEW = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)


def _engine(path: Path) -> Engine:
    engine = Engine(store=SQLiteStore(path), clock=FakeClock(INTERVIEW + timedelta(hours=1)),
                    channels=[])
    engine.set_owner("ada", timezone=NY, country="US")
    return engine


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Engine]:
    engine = _engine(tmp_path / "source.db")
    yield engine
    engine.close()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Engine]:
    engine = _engine(tmp_path / "target.db")
    yield engine
    engine.close()


def _add(engine: Engine) -> str:
    return engine.add_application(
        owner="ada", company="Acme", role="Engineer", id="acme",
        facts={"interviewed_at": INTERVIEW.isoformat()},
        contacts=[Contact("Jane Doe", "interviewer", title="CTO"),
                  Contact("Raj Patel", "interviewer", title="Lead")]).id


def _reminder(engine: Engine, app: str, rule: str, contact: str | None = None) -> str:
    return next(t.key for t in engine.timers(app) if t.action == "notify"
                and t.rule == rule and t.contact == contact)


def _edit(e: Engine, app: str) -> None:
    e.edit(app, company="Acme Corp", role="Staff Engineer",
           facts={"decision_expected_on": "2027-01-08"})


def _rename_thanked(e: Engine, app: str) -> None:
    e.record(app, "thank_you_sent", contact="Jane Doe")
    e.rename_contact(app, "Jane Doe", "Jane Smith")  # still thanked under her new name


def _rename_pending(e: Engine, app: str) -> None:
    e.rename_contact(app, "Raj Patel", "Rajesh Patel")  # his reminder, under his new name


def _merge(e: Engine, app: str) -> None:
    e.add_contact(app, Contact("J. Doe", "interviewer"))
    e.record(app, "thank_you_sent", contact="J. Doe")
    e.merge_contacts(app, "J. Doe", "Jane Doe")  # her thank-you counts for Jane Doe


def _remove(e: Engine, app: str) -> None:
    e.record(app, "thank_you_sent", contact="Raj Patel")
    e.remove_contact(app, "Raj Patel")  # an event about a contact no longer there


def _archive(e: Engine, app: str) -> None:
    e.archive(app)


def _unarchive(e: Engine, app: str) -> None:
    e.archive(app)
    e.unarchive(app)


def _undo_a_move(e: Engine, app: str) -> None:
    e.record(app, "called")
    e.undo(app)


def _undo_the_last_thank_you(e: Engine, app: str) -> None:
    e.record(app, "thank_you_sent", contact="Jane Doe")
    e.record(app, "thank_you_sent", contact="Raj Patel")  # all thanked: a move of the pack's
    e.undo(app)  # back to interviewed, the move dropped


def _undo_then_again(e: Engine, app: str) -> None:
    e.record(app, "called")
    e.undo(app)
    e.record(app, "called")


def _undo_a_rename(e: Engine, app: str) -> None:
    e.rename_contact(app, "Raj Patel", "Rajesh Patel")
    e.undo(app)


def _snooze(e: Engine, app: str) -> None:
    e.snooze(app, _reminder(e, app, "thank-you-notes", "Jane Doe"), by=timedelta(days=3))


def _snooze_then_rename(e: Engine, app: str) -> None:
    e.snooze(app, _reminder(e, app, "thank-you-notes", "Jane Doe"), by=timedelta(days=3))
    e.rename_contact(app, "Jane Doe", "Jane Smith")  # the reminder stays snoozed


CORRECTED: dict[str, Callable[[Engine, str], None]] = {
    f.__name__.lstrip("_"): f for f in (
        _edit, _rename_thanked, _rename_pending, _merge, _remove, _archive, _unarchive,
        _undo_a_move, _undo_the_last_thank_you, _undo_then_again, _undo_a_rename, _snooze,
        _snooze_then_rename)
}


def _context(engine: Engine) -> Context:
    return Context(pack=engine.pack, owner="ada", calendar=engine.calendar("ada"),
                   now=engine.clock.now())


def _kept(record: Record) -> tuple[Any, ...]:
    app = record.application
    return (app.state, app.company, app.role, app.facts, app.contacts, app.created_at,
            app.archived_at, record.history, record.timers)


def _json(engine: Engine) -> bytes:
    return json.dumps(export_document(engine, "ada")).encode()


@pytest.mark.parametrize("correction", list(CORRECTED))
def test_a_json_export_with_corrections_imports_with_the_same_plan(
    source: Engine, target: Engine, correction: str
) -> None:
    app = _add(source)
    CORRECTED[correction](source, app)
    kinds = {h.kind for h in source.history(app)}
    assert kinds & {"edit", "rename", "merge", "remove", "archive", "undo", "snooze"}
    data = _json(source)
    report = import_items(target, read_json(data, "all.json", _context(target)), owner="ada",
                          owner_state=read_owner_state(data, "all.json"))
    assert report.added == (app,)
    before, after = source.store.load(app), target.store.load(app)
    assert _kept(after) == _kept(before)
    # Imported again: the same application, left as it is.
    again = import_items(target, read_json(data, "all.json", _context(target)), owner="ada")
    assert again.unchanged == (app,) and target.store.load(app).timers == before.timers


@pytest.mark.parametrize("correction", list(CORRECTED))
def test_the_csv_tables_with_corrections_import_with_the_same_plan(
    source: Engine, target: Engine, correction: str
) -> None:
    app = _add(source)
    CORRECTED[correction](source, app)
    doc = export_document(source, "ada")
    tables = {t: csv_table(doc, t).encode() for t in ("applications", "contacts", "history")}
    items = read_csv(tables["applications"], "apps.csv", _context(target),
                     contacts=tables["contacts"], contacts_source="contacts.csv",
                     history=tables["history"], history_source="history.csv")
    import_items(target, items, owner="ada")
    assert _kept(target.store.load(app)) == _kept(source.store.load(app))


def test_what_each_correction_plans_is_what_the_import_plans(
    source: Engine, target: Engine
) -> None:
    """The timers a few corrections leave, said outright: a renamed contact's reminder
    under the new name, a snoozed one at its new time, an undone call's window back, an
    archived application planning nothing."""
    app = _add(source)
    _rename_pending(source, app)
    snoozed = _reminder(source, app, "thank-you-notes", "Jane Doe")
    was = next(t.fire_at for t in source.timers(app) if t.key == snoozed)
    source.snooze(app, snoozed, until=was + timedelta(days=2))
    _undo_a_move(source, app)
    source.add_application(owner="ada", company="Globex", role="SRE", id="globex",
                           facts={"interviewed_at": INTERVIEW.isoformat()})
    source.archive("globex")
    data = _json(source)
    import_items(target, read_json(data, "all.json", _context(target)), owner="ada",
                 owner_state=read_owner_state(data, "all.json"))
    notes = {t.contact: t.fire_at for t in target.timers(app) if t.rule == "thank-you-notes"}
    assert set(notes) == {"Jane Doe", "Rajesh Patel"}
    assert notes["Jane Doe"] >= was + timedelta(days=2)
    assert [t.rule for t in target.timers(app)].count("follow-up-call") == 1
    assert target.timers(app) == source.timers(app)
    assert target.timers("globex") == []
    assert target.store.load("globex").application.archived_at is not None


# -- refusals -------------------------------------------------------------------------


def _doc(history: list[dict[str, Any]], state: str = "interviewed",
         contacts: tuple[str, ...] = ("Jane Doe",)) -> bytes:
    return json.dumps({"applications": [{
        "id": "x", "company": "Acme", "role": "Engineer", "state": state,
        "facts": {"interviewed_at": "2026-12-23T15:00:00-05:00"},
        "contacts": [{"name": n, "role": "interviewer"} for n in contacts],
        "history": history}]}, indent=2).encode()


def _h(seq: int, kind: str, name: str | None = None, frm: str | None = None,
       to: str | None = None, contact: str | None = None,
       data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"seq": seq, "at": "2026-12-23T15:00:00-05:00", "kind": kind, "name": name or kind,
            "from": frm, "to": to, "contact": contact, "data": data or {}}


CREATED = _h(0, "created", to="interviewed",
             data={"contacts": [{"name": "Jane Doe", "role": "interviewer"}]})
CALLED = _h(1, "event", "called", "interviewed", "followed_up")
JANE = {"name": "Jane Doe", "role": "interviewer"}


def test_a_history_written_by_hand_with_corrections_is_read_as_the_engine_reads_it(
    target: Engine,
) -> None:
    history = [CREATED, CALLED,
               _h(2, "undo", "called", "followed_up", "interviewed", data={"undone": 1}),
               _h(3, "event", "thank_you_sent", "interviewed", contact="Jane Doe"),
               _h(4, "rename", data={"from": "Jane Doe", "to": "Jane Smith", "contact": JANE}),
               _h(5, "edit", data={"old": {"role": "Engineer"}, "new": {"role": "Lead"}})]
    items = read_json(_doc(history, contacts=("Jane Smith",)), "ok.json", _context(target))
    assert import_items(target, items, owner="ada").added == ("x",)
    assert [h.kind for h in target.history("x")] == [
        "created", "event", "undo", "event", "rename", "edit"]
    # The call undone: its window is planned; Jane Smith was thanked as Jane Doe.
    rules = {(t.rule, t.contact) for t in target.timers("x")}
    assert ("follow-up-call", None) in rules
    assert not {r for r in rules if r[0] == "thank-you-notes"}


@pytest.mark.parametrize(
    ("history", "state", "problem"),
    [
        ([CREATED, _h(1, "event", "thank_you_sent", "interviewed", contact="Nobody")],
         "interviewed", "'Nobody' is not among the application's contacts (Jane Doe)"),
        ([CREATED, CALLED, _h(2, "undo", "called", "followed_up", "thanked",
                              data={"undone": 1})],
         "thanked", "history entry 2: undoing entry 1 moves the application from "
         "followed_up to interviewed; here it goes from followed_up to thanked"),
        ([CREATED, CALLED, _h(2, "undo", "called", data={"undone": 1})], "followed_up",
         "undoing entry 1 moves the application from followed_up to interviewed; here it "
         "goes from None to None"),
        ([CREATED, CALLED, _h(2, "facts", data={"facts": {"why_me": "x"}}),
          _h(3, "undo", "called", "followed_up", "interviewed", data={"undone": 1})],
         "interviewed", "history entry 3: it undoes entry 1, but an undo takes back the "
         "latest entry a person made that is not undone already: entry 2 (facts 'facts')"),
        ([CREATED, _h(1, "undo", "created", data={"undone": 0})], "interviewed",
         "it undoes entry 0, but an undo takes back the latest entry a person made that is "
         "not undone already: none is left"),
        ([CREATED, CALLED, _h(2, "undo", "called", "followed_up", "interviewed",
                              data={"undone": 1, "dropped": [1]})],
         "interviewed", "undoing entry 1 drops no entry (the rules' own moves after it), "
         "but its data says 'dropped': [1]"),
        ([CREATED, _h(1, "undo", "called", data={"undone": "1"})], "interviewed",
         "history entry 1: an 'undo' entry keeps 'undone' in its data as a whole number, "
         "not '1'"),
        ([CREATED, _h(1, "rename", data={"from": "Jane Doe", "contact": JANE})],
         "interviewed", "a 'rename' entry keeps 'to' in its data as text, not None"),
        ([CREATED, _h(1, "merge", data={"from": "Jane Doe", "to": "J", "contact": JANE,
                                        "into": {"name": "J"}, "merged": JANE})],
         "interviewed", "a 'merge' entry keeps 'into' in its data as a contact object"),
        ([CREATED, _h(1, "remove", contact="Raj", data={"contact": JANE})], "interviewed",
         "a 'remove' entry names the contact it removed, as in its data ('Jane Doe'), not "
         "'Raj'"),
        ([CREATED, _h(1, "snooze", "thank-you-notes", contact="Jane Doe",
                      data={"cycle": 0, "occurrence": 0, "until": "soon"})],
         "interviewed", "a 'snooze' entry keeps 'until' in its data as a time with its "
         "offset"),
        ([CREATED, _h(1, "edit", data={"old": {"colour": "red"}, "new": {}})], "interviewed",
         "an 'edit' entry keeps 'old' in its data as an object of company and role as text"),
        ([CREATED, _h(1, "notified", "thank-you-notes", contact="Jane Doe",
                      data={"occurrence": 0})],
         "interviewed", "history entry 1: a 'notified' entry keeps 'cycle' in its data as "
         "a whole number, not None"),
        ([CREATED, _h(1, "archive", data={"was": "yesterday"})], "interviewed",
         "an 'archive' entry keeps 'was' in its data as null or a time"),
        ([CREATED, _h(1, "archive", to="keep_warm")], "keep_warm",
         "an 'archive' entry moves no application"),
    ],
)
def test_a_correction_the_engine_would_not_have_written_is_refused(
    target: Engine, history: list[dict[str, Any]], state: str, problem: str
) -> None:
    items = read_json(_doc(history, state), "bad.json", _context(target))
    with pytest.raises(InputError) as caught:
        import_items(target, items, owner="ada")
    assert problem in str(caught.value)
    assert str(caught.value).startswith("bad.json:")
    assert target.store.applications(owner="ada", archived=None) == []


def test_every_kind_the_engine_writes_is_read_and_named_when_one_is_not(
    target: Engine,
) -> None:
    assert get_args(HistoryKind) == HISTORY_KINDS
    bad = _doc([CREATED, _h(1, "rewind")])
    with pytest.raises(InputError) as caught:
        read_json(bad, "bad.json", _context(target))
    assert f"must be one of {', '.join(get_args(HistoryKind))}, not 'rewind'" in str(
        caught.value)


def test_an_archive_the_history_takes_back_and_the_file_keeps_is_refused(
    target: Engine,
) -> None:
    history = [CREATED, _h(1, "archive", data={"was": None}),
               _h(2, "unarchive", data={"was": "2026-12-23T15:00:00-05:00"})]
    doc = json.loads(_doc(history))
    doc["applications"][0]["archived_at"] = "2026-12-23T15:00:00-05:00"
    items = read_json(json.dumps(doc).encode(), "bad.json", _context(target))
    with pytest.raises(InputError, match=r"^bad\.json:1: application 'x' is archived, but the "
                       r"last of its history's archive entries in effect \(entry 2\) is an "
                       r"'unarchive'"):
        import_items(target, items, owner="ada")
    # Without archived_at (a CSV table has no column for it), the history says.
    del doc["applications"][0]["archived_at"]
    history[2:] = []
    doc["applications"][0]["history"] = history
    items = read_json(json.dumps(doc).encode(), "ok.json", _context(target))
    import_items(target, items, owner="ada")
    assert target.store.load("x").application.archived_at == INTERVIEW
    assert target.timers("x") == []
