"""Channel settings: from the environment or a settings file, never from a rule pack.

A channel named ``email`` reads its settings from, in order:

1. the environment: ``FOLLOWUP_EMAIL_HOST``, ``FOLLOWUP_EMAIL_PORT``, ...
2. a secret's file: ``FOLLOWUP_EMAIL_PASSWORD_FILE=/run/secrets/smtp`` (for secrets only)
3. the settings file named by ``FOLLOWUP_SETTINGS`` (TOML), table ``[channels.email]``

Secrets are never printed: ``Settings.describe`` and every error show them as ``***``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from followup.errors import PluginError

__all__ = ["Settings"]


class Settings:
    """What a channel plugin is told about its configuration."""

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        file: str | os.PathLike[str] | None = None,
    ) -> None:
        self._env = os.environ if environ is None else environ
        path = file if file is not None else self._env.get("FOLLOWUP_SETTINGS")
        self._file: dict[str, Any] = {}
        self._path = str(path) if path else None
        if path:
            import tomllib  # only when there is a settings file to read

            try:
                with open(path, "rb") as handle:
                    self._file = tomllib.load(handle)
            except OSError as exc:
                raise PluginError(f"cannot read the settings file {path}: {exc.strerror}") from exc
            except tomllib.TOMLDecodeError as exc:
                raise PluginError(f"{path}: not valid TOML: {exc}") from exc

    @staticmethod
    def _var(channel: str, key: str) -> str:
        return f"FOLLOWUP_{channel}_{key}".upper().replace("-", "_")

    def configured(self, channel: str) -> bool:
        """Whether anything at all is set for ``channel``."""
        prefix = self._var(channel, "")
        in_env = any(k.startswith(prefix) for k in self._env)
        return in_env or channel in self._file.get("channels", {})

    def get(self, channel: str, key: str, default: str | None = None) -> str | None:
        """A setting's text, or ``default``."""
        var = self._var(channel, key)
        if var in self._env:
            return self._env[var]
        table = self._file.get("channels", {}).get(channel, {})
        if key in table:
            return str(table[key])
        return default

    def require(self, channel: str, key: str) -> str:
        value = self.get(channel, key)
        if value is None or not value.strip():
            where = f" or [channels.{channel}] {key} in {self._path}" if self._path else ""
            raise PluginError(
                f"channel {channel!r} needs {key!r}: set {self._var(channel, key)}{where}"
            )
        return value

    def integer(self, channel: str, key: str, default: int) -> int:
        text = self.get(channel, key)
        if text is None:
            return default
        try:
            return int(text)
        except ValueError:
            raise PluginError(
                f"channel {channel!r}: {self._var(channel, key)} must be a whole number, "
                f"not {text!r}"
            ) from None

    def number(self, channel: str, key: str, default: float) -> float:
        text = self.get(channel, key)
        if text is None:
            return default
        try:
            return float(text)
        except ValueError:
            raise PluginError(
                f"channel {channel!r}: {self._var(channel, key)} must be a number, not {text!r}"
            ) from None

    def secret(self, channel: str, key: str, *, required: bool = False) -> str | None:
        """A secret: from the environment, or from the file named by ``..._FILE``."""
        var = self._var(channel, key)
        if var in self._env:
            return self._env[var]
        file_var = var + "_FILE"
        if file_var in self._env:
            path = Path(self._env[file_var])
            try:
                return path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise PluginError(
                    f"channel {channel!r}: cannot read the secret file named by {file_var}: "
                    f"{exc.strerror}"
                ) from exc
        if required:
            raise PluginError(
                f"channel {channel!r} needs the secret {key!r}: set {var} or {file_var} "
                "(secrets never go in a rule pack or the settings file)"
            )
        return None
