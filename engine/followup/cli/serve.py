"""``followup serve``: your coming reminders as a calendar feed to subscribe to."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from followup.cli._common import EXIT_OK, Command, Usage, day_count, open_engine, owner_id


def register(cmd: Command) -> None:
    """Add this module's command to the parser."""
    p = cmd("serve", "serve your reminders as a calendar feed: GET /calendar.ics")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="the port (default 8765; 0: any free)")
    p.add_argument("--public", action="store_true",
                   help="allow a --host other than loopback (the feed has no authentication)")
    p.add_argument("--todo", action="store_true",
                   help="serve tasks (VTODO) with a due date instead of events")
    p.add_argument("--days", type=day_count, default=90, help="how far ahead (default 90)")
    p.add_argument("--once", action="store_true", help="answer one request, then exit")
    p.set_defaults(run=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    import ipaddress
    import socket
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from followup.errors import FollowupError
    from followup.interop.ical import agenda_to_ics

    host = args.host.strip("[]")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not args.public:
        raise Usage(f"refusing to listen on {args.host}: the calendar holds your "
                     "applications, contacts and deadlines, and the server asks for no "
                     "password, so anyone who can reach it could read them. Listen on "
                     "127.0.0.1 (the default), or add --public if you mean it (e.g. behind "
                     "a proxy that authenticates)")
    if not 0 <= args.port <= 65535:
        raise Usage(f"--port {args.port}: a port is 0 to 65535 (0: any free port)")
    owner = owner_id(args)
    engine = open_engine(args)  # fails now, not at the first request, when there is no store

    def feed() -> bytes:
        now = engine.clock.now()
        items = engine.agenda(owner=owner, end=now + timedelta(days=args.days))
        return agenda_to_ics(items, calendar=engine.calendar(owner), now=now, todo=args.todo,
                             name=f"followup ({owner})").encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        server_version = "followup"
        timeout = 30  # a client that stalls does not hold the (one-thread) server forever

        def do_GET(self) -> None:
            self._answer(body=True)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def _answer(self, *, body: bool) -> None:
            if self.path.split("?", 1)[0] != "/calendar.ics":
                self.send_error(404, "not found: the feed is /calendar.ics")
                return
            try:
                data = feed()  # regenerated on every request: always the store's truth
            except FollowupError as exc:
                self.send_error(503, f"the store could not be read: {exc}")
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if body:
                self.wfile.write(data)

    class Server(HTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    with engine:
        try:
            server = Server((host, args.port), Handler)
        except OSError as exc:
            raise Usage(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; "
                         "choose another --port (0: any free port)") from exc
        with server:
            port = server.server_address[1]
            shown = f"[{host}]" if ":" in host else host
            print(f"followup serve: http://{shown}:{port}/calendar.ics for {owner}"
                  f"{' (one request)' if args.once else '; Ctrl-C to stop'}",
                  file=sys.stderr, flush=True)
            if args.once:
                server.handle_request()
            else:
                server.serve_forever()
    return EXIT_OK
