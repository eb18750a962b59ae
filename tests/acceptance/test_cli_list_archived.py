"""``followup list`` leaves archived applications out; ``--archived`` lists only them,
``--all`` both, marking the archived ones."""

from __future__ import annotations

from typing import Any


def test_list_archived_and_all(followup: Any, acme: dict[str, Any]) -> None:
    app = acme["id"]
    assert followup("list", "--archived").stdout == (
        "no archived applications (followup archive APP archives one)\n")
    followup("archive", app)
    assert followup("list").stdout == (
        "no applications but archived ones: followup list --archived lists them\n")
    other = followup("add", "--company", "Globex", "--role", "SRE", "--interviewed",
                     "2026-12-22T10:00", "--json").json()["id"]
    assert followup("list").stdout == f"{other}  interviewed  SRE at Globex\n"
    assert followup("list", "--archived").stdout == f"{app}  interviewed  Engineer at Acme\n"
    assert followup("list", "--all").stdout == (
        f"{app}  interviewed  Engineer at Acme  (archived)\n"
        f"{other}  interviewed  SRE at Globex\n")
    listed = followup("list", "--all", "--json").json()
    assert [(a["id"], a["archived_at"] is not None) for a in listed] == [
        (app, True), (other, False)]
    assert followup("list", "--archived", "--json").json() == listed[:1]
    assert followup("list", "--json").json() == listed[1:]
    assert followup("list", "--all", "--state", "thanked", "--json").json() == []
    both = followup("list", "--all", "--archived", expect=2)
    assert "--archived: not allowed with argument --all" in both.stderr
