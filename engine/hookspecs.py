"""The plugin contract: every hook followup calls, with its exact signature.

Plugins implement hooks with ``@followup.hookimpl`` and are found through the entry-point
group ``followup``. Hooks are always called with keyword arguments, so a hook may grow
new arguments without breaking a plugin that does not ask for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from followup.channels import Channel
    from followup.settings import Settings

__all__ = ["hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker("followup")
hookimpl = pluggy.HookimplMarker("followup")


@hookspec
def followup_register_channels(register: Callable[[Channel], None], settings: Settings) -> None:
    """Register the notification channels this plugin provides.

    Call ``register(channel)`` once per channel. A channel has a ``name`` and a
    ``send(notification)`` method (see ``followup.Channel``). Two channels with the same
    name are an error, reported when plugins load. ``settings`` holds each channel's
    configuration from the environment or the settings file (see ``followup.Settings``):
    check it here and raise ``PluginError`` with a clear message when it is wrong, or
    register nothing when the channel is not configured at all.

    Example::

        from followup import hookimpl

        class Shout:
            name = "shout"
            def send(self, notification):
                print(notification.subject.upper())

        @hookimpl
        def followup_register_channels(register):
            register(Shout())
    """
