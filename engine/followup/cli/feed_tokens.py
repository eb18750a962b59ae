"""The secret in each owner's feed address: made once, kept beside the store, rotatable.

``followup serve`` answers only at ``/TOKEN/calendar.ics``. The token is not in the store
(it would need a table of its own on every store); it is a small file per owner in a
``feed-tokens`` folder: beside the SQLite file, or for other stores in followup's data
folder (``$XDG_DATA_HOME/followup``). The file's name is a hash of the store and the
owner, so any owner string gives a safe name of its own, and two stores kept in one
folder do not share a token. The folder is 0700 and each file 0600.

A running server reads the token at every request, so a rotation takes effect at once.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from pathlib import Path

from followup.errors import StoreError

__all__ = ["FeedTokens"]

FOLDER = "feed-tokens"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")


class FeedTokens:
    """The feed tokens of one store's owners, kept as files in ``folder``.

    ``store`` names the store (a SQLite file's name, or a URL without its password):
    it is part of each file's name, never of its content.
    """

    def __init__(self, folder: Path, store: str) -> None:
        self.folder = folder
        self.store = store

    def path(self, owner: str) -> Path:
        """The file that holds ``owner``'s token."""
        key = f"{self.store}\0{owner}".encode("utf-8", "surrogatepass")
        return self.folder / hashlib.sha256(key).hexdigest()[:32]

    def read(self, owner: str) -> str | None:
        """``owner``'s token, or None when there is none (or the file is damaged)."""
        try:
            text = self.path(owner).read_text(encoding="ascii", errors="replace").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read the feed's token in {self.folder}: "
                             f"{exc.strerror or exc}") from exc
        return text if _TOKEN.fullmatch(text) else None

    def get(self, owner: str) -> str:
        """``owner``'s token, made now if there is none yet."""
        token = self.read(owner)
        if token is not None:
            return token
        path = self.path(owner)
        if path.exists():  # damaged (an interrupted write, an edit): start again
            return self.rotate(owner)
        temp = self._write(secrets.token_urlsafe(32))
        try:
            os.link(temp, path)  # only if there is still none: two first starts agree
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        return self.read(owner) or self.rotate(owner)

    def rotate(self, owner: str) -> str:
        """A new token for ``owner``: the old address stops answering at once."""
        token = secrets.token_urlsafe(32)
        temp = self._write(token)
        try:
            os.replace(temp, self.path(owner))
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise StoreError(f"cannot keep the feed's token in {self.folder}: "
                             f"{exc.strerror or exc}") from exc
        return token

    def _write(self, token: str) -> Path:
        """A new 0600 file in the folder holding ``token``, written through."""
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self.folder, prefix=".new-")  # 0600
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(token + "\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise StoreError(f"cannot keep the feed's token in {self.folder}: "
                             f"{exc.strerror or exc}") from exc
        return Path(name)
