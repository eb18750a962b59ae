"""What a user's `pip install` gets: one package `followup`, its rules, schema and SQL, the
same files whether the wheel is built from a checkout or from the sdist.

The wheel's files are listed in `wheel-files.txt` beside this module. When a change to that
list is meant (a module added, moved or removed; a migration added), write the new list:

    python tests/integration/test_packaging.py > tests/integration/wheel-files.txt
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = Path(__file__).with_name("wheel-files.txt")

SHIPPED = {
    "followup/__init__.py",
    "followup/py.typed",
    "followup/cli/__init__.py",
    "followup/plugins/console.py",
    "followup/rules/after-interview.yaml",
    "followup/rules/demo.yaml",
    "followup/rules/followup-rules.schema.json",
    "followup/store/sql/sqlite/0001_initial.sql",
}

# What a build does not read, or writes itself: a stale build/lib from an earlier layout
# would otherwise leak modules that no longer exist into the wheel.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis",
    "node_modules", "*.db", "*.db-*",
)


def _top_level(names: list[str]) -> set[str]:
    return {n.split("/", 1)[0] for n in names if "/" in n and ".dist-info" not in n}


def _files(wheel: Path) -> list[str]:
    """A wheel's files, sorted, without its .dist-info folder."""
    with zipfile.ZipFile(wheel) as archive:
        return sorted(n for n in archive.namelist()
                      if ".dist-info/" not in n and not n.endswith("/"))


def _build(source: Path, out: Path, *how: str) -> None:
    done = subprocess.run([sys.executable, "-m", "build", *how, "--outdir", str(out), str(source)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"build {' '.join(how)} failed:\n{done.stdout}\n{done.stderr}"


def _checkout_copy(dest: Path) -> Path:
    """The checkout, links kept as links, without what builds and tools leave behind."""
    shutil.copytree(ROOT, dest, symlinks=True, ignore=_NOT_SOURCE)
    return dest


@dataclass(frozen=True)
class Built:
    wheel: Path         # built from the checkout
    sdist: Path         # built from the checkout
    sdist_wheel: Path   # built from the unpacked sdist


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    if not (ROOT / "pyproject.toml").exists():
        pytest.skip("needs the source tree")
    pytest.importorskip("build", reason="the build package is in the test extras")
    base = tmp_path_factory.mktemp("dists")
    source = _checkout_copy(base / "checkout")
    _build(source, base / "via-sdist")           # the sdist, then a wheel from it
    _build(source, base / "direct", "--wheel")   # a wheel straight from the checkout
    [sdist] = (base / "via-sdist").glob("followup_engine-*.tar.gz")
    [sdist_wheel] = (base / "via-sdist").glob("followup_engine-*.whl")
    [wheel] = (base / "direct").glob("followup_engine-*.whl")
    return Built(wheel, sdist, sdist_wheel)


@pytest.mark.slow
def test_the_wheel_holds_one_package_with_its_data(built: Built) -> None:
    names = zipfile.ZipFile(built.wheel).namelist()
    assert _top_level(names) == {"followup"}
    assert set(names) >= SHIPPED
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(built.wheel).read(entry_points).decode()
    assert "followup = followup.cli:command" in text
    assert "console = followup.plugins.console" in text


@pytest.mark.slow
def test_the_wheel_holds_exactly_the_listed_files(built: Built) -> None:
    expected = EXPECTED.read_text(encoding="utf-8").split()
    found = _files(built.wheel)
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    assert (missing, extra) == ([], []), (
        f"the wheel lacks {missing} and adds {extra}; if that is meant, write the new list: "
        f"python tests/integration/test_packaging.py > tests/integration/wheel-files.txt")


@pytest.mark.slow
def test_the_sdist_holds_real_files_where_the_checkout_has_links(built: Built) -> None:
    with tarfile.open(built.sdist) as sdist:
        members = sdist.getmembers()
    links = [m.name for m in members if m.issym() or m.islnk()]
    assert links == []
    files = {m.name.split("/", 1)[1] for m in members if m.isfile()}
    for linked in ("plugins", "rules"):
        shipped = [n for n in _files(built.wheel) if n.startswith(f"followup/{linked}/")]
        assert shipped
        assert {f"engine/{n}" for n in shipped} <= files


@pytest.mark.slow
def test_a_wheel_built_from_the_sdist_holds_the_same_files(built: Built) -> None:
    assert _files(built.sdist_wheel) == _files(built.wheel)


def test_the_installed_distribution_is_what_the_wheel_promises() -> None:
    import sysconfig

    # What pip installed into this environment (a build's stray egg-info in the source
    # tree, which may come first on sys.path, is not what a user installed).
    site = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    dist = next(iter(metadata.distributions(name="followup-engine", path=site)), None)
    if dist is None:
        pytest.skip(f"followup-engine is not installed in {site}")
    direct = dist.read_text("direct_url.json")
    if direct and json.loads(direct).get("dir_info", {}).get("editable"):
        pytest.skip("an editable install has no file list to check; .ci/test installs a wheel")
    names = [str(f) for f in dist.files or []]
    assert _top_level(names) == {"followup"} | {n.split("/", 1)[0] for n in names if n.startswith("../")}
    assert set(names) >= SHIPPED


if __name__ == "__main__":  # the list for wheel-files.txt, from a wheel built of the checkout
    with tempfile.TemporaryDirectory() as scratch:
        _build(_checkout_copy(Path(scratch, "checkout")), Path(scratch, "out"), "--wheel")
        [built_wheel] = Path(scratch, "out").glob("followup_engine-*.whl")
        print("\n".join(_files(built_wheel)))
