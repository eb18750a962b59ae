"""Channels deliver notifications; the registry holds the ones that loaded."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from followup.errors import PluginError
from followup.model import Notification

__all__ = ["Channel", "ChannelRegistry"]


@runtime_checkable
class Channel(Protocol):
    """A way to deliver a notification: console, file, email, webhook, calendar, ...

    ``send`` raises to report a failed delivery; the dispatcher retries later with
    backoff. A notification's ``key`` is stable across retries: a channel that can
    deduplicate (an email Message-ID, an HTTP idempotency header) should use it.
    """

    name: str

    def send(self, notification: Notification) -> None: ...


class ChannelRegistry:
    """The channels an engine can deliver through, by unique name."""

    def __init__(self, channels: Iterable[Channel] = ()) -> None:
        self._channels: dict[str, Channel] = {}
        self.origins: dict[str, str] = {}
        for channel in channels:
            self.register(channel)

    def register(self, channel: Channel, *, origin: str = "") -> None:
        name = getattr(channel, "name", None)
        if not isinstance(name, str) or not name:
            raise PluginError(f"{origin or 'a plugin'} registered a channel without a name: {channel!r}")
        if not callable(getattr(channel, "send", None)):
            raise PluginError(f"channel {name!r} from {origin or 'a plugin'} has no send() method")
        if name in self._channels:
            first = self.origins.get(name) or "another plugin"
            raise PluginError(
                f"two channels are named {name!r} ({first} and {origin or 'another plugin'}): "
                "block one of the plugins with FOLLOWUP_PLUGINS_BLOCK, or rename its channel"
            )
        self._channels[name] = channel
        self.origins[name] = origin

    def get(self, name: str) -> Channel | None:
        return self._channels.get(name)

    def names(self) -> list[str]:
        return sorted(self._channels)

    def __iter__(self) -> Iterator[Channel]:
        return iter(self._channels.values())

    def __len__(self) -> int:
        return len(self._channels)
