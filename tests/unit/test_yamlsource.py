"""Reading rule files safely, with the line and column of every value and every problem."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.errors import Problem, RulesError
from followup.language import yamlsource
from followup.language.yamlsource import Mark, Source, format_path, load_yaml, load_yaml_file

LOADERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if yaml.__with_libyaml__ else [])


@pytest.fixture(autouse=True, params=LOADERS, ids=lambda loader: loader.__name__)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[type]:
    """Every test runs with PyYAML's pure parser and, when it is there, with libyaml's."""
    monkeypatch.setattr(yamlsource, "_LOADER", request.param)
    yield request.param


def problems_of(data: str | bytes, **limits: int) -> list[Problem]:
    with pytest.raises(RulesError) as caught:
        load_yaml(data, file="pack.yaml", **limits)
    return caught.value.problems


def only_problem(data: str | bytes, **limits: int) -> Problem:
    found = problems_of(data, **limits)
    assert len(found) == 1, found
    return found[0]


# --- values and marks ------------------------------------------------------------------------


def test_plain_values_come_out_as_python_data() -> None:
    doc = (
        "text: hello\n"
        "whole: 42\n"
        "hex: 0x1F\n"
        "number: 2.5\n"
        "yes_no: [true, false, yes, off]\n"
        "nothing: ~\n"
        "empty:\n"
        "quoted: '42'\n"
        "forced: !!str 7\n"
        "typed: !!int '7'\n"
    )
    assert load_yaml(doc, file="pack.yaml").value == {
        "text": "hello",
        "whole": 42,
        "hex": 31,
        "number": 2.5,
        "yes_no": [True, False, True, False],
        "nothing": None,
        "empty": None,
        "quoted": "42",
        "forced": "7",
        "typed": 7,
    }


def test_times_and_dates_stay_the_text_that_was_written() -> None:
    doc = "at: 2026-12-23T15:00:00-05:00\nday: 2026-12-24\nclose: 17:00\nlong: 1:30:00\n"
    value = load_yaml(doc, file="pack.yaml").value
    assert value == {
        "at": "2026-12-23T15:00:00-05:00",
        "day": "2026-12-24",
        "close": "17:00",  # not 1020, as YAML 1.1's base-60 numbers would have it
        "long": "1:30:00",
    }


def test_mapping_keys_keep_file_order() -> None:
    value = load_yaml("zeta: 1\nalpha: 2\nmid: 3\n", file="pack.yaml").value
    assert list(value) == ["zeta", "alpha", "mid"]


def test_marks_give_line_and_column_of_each_value_and_key() -> None:
    doc = (
        "version: 1\n"  # 1
        "rules:\n"  # 2
        "  - name: thank-you-notes\n"  # 3
        "    due: 2 working days\n"  # 4
        "    notify: {template: thank-you, channels: [email, chat]}\n"  # 5
        "  - name: follow-up-call\n"  # 6
    )
    source = load_yaml(doc, file="pack.yaml")
    assert source.marks[()] == Mark(1, 1)
    assert source.marks[("version",)] == Mark(1, 10)
    assert source.marks[("rules",)] == Mark(3, 3)
    assert source.marks[("rules", 0)] == Mark(3, 5)
    assert source.marks[("rules", 0, "name")] == Mark(3, 11)
    assert source.marks[("rules", 0, "due")] == Mark(4, 10)
    assert source.marks[("rules", 0, "notify")] == Mark(5, 13)
    assert source.marks[("rules", 0, "notify", "template")] == Mark(5, 24)
    assert source.marks[("rules", 0, "notify", "channels", 1)] == Mark(5, 53)
    assert source.marks[("rules", 1, "name")] == Mark(6, 11)
    assert source.key_marks[("rules",)] == Mark(2, 1)
    assert source.key_marks[("rules", 0, "due")] == Mark(4, 5)
    assert source.key_marks[("rules", 0, "notify", "channels")] == Mark(5, 35)


def test_columns_count_characters_not_bytes() -> None:
    source = load_yaml('note: "caf\u00e9 \U0001f600"\nnext: x\n', file="pack.yaml")
    assert source.marks[("note",)] == Mark(1, 7)
    source = load_yaml("name: \u00e9\u00e9\nlist: [\u00e9, b]\n", file="pack.yaml")
    assert source.marks[("list", 1)] == Mark(2, 11)


def test_an_empty_value_is_marked_just_after_its_key() -> None:
    source = load_yaml("due:\nnext: 1\n", file="pack.yaml")
    assert source.value == {"due": None, "next": 1}
    assert source.marks[("due",)] == Mark(1, 5)


def test_mark_falls_back_to_the_nearest_known_parent() -> None:
    source = load_yaml("rules:\n  - name: x\n", file="pack.yaml")
    assert source.mark(("rules", 0, "missing", 3)) == Mark(2, 5)
    assert source.mark(("nowhere",)) == Mark(1, 1)
    assert load_yaml("", file="pack.yaml").mark(()) == Mark(1, 1)


def test_problem_points_at_the_value_or_at_its_key() -> None:
    source = load_yaml("rules:\n  - whlie: interviewed\n", file="pack.yaml")
    at_value = source.problem(("rules", 0, "whlie"), "bad value")
    at_key = source.problem(("rules", 0, "whlie"), "unknown key", at_key=True)
    warning = source.problem(("rules",), "odd", severity="warning")
    assert at_value == Problem("pack.yaml", 2, 12, "rules[0].whlie", "bad value")
    assert at_key == Problem("pack.yaml", 2, 5, "rules[0].whlie", "unknown key")
    assert str(warning) == "pack.yaml:2:3: warning: odd (at rules)"


def test_at_key_without_a_known_key_uses_the_value_mark() -> None:
    source = load_yaml("- a\n- b\n", file="pack.yaml")
    assert source.problem((1,), "x", at_key=True).line == 2


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), ""),
        (("rules", 2, "due"), "rules[2].due"),
        (("rules", 0, "odd key"), 'rules[0]["odd key"]'),
        (("odd key", "x"), '["odd key"].x'),
        ((3, "a"), "[3].a"),
        (("events", "thank-you"), 'events["thank-you"]'),
        (("a", 'say "hi"'), 'a["say \\"hi\\""]'),
    ],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text


@pytest.mark.parametrize("doc", ["", "# only a comment\n", "---\n", "---\n...\n", "~\n", b""])
def test_an_empty_document_is_none(doc: str | bytes) -> None:
    assert load_yaml(doc, file="pack.yaml").value is None


# --- merge keys, anchors and aliases --------------------------------------------------------


def test_merge_keys_add_what_the_mapping_lacks_and_written_keys_win() -> None:
    doc = (
        "defaults: &defaults\n"  # 1
        "  channels: [email]\n"  # 2
        "  limit: 2\n"  # 3
        "rule:\n"  # 4
        "  limit: 5\n"  # 5
        "  <<: *defaults\n"  # 6
        "  name: x\n"  # 7
    )
    source = load_yaml(doc, file="pack.yaml")
    assert source.value["rule"] == {"limit": 5, "channels": ["email"], "name": "x"}
    assert list(source.value["rule"]) == ["limit", "channels", "name"]
    # merged values point at where they were written
    assert source.marks[("rule", "channels")] == Mark(2, 13)
    assert source.marks[("rule", "channels", 0)] == Mark(2, 14)
    assert source.key_marks[("rule", "channels")] == Mark(2, 3)
    assert source.marks[("rule", "limit")] == Mark(5, 10)
    assert ("rule", "<<") not in source.marks


def test_a_list_of_merges_prefers_the_earlier_mapping() -> None:
    doc = "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n"
    assert load_yaml(doc, file="pack.yaml").value["c"] == {"x": 1, "y": 1, "z": 2}


def test_a_quoted_merge_key_is_an_ordinary_key() -> None:
    assert load_yaml("'<<': x\n", file="pack.yaml").value == {"<<": "x"}


def test_merging_something_that_is_not_a_mapping_is_a_problem() -> None:
    problem = only_problem("a: &a [1, 2]\nb:\n  <<: *a\n")
    assert (problem.line, problem.column, problem.path) == (1, 4, "b")
    assert "'<<' merges mappings into this one" in problem.message
    assert "(<<: *defaults)" in problem.message


def test_aliases_repeat_their_anchor() -> None:
    doc = "base: &base {template: t}\nrules:\n  - notify: *base\n  - notify: *base\n"
    source = load_yaml(doc, file="pack.yaml")
    assert source.value["rules"] == [{"notify": {"template": "t"}}, {"notify": {"template": "t"}}]
    assert source.marks[("rules", 1, "notify", "template")] == Mark(1, 24)


def test_an_alias_inside_the_value_it_names_is_refused() -> None:
    problem = only_problem("a: &loop\n  b: [*loop]\n")
    assert (problem.line, problem.column, problem.path) == (2, 7, "a.b[0]")
    assert problem.message.startswith("the alias '*loop' is used inside the value it names")


def test_an_alias_without_its_anchor_is_refused_with_a_suggestion() -> None:
    problem = only_problem("defaults: &defaults {a: 1}\nrule: *defualts\n")
    assert (problem.line, problem.column, problem.path) == (2, 7, "rule")
    assert "the alias '*defualts' has no anchor '&defualts' before it" in problem.message
    assert "did you mean '*defaults'?" in problem.message


def test_an_anchor_defined_twice_is_a_problem() -> None:
    problem = only_problem("a: &x 1\nb: &x 2\n")
    assert (problem.line, problem.column) == (2, 4)
    assert problem.message == "the anchor '&x' is defined twice (lines 1 and 2): rename one"


BILLION_LAUGHS = (
    'lol0: &lol0 "lol"\n'
    + "".join(
        f"lol{level}: &lol{level} [{', '.join([f'*lol{level - 1}'] * 10)}]\n"
        for level in range(1, 10)
    )
    + "rules: *lol9\n"
)


def test_billion_laughs_stops_before_expanding() -> None:
    problem = only_problem(BILLION_LAUGHS)
    assert problem.message == (
        "the document expands to more than 200,000 values (aliases that expand without "
        "bound?): use fewer aliases (*name), or split the file"
    )
    # lol6 (1,111,111 values) is the first value that is too big on its own; a value with
    # an anchor starts at its anchor.
    assert (problem.line, problem.column, problem.path) == (7, 7, "lol6")


def test_the_expansion_count_includes_keys_and_every_alias_visit() -> None:
    doc = "a: &a [1, 2]\nb: [*a, *a]\n"  # 1 + (1 + 3) + (1 + 1 + 3 + 3) = 13 values
    assert load_yaml(doc, file="pack.yaml", max_nodes=13).value == {
        "a": [1, 2],
        "b": [[1, 2], [1, 2]],
    }
    assert "more than 12 values" in only_problem(doc, max_nodes=12).message


def test_a_long_flat_document_is_stopped_by_the_value_count_too() -> None:
    problem = only_problem("[" + ", ".join(["1"] * 50) + "]", max_nodes=20)
    assert problem.message.startswith("the document expands to more than 20 values")
    assert (problem.line, problem.column, problem.path) == (1, 59, "[19]")


# --- depth ---------------------------------------------------------------------------------------


def test_deeply_nested_brackets_are_refused_as_too_deep() -> None:
    problem = only_problem("[" * 10000)
    assert problem.message.startswith("values nest more than 64 levels deep here")
    assert problem.line == 1  # libyaml stops at its own limit of 1000, PyYAML at ours


def test_depth_limit_is_exact() -> None:
    assert load_yaml("[" * 64 + "]" * 64, file="pack.yaml").value is not None
    problem = only_problem("[" * 65 + "]" * 65)
    assert (problem.line, problem.column) == (1, 65)
    assert "more than 64 levels" in problem.message


def test_deep_block_mappings_are_refused_with_their_path() -> None:
    doc = "".join("  " * level + "a:\n" for level in range(10)) + "  " * 10 + "b: 1\n"
    assert load_yaml(doc, file="pack.yaml", max_depth=11).value is not None
    problem = only_problem(doc, max_depth=10)
    assert (problem.line, problem.column, problem.path) == (11, 21, ".".join(["a"] * 10))
    assert problem.message.startswith("values nest more than 10 levels deep")


def test_aliases_cannot_nest_deeper_than_the_limit() -> None:
    doc = "a: &a [[[[1]]]]\nb: [[[[*a]]]]\n"  # b: 8 lists deep, in the root mapping
    assert load_yaml(doc, file="pack.yaml", max_depth=9).value["b"] == [[[[[[[[1]]]]]]]]
    problem = only_problem(doc, max_depth=8)
    assert (problem.line, problem.column, problem.path) == (1, 10, "b[0][0][0][0][0][0][0]")


def test_recursion_error_is_reported_as_too_deep() -> None:
    problem = only_problem("[" * 3000 + "]" * 3000, max_depth=100_000)
    assert "levels deep" in problem.message


# --- tags and keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "shown"),
    [
        (
            "run: !!python/object/apply:os.system ['echo pwned']\n",
            "!!python/object/apply:os.system",
        ),
        ("run: !!python/name:os.system\n", "!!python/name:os.system"),
        ("x: !custom value\n", "!custom"),
        ("x: !!binary aGVsbG8=\n", "!!binary"),
        ("x: !!set {a, b}\n", "!!set"),
        ("x: !!omap [a: 1]\n", "!!omap"),
        ("x: !<tag:example.com,2026:thing> y\n", "tag:example.com,2026:thing"),
    ],
)
def test_tags_are_refused(doc: str, shown: str) -> None:
    problem = only_problem(doc)
    assert problem.message == (
        f"tags are not allowed in rule files: found '{shown}'; remove the tag"
    )
    assert (problem.line, problem.column) == (1, doc.index("!") + 1)
    assert problem.path in ("run", "x")


def test_a_python_tag_is_never_constructed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(os, "system", calls.append)
    problems_of("x: !!python/object/apply:os.system ['echo pwned']\n")
    assert calls == []


def test_a_core_tag_with_a_value_it_cannot_read_is_a_problem() -> None:
    problem = only_problem("limit: !!int many\n")
    assert problem.message == "'many' cannot be read as !!int: fix it or remove the tag"
    assert (problem.line, problem.column, problem.path) == (1, 8, "limit")


def test_every_tag_problem_is_reported_at_once() -> None:
    found = problems_of("a: !x 1\nb:\n  - !y 2\n")
    assert [(p.line, p.column, p.path) for p in found] == [(1, 4, "a"), (3, 5, "b[0]")]


def test_duplicate_keys_name_both_lines() -> None:
    doc = "rules:\n  - name: x\n    due: 2 days\n    at: now\n    due: 3 days\n"
    problem = only_problem(doc)
    assert problem.message == "key 'due' appears twice (lines 3 and 5): keep one"
    assert (problem.line, problem.column, problem.path) == (5, 5, "rules[0].due")


def test_duplicate_keys_on_one_line_name_the_columns() -> None:
    problem = only_problem("x: {a: 1, a: 2}\n")
    assert problem.message == "key 'a' appears twice (line 1, columns 5 and 11): keep one"


@pytest.mark.parametrize(
    ("doc", "where", "message"),
    [
        (
            "1: one\n",
            (1, 1),
            "the key 1 is read as a number, but keys must be text: put it in quotes ('1':)",
        ),
        (
            "true: x\n",
            (1, 1),
            "the key true is read as true/false, but keys must be text: put it in quotes ('true':)",
        ),
        (
            "~: x\n",
            (1, 1),
            "the key ~ is read as null, but keys must be text: put it in quotes ('~':)",
        ),
        (
            "? [a, b]\n: x\n",
            (1, 3),
            "a key must be plain text, found a list: write a name followed by ':'",
        ),
        (
            "? {a: b}\n: x\n",
            (1, 3),
            "a key must be plain text, found a mapping: write a name followed by ':'",
        ),
        ("? \n: x\n", (1, 2), "a key is missing before this ':': write a name"),
    ],
)
def test_keys_must_be_text(doc: str, where: tuple[int, int], message: str) -> None:
    problem = only_problem(doc)
    assert ((problem.line, problem.column), problem.message) == (where, message)


def test_quoted_and_tagged_keys_are_text() -> None:
    assert load_yaml("'1': a\n!!str 2: b\n2026-12-24: c\non: d\n", file="pack.yaml").value == {
        "1": "a",
        "2": "b",
        "2026-12-24": "c",
        "on": "d",
    }


# --- bytes and encodings -------------------------------------------------------------------------


def test_invalid_utf8_names_the_line_and_column_of_the_bad_byte() -> None:
    problem = only_problem(b"name: x\nnote: caf\xc3\xa9 \xff here\n")
    assert (problem.line, problem.column) == (2, 12)
    assert problem.message == (
        "the file is not valid UTF-8: the byte 0xff here cannot be read; "
        "save the file with the UTF-8 encoding"
    )


def test_a_byte_order_mark_is_accepted_and_does_not_shift_columns() -> None:
    source = load_yaml(b"\xef\xbb\xbfname: x\n", file="pack.yaml")
    assert source.value == {"name": "x"}
    assert source.marks[("name",)] == Mark(1, 7)
    assert load_yaml("\ufeffname: x\n", file="pack.yaml").marks[("name",)] == Mark(1, 7)
    problem = only_problem(b"\xef\xbb\xbfa: \xe9\n")
    assert (problem.line, problem.column) == (1, 4)


def test_utf16_gets_its_own_advice() -> None:
    problem = only_problem("a: 1\n".encode("utf-16"))
    assert (problem.line, problem.column) == (1, 1)
    assert problem.message == "the file is saved as UTF-16; save it as UTF-8"


def test_control_characters_are_refused_where_they_are() -> None:
    problem = only_problem("a: 1\nb: x\x07y\n")
    assert (problem.line, problem.column) == (2, 5)
    assert "control character U+0007" in problem.message


def test_crlf_line_ends_count_as_one_break() -> None:
    source = load_yaml(b"a: 1\r\nb: 2\r\n", file="pack.yaml")
    assert source.marks[("b",)] == Mark(2, 4)
    assert only_problem(b"a: 1\r\nb: \xff\r\n").line == 2


def test_a_file_over_the_size_limit_is_refused_before_parsing() -> None:
    problem = only_problem(b"a: [" + b"1, " * 100 + b"]", max_bytes=100)
    assert (problem.line, problem.column) == (0, 0)
    assert problem.message == (
        "the file is larger than the 100 bytes a rule file may have; "
        "split it into smaller rule packs"
    )
    assert "larger than the 10 bytes" in only_problem("\u00e9" * 6, max_bytes=10).message
    assert load_yaml("\u00e9" * 5, file="pack.yaml", max_bytes=10).value == "\u00e9" * 5


# --- documents and syntax errors ------------------------------------------------------------------


def test_more_than_one_document_is_refused_at_the_second() -> None:
    problem = only_problem("version: 1\n---\nversion: 2\n")
    assert (problem.line, problem.column) == (2, 1)
    assert problem.message.startswith("a second YAML document starts here")


def test_an_explicit_start_of_the_only_document_is_fine() -> None:
    assert load_yaml("---\nversion: 1\n...\n", file="pack.yaml").value == {"version": 1}


def test_a_syntax_error_names_line_column_and_a_fix() -> None:
    problem = only_problem("name: x\nsubject: Re: our call\n")
    assert (problem.line, problem.column, problem.path) == (2, 12, "")
    assert problem.message.startswith("YAML syntax error: mapping values are not allowed here;")
    assert "must be in quotes" in problem.message


def test_a_tab_used_for_indentation_is_named() -> None:
    problem = only_problem("rules:\n\t- name: x\n")
    assert (problem.line, problem.column) == (2, 1)
    assert "a tab is used for indentation here" in problem.message


def test_a_missing_space_after_a_colon_is_explained() -> None:
    problem = only_problem("name: x\ndue:2 days\nnotify: y\n")
    assert (problem.line, problem.column) == (3, 1)
    assert "could not find expected ':'" in problem.message
    assert "(while scanning a simple key at line 2, column 1)" in problem.message
    assert "due: 2 days, not due:2 days" in problem.message


def test_bad_indentation_is_explained() -> None:
    problem = only_problem("rules:\n  - name: x\n   due: 2 days\n")
    assert (problem.line, problem.column) == (3, 4)
    assert "check the indentation of this line" in problem.message


def test_an_unclosed_quote_points_at_where_it_opened() -> None:
    problem = only_problem("name: 'thank you\n")
    assert (problem.line, problem.column) == (2, 1)
    assert "(while scanning a quoted scalar at line 1, column 7)" in problem.message
    assert "a quote is opened but never closed" in problem.message


def test_an_unclosed_bracket_is_explained() -> None:
    problem = only_problem("states: [a, b\n")
    assert (problem.line, problem.column) == (2, 1)
    assert "(while parsing a flow sequence at line 1, column 9)" in problem.message
    assert "is not closed, or misses a ','" in problem.message


def test_syntax_errors_keep_the_yaml_error_as_cause() -> None:
    with pytest.raises(RulesError) as caught:
        load_yaml("a: [", file="pack.yaml")
    assert isinstance(caught.value.__cause__, yaml.YAMLError)


def test_problems_of_one_file_come_sorted_by_position() -> None:
    found = problems_of("b: !t 1\na: 1\na: 2\nc: !u 3\n")
    assert [(p.line, p.column) for p in found] == [(1, 4), (3, 1), (4, 4)]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from([*"ab :-[]{},'\"&*!|>#?\n\t\\%@`~", "\u00e9"])))
def test_any_text_gives_a_source_or_rules_error(text: str) -> None:
    try:
        source = load_yaml(text, file="pack.yaml")
    except RulesError as exc:
        assert exc.problems
        assert all(p.file == "pack.yaml" and p.line >= 0 and p.message for p in exc.problems)
    else:
        assert isinstance(source, Source)


# --- files --------------------------------------------------------------------------------------


def test_load_yaml_file_names_the_file_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pack.yaml").write_bytes(b"version: 1\nbad: \xff\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RulesError) as caught:
        load_yaml_file("pack.yaml")
    assert str(caught.value).startswith("pack.yaml:2:6: the file is not valid UTF-8")
    (tmp_path / "good.yaml").write_text("version: 1\n", encoding="utf-8")
    source = load_yaml_file(tmp_path / "good.yaml")
    assert (source.file, source.value) == (str(tmp_path / "good.yaml"), {"version": 1})


def test_load_yaml_file_reports_a_file_it_cannot_read(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(RulesError) as caught:
        load_yaml_file(missing)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (str(missing), 0, 0)
    assert problem.message == (
        "cannot read the rule file: No such file or directory; check the path and its permissions"
    )
    assert isinstance(caught.value.__cause__, OSError)
    with pytest.raises(RulesError, match="cannot read the rule file"):
        load_yaml_file(tmp_path)


def test_load_yaml_file_passes_its_limits_on(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * 5000)
    with pytest.raises(RulesError, match="larger than the 1,000 bytes"):
        load_yaml_file(big, max_bytes=1000)
    with pytest.raises(RulesError, match="more than 2 levels deep"):
        load_yaml_file(_write(tmp_path, "[[[1]]]"), max_depth=2)
    with pytest.raises(RulesError, match="more than 3 values"):
        load_yaml_file(_write(tmp_path, "[1, 2, 3]"), max_nodes=3)


def _write(folder: Path, text: str) -> Path:
    path = folder / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    return path
