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
collections nest, and how many values and how many characters of text the document holds
once every alias is expanded (no more text than a file may have). The expanded size is
computed from the alias graph before anything is expanded, so a "billion laughs" document,
or one long text aliased thousands of times, is refused after reading it once.

libyaml (``CSafeLoader``) is used when it is available. Its value and key marks are PyYAML's;
for some syntax errors it words the problem differently or points a column away, and it
refuses nesting past 1000 levels itself, which is reported as too deep.

The work is done in private modules: ``_yamlcompose`` builds the document's nodes from the
parser's events and bounds how far its aliases expand, ``_yamlconvert`` turns the nodes into
plain values and marks, ``_yamlproblems`` words what went wrong, and ``_yamlmarks`` holds the
places in a file (``Mark``, ``Path``) that all of them share.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from followup.errors import Problem, RulesError
from followup.language._yamlcompose import _check_expansion, _Composer, _Stop
from followup.language._yamlconvert import _Converter
from followup.language._yamlmarks import Mark, Path, _position, format_path
from followup.language._yamlproblems import _in_order, _reader_problem, _syntax_problem, _too_deep

__all__ = ["Mark", "Path", "Source", "format_path", "load_yaml", "load_yaml_file"]

# Looked up here at each read (tests swap it to run with both parsers).
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# The characters YAML allows in a stream (the same set PyYAML's reader checks).
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_UTF8_BOM = b"\xef\xbb\xbf"


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
        root = composer.compose(text, _LOADER)
        if root is not None:
            _check_expansion(root, file, max_nodes, max_chars=max_bytes)
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
