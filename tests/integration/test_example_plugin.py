"""The example plugin in examples/followup-shout, installed for real with pip: found
through its entry point by the real command, sending a reminder, passing its own tests.

The example is what docs/plugins.md tells authors to copy, so it must keep working.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "followup-shout"
TIMEOUT = 300  # seconds, for every subprocess

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not EXAMPLE.is_dir(),
        reason=f"no examples/ beside the tests ({EXAMPLE}): only the installed package is here",
    ),
]

# The default pack, sending to shout alone. Reminders that came due while nothing ran go
# out only inside the send window on a working day: any hour of any day, so the test
# passes whenever it runs.
RULES = """\
version: 1
name: shout-check
extends: after-interview
channels: [shout]
calendar:
  workweek: [mon, tue, wed, thu, fri, sat, sun]
  send_window: null
"""


def _run(args: list[str], *, env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=dict(env), cwd=cwd, capture_output=True, encoding="utf-8",
                          errors="replace", timeout=TIMEOUT, check=False)


def _shown(result: subprocess.CompletedProcess[str]) -> str:
    return (f"$ {' '.join(result.args)}\n-> exit {result.returncode}\n"
            f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}")


def _followup() -> list[str]:
    """The installed ``followup`` script beside this interpreter, or the module."""
    script = Path(sys.executable).parent / "followup"
    return [str(script)] if script.exists() else [sys.executable, "-m", "followup.cli"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that ``pip install --target`` filled with the example, and nothing else."""
    tmp = tmp_path_factory.mktemp("example-plugin")
    # Built from a copy: setuptools builds in the source folder, and would leave build/
    # and an .egg-info in the repository.
    source = tmp / "followup-shout"
    shutil.copytree(EXAMPLE, source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    site = tmp / "site"
    result = _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-cache-dir",
                   "--quiet", "--target", str(site), str(source)], env=os.environ, cwd=tmp)
    assert result.returncode == 0, _shown(result)
    assert (site / "followup_shout" / "py.typed").is_file(), "the package lacks its py.typed"
    return site


@pytest.fixture
def env(site: Path, tmp_path: Path) -> dict[str, str]:
    """The example importable from ``site``, the store and HOME in tmp_path, and no
    FOLLOWUP_* settings from outside."""
    home = tmp_path / "home"
    home.mkdir()
    out = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")}
    out.update({
        "PYTHONPATH": os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ in examples/
        "PYTHONIOENCODING": "utf-8",
        "FOLLOWUP_DB": str(tmp_path / "followup.db"),
        "FOLLOWUP_OWNER": "tester",
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
    })
    return out


def _shout_plugin(env: Mapping[str, str], cwd: Path) -> dict[str, Any]:
    """What ``followup plugins --json`` says about the plugin ``shout``."""
    result = _run([*_followup(), "plugins", "--json"], env=env, cwd=cwd)
    assert result.returncode in (0, 4), _shown(result)  # 4: some plugin failed to load
    listed = json.loads(result.stdout)
    assert (result.returncode == 4) == bool(listed["failed"]), _shown(result)
    assert "shout" not in listed["failed"], _shown(result)
    found = [p for p in listed["loaded"] if p["name"] == "shout"]
    assert found, f"no plugin 'shout' was found through its entry point\n{_shown(result)}"
    return dict(found[0])


def test_found_through_its_entry_point(env: dict[str, str], tmp_path: Path) -> None:
    version = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
    origin = f"followup_shout (followup-shout {version['project']['version']})"
    # Loaded, but without its setting it registers no channel.
    assert _shout_plugin(env, tmp_path) == {"name": "shout", "origin": origin, "channels": []}
    env["FOLLOWUP_SHOUT_PATH"] = str(tmp_path / "shout.txt")
    assert _shout_plugin(env, tmp_path) == {"name": "shout", "origin": origin,
                                            "channels": ["shout"]}
    assert not (tmp_path / "shout.txt").exists()  # loading writes nothing


def test_the_daemon_shouts_the_thank_you(env: dict[str, str], tmp_path: Path) -> None:
    shout = tmp_path / "shout.txt"
    env["FOLLOWUP_SHOUT_PATH"] = str(shout)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    for args in (
        ["init", "--timezone", "UTC"],
        ["add", "--company", "Acme", "--role", "Engineer", "--interviewed", "2020-01-06T10:00",
         "--interviewer", "Jane Doe, CTO"],
    ):
        result = _run([*_followup(), *args, "--rules", str(rules)], env=env, cwd=tmp_path)
        assert result.returncode == 0, _shown(result)
    assert not shout.exists()  # nothing is sent until the daemon runs

    result = _run([*_followup(), "run", "--once", "--json", "--rules", str(rules)],
                  env=env, cwd=tmp_path)
    assert result.returncode == 0, _shown(result)
    channels = re.search(r"\(channels: ([^)]*)\)", result.stderr)
    assert channels and "shout" in channels[1].split(", "), _shown(result)
    report = json.loads(result.stdout)
    assert report["failed"] == 0 and report["dead"] == 0, _shown(result)
    lines = shout.read_text(encoding="utf-8").splitlines()
    assert "THANK JANE DOE FOR THE INTERVIEW AT ACME" in lines, _shown(result)
    assert len(lines) == report["delivered"], lines


def test_its_own_tests_pass(env: dict[str, str]) -> None:
    result = _run([sys.executable, "-W", "error", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                   "examples/followup-shout/tests"], env=env, cwd=ROOT)
    assert result.returncode == 0, _shown(result)
    assert " passed" in result.stdout and "skipped" not in result.stdout, _shown(result)
