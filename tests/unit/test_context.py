"""What conditions and templates see (``Context``): worked out name by name for a
condition, and the same values as the whole context that templates get."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from followup import Application, Contact, load_rules
from followup.language.conditions import holds
from followup.language.expressions import Condition
from followup.language.sandbox import compile_condition
from followup.runtime.facts import Context, build_context

PACK = load_rules()
CAL = PACK.calendar.build(timezone="America/New_York")
NY = ZoneInfo("America/New_York")
START = datetime(2027, 3, 2, 19, 0, tzinfo=UTC)  # 14:00 in New York
JANE = Contact("Jane Doe", "interviewer", title="CTO")
JOHN = Contact("John Roe", "interviewer")


def application(**facts: str) -> Application:
    return Application(id="a", owner="o", company="Acme", role="Engineer", state="thanked",
                       facts={"interviewed_at": START.isoformat(), **facts},
                       contacts=(JANE, JOHN), created_at=START)


def test_the_whole_context_of_an_application() -> None:
    seen = build_context(PACK, application(legacy_note="kept"), CAL, contact=JOHN,
                         extra={"elsewhere": {"offer": 1}, "state": "shadowed"})
    facts = {"interviewed_at": START.astimezone(NY),
             "interview_ends_at": datetime(2027, 3, 2, 15, 0, tzinfo=NY),
             "interview_day": date(2027, 3, 2), "decision_expected_on": None,
             "follow_up_requested_on": None, "offer_reply_by": None, "why_me": None,
             "not_interested": None, "legacy_note": "kept"}  # a fact the pack lacks, too
    assert seen == facts | {
        "facts": facts,
        "application": {"id": "a", "owner": "o", "company": "Acme", "role": "Engineer",
                        "state": "thanked", "created_at": START.astimezone(NY)},
        "state": "shadowed",  # what ``extra`` says wins
        "contacts": [JANE.to_dict(), JOHN.to_dict()],
        "count": {"interviewer": 2, "referral": 0, "reference": 0, "recruiter": 0},
        "untitled": {"interviewer": 1, "referral": 0, "reference": 0, "recruiter": 0},
        "contact": {"name": "John Roe", "title": "", "role": "interviewer", "email": "",
                    "phone": ""},
        "rule": None, "due": None, "at": None,
        "elsewhere": {"offer": 1}}
    assert list(seen["facts"]) == list(facts)  # the pack's facts in its order, then others


def test_a_condition_works_out_only_the_names_it_reads() -> None:
    def condition(source: str) -> Condition:
        return compile_condition(source, known=build_context(PACK, application(), CAL))

    context = Context(PACK, application(), CAL)
    assert holds(condition("not not_interested and count.interviewer == 2"), context)
    assert set(context._known) == {"not_interested", "count"}
    # What the fast path leaves to the sandbox (an attribute of an instant) gets every
    # name, as the sandbox is called with all of them.
    assert holds(condition("interviewed_at.year == 2027"), context)
    assert set(context._known) == set(build_context(PACK, application(), CAL))


@settings(max_examples=60, deadline=None)
@given(st.fixed_dictionaries({}, optional={
    "decision_expected_on": st.dates(date(2027, 1, 1), date(2027, 12, 31)).map(str),
    "interview_ends_at": st.just("2027-03-02T21:30:00+00:00"),
    "not_interested": st.sampled_from(["true", "false"]),
    "why_me": st.text(max_size=20)}),
    st.sampled_from([None, JANE, JOHN]),
    st.sampled_from([None, {}, {"active_applications": 2, "state": "offer", "facts": {}}]))
def test_each_name_asked_alone_is_what_the_whole_context_holds(
        facts: dict[str, str], contact: Contact | None, extra: dict[str, Any] | None) -> None:
    app = application(**facts)
    whole = build_context(PACK, app, CAL, contact=contact, extra=extra)
    assert dict(Context(PACK, app, CAL, contact=contact, extra=extra)) == whole
    for name, value in whole.items():
        assert Context(PACK, app, CAL, contact=contact, extra=extra)[name] == value
