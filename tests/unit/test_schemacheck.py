"""Checking rule files against a JSON Schema: every keyword, its message, and jsonschema's verdict."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.errors import Problem
from followup.language import schemacheck
from followup.language.schemacheck import MAX_PROBLEMS, check
from followup.language.yamlsource import load_yaml


def problems(doc: str, schema: dict[str, Any]) -> list[Problem]:
    return check(load_yaml(doc, file="pack.yaml"), schema)


def only(doc: str, schema: dict[str, Any]) -> Problem:
    found = problems(doc, schema)
    assert len(found) == 1, found
    return found[0]


def message(doc: str, schema: dict[str, Any]) -> str:
    return only(doc, schema).message


def prop(schema: Any) -> dict[str, Any]:
    """A schema whose key ``v`` must follow ``schema``."""
    return {"type": "object", "properties": {"v": schema}}


RULE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"description": "the rule's stable name", "type": "string"},
        "at": {"type": "string"},
        "done_by": {"type": "string"},
        "due": {"type": "string"},
        "while": {"type": "string"},
    },
}
PACK = {"type": "object", "properties": {"rules": {"type": "array", "items": RULE}}}


def test_a_valid_document_has_no_problems() -> None:
    assert problems("rules:\n  - name: x\n    while: interviewed\n", PACK) == []


# --- type --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "value", "expected"),
    [
        (
            {"type": "string"},
            "3",
            "expected text, found a number: 3; put it in quotes to make it text",
        ),
        ({"type": "string"}, "", "expected text, found nothing (null); write a value here"),
        (
            {"type": "integer"},
            "2.5",
            "expected a whole number, found a number: 2.5; use a whole number",
        ),
        ({"type": "integer"}, "true", "expected a whole number, found true/false: true"),
        ({"type": "number"}, "yes", "expected a number, found true/false: true"),
        ({"type": "number"}, "'3'", "expected a number, found text: '3'; remove the quotes"),
        (
            {"type": "boolean"},
            "maybe",
            "expected true or false, found text: 'maybe'; write true or false",
        ),
        (
            {"type": "array"},
            "thanked",
            "expected a list, found text: 'thanked'; write a list: [a, b], or one '- ' line "
            "per item",
        ),
        (
            {"type": "object"},
            "[1, two]",
            "expected a mapping, found a list: [1, two]; write 'key: value' lines, indented "
            "under this key",
        ),
        ({"type": "null"}, "1", "expected nothing (null), found a number: 1"),
        (
            {"type": ["string", "null"]},
            "{a: 1}",
            "expected text or nothing (null), found a mapping: {a: 1}",
        ),
        (
            {"type": "array", "items": {"type": "string"}},
            "3",
            "expected a list of text (strings), found a number: 3; write a list: [a, b], or "
            "one '- ' line per item",
        ),
        (
            {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
            "x",
            "expected a list of lists of whole numbers, found text: 'x'; write a list: [a, b], "
            "or one '- ' line per item",
        ),
    ],
)
def test_wrong_types_are_described_in_plain_words(
    schema: dict[str, Any], value: str, expected: str
) -> None:
    problem = only(f"v: {value}\n", prop(schema))
    column = 4 if value else 3  # an empty value starts right after the ':'
    assert (problem.message, problem.line, problem.column, problem.path) == (
        expected,
        1,
        column,
        "v",
    )


def test_integer_and_number_follow_json_schema() -> None:
    assert problems("v: 2.0\n", prop({"type": "integer"})) == []
    assert problems("v: 2\n", prop({"type": "number"})) == []
    assert len(problems("v: false\n", prop({"type": "number"}))) == 1


def test_a_long_value_is_shortened() -> None:
    text = message("v: " + "word " * 40 + "\n", prop({"type": "integer"}))
    assert text.startswith("expected a whole number, found text: 'word word ")
    assert len(text) < 120
    assert "... ;" not in text and " ..." in text


# --- mappings ------------------------------------------------------------------------------------


def test_an_unknown_key_is_reported_at_the_key_with_a_suggestion() -> None:
    problem = only("rules:\n  - name: x\n    whlie: interviewed\n", PACK)
    assert problem.message == (
        "unknown key 'whlie' (did you mean 'while'?): remove it, or use one allowed here: at, "
        "done_by, due, name, while"
    )
    assert (problem.line, problem.column, problem.path) == (3, 5, "rules[0].whlie")


def test_an_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    assert message("rules:\n  - name: x\n    colour: red\n", PACK) == (
        "unknown key 'colour': remove it, or use one allowed here: at, done_by, due, name, while"
    )


def test_unknown_keys_name_the_patterns_that_are_allowed_too() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"name": {}},
        "patternProperties": {"^x-": {}},
    }
    assert message("nmae: a\n", schema) == (
        "unknown key 'nmae' (did you mean 'name'?): remove it, or use one allowed here: name, or "
        "a key matching ^x-"
    )
    assert message("a: 1\n", {"additionalProperties": False}) == (
        "unknown key 'a': this mapping takes no keys; remove it"
    )


def test_pattern_properties_check_the_keys_they_match() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "patternProperties": {"^x-": {"type": "string"}, "-note$": {"maxLength": 3}},
    }
    assert problems("x-a: b\nx-note: abc\n", schema) == []
    found = problems("x-a: 1\nx-note: abcd\n", schema)
    assert [(p.path, p.message) for p in found] == [
        ('["x-a"]', "expected text, found a number: 1; put it in quotes to make it text"),
        ('["x-note"]', "'abcd' is too long: expected at most 3 characters, found 4; shorten it"),
    ]


def test_additional_properties_can_be_a_schema() -> None:
    schema = {"type": "object", "additionalProperties": {"enum": ["date", "text"]}}
    problem = only("when: date\nwhy: txet\n", schema)
    assert (
        problem.message
        == "'txet' is not allowed here (did you mean 'text'?): expected one of date, text"
    )
    assert (problem.line, problem.column, problem.path) == (2, 6, "why")


def test_property_names_are_checked_at_the_key() -> None:
    schema = {
        "type": "object",
        "propertyNames": {"$ref": "#/$defs/identifier"},
        "$defs": {
            "identifier": {
                "type": "string",
                "pattern": "^[a-z_]+$",
                "x-pattern-hint": "use lower-case letters and '_'",
            }
        },
    }
    problem = only("ok: 1\nBad Name: 2\n", schema)
    assert (
        problem.message
        == "key 'Bad Name' is not a valid identifier: use lower-case letters and '_'"
    )
    assert (problem.line, problem.column, problem.path) == (2, 1, '["Bad Name"]')
    days = {"type": "object", "propertyNames": {"enum": ["mon", "tue"]}}
    assert message("mon: 1\nTue: 2\n", days) == (
        "key 'Tue' is not allowed here (did you mean 'tue'?): expected one of mon, tue"
    )


def test_a_missing_key_is_reported_at_the_mapping_with_what_it_is_for() -> None:
    problem = only("rules:\n  - while: interviewed\n", PACK)
    assert problem.message == (
        "missing key 'name' (the rule's stable name): add \"name: ...\" here"
    )
    assert (problem.line, problem.column, problem.path) == (2, 5, "rules[0]")


def test_a_missing_key_takes_its_description_through_a_ref_or_goes_without() -> None:
    schema = {
        "type": "object",
        "required": ["a", "b"],
        "properties": {"a": {"$ref": "#/$defs/a"}},
        "$defs": {"a": {"description": "The first thing.", "type": "string"}},
    }
    assert [p.message for p in problems("c: 1\n", schema)] == [
        "missing key 'a' (the first thing): add \"a: ...\" here",
        "missing key 'b': add \"b: ...\" here",
    ]


def test_min_and_max_properties() -> None:
    schema = prop({"type": "object", "minProperties": 2, "maxProperties": 3})
    assert problems("v: {a: 1, b: 2}\n", schema) == []
    assert message("v: {a: 1}\n", schema) == (
        "the mapping has 1 key, expected at least 2 keys: add 1 more"
    )
    assert message("v: {}\n", schema) == (
        "the mapping is empty, expected at least 2 keys: add 2 more"
    )
    assert message("v: {a: 1, b: 2, c: 3, d: 4}\n", schema) == (
        "the mapping has 4 keys, expected at most 3 keys: remove 1"
    )


# --- values --------------------------------------------------------------------------------------


def test_enum_lists_the_choices_and_suggests_one() -> None:
    days = prop({"enum": ["mon", "tue", "wed", "thu", "fri"]})
    problem = only("v: fri day\n", days)
    assert problem.message == (
        "'fri day' is not allowed here (did you mean 'fri'?): expected one of mon, tue, wed, thu, fri"
    )
    assert message("v: sunday\n", days) == (
        "'sunday' is not allowed here: expected one of mon, tue, wed, thu, fri"
    )
    assert message("v: 1\n", prop({"enum": ["1", "2"]})) == (
        "1 is not allowed here: expected one of 1, 2; put it in quotes to make it text"
    )
    assert message("v: b\n", prop({"enum": ["a"]})) == "'b' is not allowed here: expected a"


def test_enum_and_const_use_json_equality() -> None:
    assert problems("v: 1.0\n", prop({"enum": [1]})) == []
    assert problems("v: [1, {a: 2}]\n", prop({"const": [1.0, {"a": 2}]})) == []
    assert len(problems("v: true\n", prop({"enum": [1]}))) == 1
    assert len(problems("v: 1\n", prop({"const": True}))) == 1


def test_const() -> None:
    assert message("v: 2\n", prop({"const": 1})) == "2 is not allowed here: expected 1"
    assert message("v: b\n", prop({"const": "a"})) == "'b' is not allowed here: expected 'a'"


DURATION_SCHEMA = {
    "type": "object",
    "properties": {"due": {"$ref": "#/$defs/duration"}},
    "$defs": {
        "duration": {
            "type": "string",
            "pattern": r"^\d+ (working days?|days?|hours?)$|^P",
            "x-pattern-hint": 'write "2 working days", "7 days", "4 hours" or an ISO 8601 '
            "duration such as P1W",
        }
    },
}


def test_pattern_uses_the_def_name_and_the_hint() -> None:
    problem = only("due: 2 workdays\n", DURATION_SCHEMA)
    assert problem.message == (
        '\'2 workdays\' is not a valid duration: write "2 working days", "7 days", '
        '"4 hours" or an ISO 8601 duration such as P1W'
    )
    assert (problem.line, problem.column, problem.path) == (1, 6, "due")
    assert problems("due: 2 working days\n", DURATION_SCHEMA) == []


def test_pattern_is_searched_like_json_schema() -> None:
    assert problems("v: xx-ab-yy\n", prop({"pattern": "ab"})) == []


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (
            {"pattern": "^[0-9]{2}:[0-9]{2}$", "title": "Time of day", "x-pattern-hint": "HH:MM"},
            "'9am' is not a valid time of day: HH:MM",
        ),
        (
            {"pattern": "^[0-9]{2}:[0-9]{2}$", "description": "A time such as 09:00."},
            "'9am' does not have the right form: a time such as 09:00",
        ),
        (
            {"pattern": "^[0-9]{2}:[0-9]{2}$"},
            "'9am' does not have the right form: it must match the pattern ^[0-9]{2}:[0-9]{2}$",
        ),
    ],
)
def test_pattern_messages_without_a_def_name(schema: dict[str, Any], expected: str) -> None:
    assert message("v: 9am\n", prop(schema)) == expected


def test_text_length() -> None:
    schema = prop({"type": "string", "minLength": 2, "maxLength": 4})
    assert problems("v: abc\n", schema) == []
    assert message("v: a\n", schema) == (
        "'a' is too short: expected at least 2 characters, found 1; write more"
    )
    assert message("v: abcdef\n", schema) == (
        "'abcdef' is too long: expected at most 4 characters, found 6; shorten it"
    )
    assert message("v: ''\n", prop({"minLength": 1})) == (
        "the text is empty, expected at least 1 character: write something here"
    )
    assert problems("v: \u00e9\u00e9\n", schema) == []  # characters, not bytes


def test_number_bounds() -> None:
    schema = prop({"minimum": 1, "maximum": 4, "exclusiveMinimum": 0, "exclusiveMaximum": 5})
    assert problems("v: 1\n", schema) == []
    assert problems("v: 4.0\n", schema) == []
    assert message("v: 0.5\n", schema) == "0.5 is too small: expected 1 or more"
    assert message("v: 5\n", prop({"maximum": 4})) == "5 is too large: expected 4 or less"
    assert message("v: 0\n", prop({"exclusiveMinimum": 0})) == (
        "0 is too small: expected more than 0"
    )
    assert message("v: 5\n", prop({"exclusiveMaximum": 5})) == (
        "5 is too large: expected less than 5"
    )
    assert problems("v: '0'\n", prop({"minimum": 1})) == []  # bounds apply to numbers only


# --- lists -----------------------------------------------------------------------------------------


def test_items_are_each_checked_with_their_own_path() -> None:
    schema = prop({"type": "array", "items": {"type": "integer"}})
    found = problems("v:\n  - 1\n  - x\n  - 3\n  - y\n", schema)
    assert [(p.line, p.column, p.path) for p in found] == [(3, 5, "v[1]"), (5, 5, "v[3]")]


def test_min_and_max_items() -> None:
    schema = prop({"type": "array", "minItems": 2, "maxItems": 3})
    assert message("v: [a]\n", schema) == (
        "the list has 1 item, expected at least 2 items: add 1 more"
    )
    assert message("v: []\n", schema) == "the list is empty, expected at least 2 items: add 2 more"
    assert message("v: [a, b, c, d, e]\n", schema) == (
        "the list has 5 items, expected at most 3 items: remove 2"
    )


def test_unique_items_names_both_places() -> None:
    schema = prop({"type": "array", "uniqueItems": True})
    problem = only("v:\n  - thanked\n  - offer\n  - thanked\n", schema)
    assert problem.message == "'thanked' is listed twice (lines 2 and 4): keep one"
    assert (problem.line, problem.column, problem.path) == (4, 5, "v[2]")
    assert (
        message("v: [1, 1.0]\n", schema)
        == "1.0 is listed twice (line 1, columns 5 and 8): keep one"
    )
    assert problems("v: [1, true, '1', [1], [true], {a: 1}, {a: true}]\n", schema) == []


# --- $ref, anyOf, oneOf, allOf, boolean schemas ----------------------------------------------------


def test_ref_follows_local_pointers_and_recursive_schemas() -> None:
    tree = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"name": {"type": "string"}, "child": {"$ref": "#"}},
    }
    problem = only("name: a\nchild:\n  child:\n    nmae: c\n", tree)
    assert problem.path == "child.child.nmae"
    assert problem.message.startswith("unknown key 'nmae' (did you mean 'name'?): ")


@pytest.mark.parametrize(
    ("ref", "error"),
    [
        ("other.json#/a", "only references inside the schema"),
        ("#/$defs/missing", "points to nothing"),
        ("#$defs", "expected a JSON pointer"),
    ],
)
def test_bad_refs_are_schema_errors(ref: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        problems("v: 1\n", {"$defs": {"a": {}}, **prop({"$ref": ref})})


def test_a_ref_loop_is_a_schema_error() -> None:
    schema = {
        "$ref": "#/$defs/a",
        "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
    }
    with pytest.raises(ValueError, match="leads back to itself"):
        problems("v: 1\n", schema)


STATES = {
    "$defs": {
        "identifier": {"type": "string", "pattern": "^[a-z]+$", "x-pattern-hint": "use a-z"},
        "states": {
            "anyOf": [
                {"$ref": "#/$defs/identifier"},
                {"type": "array", "items": {"$ref": "#/$defs/identifier"}, "minItems": 1},
            ]
        },
    },
    **prop({"$ref": "#/$defs/states"}),
}


def test_any_of_reports_the_one_branch_that_takes_the_values_type() -> None:
    assert problems("v: thanked\n", STATES) == []
    assert problems("v: [thanked, offer]\n", STATES) == []
    assert message("v: Thanked\n", STATES) == "'Thanked' is not a valid identifier: use a-z"
    problem = only("v: [thanked, Offer]\n", STATES)
    assert (problem.path, problem.message) == ("v[1]", "'Offer' is not a valid identifier: use a-z")
    assert message("v: []\n", STATES) == ("the list is empty, expected at least 1 item: add 1 more")


def test_any_of_says_what_it_expected_when_no_branch_fits() -> None:
    assert message("v: 3\n", STATES) == (
        "expected text or a list of text (strings), found a number: 3; put it in quotes to "
        "make it text"
    )
    described = prop(
        {
            "anyOf": [
                {"type": "string", "description": "a duration, such as 2 days"},
                {"$ref": "#/$defs/after"},
            ]
        }
    )
    described["$defs"] = {"after": {"type": "object", "description": "{after: DURATION, of: FACT}"}}
    assert message("v: [1]\n", described) == (
        "expected text (a duration, such as 2 days) or a mapping ({after: DURATION, of: FACT}), "
        "found a list: [1]; write 'key: value' lines, indented under this key"
    )


def test_any_of_with_several_fitting_branches_names_them_all() -> None:
    schema = prop(
        {
            "anyOf": [
                {"type": "object", "required": ["every"], "description": "every ROLE did EVENT"},
                {"type": "object", "required": ["after"], "description": "after DURATION"},
            ]
        }
    )
    assert message("v: {other: 1}\n", schema) == (
        "expected a mapping (every ROLE did EVENT) or a mapping (after DURATION), found a "
        "mapping: {other: 1}"
    )


def test_one_of_refuses_a_value_that_fits_more_than_one_form() -> None:
    schema = prop({"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 5}]})
    assert problems("v: 3\n", schema) == []
    assert problems("v: 5.5\n", schema) == []
    assert message("v: 7\n", schema) == (
        "7 matches more than one form (a whole number and a number): change it so that it "
        "fits exactly one"
    )
    assert message("v: 2.5\n", schema) == "2.5 is too small: expected 5 or more"


def test_all_of_reports_every_branch() -> None:
    schema = prop({"allOf": [{"type": "string", "minLength": 3}, {"pattern": "^a"}]})
    assert problems("v: abc\n", schema) == []
    assert [p.message for p in problems("v: b\n", schema)] == [
        "'b' is too short: expected at least 3 characters, found 1; write more",
        "'b' does not have the right form: it must match the pattern ^a",
    ]


def test_boolean_schemas() -> None:
    schema = {"type": "object", "properties": {"old": False, "any": True}}
    assert problems("any: [1, {a: b}]\n", schema) == []
    problem = only("old: x\n", schema)
    assert (problem.message, problem.path) == ("'x' is not allowed here: remove it", "old")


# --- the schema itself -----------------------------------------------------------------------------


@pytest.mark.parametrize("keyword", ["format", "if", "not", "prefixItems", "contains"])
def test_unsupported_keywords_are_refused(keyword: str) -> None:
    with pytest.raises(ValueError, match=f"'{keyword}' is not supported"):
        problems("v: 1\n", prop({keyword: {}}))


def test_annotations_and_x_keywords_are_allowed() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.invalid/s.json",
        "$comment": "c",
        "title": "t",
        "description": "d",
        "markdownDescription": "m",
        "default": {},
        "examples": [{}],
        "deprecated": False,
        "x-anything": {"format": "not checked"},
        **prop({"type": "string", "x-pattern-hint": "h"}),
    }
    assert problems("v: a\n", schema) == []


@pytest.mark.parametrize(
    ("schema", "error"),
    [
        (prop({"type": "text"}), "expected one of"),
        (prop({"pattern": "("}), "does not compile"),
        ({"patternProperties": {"[": {}}}, "does not compile"),
        (prop({"anyOf": []}), "a non-empty list of schemas"),
        (prop({"minLength": -1}), "a whole number, 0 or more"),
        (prop({"required": "name"}), "a list of names"),
        (prop("string"), "a schema must be a mapping or true/false"),
    ],
)
def test_malformed_schemas_are_refused(schema: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        problems("v: 1\n", schema)


# --- many problems ---------------------------------------------------------------------------------


def test_problems_come_in_document_order() -> None:
    doc = "rules:\n  - due: 1\n    name: 2\n  - whlie: x\n"
    found = problems(doc, PACK)
    assert [(p.line, p.column, p.path) for p in found] == [
        (2, 10, "rules[0].due"),
        (3, 11, "rules[0].name"),
        (4, 5, "rules[1]"),
        (4, 5, "rules[1].whlie"),
    ]
    assert found[2].message.startswith("missing key 'name'")
    assert found[3].message.startswith("unknown key 'whlie'")


def test_problems_are_capped_with_a_count_of_the_rest() -> None:
    doc = "v:\n" + "".join(f"  - {i}\n" for i in range(MAX_PROBLEMS + 10))
    found = problems(doc, prop({"type": "array", "items": {"type": "string"}}))
    assert len(found) == MAX_PROBLEMS + 1
    assert found[MAX_PROBLEMS - 1].path == f"v[{MAX_PROBLEMS - 1}]"
    last = found[-1]
    assert last.message == "…and 10 more problems: fix the ones above and check again"
    assert (last.line, last.path) == (MAX_PROBLEMS + 2, f"v[{MAX_PROBLEMS}]")


def test_the_shipped_schema_is_within_the_supported_subset() -> None:
    text = resources.files("followup.rules").joinpath("followup-rules.schema.json").read_text()
    schema = json.loads(text)
    assert check(load_yaml("version: 1\n", file="pack.yaml"), schema) == []
    found = check(load_yaml("version: 1\nrules:\n  - whlie: x\n", file="pack.yaml"), schema)
    assert {p.path for p in found} == {"rules[0]", "rules[0].whlie"}


def test_the_checker_does_not_use_jsonschema() -> None:
    assert "jsonschema" not in Path(schemacheck.__file__).read_text(encoding="utf-8")


# --- agreement with jsonschema ---------------------------------------------------------------------

CROSS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "rules"],
    "additionalProperties": False,
    "patternProperties": {"^x-": True},
    "properties": {
        "version": {"const": 1},
        "name": {"type": "string", "minLength": 1, "maxLength": 6},
        "states": {
            "type": "array",
            "items": {"$ref": "#/$defs/identifier"},
            "minItems": 1,
            "maxItems": 3,
            "uniqueItems": True,
        },
        "days": {"type": "array", "items": {"enum": ["mon", "tue", 3]}},
        "weight": {"type": "number", "exclusiveMinimum": 0, "maximum": 10},
        "country": {"type": ["string", "null"], "pattern": "^[A-Z]{2}$"},
        "facts": {
            "type": "object",
            "propertyNames": {"$ref": "#/$defs/identifier"},
            "additionalProperties": {"enum": ["date", "text"]},
            "minProperties": 1,
            "maxProperties": 2,
        },
        "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
    },
    "$defs": {
        "identifier": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "duration": {"type": "string", "pattern": "^[0-9]+ (days?|hours?)$"},
        "states": {
            "anyOf": [
                {"$ref": "#/$defs/identifier"},
                {"type": "array", "items": {"$ref": "#/$defs/identifier"}, "minItems": 1},
            ]
        },
        "rule": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"$ref": "#/$defs/identifier"},
                "while": {"$ref": "#/$defs/states"},
                "due": {
                    "oneOf": [
                        {"$ref": "#/$defs/duration"},
                        {
                            "type": "object",
                            "required": ["after"],
                            "additionalProperties": False,
                            "properties": {"after": {"$ref": "#/$defs/duration"}},
                        },
                    ]
                },
                "limit": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 5}]},
                "enabled": {"type": "boolean"},
                "when": {"allOf": [{"type": "string"}, {"minLength": 2}]},
            },
        },
    },
}

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.floats(-3, 12, allow_nan=False).map(lambda f: round(f, 1)),
    st.text("abAZ _1:", max_size=4),
)
_junk = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text("ab-", max_size=2), inner, max_size=2)
    ),
    max_leaves=4,
)
_identifiers = st.integers(0, 9).flatmap(
    lambda pick: st.sampled_from(["Bad", "1x", ""] if pick == 5 else ["thanked", "a1", "x_y"])
)
_durations = st.sampled_from(["2 days", "1 hour", "10 hours", "2 days", "2 workdays", "days"])
_numbers = st.floats(-1, 11).map(lambda f: round(f, 1))


def _mostly(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a value of the right shape, sometimes anything at all."""
    return st.integers(0, 9).flatmap(lambda pick: _junk if pick == 5 else good)


_rules = st.fixed_dictionaries(
    {"name": _mostly(_identifiers)},
    optional={
        "while": _mostly(st.one_of(_identifiers, st.lists(_identifiers, max_size=2))),
        "due": _mostly(st.one_of(_durations, st.fixed_dictionaries({"after": _durations}))),
        "limit": _mostly(st.one_of(st.integers(0, 9), _numbers)),
        "enabled": _mostly(st.booleans()),
        "when": _mostly(st.text("ab", max_size=3)),
    },
)
_documents = st.fixed_dictionaries(
    {
        "version": _mostly(st.sampled_from([1, 1.0, 1, 2])),
        "rules": _mostly(st.lists(_rules, max_size=2)),
    },
    optional={
        "name": _mostly(st.text("abc", max_size=7)),
        "states": _mostly(st.lists(_identifiers, max_size=4)),
        "days": _mostly(st.lists(st.sampled_from(["mon", "tue", 3, 3.0, "3", "wed"]), max_size=2)),
        "weight": _mostly(_numbers),
        "country": _mostly(st.sampled_from(["US", "DE", None, "usa"])),
        "facts": _mostly(
            st.dictionaries(_identifiers, st.sampled_from(["date", "text", "time"]), max_size=3)
        ),
        "x-note": _junk,
    },
)
_unknown_key = st.tuples(st.integers(0, 9), _junk).map(
    lambda pick: {"colour": pick[1]} if pick[0] == 5 else {}
)
_any_documents = st.builds(lambda doc, extra: {**doc, **extra}, _documents, _unknown_key)


@settings(max_examples=200, deadline=None)
@given(_any_documents)
def test_check_agrees_with_jsonschema(document: dict[str, Any]) -> None:
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    source = load_yaml(text, file="pack.yaml")
    valid = jsonschema.Draft202012Validator(CROSS_SCHEMA).is_valid(source.value)
    assert (check(source, CROSS_SCHEMA) == []) == valid


def test_the_cross_check_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(CROSS_SCHEMA)
