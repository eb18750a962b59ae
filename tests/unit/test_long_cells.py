"""A long cell counts only in a column the import reads: Huntr's camelCase export with a
50,000-character ``htmlDescription`` (no preset reads it) imports, and the long text is
kept nowhere; a long cell in a column that is read is still refused, naming it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from followup import Engine, FakeClock, InputError, MemoryStore
from followup.interop.readers import MAX_CELL, Context, read_csv
from followup.interop.transfer import import_items

EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
NOW = datetime(2027, 2, 1, 15, tzinfo=UTC)
LONG = "<p>" + "Ship it. " * 5555 + "</p>"  # 50,002 characters


def _engine() -> Engine:
    engine = Engine(store=MemoryStore(), clock=FakeClock(NOW), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    return engine


def _context(engine: Engine) -> Context:
    return Context(pack=engine.pack, owner="ada", calendar=engine.calendar("ada"), now=NOW)


def _huntr_with_long_description() -> bytes:
    """The camelCase fixture with a third row whose description is 50,000 characters."""
    head = (EXPORTS / "huntr_camel.csv").read_text(encoding="utf-8")
    row = f'6571f0c2a1b2c3d4e5f607ff,Staff Engineer,Vandelay,Applied,Remote,,"{LONG}"\n'
    return (head.rstrip("\n") + "\n" + row).encode("utf-8")


def test_a_long_cell_in_a_column_nobody_reads_is_skipped() -> None:
    assert len(LONG) >= 50_000 > MAX_CELL
    engine = _engine()
    items = read_csv(_huntr_with_long_description(), "huntr.csv", _context(engine),
                     preset="huntr")
    import_items(engine, items, owner="ada")
    apps = {a.company: a for a in engine.applications(owner="ada")}
    assert set(apps) == {"Initech", "Umbrella", "Hooli", "Vandelay"}
    vandelay = apps["Vandelay"]
    assert (vandelay.id, vandelay.role) == ("6571f0c2a1b2c3d4e5f607ff", "Staff Engineer")
    stored = [vandelay.company, vandelay.role, *vandelay.facts.values(),
              *(str(e.data) for e in engine.history(vandelay.id, owner="ada"))]
    assert not any("Ship it." in text for text in stored)


def test_rows_differing_only_in_a_long_unread_cell_stay_two_applications() -> None:
    # Without an id column, followup makes one up from the row: the long cell's hash
    # stands for it there, so the two rows are not taken for one.
    head = "title,companyName,listName,htmlDescription\n"
    rows = f'SRE,Acme,Applied,"{LONG}"\nSRE,Acme,Applied,"{LONG[:-5]}x</p>"\n'
    engine = _engine()
    items = read_csv((head + rows).encode(), "huntr.csv", _context(engine), preset="huntr")
    import_items(engine, items, owner="ada")
    assert len(engine.applications(owner="ada")) == 2


def test_a_long_cell_in_a_column_that_is_read_is_refused() -> None:
    engine = _engine()
    data = ("id,title,companyName,listName,htmlDescription\n"
            f'1,"{LONG}",Acme,Applied,short\n').encode()
    with pytest.raises(InputError) as caught:
        read_csv(data, "huntr.csv", _context(engine), preset="huntr")
    assert str(caught.value).startswith(
        f"huntr.csv:2: field 2 is {len(LONG)} characters long; at most {MAX_CELL} are read "
        "(column 'title'")
    assert engine.applications(owner="ada") == []


def test_a_mapped_column_is_read_so_its_long_cells_count() -> None:
    engine = _engine()
    with pytest.raises(InputError, match=r"huntr\.csv:5: field 7 is 50002 characters long.*"
                                         r"column 'htmlDescription'"):
        read_csv(_huntr_with_long_description(), "huntr.csv", _context(engine),
                 preset="huntr", mapping={"htmlDescription": "fact:notes"})
