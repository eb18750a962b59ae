"""The test kit works as a pytest plugin, as a plugin author would use it."""

from __future__ import annotations

from datetime import timedelta

from followup import Contact, Engine, FakeClock
from followup.testing import RecordingChannel, make_engine


def test_the_fixtures_make_a_working_engine(
    followup_engine: Engine, followup_channel: RecordingChannel, followup_clock: FakeClock
) -> None:
    followup_engine.add_application(
        owner="ada", company="Acme", role="Engineer",
        facts={"interviewed_at": "2026-12-23T15:00", "decision_expected_on": "2027-01-08"},
        contacts=[Contact("Jane Doe", "interviewer", title="CTO")],
    )
    followup_engine.run_due()
    # No referral recorded: a reminder to ask for one comes with the thank-you note.
    assert followup_channel.subjects() == ["Ask Acme who else you could talk to",
                                           "Thank Jane Doe for the interview at Acme"]
    followup_clock.advance(timedelta(days=30))
    followup_engine.run_due()
    assert "Call Acme about the Engineer role" in followup_channel.subjects()


def test_a_recording_channel_can_fail_on_purpose() -> None:
    channel = RecordingChannel()
    engine = make_engine(channels=[channel])
    engine.add_application(
        owner="ada", company="Acme", role="Engineer",
        facts={"interviewed_at": "2026-12-23T15:00", "decision_expected_on": "2027-01-08"},
        contacts=[Contact("Jane Doe", "interviewer", title="CTO")],
    )
    channel.fail(1)
    report = engine.run_due()
    [row] = report.delivery.failed
    assert row.last_error == "ConnectionError: console is down (RecordingChannel.fail)"
    assert [n.rule for n in channel.sent] == ["thank-you-notes"]  # the other one went out
    later = engine.clock.now() + timedelta(hours=1)
    assert len(engine.deliver(later).delivered) == 1
    assert channel.keys()[-1] == row.notification.key  # the failed one, delivered at last
    assert len(channel.keys()) == 2
