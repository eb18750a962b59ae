"""``followup export`` then ``followup import`` into a fresh store, of applications whose
history holds corrections (an edit, a contact renamed, merged and removed, a snooze, an
undo, an archive): the same applications, history and plan come back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# The acme fixture: an interview on Wed 2026-12-23 15:00 in New York with Jane Doe and
# Raj Patel. A snooze to 2030 stays ahead of every reminder whatever day the tests run.


def _everything(followup: Any, env: dict[str, str]) -> dict[str, Any]:
    """What a store holds for the owner: the export (without its time stamp), list --all,
    and every reminder to come (the agenda)."""
    doc = json.loads(followup("export", "--format", "json", env=env).stdout)
    del doc["exported_at"]
    return {"export": doc, "list": followup("list", "--all", "--json", env=env).json(),
            "agenda": followup("agenda", "--days", "3650", "--json", env=env).json()}


def test_corrections_survive_a_json_export_and_import(
    followup: Any, acme: dict[str, Any], tmp_path: Path
) -> None:
    app = acme["id"]
    followup("log", app, "thank_you_sent", "--contact", "Jane Doe", "--at", "2026-12-24T10:00",
             "--interviewer", "Sam Lee")
    followup("contact", "rename", app, "Jane Doe", "Jane Smith")
    followup("contact", "merge", app, "Sam Lee", "Raj Patel")
    followup("snooze", app, "thank-you-notes", "--contact", "Raj Patel",
             "--until", "2030-01-07T10:00")
    followup("edit", app, "--role", "Lead")
    followup("log", app, "called", "--at", "2026-12-30T10:00")
    followup("undo", app)  # the call taken back: interviewed, its window planned again
    other = followup("add", "--company", "Globex", "--role", "SRE", "--interviewed",
                     "2026-12-22T10:00", "--interviewer", "Kim Lo", "--json").json()["id"]
    followup("contact", "remove", other, "Kim Lo")
    followup("archive", other)
    before = _everything(followup, {})
    kinds = {h["kind"] for a in before["export"]["applications"] for h in a["history"]}
    assert {"rename", "merge", "remove", "snooze", "edit", "undo", "archive"} <= kinds
    assert [a["archived_at"] is not None for a in before["list"]] == [False, True]
    coming = [(t["application"], t["rule"], t["contact"], t["at"]) for t in before["agenda"]]
    assert (app, "thank-you-notes", "Raj Patel", "2030-01-07T10:00:00-05:00") in coming
    assert not [c for c in coming if c[0] == app and c[1] == "thank-you-notes"
                and c[2] != "Raj Patel"]  # Jane Smith thanked as Jane Doe
    assert not [c for c in coming if c[0] == other]  # archived: nothing planned

    exported = tmp_path / "all.json"
    followup("export", "--output", str(exported))
    env = {"FOLLOWUP_DB": str(tmp_path / "fresh.db")}
    followup("init", "--timezone", "America/New_York", "--country", "US", "--subdivision",
             "NY", env=env)
    result = followup("import", str(exported), "--json", env=env).json()
    assert sorted(result["added"]) == sorted([app, other])
    assert _everything(followup, env) == before
