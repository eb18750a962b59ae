"""An owner's settings from the command line: ``init`` creates them, ``settings`` edits
them.

The two are apart on purpose: re-running ``init`` to change the time zone used to write
a whole new record, which wiped the holidays, digest and quiet hours set before. So
``init`` refuses an owner who has settings and names ``settings``, which changes only
the options given and re-plans that owner's applications.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from followup.cli._common import (
    EXIT_OK,
    Command,
    Usage,
    describe_store,
    open_engine,
    opt,
    owner_id,
    plugin_rules,
    print_json,
    store_url,
)

if TYPE_CHECKING:
    from followup.language.pack import RulePack
    from followup.model import Owner
    from followup.runtime.engine import Engine

# What ``settings`` takes to put a setting back to the rule pack's (or turn it off).
_RESET = frozenset({"", "default", "off", "none"})


def register(cmd: Command) -> None:
    """Add ``init`` and ``settings`` to the parser."""
    p = cmd("init", "create the store and your settings: time zone, holidays, channels "
            "(once; change them later with  followup settings)")
    _options(p, reset=False)
    p.set_defaults(run=_cmd_init)

    p = cmd("settings", "show or change your settings; only the options given change, and "
            "your applications' reminders are re-planned to follow")
    _options(p, reset=True)
    p.set_defaults(run=_cmd_settings)


def _options(p: argparse.ArgumentParser, *, reset: bool) -> None:
    back = " ('default' for the rule pack's)" if reset else ""
    off = " ('off' for none)" if reset else ""
    p.add_argument("--timezone", "--tz", metavar="ZONE",
                   help=f"your IANA time zone, e.g. Europe/Berlin{back}")
    p.add_argument("--country", metavar="CODE",
                   help=f"whose public holidays count, e.g. US, GB, DE{back}")
    p.add_argument("--subdivision", metavar="CODE", help=f"the state or region, e.g. NY, BY{back}")
    p.add_argument("--channels", metavar="NAME,NAME",
                   help="where your reminders go, e.g. console,email (default: the rule "
                   f"pack's channels){back}")
    p.add_argument("--digest", metavar="HH:MM",
                   help="get your reminders once a day at this local time, one message per "
                   f"channel (default: each when it is due){off}")
    p.add_argument("--quiet-hours", metavar="HH:MM-HH:MM[,...]",
                   help="times of day when no reminder reaches you, in your time zone, on "
                   f"top of the rule pack's, e.g. 22:00-07:00{off}")
    if reset:
        p.add_argument("--looking", choices=("yes", "no"),
                       help="'no' once you stopped looking for work: the rules over all your "
                       "applications stop nudging you to keep looking; 'yes' brings them back")


def checked(args: argparse.Namespace, pack: RulePack, *, reset: bool) -> dict[str, Any]:
    """The settings the options give, each checked before anything is written: ``None``
    for one not given, ``""`` (or ``()``) for one put back to the pack's with ``reset``."""
    from followup.delivery.digest import parse_digest_time
    from followup.errors import InputError
    from followup.timing.calendar import CalendarError, parse_time_range

    def given(name: str) -> str | None:
        value: str | None = getattr(args, name)
        if value is None or not reset:
            return value
        return "" if value.strip().lower() in _RESET else value

    out: dict[str, Any] = {name: given(name) for name in ("timezone", "country", "subdivision")}
    if not reset:  # an edit is checked with the settings it keeps, by update_owner
        try:
            pack.calendar.build(timezone=out["timezone"], country=out["country"],
                                subdivision=out["subdivision"])
        except CalendarError as exc:
            raise Usage(str(exc)) from exc
    digest = given("digest")
    if digest:
        try:
            digest = parse_digest_time(digest)
        except InputError as exc:
            raise Usage(f"--digest: {exc}") from exc
    out["digest"] = digest
    quiet = given("quiet_hours")
    spans = None if quiet is None else [s.strip() for s in quiet.split(",") if s.strip()]
    for span in spans or []:
        try:
            parse_time_range(span)
        except CalendarError as exc:
            raise Usage(f"--quiet-hours: {exc}") from exc
    out["quiet_hours"] = spans
    channels = given("channels")
    out["channels"] = None if channels is None else _channels(channels)
    if reset:
        looking: str | None = getattr(args, "looking", None)
        out["looking"] = None if looking is None else looking == "yes"
    return out


def _channels(text: str) -> list[str]:
    """The channels named (none: back to the pack's), each one loaded."""
    if not text:
        return []
    from followup.delivery.manager import load_plugins

    loaded = load_plugins().channels
    channels = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in channels if loaded.get(c) is None]
    if unknown or not channels:
        raise Usage(f"no channel named {', '.join(map(repr, unknown)) or repr('')} is "
                    f"loaded (loaded: {', '.join(loaded.names()) or 'none'}); see "
                    "followup plugins")
    return channels


def _cmd_init(args: argparse.Namespace) -> int:
    from followup.language.loader import load_rules

    pack = load_rules(opt(args, "rules", "FOLLOWUP_RULES"), **plugin_rules())
    if not args.timezone and os.environ.get("TZ"):
        args.timezone = os.environ["TZ"]
    given = checked(args, pack, reset=False)  # before a store file is created
    with open_engine(args, create=True, migrate=True) as engine:
        owner = owner_id(args)
        if engine.has_owner(owner):
            raise Usage(f"owner {owner!r} already has settings in {describe_store(store_url(args))}: "
                        "init makes them once; change one with  followup settings "
                        "--timezone ZONE (or --country, --subdivision, --channels, --digest, "
                        "--quiet-hours): the others are kept")
        record = engine.set_owner(owner, timezone=given["timezone"], channels=given["channels"],
                                  country=given["country"], subdivision=given["subdivision"],
                                  digest=given["digest"], quiet_hours=given["quiet_hours"] or ())
        where = describe_store(store_url(args))
        if opt(args, "json"):
            print_json({"store": where, **_owner_json(engine, record)})
        else:
            print(f"followup store ready at {where}")
            _print_owner(engine, record)
    return EXIT_OK


def _cmd_settings(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        owner = owner_id(args)
        if not engine.has_owner(owner):
            raise Usage(f"owner {owner!r} has no settings yet: create them with  followup "
                        "init --timezone ZONE [--country CODE]")
        given = checked(args, engine.pack, reset=True)
        if all(value is None for value in given.values()):
            record = engine.owner(owner)
            if opt(args, "json"):
                print_json({**_owner_json(engine, record), "changed": [], "replanned": 0,
                            "moved": 0})
            else:
                _print_owner(engine, record)
            return EXIT_OK
        update = engine.update_owner(owner, **given)
        changed = [name for name in _SHOWN if getattr(update.before, name)
                   != getattr(update.after, name)]
        moved = sum(len(o.armed) for o in update.replanned if o.changed)
        if opt(args, "json"):
            print_json({**_owner_json(engine, update.after), "changed": changed,
                        "replanned": len(update.replanned), "moved": moved})
            return EXIT_OK
        for name in changed:
            print(f"{_SHOWN[name]}: {_shown(name, getattr(update.before, name))} → "
                  f"{_shown(name, getattr(update.after, name))}")
        if not changed:
            print("nothing changed: those are your settings already")
        _print_owner(engine, update.after)
        count = len(update.replanned)
        print(f"re-planned {count} application{'' if count == 1 else 's'}: "
              f"{moved} reminder{'' if moved == 1 else 's'} moved")
    return EXIT_OK


_SHOWN = {"timezone": "time zone", "country": "country", "subdivision": "subdivision",
          "channels": "channels", "digest": "digest", "quiet_hours": "quiet hours",
          "looking": "looking for work"}


def _shown(name: str, value: object) -> str:
    if value is None or value == ():
        return {"digest": "off", "quiet_hours": "none"}.get(name, "the rule pack's")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def _owner_json(engine: Engine, record: Owner) -> dict[str, Any]:
    cal = engine.calendar(record.id)
    return {"owner": record.id, "timezone": str(cal.tz), "country": record.country,
            "subdivision": record.subdivision,
            "channels": None if record.channels is None else list(record.channels),
            "digest": record.digest, "quiet_hours": list(record.quiet_hours),
            "looking": record.looking}


def _print_owner(engine: Engine, record: Owner) -> None:
    cal = engine.calendar(record.id)
    print(f"owner {record.id}: time zone {cal.tz}, holidays of "
          f"{record.country or engine.pack.calendar.country or 'no country'}"
          f"{'-' + record.subdivision if record.subdivision else ''}")
    if record.channels:
        print(f"reminders go to {', '.join(record.channels)}")
    if record.digest:
        print(f"reminders come once a day at {record.digest} ({cal.tz})")
    if record.quiet_hours:
        print(f"no reminders during {', '.join(record.quiet_hours)} ({cal.tz})")
    if not record.looking:
        print("not looking for work: no nudges to keep looking (followup settings "
              "--looking yes brings them back)")
