"""The compiled methods of dataclasses, kept between commands in the cache folder.

Python's ``dataclasses`` writes the methods of each class it makes (``__init__``,
``__repr__``, ``__eq__``, ``__hash__``, and ``__setattr__``/``__delattr__`` for a frozen
one) as source text and compiles each text when the class is made, in every process:
for the records a command imports, a large part of a short command's time (measured in
bench/RESULTS.md, the notes of 2026-12-06 22:37). Python keeps the compiled form of
modules in ``__pycache__``, but not of these texts. ``CodeCache`` keeps them: each text
and what it compiles to, in the ``code`` folder of the user's cache folder
(``followup.cachefiles``), one entry per Python build.

Only the ``followup`` program uses it (``followup.cli.command``), and only while its
command runs: ``install`` gives ``dataclasses`` a function in place of the built-in
``exec`` that runs the code kept for a text, compiling only a text not seen before
(exactly as ``exec`` would: no flags of this module carried in), and ``finish`` takes it
away and writes what was new. A process that embeds followup is left alone.

The entry is code, as ``__pycache__`` holds: it is read only from the cache folder's
private folder (``cachefiles.read_entry``), and only as a mapping of text to code;
anything else, damaged or from another Python, is a miss and is written again.
"""

from __future__ import annotations

import builtins
import marshal
import sys
from pathlib import Path
from types import CodeType
from typing import Any

from followup.cachefiles import cache_root, read_entry, write_entry

__all__ = ["ENTRY", "MAX_CODES", "CodeCache", "finish", "install"]

#: One entry per Python build: compiled code is only good for the interpreter that made it.
ENTRY = f"dataclasses-{sys.implementation.cache_tag}-{sys.hexversion:x}.marshal"

#: At most this many texts are kept, in memory and in the entry: past it (after upgrades
#: of followup or of plugins, or a daemon whose plugins make classes as it runs) a text is
#: compiled and not kept, and the entry is written again with only the texts its process
#: used.
MAX_CODES = 4_000

_KEEP = 4  # entries (Python builds) kept in the folder


class CodeCache:
    """Source text to compiled code, read from ``folder`` and written back there."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.codes = _read(folder)
        self.used: set[str] = set()
        self.compiled = 0  # texts compiled and kept here: the entry is written when > 0
        self.full = False  # a text was compiled and not kept: MAX_CODES reached

    def exec(self, source: Any, *args: Any, **kwargs: Any) -> None:
        """The built-in ``exec``, running the kept code for a text it has seen before."""
        if type(source) is not str:
            return builtins.exec(source, *args, **kwargs)
        code = self.codes.get(source)
        if code is None:
            code = compile(source, "<string>", "exec", dont_inherit=True)
            if len(self.codes) >= MAX_CODES:
                self.full = True
                return builtins.exec(code, *args, **kwargs)
            self.codes[source] = code
            self.compiled += 1
        self.used.add(source)
        return builtins.exec(code, *args, **kwargs)

    def write(self) -> None:
        """Write the entry, when this process compiled anything (only what it used, once
        MAX_CODES was reached). A failure is ignored: the cache only ever saves time."""
        if not (self.compiled or self.full):
            return
        kept = self.codes
        if self.full:
            kept = {text: code for text, code in kept.items() if text in self.used}
        write_entry(self.folder, ENTRY, marshal.dumps(kept), keep=_KEEP)


def _read(folder: Path) -> dict[str, CodeType]:
    found = read_entry(folder, ENTRY)
    if found is None:
        return {}
    try:
        codes = marshal.loads(found)
    except (EOFError, ValueError, TypeError):
        return {}
    if type(codes) is not dict or not all(
            type(text) is str and type(code) is CodeType for text, code in codes.items()):
        return {}
    return codes


_installed: list[CodeCache] = []


def install() -> CodeCache | None:
    """Give ``dataclasses`` the kept code of the cache folder (none when caching is off,
    or should ``dataclasses`` ever name an ``exec`` of its own)."""
    root = cache_root()
    if root is None or _installed:
        return None
    import dataclasses

    if "exec" in vars(dataclasses):
        return None

    cache = CodeCache(root / "code")
    dataclasses.exec = cache.exec  # type: ignore[attr-defined]
    _installed.append(cache)
    return cache


def finish() -> None:
    """Give ``dataclasses`` back the built-in ``exec`` and write what was new."""
    if not _installed:
        return
    import dataclasses

    cache = _installed.pop()
    if getattr(dataclasses, "exec", None) == cache.exec:
        del dataclasses.exec  # type: ignore[attr-defined]
    cache.write()
