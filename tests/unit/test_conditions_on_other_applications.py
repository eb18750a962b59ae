"""A rule whose condition reads the owner's other applications by state
(``elsewhere.offer``, ``applications.offer``) is planned again when another application
moves into or out of that state, in a pack of one's own as in the default one (which
re-plans on every move in and out of play, so it would not show a state missed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from followup import Engine, FakeClock, MemoryStore, load_rules
from followup.testing import RecordingChannel

PACK = """\
version: 1
states: [open, offer, closed]
initial: open
events:
  offer_received: {{from: [open], to: offer}}
  closed: {{from: [open, offer], to: closed}}
templates:
  leverage:
    subject: "Ask {{{{ application.company }}}} for their timeline"
rules:
  - name: leverage
    while: open
    if: "{condition}"
    at: entered
    notify: {{template: leverage}}
"""


@pytest.mark.parametrize("condition", ["elsewhere.offer > 0", "applications.offer > 0",
                                       "elsewhere.offer > 0 and elsewhere.closed == 0"])
def test_an_offer_elsewhere_reaches_the_application_that_watches_for_it(
        condition: str) -> None:
    pack = load_rules("mine.yaml", text=PACK.format(condition=condition))
    channel = RecordingChannel("console")
    clock = FakeClock(datetime(2027, 1, 4, 15, tzinfo=UTC))  # Monday 10:00 in New York
    engine = Engine(rules=pack, store=MemoryStore(), channels=[channel], clock=clock)
    engine.set_owner("ada", timezone="America/New_York", country="US")
    acme = engine.add_application(owner="ada", company="Acme", role="Engineer").id
    engine.add_application(owner="ada", company="Globex", role="Engineer")
    engine.run_due()
    assert channel.subjects() == []
    clock.advance(timedelta(days=1))
    engine.record(acme, "offer_received")
    engine.run_due()
    assert channel.subjects() == ["Ask Globex for their timeline"]
