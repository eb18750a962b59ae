"""The daily digest: an owner's reminders of one day, gathered into one message per channel.

An owner who chooses a digest (``Engine.set_owner(..., digest="08:00")``,
``followup init --digest 08:00``) gets their reminders once a day at that local time:

- When a reminder fires, its notification records the digest it waits for
  (``data["digest_at"]``: the next digest time at or after it fired, ISO 8601 in the
  owner's zone), and its outbox rows are not due before then (``Notification.held_until``).
- At that time the dispatcher finds the owner's rows due together, and sends each
  channel **one** message listing them (``gather``). Each reminder keeps its own outbox
  row and idempotency key: when the message goes out every row is marked delivered; when
  it fails every row is retried together, after one backoff, so the next attempt sends
  the same message again, with the same key.
- A channel with ``digest = False`` (the calendar, whose entries are one per reminder)
  still gets the reminders one by one, at the digest's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from followup.errors import InputError
from followup.keys import escape_part
from followup.model import Delivery, Notification
from followup.timing.calendar import WorkCalendar

__all__ = ["digest_at", "gather", "parse_digest_time"]


def parse_digest_time(text: str) -> str:
    """``"8:00"`` or ``"08:00"`` as ``"08:00"``; anything else raises ``InputError``."""
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
        moment = time(hours, minutes)
    except ValueError:
        raise InputError(f"a digest time is a local time of day such as 08:00, not "
                         f"{text!r}") from None
    return moment.strftime("%H:%M")


def digest_at(digest: str, fired: datetime, calendar: WorkCalendar) -> datetime:
    """The owner's first digest time at or after ``fired``, in their zone."""
    moment = time.fromisoformat(digest)
    day = calendar.local_date(fired)
    # Today, or tomorrow; a third day for a clock turned back across midnight, where
    # tomorrow's digest time can still come before ``fired`` (Antarctica/Casey, 2010).
    for offset in range(3):
        slot = calendar.to_utc(datetime.combine(day + timedelta(days=offset), moment))
        if slot >= fired:
            return calendar.local(slot)
    raise AssertionError("unreachable: a digest time comes within two days")


def gather(rows: Sequence[Delivery], now: datetime) -> Notification:
    """One message for a digest's rows, all of one owner and one channel.

    Its key names the owner, the digest time and the reminders it holds, so a retry of
    the same digest carries the same key. ``data["reminders"]`` lists each reminder
    (key, rule, subject, due) for programs; ``data["digest"]`` is the digest's time.
    """
    notes = sorted((row.notification for row in rows), key=lambda n: (n.created_at, n.key))
    first = notes[0]
    slot = str(first.data.get("digest_at", ""))
    import hashlib  # here, not at the top: a command that gathers no digest skips OpenSSL

    digest = hashlib.sha256("\n".join(n.key for n in notes).encode("utf-8")).hexdigest()[:16]
    day = datetime.fromisoformat(slot).strftime("%a %Y-%m-%d") if slot else "today"
    count = len(notes)
    lines: list[str] = []
    for note in notes:
        due = note.data.get("due_local")
        when = f" (due {datetime.fromisoformat(due):%a %Y-%m-%d %H:%M})" if isinstance(due, str) else ""
        lines.append(f"- {note.subject}{when}")
        lines.extend(f"    {line}" if line else "" for line in note.body.rstrip().splitlines())
    reminders: list[dict[str, Any]] = [
        {"key": n.key, "application_id": n.application_id, "rule": n.rule,
         "contact": n.contact, "subject": n.subject, "due_local": n.data.get("due_local")}
        for n in notes
    ]
    return Notification(
        key=f"digest/{escape_part(first.owner)}/{slot}/{digest}",
        application_id="",
        owner=first.owner,
        rule="digest",
        created_at=now,
        subject=f"{count} reminder{'s' if count != 1 else ''} for {day}",
        body="\n".join(lines) + "\n",
        due_at=min((n.due_at for n in notes if n.due_at is not None), default=None),
        channels=(rows[0].channel,),
        data={"digest": slot, "reminders": reminders},
    )
