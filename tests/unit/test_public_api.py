"""The public API is exactly `followup.__all__`, sorted, and every name in it exists."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import followup


def test_all_is_sorted_and_complete() -> None:
    assert followup.__all__ == sorted(followup.__all__)
    for name in followup.__all__:
        assert hasattr(followup, name), name


def test_each_public_name_is_imported_on_its_own_line() -> None:
    tree = ast.parse(Path(followup.__file__).read_text())
    [block] = [
        node for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    imports = [node for node in block.body if isinstance(node, ast.ImportFrom)]
    assert all(len(node.names) == 1 for node in imports)
    where = {node.names[0].name: node.module for node in imports}
    assert sorted(where) == followup.__all__
    # What type checkers see is what the lazy lookup gives at run time.
    assert where == followup._WHERE
    for name, module in where.items():
        assert getattr(followup, name) is getattr(importlib.import_module(str(module)), name)


def test_help_does_not_import_the_engine() -> None:
    code = (
        "import sys\n"
        "from followup.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('followup.runtime.engine', 'jinja2', 'holidays', 'yaml')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_importing_followup_loads_no_plugins() -> None:
    code = (
        "import sys, followup, followup.runtime.engine; "
        "print(sorted(m for m in sys.modules if m.startswith('followup.plugins')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
