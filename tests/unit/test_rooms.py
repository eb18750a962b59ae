"""The rooms of the package keep their walls: the layers contract holds and can fail, and
no room reaches into another's private names or modules (STYLE.md, docs/layout.md)."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "engine" / "followup"

needs_checkout = pytest.mark.skipif(
    not (ROOT / "pyproject.toml").exists() or not PACKAGE.is_dir(),
    reason="needs the source tree",
)


# -- the layers contract -------------------------------------------------------------------


def _lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports with the contracts of pyproject.toml, on the package found in ``where``."""
    pytest.importorskip("importlinter", reason="import-linter is in the test extras")
    env = dict(os.environ, PYTHONPATH=str(where))  # ahead of any installed followup
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()",
         "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=where, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """engine/followup copied to ``tmp_path/followup`` with its links made real folders."""
    shutil.copytree(PACKAGE, tmp_path / "followup", symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


@needs_checkout
def test_the_layers_contract_is_kept(package_copy: Path) -> None:
    done = _lint_imports(package_copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout
    # The links were followed: the built-in channels are in the graph the contract checked.
    assert re.search(r"Analyzed (\d+) files", done.stdout)
    assert int(re.search(r"Analyzed (\d+) files", done.stdout)[1]) == len(list(_modules()))


@needs_checkout
@pytest.mark.parametrize(("module", "reaches_for"), [
    ("timing/clock.py", "followup.cli"),                # the bottom room imports the top
    ("store/memory.py", "followup.runtime.engine"),     # a room imports one above it
    ("language/pack.py", "followup.store"),             # siblings on one layer
])
def test_the_layers_contract_breaks_when_a_room_imports_upwards(
    package_copy: Path, module: str, reaches_for: str
) -> None:
    path = package_copy / "followup" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\nimport {reaches_for}\n",
                    encoding="utf-8")
    done = _lint_imports(package_copy)
    assert done.returncode != 0, done.stdout
    assert "BROKEN" in done.stdout
    importer = "followup." + module.removesuffix(".py").replace("/", ".")
    assert f"{importer} -> {reaches_for}" in done.stdout, done.stdout


# -- private names stay in their room ------------------------------------------------------


def _modules() -> Iterator[tuple[str, Path]]:
    """Every module of the package by dotted name, through the links (plugins, rules)."""
    for folder, dirs, files in os.walk(PACKAGE, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        parts = ["followup", *Path(folder).relative_to(PACKAGE).parts]
        for name in sorted(files):
            if name.endswith(".py"):
                stem = name.removesuffix(".py")
                yield ".".join(parts if stem == "__init__" else [*parts, stem]), Path(folder, name)


def _room(module: str) -> str:
    """A subpackage of followup, or a module at its root (each its own room); "" is the
    package root, `followup/__init__.py`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


_MODULE_PATH = re.compile(r"followup(\.[A-Za-z_][A-Za-z0-9_]*)+")


def _reaches(module: str, is_package: bool, tree: ast.Module) -> Iterator[tuple[int, str]]:
    """What a module imports, as dotted names (a module, or a module's attribute), with lines.
    Strings that name a followup module count too: import_module() and lazy import tables."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:
                yield node.lineno, f"{source}.{alias.name}"
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and _MODULE_PATH.fullmatch(node.value)):
            yield node.lineno, node.value


def _trespasses() -> list[str]:
    found = []
    for module, path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, target in _reaches(module, path.name == "__init__.py", tree):
            parts = target.split(".")
            if parts[0] != "followup" or len(parts) < 2 or _room(target) == _room(module):
                continue
            if any(_private(part) for part in parts[1:]):
                where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                found.append(f"{where}:{line}: {module} ({_room(module) or 'root'}) "
                             f"uses {target} of room {_room(target)}")
    return found


@needs_checkout
def test_no_room_uses_another_rooms_private_names_or_modules() -> None:
    assert _trespasses() == []


@needs_checkout
def test_the_walk_sees_every_room_and_the_linked_folders() -> None:
    modules = dict(_modules())
    rooms = {_room(m) for m in modules}
    assert rooms >= {"", "cli", "delivery", "errors", "interop", "keys", "language", "model",
                     "plugins", "rules", "runtime", "store", "testing", "timing"}
    assert "followup.plugins._payload" in modules
    assert "followup.rules" in modules


def test_the_check_finds_a_trespass() -> None:
    tree = ast.parse("from followup.store._codec import utc\n"
                     "from followup.store import _migrations\n"
                     "from followup.language.pack import _Internal\n"
                     "import followup.cli._common\n"
                     "from ..store import _base\n"
                     "from ._common import fine\n"
                     "from followup.model import replaced\n"
                     "TABLE = {'x': 'followup.store._base'}\n")
    reached = [t for _, t in _reaches("followup.cli.apps", False, tree)]
    assert reached == [
        "followup.store._codec.utc", "followup.store._migrations",
        "followup.language.pack._Internal", "followup.cli._common", "followup.store._base",
        "followup.cli._common.fine", "followup.model.replaced", "followup.store._base",
    ]
    private = [t for t in reached if _room(t) != "cli" and any(map(_private, t.split(".")[1:]))]
    assert private == ["followup.store._codec.utc", "followup.store._migrations",
                       "followup.language.pack._Internal", "followup.store._base",
                       "followup.store._base"]
