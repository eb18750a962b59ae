"""A change made with an idempotency key is made once, whatever it records: facts and
contacts as well as events, on every store. A form sent twice, or a request retried
after a lost answer, changes nothing the second time and says so."""

from __future__ import annotations

from datetime import UTC, datetime

from followup import Contact, Engine, FakeClock, Store

START = datetime(2026, 12, 23, 21, tzinfo=UTC)


def _engine(store: Store) -> tuple[Engine, str]:
    engine = Engine(store=store, clock=FakeClock(START), channels=[])
    engine.set_owner("ada", timezone="America/New_York", country="US")
    app = engine.add_application(owner="ada", company="Acme", role="Engineer",
                                 facts={"interviewed_at": "2026-12-23T15:00"})
    return engine, app.id


def test_a_fact_sent_again_with_its_key_changes_nothing(store: Store) -> None:
    engine, app = _engine(store)
    first = engine.log(app, facts={"decision_expected_on": "2027-01-08"}, key="form-1")
    second = engine.log(app, facts={"decision_expected_on": "2027-02-01"}, key="form-2")
    replay = engine.log(app, facts={"decision_expected_on": "2027-01-08"}, key="form-1")
    assert (first.changed, second.changed, replay.changed) == (True, True, False)
    assert engine.application(app).facts["decision_expected_on"] == "2027-02-01"
    keyed = [(h.kind, h.key) for h in engine.history(app) if h.key is not None]
    assert keyed == [("facts", "form-1"), ("facts", "form-2")]


def test_a_whole_change_is_made_once_per_key(store: Store) -> None:
    engine, app = _engine(store)
    change = dict(contacts=[Contact("Jane Doe", "interviewer", title="CTO")],
                  facts={"why_me": "I built the thing"}, event="thank_you_sent",
                  contact="Jane Doe", key="visit-7")
    assert engine.log(app, **change).changed  # type: ignore[arg-type]
    version = engine.application(app).version
    assert not engine.log(app, **change).changed  # type: ignore[arg-type]
    assert engine.application(app).version == version  # nothing written
    assert [h.kind for h in engine.history(app) if h.key == "visit-7"] == [
        "contact", "facts", "event"]


def test_a_contact_sent_again_with_its_key_is_not_changed_back(store: Store) -> None:
    engine, app = _engine(store)
    engine.log(app, contacts=[Contact("Jane Doe", "interviewer", title="CTO")], key="card-1")
    engine.log(app, contacts=[Contact("Jane Doe", "interviewer", title="CEO")], key="card-2")
    assert not engine.log(app, contacts=[Contact("Jane Doe", "interviewer", title="CTO")],
                          key="card-1").changed
    contact = engine.application(app).contact("Jane Doe")
    assert contact is not None and contact.title == "CEO"
