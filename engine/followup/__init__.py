"""followup: reminders for the days after a job interview, driven by rules in YAML.

Embed it::

    from followup import Engine, SQLiteStore

    engine = Engine(store=SQLiteStore("followup.db"))
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2026-12-23T15:00-05:00"})
    engine.run_due()

The public API is this module's ``__all__``. Three subpackages are public as well:
``followup.testing`` (the test kit, also a pytest plugin), ``followup.plugins`` (the
built-in channels; each module's docstring describes its settings) and ``followup.rules``
(the built-in rule packs and their JSON Schema, as files). Every other module is internal
and may move (docs/embedding.md, "What is public").
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Names are imported when first used, so `followup --help` starts fast; type checkers and
# readers see the imports below.
if TYPE_CHECKING:
    from followup.runtime.engine import AgendaItem
    from followup.runtime.engine import Engine
    from followup.runtime.changes import Outcome
    from followup.runtime.passes import RunReport
    from followup.runtime.workers import Worker
    from followup.model import AgendaRow
    from followup.model import Application
    from followup.model import ApplicationRow
    from followup.model import Contact
    from followup.model import Delivery
    from followup.model import HistoryEntry
    from followup.model import Notification
    from followup.model import Owner
    from followup.model import Timer
    from followup.errors import CalendarError
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
    from followup.language.loader import load_rules
    from followup.language.pack import RulePack
    from followup.timing.clock import Clock
    from followup.timing.clock import FakeClock
    from followup.timing.clock import SystemClock
    from followup.timing.calendar import WorkCalendar
    from followup.store import MemoryStore
    from followup.store import SQLiteStore
    from followup.store import Store
    from followup.store import open_store
    from followup.store.postgres import PostgresStore
    from followup.delivery.channels import Channel
    from followup.delivery.channels import ChannelRegistry
    from followup.delivery.channels import Planner
    from followup.delivery.dispatcher import DeliveryReport
    from followup.delivery.hookspecs import hookimpl
    from followup.delivery.manager import Plugins
    from followup.delivery.manager import load_plugins
    from followup.delivery.settings import Settings
    from followup.interop.transfer import ImportItem
    from followup.interop.transfer import ImportReport
    from followup.interop.transfer import OwnerState
    from followup.interop.export import export_document
    from followup.interop.transfer import import_context
    from followup.interop.transfer import import_items
    from followup.interop.transfer import read_owner_state
    from followup.interop.readers import read_csv
    from followup.interop.readers import read_json
    from followup.interop.names import comparable_name
    from followup.interop.names import same_person

_WHERE = {
    "AgendaItem": "followup.runtime.engine",
    "Engine": "followup.runtime.engine",
    "Outcome": "followup.runtime.changes",
    "RunReport": "followup.runtime.passes",
    "Worker": "followup.runtime.workers",
    "AgendaRow": "followup.model",
    "Application": "followup.model",
    "ApplicationRow": "followup.model",
    "Contact": "followup.model",
    "Delivery": "followup.model",
    "HistoryEntry": "followup.model",
    "Notification": "followup.model",
    "Owner": "followup.model",
    "Timer": "followup.model",
    "CalendarError": "followup.errors",
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
    "load_rules": "followup.language.loader",
    "RulePack": "followup.language.pack",
    "Clock": "followup.timing.clock",
    "FakeClock": "followup.timing.clock",
    "SystemClock": "followup.timing.clock",
    "WorkCalendar": "followup.timing.calendar",
    "MemoryStore": "followup.store",
    "SQLiteStore": "followup.store",
    "Store": "followup.store",
    "open_store": "followup.store",
    "PostgresStore": "followup.store.postgres",
    "Channel": "followup.delivery.channels",
    "ChannelRegistry": "followup.delivery.channels",
    "Planner": "followup.delivery.channels",
    "DeliveryReport": "followup.delivery.dispatcher",
    "hookimpl": "followup.delivery.hookspecs",
    "Plugins": "followup.delivery.manager",
    "load_plugins": "followup.delivery.manager",
    "Settings": "followup.delivery.settings",
    "ImportItem": "followup.interop.transfer",
    "ImportReport": "followup.interop.transfer",
    "OwnerState": "followup.interop.transfer",
    "export_document": "followup.interop.export",
    "import_context": "followup.interop.transfer",
    "import_items": "followup.interop.transfer",
    "read_owner_state": "followup.interop.transfer",
    "read_csv": "followup.interop.readers",
    "read_json": "followup.interop.readers",
    "comparable_name": "followup.interop.names",
    "same_person": "followup.interop.names",
}

__version__ = "0.1.0"

__all__ = [
    "AgendaItem",
    "AgendaRow",
    "Application",
    "ApplicationRow",
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
    "ImportItem",
    "ImportReport",
    "InputError",
    "InvalidEvent",
    "InvalidFact",
    "MemoryStore",
    "Notification",
    "Outcome",
    "Owner",
    "OwnerState",
    "Planner",
    "PluginError",
    "Plugins",
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
    "comparable_name",
    "export_document",
    "hookimpl",
    "import_context",
    "import_items",
    "load_plugins",
    "load_rules",
    "open_store",
    "read_csv",
    "read_json",
    "read_owner_state",
    "same_person",
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
