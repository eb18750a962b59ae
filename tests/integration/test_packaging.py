"""What a user's `pip install` gets: one package `followup`, its rules, schema and SQL."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

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


def _top_level(names: list[str]) -> set[str]:
    return {n.split("/", 1)[0] for n in names if "/" in n and ".dist-info" not in n}


@pytest.mark.slow
def test_the_wheel_holds_one_package_with_its_data(tmp_path: Path) -> None:
    if not (ROOT / "pyproject.toml").exists():
        pytest.skip("needs the source tree")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path),
         str(ROOT)],
        check=True, timeout=300, capture_output=True,
    )
    [wheel] = tmp_path.glob("followup_engine-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert _top_level(names) == {"followup"}
    assert set(names) >= SHIPPED
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "followup = followup.cli:main" in text
    assert "console = followup.plugins.console" in text


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
