"""Turn a YAML document's nodes into plain values, with the line and column of each one.

Here keys are checked (text only, no repeats) and merge keys (``<<: *defaults``) applied.
"""

from __future__ import annotations

from typing import Any

from followup.errors import Problem
from followup.language._yamlcompose import (
    _BOOL,
    _FLOAT,
    _INT,
    _MERGE,
    _NULL,
    _TEXT_TAGS,
    _YAML11_BOOLS,
    _Mapping,
    _Node,
    _Scalar,
    _Sequence,
    _Stop,
)
from followup.language._yamlmarks import Mark, Path, format_path
from followup.language._yamlproblems import _lines_phrase, _too_deep, _too_many


class _Converter:
    """Turns the node graph into plain values, recording where each one was written."""

    def __init__(self, file: str, max_nodes: int, max_depth: int) -> None:
        self.file = file
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.marks: dict[Path, Mark] = {}
        self.key_marks: dict[Path, Mark] = {}
        self.problems: list[Problem] = []
        self._visited = 0

    def value(self, node: _Node, path: Path, depth: int) -> Any:
        """The plain value of ``node``, found at ``path`` inside ``depth`` collections."""
        self._visit(node, path)
        self.marks[path] = node.mark
        if isinstance(node, _Scalar):
            return node.value
        if depth + 1 > self.max_depth:
            raise _Stop(_too_deep(self.file, node.mark, path, self.max_depth))
        if isinstance(node, _Sequence):
            return [self.value(item, (*path, i), depth + 1) for i, item in enumerate(node.items)]
        return self._mapping(node, path, depth)

    def _visit(self, node: _Node, path: Path) -> None:
        self._visited += 1  # an alias visits its target again: that is what expansion costs
        if self._visited > self.max_nodes:
            raise _Stop(_too_many(self.file, node.mark, path, self.max_nodes))

    def _mapping(self, node: _Mapping, path: Path, depth: int) -> dict[str, Any]:
        written = {
            key.text
            for key, _ in node.entries
            if isinstance(key, _Scalar) and key.tag in _TEXT_TAGS
        }
        result: dict[str, Any] = {}
        seen: dict[str, Mark] = {}
        for key_node, value_node in node.entries:
            self._visit(key_node, path)
            key = self._key(key_node, path)
            if key is None:
                continue
            first = seen.get(key)
            if first is not None:
                self.problems.append(
                    self._problem(
                        key_node.mark,
                        (*path, key),
                        f"key '{key}' appears twice ({_lines_phrase(first, key_node.mark)}): "
                        "keep one",
                    )
                )
                continue
            seen[key] = key_node.mark
            if isinstance(key_node, _Scalar) and key_node.tag == _MERGE:
                self._merge(value_node, path, depth, result, written)
                continue
            self.key_marks[(*path, key)] = key_node.mark
            result[key] = self.value(value_node, (*path, key), depth + 1)
        return result

    def _key(self, node: _Node, path: Path) -> str | None:
        if isinstance(node, _Scalar):
            if node.tag in _TEXT_TAGS or node.tag == _MERGE:
                return node.text
            if node.tag == _BOOL and node.text.lower() in _YAML11_BOOLS:
                return node.text  # a key 'on:' means the word, as YAML 1.2 reads it too
            if node.tag == _NULL and not node.text:
                message = "a key is missing before this ':': write a name"
            elif node.tag in (_INT, _FLOAT, _BOOL, _NULL):
                read_as = {_BOOL: "true/false", _NULL: "null"}.get(node.tag, "a number")
                message = (
                    f"the key {node.text} is read as {read_as}, but keys must be text: "
                    f"put it in quotes ('{node.text}':)"
                )
            else:
                return None  # a refused tag, already reported
        else:
            found = "a list" if isinstance(node, _Sequence) else "a mapping"
            message = f"a key must be plain text, found {found}: write a name followed by ':'"
        self.problems.append(self._problem(node.mark, path, message))
        return None

    def _merge(
        self,
        node: _Node,
        path: Path,
        depth: int,
        result: dict[str, Any],
        written: set[str],
    ) -> None:
        """Add the entries of ``<<: *a`` (or ``<<: [*a, *b]``) that the mapping lacks."""
        sources: list[_Node]
        if isinstance(node, _Mapping):
            sources = [node]
        elif isinstance(node, _Sequence) and all(isinstance(i, _Mapping) for i in node.items):
            self._visit(node, path)
            sources = node.items
        else:
            found = (
                "a list with other things than mappings"
                if isinstance(node, _Sequence)
                else (f"'{node.text}'" if isinstance(node, _Scalar) else "something else")
            )
            self.problems.append(
                self._problem(
                    node.mark,
                    path,
                    "'<<' merges mappings into this one: give it an alias of a mapping "
                    f"(<<: *defaults) or a list of them (<<: [*a, *b]); found {found}",
                )
            )
            return
        outer = (self.marks, self.key_marks)
        for source in sources:
            self.marks, self.key_marks = {}, {}
            try:
                merged = self.value(source, path, depth)
                inner = (self.marks, self.key_marks)
            finally:
                self.marks, self.key_marks = outer
            taken = set()
            for key, value in merged.items():
                if key not in written and key not in result:
                    result[key] = value
                    taken.add(key)
            for found_marks, marks in zip(inner, outer, strict=True):
                for at, mark in found_marks.items():
                    if len(at) > len(path) and at[len(path)] in taken:
                        marks[at] = mark

    def _problem(self, mark: Mark, path: Path, message: str) -> Problem:
        return Problem(self.file, mark.line, mark.column, format_path(path), message)
