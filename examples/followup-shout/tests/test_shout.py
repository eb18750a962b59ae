"""The shout channel: its hook on its own, then in a real engine on a fake clock.

The fixtures ``followup_engine``, ``followup_channel`` and ``followup_clock`` come from
followup's test kit (``followup.testing``), a pytest plugin installed with followup.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from followup_shout import ShoutChannel, followup_register_channels

from followup import (
    Channel,
    Contact,
    Engine,
    FakeClock,
    MemoryStore,
    PluginError,
    Settings,
    load_rules,
)
from followup.delivery.manager import load_plugins
from followup.testing import RecordingChannel

# The default pack, its reminders sent to shout (and, in one test, to console too).
RULES = """\
version: 1
name: shout-rules
extends: after-interview
channels: [shout]
"""


def register(settings: Settings) -> list[Channel]:
    """Call the hook as followup does when plugins load."""
    found: list[Channel] = []
    followup_register_channels(register=found.append, settings=settings)
    return found


def add_interview(engine: Engine) -> None:
    engine.add_application(
        owner="ada", company="Acme", role="Engineer",
        facts={"interviewed_at": "2026-12-23T15:00"},
        contacts=[Contact("Jane Doe", "interviewer", title="CTO")],
    )


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def shout_engine(clock: FakeClock, *channels: Channel, rules: str = RULES) -> Engine:
    """An engine like the kit's ``followup_engine``, delivering to ``channels``."""
    engine = Engine(rules=load_rules(text=rules), store=MemoryStore(), clock=clock,
                    channels=channels)
    engine.set_owner("ada", timezone="America/New_York", country="US")
    return engine


@pytest.fixture
def shout_path(tmp_path: Path) -> Path:
    return tmp_path / "shout.txt"


@pytest.fixture
def shouting(followup_clock: FakeClock, shout_path: Path) -> Iterator[Engine]:
    """An engine on the kit's clock whose reminders go to the shout channel."""
    with shout_engine(followup_clock, ShoutChannel(shout_path)) as engine:
        yield engine


# -- the hook ------------------------------------------------------------------------------


def test_registered_only_when_configured(shout_path: Path) -> None:
    assert register(Settings(environ={})) == []
    [channel] = register(Settings(environ={"FOLLOWUP_SHOUT_PATH": str(shout_path)}))
    assert isinstance(channel, ShoutChannel) and isinstance(channel, Channel)
    assert channel.name == "shout" and channel.path == shout_path
    assert not shout_path.exists()  # loading writes nothing


def test_configured_from_the_settings_file(tmp_path: Path, shout_path: Path) -> None:
    settings_file = tmp_path / "followup.toml"
    settings_file.write_text(f"[channels.shout]\npath = {str(shout_path)!r}\n", encoding="utf-8")
    [channel] = register(Settings(environ={}, file=settings_file))
    assert isinstance(channel, ShoutChannel) and channel.path == shout_path


@pytest.mark.parametrize("environ", [
    {"FOLLOWUP_SHOUT_PATHS": "shout.txt"},  # a typo: configured, but no path
    {"FOLLOWUP_SHOUT_PATH": "  "},
])
def test_configured_without_a_path_names_the_variable(environ: dict[str, str]) -> None:
    with pytest.raises(PluginError, match="FOLLOWUP_SHOUT_PATH"):
        register(Settings(environ=environ))


def test_a_folder_as_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="names a folder"):
        register(Settings(environ={"FOLLOWUP_SHOUT_PATH": str(tmp_path)}))


def test_found_through_its_entry_point(shout_path: Path) -> None:
    # Needs the package installed (pip install -e .): followup finds it by its entry point.
    plugins = load_plugins(environ={"FOLLOWUP_SHOUT_PATH": str(shout_path)})
    assert "shout" not in plugins.failures, plugins.failures.get("shout")
    assert plugins.channels.origins.get("shout") == "plugin 'shout'", (
        "no channel 'shout': is followup-shout installed?")
    [loaded] = [p for p in plugins.loaded if p.name == "shout"]
    assert loaded.origin.startswith("followup_shout (followup-shout ")
    assert "shout" not in load_plugins(environ={}).channels.names()


# -- in an engine --------------------------------------------------------------------------


def test_shouts_what_the_console_would_say(
    followup_engine: Engine, followup_channel: RecordingChannel, followup_clock: FakeClock,
    shouting: Engine, shout_path: Path,
) -> None:
    # The same interview in the kit's engine (default pack, to console) and in one
    # that shouts, on the same clock: the shout file says what the console was sent.
    for engine in (followup_engine, shouting):
        add_interview(engine)
        assert not engine.run_due().delivery.failed
    assert "THANK JANE DOE FOR THE INTERVIEW AT ACME" in lines(shout_path)
    assert lines(shout_path) == [s.upper() for s in followup_channel.subjects()]

    followup_clock.advance(timedelta(days=20))  # the follow-up call and more come due
    for engine in (followup_engine, shouting):
        assert engine.run_due().delivery.delivered
    assert "CALL ACME ABOUT THE ENGINEER ROLE" in lines(shout_path)
    assert lines(shout_path) == [s.upper() for s in followup_channel.subjects()]


def test_a_failed_write_is_retried_and_spares_the_other_channels(
    followup_clock: FakeClock, followup_channel: RecordingChannel, tmp_path: Path,
) -> None:
    path = tmp_path / "not-yet" / "shout.txt"  # its folder is missing: writing fails
    rules = RULES.replace("[shout]", "[console, shout]")
    with shout_engine(followup_clock, ShoutChannel(path), followup_channel,
                      rules=rules) as engine:
        add_interview(engine)
        report = engine.run_due()
        assert {row.channel for row in report.delivery.failed} == {"shout"}
        assert "No such file or directory" in str(report.delivery.failed[0].last_error)
        assert "Thank Jane Doe for the interview at Acme" in followup_channel.subjects()

        path.parent.mkdir()
        followup_clock.advance(timedelta(minutes=1))  # past the first retry's backoff
        report = engine.run_due()
        assert not report.delivery.failed
        assert lines(path) == [s.upper() for s in followup_channel.subjects()]
