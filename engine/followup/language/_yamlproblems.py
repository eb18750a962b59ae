"""The wording of what can go wrong in a YAML rule file: syntax errors, and too deep or too big.

Each problem names the place and says how to fix it; PyYAML's and libyaml's own words for a
syntax error are made readable and given a hint.
"""

from __future__ import annotations

import re

import yaml

from followup.errors import Problem
from followup.language._yamlmarks import _LINE_BREAK, Mark, Path, _mark, _position, format_path


def _lines_phrase(first: Mark, second: Mark) -> str:
    if first.line == second.line:
        return f"line {first.line}, columns {first.column} and {second.column}"
    return f"lines {first.line} and {second.line}"


def _too_deep(file: str, where: Mark, path: Path, max_depth: int) -> Problem:
    message = (
        f"values nest more than {max_depth} levels deep here: a rule file needs only a few "
        "levels; look for a bracket that is never closed, or flatten the data"
    )
    return Problem(file, where.line, where.column, format_path(path), message)


def _too_many(file: str, where: Mark, path: Path, max_nodes: int) -> Problem:
    message = (
        f"the document expands to more than {max_nodes:,} values (aliases that expand "
        "without bound?): use fewer aliases (*name), or split the file"
    )
    return Problem(file, where.line, where.column, format_path(path), message)


def _too_long(file: str, where: Mark, path: Path, max_chars: int) -> Problem:
    message = (
        f"the document expands to more than {max_chars:,} characters of text (a long "
        "value used through many aliases?): use fewer aliases (*name), or shorter values"
    )
    return Problem(file, where.line, where.column, format_path(path), message)


def _in_order(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))  # a merged anchor may report the same thing twice
    return sorted(unique, key=lambda p: (p.line, p.column))


_TOKEN_WORDS = {
    "stream end": "the end of the file",
    "block end": "the end of the indented block",
    "block mapping start": "another key",
    "block sequence start": "a list item ('-')",
    "block entry": "a list item ('-')",
    "document start": "'---'",
    "document end": "'...'",
    "scalar": "a value",
    "key": "a key",
    "value": "':'",
    "anchor": "an anchor",
    "alias": "an alias",
    "tag": "a tag",
    "flow entry": "','",
}


def _readable(text: str) -> str:
    text = text.replace("in this context", "here")
    return re.sub(r"'?<([a-z ]+)>'?", lambda m: _TOKEN_WORDS.get(m[1], m[0]), text)


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str, max_depth: int) -> Problem:
    problem = exc.problem or "this is not valid YAML"
    yaml_mark = exc.problem_mark or exc.context_mark
    where = _mark(yaml_mark) if yaml_mark is not None else Mark(0, 0)
    if "maximum nesting depth" in problem:  # libyaml's own limit (1000 levels)
        return _too_deep(file, where, (), max_depth)
    message = f"YAML syntax error: {_readable(problem)}"
    context = exc.context
    if context and exc.context_mark is not None:
        start = _mark(exc.context_mark)
        if start != where:
            message += f" ({context} at line {start.line}, column {start.column})"
    hint = _hint(problem, context or "", text, where)
    return Problem(file, where.line, where.column, "", f"{message}; {hint}")


def _hint(problem: str, context: str, text: str, where: Mark) -> str:
    lines = _LINE_BREAK.split(text)
    line = lines[where.line - 1] if 0 < where.line <= len(lines) else ""
    char = line[where.column - 1 : where.column]
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    if char == "\t" or "\t" in indent or "tab" in problem:
        return "a tab is used for indentation here: YAML indents with spaces only; use spaces"
    if "mapping values are not allowed" in problem:
        return (
            "a value that contains ': ' must be in quotes (subject: \"Re: our call\"), and a "
            "key that starts a nested mapping must be on a line of its own"
        )
    if "could not find expected ':'" in problem:
        return (
            "each key needs ':' and a space after it (due: 2 days, not due:2 days); a value "
            "that goes on over several lines must be indented more than its key, or quoted"
        )
    if "quoted scalar" in context and "end of stream" in problem:
        return "a quote is opened but never closed; add the closing quote"
    if "expected ',' or" in problem:
        return "a list in [brackets] or a mapping in {braces} is not closed, or misses a ','"
    if "escape" in problem:
        return (
            'inside "double quotes" a backslash starts an escape such as \\n; use '
            "'single quotes' or write two backslashes"
        )
    if "alphabetic or numeric" in problem:
        return "'*' and '&' start an alias or an anchor: put a value that starts so in quotes"
    if "cannot start any token" in problem:
        return f"a value starting with {char!r} must be in quotes" if char else "quote the value"
    if char in ("]", "}") and "expected" in problem:
        return f"this '{char}' closes nothing: remove it, or add the bracket that opens it"
    if char == ":" and not line[: where.column - 1].strip():
        return "a key is missing before this ':'; write the key's name"
    if "expected" in problem:
        return (
            "check the indentation of this line and the one before: the keys of one mapping, "
            "and the '-' items of one list, must start in the same column"
        )
    return "check this line for a missing quote, bracket or ':'"


def _reader_problem(exc: yaml.YAMLError, text: str, file: str) -> Problem:
    position = getattr(exc, "position", None)
    where = _position(text, position) if isinstance(position, int) else Mark(0, 0)
    message = f"this is not valid YAML: {exc}; check the file's encoding and characters"
    return Problem(file, where.line, where.column, "", message)
