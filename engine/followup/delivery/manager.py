"""Loading plugins: the engine's own plugin manager, filled from entry points on request.

Nothing loads at import time. ``load_plugins()`` reads the entry-point group ``followup``;
``FOLLOWUP_PLUGINS`` (a comma-separated allow-list of entry-point names) and
``FOLLOWUP_PLUGINS_BLOCK`` (a block-list) choose what loads. A plugin that fails to
import is reported in ``Plugins.failures`` and skipped; the others load.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pluggy

from followup.delivery import hookspecs
from followup.delivery.channels import Channel, ChannelRegistry
from followup.delivery.settings import Settings
from followup.errors import PluginError
from followup.language.loader import BUILTIN_PACKS
from followup.language.sandbox import Sandbox, check_filter, default_sandbox

__all__ = [
    "ENTRY_POINT_GROUP",
    "LoadedPlugin",
    "Plugins",
    "load_plugins",
    "new_manager",
    "observe",
]

ENTRY_POINT_GROUP = "followup"


@dataclass(frozen=True)
class LoadedPlugin:
    name: str
    origin: str  # "module (distribution version)"
    channels: tuple[str, ...] = ()


@dataclass
class Plugins:
    """What loaded: the manager, the channels, and the plugins that failed; ``sandbox``
    is where rule packs compile, with the template filters plugins registered."""

    manager: pluggy.PluginManager
    channels: ChannelRegistry
    loaded: list[LoadedPlugin] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    packs: dict[str, Path] = field(default_factory=dict)  # rule packs plugins registered
    sandbox: Sandbox = field(default_factory=default_sandbox)


def new_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager("followup")
    manager.add_hookspecs(hookspecs)
    return manager


def _names(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {v.strip() for v in value.split(",") if v.strip()}


def load_plugins(
    *,
    extra: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
    settings: Settings | None = None,
) -> Plugins:
    """Load the installed plugins (and ``extra`` plugin objects, by name) and collect
    their channels. Duplicate channel names raise ``PluginError``."""
    env = os.environ if environ is None else environ
    settings = settings if settings is not None else Settings(environ=env)
    allow = _names(env.get("FOLLOWUP_PLUGINS"))
    block = _names(env.get("FOLLOWUP_PLUGINS_BLOCK")) or set()
    manager = new_manager()
    plugins = Plugins(manager=manager, channels=ChannelRegistry())
    candidates: list[tuple[str, object, str]] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name in block or (allow is not None and ep.name not in allow):
            continue
        dist = f" ({ep.dist.name} {ep.dist.version})" if ep.dist is not None else ""
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not stop the others
            plugins.failures[ep.name] = f"{type(exc).__name__}: {exc}"
            continue
        candidates.append((ep.name, obj, f"{ep.value}{dist}"))
    for name, obj in (extra or {}).items():
        candidates.append((name, obj, getattr(obj, "__name__", repr(obj))))
    for name, obj, _origin in candidates:
        try:
            manager.register(obj, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            plugins.failures[name] = f"{type(exc).__name__}: {exc}"
    # A hook name that no spec knows is a misspelling: report that plugin and unload it,
    # rather than let pluggy's check fail every plugin at once.
    for hook_name in dir(manager.hook):
        caller = getattr(manager.hook, hook_name)
        if hook_name.startswith("_") or not isinstance(caller, pluggy.HookCaller):
            continue
        if caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            known = ", ".join(sorted(n for n in dir(hookspecs) if n.startswith("followup_")))
            plugins.failures[impl.plugin_name] = (
                f"unknown hook {hook_name!r}: followup's hooks are {known}"
            )
            manager.unregister(name=impl.plugin_name)
    manager.check_pending()
    # Call each plugin's registration on its own, so one that raises cannot stop the
    # others, and every channel is known by the plugin it came from.
    origins = {name: origin for name, _obj, origin in candidates}
    offered_channels: list[tuple[str, list[Channel]]] = []
    for impl in reversed(manager.hook.followup_register_channels.get_hookimpls()):
        name = impl.plugin_name
        found: list[Channel] = []
        arguments: dict[str, object] = {"register": found.append, "settings": settings}
        try:
            impl.function(*(arguments[a] for a in impl.argnames))
        except Exception as exc:
            plugins.failures[name] = f"{type(exc).__name__}: {exc}"
            continue
        offered_channels.append((name, found))
    # A name two plugins register is neither's: an operator must choose (never a rename).
    taken = _clashes((plugin, getattr(c, "name", None)) for plugin, found in offered_channels
                     for c in found)
    for name, found in offered_channels:
        kept: list[str] = []
        for channel in found:
            label = getattr(channel, "name", None)
            who = taken.get(label) if isinstance(label, str) else None
            if who is not None:
                plugins.failures[name] = _clash("channel", channel.name, who,
                                                "its reminders wait until you block one of "
                                                "the plugins with FOLLOWUP_PLUGINS_BLOCK, or "
                                                "rename its channel")
                continue
            try:
                plugins.channels.register(channel, origin=f"plugin {name!r}")
            except PluginError as exc:  # no name, or no send()
                plugins.failures[name] = str(exc)
                continue
            kept.append(channel.name)
        plugins.loaded.append(
            LoadedPlugin(name=name, origin=origins.get(name, name), channels=tuple(kept)))
    offered_packs: list[tuple[str, str, Path]] = []
    for impl in reversed(manager.hook.followup_register_rule_packs.get_hookimpls()):
        name = impl.plugin_name
        offered: list[tuple[str, Path]] = []

        def offer(pack: str, path: str | os.PathLike[str], into: list[tuple[str, Path]]
                  = offered) -> None:
            into.append((pack, Path(path)))

        try:
            impl.function(*({"register": offer}[a] for a in impl.argnames))
        except Exception as exc:
            plugins.failures[name] = f"{type(exc).__name__}: {exc}"
            continue
        offered_packs.extend((name, pack, path) for pack, path in offered)
    taken = _clashes((plugin, pack) for plugin, pack, _path in offered_packs)
    for name, pack, path in offered_packs:
        if pack in BUILTIN_PACKS:
            plugins.failures[name] = (f"plugin {name!r} registers the rule pack {pack!r}, the "
                                      "name of a built-in pack: rename the plugin's pack")
        elif pack in taken:
            plugins.failures[name] = _clash("rule pack", pack, taken[pack],
                                            "block one of the plugins or rename the pack")
        else:
            plugins.packs[pack] = path
    plugins.sandbox = _sandbox(manager, plugins)
    plugins.loaded.sort(key=lambda p: p.name)
    return plugins


def _sandbox(manager: pluggy.PluginManager, plugins: Plugins) -> Sandbox:
    """The sandbox with every plugin's template filters; a plugin whose hook raises is
    reported and left out, a name taken twice is an error."""
    filters: dict[str, tuple[Callable[..., Any], str]] = {}
    everything: list[tuple[str, str, Callable[..., Any]]] = []
    for impl in reversed(manager.hook.followup_register_template_filters.get_hookimpls()):
        name = impl.plugin_name
        offered: list[tuple[str, Callable[..., Any]]] = []

        def offer(filter_name: str, function: Callable[..., Any],
                  into: list[tuple[str, Callable[..., Any]]] = offered) -> None:
            into.append((filter_name, function))

        try:
            impl.function(*({"register": offer}[a] for a in impl.argnames))
            for filter_name, function in offered:
                check_filter(filter_name, function, f"plugin {name!r}")
        except Exception as exc:  # its filters are left out; rule packs that use them fail
            plugins.failures[name] = f"{type(exc).__name__}: {exc}"
            continue
        everything.extend((name, filter_name, function) for filter_name, function in offered)
    taken = _clashes((plugin, filter_name) for plugin, filter_name, _f in everything)
    for name, filter_name, function in everything:
        if filter_name in taken:
            plugins.failures[name] = _clash("template filter", filter_name, taken[filter_name],
                                            "block one of the plugins with "
                                            "FOLLOWUP_PLUGINS_BLOCK, or rename the filter")
        else:
            filters[filter_name] = (function, f"plugin {name!r}")
    return Sandbox(filters) if filters else default_sandbox()


def _clashes(offers: Iterable[tuple[str, object]]) -> dict[str, list[str]]:
    """Names offered more than once, with the plugins that offered them."""
    who: dict[str, list[str]] = {}
    for plugin, name in offers:
        if isinstance(name, str):
            who.setdefault(name, []).append(plugin)
    return {name: plugins for name, plugins in who.items() if len(plugins) > 1}


def _clash(kind: str, name: str, who: list[str], fix: str) -> str:
    if len(set(who)) == 1:
        return f"plugin {who[0]!r} registers the {kind} {name!r} twice: it is left out; {fix}"
    named = " and ".join(repr(w) for w in sorted(set(who)))
    return f"plugins {named} each register the {kind} {name!r}: neither's is used; {fix}"


def observe(plugins: Plugins | None, hook: str, **kwargs: object) -> list[str]:
    """Call every implementation of an observing hook on its own, so that one that
    raises cannot stop the others; returns what failed, also logged."""
    if plugins is None:
        return []
    failures = []
    for impl in getattr(plugins.manager.hook, hook).get_hookimpls():
        try:
            impl.function(*(kwargs[a] for a in impl.argnames))
        except Exception as exc:
            message = f"plugin {impl.plugin_name!r} failed in {hook}: {type(exc).__name__}: {exc}"
            logging.getLogger("followup").warning(message)
            failures.append(message)
    return failures
