"""Fact defaults and ``not_before``: the end of the interview, derived from its start."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from followup import Application, RulesError, load_rules
from followup.runtime.facts import build_context, fact_value


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    return [str(p) for p in info.value.problems]


def test_a_default_counts_from_another_fact_until_one_is_recorded() -> None:
    pack = load_rules(text="""version: 1
extends: after-interview
facts:
  interview_day: {type: date, default: interviewed_at}
""")
    cal = pack.calendar.build(timezone="America/New_York")
    start = datetime(2027, 3, 2, 19, 0, tzinfo=UTC)  # 14:00 in New York
    app = Application(id="a", owner="o", company="Acme", role="r", state="interviewed",
                      facts={"interviewed_at": start.isoformat()})
    assert fact_value(pack, app, "interview_ends_at", cal) == datetime(2027, 3, 2, 20, 0,
                                                                       tzinfo=UTC)
    assert fact_value(pack, app, "interview_day", cal) == date(2027, 3, 2)
    ended = datetime(2027, 3, 2, 21, 30, tzinfo=UTC)
    recorded = Application(id="a", owner="o", company="Acme", role="r", state="interviewed",
                           facts={"interviewed_at": start.isoformat(),
                                  "interview_ends_at": ended.isoformat()})
    assert fact_value(pack, recorded, "interview_ends_at", cal) == ended
    # Conditions and templates see the default in the owner's time, as a recorded fact.
    seen = build_context(pack, app, cal)["interview_ends_at"]
    assert seen.isoformat() == "2027-03-02T15:00:00-05:00"
    # Without the fact it counts from, a default has no value either.
    bare = Application(id="b", owner="o", company="Acme", role="r", state="interviewed")
    assert fact_value(pack, bare, "interview_ends_at", cal) is None


def test_a_default_is_checked_when_the_pack_loads(tmp_path: Path) -> None:
    found = problems(tmp_path, """version: 1
extends: after-interview
facts:
  salary: {type: number, default: 1 hour after interviewed_at}
  ends: {type: datetime, default: 1 hour after starts}
  starts: {type: datetime, default: 2 hours after ends}
  opened: {type: datetime, default: entered}
""")
    file = tmp_path / "mine.yaml"
    assert found == [
        f"{file}:4:35: fact 'salary' is number: only a datetime or date fact has a default, "
        "a time such as '1 hour after interviewed_at' (at facts.salary.default)",
        f"{file}:7:37: the default of 'opened' counts from 'entered': a default counts from "
        "another fact, e.g. '1 hour after interviewed_at' (at facts.opened.default)",
        f"{file}:5:35: the default of 'ends' leads back to itself (ends -> starts -> ends): "
        "record one of them instead, or count from another fact (at facts.ends.default)",
        f"{file}:6:37: the default of 'starts' leads back to itself (starts -> ends -> "
        "starts): record one of them instead, or count from another fact "
        "(at facts.starts.default)",
    ]


def test_not_before_is_a_time_and_not_for_owner_rules(tmp_path: Path) -> None:
    found = problems(tmp_path, """version: 1
extends: after-interview
rules:
  - name: follow-up-referrals
    not_before: interview_end_at
  - name: keep-looking
    not_before: interviewed_at
""")
    assert len(found) == 2
    assert found[0].startswith(f"{tmp_path / 'mine.yaml'}:5:17: 'interview_end_at' counts "
                               "from 'interview_end_at', which is neither a fact (did you "
                               "mean 'interview_ends_at'?)")
    assert "cannot have 'not_before'" in found[1]
