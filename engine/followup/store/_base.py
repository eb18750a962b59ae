"""The storage seam: everything the engine asks of a store, and nothing more.

Rules every store keeps (the contract suite checks them on each): instants must be aware
(naive ones raise ``InputError``) and come back in UTC; history only grows (a seq already
stored is refused); ``limit <= 0`` returns nothing; a notification with no channels
writes no outbox rows; ``retry_dead`` resets attempts and the next attempt time but keeps
the last error.

Records are immutable values (``followup.model``: frozen dataclasses whose facts and data
are ``FrozenDict``), so a store may hand out the very records it keeps, and keep the very
records a commit gives it, without copies: nobody can change one. A store must still hand
out only frozen records (the contract suite tries to change every one it is given back).

A store may also offer ``mark_delivered_many(rows, *, at)``: ``mark_delivered`` for every
(key, channel) of ``rows`` in one transaction, all or none (``InputError`` naming a row that
is not in the outbox, and nothing marked). The dispatcher marks a batch's sent rows with it
when it is there, and one row at a time otherwise; the three stores here have it.

A store may also offer ``load_many(application_ids, *, owner=None)``: ``load`` for each
id in one read, a ``Record`` per application found (an unknown id, or another owner's,
is left out), in the order of the ids. Re-planning a batch of applications
(``followup.runtime.replans``) reads them with it when it is there, and one at a time
otherwise; the three stores here have it.

A store may also offer ``get_owners(owner_ids)``: ``get_owner`` for each id in one read,
a dict of the owners whose settings are stored (an id never set is left out). A pass
over due work reads the owners of each claimed batch with it, so that a worker sees a
change of settings made elsewhere within a batch, at one read per batch; the three
stores here have it.

A store may also offer ``commit_many_claiming(changes, *, worker, until)``:
``commit_many``, in whose same transaction each outbox row of a notification that goes
out at once (no ``held_until``) is written as ``claim_deliveries`` leaves a row it takes
for ``worker`` (its next attempt at ``until``); it returns the applications and the rows
so taken (a (key, channel) already in the outbox is neither written nor taken). A pass
that delivers commits its batches with it when it is there and sends those rows at once,
without claiming them back; otherwise it commits with ``commit_many`` and claims (so a
subclass that wraps ``commit_many`` wraps this too). SQLite has it.

A store may also offer ``load_with_owner(application_id, *, owner=None)``: ``load``, and
in the same snapshot the application's owner's applications per state (as
``count_by_state``) and whether a re-plan marker waits for that owner (an owner-level
timer whose action is ``replan``): ``(record, counts, waiting)``. A change whose pack's
rules read the owner's other applications loads with it when it is there (one read
instead of three), and with ``load`` otherwise; the three stores here have it.

A store may also offer ``agenda_rows(*, owner, start=None, end=None)``: the lines of
``Engine.agenda`` as plain tuples (``followup.model.AgendaRow``: the timer's fields a
person reads, and its application's company) in the same order, read in one query without
making records: what ``followup agenda`` prints. ``Engine.agenda_rows`` makes them from
``timers`` and ``applications`` otherwise; SQLite and PostgreSQL have it.

A store may also offer ``application_rows(*, owner=None, states=None, archived=False)``:
``applications`` with the same filters and order, as plain tuples of what a listing
shows (``followup.model.ApplicationRow``), without reading facts, contacts or history:
what ``followup list`` prints. ``listing`` makes them from ``applications`` otherwise;
SQLite and PostgreSQL have it.

Where an optional method stands for others (``load_with_owner`` for ``load``,
``agenda_rows`` for ``timers`` and ``applications``, ``application_rows`` for
``applications``), followup uses it only when the store's class defines it at or beneath
every class defining those (``offers``): a subclass that wraps ``load`` (to check or count
each read) and not ``load_with_owner`` has every change read through its ``load``.

A store keeps applications, their history, their armed timers, the outbox of
notifications (one row per notification and channel) and owners. The engine does all
domain work above this seam; a store only reads and writes, and makes each ``Change``
atomic. Every read can be scoped to one owner (``owner=``); ``None`` means all owners and
must be asked for explicitly by the caller.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self, cast

from followup.model import (
    Application,
    ApplicationRow,
    Change,
    Delivery,
    DeliveryStatus,
    Fault,
    HistoryEntry,
    Notification,
    Owner,
    Record,
    Timer,
    WorkStatus,
)
from followup.store._calendar import CalendarEntry

__all__ = ["Store"]


class Store(Protocol):
    """What the engine needs from storage. One contract test suite runs on every store."""

    def load(self, application_id: str, *, owner: str | None = None) -> Record:
        """The application with its full history and armed timers.

        Raises ``UnknownApplication`` if there is none (or it belongs to another owner
        when ``owner`` is given).
        """
        ...

    def commit(self, change: Change) -> Application:
        """Apply one change atomically and return the application as stored.

        The application row, history entries, removed and added timers and new outbox
        rows are written together or not at all. Raises ``ConflictError`` when the stored
        version is not ``change.expected_version`` (or the application already exists
        when ``expected_version`` is ``None``). A notification whose (key, channel) is
        already in the outbox is not added again.
        """
        ...

    def commit_many(self, changes: Sequence[Change]) -> list[Application]:
        """Apply several changes in one transaction (the batch API): all or none."""
        ...

    def commit_owner(
        self,
        owner: str,
        *,
        timers_removed: Sequence[str] = (),
        timers_added: Sequence[Timer] = (),
        notifications: Sequence[Notification] = (),
    ) -> None:
        """Apply an owner-level change atomically: timers of rules over all of one owner's
        applications (their ``application_id`` is ``""``) and the notifications they
        fire. Timers and notifications of another owner raise ``InputError``."""
        ...

    def applications(
        self,
        *,
        owner: str | None = None,
        states: Collection[str] | None = None,
        archived: bool | None = False,
    ) -> list[Application]:
        """Applications ordered by creation time then id, optionally filtered.

        ``archived``: ``False`` (the default) leaves archived applications out (those
        with ``archived_at``), ``True`` lists only them, ``None`` all."""
        ...

    def count_applications(
        self,
        *,
        owner: str | None = None,
        states: Collection[str] | None = None,
        archived: bool | None = False,
    ) -> int:
        """How many applications match, without loading them (``archived`` as in
        ``applications``)."""
        ...

    def count_by_state(self, *, owner: str) -> dict[str, int]:
        """How many of ``owner``'s active applications are in each state (states with
        none are left out), in one read. An archived application is not active: the
        owner's rules (keep-looking) do not count it."""
        ...

    def stale_applications(
        self, fingerprint: str, *, limit: int, after: str | None = None
    ) -> list[tuple[str, str]]:
        """(owner, id) of at most ``limit`` applications not archived whose
        ``planned_by`` is not ``fingerprint`` (another pack planned them, or none did),
        in id order, those with an id greater than ``after`` (the last id of the page
        before). Uses an index: with nothing stale it reads nothing."""
        ...

    def delete_application(self, application_id: str, *, owner: str) -> None:
        """Delete an application and everything that exists only for it, in one
        transaction: its row, its history, its timers (and their claims), its outbox
        rows not delivered (pending or dead: never to be sent now), its calendar entries
        and its fault.

        Delivered outbox rows stay: they record what already went out to the outside
        world (``deliveries(status="delivered")`` answers "what did we send"), and a
        channel that deduplicates by idempotency key keeps those keys anyway. So the id
        of a deleted application is not for reuse: a new application under it would
        find its first reminders' keys taken (``Engine.add``'s generated ids never
        repeat). Archive an application (``archived_at``) to keep it instead.

        Raises ``UnknownApplication`` when there is no such application of ``owner``
        (another owner's is not touched), and changes nothing.
        """
        ...

    def history(self, application_id: str, *, owner: str | None = None) -> list[HistoryEntry]:
        """The application's history in order. Raises ``UnknownApplication``."""
        ...

    def due_timers(self, now: datetime, *, limit: int = 1000) -> list[Timer]:
        """Timers with ``fire_at <= now``, earliest first (ties by key), at most ``limit``.

        Must touch only due rows (an index on fire_at), never every application.
        """
        ...

    def timers(
        self,
        *,
        owner: str | None = None,
        application_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Timer]:
        """Armed timers with ``start <= fire_at < end``, earliest first: the agenda."""
        ...

    def pending_deliveries(self, now: datetime, *, limit: int = 100) -> list[Delivery]:
        """Outbox rows still pending whose next attempt is due (or never tried), oldest
        first."""
        ...

    def deliveries(
        self, *, owner: str | None = None, status: DeliveryStatus | None = None
    ) -> list[Delivery]:
        """Outbox rows ordered by (created_at, key, channel), optionally filtered."""
        ...

    def claim_delivery(self, key: str, channel: str, *, now: datetime, until: datetime) -> bool:
        """Take a pending row for sending: only if it is still pending and due at ``now``
        (nobody else holds it), move its next attempt to ``until`` (a lease: if this
        process dies while sending, the row is due again then) and return True; else
        return False and change nothing. Two daemons on one store never send the same
        row at once."""
        ...

    def mark_delivered(self, key: str, channel: str, *, at: datetime) -> None:
        """Record that the notification ``key`` went out through ``channel`` (an attempt
        that succeeded). Raises ``InputError`` for an unknown (key, channel)."""
        ...

    def mark_failed(
        self,
        key: str,
        channel: str,
        *,
        error: str,
        next_attempt_at: datetime | None,
        dead: bool,
    ) -> None:
        """Record a failed attempt: count it, keep the error, schedule the next try or
        mark the row dead."""
        ...

    # -- work shared by many workers -----------------------------------------------------
    # A claim holds a due timer or an outbox row for one worker until its lease ends; a
    # worker that dies simply stops renewing, and the work is free again when the lease
    # ends. Instants compare with the engine's clock, like every other instant here.

    def claim_due_timers(
        self, now: datetime, *, worker: str, until: datetime, limit: int = 100
    ) -> list[Timer]:
        """Take up to ``limit`` due timers that nobody holds (never claimed, or their
        lease ended at or before ``now``), earliest first (ties by key), and hold them for
        ``worker`` until ``until``. Two workers never get the same timer while a lease
        runs. Storing a timer again (a commit) frees it."""
        ...

    def release_timers(
        self, keys: Sequence[str], *, worker: str, until: datetime | None = None
    ) -> None:
        """Free the timers among ``keys`` that ``worker`` still holds (for example those
        it left for later because they fell outside the send window). With ``until``,
        no worker may claim them before that instant (a failed application's timers
        wait for its retry); storing a timer again frees it at once, as ever."""
        ...

    def claim_deliveries(
        self, now: datetime, *, worker: str, until: datetime, limit: int = 100
    ) -> list[Delivery]:
        """Take up to ``limit`` pending outbox rows due at ``now``, oldest first, and hold
        them for ``worker``: their next attempt moves to ``until``, so if the worker dies
        they are due again then. ``mark_delivered`` and ``mark_failed`` end the claim."""
        ...

    def renew_claims(self, *, worker: str, now: datetime, until: datetime) -> int:
        """A worker's heartbeat: note that ``worker`` is alive at ``now`` and extend the
        leases it still holds to ``until``; return how many claims were extended. Workers
        not seen for a day are forgotten."""
        ...

    def work_status(self, now: datetime) -> WorkStatus:
        """Due, held, retrying and dead work at ``now``, each worker seen, and how many
        faults there are. A timer released ``until`` a later instant is neither due nor
        held before then."""
        ...

    # -- faults: a row that fails stops only itself ------------------------------------
    # The engine records an unexpected failure of one application (application_id "" for
    # an owner's own rules) and goes on with the others; a success clears it. One fault
    # per (owner, application_id).

    def record_fault(
        self, *, owner: str, application_id: str, error: str, at: datetime, retry_at: datetime
    ) -> Fault:
        """Upsert: a new fault has attempts=1 and first_at=at; a repeat adds 1 to attempts
        and keeps first_at; error, last_at, retry_at are replaced. Returns the fault as
        stored."""
        ...

    def clear_fault(self, *, owner: str, application_id: str) -> None:
        """Forget the fault (after a success); nothing if there is none."""
        ...

    def faults(
        self, *, owner: str | None = None, application_id: str | None = None
    ) -> list[Fault]:
        """Faults, oldest first_at first (ties by owner, then application id), scoped
        like every other read."""
        ...

    def retry_dead(self, *, owner: str | None = None, key: str | None = None) -> int:
        """Make dead deliveries pending again (attempts reset); return how many."""
        ...

    def put_owner(self, owner: Owner) -> None:
        """Create or replace an owner's settings."""
        ...

    # -- the calendar: a SEQUENCE that only grows --------------------------------------

    def publish_calendar(
        self, owner: str, planned: Sequence[CalendarEntry], *, now: datetime, keep: timedelta
    ) -> list[CalendarEntry]:
        """Record what ``owner``'s calendar shows now, atomically, and return all of the
        owner's entries after it, earliest start first (ties by uid). ``planned`` is each
        reminder planned now (``uid``, ``start``, ``content``; a uid given twice is an
        ``InputError``). New: sequence 0. Start or content changed, or back after it left:
        sequence + 1. A stored one not in ``planned`` leaves: ``cancelled`` with
        sequence + 1 if its start is after ``now``, else ``passed`` as it was; an entry
        that left more than ``keep`` before ``now`` is forgotten. ``changed_at`` is
        ``now`` at each change of the sequence, ``ended_at`` when it left."""
        ...

    def get_owner(self, owner_id: str) -> Owner | None:
        """An owner's settings, or ``None`` if never set."""
        ...

    def close(self) -> None:
        """Release the store's resources; the store is unusable afterwards."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> None: ...


def offers(kind: type, method: str, *over: str) -> bool:
    """Whether stores of class ``kind`` have the optional ``method``, defined in a class
    at or beneath every class that defines the methods ``over`` it stands for: a subclass
    that wraps one of those and not ``method`` is read through what it wraps."""
    mro = kind.__mro__
    where = next((i for i, c in enumerate(mro) if method in vars(c)), None)
    if where is None or not callable(getattr(kind, method, None)):
        return False
    return all(where <= next((i for i, c in enumerate(mro) if name in vars(c)), len(mro))
               for name in over)


def listing(store: Store, *, owner: str | None, states: Collection[str] | None = None,
            archived: bool | None = False) -> list[ApplicationRow]:
    """``store.applications(owner=..., states=..., archived=...)`` as the lines of a
    listing (``followup.model.ApplicationRow``), in the same order: from the store's
    ``application_rows`` where it has one (``offers``), else made from the records."""
    if offers(type(store), "application_rows", "applications"):
        rows = cast(Any, store).application_rows(owner=owner, states=states,
                                                 archived=archived)
        return cast(list[ApplicationRow], rows)
    return [(a.id, a.state, a.role, a.company, a.created_at, a.archived_at)
            for a in store.applications(owner=owner, states=states, archived=archived)]
