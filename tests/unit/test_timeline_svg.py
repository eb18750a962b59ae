"""``followup simulate --format svg``: the timeline as a picture, checked as XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from followup import Contact, load_rules
from followup.interop.timeline import timeline_svg
from followup.runtime.simulate import PlannedEvent, Simulation, simulate

SVG = "{http://www.w3.org/2000/svg}"
NY = ZoneInfo("America/New_York")


def _sim() -> Simulation:
    return simulate(
        load_rules(cache=False), interviewed=datetime(2026, 12, 23, 15, 0, tzinfo=NY),
        timezone="America/New_York", country="US", subdivision="NY",
        until=datetime(2027, 2, 28, tzinfo=NY),
        contacts=[Contact("Jane Doe", "interviewer", title="Engineering Manager"),
                  Contact("Ann Lee", "reference")],
        events=[PlannedEvent(datetime(2026, 12, 24, 10, tzinfo=NY), "thank_you_sent",
                             "Jane Doe"),
                PlannedEvent(datetime(2027, 1, 12, 10, tzinfo=NY), "rejected")])


def test_every_entry_is_drawn_with_its_title() -> None:
    sim = _sim()
    root = ET.fromstring(timeline_svg(sim))
    assert root.tag == f"{SVG}svg"
    drawn = root.findall(f".//{SVG}g[@class='entry']")
    assert [int(g.get("data-index", "-1")) for g in drawn] == list(range(len(sim.timeline)))
    for g, entry in zip(drawn, sim.timeline, strict=True):
        assert g.get("data-action") == entry.action
        title = g.findtext(f"{SVG}title") or ""
        assert (entry.rule or entry.event or entry.action) in title, title
        if entry.due is not None:  # a deadline is a line to it, and said in the title
            assert "due " in title and g.findall(f"{SVG}line")


def test_states_are_bands_and_days_off_are_shaded() -> None:
    sim = _sim()
    root = ET.fromstring(timeline_svg(sim))
    bands = [r.findtext(f"{SVG}title") for r in root.iter(f"{SVG}rect")
             if r.get("class") == "state"]
    assert bands == ["interviewed", "thanked", "rejected", "keep_warm"]
    off = {r.findtext(f"{SVG}title") for r in root.iter(f"{SVG}rect") if r.get("class") == "off"}
    assert "2026-12-25: Christmas Day" in off
    assert "2027-01-18: Martin Luther King Jr. Day" in off
    assert "2026-12-26: Saturday" in off
    assert not any(t and t.startswith("2026-12-24") for t in off)  # a working day


def test_an_empty_timeline_is_refused() -> None:
    sim = _sim()
    sim.timeline.clear()
    with pytest.raises(ValueError, match="nothing to draw"):
        timeline_svg(sim)
