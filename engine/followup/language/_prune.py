"""What is left of a rule file once the parts the schema refused are taken out, so the
compiler can look for the other problems in the same pass.

A pack with a misspelt key and an unknown state used to report only the key: the
compiler never ran on a file the schema refused, so an author fixed mistakes two at a
time. ``prune`` removes each refused part at a size the compiler can do without (a whole
rule, event or fact, a calendar setting, a top-level key), renumbering the places of
the list items after a removed one so the compiler's problems still point at the right
lines. ``unrelated`` then drops what the compiler says only because a part was removed
(a rule naming an event that was taken out).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from followup.errors import Problem
from followup.language.yamlsource import Path, Source, format_path

__all__ = ["Pruned", "prune", "unrelated"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class Pruned:
    """A source with parts removed: ``removed`` names them (an event's, a fact's, a
    state's name); ``origin`` maps a place in ``source`` to where it was written."""

    source: Source
    removed: frozenset[str]
    origin: dict[Path, Path]

    def original(self, problem: Problem) -> Problem:
        """``problem``, found in the pruned source, with the path it has in the file."""
        for path in (*self.source.marks, *self.source.key_marks):
            if format_path(path) == problem.path:
                return replace(problem, path=format_path(self.origin.get(path, path)))
        return problem


def prune(source: Source, problems: Iterable[Problem], *, depth: int = 2) -> Pruned | None:
    """``source`` without the parts ``problems`` are about, each cut ``depth`` keys
    deep (2: a whole rule, event or fact; 3: one key of it); ``None`` when a problem is
    about the whole file, so nothing is left to compile."""
    by_text: dict[str, Path] = {}
    for known in (*source.marks, *source.key_marks):
        by_text.setdefault(format_path(known), known)
    targets: set[Path] = set()
    for problem in problems:
        path = by_text.get(problem.path)
        if path is None or not path or path[0] == "extends" or not isinstance(source.value, dict):
            return None
        targets.add(path[:depth])
    value = copy.deepcopy(source.value)
    marks, key_marks = dict(source.marks), dict(source.key_marks)
    origin = {p: p for p in (*marks, *key_marks)}
    removed: set[str] = set()
    # Deepest and last first, so an earlier removal never moves a later target.
    for target in sorted(targets, key=lambda p: (len(p), p[-1] if isinstance(p[-1], int) else -1),
                         reverse=True):
        parent = _get(value, target[:-1])
        last = target[-1]
        if isinstance(parent, dict) and last in parent:
            if len(target) == 2:  # a fact, event or template by its name
                removed.add(str(last))
            del parent[last]
            marks = _without(marks, target)
            key_marks = _without(key_marks, target)
        elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
            item = parent.pop(last)
            if len(target) == 2 and isinstance(item, str):  # a state or a role
                removed.add(item)
            elif len(target) == 2 and isinstance(item, dict) and isinstance(item.get("name"), str):
                removed.add(item["name"])
            marks = _shifted(marks, target)
            key_marks = _shifted(key_marks, target)
            origin = _shifted(origin, target)
    return Pruned(Source(file=source.file, value=value, marks=marks, key_marks=key_marks),
                  frozenset(removed), origin)


def unrelated(problems: Iterable[Problem], removed: frozenset[str]) -> list[Problem]:
    """``problems`` but those that name something that was removed, which are only
    echoes of a problem already reported."""
    return [p for p in problems if not any(f"'{name}'" in p.message for name in removed)]


def _get(value: Any, path: Path) -> Any:
    for part in path:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _without(marks: dict[Path, _T], target: Path) -> dict[Path, _T]:
    return {p: m for p, m in marks.items() if p[: len(target)] != target}


def _shifted(marks: dict[Path, _T], target: Path) -> dict[Path, _T]:
    """The marks after list item ``target`` is removed: its own gone, those of the items
    after it one place earlier."""
    head, index = target[:-1], target[-1]
    size = len(head)
    out: dict[Path, _T] = {}
    for path, mark in marks.items():
        if path[: len(target)] == target:
            continue
        place = path[size] if len(path) > size and path[:size] == head else None
        moved: Path = path
        if isinstance(place, int) and isinstance(index, int) and place > index:
            moved = (*head, place - 1, *path[size + 1:])
        out[moved] = mark
    return out
