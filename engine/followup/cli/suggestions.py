"""Did you mean: argparse's "invalid choice" with the closest choice named.

argparse refuses ``followup lst`` with a bare list of every command; a person who made a
typo wants the one they meant. ``suggesting`` teaches a parser and its subcommands' parsers
to add ``errors.suggest``'s hint, the same "did you mean" every other message gives.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["suggesting"]

# argparse's own words (Python 3.11 to 3.13): invalid choice: 'lst' (choose from 'a', 'b')
_INVALID = re.compile(r"invalid choice: '(?P<word>.*)' \(choose from (?P<choices>.*)\)$",
                      re.DOTALL)
_UNRECOGNIZED = "unrecognized arguments: "


def suggesting(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``parser``, and the parsers of its subcommands, with a "did you mean" in the
    message of a choice that is not one, and of an option no command has; returns
    ``parser``."""
    options = set(parser._option_string_actions)
    for action in parser._actions:  # argparse keeps its subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict(action.choices).values():
                suggesting(sub)
                options |= set(sub._option_string_actions)
    plain = parser.error

    def error(message: str) -> NoReturn:
        plain(with_suggestion(message, sorted(options)))

    setattr(parser, "error", error)  # noqa: B010 - an instance's own error method
    return parser


def with_suggestion(message: str, options: Sequence[str] = ()) -> str:
    """argparse's ``message`` with the closest choice named, when it is about an invalid
    choice and one is close, or the closest of ``options`` for each option argparse did
    not recognise; else ``message`` as it is.

    >>> with_suggestion("argument COMMAND: invalid choice: 'lst' (choose from 'add', 'list')")
    "argument COMMAND: invalid choice: 'lst' (did you mean 'list'?); choose from add, list"
    >>> with_suggestion("unrecognized arguments: --sate x", ["--state", "--json"])
    "unrecognized arguments: --sate x; '--sate' (did you mean '--state'?)"
    """
    from followup.errors import suggest

    if message.startswith(_UNRECOGNIZED) and options:
        words = [w.partition("=")[0] for w in message[len(_UNRECOGNIZED):].split()]
        hints = [f"{word!r}{hint}" for word in words
                 if word.startswith("--") and (hint := suggest(word, options))]
        return f"{message}; {'; '.join(hints)}" if hints else message
    found = _INVALID.search(message)
    if found is None:
        return message
    choices = [c.strip().strip("'") for c in found["choices"].split(",")]
    hint = suggest(found["word"], choices)
    return (f"{message[:found.start()]}invalid choice: {found['word']!r}{hint}; choose from "
            f"{', '.join(choices)}")
