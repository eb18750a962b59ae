"""Numbers given to filters (a width, a length, a count) are at most ``MAX_ARGUMENT``,
whether the filter is one of Jinja's plain ones (``center``) or one that Jinja hands its
environment first (``truncate``, ``wordwrap``, ``batch``); the value a filter is applied
to is not such a number, whatever its size (a salary written as JSON)."""

from __future__ import annotations

from typing import Any

import pytest

from followup.language.sandbox import (
    MAX_ARGUMENT,
    ExpressionError,
    compile_condition,
    compile_template,
)


def render(source: str, **context: Any) -> str:
    return compile_template(source, known=list(context)).render(context)


# The width is a fact, so only the evaluation can tell it (a constant is refused when
# the pack loads, as test_hostile_packs.py shows).
USES = [
    ("center", "{{ x|center(n) }}"),
    ("indent", "{{ x|indent(n) }}"),
    ("truncate", "{{ x|truncate(n) }}"),
    ("truncate", "{{ x|truncate(length=n) }}"),
    ("wordwrap", "{{ x|wordwrap(n) }}"),
    ("batch", "{{ [x, x]|batch(n)|list }}"),
    ("slice", "{{ [x, x]|slice(n)|list }}"),
]


@pytest.mark.parametrize(("name", "source"), USES)
def test_a_number_past_the_limit_given_to_a_filter_is_refused_with_its_name(
        name: str, source: str) -> None:
    for n in (MAX_ARGUMENT + 1, -MAX_ARGUMENT - 1):
        with pytest.raises(ExpressionError) as refused:
            render(source, x="a", n=n)
        assert str(refused.value) == (
            f"template was refused: the filter {name!r} was given {n}: numbers given to "
            f"filters may be at most {MAX_ARGUMENT:,}")
    render(source, x="a", n=MAX_ARGUMENT)  # the limit itself is allowed


def test_the_limit_holds_in_conditions() -> None:
    condition = compile_condition("(x|center(n))|length > 0", known=["x", "n"])
    assert condition.holds({"x": "a", "n": MAX_ARGUMENT})
    with pytest.raises(ExpressionError, match="the filter 'center' was given 1001"):
        condition.holds({"x": "a", "n": MAX_ARGUMENT + 1})


@pytest.mark.parametrize(("source", "expected"), [
    ("{{ salary|tojson }}", "120000"),
    ("{{ salary|string }}", "120000"),
    ("{{ [salary, 3]|max }}", "120000"),
    ("{{ salary|filesizeformat }}", "120.0 kB"),
    ("{{ [salary]|join }}", "120000"),
])
def test_a_big_number_a_filter_is_applied_to_is_not_a_number_given_to_it(
        source: str, expected: str) -> None:
    assert render(source, salary=120_000) == expected
