"""The command line as a whole: help, version, plugins, and the exit codes of a failing store."""

from __future__ import annotations

import re
import sqlite3
import time
from importlib.metadata import version

import pytest

COMMANDS = (
    "init",
    "add",
    "log",
    "list",
    "show",
    "agenda",
    "run",
    "simulate",
    "validate",
    "plugins",
)


def test_help_lists_every_command(followup):
    result = followup("--help")
    listed = set(re.findall(r"^ {4}(\w+)\s", result.stdout, flags=re.MULTILINE))
    assert set(COMMANDS) <= listed, result.stdout
    assert result.stdout.startswith("usage: followup")
    assert result.stderr == ""


def test_subcommand_help(followup):
    result = followup("simulate", "--help")
    assert result.stdout.startswith("usage: followup simulate")
    for option in (
        "--interviewed",
        "--tz",
        "--country",
        "--subdivision",
        "--rules",
        "--until",
        "--interviewer",
        "--fact",
        "--event",
        "--json",
    ):
        assert option in result.stdout


def test_no_command_is_a_usage_error(followup):
    result = followup(expect=2)
    assert "usage: followup" in result.stdout + result.stderr
    assert not followup.db.exists()


def test_unknown_command_is_a_usage_error(followup):
    result = followup("frobnicate", expect=2)
    assert "invalid choice: 'frobnicate'" in result.stderr


def test_version(followup):
    result = followup("--version")
    assert result.stdout == f"followup {version('followup-engine')}\n"


def test_plugins_lists_console(followup):
    result = followup("plugins")
    lines = [line for line in result.stdout.splitlines() if line.split()[:1] == ["console"]]
    assert len(lines) == 1, result.stdout
    assert lines[0].endswith("channels: console")


def test_plugins_json(followup):
    data = followup("plugins", "--json").json()
    assert set(data) == {"loaded", "failed"}
    assert data["failed"] == {}
    for plugin in data["loaded"]:
        assert set(plugin) == {"name", "origin", "channels"}
        assert isinstance(plugin["name"], str)
        assert isinstance(plugin["origin"], str)
        assert all(isinstance(c, str) for c in plugin["channels"])
    console = [p for p in data["loaded"] if p["name"] == "console"]
    assert len(console) == 1
    assert console[0]["channels"] == ["console"]
    assert console[0]["origin"].startswith("followup.plugins.console")


# -- a store that cannot be used: exit 3 ----------------------------------------------


@pytest.mark.parametrize("args", [("list",), ("init", "--timezone", "UTC")])
def test_store_path_is_a_directory(followup, tmp_path, args):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = followup(*args, env={"FOLLOWUP_DB": str(folder)}, expect=3)
    assert str(folder) in result.stderr
    assert "Traceback" not in result.stderr
    assert list(folder.iterdir()) == []


def test_store_file_is_not_sqlite(followup, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_text("this is a text file, not a database\n" * 10, encoding="utf-8")
    result = followup("list", env={"FOLLOWUP_DB": str(junk)}, expect=3)
    assert "not a SQLite database" in result.stderr
    assert "Traceback" not in result.stderr
    assert junk.read_text(encoding="utf-8") == "this is a text file, not a database\n" * 10


def test_locked_store_fails_with_exit_3_and_changes_nothing(followup):
    followup("init", "--timezone", "UTC")
    holder = sqlite3.connect(followup.db, isolation_level=None, timeout=1)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        # A writer waits for the store's busy timeout (5 s by default), then gives up.
        started = time.monotonic()
        result = followup(
            "add",
            "--company",
            "Acme",
            "--role",
            "Engineer",
            "--interviewed",
            "2026-12-23T15:00",
            "--interviewer",
            "Jane Doe",
            expect=3,
        )
        elapsed = time.monotonic() - started
        assert elapsed < 30, f"took {elapsed:.1f} s"
        assert re.search(r"\b(locked|busy)\b", result.stderr), result.stderr
        assert str(followup.db) in result.stderr
        assert "Traceback" not in result.stderr
        # A reader is not blocked by a writer: the store runs in WAL mode.
        assert followup("list", "--json").json() == []
    finally:
        holder.rollback()
        holder.close()
    assert followup("list", "--json").json() == []
