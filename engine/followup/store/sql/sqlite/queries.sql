-- The statements SQLiteStore runs, one block per "-- name:" line.
-- Blocks named *_head are the start of a listing; the store adds its WHERE and ORDER BY.
-- Column order follows the model's fields, so rows map straight onto the dataclasses.

-- name: application
SELECT id, owner, company, role, state, facts, contacts, created_at, version, archived_at,
       planned_by
FROM applications WHERE id = ?

-- name: applications_head
SELECT id, owner, company, role, state, facts, contacts, created_at, version, archived_at,
       planned_by
FROM applications

-- name: application_rows_head
-- What a listing shows of each application (Store.application_rows).
SELECT id, state, role, company, created_at, archived_at FROM applications

-- name: count_applications_head
SELECT count(*) FROM applications

-- name: count_by_state
-- Kept by triggers (0011_owner_counts.sql); an archived application is not counted.
SELECT state, n FROM owner_counts WHERE owner = ? AND n > 0

-- name: stored_of_one
SELECT id, version, owner, state, created_at, archived_at, planned_by FROM applications
WHERE id = ?

-- name: stored_of_many
SELECT id, version, owner, state, created_at, archived_at, planned_by FROM applications
WHERE id IN (SELECT value FROM json_each(?))

-- name: insert_application
INSERT INTO applications (owner, company, role, state, facts, contacts, created_at,
                          archived_at, planned_by, version, id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)

-- name: update_application_head
-- The store adds ", state = ?" for each indexed column (owner, state, created_at,
-- archived_at, planned_by) whose value changes, then "WHERE id = ? AND version = ?":
-- SQLite rewrites the entry of every index whose column is SET, even to the same value.
UPDATE applications SET company = ?, role = ?, facts = ?, contacts = ?, version = ?

-- name: stale_applications
-- Two ranges of the index applications_stale (below and above the fingerprint), so that
-- those the pack planned are stepped around, not read: with nothing stale, two empty
-- ranges. Without the hint SQLite walks the primary key from the id on, reading every
-- application the pack planned.
SELECT owner, id FROM (
    SELECT owner, id FROM applications INDEXED BY applications_stale
    WHERE archived_at IS NULL AND planned_by < ? AND id > ?
    UNION ALL
    SELECT owner, id FROM applications INDEXED BY applications_stale
    WHERE archived_at IS NULL AND planned_by > ? AND id > ?)
ORDER BY id LIMIT ?

-- name: delete_application
DELETE FROM applications WHERE id = ? AND owner = ?

-- name: delete_history
DELETE FROM history WHERE application_id = ?

-- name: delete_timers
DELETE FROM timers WHERE owner = ? AND application_id = ?

-- name: delete_undelivered
-- Delivered rows stay: see Store.delete_application.
DELETE FROM outbox WHERE application_id = ? AND status <> 'delivered'

-- name: delete_calendar_entries
DELETE FROM calendar_entries WHERE owner = ? AND application_id = ?

-- name: delete_faults
DELETE FROM faults WHERE owner = ? AND application_id = ?

-- name: applications_of
SELECT id, owner, company, role, state, facts, contacts, created_at, version, archived_at,
       planned_by
FROM applications WHERE id IN (SELECT value FROM json_each(?))

-- name: history_of_many
SELECT application_id, seq, at, kind, name, contact, from_state, to_state, key, data
FROM history WHERE application_id IN (SELECT value FROM json_each(?))
ORDER BY application_id, seq

-- name: timers_of_many
SELECT application_id, owner, key, rule, action, fire_at, due_at, contact, target, occurrence
FROM timers WHERE (owner, application_id) IN (
    SELECT owner, id FROM applications WHERE id IN (SELECT value FROM json_each(?)))
ORDER BY fire_at, key

-- name: history_of
SELECT application_id, seq, at, kind, name, contact, from_state, to_state, key, data
FROM history WHERE application_id = ? ORDER BY seq

-- name: history_exists
SELECT 1 FROM history WHERE application_id = ? AND seq = ?

-- name: insert_history
INSERT INTO history (application_id, seq, at, kind, name, contact, from_state, to_state, key, data)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)

-- name: timers_of
SELECT application_id, owner, key, rule, action, fire_at, due_at, contact, target, occurrence
FROM timers WHERE owner = ? AND application_id = ? ORDER BY fire_at, key

-- name: replan_waits
-- Whether a re-plan marker waits for the owner (followup.runtime.owner_rules).
SELECT EXISTS (SELECT 1 FROM timers WHERE owner = ? AND application_id = '' AND action = 'replan')

-- name: agenda_rows_head
-- An owner's coming reminders and moves with each one's company (Store.agenda_rows): the
-- timers of the owner's applications that are not archived, and the owner's own.
SELECT t.fire_at, t.due_at, t.rule, t.action, t.contact, t.application_id, a.company
FROM timers t LEFT JOIN applications a ON a.id = t.application_id AND a.owner = t.owner
WHERE t.owner = ? AND t.action IN ('notify', 'transition')
  AND (t.application_id = '' OR (a.id IS NOT NULL AND a.archived_at IS NULL))

-- name: timers_head
SELECT application_id, owner, key, rule, action, fire_at, due_at, contact, target, occurrence
FROM timers

-- name: due_timers
SELECT application_id, owner, key, rule, action, fire_at, due_at, contact, target, occurrence
FROM timers WHERE fire_at <= ? ORDER BY fire_at, key LIMIT ?

-- name: delete_timer
DELETE FROM timers WHERE key = ?

-- name: delete_owner_timer
DELETE FROM timers WHERE key = ? AND owner = ?

-- name: put_timer
INSERT INTO timers (application_id, owner, key, rule, action, fire_at, due_at, contact, target,
                    occurrence)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET
    application_id = excluded.application_id, owner = excluded.owner, rule = excluded.rule,
    action = excluded.action, fire_at = excluded.fire_at, due_at = excluded.due_at,
    contact = excluded.contact, target = excluded.target, occurrence = excluded.occurrence,
    claimed_by = NULL, claimed_until = NULL

-- name: insert_outbox
INSERT INTO outbox (key, application_id, owner, rule, created_at, subject, body, due_at, contact,
                    data, next_attempt_at, channel)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key, channel) DO NOTHING

-- name: insert_outbox_claimed
INSERT INTO outbox (key, application_id, owner, rule, created_at, subject, body, due_at, contact,
                    data, next_attempt_at, channel, claimed_by)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key, channel) DO NOTHING

-- name: deliveries_head
SELECT key, application_id, owner, rule, created_at, subject, body, due_at, contact, data,
       channel, status, attempts, next_attempt_at, last_error, delivered_at
FROM outbox

-- name: pending_deliveries
SELECT key, application_id, owner, rule, created_at, subject, body, due_at, contact, data,
       channel, status, attempts, next_attempt_at, last_error, delivered_at
FROM outbox
WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
ORDER BY created_at, key, channel LIMIT ?

-- name: claim_delivery
UPDATE outbox SET next_attempt_at = ?
WHERE key = ? AND channel = ? AND status = 'pending'
  AND (next_attempt_at IS NULL OR next_attempt_at <= ?)

-- name: mark_delivered
UPDATE outbox
SET status = 'delivered', attempts = attempts + 1, delivered_at = ?, next_attempt_at = NULL,
    claimed_by = NULL
WHERE key = ? AND channel = ?

-- name: outbox_row_exists
SELECT 1 FROM outbox WHERE key = ? AND channel = ?

-- name: mark_failed
UPDATE outbox
SET status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, claimed_by = NULL
WHERE key = ? AND channel = ?

-- name: retry_dead_head
UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = NULL, claimed_by = NULL

-- name: put_owner
INSERT INTO owners (id, timezone, country, subdivision, channels, digest, quiet_hours, looking)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    timezone = excluded.timezone, country = excluded.country, subdivision = excluded.subdivision,
    channels = excluded.channels, digest = excluded.digest, quiet_hours = excluded.quiet_hours,
    looking = excluded.looking

-- name: get_owner
SELECT id, timezone, country, subdivision, channels, digest, quiet_hours, looking FROM owners
WHERE id = ?

-- name: get_owners
SELECT id, timezone, country, subdivision, channels, digest, quiet_hours, looking FROM owners
WHERE id IN (SELECT value FROM json_each(?))

-- name: claim_due_timers
UPDATE timers SET claimed_by = ?, claimed_until = ?
WHERE key IN (
    SELECT key FROM timers
    WHERE fire_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)
    ORDER BY fire_at, key LIMIT ?)
RETURNING application_id, owner, key, rule, action, fire_at, due_at, contact, target, occurrence

-- name: release_timer
-- With a time (not NULL), nobody holds the timer but none may claim it before then.
UPDATE timers SET claimed_by = NULL, claimed_until = ? WHERE key = ? AND claimed_by = ?

-- name: claim_deliveries
UPDATE outbox SET next_attempt_at = ?, claimed_by = ?
WHERE (key, channel) IN (
    SELECT key, channel FROM outbox
    WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
    ORDER BY created_at, key, channel LIMIT ?)
RETURNING key, application_id, owner, rule, created_at, subject, body, due_at, contact, data,
          channel, status, attempts, next_attempt_at, last_error, delivered_at

-- name: renew_timers
UPDATE timers SET claimed_until = ? WHERE claimed_by = ?

-- name: renew_deliveries
UPDATE outbox SET next_attempt_at = ? WHERE claimed_by = ? AND status = 'pending'

-- name: worker_seen
INSERT INTO workers (id, seen_at) VALUES (?, ?)
ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at

-- name: forget_workers
DELETE FROM workers WHERE seen_at < ?

-- name: status_due_timers
SELECT count(*) FROM timers
WHERE fire_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)

-- name: status_held_timers
SELECT claimed_by, count(*) FROM timers
WHERE claimed_until > ? AND claimed_by IS NOT NULL GROUP BY claimed_by

-- name: status_deliveries
SELECT
    claimed_by,
    sum(next_attempt_at IS NULL OR next_attempt_at <= ?),
    sum(next_attempt_at > ? AND claimed_by IS NOT NULL),
    sum(attempts > 0)
FROM outbox WHERE status = 'pending' GROUP BY claimed_by

-- name: status_dead
SELECT count(*) FROM outbox WHERE status = 'dead'

-- name: status_workers
SELECT id, seen_at FROM workers ORDER BY id

-- name: status_faults
SELECT count(*) FROM faults

-- name: record_fault
-- A new fault counts one attempt; a repeat adds one and keeps when the run began.
INSERT INTO faults (owner, application_id, error, first_at, last_at, attempts, retry_at)
VALUES (?, ?, ?, ?, ?, 1, ?)
ON CONFLICT (owner, application_id) DO UPDATE SET
    error = excluded.error, last_at = excluded.last_at, attempts = faults.attempts + 1,
    retry_at = excluded.retry_at
RETURNING owner, application_id, error, first_at, last_at, attempts, retry_at

-- name: clear_fault
DELETE FROM faults WHERE owner = ? AND application_id = ?

-- name: faults_head
SELECT owner, application_id, error, first_at, last_at, attempts, retry_at FROM faults

-- name: calendar_entries
SELECT uid, start_at, content, sequence, status, changed_at, ended_at, application_id
FROM calendar_entries WHERE owner = ?

-- name: calendar_put
INSERT INTO calendar_entries (owner, uid, start_at, content, sequence, status, changed_at,
                              ended_at, application_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (owner, uid) DO UPDATE SET
    start_at = excluded.start_at, content = excluded.content, sequence = excluded.sequence,
    status = excluded.status, changed_at = excluded.changed_at, ended_at = excluded.ended_at,
    application_id = excluded.application_id

-- name: calendar_forget
DELETE FROM calendar_entries WHERE owner = ? AND uid = ?
