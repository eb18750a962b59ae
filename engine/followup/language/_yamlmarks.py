"""Places in a rule file: a line and column (``Mark``), a key path (``Path``), and how to say them.

The YAML reader's modules share these; ``followup.language.yamlsource`` is where ``Mark``, ``Path`` and
``format_path`` are public.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]

_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Mark:
    """A place in a file, as editors count: both numbers start at 1."""

    line: int
    column: int


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


def _position(text: str, index: int) -> Mark:
    line, start = 1, 0
    for brk in _LINE_BREAK.finditer(text, 0, index):
        line, start = line + 1, brk.end()
    return Mark(line, index - start + 1)


def _mark(yaml_mark: Any) -> Mark:
    return Mark(yaml_mark.line + 1, yaml_mark.column + 1)
