"""Check a rule file's data against a JSON Schema, with messages a rule author can act on.

:func:`check` works for any schema written in this subset of JSON Schema (Draft 2020-12):

- ``type`` (a name or a list: string, integer, number, boolean, array, object, null),
  ``enum``, ``const``, ``$ref`` (local: ``#/$defs/NAME`` or another ``#/...`` pointer),
  ``anyOf``, ``oneOf``, ``allOf``, and ``true`` / ``false`` as schemas;
- text: ``pattern`` (searched, as JSON Schema says), ``minLength``, ``maxLength``;
- numbers: ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``;
- lists: ``items`` (one schema for every item), ``minItems``, ``maxItems``, ``uniqueItems``;
- mappings: ``properties``, ``patternProperties``, ``additionalProperties``, ``propertyNames``,
  ``required``, ``minProperties``, ``maxProperties``.

Annotations are allowed and ignored (``title``, ``description``, ``markdownDescription``,
``default``, ``examples``, ``$schema``, ``$id``, ``$comment``, ``deprecated``, ``$defs``, and
any ``x-...`` keyword), except where they make a message better:

- ``description`` of a property says what a missing key is for, and of an ``anyOf`` or
  ``oneOf`` branch, what that form is;
- a failed ``pattern`` says ``'<value>' is not a valid <what>: <hint>``. *What* is the
  schema's ``title``, else the name of the ``$defs`` entry it was reached through
  (``#/$defs/time_range`` gives "time range"); *hint* is the ``x-pattern-hint`` keyword
  (written as a fix: "write a duration such as ..."), else the ``description``, else the
  pattern itself.

Any other keyword raises ValueError, so a schema never silently asks for more than is checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from followup.errors import Problem
from followup.language._schemaspec import (
    _as_set,
    _canonical,
    _def_name,
    _equal,
    _ordered,
    _resolve,
    _validate_schema,
    _value_kinds,
)
from followup.language._schemawords import (
    _MANY,
    _ONE,
    _choices,
    _count,
    _found,
    _join,
    _not_in_enum,
    _phrase,
    _show,
    _type_fix,
    _unknown_key,
)
from followup.language.yamlsource import Path, Source

__all__ = ["MAX_PROBLEMS", "check"]

MAX_PROBLEMS = 50
"""At most this many problems are reported, then one that says how many more there are."""


def check(source: Source, schema: Mapping[str, Any]) -> list[Problem]:
    """Every way ``source`` breaks ``schema``, in document order; ``[]`` when it is valid.

    Raises ValueError when the schema uses a keyword outside the supported subset, a ``$ref``
    that is not local or leads nowhere, or a pattern that does not compile.
    """
    _validate_schema(schema, "#", schema)
    findings = _Checker(source, schema).check(source.value, (), schema)
    problems = [source.problem(f.path, f.message, at_key=f.at_key) for f in findings]
    problems = sorted(dict.fromkeys(problems), key=lambda p: (p.line, p.column))
    if len(problems) <= MAX_PROBLEMS:
        return problems
    first_unshown = problems[MAX_PROBLEMS]
    more = len(problems) - MAX_PROBLEMS
    summary = Problem(
        source.file,
        first_unshown.line,
        first_unshown.column,
        first_unshown.path,
        f"…and {more} more problem{'s' if more > 1 else ''}: fix the ones above and check again",
    )
    return [*problems[:MAX_PROBLEMS], summary]


class _Finding(NamedTuple):
    path: Path
    message: str
    at_key: bool = False


class _Checker:
    """Applies one schema to one document's values, collecting findings."""

    def __init__(self, source: Source, root: Mapping[str, Any]) -> None:
        self.source = source
        self.root = root

    def check(
        self, value: Any, path: Path, schema: Any, refs: tuple[str, ...] = ()
    ) -> list[_Finding]:
        """What is wrong with ``value`` (at ``path``) under ``schema``.

        ``refs`` are the ``$ref`` followed to reach ``schema`` for this same value: they
        name the thing being checked, and a repeat among them would loop forever.
        """
        if schema is True:
            return []
        if schema is False:
            return [_Finding(path, f"{_show(value)} is not allowed here: remove it")]
        types = schema.get("type")
        if types is not None and not _value_kinds(value) & _as_set(types):
            return [_Finding(path, self._wrong_type(value, schema, _as_set(types)))]
        found: list[_Finding] = []
        ref = schema.get("$ref")
        if ref is not None:
            if ref in refs:
                raise ValueError(f"the schema's $ref {ref!r} leads back to itself")
            found += self.check(value, path, _resolve(self.root, ref), (*refs, ref))
        if "const" in schema and not _equal(value, schema["const"]):
            found.append(
                _Finding(
                    path, f"{_show(value)} is not allowed here: expected {_show(schema['const'])}"
                )
            )
        if "enum" in schema and not any(_equal(value, choice) for choice in schema["enum"]):
            found.append(_Finding(path, _not_in_enum(value, schema["enum"])))
        if isinstance(value, str):
            found += self._text(value, path, schema, refs)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            found += _number(value, path, schema)
        elif isinstance(value, list):
            found += self._list(value, path, schema)
        elif isinstance(value, dict):
            found += self._mapping(value, path, schema)
        for branch in schema.get("allOf", ()):
            found += self.check(value, path, branch, refs)
        if "anyOf" in schema:
            found += self._alternatives(value, path, schema["anyOf"], refs, exactly_one=False)
        if "oneOf" in schema:
            found += self._alternatives(value, path, schema["oneOf"], refs, exactly_one=True)
        return found

    # --- by kind of value ------------------------------------------------------------------

    def _text(
        self, value: str, path: Path, schema: Mapping[str, Any], refs: tuple[str, ...]
    ) -> list[_Finding]:
        found: list[_Finding] = []
        shown = _show(value)
        pattern = schema.get("pattern")
        if pattern is not None and not re.search(pattern, value):
            what = schema.get("title") or (_def_name(refs[-1]) if refs else None)
            hint = schema.get("x-pattern-hint") or schema.get("description")
            fix = _phrase(hint) if hint else f"it must match the pattern {pattern}"
            verdict = f"is not a valid {_phrase(what)}" if what else "does not have the right form"
            found.append(_Finding(path, f"{shown} {verdict}: {fix}"))
        least = schema.get("minLength")
        if least is not None and len(value) < least:
            if not value:
                message = f"the text is empty, expected at least {_count(least, 'character')}"
                found.append(_Finding(path, f"{message}: write something here"))
            else:
                message = f"{shown} is too short: expected at least {_count(least, 'character')}"
                found.append(_Finding(path, f"{message}, found {len(value)}; write more"))
        most = schema.get("maxLength")
        if most is not None and len(value) > most:
            message = f"{shown} is too long: expected at most {_count(most, 'character')}"
            found.append(_Finding(path, f"{message}, found {len(value)}; shorten it"))
        return found

    def _list(self, value: list[Any], path: Path, schema: Mapping[str, Any]) -> list[_Finding]:
        found: list[_Finding] = []
        if "items" in schema:
            for index, item in enumerate(value):
                found += self.check(item, (*path, index), schema["items"])
        size = len(value)
        has = "the list is empty" if not size else f"the list has {_count(size, 'item')}"
        least = schema.get("minItems")
        if least is not None and size < least:
            message = f"{has}, expected at least {_count(least, 'item')}: add {least - size} more"
            found.append(_Finding(path, message))
        most = schema.get("maxItems")
        if most is not None and size > most:
            message = f"{has}, expected at most {_count(most, 'item')}: remove {size - most}"
            found.append(_Finding(path, message))
        if schema.get("uniqueItems") is True:
            first_seen: dict[Any, int] = {}
            for index, item in enumerate(value):
                earlier = first_seen.setdefault(_canonical(item), index)
                if earlier != index:
                    lines = self._where_both((*path, earlier), (*path, index))
                    message = f"{_show(item)} is listed twice ({lines}): keep one"
                    found.append(_Finding((*path, index), message))
        return found

    def _mapping(
        self, value: dict[str, Any], path: Path, schema: Mapping[str, Any]
    ) -> list[_Finding]:
        found: list[_Finding] = []
        properties: Mapping[str, Any] = schema.get("properties", {})
        patterns: Mapping[str, Any] = schema.get("patternProperties", {})
        additional = schema.get("additionalProperties", True)
        for name in schema.get("required", ()):
            if name not in value:
                found.append(_Finding(path, self._missing(name, properties.get(name))))
        for key, item in value.items():
            at = (*path, key)
            known = key in properties
            if known:
                found += self.check(item, at, properties[key])
            for pattern, sub in patterns.items():
                if re.search(pattern, key):
                    known = True
                    found += self.check(item, at, sub)
            if known:
                continue
            if additional is False:
                found.append(_Finding(at, _unknown_key(key, properties, patterns), at_key=True))
            else:
                found += self.check(item, at, additional)
        if "propertyNames" in schema:
            for key in value:
                for finding in self.check(key, (*path, key), schema["propertyNames"]):
                    shown = _show(key)
                    message = finding.message
                    message = (
                        f"key {message}" if message.startswith(shown) else f"key {shown}: {message}"
                    )
                    found.append(_Finding(finding.path, message, at_key=True))
        size = len(value)
        has = "the mapping is empty" if not size else f"the mapping has {_count(size, 'key')}"
        least = schema.get("minProperties")
        if least is not None and size < least:
            message = f"{has}, expected at least {_count(least, 'key')}: add {least - size} more"
            found.append(_Finding(path, message))
        most = schema.get("maxProperties")
        if most is not None and size > most:
            message = f"{has}, expected at most {_count(most, 'key')}: remove {size - most}"
            found.append(_Finding(path, message))
        return found

    def _alternatives(
        self,
        value: Any,
        path: Path,
        branches: Sequence[Any],
        refs: tuple[str, ...],
        *,
        exactly_one: bool,
    ) -> list[_Finding]:
        results = [self.check(value, path, branch, refs) for branch in branches]
        passing = [branch for branch, result in zip(branches, results, strict=True) if not result]
        if exactly_one and len(passing) > 1:
            forms = _join([self._form(branch) for branch in passing], "and")
            message = (
                f"{_show(value)} matches more than one form ({forms}): change it so that it "
                "fits exactly one"
            )
            return [_Finding(path, message)]
        if passing:
            return []
        kinds = _value_kinds(value)
        fitting = [
            result
            for branch, result in zip(branches, results, strict=True)
            if (branch_kinds := self._kinds(branch, ())) is None or kinds & branch_kinds
        ]
        if len(fitting) == 1:
            return fitting[0]
        forms = _join(list(dict.fromkeys(self._form(branch) for branch in branches)), "or")
        accepted: set[str] = set()
        for branch in branches:
            accepted |= self._kinds(branch, ()) or set()
        message = f"expected {forms}, found {_found(value)}{_type_fix(value, accepted)}"
        return [_Finding(path, message)]

    # --- words -----------------------------------------------------------------------------

    def _wrong_type(self, value: Any, schema: Mapping[str, Any], types: set[str]) -> str:
        expected = _join([self._type_words(t, schema) for t in _ordered(types)], "or")
        return f"expected {expected}, found {_found(value)}{_type_fix(value, types)}"

    def _type_words(self, name: str, schema: Mapping[str, Any], *, many: bool = False) -> str:
        if name == "array" and "items" in schema:
            items = self._describe(schema["items"], many=True)
            if items != "values":
                return f"{'lists' if many else 'a list'} of {items}"
        return (_MANY if many else _ONE).get(name, name)

    def _describe(self, schema: Any, *, many: bool = False, refs: tuple[str, ...] = ()) -> str:
        """Plain words for what ``schema`` accepts: "text", "a list of whole numbers", ..."""
        if schema is True or schema is False:
            return ("values" if many else "anything") if schema else "nothing"
        if "const" in schema:
            return _show(schema["const"])
        if "enum" in schema:
            return "one of " + _choices(schema["enum"])
        if "type" in schema:
            words = [
                self._type_words(t, schema, many=many) for t in _ordered(_as_set(schema["type"]))
            ]
            return _join(words, "or")
        ref = schema.get("$ref")
        if ref is not None and ref not in refs:
            return self._describe(_resolve(self.root, ref), many=many, refs=(*refs, ref))
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            described = (self._describe(b, many=many, refs=refs) for b in branches)
            return _join(list(dict.fromkeys(described)), "or")
        return "values" if many else "a value"

    def _form(self, branch: Any) -> str:
        """One branch of anyOf/oneOf in words, with its description when it has one."""
        words = self._describe(branch)
        description = self._description(branch)
        if not description:
            return words
        return _phrase(description) if words == "a value" else f"{words} ({_phrase(description)})"

    def _description(self, schema: Any) -> str | None:
        seen: tuple[str, ...] = ()
        while isinstance(schema, Mapping):
            if schema.get("description"):
                return str(schema["description"])
            ref = schema.get("$ref")
            if ref is None or ref in seen:
                return None
            seen = (*seen, ref)
            schema = _resolve(self.root, ref)
        return None

    def _kinds(self, schema: Any, refs: tuple[str, ...]) -> set[str] | None:
        """The JSON types ``schema`` can accept; None when it does not say."""
        if schema is True or schema is False:
            return None if schema else set()
        if "type" in schema:
            return _as_set(schema["type"])
        if "const" in schema:
            return _value_kinds(schema["const"])
        if "enum" in schema:
            return set().union(*(_value_kinds(choice) for choice in schema["enum"]))
        ref = schema.get("$ref")
        if ref is not None and ref not in refs:
            return self._kinds(_resolve(self.root, ref), (*refs, ref))
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            kinds: set[str] = set()
            for branch in branches:
                more = self._kinds(branch, refs)
                if more is None:
                    return None
                kinds |= more
            return kinds
        for branch in schema.get("allOf", ()):
            kinds_of_branch = self._kinds(branch, refs)
            if kinds_of_branch is not None:
                return kinds_of_branch
        return None

    def _missing(self, name: str, property_schema: Any) -> str:
        description = self._description(property_schema)
        about = f" ({_phrase(description)})" if description else ""
        return f"missing key '{name}'{about}: add \"{name}: ...\" here"

    def _where_both(self, first: Path, second: Path) -> str:
        one, two = self.source.mark(first), self.source.mark(second)
        if one.line == two.line:
            return f"line {one.line}, columns {one.column} and {two.column}"
        return f"lines {one.line} and {two.line}"


# --- numbers ---------------------------------------------------------------------------------


def _number(value: float, path: Path, schema: Mapping[str, Any]) -> list[_Finding]:
    found: list[_Finding] = []
    shown = _show(value)
    if "minimum" in schema and value < schema["minimum"]:
        message = f"{shown} is too small: expected {_show(schema['minimum'])} or more"
        found.append(_Finding(path, message))
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        message = f"{shown} is too small: expected more than {_show(schema['exclusiveMinimum'])}"
        found.append(_Finding(path, message))
    if "maximum" in schema and value > schema["maximum"]:
        message = f"{shown} is too large: expected {_show(schema['maximum'])} or less"
        found.append(_Finding(path, message))
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        message = f"{shown} is too large: expected less than {_show(schema['exclusiveMaximum'])}"
        found.append(_Finding(path, message))
    return found
