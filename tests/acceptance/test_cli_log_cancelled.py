"""``followup log`` says what a change cancelled, and why: a reminder whose action was
just recorded is done; one left behind by a move, whose action was never marked done,
says so with the command that records it."""

from __future__ import annotations


def by_rule(cancelled):
    return {(c["rule"], c["contact"]): c for c in cancelled}


def test_a_call_cancels_an_unsent_thank_you_note_and_says_so(followup, acme):
    app = acme["id"]
    out = followup("log", app, "thank_you_sent", "--contact", "Jane Doe", "--json").json()
    jane = by_rule(out["cancelled"])["thank-you-notes", "Jane Doe"]
    assert (jane["reason"], jane["done_by"], jane["never_done"]) == (
        "done", "thank_you_sent", False)

    shown = followup("log", app, "called")
    lines = shown.stdout.splitlines()
    assert lines[0] == f"{app}: recorded; now followed_up"
    # Raj was never thanked: the note is cancelled by the call, and the output says so.
    assert (f"  cancelled thank-you-notes — Raj Patel (the application is now followed_up): "
            f'"Thank Raj Patel for the interview at Acme" was never marked done: if it was '
            f"done, record it: followup log {app} thank_you_sent --contact 'Raj Patel'"
            ) in lines
    # The call was the follow-up call's action: cancelled without a word more.
    assert "  cancelled follow-up-call" in lines
    assert "  cancelled ask-decision-date (the application is now followed_up)" in lines
    assert sum("never marked done" in line for line in lines) == 1

    # The command it gives records the note; nothing else is cancelled by it.
    out = followup("log", app, "thank_you_sent", "--contact", "Raj Patel", "--json").json()
    assert (out["state"], out["changed"], out["cancelled"]) == ("followed_up", True, [])


def test_the_reasons_in_json(followup, acme):
    app = acme["id"]
    out = followup("log", app, "--fact", "decision_expected_on=2027-01-08", "--json").json()
    ask = by_rule(out["cancelled"])["ask-decision-date", None]
    assert (ask["reason"], ask["done_by"], ask["never_done"]) == ("condition", None, False)
    # The decision date moves the call: re-timed, it is armed, not cancelled.
    assert ("follow-up-call", None) not in by_rule(out["cancelled"])
    assert "follow-up-call" in [t["rule"] for t in out["armed"]]

    out = followup("log", app, "rejected", "--json").json()
    found = by_rule(out["cancelled"])
    assert {k: (c["reason"], c["never_done"]) for k, c in found.items()
            if k[0] == "thank-you-notes"} == {
        ("thank-you-notes", "Jane Doe"): ("left_state", True),
        ("thank-you-notes", "Raj Patel"): ("left_state", True),
    }
