"""Channels that follow the plan (a calendar feed), and the registry of channels: what
a plugin author's ``planned`` is given, and what registering a channel refuses."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from followup import Notification, PluginError
from followup.delivery.channels import Channel, ChannelRegistry, Planner, tell_planned
from followup.model import Application, Timer
from followup.timing.calendar import WorkCalendar

START = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)
CALENDAR = WorkCalendar()


def timer(key: str, action: Any = "notify") -> Timer:
    return Timer(application_id="app", owner="ada", key=key, rule="thank-you-notes",
                 action=action, fire_at=START)


TIMERS = [timer("ada/app/thank-you/1"), timer("ada/app/move", "transition"),
          timer("ada/app/thank-you/2")]


class Feed:
    """A calendar feed that takes no messages: what it was told, call by call."""

    name = "feed"

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def send(self, notification: Notification) -> None:
        pass

    def planned(self, *, owner: str, application: Application | None,
                timers: Sequence[Timer], fired: Sequence[Timer],
                calendar: WorkCalendar) -> None:
        self.calls.append({"owner": owner, "application": application,
                           "timers": [t.key for t in timers], "fired": list(fired),
                           "calendar": calendar})


class Drafts(Feed):
    """A feed that takes the messages each reminder would say."""

    name = "drafts"

    def planned(self, *, owner: str, application: Application | None,  # type: ignore[override]
                timers: Sequence[Timer], fired: Sequence[Timer], calendar: WorkCalendar,
                messages: dict[str, tuple[str, str]]) -> None:
        self.calls.append({"timers": [t.key for t in timers], "messages": dict(messages)})


class Anything(Feed):
    """A feed whose ``planned`` takes any keyword: it is given the messages too."""

    name = "anything"

    def planned(self, **kwargs: Any) -> None:  # type: ignore[override]
        self.calls.append({"keys": sorted(kwargs), "messages": kwargs.get("messages")})


class Broken(Feed):
    name = "broken"

    def planned(self, **kwargs: Any) -> None:  # type: ignore[override]
        raise RuntimeError("the feed is full")


class Plain:
    """A channel that does not follow the plan."""

    name = "plain"

    def send(self, notification: Notification) -> None:
        pass


def preview(counted: list[str]) -> Any:
    def say(t: Timer) -> tuple[str, str]:
        counted.append(t.key)
        return (f"subject of {t.key}", f"draft of {t.key}")
    return say


def test_a_feed_is_told_the_reminders_only_and_everything_else_as_given() -> None:
    feed = Feed()
    fired = [timer("ada/app/earlier")]
    failures = tell_planned([Plain(), feed], owner="ada", application=None, timers=TIMERS,
                            fired=fired, calendar=CALENDAR)
    assert failures == []
    assert feed.calls == [{"owner": "ada", "application": None,
                           "timers": ["ada/app/thank-you/1", "ada/app/thank-you/2"],
                           "fired": fired, "calendar": CALENDAR}]


def test_without_a_preview_a_feed_that_takes_messages_is_called_without_them() -> None:
    anything = Anything()
    failures = tell_planned([anything], owner="ada", application=None, timers=TIMERS,
                            fired=[], calendar=CALENDAR)
    assert failures == []
    assert anything.calls == [{"keys": ["application", "calendar", "fired", "owner", "timers"],
                               "messages": None}]


def test_messages_are_rendered_once_for_every_feed_that_asks_and_only_then() -> None:
    rendered: list[str] = []
    feed, drafts, anything = Feed(), Drafts(), Anything()
    tell_planned([feed], owner="ada", application=None, timers=TIMERS, fired=[],
                 calendar=CALENDAR, preview=preview(rendered))
    assert rendered == []  # no feed asked
    assert "messages" not in feed.calls[0]
    tell_planned([drafts, feed, anything], owner="ada", application=None, timers=TIMERS,
                 fired=[], calendar=CALENDAR, preview=preview(rendered))
    assert rendered == ["ada/app/thank-you/1", "ada/app/thank-you/2"]  # once, reminders only
    expected = {k: (f"subject of {k}", f"draft of {k}")
                for k in ("ada/app/thank-you/1", "ada/app/thank-you/2")}
    assert drafts.calls == [{"timers": ["ada/app/thank-you/1", "ada/app/thank-you/2"],
                             "messages": expected}]
    assert anything.calls[0]["messages"] == expected


class Recorded:
    """A feed whose ``planned`` is a built-in method (a dict's ``update``): its signature
    cannot be read, so it is called as every feed was before messages existed."""

    name = "recorded"

    def __init__(self) -> None:
        self.seen: dict[str, Any] = {}
        self.planned = self.seen.update

    def send(self, notification: Notification) -> None:
        pass


def test_a_feed_whose_signature_cannot_be_read_is_not_given_messages() -> None:
    feed = Recorded()
    failures = tell_planned([feed], owner="ada", application=None, timers=TIMERS,  # type: ignore[list-item]
                            fired=[], calendar=CALENDAR, preview=preview([]))
    assert failures == []
    assert sorted(feed.seen) == ["application", "calendar", "fired", "owner", "timers"]


class NotCallable(Feed):
    name = "odd"
    planned = 42  # type: ignore[assignment]


def test_a_feed_whose_planned_cannot_be_called_fails_saying_so() -> None:
    failures = tell_planned([NotCallable()], owner="ada", application=None, timers=TIMERS,
                            fired=[], calendar=CALENDAR, preview=preview([]))
    assert failures == [
        "channel 'odd' failed to follow the plan: TypeError: 'int' object is not callable"]


def test_a_feed_that_raises_is_logged_and_the_next_still_follows(
        caplog: pytest.LogCaptureFixture) -> None:
    feed = Feed()
    with caplog.at_level(logging.WARNING, logger="followup"):
        failures = tell_planned([Broken(), feed], owner="ada", application=None,
                                timers=TIMERS, fired=[], calendar=CALENDAR)
    message = "channel 'broken' failed to follow the plan: RuntimeError: the feed is full"
    assert failures == [message]
    assert [r.getMessage() for r in caplog.records] == [message]
    assert len(feed.calls) == 1


def test_the_protocols_are_checked_by_shape() -> None:
    assert isinstance(Plain(), Channel) and not isinstance(Plain(), Planner)
    assert isinstance(Feed(), Planner)


# -- the registry -----------------------------------------------------------------------


def test_a_registry_names_its_channels_in_order_and_knows_where_each_came_from() -> None:
    registry = ChannelRegistry([Feed(), Plain()])
    registry.register(Drafts(), origin="plugin 'drafts'")
    assert registry.names() == ["drafts", "feed", "plain"]
    assert len(registry) == 3
    assert [c.name for c in registry] == ["feed", "plain", "drafts"]
    assert registry.origins == {"feed": "", "plain": "", "drafts": "plugin 'drafts'"}
    assert registry.get("plain") is not None and registry.get("nothing") is None
    assert ChannelRegistry().names() == [] and len(ChannelRegistry()) == 0


class Nameless:
    name = ""

    def send(self, notification: Notification) -> None:
        pass


class Mute:
    name = "mute"
    send = "not a method"


@pytest.mark.parametrize(("channel", "origin", "message"), [
    (Nameless(), "plugin 'x'", "plugin 'x' registered a channel without a name: "),
    (Nameless(), "", "a plugin registered a channel without a name: "),
    (object(), "plugin 'x'", "plugin 'x' registered a channel without a name: "),
    (Mute(), "plugin 'x'", "channel 'mute' from plugin 'x' has no send() method"),
    (Mute(), "", "channel 'mute' from a plugin has no send() method"),
])
def test_a_channel_without_a_name_or_a_send_is_refused_naming_its_plugin(
        channel: object, origin: str, message: str) -> None:
    registry = ChannelRegistry()
    with pytest.raises(PluginError) as refused:
        registry.register(channel, origin=origin)  # type: ignore[arg-type]
    assert str(refused.value).startswith(message)
    assert registry.names() == [] and registry.origins == {}


def test_a_second_channel_of_one_name_is_refused_naming_both_plugins() -> None:
    registry = ChannelRegistry()
    registry.register(Plain(), origin="plugin 'a'")
    with pytest.raises(PluginError) as refused:
        registry.register(Plain(), origin="plugin 'b'")
    assert str(refused.value) == (
        "two channels are named 'plain' (plugin 'a' and plugin 'b'): block one of the "
        "plugins with FOLLOWUP_PLUGINS_BLOCK, or rename its channel")
    unnamed = ChannelRegistry([Plain()])
    with pytest.raises(PluginError, match=r"\(another plugin and another plugin\)"):
        unnamed.register(Plain())
    assert registry.origins == {"plain": "plugin 'a'"}


def test_options_are_given_by_name() -> None:
    # Positional use would tie callers to the order of parameters that may grow.
    with pytest.raises(TypeError):
        ChannelRegistry().register(Plain(), "plugin 'a'")  # type: ignore[misc]
    with pytest.raises(TypeError):
        tell_planned([Feed()], "ada", None, TIMERS, [], CALENDAR)  # type: ignore[misc]
