"""What a command imports: the start-up gains cannot come back unnoticed.

Each check runs the command line in a fresh interpreter and lists ``sys.modules`` at the
end. ``--help`` builds its parser without the engine; the everyday commands, with only
followup's own plugins installed and no calendar configured, load no plugin, no YAML
reader and no Jinja2 once the pack is cached (its conditions and templates come with their
fast forms), and one country of ``holidays``, not all of them; those that only read
(``list``, ``show``, ``agenda``) never import Jinja2 at all, and from the second command
on they find the installed plugins without ``importlib.metadata`` and the holidays
without ``holidays``. None imports what fires, delivers or corrects (the engine makes
those parts when first used), nor ``logging`` unless an event builds the state machine;
those that only read, not what records.
How fast they are is measured in bench/ (rows 6.x), never here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Mapping

import pytest

from tests.acceptance.conftest import TIMEOUT, Followup

PROGRAM = textwrap.dedent("""
    import json, sys
    from followup.cli import main
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:  # --help and --version end this way
        code = exc.code
    print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
""")

#: What a command that only reads or records never needs.
HEAVY = ("pluggy", "yaml", "followup.language._compiler", "followup.language.schemacheck",
         "jinja2",  # the cached pack's conditions and templates have their fast forms
         "followup.plugins.email", "followup.plugins.webhook", "smtplib",
         "holidays.countries", "asyncio")


def modules(args: list[str], env: Mapping[str, str]) -> set[str]:
    run = subprocess.run([sys.executable, "-c", PROGRAM, *args], env=dict(env),
                         capture_output=True, text=True, timeout=TIMEOUT, check=False)
    report = json.loads(run.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), run.stderr
    return set(report["modules"])


def test_help_imports_no_engine(followup: Followup) -> None:
    loaded = modules(["--help"], followup.env)
    assert "followup.cli" in loaded
    for name in ("followup.runtime.engine", "followup.store", "followup.language.pack",
                 "jinja2", "holidays", "importlib.metadata", "sqlite3", *HEAVY,
                 # nor the model and the errors, nor the modules they import
                 "followup.model", "followup.errors", "dataclasses", "inspect", "logging",
                 "pathlib"):
        assert name not in loaded, f"followup --help imports {name}"


def test_version_still_answers(followup: Followup) -> None:
    shown = followup("--version")
    assert shown.stdout.startswith("followup ")


def _one_application(followup: Followup) -> dict[str, str]:
    """A store in New York with one application, app-1, its own pack cache, and only
    followup's own plugins with no calendar configured; the environment to use it."""
    env = {**followup.env, "FOLLOWUP_CACHE_DIR": str(followup.tmp_path / "cache")}
    env = {k: v for k, v in env.items() if not k.startswith(("FOLLOWUP_CALENDAR_",
                                                              "FOLLOWUP_PLUGINS"))}
    followup("init", "--timezone", "America/New_York", "--country", "US",
             "--subdivision", "NY", env=env)
    followup("add", "--id", "app-1", "--company", "Acme", "--role", "Engineer",
             "--interviewed", "2026-12-23T15:00", "--interviewer", "Jane Doe", env=env)
    return env


@pytest.mark.parametrize("command", [
    ["list"],
    ["show", "app-1"],
    ["agenda"],
    ["log", "app-1", "thank_you_sent", "--contact", "Jane Doe"],
    ["add", "--company", "Initech", "--role", "Engineer", "--interviewed", "2026-12-23T15:00"],
])
def test_everyday_commands_import_only_what_they_use(
        followup: Followup, command: list[str]) -> None:
    env = _one_application(followup)
    loaded = modules(command, env)
    assert "followup.store.sqlite" in loaded  # it did run
    # A listing needs no rules: neither the engine nor the pack is loaded.
    engine = ("followup.runtime.engine", "followup.language.loader")
    if command[0] == "list":
        assert not set(engine) & loaded, "followup list loads the engine"
    else:
        assert set(engine) <= loaded
    for name in HEAVY:
        assert name not in loaded, f"followup {command[0]} imports {name}"
    countries = sorted(m for m in loaded if m.startswith("holidays.countries."))
    assert countries in ([], ["holidays.countries.united_states"]), countries
    # The engine makes its parts when first used: nothing here fires, delivers or
    # corrects, and a command that only reads records nothing either.
    # Only an event needs the state machine, and with it transitions, which logs.
    reads = command[0] in ("list", "show", "agenda")
    # Nor hashlib (OpenSSL: the caches use cachefiles.digest, and the pack's fingerprint
    # comes with the cached pack); nor the memory store on a SQLite store, nor the
    # modules of other commands (followup.cli._MODULE_OF).
    for name in ("followup.runtime.passes", "followup.delivery.dispatcher",
                 "followup.runtime.corrections", "hashlib", "followup.store.memory",
                 "followup.cli.daemon", "followup.cli.serve", "followup.cli.packs",
                 *(("logging",) if command[0] != "log" else ()),
                 *(("followup.runtime.changes", "followup.runtime.firing") if reads else ())):
        assert name not in loaded, f"followup {command[0]} imports {name}"


@pytest.mark.parametrize("command", [["list"], ["show", "app-1"], ["agenda"]])
def test_reading_commands_compile_nothing_and_remember_the_plugins(
        followup: Followup, command: list[str]) -> None:
    env = _one_application(followup)
    first = modules(command, env)
    assert "jinja2" not in first, f"followup {command[0]} compiles a condition or template"
    again = modules(command, env)
    assert "jinja2" not in again
    # The years the calendar asked about are in the holiday cache by now.
    # Nor socket (importlib.metadata imports it, through email), secrets or tomllib; nor
    # importlib.resources and zipfile: the shipped pack and SQL are read from the
    # package's folder (followup.shipped); nor shutil, which argparse's formatter would
    # import for the terminal's width (followup.cli._Formatter reads it itself).
    for name in ("importlib.metadata", "holidays", "socket", "secrets", "tomllib",
                 "importlib.resources", "zipfile", "shutil"):
        assert name not in again, f"followup {command[0]} imports {name} again"
    # Nor the state machine: a command that records no event never builds it.
    assert "transitions" not in first and "transitions" not in again


def test_a_configured_calendar_feed_still_follows_the_plan(followup: Followup) -> None:
    """The calendar channel follows every change, so with it configured the commands
    that change an application load the plugins, as before."""
    feed = followup.tmp_path / "feed.ics"
    env = {**followup.env, "FOLLOWUP_CALENDAR_PATH": str(feed)}
    followup("init", "--timezone", "America/New_York", env=env)
    followup("add", "--id", "app-1", "--company", "Acme", "--role", "Engineer",
             "--interviewed", "2026-12-23T15:00", "--interviewer", "Jane Doe", env=env)
    assert "Jane Doe" in feed.read_text(encoding="utf-8")
    loaded = modules(["log", "app-1", "called"], env)
    assert "followup.plugins.calendar" in loaded
