"""Fixtures for the acceptance tests: the real ``followup`` command in subprocesses.

Every run gets an environment of its own: the store, HOME and XDG_DATA_HOME live in the
test's ``tmp_path``, the owner is ``tester`` and no rule pack is chosen from outside, so
nothing a test does can touch the real home directory or the repository's working tree.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import pytest

TIMEOUT = 60  # seconds, for every subprocess
OWNER = "tester"


def followup_command() -> list[str]:
    """The installed ``followup`` script beside this interpreter, or the module."""
    script = Path(sys.executable).parent / "followup"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "followup.cli"]


@dataclass(frozen=True)
class Result:
    """What one run of the command did."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout parsed as one JSON document."""
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as exc:  # pragma: no cover - shown on failure only
            raise AssertionError(f"stdout of {self.args} is not JSON ({exc}):\n{self}") from exc

    def __str__(self) -> str:
        return (
            f"$ followup {' '.join(self.args)}\n-> exit {self.returncode}\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )


class Followup:
    """Runs ``followup`` with a clean environment rooted in one temporary directory."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.db = tmp_path / "store" / "followup.db"
        self.db.parent.mkdir()
        home = tmp_path / "home"
        home.mkdir()
        env = dict(os.environ)
        env.pop("FOLLOWUP_RULES", None)
        env.update(
            {
                "FOLLOWUP_DB": str(self.db),
                "FOLLOWUP_OWNER": OWNER,
                "HOME": str(home),
                "XDG_DATA_HOME": str(home / ".local" / "share"),
                # The output holds non-ASCII text (a bell, dashes): decode it the same way
                # whatever the locale of the machine running the tests.
                "PYTHONIOENCODING": "utf-8",
            }
        )
        self.env = env

    def __call__(
        self,
        *args: str,
        cwd: Path | None = None,
        env: Mapping[str, str | None] | None = None,
        expect: int | None = 0,
    ) -> Result:
        """Run ``followup ARGS``; check the exit code unless ``expect`` is None.

        ``env`` adds to the clean environment; a value of None removes the variable.
        """
        run_env = dict(self.env)
        for name, value in (env or {}).items():
            if value is None:
                run_env.pop(name, None)
            else:
                run_env[name] = value
        proc = subprocess.run(
            [*followup_command(), *args],
            cwd=cwd or self.tmp_path,
            env=run_env,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=TIMEOUT,
            check=False,
        )
        result = Result(tuple(args), proc.returncode, proc.stdout, proc.stderr)
        if expect is not None:
            assert result.returncode == expect, str(result)
        return result

    def write(self, name: str, text: str) -> Path:
        """Write a file (a rule pack, usually) into the test's directory."""
        path = self.tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path


@pytest.fixture
def followup(tmp_path: Path) -> Followup:
    """The command, with its store at ``tmp_path/store/followup.db`` (not yet created)."""
    return Followup(tmp_path)


@pytest.fixture(scope="session")
def default_pack() -> Path:
    """The default rule pack file as installed (``followup.rules/after-interview.yaml``)."""
    resource = files("followup.rules") / "after-interview.yaml"
    with as_file(resource) as path:
        # An installed (or editable) package keeps its data as real files.
        assert path.is_file(), path
        return Path(path)


# The application most tests start from: an owner in New York, and an interview on
# Wed 2026-12-23 15:00 with two interviewers. Built once through the command line, then
# copied into each test's store, which saves two runs of the command per test.
ACME_INIT = ("init", "--timezone", "America/New_York", "--country", "US", "--subdivision", "NY")
ACME_ADD = (
    "add",
    "--company",
    "Acme",
    "--role",
    "Engineer",
    "--interviewed",
    "2026-12-23T15:00",
    "--interviewer",
    "Jane Doe, Engineering Manager",
    "--interviewer",
    "Raj Patel",
    "--json",
)


@pytest.fixture(scope="session")
def acme_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A store holding the Acme application, and what ``add --json`` printed for it."""
    cli = Followup(tmp_path_factory.mktemp("acme-template"))
    cli(*ACME_INIT)
    added = cli(*ACME_ADD).json()
    return cli.db, added


@pytest.fixture
def acme(followup: Followup, acme_template: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    """``followup``'s store with the Acme application in it; returns ``add --json``'s output."""
    db, added = acme_template
    for suffix in ("", "-wal", "-shm"):
        source = db.with_name(db.name + suffix)
        if source.exists():
            shutil.copyfile(source, followup.db.with_name(followup.db.name + suffix))
    return copy.deepcopy(added)
