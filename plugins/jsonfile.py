"""The file channel: appends each reminder to a file as one line of JSON (JSON Lines).

For people who feed reminders to another program (a script, a log shipper, a cron job)
without running a server. Configure it with the path of the file::

    FOLLOWUP_FILE_PATH=~/.local/state/followup/reminders.jsonl

or ``path`` in the table ``[channels.file]`` of the settings file. Without any
``FOLLOWUP_FILE_...`` setting the channel is not registered; with some but no path,
loading fails with a ``PluginError`` that names ``FOLLOWUP_FILE_PATH``.

Each line is one JSON object with the fields ``key``, ``application_id``, ``owner``,
``rule``, ``created_at``, ``due_at`` (ISO 8601, or null), ``contact``, ``subject``,
``body`` and ``data`` (see ``followup.plugins._payload``).

How a line is written, and what a reader can rely on:

- The file is created with mode 0o600 (readable by its owner only: reminders name real
  people), and missing parent folders are created; an existing file keeps its mode.
- Each line goes to the file, opened for appending, in a single ``os.write`` followed
  by ``fsync``: a crash leaves either the whole line or, at worst after a power cut or a
  full disk, a fragment without its newline. The next append first ends such a fragment
  with a newline, so a fragment never spoils the line after it. Writers hold an
  exclusive ``flock`` on the file from that check to the end of the write (where the
  platform has ``flock``), so one writer never mistakes another's append, seen half
  done, for a fragment and writes an empty line.
- Delivery is **at least once**: a crash after the write but before the outbox records
  the delivery writes the same notification again, with the same ``key``. Readers
  dedupe by ``key``, and skip a line that is not valid JSON (a torn fragment) or that
  has no newline yet (still being written)::

      seen = set()
      with open(path, encoding="ascii") as lines:
          for line in lines:
              if not line.endswith("\\n"):
                  break
              try:
                  reminder = json.loads(line)
              except ValueError:
                  continue
              if reminder["key"] not in seen:
                  seen.add(reminder["key"])
                  handle(reminder)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from followup import Channel, FollowupError, Notification, PluginError, Settings, hookimpl
from followup.plugins._payload import to_json

try:
    import fcntl
except ImportError:  # Windows: no lock between writers
    fcntl = None  # type: ignore[assignment]

__all__ = ["FileChannel", "FileChannelError", "followup_register_channels"]

# O_BINARY keeps Windows from turning "\n" into "\r\n"; O_CLOEXEC keeps the descriptor
# out of child processes. Each is 0 where the platform lacks it.
_FLAGS = os.O_RDWR | os.O_APPEND | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


class FileChannelError(FollowupError):
    """A line could not be appended to the file; the dispatcher retries later."""


class FileChannel:
    """Appends each notification to ``path`` as one line of JSON, durably."""

    name = "file"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        #: The file reminders are appended to (absolute, so a later ``chdir`` cannot
        #: move it).
        self.path = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))

    def send(self, notification: Notification) -> None:
        line = (to_json(notification) + "\n").encode("ascii")
        try:
            self._append(line)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise FileChannelError(f"cannot append to {self.path}: {reason}") from exc

    def _append(self, line: bytes) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, _FLAGS | os.O_CREAT | os.O_EXCL, 0o600)
            created = True
        except FileExistsError:
            fd = os.open(self.path, _FLAGS)
            created = False
        try:
            if fcntl is not None:
                # Another writer's append can be seen half done (the file grows a page
                # at a time): held until close, the lock keeps the check below from
                # taking it for a fragment.
                fcntl.flock(fd, fcntl.LOCK_EX)
            if not created and _ends_inside_a_line(fd):
                line = b"\n" + line  # end a fragment a crash left, rather than extend it
            written = os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the flock
        if written != len(line):
            raise FileChannelError(
                f"cannot append to {self.path}: wrote {written} of {len(line)} bytes "
                "(is the disk full?)"
            )
        if created:
            _sync_folder(self.path.parent)  # so the new file's name survives a power cut

    def __repr__(self) -> str:
        return f"FileChannel({str(self.path)!r})"


def _ends_inside_a_line(fd: int) -> bool:
    if os.fstat(fd).st_size == 0:
        return False
    os.lseek(fd, -1, os.SEEK_END)
    return os.read(fd, 1) != b"\n"


def _sync_folder(folder: Path) -> None:
    if os.name != "posix":
        return  # folders cannot be opened for fsync on Windows; NTFS journals names
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@hookimpl
def followup_register_channels(register: Callable[[Channel], None], settings: Settings) -> None:
    """Register the ``file`` channel when any ``FOLLOWUP_FILE_...`` setting is present."""
    if not settings.configured("file"):
        return
    path = settings.require("file", "path")  # PluginError naming FOLLOWUP_FILE_PATH
    channel = FileChannel(path)
    if channel.path.is_dir():
        raise PluginError(
            f"channel 'file': FOLLOWUP_FILE_PATH names a folder ({channel.path}); "
            "name a file in it, such as reminders.jsonl"
        )
    register(channel)
