"""The checks a template or condition meets when its pack loads look at every use, not
only the first: a reach into internals, a field that does not exist or a filter nobody
registered is found after any number of good ones; and what is allowed (an index, a key,
a field of a name whose fields are not listed) is not mistaken for one of them."""

from __future__ import annotations

from typing import Any

import pytest

from followup.language.sandbox import ExpressionError, compile_condition, compile_template

FIELDS = {"contact": ["name", "title"], "count": ["interviewer", "reference"]}
KNOWN = ["contact", "count", "items", "mapping", "i", "x"]
CONTEXT: dict[str, Any] = {
    "contact": {"name": "Jane Doe", "title": "CTO"}, "count": {"interviewer": 2, "reference": 0},
    "items": ["a", "b"], "mapping": {"name": "Acme", "x": 1}, "i": 1, "x": "text"}


def compile_it(source: str) -> Any:
    return compile_template(source, known=KNOWN, fields=FIELDS)


@pytest.mark.parametrize(("source", "expected"), [
    ("{{ items[0] }}{{ items[i] }}{{ items[-1] }}", "abb"),
    ("{{ mapping['name'] }} {{ mapping[x[0:0] ~ 'x'] }}", "Acme 1"),
    ("{{ contact.name }}, {{ contact.title }}: {{ count.interviewer }}", "Jane Doe, CTO: 2"),
    ("{{ mapping.name }} {{ x.upper() }} {{ (items|first).upper() }}", "Acme TEXT A"),
    ("{{ x|upper }}{{ x|lower }}", "TEXTtext"),
])
def test_what_is_allowed_compiles_and_renders(source: str, expected: str) -> None:
    assert compile_it(source).render(CONTEXT) == expected


@pytest.mark.parametrize(("source", "message"), [
    ("{{ items[0] }}{{ items[i] }}\n{{ x.__class__ }}", "reaches for '__class__'"),
    ("{{ mapping['name'] }}{{ items[i] }}\n{{ mapping['_secret'] }}", "reaches for '_secret'"),
    ("{{ contact.name }}\n{{ contact.nmae }}", "uses contact.nmae, which does not exist "
                                               "(did you mean 'contact.name'?)"),
    ("{{ mapping.name }}{{ contact.name }}\n{{ count.intervewer }}", "uses count.intervewer"),
    ("{{ x|upper }}\n{{ x|shout }}", "uses the filter 'shout', which does not exist"),
])
def test_a_problem_after_good_uses_is_still_found_on_its_line(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as refused:
        compile_it(source)
    assert message in str(refused.value)
    assert refused.value.line == 2


def test_the_same_checks_in_conditions() -> None:
    def check(source: str) -> bool:
        return compile_condition(source, known=KNOWN, fields=FIELDS).holds(CONTEXT)

    assert check("items[0] == 'a' and mapping['name'] == 'Acme' and count.interviewer == 2")
    for source in ("count.interviewer > 0 and count.refrence == 0",
                   "items[i] == 'b' and x.__class__",
                   "x|upper == 'TEXT' and x|nosuch"):
        with pytest.raises(ExpressionError):
            check(source)
