"""Load a rule pack from YAML: parse safely, check against the schema, merge what it
extends, and compile it into a ``RulePack``.

Every problem is collected with its file, line and column before anything is raised, so
a rule author sees all of them at once; nothing is half-loaded. This module finds and reads
the packs; ``_Compiler`` (in ``_compiler``) merges and compiles them.
"""

from __future__ import annotations

import json
import os
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
            found = (current_dir / parent).resolve()
            ref = found
            if not found.exists():
                raise RulesError(
                    [
                        current.problem(
                            ("extends",),
                            f"cannot find the pack {parent!r} to extend (looked for {found}): "
                            f"name a pack ({', '.join([*BUILTIN_PACKS, *named])}) or a "
                            "path relative to this file",
                        )
                    ]
                )
        nxt = _read(ref, named)
        if nxt.file in seen:
            raise RulesError(
                [current.problem(("extends",), f"packs extend each other in a circle at {parent!r}")]
            )
        seen.add(nxt.file)
        chain.append(nxt)
        current = nxt
        current_dir = Path(nxt.file).parent if not nxt.file.startswith("<") else current_dir
