"""Build a YAML document's nodes from the parser's events, and refuse one that expands too far.

The document is built from the parser's event stream here, with an explicit stack, rather
than by ``yaml.compose``: PyYAML's composer recurses once per nesting level (libyaml's does
so on the C stack), so ``[[[[...`` would hit the recursion limit before our depth limit could
answer. Building it ourselves also lets us see aliases and anchors, to refuse an alias used
inside the value it names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from followup.errors import Problem, suggest
from followup.language._yamlmarks import Mark, Path, _mark, format_path
from followup.language._yamlproblems import _lines_phrase, _too_deep, _too_long, _too_many

_CORE = "tag:yaml.org,2002:"
_STR = _CORE + "str"
_INT = _CORE + "int"
_FLOAT = _CORE + "float"
_BOOL = _CORE + "bool"
_NULL = _CORE + "null"
_TIMESTAMP = _CORE + "timestamp"
_MERGE = _CORE + "merge"
_VALUE = _CORE + "value"
_MAP = _CORE + "map"
_SEQ = _CORE + "seq"
_TEXT_TAGS = frozenset({_STR, _TIMESTAMP})
_YAML11_BOOLS = frozenset({"yes", "no", "on", "off"})

_SAFE = yaml.constructor.SafeConstructor()
_CONSTRUCTORS = {
    _BOOL: _SAFE.construct_yaml_bool,
    _INT: _SAFE.construct_yaml_int,
    _FLOAT: _SAFE.construct_yaml_float,
}


@dataclass(slots=True, eq=False)
class _Scalar:
    mark: Mark
    tag: str
    text: str
    value: Any


@dataclass(slots=True, eq=False)
class _Sequence:
    mark: Mark
    items: list[_Node]


@dataclass(slots=True, eq=False)
class _Mapping:
    mark: Mark
    entries: list[tuple[_Node, _Node]]


_Node = _Scalar | _Sequence | _Mapping


class _Stop(Exception):
    """A problem after which reading cannot go on."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class _Composer:
    """Builds the node graph of one document from parser events, without recursion."""

    def __init__(self, file: str, max_nodes: int, max_depth: int) -> None:
        self.file = file
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.problems: list[Problem] = []
        self.last = Mark(1, 1)  # where the event being handled starts
        self._root: _Node | None = None
        self._open: list[_Sequence | _Mapping] = []
        self._keys: list[_Node | None] = []  # per open mapping: a key still waiting for its value
        self._anchors: dict[str, _Node] = {}
        self._nodes = 0
        self._documents = 0

    def compose(self, text: str, loader_class: Any) -> _Node | None:
        loader = loader_class(text)
        try:
            while True:
                event = loader.get_event()
                self.last = _mark(event.start_mark)
                if isinstance(event, yaml.StreamEndEvent):
                    return self._root
                self._handle(event, loader)
        finally:
            loader.dispose()

    def _handle(self, event: Any, loader: Any) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self._documents += 1
            if self._documents > 1:
                raise _Stop(
                    self._problem(
                        "a second YAML document starts here, but a rule file holds exactly "
                        "one: remove the '---' (or '...') line before it, or move what follows "
                        "to a file of its own"
                    )
                )
        elif isinstance(event, yaml.AliasEvent):
            self._alias(str(event.anchor))
        elif isinstance(event, yaml.ScalarEvent):
            self._add(self._scalar(event, loader), event.anchor)
        elif isinstance(event, yaml.SequenceStartEvent):
            self._start(_Sequence(self.last, []), event.tag, _SEQ, event.anchor)
        elif isinstance(event, yaml.MappingStartEvent):
            self._start(_Mapping(self.last, []), event.tag, _MAP, event.anchor)
        elif isinstance(event, yaml.CollectionEndEvent):
            self._open.pop()
            self._keys.pop()
        # StreamStart and DocumentEnd carry nothing we keep.

    def _scalar(self, event: Any, loader: Any) -> _Scalar:
        text: str = event.value
        tag: str | None = event.tag
        if tag is None or tag == "!":
            tag = str(loader.resolve(yaml.ScalarNode, text, event.implicit))
            if (tag in (_INT, _FLOAT) and ":" in text) or tag == _VALUE:
                tag = _STR  # YAML 1.1 base-60 numbers and '=' are text to a rule author
        return _Scalar(self.last, tag, text, self._scalar_value(tag, text))

    def _scalar_value(self, tag: str, text: str) -> Any:
        if tag in _TEXT_TAGS or tag == _MERGE:
            return text
        if tag == _NULL:
            return None
        construct = _CONSTRUCTORS.get(tag)
        if construct is None:
            self._refuse_tag(tag)
            return None
        try:
            return construct(yaml.ScalarNode(tag, text))
        except (ValueError, KeyError):
            shown = _show_tag(tag)
            self.problems.append(
                self._problem(f"'{text}' cannot be read as {shown}: fix it or remove the tag")
            )
            return None

    def _start(self, node: _Sequence | _Mapping, tag: str | None, own: str, anchor: Any) -> None:
        if tag not in (None, "!", own):
            self._refuse_tag(tag)
        if len(self._open) >= self.max_depth:
            raise _Stop(_too_deep(self.file, self.last, self._path(), self.max_depth))
        self._add(node, anchor)
        self._open.append(node)
        self._keys.append(None)

    def _add(self, node: _Node, anchor: str | None) -> None:
        self._nodes += 1
        if self._nodes > self.max_nodes:
            raise _Stop(_too_many(self.file, self.last, self._path(), self.max_nodes))
        if anchor is not None:
            previous = self._anchors.get(anchor)
            if previous is not None:
                lines = _lines_phrase(previous.mark, node.mark)
                self.problems.append(
                    self._problem(f"the anchor '&{anchor}' is defined twice ({lines}): rename one")
                )
            self._anchors[anchor] = node
        self._place(node)

    def _alias(self, name: str) -> None:
        node = self._anchors.get(name)
        if node is None:
            hint = suggest(name, self._anchors, prefix="*")
            raise _Stop(
                self._problem(
                    f"the alias '*{name}' has no anchor '&{name}' before it{hint}: put "
                    f"'&{name}' on a value above this line, or check the spelling"
                )
            )
        if any(node is open_node for open_node in self._open):
            raise _Stop(
                self._problem(
                    f"the alias '*{name}' is used inside the value it names (the anchor is on "
                    f"line {node.mark.line}): a value cannot contain itself; copy what you need"
                )
            )
        self._place(node)

    def _place(self, node: _Node) -> None:
        if not self._open:
            self._root = node
            return
        parent = self._open[-1]
        if isinstance(parent, _Sequence):
            parent.items.append(node)
            return
        key = self._keys[-1]
        if key is None:
            self._keys[-1] = node
        else:
            parent.entries.append((key, node))
            self._keys[-1] = None

    def _refuse_tag(self, tag: str) -> None:
        self.problems.append(
            self._problem(
                f"tags are not allowed in rule files: found '{_show_tag(tag)}'; remove the tag"
            )
        )

    def _problem(self, message: str) -> Problem:
        where, path = self.last, format_path(self._path())
        return Problem(self.file, where.line, where.column, path, message)

    def _path(self) -> Path:
        """The key path of the node the current event is about (not yet placed)."""
        path: list[str | int] = []
        last = len(self._open) - 1
        for depth, (node, key) in enumerate(zip(self._open, self._keys, strict=True)):
            if isinstance(node, _Sequence):
                path.append(len(node.items) - (0 if depth == last else 1))
            elif depth == last:
                if key is not None:
                    path.append(_key_text(key))
            elif key is None and node.entries:
                path.append(_key_text(node.entries[-1][0]))
            else:
                break  # inside a key that is itself a collection: no path to it
        return tuple(path)


def _children(node: _Node) -> list[_Node]:
    if isinstance(node, _Scalar):
        return []
    if isinstance(node, _Sequence):
        return node.items
    return [part for entry in node.entries for part in entry]


def _check_expansion(root: _Node, file: str, max_nodes: int, max_chars: int) -> None:
    """Refuse a document whose aliases expand to more than ``max_nodes`` values, or to
    more than ``max_chars`` characters of text (one long text aliased many times).

    Sizes are computed once per node of the (acyclic) alias graph, capped at the limit, so
    this costs as much as the document's text, however far its aliases would expand.
    """
    _check_size(root, file, max_nodes, lambda node: 1, _too_many)
    _check_size(root, file, max_chars, lambda node: max(1, len(node.text)), _too_long)


def _check_size(root: _Node, file: str, limit: int, size: Callable[[_Scalar], int],
                problem: Callable[[str, Mark, Path, int], Problem]) -> None:
    sizes = _expanded_sizes(root, limit + 1, size)
    if sizes[id(root)] <= limit:
        return
    # Point at the innermost value that alone is too big: that is where the aliases multiply.
    here: _Node = root
    path: Path = ()
    while True:
        step = next(
            (
                (part, child)
                for part, child in _labelled_children(here)
                if sizes[id(child)] > limit
            ),
            None,
        )
        if step is None:
            raise _Stop(problem(file, here.mark, path, limit))
        path, here = (*path, step[0]), step[1]


def _expanded_sizes(root: _Node, cap: int, size: Callable[[_Scalar], int]) -> dict[int, int]:
    """How big each node is expanded (aliases included), up to ``cap``, by node id: a
    scalar weighs ``size(scalar)``, a collection 1 and what it holds."""
    sizes: dict[int, int] = {}
    todo: list[tuple[_Node, bool]] = [(root, False)]
    while todo:  # a post-order walk with a stack: the graph may be far deeper than recursion
        node, children_done = todo.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, _Scalar):
            sizes[id(node)] = min(cap, size(node))
            continue
        children = _children(node)
        if children_done:
            sizes[id(node)] = min(cap, 1 + sum(sizes[id(child)] for child in children))
        else:
            todo.append((node, True))
            todo.extend((child, False) for child in children if id(child) not in sizes)
    return sizes


def _labelled_children(node: _Node) -> list[tuple[str | int, _Node]]:
    if isinstance(node, _Sequence):
        return list(enumerate(node.items))
    if isinstance(node, _Mapping):
        return [(_key_text(key), value) for key, value in node.entries]
    return []


def _key_text(node: _Node) -> str:
    return node.text if isinstance(node, _Scalar) else "?"


def _show_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag
