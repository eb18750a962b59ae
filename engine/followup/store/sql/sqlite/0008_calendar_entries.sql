-- What each owner's calendar (followup export --ics, followup serve) last showed of each
-- reminder, so that its SEQUENCE only grows across exports and processes (RFC 5545
-- 3.8.7.4): a change of its time or text adds one, as does its cancellation. A reminder
-- that left the plan stays a while (status cancelled, or passed when its time had come),
-- then its row is deleted.
CREATE TABLE calendar_entries (
    owner      TEXT NOT NULL,
    uid        TEXT NOT NULL,
    start_at   TEXT NOT NULL,
    content    TEXT NOT NULL,  -- what the entry says, as the interop room wrote it
    sequence   INTEGER NOT NULL CHECK (sequence >= 0),
    status     TEXT NOT NULL CHECK (status IN ('planned', 'cancelled', 'passed')),
    changed_at TEXT NOT NULL,
    ended_at   TEXT,           -- when it left the plan; NULL while planned
    PRIMARY KEY (owner, uid)
) WITHOUT ROWID;
