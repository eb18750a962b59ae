"""The user's cache folder: what commands keep on disk so the next one starts faster.

Four things are kept there, each in a folder of its own: compiled rule packs (``packs``,
``followup.language.packcache``), which plugins are installed (``plugins``,
``followup.delivery._pointcache``), the holidays of each country a calendar asked about
(``holidays``, ``followup.timing._holidaycache``) and, for the ``followup`` program alone,
the compiled methods of its dataclasses (``code``, ``followup.cli._codecache``). The
folder is ``$XDG_CACHE_HOME/followup`` or ``~/.cache/followup``; ``FOLLOWUP_CACHE_DIR``
moves it and ``FOLLOWUP_CACHE_DIR=off`` turns all four off.

Anything on disk another user could write is untrusted, so each folder is made private
(0700, files 0600) and read only while it belongs to this user and no one else may write
to it, and every entry but compiled code is JSON (never pickle). Compiled code is what
Python itself keeps in ``__pycache__``, and is read from the private folder alone. Writers
write a temporary file and rename it into place, so processes sharing a folder each see a
whole entry or none. A cache only ever saves time: an entry that is missing, damaged or
not to be believed is a miss, and a failure to write one is ignored.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["ENV", "cache_root", "digest", "private_folder", "prune_entries", "read_entry",
           "write_entry"]

ENV = "FOLLOWUP_CACHE_DIR"


def cache_root(environ: Mapping[str, str] | None = None) -> Path | None:
    """The cache folder, or None when caching is off (or there is no home folder)."""
    env = os.environ if environ is None else environ
    chosen = env.get(ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("off", "") else Path(chosen)
    xdg = env.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):  # a relative one is to be ignored, as the XDG spec says
        return Path(xdg) / "followup"
    home = os.path.expanduser("~")
    if not os.path.isabs(home):  # no home folder (a user without one): no cache
        return None
    return Path(home) / ".cache" / "followup"


def digest(data: bytes) -> str:
    """A 256-bit BLAKE2b of ``data`` in hex: what the caches name and compare entries
    by. Taken from Python's own ``_blake2`` module: ``hashlib`` loads OpenSSL when
    imported, a few milliseconds of every command for the small texts hashed here
    (``hashlib`` is used where a build lacks ``_blake2``). Nothing kept outside the cache
    folder depends on it, so it may change with the cache's format."""
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import blake2b
    return blake2b(data, digest_size=32).hexdigest()


def read_entry(folder: Path, name: str) -> bytes | None:
    """The bytes of the entry ``name`` in ``folder``, or None: missing, unreadable, or
    in a folder or file that is not this user's alone."""
    if not private_folder(folder):
        return None
    try:
        with open(folder / name, "rb") as handle:
            if not _owned(os.fstat(handle.fileno())):
                return None
            return handle.read()
    except OSError:
        return None


def write_entry(folder: Path, name: str, content: str | bytes, *, keep: int) -> None:
    """Write ``content`` (text, or bytes as they are) as the entry ``name`` of ``folder``
    (made private), then keep only the newest ``keep`` entries named with the same
    suffix. Anything that goes wrong leaves the folder as it was."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not private_folder(folder):
            return
        os.chmod(folder, 0o700)  # private, whatever made it before
        import tempfile  # only to write: most commands only read

        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        try:
            if isinstance(content, bytes):
                with os.fdopen(handle, "wb") as binary:
                    binary.write(content)
            else:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    stream.write(content)
            os.replace(temporary, folder / name)
        except BaseException:
            os.unlink(temporary)
            raise
        prune_entries(folder, keep=keep, suffix=Path(name).suffix)
    except (OSError, ValueError):
        return


def _owned(info: os.stat_result) -> bool:
    getuid = getattr(os, "getuid", None)
    return getuid is None or info.st_uid == getuid()


def private_folder(folder: Path) -> bool:
    """Whether ``folder`` is a real folder of this user that no one else may write to."""
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or not _owned(info):
        return False
    return os.name == "nt" or not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def prune_entries(folder: Path, *, keep: int, suffix: str = ".json") -> None:
    """Remove the oldest entries of ``folder`` named ``*SUFFIX`` past the newest ``keep``."""
    entries: Sequence[Path] = list(folder.glob(f"*{suffix}"))
    if len(entries) <= keep:
        return
    by_age = sorted(entries, key=lambda p: p.stat().st_mtime_ns)
    for old in by_age[: len(entries) - keep]:
        with contextlib.suppress(OSError):
            old.unlink()
