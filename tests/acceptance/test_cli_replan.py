"""``followup replan``: after the rule pack is edited, the applications it planned before
are re-planned; ``--dry-run`` shows what would move and changes nothing."""

from __future__ import annotations

CALL_AT = "at: 7 days after interviewed_at"


def _call(followup, app_id):
    """When the application's follow-up call is planned, as ``show`` says it."""
    timers = followup("show", app_id, "--json").json()["timers"]
    [at] = [t["at"] for t in timers if t["rule"] == "follow-up-call"]
    return at


def test_a_pack_edit_is_shown_by_a_dry_run_then_re_planned(followup, default_pack):
    text = default_pack.read_text(encoding="utf-8")
    assert CALL_AT in text
    pack = followup.write("rules.yaml", text)
    followup.env["FOLLOWUP_RULES"] = str(pack)
    followup("init", "--timezone", "UTC")
    # Interviews far ahead: nothing comes due while the test runs.
    ids = [followup("add", "--company", company, "--role", "Engineer", "--interviewed", at,
                    "--json").json()["id"]
           for company, at in (("Acme", "2990-01-07T10:00"), ("Globex", "2990-01-08T15:30"))]
    result = followup("replan")
    assert result.stdout.startswith("Nothing to re-plan: every application was planned by")

    pack.write_text(text.replace(CALL_AT, "at: 5 days after interviewed_at"), encoding="utf-8")
    dry = followup("replan", "--dry-run", "--json").json()
    assert dry["dry_run"] is True and dry["applications"] == 2
    assert (dry["moved"], dry["added"], dry["cancelled"], dry["errors"]) == (2, 0, 0, {})
    moves = {m["application"]: m for m in dry["moves"]}
    assert sorted(moves) == sorted(ids)
    for move in moves.values():
        assert (move["rule"], move["kind"]) == ("follow-up-call", "moved")
        assert move["after"] < move["before"]
    assert _call(followup, ids[0]) == moves[ids[0]]["before"]  # nothing changed
    shown = followup("replan", "--dry-run").stdout
    for app_id in ids:
        assert f"{app_id} (tester)" in shown
    assert "follow-up-call: " in shown and " -> " in shown
    assert "Nothing was changed." in shown

    done = followup("replan", "--progress", "--batch", "1")
    assert done.stdout.startswith("Re-planned 2 applications with the rule pack")
    assert "2 reminders moved, 0 added, 0 cancelled." in done.stdout
    assert "re-planning 2/2 100%" in done.stderr
    assert {i: _call(followup, i) for i in ids} == {i: moves[i]["after"] for i in ids}
    assert followup("replan", "--dry-run", "--json").json()["applications"] == 0
    again = followup("replan", "--all", "--json").json()
    assert (again["applications"], again["moved"], again["dry_run"]) == (2, 0, False)


def test_a_bad_batch_size_is_refused(followup):
    followup("init", "--timezone", "UTC")
    result = followup("replan", "--batch", "0", expect=2)
    assert "--batch 0: give a number of applications from 1 to 10,000" in result.stderr


def test_a_pass_of_the_daemon_re_plans_and_says_so(followup, default_pack):
    text = default_pack.read_text(encoding="utf-8")
    pack = followup.write("rules.yaml", text)
    followup.env["FOLLOWUP_RULES"] = str(pack)
    followup("init", "--timezone", "UTC")
    app_id = followup("add", "--company", "Acme", "--role", "Engineer", "--interviewed",
                      "2990-01-07T10:00", "--json").json()["id"]
    before = _call(followup, app_id)
    quiet = followup("run", "--once", "--json").json()
    assert quiet["replanned"] == {"applications": 0, "moved": 0}

    pack.write_text(text.replace(CALL_AT, "at: 5 days after interviewed_at"), encoding="utf-8")
    text_run = followup("run", "--once")
    assert "re-planned 1 application under the pack as it is now (1 with reminders moved)" \
        in text_run.stderr
    assert _call(followup, app_id) < before
    assert followup("run", "--once", "--json").json()["replanned"] == {
        "applications": 0, "moved": 0}
