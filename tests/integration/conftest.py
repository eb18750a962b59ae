"""Shared fixtures of the integration tests: loopback test servers for the channels that speak
HTTP (webhook, apprise), and an empty PostgreSQL schema."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback tests must not go through a proxy the environment may name."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                 "ALL_PROXY", "no_proxy", "NO_PROXY", "REQUEST_METHOD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def http_server(no_proxy: None) -> Iterator[Callable[[type[BaseHTTPRequestHandler]], int]]:
    """Start an HTTP server on 127.0.0.1 with the given handler; returns its port. Each
    server is shut down, closed and its handler threads joined after the test."""
    started: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(handler: type[BaseHTTPRequestHandler]) -> int:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = False  # so server_close() joins every handler thread
        server.block_on_close = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        started.append((server, thread))
        return int(server.server_address[1])

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def empty_url() -> Iterator[str]:
    """A PostgreSQL URL whose schema exists and is empty (dropped after the test)."""
    from tests.postgres import drop_schema, new_schema

    url = new_schema()
    yield url
    drop_schema(url)
