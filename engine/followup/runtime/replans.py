"""A rule edit reaches the applications in flight: re-planning those another pack planned.

Each application records the fingerprint of the pack that last planned it
(``Application.planned_by``, ``RulePack.fingerprint``). When the pack changes, every
application not archived is stale: ``Replanner.stale`` takes one bounded batch of them,
in id order (``Store.stale_applications``, through an index), plans each in full with
the engine's pack through the engine's own change path, and commits the batch's changes
together (one that moves its application alone, first), each stamped with the pack. A
batch returns what moved, per application: each reminder or timed move added, moved
(its time before and after) or cancelled. ``dry_run`` computes the same and commits
nothing. The daemon re-plans one batch per pass (``followup.runtime.workers``);
``followup replan`` all of them, with a progress display.

Nothing already sent is sent again: a re-plan never fires anything, and the plan
leaves out every reminder whose ``notified`` entry is in the history (its key is the
same under any timing: the rule, the state entry, the contact and the occurrence), so
a reminder sent under the old pack stays sent under the new one, whatever time the new
pack gives it. A reminder not sent yet simply moves to the new time, and fires then (at
the next pass, if the new time has already passed).

Deterministic: the same store, pack and clock give the same batches and the same moves.
Two workers re-planning at once are harmless: one that reads an application the other
re-planned already plans nothing (``ReplanBatch.taken``), and of two that reach it at
the same moment the version check lets one write, and the other plans it again as the
first left it (``Changes.apply``), which changes nothing. Each worker also starts its
walk at a place of its own among the stale applications (``start_among``), so that they
do not all take the same batch.

Only applications are re-planned: the timers of the rules over all of one owner's
applications (keep-looking) keep the time they have, and follow the new pack from their
next occurrence on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from followup.errors import ConflictError, UnknownApplication
from followup.language.pack import RulePack
from followup.language.packcache import chain_digest
from followup.limits import REPLAN_BATCH
from followup.model import Record, Timer
from followup.store import Store

if TYPE_CHECKING:
    from followup.runtime.changes import Changes, Outcome, Staged

__all__ = ["Move", "ReplanBatch", "Replanned", "Replanner", "pack_digest", "read_together",
           "start_among"]

MoveKind = Literal["added", "moved", "changed", "cancelled"]


@dataclass(frozen=True)
class Move:
    """One timer a re-plan changed: ``before`` is its time as stored (``None``: new),
    ``after`` its time now (``None``: cancelled)."""

    key: str
    rule: str
    action: str  # notify (a reminder) or transition (a move the pack makes)
    contact: str | None
    before: datetime | None
    after: datetime | None

    @property
    def kind(self) -> MoveKind:
        """``added``, ``moved`` (another time), ``cancelled``, or ``changed`` (the same
        time, another deadline or target)."""
        if self.before is None:
            return "added"
        if self.after is None:
            return "cancelled"
        return "moved" if self.before != self.after else "changed"


@dataclass(frozen=True)
class Replanned:
    """One application re-planned: whose it is, and what moved (nothing, often)."""

    owner: str
    application_id: str
    moves: tuple[Move, ...] = ()

    def count(self, kind: MoveKind) -> int:
        return sum(1 for m in self.moves if m.kind == kind)


@dataclass(frozen=True)
class ReplanBatch:
    """What one batch re-planned (or would have, in a dry run).

    ``applications``: each application re-planned, in id order, with its moves.
    ``errors``: (application id, what went wrong) of those that could not be (they stay
    stale, and the walk goes on past them). ``last``: the id the next batch starts
    after; ``None`` when this batch reached the end. ``taken``: how many it found
    re-planned by another worker meanwhile (a worker then walks on elsewhere)."""

    applications: tuple[Replanned, ...] = ()
    errors: tuple[tuple[str, str], ...] = ()
    last: str | None = None
    dry_run: bool = False
    taken: int = 0  # found planned by this pack when reached: another worker came first

    @property
    def moved(self) -> tuple[Replanned, ...]:
        """The applications whose plan changed."""
        return tuple(a for a in self.applications if a.moves)

    def count(self, kind: MoveKind) -> int:
        """How many timers of all the applications moved in this way."""
        return sum(a.count(kind) for a in self.applications)


def start_among(worker: str, ids: Sequence[str], walk: int = 0) -> str | None:
    """Where ``worker``'s ``walk``-th walk over the stale applications starts: the id
    to start after, at a place among ``ids`` (a sample of the first stale ones, in
    order) that a hash of the worker's name and the walk picks, so that workers take
    different batches whatever the ids look like (``None``: from the start). An
    application another worker re-planned is no longer stale, so a walk passes over
    what another did; one that meets another worker at work (``ReplanBatch.taken``)
    or reaches the end starts a new walk elsewhere."""
    text = f"{worker}\x1f{walk}".encode("utf-8", "surrogatepass")
    share = int(hashlib.sha256(text).hexdigest()[:8], 16)
    place = share * len(ids) // 2**32
    return ids[place - 1] if place > 0 else None


def pack_digest(pack: RulePack) -> tuple[str | None, ...] | None:
    """The digest of each file the pack was read from, to tell when one is edited;
    ``None`` for a pack that did not come from files (YAML text)."""
    if not pack.files or any(f.startswith("<") and not f.startswith("<builtin>/")
                             for f in pack.files):
        return None
    return tuple(chain_digest(f) for f in pack.files)


def read_together(store: Store, ids: list[str]) -> dict[str, Record] | None:
    """The applications ``ids`` of a batch in one read, by id, when the store can
    (``load_many``); ``None`` when it cannot (or there is nothing to read): load each."""
    load_many = getattr(store, "load_many", None)
    if load_many is None or not ids:
        return None
    records: list[Record] = load_many(ids)
    return {r.application.id: r for r in records}


class Replanner:
    """Re-plans applications with the engine's pack, in bounded batches."""

    def __init__(self, changes: Changes, store: Store) -> None:
        self.changes = changes
        self.store = store

    @property
    def fingerprint(self) -> str:
        return self.changes.pack.fingerprint

    def stale(self, *, limit: int = REPLAN_BATCH, after: str | None = None,
              dry_run: bool = False) -> ReplanBatch:
        """Re-plan up to ``limit`` applications not archived that another pack planned,
        those after the id ``after`` (see ``ReplanBatch.last``)."""
        found = self.store.stale_applications(self.fingerprint, limit=limit, after=after)
        batch = self.these(found, dry_run=dry_run, stale=True)
        last = found[-1][1] if len(found) >= limit > 0 else None
        return replace(batch, last=last)

    def these(self, found: Iterable[tuple[str, str]], *, dry_run: bool = False,
              stale: bool = False) -> ReplanBatch:
        """Re-plan the applications ``found`` ((owner, id) each), whichever pack planned
        them (``followup replan --all`` heals lost timers with it). With ``stale``,
        one found planned by this pack already (another worker came first) is left
        out of the answer and counted in ``ReplanBatch.taken``."""
        from followup.runtime.changes import Outcome

        found = list(found)
        tally = _Tally()
        staged: list[Staged] = []
        self.changes.owners.refresh(owner for owner, _ in found)  # settings changed since
        records = read_together(self.store, [app_id for _, app_id in found])
        for owner, app_id in found:
            try:
                record = (records.get(app_id) if records is not None
                          else self.store.load(app_id, owner=owner))
                if record is None:
                    continue  # deleted since it was listed
                result = self.changes.stage_replan(record, stale=stale)
            except UnknownApplication:
                continue  # deleted since it was listed
            except Exception as exc:  # one application must not stop the others
                tally.errors.append((app_id, _described(exc)))
                continue
            if result is None:  # read, not planned: another worker came first
                tally.taken += 1
                continue
            if isinstance(result, Outcome):
                tally.done[app_id] = Replanned(owner, app_id)
                continue
            tally.done[app_id] = Replanned(owner, app_id, _moves(result))
            if dry_run:
                continue
            if result.alone:  # it moves: what it commits can change the others' plans
                self._commit_alone(result, owner, tally)
            else:
                staged.append(result)
        if staged:
            self._commit(staged, tally)
        ordered = tuple(tally.done[i] for _, i in found if i in tally.done)
        return ReplanBatch(ordered, tuple(tally.errors), None, dry_run, tally.taken)

    def _commit(self, staged: list[Staged], tally: _Tally) -> None:
        """The batch's changes in one transaction; if it fails (another writer came
        first, or a row is refused), each alone."""
        try:
            stored = self.store.commit_many([s.change for s in staged])
        except Exception:
            for one in staged:
                self._commit_alone(one, one.change.application.owner, tally)
            return
        for one, app in zip(staged, stored, strict=True):
            self.changes.finish(one, app)

    def _commit_alone(self, staged: Staged, owner: str, tally: _Tally) -> None:
        app_id = staged.change.application.id
        try:
            try:
                self.changes.commit(staged)
            except ConflictError:
                # Another writer was first (another worker re-planning it too): plan it
                # again as it is now; what moved is what this pack changes in that.
                outcome = self.changes.apply(app_id, owner, [], force=True)
                if not outcome.changed:
                    del tally.done[app_id]
                    tally.taken += 1
                else:
                    tally.done[app_id] = Replanned(owner, app_id, _outcome_moves(outcome))
        except UnknownApplication:
            tally.done.pop(app_id, None)  # deleted meanwhile
        except Exception as exc:
            tally.done.pop(app_id, None)
            tally.errors.append((app_id, _described(exc)))


@dataclass
class _Tally:
    """What a batch did so far."""

    done: dict[str, Replanned] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    taken: int = 0


def _moves(staged: Staged) -> tuple[Move, ...]:
    old = {t.key: t for t in staged.record.timers}
    return _diff(old, staged.armed, staged.removed)


def _outcome_moves(outcome: Outcome) -> tuple[Move, ...]:
    # An Outcome names what it armed and cancelled, not the times they had: what was
    # armed counts as added unless it replaced a timer of the same key it cancelled.
    old = {t.key: t for t in outcome.cancelled}
    return _diff(old, outcome.armed, tuple(old))


def _diff(old: dict[str, Timer], armed: Iterable[Timer],
          removed: Iterable[str]) -> tuple[Move, ...]:
    moves = [Move(t.key, t.rule, t.action, t.contact,
                  old[t.key].fire_at if t.key in old else None, t.fire_at)
             for t in armed if t.action != "replan"]
    armed_keys = {m.key for m in moves}
    moves += [Move(k, old[k].rule, old[k].action, old[k].contact, old[k].fire_at, None)
              for k in removed if k in old and k not in armed_keys
              and old[k].action != "replan"]
    return tuple(sorted(moves, key=_order))


def _order(move: Move) -> tuple[datetime, str]:
    """Time order: a move by its new time, a cancelled timer by its old one."""
    when = move.after if move.after is not None else move.before
    return (when or datetime.min.replace(tzinfo=UTC), move.key)


def _described(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}".replace("\n", " ")[:1000]

