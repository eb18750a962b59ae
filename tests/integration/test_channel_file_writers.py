"""The file channel with two writers at once: neither mistakes the other's line for a
fragment a crash left (which once gave the two-daemons test an empty line)."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from followup import Notification
from followup.plugins.jsonfile import FileChannel

fcntl = pytest.importorskip("fcntl")  # the channel locks only where flock exists


def notification(key: str) -> Notification:
    return Notification(key=key, application_id="app-1", owner="ada", rule="thank-you-notes",
                        created_at=datetime(2026, 12, 23, 20, 0, tzinfo=UTC),
                        subject="Thank Jane Doe", body="Dear Jane,\n", channels=("file",))


def test_an_append_waits_for_another_writers_line_to_end(tmp_path: Path) -> None:
    path = tmp_path / "reminders.jsonl"
    channel = FileChannel(path)
    channel.send(notification("first"))
    # Another writer, holding the lock as the channel does, is half way through its
    # line: the file ends inside a line, but not in a fragment a crash left.
    other = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        fcntl.flock(other, fcntl.LOCK_EX)
        os.write(other, b'{"key": "other", ')
        sender = threading.Thread(target=channel.send, args=(notification("second"),))
        sender.start()
        sender.join(0.2)  # time for a send that ignored the lock to misread the half line
        os.write(other, b'"rest": 1}\n')
    finally:
        os.close(other)  # releases the lock
    sender.join()
    lines = path.read_text(encoding="ascii").splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["first", "other", "second"]
