"""Rule packs written to hurt: bounded in time, memory and reach (issue 14, items 1 and 2).

Each test is one row of the issue's table, tried as a careless or hostile author would.
What would allocate gigabytes is shown to stop before it allocates anything (a message
that names the bound, not "out of memory"); nothing here runs for more than a second or
two, and the one timed assertion is generous.
"""

from __future__ import annotations

import os
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from followup import Contact, Engine, FakeClock, MemoryStore, load_rules
from followup.errors import RulesError
from followup.language.sandbox import (
    MAX_TEXT,
    ExpressionError,
    compile_condition,
    compile_template,
)
from followup.testing import RecordingChannel

KNOWN = ["x", "n"]


def _pack(body: str) -> str:
    return "version: 1\nextends: after-interview\n" + textwrap.dedent(body).lstrip("\n")


def _problems(text: str, file: str = "mine.yaml") -> list[str]:
    with pytest.raises(RulesError) as refused:
        load_rules(file, text=text)
    return [str(p) for p in refused.value.problems]


# -- row: a condition 'a'.ljust(3*10**9) == '' -------------------------------------------------


def test_a_condition_that_would_make_gigabytes_is_refused_when_the_pack_loads() -> None:
    [found] = _problems(_pack("""
        rules:
          - name: nudge
            while: interviewed
            if: "'a'.ljust(3*10**9) == ''"
    """))
    assert found.startswith("mine.yaml:6:9: ") and "too big" in found, found


def test_a_condition_whose_facts_would_make_gigabytes_stops_before_allocating() -> None:
    condition = compile_condition("x.ljust(n) == ''", known=KNOWN)
    with pytest.raises(ExpressionError, match="too big") as refused:
        condition.holds({"x": "a", "n": 3 * 10**9})
    assert "memory" not in str(refused.value)  # refused beforehand, not after trying


# -- row: {{ 'a'.ljust(10**9)|length }} -----------------------------------------------------


@pytest.mark.parametrize("source", [
    "{{ 'a'.ljust(10**9)|length }}",
    "{{ 'a'.rjust(10**9) }}{{ 'a'.center(10**9) }}{{ 'a'.zfill(10**9) }}",
    "{% for i in 'x'*40000 %}{{ 'a'.ljust(10**8)|length }}{% endfor %}",
    "{{ (1).to_bytes(10**9, 'big') }}",
    "{{ 'a' * 10**9 }}",
    "{{ x|center(10**9) }}",
])
def test_methods_and_filters_that_would_exceed_the_text_limit_are_refused_at_load(
        source: str) -> None:
    with pytest.raises(ExpressionError, match=r"too big|at most"):
        compile_template(source, known=KNOWN)


@pytest.mark.parametrize("source", [
    "{{ x.ljust(n)|length }}",
    "{{ x.rjust(n)|length }}",
    "{{ (x * 99999).replace(x, x * 999)|length }}",
    "{{ (x * 99999).translate({97: x * 999})|length }}",
    "{{ (x * 9 ~ '\t' * 9999).expandtabs(n)|length }}",
    "{{ (x * 999).join(x * 999)|length }}",
    "{{ n.to_bytes(n, 'big')|length }}",
    "{% for i in x * 40000 %}{{ x.ljust(n)|length }}{% endfor %}",
])
def test_text_methods_cannot_make_values_past_the_limit(source: str) -> None:
    template = compile_template(source, known=KNOWN)
    with pytest.raises(ExpressionError, match="too big") as refused:
        template.render({"x": "a", "n": 10**9})
    assert "memory" not in str(refused.value)


def test_the_limit_is_the_limit_and_methods_within_it_work() -> None:
    template = compile_template("{{ x.ljust(n)|length }} {{ ', '.join([x, x]) }}",
                                known=KNOWN)
    assert template.render({"x": "a", "n": MAX_TEXT}) == f"{MAX_TEXT} a, a"
    with pytest.raises(ExpressionError, match="too big"):
        template.render({"x": "a", "n": MAX_TEXT + 1})


@pytest.mark.parametrize("source", [
    # One value held many times weighs as much as writing it out: 2**40 copies here.
    "{% set s = x * 1000 %}" + "{% set s = [s, s] %}" * 40 + "{{ s|length }}",
    "{% set a = [x] * 9999 %}{% set b = [a] * 9999 %}{{ b|length }}",
    "{{ [x * 99999, x * 99999] }}",
    "{{ {'a': x * 99999, 'b': x * 99999}|length }}",
    # A lazy filter is weighed as it is consumed.
    "{{ (x * 9999)|list|map('replace', x, x * 999)|list|length }}",
    "{{ (x * 9999)|list|map('replace', x, x * 999)|join|length }}",
    "{{ [x, x]|batch(999, x * 9999)|list|length }}",
    "{% set d = [[[x]]] %}{{ ((d * 999)|list * 99)|tojson(999)|length }}",
])
def test_lists_and_mappings_are_weighed_by_what_they_hold(source: str) -> None:
    with pytest.raises(ExpressionError, match="too big"):
        compile_template(source, known=KNOWN).render({"x": "a", "n": 3})


# -- row: the 'x'*40000 loop template, under `followup run` -----------------------------------


RUNAWAY = _pack("""
    facts:
      width: {type: number}
    templates:
      thank-you:
        subject: "{% for i in 'x'*30000 %}{{ 'a'.ljust(width or 1)|length }}{% endfor %}"
""")


def test_a_template_breaching_a_bound_costs_one_reminder_and_the_pass_goes_on() -> None:
    pack = load_rules("runaway.yaml", text=RUNAWAY)
    channel = RecordingChannel("console")
    engine = Engine(rules=pack, store=MemoryStore(), channels=[channel],
                    clock=FakeClock(datetime(2027, 1, 4, 15, tzinfo=UTC)))
    engine.set_owner("ada", timezone="America/New_York", country="US")
    for company, width in (("Acme", 10**8), ("Globex", None)):
        facts: dict[str, object] = {"interviewed_at": "2027-01-04T09:00"}
        if width is not None:
            facts["width"] = width
        engine.add_application(owner="ada", company=company, role="Engineer", facts=facts,
                               contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
    started = time.monotonic()
    report = engine.run_due()
    assert time.monotonic() - started < 10  # generous: unbounded, this took minutes
    thanks = {n.data["company"]: n.subject for n in channel.sent if n.rule == "thank-you-notes"}
    assert "too big" in thanks["Acme"] and thanks["Acme"].startswith("thank-you-notes: Acme")
    assert thanks["Globex"].startswith("1111"), thanks["Globex"]  # went out as written
    assert report.errors == {}


def test_a_template_that_is_only_slow_is_stopped_by_its_time_budget() -> None:
    # Nothing big is made: comparing two lists of 40,000 lists, 40,000 times over.
    template = compile_template(
        "{% set a = x * 40000 %}{% set l1 = a|batch(1)|list %}{% set l2 = a|batch(1)|list %}"
        "{% for i in a %}{% if l1 != l2 %}!{% endif %}{% endfor %}", known=KNOWN)
    with pytest.raises(ExpressionError, match="second"):
        template.render({"x": "a", "n": 3})


# -- the documented names, and only those ---------------------------------------------------


@pytest.mark.parametrize("name", ["range", "dict", "cycler", "joiner", "namespace", "lipsum"])
def test_only_the_documented_names_exist(name: str) -> None:
    [found] = _problems(_pack(f"""
        templates:
          thank-you:
            subject: "{{{{ {name} }}}}"
    """))
    assert f"uses unknown name {name!r}" in found


# -- row: 100 nested parentheses in an `if:` -------------------------------------------------


@pytest.mark.parametrize("condition", [
    "(" * 100 + "state" + ")" * 100,
    "[" * 100 + "state" + "]" * 100,
    "state" + " + state" * 300,
    "not " * 300 + "state",
])
def test_deep_nesting_is_a_load_error_with_a_position(condition: str) -> None:
    [found] = _problems(_pack(f"""
        rules:
          - name: nudge
            while: interviewed
            if: "{condition}"
    """))
    assert found.startswith("mine.yaml:6:9: ") and "deep" in found, found


def test_deeply_nested_blocks_are_a_load_error_with_a_position() -> None:
    subject = "{% if state %}" * 40 + "x" + "{% endif %}" * 40
    [found] = _problems(_pack(f"""
        templates:
          thank-you:
            subject: "{subject}"
    """))
    assert found.startswith("mine.yaml:5:14: ") and "deep" in found, found


# -- row: one 100 KB template aliased 30,000 times ------------------------------------------


def test_aliases_are_bounded_by_the_characters_they_expand_to() -> None:
    big = "x" * 99_000
    rules = "".join(f"  - {{name: r{i}, notify: *t}}\n" for i in range(24_000))
    text = _pack(f"""
        templates:
          big: &t {{subject: "{big}"}}
    """) + "rules:\n" + rules
    assert len(text) < 1_000_000  # a file a rule author may write
    [found] = _problems(text)
    assert found.startswith("mine.yaml:6:3: ") and "characters of text" in found, found


# -- rows: extends: /etc/shadow, ../../../etc/passwd, a symlink, a FIFO ----------------------


SECRET = "root:$6$secret-hash:19000:0:99999:7:::\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the pack's folder, holding what must never be shown."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    (tmp_path / "pack").mkdir()
    return secret


def _refused(pack: Path, parent: str) -> str:
    pack.write_text(f"version: 1\nextends: {parent}\n")
    with pytest.raises(RulesError) as refused:
        load_rules(pack)
    [found] = refused.value.problems
    assert "root:" not in str(refused.value) and "secret-hash" not in str(refused.value)
    assert (found.line, found.column) == (2, 10)
    return found.message


@pytest.mark.parametrize("parent", ["/etc/shadow", "/etc/passwd", "~/.ssh/id_rsa"])
def test_extends_refuses_an_absolute_path(tmp_path: Path, parent: str) -> None:
    assert "absolute path" in _refused(tmp_path / "mine.yaml", parent)


def test_extends_refuses_a_path_out_of_the_folder(outside: Path) -> None:
    pack = outside.parent / "pack" / "mine.yaml"
    assert "'..'" in _refused(pack, "../secret.txt")
    assert "'..'" in _refused(pack, "../../../etc/passwd")
    assert "'..'" in _refused(pack, "sub/../../secret.txt")


def test_extends_refuses_a_symlink_out_of_the_folder(outside: Path) -> None:
    folder = outside.parent / "pack"
    (folder / "base.yaml").symlink_to(outside)
    (folder / "shared").symlink_to(outside.parent)
    assert "symbolic link" in _refused(folder / "mine.yaml", "base.yaml")
    assert "symbolic link" in _refused(folder / "mine.yaml", "shared/secret.txt")


def test_extends_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "base.yaml")
    done: list[str] = []
    reader = threading.Thread(target=lambda: done.append(
        _refused(tmp_path / "mine.yaml", "base.yaml")), daemon=True)
    reader.start()
    reader.join(timeout=10)  # unbounded, this blocked forever
    assert done and "not a regular file" in done[0]


def test_extends_refuses_a_folder_and_a_file_too_big(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    assert "not a regular file" in _refused(tmp_path / "mine.yaml", "sub")
    (tmp_path / "big.yaml").write_text("version: 1\n" + "#" * 1_000_001 + "\n")
    pack = tmp_path / "mine.yaml"
    pack.write_text("version: 1\nextends: big.yaml\n")
    with pytest.raises(RulesError, match="larger than"):
        load_rules(pack)


def test_a_refused_files_content_is_never_shown(outside: Path) -> None:
    # Inside the folder, a file that is no pack is reported, its lines are not.
    folder = outside.parent / "pack"
    (folder / "inside.yaml").symlink_to(outside)
    message = _refused(folder / "mine.yaml", "inside.yaml")
    assert "symbolic link" in message


def test_extends_reaches_files_in_the_folder_and_below_and_links_inside_it(
        tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "base.yaml").write_text(
        "version: 1\nextends: after-interview\nname: base\n")
    (tmp_path / "alias.yaml").symlink_to(tmp_path / "shared" / "base.yaml")
    for parent in ("shared/base.yaml", "alias.yaml", "./shared/base.yaml"):
        pack = tmp_path / "mine.yaml"
        pack.write_text(f"version: 1\nextends: {parent}\nname: mine\n")
        assert load_rules(pack).files[1] == str(tmp_path / "shared" / "base.yaml")
