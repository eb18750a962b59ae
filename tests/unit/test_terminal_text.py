"""Human output of the command line shows user data without control sequences; JSON
output keeps it exact."""

from __future__ import annotations

import io
import json
import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followup.cli._common import HumanOutput, print_json, printable


@pytest.mark.parametrize(("text", "shown"), [
    ("Jane \x1b[31mDoe\x1b[0m", "Jane Doe"),  # colours (CSI)
    ("Jane\x1b[2J\x1b[H Doe", "Jane Doe"),  # clear the screen, move the cursor
    ("a\x1b]0;owned\x07b", "ab"),  # window title (OSC ... BEL)
    ("a\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),  # hyperlink (ST)
    ("a\x1bP1$r\x1b\\b", "ab"),  # DCS string
    ("a\u009b2Jb\u009d0;t\u009cc", "abc"),  # 8-bit CSI and OSC
    ("a\x1b(Bb\x1bcc", "abc"),  # short ESC sequences, a reset
    ("title with no end \x1b]0;owned\nnext line", "title with no end \nnext line"),
    ("back\rspace\x08 bell\x07 nul\x00 del\x7f", "backspace bell nul del"),
    ("tab\tand\nline", "tab\tand\nline"),  # kept: they mean what they say
    ("Łukasz Wójcik, 王伟 — 🔔", "Łukasz Wójcik, 王伟 — 🔔"),
])
def test_printable_strips_what_a_terminal_would_act_on(text: str, shown: str) -> None:
    assert printable(text) == shown


@given(st.text())
def test_printable_leaves_no_control_but_tab_and_line_feed(text: str) -> None:
    assert all(c in "\t\n" or (0x20 <= ord(c) < 0x7F or ord(c) > 0x9F) for c in printable(text))


# The definition, one match at a time: each sequence or control character goes, unless
# it is one character of ``keep``. printable gets there by other means (a text with no
# control character but kept ones is returned as it is, without a call per line).
_DEFINITION = re.compile(
    "(?:\x1b\\[|\x9b)[0-?]*[ -/]*[@-~]?"
    "|(?:\x1b[\\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\\\|\x9c)?"
    "|\x1b[ -/]*[0-~]?"
    "|[\x00-\x1f\x7f-\x9f]")
_PIECES = st.sampled_from([chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
                          + list("ab[]\\;0-?@~ /PX^_é") + ["\x1b[", "\x1b]", "\x1b\\"])


@given(st.lists(_PIECES, max_size=30).map("".join), st.sampled_from(["\n\t", "\n\t\r", ""]))
def test_printable_takes_out_each_match_of_its_definition_but_what_it_keeps(
        text: str, keep: str) -> None:
    assert printable(text, keep) == _DEFINITION.sub(
        lambda m: m[0] if m[0] in keep else "", text)


def test_human_output_filters_the_streams_and_json_does_not(
        monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    human = HumanOutput(json=False)
    print("Acme\x1b[31m \u009b2J\x07ok")
    print("\rimporting 1/2", file=sys.stderr, end="")  # a progress bar keeps its CR
    human.restore()
    assert (sys.stdout, sys.stderr) == (out, err)
    assert out.getvalue() == "Acme ok\n" and err.getvalue() == "\rimporting 1/2"

    machine = HumanOutput(json=True)
    print_json({"company": "Acme\x1b[31m\u009b"})
    machine.restore()
    assert json.loads(out.getvalue().split("\n", 1)[1])["company"] == "Acme\x1b[31m\u009b"
