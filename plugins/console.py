"""The console channel: prints each reminder to standard output."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from followup import Channel, Notification, hookimpl


class ConsoleChannel:
    """Writes a reminder as a short block of text; the channel a newcomer sees first."""

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, notification: Notification) -> None:
        out = self._stream or sys.stdout
        due = ""
        if notification.due_at is not None:
            local = notification.data.get("due_local") or notification.due_at.isoformat()
            due = f"  (due {local})"
        lines = [f"\N{BELL} {notification.subject}{due}"]
        if notification.body:
            lines.extend("    " + line if line else "" for line in notification.body.rstrip().splitlines())
        out.write("\n".join(lines) + "\n\n")
        out.flush()


@hookimpl
def followup_register_channels(register: Callable[[Channel], None]) -> None:
    register(ConsoleChannel())
