"""What a template writes and what a compiled condition or template is: messages are plain
text (an ampersand or an angle bracket is written as it is, not as HTML), a template's last
newline is kept, an unrecorded fact writes nothing, a plugin's filter that asks Jinja for
the context gets it, and what a pack compiles to cannot be changed afterwards (packs are
cached and shared by engines)."""

from __future__ import annotations

import dataclasses
from typing import Any

import jinja2
import pytest

from followup.language.sandbox import Sandbox, compile_condition, compile_template


def render(source: str, **context: Any) -> str:
    return compile_template(source, known=list(context)).render(context)


def test_messages_are_plain_text_not_html() -> None:
    assert render("{{ company }} <{{ email }}>", company="Smith & Sons",
                  email="jane@example.com") == "Smith & Sons <jane@example.com>"


def test_the_last_newline_of_a_body_is_kept() -> None:
    assert render("Dear {{ name }},\n", name="Jane") == "Dear Jane,\n"
    assert render("Dear {{ name }},\n\n", name="Jane") == "Dear Jane,\n\n"
    # Rendered by the sandbox itself, not the fast path (which knows no filter):
    assert render("Dear {{ name | upper }},\n", name="Jane") == "Dear JANE,\n"


def test_an_unrecorded_fact_writes_nothing() -> None:
    assert render("[{{ why_me }}]", why_me=None) == "[]"
    assert render("[{{ why_me or 'no reason given' }}]", why_me=None) == "[no reason given]"


def test_a_plugin_filter_that_asks_for_the_context_gets_it() -> None:
    @jinja2.pass_context
    def at_company(context: Any, name: str) -> str:
        return f"{name} at {context['company']}"

    @jinja2.pass_environment
    def twice(environment: Any, text: str) -> str:
        assert isinstance(environment, jinja2.Environment)
        return text * 2

    sandbox = Sandbox({"at_company": (at_company, "plugin 'mine'"),
                       "twice": (twice, "plugin 'mine'")})
    template = compile_template("{{ name|at_company }} {{ 'ab'|twice }}",
                                known=["name", "company"], sandbox=sandbox)
    assert template.render({"name": "Jane", "company": "Acme"}) == "Jane at Acme abab"
    condition = compile_condition("name|at_company == 'Jane at Acme'",
                                  known=["name", "company"], sandbox=sandbox)
    assert condition.holds({"name": "Jane", "company": "Acme"})


def test_what_a_pack_compiles_to_cannot_be_changed() -> None:
    condition = compile_condition("n > 1", known=["n"])
    template = compile_template("{{ n }}", known=["n"])
    for compiled, name, value in ((condition, "source", "n > 0"), (template, "source", "x")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(compiled, name, value)
    assert condition.source == "n > 1" and not condition.holds({"n": 1})


def test_names_unpacked_in_a_loop_or_a_set_are_names_not_values() -> None:
    pairs = [("Jane", "CTO"), ("Raj", "VP")]
    assert render("{% for name, title in pairs %}{{ name }} ({{ title }}) {% endfor %}",
                  pairs=pairs) == "Jane (CTO) Raj (VP) "
    assert render("{% set (a, b) = pairs[0] %}{{ b }}, {{ a }}", pairs=pairs) == "CTO, Jane"
    assert render("{% for k, v in {'x': 1}|dictsort %}{{ k }}={{ v }}{% endfor %}") == "x=1"
