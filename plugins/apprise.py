"""The apprise channel: sends each reminder through Apprise, to any service it knows.

Apprise (https://github.com/caronc/apprise) reaches over a hundred services (Telegram,
Slack, Discord, ntfy, Matrix, Pushover, email, ...) through one kind of URL each. It is
an optional extra::

    pip install 'followup-engine[apprise]'

Configure it in the environment; the URLs are a secret, because they carry the services'
tokens, so they never go in the settings file::

    FOLLOWUP_APPRISE_URLS="tgram://123456:AbCdEf/987654 ntfy://ntfy.sh/my-topic"
    FOLLOWUP_APPRISE_URLS_FILE=/run/secrets/apprise  # or this: a file holding them
    FOLLOWUP_APPRISE_TIMEOUT=30                      # seconds a send may take, optional

Without any ``FOLLOWUP_APPRISE_...`` setting the channel is not registered, and Apprise is
not even imported. URLs are separated by spaces or commas; a comma inside a URL (as in
``mailto://...?to=a@example.com,b@example.com``) stays in it, since only a comma before
another ``scheme://`` separates two URLs. Every URL is checked when plugins load: one
without a scheme, with a scheme Apprise does not know, or that Apprise cannot read fails
loading with a ``PluginError``.

No message ever shows a URL: errors name a URL by its place in the list and its scheme
only, as ``tgram://...``.

Sending
-------
Each reminder becomes one Apprise notification, as plain text: the title is the
reminder's subject on one line (line breaks become spaces, control characters are
dropped), the body is its body and a ``Due:`` line. (A reminder with neither is sent
with its subject as the body and no title, since Apprise refuses an empty body.)
Apprise sends it to every URL. When any of them fails, ``send`` raises ``AppriseError``
and the dispatcher retries later, to every URL again: delivery is **at least once**, and
a service that took the reminder the first time may get it twice. Apprise logs why a service failed on the
``apprise`` logger (its log masks passwords and tokens); the error here only names which
services failed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING

from followup import Channel, FollowupError, Notification, PluginError, Settings, hookimpl
from followup.plugins._payload import header_text

if TYPE_CHECKING:
    import apprise

__all__ = ["AppriseChannel", "AppriseError", "followup_register_channels", "split_urls"]

CHANNEL = "apprise"
NEEDS_EXTRA = "the apprise channel needs the extra: pip install 'followup-engine[apprise]'"
_VAR = "FOLLOWUP_APPRISE_URLS"
_SCHEME = re.compile(r"([A-Za-z0-9]+)://")
# A comma separates two URLs only where another URL starts: query strings hold commas.
_COMMA_BEFORE_URL = re.compile(r",+(?=[A-Za-z0-9]+://)")


class AppriseError(FollowupError):
    """Apprise could not deliver a reminder to every URL; the dispatcher retries it."""


def split_urls(text: str) -> list[str]:
    """The URLs in ``text``, separated by spaces or by commas before ``scheme://``.

    >>> split_urls("json://a/x?to=1,2, ntfy://b/t,tgram://c/d")
    ['json://a/x?to=1,2', 'ntfy://b/t', 'tgram://c/d']
    """
    urls: list[str] = []
    for word in text.split():
        urls.extend(p.strip(",") for p in _COMMA_BEFORE_URL.split(word) if p.strip(","))
    return urls


def _import_apprise() -> ModuleType:
    try:
        import apprise
    except ImportError as exc:
        if exc.name == "apprise":
            raise PluginError(NEEDS_EXTRA) from None
        raise PluginError(
            f"the apprise package is installed but cannot be imported ({exc}): reinstall "
            "it with pip install 'followup-engine[apprise]'"
        ) from exc
    return apprise


def _known_schemes(instance: apprise.Apprise) -> set[str]:
    """Every scheme the installed Apprise has an enabled service for."""
    known: set[str] = set()
    for service in instance.details().get("schemas", ()):
        for key in ("protocols", "secure_protocols"):
            value = service.get(key) or ()
            known.update([value] if isinstance(value, str) else value)
    return {s.lower() for s in known}


class AppriseChannel:
    """Sends each notification through one Apprise object holding every URL."""

    name = CHANNEL

    def __init__(self, urls: str | Iterable[str], *, timeout: float = 30.0) -> None:
        """Check every URL with Apprise and keep them, ready to send.

        ``urls`` is the text of ``FOLLOWUP_APPRISE_URLS`` or a list of URLs. Raises
        ``PluginError`` when Apprise is not installed, when there is no URL, when a URL
        has no scheme, a scheme Apprise does not know or a form Apprise cannot read, or
        when the timeout is not a positive number. No message shows a URL.
        """
        module = _import_apprise()
        found = split_urls(urls) if isinstance(urls, str) else [u.strip() for u in urls]
        if not found or not all(found):
            raise PluginError(
                f"channel {CHANNEL!r}: no URL in {_VAR}: set it to one or more Apprise URLs, "
                "separated by spaces or commas"
            )
        if not (math.isfinite(timeout) and timeout > 0):
            raise PluginError(
                f"channel {CHANNEL!r}: FOLLOWUP_APPRISE_TIMEOUT must be a positive number of "
                f"seconds, not {timeout!r}"
            )
        self._apprise: apprise.Apprise = module.Apprise()
        known = _known_schemes(self._apprise)
        schemes: list[str] = []
        for place, url in enumerate(found, start=1):
            where = f"URL {place} of {len(found)} in {_VAR}"
            match = _SCHEME.match(url)
            if match is None:
                raise PluginError(
                    f"channel {CHANNEL!r}: {where} has no scheme: write each URL as "
                    "scheme://..., as Apprise's documentation shows for the service"
                )
            scheme = match.group(1).lower()
            # Checked first, as Apprise logs an unknown scheme's URL in full.
            if scheme not in known:
                raise PluginError(
                    f"channel {CHANNEL!r}: {where} is a {scheme}://... URL, and the "
                    f"installed Apprise has no enabled service for {scheme}://: check the "
                    "scheme against https://github.com/caronc/apprise/wiki (some services "
                    "need a package of their own)"
                )
            if not self._apprise.add([url]):
                raise PluginError(
                    f"channel {CHANNEL!r}: Apprise cannot use {where} ({scheme}://...): a part "
                    "is missing or wrong; Apprise's log (logger 'apprise') says which, and "
                    "`apprise --dry-run -vv URL` checks a URL"
                )
            schemes.append(scheme)
        #: The URLs as messages show them: their schemes only, in order.
        self.schemes = tuple(schemes)
        self.timeout = timeout
        self._text = module.NotifyFormat.TEXT

    @property
    def display(self) -> str:
        """The URLs as every message shows them: ``json://..., tgram://...``."""
        return ", ".join(f"{s}://..." for s in self.schemes)

    def send(self, notification: Notification) -> None:
        """Send ``notification`` to every URL; raise ``AppriseError`` unless Apprise
        reports that all of them took it."""
        body, title = _body(notification), header_text(notification.subject)
        if not body.strip():
            body, title = title, ""  # Apprise refuses an empty body: the subject says it all
        try:
            result = self._apprise.notify(body=body, title=title, body_format=self._text)
        except Exception as exc:
            # Apprise catches its services' errors; one that escapes may quote a URL or a
            # token in its text, so only its type is shown.
            raise AppriseError(
                f"apprise {self.display}: Apprise raised {type(exc).__name__} (its text is "
                "not shown, as it may hold a token)"
            ) from None
        try:
            if result:
                return
            detail = _failures(result)
        finally:
            # Apprise 2 keeps a result's log in temporary storage until it is closed.
            close = getattr(result, "close", None)
            if callable(close):
                close()
        raise AppriseError(
            f"apprise {self.display}: not delivered{detail}; Apprise's log (logger "
            "'apprise') says why"
        )

    def __repr__(self) -> str:
        return f"AppriseChannel({self.display!r})"


def _failures(result: object) -> str:
    """Which services failed and how, from an Apprise 2 result (Apprise 1 has a bool)."""
    failed: list[str] = []
    for service in getattr(result, "results", ()):
        if not service:
            status = getattr(getattr(service, "status", None), "name", "failure")
            failed.append(f"{getattr(service, 'name', '?')}: {str(status).lower()}")
    return f" ({', '.join(failed)})" if failed else ""


def _body(notification: Notification) -> str:
    """The body and a ``Due:`` line, without a final newline (Apprise strips it)."""
    text = notification.body.rstrip()
    if notification.due_at is None:
        return text
    local = notification.data.get("due_local")
    when = datetime.fromisoformat(local) if isinstance(local, str) else notification.due_at
    due = f"Due: {when:%a %Y-%m-%d %H:%M %z}"
    return f"{text}\n\n{due}" if text else due


@hookimpl
def followup_register_channels(register: Callable[[Channel], None], settings: Settings) -> None:
    """Register the ``apprise`` channel when any ``FOLLOWUP_APPRISE_...`` setting is
    present; check that Apprise is installed, then the URLs and the timeout."""
    if not settings.configured(CHANNEL):
        return
    _import_apprise()  # first, so a missing extra is what the operator hears of
    urls = settings.secret(CHANNEL, "urls", required=True) or ""
    timeout = settings.number(CHANNEL, "timeout", 30.0)
    register(AppriseChannel(urls, timeout=timeout))
