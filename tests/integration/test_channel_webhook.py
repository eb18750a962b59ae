"""The webhook channel against a real HTTP server on the loopback interface."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from followup import (
    Contact,
    Engine,
    FakeClock,
    MemoryStore,
    Notification,
    PluginError,
    Settings,
)
from followup.delivery.manager import load_plugins
from followup.plugins.webhook import (
    WebhookChannel,
    WebhookError,
    followup_register_channels,
    key_from_header,
    sign,
    verify,
)

SECRET = "s3cret-Do-Not-Print-7f2a"
FIELDS = ["key", "application_id", "owner", "rule", "created_at", "due_at", "contact",
          "subject", "body", "data"]
NOW = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signed: bool  # the signature checked out with the module's own verify()

    def json(self) -> dict[str, object]:
        value = json.loads(self.body)
        assert isinstance(value, dict)
        return value


@dataclass
class Hook:
    """A webhook receiver: records every request, answers as told."""

    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0  # seconds to wait before answering nothing at all
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture(autouse=True)
def _no_proxy(no_proxy: None) -> None:
    """Every test here talks to loopback only."""


@pytest.fixture
def hook(http_server: Callable[[type[BaseHTTPRequestHandler]], int]) -> Iterator[Hook]:
    state = Hook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = dict(self.headers.items())
            signed = verify(SECRET, headers.get("X-Followup-Timestamp", ""), body,
                            headers.get("X-Followup-Signature", ""))
            state.requests.append(Received(self.path, headers, body, signed))
            if state.hang:
                state.release.wait(state.hang)
                return  # close without an answer
            self.send_response(state.status)
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    state.url = f"http://127.0.0.1:{http_server(Handler)}/hooks/followup"
    yield state
    state.release.set()  # a hanging handler lets go before the server shuts down


def notification(key: str = "app-1/thank-you-notes/0/Jane Doe/0") -> Notification:
    return Notification(
        key=key, application_id="app-1", owner="ada", rule="thank-you-notes",
        created_at=NOW, subject="Thank Jane Doe", body="Dear Jane,\nthank you.\n",
        due_at=datetime(2026, 12, 28, 22, 0, tzinfo=UTC), contact="Jane Doe",
        channels=("webhook",), data={"company": "Acme", "occurrence": 0},
    )


def channel(url: str, *, timeout: float = 5.0) -> WebhookChannel:
    return WebhookChannel(url, SECRET, timeout=timeout, clock=FakeClock(NOW))


# -- the request ---------------------------------------------------------------------


def test_posts_signed_json_with_exact_fields_and_headers(hook: Hook) -> None:
    channel(hook.url).send(notification())
    [got] = hook.requests
    assert got.path == "/hooks/followup"
    assert got.signed
    assert list(got.json()) == FIELDS
    assert got.json() == {
        "key": "app-1/thank-you-notes/0/Jane Doe/0",
        "application_id": "app-1",
        "owner": "ada",
        "rule": "thank-you-notes",
        "created_at": "2026-12-23T20:00:00+00:00",
        "due_at": "2026-12-28T22:00:00+00:00",
        "contact": "Jane Doe",
        "subject": "Thank Jane Doe",
        "body": "Dear Jane,\nthank you.\n",
        "data": {"company": "Acme", "occurrence": 0},
    }
    stamp = str(int(NOW.timestamp()))
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Idempotency-Key"] == "app-1/thank-you-notes/0/Jane Doe/0"
    assert got.headers["X-Followup-Timestamp"] == stamp
    assert got.headers["X-Followup-Signature"] == sign(SECRET, stamp, got.body)
    assert got.headers["X-Followup-Signature"].startswith("sha256=")
    assert "Authorization" not in got.headers
    assert SECRET not in json.dumps(got.headers) and SECRET.encode() not in got.body


@pytest.mark.parametrize(("key", "header"), [
    ("app-1/thank-you-notes/0/Łukasz Wójcik/0",
     "utf-8''app-1%2Fthank-you-notes%2F0%2F%C5%81ukasz%20W%C3%B3jcik%2F0"),
    ("app-1/thank-you-notes/0/王伟/0", "utf-8''app-1%2Fthank-you-notes%2F0%2F%E7%8E%8B%E4%BC%9F%2F0"),
    ("app-1/thank-you-notes/0/Zoë/0", "utf-8''app-1%2Fthank-you-notes%2F0%2FZo%C3%AB%2F0"),
    # Not keys that followup builds (those escape line breaks), but keys all the same.
    ("app-1/thank-you-notes/0/Jane\r\nDoe/0",
     "utf-8''app-1%2Fthank-you-notes%2F0%2FJane%0D%0ADoe%2F0"),
    ("a\r\nX-Injected: 1", "utf-8''a%0D%0AX-Injected%3A%201"),
    (" padded ", "utf-8''%20padded%20"),
    ("utf-8''looks-encoded", "utf-8''utf-8%27%27looks-encoded"),
    ("app-1/thank-you-notes/0/Jane Doe %2F HR/0", "app-1/thank-you-notes/0/Jane Doe %2F HR/0"),
])
def test_any_key_reaches_the_receiver_in_one_exact_ascii_header(
        hook: Hook, key: str, header: str) -> None:
    channel(hook.url).send(notification(key))
    [got] = hook.requests
    assert got.signed
    assert got.headers["Idempotency-Key"] == header
    assert key_from_header(header) == key == got.json()["key"]
    assert "X-Injected" not in got.headers


@pytest.mark.parametrize("name", ["Łukasz Wójcik", "王伟", "Jane\r\nDoe", "Jane\x1b[2J\x85Doe"])
def test_the_engine_delivers_for_any_interviewer_and_owner_name(
        hook: Hook, tmp_path: Path, name: str) -> None:
    plugins = load_plugins(environ={"FOLLOWUP_WEBHOOK_URL": hook.url,
                                    "FOLLOWUP_WEBHOOK_SECRET": SECRET})
    pack = tmp_path / "webhook-pack.yaml"
    pack.write_text("version: 1\nextends: after-interview\nchannels: [webhook]\n")
    clock = FakeClock(datetime(2026, 12, 23, 10, 0, tzinfo=UTC))
    with Engine(rules=pack, store=MemoryStore(), clock=clock,
                channels=plugins.channels) as engine:
        engine.add_application(
            owner=name, company="Acme", role="Engineer",
            facts={"interviewed_at": "2026-12-22T14:00:00+00:00"},
            contacts=[Contact(name=name, role="interviewer", title="CTO")])
        report = engine.run_due()
    assert report.delivery is not None
    assert not report.delivery.failed and not report.delivery.dead
    [note] = [n for n in report.notifications if n.rule == "thank-you-notes"]
    [got] = thank_you(hook)
    assert got.signed and got.json()["contact"] == name and got.json()["owner"] == name
    assert key_from_header(got.headers["Idempotency-Key"]) == note.key == got.json()["key"]


def test_verify_refuses_what_was_not_signed_with_the_secret() -> None:
    body = b'{"key":"k"}'
    good = sign(SECRET, 1798056000, body)
    assert verify(SECRET, "1798056000", body, good)
    assert verify(SECRET.encode(), 1798056000, body.decode(), good)
    assert not verify("another secret", 1798056000, body, good)
    assert not verify(SECRET, 1798056001, body, good)  # the timestamp is signed too
    assert not verify(SECRET, 1798056000, body + b" ", good)
    assert not verify(SECRET, 1798056000, body, good.removeprefix("sha256="))
    assert not verify(SECRET, "not a time", body, good)
    assert not verify(SECRET, 1798056000, body, "sha256=é")
    assert verify(SECRET, 1798056000, body, good, max_age=300, now=1798056000 + 299)
    assert not verify(SECRET, 1798056000, body, good, max_age=300, now=1798056000 + 301)


def test_userinfo_in_the_url_becomes_basic_auth_and_is_never_shown(hook: Hook) -> None:
    url = hook.url.replace("http://", "http://robot:pa%3Ass@")
    sender = channel(url)
    assert "pa%3Ass" not in repr(sender) and "robot" not in sender.display_url
    sender.send(notification())
    [got] = hook.requests
    assert got.headers["Authorization"] == "Basic cm9ib3Q6cGE6c3M="  # robot:pa:ss
    hook.status = 503
    with pytest.raises(WebhookError) as failure:
        sender.send(notification())
    assert "pa%3Ass" not in str(failure.value) and "robot" not in str(failure.value)


# -- failures raise, so the dispatcher retries ----------------------------------------


def test_a_500_raises_without_the_secret(hook: Hook) -> None:
    hook.status = 500
    with pytest.raises(WebhookError, match="answered 500") as failure:
        channel(hook.url).send(notification())
    assert SECRET not in str(failure.value)
    assert len(hook.requests) == 1


def test_a_closed_port_raises_without_the_secret(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/hook"
    with pytest.raises(WebhookError, match="refused") as failure:
        channel(url).send(notification())
    assert SECRET not in str(failure.value)
    assert url in str(failure.value)


def test_a_server_that_hangs_raises_after_about_the_timeout(hook: Hook) -> None:
    hook.hang = 10.0
    started = time.monotonic()
    with pytest.raises(WebhookError, match="timed out") as failure:
        channel(hook.url, timeout=0.5).send(notification())
    elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 4.0
    assert SECRET not in str(failure.value)


@pytest.mark.parametrize("location", ["ftp://127.0.0.1:{port}/drop",
                                      "file:///etc/passwd",
                                      "http://127.0.0.1:{port}/elsewhere"])
def test_a_redirect_is_not_followed(hook: Hook, location: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as trap:
        trap.bind(("127.0.0.1", 0))
        trap.listen()
        trap.setblocking(False)
        hook.status = 302
        hook.headers = {"Location": location.format(port=trap.getsockname()[1])}
        with pytest.raises(WebhookError, match="answered 302") as failure:
            channel(hook.url).send(notification())
        with pytest.raises(BlockingIOError):
            trap.accept()  # nobody knocked: the redirect was not followed
    assert "redirects are not followed" in str(failure.value)
    assert len(hook.requests) == 1


# -- loading ---------------------------------------------------------------------------


def register(environ: dict[str, str]) -> list[WebhookChannel]:
    found: list[WebhookChannel] = []
    followup_register_channels(register=found.append, settings=Settings(environ=environ))
    return found


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://robot:hunter2@example.com/in",
                                 "gopher://example.com/", "example.com/hook"])
def test_a_url_that_is_not_http_is_refused_at_load_time(url: str) -> None:
    environ = {"FOLLOWUP_WEBHOOK_URL": url, "FOLLOWUP_WEBHOOK_SECRET": SECRET}
    with pytest.raises(PluginError, match="must be an http or https URL") as failure:
        register(environ)
    assert "hunter2" not in str(failure.value) and "robot" not in str(failure.value)
    plugins = load_plugins(environ=environ)
    assert "webhook" not in plugins.channels.names()
    assert "http or https" in plugins.failures["webhook"]
    assert "hunter2" not in plugins.failures["webhook"]
    assert SECRET not in plugins.failures["webhook"]


@pytest.mark.parametrize(("environ", "message"), [
    ({"FOLLOWUP_WEBHOOK_SECRET": SECRET}, "FOLLOWUP_WEBHOOK_URL"),
    ({"FOLLOWUP_WEBHOOK_URL": "https://example.com/h"}, "FOLLOWUP_WEBHOOK_SECRET_FILE"),
    ({"FOLLOWUP_WEBHOOK_URL": "https://example.com/h", "FOLLOWUP_WEBHOOK_SECRET": " "},
     "secret is empty"),
    ({"FOLLOWUP_WEBHOOK_URL": "https://example.com/h", "FOLLOWUP_WEBHOOK_SECRET": SECRET,
      "FOLLOWUP_WEBHOOK_TIMEOUT": "0"}, "positive number"),
    ({"FOLLOWUP_WEBHOOK_URL": "https://example.com/h", "FOLLOWUP_WEBHOOK_SECRET": SECRET,
      "FOLLOWUP_WEBHOOK_TIMEOUT": "soon"}, "must be a number"),
    ({"FOLLOWUP_WEBHOOK_URL": "https:///h", "FOLLOWUP_WEBHOOK_SECRET": SECRET}, "no host"),
])
def test_misconfiguration_is_a_plugin_error(environ: dict[str, str], message: str) -> None:
    with pytest.raises(PluginError, match=message) as failure:
        register(environ)
    assert SECRET not in str(failure.value)


def test_registered_only_when_configured(tmp_path: Path) -> None:
    assert register({}) == []
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    [sender] = register({"FOLLOWUP_WEBHOOK_URL": "https://example.com/h",
                         "FOLLOWUP_WEBHOOK_SECRET_FILE": str(secret_file),
                         "FOLLOWUP_WEBHOOK_TIMEOUT": "2.5"})
    assert sender.name == "webhook" and sender.timeout == 2.5
    assert "webhook" not in load_plugins(environ={}).channels.names()


# -- end to end, through the engine ---------------------------------------------------


@pytest.fixture
def engine(hook: Hook, tmp_path: Path) -> Iterator[Engine]:
    pack = tmp_path / "webhook-pack.yaml"
    pack.write_text("version: 1\nextends: after-interview\nchannels: [webhook]\n")
    plugins = load_plugins(environ={"FOLLOWUP_WEBHOOK_URL": hook.url,
                                    "FOLLOWUP_WEBHOOK_SECRET": SECRET,
                                    "FOLLOWUP_WEBHOOK_TIMEOUT": "5"})
    assert "webhook" in plugins.channels.names(), plugins.failures
    clock = FakeClock(datetime(2026, 12, 23, 10, 0, tzinfo=UTC))  # a Wednesday, 10:00
    with Engine(rules=pack, store=MemoryStore(), clock=clock,
                channels=plugins.channels) as engine:
        engine.add_application(
            owner="ada", company="Acme", role="Engineer",
            facts={"interviewed_at": "2026-12-22T14:00:00+00:00"},
            contacts=[Contact(name="Jane Doe", role="interviewer",
                              title="Engineering Manager")],
        )
        yield engine


def thank_you(hook: Hook) -> list[Received]:
    return [r for r in hook.requests if r.json()["rule"] == "thank-you-notes"]


def test_the_engine_delivers_the_thank_you_reminder(engine: Engine, hook: Hook) -> None:
    report = engine.run_due()
    [note] = [n for n in report.notifications if n.rule == "thank-you-notes"]
    assert note.contact == "Jane Doe" and note.channels == ("webhook",)
    assert not report.delivery.failed and not report.delivery.dead
    [got] = thank_you(hook)
    assert got.signed
    assert got.headers["Idempotency-Key"] == note.key == got.json()["key"]
    assert got.json()["contact"] == "Jane Doe"
    assert got.json()["application_id"] == note.application_id
    assert all(r.signed for r in hook.requests)


def test_a_failed_delivery_is_retried_after_the_backoff(engine: Engine, hook: Hook) -> None:
    hook.status = 500
    report = engine.run_due()
    [note] = [n for n in report.notifications if n.rule == "thank-you-notes"]
    assert report.delivery.failed and not report.delivery.delivered
    assert all(SECRET not in str(row.last_error) for row in report.delivery.failed)
    assert [r.headers["Idempotency-Key"] for r in thank_you(hook)] == [note.key]

    hook.status = 200
    assert not engine.deliver()  # still inside the backoff: nothing is tried
    clock = engine.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(minutes=1))  # past the first backoff (15 to 30 seconds)
    retried = engine.deliver()
    assert note.key in {row.notification.key for row in retried.delivered}
    assert not retried.failed

    keys = [r.headers["Idempotency-Key"] for r in thank_you(hook)]
    assert keys == [note.key, note.key]  # at least once, at most twice here, same key
    assert all(r.signed for r in hook.requests)
    clock.advance(timedelta(hours=1))
    assert not engine.deliver()  # delivered is delivered: never sent again
    assert len(thank_you(hook)) == 2
