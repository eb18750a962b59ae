"""Load a rule pack from YAML: parse safely, check against the schema, merge what it
extends, and compile it into a ``RulePack``.

Every problem is collected with its file, line and column before anything is raised, so
a rule author sees all of them at once; nothing is half-loaded. This module finds and reads
the packs; ``_Compiler`` (in ``_compiler``) merges and compiles them.

``extends`` reaches only a built-in pack, a pack a plugin registered, or a regular file
inside the extending pack's own folder (no absolute path, no ``..``, no symbolic link
out): a pack may come from someone else, and must not make followup read, or show, any
other file, nor wait forever on a FIFO.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

from followup.errors import RulesError
from followup.language._compiler import CONTEXT_NAMES, _Compiler
from followup.language.pack import RulePack
from followup.language.sandbox import Sandbox
from followup.language.schemacheck import check
from followup.language.yamlsource import Source, load_yaml, load_yaml_file

__all__ = ["BUILTIN_PACKS", "CONTEXT_NAMES", "DEFAULT_PACK", "load_rules", "schema"]

DEFAULT_PACK = "after-interview"
BUILTIN_PACKS = ("after-interview", "demo")
MAX_CHAIN = 16  # packs in one chain of ``extends``
MAX_PACK_BYTES = 1_000_000  # the size of one rule file


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of rule files, as shipped in ``followup/rules``."""
    text = resources.files("followup.rules").joinpath("followup-rules.schema.json").read_text(
        encoding="utf-8"
    )
    return cast(dict[str, Any], json.loads(text))


def load_rules(
    path: str | os.PathLike[str] | None = None,
    *,
    text: str | None = None,
    packs: Mapping[str, str | os.PathLike[str]] | None = None,
    sandbox: Sandbox | None = None,
) -> RulePack:
    """Load a rule pack: a file path, a pack's name, or YAML ``text``.

    With neither, the default pack. Names are the built-in packs and ``packs`` (name to
    file, e.g. the packs plugins registered). Conditions and templates compile in
    ``sandbox`` (``Plugins.sandbox``, with the filters plugins registered; the plain
    sandbox when omitted). Raises ``RulesError`` listing every problem found.
    """
    named = {name: Path(file) for name, file in (packs or {}).items()}
    if text is not None:
        source = load_yaml(text, file=str(path) if path else "<rules>")
        base_dir = Path(path).parent if path else Path.cwd()
    else:
        source = _read(os.fspath(path) if path is not None else DEFAULT_PACK, named)
        base_dir = Path(source.file).parent
    chain = _resolve_chain(source, base_dir, named)
    return _Compiler(chain, sandbox).compile()


def _read(ref: str | Path, named: Mapping[str, Path]) -> Source:
    name = str(ref)
    if name in BUILTIN_PACKS:
        data = resources.files("followup.rules").joinpath(f"{name}.yaml").read_bytes()
        return load_yaml(data, file=f"<builtin>/{name}.yaml")
    if name in named:
        return load_yaml_file(named[name])
    return load_yaml_file(ref)


def _resolve_chain(source: Source, base_dir: Path, named: Mapping[str, Path]) -> list[Source]:
    """The pack and every pack it extends, child first."""
    chain = [source]
    seen = {source.file}
    current, current_dir = source, base_dir
    while True:
        if current.value is None:
            raise RulesError([current.problem((), "the file is empty: start it with 'version: 1'")])
        problems = check(current, schema())
        if problems:
            raise RulesError(problems)
        value = current.value
        parent = value.get("extends")
        if parent is None:
            return chain
        if parent in BUILTIN_PACKS or parent in named:
            ref: str | Path = parent
        else:
            ref = _beside(current, parent, current_dir, named)
        if len(chain) >= MAX_CHAIN:
            raise RulesError([current.problem(
                ("extends",), f"packs extend each other more than {MAX_CHAIN} deep: "
                "a pack should build on one or two others")])
        nxt = _read(ref, named) if not isinstance(ref, Path) else _read_beside(current, ref)
        if nxt.file in seen:
            raise RulesError(
                [current.problem(("extends",), f"packs extend each other in a circle at {parent!r}")]
            )
        seen.add(nxt.file)
        chain.append(nxt)
        current = nxt
        current_dir = Path(nxt.file).parent if not nxt.file.startswith("<") else current_dir


def _beside(current: Source, parent: str, folder: Path, named: Mapping[str, Path]) -> Path:
    """The file ``extends: parent`` names, if it lies inside ``folder`` (the extending
    pack's own folder, symlinks resolved); otherwise a problem that names the path as
    written and never anything read from it."""
    def refuse(why: str) -> RulesError:
        return RulesError([current.problem(
            ("extends",), f"cannot extend {parent!r}: {why}; name a pack "
            f"({', '.join([*BUILTIN_PACKS, *named])}) or a file in this pack's own folder, "
            "such as 'base.yaml' or 'shared/base.yaml'")])

    if "\0" in parent or not parent.strip():
        raise refuse("that is not a file name")
    written = Path(parent)
    if written.is_absolute() or parent.startswith("~"):
        raise refuse("a pack may only extend files in its own folder, not an absolute "
                     "path or one in a home folder")
    if ".." in written.parts:
        raise refuse("a pack may only extend files in its own folder, not one above "
                     "it ('..')")
    try:
        home = folder.resolve()
        found = (home / written).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long
        raise refuse(f"the path cannot be followed ({type(exc).__name__})") from exc
    if not found.is_relative_to(home):
        raise refuse("it is a symbolic link that leads out of this pack's folder")
    if not found.exists():
        raise RulesError([current.problem(
            ("extends",), f"cannot find the pack {parent!r} to extend (looked for {found}): "
            f"name a pack ({', '.join([*BUILTIN_PACKS, *named])}) or a path relative to "
            "this file, in its own folder")])
    return found


def _read_beside(current: Source, path: Path) -> Source:
    """Read a pack that ``extends`` named: a regular file (never a FIFO, a device or a
    folder, which could block or never end) of at most ``MAX_PACK_BYTES``."""
    def refuse(why: str) -> RulesError:
        return RulesError([current.problem(("extends",), f"cannot extend {str(path)!r}: {why}")])

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        handle = os.open(path, flags)
    except OSError as exc:
        raise refuse(f"it cannot be read ({exc.strerror or type(exc).__name__})") from exc
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise refuse("it is not a regular file")
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read(MAX_PACK_BYTES + 1)
    finally:
        os.close(handle)
    return load_yaml(data, file=str(path), max_bytes=MAX_PACK_BYTES)
