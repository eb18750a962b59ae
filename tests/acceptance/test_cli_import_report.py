"""An import says what it did: contacts added, updated or unchanged on a re-import, and a
dry run checks what the real import checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ANN = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\nTITLE:Director\r\n"
       "EMAIL:ann@acme.example\r\nEND:VCARD\r\n")
BO = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bo Chen\r\nTITLE:CTO\r\nEND:VCARD\r\n"


def _contacts(followup: Any, app: str) -> list[dict[str, Any]]:
    return list(followup("show", app, "--json").json()["contacts"])


def test_a_reimport_reports_added_updated_and_unchanged(
    followup: Any, acme: dict[str, Any], tmp_path: Path
) -> None:
    cards = tmp_path / "cards.vcf"
    cards.write_text(ANN + BO, encoding="utf-8", newline="")
    first = followup("import", str(cards), "--app", acme["id"], "--role", "interviewer",
                     "--json").json()
    assert (first["added"], first["updated"], first["unchanged"]) == (
        ["Ann Lee", "Bo Chen"], [], [])
    # The same cards again, Bo Chen's with a new title: one updated, one unchanged, and
    # nothing said to be added twice.
    cards.write_text(ANN + BO.replace("CTO", "Chief Technology Officer"), encoding="utf-8",
                     newline="")
    result = followup("import", str(cards), "--app", acme["id"], "--role", "interviewer")
    assert "added 0 contacts" in result.stdout
    assert "updated 1 contact of" in result.stdout and "Bo Chen (interviewer)" in result.stdout
    assert "unchanged: 1 contact" in result.stdout and "Ann Lee (interviewer)" in result.stdout
    bo = next(c for c in _contacts(followup, acme["id"]) if c["name"] == "Bo Chen")
    assert bo["title"] == "Chief Technology Officer"
    again = followup("import", str(cards), "--app", acme["id"], "--role", "interviewer",
                     "--json").json()
    assert (again["added"], again["updated"], again["unchanged"]) == (
        [], [], ["Ann Lee", "Bo Chen"])


def test_a_dry_run_refuses_what_the_import_refuses(
    followup: Any, acme: dict[str, Any], tmp_path: Path
) -> None:
    cards = tmp_path / "cards.vcf"
    cards.write_text(ANN, encoding="utf-8", newline="")
    before = _contacts(followup, acme["id"])
    for dry in (["--dry-run"], []):
        result = followup("import", str(cards), "--app", acme["id"], "--role", "interviewr",
                          *dry, expect=2)
        assert "unknown role 'interviewr' (did you mean 'interviewer'?)" in result.stderr
    assert _contacts(followup, acme["id"]) == before
    dry = followup("import", str(cards), "--app", acme["id"][:6], "--role", "interviewer",
                   "--dry-run")
    assert dry.stdout.startswith(f"would add 1 contact to {acme['id']}: Ann Lee")
    assert _contacts(followup, acme["id"]) == before


def test_a_dry_run_of_a_csv_refuses_what_the_store_would(followup: Any, tmp_path: Path) -> None:
    """A company past its length limit passed the dry run and failed the import."""
    followup("init", "--timezone", "UTC")
    table = tmp_path / "apps.csv"
    table.write_text("company,role\nGlobex,Analyst\n" + "A" * 300 + ",Engineer\n",
                     encoding="utf-8")
    for dry in (["--dry-run"], []):
        result = followup("import", str(table), *dry, expect=2)
        assert f"{table}:3: " in result.stderr
        assert "is 300 characters long; at most 200" in result.stderr
    assert followup("list", "--json").json() == []
