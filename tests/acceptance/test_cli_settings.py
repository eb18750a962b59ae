"""Owners' settings are made once by ``init`` and edited by ``settings``: what is not given
is kept, and the owner's reminders are re-planned to follow."""

from __future__ import annotations

from datetime import datetime

from tests.acceptance.conftest import ACME_INIT


def _settings(followup):
    return followup("settings", "--json").json()


def test_add_before_init_is_refused_with_the_command_to_run(followup):
    result = followup("add", "--company", "Acme", "--role", "Engineer", "--interviewed",
                      "2026-12-23T10:00", expect=2)
    assert "followup init" in result.stderr
    assert not followup.db.exists()  # nothing was created
    followup("init", "--timezone", "America/New_York")
    # A store made by another owner's init still does not make this owner UTC.
    result = followup("add", "--company", "Acme", "--role", "Engineer", "--owner", "bo",
                      expect=2)
    assert "'bo' has no settings" in result.stderr
    assert "followup init --timezone" in result.stderr
    assert followup("list", "--owner", "bo", "--json").json() == []


def test_init_again_refuses_and_names_the_settings_command(followup):
    followup(*ACME_INIT, "--digest", "08:00", "--quiet-hours", "22:00-07:00")
    before = _settings(followup)
    result = followup("init", "--timezone", "America/Chicago", expect=2)
    assert "followup settings" in result.stderr
    assert _settings(followup) == before


def test_settings_change_only_what_is_given(followup):
    followup(*ACME_INIT, "--digest", "08:00", "--quiet-hours", "22:00-07:00")
    data = followup("settings", "--timezone", "America/Chicago", "--json").json()
    assert data["timezone"] == "America/Chicago"
    assert data["changed"] == ["timezone"]
    # The holidays, digest and quiet hours set at init are kept.
    assert (data["country"], data["subdivision"]) == ("US", "NY")
    assert data["digest"] == "08:00"
    assert data["quiet_hours"] == ["22:00-07:00"]
    # A country alone keeps the zone (init --country used to reset it to UTC); the old
    # country's subdivision goes with it.
    data = followup("settings", "--country", "DE", "--json").json()
    assert (data["timezone"], data["country"], data["subdivision"]) == (
        "America/Chicago", "DE", None)
    assert data["changed"] == ["country", "subdivision"]
    # 'off' and 'default' put a setting back.
    data = followup("settings", "--digest", "off", "--country", "default", "--json").json()
    assert (data["digest"], data["country"], data["timezone"]) == (None, None, "America/Chicago")
    assert data["quiet_hours"] == ["22:00-07:00"]


def test_settings_refuse_a_bad_value_and_change_nothing(followup):
    followup(*ACME_INIT)
    before = _settings(followup)
    result = followup("settings", "--timezone", "America/Chicgo", expect=2)
    assert "America/Chicago" in result.stderr  # the suggestion
    result = followup("settings", "--country", "US", "--subdivision", "XX", expect=2)
    assert "XX" in result.stderr
    assert _settings(followup) == before


def test_settings_before_init_name_init(followup):
    followup("migrate")
    result = followup("settings", "--timezone", "Europe/Berlin", expect=2)
    assert "followup init" in result.stderr


def test_a_new_zone_replans_the_reminders_already_planned(followup):
    followup(*ACME_INIT)
    added = followup("add", "--company", "Acme", "--role", "Engineer", "--interviewed",
                     "2026-12-23T15:00-05:00", "--interviewer", "Jane Doe, CTO",
                     "--json").json()
    call = next(t for t in added["timers"] if t["rule"] == "follow-up-call")
    before = datetime.fromisoformat(call["at"])
    result = followup("settings", "--timezone", "Asia/Tokyo")
    assert "re-planned 1 application" in result.stdout
    agenda = followup("agenda", "--days", "3650", "--json").json()
    after = datetime.fromisoformat(next(t["at"] for t in agenda if t["rule"] == "follow-up-call"))
    assert after.utcoffset() is not None and after.utcoffset().total_seconds() == 9 * 3600
    # The same local rule (a send window in the owner's zone) now falls at another instant.
    assert after != before


def test_an_empty_list_says_where_to_start(followup):
    followup("migrate")
    assert "followup init --timezone" in followup("list").stdout
    followup("init", "--timezone", "UTC")
    assert "add one with  followup add" in followup("list").stdout
