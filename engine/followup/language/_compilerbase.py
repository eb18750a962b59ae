"""The rule compiler's groundwork: where a value came from, reporting, and reading one value.

``_Compiler`` (in ``_compiler``) builds on this base: here is how a problem is reported
against the file, line and column a value came from, and how a single value is read and
checked (a state, role or event name; a condition or template; a duration; a time).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from followup.errors import CalendarError, Problem, suggest
from followup.language.pack import CONTACT_ADDED, CREATED, ENTERED, EventSpec, FactSpec, TimeSpec
from followup.language.sandbox import (
    Condition,
    ExpressionError,
    Sandbox,
    Template,
    compile_condition,
    compile_template,
)
from followup.language.yamlsource import Path as KeyPath
from followup.language.yamlsource import Source
from followup.timing.calendar import Duration, parse_duration

_TIMESPEC = re.compile(r"^\s*(?:(?P<dur>.+?)\s+after\s+)?(?P<anchor>[a-z][a-z0-9_]*)\s*$")


@dataclass(frozen=True)
class _At:
    """Where a value came from: a file and a key path in it."""

    source: Source
    path: KeyPath

    def sub(self, *more: str | int) -> _At:
        return _At(self.source, self.path + more)


_Entry = dict[str, tuple[Any, _At]]


def _entry(value: Mapping[str, Any], at: _At) -> _Entry:
    return {k: (v, at.sub(k)) for k, v in value.items()}


class _CompilerBase:
    """Reports problems, and reads the single values that every section of a pack uses."""

    # Set by _Compiler.compile, before any section is compiled.
    states: dict[str, _At]
    roles: dict[str, _At]
    facts: dict[str, FactSpec]
    known_names: frozenset[str]
    fields: dict[str, frozenset[str]]
    events: dict[str, EventSpec]

    def __init__(self, chain: list[Source], sandbox: Sandbox | None = None) -> None:
        self.chain = chain
        self.sandbox = sandbox
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    # -- reporting ---------------------------------------------------------------

    def error(self, at: _At, message: str, *, at_key: bool = False) -> None:
        self.problems.append(at.source.problem(at.path, message, at_key=at_key))

    def warn(self, at: _At, message: str) -> None:
        self.warnings.append(at.source.problem(at.path, message, severity="warning"))

    # -- reading one value -------------------------------------------------------

    def state(self, name: str, at: _At) -> None:
        if name not in self.states:
            self.error(at, f"unknown state {name!r}{suggest(name, self.states)}; states are "
                       f"{', '.join(self.states)} (add it under states: to define it)")

    def states_of(self, value: str | list[str], at: _At) -> tuple[str, ...]:
        names = [value] if isinstance(value, str) else list(value)
        for i, n in enumerate(names):
            self.state(n, at if isinstance(value, str) else at.sub(i))
        return tuple(names)

    def role(self, name: str, at: _At) -> None:
        if name not in self.roles:
            self.error(at, f"unknown contact role {name!r}{suggest(name, self.roles)}; roles are "
                       f"{', '.join(self.roles)} (add it under roles: to define it)")

    def event(self, name: str, at: _At) -> EventSpec | None:
        spec = self.events.get(name)
        if spec is None:
            self.error(at, f"unknown event {name!r}{suggest(name, self.events)}; events are "
                       f"{', '.join(self.events)} (add it under events: to define it)")
        return spec

    def condition(
        self, text: str, at: _At, *, known: frozenset[str] | None = None
    ) -> Condition | None:
        try:
            return compile_condition(text, known=known or self.known_names, fields=self.fields,
                                     sandbox=self.sandbox)
        except ExpressionError as exc:
            self.error(at, str(exc))
            return None

    def template(
        self, text: str, at: _At, *, known: frozenset[str] | None = None
    ) -> Template | None:
        try:
            return compile_template(text, known=known or self.known_names, fields=self.fields,
                                    sandbox=self.sandbox)
        except ExpressionError as exc:
            self.error(at, str(exc))
            return None

    def duration(self, text: str, at: _At) -> Duration | None:
        try:
            return parse_duration(text)
        except CalendarError as exc:
            self.error(at, str(exc))
            return None

    def timespec(self, text: str, at: _At) -> TimeSpec | None:
        match = _TIMESPEC.match(text)
        if match is None:
            self.error(at, f"{text!r} is not a time: write a fact or 'entered', optionally "
                       "after a duration, e.g. '2 working days after interviewed_at'")
            return None
        anchor = match["anchor"]
        if anchor not in (ENTERED, CREATED, CONTACT_ADDED):
            fact = self.facts.get(anchor)
            if fact is None:
                self.error(at, f"{text!r} counts from {anchor!r}, which is neither a fact"
                           f"{suggest(anchor, [*self.facts, ENTERED, CREATED, CONTACT_ADDED])} nor "
                           "'entered', 'created' or 'contact_added'; declare it under facts: "
                           "with type datetime or date")
                return None
            if fact.type not in ("datetime", "date"):
                self.error(at, f"{text!r} counts from the fact {anchor!r}, which is {fact.type}: "
                           "a time needs a fact of type datetime or date")
                return None
        offset = self.duration(match["dur"], at) if match["dur"] else None
        if match["dur"] and offset is None:
            return None
        return TimeSpec(text=text.strip(), anchor=anchor, offset=offset)

