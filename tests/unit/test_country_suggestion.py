"""An unknown country is answered with the nearest alpha-2 code, the form the message
asks for, never one of the alpha-3 aliases the ``holidays`` package also knows.

Letting the aliases into the suggestions survived the timing room's mutation run
(bench/MUTATION.md).
"""

from __future__ import annotations

import pytest

from followup.errors import CalendarError
from followup.timing.calendar import WorkCalendar


@pytest.mark.parametrize(("typed", "meant"), [("USAA", "US"), ("Deu.", "DE"), ("FRAN", "FR")])
def test_the_suggestion_is_alpha_2(typed: str, meant: str) -> None:
    with pytest.raises(CalendarError) as refused:
        WorkCalendar(country=typed)
    assert str(refused.value) == (
        f"unknown country {typed!r} (did you mean {meant!r}?): use an ISO 3166 alpha-2 code "
        "such as US, GB, DE")
