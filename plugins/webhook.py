"""The webhook channel: POSTs each reminder as signed JSON to a URL you run.

For products that take reminders into their own systems (a job tracker, a chat bot, a
CRM). Configure it in the environment, or in ``[channels.webhook]`` of the settings
file (the secret only in the environment or a secret's file)::

    FOLLOWUP_WEBHOOK_URL=https://example.com/hooks/followup
    FOLLOWUP_WEBHOOK_SECRET=...            # or FOLLOWUP_WEBHOOK_SECRET_FILE=/run/secrets/hook
    FOLLOWUP_WEBHOOK_TIMEOUT=10            # seconds, optional

Without any ``FOLLOWUP_WEBHOOK_...`` setting the channel is not registered. A URL whose
scheme is not http or https, or a missing secret, fails loading with a ``PluginError``.
A URL may carry ``user:password@``: it is sent as HTTP basic authentication and never
shown in messages.

The request
-----------
``POST`` to the URL, with the body the notification as JSON: ``key``,
``application_id``, ``owner``, ``rule``, ``created_at``, ``due_at`` (ISO 8601, or null),
``contact``, ``subject``, ``body``, ``data``. The headers:

``Content-Type: application/json``
``Idempotency-Key: <key>``
    the notification's key. Delivery is **at least once**: a retry after a timeout, or
    after a crash, sends the same key again. Receivers dedupe by it. A key is sent as it
    is when it is visible ASCII; one holding other characters (a name such as
    ``Łukasz Wójcik`` or ``王伟``, a line break) is sent in the RFC 8187 form
    ``utf-8''<percent-encoded UTF-8>``. Each key has one header value and each header
    value one key, so deduping by the header as received is exact;
    ``key_from_header(value)`` gives the key back (it equals the body's ``key``).
``X-Followup-Timestamp: <unix seconds>``
    when this attempt was signed.
``X-Followup-Signature: sha256=<hex>``
    HMAC-SHA256, keyed with the secret (UTF-8), of the ASCII timestamp, a dot, and the
    body's exact bytes: ``hmac(secret, f"{timestamp}.".encode() + body)``.

Any 2xx answer counts as delivered. Anything else raises, and the dispatcher retries
with backoff: another status, a network error, or no answer within the timeout (which
applies to connecting and to each read, as in ``urllib``).

Connections are kept alive: up to four to the URL's host, reused for the next reminders
of a pass over the outbox (``followup.plugins._http``; ``release()`` closes them at the
pass's end), so a batch of reminders costs one connection, not one each.
Through a proxy (``https_proxy`` / ``http_proxy`` for the URL), each request opens its own.

Redirects are never followed: a 3xx answer is a failed attempt that says where it
pointed. Following one would turn the POST into a GET without its body (``urllib`` does
that for 301-303) or send the reminder somewhere the operator never chose (another
scheme, such as ``ftp:`` or ``file:``, or another host). Set the URL to the address that
answers instead.

Checking a request, in the receiver::

    from followup.plugins.webhook import verify

    ok = verify(secret, request.headers["X-Followup-Timestamp"], request.body,
                request.headers["X-Followup-Signature"], max_age=300)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import math
import ssl
import urllib.error
import urllib.parse
import urllib.request
import weakref
from collections.abc import Callable
from email.message import Message

from followup import (
    Channel,
    Clock,
    FollowupError,
    Notification,
    PluginError,
    Settings,
    SystemClock,
    hookimpl,
)
from followup.plugins._http import ConnectionPool
from followup.plugins._payload import key_from_header, key_header, to_json

__all__ = [
    "WebhookChannel",
    "WebhookError",
    "followup_register_channels",
    "key_from_header",
    "sign",
    "verify",
]

_USER_AGENT = "followup-webhook/1"


class WebhookError(FollowupError):
    """An attempt to deliver failed (status, network, timeout); the dispatcher retries."""


def sign(secret: str | bytes, timestamp: str | int, body: bytes) -> str:
    """The ``X-Followup-Signature`` value for ``body`` sent at ``timestamp``."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(key, message, hashlib.sha256).hexdigest()


def verify(
    secret: str | bytes,
    timestamp: str | int,
    body: bytes | str,
    signature: str,
    *,
    max_age: float | None = None,
    now: float | None = None,
) -> bool:
    """Whether ``signature`` (the ``X-Followup-Signature`` header) is the secret's
    signature of ``body`` at ``timestamp`` (the ``X-Followup-Timestamp`` header).

    ``body`` must be the request's exact bytes (text is encoded as UTF-8). The
    comparison takes constant time. With ``max_age`` (seconds), a timestamp further
    than that from ``now`` (the system time when omitted) is refused too, so that a
    recorded request cannot be replayed later.

    >>> verify("s3cret", 1798056000, b"{}", sign("s3cret", 1798056000, b"{}"))
    True
    >>> verify("s3cret", 1798056000, b"{}", sign("other", 1798056000, b"{}"))
    False
    """
    stamp = str(timestamp).strip()
    if not stamp.isascii() or not stamp.isdigit():
        return False
    data = body.encode("utf-8") if isinstance(body, str) else body
    expected = sign(secret, stamp, data).encode("ascii")
    good = hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))
    if not good or max_age is None:
        return good
    current = now if now is not None else SystemClock().now().timestamp()
    return abs(current - int(stamp)) <= max_age


class WebhookChannel:
    """POSTs each notification, signed with the secret, to one http or https URL."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float = 10.0,
        clock: Clock | None = None,
    ) -> None:
        """Check ``url`` and keep what each request needs; ``clock`` dates signatures.

        Raises ``PluginError`` for a scheme other than http or https, a URL without a
        host, an empty secret or a timeout that is not a positive number.
        """
        #: The URL as messages show it: without user, password, query or fragment.
        self.display_url = _display(url)
        try:
            parts = urllib.parse.urlsplit(url.strip())
        except ValueError:
            raise PluginError(
                f"channel 'webhook': FOLLOWUP_WEBHOOK_URL is not a URL: {self.display_url!r}"
            ) from None
        if parts.scheme.lower() not in ("http", "https"):
            raise PluginError(
                f"channel 'webhook': FOLLOWUP_WEBHOOK_URL must be an http or https URL, "
                f"not {self.display_url!r}"
            )
        try:
            parts.port  # noqa: B018 - reading it checks it
        except ValueError:
            raise PluginError(
                f"channel 'webhook': FOLLOWUP_WEBHOOK_URL has a bad port: {self.display_url!r}"
            ) from None
        if not parts.hostname:
            raise PluginError(
                f"channel 'webhook': FOLLOWUP_WEBHOOK_URL has no host: {self.display_url!r}"
            )
        if not secret.strip():
            raise PluginError(
                "channel 'webhook': the secret is empty: set FOLLOWUP_WEBHOOK_SECRET or "
                "FOLLOWUP_WEBHOOK_SECRET_FILE to a long random value"
            )
        if not (math.isfinite(timeout) and timeout > 0):
            raise PluginError(
                f"channel 'webhook': FOLLOWUP_WEBHOOK_TIMEOUT must be a positive number of "
                f"seconds, not {timeout!r}"
            )
        self._authorization: str | None = None
        if parts.username is not None or parts.password is not None:
            user = urllib.parse.unquote(parts.username or "")
            password = urllib.parse.unquote(parts.password or "")
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            self._authorization = f"Basic {token}"
        netloc = parts.netloc.rpartition("@")[2]
        self._url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
        self._target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        proxies = urllib.request.getproxies()
        # Through a proxy, urllib's handler does the work (a connection per request).
        self._proxied = parts.scheme.lower() in proxies and not urllib.request.proxy_bypass(
            parts.hostname or "")
        self._pool = ConnectionPool(parts._replace(netloc=netloc), timeout,
                                    context=ssl.create_default_context())
        weakref.finalize(self, self._pool.close)  # a dropped channel closes its connections
        self._secret = secret
        self.timeout = timeout
        self._clock: Clock = clock if clock is not None else SystemClock()
        # Only the handlers a POST over http(s) needs. No redirect handler, so a 3xx
        # answer is an HTTPError like any other non-2xx; and no file:, ftp: or data:
        # handler that anything could reach.
        self._opener = urllib.request.OpenerDirector()
        for handler in (
            urllib.request.ProxyHandler(),
            urllib.request.HTTPHandler(),
            urllib.request.HTTPSHandler(context=ssl.create_default_context()),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
        ):
            self._opener.add_handler(handler)

    def headers(self, notification: Notification, body: bytes) -> dict[str, str]:
        """The headers of one attempt, signed at the clock's current second."""
        timestamp = str(int(self._clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": key_header(notification.key),
            "X-Followup-Timestamp": timestamp,
            "X-Followup-Signature": sign(self._secret, timestamp, body),
            "User-Agent": _USER_AGENT,
        }
        if self._authorization is not None:
            headers["Authorization"] = self._authorization
        return headers

    def send(self, notification: Notification) -> None:
        """POST ``notification``; raise ``WebhookError`` unless the answer is 2xx."""
        body = to_json(notification).encode("ascii")
        headers = self.headers(notification, body)
        if self._proxied:
            self._send_by_proxy(body, headers)
            return
        try:
            answer = self._pool.post(self._target, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            raise WebhookError(f"webhook {self.display_url}: {_why(exc)}") from exc
        if not 200 <= answer.status < 300:
            raise WebhookError(self._refusal(answer.status, answer.reason, answer.headers))

    def release(self) -> None:
        """Close the connections kept alive (a later send opens new ones): the
        dispatcher calls it at the end of each pass over the outbox."""
        self._pool.close()

    def _send_by_proxy(self, body: bytes, headers: dict[str, str]) -> None:
        request = urllib.request.Request(
            self._url, data=body, method="POST", headers=headers
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status: int = response.status
                reason: str = response.reason
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the open response
            raise WebhookError(self._refusal(exc.code, exc.reason, exc.headers)) from exc
        except urllib.error.URLError as exc:
            raise WebhookError(f"webhook {self.display_url}: {_why(exc.reason)}") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise WebhookError(f"webhook {self.display_url}: {_why(exc)}") from exc
        if not 200 <= status < 300:
            raise WebhookError(f"webhook {self.display_url} answered {status} {reason}")

    def _refusal(self, code: int, reason: str, headers: Message) -> str:
        text = f"webhook {self.display_url} answered {code} {reason}".rstrip()
        location = headers.get("Location")
        if 300 <= code < 400 and location:
            text += (
                f", a redirect to {_display(location)}; redirects are not followed: set "
                "FOLLOWUP_WEBHOOK_URL to the address that answers"
            )
        return text

    def __repr__(self) -> str:
        return f"WebhookChannel({self.display_url!r})"


def _display(url: str) -> str:
    """``url`` without user, password, query and fragment: safe to show and to log."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        netloc = parts.netloc.rpartition("@")[2]
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "<an unreadable URL>"


def _why(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "no answer in time (timed out)"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


@hookimpl
def followup_register_channels(register: Callable[[Channel], None], settings: Settings) -> None:
    """Register the ``webhook`` channel when any ``FOLLOWUP_WEBHOOK_...`` setting is
    present; check its URL, secret and timeout first."""
    if not settings.configured("webhook"):
        return
    url = settings.require("webhook", "url")
    secret = settings.secret("webhook", "secret", required=True) or ""
    timeout = settings.number("webhook", "timeout", 10.0)
    register(WebhookChannel(url, secret, timeout=timeout))
