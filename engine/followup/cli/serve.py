"""``followup serve``: your coming reminders as a calendar feed to subscribe to.

The server itself is ``followup.cli.feed``; the secret in its address is kept by
``followup.cli.feed_tokens``.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from followup.cli._common import (
    EXIT_OK,
    Command,
    Usage,
    day_count,
    default_db,
    describe_store,
    long_running,
    open_engine,
    owner_id,
    sqlite_path,
    store_url,
)

if TYPE_CHECKING:
    from followup.cli.feed_tokens import FeedTokens
    from followup.store import CalendarEntry

MAX_TIMEOUT = 3600.0


def register(cmd: Command) -> None:
    """Add this module's command to the parser."""
    p = cmd("serve", "serve your reminders as a calendar feed at a secret address: "
            "GET /TOKEN/calendar.ics")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="the port (default 8765; 0: any free)")
    p.add_argument("--public", action="store_true",
                   help="allow a --host other than loopback (the feed travels unencrypted)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="answer requests for this host name too (repeatable; by default "
                   "only localhost, 127.0.0.1, [::1] and the --host address)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="how long a client may take to send its request, and each read "
                   "or write after it (default 10)")
    p.add_argument("--rotate-token", action="store_true",
                   help="make a new secret address (the old one stops answering), print "
                   "it and exit")
    p.add_argument("--todo", action="store_true",
                   help="serve tasks (VTODO) with a due date instead of events")
    p.add_argument("--days", type=day_count, default=90, help="how far ahead (default 90)")
    p.add_argument("--once", action="store_true", help="answer one request, then exit")
    p.set_defaults(run=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    import ipaddress

    from followup.cli.feed import LOOPBACK_NAMES, FeedServer, Versions, host_name
    from followup.interop.ical import calendar_entries, entries_to_ics

    if not args.once:
        long_running()
    host = args.host.strip("[]")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not args.public:
        raise Usage(f"refusing to listen on {args.host}: the calendar holds your "
                    "applications, contacts and deadlines, and it travels unencrypted, so "
                    "anyone on the way could read it and its secret address. Listen on "
                    "127.0.0.1 (the default), or add --public if you mean it (e.g. behind "
                    "a proxy that adds TLS)")
    if not 0 <= args.port <= 65535:
        raise Usage(f"--port {args.port}: a port is 0 to 65535 (0: any free port)")
    if not 0 < args.timeout <= MAX_TIMEOUT:  # also refuses nan
        raise Usage(f"--timeout {args.timeout:g}: more than 0 and at most "
                    f"{MAX_TIMEOUT:g} seconds")
    hosts: set[str] = set(LOOPBACK_NAMES)
    for name in args.allow_host:
        allowed = host_name(name)
        if allowed is None or allowed != name.strip().lower().strip("[]").rstrip("."):
            raise Usage(f"--allow-host {name!r}: give a host name or address without a "
                        "port, e.g. --allow-host calendar.example.org")
        hosts.add(allowed)
    if host not in ("0.0.0.0", "::", ""):
        hosts.add(host.lower())  # its own address: a rebinding page sends a name instead
    owner = owner_id(args)
    engine = open_engine(args)  # fails now, not at the first request, when there is no store
    tokens = _tokens(store_url(args))
    shown = f"[{host}]" if ":" in host else host
    with engine:
        if args.rotate_token:
            token = tokens.rotate(owner)
            at = str(args.port) if args.port else "PORT"
            print(f"followup serve: the new feed address for {owner} is "
                  f"http://{shown}:{at}/{token}/calendar.ics; the old one answers 404 "
                  "from now on, also in a server that is running", file=sys.stderr)
            return EXIT_OK
        token = tokens.get(owner)

        def load() -> list[CalendarEntry]:
            now = engine.clock.now()
            return calendar_entries(engine, owner, now=now, until=now + timedelta(days=args.days))

        def render(entries: list[CalendarEntry], stamp: datetime) -> bytes:
            return entries_to_ics(entries, zone=engine.calendar(owner).tz, stamp=stamp,
                                  todo=args.todo, name=f"followup ({owner})").encode("utf-8")

        def log(line: str) -> None:
            print(f"followup serve: {line}", file=sys.stderr, flush=True)

        try:
            server = FeedServer((host, args.port),
                                versions=Versions(load, render, engine.clock.now),
                                token=lambda: tokens.read(owner), hosts=hosts,
                                timeout=args.timeout, once=args.once, log=log)
        except OSError as exc:
            raise Usage(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; "
                        "choose another --port (0: any free port)") from exc
        with server:
            port = server.server_address[1]
            print(f"followup serve: http://{shown}:{port}/{token}/calendar.ics for {owner}"
                  f"{' (one request)' if args.once else '; Ctrl-C to stop'}",
                  file=sys.stderr, flush=True)
            print("followup serve: the address is the feed's password: keep it to "
                  "yourself (followup serve --rotate-token makes a new one)",
                  file=sys.stderr, flush=True)
            if args.once:
                server.handle_request()
            else:
                server.serve_forever()
    return EXIT_OK


def _tokens(url: str) -> FeedTokens:
    """Where the owners' feed tokens of the store at ``url`` are kept."""
    from pathlib import Path

    from followup.cli.feed_tokens import FOLDER, FeedTokens

    path = sqlite_path(url)
    if path is not None:
        db = Path(os.path.abspath(path))
        return FeedTokens(db.parent / FOLDER, db.name)
    return FeedTokens(Path(default_db()).parent / FOLDER, describe_store(url))
