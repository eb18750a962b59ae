"""followup-shout: a followup channel that writes each reminder's subject, in capitals, to a file.

An example plugin to copy: one channel, one hook, settings read through followup.
Configure it with the file to write to::

    FOLLOWUP_SHOUT_PATH=~/shout.txt

or ``path`` in the table ``[channels.shout]`` of the settings file named by
``FOLLOWUP_SETTINGS``. Without any ``FOLLOWUP_SHOUT_...`` setting the channel is not
registered; with some but no path, or a path that names a folder, loading fails with a
``PluginError`` that says what to set.

Each reminder is one line: its subject in capitals. Delivery is at least once, so after
a crash between the write and followup's record of it, a line may appear twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from followup import Channel, Notification, PluginError, Settings, hookimpl

__all__ = ["ShoutChannel", "followup_register_channels"]


class ShoutChannel:
    """Appends each reminder's subject, in capitals, as one line of ``path``."""

    name = "shout"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        # Absolute, so that a later change of working directory cannot move the file.
        self.path = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))

    def send(self, notification: Notification) -> None:
        line = " ".join(notification.subject.upper().split()) + "\n"
        # An OSError here (a missing folder, a full disk) is a failed delivery: followup
        # records it and tries again later, and the other channels go on.
        with open(self.path, "a", encoding="utf-8", opener=_private) as out:
            out.write(line)

    def __repr__(self) -> str:
        return f"ShoutChannel({str(self.path)!r})"


def _private(path: str, flags: int) -> int:
    # Reminders name real people: a new file is readable by its owner only.
    return os.open(path, flags, 0o600)


@hookimpl
def followup_register_channels(register: Callable[[Channel], None], settings: Settings) -> None:
    """Register the ``shout`` channel when any ``FOLLOWUP_SHOUT_...`` setting is present."""
    if not settings.configured("shout"):
        return
    channel = ShoutChannel(settings.require("shout", "path"))  # names FOLLOWUP_SHOUT_PATH
    if channel.path.is_dir():
        raise PluginError(
            f"channel 'shout': FOLLOWUP_SHOUT_PATH names a folder ({channel.path}); "
            "name a file in it, such as shout.txt"
        )
    register(channel)
