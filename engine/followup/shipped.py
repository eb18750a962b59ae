"""The files that ship inside the package: the built-in rule packs and their schema
(``followup/rules``), the SQL of each store (``followup/store/sql``).

Read from the package's own folder, as an install puts it on disk, so that a command
does not import ``importlib.resources`` (and with it ``zipfile``, ``tempfile`` and
``random``; measured in bench/RESULTS.md, the notes of 2026-12-06 22:37); a package that
is not a folder on disk (inside a zip file) is read through ``importlib.resources``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = ["shipped"]


def shipped(package: str, *parts: str) -> Traversable:
    """The file or folder ``parts`` of ``package`` (a dotted name), as
    ``importlib.resources.files(package).joinpath(*parts)`` finds it."""
    origin = getattr(importlib.import_module(package), "__file__", None)
    if origin is not None:
        found = Path(origin).parent.joinpath(*parts)
        if found.exists():
            return found
    from importlib.resources import files

    place = files(package)
    for part in parts:
        place = place / part
    return place
