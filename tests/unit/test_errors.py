"""The exception tree and the one "did you mean" every message uses."""

from __future__ import annotations

import followup
from followup.errors import CalendarError, FollowupError, InputError, suggest


def test_suggest_names_the_closest_choice_in_one_wording() -> None:
    assert suggest("thankd", ["interviewed", "thanked"]) == " (did you mean 'thanked'?)"
    assert suggest("whlie", ("at", "due", "while")) == " (did you mean 'while'?)"


def test_suggest_says_nothing_when_no_choice_is_close() -> None:
    assert suggest("colour", ["at", "due", "while"]) == ""
    assert suggest("anything", []) == ""


def test_suggest_ignores_case_and_shows_the_choice_as_spelled() -> None:
    assert suggest("europe/berlin", ["Europe/Berlin", "Europe/Paris"]) == (
        " (did you mean 'Europe/Berlin'?)")
    assert suggest("Tue", ["mon", "tue"]) == " (did you mean 'tue'?)"


def test_suggest_takes_any_iterable_of_names_and_a_prefix_for_how_they_are_written() -> None:
    fields = {"interviewer": 1, "reference": 2}
    assert suggest("intervewer", fields, prefix="count.") == (
        " (did you mean 'count.interviewer'?)")
    assert suggest("defualts", iter(["defaults"]), prefix="*") == " (did you mean '*defaults'?)"


def test_calendar_error_is_one_class_in_the_tree() -> None:
    from followup.timing.calendar import CalendarError as from_timing

    assert from_timing is CalendarError is followup.CalendarError
    assert issubclass(CalendarError, InputError)
    assert issubclass(CalendarError, FollowupError)
    assert issubclass(CalendarError, ValueError)  # it was one before it moved here
