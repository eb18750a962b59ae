-- What each owner's calendar (followup export --ics, followup serve) last showed of each
-- reminder, so that its SEQUENCE only grows across exports and processes (RFC 5545
-- 3.8.7.4): a change of its time or text adds one, as does its cancellation. A reminder
-- that left the plan stays a while (status cancelled, or passed when its time had come),
-- then its row is deleted.
CREATE TABLE calendar_entries (
    owner      text COLLATE "C" NOT NULL,
    uid        text COLLATE "C" NOT NULL,
    start_at   timestamptz NOT NULL,
    content    text NOT NULL,  -- what the entry says, as the interop room wrote it
    sequence   bigint NOT NULL CHECK (sequence >= 0),
    status     text NOT NULL CHECK (status IN ('planned', 'cancelled', 'passed')),
    changed_at timestamptz NOT NULL,
    ended_at   timestamptz,    -- when it left the plan; NULL while planned
    PRIMARY KEY (owner, uid)
);
