"""``followup import`` and ``followup export`` of applications, history and contacts, on
real SQLite stores through the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from followup.interop.vcard import read_vcards

CARDS = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lee;Ann;;;\r\nFN:Ann Lee\r\nTITLE:Director\r\n"
    "ORG:Acme\\, Inc.;Platform\r\nEMAIL;TYPE=WORK:ann@acme.example\r\n"
    "TEL;TYPE=CELL:+1 555 0100\r\nADR;TYPE=WORK:;;1 Main St;Springfield;IL;62701;USA\r\n"
    "NOTE:Asked about\\, and liked\\, the migration story\r\nPHOTO;VALUE=uri:https://x.example/a.jpg\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bo Chen\r\nTEL;VALUE=uri:tel:+1-555-0101\r\nEND:VCARD\r\n"
)


def _record(followup: Any) -> dict[str, Any]:
    """Everything the store holds for the owner, as followup export --format json says."""
    doc = json.loads(followup("export", "--format", "json").stdout)
    del doc["exported_at"]
    return dict(doc)


@pytest.fixture
def history(followup: Any, acme: dict[str, Any]) -> str:
    """The Acme application with events logged: thanked, called."""
    app = acme["id"]
    followup("log", app, "thank_you_sent", "--contact", "Jane Doe", "--at", "2026-12-24T10:00")
    followup("log", app, "thank_you_sent", "--contact", "Raj Patel", "--at", "2026-12-24T11:00")
    followup("log", app, "called", "--at", "2026-12-30T10:00")
    return str(app)


def test_csv_export_then_import_gives_the_same_applications_and_history(
    followup: Any, history: str, tmp_path: Path
) -> None:
    files = {}
    for table in ("applications", "contacts", "history"):
        files[table] = tmp_path / f"{table}.csv"
        out = followup("export", "--csv", "--table", table, "--output", str(files[table]),
                       "--json").json()
        assert out["table"] == table and out["format"] == "csv"
    assert files["applications"].stat().st_mode & 0o777 == 0o600
    before = _record(followup)
    assert [h["name"] for h in before["applications"][0]["history"]] == [
        "created", "thank_you_sent", "thank_you_sent", "all-thanked", "called"]
    agenda = _agenda(followup, {})

    elsewhere = tmp_path / "elsewhere.db"
    env = {"FOLLOWUP_DB": str(elsewhere)}
    followup("init", "--timezone", "America/New_York", "--country", "US", "--subdivision",
             "NY", env=env)
    result = followup("import", str(files["applications"]), "--contacts",
                      str(files["contacts"]), "--history", str(files["history"]), env=env)
    assert f"imported 1 application from {files['applications']}" in result.stdout
    # The CSV tables carry no owner-level state: the weekly nudge starts from the import
    # (a JSON export carries it: test_json_export_then_import_and_again_changes_nothing).
    after = _record_at(followup, env)
    assert after.pop("owner_timers") and before.pop("owner_timers")
    assert after == before
    # Timers are derived: re-planned on import, they are the ones the original has.
    assert _agenda(followup, env) == agenda


def _agenda(followup: Any, env: dict[str, str]) -> list[dict[str, Any]]:
    """The coming reminders of the owner's applications, and the rules over all of them
    by name (those are planned from the time they are planned at)."""
    items = followup("agenda", "--days", "3650", "--json", env=env).json()
    owners = sorted(i["rule"] for i in items if not i["application"])
    assert owners == ["keep-looking"]
    return [i for i in items if i["application"]] + [{"owner rules": owners}]


def _record_at(followup: Any, env: dict[str, str]) -> dict[str, Any]:
    doc = json.loads(followup("export", "--format", "json", env=env).stdout)
    del doc["exported_at"]
    return dict(doc)


def test_json_export_then_import_and_again_changes_nothing(
    followup: Any, history: str, tmp_path: Path
) -> None:
    target = tmp_path / "all.json"
    followup("export", "--output", str(target))  # the format from the suffix
    before = _record(followup)
    env = {"FOLLOWUP_DB": str(tmp_path / "other.db")}
    followup("init", "--timezone", "America/New_York", "--country", "US", "--subdivision",
             "NY", env=env)
    followup("import", str(target), env=env)
    again = followup("import", str(target), "--json", env=env).json()
    assert again["added"] == [] and again["unchanged"] == [history]
    assert _record_at(followup, env) == before


def test_a_trackers_csv_with_a_preset(followup: Any, tmp_path: Path) -> None:
    followup("init", "--timezone", "America/New_York")
    rows = tmp_path / "huntr.csv"
    rows.write_text("Company,Job Title,List,Date Applied\nGlobex,Engineer,Offer,12/01/2026\n"
                    "Initech,PM,Applied,\n", encoding="utf-8")
    dry = followup("import", str(rows), "--preset", "huntr", "--dry-run")
    assert "would import 2 applications" in dry.stdout
    assert followup("list", "--json").json() == []
    followup("import", str(rows), "--preset", "huntr")
    states = {a["company"]: a["state"] for a in followup("list", "--json").json()}
    assert states == {"Globex": "offer", "Initech": "interviewed"}


BAD = [
    ("bad.csv", b"company,role\nAcme,Engineer\nGlobex,SRE,extra\n",
     "bad.csv:3: 3 fields, but the header has 2"),
    ("bad2.csv", b"company,role,status\nAcme,Engineer,applied\nGlobex,SRE,hired\n",
     "bad2.csv:3: 'hired' is not a state of the pack"),
    ("bad.json", b'[{"company": "Acme", "role": "Engineer"},\n {"company": "Glo',
     "bad.json:2:"),
    ("bad3.csv", b"company,role\nAcme,Ing\xe9nieur\n", "bad3.csv:2: byte 0xe9 is not UTF-8"),
]


def test_bad_applications_exit_2_naming_the_line_and_change_nothing(
    followup: Any, acme: dict[str, Any], tmp_path: Path
) -> None:
    before = _record(followup)
    for name, content, problem in BAD:
        bad = tmp_path / name
        bad.write_bytes(content)
        result = followup("import", str(bad), expect=2)
        assert problem in result.stderr, result.stderr
    assert _record(followup) == before


def test_business_cards_join_an_application_and_come_back_whole(
    followup: Any, acme: dict[str, Any], tmp_path: Path
) -> None:
    cards = tmp_path / "cards.vcf"
    cards.write_text(CARDS, encoding="utf-8", newline="")
    result = followup("import", str(cards), "--app", acme["id"], "--role", "interviewer")
    assert "added 2 contacts" in result.stdout and "not kept from the cards: PHOTO" in result.stdout
    shown = followup("show", acme["id"], "--json").json()
    ann = next(c for c in shown["contacts"] if c["name"] == "Ann Lee")
    assert ann["organization"] == ["Acme, Inc.", "Platform"]
    exported = followup("export", "--vcard", "--app", acme["id"], "--vcard-version", "4.0").stdout
    written = {c.contact.name: c.contact for c in read_vcards(exported)}
    for card in read_vcards(CARDS):  # a card naming no company gets the application's
        assert written[card.contact.name] == card.contact.__class__(
            **{**vars(card.contact), "role": "interviewer",
               "organization": card.contact.organization or ("Acme",)})


def test_photos_are_kept_only_when_asked(
    followup: Any, acme: dict[str, Any], tmp_path: Path
) -> None:
    cards = tmp_path / "cards.vcf"
    cards.write_text(CARDS, encoding="utf-8", newline="")
    result = followup("import", str(cards), "--app", acme["id"], "--role", "interviewer",
                      "--keep-photos")
    assert "not kept" not in result.stdout
    shown = followup("show", acme["id"], "--json").json()
    ann = next(c for c in shown["contacts"] if c["name"] == "Ann Lee")
    assert ann["photo"] == "https://x.example/a.jpg"
    assert "photo" not in next(c for c in shown["contacts"] if c["name"] == "Bo Chen")
    exported = followup("export", "--vcard", "--app", acme["id"]).stdout
    assert "\nPHOTO;VALUE=uri:https://x.example/a.jpg\n" in exported


def test_a_malformed_card_exits_2_and_adds_no_one(
    followup: Any, acme: dict[str, Any], tmp_path: Path
) -> None:
    before = _record(followup)
    cards = tmp_path / "cards.vcf"
    cards.write_text(CARDS + "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cut Off\r\n", encoding="utf-8")
    result = followup("import", str(cards), "--app", acme["id"], "--role", "interviewer",
                      expect=2)
    assert f"{cards}:18: the card begun here has no END:VCARD" in result.stderr
    assert _record(followup) == before


def test_progress_only_when_asked_or_on_a_terminal(
    followup: Any, acme: dict[str, Any], tmp_path: Path
) -> None:
    quiet = followup("export", "--format", "json", "--output", str(tmp_path / "a.json"))
    assert quiet.stderr == ""
    loud = followup("export", "--format", "json", "--output", str(tmp_path / "a.json"),
                    "--progress")
    # Drawn with a carriage return, read here as a newline (text mode).
    assert loud.stderr.strip() == "exporting 1/1 100%"
