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
    from followup.channels import Channel
    from followup.channels import ChannelRegistry
    from followup.clock import Clock
    from followup.clock import FakeClock
    from followup.clock import SystemClock
    from followup.delivery import DeliveryReport
    from followup.engine import AgendaItem
    from followup.engine import Engine
    from followup.engine import Outcome
    from followup.engine import RunReport
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
    from followup.hookspecs import hookimpl
    from followup.loader import load_rules
    from followup.model import Application
    from followup.model import Contact
    from followup.model import Delivery
    from followup.model import HistoryEntry
    from followup.model import Notification
    from followup.model import Owner
    from followup.model import Timer
    from followup.pack import RulePack
    from followup.settings import Settings
    from followup.store import MemoryStore
    from followup.store import SQLiteStore
    from followup.store import Store
    from followup.store import open_store
    from followup.store.postgres import PostgresStore
    from followup.timing import CalendarError
    from followup.timing import WorkCalendar
    from followup.workers import Worker

_WHERE = {
    "Channel": "followup.channels",
    "ChannelRegistry": "followup.channels",
    "Clock": "followup.clock",
    "FakeClock": "followup.clock",
    "SystemClock": "followup.clock",
    "DeliveryReport": "followup.delivery",
    "AgendaItem": "followup.engine",
    "Engine": "followup.engine",
    "Outcome": "followup.engine",
    "RunReport": "followup.engine",
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
    "hookimpl": "followup.hookspecs",
    "load_rules": "followup.loader",
    "Application": "followup.model",
    "Contact": "followup.model",
    "Delivery": "followup.model",
    "HistoryEntry": "followup.model",
    "Notification": "followup.model",
    "Owner": "followup.model",
    "Timer": "followup.model",
    "RulePack": "followup.pack",
    "Settings": "followup.settings",
    "MemoryStore": "followup.store",
    "SQLiteStore": "followup.store",
    "Store": "followup.store",
    "open_store": "followup.store",
    "PostgresStore": "followup.store.postgres",
    "CalendarError": "followup.timing",
    "WorkCalendar": "followup.timing",
    "Worker": "followup.workers",
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
