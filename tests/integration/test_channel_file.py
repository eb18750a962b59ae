"""The file channel on a real file: one JSON line per notification, private, durable."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from followup import Channel, Notification, PluginError, Settings
from followup.delivery.manager import load_plugins
from followup.plugins.jsonfile import FileChannel, FileChannelError, followup_register_channels

FIELDS = ["key", "application_id", "owner", "rule", "created_at", "due_at", "contact",
          "subject", "body", "data"]


def notification(key: str = "app-1/thank-you-notes/0/Jane Doe/0", **changes: object) -> Notification:
    values: dict[str, object] = dict(
        key=key, application_id="app-1", owner="ada", rule="thank-you-notes",
        created_at=datetime(2026, 12, 23, 20, 0, tzinfo=UTC),
        subject="Thank Jane Doe (Engineering Manager)",
        body="Dear Jane,\nthank you for the interview.\n",
        due_at=datetime(2026, 12, 28, 22, 0, tzinfo=UTC), contact="Jane Doe",
        channels=("file",), data={"company": "Acme", "occurrence": 0, "why": "José ✓"},
    )
    values.update(changes)
    return Notification(**values)  # type: ignore[arg-type]


def register(settings: Settings) -> list[Channel]:
    found: list[Channel] = []
    followup_register_channels(register=found.append, settings=settings)
    return found


def test_each_notification_is_one_json_line_with_exact_fields(tmp_path: Path) -> None:
    path = tmp_path / "reminders.jsonl"
    channel = FileChannel(path)
    channel.send(notification())
    channel.send(notification("app-1/ask-decision-date/0/-/0", rule="ask-decision-date",
                              due_at=None, contact=None, body="", data={}))
    raw = path.read_bytes()
    assert raw.endswith(b"\n") and raw.count(b"\n") == 2
    assert raw.isascii()  # U+2028 and friends are escaped: no reader splits a line
    first, second = (json.loads(line) for line in raw.decode("ascii").splitlines())
    assert list(first) == FIELDS
    assert first == {
        "key": "app-1/thank-you-notes/0/Jane Doe/0",
        "application_id": "app-1",
        "owner": "ada",
        "rule": "thank-you-notes",
        "created_at": "2026-12-23T20:00:00+00:00",
        "due_at": "2026-12-28T22:00:00+00:00",
        "contact": "Jane Doe",
        "subject": "Thank Jane Doe (Engineering Manager)",
        "body": "Dear Jane,\nthank you for the interview.\n",
        "data": {"company": "Acme", "occurrence": 0, "why": "José ✓"},
    }
    assert second["due_at"] is None and second["contact"] is None
    assert second["rule"] == "ask-decision-date"


def test_the_same_key_may_be_written_twice_and_readers_dedupe(tmp_path: Path) -> None:
    path = tmp_path / "reminders.jsonl"
    channel = FileChannel(path)
    channel.send(notification())
    channel.send(notification())  # a retry: at least once, same key
    keys = [json.loads(line)["key"] for line in path.read_text("ascii").splitlines()]
    assert keys == [notification().key] * 2
    assert len(set(keys)) == 1


def test_the_file_and_its_folders_are_created_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "followup" / "reminders.jsonl"
    FileChannel(path).send(notification())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0


def test_a_fragment_left_by_a_crash_does_not_spoil_the_next_line(tmp_path: Path) -> None:
    path = tmp_path / "reminders.jsonl"
    channel = FileChannel(path)
    channel.send(notification("one"))
    with path.open("ab") as f:
        f.write(b'{"key":"torn","appl')  # what a power cut in mid-write could leave
    channel.send(notification("two"))
    lines = path.read_text("ascii").splitlines()
    assert len(lines) == 3
    assert json.loads(lines[0])["key"] == "one"
    assert json.loads(lines[2])["key"] == "two"
    with pytest.raises(ValueError):
        json.loads(lines[1])  # readers skip it, as the module's docstring shows


def test_a_write_that_fails_raises_for_a_retry(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    channel = FileChannel(blocker / "reminders.jsonl")
    with pytest.raises(FileChannelError, match=r"cannot append to .*reminders\.jsonl"):
        channel.send(notification())


def test_registered_only_when_configured(tmp_path: Path) -> None:
    assert register(Settings(environ={})) == []
    path = tmp_path / "reminders.jsonl"
    [channel] = register(Settings(environ={"FOLLOWUP_FILE_PATH": str(path)}))
    assert channel.name == "file" and isinstance(channel, Channel)
    assert isinstance(channel, FileChannel) and channel.path == path
    assert not path.exists()  # loading writes nothing


@pytest.mark.parametrize("environ", [
    {"FOLLOWUP_FILE_PATHS": "/tmp/typo.jsonl"},
    {"FOLLOWUP_FILE_PATH": "  "},
])
def test_configured_without_a_path_names_the_variable(environ: dict[str, str]) -> None:
    with pytest.raises(PluginError, match="FOLLOWUP_FILE_PATH"):
        register(Settings(environ=environ))


def test_configured_in_the_settings_file_without_a_path(tmp_path: Path) -> None:
    settings_file = tmp_path / "followup.toml"
    settings_file.write_text("[channels.file]\nformat = 'jsonl'\n")
    with pytest.raises(PluginError, match=r"FOLLOWUP_FILE_PATH or \[channels.file\] path"):
        register(Settings(environ={}, file=settings_file))


def test_a_folder_as_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="names a folder"):
        register(Settings(environ={"FOLLOWUP_FILE_PATH": str(tmp_path)}))


def test_loaded_through_the_plugin_manager(tmp_path: Path) -> None:
    path = tmp_path / "reminders.jsonl"
    plugins = load_plugins(environ={"FOLLOWUP_FILE_PATH": str(path)})
    assert "file" in plugins.channels.names()
    assert "file" not in plugins.failures
    assert plugins.channels.origins["file"] == "plugin 'file'"
    channel = plugins.channels.get("file")
    assert channel is not None
    channel.send(notification())
    assert json.loads(path.read_text("ascii"))["key"] == notification().key
    assert "file" not in load_plugins(environ={}).channels.names()


def test_a_misconfigured_file_channel_fails_alone_in_the_manager() -> None:
    plugins = load_plugins(environ={"FOLLOWUP_FILE_MODE": "600"})
    assert "file" not in plugins.channels.names()
    assert "FOLLOWUP_FILE_PATH" in plugins.failures["file"]
    assert "console" in plugins.channels.names()

