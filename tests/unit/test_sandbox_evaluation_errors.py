"""What goes wrong while a condition or template runs becomes an ``ExpressionError``
whose message says which condition (or that it was the template) and what happened, in
words a rule author can act on; nothing of Python's or Jinja's own escapes."""

from __future__ import annotations

from typing import Any

import pytest

from followup.language.sandbox import ExpressionError, compile_condition, compile_template


def condition_error(source: str, **context: Any) -> str:
    condition = compile_condition(source, known=list(context))
    with pytest.raises(ExpressionError) as failed:
        condition.holds(context)
    return str(failed.value)


def template_error(source: str, **context: Any) -> str:
    template = compile_template(source, known=list(context))
    with pytest.raises(ExpressionError) as failed:
        template.render(context)
    return str(failed.value)


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(("source", "context", "message"), [
    # Something missing: the condition fails rather than counting as false.
    ("x.nmae == 1", {"x": {}}, "condition 'x.nmae == 1': 'dict object' has no attribute 'nmae'"),
    ("x.nmae", {"x": {}}, "condition 'x.nmae': 'dict object' has no attribute 'nmae'"),
    ("not x.nmae", {"x": {}}, "condition 'not x.nmae': 'dict object' has no attribute 'nmae'"),
    # Python's own failures, one of each kind.
    ("x + 1 == 2", {"x": "a"},
     "condition 'x + 1 == 2' failed: can only concatenate str (not \"int\") to str"),
    ("x.index('z') == 0", {"x": "a"}, "condition \"x.index('z') == 0\" failed: substring not found"),
    ("1 / n > 0", {"n": 0}, "condition '1 / n > 0' failed: division by zero"),
    ("x.encode('nope') == ''", {"x": "a"},
     "condition \"x.encode('nope') == ''\" failed: unknown encoding: nope"),
    ("x == y", {"x": nested(100_000), "y": [nested(100_000)]},
     "condition 'x == y' was stopped: it needs too much recursion (a macro calling itself?)"),
])
def test_a_condition_that_fails_says_which_and_why(
        source: str, context: dict[str, Any], message: str) -> None:
    assert condition_error(source, **context) == message


@pytest.mark.parametrize(("source", "context", "message"), [
    ("{{ x.nmae }}", {"x": {}}, "template: 'dict object' has no attribute 'nmae'"),
    ("{{ x + 1 }}", {"x": "a"}, "template failed: can only concatenate str (not \"int\") to str"),
    ("{{ 1 / n }}", {"n": 0}, "template failed: division by zero"),
    ("{{ x.encode('nope') }}", {"x": "a"}, "template failed: unknown encoding: nope"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", {},
     "template was stopped: it needs too much recursion (a macro calling itself?)"),
    ("{{ (x * 99999).encode('utf-32')|length }}", {"x": "a"},
     "template was refused: what encode made is too big: a template or condition may make "
     "values of at most 100,000 characters (or items)"),
    ("{{ (x * 99999).upper() ~ (x * 99999).upper() }}", {"x": "a"},
     "template was refused: the text is too big: a template or condition may make values "
     "of at most 100,000 characters (or items)"),
])
def test_a_template_that_fails_says_why(source: str, context: dict[str, Any],
                                       message: str) -> None:
    assert template_error(source, **context) == message
