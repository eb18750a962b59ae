"""Applications, contacts and history exported and imported: all or nothing, and a history
that must be a path through the rule pack's machine."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from followup import Contact, Engine, FakeClock, InputError, MemoryStore, SQLiteStore
from followup.interop.readers import MAX_CELL, Context, read_csv, read_json
from followup.interop.transfer import (
    csv_table,
    export_document,
    import_items,
    path_to,
    read_owner_state,
)
from followup.model import Application, Change, replaced

NOW = datetime(2027, 2, 1, 15, tzinfo=UTC)


def _engine() -> Engine:
    engine = Engine(store=MemoryStore(), clock=FakeClock(NOW), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    return engine


@pytest.fixture
def source() -> Iterator[Engine]:
    """An engine whose store holds two applications with some history."""
    engine = _engine()
    clock = engine.clock
    assert isinstance(clock, FakeClock)
    clock.set(datetime(2026, 12, 23, 21, tzinfo=UTC))
    engine.add_application(
        owner="ada", company="Acme", role="Engineer", id="acme",
        facts={"interviewed_at": "2026-12-23T15:00", "decision_expected_on": "2027-01-08"},
        contacts=[Contact("Jane Doe", "interviewer", title="Manager",
                          organization=("Acme, Inc.", "Platform"), note="met, twice"),
                  Contact("Ann Lee", "reference")])
    engine.record("acme", "thank_you_sent", contact="Jane Doe",
                  at=datetime(2026, 12, 24, 15, tzinfo=UTC))
    engine.record("acme", "called", at=datetime(2026, 12, 29, 16, tzinfo=UTC))
    engine.add_application(owner="ada", company="Globex", role="SRE", id="globex",
                           facts={"interviewed_at": "2027-01-05T10:00"})
    engine.record("globex", "rejected", at=datetime(2027, 1, 12, 15, tzinfo=UTC))
    clock.set(NOW)
    engine.run_due()  # fires what came due: notified entries and keep_warm
    yield engine


def _context(engine: Engine) -> Context:
    return Context(pack=engine.pack, owner="ada", calendar=engine.calendar("ada"), now=NOW)


def _without_stamp(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "exported_at"}


def test_json_export_then_import_gives_the_same_applications_and_history(
    source: Engine,
) -> None:
    doc = export_document(source, "ada")
    assert {a["state"] for a in doc["applications"]} == {"followed_up", "keep_warm"}
    kinds = {h["kind"] for a in doc["applications"] for h in a["history"]}
    assert {"created", "event", "transition", "notified"} <= kinds
    target = _engine()
    data = json.dumps(doc).encode()
    items = read_json(data, "all.json", _context(target))
    report = import_items(target, items, owner="ada",
                          owner_state=read_owner_state(data, "all.json"))
    assert report.added == ("acme", "globex")
    assert _without_stamp(export_document(target, "ada")) == _without_stamp(doc)
    # Timers are derived: the imported applications plan what the originals planned.
    for app_id in ("acme", "globex"):
        assert target.timers(app_id) == source.timers(app_id)


def test_an_archived_application_is_exported_and_imported_archived(source: Engine) -> None:
    record = source.store.load("globex")
    source.store.commit(Change(replaced(record.application, archived_at=NOW),
                               record.application.version,
                               timers_removed=tuple(t.key for t in record.timers)))
    doc = export_document(source, "ada")
    assert [(a["id"], a["archived_at"]) for a in doc["applications"]] == [
        ("acme", None), ("globex", "2027-02-01T10:00:00-05:00")]
    target = _engine()
    data = json.dumps(doc).encode()
    report = import_items(target, read_json(data, "all.json", _context(target)), owner="ada",
                          owner_state=read_owner_state(data, "all.json"))
    assert report.added == ("acme", "globex")
    assert _without_stamp(export_document(target, "ada")) == _without_stamp(doc)
    assert target.store.load("globex").application.archived_at == NOW
    assert target.timers("globex") == []  # kept, and planned no more
    assert [a.id for a in target.applications(owner="ada")] == ["acme"]
    again = import_items(target, read_json(data, "all.json", _context(target)), owner="ada")
    assert again.unchanged == ("acme", "globex") and target.timers("globex") == []


def test_csv_export_then_import_gives_the_same_applications_and_history(
    source: Engine,
) -> None:
    doc = export_document(source, "ada")
    tables = {t: csv_table(doc, t).encode() for t in ("applications", "contacts", "history")}
    target = _engine()
    items = read_csv(tables["applications"], "apps.csv", _context(target),
                     contacts=tables["contacts"], contacts_source="contacts.csv",
                     history=tables["history"], history_source="history.csv")
    import_items(target, items, owner="ada")
    # The CSV tables carry no owner-level state: the weekly nudge starts from the import.
    after = _without_stamp(export_document(target, "ada"))
    assert after.pop("owner_timers") and _without_stamp(doc).pop("owner_timers")
    assert after == {k: v for k, v in _without_stamp(doc).items() if k != "owner_timers"}
    again = import_items(target, items, owner="ada")  # a second run changes nothing
    assert again.added == () and again.unchanged == ("acme", "globex")


def test_a_tracker_row_gets_a_history_that_reaches_its_state() -> None:
    engine = _engine()
    rows = (b"Company,Job Title,List,Date Applied\n"
            b"Globex,Engineer,Offer,12/01/2026\n"
            b"Hooli,SRE,Not Selected,2026-11-02\n"
            b"Initech,PM,Wishlist,\n")
    items = read_csv(rows, "huntr.csv", _context(engine), preset="huntr")
    import_items(engine, items, owner="ada")
    apps = {a.company: a for a in engine.applications(owner="ada")}
    assert {c: a.state for c, a in apps.items()} == {
        "Globex": "offer", "Hooli": "rejected", "Initech": "interviewed"}
    globex = engine.history(apps["Globex"].id)
    assert [(h.kind, h.name, h.to_state) for h in globex] == [
        ("created", "created", "interviewed"), ("event", "offer_received", "offer")]
    assert globex[0].at == datetime(2026, 12, 1, 5, tzinfo=UTC)  # midnight in New York


def test_the_shortest_path_uses_the_packs_own_moves() -> None:
    pack = _engine().pack
    assert path_to(pack, "keep_warm") == [("event", "rejected", "interviewed", "rejected"),
                                          ("transition", "keep-warm", "rejected", "keep_warm")]
    assert path_to(pack, "interviewed") == []


def _history_doc(history: list[dict[str, Any]], state: str = "followed_up") -> bytes:
    return json.dumps({"applications": [{
        "id": "x", "company": "Acme", "role": "Engineer", "state": state,
        "contacts": [{"name": "Jane Doe", "role": "interviewer"}], "history": history,
    }]}, indent=2).encode()


def _h(seq: int, kind: str, name: str, frm: str | None = None, to: str | None = None,
       contact: str | None = None) -> dict[str, Any]:
    return {"seq": seq, "at": "2026-12-23T15:00:00-05:00", "kind": kind, "name": name,
            "from": frm, "to": to, "contact": contact}


CREATED = _h(0, "created", "created", to="interviewed")


@pytest.mark.parametrize(
    ("history", "state", "problem"),
    [
        ([CREATED, _h(1, "event", "offer_received", "interviewed", "offer"),
          _h(2, "event", "called", "offer", "followed_up")], "followed_up",
         "history entry 2: 'called' cannot be recorded in state 'offer'"),
        ([CREATED, _h(1, "event", "called", "thanked", "followed_up")], "followed_up",
         "'called' is recorded from state 'thanked', but the entries before it leave the "
         "application in 'interviewed'"),
        ([CREATED, _h(1, "event", "waved", "interviewed")], "interviewed",
         "unknown event 'waved'"),
        ([CREATED, _h(1, "event", "called", "interviewed", "offer")], "offer",
         "'called' in state 'interviewed' moves to followed_up, not 'offer'"),
        ([CREATED, _h(1, "event", "thank_you_sent", "interviewed", contact="Raj")],
         "interviewed", "'thank_you_sent' is about one contact, and 'Raj' is not among"),
        ([CREATED, _h(1, "transition", "keep-warm", "interviewed", "keep_warm")], "keep_warm",
         "the move 'keep-warm' goes from rejected to keep_warm"),
        ([CREATED, _h(1, "event", "called", "interviewed", "followed_up")], "offer",
         "application 'x' is in state 'offer', but its history ends in 'followed_up'"),
        ([CREATED, _h(3, "event", "called", "interviewed", "followed_up")], "followed_up",
         "its seq is 3; entries are numbered 0, 1, 2"),
        ([_h(0, "event", "called", "interviewed", "followed_up")], "followed_up",
         "must start with a 'created' entry"),
        ([CREATED, _h(1, "facts", "facts", to="offer")], "offer",
         "a 'facts' entry moves no application"),
    ],
)
def test_a_history_that_is_no_path_through_the_machine_is_refused(
    history: list[dict[str, Any]], state: str, problem: str
) -> None:
    engine = _engine()
    items = read_json(_history_doc(history, state), "bad.json", _context(engine))
    with pytest.raises(InputError) as caught:
        import_items(engine, items, owner="ada")
    assert problem in str(caught.value)
    assert str(caught.value).startswith("bad.json:")
    assert engine.applications(owner="ada") == []


def test_the_error_names_the_line_of_the_history_entry() -> None:
    engine = _engine()
    bad = _history_doc([CREATED, _h(1, "event", "waved", "interviewed")], "interviewed")
    items = read_json(bad, "bad.json", _context(engine))
    with pytest.raises(InputError) as caught:
        import_items(engine, items, owner="ada")
    line = bad.decode().splitlines().index('          "seq": 1,')  # 0-based: the '{' above
    assert str(caught.value).startswith(f"bad.json:{line}: application 'x', history entry 1")


def test_one_bad_application_and_nothing_is_written() -> None:
    engine = _engine()
    good = {"company": "Acme", "role": "Engineer"}
    bad = {"company": "Globex", "role": "SRE", "contacts": [{"name": "Bo", "role": "boss"}]}
    items = read_json(json.dumps([good, good | {"company": "Hooli"}, bad]).encode(),
                      "apps.json", _context(engine))
    with pytest.raises(InputError, match=r"apps\.json:1: contact 'Bo' has the unknown role"):
        import_items(engine, items, owner="ada")
    assert engine.applications(owner="ada") == []


def test_an_id_taken_by_a_different_application_is_refused(source: Engine) -> None:
    items = read_json(b'[{"id": "acme", "company": "Other", "role": "Chef"}]', "a.json",
                      _context(source))
    with pytest.raises(InputError, match=r"a\.json:1: an application with the id 'acme' is "
                       "already in the store, and differs"):
        import_items(source, items, owner="ada")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'[{"company": "Acme", "role": "Engineer"},\n {"company": "Globex"', "a.json:2:"),
        (b'[{"company": "Acme", "role": "Engineer"}', "a.json:1:41: expected ',' or ']'; "
         "the file is truncated"),
        (b'[{"company": "Acme" "role": "x"}]', "a.json:1:21: expected ',' or '}'"),
        (b'[\n{"company": "Acme", "role": "Engineer"},\n{"company": "Globex"}]',
         "a.json:3: the application has no role"),
        (b'[{"company": "Acme", "role": "Engineer", "colour": "red"}]',
         "a.json:1: unknown field 'colour'"),
        (b'{"applications": {"company": "Acme"}}', "a.json:1: expected a list of applications"),
        (b'[{"company": "Acme", "role": "E", "facts": {"interviewed_at": "soon"}}]',
         "a.json:1: fact 'interviewed_at' must be a date and time"),
        (b'[{"company": "Acme", "role": "E", "state": "hired"}]',
         "a.json:1: 'hired' is not a state of the pack"),
        (b'\xff\xfe[', "a.json:1: byte 0xff is not UTF-8"),
        (b'[{"company": "' + b"x" * (MAX_CELL + 1) + b'", "role": "E"}]',
         f"a.json:1:14: a text of {MAX_CELL + 1} characters"),
        (b'[' * 40, "nested more than 32 deep"),
        (b'[{"company": NaN}]', "NaN is not a JSON number"),
    ],
)
def test_malformed_json_names_the_line_and_the_problem(data: bytes, problem: str) -> None:
    engine = _engine()
    with pytest.raises(InputError) as caught:
        import_items(engine, read_json(data, "a.json", _context(engine)), owner="ada")
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"company,role\nAcme,Engineer\nGlobex,SRE,extra\n",
         "a.csv:3: 3 fields, but the header has 2 (company, role)"),
        (b'company,role\nAcme,"Engineer\nGlobex,SRE\n',
         "a.csv:2: not valid CSV: unexpected end of data: a quoted field in this row is never "
             "closed"),
        (b"company,role\nAcme,Eng\xe9nieur\n", "a.csv:2: byte 0xe9 is not UTF-8"),
        (b"company,colour\nAcme,Engineer\n", "a.csv:1: no column holds the role"),
        (b"", "a.csv:1: the file is empty"),
        (b"company,role,status\nAcme,Engineer,Ghosted\n",
         "a.csv:2: 'Ghosted' is not a state of the pack"),
        (b"company,role,date applied\nAcme,Engineer,last week\n",
         "a.csv:2: created_at 'last week' is not a date and time"),
        (b"company,role\nAcme," + b"x" * (MAX_CELL + 1) + b"\n",
         f"a.csv:2: field 2 is {MAX_CELL + 1} characters long"),
        (b"company,role\n" + b"x" * 200_000 + b",y\n", "a.csv:2: not valid CSV: field larger"),
    ],
)
def test_malformed_csv_names_the_line_and_the_problem(data: bytes, problem: str) -> None:
    engine = _engine()
    with pytest.raises(InputError) as caught:
        import_items(engine, read_csv(data, "a.csv", _context(engine)), owner="ada")
    assert problem in str(caught.value)
    assert engine.applications(owner="ada") == []


def test_a_column_mapping_and_statuses_added_by_hand() -> None:
    engine = _engine()
    data = b"Employer,Job,Stage,Met\nAcme,Engineer,Phone screen,Jane Doe\n"
    ctx = Context(pack=engine.pack, owner="ada", calendar=engine.calendar("ada"), now=NOW,
                  contact_role="interviewer", statuses={"phone screen": "interviewed"})
    items = read_csv(data, "a.csv", ctx, preset="spreadsheet",
                     mapping={"Employer": "company", "Job": "role", "Met": "contact"})
    import_items(engine, items, owner="ada")
    (app,) = engine.applications(owner="ada")
    assert (app.company, app.role, app.state) == ("Acme", "Engineer", "interviewed")
    assert app.contacts == (Contact("Jane Doe", "interviewer"),)
    with pytest.raises(InputError, match="--map names the column 'Nope'"):
        read_csv(data, "a.csv", ctx, mapping={"Nope": "company"})
    with pytest.raises(InputError, match="'colour' is not a field"):
        read_csv(data, "a.csv", ctx, mapping={"Job": "colour"})


def test_progress_is_reported_as_work_goes_on(source: Engine) -> None:
    seen: list[tuple[int, int]] = []
    doc = export_document(source, "ada", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]
    target = _engine()
    seen.clear()
    import_items(target, read_json(json.dumps(doc).encode(), "a.json", _context(target)),
                 owner="ada", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]


def test_a_row_without_dates_imports_again_as_unchanged() -> None:
    engine = _engine()
    data = b"company,role\nAcme,Engineer\n"
    import_items(engine, read_csv(data, "a.csv", _context(engine)), owner="ada")
    clock = engine.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(days=1))
    later = Context(engine.pack, "ada", engine.calendar("ada"), NOW + timedelta(days=1))
    report = import_items(engine, read_csv(data, "a.csv", later), owner="ada")
    assert report.added == () and len(report.unchanged) == 1


def test_the_import_is_one_transaction_on_sqlite(tmp_path: Path) -> None:
    """Another writer adds the second application just before the import writes: the
    store refuses the batch whole, and the first application is not written either."""
    store = SQLiteStore(tmp_path / "followup.db")
    engine = Engine(store=store, clock=FakeClock(NOW), channels=[])
    engine.set_owner("ada", timezone="America/New_York")
    rows = b'[{"id": "a", "company": "Acme", "role": "E"}, {"id": "b", "company": "B", "role": "E"}]'
    items = read_json(rows, "a.json", _context(engine))
    real = store.commit_many

    def racing(changes: Sequence[Change]) -> list[Application]:
        real([changes[1]])  # the other writer's application "b"
        return real(changes)

    store.commit_many = racing  # type: ignore[method-assign]
    with pytest.raises(InputError, match="nothing was imported: run the import again"):
        import_items(engine, items, owner="ada")
    store.commit_many = real  # type: ignore[method-assign]
    assert [a.id for a in engine.applications(owner="ada")] == ["b"]
    engine.close()
