"""The public API is exactly `followup.__all__`, sorted, and every name in it exists."""

from __future__ import annotations

import ast
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
    imported = [
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    ]
    singles = [node for node in tree.body if isinstance(node, ast.ImportFrom)]
    assert all(len(node.names) == 1 for node in singles)
    assert sorted(imported) == followup.__all__


def test_importing_followup_loads_no_plugins() -> None:
    code = (
        "import sys, followup, followup.engine; "
        "print(sorted(m for m in sys.modules if m.startswith('followup.plugins')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
