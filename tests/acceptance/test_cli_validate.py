"""``followup validate FILE...``: exit 0 for a good pack, 2 for a bad one, FILE:LINE:COL."""

from __future__ import annotations

import re

import pytest

UNKNOWN_STATE = """
    version: 1
    name: mine
    extends: after-interview
    rules:
      - name: extra-nudge
        while: interviewd
        at: 3 days after interviewed_at
        notify: {template: follow-up-call}
"""

MISSPELLED_KEY = """
    version: 1
    name: mine
    extends: after-interview
    rules:
      - name: extra-nudge
        whlie: interviewed
        at: 3 days after interviewed_at
        notify: {template: follow-up-call}
"""

BAD_SYNTAX = """
    version: 1
    name: mine
    extends: after-interview
    rules:
      - name: extra-nudge
        while: [interviewed, thanked
        at: 3 days after interviewed_at
"""

PROBLEM_KEYS = {"file", "line", "column", "path", "message", "severity"}


def test_default_pack_is_valid(followup, default_pack):
    result = followup("validate", str(default_pack))
    assert result.stdout.startswith(f"{default_pack}: ok")
    assert "'after-interview'" in result.stdout
    assert result.stderr == ""


def test_demo_pack_is_valid(followup, default_pack):
    demo = default_pack.with_name("demo.yaml")
    result = followup("validate", str(demo))
    assert result.stdout.startswith(f"{demo}: ok")


def test_unknown_state_points_at_the_value(followup):
    pack = followup.write("mine.yaml", UNKNOWN_STATE)
    result = followup("validate", str(pack), expect=2)
    # Line 6, column 12: the value after "    while: ".
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{pack}:6:12: ")
    assert "'interviewd'" in lines[0]
    assert "did you mean 'interviewed'" in lines[0]
    assert result.stdout == ""


def test_misspelled_key_points_at_the_key(followup):
    pack = followup.write("mine.yaml", MISSPELLED_KEY)
    result = followup("validate", str(pack), expect=2)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{pack}:6:5: ")
    assert "'whlie'" in lines[0]
    assert "did you mean 'while'" in lines[0]


def test_bad_yaml_syntax(followup):
    pack = followup.write("mine.yaml", BAD_SYNTAX)
    result = followup("validate", str(pack), expect=2)
    match = re.match(rf"{re.escape(str(pack))}:(\d+):(\d+): (.*)", result.stderr)
    assert match, result.stderr
    line, column, message = int(match[1]), int(match[2]), match[3]
    # The parser notices the unclosed "[" of line 6 on line 7, and says where it opened.
    assert (line, column) == (7, 7)
    assert "YAML syntax error" in message
    assert "line 6, column 12" in message
    assert "Traceback" not in result.stderr


def test_missing_file(followup, tmp_path):
    missing = tmp_path / "no-such-pack.yaml"
    result = followup("validate", str(missing), expect=2)
    assert result.stderr.startswith(f"{missing}:")
    assert "No such file" in result.stderr or "not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_one_bad_file_among_good_ones_fails_and_all_are_reported(followup, default_pack):
    bad = followup.write("mine.yaml", UNKNOWN_STATE)
    result = followup("validate", str(default_pack), str(bad), expect=2)
    assert result.stdout.startswith(f"{default_pack}: ok")
    assert result.stderr.startswith(f"{bad}:6:12: ")


def test_json_shape(followup, default_pack, tmp_path):
    bad = followup.write("mine.yaml", UNKNOWN_STATE)
    typo = followup.write("typo.yaml", MISSPELLED_KEY)
    missing = tmp_path / "missing.yaml"
    result = followup(
        "validate", "--json", str(default_pack), str(bad), str(typo), str(missing), expect=2
    )
    data = result.json()
    assert [r["file"] for r in data] == [str(default_pack), str(bad), str(typo), str(missing)]
    assert [r["ok"] for r in data] == [True, False, False, False]
    for report in data:
        assert {"file", "ok", "problems"} <= set(report)
        for problem in report["problems"]:
            assert set(problem) == PROBLEM_KEYS
            assert isinstance(problem["line"], int)
            assert isinstance(problem["column"], int)
            assert problem["severity"] in {"error", "warning"}
    assert data[0]["problems"] == []
    [state] = data[1]["problems"]
    assert (state["file"], state["line"], state["column"], state["path"], state["severity"]) == (
        str(bad),
        6,
        12,
        "rules[0].while",
        "error",
    )
    assert "did you mean 'interviewed'" in state["message"]
    [key] = data[2]["problems"]
    assert (key["file"], key["line"], key["column"], key["severity"]) == (str(typo), 6, 5, "error")
    assert "whlie" in key["path"]
    [gone] = data[3]["problems"]
    assert gone["file"] == str(missing)
    assert gone["severity"] == "error"


@pytest.mark.parametrize("text", [UNKNOWN_STATE, MISSPELLED_KEY, BAD_SYNTAX])
def test_validate_writes_nothing(followup, text):
    pack = followup.write("mine.yaml", text)
    before = sorted(p.name for p in followup.tmp_path.rglob("*"))
    followup("validate", str(pack), expect=2)
    assert not followup.db.exists()
    assert sorted(p.name for p in followup.tmp_path.rglob("*")) == before


SEVEN_MISTAKES = """
    version: 1
    name: mine
    extends: after-interview
    rules:
      - name: extra-nudge
        whlie: interviewed
        at: 3 days after interviewed_at
        notify: {template: follow-up-call}
      - name: other
        while: interviewd
        at: 3 dyas after interviewed_at
        notify: {template: follow-up-cal}
      - name: third
        while: thankd
        at: 2 days after intervewed_at
        notify: {template: follow-up-call}
    events:
      ghosted: {from: [followd_up], to: keep_warm}
"""


def test_every_problem_in_one_pass_schema_and_semantic_in_file_order(followup):
    """Two mistakes the schema finds and five only the compiler can: all seven at once
    (validate used to stop after the first two)."""
    pack = followup.write("mine.yaml", SEVEN_MISTAKES)
    result = followup("validate", str(pack), expect=2)
    lines = result.stderr.splitlines()
    where = [tuple(int(n) for n in re.match(r".*?:(\d+):(\d+): ", line).groups())
             for line in lines]
    assert where == sorted(where)
    assert [w[0] for w in where] == [6, 10, 11, 12, 14, 15, 18]
    assert "unknown key 'whlie' (did you mean 'while'?)" in lines[0]  # the schema's
    assert "unknown state 'interviewd' (did you mean 'interviewed'?)" in lines[1]
    assert "is not a valid timespec" in lines[2]  # the schema's
    assert "unknown template 'follow-up-cal'" in lines[3]
    assert "unknown state 'thankd'" in lines[4] and lines[4].endswith("(at rules[2].while)")
    assert "'intervewed_at'" in lines[5]
    assert "unknown state 'followd_up'" in lines[6]
    data = followup("validate", str(pack), "--json", expect=2).json()
    assert [(p["line"], p["path"]) for p in data[0]["problems"]] == [
        (6, "rules[0].whlie"), (10, "rules[1].while"), (11, "rules[1].at"),
        (12, "rules[1].notify.template"), (14, "rules[2].while"), (15, "rules[2].at"),
        (18, "events.ghosted.from[0]")]


def test_a_file_the_schema_cannot_read_at_all_reports_the_schema_alone(followup):
    pack = followup.write("mine.yaml", """
        - just
        - a list
        """)
    result = followup("validate", str(pack), expect=2)
    assert len(result.stderr.splitlines()) == 1


def test_a_rule_name_close_to_an_inherited_one_is_refused_unless_new(followup):
    """``thank-you-note`` in a pack that extends the default one meant ``thank-you-notes``:
    taken as a 12th rule, it sent a second thank-you reminder."""
    pack = followup.write("mine.yaml", """
        version: 1
        name: mine
        extends: after-interview
        rules:
          - name: thank-you-note
            at: 1 day after interviewed_at
            notify: {template: thank-you}
        """)
    result = followup("validate", str(pack), expect=2)
    assert result.stderr.startswith(f"{pack}:5:11: rule 'thank-you-note' is not in the pack")
    assert "close to the inherited 'thank-you-notes'" in result.stderr
    assert "'new: true'" in result.stderr
    # Said to be new, it is a rule of its own.
    pack.write_text(pack.read_text(encoding="utf-8").replace(
        "    at: 1 day", "    new: true\n    at: 1 day"), encoding="utf-8")
    data = followup("validate", str(pack), "--json").json()
    assert data[0]["ok"] is True
    assert {"thank-you-note", "thank-you-notes"} <= set(data[0]["rules"])
    # A name far from every inherited one needs nothing.
    pack.write_text(pack.read_text(encoding="utf-8").replace("    new: true\n", "").replace(
        "thank-you-note", "send-portfolio"), encoding="utf-8")
    followup("validate", str(pack))


def test_new_on_an_inherited_rule_is_refused(followup):
    pack = followup.write("mine.yaml", """
        version: 1
        name: mine
        extends: after-interview
        rules:
          - name: follow-up-call
            new: true
        """)
    result = followup("validate", str(pack), expect=2)
    assert "rule 'follow-up-call' is in the pack this one extends" in result.stderr
