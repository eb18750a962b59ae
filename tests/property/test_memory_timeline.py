"""The in-memory store's timeline (``followup.store._memory_tables.Timeline``) answers as a
plain sorted list of (fire_at, key) would: what is due by an instant, and what fires
between two, in order, whatever the keys' text and however many timers share an instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followup.store._memory_tables import Timeline

T0 = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)
LAST = datetime.max.replace(tzinfo=UTC)

# Few distinct instants, a microsecond apart at times, so that many timers share one and
# the bounds fall on, just before and just after them.
instants = st.builds(lambda m, us: T0 + timedelta(minutes=m, microseconds=us),
                     st.integers(0, 5), st.sampled_from([0, 1, 999_999]))
entries = st.lists(st.tuples(instants, st.text(max_size=4)), max_size=40, unique=True)
bounds = st.one_of(st.none(), instants)


@given(entries, st.data())
def test_the_timeline_answers_as_a_sorted_list(added: list[tuple[datetime, str]],
                                               data: st.DataObject) -> None:
    timeline = Timeline()
    for fire_at, key in added:
        timeline.add(fire_at, key)
    gone = data.draw(st.lists(st.sampled_from(added), unique=True) if added else st.just([]))
    for fire_at, key in gone:
        timeline.remove(fire_at, key)
    kept = sorted(set(added) - set(gone))
    assert len(timeline) == len(kept)

    now = data.draw(instants)
    assert list(timeline.due(now)) == [k for at, k in kept if at <= now]
    assert list(timeline.due(LAST)) == [k for _, k in kept]

    start, end = data.draw(bounds), data.draw(bounds)
    assert list(timeline.between(start, end)) == [
        k for at, k in kept if (start is None or at >= start) and (end is None or at < end)]


def test_removing_what_is_not_there_is_an_error() -> None:
    timeline = Timeline()
    timeline.add(T0, "a")
    with pytest.raises(ValueError):  # the indexes disagree: a bug to surface, not hide
        timeline.remove(T0, "b")
    assert list(timeline.due(T0)) == ["a"]
