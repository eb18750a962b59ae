"""A pack from the cache carries each condition's and template's fast form
(language/_fastbuild.py), so a command evaluates and renders the common shapes without
importing Jinja2; a fast form in an entry that is not well formed makes the entry a miss,
and the fast form changes nothing a pack means (its fingerprint)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from followup.language.conditions import holds
from followup.language.loader import load_rules
from followup.language.packcache import ENV

PACK = """\
version: 1
name: fast
states: [interviewed, thanked]
roles: [interviewer]
facts:
  interviewed_at: {type: datetime}
  score: {type: number}
events:
  thank_you_sent: {from: [interviewed], to: thanked}
rules:
  - name: thank-you
    while: interviewed
    for_each: interviewer
    at: interviewed_at
    due: 2 working days after interviewed_at
    if: "count.interviewer > 0 and (score is none or score >= 3)"
    done_by: thank_you_sent
    notify:
      subject: "Write to {{ contact.name }} at {{ application.company }}"
      body: "{% if score %}Score {{ score }}{% else %}No score{% endif %}\\n"
"""

CHILD = textwrap.dedent("""
    import json, sys
    from followup.language.conditions import holds
    from followup.language.loader import load_rules
    pack = load_rules(sys.argv[1])
    rule = pack.rules[0]
    context = {"count": {"interviewer": 1}, "score": 4,
               "contact": {"name": "Jane Doe"}, "application": {"company": "Acme"}}
    print(json.dumps({"holds": holds(rule.condition, context),
                      "subject": rule.message.subject.render(context),
                      "body": rule.message.body.render(context),
                      "jinja2": "jinja2" in sys.modules}))
""")


@pytest.fixture
def pack_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(ENV, str(tmp_path / "cache"))
    path = tmp_path / "fast.yaml"
    path.write_text(PACK, encoding="utf-8")
    return path


def _child(pack_file: Path) -> dict[str, object]:
    run = subprocess.run([sys.executable, "-c", CHILD, str(pack_file)], capture_output=True,
                         text=True, timeout=120, check=True)
    result: dict[str, object] = json.loads(run.stdout)
    return result


def test_a_cached_pack_evaluates_and_renders_without_jinja2(pack_file: Path) -> None:
    first = _child(pack_file)  # compiles the pack (Jinja2) and writes the entry
    again = _child(pack_file)
    expected = {"holds": True, "subject": "Write to Jane Doe at Acme", "body": "Score 4\n"}
    assert {k: v for k, v in first.items() if k != "jinja2"} == expected
    assert again == {**expected, "jinja2": False}


def test_the_entry_holds_the_fast_forms(pack_file: Path) -> None:
    load_rules(pack_file)
    [entry] = (pack_file.parent / "cache" / "packs").glob("*.json")
    text = entry.read_text(encoding="utf-8")
    assert '"fast": ["and"' in text  # the condition's
    assert '"fast": ["block"' in text  # the templates'


@pytest.mark.parametrize(("whose", "spoiled"), [
    ("condition", '["nonsense"]'), ("condition", '["name", 3]'),
    ("condition", '["attr", ["name", "x"]]'), ("condition", '["const", [1, 2]]'),
    ("condition", '["not", ["name", "score"], 1]'),  # one part too many
    ("condition", '["compare", ["name", "score"], [["eq"]]]'),  # a comparison without its operand
    ("condition", '["compare", ["name", "score"], [["eq", ["const", 1], 2]]]'),
    ("condition", '["compare", ["name", "score"], [["is", ["const", 1]]]]'),
    ("condition", '["bin", "pow", ["name", "score"], ["const", 2]]'),
    ("condition", '["test", "odd", ["name", "score"]]'),
    ("template", '["block", [["out", [["value", ["call", "open"]]]]]]'),
    ("template", '["blocks", []]'),
    ("template", '["block", [["if", [[["name", "score"]]], ["block", []]]]]'),
    ("template", '["block", [["if", [[["name", "score"], ["block", []], 1]], ["block", []]]]]'),
    ("template", '["block", [["out", [["text", "x"]]]]]'),
    ("template", '["block", [["out", [["cond", ["name", "score"], ["const", 1]]]]]]'),
])
def test_a_fast_form_not_well_formed_makes_the_entry_a_miss(
        pack_file: Path, whose: str, spoiled: str) -> None:
    load_rules(pack_file)
    [entry] = (pack_file.parent / "cache" / "packs").glob("*.json")
    text = entry.read_text(encoding="utf-8")
    # The condition's fast form begins with "and", the templates' with "block".
    start = text.index('"fast": ["and"' if whose == "condition" else '"fast": ["block"')
    start += len('"fast": ')
    entry.write_text(text[:start] + spoiled + text[_closing(text, start):], encoding="utf-8")
    pack = load_rules(pack_file)  # compiled again: the entry is not believed
    condition = pack.rules[0].condition
    assert condition is not None
    assert holds(condition, {"count": {"interviewer": 1}, "score": 2}) is False
    assert condition.fast is None  # compiled now, not read from the entry
    assert pack.rules[0].message.subject.fast is None


def _closing(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "[":
            depth += 1
        elif text[i] == "]":
            depth -= 1
            if depth == 0:
                return i + 1
    raise AssertionError("no closing bracket")


def test_the_fast_forms_change_no_fingerprint(pack_file: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    cached = load_rules(pack_file)
    again = load_rules(pack_file)  # from the entry, with the fast forms
    from_entry = again.rules[0].condition
    assert from_entry is not None and from_entry.fast
    monkeypatch.setenv(ENV, "off")
    compiled = load_rules(pack_file)
    fresh = compiled.rules[0].condition
    assert fresh is not None and fresh.fast is None
    # The entry keeps the fingerprint it was written with; worked out again from the
    # pack read back (fast forms and all), it is the same.
    assert cached.fingerprint == again.fingerprint == compiled.fingerprint
    assert type(again).fingerprint.func(again) == compiled.fingerprint


def test_the_values_a_pack_holds_need_no_jinja2() -> None:
    """What a cached pack is made of (conditions, templates, the sandbox that would
    compile them) imports no Jinja2 until something compiles."""
    program = ("import sys, followup.language.expressions, followup.language.conditions; "
               "print('jinja2' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         timeout=120, check=True)
    assert run.stdout.strip() == "False"
