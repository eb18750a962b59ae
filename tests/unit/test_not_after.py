"""``not_after``: a reminder that must come before a time (the preparation for an interview
that starts before the send window opens) goes out at close of business on the working
day before instead; a rule over all applications cannot have one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from followup import Engine, FakeClock, MemoryStore, RulesError, load_rules

_PACK = """\
version: 1
extends: after-interview
rules:
  - name: call-before-the-visit
    {scope}
    at: visit_on
    not_after: {limit}
    {every}
    notify: {{subject: "Call before the visit"}}
facts:
  visit_on: {{type: date}}
  visit_at: {{type: datetime}}
"""


def _pack(scope: str = "while: interviewed", limit: str = "visit_at", every: str = ""
          ) -> str:
    return _PACK.format(scope=scope, limit=limit, every=every)


def _fires(facts: dict[str, str]) -> list[str]:
    """When call-before-the-visit fires, on the owner's clock, for an application added
    on Monday 1 March 2027 at 10:00 in New York."""
    engine = Engine(rules=load_rules(text=_pack(), cache=False), store=MemoryStore(),
                    clock=FakeClock(datetime(2027, 3, 1, 15, tzinfo=UTC)), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2027-03-01T09:30", **facts})
    cal = engine.calendar("ada")
    return [cal.local(t.fire_at).isoformat() for t in engine.timers(app.id)
            if t.rule == "call-before-the-visit"]


def test_a_reminder_that_would_come_too_late_comes_the_working_day_before() -> None:
    # Friday's visit at 08:00: the window opens at 09:00, so Thursday at close of business.
    assert _fires({"visit_on": "2027-03-05", "visit_at": "2027-03-05T08:00"}) == [
        "2027-03-04T17:00:00-05:00"]
    # Monday's at 09:00 exactly (not before it): the Friday before, across the weekend.
    assert _fires({"visit_on": "2027-03-08", "visit_at": "2027-03-08T09:00"}) == [
        "2027-03-05T17:00:00-05:00"]


def test_a_reminder_in_time_or_without_the_limit_is_left_alone() -> None:
    assert _fires({"visit_on": "2027-03-05", "visit_at": "2027-03-05T11:00"}) == [
        "2027-03-05T09:00:00-05:00"]
    assert _fires({"visit_on": "2027-03-05"}) == ["2027-03-05T09:00:00-05:00"]


def test_a_rule_over_all_applications_cannot_have_not_after() -> None:
    with pytest.raises(RulesError, match=r"scope: owner.*cannot have 'not_after'"):
        load_rules(text=_pack(scope="scope: owner", every="every: 7 days"), cache=False)


def test_a_not_after_that_is_no_time_is_refused_with_where() -> None:
    with pytest.raises(RulesError, match=r"<rules>:\d+:\d+: .*visit_att"):
        load_rules(text=_pack(limit="visit_att"), cache=False)
