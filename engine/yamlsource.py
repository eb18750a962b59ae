"""Rule files read as plain data, with the line and column where every value starts.

Rule packs are written by people, so reading one is defensive, and every failure is a
:class:`~followup.errors.Problem` that names the file, line and column and says how to fix it.
All of them are raised together as one :class:`~followup.errors.RulesError`.

What comes out is plain data: mappings with text keys (in file order), lists, text, whole
numbers, numbers, true/false and ``None``. Nothing else is ever constructed:

- Tags are refused (``!!python/object/...``, ``!custom``, ``!!binary``, ``!!set``, ...), except
  the core ones that only say which plain type a value is: ``!!str``, ``!!int``, ``!!float``,
  ``!!bool``, ``!!null``, ``!!timestamp``, ``!!map`` and ``!!seq``.
- Dates and times (YAML timestamps) stay the text that was written: the rule loader reads
  times itself. So do YAML 1.1 base-60 numbers: ``17:00`` is the text "17:00", not 1020.
- Keys must be text: ``1:``, ``true:`` or ``null:`` (read as a number, true/false, null) or a
  list as a key is a problem, and so is a key that appears twice in one mapping. The YAML 1.1
  words ``yes``, ``no``, ``on`` and ``off`` are text as keys (as YAML 1.2 reads them), but
  true/false as values, where a schema that wants text asks for quotes.
- Anchors and aliases work, and so do merge keys (``<<: *defaults``), which rule authors use
  to share settings. A key written in the mapping itself wins over a merged one; with
  ``<<: [*a, *b]`` the earlier mapping wins, as the YAML merge-key spec says.

Limits keep a hostile or broken file cheap: its size (checked before parsing), how deep
collections nest, and how many values the document holds once every alias is expanded. The
expanded size is computed from the alias graph before anything is expanded, so a "billion
laughs" document is refused after reading its few hundred bytes.

The document is built from the parser's event stream here, with an explicit stack, rather
than by ``yaml.compose``: PyYAML's composer recurses once per nesting level (libyaml's does
so on the C stack), so ``[[[[...`` would hit the recursion limit before our depth limit could
answer. Building it ourselves also lets us see aliases and anchors, to refuse an alias used
inside the value it names. libyaml (``CSafeLoader``) is used when it is available. Its value
and key marks are PyYAML's; for some syntax errors it words the problem differently or points
a column away, and it refuses nesting past 1000 levels itself, which is reported as too deep.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any

import yaml

from followup.errors import Problem, RulesError

__all__ = ["Mark", "Path", "Source", "format_path", "load_yaml", "load_yaml_file"]

Path = tuple[str | int, ...]

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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

# The characters YAML allows in a stream (the same set PyYAML's reader checks).
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Mark:
    """A place in a file, as editors count: both numbers start at 1."""

    line: int
    column: int


@dataclass(frozen=True)
class Source:
    """A parsed rule file: its plain value, and where in the file each part of it was written.

    ``marks`` maps the path of every value (``("rules", 2, "due")``; ``()`` is the root) to
    where the value starts; ``key_marks`` maps the path of every mapping entry to where its key
    starts, so a problem about the key itself (unknown, misspelt) can point at the key.
    """

    file: str
    value: Any
    marks: Mapping[Path, Mark]
    key_marks: Mapping[Path, Mark]

    def mark(self, path: Path) -> Mark:
        """Where ``path`` starts, or its nearest known parent; the file's start if none is."""
        for end in range(len(path), -1, -1):
            found = self.marks.get(path[:end])
            if found is not None:
                return found
        return Mark(1, 1)

    def problem(
        self, path: Path, message: str, *, at_key: bool = False, severity: str = "error"
    ) -> Problem:
        """A Problem at ``path`` (at its key when ``at_key``), ready to report.

        >>> source = load_yaml("rules:\\n  - due: 2 days\\n", file="pack.yaml")
        >>> str(source.problem(("rules", 0, "due"), "not a valid duration", at_key=True))
        'pack.yaml:2:5: not a valid duration (at rules[0].due)'
        """
        where = self.key_marks.get(path) if at_key else None
        if where is None:
            where = self.mark(path)
        return Problem(self.file, where.line, where.column, format_path(path), message, severity)


def format_path(path: Path) -> str:
    """A key path as people read it: ``("rules", 2, "due")`` is ``rules[2].due``.

    >>> format_path(("rules", 0, "odd key"))
    'rules[0]["odd key"]'
    """
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            parts.append(f".{part}" if parts else part)
        else:
            parts.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    return "".join(parts)


def load_yaml(
    data: str | bytes,
    *,
    file: str,
    max_bytes: int = 1_000_000,
    max_nodes: int = 200_000,
    max_depth: int = 64,
) -> Source:
    """Read one YAML document of plain data; raise RulesError listing every problem found.

    ``file`` names the document in messages. An empty document has the value ``None``.

    >>> load_yaml("due: 2 working days\\n", file="pack.yaml").value
    {'due': '2 working days'}
    """
    text = _decode(data, file, max_bytes)
    composer = _Composer(file, max_nodes, max_depth)
    converter = _Converter(file, max_nodes, max_depth)
    fatal: list[Problem] = []
    cause: BaseException | None = None
    value: Any = None
    try:
        root = composer.compose(text)
        if root is not None:
            _check_expansion(root, file, max_nodes)
            value = converter.value(root, (), 0)
    except _Stop as stop:
        fatal.append(stop.problem)
    except yaml.MarkedYAMLError as exc:
        fatal.append(_syntax_problem(exc, text, file, max_depth))
        cause = exc
    except yaml.YAMLError as exc:
        fatal.append(_reader_problem(exc, text, file))
        cause = exc
    except RecursionError as exc:
        fatal.append(_too_deep(file, composer.last, (), max_depth))
        cause = exc
    problems = _in_order(composer.problems + converter.problems + fatal)
    if problems:
        raise RulesError(problems) from cause
    return Source(file, value, converter.marks, converter.key_marks)


def load_yaml_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = 1_000_000,
    max_nodes: int = 200_000,
    max_depth: int = 64,
) -> Source:
    """Read a rule file with :func:`load_yaml`; messages name the file as ``path`` gives it."""
    name = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)  # one byte more is enough to know it is too big
    except OSError as exc:
        reason = exc.strerror or str(exc)
        message = f"cannot read the rule file: {reason}; check the path and its permissions"
        raise RulesError([Problem(name, 0, 0, "", message)]) from exc
    return load_yaml(data, file=name, max_bytes=max_bytes, max_nodes=max_nodes, max_depth=max_depth)


# --- reading the bytes ---------------------------------------------------------------------


def _decode(data: str | bytes, file: str, max_bytes: int) -> str:
    if isinstance(data, str):
        size = len(data) if len(data) > max_bytes else len(data.encode("utf-8", "surrogatepass"))
        text = data.removeprefix("\ufeff")
    else:
        size = len(data)
        text = ""
    if size > max_bytes:
        message = (
            f"the file is larger than the {max_bytes:,} bytes a rule file may have; "
            "split it into smaller rule packs"
        )
        raise RulesError([Problem(file, 0, 0, "", message)])
    if isinstance(data, bytes):
        text = _decode_utf8(data.removeprefix(_UTF8_BOM), file)
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        where = _position(text, bad.start())
        message = (
            f"the file contains the control character U+{ord(bad.group()):04X}, which YAML "
            "does not allow; delete it (most editors do not show it)"
        )
        raise RulesError([Problem(file, where.line, where.column, "", message)])
    return text


def _decode_utf8(body: bytes, file: str) -> str:
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        message = "the file is saved as UTF-16; save it as UTF-8"
        raise RulesError([Problem(file, 1, 1, "", message)])
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = body[: exc.start].decode("utf-8")
        where = _position(before, len(before))
        message = (
            f"the file is not valid UTF-8: the byte 0x{body[exc.start]:02x} here cannot be "
            "read; save the file with the UTF-8 encoding"
        )
        raise RulesError([Problem(file, where.line, where.column, "", message)]) from exc


def _position(text: str, index: int) -> Mark:
    line, start = 1, 0
    for brk in _LINE_BREAK.finditer(text, 0, index):
        line, start = line + 1, brk.end()
    return Mark(line, index - start + 1)


# --- composing nodes from events -----------------------------------------------------------


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

    def compose(self, text: str) -> _Node | None:
        loader = _LOADER(text)
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
            close = get_close_matches(name, list(self._anchors), n=1)
            hint = f"; did you mean '*{close[0]}'?" if close else ""
            raise _Stop(
                self._problem(
                    f"the alias '*{name}' has no anchor '&{name}' before it: put '&{name}' on "
                    f"a value above this line, or check the spelling{hint}"
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


def _check_expansion(root: _Node, file: str, max_nodes: int) -> None:
    """Refuse a document whose aliases expand to more than ``max_nodes`` values.

    Sizes are computed once per node of the (acyclic) alias graph, capped at the limit, so
    this costs as much as the document's text, however far its aliases would expand.
    """
    sizes = _expanded_sizes(root, max_nodes + 1)
    if sizes[id(root)] <= max_nodes:
        return
    # Point at the innermost value that alone is too big: that is where the aliases multiply.
    here: _Node = root
    path: Path = ()
    while True:
        step = next(
            (
                (part, child)
                for part, child in _labelled_children(here)
                if sizes[id(child)] > max_nodes
            ),
            None,
        )
        if step is None:
            raise _Stop(_too_many(file, here.mark, path, max_nodes))
        path, here = (*path, step[0]), step[1]


def _expanded_sizes(root: _Node, cap: int) -> dict[int, int]:
    """How many values each node expands to (aliases included), up to ``cap``, by node id."""
    sizes: dict[int, int] = {}
    todo: list[tuple[_Node, bool]] = [(root, False)]
    while todo:  # a post-order walk with a stack: the graph may be far deeper than recursion
        node, children_done = todo.pop()
        if id(node) in sizes:
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


# --- converting nodes to plain values -----------------------------------------------------


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


# --- messages --------------------------------------------------------------------------------


def _mark(yaml_mark: Any) -> Mark:
    return Mark(yaml_mark.line + 1, yaml_mark.column + 1)


def _show_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag


def _lines_phrase(first: Mark, second: Mark) -> str:
    if first.line == second.line:
        return f"line {first.line}, columns {first.column} and {second.column}"
    return f"lines {first.line} and {second.line}"


def _too_deep(file: str, where: Mark, path: Path, max_depth: int) -> Problem:
    message = (
        f"values nest more than {max_depth} levels deep here: a rule file needs only a few "
        "levels; look for a bracket that is never closed, or flatten the data"
    )
    return Problem(file, where.line, where.column, format_path(path), message)


def _too_many(file: str, where: Mark, path: Path, max_nodes: int) -> Problem:
    message = (
        f"the document expands to more than {max_nodes:,} values (aliases that expand "
        "without bound?): use fewer aliases (*name), or split the file"
    )
    return Problem(file, where.line, where.column, format_path(path), message)


def _in_order(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))  # a merged anchor may report the same thing twice
    return sorted(unique, key=lambda p: (p.line, p.column))


_TOKEN_WORDS = {
    "stream end": "the end of the file",
    "block end": "the end of the indented block",
    "block mapping start": "another key",
    "block sequence start": "a list item ('-')",
    "block entry": "a list item ('-')",
    "document start": "'---'",
    "document end": "'...'",
    "scalar": "a value",
    "key": "a key",
    "value": "':'",
    "anchor": "an anchor",
    "alias": "an alias",
    "tag": "a tag",
    "flow entry": "','",
}


def _readable(text: str) -> str:
    text = text.replace("in this context", "here")
    return re.sub(r"'?<([a-z ]+)>'?", lambda m: _TOKEN_WORDS.get(m[1], m[0]), text)


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str, max_depth: int) -> Problem:
    problem = exc.problem or "this is not valid YAML"
    yaml_mark = exc.problem_mark or exc.context_mark
    where = _mark(yaml_mark) if yaml_mark is not None else Mark(0, 0)
    if "maximum nesting depth" in problem:  # libyaml's own limit (1000 levels)
        return _too_deep(file, where, (), max_depth)
    message = f"YAML syntax error: {_readable(problem)}"
    context = exc.context
    if context and exc.context_mark is not None:
        start = _mark(exc.context_mark)
        if start != where:
            message += f" ({context} at line {start.line}, column {start.column})"
    hint = _hint(problem, context or "", text, where)
    return Problem(file, where.line, where.column, "", f"{message}; {hint}")


def _hint(problem: str, context: str, text: str, where: Mark) -> str:
    lines = _LINE_BREAK.split(text)
    line = lines[where.line - 1] if 0 < where.line <= len(lines) else ""
    char = line[where.column - 1 : where.column]
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    if char == "\t" or "\t" in indent or "tab" in problem:
        return "a tab is used for indentation here: YAML indents with spaces only; use spaces"
    if "mapping values are not allowed" in problem:
        return (
            "a value that contains ': ' must be in quotes (subject: \"Re: our call\"), and a "
            "key that starts a nested mapping must be on a line of its own"
        )
    if "could not find expected ':'" in problem:
        return (
            "each key needs ':' and a space after it (due: 2 days, not due:2 days); a value "
            "that goes on over several lines must be indented more than its key, or quoted"
        )
    if "quoted scalar" in context and "end of stream" in problem:
        return "a quote is opened but never closed; add the closing quote"
    if "expected ',' or" in problem:
        return "a list in [brackets] or a mapping in {braces} is not closed, or misses a ','"
    if "escape" in problem:
        return (
            'inside "double quotes" a backslash starts an escape such as \\n; use '
            "'single quotes' or write two backslashes"
        )
    if "alphabetic or numeric" in problem:
        return "'*' and '&' start an alias or an anchor: put a value that starts so in quotes"
    if "cannot start any token" in problem:
        return f"a value starting with {char!r} must be in quotes" if char else "quote the value"
    if char in ("]", "}") and "expected" in problem:
        return f"this '{char}' closes nothing: remove it, or add the bracket that opens it"
    if char == ":" and not line[: where.column - 1].strip():
        return "a key is missing before this ':'; write the key's name"
    if "expected" in problem:
        return (
            "check the indentation of this line and the one before: the keys of one mapping, "
            "and the '-' items of one list, must start in the same column"
        )
    return "check this line for a missing quote, bracket or ':'"


def _reader_problem(exc: yaml.YAMLError, text: str, file: str) -> Problem:
    position = getattr(exc, "position", None)
    where = _position(text, position) if isinstance(position, int) else Mark(0, 0)
    message = f"this is not valid YAML: {exc}; check the file's encoding and characters"
    return Problem(file, where.line, where.column, "", message)
