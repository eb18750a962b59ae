"""One person is one contact: a new contact spelt like one already there (``Dr. Jane Q.
Doe`` beside ``Jane Doe``) is asked about on a terminal and refused elsewhere unless
``--same`` or ``--new`` says what it is; the same person is updated, not added again."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from tests.acceptance.conftest import TIMEOUT, followup_command

CARDS = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dr. Raj K. Patel\r\nN:Patel;Raj;K.;Dr.;\r\n"
    "TEL:+1 555 0100\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\nTITLE:Recruiter\r\nEND:VCARD\r\n"
)


def contacts(followup, app):
    return {c["name"]: c for c in followup("show", app, "--json").json()["contacts"]}


def test_a_look_alike_is_refused_off_a_terminal_then_updated_or_added(followup, acme):
    app = acme["id"]
    before = followup("show", app, "--json").json()
    refused = followup("log", app, "--interviewer", "Dr. Jane Q. Doe <jane@acme.example>",
                       expect=2)
    assert "'Dr. Jane Q. Doe' looks like 'Jane Doe' (interviewer)" in refused.stderr
    assert "--same" in refused.stderr and "--new" in refused.stderr
    assert followup("show", app, "--json").json() == before  # nothing changed

    # The same person: Jane keeps her name and title and gains the address.
    out = followup("log", app, "--interviewer", "Dr. Jane Q. Doe <jane@acme.example>",
                   "--same", "--json").json()
    assert out["matched"] == [{"name": "Dr. Jane Q. Doe", "contact": "Jane Doe", "same": True}]
    jane = contacts(followup, app)["Jane Doe"]
    assert (jane["title"], jane["email"]) == ("Engineering Manager", "jane@acme.example")
    assert set(contacts(followup, app)) == {"Jane Doe", "Raj Patel"}
    # Still one thank-you reminder for her.
    rules = [(t["rule"], t["contact"]) for t in followup("show", app, "--json").json()["timers"]]
    assert rules.count(("thank-you-notes", "Jane Doe")) == 1

    # Someone else: added, with a reminder of their own.
    shown = followup("log", app, "--interviewer", "JANE DOE", "--new")
    assert "JANE DOE: someone else than Jane Doe" in shown.stdout
    assert set(contacts(followup, app)) == {"Jane Doe", "Raj Patel", "JANE DOE"}


def test_two_spellings_given_to_a_new_application(followup, acme):
    args = ("add", "--company", "Initech", "--role", "Engineer", "--interviewed",
            "2026-12-23T15:00", "--interviewer", "Ann Lee", "--interviewer", "Ms. Ann Lee, CTO")
    refused = followup(*args, expect=2)
    assert "'Ms. Ann Lee' looks like 'Ann Lee' (interviewer)" in refused.stderr
    out = followup(*args, "--same", "--json").json()
    assert out["matched"] == [{"name": "Ms. Ann Lee", "contact": "Ann Lee", "same": True}]
    assert [t["contact"] for t in out["timers"] if t["rule"] == "thank-you-notes"] == [
        "Ann Lee"]
    assert [(c["name"], c["title"]) for c in contacts(followup, out["id"]).values()] == [
        ("Ann Lee", "CTO")]


def test_cards_are_matched_and_a_reimport_reports_them_unchanged(followup, acme):
    app = acme["id"]
    cards = followup.write("cards.vcf", CARDS)
    refused = followup("import", str(cards), "--app", app, "--role", "interviewer", expect=2)
    assert "'Dr. Raj K. Patel' looks like 'Raj Patel' (interviewer)" in refused.stderr
    first = followup("import", str(cards), "--app", app, "--role", "interviewer", "--same",
                     "--json").json()
    assert (first["added"], first["updated"], first["unchanged"]) == (
        ["Ann Lee"], ["Raj Patel"], [])
    assert first["matched"] == [{"name": "Dr. Raj K. Patel", "contact": "Raj Patel",
                                 "same": True}]
    raj = contacts(followup, app)["Raj Patel"]
    assert (raj["phone"], raj["name_parts"]) == ("+1 555 0100", ["Patel", "Raj", "K.", "Dr.", ""])
    again = followup("import", str(cards), "--app", app, "--role", "interviewer", "--same")
    assert "added 0 contacts" in again.stdout
    assert "unchanged: 2 contacts" in again.stdout


def _on_a_terminal(followup, *args: str, answers: str) -> tuple[int, str]:
    """Run ``followup ARGS`` with a terminal as its standard input and error, typing
    ``answers``; its exit code and what the terminal showed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([*followup_command(), *args], stdin=follower, stderr=follower,
                            stdout=subprocess.PIPE, env=followup.env, cwd=followup.tmp_path)
    os.close(follower)
    # End of input after the answers (Ctrl-D): a question too many fails, never hangs.
    os.write(leader, answers.encode() + b"\x04")
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the command ended and closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    proc.wait(timeout=TIMEOUT)
    assert proc.stdout is not None
    proc.stdout.close()
    os.close(leader)
    return proc.returncode, shown.decode("utf-8", "replace")


def test_on_a_terminal_the_person_is_asked(followup, acme):
    if sys.platform == "win32":  # pragma: no cover - no pseudo-terminals there
        return
    app = acme["id"]
    code, shown = _on_a_terminal(followup, "log", app, "--interviewer", "Dr. Jane Q. Doe",
                                 "--referral", "raj patel", answers="maybe\nn\n\n")
    assert code == 0, shown
    assert "Dr. Jane Q. Doe looks like Jane Doe (interviewer): the same person? [Y/n]" in shown
    assert "answer y" in shown  # "maybe" is asked again
    assert "raj patel looks like Raj Patel (interviewer)" in shown
    found = contacts(followup, app)
    # No: Dr. Jane Q. Doe is added; Enter (yes): Raj is Raj, now a referral.
    assert set(found) == {"Jane Doe", "Raj Patel", "Dr. Jane Q. Doe"}
    assert found["Raj Patel"]["role"] == "referral"
