"""Conditions and message templates of the common shapes evaluate through closures made
from their fast forms (language/_fastbuild.py) instead of Jinja2's machinery; whatever
such a closure gives is what the sandbox gives for the same source and context (a
template's text byte for byte), and so does the fast form kept as JSON, as a pack's cache
entry keeps it. Where a closure does not know a case it gives up, and the sandbox
evaluates the whole expression as before."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followup.language._bounds import budget
from followup.language._fastbuild import expression, template
from followup.language._fastconditions import condition_form
from followup.language._fasttemplates import compile_fast_template, template_form
from followup.language.conditions import holds
from followup.language.expressions import ExpressionError
from followup.language.sandbox import compile_condition, compile_template

NAMES = ["company", "note", "score", "ready", "missing"]
VALUES = st.one_of(st.none(), st.text(max_size=12), st.integers(-10**6, 10**6),
                   st.floats(allow_nan=False), st.booleans(),
                   st.lists(st.integers(1, 3), max_size=2),
                   st.just(datetime(2026, 12, 6, 9, 30, tzinfo=UTC)))
TEXT = st.text(st.characters(blacklist_characters="{}%#", blacklist_categories=["Cs"]),
               max_size=15)


def _expr(depth: int = 0) -> st.SearchStrategy[str]:
    leaves = st.one_of(
        st.sampled_from(NAMES),
        st.sampled_from(["contact.name", "contact.title", "application.company",
                         "contact.items", "contact['name']", "contact.nowhere"]),
        st.sampled_from(["'x'", "3", "none", "true", "2.5", "[1, 2]", "(1, 2)", "[]", "(3,)"]),
    )
    if depth >= 2:
        return leaves
    inner = _expr(depth + 1)
    return st.one_of(
        leaves,
        st.builds(lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from(
            ["==", "!=", "<", ">=", "and", "or", "in"]), inner),
        st.builds(lambda a: f"not {a}", inner),
        st.builds(lambda a: f"-{a}", inner),
        st.builds(lambda a: f"{a} is none", inner),
        st.builds(lambda a: f"{a} is defined", inner),
        st.builds(lambda a, op, b, op2, c: f"{a} {op} {b} {op2} {c}", inner,
                  st.sampled_from(["<", "<=", "==", "!="]), inner,
                  st.sampled_from(["<", ">", "==", "!="]), inner),  # a chain
        st.builds(lambda a, c, b: f"{a} if {c} else {b}", inner, inner, inner),
    )


def _pieces() -> st.SearchStrategy[str]:
    value = st.builds(lambda e: "{{ " + e + " }}", _expr())
    block = st.builds(lambda c, a, b: "{% if " + c + " %}" + a + "{% else %}" + b + "{% endif %}",
                      _expr(), st.one_of(TEXT, value), st.one_of(TEXT, value))
    return st.lists(st.one_of(TEXT, value, block), max_size=5).map("".join)


@given(source=_expr(), values=st.fixed_dictionaries({n: VALUES for n in NAMES[:-1]}),
       name=st.one_of(st.none(), st.text(max_size=8)), title=VALUES)
def test_what_a_condition_s_fast_path_says_is_what_the_sandbox_says(
        source: str, values: dict[str, Any], name: str | None, title: Any) -> None:
    context: dict[str, Any] = {**values, "application": {"company": values["company"]},
                               "contact": {"name": name, "title": title}}
    found = condition_form(source)
    if found is None:
        return
    try:
        said = bool(expression(found)(context))
    except Exception:
        return  # given up: the sandbox evaluates it (conditions.holds)
    condition = compile_condition(source, known={*NAMES, "contact", "application"})
    assert said == condition.holds(context)
    assert bool(expression(json.loads(json.dumps(found)))(context)) == said


def _sandbox(source: str, context: dict[str, Any]) -> str | type[BaseException]:
    template = compile_template(source, known={*NAMES, "contact", "application"})
    try:
        with budget():
            return template._compiled.render(context)
    except Exception as exc:
        return type(exc)


@given(source=_pieces(), values=st.fixed_dictionaries({n: VALUES for n in NAMES[:-1]}),
       name=st.one_of(st.none(), st.text(max_size=8)), title=VALUES)
def test_what_the_fast_path_writes_is_what_the_sandbox_writes(
        source: str, values: dict[str, Any], name: str | None, title: Any) -> None:
    context: dict[str, Any] = {**values, "application": {"company": values["company"]},
                               "contact": {"name": name, "title": title}}
    fast = compile_fast_template(source)
    if fast is None:
        return
    try:
        written = fast(context)
    except Exception:
        return  # given up: the sandbox renders it (Template.render)
    assert written == _sandbox(source, context)
    # The fast form as a pack's cache entry keeps it (JSON) renders the same.
    kept = json.loads(json.dumps(template_form(source)))
    assert template(kept)(context) == written


@pytest.mark.parametrize("source", [
    "Thank {{ contact.name }} for the interview at {{ application.company }}",
    "{% if ready %}Call {{ application.company }}{% else %}Wait{% endif %}\n",
    "Keep looking: {{ score }} application{{ '' if score == 1 else 's' }} in play",
    "plain text, with a trailing newline\n",
])
def test_the_common_shapes_take_the_fast_path(source: str) -> None:
    assert compile_fast_template(source) is not None


@pytest.mark.parametrize("source", [
    "{% for c in contacts %}{{ c }}{% endfor %}",
    "{{ company | upper }}",
    "{{ score * 2 }}",
    "{{ company.strip() }}",
])
def test_loops_filters_calls_and_arithmetic_are_left_to_the_sandbox(source: str) -> None:
    assert compile_fast_template(source) is None


@pytest.mark.parametrize(("source", "context", "expected"), [
    ("-score == -5", {"score": 5}, True),
    ("-score == -1", {"score": 0}, False),
    ("1 < score < 3", {"score": 5}, False),  # a chain: every comparison counts
    ("1 < score < 9", {"score": 5}, True),
    ("score == [1, 2]", {"score": [1, 2]}, True),
    ("score == (1, 2)", {"score": [1, 2]}, False),  # a list is not a tuple
    ("score == (1, 2)", {"score": (1, 2)}, True),
    ("score is defined and note is none", {"score": 0, "note": None}, True),
])
def test_shapes_the_fast_path_knows(source: str, context: dict[str, Any],
                                    expected: bool) -> None:
    found = condition_form(source)
    assert found is not None
    assert bool(expression(found)(context)) is expected
    assert compile_condition(source, known=set(context)).holds(context) is expected


def test_a_negative_number_is_written_as_the_sandbox_writes_it() -> None:
    assert compile_fast_template("{{ -score }}") is not None
    assert render_both("{{ -score }} / {{ -note }}", score=5, note=0) == "-5 / 0"


def render_both(source: str, **context: Any) -> str:
    """``source`` rendered by its fast path, checked equal to the sandbox's rendering."""
    fast = compile_fast_template(source)
    assert fast is not None
    written = fast(context)
    assert written == _sandbox(source, context)
    return written


def test_a_test_given_arguments_is_left_to_the_sandbox() -> None:
    """``x is none(1)``: the fast path knows ``is none`` without arguments only, and the
    sandbox's error (the test takes none) is what the condition raises."""
    assert condition_form("score is none(1)") is None
    condition = compile_condition("score is none(1)", known={"score"})
    with pytest.raises(ExpressionError, match=r"^condition 'score is none\(1\)' failed: "):
        holds(condition, {"score": None})


def test_a_template_that_gives_up_is_rendered_by_the_sandbox_with_its_errors() -> None:
    template = compile_template("Dear {{ contact.name }}, {{ contact.nowhere }}",
                                known={"contact"})
    with pytest.raises(ExpressionError, match="template: 'dict object' has no attribute 'nowhere'"):
        template.render({"contact": {"name": "Jane"}})
    assert template.render({"contact": {"name": "Jane", "nowhere": None}}) == "Dear Jane, "
