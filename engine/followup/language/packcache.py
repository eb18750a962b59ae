"""Compiled rule packs kept on disk, so a command does not parse, check and compile the
same YAML again every time it starts.

An entry is found by a key over everything the compiled pack depends on: followup's
version and the files of the rule language (so an edited checkout never reads an older
compiler's result), the ``holidays`` package that checked the pack's country, the
plugins' template filters and named packs, how the pack was asked for, and the bytes of
the pack file itself. The files it ``extends`` are known only once it is read, so an
entry lists each of them with a digest of its bytes (``cachefiles.digest``), and a hit
reads them again and compares: an edit anywhere in the chain is a miss.

A rule pack is untrusted input. An entry is JSON, never pickle: decoding it builds only
the pack's own record types, and conditions and templates come back as their source text,
compiled in the sandbox when first used (they were checked when the entry was written).
Entries live in ``packs`` in the user's cache folder, written and read as
``followup.cachefiles`` says (private, whole or not at all); a corrupt, truncated or
foreign entry is a miss, compiled and written again.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from followup.cachefiles import ENV, cache_root, digest, read_entry, write_entry
from followup.language._packcodec import decode, encode
from followup.language.expressions import Sandbox, default_sandbox
from followup.language.pack import RulePack
from followup.shipped import shipped

__all__ = ["ENV", "FORMAT", "PackCache", "cache_dir"]

FORMAT = 3  # the entry format; a change makes every older entry a miss
MAX_ENTRIES = 64  # entries kept; the oldest go first
MAX_BYTES = 1_000_000  # a pack file larger than this is not cached (the loader refuses it)


def cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """The folder of cached packs, or None when caching is off."""
    root = cache_root(environ)
    return None if root is None else root / "packs"


def digest_file(path: str | os.PathLike[str]) -> str | None:
    """The digest of a regular file of at most MAX_BYTES, or None (missing, a FIFO, a
    device, a symbolic link, too big): such a pack is never served from the cache."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        handle = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            return None
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read(MAX_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(handle)
    return None if len(data) > MAX_BYTES else digest(data)


def _builtin_digest(name: str) -> str:
    data = shipped("followup.rules", name).read_bytes()
    return digest(data)


def chain_digest(file: str) -> str | None:
    """The digest of one file of a pack's chain, as the loader names it."""
    if file.startswith("<builtin>/"):
        return _builtin_digest(file.removeprefix("<builtin>/"))
    return digest_file(file)


def _code_stamp() -> list[Any]:
    """followup's version and the size and time of each file of the rule language, of
    the package's own top-level modules (errors, limits, model) and of the calendar that
    checks a pack's country, and the holidays package's version file: an edited checkout
    or another holidays makes a new key."""
    from followup.language import loader
    from followup.timing import calendar

    here = Path(loader.__file__).parent
    top = here.parent  # the package's own modules: errors, limits, model, ...
    files = [*sorted(here.glob("*.py")), *sorted(top.glob("*.py")), Path(calendar.__file__)]
    # The package is imported by now (this module is inside it); importing it here
    # would make the rule language depend on every room above it.
    version = getattr(sys.modules.get("followup"), "__version__", "")
    stamp: list[Any] = [FORMAT, version, sys.version_info[:2]]
    spec = _find_spec("holidays")
    if spec is not None:
        files.append(Path(spec).parent / "version.py")
    for file in files:
        try:
            info = file.stat()
        except OSError:
            continue
        stamp.append([file.name, info.st_size, info.st_mtime_ns])
    return stamp


def _find_spec(name: str) -> str | None:
    from importlib.util import find_spec

    found = find_spec(name)
    return found.origin if found is not None else None


class PackCache:
    """One request's place in the cache: ``get`` the pack if a whole, current entry is
    there; ``put`` one after compiling it. Build with ``PackCache.open``."""

    def __init__(self, folder: Path, key: str, sandbox: Sandbox) -> None:
        self.folder = folder
        self.key = key
        self.sandbox = sandbox
        self.entry = folder / f"{key}.json"

    @classmethod
    def open(
        cls,
        request: str | os.PathLike[str] | None,
        *,
        root: str | None,
        named: Mapping[str, Path],
        sandbox: Sandbox | None,
        environ: Mapping[str, str] | None = None,
    ) -> PackCache | None:
        """The cache for loading ``request`` (a pack's name or file; ``root`` is the
        file the loader reads first, None for a built-in pack), or None when caching is
        off or the pack file cannot be keyed (the loader then reports what is wrong)."""
        folder = cache_dir(environ)
        if folder is None:
            return None
        box = sandbox or default_sandbox()
        if root is None:
            content = _builtin_digest(f"{request}.yaml")
            where = ""
        else:
            found = digest_file(root)
            if found is None:
                return None
            content, where = found, os.path.abspath(root)
        key_parts = [
            _code_stamp(),
            sorted((name, origin) for name, origin in box.origins.items()),
            sorted((name, os.fspath(path)) for name, path in named.items()),
            os.fspath(request) if request is not None else None,
            where,
            content,
        ]
        text = json.dumps(key_parts, ensure_ascii=True, separators=(",", ":"))
        return cls(folder, digest(text.encode("ascii")), box)

    def get(self) -> RulePack | None:
        """The cached pack, or None: no entry, or one that is not whole, not this key's,
        not current (a file of its chain changed) or not private to this user."""
        found = read_entry(self.folder, self.entry.name)
        if found is None:
            return None
        try:
            raw = json.loads(found)
            if raw["format"] != FORMAT or raw["key"] != self.key:
                return None
            for file, expected in raw["files"]:
                if chain_digest(file) != expected:
                    return None
            pack = decode(raw["pack"], self.sandbox)
            fingerprint = raw["fingerprint"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None
        if not isinstance(pack, RulePack) or not isinstance(fingerprint, str):
            return None
        # Worked out when the entry was written (``RulePack.fingerprint`` is a cached
        # property, kept in the instance's dict): a command need not encode the whole
        # pack and hash it again.
        vars(pack)["fingerprint"] = fingerprint
        return pack

    def put(self, pack: RulePack, files: Iterable[str]) -> None:
        """Keep ``pack``, compiled from ``files`` (child first). Anything that goes wrong
        leaves the cache as it was: it only ever saves time."""
        try:
            chain = [[file, chain_digest(file)] for file in files]
            if any(found is None for _file, found in chain):
                return
            body = json.dumps({"format": FORMAT, "key": self.key, "files": chain,
                               "pack": encode(pack), "fingerprint": pack.fingerprint},
                              ensure_ascii=False)
            write_entry(self.folder, self.entry.name, body, keep=MAX_ENTRIES)
        except (OSError, ValueError, TypeError, RecursionError):
            return
