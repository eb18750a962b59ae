"""Corrections kept as history: edit, contact rename/merge/remove, archive, delete, undo and
snooze through the engine, on the in-memory store and a real SQLite file alike. Each is
one change with an entry of its own; the plan follows, and a repeated key changes
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from followup import (
    Contact,
    Engine,
    FakeClock,
    InputError,
    InvalidFact,
    MemoryStore,
    Notification,
    SQLiteStore,
    UnknownApplication,
)
from followup.model import Application, Timer, replaced
from followup.store import Store

NY = "America/New_York"
# Wed 2026-12-23 15:00 in New York; the clock stands an hour later, when it ends.
INTERVIEW = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)


class Recorder:
    name = "console"

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SQLiteStore(
        tmp_path / "followup.db")
    yield made
    made.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(INTERVIEW + timedelta(hours=1))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def engine(store: Store, clock: FakeClock, recorder: Recorder) -> Engine:
    made = Engine(store=store, clock=clock, channels=[recorder])
    made.set_owner("ada", timezone=NY, country="US")
    return made


def add(engine: Engine, *contacts: Contact) -> Application:
    return engine.add_application(
        owner="ada", company="Acme", role="Engineer",
        facts={"interviewed_at": INTERVIEW.isoformat()},
        contacts=contacts or (Contact("Jane Doe", "interviewer", title="CTO"),
                              Contact("Raj Patel", "interviewer", title="Lead")))


def reminders(engine: Engine, app: Application, rule: str | None = None) -> list[Timer]:
    return [t for t in engine.timers(app.id) if t.action == "notify"
            and (rule is None or t.rule == rule)]


def thank_yous(engine: Engine, app: Application) -> list[str]:
    return sorted(t.contact or "" for t in reminders(engine, app, "thank-you-notes"))


def kinds(engine: Engine, app: Application) -> list[str]:
    return [h.kind for h in engine.history(app.id)]


# -- edit ----------------------------------------------------------------------------


def test_edit_changes_company_and_role_with_an_edit_entry(engine: Engine) -> None:
    app = add(engine)
    timers = engine.timers(app.id)
    outcome = engine.edit(app.id, company="Acme Corp", role="Staff Engineer")
    assert outcome.changed
    stored = engine.application(app.id)
    assert (stored.company, stored.role) == ("Acme Corp", "Staff Engineer")
    entry = engine.history(app.id)[-1]
    assert entry.kind == "edit"
    assert entry.data == {"old": {"company": "Acme", "role": "Engineer"},
                          "new": {"company": "Acme Corp", "role": "Staff Engineer"}}
    assert engine.timers(app.id) == timers  # no rule reads them: the plan stands


def test_edit_with_a_repeated_key_changes_nothing(engine: Engine) -> None:
    app = add(engine)
    assert engine.edit(app.id, company="Acme Corp", key="fix-1").changed
    again = engine.edit(app.id, company="Something Else", key="fix-1")
    assert not again.changed
    assert engine.application(app.id).company == "Acme Corp"
    assert kinds(engine, app).count("edit") == 1


def test_edit_to_the_same_value_is_a_harmless_repeat(engine: Engine) -> None:
    app = add(engine)
    assert not engine.edit(app.id, company="Acme").changed
    assert "edit" not in kinds(engine, app)


def test_edit_refuses_an_empty_company_and_nothing_to_edit(engine: Engine) -> None:
    app = add(engine)
    with pytest.raises(InputError, match="company cannot be empty"):
        engine.edit(app.id, company="  ")
    with pytest.raises(InputError, match="nothing to edit"):
        engine.edit(app.id)
    assert engine.application(app.id).company == "Acme"


def test_edit_of_the_interview_time_moves_the_reminders(engine: Engine) -> None:
    app = add(engine)
    [call] = reminders(engine, app, "follow-up-call")
    engine.edit(app.id, facts={"interviewed_at": (INTERVIEW - timedelta(days=1)).isoformat()})
    [moved] = reminders(engine, app, "follow-up-call")
    assert moved.fire_at == call.fire_at - timedelta(days=1)
    assert engine.history(app.id)[-1].kind == "facts"


def test_a_field_logged_as_a_fact_is_refused_not_stored(engine: Engine) -> None:
    # The issue: `log --fact company=Acme2` stored a new fact named company.
    app = add(engine)
    with pytest.raises(InvalidFact, match="company is a field, not a fact"):
        engine.log(app.id, facts={"company": "Acme2"})
    with pytest.raises(InvalidFact, match=r"role is a field, not a fact: change it with "
                       r"edit\(role=...\)"):
        engine.set_facts(app.id, {"role": "Boss"})
    stored = engine.application(app.id)
    assert "company" not in stored.facts and "role" not in stored.facts
    assert stored.company == "Acme"


# -- contacts --------------------------------------------------------------------------


def test_rename_rekeys_the_pending_reminder(engine: Engine) -> None:
    app = add(engine)
    outcome = engine.rename_contact(app.id, "Jane Doe", "Jane Smith")
    assert [c.name for c in outcome.application.contacts] == ["Jane Smith", "Raj Patel"]
    assert outcome.application.contact("Jane Smith") == Contact(
        "Jane Smith", "interviewer", title="CTO")
    assert thank_yous(engine, app) == ["Jane Smith", "Raj Patel"]
    [timer] = [t for t in reminders(engine, app, "thank-you-notes") if t.contact == "Jane Smith"]
    assert timer.key == f"{app.id}/thank-you-notes/0/Jane Smith/0"
    assert [t.contact for t in outcome.cancelled] == ["Jane Doe"]
    entry = engine.history(app.id)[-1]
    assert (entry.kind, entry.data["from"], entry.data["to"]) == (
        "rename", "Jane Doe", "Jane Smith")


def test_a_thanked_interviewer_renamed_is_still_thanked(engine: Engine) -> None:
    app = add(engine)
    engine.log(app.id, event="thank_you_sent", contact="Jane Doe")
    engine.rename_contact(app.id, "Jane Doe", "Jane Smith")
    assert thank_yous(engine, app) == ["Raj Patel"]
    # thanking the one left moves the application on, the renamed one counting as thanked
    outcome = engine.log(app.id, event="thank_you_sent", contact="Raj Patel")
    assert outcome.application.state == "thanked"
    # and logging it again under the new name is a repeat
    assert not engine.log(app.id, event="thank_you_sent", contact="Jane Smith").changed


def test_a_reminder_already_sent_is_not_sent_again_under_the_new_name(
        engine: Engine, clock: FakeClock, recorder: Recorder) -> None:
    app = add(engine)
    engine.run_due()
    assert sorted(n.contact or "" for n in recorder.sent if n.rule == "thank-you-notes") == [
        "Jane Doe", "Raj Patel"]
    engine.rename_contact(app.id, "Jane Doe", "Jane Smith")
    assert thank_yous(engine, app) == []
    sent = len(recorder.sent)
    clock.advance(timedelta(hours=1))
    engine.run_due()
    assert not [n for n in recorder.sent[sent:] if n.rule == "thank-you-notes"]


def test_rename_refusals_say_why(engine: Engine) -> None:
    app = add(engine)
    with pytest.raises(InputError, match=r"no contact named 'Jan' on application .* "
                       r"\(contacts: 'Jane Doe', 'Raj Patel'\)"):
        engine.rename_contact(app.id, "Jan", "Jane")
    with pytest.raises(InputError, match=r"has a contact named .Raj Patel. already: .* merge"):
        engine.rename_contact(app.id, "Jane Doe", "Raj Patel")
    assert kinds(engine, app) == ["created"]


def test_rename_with_a_repeated_key_and_a_unicode_name(engine: Engine) -> None:
    app = add(engine)
    engine.rename_contact(app.id, "Jane Doe", "王伟 / HR", key="r1")
    assert not engine.rename_contact(app.id, "Raj Patel", "Someone", key="r1").changed
    assert thank_yous(engine, app) == ["Raj Patel", "王伟 / HR"]


def test_merge_fills_blanks_and_counts_the_thank_you_for_the_survivor(engine: Engine) -> None:
    app = add(engine, Contact("Jane Doe", "interviewer"),
              Contact("J. Doe", "interviewer", title="CTO", email="jd@acme.example"),
              Contact("Raj Patel", "interviewer", title="Lead"))
    engine.log(app.id, event="thank_you_sent", contact="J. Doe")
    outcome = engine.merge_contacts(app.id, "J. Doe", "Jane Doe")
    assert outcome.application.contact("J. Doe") is None
    assert outcome.application.contact("Jane Doe") == Contact(
        "Jane Doe", "interviewer", title="CTO", email="jd@acme.example")
    assert thank_yous(engine, app) == ["Raj Patel"]
    assert engine.history(app.id)[-1].kind == "merge"


def test_merge_refuses_itself_and_unknown_names(engine: Engine) -> None:
    app = add(engine)
    with pytest.raises(InputError, match="cannot be merged into itself"):
        engine.merge_contacts(app.id, "Jane Doe", "Jane Doe")
    with pytest.raises(InputError, match="no contact named 'Nobody'"):
        engine.merge_contacts(app.id, "Jane Doe", "Nobody")


def test_remove_cancels_the_contacts_reminders(engine: Engine) -> None:
    app = add(engine)
    outcome = engine.remove_contact(app.id, "Raj Patel")
    assert [t.contact for t in outcome.cancelled] == ["Raj Patel"]
    assert thank_yous(engine, app) == ["Jane Doe"]
    assert engine.history(app.id)[-1].kind == "remove"
    with pytest.raises(InputError, match="no contact named 'Raj Patel'"):
        engine.remove_contact(app.id, "Raj Patel")


# -- archive and delete ----------------------------------------------------------------


def test_archive_cancels_everything_and_keeps_the_history(
        engine: Engine, clock: FakeClock, recorder: Recorder) -> None:
    app = add(engine)
    outcome = engine.archive(app.id)
    assert outcome.application.archived_at == clock.now()
    assert engine.timers(app.id) == []
    assert kinds(engine, app) == ["created", "archive"]
    clock.advance(timedelta(days=30))
    engine.run_due()
    assert not [n for n in recorder.sent if n.application_id == app.id]
    assert not engine.archive(app.id).changed  # archived already
    back = engine.unarchive(app.id)
    assert back.application.archived_at is None
    assert reminders(engine, app)
    assert kinds(engine, app) == ["created", "archive", "unarchive"]


def test_an_archived_application_is_no_longer_active_for_keep_looking(
        engine: Engine, clock: FakeClock) -> None:
    apps = [add(engine) for _ in range(3)]
    owner_timers = [t for t in engine.store.timers(owner="ada", application_id="")
                    if t.rule == "keep-looking"]
    assert owner_timers == []  # three active: no nudge
    engine.archive(apps[0].id)
    owner_timers = [t for t in engine.store.timers(owner="ada", application_id="")
                    if t.rule == "keep-looking"]
    assert len(owner_timers) == 1


def test_delete_removes_the_application_and_its_history(engine: Engine) -> None:
    app = add(engine)
    other = add(engine)
    gone = engine.delete(app.id, owner="ada")
    assert gone.id == app.id
    with pytest.raises(UnknownApplication):
        engine.application(app.id)
    with pytest.raises(UnknownApplication):
        engine.history(app.id)
    assert engine.store.timers(owner="ada", application_id=app.id) == []
    assert engine.application(other.id).id == other.id
    with pytest.raises(UnknownApplication):
        engine.delete(app.id, owner="ada")
    with pytest.raises(UnknownApplication):
        engine.delete(other.id, owner="somebody else")


# -- undo ------------------------------------------------------------------------------


def test_undo_of_a_move_brings_back_the_state_and_its_reminders(engine: Engine) -> None:
    app = add(engine)
    before = engine.timers(app.id)
    engine.log(app.id, event="called")
    assert engine.application(app.id).state == "followed_up"
    outcome = engine.undo(app.id)
    assert outcome.application.state == "interviewed"
    assert engine.timers(app.id) == before  # the same keys: the same stay
    entry = engine.history(app.id)[-1]
    assert (entry.kind, entry.name, entry.data["undone"], entry.to_state) == (
        "undo", "called", 1, "interviewed")


def test_undo_of_a_thank_you_brings_its_reminder_back(engine: Engine) -> None:
    app = add(engine)
    engine.log(app.id, event="thank_you_sent", contact="Jane Doe")
    engine.log(app.id, event="thank_you_sent", contact="Raj Patel")
    assert engine.application(app.id).state == "thanked"  # the pack's own move
    outcome = engine.undo(app.id)
    assert outcome.application.state == "interviewed"  # its move is taken back with it
    assert thank_yous(engine, app) == ["Raj Patel"]
    engine.undo(app.id)  # twice: the entry before
    assert thank_yous(engine, app) == ["Jane Doe", "Raj Patel"]
    # logged again, it counts again: it is no repeat of an undone entry
    assert engine.log(app.id, event="thank_you_sent", contact="Jane Doe").changed
    assert thank_yous(engine, app) == ["Raj Patel"]


def test_undo_of_facts_contacts_and_edits_restores_what_was_before(engine: Engine) -> None:
    app = add(engine)
    engine.log(app.id, facts={"decision_expected_on": "2027-01-08"})
    engine.log(app.id, facts={"decision_expected_on": "2027-01-15"})
    engine.undo(app.id)
    assert engine.application(app.id).facts["decision_expected_on"] == "2027-01-08"
    engine.undo(app.id)
    assert "decision_expected_on" not in engine.application(app.id).facts
    engine.add_contact(app.id, Contact("Sam Lee", "interviewer"))
    assert "Sam Lee" in thank_yous(engine, app)
    engine.undo(app.id)
    assert engine.application(app.id).contact("Sam Lee") is None
    assert "Sam Lee" not in thank_yous(engine, app)
    engine.edit(app.id, company="Acme Corp")
    engine.undo(app.id)
    assert engine.application(app.id).company == "Acme"


def test_undo_of_rename_merge_and_remove(engine: Engine) -> None:
    app = add(engine)
    engine.log(app.id, event="thank_you_sent", contact="Jane Doe")
    engine.rename_contact(app.id, "Jane Doe", "Jane Smith")
    engine.undo(app.id)
    assert [c.name for c in engine.application(app.id).contacts] == ["Jane Doe", "Raj Patel"]
    engine.remove_contact(app.id, "Raj Patel")
    assert thank_yous(engine, app) == []
    engine.undo(app.id)
    assert thank_yous(engine, app) == ["Raj Patel"]
    engine.merge_contacts(app.id, "Raj Patel", "Jane Doe")
    assert engine.application(app.id).state == "thanked"  # Raj's note counts as Jane's
    engine.undo(app.id)
    assert engine.application(app.id).state == "interviewed"
    assert engine.application(app.id).contact("Raj Patel") == Contact(
        "Raj Patel", "interviewer", title="Lead")
    assert thank_yous(engine, app) == ["Raj Patel"]


def test_undo_of_an_archive_plans_again(engine: Engine) -> None:
    app = add(engine)
    before = engine.timers(app.id)
    engine.archive(app.id)
    outcome = engine.undo(app.id)
    assert outcome.application.archived_at is None
    assert engine.timers(app.id) == before


def test_undo_with_a_repeated_key_undoes_once(engine: Engine) -> None:
    app = add(engine)
    engine.edit(app.id, company="B")
    engine.edit(app.id, company="C")
    engine.undo(app.id, key="u1")
    assert not engine.undo(app.id, key="u1").changed
    assert engine.application(app.id).company == "B"


def test_nothing_to_undo_is_refused(engine: Engine) -> None:
    app = add(engine)
    with pytest.raises(InputError, match=f"nothing to undo on application {app.id}"):
        engine.undo(app.id)
    engine.edit(app.id, role="Lead")
    engine.undo(app.id)
    with pytest.raises(InputError, match="nothing to undo"):
        engine.undo(app.id)  # an undo is not undone: there is nothing before the edit
    assert kinds(engine, app) == ["created", "edit", "undo"]


# -- snooze ----------------------------------------------------------------------------


def test_snooze_holds_a_reminder_back_into_the_send_window(
        engine: Engine, clock: FakeClock) -> None:
    app = add(engine)
    [ask] = reminders(engine, app, "ask-decision-date")
    # two days from Wed 16:00 is Fri 25 December, a holiday: Mon 28th 09:00 in New York
    outcome = engine.snooze(app.id, ask.key, by=timedelta(days=2))
    [held] = reminders(engine, app, "ask-decision-date")
    assert held.key == ask.key
    assert held.fire_at == datetime(2026, 12, 28, 14, 0, tzinfo=UTC)
    assert [t.key for t in outcome.armed] == [ask.key]
    entry = engine.history(app.id)[-1]
    assert (entry.kind, entry.name, entry.data["timer"]) == ("snooze", ask.rule, ask.key)
    engine.replan(app.id)  # honoured on every plan
    assert reminders(engine, app, "ask-decision-date") == [held]
    engine.undo(app.id)
    assert reminders(engine, app, "ask-decision-date") == [ask]


def test_a_snoozed_reminder_fires_once_at_its_new_time(
        engine: Engine, clock: FakeClock, recorder: Recorder) -> None:
    app = add(engine)
    [ask] = reminders(engine, app, "ask-decision-date")
    until = datetime(2026, 12, 24, 15, 0, tzinfo=UTC)  # Thu 10:00 in New York
    engine.snooze(app.id, ask.key, until=until)
    engine.run_due()
    assert not [n for n in recorder.sent if n.rule == "ask-decision-date"]
    clock.set(until)
    engine.run_due()
    clock.advance(timedelta(days=3))
    engine.run_due()
    assert len([n for n in recorder.sent if n.rule == "ask-decision-date"]) == 1


def test_a_snoozed_reminder_stays_snoozed_when_its_contact_is_renamed(engine: Engine) -> None:
    app = add(engine)
    [jane] = [t for t in reminders(engine, app, "thank-you-notes") if t.contact == "Jane Doe"]
    engine.snooze(app.id, jane.key, until=datetime(2026, 12, 24, 15, 0, tzinfo=UTC))
    engine.rename_contact(app.id, "Jane Doe", "Jane Smith")
    [held] = [t for t in reminders(engine, app, "thank-you-notes")
              if t.contact == "Jane Smith"]
    assert held.fire_at == datetime(2026, 12, 24, 15, 0, tzinfo=UTC)


def test_snooze_refusals_say_why(engine: Engine) -> None:
    app = add(engine)
    [ask] = reminders(engine, app, "ask-decision-date")
    with pytest.raises(InputError, match=r"no pending reminder 'nope' .* \(pending: .*"
                       r"ask-decision-date"):
        engine.snooze(app.id, "nope", by=timedelta(hours=1))
    with pytest.raises(InputError, match="one of the two"):
        engine.snooze(app.id, ask.key)
    with pytest.raises(InputError, match=r"already, later than .*: a snooze only holds a reminder back"):
        engine.snooze(app.id, ask.key, until=ask.fire_at - timedelta(hours=1))
    with pytest.raises(InputError, match="is not after now"):
        engine.snooze(app.id, ask.key, by=timedelta(0))
    assert kinds(engine, app) == ["created"]


def test_snooze_with_a_repeated_key_changes_nothing(engine: Engine) -> None:
    app = add(engine)
    [ask] = reminders(engine, app, "ask-decision-date")
    engine.snooze(app.id, ask.key, by=timedelta(days=1), key="s1")
    assert not engine.snooze(app.id, ask.key, by=timedelta(days=5), key="s1").changed
    assert kinds(engine, app).count("snooze") == 1


# -- the history, kept ------------------------------------------------------------------


def test_every_correction_kind_is_kept_by_a_store_reopened(tmp_path: Path,
                                                          clock: FakeClock) -> None:
    path = tmp_path / "kept.db"
    with SQLiteStore(path) as store:
        engine = Engine(store=store, clock=clock, channels=[])
        engine.set_owner("ada", timezone=NY, country="US")
        app = add(engine)
        [ask] = reminders(engine, app, "ask-decision-date")
        engine.edit(app.id, company="Acme Corp")
        engine.rename_contact(app.id, "Jane Doe", "Jane Smith")
        engine.merge_contacts(app.id, "Raj Patel", "Jane Smith")
        engine.add_contact(app.id, Contact("Sam", "interviewer"))
        engine.remove_contact(app.id, "Sam")
        engine.snooze(app.id, ask.key, by=timedelta(days=1))
        engine.archive(app.id)
        engine.undo(app.id)
        history = engine.history(app.id)
        timers = engine.timers(app.id)
    with SQLiteStore(path) as store:
        again = Engine(store=store, clock=clock, channels=[])
        assert again.history(app.id) == history
        assert [h.kind for h in history] == [
            "created", "edit", "rename", "merge", "contact", "remove", "snooze", "archive",
            "undo"]
        assert again.replan(app.id).changed is False  # the plan read back is the same
        assert again.timers(app.id) == timers


def test_an_archived_application_stays_archived_in_a_store_reopened(
        tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "archived.db"
    with SQLiteStore(path) as store:
        engine = Engine(store=store, clock=clock, channels=[])
        engine.set_owner("ada", timezone=NY, country="US")
        app = add(engine)
        engine.archive(app.id)
    with SQLiteStore(path) as store:
        again = Engine(store=store, clock=clock, channels=[])
        assert again.application(app.id).archived_at == clock.now()
        assert not again.replan(app.id).changed  # still planned no more
        assert again.timers(app.id) == []
        again.unarchive(app.id)
        assert reminders(again, app)


def _snooze_ask(engine: Engine, app: Application) -> object:
    [ask] = reminders(engine, app, "ask-decision-date")
    return engine.snooze(app.id, ask.key, by=timedelta(days=3))


UNDONE = {
    "called": lambda e, a: e.log(a.id, event="called"),
    "rejected": lambda e, a: e.log(a.id, event="rejected"),
    "thank-you": lambda e, a: e.log(a.id, event="thank_you_sent", contact="Raj Patel"),
    "facts": lambda e, a: e.log(a.id, facts={"decision_expected_on": "2027-01-08",
                                             "interviewed_at": None}),
    "contact": lambda e, a: e.add_contact(a.id, Contact("Ann Lee", "reference")),
    "contact update": lambda e, a: e.add_contact(a.id, Contact("Raj Patel", "interviewer")),
    "edit": lambda e, a: e.edit(a.id, company="B", role="C"),
    "rename": lambda e, a: e.rename_contact(a.id, "Raj Patel", "R. Patel"),
    "merge": lambda e, a: e.merge_contacts(a.id, "Raj Patel", "Jane Doe"),
    "remove": lambda e, a: e.remove_contact(a.id, "Raj Patel"),
    "archive": lambda e, a: e.archive(a.id),
    "snooze": _snooze_ask,
}


@pytest.mark.parametrize("what", sorted(UNDONE))
def test_undo_gives_back_the_application_and_plan_as_before(engine: Engine, what: str) -> None:
    app = add(engine)
    engine.log(app.id, event="thank_you_sent", contact="Jane Doe")  # something before it
    before, timers = engine.application(app.id), engine.timers(app.id)
    UNDONE[what](engine, app)
    assert (engine.application(app.id), engine.timers(app.id)) != (before, timers)
    engine.undo(app.id)
    after = engine.application(app.id)
    assert replaced(after, version=before.version) == before
    assert engine.timers(app.id) == timers


def test_a_second_snooze_holds_it_back_further_and_the_same_again_is_refused(
        engine: Engine) -> None:
    app = add(engine)
    [ask] = reminders(engine, app, "ask-decision-date")
    first = datetime(2026, 12, 24, 15, 0, tzinfo=UTC)  # Thu 10:00 in New York
    engine.snooze(app.id, ask.key, until=first)
    with pytest.raises(InputError, match=r"goes out at Thu 2026-12-24 10:00 EST already, "
                       r"later than Thu 2026-12-24 10:00 EST: .* so nothing changed"):
        engine.snooze(app.id, ask.key, until=first)
    assert kinds(engine, app) == ["created", "snooze"]
    later = datetime(2026, 12, 24, 17, 0, tzinfo=UTC)  # Thu 12:00
    assert engine.snooze(app.id, ask.key, until=later).changed
    [held] = reminders(engine, app, "ask-decision-date")
    assert (held.key, held.fire_at) == (ask.key, later)
    assert kinds(engine, app) == ["created", "snooze", "snooze"]
