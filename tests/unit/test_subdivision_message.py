"""An unknown subdivision is answered with every valid one when there are few (at most
``_SHORT_LIST``), and with where to look when there are many (Italy's 114).

Listing them whatever their number survived the timing room's mutation run
(bench/MUTATION.md).
"""

from __future__ import annotations

import pytest

from followup.errors import CalendarError
from followup.timing.calendar import WorkCalendar


def test_many_subdivisions_are_not_listed() -> None:
    with pytest.raises(CalendarError) as refused:
        WorkCalendar(country="IT", subdivision="Atlantis")
    assert str(refused.value).endswith(
        ": see the subdivisions the holidays package lists for it")


def test_few_subdivisions_are_listed() -> None:
    with pytest.raises(CalendarError, match=r"unknown subdivision 'Atlantis' of GB.*: "
                                            r"expected one of ENG, NIR, SCT, WLS"):
        WorkCalendar(country="GB", subdivision="Atlantis")
