"""Embed followup: one application, two interviewers, reminders collected in memory.

Run it with ``python docs/examples/embed.py``. It needs no database and no plugins: the
store lives in memory, the clock is a FakeClock that moves only when told to, and the
reminders go to a channel that keeps them in a list.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from followup import Contact, Engine, FakeClock, MemoryStore, Notification, load_rules


class Inbox:
    """A channel that collects notifications instead of sending them."""

    name = "inbox"

    def __init__(self) -> None:
        self.received: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.received.append(notification)


# The default pack routes reminders to the channel named "console"; send them to ours.
rules = load_rules(text="version: 1\nextends: after-interview\nchannels: [inbox]\n")

inbox = Inbox()
# Wednesday 23 December 2026, 16:00 in New York (21:00 UTC): an hour after the interview.
clock = FakeClock(datetime(2026, 12, 23, 21, 0, tzinfo=UTC))
engine = Engine(rules=rules, store=MemoryStore(), clock=clock, channels=[inbox])

engine.set_owner("ada", timezone="America/New_York", country="US", subdivision="NY")
app = engine.add_application(
    owner="ada",
    company="Acme",
    role="Platform Engineer",
    facts={"interviewed_at": "2026-12-23T15:00", "why_me": "I ran Acme's stack at scale"},
    contacts=[
        Contact("Jane Doe", "interviewer", title="Engineering Manager"),
        Contact("Raj Patel", "interviewer", title="Staff Engineer"),
    ],
)

# Fire what is due now and deliver it: one thank-you reminder per interviewer, one to ask
# when they will decide (no decision date is recorded yet) and one to ask who else in the
# field to talk to (no referral is recorded).
report = engine.run_due()
assert report.fired == 4, report.fired
assert len(report.delivery.delivered) == 4
assert [(n.rule, n.contact) for n in inbox.received] == [
    ("ask-decision-date", None),
    ("ask-for-referrals", None),
    ("thank-you-notes", "Jane Doe"),
    ("thank-you-notes", "Raj Patel"),
]

# The person thanks both; the application moves on by itself.
engine.record(app.id, "thank_you_sent", contact="Jane Doe", key="note-jane")
outcome = engine.record(app.id, "thank_you_sent", contact="Raj Patel", key="note-raj")
assert outcome.application.state == "thanked", outcome.application.state

# Recording it again with the same key (a retried web request, say) changes nothing.
assert not engine.record(app.id, "thank_you_sent", contact="Raj Patel", key="note-raj").changed

# A week later the follow-up call is due, and, with only one application in play, the
# weekly nudge to keep looking (a rule over all of the owner's applications).
clock.advance(timedelta(days=7))
week = engine.run_due()
assert [n.rule for n in week.notifications] == ["follow-up-call", "keep-looking"]

assert engine.application(app.id).state == "thanked"
calendar = engine.calendar("ada")
for n in inbox.received:
    due = f" (due {calendar.local(n.due_at):%a %d %b %H:%M})" if n.due_at else ""
    print(f"{n.rule:<17} {n.subject}{due}")
print()
[note] = [n for n in inbox.received if n.contact == "Jane Doe"]
print(note.body)
