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
    assert out["matched"] == [{"name": "Dr. Jane Q. Doe", "contact": "Jane Doe", "same": True,
                               "renamed": False}]
    shown = followup("show", app, "--json").json()
    found = {c["name"]: c for c in shown["contacts"]}
    assert set(found) == {"Jane Doe", "Raj Patel"}
    assert (found["Jane Doe"]["title"], found["Jane Doe"]["email"]) == (
        "Engineering Manager", "jane@acme.example")
    # Still one thank-you reminder for her.
    rules = [(t["rule"], t["contact"]) for t in shown["timers"]]
    assert rules.count(("thank-you-notes", "Jane Doe")) == 1

    # Someone else: added, with a reminder of their own.
    shown = followup("log", app, "--interviewer", "JANE DOE", "--new")
    assert "JANE DOE: someone else than Jane Doe" in shown.stdout
    assert "thank-you-notes — JANE DOE" in shown.stdout


def test_the_same_person_renamed_keeps_what_was_recorded(followup, acme):
    app = acme["id"]
    followup("log", app, "thank_you_sent", "--contact", "Jane Doe")
    refused = followup("log", app, "--interviewer", "Dr. Jane Q. Doe", "--new", "--rename",
                       expect=2)
    assert "--rename" in refused.stderr and "--same" in refused.stderr
    shown = followup("log", app, "--interviewer", "Dr. Jane Q. Doe", "--same", "--rename")
    assert "Dr. Jane Q. Doe: the same person as Jane Doe (renamed" in shown.stdout
    after = followup("show", app, "--json").json()
    found = {c["name"]: c for c in after["contacts"]}
    assert set(found) == {"Dr. Jane Q. Doe", "Raj Patel"}
    assert found["Dr. Jane Q. Doe"]["title"] == "Engineering Manager"
    # She was thanked before the rename: no thank-you reminder comes back for her.
    timers = after["timers"]
    assert [t["contact"] for t in timers if t["rule"] == "thank-you-notes"] == ["Raj Patel"]


def test_two_spellings_in_a_row_of_applications(followup, acme):
    rows = followup.write("rows.json", """
        [{"company": "Initech", "role": "Engineer", "facts": {"interviewed_at": "2026-12-23T15:00"},
          "contacts": [{"name": "Ann Lee", "role": "interviewer"},
                       {"name": "Dr. Ann Lee", "role": "interviewer", "title": "CTO"},
                       {"name": "Bo Chen", "role": "interviewer"}]}]
        """)
    refused = followup("import", str(rows), expect=2)
    assert "'Dr. Ann Lee' looks like 'Ann Lee' (interviewer)" in refused.stderr
    assert "rows.json:1" in refused.stderr
    out = followup("import", str(rows), "--same", "--json").json()
    [app] = out["added"]
    assert out["matched"] == [{"application": app, "name": "Dr. Ann Lee", "contact": "Ann Lee",
                               "same": True, "renamed": False}]
    assert [(c["name"], c["title"]) for c in contacts(followup, app).values()] == [
        ("Ann Lee", "CTO"), ("Bo Chen", "")]
    # The same file again, answered the same way: already there.
    again = followup("import", str(rows), "--same", "--json").json()
    assert (again["added"], again["unchanged"]) == ([], [app])


def test_two_spellings_given_to_a_new_application(followup, acme):
    args = ("add", "--company", "Initech", "--role", "Engineer", "--interviewed",
            "2026-12-23T15:00", "--interviewer", "Ann Lee", "--interviewer", "Ms. Ann Lee, CTO")
    refused = followup(*args, expect=2)
    assert "'Ms. Ann Lee' looks like 'Ann Lee' (interviewer)" in refused.stderr
    out = followup(*args, "--same", "--json").json()
    assert out["matched"] == [{"name": "Ms. Ann Lee", "contact": "Ann Lee", "same": True,
                               "renamed": False}]
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
                                 "same": True, "renamed": False}]
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
                                 "--referral", "raj patel", "--reference", "ANN LEE",
                                 "--reference", "Ann Lee", answers="maybe\nn\n\nr\n")
    assert code == 0, shown
    assert "Dr. Jane Q. Doe looks like Jane Doe (interviewer): the same person? [Y/n/r]" in shown
    assert "answer y" in shown  # "maybe" is asked again
    assert "raj patel looks like Raj Patel (interviewer)" in shown
    assert "Ann Lee looks like ANN LEE (reference)" in shown
    # Asked in the order of the options' roles: interviewer, reference, referral.
    assert shown.index("Ann Lee looks like") < shown.index("raj patel looks like")
    found = contacts(followup, app)
    # No: Dr. Jane Q. Doe is added; Enter (yes): the two spellings of a new reference are
    # one contact; r: Raj is Raj, now a referral, renamed as typed.
    assert set(found) == {"Jane Doe", "raj patel", "Dr. Jane Q. Doe", "ANN LEE"}
    assert found["raj patel"]["role"] == "referral"
