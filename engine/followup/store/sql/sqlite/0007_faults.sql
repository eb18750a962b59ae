-- Faults: an application (or, with application_id '', an owner's own rules) whose last
-- attempt to fire, plan or deliver failed unexpectedly. The engine goes on with the
-- others and tries this one again at retry_at; a success forgets the row. One row per
-- application: a repeat counts attempts and keeps first_at.
CREATE TABLE faults (
    owner          TEXT NOT NULL,
    application_id TEXT NOT NULL,  -- '' for the owner's own rules (keep-looking)
    error          TEXT NOT NULL,  -- exception type and message, one line
    first_at       TEXT NOT NULL,
    last_at        TEXT NOT NULL,
    attempts       INTEGER NOT NULL,
    retry_at       TEXT NOT NULL,
    PRIMARY KEY (owner, application_id)
) WITHOUT ROWID;
