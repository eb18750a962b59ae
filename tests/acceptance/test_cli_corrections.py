"""``edit``, ``contact rename|merge|remove``, ``archive``, ``unarchive``, ``delete``, ``undo``
and ``snooze``: corrections through the real command, each kept in ``show``'s history."""

from __future__ import annotations

import os
import subprocess
from typing import Any

from tests.acceptance.conftest import TIMEOUT, followup_command

# What the acme fixture holds: an interview on Wed 2026-12-23 15:00 in New York with Jane
# Doe and Raj Patel. Times far past it (2030) stay after every reminder whatever day the
# tests run on.


def history(followup: Any, app: str) -> list[dict[str, Any]]:
    return list(followup("show", app, "--json").json()["history"])


def test_edit_changes_company_and_role_and_show_says_so(followup: Any, acme: dict) -> None:
    app = acme["id"]
    out = followup("edit", app[:6], "--company", "Acme Corp", "--role", "Lead", "--json").json()
    assert (out["company"], out["role"], out["changed"]) == ("Acme Corp", "Lead", True)
    [entry] = [h for h in history(followup, app) if h["kind"] == "edit"]
    assert entry["data"] == {"old": {"company": "Acme", "role": "Engineer"},
                             "new": {"company": "Acme Corp", "role": "Lead"}}
    shown = followup("show", app).stdout
    assert "Lead at Acme Corp" in shown
    assert "edit       company 'Acme' → 'Acme Corp', role 'Engineer' → 'Lead'" in shown
    again = followup("edit", app, "--company", "Acme Corp", "--role", "Lead")
    assert "already so, nothing changed" in again.stdout


def test_edit_of_the_interview_time_moves_the_call(followup: Any, acme: dict) -> None:
    app = acme["id"]
    out = followup("edit", app, "--interviewed", "2026-12-22T15:00", "--json").json()
    assert [t["at"] for t in out["armed"] if t["rule"] == "follow-up-call"] == [
        "2026-12-29T15:00:00-05:00"]
    result = followup("edit", app, expect=2)
    assert "say what to change: --company, --role, --interviewed or --fact" in result.stderr


def test_a_field_logged_as_a_fact_points_to_edit(followup: Any, acme: dict) -> None:
    # The issue: `log --fact company=Acme2` stored a fact named company.
    app = acme["id"]
    result = followup("log", app[:5], "--fact", "company=Acme2", expect=2)
    assert result.stderr == ("followup log: company is a field, not a fact: use followup "
                             f"edit {app[:5]} --company Acme2\n")
    assert "company" not in followup("show", app, "--json").json()["facts"]


def test_contact_rename_merge_and_remove(followup: Any, acme: dict) -> None:
    app = acme["id"]
    followup("log", app, "thank_you_sent", "--contact", "Jane Doe")
    renamed = followup("contact", "rename", app, "Jane Doe", "Jane Smith")
    assert "renamed Jane Doe to Jane Smith" in renamed.stdout
    # she is still thanked: no note is armed for her new name
    assert "thank-you-notes — Jane Smith" not in renamed.stdout
    merged = followup("contact", "merge", app, "Raj Patel", "Jane Smith", "--json").json()
    assert merged["state"] == "thanked"
    assert [t["contact"] for t in merged["cancelled"] if t["rule"] == "thank-you-notes"] == [
        "Raj Patel"]
    followup("log", app, "--interviewer", "Sam Lee")
    removed = followup("contact", "remove", app, "Sam Lee", "--json").json()
    assert "Sam Lee" not in [c["name"] for c in followup("show", app, "--json").json()["contacts"]]
    assert removed["changed"]
    shown = followup("show", app).stdout
    assert "rename     Jane Doe → Jane Smith" in shown
    assert "merge      Raj Patel into Jane Smith" in shown
    assert "remove     contact — Sam Lee" in shown


def test_contact_refusals(followup: Any, acme: dict) -> None:
    app = acme["id"]
    missing = followup("contact", "rename", app, "Jane Doe", expect=2)
    assert "contact rename APP NAME needs the new name after NAME" in missing.stderr
    unknown = followup("contact", "remove", app, "Nobody", expect=2)
    assert "no contact named 'Nobody'" in unknown.stderr
    assert "(contacts: 'Jane Doe', 'Raj Patel')" in unknown.stderr
    taken = followup("contact", "rename", app, "Jane Doe", "Raj Patel", expect=2)
    assert "followup contact merge" in taken.stderr
    assert [h["kind"] for h in history(followup, app)] == ["created"]


def test_archive_and_unarchive(followup: Any, acme: dict) -> None:
    app = acme["id"]
    out = followup("archive", app, "--json").json()
    assert out["archived"] is True
    assert out["armed"] == [] and out["cancelled"]
    shown = followup("show", app, "--json").json()
    assert shown["timers"] == [] and shown["archived_at"] is not None
    assert "(archived " in followup("show", app).stdout
    assert app not in followup("list").stdout  # archived: out of the list
    assert "already so" in followup("archive", app).stdout
    back = followup("unarchive", app, "--json").json()
    assert back["archived"] is False and back["armed"]
    assert [h["kind"] for h in history(followup, app)] == ["created", "archive", "unarchive"]


def test_delete_needs_a_confirmation(followup: Any, acme: dict) -> None:
    app = acme["id"]
    refused = followup("delete", app, expect=2)
    assert "no terminal is here to confirm it; pass --yes" in refused.stderr
    followup("show", app)  # still there
    done = followup("delete", app, "--yes")
    assert f"{app}: deleted (Engineer at Acme) with its history" in done.stdout
    gone = followup("show", app, expect=2)
    assert f"no application {app!r}" in gone.stderr


def test_undo_takes_back_the_latest_entry(followup: Any, acme: dict) -> None:
    app = acme["id"]
    nothing = followup("undo", app, expect=2)
    assert f"nothing to undo on application {app}" in nothing.stderr
    followup("log", app, "called")
    out = followup("undo", app, "--json").json()
    assert out["state"] == "interviewed"
    assert [t["rule"] for t in out["armed"]].count("thank-you-notes") == 2
    assert "undo       #1 event called → interviewed" in followup("show", app).stdout
    # an undo is not undone: with the call taken back, there is nothing left to undo
    followup("undo", app, expect=2)
    followup("edit", app, "--company", "B")
    followup("undo", app, "--key", "k1")
    assert not followup("undo", app, "--key", "k1", "--json").json()["changed"]


def test_snooze_one_reminder(followup: Any, acme: dict) -> None:
    app = acme["id"]
    both = followup("snooze", app, "thank-you-notes", "--until", "2030-01-07T10:00", expect=2)
    assert "2 reminders pending, one per contact: say whose with --contact" in both.stderr
    out = followup("snooze", app, "thank-you-notes", "--contact", "Raj Patel",
                   "--until", "2030-01-07T10:00", "--json").json()
    assert [(t["contact"], t["at"]) for t in out["armed"]] == [
        ("Raj Patel", "2030-01-07T10:00:00-05:00")]
    shown = followup("show", app).stdout
    assert "snooze     thank-you-notes until Mon 2030-01-07 10:00 — Raj Patel" in shown
    later = followup("snooze", app, "follow-up-call", "--for", "1500d", "--json").json()
    assert [t["rule"] for t in later["armed"]] == ["follow-up-call"]
    followup("undo", app)
    timers = followup("show", app, "--json").json()["timers"]
    assert [t["at"] for t in timers if t["rule"] == "follow-up-call"] == [
        "2026-12-30T15:00:00-05:00"]


def test_snooze_refusals(followup: Any, acme: dict) -> None:
    app = acme["id"]
    for args, message in [
        (("nope", "--for", "2h"), "no pending reminder 'nope'"),
        (("follow-up-call", "--for", "soon"), "--for 'soon': "),
        (("follow-up-call",), "one of the arguments --until --for is required"),
    ]:
        assert message in followup("snooze", app, *args, expect=2).stderr
    assert [h["kind"] for h in history(followup, app)] == ["created"]


def test_delete_asks_on_a_terminal(followup: Any, acme: dict) -> None:
    app = acme["id"]

    def answer(text: str) -> subprocess.CompletedProcess[str]:
        main, terminal = os.openpty()  # stdin is a terminal: the question is asked
        try:
            os.write(main, text.encode())
            return subprocess.run([*followup_command(), "delete", app], stdin=terminal,
                                  capture_output=True, text=True, env=followup.env,
                                  cwd=followup.tmp_path, timeout=TIMEOUT, check=False)
        finally:
            os.close(main)
            os.close(terminal)

    kept = answer("n\n")
    assert kept.returncode == 2 and "nothing deleted" in kept.stderr
    assert f"delete {app} (Engineer at Acme) and its history for good? [y/N]" in kept.stdout
    followup("show", app)
    gone = answer("y\n")
    assert gone.returncode == 0, gone.stderr
    followup("show", app, expect=2)
