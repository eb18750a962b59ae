"""Each owner's settings and working calendar, and the notification a fired rule makes.

An owner lives by a time zone, a country's holidays and quiet hours (``Owner``); the
pack's calendar built with them is the owner's ``WorkCalendar``. Both are read from the
store once per engine. A notification's text, channels and digest depend on the owner,
so rendering one lives here too: the same for a rule of one application and for a rule
over all of an owner's applications.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from followup.delivery.digest import digest_at
from followup.language.expressions import ExpressionError
from followup.language.pack import MessageSpec, Rule, RulePack
from followup.model import Application, Notification, Owner, Timer
from followup.runtime.facts import build_context
from followup.store import Store
from followup.timing.calendar import WorkCalendar, parse_time_range

if TYPE_CHECKING:
    from followup.runtime.changes import Outcome

__all__ = ["OwnerBook", "OwnerUpdate", "edited", "render"]


@dataclass(frozen=True)
class OwnerUpdate:
    """What ``Engine.update_owner`` did: the settings before and after, and the outcome
    of re-planning each of the owner's applications (``armed``: the timers that moved)."""

    before: Owner
    after: Owner
    replanned: tuple[Outcome, ...] = ()


def edited(before: Owner, *, timezone: str | None, country: str | None,
           subdivision: str | None, channels: Iterable[str] | None, digest: str | None,
           quiet_hours: Iterable[str] | None, looking: bool | None = None) -> dict[str, Any]:
    """The settings (``set_owner``'s keywords) after an edit of ``before``: what is not
    given (``None``) is kept, what is given empty goes back to the pack's. A new country
    drops the old one's subdivision, which means nothing elsewhere.

    >>> edited(Owner("ada", timezone="America/New_York", country="US", subdivision="NY",
    ...              digest="08:00"), timezone=None, country="DE", subdivision=None,
    ...        channels=None, digest="", quiet_hours=None)["subdivision"] is None
    True
    """
    if country is not None and subdivision is None and country != (before.country or ""):
        subdivision = ""

    def kept(given: str | None, old: str | None) -> str | None:
        return old if given is None else given.strip() or None

    return {
        "timezone": kept(timezone, before.timezone),
        "country": kept(country, before.country),
        "subdivision": kept(subdivision, before.subdivision),
        "channels": before.channels if channels is None else (tuple(channels) or None),
        "digest": kept(digest, before.digest),
        "quiet_hours": before.quiet_hours if quiet_hours is None else tuple(quiet_hours),
        "looking": before.looking if looking is None else looking,
    }


# Owners whose settings and calendars an engine keeps at once: a worker that meets more
# (a store of a million owners) begins again, so its memory does not grow with every owner
# it ever served; what it forgot is read again from the store when next needed.
OWNERS_KEPT = 10_000


class OwnerBook:
    """Owners' settings and calendars, read from the store once per engine (at most
    ``OWNERS_KEPT`` owners at once)."""

    def __init__(self, pack: RulePack, store: Store) -> None:
        self.pack = pack
        self.store = store
        self._owners: dict[str, Owner] = {}
        self._calendars: dict[str, WorkCalendar] = {}
        # Owners who live by the same settings share one calendar, and with it what it
        # has worked out (working days, holidays): most owners share a few zones and
        # countries, and a pass over many owners would otherwise start each one cold.
        self._shared: dict[tuple[object, ...], WorkCalendar] = {}

    def put(self, record: Owner) -> Owner:
        """Store ``record`` (a bad zone or country raises CalendarError first)."""
        self.build_calendar(record)
        self.store.put_owner(record)
        self._calendars.pop(record.id, None)
        self._keep(record)
        return record

    def _keep(self, record: Owner) -> None:
        if record.id not in self._owners and len(self._owners) >= OWNERS_KEPT:
            self._owners.clear()
            self._calendars.clear()
        self._owners[record.id] = record

    def owner(self, owner: str) -> Owner:
        """An owner's settings (the defaults for an owner never set)."""
        found = self._owners.get(owner)
        if found is None:
            found = self.store.get_owner(owner) or Owner(id=owner)
            self._keep(found)
        return found

    def refresh(self, owner_ids: Iterable[str]) -> None:
        """Read the settings of ``owner_ids`` again, in one read when the store can
        (``get_owners``), so that a change made elsewhere (``followup owner`` while a
        worker runs) is seen; an owner's calendar is built again only if its settings
        changed. If the read fails, the settings read before stay (logged): each
        application's own read then says whether the store is away."""
        ids = list(dict.fromkeys(owner_ids))
        get_owners = getattr(self.store, "get_owners", None)
        try:
            if get_owners is not None:
                found: dict[str, Owner] = get_owners(ids)
            else:
                found = {i: o for i in ids if (o := self.store.get_owner(i)) is not None}
        except Exception as exc:
            import logging

            logging.getLogger("followup").warning(
                "reading the owners of a batch failed, their settings as read before "
                "stay: %s", exc)
            return
        for owner_id in ids:
            now = found.get(owner_id) or Owner(id=owner_id)
            if self._owners.get(owner_id) != now:
                self._calendars.pop(owner_id, None)
                self._keep(now)

    def stored(self, owner: str) -> bool:
        """Whether ``owner``'s settings are in the store (not only the defaults)."""
        return self.store.get_owner(owner) is not None

    def calendar(self, owner: str) -> WorkCalendar:
        """The working calendar of ``owner``: the pack's, with the owner's zone, holidays
        and quiet hours."""
        cal = self._calendars.get(owner)
        if cal is None:
            record = self.owner(owner)
            key = (record.timezone, record.country, record.subdivision, record.quiet_hours)
            cal = self._shared.get(key)
            if cal is None:
                # Settings as stored were checked when they were set: the holidays load
                # on the first question about a day, so a command that only shows times
                # never imports them.
                if len(self._shared) >= OWNERS_KEPT:
                    self._shared.clear()
                cal = self._shared[key] = self.build_calendar(record, check_country=False)
            self._calendars[owner] = cal
        return cal

    def build_calendar(self, owner: Owner, *, check_country: bool = True) -> WorkCalendar:
        # A bad zone or country raises CalendarError, an InputError.
        return self.pack.calendar.build(
            timezone=owner.timezone, country=owner.country, subdivision=owner.subdivision,
            quiet_hours=[parse_time_range(span) for span in owner.quiet_hours],
            check_country=check_country)

    def channels_for(self, owner: str, message: MessageSpec) -> tuple[str, ...]:
        """Where a reminder goes: the rule's own channels, else the owner's choice, else
        the pack's default channels."""
        if message.own_channels:
            return message.channels
        chosen = self.owner(owner).channels
        return chosen if chosen else message.channels

    def digest_data(self, owner: str, fired: datetime, calendar: WorkCalendar) -> dict[str, str]:
        """For an owner who gets a daily digest, the digest a reminder waits for."""
        digest = self.owner(owner).digest
        if digest is None:
            return {}
        return {"digest_at": digest_at(digest, fired, calendar).isoformat()}

    def notification(self, rule: Rule, timer: Timer, context: Mapping[str, object], *,
                     fallback: str, at: datetime, calendar: WorkCalendar,
                     data: Mapping[str, Any]) -> Notification:
        """The notification ``timer`` of ``rule`` makes when it fires at ``at``: its
        message rendered with ``context`` (``fallback`` names it if a template fails),
        sent where the owner's reminders go, held for their digest if they have one."""
        subject, body = render(rule, context, fallback=fallback)
        return Notification(
            key=timer.key, application_id=timer.application_id, owner=timer.owner,
            rule=rule.name, created_at=at, subject=subject, body=body, due_at=timer.due_at,
            contact=timer.contact, channels=self.channels_for(timer.owner, rule.message),
            data={**data, **self.digest_data(timer.owner, at, calendar)})

    def preview(self, timer: Timer, application: Application | None, calendar: WorkCalendar,
                *, view: Mapping[str, Any] | None = None) -> tuple[str, str]:
        """What ``timer``'s notification will say (subject, draft), rendered now from what
        is known now: for a calendar that shows a reminder before it goes off. ``view`` is
        the owner's counts, for a rule over all of an owner's applications
        (``application`` None)."""
        try:
            rule = self.pack.rule(timer.rule)
        except KeyError:
            return timer.rule, ""  # a rule the pack no longer has: gone at the next plan
        at = calendar.local(timer.fire_at).isoformat()
        if application is None:
            return render(rule, dict(view or {}) | {"rule": rule.name, "due": None, "at": at},
                          fallback=rule.name)
        due = calendar.local(timer.due_at).isoformat() if timer.due_at else None
        contact = application.contact(timer.contact) if timer.contact else None
        context = build_context(self.pack, application, calendar, contact=contact,
                                extra={"rule": rule.name, "due": due, "at": at})
        return render(rule, context, fallback=f"{rule.name}: {application.company}")


def render(rule: Rule, context: Mapping[str, object], *, fallback: str) -> tuple[str, str]:
    """A rule's subject and body rendered with ``context``. A template that cannot be
    evaluated for these facts still gives a reminder: ``fallback`` and what failed."""
    try:
        subject = rule.message.subject.render(context).strip()
        body = rule.message.body.render(context) if rule.message.body else ""
    except ExpressionError as exc:
        return f"{fallback} ({exc})", ""
    return subject, body
