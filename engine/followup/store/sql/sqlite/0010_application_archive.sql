-- An application may be archived (archived_at: kept with its history, planned no more,
-- left out of listings and of an owner's counts by default), and each one records the
-- fingerprint of the rule pack that last planned it (planned_by), so that an edited pack
-- finds the applications it has not planned yet. '' (an application stored before this
-- column, or planned by no pack yet) differs from every fingerprint: such an
-- application is re-planned in full once.
ALTER TABLE applications ADD COLUMN archived_at TEXT;
ALTER TABLE applications ADD COLUMN planned_by TEXT NOT NULL DEFAULT '';
-- Store.stale_applications: the applications not archived that another pack planned,
-- in id order. Those planned by the current pack are one range of this index, which a
-- search for the others steps around: a pass with nothing stale reads two empty ranges.
CREATE INDEX applications_stale ON applications (planned_by, id) WHERE archived_at IS NULL;
-- Deleting an application finds its outbox rows still to send (or dead) without
-- reading the delivered ones, which pile up; a row leaves this index when delivered.
CREATE INDEX outbox_undelivered ON outbox (application_id) WHERE status <> 'delivered';
-- The calendar entries of each application (NULL: an owner-level reminder, or an entry
-- recorded before this column), so that deleting the application deletes them.
ALTER TABLE calendar_entries ADD COLUMN application_id TEXT;
-- An owner's counts per state (Store.count_by_state, read by the rules that look at the
-- owner's other applications) leave the archived ones out: with archived_at in the
-- index they are read from the index alone, not row by row.
DROP INDEX applications_owner_state;
CREATE INDEX applications_owner_state ON applications (owner, archived_at, state);
-- An owner's own timers (keep-looking: application_id '') are one range of this index,
-- not a walk through every timer of the owner's applications.
DROP INDEX timers_application;
CREATE INDEX timers_application ON timers (application_id, owner, fire_at);
