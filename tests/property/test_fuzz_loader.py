"""A fuzz target for the rule loader: the default pack's text, mutated (bytes flipped,
lines deleted, duplicated or swapped, tokens dropped in), either loads or is refused with
``RulesError`` naming the file and a line. Never another exception, never a hang (the
bounds of the YAML reader and the sandbox keep each load short).

A fixed budget: ``EXAMPLES`` mutated files per run, derandomized under ``CI=true`` by the
profile in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
from importlib.resources import files

from hypothesis import given, settings
from hypothesis import strategies as st

from followup import RulesError, load_rules
from followup.language.pack import RulePack

DEFAULT = (files("followup.rules") / "after-interview.yaml").read_bytes()
LINES = DEFAULT.splitlines(keepends=True)
EXAMPLES = int(os.environ.get("FOLLOWUP_FUZZ_EXAMPLES", "300"))
TOKENS = [b"&a ", b"*a", b"!!python/object:os.system ", b"<<: *a", b"{{", b"}}", b"{%", b"%}",
          b"__class__", b"- ", b": ", b"[", b"]", b"{", b"}", b"\t", b"\x00", b"\xff\xfe",
          b"'", b'"', b"#", b"|", b">", b"---\n", b"\n", b"999999999", b"-1", b"null",
          b"~", b"yes", b"2 working days", b"P1D", b"interviewed", b"every: ", b"..."]

mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, len(DEFAULT) - 1), st.integers(1, 255)),
    st.tuples(st.just("delete line"), st.integers(0, len(LINES) - 1), st.just(0)),
    st.tuples(st.just("duplicate line"), st.integers(0, len(LINES) - 1), st.just(0)),
    st.tuples(st.just("swap lines"), st.integers(0, len(LINES) - 1),
              st.integers(0, len(LINES) - 1)),
    st.tuples(st.just("token"), st.integers(0, len(DEFAULT)), st.integers(0, len(TOKENS) - 1)),
    st.tuples(st.just("cut"), st.integers(0, len(DEFAULT)), st.integers(1, 200)),
)


def mutate(text: bytes, steps: list[tuple[str, int, int]]) -> bytes:
    for kind, where, what in steps:
        lines = text.splitlines(keepends=True)
        if kind == "flip" and text:
            i = where % len(text)
            text = text[:i] + bytes([text[i] ^ what]) + text[i + 1:]
        elif kind == "delete line" and lines:
            del lines[where % len(lines)]
            text = b"".join(lines)
        elif kind == "duplicate line" and lines:
            i = where % len(lines)
            lines.insert(i, lines[i])
            text = b"".join(lines)
        elif kind == "swap lines" and lines:
            i, j = where % len(lines), what % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
            text = b"".join(lines)
        elif kind == "token":
            i = where % (len(text) + 1)
            text = text[:i] + TOKENS[what] + text[i:]
        elif kind == "cut":
            i = where % (len(text) + 1)
            text = text[:i] + text[i + what:]
    return text


def test_mutate_changes_the_text() -> None:
    assert mutate(DEFAULT, [("delete line", 0, 0)]) == b"".join(LINES[1:])
    assert mutate(DEFAULT, [("token", 0, 0)]).startswith(b"&a ")


@settings(max_examples=EXAMPLES)
@given(steps=st.lists(mutation, min_size=1, max_size=4))
def test_a_mutated_pack_loads_or_is_refused_with_its_place(
    steps: list[tuple[str, int, int]],
) -> None:
    text = mutate(DEFAULT, steps)
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        decoded = text.decode("utf-8", errors="surrogateescape")
    try:
        pack = load_rules("fuzzed.yaml", text=decoded)
    except RulesError as exc:
        assert exc.problems, "a RulesError names at least one problem"
        assert all(p.file == "fuzzed.yaml" for p in exc.problems)
        assert any(p.line >= 1 for p in exc.problems), exc.problems
        assert all(p.message for p in exc.problems)
    else:
        assert isinstance(pack, RulePack) and pack.states
