"""A plugin that cannot import, is configured wrongly or takes a taken name is reported
clearly, and the engine keeps going with the rest: through real entry points."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from followup import Contact, Engine, FakeClock, MemoryStore
from followup.delivery.manager import load_plugins

START = datetime(2027, 1, 4, 15, tzinfo=UTC)  # Monday 10:00 in New York


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path with three plugin distributions: one whose module does not
    import, one that registers a second 'console', and one that works."""
    (tmp_path / "broken_plugin.py").write_text("import no_such_module_anywhere\n")
    (tmp_path / "twin_console.py").write_text(
        "from followup import hookimpl\n"
        "class Console:\n"
        "    name = 'console'\n"
        "    def send(self, notification):\n"
        "        raise AssertionError('never used')\n"
        "@hookimpl\n"
        "def followup_register_channels(register):\n"
        "    register(Console())\n")
    for dist, name, module in (("broken-plugin", "broken", "broken_plugin"),
                               ("twin-console", "twin", "twin_console")):
        info = tmp_path / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[followup]\n{name} = {module}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in ("broken_plugin", "twin_console"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    return tmp_path


def test_a_broken_import_is_reported_and_the_others_load(installed: Path) -> None:
    plugins = load_plugins(environ={"FOLLOWUP_PLUGINS": "broken,console"})
    assert plugins.failures == {
        "broken": "ModuleNotFoundError: No module named 'no_such_module_anywhere'"}
    assert plugins.channels.names() == ["console"]


def test_a_taken_name_is_reported_and_the_engine_keeps_going(installed: Path) -> None:
    plugins = load_plugins(environ={"FOLLOWUP_PLUGINS": "broken,console,twin,calendar",
                                    "FOLLOWUP_CALENDAR_COMPONENT": "task"})
    assert set(plugins.failures) == {"broken", "console", "twin", "calendar"}
    assert "each register the channel 'console'" in plugins.failures["twin"]
    assert plugins.failures["calendar"] == (
        "PluginError: channel 'calendar' needs 'path': set FOLLOWUP_CALENDAR_PATH")
    engine = Engine(store=MemoryStore(), clock=FakeClock(START), plugins=plugins)
    engine.set_owner("ada", timezone="America/New_York", country="US")
    engine.add_application(owner="ada", company="Acme", role="Engineer",
                           facts={"interviewed_at": START, "interview_ends_at": START},
                           contacts=[Contact("Jane Doe", "interviewer", title="CTO")])
    report = engine.run_due()
    # No channel named console is used, so its reminders wait (retried), none lost.
    assert report.fired == 3 and not report.delivery.delivered
    assert all("no channel named 'console' is loaded" in str(row.last_error)
               for row in report.delivery.failed)
    assert {d.status for d in engine.store.deliveries()} == {"pending"}
