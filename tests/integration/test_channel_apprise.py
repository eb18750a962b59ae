"""The apprise channel against a real HTTP server on the loopback interface.

Apprise's ``json://host:port/path`` service POSTs each notification as JSON to an HTTP
endpoint, so a small server here sees exactly what Apprise sent.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from followup import Contact, Engine, FakeClock, MemoryStore, Notification, PluginError, Settings
from followup.delivery.manager import load_plugins
from followup.plugins.apprise import (
    NEEDS_EXTRA,
    AppriseChannel,
    AppriseError,
    followup_register_channels,
    split_urls,
)

pytestmark = [
    # Apprise loads its services on first use, and one of them imports the standard
    # library's imghdr, deprecated since Python 3.11: a warning about Apprise, not us.
    pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning"),
]

TOKEN = "tok-Do-Not-Print-51c9"
NOW = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        value = json.loads(self.body)
        assert isinstance(value, dict)
        return value


@dataclass
class Server:
    """An HTTP endpoint for Apprise's json:// service: records each POST, answers as told."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    status: int = 200

    def url(self, path: str = "/hook", userinfo: str = "") -> str:
        return f"json://{userinfo}127.0.0.1:{self.port}{path}"


@pytest.fixture(autouse=True)
def _no_proxy(no_proxy: None) -> None:
    """Every test here talks to loopback only."""


@pytest.fixture
def installed() -> None:
    """Skip a test that needs Apprise itself when the extra is not installed."""
    pytest.importorskip("apprise")


@pytest.fixture
def server(
    installed: None, http_server: Callable[[type[BaseHTTPRequestHandler]], int]
) -> Server:
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    state.port = http_server(Handler)
    return state


def notification() -> Notification:
    return Notification(
        key="app-1/thank-you-notes/0/Jane Doe/0", application_id="app-1", owner="ada",
        rule="thank-you-notes", created_at=NOW, subject="Thank Jane Doé",
        body="Dear Jane,\nthank you.\n", due_at=datetime(2026, 12, 28, 22, 0, tzinfo=UTC),
        contact="Jane Doe", channels=("apprise",),
        data={"due_local": "2026-12-28T17:00:00-05:00"},
    )


# -- sending ---------------------------------------------------------------------------


def test_the_exact_title_and_body_arrive(server: Server) -> None:
    AppriseChannel(server.url()).send(notification())
    [got] = server.requests
    assert got.path == "/hook"
    assert got.headers["Content-Type"] == "application/json"
    assert got.json()["title"] == "Thank Jane Doé"
    assert got.json()["message"] == "Dear Jane,\nthank you.\n\nDue: Mon 2026-12-28 17:00 -0500"
    assert got.json()["type"] == "info"


def test_a_reminder_without_body_or_due_date_sends_its_subject(server: Server) -> None:
    bare = dataclasses.replace(notification(), body=" \n", due_at=None)
    AppriseChannel(server.url()).send(bare)  # Apprise refuses an empty body
    [got] = server.requests
    assert got.json()["message"] == "Thank Jane Doé"
    assert got.json()["title"] == ""


def test_every_url_gets_it_and_a_comma_inside_a_url_stays(server: Server) -> None:
    # ":tag=..." adds a field to Apprise's JSON payload: here one holding a comma.
    urls = f" {server.url('/a')}?:tag=a,b, {server.url('/b')},{server.url('/c')}\n"
    sender = AppriseChannel(urls)
    assert sender.schemes == ("json", "json", "json")
    sender.send(notification())
    assert sorted(r.path for r in server.requests) == ["/a", "/b", "/c"]
    [first] = [r for r in server.requests if r.path == "/a"]
    assert first.json()["tag"] == "a,b"
    assert all(r.json()["title"] == "Thank Jane Doé" for r in server.requests)


def test_a_500_raises_without_the_url(server: Server) -> None:
    server.status = 500
    url = server.url(userinfo=f"robot:{TOKEN}@")
    sender = AppriseChannel(url)
    with pytest.raises(AppriseError, match="not delivered") as failure:
        sender.send(notification())
    [got] = server.requests  # the credentials did go to the server, as basic auth
    assert got.headers["Authorization"] == "Basic " + base64.b64encode(
        f"robot:{TOKEN}".encode()).decode()
    message = str(failure.value)
    assert "json://..." in message and "JSON: failure" in message
    for secret in (url, TOKEN, "robot", f"127.0.0.1:{server.port}", "/hook"):
        assert secret not in message and secret not in repr(sender)
    assert failure.value.__cause__ is None


def test_a_closed_port_raises_without_the_url(installed: None, closed_port: int) -> None:
    url = f"json://robot:{TOKEN}@127.0.0.1:{closed_port}/hook"
    with pytest.raises(AppriseError, match="not delivered") as failure:
        AppriseChannel(url, timeout=5).send(notification())
    assert TOKEN not in str(failure.value) and url not in str(failure.value)


def test_when_one_url_fails_send_raises(server: Server, closed_port: int) -> None:
    urls = f"{server.url('/a')} json://127.0.0.1:{closed_port}/b"
    with pytest.raises(AppriseError, match="not delivered"):
        AppriseChannel(urls).send(notification())
    assert [r.path for r in server.requests] == ["/a"]


# -- loading ---------------------------------------------------------------------------


def register(environ: dict[str, str]) -> list[AppriseChannel]:
    found: list[AppriseChannel] = []
    followup_register_channels(register=found.append, settings=Settings(environ=environ))
    return found


def test_split_urls() -> None:
    assert split_urls("") == []
    assert split_urls(" a://x ,b://y,, c://z?to=1,2\n") == ["a://x", "b://y", "c://z?to=1,2"]
    assert split_urls("a://x,token b://y") == ["a://x,token", "b://y"]


def test_loaded_through_the_entry_point_only_when_configured(server: Server) -> None:
    plugins = load_plugins(environ={"FOLLOWUP_APPRISE_URLS": server.url()})
    assert "apprise" in plugins.channels.names(), plugins.failures
    assert "apprise" not in plugins.failures
    [loaded] = [p for p in plugins.loaded if p.name == "apprise"]
    assert loaded.channels == ("apprise",)
    assert "followup.plugins.apprise" in loaded.origin
    empty = load_plugins(environ={})
    assert "apprise" not in empty.channels.names() and "apprise" not in empty.failures


def test_settings_and_the_secret_file(installed: None, tmp_path: Path) -> None:
    assert register({}) == []
    secret_file = tmp_path / "urls"
    secret_file.write_text(f"json://127.0.0.1:9/a, jsons://robot:{TOKEN}@example.com/b\n")
    [sender] = register({"FOLLOWUP_APPRISE_URLS_FILE": str(secret_file),
                         "FOLLOWUP_APPRISE_TIMEOUT": "2.5"})
    assert sender.name == "apprise" and sender.timeout == 2.5
    assert sender.schemes == ("json", "jsons")
    [default] = register({"FOLLOWUP_APPRISE_URLS": "json://127.0.0.1:9/a"})
    assert default.timeout == 30


@pytest.mark.parametrize(("environ", "message"), [
    ({"FOLLOWUP_APPRISE_TIMEOUT": "5"}, "FOLLOWUP_APPRISE_URLS_FILE"),
    ({"FOLLOWUP_APPRISE_URLS": " , "}, "no URL in FOLLOWUP_APPRISE_URLS"),
    ({"FOLLOWUP_APPRISE_URLS": TOKEN}, "URL 1 of 1 in FOLLOWUP_APPRISE_URLS has no scheme"),
    ({"FOLLOWUP_APPRISE_URLS": f"json://127.0.0.1/a nosuch://{TOKEN}"},
     "URL 2 of 2 .* nosuch://... URL, .* no enabled service for nosuch://"),
    ({"FOLLOWUP_APPRISE_URLS": f"tgram://{TOKEN}"}, r"cannot use URL 1 of 1 .*\(tgram://...\)"),
    ({"FOLLOWUP_APPRISE_URLS": "json://127.0.0.1/a", "FOLLOWUP_APPRISE_TIMEOUT": "0"},
     "positive number"),
    ({"FOLLOWUP_APPRISE_URLS": "json://127.0.0.1/a", "FOLLOWUP_APPRISE_TIMEOUT": "soon"},
     "must be a number"),
])
def test_misconfiguration_is_a_plugin_error_without_the_urls(
    installed: None, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(PluginError, match=message) as failure:
        register(environ)
    assert TOKEN not in str(failure.value)
    plugins = load_plugins(environ=environ)
    assert "apprise" not in plugins.channels.names()
    assert TOKEN not in plugins.failures["apprise"]
    assert "console" in plugins.channels.names()  # the other plugins still load


def test_without_the_extra_a_configured_channel_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)  # import apprise now fails
    assert register({}) == []  # not configured: Apprise is not even imported
    assert "apprise" not in load_plugins(environ={}).failures
    environ = {"FOLLOWUP_APPRISE_URLS": f"json://robot:{TOKEN}@127.0.0.1/hook"}
    with pytest.raises(PluginError) as failure:
        register(environ)
    assert str(failure.value) == NEEDS_EXTRA
    assert NEEDS_EXTRA == (
        "the apprise channel needs the extra: pip install 'followup-engine[apprise]'"
    )
    plugins = load_plugins(environ=environ)
    assert plugins.failures["apprise"] == f"PluginError: {NEEDS_EXTRA}"
    assert plugins.channels.names() == ["console"]


# -- end to end, through the engine ---------------------------------------------------


@pytest.fixture
def engine(server: Server, tmp_path: Path) -> Iterator[Engine]:
    pack = tmp_path / "apprise-pack.yaml"
    pack.write_text("version: 1\nextends: after-interview\nchannels: [apprise]\n")
    plugins = load_plugins(environ={"FOLLOWUP_APPRISE_URLS": server.url()})
    assert "apprise" in plugins.channels.names(), plugins.failures
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


def test_the_engine_posts_the_thank_you_reminder(engine: Engine, server: Server) -> None:
    report = engine.run_due()
    [note] = [n for n in report.notifications if n.rule == "thank-you-notes"]
    assert note.contact == "Jane Doe" and note.channels == ("apprise",)
    assert not report.delivery.failed and not report.delivery.dead
    assert len(server.requests) == len(report.notifications)
    [got] = [r for r in server.requests if r.json()["title"] == note.subject]
    message = got.json()["message"]
    assert isinstance(message, str)
    assert message.startswith(note.body.rstrip() + "\n\nDue: ")


def test_a_failed_post_is_a_failed_delivery_without_the_url(
    engine: Engine, server: Server
) -> None:
    server.status = 500
    report = engine.run_due()
    assert report.delivery.failed and not report.delivery.delivered
    for row in report.delivery.failed:
        error = str(row.last_error)
        assert error.startswith("AppriseError: apprise json://...: not delivered")
        assert f"127.0.0.1:{server.port}" not in error
