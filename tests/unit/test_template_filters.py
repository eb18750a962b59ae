"""Template filters from plugins (followup_register_template_filters): per set of plugins,
checked when a pack loads, and a filter that raises names its plugin."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from followup import Contact, Engine, FakeClock, MemoryStore, RulesError, hookimpl
from followup.delivery.manager import Plugins, load_plugins
from followup.language.sandbox import (
    ExpressionError,
    FilterError,
    Sandbox,
    compile_condition,
    compile_template,
    default_sandbox,
)
from followup.testing import RecordingChannel

NO_ENTRY_POINTS = {"FOLLOWUP_PLUGINS": ""}
START = datetime(2027, 1, 4, 15, tzinfo=UTC)  # Monday 10:00 in New York
ENDED = START + timedelta(hours=1)  # the interview is over: the reminders go out

PACK = """version: 1
extends: after-interview
templates:
  thank-you:
    subject: "Thank {{ contact.name | initials }} at {{ application.company | shout }}"
"""


def filters_plugin(**filters: Callable[..., Any]) -> object:
    class Filters:
        @hookimpl
        def followup_register_template_filters(
            self, register: Callable[[str, Callable[..., Any]], None]
        ) -> None:
            for name, function in filters.items():
                register(name, function)

    return Filters()


class Channels:
    def __init__(self) -> None:
        self.channel = RecordingChannel("console")

    @hookimpl
    def followup_register_channels(self, register: Callable[[object], None]) -> None:
        register(self.channel)


def loaded(**plugins: object) -> Plugins:
    return load_plugins(extra=plugins, environ=NO_ENTRY_POINTS)


def initials(name: str) -> str:
    return "".join(part[0] for part in str(name).split())


def shout(text: str) -> str:
    return str(text).upper() + "!"


def test_a_plugin_filter_renders_in_a_pack_template(tmp_path: Any) -> None:
    pack_file = tmp_path / "mine.yaml"
    pack_file.write_text(PACK)
    channels = Channels()
    plugins = loaded(text=filters_plugin(initials=initials, shout=shout), ch=channels)
    engine = Engine(rules=pack_file, store=MemoryStore(), clock=FakeClock(ENDED),
                    plugins=plugins)
    engine.set_owner("ada", timezone="America/New_York", country="US")
    engine.add_application(owner="ada", company="Acme", role="Engineer",
                           facts={"interviewed_at": START},
                           contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
    engine.run_due()
    assert "Thank JD at ACME!" in channels.channel.subjects()


def test_an_unknown_filter_is_a_load_error_with_file_and_line() -> None:
    with pytest.raises(RulesError) as refused:
        load_rules_text(PACK, sandbox=loaded(text=filters_plugin(shout=shout)).sandbox)
    (problem,) = refused.value.problems
    assert str(problem).startswith("mine.yaml:5:")
    assert "the filter 'initials', which does not exist" in str(problem)
    assert "filters from plugins: shout" in str(problem)


def load_rules_text(text: str, *, sandbox: Sandbox | None) -> object:
    from followup import load_rules

    return load_rules("mine.yaml", text=text, sandbox=sandbox)


def test_filters_belong_to_one_set_of_plugins_not_to_the_process() -> None:
    with_filters = loaded(text=filters_plugin(initials=initials, shout=shout))
    without = loaded()
    assert with_filters.sandbox.filters == {"initials", "shout"}
    assert without.sandbox.filters == frozenset()
    assert load_rules_text(PACK, sandbox=with_filters.sandbox) is not None
    # The same pack, for plugins without the filters (or none at all), does not load:
    # loading the first set changed nothing anyone else sees.
    for sandbox in (without.sandbox, None, default_sandbox()):
        with pytest.raises(RulesError, match="initials"):
            load_rules_text(PACK, sandbox=sandbox)


def test_a_filter_that_raises_names_the_filter_and_the_plugin() -> None:
    def broken(value: object) -> str:
        raise KeyError("no such thing")

    plugins = loaded(fragile=filters_plugin(broken=broken))
    template = compile_template("Hi {{ name | broken }}", known=["name"],
                               sandbox=plugins.sandbox)
    with pytest.raises(FilterError, match=r"template: the filter 'broken' from plugin "
                                          r"'fragile' failed: KeyError: 'no such thing'"):
        template.render({"name": "Jane"})
    condition = compile_condition("name | broken == 'x'", known=["name"],
                                  sandbox=plugins.sandbox)
    with pytest.raises(ExpressionError, match=r"condition .* the filter 'broken' from plugin "
                                              r"'fragile' failed"):
        condition.holds({"name": "Jane"})


def test_a_raising_filter_in_a_reminder_still_sends_it_saying_why(tmp_path: Any) -> None:
    def initials_broken(value: object) -> str:
        raise RuntimeError("bug")

    pack_file = tmp_path / "mine.yaml"
    pack_file.write_text(PACK)
    channels = Channels()
    plugins = loaded(text=filters_plugin(initials=initials_broken, shout=shout), ch=channels)
    engine = Engine(rules=pack_file, store=MemoryStore(), clock=FakeClock(ENDED),
                    plugins=plugins)
    engine.set_owner("ada", timezone="America/New_York", country="US")
    engine.add_application(owner="ada", company="Acme", role="Engineer",
                           facts={"interviewed_at": START},
                           contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
    engine.run_due()
    (thanks,) = [s for s in channels.channel.subjects() if s.startswith("thank-you-notes")]
    assert "the filter 'initials' from plugin 'text' failed: RuntimeError: bug" in thanks


def test_filters_work_in_conditions() -> None:
    plugins = loaded(text=filters_plugin(shout=shout))
    condition = compile_condition("company | shout == 'ACME!'", known=["company"],
                                  sandbox=plugins.sandbox)
    assert condition.holds({"company": "Acme"})
    assert not condition.holds({"company": "Initech"})


def test_a_filter_name_taken_twice_is_an_error_and_neither_is_used() -> None:
    plugins = loaded(a=filters_plugin(shout=shout, initials=initials),
                     b=filters_plugin(shout=str.lower))
    assert plugins.sandbox.filters == {"initials"}
    for name in ("a", "b"):
        assert "each register the template filter 'shout': neither's is used" in \
            plugins.failures[name]


def test_a_bad_filter_fails_only_its_plugin() -> None:
    plugins = loaded(jinja=filters_plugin(upper=shout), odd=filters_plugin(**{"two words": shout}),
                     notfn=filters_plugin(x="not a function"),  # type: ignore[arg-type]
                     good=filters_plugin(initials=initials))
    assert "one of Jinja's own filters" in plugins.failures["jinja"]
    assert "letters, digits and _" in plugins.failures["odd"]
    assert "not a function" in plugins.failures["notfn"]
    assert plugins.sandbox.filters == {"initials"}
    # Jinja's own filters are untouched.
    assert compile_template("{{ x | upper }}", known=["x"],
                            sandbox=plugins.sandbox).render({"x": "a"}) == "A"


def test_a_filter_hook_that_raises_fails_only_its_plugin() -> None:
    class Raises:
        @hookimpl
        def followup_register_template_filters(self, register: object) -> None:
            raise RuntimeError("cannot start")

    plugins = loaded(raises=Raises(), good=filters_plugin(shout=shout))
    assert plugins.failures == {"raises": "RuntimeError: cannot start"}
    assert plugins.sandbox.filters == {"shout"}


def test_the_sandbox_still_guards_what_a_filter_returns() -> None:
    plugins = loaded(leaky=filters_plugin(leak=lambda value: value.__class__))
    template = compile_template("{{ (x | leak) | attr('__subclasses__') }}", known=["x"],
                                sandbox=plugins.sandbox)
    with pytest.raises(ExpressionError, match="refused"):
        template.render({"x": "a"})
