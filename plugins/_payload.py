"""The JSON form of a notification, shared by the channels that write JSON (file, webhook).

One record per notification, with these fields in this order::

    {"key": "...", "application_id": "...", "owner": "...", "rule": "thank-you-notes",
     "created_at": "2026-12-23T20:00:00+00:00", "due_at": "2026-12-28T17:00:00+00:00",
     "contact": "Jane Doe", "subject": "...", "body": "...", "data": {...}}

Instants are ISO 8601 with their offset (UTC); ``due_at`` and ``contact`` may be null.
``key`` is the notification's idempotency key: delivery is at least once, so the same
record may arrive more than once, always with the same key.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

from followup import Notification

__all__ = ["FIELDS", "record", "to_json"]

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
