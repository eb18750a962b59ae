-- followup's first PostgreSQL schema: the same tables as SQLite's three migrations, with
-- PostgreSQL's own types.
--
-- Instants are timestamptz. Keys and ids compare byte by byte (COLLATE "C"), so that
-- "ORDER BY fire_at, key" gives the same order as on SQLite whatever the database's
-- locale. Facts, contacts and data are JSON kept as text, exactly as written (jsonb would
-- reorder the keys of an application's facts).

CREATE TABLE schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE owners (
    id          text COLLATE "C" PRIMARY KEY,
    timezone    text,
    country     text,
    subdivision text,
    channels    text  -- a JSON array of channel names; NULL: the pack decides
);

CREATE TABLE applications (
    id         text COLLATE "C" PRIMARY KEY,
    owner      text COLLATE "C" NOT NULL,
    company    text NOT NULL,
    role       text NOT NULL,
    state      text NOT NULL,
    facts      text NOT NULL DEFAULT '{}',
    contacts   text NOT NULL DEFAULT '[]',
    created_at timestamptz,
    version    integer NOT NULL
);
CREATE INDEX applications_owner_created ON applications (owner, created_at);
CREATE INDEX applications_owner_state ON applications (owner, state);

CREATE TABLE history (
    application_id text COLLATE "C" NOT NULL REFERENCES applications (id),
    seq            integer NOT NULL,
    at             timestamptz NOT NULL,
    kind           text NOT NULL,
    name           text NOT NULL,
    contact        text,
    from_state     text,
    to_state       text,
    key            text,
    data           text NOT NULL DEFAULT '{}',
    PRIMARY KEY (application_id, seq)
);

-- A due timer is claimed by one worker until claimed_until (its lease).
CREATE TABLE timers (
    key            text COLLATE "C" PRIMARY KEY,
    application_id text COLLATE "C" NOT NULL,
    owner          text COLLATE "C" NOT NULL,
    rule           text NOT NULL,
    action         text NOT NULL,
    fire_at        timestamptz NOT NULL,
    due_at         timestamptz,
    contact        text,
    target         text,
    occurrence     integer NOT NULL DEFAULT 0,
    claimed_by     text,
    claimed_until  timestamptz
);
CREATE INDEX timers_fire_at ON timers (fire_at, key);
CREATE INDEX timers_owner_fire_at ON timers (owner, fire_at);
CREATE INDEX timers_application ON timers (application_id);
CREATE INDEX timers_claimed_by ON timers (claimed_by) WHERE claimed_by IS NOT NULL;

-- An outbox row claimed by a worker has its next attempt moved to the end of the lease.
CREATE TABLE outbox (
    key             text COLLATE "C" NOT NULL,
    channel         text COLLATE "C" NOT NULL,
    application_id  text COLLATE "C" NOT NULL,
    owner           text COLLATE "C" NOT NULL,
    rule            text NOT NULL,
    created_at      timestamptz NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    due_at          timestamptz,
    contact         text,
    data            text NOT NULL DEFAULT '{}',
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_error      text,
    delivered_at    timestamptz,
    claimed_by      text,
    PRIMARY KEY (key, channel)
);
-- Only pending rows are ever looked for by time; delivered ones pile up and stay out.
CREATE INDEX outbox_pending ON outbox (created_at, key, channel) WHERE status = 'pending';
CREATE INDEX outbox_pending_next ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_owner ON outbox (owner, created_at);
CREATE INDEX outbox_claimed_by ON outbox (claimed_by) WHERE claimed_by IS NOT NULL;

CREATE TABLE workers (
    id      text COLLATE "C" PRIMARY KEY,
    seen_at timestamptz NOT NULL
);
