"""What loads, and what a command that delivers nothing loads: the allow and block lists,
the calendar feed that makes planning need plugins, where each loaded plugin came from,
and a plugin whose one bad channel leaves its good ones loaded."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace

import pytest

from followup import Channel, Notification, hookimpl
from followup.delivery.manager import (
    HookFailure,
    LoadedPlugin,
    load_plugins,
    plugins_for_planning,
)

CALENDAR = {"FOLLOWUP_CALENDAR_PATH": "/tmp/never-written.ics"}


@pytest.mark.parametrize("environ", [
    {},
    {"FOLLOWUP_PLUGINS": "console,email"},
    {**CALENDAR, "FOLLOWUP_PLUGINS_BLOCK": "calendar"},
    {**CALENDAR, "FOLLOWUP_PLUGINS": "console,webhook"},
])
def test_planning_needs_no_plugin_when_only_followup_s_own_load_and_no_calendar(
        environ: dict[str, str]) -> None:
    assert plugins_for_planning(environ) is None


@pytest.mark.parametrize("environ", [
    CALENDAR,
    {**CALENDAR, "FOLLOWUP_PLUGINS": "calendar"},
    {**CALENDAR, "FOLLOWUP_PLUGINS_BLOCK": "apprise"},
])
def test_planning_loads_every_plugin_when_a_calendar_follows_the_plan(
        environ: dict[str, str]) -> None:
    plugins = plugins_for_planning(environ)
    assert plugins is not None
    assert "calendar" in plugins.channels.names()
    blocked = {"apprise"} if "FOLLOWUP_PLUGINS_BLOCK" in environ else set()
    allowed = {"calendar"} if "FOLLOWUP_PLUGINS" in environ else {
        "apprise", "calendar", "console", "email", "file", "webhook"}
    assert {p.name for p in plugins.loaded} | set(plugins.failures) == allowed - blocked


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A plugin distribution of someone else's on sys.path, with a channel 'shout'."""
    (tmp_path / "shout_plugin.py").write_text(
        "from followup import hookimpl\n"
        "class Shout:\n"
        "    name = 'shout'\n"
        "    def send(self, notification):\n"
        "        pass\n"
        "@hookimpl\n"
        "def followup_register_channels(register):\n"
        "    register(Shout())\n", encoding="utf-8")
    info = tmp_path / "shout_plugin-2.5.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shout-plugin\nVersion: 2.5\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text("[followup]\nshout = shout_plugin\n",
                                           encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "shout_plugin", raising=False)
    return tmp_path


def test_planning_loads_every_plugin_when_one_is_not_followup_s_own(third_party: Path) -> None:
    plugins = plugins_for_planning({})
    assert plugins is not None
    assert plugins.channels.names() == ["console", "shout"]
    assert plugins_for_planning({"FOLLOWUP_PLUGINS_BLOCK": "shout"}) is None
    assert plugins_for_planning({"FOLLOWUP_PLUGINS": "console"}) is None


def test_each_loaded_plugin_says_where_it_came_from(third_party: Path) -> None:
    class Module:
        """A plugin object with a name of its own, as a module has."""

        __name__ = "my_company.followup_channels"

    plugins = load_plugins(environ={"FOLLOWUP_PLUGINS": "console,shout"},
                           extra={"mine": Module(), "bare": SimpleNamespace()})
    origins = {p.name: p.origin for p in plugins.loaded}
    assert origins == {
        "console": f"followup.plugins.console (followup-engine {version('followup-engine')})",
        "shout": "shout_plugin (shout-plugin 2.5)",
        "mine": "my_company.followup_channels",
        "bare": "namespace()",
    }
    assert [p.name for p in plugins.loaded] == ["bare", "console", "mine", "shout"]
    assert plugins.channels.origins == {"console": "plugin 'console'", "shout": "plugin 'shout'"}


class Nameless:
    name = None

    def send(self, notification: Notification) -> None:
        pass


class Named:
    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, notification: Notification) -> None:
        pass


def test_a_bad_channel_is_reported_and_its_plugin_s_other_channels_still_load() -> None:
    @hookimpl
    def followup_register_channels(register: Callable[[Channel], None]) -> None:
        register(Named("first"))
        register(Nameless())  # type: ignore[arg-type]
        register(Named("second"))

    plugins = load_plugins(
        extra={"mixed": SimpleNamespace(followup_register_channels=followup_register_channels)},
        environ={"FOLLOWUP_PLUGINS": ""})
    assert plugins.channels.names() == ["first", "second"]
    assert [(p.name, p.channels) for p in plugins.loaded] == [("mixed", ("first", "second"))]
    assert plugins.failures["mixed"].startswith(
        "plugin 'mixed' registered a channel without a name: ")


def test_a_plugin_without_channels_is_listed_as_loaded(tmp_path: Path) -> None:
    pack = tmp_path / "coach.yaml"

    class Packs:
        @hookimpl
        def followup_register_rule_packs(self, register: Callable[[str, Path], None]) -> None:
            register("coach", pack)

    class Watcher:
        @hookimpl
        def followup_delivered(self, delivery: object) -> None:
            pass

    @hookimpl
    def followup_register_chanels(register: Callable[[Channel], None]) -> None:
        raise AssertionError("never called")

    plugins = load_plugins(environ={"FOLLOWUP_PLUGINS": ""}, extra={
        "packs": Packs(), "watcher": Watcher(),
        "misspelt": SimpleNamespace(followup_register_chanels=followup_register_chanels)})
    # What `followup plugins` lists: both loaded, with no channels; the misspelt one failed.
    assert [(p.name, p.channels) for p in plugins.loaded] == [("packs", ()), ("watcher", ())]
    assert list(plugins.failures) == ["misspelt"] and plugins.packs == {"coach": pack}


def test_a_plugin_that_cannot_register_fails_alone_and_a_taken_name_keeps_the_first() -> None:
    @hookimpl
    def asks(register: Callable[[Channel], None], sender: object) -> None:
        raise AssertionError("never called")

    @hookimpl
    def offers(register: Callable[[Channel], None]) -> None:
        register(Named("mine"))

    plugins = load_plugins(environ={"FOLLOWUP_PLUGINS": "console"}, extra={
        "asks": SimpleNamespace(followup_register_channels=asks),
        "console": SimpleNamespace(followup_register_channels=offers),
        "good": SimpleNamespace(followup_register_channels=offers)})
    # An implementation that asks for an argument the hook does not give: its signature
    # and the argument are in the message.
    assert plugins.failures["asks"].startswith(
        "PluginValidationError: Plugin 'asks' for hook 'followup_register_channels'")
    assert "hookimpl definition: asks(register" in plugins.failures["asks"]
    assert "{'sender'} are declared in the hookimpl" in plugins.failures["asks"]
    # A second plugin named 'console' is refused; the installed one loads as itself.
    assert plugins.failures["console"].startswith(
        "ValueError: Plugin name already registered: console")
    assert plugins.channels.names() == ["console", "mine"]
    assert [(p.name, p.origin.split(" (")[0], p.channels) for p in plugins.loaded] == [
        ("console", "followup.plugins.console", ("console",)),
        ("good", repr(SimpleNamespace(followup_register_channels=offers)), ("mine",))]


def test_importing_the_manager_loads_no_plugin_machinery() -> None:
    # A command that delivers nothing never pays for pluggy (the module's promise).
    code = ("import sys, followup.delivery.manager; "
            "print(sorted(m for m in ('pluggy', 'followup.delivery.hookspecs') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_what_loaded_and_what_failed_are_values() -> None:
    loaded = LoadedPlugin(name="shout", origin="shout_plugin (shout-plugin 2.5)")
    failure = HookFailure("shout", "followup_register_channels", RuntimeError("no config"))
    assert len({loaded, LoadedPlugin(name="shout", origin="shout_plugin (shout-plugin 2.5)")}) == 1
    same = HookFailure(failure.plugin, failure.hook, failure.error)
    assert failure == same and len({failure, same}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        failure.plugin = "other"  # type: ignore[misc]


@pytest.mark.parametrize("order", [("raises", "good"), ("good", "raises")])
def test_a_filter_hook_that_raises_leaves_every_other_plugin_s_filters(
        order: tuple[str, str]) -> None:
    class Raises:
        @hookimpl
        def followup_register_template_filters(self, register: object) -> None:
            raise RuntimeError("cannot start")

    class Good:
        @hookimpl
        def followup_register_template_filters(
                self, register: Callable[[str, Callable[[str], str]], None]) -> None:
            register("shout", str.upper)

    made = {"raises": Raises(), "good": Good()}
    plugins = load_plugins(environ={"FOLLOWUP_PLUGINS": ""},
                           extra={name: made[name] for name in order})
    assert plugins.failures == {"raises": "RuntimeError: cannot start"}
    assert plugins.sandbox.filters == {"shout"}
