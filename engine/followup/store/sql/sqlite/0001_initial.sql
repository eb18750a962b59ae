-- followup's first SQLite schema.
--
-- Instants are TEXT in one fixed format, UTC with microseconds (2026-12-23T20:00:00.000000Z),
-- so that text order is time order and the time indexes work. JSON columns hold text.
-- Timers are WITHOUT ROWID: a commit replaces a few of them, and keeping each row in its
-- key's b-tree writes fewer pages; the index on fire_at then carries the key, so
-- "ORDER BY fire_at, key" needs no sort. History keeps its rowid: its rows only append,
-- and measured faster that way.

CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
);

CREATE TABLE owners (
    id          TEXT PRIMARY KEY NOT NULL,
    timezone    TEXT,
    country     TEXT,
    subdivision TEXT
);

CREATE TABLE applications (
    id         TEXT PRIMARY KEY NOT NULL,
    owner      TEXT NOT NULL,
    company    TEXT NOT NULL,
    role       TEXT NOT NULL,
    state      TEXT NOT NULL,
    facts      TEXT NOT NULL DEFAULT '{}',  -- JSON object: fact name -> text as recorded
    contacts   TEXT NOT NULL DEFAULT '[]',  -- JSON array of {name, role, title, email, phone}
    created_at TEXT,
    version    INTEGER NOT NULL
);
CREATE INDEX applications_owner_created ON applications (owner, created_at);
CREATE INDEX applications_owner_state ON applications (owner, state);

CREATE TABLE history (
    application_id TEXT NOT NULL REFERENCES applications (id),
    seq            INTEGER NOT NULL,
    at             TEXT NOT NULL,
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    contact        TEXT,
    from_state     TEXT,
    to_state       TEXT,
    key            TEXT,
    data           TEXT NOT NULL DEFAULT '{}',  -- JSON object
    PRIMARY KEY (application_id, seq)
);

CREATE TABLE timers (
    key            TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL,
    owner          TEXT NOT NULL,
    rule           TEXT NOT NULL,
    action         TEXT NOT NULL,
    fire_at        TEXT NOT NULL,
    due_at         TEXT,
    contact        TEXT,
    target         TEXT,
    occurrence     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX timers_fire_at ON timers (fire_at);
CREATE INDEX timers_owner_fire_at ON timers (owner, fire_at);
CREATE INDEX timers_application ON timers (application_id);

CREATE TABLE outbox (
    key             TEXT NOT NULL,
    channel         TEXT NOT NULL,
    application_id  TEXT NOT NULL,
    owner           TEXT NOT NULL,
    rule            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    due_at          TEXT,
    contact         TEXT,
    data            TEXT NOT NULL DEFAULT '{}',  -- JSON object
    status          TEXT NOT NULL DEFAULT 'pending',  -- pending, delivered or dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    delivered_at    TEXT,
    PRIMARY KEY (key, channel)
);
CREATE INDEX outbox_status_next_attempt ON outbox (status, next_attempt_at);
