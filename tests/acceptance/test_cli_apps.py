"""``init``, ``add``, ``list``, ``show`` and ``agenda``: an application's life in the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

NEW_YORK = ZoneInfo("America/New_York")
TIMER_KEYS = {"application", "rule", "action", "at", "due", "contact", "key"}

# What the default pack arms for an interview on Wed 2026-12-23 15:00 in New York with two
# interviewers, once it ends (an hour later): reminders to ask when they will decide (no
# decision date is recorded) and whom else to talk to (no referral), and a thank-you note
# each, all due by the end of the 2nd working day (Thu 24th, then Mon 28th: Christmas
# Friday and the weekend are skipped); one to get Raj Patel's title (it repeats; no
# deadline); and the follow-up call 7 days later, due 10 days after the interview, Sat 2
# January, so the next working day, Mon 4th.
ASK_DECISION_DATE = (
    "ask-decision-date",
    "notify",
    "2026-12-23T16:00:00-05:00",
    "2026-12-28T17:00:00-05:00",
    None,
)
EXPECTED_TIMERS = [
    ASK_DECISION_DATE,
    ("ask-for-referrals", "notify", "2026-12-23T16:00:00-05:00", "2026-12-28T17:00:00-05:00",
     None),
    ("collect-contacts", "notify", "2026-12-23T16:00:00-05:00", None, None),
    (
        "thank-you-notes",
        "notify",
        "2026-12-23T16:00:00-05:00",
        "2026-12-28T17:00:00-05:00",
        "Jane Doe",
    ),
    (
        "thank-you-notes",
        "notify",
        "2026-12-23T16:00:00-05:00",
        "2026-12-28T17:00:00-05:00",
        "Raj Patel",
    ),
    ("follow-up-call", "notify", "2026-12-30T15:00:00-05:00", "2027-01-04T17:00:00-05:00", None),
]


def timers_of(items):
    """The timers, without prepare-for-interview: it is armed only when the application
    was added (by the wall clock) before the interview, so it depends on the day the
    tests run (tests/scenarios/the-interview.yaml shows it)."""
    return [(t["rule"], t["action"], t["at"], t["due"], t["contact"]) for t in items
            if t["rule"] != "prepare-for-interview"]


def no_why_me(app):
    """The warning for a thank-you draft that would lack why the candidate fits best."""
    return ("thank-you-notes: the fact why_me (why you are the best candidate, in one line) "
            f"is not recorded, so the draft will go out without it; record it (followup log "
            f"{app} --fact why_me=...)")


def no_title(app, name):
    """The warning for an interviewer whose thank-you draft would lack a title."""
    return (
        f"thank-you-notes: {name!r} has no title, so the draft will go out without it; "
        f'record it (followup log {app} --interviewer "{name}, TITLE")'
    )


def assert_keep_looking_after(item, created):
    """``item`` is the owner's weekly keep-looking nudge, a week after ``created`` (when
    the application was added, by the wall clock) or, outside the send window, at the
    next working day's opening."""
    assert (item["application"], item["rule"], item["action"]) == ("", "keep-looking", "notify")
    assert (item["due"], item["contact"]) == (None, None)
    at = datetime.fromisoformat(item["at"]).astimezone(NEW_YORK)
    week_later = created.astimezone(NEW_YORK) + timedelta(days=7)
    assert week_later <= at <= week_later + timedelta(days=5), (created, item)
    assert at.weekday() < 5, item  # Monday to Friday
    assert "09:00" <= at.strftime("%H:%M") < "18:00", item  # inside the send window
    assert item["key"] == f"owner/tester/keep-looking/{at.date().isoformat()}"


def test_init_creates_the_store_and_sets_the_owner(followup):
    result = followup(
        "init", "--timezone", "America/New_York", "--country", "US", "--subdivision", "NY"
    )
    assert followup.db.is_file()
    assert result.stdout.splitlines() == [
        f"followup store ready at {followup.db}",
        "owner tester: time zone America/New_York, holidays of US-NY",
    ]


def test_init_json(followup):
    data = followup(
        "init", "--timezone", "Europe/Berlin", "--country", "DE", "--subdivision", "BY", "--json"
    ).json()
    assert data == {
        "store": str(followup.db),
        "owner": "tester",
        "timezone": "Europe/Berlin",
        "country": "DE",
        "subdivision": "BY",
        "channels": None,
        "digest": None,
        "quiet_hours": [],
        "looking": True,
    }


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--timezone", "Mars/Olympus_Mons", "Mars/Olympus_Mons"),
        ("--country", "XX", "XX"),
    ],
)
def test_init_rejects_a_bad_calendar(followup, option, value, needle):
    args = {"--timezone": "UTC", "--country": "US"}
    args[option] = value
    result = followup("init", *[x for kv in args.items() for x in kv], expect=2)
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_add_json(acme):
    added = acme
    assert set(added) == {"id", "state", "problems", "timers"}
    assert isinstance(added["id"], str)
    assert added["id"]
    assert added["state"] == "interviewed"
    # The thank-you draft shows the interviewer's title; Raj Patel's is not recorded.
    assert added["problems"] == [no_why_me(added["id"]), no_title(added["id"], "Raj Patel")]
    for timer in added["timers"]:
        assert set(timer) == TIMER_KEYS
        assert timer["application"] == added["id"]
    assert sorted(timers_of(added["timers"]), key=lambda t: (t[2], t[4] or "")) == EXPECTED_TIMERS
    ats = [t["at"] for t in added["timers"]]
    assert ats == sorted(ats)
    keys = [t["key"] for t in added["timers"]]
    assert len(set(keys)) == len(keys)


def test_add_human(followup):
    followup("init", "--timezone", "America/New_York", "--country", "US", "--subdivision", "NY")
    result = followup(
        "add",
        "--company",
        "Acme",
        "--role",
        "Engineer",
        "--id",
        "acme-1",
        "--interviewed",
        "2026-12-23T15:00",
        "--interviewer",
        "Jane Doe",
    )
    # (prepare-for-interview is left out: it depends on the day the tests run.)
    assert [line for line in result.stdout.splitlines()
            if "prepare-for-interview" not in line] == [
        "added acme-1: Engineer at Acme (interviewed)",
        "  Wed 2026-12-23 16:00  ask-decision-date  due Mon 2026-12-28 17:00",
        "  Wed 2026-12-23 16:00  ask-for-referrals  due Mon 2026-12-28 17:00",
        "  Wed 2026-12-23 16:00  collect-contacts",
        "  Wed 2026-12-23 16:00  thank-you-notes — Jane Doe  due Mon 2026-12-28 17:00",
        "  Wed 2026-12-30 15:00  follow-up-call  due Mon 2027-01-04 17:00",
    ]
    assert result.stderr == (f"followup add: warning: {no_title('acme-1', 'Jane Doe')}\n"
                             f"followup add: warning: {no_why_me('acme-1')}\n")


def test_list_json(followup, acme):
    app = acme["id"]
    [item] = followup("list", "--json").json()
    assert {k: item[k] for k in ("id", "company", "role", "state")} == {
        "id": app,
        "company": "Acme",
        "role": "Engineer",
        "state": "interviewed",
    }
    assert datetime.fromisoformat(item["created_at"]).tzinfo is not None
    # Global options may stand before the command too.
    assert followup("--json", "list", "--state", "interviewed").json() == [item]
    assert followup("list", "--state", "thanked", "--json").json() == []


def test_list_human(followup, acme):
    app = acme["id"]
    assert followup("list").stdout == f"{app}  interviewed  Engineer at Acme\n"


def test_show_json(followup, acme):
    added = acme
    app = added["id"]
    shown = followup("show", app, "--json").json()
    assert {k: shown[k] for k in ("id", "owner", "company", "role", "state")} == {
        "id": app,
        "owner": "tester",
        "company": "Acme",
        "role": "Engineer",
        "state": "interviewed",
    }
    assert set(shown["facts"]) == {"interviewed_at"}
    interviewed = datetime.fromisoformat(shown["facts"]["interviewed_at"])
    assert interviewed == datetime(2026, 12, 23, 15, 0, tzinfo=NEW_YORK)
    assert shown["contacts"] == [
        {
            "name": "Jane Doe",
            "role": "interviewer",
            "title": "Engineering Manager",
            "email": "",
            "phone": "",
        },
        {"name": "Raj Patel", "role": "interviewer", "title": "", "email": "", "phone": ""},
    ]
    [created] = shown["history"]
    assert {k: created[k] for k in ("seq", "kind", "contact", "from", "to")} == {
        "seq": 0,
        "kind": "created",
        "contact": None,
        "from": None,
        "to": "interviewed",
    }
    at = datetime.fromisoformat(created["at"])  # when it was added, in the owner's zone
    assert at.utcoffset() == at.astimezone(NEW_YORK).utcoffset()
    assert shown["timers"] == added["timers"]
    allowed = set(shown["events_allowed"])
    assert {"thank_you_sent", "called", "offer_received", "rejected"} <= allowed
    assert "reopened" not in allowed


def test_show_human(followup, acme):
    app = acme["id"]
    out = followup("show", app).stdout
    assert out.startswith(f"{app}: Engineer at Acme — interviewed\n")
    assert "  interviewer: Jane Doe, Engineering Manager\n" in out
    assert "  interviewer: Raj Patel\n" in out
    assert "  Wed 2026-12-23 16:00  thank-you-notes — Jane Doe  due Mon 2026-12-28 17:00\n" in out
    assert "  Wed 2026-12-30 15:00  follow-up-call  due Mon 2027-01-04 17:00\n" in out


def test_agenda_json(followup, acme):
    app = acme["id"]
    items = followup("agenda", "--json", "--days", "3650").json()
    ats = [datetime.fromisoformat(i["at"]) for i in items]
    assert ats == sorted(ats)
    for item in items:
        assert set(item) == TIMER_KEYS | {"company", "role", "status", "overdue", "due_now",
                                          "held"}
        assert isinstance(item["overdue"], bool)
        assert isinstance(item["due_now"], bool)
    # One application, fewer than three in play: the owner's weekly nudge, which belongs to
    # no application, is on the agenda too.
    [nudge] = [i for i in items if i["application"] == ""]
    assert (nudge["company"], nudge["role"], nudge["overdue"]) == (None, None, False)
    [listed] = followup("list", "--json").json()
    assert_keep_looking_after(nudge, datetime.fromisoformat(listed["created_at"]))
    mine = [i for i in items if i["application"] != ""]
    assert timers_of(mine) == EXPECTED_TIMERS
    for item in mine:
        assert (item["application"], item["company"], item["role"]) == (app, "Acme", "Engineer")
        # Due: its time came; overdue: its deadline passed (no longer the same thing).
        assert item["due_now"] == (datetime.fromisoformat(item["at"]) <= datetime.now(UTC))
        assert item["overdue"] == (item["due"] is not None and datetime.fromisoformat(
            item["due"]) <= datetime.now(UTC))
        assert item["status"] == ("overdue" if item["overdue"] else "due"
                                  if item["due_now"] else "coming")


def test_keep_looking_while_fewer_than_three_applications_are_in_play(followup, acme):
    def nudges():
        items = followup("agenda", "--json", "--days", "3650").json()
        return [i for i in items if i["rule"] == "keep-looking"]

    assert len(nudges()) == 1
    for company, interviewed in (("Globex", "2026-12-21T10:00"), ("Initech", "2026-12-22T10:00")):
        followup(
            "add",
            "--company",
            company,
            "--role",
            "Analyst",
            "--id",
            company.lower(),
            "--interviewed",
            interviewed,
            "--interviewer",
            "Hank Scorpio, CEO",
        )
    # Three applications in play: no need to keep looking.
    assert nudges() == []

    # An offer is not "in play": two are left, and the weekly nudge is back, a week later.
    followup("log", "globex", "offer_received")
    [nudge] = nudges()
    offer = followup("show", "globex", "--json").json()["history"][-1]
    assert (offer["kind"], offer["name"]) == ("event", "offer_received")
    assert_keep_looking_after(nudge, datetime.fromisoformat(offer["at"]))


def test_an_offer_elsewhere_leaves_no_bookkeeping_on_the_agenda(followup, acme):
    followup(
        "add",
        "--company",
        "Globex",
        "--role",
        "Analyst",
        "--id",
        "globex",
        "--interviewed",
        "2026-12-21T10:00",
        "--interviewer",
        "Hank Scorpio, CEO",
    )
    followup("log", "globex", "offer_received")
    items = followup("agenda", "--json", "--days", "3650").json()
    # Only reminders and moves belong on the agenda: the owner's keep-looking nudge.
    assert [(i["rule"], i["action"]) for i in items if i["application"] == ""] == [
        ("keep-looking", "notify")
    ]
    assert "replan" not in followup("agenda", "--days", "3650").stdout


def test_owners_are_isolated(followup, acme):
    app = acme["id"]
    assert followup("list", "--owner", "someone-else", "--json").json() == []
    assert followup("agenda", "--owner", "someone-else", "--json", "--days", "3650").json() == []
    result = followup("show", app, "--owner", "someone-else", expect=2)
    assert app in result.stderr


def test_add_rejects_a_bad_time_and_stores_nothing(followup):
    followup("init", "--timezone", "UTC")
    result = followup(
        "add", "--company", "Acme", "--role", "Engineer", "--interviewed", "next tuesday", expect=2
    )
    assert "'next tuesday'" in result.stderr
    assert followup("list", "--json").json() == []


def test_add_rejects_two_contacts_with_one_name(followup):
    followup("init", "--timezone", "UTC")
    result = followup(
        "add",
        "--company",
        "Acme",
        "--role",
        "Engineer",
        "--interviewer",
        "Jane Doe",
        "--reference",
        "Jane Doe",
        expect=2,
    )
    assert "'Jane Doe'" in result.stderr
    assert followup("list", "--json").json() == []


def test_add_with_an_id_that_exists_is_bad_input(followup):
    followup("init", "--timezone", "UTC")
    followup("add", "--company", "Acme", "--role", "Engineer", "--id", "acme")
    result = followup(
        "add", "--company", "Globex", "--role", "Analyst", "--id", "acme", expect=None
    )
    assert "'acme'" in result.stderr
    assert [a["company"] for a in followup("list", "--json").json()] == ["Acme"]
    assert result.returncode == 2


@pytest.mark.parametrize(
    ("value", "contact"),
    [
        ('"Doe, Jane" <j@x.example>', ("Doe, Jane", "", "j@x.example")),
        ('"Doe, Jane", Engineering Manager <j@x.example>',
         ("Doe, Jane", "Engineering Manager", "j@x.example")),
        ("Jane Doe, Engineering Manager", ("Jane Doe", "Engineering Manager", "")),
        ('"Say \\"Hi\\" Lee" <lee@x.example>', ('Say "Hi" Lee', "", "lee@x.example")),
    ],
)
def test_a_contact_option_reads_quoted_names_and_addresses(followup, acme, value, contact):
    # "Doe, Jane" is Jane Doe's name written family first: --new keeps them apart here.
    followup("log", acme["id"], "--interviewer", value, "--new")
    shown = followup("show", acme["id"], "--json").json()
    found = [(c["name"], c["title"], c["email"]) for c in shown["contacts"]]
    assert tuple(contact) in found, found


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ('"Doe, Jane <j@x.example>', "the quote around the name is not closed"),
        ('"Doe, Jane" Manager', "after the quoted name comes a comma"),
        ("Jane Doe <not an address>", "<not an address> is not an email address"),
        (", Manager", "--interviewer needs a name"),
    ],
)
def test_a_contact_option_that_cannot_be_read_exits_2(followup, acme, value, problem):
    result = followup("log", acme["id"], "--interviewer", value, expect=2)
    assert problem in result.stderr, result.stderr


def test_agenda_tells_a_passed_deadline_from_a_reminder_whose_time_came(followup):
    """A reminder due in 3 days whose time came is "due", not "overdue"; one whose deadline
    passed is "overdue"."""
    from datetime import timedelta

    followup("init", "--timezone", "UTC")
    now = datetime.now(UTC)
    # An interview an hour ago (any day): the thank-you note's time has come, and its
    # deadline (2 working days) is ahead.
    recent = followup("add", "--company", "Recent", "--role", "Engineer", "--interviewed",
                      f"{now - timedelta(hours=1):%Y-%m-%dT%H:%M}", "--interviewer",
                      "Jane Doe, CTO", "--json").json()["id"]
    # An interview long ago: its deadlines passed.
    old = followup("add", "--company", "Old", "--role", "Engineer", "--interviewed",
                   "2020-01-06T10:00", "--interviewer", "Raj Patel, CTO", "--json").json()["id"]
    items = followup("agenda", "--json").json()
    note = {i["application"]: i for i in items if i["rule"] == "thank-you-notes"}
    assert note[old]["status"] == "overdue" and note[old]["overdue"] is True
    if note[recent]["due_now"]:  # past its time (it may wait for the interview's end)
        assert note[recent]["status"] == "due" and note[recent]["overdue"] is False
    else:
        assert note[recent]["status"] == "coming"
    text = followup("agenda").stdout
    [line] = [line for line in text.splitlines() if "Raj Patel" in line]
    assert line.startswith("overdue ")
    [line] = [line for line in text.splitlines() if "Jane Doe" in line]
    assert not line.startswith("overdue")


def test_saying_you_stopped_looking_stops_the_nudges_until_you_look_again(followup, acme):
    def nudges():
        items = followup("agenda", "--json", "--days", "3650").json()
        return [i["rule"] for i in items if i["rule"].startswith("keep-looking")]

    assert nudges() == ["keep-looking"]
    stopped = followup("settings", "--looking", "no")
    assert "looking for work: yes → no" in stopped.stdout
    assert "not looking for work" in stopped.stdout
    assert nudges() == []
    shown = followup("settings", "--json").json()
    assert shown["looking"] is False
    back = followup("settings", "--looking", "yes", "--json").json()
    assert (back["looking"], back["changed"]) == (True, ["looking"])
    assert nudges() == ["keep-looking"]
    bad = followup("settings", "--looking", "maybe", expect=2)
    assert "--looking: invalid choice: 'maybe'" in bad.stderr
    assert nudges() == ["keep-looking"]
