-- A worker's heartbeat renews the leases of the timers it holds (renew_timers: WHERE
-- claimed_by = ?). Without an index that read every timer, due or not (of 4,000,000
-- timers: 0.4 to 2 seconds, holding the write lock), at each beat. Only the timers a
-- worker holds are in this index, a few hundred at most, so it stays small (PostgreSQL
-- has had it since its first migration). The outbox's renewal reads only pending rows
-- (outbox_status_next_attempt), few when delivery keeps up.
CREATE INDEX IF NOT EXISTS timers_claimed_by ON timers (claimed_by) WHERE claimed_by IS NOT NULL;
