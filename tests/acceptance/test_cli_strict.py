"""Typos are refused with a "did you mean", and nothing is recorded: an undeclared fact, a
state that no application can be in, an unknown event or command."""

from __future__ import annotations

import pytest

from tests.acceptance.conftest import ACME_INIT


def _facts(followup, app_id):
    return followup("show", app_id, "--json").json()["facts"]


def test_an_undeclared_fact_is_refused_with_the_declared_one(followup, acme):
    before = _facts(followup, acme["id"])
    result = followup("log", acme["id"], "--fact", "decison_expected_on=2026-12-10", expect=2)
    assert "'decison_expected_on'" in result.stderr
    assert "did you mean 'decision_expected_on'?" in result.stderr
    assert _facts(followup, acme["id"]) == before
    # The declared fact is taken.
    followup("log", acme["id"], "--fact", "decision_expected_on=2026-12-10")
    assert _facts(followup, acme["id"])["decision_expected_on"] == "2026-12-10"


def test_add_refuses_an_undeclared_fact_and_adds_nothing(followup):
    followup(*ACME_INIT)
    result = followup("add", "--company", "Acme", "--role", "Engineer", "--fact",
                      "why_mee=I ship", expect=2)
    assert "did you mean 'why_me'?" in result.stderr
    assert followup("list", "--json").json() == []


def test_the_company_is_not_a_fact(followup, acme):
    result = followup("log", acme["id"], "--fact", "company=Acme2", expect=2)
    assert (f"company is a field, not a fact: use followup edit {acme['id']} --company Acme2"
            in result.stderr)
    shown = followup("show", acme["id"], "--json").json()
    assert shown["company"] == "Acme"
    assert "company" not in shown["facts"]


@pytest.mark.parametrize(("state", "hint"), [("thankd", "did you mean 'thanked'?"),
                                             ("nonsense", "states are interviewed")])
def test_an_unknown_state_in_a_filter_is_refused(followup, acme, state, hint):
    result = followup("list", "--state", state, expect=2)
    assert f"--state {state!r}" in result.stderr
    assert hint in result.stderr
    assert result.stdout == ""


def test_an_unknown_event_gets_a_suggestion(followup, acme):
    result = followup("log", acme["id"], "thank_you_snet", "--contact", "Jane Doe", expect=2)
    assert "unknown event 'thank_you_snet' (did you mean 'thank_you_sent'?)" in result.stderr


def test_an_unknown_command_gets_a_suggestion(followup):
    result = followup("lst", expect=2)
    assert "invalid choice: 'lst' (did you mean 'list'?)" in result.stderr
    # A choice of an option too, through the same helper.
    result = followup("outbox", "--status", "dad", expect=2)
    assert "(did you mean 'dead'?)" in result.stderr


def test_a_pack_declares_free_text_facts(followup):
    pack = followup.write("notes.yaml", """
        version: 1
        name: notes
        extends: after-interview
        facts:
          salary: {free: true, description: what they offered}
        """)
    followup.env["FOLLOWUP_RULES"] = str(pack)
    followup(*ACME_INIT)
    app = followup("add", "--company", "Acme", "--role", "Engineer", "--fact",
                   "salary=120k + equity", "--json").json()["id"]
    assert _facts(followup, app)["salary"] == "120k + equity"
    result = followup("log", app, "--fact", "salry=130k", expect=2)
    assert "(did you mean 'salary'?)" in result.stderr
    assert "{free: true}" in result.stderr  # how to declare one


def test_a_misspelt_option_gets_a_suggestion(followup, acme):
    result = followup("list", "--sate", "thanked", expect=2)
    assert "'--sate' (did you mean '--state'?)" in result.stderr
