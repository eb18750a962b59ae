"""Templates and conditions that reach for Python internals, or try to run forever or fill
memory, get a clear error, quickly, and change nothing.

What reaching for ``__class__`` and friends looks like when a pack loads is in
``test_loader.py``; here are the tricks that only show when a template runs, each in the
sandbox directly, then a whole batch in a process with little memory, then one through the
engine.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import pytest

from followup import Contact, Engine, FakeClock, MemoryStore, load_rules
from followup.language.sandbox import (
    MAX_TEXT,
    ExpressionError,
    compile_condition,
    compile_template,
)
from followup.testing import RecordingChannel

KNOWN = ["x", "n"]
CONTEXT = {"x": "a", "n": 3}

# Refused when the pack loads: a reach into internals, or a name that is not there.
AT_LOAD = [
    "{{ x.__class__.__mro__[1].__subclasses__() }}",
    "{{ x.__class__ }}",
    "{{ x['__class__'] }}",
    "{{ x.mro }}",
    "{{ x.format }}",
    "{{ x.format_map }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ lipsum(100000) }}",  # not offered: lorem ipsum of any length
    "{{ self.__init__.__globals__ }}",
    "{{ config }}",
    "{{ request }}",
    # Only the documented names: not Jinja's own globals.
    "{{ range(10**10)|list|length }}",
    "{{ cycler }}",
    "{{ joiner }}",
    "{{ dict(a=1) }}",
    "{% set ns = namespace(s=x) %}{{ ns.s }}",
]

# Refused when the pack loads, if its constants tell, or else when they run: every one of
# them would take minutes or gigabytes unbounded.
AT_RUN = [
    "{{ x|attr('__class__') }}",
    "{{ (x|attr('__class__')|attr('__mro__')) }}",
    "{{ (x|attr('format'))('{0.__class__}') }}",
    "{{ ('{:>999999999}'|attr('format'))(1) }}",
    "{{ ('x' * 10**9)|length }}",
    "{{ x * 1000000000 }}",
    "{{ [1] * 1000000000 }}",
    "{{ 2 ** 99999999 }}",
    "{{ (10 ** 3000) ** 3000 }}",
    "{{ (2 ** 9999) * (2 ** 9999) }}",
    "{{ '%999999999s' % x }}",
    "{{ '%*s' % (999999999, x) }}",
    "{{ '%.999999999f' % 1.5 }}",
    "{{ '%999999999s'|format(x) }}",
    "{{ x|center(999999999) }}",
    "{{ x|indent(999999999, true) }}",
    "{{ ('a\n' * 20000)|indent(1000, true)|length }}",
    "{{ [1, 2]|batch(999999999, 0)|list }}",
    "{{ x|truncate(999999999) ~ x|wordwrap(999999999) }}",
    "{{ (x * 1000)|replace('', x * 1000) }}",
    "{{ (x * 99999)|join(x * 1000) }}",
    "{{ (x * 99999)|list|tojson(999) }}",
    "{% for a in x * 99999 %}{% for b in x * 99999 %}{% endfor %}{% endfor %}",
    "{% for a in x * 99999 %}{{ x * 99999 }}{% endfor %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{% macro f(k) %}{% if k %}{{ f(k - 1) }}{{ f(k - 1) }}{% endif %}{% endmacro %}{{ f(60) }}",
    "{% for a in [1, 2] recursive %}{{ loop([1, 2]) }}{% endfor %}",
    "{% set s = x * 1000 %}" + "{% set s = s ~ s %}" * 40 + "{{ s|length }}",
    "{% set s = x * 1000 %}" + "{% set s = s + s %}" * 40 + "{{ s|length }}",
    "{% set s %}{{ x * 99999 }}{{ x * 99999 }}{% endset %}{{ s|length }}",
    # Methods of text, and lists that hold the same big value many times.
    "{{ x.ljust(n * 10**9)|length }}",
    "{{ x.center(n * 10**8) }}",
    "{{ (x * 99999).replace(x, x * 4)|length }}",
    "{{ (x * 99999).translate({97: x * 99})|length }}",
    "{{ ('\t' * 99999).expandtabs(99)|length }}",
    "{{ ' '.join([x * 99999, x * 99999])|length }}",
    "{{ (x * 99999).encode('utf-32')|length }}",
    "{{ n.to_bytes(10**8 * n, 'big')|length }}",
    "{% set a = [x] * 9999 %}{% set b = [a] * 9999 %}{{ b|string|length }}",
    "{% set s = x * 50000 %}" + "{% set s = [s, s] %}" * 40 + "{{ s|length }}",
    "{{ (x * 99999)|list|map('replace', x, x * 9999)|list|length }}",
    "{{ [x]|batch(999, x * 9999)|list|length }}",
]

CONDITIONS_AT_RUN = [
    "x * 1000000000 == ''",
    "(x * 100000) * 100000 == ''",
    "2 ** 99999999 > 0",
    "('%999999999s' % x) == ''",
    "((x * 99999)|list) * 99999 == []",
    "x.ljust(n * 10**9) == ''",
    "[[x * 99999] * 99] == []",
]


@pytest.mark.parametrize("source", AT_LOAD)
def test_internals_and_unknown_names_are_refused_when_the_pack_loads(source: str) -> None:
    with pytest.raises(ExpressionError,
                       match=r"^template (reaches for '\w+', which is not allowed"
                             r"|uses unknown name '\w+': known names are)"):
        compile_template(source, known=KNOWN)


@pytest.mark.parametrize("source", AT_RUN)
def test_what_would_run_away_is_stopped_with_a_clear_error(source: str) -> None:
    with pytest.raises(ExpressionError) as refused:
        compile_template(source, known=KNOWN).render(CONTEXT)
    message = str(refused.value)
    assert message.startswith("template"), message
    # "steps" or "second of work": whichever of the budget's two bounds is met first (on
    # a busy machine a second of CPU can come before the steps run out).
    assert any(word in message for word in (
        "too big", "steps", "second of work", "unsafe", "not allowed", "Range too big",
        "too much", "may be at most", "no attribute")), message


@pytest.mark.parametrize("source", CONDITIONS_AT_RUN)
def test_conditions_that_would_run_away_are_stopped(source: str) -> None:
    from followup.language.conditions import holds

    try:
        condition = compile_condition(source, known=KNOWN)
    except ExpressionError as refused:  # its constants told when the pack loaded
        assert "too big" in str(refused)
        return
    for evaluate in (condition.holds, lambda c: holds(condition, c)):
        with pytest.raises(ExpressionError, match=r"^condition .* was refused: .*too big"):
            evaluate(CONTEXT)


def test_ordinary_templates_still_work() -> None:
    source = ("{% for a in [0, 1, 2] %}{{ a }}{% endfor %} {{ x ~ 'b' }} {{ 2 ** 10 }} "
              "{{ '%5s'|format(x) }}|{{ x|center(5) }}|{{ [x, x]|join(', ') }} {{ n * 2 }} "
              "{{ x * 3 }} {{ (x ~ '\n' ~ x)|indent(2) }}")
    assert compile_template(source, known=KNOWN).render(CONTEXT) == (
        "012 ab 1024     a|  a  |a, a 6 aaa a\n  a")
    limit = compile_template(f"{{{{ x * {MAX_TEXT} }}}}", known=KNOWN).render(CONTEXT)
    assert len(limit) == MAX_TEXT  # the bound is a bound, not a smaller one


LOW_MEMORY = textwrap.dedent(
    """
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (768 << 20, 768 << 20))
    resource.setrlimit(resource.RLIMIT_CPU, (120, 120))
    from followup.language.sandbox import ExpressionError, compile_template
    refused = 0
    for source in sys.argv[1:]:
        try:
            compile_template(source, known=["x", "n"]).render({"x": "a", "n": 3})
        except ExpressionError:
            refused += 1
    print(refused)
    """
)


def test_in_a_process_with_768_mb_and_two_minutes_every_trick_is_refused() -> None:
    ran = subprocess.run([sys.executable, "-c", LOW_MEMORY, *AT_RUN], capture_output=True,
                         text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert int(ran.stdout) == len(AT_RUN)


def test_a_runaway_template_in_a_pack_costs_one_reminder_its_text_not_the_daemon() -> None:
    pack = load_rules("runaway.yaml", text=textwrap.dedent("""
        version: 1
        extends: after-interview
        templates:
          thank-you:
            subject: "{% for a in why_me * 99999 %}{% for b in why_me * 99999 %}{% endfor %}{% endfor %}"
    """))
    channel = RecordingChannel("console")
    engine = Engine(rules=pack, store=MemoryStore(), channels=[channel],
                    clock=FakeClock(datetime(2027, 1, 4, 15, tzinfo=UTC)))
    engine.set_owner("ada", timezone="America/New_York", country="US")
    engine.add_application(owner="ada", company="Acme", role="Engineer",
                           facts={"interviewed_at": "2027-01-04T09:00", "why_me": "a"},
                           contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
    report = engine.run_due()
    [thanks] = [n for n in channel.sent if n.rule == "thank-you-notes"]
    assert "thank-you-notes: Acme" in thanks.subject and ("steps" in thanks.subject or "second" in thanks.subject)
    assert report.fired == len(channel.sent) >= 2  # the others went out as written
