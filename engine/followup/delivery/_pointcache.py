"""The installed plugins' entry points, remembered between commands.

Finding followup's entry points means importing ``importlib.metadata`` and reading every
installed distribution's metadata: 15 to 20 ms of every command that delivers nothing
(``plugins_for_planning``), for an answer that changes only when something is installed
or removed. So the answer is kept in a file beside the pack cache (``plugins/`` in
``FOLLOWUP_CACHE_DIR``; ``off`` turns it off with the pack cache), keyed by the
interpreter, the import path, and the metadata folders (``*.dist-info``, ``*.egg-info``)
on it with the modification time of each one's ``entry_points.txt``. Installing,
upgrading or removing a distribution adds, renames or removes its metadata folder, so the
next command scans again. The file is read only from a folder private to the user, as
the pack cache is; anything wrong with it means a scan, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from followup.language.packcache import cache_dir, private_folder, prune_entries

__all__ = ["KEEP", "entry_points_of"]

#: Answers kept (one per interpreter and state of its installed packages), newest first.
KEEP = 8


def entry_points_of(group: str, environ: Mapping[str, str] | None = None
                    ) -> list[tuple[str, str]]:
    """(name, value) of each installed entry point of ``group``, in the order
    ``importlib.metadata`` lists them, from the cache when it is current."""
    packs = cache_dir(environ)
    folder = packs.parent / "plugins" if packs is not None else None
    key = _key(group)
    name = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    if folder is not None and private_folder(folder):
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            with open(folder / f"{name}.json", "rb") as handle:
                raw = json.loads(handle.read())
            if raw["key"] == key:
                return [(str(n), str(v)) for n, v in raw["points"]]
    from importlib.metadata import entry_points

    points = [(ep.name, ep.value) for ep in entry_points(group=group)]
    if folder is not None:
        _keep(folder, name, {"key": key, "points": points})
    return points


def _key(group: str) -> str:
    """What the answer depends on: the interpreter, the group, and for each import-path
    entry the distributions' metadata found there (what ``importlib.metadata`` reads),
    each with the modification time of its ``entry_points.txt``."""
    return json.dumps([sys.executable, sys.version, group,
                       [[entry, _found(entry or os.getcwd())] for entry in sys.path]],
                      ensure_ascii=False)


def _found(where: str) -> list[list[object]] | int | None:
    """The metadata folders in the folder ``where`` with their entry points' times; for
    an archive, its own time; None when it is neither."""
    try:
        names = os.listdir(where)
    except NotADirectoryError:
        try:
            return os.stat(where).st_mtime_ns
        except OSError:
            return None
    except OSError:
        return None
    found: list[list[object]] = []
    for name in sorted(names):
        if name.endswith((".dist-info", ".egg-info")):
            try:
                stamp: int | None = os.stat(os.path.join(where, name, "entry_points.txt")
                                            ).st_mtime_ns
            except OSError:
                stamp = None
            found.append([name, stamp])
    return found


def _keep(folder: Path, name: str, body: dict[str, object]) -> None:
    """Write the answer for the next command; a failure leaves things as they were."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not private_folder(folder):
            return
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", errors="surrogatepass") as stream:
                json.dump(body, stream, ensure_ascii=False)
            os.replace(temporary, folder / f"{name}.json")
        except BaseException:
            os.unlink(temporary)
            raise
        prune_entries(folder, keep=KEEP)
    except (OSError, ValueError, TypeError):
        return
