"""Scenario tests: the advice table of DESIGN.md, one story at a time, with real dates.

Each YAML document in ``tests/scenarios/*.yaml`` gives an interview (or several
applications) and the timeline expected from it, worked out by hand; this harness runs
the real engine and compares line by line. How to read and write a scenario:
``tests/scenarios/README.md``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from followup import (
    Contact,
    Engine,
    FakeClock,
    HistoryEntry,
    MemoryStore,
    Notification,
    RulePack,
    WorkCalendar,
    load_rules,
)
from followup.cli.packs import planned_event
from followup.runtime.simulate import simulate

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
ROLES = {"interviewers": "interviewer", "references": "reference", "referrals": "referral",
         "recruiters": "recruiter"}
OWNER = "owner"
NOTICES = {"notify", "cancel"}  # the lines `only:` filters; the rest are always shown
# The keys a scenario may use, so that a misspelt one fails instead of being ignored.
KEYS = {"scenario", "advice", "given", "rules", "only", "show", "expect", "xfail", "like",
        "changes"}
GIVEN = {"interviewed", "from", "tz", "country", "subdivision", "company", "role", "facts", "events",
         "until", "applications", *ROLES}
APPLICATION = {"company", "role", "interviewed", "added", "facts", *ROLES}


# -- reading scenarios ------------------------------------------------------------------

def _scenarios() -> Iterator[Any]:
    for file in sorted(SCENARIOS.glob("*.yaml")):
        named: dict[str, dict[str, Any]] = {}
        for doc in yaml.safe_load_all(file.read_text(encoding="utf-8")):
            if not doc:
                continue
            if "like" in doc:  # the same story as another, with a few lines changed
                base = named[doc["like"]]
                expect = _changed(_lines(base["expect"]), doc.get("changes", ""))
                doc = {k: v for k, v in base.items() if k != "xfail"} | doc | {"expect": expect}
            named[doc["scenario"]] = doc
            xfail = pytest.mark.xfail(strict=True, reason=doc.get("xfail", ""),
                                      raises=pytest.fail.Exception)
            marks = [xfail] if "xfail" in doc else []
            yield pytest.param(doc, id=f"{file.stem}/{doc['scenario']}", marks=marks)


def _lines(text: str | list[str]) -> list[str]:
    """Expected lines without blanks and # comments, with runs of spaces made one."""
    raw = text if isinstance(text, list) else text.splitlines()
    return [" ".join(line.split()) for line in raw
            if line.strip() and not line.lstrip().startswith("#")]


def _changed(base: list[str], changes: str) -> list[str]:
    """``base`` with each ``- line`` replaced by the ``+ lines`` that follow it."""
    out, at = list(base), 0
    for line in _lines(changes):
        sign, text = line[0], line[1:].strip()
        if sign == "-":
            assert text in out, f"changes: {text!r} is not in the base timeline"
            at = out.index(text)
            out.pop(at)
        elif sign == "+":
            out.insert(at, text)
            at += 1
        else:
            raise AssertionError(f"changes: each line starts with - or +, not {line!r}")
    return out


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _when(text: object, cal: WorkCalendar) -> datetime:
    """A scenario time: naive ones are read in the owner's zone; a bare date means its end."""
    value = _text(text)
    moment = datetime.fromisoformat(value)
    if len(value) == 10:
        moment += timedelta(days=1, microseconds=-1)
    return moment.astimezone(UTC) if moment.tzinfo else cal.to_utc(moment)


def _contacts(spec: dict[str, Any]) -> list[Contact]:
    return [_contact(role, text) for key, role in ROLES.items() for text in spec.get(key, [])]


def _contact(role: str, text: str) -> Contact:
    name, _, title = text.partition(",")
    return Contact(name.strip(), role, title=title.strip())


def _facts(spec: dict[str, Any]) -> dict[str, object]:
    return {k: _text(v) if isinstance(v, date) else v for k, v in spec.get("facts", {}).items()}


# -- the timeline, as text ----------------------------------------------------------------

def _at(cal: WorkCalendar, instant: datetime) -> str:
    return cal.local(instant).strftime("%a %Y-%m-%d %H:%M")


def _line(cal: WorkCalendar, at: datetime, action: str, what: str | None = None, *,
          contact: str | None = None, due: datetime | None = None, state: str | None = None,
          company: str | None = None, note: str = "") -> str:
    cells = [_at(cal, at)] + ([f"{company:<8}"] if company is not None else [])
    cells += [f"{action:<10}", f"{what or '':<19}", f"{contact or '':<12}",
              f"due {_at(cal, due)}" if due else " " * 24, f"[{state}]" if state else "", note]
    return "  ".join(cells).rstrip()


@dataclass
class Line:
    text: str
    action: str
    rule: str | None
    extra: tuple[str, ...] = ()  # subject and body, when the scenario shows them


def _shown(lines: list[Line], doc: dict[str, Any]) -> list[str]:
    only = doc.get("only")
    out: list[str] = []
    for line in lines:
        if only is None or line.action not in NOTICES or line.rule in only:
            out += [line.text, *line.extra]
    return out


def _extra(doc: dict[str, Any], subject: str | None, body: str | None) -> tuple[str, ...]:
    show = doc.get("show", [])
    out = [f"    subject: {subject}"] if "subject" in show and subject is not None else []
    if "body" in show and body is not None:
        out += [f"    | {text}".rstrip() for text in body.rstrip("\n").splitlines()]
    return tuple(out)


def _pack(doc: dict[str, Any]) -> RulePack:
    return load_rules(text=doc["rules"]) if "rules" in doc else load_rules()


# -- one application: the dry run -----------------------------------------------------------

def _dry_run(doc: dict[str, Any]) -> list[str]:
    given, pack = doc["given"], _pack(doc)
    where = {"timezone": given.get("tz"), "country": given.get("country"),
             "subdivision": given.get("subdivision")}
    cal = pack.calendar.build(**where)
    # As followup simulate --event takes them: an event, facts, contacts, a round.
    events = [planned_event(text, pack, cal) for text in given.get("events", [])]
    sim = simulate(pack, interviewed=_when(given["interviewed"], cal), **where,
                   until=_when(given["until"], cal), contacts=_contacts(given),
                   facts=_facts(given), events=events,
                   company=given.get("company", "Example Corp"), role=given.get("role", "Engineer"),
                   added=_when(given["from"], cal) if "from" in given else None)
    lines = []
    for e in sim.timeline:
        note = ""
        if e.action == "cancel" and e.detail:
            note = "(was to fire " + _at(cal, datetime.fromisoformat(e.detail.split()[-1])) + ")"
        facts = None if e.facts is None else ", ".join(
            f"{k}={'' if v is None else v}" for k, v in e.facts.items())
        what = e.rule or e.event or facts or (f"{e.role}:" if e.role else None)
        who = f"{e.contact}, {e.title}" if e.contact and e.title else e.contact
        lines.append(Line(_line(cal, e.at, e.action, what, contact=who,
                                due=e.due, state=e.state, note=note),
                          e.action, e.rule, _extra(doc, e.subject, None)))
    return _shown(lines, doc)


# -- several applications: the engine, step by step -----------------------------------------

def _engine_run(doc: dict[str, Any]) -> list[str]:
    given = doc["given"]
    engine = Engine(rules=_pack(doc), store=MemoryStore(),
                    clock=FakeClock(datetime(2000, 1, 1, tzinfo=UTC)), channels=[])
    engine.set_owner(OWNER, timezone=given.get("tz"), country=given.get("country"),
                     subdivision=given.get("subdivision"))
    cal = engine.calendar(OWNER)
    clock = engine.clock
    assert isinstance(clock, FakeClock)
    apps = {a["company"]: a for a in given["applications"]}
    steps: list[tuple[datetime, str, str]] = [
        (_when(a.get("added", a["interviewed"]), cal), a["company"], "added") for a in apps.values()]
    for text in given.get("events", []):
        when, company, what = text.split(None, 2)
        steps.append((_when(when, cal), company, what))
    steps.sort(key=lambda s: s[0])
    end = _when(given["until"], cal)
    lines: list[Line] = []
    seen: dict[str, int] = {}
    states: dict[str, str] = {}
    notes: dict[str, Notification] = {}

    def collect() -> None:
        for company in apps:
            if company not in seen:
                continue
            history = engine.history(company)
            for h in history[seen[company]:]:
                lines.append(_history_line(doc, cal, company, h, states, notes))
            seen[company] = len(history)

    ran_at: datetime | None = None
    while True:
        timers = engine.store.timers(owner=OWNER)
        next_timer = min((t.fire_at for t in timers), default=None)
        if next_timer is not None and next_timer <= clock.now() and ran_at == clock.now():
            # Still due after a pass at this very time: it waits for the send window.
            next_timer = cal.next_send_time(clock.now() + timedelta(minutes=1))
        if steps and (next_timer is None or steps[0][0] <= next_timer):
            if steps[0][0] > end:
                break
            when, company, what = steps.pop(0)
            clock.set(max(when, clock.now()))
            _step(engine, apps[company], what, when, cal)
            ran_at = None  # the step may have armed something due at once
            seen.setdefault(company, 0)
            collect()
        elif next_timer is not None and next_timer <= end:
            clock.set(max(next_timer, clock.now()))
            report = engine.run_due(clock.now(), deliver=False)
            ran_at = clock.now()
            notes.update((n.key, n) for o in report.outcomes for n in o.notifications)
            collect()
            for n in report.owner_notifications:
                lines.append(Line(_line(cal, n.created_at, "notify", n.rule, company="all"),
                                  "notify", n.rule, _extra(doc, n.subject, n.body)))
        else:
            break
    return _shown(lines, doc)


def _step(engine: Engine, app: dict[str, Any], what: str, when: datetime,
          cal: WorkCalendar) -> None:
    company = app["company"]
    verb, _, rest = what.partition(" ")
    if verb == "added":
        facts = {"interviewed_at": _when(app["interviewed"], cal), **_facts(app)}
        engine.add_application(owner=OWNER, company=company, role=app.get("role", "Engineer"),
                               facts=facts, contacts=_contacts(app), id=company)
    elif verb == "add":  # add ROLE NAME[, TITLE]
        role, _, person = rest.partition(" ")
        engine.add_contact(company, _contact(role, person))
    elif verb == "fact":  # fact NAME=VALUE
        name, _, value = rest.partition("=")
        engine.set_facts(company, {name.strip(): value.strip()})
    else:  # EVENT [contact=NAME]
        contact = rest.partition("=")[2].strip() or None
        engine.record(company, verb, contact=contact, at=when)


def _history_line(doc: dict[str, Any], cal: WorkCalendar, company: str, h: HistoryEntry,
                  states: dict[str, str], notes: dict[str, Notification]) -> Line:
    if h.to_state is not None:
        states[company] = h.to_state
    state = states.get(company)
    if h.kind == "notified":
        n = notes.get(h.key or "")
        due = datetime.fromisoformat(h.data["due"]) if h.data.get("due") else None
        text = _line(cal, h.at, "notify", h.name, contact=h.contact, due=due, state=state,
                     company=company)
        return Line(text, "notify", h.name, _extra(doc, n and n.subject, n and n.body))
    if h.kind == "contact":
        what = f"{h.data.get('role')}: {h.contact}"
        return Line(_line(cal, h.at, "add", what, state=state, company=company), "add", None)
    if h.kind == "facts":
        what = ", ".join(f"{k}={v}" for k, v in h.data.get("facts", {}).items())
        return Line(_line(cal, h.at, "fact", what, state=state, company=company), "fact", None)
    action = {"created": "added"}.get(h.kind, h.kind)
    what = None if h.kind == "created" else h.name
    return Line(_line(cal, h.at, action, what, contact=h.contact, state=state, company=company),
                action, h.name)


# -- the test -------------------------------------------------------------------------------

@pytest.mark.parametrize("doc", list(_scenarios()))
def test_scenario(doc: dict[str, Any]) -> None:
    _check(doc)
    run = _engine_run if "applications" in doc["given"] else _dry_run
    actual = run(doc)
    expected = doc["expect"] if isinstance(doc["expect"], list) else _lines(doc["expect"])
    if _lines(actual) != expected:
        diff = "\n".join(difflib.unified_diff(expected, _lines(actual), "expected", "engine",
                                              lineterm="", n=2))
        pytest.fail(f"{doc['scenario']}: the timeline differs\n{diff}\n\nthe engine's timeline, "
                    "to paste once checked by hand:\n" + "\n".join(actual), pytrace=False)


def _check(doc: dict[str, Any]) -> None:
    """A scenario that cannot mean what its author intended fails before it runs."""
    given = doc["given"]
    unknown = [*(set(doc) - KEYS), *(set(given) - GIVEN),
               *(k for a in given.get("applications", []) for k in set(a) - APPLICATION)]
    rules = {r.name for r in _pack(doc).rules}
    unknown += [f"only: {name}" for name in doc.get("only", []) if name not in rules]
    unknown += [f"show: {name}" for name in doc.get("show", []) if name not in {"subject", "body"}]
    assert not unknown, f"{doc['scenario']}: unknown {', '.join(map(str, unknown))}"
