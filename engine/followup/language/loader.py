"""Load a rule pack from YAML: parse safely, check against the schema, merge what it
extends, and compile it into a ``RulePack``.

Every problem is collected with its file, line and column before anything is raised, so
a rule author sees all of them at once; nothing is half-loaded. This module finds and reads
the packs; ``_Compiler`` (in ``_compiler``) merges and compiles them.

``extends`` reaches only a built-in pack, a pack a plugin registered, or a regular file
inside the extending pack's own folder (no absolute path, no ``..``, no symbolic link
out): a pack may come from someone else, and must not make followup read, or show, any
other file, nor wait forever on a FIFO.

A pack loaded from a file or by name is kept compiled on disk (``packcache``): a command
that starts again with the same pack reads it back instead of compiling it. The YAML
reader, the schema check and the compiler are imported only when a pack is compiled.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from followup.errors import Problem, RulesError
from followup.language.expressions import Sandbox
from followup.language.pack import RulePack
from followup.language.packcache import PackCache
from followup.shipped import shipped

if TYPE_CHECKING:
    from followup.language._compiler import CONTEXT_NAMES  # at run time: __getattr__
    from followup.language.yamlsource import Source

__all__ = ["BUILTIN_PACKS", "CONTEXT_NAMES", "DEFAULT_PACK", "load_rules", "schema"]

DEFAULT_PACK = "after-interview"
BUILTIN_PACKS = ("after-interview", "demo")
MAX_CHAIN = 16  # packs in one chain of ``extends``
MAX_PACK_BYTES = 1_000_000  # the size of one rule file


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of rule files, as shipped in ``followup/rules``."""
    text = shipped("followup.rules", "followup-rules.schema.json").read_text(encoding="utf-8")
    return cast(dict[str, Any], json.loads(text))


def __getattr__(name: str) -> frozenset[str]:
    if name == "CONTEXT_NAMES":  # the compiler's, imported when asked for
        from followup.language._compiler import CONTEXT_NAMES

        return CONTEXT_NAMES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_rules(
    path: str | os.PathLike[str] | None = None,
    *,
    text: str | None = None,
    packs: Mapping[str, str | os.PathLike[str]] | None = None,
    sandbox: Sandbox | None = None,
    cache: bool = True,
) -> RulePack:
    """Load a rule pack: a file path, a pack's name, or YAML ``text``.

    With neither, the default pack. Names are the built-in packs and ``packs`` (name to
    file, e.g. the packs plugins registered). Conditions and templates compile in
    ``sandbox`` (``Plugins.sandbox``, with the filters plugins registered; the plain
    sandbox when omitted). Raises ``RulesError`` listing every problem found.

    A pack from a file or a name is read from the pack cache when it holds this pack
    (``cache=False`` or ``FOLLOWUP_CACHE_DIR=off`` compiles it every time); ``text`` is
    always compiled.
    """
    named = {name: Path(file) for name, file in (packs or {}).items()}
    stored = None if text is not None or not cache else _cache_for(path, named, sandbox)
    if stored is not None:
        found = stored.get()
        if found is not None:
            return found
    from followup.language.yamlsource import load_yaml

    if text is not None:
        source = load_yaml(text, file=str(path) if path else "<rules>")
        base_dir = Path(path).parent if path else Path.cwd()
    else:
        source = _read(os.fspath(path) if path is not None else DEFAULT_PACK, named)
        base_dir = Path(source.file).parent
    chain = _resolve_chain(source, base_dir, named)
    from followup.language._compiler import _Compiler

    pack = _Compiler(chain, sandbox).compile()
    if stored is not None:
        stored.put(pack, [s.file for s in chain])
    return pack


def _cache_for(
    path: str | os.PathLike[str] | None, named: Mapping[str, Path], sandbox: Sandbox | None
) -> PackCache | None:
    """Where the pack ``path`` names is cached, as ``_read`` would find it."""
    name = os.fspath(path) if path is not None else DEFAULT_PACK
    if name in BUILTIN_PACKS:
        return PackCache.open(name, root=None, named=named, sandbox=sandbox)
    root = os.fspath(named[name]) if name in named else name
    return PackCache.open(name, root=root, named=named, sandbox=sandbox)


def _read(ref: str | Path, named: Mapping[str, Path]) -> Source:
    from followup.language.yamlsource import load_yaml, load_yaml_file

    name = str(ref)
    if name in BUILTIN_PACKS:
        data = shipped("followup.rules", f"{name}.yaml").read_bytes()
        return load_yaml(data, file=f"<builtin>/{name}.yaml")
    if name in named:
        return load_yaml_file(named[name])
    return load_yaml_file(ref)


def _resolve_chain(source: Source, base_dir: Path, named: Mapping[str, Path]) -> list[Source]:
    """The pack and every pack it extends, child first."""
    from followup.language.schemacheck import check

    chain = [source]
    seen = {source.file}
    current, current_dir = source, base_dir
    while True:
        if current.value is None:
            raise RulesError([current.problem((), "the file is empty: start it with 'version: 1'")])
        problems = check(current, schema())
        if problems:
            raise RulesError(_with_the_others(problems, chain, current_dir, named))
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


def _with_the_others(problems: list[Problem], chain: list[Source], folder: Path,
                     named: Mapping[str, Path]) -> list[Problem]:
    """``problems`` (the schema's, about the last pack of ``chain``) with the ones the
    compiler finds in the rest of the pack, in file order: one pass reports them all.
    A part the schema refused is left out of that compile (``_prune``); when what is
    left cannot be compiled, the schema's problems are all there is to say."""
    from followup.language._compiler import _Compiler
    from followup.language._prune import prune, unrelated
    from followup.language.schemacheck import check

    # One key of a rule first (its other problems are found too), else the whole rule.
    found = next((cut for cut in (prune(chain[-1], problems, depth=depth) for depth in (3, 2))
                  if cut is not None and not check(cut.source, schema())), None)
    if found is None:
        return problems
    try:
        _Compiler([*chain[:-1], *_resolve_chain(found.source, folder, named)], None).compile()
        more: list[Problem] = []
    except RulesError as exc:
        more = [found.original(p) for p in unrelated(exc.problems, found.removed)]
    except Exception:  # a half pack the compiler cannot read: the schema's say enough
        more = []
    files = [s.file for s in chain]
    order = {file: place for place, file in enumerate(files)}
    unique = dict.fromkeys([*problems, *more])
    return sorted(unique, key=lambda p: (order.get(p.file, len(files)), p.line, p.column))


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

    from followup.language.yamlsource import load_yaml

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
