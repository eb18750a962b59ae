-- Faults: an application (or, with application_id '', an owner's own rules) whose last
-- attempt to fire, plan or deliver failed unexpectedly. The engine goes on with the
-- others and tries this one again at retry_at; a success forgets the row. One row per
-- application: a repeat counts attempts and keeps first_at.
CREATE TABLE faults (
    owner          text COLLATE "C" NOT NULL,
    application_id text COLLATE "C" NOT NULL,  -- '' for the owner's own rules
    error          text NOT NULL,  -- exception type and message, one line
    first_at       timestamptz NOT NULL,
    last_at        timestamptz NOT NULL,
    attempts       integer NOT NULL,
    retry_at       timestamptz NOT NULL,
    PRIMARY KEY (owner, application_id)
);
