-- The statements PostgresStore runs, one block per "-- name:" line; parameters are %s
-- (%b: sent in binary).
-- Blocks named *_head are the start of a listing; the store adds its WHERE and ORDER BY.
-- Column order follows the model's fields, as in the SQLite queries.

-- name: application
SELECT id, owner, company, role, state, facts, contacts, created_at, version, archived_at,
       planned_by
FROM applications WHERE id = %s

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
-- An archived application is not active: it counts for no rule of its owner's.
SELECT state, count(*) FROM applications WHERE owner = %s AND archived_at IS NULL
GROUP BY state

-- name: lock_stored
-- The rows a commit changes, locked in id order (two commits never wait on each other
-- in a circle), with what the version check needs.
SELECT id, version FROM applications WHERE id = ANY(%s) ORDER BY id FOR UPDATE

-- name: insert_applications
-- A commit's writes are one statement per table, whatever the number of rows: each
-- parameter is one column, an array (unnest turns them into rows), sent in binary (%b:
-- no quoting of each element).
INSERT INTO applications (owner, company, role, state, facts, contacts, created_at,
                          archived_at, planned_by, version, id)
SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[],
                     %b::timestamptz[], %b::timestamptz[], %b::text[], %b::integer[],
                     %b::text[])

-- name: update_applications
-- Each row is updated only from the version it was read at (base).
UPDATE applications AS a
SET owner = u.owner, company = u.company, role = u.role, state = u.state, facts = u.facts,
    contacts = u.contacts, created_at = u.created_at, archived_at = u.archived_at,
    planned_by = u.planned_by, version = u.version
FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[],
            %b::timestamptz[], %b::timestamptz[], %b::text[], %b::integer[], %b::text[],
            %b::integer[])
     AS u(owner, company, role, state, facts, contacts, created_at, archived_at, planned_by,
          version, id, base)
WHERE a.id = u.id AND a.version = u.base

-- name: stale_applications
-- Two ranges of the index applications_stale (below and above the fingerprint), so that
-- those the pack planned are stepped around, not read.
SELECT owner, id FROM (
    SELECT owner, id FROM applications
    WHERE archived_at IS NULL AND planned_by < %(fingerprint)s AND id > %(after)s
    UNION ALL
    SELECT owner, id FROM applications
    WHERE archived_at IS NULL AND planned_by > %(fingerprint)s AND id > %(after)s) AS stale
ORDER BY id LIMIT %(limit)s

-- name: lock_application
SELECT owner FROM applications WHERE id = %s FOR UPDATE

-- name: delete_application
DELETE FROM applications WHERE id = %s AND owner = %s

-- name: delete_history
DELETE FROM history WHERE application_id = %s

-- name: delete_timers
DELETE FROM timers WHERE application_id = %s

-- name: delete_undelivered
-- Delivered rows stay: see Store.delete_application.
DELETE FROM outbox WHERE application_id = %s AND status <> 'delivered'

-- name: delete_calendar_entries
DELETE FROM calendar_entries WHERE owner = %s AND application_id = %s

-- name: delete_faults
DELETE FROM faults WHERE owner = %s AND application_id = %s

-- name: applications_of
SELECT id, owner, company, role, state, facts, contacts, created_at, version, archived_at,
       planned_by
FROM applications WHERE id = ANY(%s)

-- name: history_of_many
SELECT application_id, seq, at, kind, name, contact, from_state, to_state, key, data
FROM history WHERE application_id = ANY(%s) ORDER BY application_id, seq

-- name: timers_of_many
SELECT application_id, owner, key, rule, action, fire_at, due_at, contact, target, occurrence
FROM timers WHERE application_id = ANY(%s) ORDER BY fire_at, key

-- name: history_of
SELECT application_id, seq, at, kind, name, contact, from_state, to_state, key, data
FROM history WHERE application_id = %s ORDER BY seq

-- name: insert_history
INSERT INTO history (application_id, seq, at, kind, name, contact, from_state, to_state, key, data)
SELECT * FROM unnest(%b::text[], %b::integer[], %b::timestamptz[], %b::text[], %b::text[],
                     %b::text[], %b::text[], %b::text[], %b::text[], %b::text[])

-- name: timers_of
SELECT application_id, owner, key, rule, action, fire_at, due_at, contact, target, occurrence
FROM timers WHERE application_id = %s ORDER BY fire_at, key

-- name: replan_waits
-- Whether a re-plan marker waits for the owner (followup.runtime.owner_rules).
SELECT EXISTS (SELECT 1 FROM timers WHERE owner = %s AND application_id = '' AND action = 'replan')

-- name: agenda_rows_head
-- An owner's coming reminders and moves with each one's company (Store.agenda_rows): the
-- timers of the owner's applications that are not archived, and the owner's own.
SELECT t.fire_at, t.due_at, t.rule, t.action, t.contact, t.application_id, a.company
FROM timers t LEFT JOIN applications a ON a.id = t.application_id AND a.owner = t.owner
WHERE t.owner = %s AND t.action IN ('notify', 'transition')
  AND (t.application_id = '' OR (a.id IS NOT NULL AND a.archived_at IS NULL))

-- name: timers_head
SELECT application_id, owner, key, rule, action, fire_at, due_at, contact, target, occurrence
FROM timers

-- name: due_timers
SELECT application_id, owner, key, rule, action, fire_at, due_at, contact, target, occurrence
FROM timers WHERE fire_at <= %s ORDER BY fire_at, key LIMIT %s

-- name: delete_timer
DELETE FROM timers WHERE key = ANY(%s)

-- name: delete_owner_timer
DELETE FROM timers WHERE key = ANY(%s) AND owner = %s

-- name: put_timer
-- The keys of one statement are distinct (ON CONFLICT DO UPDATE touches a row once).
INSERT INTO timers (application_id, owner, key, rule, action, fire_at, due_at, contact, target,
                    occurrence)
SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[],
                     %b::timestamptz[], %b::timestamptz[], %b::text[], %b::text[],
                     %b::integer[])
ON CONFLICT (key) DO UPDATE SET
    application_id = excluded.application_id, owner = excluded.owner, rule = excluded.rule,
    action = excluded.action, fire_at = excluded.fire_at, due_at = excluded.due_at,
    contact = excluded.contact, target = excluded.target, occurrence = excluded.occurrence,
    claimed_by = NULL, claimed_until = NULL

-- name: insert_outbox
INSERT INTO outbox (key, application_id, owner, rule, created_at, subject, body, due_at, contact,
                    data, next_attempt_at, channel)
SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::timestamptz[],
                     %b::text[], %b::text[], %b::timestamptz[], %b::text[], %b::text[],
                     %b::timestamptz[], %b::text[])
ON CONFLICT (key, channel) DO NOTHING

-- name: notify_work
-- The payload is the schema, so that stores in other schemas of the database sleep on.
SELECT pg_notify('followup_work', current_schema())

-- name: deliveries_head
SELECT key, application_id, owner, rule, created_at, subject, body, due_at, contact, data,
       channel, status, attempts, next_attempt_at, last_error, delivered_at
FROM outbox

-- name: pending_deliveries
SELECT key, application_id, owner, rule, created_at, subject, body, due_at, contact, data,
       channel, status, attempts, next_attempt_at, last_error, delivered_at
FROM outbox
WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= %s)
ORDER BY created_at, key, channel LIMIT %s

-- name: claim_delivery
UPDATE outbox SET next_attempt_at = %s
WHERE key = %s AND channel = %s AND status = 'pending'
  AND (next_attempt_at IS NULL OR next_attempt_at <= %s)

-- name: mark_delivered
UPDATE outbox
SET status = 'delivered', attempts = attempts + 1, delivered_at = %s, next_attempt_at = NULL,
    claimed_by = NULL
WHERE key = %s AND channel = %s

-- name: mark_delivered_many
-- mark_delivered for each (key, channel) of two arrays, in one statement: a pair named
-- twice is marked twice, as two calls would.
UPDATE outbox
SET status = 'delivered', attempts = attempts + u.times, delivered_at = %s,
    next_attempt_at = NULL, claimed_by = NULL
FROM (SELECT key, channel, count(*) AS times FROM unnest(%b::text[], %b::text[]) AS r(key, channel)
      GROUP BY key, channel) AS u
WHERE outbox.key = u.key AND outbox.channel = u.channel

-- name: outbox_row_exists
SELECT 1 FROM outbox WHERE key = %s AND channel = %s

-- name: mark_failed
UPDATE outbox
SET status = %s, attempts = attempts + 1, last_error = %s, next_attempt_at = %s,
    claimed_by = NULL
WHERE key = %s AND channel = %s

-- name: retry_dead_head
UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = NULL, claimed_by = NULL

-- name: put_owner
INSERT INTO owners (id, timezone, country, subdivision, channels, digest, quiet_hours, looking)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (id) DO UPDATE SET
    timezone = excluded.timezone, country = excluded.country, subdivision = excluded.subdivision,
    channels = excluded.channels, digest = excluded.digest, quiet_hours = excluded.quiet_hours,
    looking = excluded.looking

-- name: get_owner
SELECT id, timezone, country, subdivision, channels, digest, quiet_hours, looking FROM owners
WHERE id = %s

-- name: get_owners
SELECT id, timezone, country, subdivision, channels, digest, quiet_hours, looking FROM owners
WHERE id = ANY(%s)

-- name: claim_due_timers
-- One statement: pick due timers nobody holds, skipping rows another worker is taking
-- at this very moment, and hold them.
WITH picked AS (
    SELECT key FROM timers
    WHERE fire_at <= %(now)s AND (claimed_until IS NULL OR claimed_until <= %(now)s)
    ORDER BY fire_at, key
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE timers SET claimed_by = %(worker)s, claimed_until = %(until)s
FROM picked WHERE timers.key = picked.key
RETURNING timers.application_id, timers.owner, timers.key, timers.rule, timers.action,
          timers.fire_at, timers.due_at, timers.contact, timers.target, timers.occurrence

-- name: release_timers
-- With a time (not NULL), nobody holds the timers but none may claim them before then.
UPDATE timers SET claimed_by = NULL, claimed_until = %s
WHERE key = ANY(%s) AND claimed_by = %s

-- name: claim_deliveries
WITH picked AS (
    SELECT key, channel FROM outbox
    WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= %(now)s)
    ORDER BY created_at, key, channel
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox SET next_attempt_at = %(until)s, claimed_by = %(worker)s
FROM picked WHERE outbox.key = picked.key AND outbox.channel = picked.channel
RETURNING outbox.key, outbox.application_id, outbox.owner, outbox.rule, outbox.created_at,
          outbox.subject, outbox.body, outbox.due_at, outbox.contact, outbox.data,
          outbox.channel, outbox.status, outbox.attempts, outbox.next_attempt_at,
          outbox.last_error, outbox.delivered_at

-- name: renew_timers
UPDATE timers SET claimed_until = %s WHERE claimed_by = %s

-- name: renew_deliveries
UPDATE outbox SET next_attempt_at = %s WHERE claimed_by = %s AND status = 'pending'

-- name: worker_seen
INSERT INTO workers (id, seen_at) VALUES (%s, %s)
ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at

-- name: forget_workers
DELETE FROM workers WHERE seen_at < %s

-- name: status_due_timers
SELECT count(*) FROM timers
WHERE fire_at <= %s AND (claimed_until IS NULL OR claimed_until <= %s)

-- name: status_held_timers
SELECT claimed_by, count(*) FROM timers
WHERE claimed_until > %s AND claimed_by IS NOT NULL GROUP BY claimed_by

-- name: status_deliveries
SELECT
    claimed_by,
    count(*) FILTER (WHERE next_attempt_at IS NULL OR next_attempt_at <= %s),
    count(*) FILTER (WHERE next_attempt_at > %s AND claimed_by IS NOT NULL),
    count(*) FILTER (WHERE attempts > 0)
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
VALUES (%s, %s, %s, %s, %s, 1, %s)
ON CONFLICT (owner, application_id) DO UPDATE SET
    error = excluded.error, last_at = excluded.last_at, attempts = faults.attempts + 1,
    retry_at = excluded.retry_at
RETURNING owner, application_id, error, first_at, last_at, attempts, retry_at

-- name: clear_fault
DELETE FROM faults WHERE owner = %s AND application_id = %s

-- name: faults_head
SELECT owner, application_id, error, first_at, last_at, attempts, retry_at FROM faults

-- name: calendar_lock
-- One owner's calendar is brought up to date by one transaction at a time.
SELECT pg_advisory_xact_lock(hashtext('followup calendar'), hashtext(%s))

-- name: calendar_entries
SELECT uid, start_at, content, sequence, status, changed_at, ended_at, application_id
FROM calendar_entries WHERE owner = %s

-- name: calendar_put
INSERT INTO calendar_entries (owner, uid, start_at, content, sequence, status, changed_at,
                              ended_at, application_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (owner, uid) DO UPDATE SET
    start_at = excluded.start_at, content = excluded.content, sequence = excluded.sequence,
    status = excluded.status, changed_at = excluded.changed_at, ended_at = excluded.ended_at,
    application_id = excluded.application_id

-- name: calendar_forget
DELETE FROM calendar_entries WHERE owner = %s AND uid = %s
