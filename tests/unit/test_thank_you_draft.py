"""The thank-you draft, read against the advice: the interviewer's exact name and title,
why the candidate is the best fit (``why_me``) said once and briefly, enthusiastic but
not desperate; and a draft missing its title or ``why_me`` is flagged when planned."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from followup import Contact, Engine, FakeClock, MemoryStore
from followup.testing import RecordingChannel

ENDED = datetime(2026, 12, 23, 21, 0, tzinfo=UTC)  # 16:00 in New York: the interview is over
# Words of a plea rather than a thank-you: the advice says enthusiastic, not desperate.
DESPERATE = re.compile(r"\b(please|beg|desperate|anything|any job|need this|hope you "
                       r"will|give me a chance)\b|!", re.IGNORECASE)


def _drafts(facts: dict[str, str], contacts: list[Contact]
            ) -> tuple[list[str], tuple[str, ...], str]:
    channel = RecordingChannel()
    engine = Engine(store=MemoryStore(), clock=FakeClock(ENDED), channels=[channel])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    outcome = engine.add(owner="ada", company="Initech", role="Platform Engineer",
                         facts={"interviewed_at": "2026-12-23T15:00", **facts},
                         contacts=contacts)
    engine.run_due()
    return ([n.body for n in channel.sent if n.rule == "thank-you-notes"], outcome.problems,
            outcome.application.id)


def test_the_draft_names_the_person_exactly_and_says_why_me_once() -> None:
    name, title = "Dr. Anna-Lena Müller-Lüdenscheidt", "VP, Site Reliability"
    why = "I cut Globex's deploy time from hours to minutes"
    [body], problems, _ = _drafts({"why_me": why}, [Contact(name, "interviewer", title=title)])
    assert body.startswith(f"Dear {name},\n")
    assert f"as {title}." in body
    assert body.count(why) == 1 and body.count("Globex") == 1  # once, not laboured
    assert len(body.split()) < 90  # short: a note, not a cover letter
    assert "excited about the role" in body  # enthusiastic ...
    assert DESPERATE.search(body) is None, body  # ... not desperate
    assert problems == ()


def test_a_missing_why_me_is_flagged_like_a_missing_title() -> None:
    [with_title, without], problems, app = _drafts(
        {}, [Contact("Jane Doe", "interviewer", title="CTO"), Contact("Raj Patel", "interviewer")])
    assert "I left even more certain" not in with_title + without
    assert DESPERATE.search(with_title + without) is None
    assert sorted(problems) == sorted([
        "thank-you-notes: the fact why_me (why you are the best candidate, in one line) is "
        f"not recorded, so the draft will go out without it; record it (followup log {app} "
        "--fact why_me=...)",
        "thank-you-notes: 'Raj Patel' has no title, so the draft will go out without it; "
        f"record it (followup log {app} --interviewer \"Raj Patel, TITLE\")",
    ])
