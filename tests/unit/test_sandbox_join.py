"""Joining in templates and conditions: the ``join`` filter and text's ``join`` method
work as Jinja and Python say, and a join that would make more than ``MAX_TEXT`` is
refused before it is made, by name ("the joined text"), whichever way its separator
is given."""

from __future__ import annotations

from typing import Any

import pytest

from followup.language.sandbox import (
    MAX_TEXT,
    ExpressionError,
    compile_condition,
    compile_template,
)

# A thousand short items and a separator of a thousand characters: about a million
# characters joined, ten times the limit, though each alone is small.
ITEMS = ["a"] * 1000
WIDE = "-" * 1000
# And 99 items of a thousand characters, within the limit, with a separator of 20.
LONG = ["x" * 1000] * 99
SHORT = "-" * 20
PEOPLE = [{"name": "Ada"}, {"name": "Grace"}]


def render(source: str, **context: Any) -> str:
    return compile_template(source, known=list(context)).render(context)


def refused(source: str, **context: Any) -> str:
    with pytest.raises(ExpressionError) as stopped:
        render(source, **context)
    return str(stopped.value)


def test_the_join_filter_without_a_separator_runs_the_items_together() -> None:
    assert render("{{ items|join }}", items=["a", "b", "c"]) == "abc"
    assert render("{{ items|join }}", items=[]) == ""


def test_the_join_filter_with_a_separator_and_an_attribute() -> None:
    assert render("{{ items|join(', ') }}", items=["a", "b"]) == "a, b"
    assert render("{{ items|join(d=' / ') }}", items=["a", "b"]) == "a / b"
    assert render("{{ people|join(', ', 'name') }}", people=PEOPLE) == "Ada, Grace"
    assert render("{{ people|join(', ', attribute='name') }}", people=PEOPLE) == "Ada, Grace"
    assert render("{{ people|join(attribute='name') }}", people=PEOPLE) == "AdaGrace"


@pytest.mark.parametrize("source", [
    "{{ long|join(short) }}",
    "{{ short.join(long) }}",
    "{{ items|join(wide) }}",
    "{{ items|join(d=wide) }}",
    "{{ items|join(wide, attribute='real') }}",
    "{{ wide.join(items) }}",
    "{{ wide.join(items|list) }}",
])
def test_a_join_past_the_limit_is_refused_before_it_is_made(source: str) -> None:
    message = refused(source, items=ITEMS, wide=WIDE, long=LONG, short=SHORT)
    assert message.startswith("template was refused: the joined text is too big"), message


def test_a_condition_joining_past_the_limit_is_refused_too() -> None:
    condition = compile_condition("items|join(wide) == ''", known=["items", "wide"])
    with pytest.raises(ExpressionError, match="was refused: the joined text is too big"):
        condition.holds({"items": ITEMS, "wide": WIDE})


def test_a_join_just_inside_the_limit_is_made() -> None:
    # The items and the separators weigh what the text will: ten items of 9,999
    # characters and nine separators of one, plus one for the list itself.
    items = ["x" * 9_999] * 10
    assert len(render("{{ items|join('-') }}", items=items)) == MAX_TEXT - 1
    assert len(render("{{ '-'.join(items) }}", items=items)) == MAX_TEXT - 1


def test_text_join_takes_items_as_they_come_even_from_a_lazy_filter() -> None:
    assert render("{{ ', '.join(items|map('upper')) }}", items=["a", "b"]) == "A, B"
    assert render("{{ ', '.join(items) }}", items=("a", "b")) == "a, b"


def test_text_join_given_two_lists_fails_as_python_says() -> None:
    message = refused("{{ ' '.join(items, items) }}", items=["a"])
    assert message.startswith("template failed:") and "join() takes exactly one argument" \
        in message, message
    message = refused("{{ ' '.join() }}", items=["a"])
    assert message.startswith("template failed:") and "join() takes exactly one argument" \
        in message, message


def test_other_methods_of_text_with_one_argument_are_not_taken_for_join() -> None:
    assert render("{{ text.split(',')|join('+') }}", text="a,b,c") == "a+b+c"
    assert render("{{ text.strip('-') }}", text="--a--") == "a"
    # Methods whose names sort before join's, each with one argument.
    assert render("{{ text.count(',') }} {{ text.endswith('c') }} [{{ text.center(7) }}] "
                  "{{ text.find('b') }} {{ text.index('c') }}", text="a,b,c") == (
        "2 True [ a,b,c ] 2 4")
