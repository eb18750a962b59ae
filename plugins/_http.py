"""A few HTTP connections to one origin, kept alive between requests (standard library).

A channel that POSTs each reminder (the webhook) would otherwise open a connection, and
for https make a TLS handshake, per reminder: on loopback that is most of a delivery's
time. ``ConnectionPool`` keeps up to ``size`` idle connections and hands one to each
request; a connection goes back only when the answer was read whole and the server did
not ask to close it. A kept connection the server has closed meanwhile (its keep-alive
timeout) fails at once on the next request: that request is made again, once, on a new
connection. Only then: an attempt on a new connection that fails is the caller's error.
Sending one reminder twice that way is within the channel's promise (at least once, with
an idempotency key).
"""

from __future__ import annotations

import http.client
import ssl
import threading
from email.message import Message
from urllib.parse import SplitResult

__all__ = ["Answer", "ConnectionPool"]

_MAX_BODY = 64 * 1024  # an answer longer than this is not read: its connection is closed


class Answer:
    """A response's status line and headers (its body is not kept)."""

    __slots__ = ("headers", "reason", "status")

    def __init__(self, status: int, reason: str, headers: Message) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers


class ConnectionPool:
    """Kept-alive connections to the origin of ``parts`` (http or https)."""

    def __init__(self, parts: SplitResult, timeout: float, *, size: int = 4,
                 context: ssl.SSLContext | None = None) -> None:
        self._https = parts.scheme.lower() == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._timeout = timeout
        self._context = context
        self._size = size
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self.opened = 0  # connections made so far (tests and benchmarks read it)

    def post(self, target: str, body: bytes, headers: dict[str, str]) -> Answer:
        """POST ``body`` to ``target`` (a path and query); the answer, any status.
        Network errors (``OSError``, ``http.client.HTTPException``) are raised."""
        conn, reused = self._take()
        try:
            try:
                answer, keep = self._exchange(conn, target, body, headers)
            except (ConnectionError, http.client.RemoteDisconnected):
                conn.close()
                if not reused:
                    raise
                conn = self._new()  # the server had closed the kept connection
                answer, keep = self._exchange(conn, target, body, headers)
        except BaseException:
            conn.close()
            raise
        if keep:
            self._give(conn)
        else:
            conn.close()
        return answer

    def close(self) -> None:
        """Close the idle connections (the pool may still be used afterwards)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _exchange(self, conn: http.client.HTTPConnection, target: str, body: bytes,
                  headers: dict[str, str]) -> tuple[Answer, bool]:
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        answer = Answer(response.status, response.reason, response.headers)
        if response.will_close:
            return answer, False
        response.read(_MAX_BODY)
        return answer, response.isclosed()  # read whole: the connection is free again

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._new(), False

    def _give(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self._size:
                self._idle.append(conn)
                return
        conn.close()

    def _new(self) -> http.client.HTTPConnection:
        self.opened += 1
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout,
                                               context=self._context)
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
