"""The installed plugins' entry points, remembered between commands.

Finding followup's entry points means importing ``importlib.metadata`` and reading every
installed distribution's metadata: 15 to 20 ms of every command that delivers nothing
(``plugins_for_planning``), for an answer that changes only when something is installed
or removed. So the answer is kept in ``plugins`` in the user's cache folder
(``followup.cachefiles``), keyed by the interpreter, the import path, and the metadata
folders (``*.dist-info``, ``*.egg-info``) on it with the modification time of each one's
``entry_points.txt``. Installing, upgrading or removing a distribution adds, renames or
removes its metadata folder, so the next command scans again. Anything wrong with the file means a scan, never an error.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Mapping

from followup.cachefiles import cache_root, digest, read_entry, write_entry

__all__ = ["KEEP", "entry_points_of"]

#: Answers kept (one per interpreter and state of its installed packages), newest first.
KEEP = 8


def entry_points_of(group: str, environ: Mapping[str, str] | None = None
                    ) -> list[tuple[str, str]]:
    """(name, value) of each installed entry point of ``group``, in the order
    ``importlib.metadata`` lists them, from the cache when it is current."""
    root = cache_root(environ)
    folder = None if root is None else root / "plugins"
    key = _key(group)
    name = digest(key.encode("utf-8", "surrogatepass"))[:32] + ".json"
    found = None if folder is None else read_entry(folder, name)
    if found is not None:
        with contextlib.suppress(ValueError, TypeError, KeyError):
            raw = json.loads(found)
            if raw["key"] == key:
                return [(str(n), str(v)) for n, v in raw["points"]]
    from importlib.metadata import entry_points

    points = [(ep.name, ep.value) for ep in entry_points(group=group)]
    if folder is not None:
        write_entry(folder, name, json.dumps({"key": key, "points": points},
                                             ensure_ascii=False), keep=KEEP)
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
