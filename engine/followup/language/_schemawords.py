"""The words of ``schemacheck``'s messages: values as YAML shows them, and fix hints.

Values are shown as a rule author wrote them ('fri day', 3, true, [a, b]), types named in plain
words ("a whole number", "a list"), and a fix suggested for the common slips: a misspelt key
or choice, quotes that are missing or one too many.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from followup.errors import suggest

_ONE = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "nothing (null)",
}
_MANY = {
    "string": "text (strings)",
    "integer": "whole numbers",
    "number": "numbers",
    "boolean": "true/false values",
    "array": "lists",
    "object": "mappings",
    "null": "nulls",
}
_PLAIN = re.compile(r"[\w][\w .@/+-]*\Z")
_NUMERIC = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*\Z")


def _show(value: Any, limit: int = 60) -> str:
    """``value`` as it would be written in YAML, shortened: 'fri day', 3, true, [a, b]."""
    text = _flow(value) if isinstance(value, (list, dict)) else _scalar(value, quote=True)
    return text if len(text) <= limit else text[: limit - 4] + " ..."


def _scalar(value: Any, *, quote: bool) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if not quote and _PLAIN.match(value) and value.strip() == value:
            return value
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _flow(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_scalar(k, quote=False)}: {_flow(v)}" for k, v in value.items())
        return "{" + inner + "}"
    return _scalar(value, quote=False)


def _found(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"true/false: {_show(value)}"
    if isinstance(value, (int, float)):
        return f"a number: {_show(value)}"
    if isinstance(value, str):
        return f"text: {_show(value)}"
    if isinstance(value, list):
        return f"a list: {_show(value)}"
    return f"a mapping: {_show(value)}"


def _type_fix(value: Any, accepted: set[str]) -> str:
    """A short fix for a value of the wrong type, for the common YAML slips."""
    if value is None:
        return "; write a value here"
    if "string" in accepted and isinstance(value, (bool, int, float)):
        return "; put it in quotes to make it text"
    if accepted & {"integer", "number"} and isinstance(value, str) and _NUMERIC.match(value):
        return "; remove the quotes"
    if "integer" in accepted and isinstance(value, float):
        return "; use a whole number"
    if "array" in accepted and not isinstance(value, list):
        return "; write a list: [a, b], or one '- ' line per item"
    if "object" in accepted and not isinstance(value, dict):
        return "; write 'key: value' lines, indented under this key"
    if accepted == {"boolean"}:
        return "; write true or false"
    return ""


def _choices(values: Sequence[Any], limit: int = 20) -> str:
    shown = [_flow(value) for value in values[:limit]]
    return ", ".join(shown) + (", ..." if len(values) > limit else "")


def _not_in_enum(value: Any, choices: Sequence[Any]) -> str:
    texts = [choice for choice in choices if isinstance(choice, str)]
    hint = suggest(value, texts) if isinstance(value, str) else ""
    expected = (f"expected {_flow(choices[0])}" if len(choices) == 1
                else f"expected one of {_choices(choices)}")
    message = f"{_show(value)} is not allowed here{hint}: {expected}"
    if isinstance(value, (bool, int, float)) and _scalar(value, quote=False) in texts:
        return f"{message}; put it in quotes to make it text"
    return message


def _unknown_key(key: str, properties: Mapping[str, Any], patterns: Mapping[str, Any]) -> str:
    allowed = sorted(properties)
    listed = ", ".join(allowed[:30]) + (", ..." if len(allowed) > 30 else "")
    if patterns:
        matching = " or ".join(patterns)
        listed = (
            f"{listed}, or a key matching {matching}" if listed else f"a key matching {matching}"
        )
    if not listed:
        return f"unknown key '{key}': this mapping takes no keys; remove it"
    hint = suggest(key, allowed)
    return f"unknown key '{key}'{hint}: remove it, or use one allowed here: {listed}"


def _join(words: Sequence[str], last: str) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _phrase(text: str) -> str:
    """A description or title made to fit inside a sentence: no capital, no full stop."""
    text = text.strip().rstrip(".")
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text
