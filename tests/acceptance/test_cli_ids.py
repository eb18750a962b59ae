"""An application is named by its id or by a unique start of it, wherever an id is taken."""

from __future__ import annotations

from tests.acceptance.conftest import ACME_INIT


def _two(followup):
    followup(*ACME_INIT)
    for app_id, company in (("c0ffee1234ab", "Acme"), ("c0ffad5678cd", "Globex")):
        followup("add", "--company", company, "--role", "Engineer", "--id", app_id,
                 "--interviewed", "2026-12-23T15:00", "--interviewer", "Jane Doe, CTO")


def test_a_unique_start_of_an_id_is_enough(followup):
    _two(followup)
    shown = followup("show", "c0ffe", "--json").json()
    assert (shown["id"], shown["company"]) == ("c0ffee1234ab", "Acme")
    out = followup("log", "c0ffa", "thank_you_sent", "--contact", "Jane Doe", "--json").json()
    assert out["id"] == "c0ffad5678cd"
    history = followup("show", "c0ffad5678cd", "--json").json()["history"]
    assert [h["name"] for h in history if h["kind"] == "event"] == ["thank_you_sent"]
    # The other application was not touched.
    history = followup("show", "c0ffee1234ab", "--json").json()["history"]
    assert [h["name"] for h in history if h["kind"] == "event"] == []


def test_an_ambiguous_start_is_refused_listing_the_matches(followup):
    _two(followup)
    result = followup("log", "c0ff", "called", expect=2)
    assert "'c0ff' is the start of 2 applications' ids" in result.stderr
    assert "c0ffee1234ab (Engineer at Acme)" in result.stderr
    assert "c0ffad5678cd (Engineer at Globex)" in result.stderr
    for app_id in ("c0ffee1234ab", "c0ffad5678cd"):
        assert followup("show", app_id, "--json").json()["state"] == "interviewed"


def test_no_match_is_refused_with_the_closest_id(followup):
    _two(followup)
    result = followup("show", "c0ffee1234ac", expect=2)
    assert "no application 'c0ffee1234ac' (did you mean 'c0ffee1234ab'?)" in result.stderr
    # Another owner's application is not found by its start either.
    result = followup("show", "c0ffe", "--owner", "someone-else", expect=2)
    assert "no application 'c0ffe'" in result.stderr


def test_export_of_one_applications_cards_takes_a_start_of_its_id(followup):
    _two(followup)
    cards = followup("export", "--vcard", "--app", "c0ffe").stdout
    assert "Jane Doe" in cards
    result = followup("export", "--vcard", "--app", "c0ff", expect=2)
    assert "is the start of 2 applications' ids" in result.stderr
