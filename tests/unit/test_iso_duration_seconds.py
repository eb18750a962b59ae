"""ISO 8601 durations count their seconds: PT1H2M3S is 3,723 seconds, not 3,717.

Hours and minutes were pinned but seconds were not, so a sign flipped on the seconds
survived the timing room's mutation run (bench/MUTATION.md).
"""

from __future__ import annotations

import pytest

from followup.timing.calendar import Duration, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("PT1H2M3S", 3600 + 120 + 3),
    ("PT45S", 45),
    ("P1DT0H0M30S", 30),
])
def test_iso_seconds_add_up(text: str, seconds: int) -> None:
    parsed = parse_duration(text)
    assert parsed.seconds == seconds
    assert parsed == Duration(text, days=parsed.days, seconds=seconds)
