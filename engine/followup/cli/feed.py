"""The HTTP server behind ``followup serve``: one calendar feed, guarded.

What guards it:

- **a secret in the address**: only ``/TOKEN/calendar.ics`` answers; any other path, a
  wrong token or none is ``404 not found``, the same answer each time, and the token is
  compared in constant time;
- **a Host allow-list**: a request whose ``Host`` header is not one of the allowed names
  (the loopback names, and those given with ``--allow-host``) is ``403``. A web page that
  points its own name at 127.0.0.1 (DNS rebinding) sends its own name, so it is refused;
- **a thread per client, and a deadline**: a client has ``timeout`` seconds to send its
  whole request (however slowly its bytes arrive) and each later read or write has as
  long again, so an idle or slow client holds only its own thread, for a while; at most
  ``max_clients`` are served at once, and more are told ``503`` at once;
- **validators**: the feed carries an ``ETag`` (a hash of its content) and a
  ``Last-Modified`` (when this server first saw that content), and answers
  ``If-None-Match`` and ``If-Modified-Since`` with ``304 Not Modified``.

The server knows nothing of the engine: it is given how to load the feed's items and how
to render them, and a clock.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar, cast

from followup.errors import FollowupError

__all__ = ["LOOPBACK_NAMES", "FeedServer", "Snapshot", "Versions", "host_name"]

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NOT_FOUND = b"not found\n"
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot:
    """The feed as served: its bytes, their ETag, and since when they are unchanged."""

    body: bytes
    etag: str
    modified: datetime


class Versions(Generic[T]):
    """The feed's current snapshot, with an ETag and Last-Modified that hold still while
    its content does.

    ``render(items, stamp)`` must depend on ``stamp`` only where it writes the time the
    content was last changed (iCalendar's ``DTSTAMP``): the ETag is the hash of the
    content rendered with a fixed stamp, and the body is rendered with the time this
    server first saw that content, so an unchanged feed is the same bytes every time.
    """

    def __init__(
        self,
        load: Callable[[], T],
        render: Callable[[T, datetime], bytes],
        now: Callable[[], datetime],
    ) -> None:
        self._load = load
        self._render = render
        self._now = now
        self._lock = threading.Lock()  # one rendering at a time; the engine is shared
        self._last: Snapshot | None = None

    def current(self) -> Snapshot:
        """The snapshot for now, made from the store afresh."""
        with self._lock:
            items = self._load()
            etag = '"' + hashlib.sha256(self._render(items, _EPOCH)).hexdigest()[:32] + '"'
            if self._last is None or self._last.etag != etag:
                modified = self._now().astimezone(UTC).replace(microsecond=0)
                self._last = Snapshot(self._render(items, modified), etag, modified)
            return self._last


def host_name(value: str) -> str | None:
    """The name in a ``Host`` header or ``--allow-host`` value, lowercased, without its
    port, brackets or final dot; None when it is not a plain name or address."""
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:]
    elif value.count(":") > 1:
        name, port = value, ""  # an IPv6 address without brackets (--allow-host ::1)
    else:
        name, _, port = value.partition(":")
    if port and not port.isdigit():
        return None
    name = name.rstrip(".")
    if not name or not all((c.isalnum() and c.isascii()) or c in "-._:" for c in name):
        return None
    return name


class _DeadlineReader(io.RawIOBase):
    """Reads a socket; while ``deadline`` is set, no read goes past it, however many
    bytes arrive in between (a client that sends one byte a second is cut off too)."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self._sock = sock
        self._timeout = timeout
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.deadline is None:
            self._sock.settimeout(self._timeout)
        else:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the request was not sent in time")
            self._sock.settimeout(min(left, self._timeout))
        return self._sock.recv_into(buffer)


class _Handler(BaseHTTPRequestHandler):
    server_version = "followup"

    def version_string(self) -> str:
        return self.server_version  # without the Python version: nobody's business

    def setup(self) -> None:
        self.feed = cast("FeedServer", self.server)
        super().setup()
        self.connection.settimeout(self.feed.timeout_seconds)  # each read and write
        self._reader = _DeadlineReader(self.connection, self.feed.timeout_seconds)
        self.rfile.close()  # the plain reader: the socket stays open
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        self._reader.deadline = time.monotonic() + self.feed.timeout_seconds
        super().handle_one_request()

    def parse_request(self) -> bool:
        ok = super().parse_request()  # reads the headers, still under the deadline
        self._reader.deadline = None
        return ok

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, *, body: bool) -> None:
        server = self.feed
        if host_name(self.headers.get("Host", "")) not in server.hosts:
            self._plain(403, b"this server does not answer to that host name "
                        b"(followup serve --allow-host NAME adds one)\n", body=body)
            return
        if not server.is_feed(self.path):
            self._plain(404, _NOT_FOUND, body=body)
            return
        try:
            snapshot = server.versions.current()
        except FollowupError as exc:
            self._plain(503, f"the store could not be read: {exc}\n".encode(), body=body)
            return
        fresh = _not_modified(self.headers.get("If-None-Match"),
                              self.headers.get("If-Modified-Since"), snapshot)
        self.send_response(304 if fresh else 200)
        self.send_header("ETag", snapshot.etag)
        self.send_header("Last-Modified", format_datetime(snapshot.modified, usegmt=True))
        # Kept by the client, but asked again each time; never by a shared cache.
        self.send_header("Cache-Control", "private, no-cache")
        if fresh:
            self.end_headers()
            return
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        self.send_header("Content-Length", str(len(snapshot.body)))
        self.end_headers()
        if body:
            self.wfile.write(snapshot.body)

    def _plain(self, status: int, text: bytes, *, body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if body:
            self.wfile.write(text)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The path holds the secret: it is never written to the log.
        self.log_message("%s %s", getattr(self, "command", "-"), code)

    def log_message(self, format: str, *args: Any) -> None:
        if self.feed.log is None:
            return
        line = (format % args).translate(_CONTROL)  # a client's bytes cannot move the cursor
        token = self.feed.token()
        if token:  # an error message may quote the request line
            line = line.replace(token, "TOKEN")
        self.feed.log(f"{self.address_string()} {line}")


def _not_modified(if_none_match: str | None, if_modified_since: str | None,
                  snapshot: Snapshot) -> bool:
    """Whether the client's copy is current (RFC 9110 13.1.2 and 13.1.3)."""
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or snapshot.etag in tags
    if if_modified_since is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        return since.tzinfo is not None and snapshot.modified <= since
    return False


class FeedServer(ThreadingHTTPServer):
    """Serves ``versions``' feed at ``/TOKEN/calendar.ics`` to the ``hosts`` named.

    ``token()`` is asked at every request (a rotation takes effect at once; None: no
    address answers). ``timeout`` bounds how long a client may take to send its request,
    and each read or write after; ``max_clients`` how many are served at once. ``once``:
    serve each request in the calling thread (``handle_request`` then answers exactly
    one). ``log`` receives one line per request, without the path.
    """

    daemon_threads = True
    request_queue_size = 64  # connections the system holds until they are accepted

    def __init__(
        self,
        address: tuple[str, int],
        *,
        versions: Versions[Any],
        token: Callable[[], str | None],
        hosts: Iterable[str],
        timeout: float = 10.0,
        max_clients: int = 32,
        once: bool = False,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.versions = versions
        self.token = token
        self.hosts = frozenset(hosts)
        self.timeout_seconds = timeout
        self.once = once
        self.log = log
        self._slots = threading.BoundedSemaphore(max_clients)
        super().__init__(address, _Handler)

    def is_feed(self, path: str) -> bool:
        """Whether ``path`` is the feed's address with the right token."""
        token = self.token()
        parts = path.split("?", 1)[0].split("/")
        if token is None or len(parts) != 3 or parts[0] != "" or parts[2] != "calendar.ics":
            return False
        # http.server decodes the request line as Latin-1: the bytes come back exactly.
        return hmac.compare_digest(parts[1].encode("latin-1"), token.encode("ascii"))

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.once:
            self.process_request_thread(request, client_address)
            return
        if not self._slots.acquire(blocking=False):
            self._turn_away(request)
            return
        thread = threading.Thread(target=self._serve, args=(request, client_address),
                                  daemon=True)
        thread.start()

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up or stalls is not an error of ours: one line, no traceback.
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            if self.log is not None:
                self.log(f"{client_address[0]} {type(error).__name__}: {error}")
            return
        super().handle_error(request, client_address)

    def _turn_away(self, request: socket.socket) -> None:
        try:
            request.settimeout(1.0)
            request.sendall(b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n"
                            b"Retry-After: 10\r\nConnection: close\r\n\r\n")
        except OSError:
            pass
        self.shutdown_request(request)
