"""followup: reminders for the days after a job interview, driven by rules in YAML.

Embed it::

    from followup import Engine, SQLiteStore

    engine = Engine(store=SQLiteStore("followup.db"))
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2026-12-23T15:00-05:00"})
    engine.run_due()
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Names are imported when first used, so `followup --help` starts fast; type checkers and
# readers see the imports below.
if TYPE_CHECKING:
    from followup.delivery.channels import Channel
    from followup.delivery.channels import ChannelRegistry
    from followup.timing.clock import Clock
    from followup.timing.clock import FakeClock
    from followup.timing.clock import SystemClock
    from followup.delivery.dispatcher import DeliveryReport
    from followup.runtime.engine import AgendaItem
    from followup.runtime.engine import Engine
    from followup.runtime.engine import Outcome
    from followup.runtime.engine import RunReport
    from followup.errors import ConflictError
    from followup.errors import FollowupError
    from followup.errors import InputError
    from followup.errors import InvalidEvent
    from followup.errors import InvalidFact
    from followup.errors import PluginError
    from followup.errors import Problem
    from followup.errors import RulesError
    from followup.errors import SchemaError
    from followup.errors import StoreError
    from followup.errors import UnknownApplication
    from followup.errors import UnknownEvent
    from followup.delivery.hookspecs import hookimpl
    from followup.language.loader import load_rules
    from followup.model import Application
    from followup.model import Contact
    from followup.model import Delivery
    from followup.model import HistoryEntry
    from followup.model import Notification
    from followup.model import Owner
    from followup.model import Timer
    from followup.language.pack import RulePack
    from followup.delivery.settings import Settings
    from followup.store import MemoryStore
    from followup.store import SQLiteStore
    from followup.store import Store
    from followup.store import open_store
    from followup.store.postgres import PostgresStore
    from followup.timing.calendar import CalendarError
    from followup.timing.calendar import WorkCalendar
    from followup.runtime.workers import Worker

_WHERE = {
    "Channel": "followup.delivery.channels",
    "ChannelRegistry": "followup.delivery.channels",
    "Clock": "followup.timing.clock",
    "FakeClock": "followup.timing.clock",
    "SystemClock": "followup.timing.clock",
    "DeliveryReport": "followup.delivery.dispatcher",
    "AgendaItem": "followup.runtime.engine",
    "Engine": "followup.runtime.engine",
    "Outcome": "followup.runtime.engine",
    "RunReport": "followup.runtime.engine",
    "ConflictError": "followup.errors",
    "FollowupError": "followup.errors",
    "InputError": "followup.errors",
    "InvalidEvent": "followup.errors",
    "InvalidFact": "followup.errors",
    "PluginError": "followup.errors",
    "Problem": "followup.errors",
    "RulesError": "followup.errors",
    "SchemaError": "followup.errors",
    "StoreError": "followup.errors",
    "UnknownApplication": "followup.errors",
    "UnknownEvent": "followup.errors",
    "hookimpl": "followup.delivery.hookspecs",
    "load_rules": "followup.language.loader",
    "Application": "followup.model",
    "Contact": "followup.model",
    "Delivery": "followup.model",
    "HistoryEntry": "followup.model",
    "Notification": "followup.model",
    "Owner": "followup.model",
    "Timer": "followup.model",
    "RulePack": "followup.language.pack",
    "Settings": "followup.delivery.settings",
    "MemoryStore": "followup.store",
    "SQLiteStore": "followup.store",
    "Store": "followup.store",
    "open_store": "followup.store",
    "PostgresStore": "followup.store.postgres",
    "CalendarError": "followup.timing.calendar",
    "WorkCalendar": "followup.timing.calendar",
    "Worker": "followup.runtime.workers",
}

__version__ = "0.1.0"

__all__ = [
    "AgendaItem",
    "Application",
    "CalendarError",
    "Channel",
    "ChannelRegistry",
    "Clock",
    "ConflictError",
    "Contact",
    "Delivery",
    "DeliveryReport",
    "Engine",
    "FakeClock",
    "FollowupError",
    "HistoryEntry",
    "InputError",
    "InvalidEvent",
    "InvalidFact",
    "MemoryStore",
    "Notification",
    "Outcome",
    "Owner",
    "PluginError",
    "PostgresStore",
    "Problem",
    "RulePack",
    "RulesError",
    "RunReport",
    "SQLiteStore",
    "SchemaError",
    "Settings",
    "Store",
    "StoreError",
    "SystemClock",
    "Timer",
    "UnknownApplication",
    "UnknownEvent",
    "WorkCalendar",
    "Worker",
    "hookimpl",
    "load_rules",
    "open_store",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'followup' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
