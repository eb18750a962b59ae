-- Work shared by several workers: a due timer or an outbox row is claimed by one worker
-- until its lease ends (an outbox row's lease is its next_attempt_at), and each worker
-- notes its heartbeat, so `followup status` can say who holds what.
ALTER TABLE timers ADD COLUMN claimed_by TEXT;
ALTER TABLE timers ADD COLUMN claimed_until TEXT;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;

CREATE TABLE workers (
    id      TEXT PRIMARY KEY NOT NULL,
    seen_at TEXT NOT NULL
);
