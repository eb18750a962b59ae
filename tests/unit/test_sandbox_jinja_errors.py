"""What only Jinja's own compiler or runtime refuses is a rule pack's error like any other:
an ``ExpressionError`` (a ``RulesError`` with file and line when a pack loads), never
Jinja's exception escaping to ``followup validate`` or costing an application its whole
pass."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest

from followup import Contact, Engine, FakeClock, MemoryStore, RulesError, load_rules
from followup.language.sandbox import ExpressionError, compile_condition, compile_template
from followup.testing import RecordingChannel


def test_an_unknown_test_is_refused_when_the_pack_loads_with_its_line() -> None:
    with pytest.raises(ExpressionError) as refused:
        compile_template("Dear {{ name }},\n\n{% if name is nmae %}x{% endif %}", known=["name"])
    assert refused.value.line == 3
    message = str(refused.value)
    assert message.startswith("template uses the test 'nmae', which does not exist")
    assert "after 'is' are" in message and "defined" in message and "none" in message
    with pytest.raises(ExpressionError, match=r"^condition 'x is nnoe' uses the test 'nnoe', "
                                              r"which does not exist \(did you mean 'none'\?\)"):
        compile_condition("x is nnoe", known=["x"])


def test_an_unknown_test_after_a_known_one_is_refused_too() -> None:
    with pytest.raises(ExpressionError, match=r"^condition 'x is none or y is nnoe' uses the "
                                              r"test 'nnoe', which does not exist"):
        compile_condition("x is none or y is nnoe", known=["x", "y"])


def test_an_unknown_test_in_a_pack_is_a_problem_with_file_and_line() -> None:
    text = textwrap.dedent("""\
        version: 1
        extends: after-interview
        rules:
          - name: odd
            while: interviewed
            if: "why_me is frobnicated"
            at: interviewed_at
            notify: {template: thank-you}
        """)
    with pytest.raises(RulesError) as refused:
        load_rules("mine.yaml", text=text)
    (problem,) = refused.value.problems
    assert str(problem).startswith("mine.yaml:6:")
    assert "uses the test 'frobnicated', which does not exist" in str(problem)


def test_a_block_defined_twice_is_refused_when_the_pack_loads() -> None:
    with pytest.raises(ExpressionError, match=r"^template does not parse: block 'a' defined "
                                              r"twice") as refused:
        compile_template("{% block a %}{% endblock %}\n{% block a %}{% endblock %}", known=[])
    assert refused.value.line == 2  # the second one


@pytest.mark.parametrize("source", ["{{ x|select('frob')|list }}", "{{ x|map('frob')|list }}"])
def test_a_test_or_filter_named_by_text_that_does_not_exist_fails_as_the_template(
        source: str) -> None:
    template = compile_template(source, known=["x"])
    with pytest.raises(ExpressionError, match=r"^template failed: No (test|filter) named "
                                              r"'frob'"):
        template.render({"x": [1, 2]})
    condition = compile_condition(source[3:-3] + " == []", known=["x"])
    with pytest.raises(ExpressionError, match=r"^condition .* failed: No (test|filter) named"):
        condition.holds({"x": [1, 2]})


def test_such_a_template_costs_one_reminder_its_text_not_the_applications_pass() -> None:
    pack = load_rules("mine.yaml", text=textwrap.dedent("""
        version: 1
        extends: after-interview
        templates:
          thank-you:
            subject: "{{ contacts|select('frob')|list }}"
    """))
    channel = RecordingChannel("console")
    engine = Engine(rules=pack, store=MemoryStore(), channels=[channel],
                    clock=FakeClock(datetime(2027, 1, 4, 15, tzinfo=UTC)))
    engine.set_owner("ada", timezone="America/New_York", country="US")
    engine.add_application(owner="ada", company="Acme", role="Engineer",
                           facts={"interviewed_at": "2027-01-04T09:00"},
                           contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
    report = engine.run_due()
    assert report.errors == {}
    [thanks] = [n for n in channel.sent if n.rule == "thank-you-notes"]
    assert thanks.subject == "thank-you-notes: Acme (template failed: No test named 'frob'.)"
    assert report.fired == len(channel.sent) >= 2  # the others went out as written


def test_what_jinja_s_code_generator_refuses_is_a_rule_error_with_its_line() -> None:
    """The guard of ``_generate`` against Jinja's compiler: every tree a pack can give
    is refused before it (by the load checks and ``find_undeclared_variables``), so these
    trees are made by hand, as a later Jinja might refuse one the checks let through."""
    import jinja2.nodes as n

    from followup.language.expressions import default_sandbox
    from followup.language.sandbox import _generate

    env = default_sandbox().env
    twice = n.Template([n.Block("a", [], False, False, lineno=2),
                        n.Block("a", [], False, False, lineno=7)], lineno=1)
    with pytest.raises(ExpressionError, match=r"^template does not parse: block 'a' defined "
                                              r"twice$") as refused:
        _generate(env, twice, "template")
    assert refused.value.line == 7
    outside = n.Template([n.Break(lineno=3)], lineno=1)  # Python refuses the code made
    with pytest.raises(ExpressionError, match=r"^template is too complex to compile: write it "
                                              r"flatter$") as too_complex:
        _generate(env, outside, "template")
    assert isinstance(too_complex.value.__cause__, SyntaxError)
