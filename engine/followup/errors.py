"""The exceptions followup raises, grouped by what the caller would do about them.

::

    FollowupError                 the root: catch this to catch everything of ours
    ├── RulesError                a rule pack is wrong; carries every Problem found
    ├── InputError                a caller passed something we cannot use (exit code 2)
    │   ├── CalendarError         a bad time zone, country, duration or time of day
    │   ├── UnknownApplication    no application with that id (for that owner)
    │   ├── UnknownEvent          the pack defines no such event
    │   ├── InvalidEvent          the event is not allowed in the application's state
    │   └── InvalidFact           a fact's value has the wrong form
    ├── StoreError                the store failed (sqlite3 errors are translated to this)
    │   ├── ConflictError         the application changed under us; load it again and retry
    │   └── SchemaError           the database's schema is newer or stranger than this code
    └── PluginError               a plugin or channel failed to load or is misconfigured

Errors from libraries we use (yaml, sqlite3, transitions, zoneinfo) never cross our
boundary untranslated; the original is kept as ``__cause__``.

A message that names something unknown offers the closest known name with ``suggest``,
so every "did you mean" reads the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CalendarError",
    "ConflictError",
    "FollowupError",
    "InputError",
    "InvalidEvent",
    "InvalidFact",
    "PluginError",
    "Problem",
    "RulesError",
    "SchemaError",
    "StoreError",
    "UnknownApplication",
    "UnknownEvent",
    "suggest",
]


class FollowupError(Exception):
    """The root of every exception followup raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a rule file, with where it is and how to fix it."""

    file: str
    line: int  # 1-based; 0 when unknown
    column: int  # 1-based; 0 when unknown
    path: str  # the key path, e.g. "rules[2].due"
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        at = f" (at {self.path})" if self.path else ""
        label = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {label}{self.message}{at}"


class RulesError(FollowupError):
    """A rule pack could not be loaded; ``problems`` lists every error found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InputError(FollowupError):
    """Something a caller passed in cannot be used as it is."""


class CalendarError(InputError, ValueError):
    """A time zone, country, subdivision, duration or time of day that cannot be used."""


class UnknownApplication(InputError):
    """No application with the given id exists (in the caller's owner scope)."""


class UnknownEvent(InputError):
    """The rule pack defines no event of that name."""


class InvalidEvent(InputError):
    """The event exists but may not be recorded now (wrong state, missing contact, ...)."""


class InvalidFact(InputError):
    """A fact's value does not have the form its declaration asks for."""


class StoreError(FollowupError):
    """The store could not do what was asked; the original error is the cause."""


class ConflictError(StoreError):
    """Another writer changed the application first; reload it and try again."""


class SchemaError(StoreError):
    """The database schema is not one this version of followup can use."""


class PluginError(FollowupError):
    """A plugin could not be loaded, or a channel is misconfigured."""


def suggest(word: str, choices: Iterable[str], *, prefix: str = "") -> str:
    """The "did you mean" for an unknown ``word``: `` (did you mean 'x'?)`` with the
    closest of ``choices``, or "" when none is close. Case is ignored when comparing and
    kept when shown; ``prefix`` goes before the choice shown (``*`` for a YAML alias,
    ``count.`` for a field of ``count``). Put it right after the word in the message.

    >>> "unknown state 'thankd'" + suggest("thankd", ["interviewed", "thanked"])
    "unknown state 'thankd' (did you mean 'thanked'?)"
    """
    import difflib  # only when a message needs it: everything imports this module

    spelled: dict[str, str] = {}
    for choice in choices:
        spelled.setdefault(choice.lower(), choice)
    close = difflib.get_close_matches(word.lower(), list(spelled), n=1)
    return f" (did you mean {prefix + spelled[close[0]]!r}?)" if close else ""
