"""Each tracker's preset imports a file built from that tracker's published header line,
with the right dates, states, links and contacts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from followup import Engine, FakeClock, InputError, MemoryStore
from followup.interop.presets import PRESETS, nearest_preset
from followup.interop.readers import Context, _instant, read_csv
from followup.interop.transfer import import_items
from followup.model import Application

EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
NOW = datetime(2027, 2, 1, 15, tzinfo=UTC)

def _engine() -> Engine:
    engine = Engine(store=MemoryStore(), clock=FakeClock(NOW), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    return engine

def _context(engine: Engine) -> Context:
    return Context(pack=engine.pack, owner="ada", calendar=engine.calendar("ada"), now=NOW)

def _imported(name: str, preset: str | None) -> dict[str, Application]:
    engine = _engine()
    items = read_csv((EXPORTS / name).read_bytes(), name, _context(engine), preset=preset)
    import_items(engine, items, owner="ada")
    return {a.company: a for a in engine.applications(owner="ada")}

def test_linkedin_job_applications() -> None:
    apps = _imported("linkedin_job_applications.csv", "linkedin")
    acme, globex = apps["Acme Corp"], apps["Globex"]
    assert (acme.role, acme.state) == ("Senior Software Engineer", "interviewed")
    assert acme.created_at == datetime(2024, 11, 20, 13, 15, tzinfo=UTC)  # 8:15 AM EST
    assert globex.created_at == datetime(2025, 1, 4, 4, 2, tzinfo=UTC)  # 11:02 PM EST
    assert acme.facts["url"] == "https://www.linkedin.com/jobs/view/4081234567"
    assert acme.facts["resume"] == "Ada_Lovelace_Resume_2024.pdf"
    [contact] = acme.contacts
    assert (contact.name, contact.email, contact.phone, contact.role) == (
        "jane.doe@acme.example", "jane.doe@acme.example", "+1 212 555 0123", "recruiter")
    assert globex.contacts == ()

def test_linkedin_saved_jobs() -> None:
    apps = _imported("linkedin_saved_jobs.csv", "linkedin")
    assert {c: (a.role, a.state, a.created_at) for c, a in apps.items()} == {
        "Hooli": ("Data Engineer", "interviewed", datetime(2024, 12, 2, 14, 41, tzinfo=UTC)),
        "Initech": ("Engineer, Developer Tools", "interviewed",
                    datetime(2025, 2, 14, 21, 5, tzinfo=UTC)),
    }
    assert apps["Hooli"].facts["url"] == "https://www.linkedin.com/jobs/view/4090000001"

def test_huntr_camel_case() -> None:
    apps = _imported("huntr_camel.csv", "huntr")
    assert {c: (a.id, a.role, a.state) for c, a in apps.items()} == {
        "Initech": ("6571f0c2a1b2c3d4e5f60718", "Backend Engineer", "interviewed"),
        "Umbrella": ("6571f0c2a1b2c3d4e5f60719", "Platform Engineer", "offer"),
        "Hooli": ("6571f0c2a1b2c3d4e5f6071a", "SRE", "rejected"),
    }
    assert apps["Initech"].facts["url"] == "https://initech.example/careers/123"
    assert apps["Initech"].facts["location"] == "Austin, TX"
    assert apps["Initech"].created_at == NOW  # this form has no date: the import's time

def test_huntr_employer_and_date_saved() -> None:
    apps = _imported("huntr_employer.csv", "huntr")
    acme, globex = apps["Acme Corp"], apps["Globex"]
    assert (acme.role, acme.state, globex.state) == (
        "Senior Software Engineer", "interviewed", "interviewed")
    assert acme.created_at == datetime(2024, 11, 18, 5, tzinfo=UTC)  # midnight in New York
    assert globex.created_at == datetime(2024, 12, 1, 5, tzinfo=UTC)
    assert acme.facts["url"] == "https://acme.example/jobs/42"
    assert acme.facts["salary"] == "$180,000 - $210,000"
    assert acme.facts["notes"] == "Referred by Sam"

def test_huntr_title_and_date_added() -> None:
    apps = _imported("huntr_title.csv", "huntr")
    vandelay, stark = apps["Vandelay Industries"], apps["Stark Industries"]
    assert (vandelay.role, vandelay.state, stark.state) == ("Data Engineer", "interviewed",
                                                           "rejected")
    assert vandelay.created_at == datetime(2024, 11, 25, 5, tzinfo=UTC)
    assert stark.created_at == datetime(2024, 12, 3, 5, tzinfo=UTC)  # "Dec 3, 2024"
    assert stark.facts["url"] == "https://stark.example/careers/em"

@pytest.mark.parametrize(("name", "expected"), [
    ("teal_position.csv", {
        "Acme Corp": ("Senior Software Engineer", "interviewed",
                      datetime(2024, 11, 20, 5, tzinfo=UTC), "https://acme.example/jobs/42"),
        "Globex": ("Staff Engineer", "rejected", datetime(2024, 12, 2, 5, tzinfo=UTC),
                   "https://globex.example/careers/7")}),
    ("teal_title.csv", {
        "Hooli": ("SRE", "interviewed", datetime(2025, 1, 6, 5, tzinfo=UTC),
                  "https://hooli.example/jobs/sre"),
        "Initech": ("Backend Engineer", "offer", datetime(2025, 1, 9, 5, tzinfo=UTC),
                    "https://initech.example/careers/123")}),
])
def test_teal_both_forms(name: str,
                         expected: dict[str, tuple[str, str, datetime, str]]) -> None:
    apps = _imported(name, "teal")
    assert {c: (a.role, a.state, a.created_at, a.facts["url"])
            for c, a in apps.items()} == expected

def test_a_file_no_preset_reads_names_its_columns_and_the_nearest_preset() -> None:
    engine = _engine()
    data = (EXPORTS / "linkedin_job_applications.csv").read_bytes()
    with pytest.raises(InputError) as caught:
        read_csv(data, "Job Applications.csv", _context(engine))
    message = str(caught.value)
    assert message.startswith("Job Applications.csv:1: no column holds the company")
    assert "Application Date, Contact Email, Contact Phone Number, Company Name" in message
    assert "--preset linkedin" in message

@pytest.mark.parametrize(("name", "preset"), [
    ("linkedin_job_applications.csv", "linkedin"), ("linkedin_saved_jobs.csv", "linkedin"),
    ("huntr_camel.csv", "huntr"), ("huntr_employer.csv", "huntr"),
    ("huntr_title.csv", "huntr"), ("teal_position.csv", "teal"),
])
def test_the_nearest_preset_of_each_export_is_its_own(name: str, preset: str) -> None:
    header = (EXPORTS / name).read_text(encoding="utf-8").splitlines()[0].split(",")
    found = nearest_preset(header)
    assert found is not None and found.name == preset
    assert nearest_preset(["Foo", "Bar"]) is None

def test_dates_read_in_the_order_the_preset_says() -> None:
    ctx = _context(_engine())
    assert _instant("03/04/2026", ctx, "x", "d", "month-first") == datetime(
        2026, 3, 4, 5, tzinfo=UTC)
    assert _instant("03/04/2026", ctx, "x", "d", "day-first") == datetime(
        2026, 4, 3, 4, tzinfo=UTC)  # midnight in New York, daylight time
    assert _instant("2026-03-04", ctx, "x", "d", "day-first") == datetime(
        2026, 3, 4, 5, tzinfo=UTC)  # ISO 8601 is never reordered
    with pytest.raises(InputError, match="'03/04/2026' is not a date"):
        _instant("03/04/2026", ctx, "x", "d")
    with pytest.raises(InputError, match="x: d 'next week' is not a date"):
        _instant("next week", ctx, "x", "d", "month-first")

def test_every_preset_reads_its_dates_in_a_known_order() -> None:
    assert {p.dates for p in PRESETS.values()} <= {"iso", "month-first", "day-first"}
    with pytest.raises(ValueError, match="dates must be one of"):
        type(PRESETS["teal"])("x", "", {}, dates="year-first")
