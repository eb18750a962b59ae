"""Loading plugins: one broken plugin never stops the others."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from followup import Channel, Notification, PluginError, hookimpl
from followup.delivery.manager import load_plugins

NO_ENTRY_POINTS = {"FOLLOWUP_PLUGINS": ""}  # allow-list nothing installed


class Named:
    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, notification: Notification) -> None:
        pass


def plugin(*names: str) -> object:
    @hookimpl
    def followup_register_channels(register: Callable[[Channel], None]) -> None:
        for n in names:
            register(Named(n))

    return SimpleNamespace(followup_register_channels=followup_register_channels)


def test_channels_come_from_every_plugin() -> None:
    loaded = load_plugins(extra={"a": plugin("one"), "b": plugin("two", "three")},
                          environ=NO_ENTRY_POINTS)
    assert loaded.channels.names() == ["one", "three", "two"]
    assert [(p.name, p.channels) for p in loaded.loaded] == [
        ("a", ("one",)), ("b", ("two", "three"))
    ]
    assert loaded.failures == {}


def test_a_misspelled_hook_fails_only_its_plugin() -> None:
    @hookimpl
    def followup_register_chanels(register: Callable[[Channel], None]) -> None:
        raise AssertionError("never called")

    bad = SimpleNamespace(followup_register_chanels=followup_register_chanels)
    loaded = load_plugins(extra={"bad": bad, "good": plugin("one")}, environ=NO_ENTRY_POINTS)
    assert loaded.channels.names() == ["one"]
    assert "unknown hook 'followup_register_chanels'" in loaded.failures["bad"]
    assert "followup_register_channels" in loaded.failures["bad"]


def test_a_raising_plugin_fails_alone_and_a_hook_may_take_no_arguments() -> None:
    @hookimpl
    def followup_register_channels(register: Callable[[Channel], None]) -> None:
        raise RuntimeError("no config")

    @hookimpl(specname="followup_register_channels")
    def quiet() -> None:
        return None

    loaded = load_plugins(
        extra={
            "raises": SimpleNamespace(followup_register_channels=followup_register_channels),
            "quiet": SimpleNamespace(quiet=quiet),
            "good": plugin("one"),
        },
        environ=NO_ENTRY_POINTS,
    )
    assert loaded.failures == {"raises": "RuntimeError: no config"}
    assert loaded.channels.names() == ["one"]
    assert {p.name for p in loaded.loaded} == {"quiet", "good"}


def test_two_channels_with_one_name_are_an_error_and_the_others_still_load() -> None:
    from datetime import UTC, datetime

    from followup import Engine, FakeClock, MemoryStore

    loaded = load_plugins(extra={"a": plugin("one", "two"), "b": plugin("one"),
                                 "c": plugin("console")}, environ=NO_ENTRY_POINTS)
    # Neither 'one' is used (never a silent choice or a rename); everything else loads.
    assert loaded.channels.names() == ["console", "two"]
    for name in ("a", "b"):
        assert loaded.failures[name] == (
            "plugins 'a' and 'b' each register the channel 'one': neither's is used; its "
            "reminders wait until you block one of the plugins with FOLLOWUP_PLUGINS_BLOCK, "
            "or rename its channel")
    twice = load_plugins(extra={"a": plugin("one", "one")}, environ=NO_ENTRY_POINTS)
    assert "plugin 'a' registers the channel 'one' twice" in twice.failures["a"]
    # The engine keeps going: the console delivers.
    engine = Engine(store=MemoryStore(), clock=FakeClock(datetime(2027, 1, 4, 15, tzinfo=UTC)),
                    plugins=loaded)
    engine.add_application(owner="ada", company="Acme", role="Engineer",
                           facts={"interviewed_at": "2027-01-04T10:00"})
    assert engine.run_due().delivery.delivered
    with pytest.raises(PluginError, match="two channels are named 'one'"):
        Engine(store=MemoryStore(), channels=[Named("one"), Named("one")])


def test_the_allow_and_block_lists_choose_entry_points() -> None:
    assert load_plugins(environ={}).channels.names() == ["console"]
    assert load_plugins(environ={"FOLLOWUP_PLUGINS_BLOCK": "console"}).channels.names() == []
    assert load_plugins(environ={"FOLLOWUP_PLUGINS": "console"}).channels.names() == ["console"]


def test_observers_see_moves_and_deliveries_and_one_failing_observer_stops_nothing() -> None:
    from datetime import UTC, datetime

    from followup import Contact, Engine, FakeClock, MemoryStore
    from followup.model import Delivery, HistoryEntry

    moves: list[tuple[str | None, str | None]] = []
    sent: list[str] = []

    class Watcher:
        @hookimpl
        def followup_transition(self, application: object, entry: HistoryEntry) -> None:
            moves.append((entry.from_state, entry.to_state))

        @hookimpl
        def followup_delivered(self, delivery: Delivery) -> None:
            sent.append(delivery.channel)

    class Breaks:
        @hookimpl
        def followup_transition(self, entry: HistoryEntry) -> None:
            raise RuntimeError("observer bug")

    loaded = load_plugins(extra={"watcher": Watcher(), "breaks": Breaks(), "ch": plugin("console")},
                          environ=NO_ENTRY_POINTS)
    engine = Engine(store=MemoryStore(), clock=FakeClock(datetime(2027, 1, 4, 15, tzinfo=UTC)),
                    plugins=loaded)
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-01-04T10:00"},
                                 contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
    engine.record(app.id, "thank_you_sent", contact="Jane Doe")
    assert moves == [("interviewed", "thanked")]
    engine.run_due()
    assert sent and set(sent) == {"console"}


def test_a_plugin_ships_a_rule_pack_that_can_be_named_and_extended(tmp_path: Path) -> None:
    from followup import Engine, MemoryStore, RulesError, load_rules

    coach = tmp_path / "coach.yaml"
    coach.write_text("version: 1\nname: coach\nextends: after-interview\n"
                     "rules:\n  - {name: keep-looking, enabled: false}\n")

    class Packs:
        @hookimpl
        def followup_register_rule_packs(self, register: Callable[[str, Path], None]) -> None:
            register("coach", coach)

    loaded = load_plugins(extra={"packs": Packs(), "ch": plugin("console")},
                          environ=NO_ENTRY_POINTS)
    assert loaded.packs == {"coach": coach}
    engine = Engine(rules="coach", store=MemoryStore(), plugins=loaded)
    assert engine.pack.name == "coach"
    assert "keep-looking" not in {r.name for r in engine.pack.rules}
    mine = tmp_path / "mine.yaml"
    mine.write_text("version: 1\nextends: coach\n")
    assert load_rules(mine, packs=loaded.packs).files[1] == str(coach)
    with pytest.raises(RulesError, match="cannot find the pack 'coach'"):
        load_rules(mine)


def test_a_pack_name_already_taken_is_an_error(tmp_path: Path) -> None:
    class Clash:
        @hookimpl
        def followup_register_rule_packs(self, register: Callable[[str, Path], None]) -> None:
            register("after-interview", tmp_path / "x.yaml")

    class Twin:
        @hookimpl
        def followup_register_rule_packs(self, register: Callable[[str, Path], None]) -> None:
            register("coach", tmp_path / "y.yaml")

    loaded = load_plugins(extra={"clash": Clash(), "a": Twin(), "b": Twin()},
                          environ=NO_ENTRY_POINTS)
    assert "rule pack 'after-interview', the name of a built-in pack" in loaded.failures["clash"]
    assert "each register the rule pack 'coach': neither's is used" in loaded.failures["a"]
    assert loaded.packs == {}


def test_call_each_isolates_every_plugin_and_reports_each_failure_one_way() -> None:
    from followup.delivery.manager import HookFailure, call_each, new_manager

    called: list[str] = []

    def offering(label: str, *, fails: bool = False) -> object:
        @hookimpl
        def followup_register_channels(register: Callable[[Channel], None]) -> None:
            called.append(label)
            register(Named(label))
            if fails:
                raise RuntimeError(f"{label} broke")

        return SimpleNamespace(followup_register_channels=followup_register_channels)

    manager = new_manager()
    for label, fails in (("a", False), ("b", True), ("c", False), ("d", True)):
        manager.register(offering(label, fails=fails), name=label)
    offered: dict[str, list[Channel]] = {}
    failures = call_each(manager, "followup_register_channels",
                         lambda name: {"register": offered.setdefault(name, []).append})
    # Every plugin ran, in pluggy's order (the last registered first), each with a
    # register of its own; the raising ones did not stop the rest.
    assert called == ["d", "c", "b", "a"]
    assert {name: [c.name for c in found] for name, found in offered.items()} == {
        "d": ["d"], "c": ["c"], "b": ["b"], "a": ["a"]}
    assert [(f.plugin, f.hook, f.reason) for f in failures] == [
        ("d", "followup_register_channels", "RuntimeError: d broke"),
        ("b", "followup_register_channels", "RuntimeError: b broke"),
    ]
    assert str(failures[1]) == (
        "plugin 'b' failed in followup_register_channels: RuntimeError: b broke")
    assert isinstance(failures[0], HookFailure)
    # pluggy's own call would have stopped at the first plugin that raised.
    called.clear()
    with pytest.raises(RuntimeError, match="d broke"):
        manager.hook.followup_register_channels(register=lambda channel: None, settings=None)
    assert called == ["d"]


def test_an_observer_failure_is_logged_and_returned_in_the_one_wording(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from followup.delivery.manager import observe

    seen: list[str] = []

    class Breaks:
        @hookimpl
        def followup_delivered(self, delivery: object) -> None:
            raise ValueError("observer bug")

    class Sees:
        @hookimpl
        def followup_delivered(self, delivery: object) -> None:
            seen.append(str(delivery))

    loaded = load_plugins(extra={"breaks": Breaks(), "sees": Sees()}, environ=NO_ENTRY_POINTS)
    message = "plugin 'breaks' failed in followup_delivered: ValueError: observer bug"
    assert observe(loaded, "followup_delivered", delivery="row") == [message]
    assert seen == ["row"]
    assert [r.getMessage() for r in caplog.records if r.name == "followup"] == [message]
    assert observe(None, "followup_delivered", delivery="row") == []
