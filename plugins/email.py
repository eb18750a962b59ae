"""The email channel: sends each reminder as one email through an SMTP server.

It loads only when something is set for it (see ``followup.Settings``)::

    FOLLOWUP_EMAIL_HOST=smtp.example.org      required
    FOLLOWUP_EMAIL_FROM=followup@example.org  required: the sender
    FOLLOWUP_EMAIL_TO=ada@example.org         required: where reminders go
    FOLLOWUP_EMAIL_SECURITY=starttls          starttls (default) | ssl | plain
    FOLLOWUP_EMAIL_PORT=587                   default 587 for starttls, 465 for ssl, 25 for plain
    FOLLOWUP_EMAIL_USERNAME=ada               optional; needs a password too
    FOLLOWUP_EMAIL_PASSWORD_FILE=/run/secrets/smtp   or FOLLOWUP_EMAIL_PASSWORD
    FOLLOWUP_EMAIL_TIMEOUT=10                 seconds one send may take, all steps together
    FOLLOWUP_EMAIL_CA_FILE=/etc/ssl/my-ca.pem optional: trust this CA (a private one)

``starttls`` and ``ssl`` always verify the server's certificate and host name, against the
system's trusted CAs or ``ca_file``. ``plain`` sends without any encryption, the password
included: use it only for a relay on the same machine (``localhost``) or on a network you
trust.

Each notification becomes one message whose ``Message-ID`` is derived from the
notification's idempotency key (a hash of it), so a retried reminder carries the same
``Message-ID`` and a mail client can recognise the duplicate. ``X-Followup-Key`` carries the
key itself, as the webhook's ``Idempotency-Key`` does: as it is when it is visible ASCII,
otherwise as ``utf-8''<percent-encoded UTF-8>`` (RFC 8187; ``key_from_header`` in
``followup.plugins.webhook`` reads it back). The ``Subject`` is one line: line breaks
become spaces and control characters are dropped, and what is not ASCII is written as
RFC 2047 encoded words by the email package. So no name, whatever its script or its line
breaks, can split a header or make a reminder undeliverable. Delivery is at least once: a failure raises
``EmailError`` and the dispatcher tries again later. No error ever shows the password.
"""

from __future__ import annotations

import hashlib
import math
import smtplib
import ssl
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import TYPE_CHECKING, Any, Literal

from followup import Channel, FollowupError, Notification, PluginError, Settings, hookimpl
from followup.plugins._payload import header_text, key_header

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

__all__ = ["EmailChannel", "EmailError", "EmailSettings", "message_id"]

CHANNEL = "email"
Security = Literal["plain", "starttls", "ssl"]
DEFAULT_PORTS: dict[Security, int] = {"plain": 25, "starttls": 587, "ssl": 465}
_SECURITY: dict[str, Security] = {"plain": "plain", "starttls": "starttls", "ssl": "ssl"}
GRACE = 5.0  # seconds the dispatcher waits beyond the channel's own timeout
QUIT_TIMEOUT = 1.0


class EmailError(FollowupError):
    """An email could not be handed to the SMTP server; the dispatcher retries it later.

    The message says where it was going and why it failed; the original error is kept as
    ``__cause__`` unless its text contained the password.
    """


def _var(key: str) -> str:
    return f"FOLLOWUP_{CHANNEL}_{key}".upper()


@dataclass(frozen=True)
class EmailSettings:
    """The email channel's checked settings: where to connect, how, and who to write to."""

    host: str
    sender: str
    recipient: str
    security: Security = "starttls"
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0
    ca_file: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailSettings:
        """Read and check the settings; ``PluginError`` names the first bad one and what
        it should be (never showing the password)."""
        host = settings.require(CHANNEL, "host").strip()
        if any(ch.isspace() for ch in host):
            raise PluginError(f"channel 'email': {_var('host')} must be a host name or "
                              f"address without spaces, not {host!r}")
        raw_security = (settings.get(CHANNEL, "security") or "starttls").strip().lower()
        security = _SECURITY.get(raw_security)
        if security is None:
            raise PluginError(
                f"channel 'email': {_var('security')} must be starttls (the default), ssl "
                f"(implicit TLS, usually port 465) or plain (no encryption: loopback or a "
                f"trusted relay only), not {raw_security!r}"
            )
        port = settings.integer(CHANNEL, "port", DEFAULT_PORTS[security])
        if not 1 <= port <= 65535:
            raise PluginError(
                f"channel 'email': {_var('port')} must be a port number from 1 to 65535, "
                f"not {port}"
            )
        timeout = settings.number(CHANNEL, "timeout", 10.0)
        if not (math.isfinite(timeout) and timeout > 0):
            raise PluginError(
                f"channel 'email': {_var('timeout')} must be a number of seconds above 0, "
                f"not {timeout!r}"
            )
        sender = _address(settings.require(CHANNEL, "from"), "from")
        recipient = _address(settings.require(CHANNEL, "to"), "to")
        username = (settings.get(CHANNEL, "username") or "").strip() or None
        password = settings.secret(CHANNEL, "password") or None
        if username and not password:
            raise PluginError(
                f"channel 'email': {_var('username')} is set, so a password is needed too: "
                f"set {_var('password')} or {_var('password')}_FILE"
            )
        if password and not username:
            raise PluginError(
                f"channel 'email': a password is set, so {_var('username')} is needed too "
                "(or remove the password to send without logging in)"
            )
        ca_file = (settings.get(CHANNEL, "ca_file") or "").strip() or None
        if ca_file and security == "plain":
            raise PluginError(
                f"channel 'email': {_var('ca_file')} is set but {_var('security')} is plain, "
                "which uses no TLS: choose starttls or ssl, or remove the CA file"
            )
        config = cls(host=host, sender=sender, recipient=recipient, security=security,
                     port=port, username=username, password=password, timeout=timeout,
                     ca_file=ca_file)
        if security != "plain":
            config.tls_context()  # a missing or unreadable CA file is a setting error
        return config

    def tls_context(self) -> ssl.SSLContext:
        """A client context that verifies the server: the system's CAs, or ``ca_file``."""
        try:
            return ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise PluginError(
                f"channel 'email': {_var('ca_file')} must name a readable file of PEM CA "
                f"certificates; {self.ca_file!r}: {reason}"
            ) from exc


def _address(value: str, key: str) -> str:
    """Check one address (``ada@example.org`` or ``Ada <ada@example.org>``)."""
    text = value.strip()
    _name, addr = parseaddr(text)
    if "\r" in text or "\n" in text or "@" not in addr or any(ch.isspace() for ch in addr):
        raise PluginError(
            f"channel 'email': {_var(key)} must be one email address such as "
            f"ada@example.org or 'Ada <ada@example.org>', not {text!r}"
        )
    return text


def message_id(key: str) -> str:
    """The ``Message-ID`` for a notification's idempotency key: the same key, the same id."""
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@followup>"


class EmailChannel:
    """Delivers reminders as email through one SMTP server, to one address."""

    name = CHANNEL

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings
        #: How long the dispatcher waits for ``send``: a little longer than the channel's
        #: own deadline, so that a slow server ends in this channel's clear error, with
        #: its connection closed, rather than in an abandoned thread.
        self.timeout = settings.timeout + GRACE
        self._tls = None if settings.security == "plain" else settings.tls_context()
        # The session kept between sends until release(), or until the channel is
        # dropped (then its socket is closed, without a goodbye that could block).
        self._kept: list[_SMTP] = []
        self._lock = threading.Lock()
        weakref.finalize(self, _drop, self._kept)

    def compose(self, notification: Notification) -> EmailMessage:
        """The message for a notification: its subject, its body and a line with the due
        date, with headers that tie it to the notification's idempotency key."""
        s = self.settings
        msg = EmailMessage()
        msg["From"] = s.sender
        msg["To"] = s.recipient
        # A subject rendered from a template may carry a line break; a header may not.
        msg["Subject"] = header_text(notification.subject)
        # The time the reminder fired, not the wall clock: every retry is the same message.
        msg["Date"] = format_datetime(notification.created_at)
        msg["Message-ID"] = message_id(notification.key)
        msg["X-Followup-Key"] = key_header(notification.key)
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
        msg.set_content(_body(notification))
        return msg

    def send(self, notification: Notification) -> None:
        """Send one notification; raise ``EmailError`` when the server did not
        accept it (the dispatcher retries). The session is kept for the next send
        until ``release()``; a kept session the server has ended meanwhile is replaced
        by a new one, once."""
        msg = self.compose(notification)
        s = self.settings
        envelope_from = parseaddr(s.sender)[1]
        envelope_to = parseaddr(s.recipient)[1]
        deadline = time.monotonic() + s.timeout
        try:
            smtp = self._take()
            if smtp is not None:
                smtp.deadline = deadline
                try:
                    smtp.send_message(msg, from_addr=envelope_from, to_addrs=[envelope_to])
                except (smtplib.SMTPServerDisconnected, ConnectionError):
                    smtp.close()  # the server ended the kept session: open a new one
                except BaseException:
                    _close(smtp)
                    raise
                else:
                    self._keep(smtp)
                    return
            smtp = self._open(deadline)
            try:
                smtp.send_message(msg, from_addr=envelope_from, to_addrs=[envelope_to])
            except BaseException:
                _close(smtp)
                raise
            self._keep(smtp)
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            # Keep the original for tracebacks unless its text holds the password (a
            # server may echo what it was sent).
            password = s.password
            cause = None if password and password in str(exc) else exc
            raise self._error(exc) from cause

    def release(self) -> None:
        """End the kept session (QUIT); the next send opens a new one. The dispatcher
        calls it at the end of each pass over the outbox, so a batch of reminders
        shares one session, one TLS handshake and one login."""
        smtp = self._take()
        if smtp is not None:
            _close(smtp)

    def _take(self) -> _SMTP | None:
        with self._lock:
            return self._kept.pop() if self._kept else None

    def _keep(self, smtp: _SMTP) -> None:
        with self._lock:
            if not self._kept:
                self._kept.append(smtp)
                return
        _close(smtp)

    def _open(self, deadline: float) -> _SMTP:
        """A new session, secured and logged in as the settings say."""
        s = self.settings
        smtp = self._connect(deadline=deadline)
        try:
            if s.security == "starttls":
                smtp.starttls(context=self._tls)  # refuses a server without STARTTLS
            if s.username is not None and s.password is not None:
                smtp.login(s.username, s.password)
        except BaseException:
            _close(smtp)
            raise
        return smtp

    def _connect(self, *, deadline: float) -> _SMTP:
        s = self.settings
        if s.security == "ssl":
            return _SMTPOverTLS(s.host, s.port, deadline=deadline, context=self._tls)
        return _SMTP(s.host, s.port, deadline=deadline)

    def _error(self, exc: BaseException) -> EmailError:
        s = self.settings
        detail = str(exc) or "no details"
        if s.password:
            detail = detail.replace(s.password, "***")
        hint = ""
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            hint = f" (check {_var('username')} and {_var('password')})"
        elif isinstance(exc, ssl.SSLCertVerificationError):
            hint = (f" (the server's certificate is not trusted: set {_var('ca_file')} to the "
                    "CA that signed it)")
        return EmailError(
            f"email to {s.recipient} via {s.host}:{s.port} ({s.security}) failed: "
            f"{type(exc).__name__}: {detail}{hint}"
        )


def _body(notification: Notification) -> str:
    text = notification.body.rstrip()
    if notification.due_at is None:
        return text + "\n" if text else ""
    local = notification.data.get("due_local")
    when = datetime.fromisoformat(local) if isinstance(local, str) else notification.due_at
    due = f"Due: {when:%a %Y-%m-%d %H:%M %z}"
    return f"{text}\n\n{due}\n" if text else f"{due}\n"


class _SMTP(smtplib.SMTP):
    """An SMTP client with one deadline for a whole exchange.

    smtplib's own timeout bounds each socket operation, and a send is a dozen of them;
    here every command and every reply gets only the time left.
    """

    def __init__(self, host: str, port: int, *, deadline: float, **options: Any) -> None:
        self.deadline = deadline
        super().__init__(host, port, timeout=self._left(), **options)

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out: the server did not finish in time")
        return left

    def _tighten(self) -> None:
        left = self._left()
        if self.sock is not None:
            self.sock.settimeout(left)

    def send(self, s: ReadableBuffer | str) -> None:
        self._tighten()
        super().send(s)

    def getreply(self) -> tuple[int, bytes]:
        self._tighten()
        return super().getreply()


class _SMTPOverTLS(_SMTP, smtplib.SMTP_SSL):
    """Implicit TLS (``security = ssl``) with the same deadline."""


def _drop(kept: list[_SMTP]) -> None:
    while kept:
        kept.pop().close()


def _close(smtp: _SMTP) -> None:
    # After the server accepted the message, a failed QUIT must not turn it into a
    # failure: a retry would send it twice. A slow goodbye gets a second at most.
    try:
        smtp.deadline = time.monotonic() + QUIT_TIMEOUT
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


@hookimpl
def followup_register_channels(register: Callable[[Channel], None], settings: Settings) -> None:
    """Register the email channel when any ``FOLLOWUP_EMAIL_*`` setting (or a
    ``[channels.email]`` table) exists; a bad setting raises ``PluginError``."""
    if settings.configured(CHANNEL):
        register(EmailChannel(EmailSettings.from_settings(settings)))
