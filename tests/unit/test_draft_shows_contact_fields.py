"""A draft is flagged for a contact's missing title or e-mail only when its template
shows that field of the contact (``contact.title``), not when it uses a word of the same
name on something else (a fact's ``.title()``, whatever the fact's name)."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest

from followup import Contact, Engine, FakeClock, MemoryStore, load_rules

ENDED = datetime(2026, 12, 23, 21, 0, tzinfo=UTC)  # 16:00 in New York: the interview is over


def problems(subject: str) -> tuple[str, ...]:
    pack = load_rules("mine.yaml", text=textwrap.dedent(f"""\
        version: 1
        extends: after-interview
        facts:
          agency: {{type: text, description: the recruiting agency}}
        templates:
          thank-you:
            subject: "{subject}"
            body: "Thank you."
        """))
    engine = Engine(rules=pack, store=MemoryStore(), clock=FakeClock(ENDED))
    engine.set_owner("ada", timezone="America/New_York", country="US")
    outcome = engine.add(owner="ada", company="Initech", role="Engineer",
                         facts={"interviewed_at": "2026-12-23T15:00", "why_me": "speed",
                                "agency": "hays"},
                         contacts=[Contact("Raj Patel", "interviewer")])
    return outcome.problems


@pytest.mark.parametrize("subject", [
    "Thank {{ contact.name }}: {{ why_me.title() }}",
    "Thank {{ contact.name }} via {{ agency.title() }}",
    "Thank {{ contact.name }} at {{ application.company.title() }}",
    "Thank {{ contact.name }} ({{ rule.title() }}, {{ interview_day }})",
    "Thank {{ contact.name }} ({{ due.title() }})",
])
def test_a_field_of_the_same_name_on_something_else_is_not_the_contacts(subject: str) -> None:
    assert problems(subject) == ()


@pytest.mark.parametrize(("subject", "missing"), [
    ("Thank {{ contact.name }}, {{ contact.title }}", "title"),
    ("Thank {{ contact.name }} <{{ contact.email }}>", "email"),
    ("Thank {{ why_me.title() }} {{ contact.title }}", "title"),
])
def test_a_field_the_draft_shows_is_flagged_when_missing(subject: str, missing: str) -> None:
    [problem] = problems(subject)
    assert problem.startswith(f"thank-you-notes: 'Raj Patel' has no {missing}, so the draft")
