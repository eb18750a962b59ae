"""The subset of JSON Schema that ``schemacheck`` honours, and JSON's view of a value.

A schema is checked against the subset before it is used (``_validate_schema``), so a keyword
that would be silently ignored is an error instead; ``$ref`` pointers are resolved here; and a
value's JSON types, and JSON equality (1 == 1.0, but true != 1), are worked out here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "markdownDescription",
        "default",
        "examples",
        "$schema",
        "$id",
        "$comment",
        "deprecated",
    }
)
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs"})
_SCHEMA_LISTS = frozenset({"anyOf", "oneOf", "allOf"})
_SCHEMA_ONE = frozenset({"items", "additionalProperties", "propertyNames"})
_COUNTS = frozenset(
    {"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"}
)
_BOUNDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_VALUES = frozenset({"enum", "const", "uniqueItems", "required", "type", "pattern", "$ref"})
_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")


# --- schema checks and lookups ---------------------------------------------------------------


def _validate_schema(schema: Any, where: str, root: Mapping[str, Any]) -> None:
    """Raise ValueError for anything in ``schema`` that :func:`check` would not honour."""
    if isinstance(schema, bool):
        return
    if not isinstance(schema, Mapping):
        raise ValueError(f"{where}: a schema must be a mapping or true/false, not {schema!r}")
    for keyword, value in schema.items():
        at = f"{where}/{keyword}"
        if keyword in _ANNOTATIONS or keyword.startswith("x-"):
            continue
        if keyword in _SCHEMA_MAPS:
            _expect(isinstance(value, Mapping), at, "a mapping of schemas")
            for name, sub in value.items():
                if keyword == "patternProperties":
                    _compile(name, f"{at}/{name}")
                _validate_schema(sub, f"{at}/{name}", root)
        elif keyword in _SCHEMA_LISTS:
            _expect(_is_list(value) and len(value) > 0, at, "a non-empty list of schemas")
            for index, sub in enumerate(value):
                _validate_schema(sub, f"{at}/{index}", root)
        elif keyword in _SCHEMA_ONE:
            _validate_schema(value, at, root)
        elif keyword in _COUNTS:
            _expect(_is_int(value) and value >= 0, at, "a whole number, 0 or more")
        elif keyword in _BOUNDS:
            _expect(_is_number(value), at, "a number")
        elif keyword in _VALUES:
            _check_value_keyword(keyword, value, at, root)
        else:
            raise ValueError(
                f"{at}: the schema keyword {keyword!r} is not supported by followup's checker"
            )


def _check_value_keyword(keyword: str, value: Any, at: str, root: Mapping[str, Any]) -> None:
    if keyword == "type":
        names = [value] if isinstance(value, str) else value
        _expect(_is_list(names) and all(n in _TYPES for n in names), at, f"one of {_TYPES}")
    elif keyword == "required":
        _expect(_is_list(value) and all(isinstance(n, str) for n in value), at, "a list of names")
    elif keyword == "enum":
        _expect(_is_list(value), at, "a list")
    elif keyword == "uniqueItems":
        _expect(isinstance(value, bool), at, "true or false")
    elif keyword == "pattern":
        _expect(isinstance(value, str), at, "a regular expression")
        _compile(value, at)
    elif keyword == "$ref":
        _expect(isinstance(value, str), at, "a reference such as #/$defs/NAME")
        _resolve(root, value)


def _expect(ok: bool, at: str, what: str) -> None:
    if not ok:
        raise ValueError(f"{at}: expected {what}")


def _compile(pattern: str, at: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{at}: the pattern {pattern!r} does not compile: {exc}") from exc


def _resolve(root: Mapping[str, Any], ref: str) -> Any:
    """The schema that a local ``$ref`` (a JSON pointer after '#') points to."""
    if not ref.startswith("#"):
        raise ValueError(f"$ref {ref!r}: only references inside the schema (#/...) are supported")
    target: Any = root
    pointer = unquote(ref[1:])
    if pointer:
        if not pointer.startswith("/"):
            raise ValueError(f"$ref {ref!r}: expected a JSON pointer such as #/$defs/NAME")
        for part in pointer[1:].split("/"):
            step = part.replace("~1", "/").replace("~0", "~")
            if isinstance(target, Mapping) and step in target:
                target = target[step]
            elif _is_list(target) and step.isdigit() and int(step) < len(target):
                target = target[int(step)]
            else:
                raise ValueError(f"$ref {ref!r} points to nothing in the schema")
    return target


def _def_name(ref: str) -> str | None:
    if not ref.startswith("#/$defs/"):
        return None
    return unquote(ref.rsplit("/", 1)[-1]).replace("~1", "/").replace("~0", "~").replace("_", " ")


# --- values ------------------------------------------------------------------------------------


def _value_kinds(value: Any) -> set[str]:
    """The JSON Schema types ``value`` has (3 is both an integer and a number)."""
    if value is None:
        return {"null"}
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int):
        return {"integer", "number"}
    if isinstance(value, float):
        return {"integer", "number"} if value.is_integer() else {"number"}
    if isinstance(value, str):
        return {"string"}
    if isinstance(value, list):
        return {"array"}
    if isinstance(value, dict):
        return {"object"}
    return set()


def _canonical(value: Any) -> Any:
    """A hashable stand-in for ``value`` under JSON equality: 1 == 1.0, but true != 1."""
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):
        return ("array", tuple(_canonical(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((key, _canonical(item)) for key, item in value.items()))
    if value is None:
        return ("null",)
    return ("other", id(value))


def _equal(one: Any, two: Any) -> bool:
    return bool(_canonical(one) == _canonical(two))


def _as_set(types: str | Iterable[str]) -> set[str]:
    return {types} if isinstance(types, str) else set(types)


def _ordered(types: set[str]) -> list[str]:
    return [name for name in _TYPES if name in types]


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
