"""The files that ship inside the package are read from its folder on disk, and through
``importlib.resources`` when the package is inside a zip file (followup.shipped)."""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest

from followup.shipped import shipped


def test_a_package_on_disk_is_read_from_its_folder() -> None:
    found = shipped("followup.rules", "after-interview.yaml")
    assert isinstance(found, Path) and found.is_file()
    assert found.read_bytes() == files("followup.rules").joinpath(
        "after-interview.yaml").read_bytes()
    folder = shipped("followup.store", "sql", "sqlite")
    assert isinstance(folder, Path)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in (files("followup.store") / "sql" / "sqlite").iterdir())


@pytest.fixture
def zipped(tmp_path: Path) -> Iterator[str]:
    """A package ``zipped_pack`` inside a zip file on sys.path, with data/a.txt."""
    archive = tmp_path / "packs.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped_pack/__init__.py", "")
        z.writestr("zipped_pack/data/a.txt", "from the zip\n")
    sys.path.insert(0, str(archive))
    try:
        yield "zipped_pack"
    finally:
        sys.path.remove(str(archive))
        sys.modules.pop("zipped_pack", None)


def test_a_package_in_a_zip_file_is_read_through_importlib_resources(zipped: str) -> None:
    found = shipped(zipped, "data", "a.txt")
    assert not isinstance(found, Path)
    assert found.read_text(encoding="utf-8") == "from the zip\n"
    assert [p.name for p in shipped(zipped, "data").iterdir()] == ["a.txt"]
