"""README's tour runs as written: each command of its console blocks is run, in order, in
one fresh home, and what it prints is what the README shows.

A command shown without output is run too and must succeed; its output is not compared
(the agenda's marks depend on the day the test runs). The home folder is shown as
``/home/ada``, and the owner is ``ada``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

from tests.acceptance.conftest import TIMEOUT, followup_command

README = Path(__file__).resolve().parents[2] / "README.md"
SHOWN_HOME = "/home/ada"


def _tour() -> list[tuple[str, list[str]]]:
    """The tour's commands, each with the output lines the README shows after it."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## A short tour", 1)[1].split("\n## ", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section, re.DOTALL):
        lines = iter(block.splitlines())
        for line in lines:
            if line.startswith("$ "):
                command = line[2:]
                while command.endswith("\\"):
                    command = command[:-1] + next(lines).strip()
                steps.append((command, []))
            else:
                steps[-1][1].append(line)
    return steps


def test_the_tour_has_the_commands_a_new_user_runs() -> None:
    commands = [shlex.split(c, comments=True)[1] for c, _ in _tour()]
    assert commands[:1] == ["simulate"]
    assert commands[1:6] == ["init", "add", "log", "agenda", "run"]


def test_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FOLLOWUP_") and k not in ("XDG_DATA_HOME", "TZ")}
    env.update(HOME=str(home), USER="ada", PYTHONIOENCODING="utf-8")
    for command, shown in _tour():
        argv = shlex.split(command, comments=True)
        assert argv[0] == "followup", command
        done = subprocess.run([*followup_command(), *argv[1:]], cwd=tmp_path, env=env,
                              capture_output=True, encoding="utf-8", timeout=TIMEOUT,
                              check=False)
        assert done.returncode == 0, f"$ {command}\n{done.stdout}{done.stderr}"
        if shown:
            printed = done.stdout.replace(str(home), SHOWN_HOME).rstrip("\n").splitlines()
            assert printed == shown, f"$ {command}"
