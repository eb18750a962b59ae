"""What a notification becomes on the wire, shared by the channels: its JSON form (file,
webhook) and the header forms of its key and its text (webhook, email, apprise).

One record per notification, with these fields in this order::

    {"key": "...", "application_id": "...", "owner": "...", "rule": "thank-you-notes",
     "created_at": "2026-12-23T20:00:00+00:00", "due_at": "2026-12-28T17:00:00+00:00",
     "contact": "Jane Doe", "subject": "...", "body": "...", "data": {...}}

Instants are ISO 8601 with their offset (UTC); ``due_at`` and ``contact`` may be null.
``key`` is the notification's idempotency key: delivery is at least once, so the same
record may arrive more than once, always with the same key.

Names in headers
----------------
A key holds the names it was built from (``.../thank-you-notes/0/Łukasz Wójcik/0``), and
a header can carry only visible ASCII. So a key reaches a header (the webhook's
``Idempotency-Key``, the email's ``X-Followup-Key``) through ``key_header``: as it is
when it is visible ASCII (spaces inside allowed) and does not begin with ``utf-8''``;
otherwise in the RFC 8187 form ``utf-8''`` followed by the key's UTF-8 bytes
percent-encoded (every byte but letters, digits and ``!#$&+-.^_`|~``). The map is
one-to-one, so a receiver may dedupe by the header as it is, or read the key back with
``key_from_header``. Text a person reads in a header (an email's ``Subject``, an Apprise
title) goes through ``header_text``: line breaks and other whitespace become one space,
other control characters are dropped; the email package then writes what is not ASCII
as RFC 2047 encoded words. No name can split a header or make a reminder undeliverable.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from datetime import date, datetime, time
from typing import Any

from followup import Notification

__all__ = ["FIELDS", "header_text", "key_from_header", "key_header", "record", "to_json"]

FIELDS = (
    "key",
    "application_id",
    "owner",
    "rule",
    "created_at",
    "due_at",
    "contact",
    "subject",
    "body",
    "data",
)


def record(notification: Notification) -> dict[str, Any]:
    """The notification as a JSON-ready dictionary with exactly the ``FIELDS``."""
    return {
        "key": notification.key,
        "application_id": notification.application_id,
        "owner": notification.owner,
        "rule": notification.rule,
        "created_at": notification.created_at.isoformat(),
        "due_at": notification.due_at.isoformat() if notification.due_at else None,
        "contact": notification.contact,
        "subject": notification.subject,
        "body": notification.body,
        "data": notification.data,
    }


def to_json(notification: Notification) -> str:
    """The record as one line of JSON text: no newline inside, ASCII only.

    ASCII only, because some readers split lines on U+2028 and U+2029 as well as on
    ``\\n``; escaped, those characters cannot break a line. A value in ``data`` that JSON
    cannot hold is written as text (ISO 8601 for dates and times), because a reminder
    delivered with a stringified detail beats one that fails on every retry.
    """
    return json.dumps(record(notification), ensure_ascii=True, allow_nan=False,
                      separators=(",", ":"), default=_fallback)


def _fallback(value: object) -> str:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


_EXTENDED = "utf-8''"
# RFC 8187's attr-char, less what ``quote`` keeps anyway (letters, digits and ``_.-~``).
_ATTR_CHARS = "!#$&+^`|"
# C0 and C1 controls and DEL: never in a header, whatever the encoding.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


def key_header(key: str) -> str:
    """``key`` as a header value: itself when it is visible ASCII, otherwise its RFC 8187
    form (see the module's docstring).

    >>> key_header("3f9c/thank-you-notes/0/Jane Doe/0")
    '3f9c/thank-you-notes/0/Jane Doe/0'
    >>> key_header("3f9c/thank-you-notes/0/王伟/0")
    "utf-8''3f9c%2Fthank-you-notes%2F0%2F%E7%8E%8B%E4%BC%9F%2F0"
    """
    plain = (
        key.isascii()
        and key.isprintable()
        and key == key.strip(" ")
        and key != ""
        and key[: len(_EXTENDED)].lower() != _EXTENDED
    )
    if plain:
        return key
    return _EXTENDED + urllib.parse.quote(key, safe=_ATTR_CHARS, encoding="utf-8",
                                          errors="surrogatepass")


def key_from_header(value: str) -> str:
    """The key whose header value is ``value``: ``key_header`` read back.

    Whitespace around ``value`` is ignored (a mail reader may keep the space a folded
    header line starts with); ``key_header`` never puts any there.

    >>> key_from_header("utf-8''3f9c%2Fthank-you-notes%2F0%2F%E7%8E%8B%E4%BC%9F%2F0")
    '3f9c/thank-you-notes/0/王伟/0'
    """
    value = value.strip(" \t\r\n")
    if value[: len(_EXTENDED)].lower() != _EXTENDED:
        return value
    return urllib.parse.unquote(value[len(_EXTENDED):], encoding="utf-8",
                                errors="surrogatepass")


def header_text(text: str) -> str:
    """``text`` as one line a person reads in a header: whitespace runs (line breaks
    included) become one space, other control characters are dropped."""
    return " ".join(_CONTROLS.sub("", " ".join(text.split())).split())
