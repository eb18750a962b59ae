"""The plugin contract: every hook followup calls, with its exact signature.

Plugins implement hooks with ``@followup.hookimpl`` and are found through the entry-point
group ``followup``. Hooks are always called with keyword arguments, so a hook may grow
new arguments without breaking a plugin that does not ask for them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from followup.delivery.channels import Channel
    from followup.delivery.settings import Settings
    from followup.model import Application, Delivery, HistoryEntry

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


@hookspec
def followup_transition(application: Application, entry: HistoryEntry) -> None:
    """Observe an application moving from one state to another.

    Called after the move is committed, once per move: ``entry`` is the history entry
    (an event that moved it, or one of the pack's own transitions) and ``application``
    the application as stored after the change. An observer that raises is logged and
    does not stop the others or undo the move.

    Example::

        from followup import hookimpl

        @hookimpl
        def followup_transition(application, entry):
            print(f"{application.company}: {entry.from_state} -> {entry.to_state}")
    """


@hookspec
def followup_delivered(delivery: Delivery) -> None:
    """Observe a notification delivered through one channel.

    Called after the outbox row is marked delivered; ``delivery.notification.key`` is
    the idempotency key and ``delivery.channel`` the channel. An observer that raises is
    logged and does not stop the others.

    Example::

        from followup import hookimpl

        @hookimpl
        def followup_delivered(delivery):
            print(f"sent {delivery.notification.subject!r} by {delivery.channel}")
    """


@hookspec
def followup_register_rule_packs(register: Callable[[str, Path], None]) -> None:
    """Register rule packs this plugin ships, by name.

    Call ``register(name, path)`` for each pack file. The name can then be given where a
    pack is chosen (``followup --rules NAME``, ``Engine(rules=NAME)``) and extended by a
    user's pack (``extends: NAME``). A built-in pack's name is refused, and a name two
    plugins register is neither's: both plugins are reported when plugins load.

    Example::

        from pathlib import Path

        from followup import hookimpl

        @hookimpl
        def followup_register_rule_packs(register):
            register("career-centre", Path(__file__).with_name("career-centre.yaml"))
    """


@hookspec
def followup_register_template_filters(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register Jinja filters that rule packs may use in templates and conditions.

    Call ``register(name, function)`` for each filter; ``{{ contact.name | initials }}``
    then calls ``function(value)`` (with any arguments the template passes). A filter
    runs inside the sandbox's rules: it gets the values the template hands it, and what
    it returns is checked by the sandbox like any other value. Rule packs compile after
    plugins load, so a filter no plugin registered is a load error with the file and
    line. One of Jinja's own filters' names is refused, and a name two plugins register
    is neither's: both are reported when plugins load. A filter that raises fails that template or condition with
    a message naming the filter and the plugin.

    Example::

        from followup import hookimpl

        @hookimpl
        def followup_register_template_filters(register):
            register("initials", lambda name: "".join(p[0] for p in str(name).split()))
    """
