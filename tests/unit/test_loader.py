"""Loading rule packs: every problem with its file, line, column and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from followup import RulesError, load_rules


def problems(tmp_path: Path, text: str, name: str = "mine.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    return [str(p) for p in info.value.problems]


def test_the_default_pack_loads_with_its_stable_names() -> None:
    pack = load_rules()
    assert pack.states == ("interviewed", "thanked", "followed_up", "offer", "rejected",
                           "keep_warm", "accepted", "declined", "withdrawn")
    assert pack.initial == "interviewed"
    assert {r.name for r in pack.rules} >= {"thank-you-notes", "follow-up-call"}
    assert set(pack.events) >= {
        "thank_you_sent", "reference_briefed", "referral_contacted", "called",
        "offer_received", "rejected", "reopened", "opted_out",
        # how an application ends
        "offer_accepted", "offer_declined", "offer_withdrawn", "withdrew",
    }
    assert set(pack.facts) >= {
        "interviewed_at", "decision_expected_on", "follow_up_requested_on", "why_me",
        "not_interested",
    }
    assert set(pack.roles) >= {"interviewer", "referral", "reference", "recruiter"}


def test_an_unknown_state_points_at_its_value(tmp_path: Path) -> None:
    found = problems(tmp_path, """version: 1
extends: after-interview
rules:
  - name: thank-you-notes
    while: interviewd
""")
    assert found == [
        f"{tmp_path / 'mine.yaml'}:5:12: unknown state 'interviewd' (did you mean "
        "'interviewed'?); states are interviewed, thanked, followed_up, offer, rejected, "
        "keep_warm, accepted, declined, withdrawn (add it under states: to define it) "
        "(at rules[0].while)"
    ]


def test_a_misspelled_key_points_at_the_key(tmp_path: Path) -> None:
    [found] = problems(tmp_path, """version: 1
extends: after-interview
rules:
  - name: thank-you-notes
    whlie: interviewed
""")
    assert found.startswith(
        f"{tmp_path / 'mine.yaml'}:5:5: unknown key 'whlie' (did you mean 'while'?): remove it, "
        "or use one allowed here: ")
    assert found.endswith("(at rules[0].whlie)")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(tmp_path, """version: 1
states: [a, b]
events:
  go: {from: a, to: c}
rules:
  - name: r1
    while: z
    at: 2 workdays after entered
    done_by: went
    notify: {template: nope}
""")
    text = "\n".join(found)
    assert ":8:9:" in text and "is not a valid timespec" in text
    # Schema problems stop before semantic checks; fix the time and see the rest.
    found = problems(tmp_path, """version: 1
states: [a, b]
events:
  go: {from: a, to: c}
rules:
  - name: r1
    while: z
    at: 2 days after entered
    done_by: went
    notify: {template: nope}
""")
    assert [f.split(": ", 1)[0].rsplit(":", 2)[-2:] for f in found] == [
        ["4", "21"], ["7", "12"], ["9", "14"], ["10", "24"]
    ]
    assert "unknown state 'c'" in found[0]
    assert "unknown event 'went'" in found[2] and "did you mean 'go'" not in found[2]
    assert "unknown template 'nope'" in found[3]


def test_conditions_and_templates_are_checked_when_the_pack_loads(tmp_path: Path) -> None:
    found = problems(tmp_path, """version: 1
extends: after-interview
rules:
  - name: nudge
    if: "count.interviewer == 0 and not intervewed_at"
    notify: {subject: "Hi {{ contact.__class__ }}", body: "{% if %}"}
""")
    assert any(":5:9:" in f and "unknown name 'intervewed_at'" in f and
               "did you mean 'interviewed_at'" in f for f in found)
    assert any(":6:59:" in f and "does not parse" in f for f in found)
    assert any(":6:23:" in f and "reaches for '__class__'" in f for f in found)


def test_a_time_must_count_from_a_date_fact(tmp_path: Path) -> None:
    [found] = problems(tmp_path, """version: 1
extends: after-interview
rules:
  - name: thank-you-notes
    due: 2 working days after why_me
""")
    assert ":5:10:" in found and "'why_me', which is text" in found


def test_extending_changes_only_what_it_says(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("""version: 1
extends: after-interview
rules:
  - name: thank-you-notes
    due: 1 working day after interviewed_at
""")
    base, mine = load_rules(), load_rules(tmp_path / "mine.yaml")
    assert mine.rule("thank-you-notes").due is not None
    assert mine.rule("thank-you-notes").due.text == "1 working day after interviewed_at"
    assert mine.rule("thank-you-notes").for_each == "interviewer"
    mine_call, base_call = mine.rule("follow-up-call"), base.rule("follow-up-call")
    assert (mine_call.at, mine_call.due, mine_call.instead, mine_call.states) == (
        base_call.at, base_call.due, base_call.instead, base_call.states
    )
    assert mine.rule("thank-you-notes").at == base.rule("thank-you-notes").at
    assert mine.states == base.states and mine.events.keys() == base.events.keys()
    assert mine.files[0] == str(tmp_path / "mine.yaml")


def test_a_pack_can_add_a_state_and_silence_a_rule(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("""version: 1
extends: after-interview
states: [second_interview]
events:
  invited_back: {from: [interviewed, thanked], to: second_interview}
rules:
  - name: follow-up-call
    enabled: false
""")
    pack = load_rules(tmp_path / "mine.yaml")
    assert pack.states[-1] == "second_interview"
    assert "follow-up-call" not in {r.name for r in pack.rules}


def test_extends_a_missing_or_circular_pack(tmp_path: Path) -> None:
    [found] = problems(tmp_path, "version: 1\nextends: base.yaml\n")
    assert ":2:10:" in found and "cannot find the pack 'base.yaml'" in found
    (tmp_path / "a.yaml").write_text("version: 1\nextends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("version: 1\nextends: a.yaml\n")
    with pytest.raises(RulesError, match="in a circle"):
        load_rules(tmp_path / "a.yaml")


def test_an_empty_file_says_how_to_start(tmp_path: Path) -> None:
    [found] = problems(tmp_path, "")
    assert "empty" in found and "version: 1" in found


def test_a_misspelled_field_is_a_load_error(tmp_path: Path) -> None:
    [found] = problems(tmp_path, """version: 1
extends: after-interview
rules:
  - name: nudge
    if: "count.intervewer == 0"
""")
    assert ":5:9:" in found and "count.intervewer, which does not exist" in found
    assert "does not exist (did you mean 'count.interviewer'?): count has interviewer," in found


def test_calendar_problems_point_at_the_extending_file(tmp_path: Path) -> None:
    found = problems(tmp_path, """version: 1
extends: after-interview
calendar:
  holidays: ["2026-02-30"]
  country: XX
""")
    assert [f.split(": ", 1)[0].rsplit(":", 2)[-2:] for f in found] == [["4", "14"]]
    assert "'2026-02-30' is not a real date" in found[0]
    [found_country] = problems(tmp_path, """version: 1
extends: after-interview
calendar:
  country: XX
""")
    assert found_country.startswith(f"{tmp_path / 'mine.yaml'}:4:12:")


def test_a_pack_is_named_after_its_own_file(tmp_path: Path) -> None:
    (tmp_path / "coach.yaml").write_text("version: 1\nextends: after-interview\n")
    assert load_rules(tmp_path / "coach.yaml").name == "coach"


def test_a_transition_can_be_changed_or_turned_off_by_name(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("""version: 1
extends: after-interview
transitions:
  - {name: keep-warm, after: 5 working days}
  - {name: all-thanked, enabled: false}
""")
    pack = load_rules(tmp_path / "mine.yaml")
    keep_warm, after_declining = pack.transitions
    assert after_declining.name == "keep-warm-after-declining"  # untouched
    assert after_declining.after is not None and after_declining.after.working_days == 1
    assert keep_warm.name == "keep-warm" and keep_warm.sources == ("rejected",)
    assert keep_warm.after is not None and keep_warm.after.working_days == 5
