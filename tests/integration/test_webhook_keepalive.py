"""The webhook channel keeps its connections alive, against a real HTTP/1.1 server on the
loopback interface: many reminders over one connection, and a connection the server
closed meanwhile replaced without losing or doubling a reminder."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler

import pytest

from followup import FakeClock, Notification
from followup.plugins.webhook import WebhookChannel, WebhookError

NOW = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)


@dataclass
class Server:
    url: str = ""
    keys: list[str] = field(default_factory=list)
    connections: int = 0
    close_after_answer: bool = False  # as a server whose keep-alive timeout ran out
    status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def server(http_server: Callable[[type[BaseHTTPRequestHandler]], int]) -> Iterator[Server]:
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps the connection open unless told otherwise
        timeout = 5  # a connection the client keeps is let go at the end of the test

        def setup(self) -> None:
            super().setup()
            with state.lock:
                state.connections += 1

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.keys.append(self.headers["Idempotency-Key"])
            answer = b"thanks"
            self.send_response(state.status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            if state.close_after_answer:
                self.close_connection = True  # closed without saying so in a header

        def log_message(self, format: str, *args: object) -> None:
            pass

    state.url = f"http://127.0.0.1:{http_server(Handler)}/hook"
    yield state


def note(i: int) -> Notification:
    return Notification(key=f"app-{i}/thank-you-notes/0/-/0", application_id=f"app-{i}",
                        owner="ada", rule="thank-you-notes", created_at=NOW,
                        subject="Thank Jane", body="Dear Jane", channels=("webhook",))


def test_many_reminders_go_over_one_connection(server: Server) -> None:
    channel = WebhookChannel(server.url, "secret", clock=FakeClock(NOW))
    try:
        for i in range(5):
            channel.send(note(i))
    finally:
        channel.release()
    assert server.keys == [note(i).key for i in range(5)]
    assert server.connections == 1


def test_a_connection_the_server_closed_is_replaced_and_nothing_is_sent_twice(
        server: Server) -> None:
    server.close_after_answer = True
    channel = WebhookChannel(server.url, "secret", clock=FakeClock(NOW))
    try:
        for i in range(4):
            channel.send(note(i))
    finally:
        channel.release()
    assert server.keys == [note(i).key for i in range(4)]  # each once, in order
    assert server.connections == 4


def test_a_refusal_on_a_kept_connection_is_an_error_and_the_next_send_goes_on(
        server: Server) -> None:
    channel = WebhookChannel(server.url, "secret", clock=FakeClock(NOW))
    try:
        channel.send(note(0))
        server.status = 503
        with pytest.raises(WebhookError, match="answered 503"):
            channel.send(note(1))
        server.status = 200
        channel.send(note(2))
    finally:
        channel.release()
    assert server.keys == [note(0).key, note(1).key, note(2).key]
    assert server.connections == 1
