-- An owner's counts per state (Store.count_by_state, read by the rules that look at the
-- owner's other applications) are kept rather than counted: reading them is one range
-- of a small table, whatever the owner's number of applications. Triggers keep them
-- with every write of an application, by any path (a commit, an import, a delete).
-- An archived application is not counted. A count that falls to 0 keeps its row.
CREATE TABLE owner_counts (
    owner TEXT NOT NULL,
    state TEXT NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (owner, state)
) WITHOUT ROWID;

INSERT INTO owner_counts (owner, state, n)
SELECT owner, state, count(*) FROM applications WHERE archived_at IS NULL
GROUP BY owner, state;

CREATE TRIGGER owner_counts_insert AFTER INSERT ON applications
WHEN NEW.archived_at IS NULL
BEGIN
    INSERT INTO owner_counts (owner, state, n) VALUES (NEW.owner, NEW.state, 1)
    ON CONFLICT (owner, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER owner_counts_delete AFTER DELETE ON applications
WHEN OLD.archived_at IS NULL
BEGIN
    UPDATE owner_counts SET n = n - 1 WHERE owner = OLD.owner AND state = OLD.state;
END;

CREATE TRIGGER owner_counts_update AFTER UPDATE OF owner, state, archived_at ON applications
WHEN OLD.owner IS NOT NEW.owner OR OLD.state IS NOT NEW.state
     OR (OLD.archived_at IS NULL) IS NOT (NEW.archived_at IS NULL)
BEGIN
    INSERT INTO owner_counts (owner, state, n)
    SELECT OLD.owner, OLD.state, -1 WHERE OLD.archived_at IS NULL
    UNION ALL
    SELECT NEW.owner, NEW.state, 1 WHERE NEW.archived_at IS NULL
    ON CONFLICT (owner, state) DO UPDATE SET n = n + excluded.n;
END;
