"""The console channel: prints each reminder to standard output."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from followup import Channel, Notification, hookimpl


class ConsoleChannel:
    """Writes a reminder as a short block of text; the channel a newcomer sees first."""

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        #: Where reminders go; ``None`` means standard output at the time of sending.
        self.stream = stream

    def send(self, notification: Notification) -> None:
        out = self.stream or sys.stdout
        due = ""
        if notification.due_at is not None:
            text = notification.data.get("due_local")
            when = datetime.fromisoformat(text) if isinstance(text, str) else notification.due_at
            due = f"  (due {when:%a %Y-%m-%d %H:%M})"
        lines = [f"\N{BELL} {notification.subject}{due}"]
        if notification.body:
            lines.extend(
                "    " + line if line else "" for line in notification.body.rstrip().splitlines()
            )
        out.write("\n".join(lines) + "\n\n")
        out.flush()


@hookimpl
def followup_register_channels(register: Callable[[Channel], None]) -> None:
    register(ConsoleChannel())
