"""What an embedder calling the sandbox directly relies on: ``ExpressionError.line`` is
the line inside the template that the problem is on, or 0 when the problem has no one
line (a name the pack does not know, which may be used on several); the options of
``compile_condition`` and ``compile_template`` and an error's line are given by keyword,
so they can grow without a caller's arguments changing meaning."""

from __future__ import annotations

from typing import Any

import pytest

from followup.language.sandbox import ExpressionError, compile_condition, compile_template


@pytest.mark.parametrize(("source", "line"), [
    ("Dear {{ name }},\n\n{{ name.__class__ }}", 3),
    ("Dear {{ name }},\n{% if %}", 2),
    ("Dear {{ name }},\n\n\n{{ name|shout }}", 4),
    ("Dear {{ nmae }},", 0),
    ("Dear {{ name }},\n{{ title }}", 0),
])
def test_an_error_names_the_line_it_is_on_or_zero(source: str, line: int) -> None:
    with pytest.raises(ExpressionError) as refused:
        compile_template(source, known=["name"])
    assert refused.value.line == line, str(refused.value)


def test_a_condition_with_an_unknown_name_has_no_line() -> None:
    with pytest.raises(ExpressionError, match="unknown name 'nmae'") as refused:
        compile_condition("nmae == 'x'", known=["name"])
    assert refused.value.line == 0


def test_an_error_made_with_only_a_message_has_line_zero() -> None:
    assert ExpressionError("the text").line == 0
    assert ExpressionError("the text", line=3).line == 3


def call(function: Any, *args: Any) -> Any:
    return function(*args)


def test_options_are_given_by_keyword() -> None:
    with pytest.raises(TypeError):
        call(compile_condition, "x == 1", ["x"])
    with pytest.raises(TypeError):
        call(compile_template, "{{ x }}", ["x"])
    with pytest.raises(TypeError):
        call(ExpressionError, "the text", 3)
    assert compile_condition("x == 1", known=["x"]).holds({"x": 1})
    assert compile_template("{{ x }}", known=["x"]).render({"x": 1}) == "1"


@pytest.mark.parametrize(("source", "message"), [
    ("a, b", "condition 'a, b' does not parse: chunk after expression"),
    ("a b", "condition 'a b' does not parse: expected token ')', got 'b'"),
    ("", "condition '' does not parse: unexpected 'end of template'"),
])
def test_a_condition_that_is_not_one_expression_does_not_parse(source: str, message: str
                                                               ) -> None:
    with pytest.raises(ExpressionError) as refused:
        compile_condition(source, known=["a", "b"])
    assert str(refused.value) == message


def test_of_several_unknown_names_the_first_in_alphabetical_order_is_named() -> None:
    for source in ("{{ zeta }} {{ alpha }} {{ mu }}", "{{ alpha }} {{ mu }} {{ zeta }}"):
        with pytest.raises(ExpressionError, match=r"uses unknown name 'alpha': known names "
                                                  r"are name \("):
            compile_template(source, known=["name"])
