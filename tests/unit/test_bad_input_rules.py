"""A rule file with a value of the wrong type, anywhere the shipped JSON Schema gives a
type, is refused with the file, the line and the key path; and files that are hostile
(aliases that expand without bound, deep nesting, huge, not UTF-8, Python tags) are
refused the same way when loaded as a rule pack, quickly, before anything is built.

The YAML reader's own handling of each hostile form is tested in ``test_yamlsource.py``;
here they go through ``load_rules``, as a rule author's file does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

import pytest
import yaml

from followup import RulesError, load_rules

SCHEMA: dict[str, Any] = json.loads(
    (files("followup.rules") / "followup-rules.schema.json").read_text(encoding="utf-8"))
DEFAULT = (files("followup.rules") / "after-interview.yaml").read_text(encoding="utf-8")
DOCUMENT = yaml.safe_load(DEFAULT)

# One value of each JSON type, to put where the schema wants another.
SAMPLES: dict[str, Any] = {
    "string": "wrong", "integer": 12345, "number": 1.5, "boolean": True,
    "array": ["wrong"], "object": {"wrong": 1}, "null": None,
}


def _resolve(node: Any) -> dict[str, Any]:
    while isinstance(node, dict) and "$ref" in node:
        node = SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[-1]] | {
            k: v for k, v in node.items() if k != "$ref"}
    return node if isinstance(node, dict) else {}


def _types(node: dict[str, Any]) -> set[str]:
    """Every JSON type the schema allows here (empty: any)."""
    node = _resolve(node)
    if "type" in node:
        kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
        found = set(kinds)
    elif "const" in node or "enum" in node:
        values = [node["const"]] if "const" in node else node["enum"]
        found = {_kind(v) for v in values}
    else:
        found = set()
    for key in ("anyOf", "oneOf"):
        if key in node:
            branches = [_types(b) for b in node[key]]
            if any(not b for b in branches):
                return set()
            found |= set().union(*branches)
    if "number" in found:
        found.add("integer")
    return found


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _branch(node: dict[str, Any], value: Any) -> dict[str, Any]:
    """The part of the schema that describes ``value``'s insides."""
    node = _resolve(node)
    for key in ("anyOf", "oneOf"):
        for branch in node.get(key, []):
            if _kind(value) in _types(branch) or (
                    _kind(value) == "integer" and "number" in _types(branch)):
                return _branch(branch, value)
    return node


def _child(node: dict[str, Any], key: str | int) -> dict[str, Any] | None:
    if isinstance(key, int):
        items = node.get("items")
        return items if isinstance(items, dict) else None
    if key in node.get("properties", {}):
        return node["properties"][key]  # type: ignore[no-any-return]
    for pattern, sub in node.get("patternProperties", {}).items():
        if re.search(pattern, key):
            return sub  # type: ignore[no-any-return]
    extra = node.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def typed_places(value: Any, node: dict[str, Any], path: tuple[str | int, ...] = ()
                 ) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Each place in the default pack with a type in the schema, and a value of a type
    the schema does not allow there."""
    allowed = _types(node)
    if path and allowed:
        wrong = next((v for k, v in SAMPLES.items() if k not in allowed), None)
        if wrong is not None or "null" not in allowed:
            yield path, wrong
    inner = _branch(node, value)
    children = (enumerate(value) if isinstance(value, list)
                else value.items() if isinstance(value, dict) else ())
    for key, child in children:
        sub = _child(inner, key)
        if sub is not None:
            yield from typed_places(child, sub, (*path, key))


def _replace(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(document))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


PLACES = list(typed_places(DOCUMENT, SCHEMA))


def test_the_schema_walk_finds_the_pack_s_typed_places() -> None:
    paths = {p for p, _ in PLACES}
    assert len(PLACES) > 100
    assert ("version",) in paths and ("rules", 0, "name") in paths
    assert ("calendar", "workweek", 0) in paths and ("events", "called", "from") in paths


@pytest.mark.parametrize(("path", "wrong"), PLACES,
                         ids=[".".join(map(str, p)) for p, _ in PLACES])
def test_a_wrong_type_anywhere_is_refused_with_file_line_and_path(
    path: tuple[str | int, ...], wrong: Any
) -> None:
    text = yaml.safe_dump(_replace(DOCUMENT, path, wrong), sort_keys=False, width=1000)
    with pytest.raises(RulesError) as refused:
        load_rules("wrong.yaml", text=text)
    problems = refused.value.problems
    assert problems and all(p.file == "wrong.yaml" for p in problems)
    assert any(p.line >= 1 and p.column >= 1 for p in problems), problems


HOSTILE = {
    "billion laughs": "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
        for i in range(9)),
    "deep flow nesting": "version: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "deep block nesting": "version: 1\nfacts:\n" + "".join(
        " " * (i + 1) + f"k{i}:\n" for i in range(1_000)),
    "python object tag": "version: !!python/object/apply:os.system ['echo owned']\n",
    "python name tag": "version: 1\nname: !!python/name:os.system\n",
    "unknown local tag": "version: !include /etc/passwd\n",
    "recursive alias": "a: &a [*a]\n",
    "many documents": "version: 1\n---\nversion: 1\n",
    "control characters": "version: 1\nname: \"a\x00b\"\n",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=list(HOSTILE))
def test_hostile_files_are_refused_with_a_place(text: str) -> None:
    with pytest.raises(RulesError) as refused:
        load_rules("hostile.yaml", text=text)
    problems = refused.value.problems
    assert problems and problems[0].file == "hostile.yaml"
    assert any(p.line >= 1 for p in problems), problems


def test_a_huge_file_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(RulesError) as refused:
        load_rules("huge.yaml", text="version: 1\ndescription: \"" + "x" * (3 << 20) + "\"\n")
    [problem] = refused.value.problems
    assert problem.file == "huge.yaml" and "larger than" in problem.message


def test_invalid_utf8_is_refused_at_the_bad_byte(tmp_path: Any) -> None:
    pack = tmp_path / "latin1.yaml"
    pack.write_bytes(DEFAULT.encode("utf-8").replace(
        b"description: Reminders", b"description: R\xe9minders", 1))
    with pytest.raises(RulesError) as refused:
        load_rules(pack)
    [problem] = refused.value.problems
    assert problem.file.endswith("latin1.yaml") and problem.line == 8
    assert "UTF-8" in problem.message
