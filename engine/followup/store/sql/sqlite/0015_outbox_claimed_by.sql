-- A worker's heartbeat renews the leases of the outbox rows it holds (renew_deliveries:
-- WHERE claimed_by = ? AND status = 'pending'). Without an index of claimed_by that read
-- every pending row (through outbox_status_next_attempt) while holding the write lock, at
-- each beat: few rows while delivery keeps up, but the whole backlog while a channel is
-- down. Delivering or failing a row clears claimed_by, so this index holds only the rows
-- claimed now (and a dead worker's, until another claims them): a few batches, however
-- long the backlog. PostgreSQL has had it since its first migration.
CREATE INDEX IF NOT EXISTS outbox_claimed_by ON outbox (claimed_by) WHERE claimed_by IS NOT NULL;
