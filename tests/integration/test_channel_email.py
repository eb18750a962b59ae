"""The email channel against a real SMTP server (aiosmtpd) on loopback.

Plain SMTP, STARTTLS and implicit TLS, with a private CA made by trustme; a login that
works and one that fails; certificates that must be refused; loading through the real
plugin manager; and one reminder travelling from a rule to an inbox.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from followup import (
    Contact,
    Engine,
    FakeClock,
    MemoryStore,
    Notification,
    PluginError,
    Settings,
    load_rules,
)
from followup.delivery.manager import load_plugins
from followup.plugins._payload import header_text
from followup.plugins.email import EmailChannel, EmailError, EmailSettings, message_id
from followup.plugins.webhook import key_from_header

HOST = "127.0.0.1"
USERNAME = "ada"
PASSWORD = "correct-horse-battery-staple-7"  # distinctive, so a leak is easy to spot
SENDER = "Followup <followup@example.org>"
RECIPIENT = "ada@example.org"


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str | None, list[str]]] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content
        assert isinstance(raw, bytes)
        # SMTP carries lines ending in CRLF; read them as a mail client stores them.
        message = message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def check_login(server: SMTPServer, session: Session, envelope: Envelope, mechanism: str,
                auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USERNAME.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


Server = Callable[..., tuple[Inbox, int]]


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    """Starts aiosmtpd servers on loopback (keyword arguments go to the Controller) and
    stops every one of them afterwards."""
    started: list[Controller] = []

    def start(**options: Any) -> tuple[Inbox, int]:
        inbox = Inbox()
        port = free_port()
        controller = Controller(inbox, hostname=HOST, port=port, **options)
        controller.start()
        started.append(controller)
        return inbox, port

    try:
        yield start
    finally:
        for controller in started:
            controller.stop()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    """The server's side: a certificate for 127.0.0.1 and localhost, signed by ``ca``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST, "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def other_ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("other-ca") / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def env(**values: str) -> dict[str, str]:
    """FOLLOWUP_EMAIL_* variables; ``from_`` stands for ``from``."""
    return {f"FOLLOWUP_EMAIL_{key.rstrip('_').upper()}": value for key, value in values.items()}


def channel(port: int, **values: str) -> EmailChannel:
    """A channel configured the way an operator would: through the environment."""
    settings = {"host": HOST, "port": str(port), "from_": SENDER, "to": RECIPIENT,
                "timeout": "5", **values}
    return EmailChannel(EmailSettings.from_settings(Settings(environ=env(**settings))))


def reminder(key: str = "app1/thank-you-notes/0/Zoë Ångström/0", **changes: Any) -> Notification:
    values: dict[str, Any] = {
        "key": key, "application_id": "app1", "owner": "ada", "rule": "thank-you-notes",
        "created_at": datetime(2026, 12, 1, 16, 0, tzinfo=UTC),
        "subject": "Thank Zoë Ångström for the interview at Acme",
        "body": "Dear Zoë Ångström,\n\nThank you for talking with me.\n",
        "due_at": datetime(2026, 12, 3, 22, 0, tzinfo=UTC),
        "data": {"due_local": "2026-12-03T17:00:00-05:00"},
    }
    values.update(changes)
    return Notification(**values)


def error_text(exc: BaseException) -> str:
    """Everything a log or traceback could show of an error, its causes included."""
    parts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None:
        parts += [str(seen), repr(seen)]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


# -- what arrives ------------------------------------------------------------------------


def test_a_reminder_arrives_as_one_exact_message(smtp_server: Server) -> None:
    inbox, port = smtp_server()
    sending = channel(port, security="plain")
    note = reminder()

    sending.send(note)
    sending.send(note)  # a retry of the same notification
    sending.send(reminder(key="app1/thank-you-notes/0/Jane Doe/0"))

    assert inbox.envelopes[0] == ("followup@example.org", [RECIPIENT])
    first, again, other = inbox.messages
    assert first["Subject"] == "Thank Zoë Ångström for the interview at Acme"
    assert first["From"] == SENDER
    assert first["To"] == RECIPIENT
    assert first.get_content() == (
        "Dear Zoë Ångström,\n\nThank you for talking with me.\n\nDue: Thu 2026-12-03 17:00 -0500\n"
    )
    # The key names Zoë Ångström: not ASCII, so in its RFC 8187 form, read back exactly.
    assert first["X-Followup-Key"].strip() == (
        "utf-8''app1%2Fthank-you-notes%2F0%2FZo%C3%AB%20%C3%85ngstr%C3%B6m%2F0")
    assert key_from_header(first["X-Followup-Key"]) == note.key
    assert first["Message-ID"] == message_id(note.key)
    assert first["Message-ID"].startswith("<") and first["Message-ID"].endswith("@followup>")
    assert len(first["Message-ID"]) == len("<@followup>") + 32
    assert parsedate_to_datetime(first["Date"]) == note.created_at
    assert first["Auto-Submitted"] == "auto-generated"
    # The same key is the same message, so a mail client can spot a duplicate; another key
    # is another message.
    assert again["Message-ID"] == first["Message-ID"]
    assert again.get_content() == first.get_content()
    assert other["Message-ID"] != first["Message-ID"]


def test_a_reminder_without_a_due_date_or_body(smtp_server: Server) -> None:
    inbox, port = smtp_server()
    channel(port, security="plain").send(
        reminder(subject="Record\nwho interviewed you", body="", due_at=None, data={})
    )
    (message,) = inbox.messages
    assert message["Subject"] == "Record who interviewed you"  # a header holds one line
    assert message.get_content() == "\n"  # an empty body is one empty line on the wire


# A key of realistic length with a name that is not ASCII and has spaces: the email
# package's own RFC 2047 folding of it does not read back as it was written.
LONG_KEY = "0a1b2c3d4e5f/a-much-longer-rule-name-for-testing/12/Maria José García Fernández de la Torre/0"


@pytest.mark.parametrize("key", [
    "app1/thank-you-notes/0/Łukasz Wójcik/0",
    "app1/thank-you-notes/0/王伟/0",
    "app1/thank-you-notes/0/Jane\r\nDoe/0",  # not a key followup builds, but a key
    "app1/thank-you-notes/0/Jane\x1b[2J\x00Doe\u2028/0",
    " utf-8''app1 ",
    LONG_KEY,
])
def test_any_key_arrives_exactly_in_an_ascii_header(smtp_server: Server, key: str) -> None:
    inbox, port = smtp_server()
    channel(port, security="plain").send(reminder(key=key))
    (message,) = inbox.messages
    header = message["X-Followup-Key"].strip()
    assert header.isascii() and header.isprintable()
    assert key_from_header(header) == key
    assert message["Message-ID"] == message_id(key)


@pytest.mark.parametrize("name", ["Łukasz Wójcik", "王伟", "Jane\r\nDoe", "Jane\rDoe\n",
                                  "Jane\x1b]0;pwned\x07\x00Doe\x85\u2028"])
def test_a_name_in_the_subject_never_splits_a_header(smtp_server: Server, name: str) -> None:
    inbox, port = smtp_server()
    channel(port, security="plain").send(reminder(
        key=f"app1/thank-you-notes/0/{name}/0", subject=f"Thank {name} for the interview",
        body=f"Dear {name},\n\nThank you.\n"))
    (message,) = inbox.messages
    subject = message["Subject"]
    assert subject.startswith("Thank ") and subject.endswith(" for the interview")
    assert subject.isprintable() and "\x1b" not in subject
    assert " ".join(subject.split()) == subject  # one line, single spaces
    if name.isprintable():
        assert subject == f"Thank {name} for the interview"  # RFC 2047, read back exactly
    assert [key for key in message if key.lower().startswith("x-")] == ["X-Followup-Key"]
    assert key_from_header(message["X-Followup-Key"]) == f"app1/thank-you-notes/0/{name}/0"


# -- TLS and login -----------------------------------------------------------------------


def test_starttls_with_a_login(smtp_server: Server, server_tls: ssl.SSLContext, ca_file: str,
                               tmp_path: Path) -> None:
    inbox, port = smtp_server(tls_context=server_tls, require_starttls=True,
                              authenticator=check_login, auth_require_tls=True)
    secret = tmp_path / "smtp-password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")

    channel(port, security="starttls", ca_file=ca_file, username=USERNAME,
            password_file=str(secret)).send(reminder())

    (message,) = inbox.messages
    assert key_from_header(message["X-Followup-Key"]) == reminder().key


def test_a_wrong_password_fails_without_showing_it(smtp_server: Server, server_tls: ssl.SSLContext,
                                                   ca_file: str) -> None:
    inbox, port = smtp_server(tls_context=server_tls, require_starttls=True,
                              authenticator=check_login, auth_require_tls=True)
    wrong = PASSWORD + "-but-wrong"
    sending = channel(port, security="starttls", ca_file=ca_file, username=USERNAME,
                      password=wrong)

    with pytest.raises(EmailError, match="SMTPAuthenticationError") as caught:
        sending.send(reminder())

    assert "FOLLOWUP_EMAIL_PASSWORD" in str(caught.value)
    assert wrong not in error_text(caught.value)
    assert wrong not in repr(sending.settings)
    assert inbox.messages == []


def test_implicit_tls(smtp_server: Server, server_tls: ssl.SSLContext, ca_file: str) -> None:
    inbox, port = smtp_server(ssl_context=server_tls)
    channel(port, security="ssl", ca_file=ca_file).send(reminder())
    (message,) = inbox.messages
    assert message["Subject"] == reminder().subject


@pytest.mark.parametrize("security", ["starttls", "ssl"])
@pytest.mark.parametrize("trust", ["another CA", "the system's CAs"])
def test_a_certificate_from_an_untrusted_ca_is_refused(
    smtp_server: Server, server_tls: ssl.SSLContext, other_ca_file: str, security: str,
    trust: str,
) -> None:
    if security == "ssl":
        inbox, port = smtp_server(ssl_context=server_tls)
    else:
        inbox, port = smtp_server(tls_context=server_tls, require_starttls=True)
    extra = {"ca_file": other_ca_file} if trust == "another CA" else {}
    sending = channel(port, security=security, **extra)

    with pytest.raises(EmailError, match="certificate") as caught:
        sending.send(reminder())

    assert "FOLLOWUP_EMAIL_CA_FILE" in str(caught.value)
    assert inbox.messages == []


def test_starttls_never_falls_back_to_plain(smtp_server: Server, ca_file: str) -> None:
    inbox, port = smtp_server()  # offers no STARTTLS
    with pytest.raises(EmailError, match="STARTTLS"):
        channel(port, security="starttls", ca_file=ca_file).send(reminder())
    assert inbox.messages == []


def test_a_closed_port_raises() -> None:
    port = free_port()  # nothing listens there any more
    with pytest.raises(EmailError, match=f"{HOST}:{port}") as caught:
        channel(port, security="plain", timeout="2").send(reminder())
    assert isinstance(caught.value.__cause__, OSError)


def test_a_silent_server_costs_the_timeout_and_no_more() -> None:
    with socket.socket() as silent:  # accepts connections, never says hello
        silent.bind((HOST, 0))
        silent.listen()
        sending = channel(silent.getsockname()[1], security="plain", timeout="0.5")
        started = time.monotonic()
        with pytest.raises(EmailError, match="timed out"):
            sending.send(reminder())
        assert time.monotonic() - started < 3
    # The dispatcher waits a little longer than that, so the channel's own error wins.
    assert sending.timeout > sending.settings.timeout


def test_a_slow_server_meets_one_deadline_for_the_whole_send() -> None:
    # Each answer comes within the timeout, but all of them together do not.
    delay, timeout = 0.4, 1.0
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen()

        def answer_slowly() -> None:
            connection, _ = listener.accept()
            with connection, connection.makefile("rb") as lines:
                try:
                    time.sleep(delay)
                    connection.sendall(b"220 slow.example ESMTP\r\n")
                    for _line in lines:
                        time.sleep(delay)
                        connection.sendall(b"250 ok\r\n")
                except OSError:
                    pass  # the client gave up and closed

        server = threading.Thread(target=answer_slowly)
        server.start()
        try:
            sending = channel(listener.getsockname()[1], security="plain", timeout=str(timeout))
            started = time.monotonic()
            with pytest.raises(EmailError, match="timed out"):
                sending.send(reminder())
            assert time.monotonic() - started < timeout + delay
        finally:
            server.join(5)


# -- settings ------------------------------------------------------------------------------

GOOD = {"host": HOST, "from_": SENDER, "to": RECIPIENT}


@pytest.mark.parametrize(("values", "expected"), [
    ({"host": ""}, ["FOLLOWUP_EMAIL_HOST"]),
    ({"to": ""}, ["FOLLOWUP_EMAIL_TO"]),
    ({"from_": "not an address"}, ["FOLLOWUP_EMAIL_FROM", "one email address"]),
    ({"security": "tls1"}, ["FOLLOWUP_EMAIL_SECURITY", "'tls1'", "starttls", "ssl", "plain"]),
    ({"port": "smtp"}, ["FOLLOWUP_EMAIL_PORT", "whole number"]),
    ({"port": "70000"}, ["FOLLOWUP_EMAIL_PORT", "1 to 65535"]),
    ({"timeout": "0"}, ["FOLLOWUP_EMAIL_TIMEOUT", "above 0"]),
    ({"username": USERNAME}, ["FOLLOWUP_EMAIL_USERNAME", "FOLLOWUP_EMAIL_PASSWORD"]),
    ({"password": PASSWORD}, ["FOLLOWUP_EMAIL_USERNAME"]),
    ({"ca_file": "/nonexistent/ca.pem", "password": PASSWORD, "username": USERNAME},
     ["FOLLOWUP_EMAIL_CA_FILE", "/nonexistent/ca.pem"]),
    ({"ca_file": "/etc/hosts", "security": "plain"}, ["FOLLOWUP_EMAIL_CA_FILE", "plain"]),
])
def test_a_bad_setting_says_which_and_what_is_expected(values: dict[str, str],
                                                       expected: list[str]) -> None:
    with pytest.raises(PluginError) as caught:
        EmailSettings.from_settings(Settings(environ=env(**{**GOOD, **values})))
    for text in expected:
        assert text in str(caught.value)
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(("security", "port"), [("plain", 25), ("starttls", 587), ("ssl", 465)])
def test_the_default_port_follows_security(security: str, port: int) -> None:
    settings = EmailSettings.from_settings(Settings(environ=env(**GOOD, security=security)))
    assert (settings.security, settings.port, settings.timeout) == (security, port, 10.0)


# -- through the plugin manager and the engine ---------------------------------------------


def test_loaded_by_the_plugin_manager_only_when_configured() -> None:
    plugins = load_plugins(environ=env(**GOOD))
    assert isinstance(plugins.channels.get("email"), EmailChannel)
    assert "email" not in plugins.failures
    assert [p.channels for p in plugins.loaded if p.name == "email"] == [("email",)]

    nothing = load_plugins(environ={})
    assert "email" not in nothing.channels.names()
    assert "email" not in nothing.failures

    bad = load_plugins(environ=env(**GOOD, security="tls1"))
    assert "email" not in bad.channels.names()
    assert "FOLLOWUP_EMAIL_SECURITY must be starttls" in bad.failures["email"]
    assert "'tls1'" in bad.failures["email"]


ROUTED_TO_EMAIL = """
version: 1
extends: after-interview
channels: [email]
"""


@pytest.mark.parametrize("name", ["Łukasz Wójcik", "王伟", "Jane\r\nDoe"])
def test_any_interviewer_name_reaches_the_inbox(smtp_server: Server, name: str) -> None:
    inbox, port = smtp_server()
    plugins = load_plugins(environ=env(**GOOD, port=str(port), security="plain"))
    clock = FakeClock(datetime(2026, 12, 1, 16, 0, tzinfo=UTC))
    with Engine(rules=load_rules("mine.yaml", text=ROUTED_TO_EMAIL), store=MemoryStore(),
                clock=clock, channels=plugins.channels) as engine:
        engine.add_application(
            owner=name, company="Acme", role="Engineer",
            facts={"interviewed_at": "2026-12-01T14:00:00+00:00"},
            contacts=[Contact(name=name, role="interviewer", title="CTO")],
        )
        report = engine.run_due()
    assert report.delivery is not None
    assert report.delivery.failed == [] and report.delivery.dead == []
    (thanks,) = [n for n in report.notifications if n.rule == "thank-you-notes"]
    (message,) = [m for m in inbox.messages
                  if key_from_header(m["X-Followup-Key"]) == thanks.key]
    assert message["Subject"] == header_text(thanks.subject)


def test_a_thank_you_draft_travels_from_a_rule_to_an_inbox(smtp_server: Server) -> None:
    inbox, port = smtp_server()
    plugins = load_plugins(environ=env(**GOOD, port=str(port), security="plain"))
    clock = FakeClock(datetime(2026, 12, 1, 16, 0, tzinfo=UTC))  # a Tuesday afternoon
    with Engine(rules=load_rules("mine.yaml", text=ROUTED_TO_EMAIL), store=MemoryStore(),
                clock=clock, channels=plugins.channels) as engine:
        engine.add_application(
            owner="ada", company="Acme", role="Engineer",
            facts={"interviewed_at": "2026-12-01T14:00:00+00:00",
                   "decision_expected_on": "2026-12-15"},
            contacts=[Contact(name="Jane Doe", role="interviewer",
                              title="Engineering Manager")],
        )
        report = engine.run_due()

    assert report.delivery is not None
    assert report.delivery.failed == [] and report.delivery.dead == []
    assert len(inbox.messages) == len(report.delivery.delivered)
    (thanks,) = [n for n in report.notifications if n.rule == "thank-you-notes"]
    (message,) = [m for m in inbox.messages
                  if key_from_header(m["X-Followup-Key"]) == thanks.key]
    assert message["Subject"] == "Thank Jane Doe for the interview at Acme"
    assert message["Message-ID"] == message_id(thanks.key)
    body = message.get_content()
    assert body.startswith("Dear Jane Doe,\n")
    assert "as Engineering Manager" in body
    assert body.endswith("\n\nDue: Thu 2026-12-03 17:00 +0000\n")


# -- one session for a batch ----------------------------------------------------------


def counting_login(logins: list[str]) -> Callable[..., AuthResult]:
    def check(server: SMTPServer, session: Session, envelope: Envelope, mechanism: str,
              auth_data: Any) -> AuthResult:
        logins.append(mechanism)
        return check_login(server, session, envelope, mechanism, auth_data)

    return check


def test_a_batch_of_reminders_shares_one_session_and_one_login(smtp_server: Server) -> None:
    logins: list[str] = []
    inbox, port = smtp_server(authenticator=counting_login(logins), auth_require_tls=False)
    email = channel(port, security="plain", username=USERNAME, password=PASSWORD)
    for i in range(3):
        email.send(reminder(key=f"app{i}/thank-you-notes/0/-/0"))
    assert len(inbox.messages) == 3 and len(logins) == 1
    email.release()  # the dispatcher's end of a pass: QUIT
    email.send(reminder(key="app9/thank-you-notes/0/-/0"))
    email.release()
    assert [m["Message-ID"] for m in inbox.messages] == [
        message_id(f"app{i}/thank-you-notes/0/-/0") for i in (0, 1, 2, 9)]
    assert len(logins) == 2


def test_a_session_the_server_ended_is_replaced_once(smtp_server: Server) -> None:
    logins: list[str] = []
    inbox, port = smtp_server(authenticator=counting_login(logins), auth_require_tls=False,
                              timeout=0.3)
    email = channel(port, security="plain", username=USERNAME, password=PASSWORD)
    email.send(reminder(key="app1/thank-you-notes/0/-/0"))
    time.sleep(0.8)  # the server's idle timeout ends the kept session
    email.send(reminder(key="app2/thank-you-notes/0/-/0"))
    email.release()
    assert [m["Message-ID"] for m in inbox.messages] == [
        message_id("app1/thank-you-notes/0/-/0"), message_id("app2/thank-you-notes/0/-/0")]
    assert len(logins) == 2  # a new session, logged in again; nothing sent twice
