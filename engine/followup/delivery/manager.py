"""Loading plugins: the engine's own plugin manager, filled from entry points on request.

Nothing loads at import time, and importing this module imports neither pluggy nor the
entry-point machinery: a command that delivers nothing never pays for them.
``load_plugins()`` reads the entry-point group ``followup``;
``FOLLOWUP_PLUGINS`` (a comma-separated allow-list of entry-point names) and
``FOLLOWUP_PLUGINS_BLOCK`` (a block-list) choose what loads. A plugin that fails to
import is reported in ``Plugins.failures`` and skipped; the others load.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from followup.delivery.channels import Channel, ChannelRegistry
from followup.delivery.settings import Settings
from followup.errors import PluginError
from followup.language.expressions import Sandbox, check_filter, default_sandbox
from followup.language.loader import BUILTIN_PACKS

if TYPE_CHECKING:
    import pluggy

__all__ = [
    "ENTRY_POINT_GROUP",
    "HookFailure",
    "LoadedPlugin",
    "Plugins",
    "call_each",
    "load_plugins",
    "new_manager",
    "observe",
    "plugins_for_planning",
]

ENTRY_POINT_GROUP = "followup"

#: followup's own channels: each registers channels and nothing else (no rule packs, no
#: template filters, no observers), and only ``calendar`` follows the plan.
BUILTIN_PLUGINS = frozenset(f"followup.plugins.{name}" for name in (
    "apprise", "calendar", "console", "email", "jsonfile", "webhook"))


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


@dataclass(frozen=True)
class HookFailure:
    """One plugin's implementation of a hook that raised; the others still ran."""

    plugin: str
    hook: str
    error: Exception

    @property
    def reason(self) -> str:
        """What went wrong, e.g. ``RuntimeError: no config`` (``Plugins.failures`` holds it)."""
        return f"{type(self.error).__name__}: {self.error}"

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} failed in {self.hook}: {self.reason}"


def call_each(
    manager: pluggy.PluginManager, hook: str, arguments: Callable[[str], Mapping[str, object]]
) -> list[HookFailure]:
    """Call each plugin's implementation of ``hook`` on its own, in the order pluggy
    would, and return the ones that raised.

    pluggy's own call stops at the first implementation that raises; here one broken
    plugin cannot stop the others. ``arguments(plugin)`` gives the keyword arguments for
    that plugin's call (each takes the ones it names), so a registration hook can hand
    each plugin a ``register`` that files what it offers under its name.
    """
    failures = []
    for impl in reversed(getattr(manager.hook, hook).get_hookimpls()):
        given = arguments(impl.plugin_name)
        try:
            impl.function(*(given[name] for name in impl.argnames))
        except Exception as exc:  # a broken plugin must not stop the others
            failures.append(HookFailure(impl.plugin_name, hook, exc))
    return failures


def new_manager() -> pluggy.PluginManager:
    import pluggy

    from followup.delivery import hookspecs

    manager = pluggy.PluginManager("followup")
    manager.add_hookspecs(hookspecs)
    return manager


def _names(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {v.strip() for v in value.split(",") if v.strip()}


def plugins_for_planning(environ: Mapping[str, str] | None = None) -> Plugins | None:
    """The plugins a command that delivers nothing needs, or None when none can matter.

    Such a command (add, log, show, list, agenda) uses plugins for what they add to
    planning: rule packs and template filters (the pack), observers of transitions and
    channels that follow the plan (a calendar feed). followup's own plugins add none of
    these but the ``calendar`` channel, when it is configured. So when every plugin that
    would load is one of followup's own and no calendar is configured, nothing is
    imported; otherwise every plugin loads, as ``load_plugins`` does. Which plugins are
    installed is remembered between commands (``_pointcache``)."""
    from followup.delivery._pointcache import entry_points_of

    env = os.environ if environ is None else environ
    allow = _names(env.get("FOLLOWUP_PLUGINS"))
    block = _names(env.get("FOLLOWUP_PLUGINS_BLOCK")) or set()
    for name, value in entry_points_of(ENTRY_POINT_GROUP, env):
        if name in block or (allow is not None and name not in allow):
            continue
        if value not in BUILTIN_PLUGINS:
            return load_plugins(environ=env)
        if value == "followup.plugins.calendar" and Settings(environ=env).configured(
                "calendar"):
            return load_plugins(environ=env)
    return None


def load_plugins(
    *,
    extra: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
    settings: Settings | None = None,
) -> Plugins:
    """Load the installed plugins (and ``extra`` plugin objects, by name) and collect
    their channels. Duplicate channel names raise ``PluginError``."""
    from importlib.metadata import entry_points

    import pluggy

    from followup.delivery import hookspecs

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
    # Every channel is known by the plugin it came from: the first of a name, the one
    # registered (a second is refused above).
    origins: dict[str, str] = {}
    for name, _obj, origin in candidates:
        origins.setdefault(name, origin)
    channels_of: dict[str, list[Channel]] = {}
    failed = _failed(plugins, call_each(
        manager, "followup_register_channels",
        lambda name: {"register": channels_of.setdefault(name, []).append, "settings": settings}))
    offered_channels = [(name, found) for name, found in channels_of.items() if name not in failed]
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
    # A plugin that offers no channel (only rule packs, template filters or observers)
    # loaded too, and `followup plugins` lists it.
    for name in sorted(set(origins) - set(channels_of)):
        if manager.get_plugin(name) is not None:
            plugins.loaded.append(LoadedPlugin(name=name, origin=origins[name]))
    packs_of: dict[str, list[tuple[str, Path]]] = {}

    def pack_offers(name: str) -> Mapping[str, object]:
        into = packs_of.setdefault(name, [])

        def register(pack: str, path: str | os.PathLike[str]) -> None:
            into.append((pack, Path(path)))

        return {"register": register}

    failed = _failed(plugins, call_each(manager, "followup_register_rule_packs", pack_offers))
    offered_packs = [(name, pack, path) for name, offered in packs_of.items()
                     if name not in failed for pack, path in offered]
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
    hook = "followup_register_template_filters"
    filters: dict[str, tuple[Callable[..., Any], str]] = {}
    filters_of: dict[str, list[tuple[str, Callable[..., Any]]]] = {}

    def filter_offers(name: str) -> Mapping[str, object]:
        into = filters_of.setdefault(name, [])

        def register(filter_name: str, function: Callable[..., Any]) -> None:
            into.append((filter_name, function))

        return {"register": register}

    # A plugin whose hook raises, or that offers one bad filter, has all its filters left
    # out; rule packs that use them fail to load, naming the filter.
    failed = _failed(plugins, call_each(manager, hook, filter_offers))
    everything: list[tuple[str, str, Callable[..., Any]]] = []
    for name, offered in filters_of.items():
        if name in failed:
            continue
        try:
            for filter_name, function in offered:
                check_filter(filter_name, function, f"plugin {name!r}")
        except Exception as exc:
            _failed(plugins, [HookFailure(name, hook, exc)])
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


def _failed(plugins: Plugins, failures: list[HookFailure]) -> set[str]:
    """Note each failure under its plugin in ``plugins.failures``; the plugins that failed."""
    for failure in failures:
        plugins.failures[failure.plugin] = failure.reason
    return {failure.plugin for failure in failures}


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
    """Call every implementation of an observing hook (``call_each``); returns what
    failed, also logged (logger ``followup``), since an observer has no one else to tell."""
    if plugins is None:
        return []
    failures = [str(f) for f in call_each(plugins.manager, hook, lambda _plugin: kwargs)]
    if failures:
        import logging

        for message in failures:
            logging.getLogger("followup").warning(message)
    return failures
