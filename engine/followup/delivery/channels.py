"""Channels deliver notifications; the registry holds the ones that loaded."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from followup.errors import PluginError
from followup.model import Application, Notification, Timer

if TYPE_CHECKING:
    from followup.timing.calendar import WorkCalendar

__all__ = ["Channel", "ChannelRegistry", "Planner", "tell_planned"]


@runtime_checkable
class Channel(Protocol):
    """A way to deliver a notification: console, file, email, webhook, calendar, ...

    ``send`` raises to report a failed delivery; the dispatcher retries later with
    backoff. A notification's ``key`` is stable across retries: a channel that can
    deduplicate (an email Message-ID, an HTTP idempotency header) should use it.
    ``send`` may be a coroutine function: it then runs under ``asyncio.run``. Optional
    attributes: ``timeout`` (seconds a send may take), ``digest = False`` (take an
    owner's daily digest one reminder at a time), and ``planned`` (see ``Planner``).
    """

    name: str

    def send(self, notification: Notification) -> None: ...


@runtime_checkable
class Planner(Protocol):
    """A channel that also follows the plan (optional): a calendar feed.

    The engine calls ``planned`` after every change to an application's timers, with
    every reminder the application has planned now (``application`` is None for the
    rules over all of an owner's applications): a reminder missing from ``timers`` that
    is not in ``fired`` was cancelled. Called in the engine's thread after the change is
    committed; one that raises is logged and changes nothing else.

    A ``planned`` that also takes ``messages`` is given, for each reminder's key, the
    subject and draft its notification would say now (rendered only for channels that
    ask): a calendar shows those rather than the rule's name. Others are called as
    before, so the protocol grows without breaking a channel written for it.
    """

    def planned(
        self,
        *,
        owner: str,
        application: Application | None,
        timers: Sequence[Timer],
        fired: Sequence[Timer],
        calendar: WorkCalendar,
    ) -> None: ...


def tell_planned(
    channels: Iterable[Channel],
    *,
    owner: str,
    application: Application | None,
    timers: Sequence[Timer],
    fired: Sequence[Timer],
    calendar: WorkCalendar,
    preview: Callable[[Timer], tuple[str, str]] | None = None,
) -> list[str]:
    """Give each channel that follows the plan the reminders now planned (and, to one
    that takes ``messages``, what ``preview`` says each will say); returns what failed,
    also logged (logger ``followup``)."""
    reminders = [t for t in timers if t.action == "notify"]
    failures = []
    messages: dict[str, tuple[str, str]] | None = None
    for channel in channels:
        if not isinstance(channel, Planner):
            continue
        try:
            if preview is not None and _takes_messages(channel):
                if messages is None:
                    messages = {t.key: preview(t) for t in reminders}
                follow: Callable[..., None] = channel.planned  # it takes messages: checked
                follow(owner=owner, application=application, timers=reminders, fired=fired,
                       calendar=calendar, messages=messages)
            else:
                channel.planned(owner=owner, application=application, timers=reminders,
                                fired=fired, calendar=calendar)
        except Exception as exc:  # the change is committed: a feed must not undo it
            message = (f"channel {channel.name!r} failed to follow the plan: "
                       f"{type(exc).__name__}: {exc}")
            import logging

            logging.getLogger("followup").warning(message)
            failures.append(message)
    return failures


def _takes_messages(channel: Planner) -> bool:
    """Whether a channel's ``planned`` accepts ``messages`` (by name or ``**kwargs``)."""
    try:
        parameters = inspect.signature(channel.planned).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "messages" or p.kind is inspect.Parameter.VAR_KEYWORD
               for p in parameters)


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
