-- Timer keys with their parts escaped (followup.keys.TimerKey).
--
-- Before this version a timer's key joined its parts with '/' as they were, so a contact
-- named "Jane Doe / HR", or an owner named "ada/lovelace", gave a key with extra parts
-- that no reader could take apart again. Keys now escape, inside each part, '%', '/', a
-- lone '-' and every control or line-break character (C0, DEL, C1, U+2028, U+2029) as
-- %XX of their UTF-8 bytes, upper-case. This rewrites each stored key that has the old
-- form of its row's parts into the new form of the same parts:
--
--   a rule's reminder      APP/RULE/CYCLE/CONTACT-or-'-'/OCCURRENCE
--   a timed move           APP/transition:NAME/CYCLE/-/0
--   an owner-level rule    owner/OWNER/RULE/DAY
--   an owner's re-plan     owner/OWNER/replan
--   an application's       APP/replan
--
-- APP, OWNER, RULE (NAME), CONTACT and OCCURRENCE come from the row's columns; CYCLE and
-- DAY only from the key itself: they are what lies between the parts the columns give.
-- The history keeps the keys of timed moves (kinds 'transition' and 'skipped'), which the
-- planner compares with the keys it plans: they are rewritten the same way. Keys of
-- notifications (the outbox, and history entries of kind 'notified') are the identities
-- of messages already made, and stay as they are.
--
-- Names without those characters read the same in both forms, so most rows are left
-- alone. A key that is not the old form of its row's parts (already escaped, or a row
-- changed by hand) is left alone too: timers are derived from the rules, and a re-plan
-- replaces a timer row it does not recognise.
--
-- Lengths and slices are taken of the keys' UTF-8 bytes (CAST ... AS BLOB), and NUL is
-- escaped by a walk over bytes, because SQLite's text functions stop at a NUL character
-- (and replace() cannot look for one).

-- 1. What a part may not hold as itself, '%' first (the others' escapes hold '%').
CREATE TEMP TABLE key_escapes (
    step    INTEGER PRIMARY KEY,
    plain   TEXT NOT NULL,
    escaped TEXT NOT NULL
);
INSERT INTO key_escapes (step, plain, escaped) VALUES (1, '%', '%25');
INSERT INTO key_escapes (plain, escaped)
WITH RECURSIVE code (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM code WHERE n < 159)
SELECT char(n), CASE WHEN n < 128 THEN printf('%%%02X', n) ELSE printf('%%C2%%%02X', n) END
FROM code WHERE n < 32 OR n = 47 OR n BETWEEN 127 AND 159;
INSERT INTO key_escapes (plain, escaped)
VALUES (char(8232), '%E2%80%A8'), (char(8233), '%E2%80%A9');

-- 2. Every text that is a part of a stored key, with its escaped form.
CREATE TEMP TABLE key_parts (
    plain   TEXT PRIMARY KEY,
    escaped TEXT NOT NULL
);
WITH RECURSIVE
    plain (text) AS (
        SELECT application_id FROM timers
        UNION SELECT owner FROM timers
        UNION SELECT CASE action WHEN 'transition' THEN 'transition:' || rule ELSE rule END
              FROM timers
        UNION SELECT contact FROM timers WHERE contact IS NOT NULL
        UNION SELECT application_id FROM history
              WHERE kind IN ('transition', 'skipped') AND key IS NOT NULL
        UNION SELECT 'transition:' || name FROM history
              WHERE kind IN ('transition', 'skipped') AND key IS NOT NULL),
    -- Only texts with a character outside printable ASCII, or with '%' or '/', can
    -- change (GLOB stops at a NUL, hence the instr).
    special (text) AS (
        SELECT text FROM plain
        WHERE text GLOB '*[^ -$&-.0-~]*' OR instr(text, char(0)) > 0),
    replaced (text, step, done) AS (
        SELECT text, 0, text FROM special
        UNION ALL
        SELECT r.text, e.step, replace(r.done, e.plain, e.escaped)
        FROM replaced AS r JOIN key_escapes AS e ON e.step = r.step + 1),
    nul (text, done, rest) AS (
        SELECT text, '', CAST(done AS BLOB) FROM replaced
        WHERE step = (SELECT max(step) FROM key_escapes)
        UNION ALL
        SELECT text, done || CAST(substr(rest, 1, instr(rest, x'00') - 1) AS TEXT) || '%00',
               substr(rest, instr(rest, x'00') + 1)
        FROM nul WHERE instr(rest, x'00') > 0)
INSERT INTO key_parts (plain, escaped)
SELECT text, done || CAST(rest AS TEXT) FROM nul WHERE instr(rest, x'00') = 0
UNION ALL
SELECT text, text FROM plain WHERE text NOT IN (SELECT text FROM special);
UPDATE key_parts SET escaped = '%2D' WHERE plain = '-';

-- 3. Each timer's key in the old form of its parts, and in the new.
CREATE TEMP TABLE rekeyed (
    old TEXT PRIMARY KEY,
    new TEXT NOT NULL
);
WITH
    app_timers AS (
        SELECT t.key, a.escaped AS app, n.escaped AS name,
               CASE WHEN t.contact IS NULL THEN '-' ELSE c.escaped END AS contact,
               '/' || coalesce(nullif(t.contact, ''), '-') || '/' || t.occurrence AS old_tail,
               t.application_id || '/'
                   || CASE t.action WHEN 'transition' THEN 'transition:' ELSE '' END
                   || t.rule || '/' AS old_head,
               t.occurrence
        FROM timers AS t
        JOIN key_parts AS a ON a.plain = t.application_id
        JOIN key_parts AS n
            ON n.plain = CASE t.action WHEN 'transition' THEN 'transition:' || t.rule
                         ELSE t.rule END
        LEFT JOIN key_parts AS c ON c.plain = t.contact
        WHERE t.action IN ('notify', 'transition') AND t.application_id <> ''),
    app_cycles AS (
        SELECT *, CAST(substr(CAST(key AS BLOB), length(CAST(old_head AS BLOB)) + 1,
                              length(CAST(key AS BLOB)) - length(CAST(old_head AS BLOB))
                              - length(CAST(old_tail AS BLOB))) AS TEXT) AS cycle
        FROM app_timers),
    owner_timers AS (
        SELECT t.key, o.escaped AS owner, r.escaped AS rule,
               'owner/' || t.owner || '/' || t.rule || '/' AS old_head
        FROM timers AS t
        JOIN key_parts AS o ON o.plain = t.owner
        JOIN key_parts AS r ON r.plain = t.rule
        WHERE t.action = 'notify' AND t.application_id = ''),
    owner_days AS (
        SELECT *, CAST(substr(CAST(key AS BLOB), length(CAST(old_head AS BLOB)) + 1)
                       AS TEXT) AS day
        FROM owner_timers),
    forms (key, old, new) AS (
        SELECT key, old_head || cycle || old_tail,
               app || '/' || name || '/' || cycle || '/' || contact || '/' || occurrence
        FROM app_cycles
        WHERE cycle GLOB '[0-9]*' AND cycle NOT GLOB '*[^0-9]*'
        UNION ALL
        SELECT key, old_head || day, 'owner/' || owner || '/' || rule || '/' || day
        FROM owner_days
        WHERE day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'
        UNION ALL
        SELECT t.key, 'owner/' || t.owner || '/replan', 'owner/' || o.escaped || '/replan'
        FROM timers AS t JOIN key_parts AS o ON o.plain = t.owner
        WHERE t.action = 'replan' AND t.application_id = ''
        UNION ALL
        SELECT t.key, t.application_id || '/replan', a.escaped || '/replan'
        FROM timers AS t JOIN key_parts AS a ON a.plain = t.application_id
        WHERE t.action = 'replan' AND t.application_id <> '')
INSERT INTO rekeyed (old, new)
SELECT key, new FROM forms WHERE key = old AND new <> old;

-- 4. Moved out and back in under their new keys: one key's new form may be another's
-- old one, which an UPDATE would trip over row by row.
CREATE TEMP TABLE moved AS
SELECT r.new AS key, t.application_id, t.owner, t.rule, t.action, t.fire_at, t.due_at,
       t.contact, t.target, t.occurrence, t.claimed_by, t.claimed_until
FROM timers AS t JOIN rekeyed AS r ON r.old = t.key;
DELETE FROM timers WHERE key IN (SELECT old FROM rekeyed);
INSERT INTO timers (key, application_id, owner, rule, action, fire_at, due_at, contact,
                    target, occurrence, claimed_by, claimed_until)
SELECT key, application_id, owner, rule, action, fire_at, due_at, contact, target,
       occurrence, claimed_by, claimed_until
FROM moved;

-- 5. The keys of timed moves in the history: APP/transition:NAME/CYCLE/-/0.
WITH
    moves AS (
        SELECT h.application_id, h.seq, h.key, a.escaped AS app, n.escaped AS name,
               h.application_id || '/transition:' || h.name || '/' AS old_head
        FROM history AS h
        JOIN key_parts AS a ON a.plain = h.application_id
        JOIN key_parts AS n ON n.plain = 'transition:' || h.name
        WHERE h.kind IN ('transition', 'skipped') AND h.key IS NOT NULL),
    cycles AS (
        SELECT *, CAST(substr(CAST(key AS BLOB), length(CAST(old_head AS BLOB)) + 1,
                              length(CAST(key AS BLOB)) - length(CAST(old_head AS BLOB)) - 4)
                       AS TEXT) AS cycle
        FROM moves)
UPDATE history
SET key = (SELECT c.app || '/' || c.name || '/' || c.cycle || '/-/0' FROM cycles AS c
           WHERE c.application_id = history.application_id AND c.seq = history.seq)
WHERE (application_id, seq) IN (
    SELECT application_id, seq FROM cycles
    WHERE key = old_head || cycle || '/-/0'
      AND cycle GLOB '[0-9]*' AND cycle NOT GLOB '*[^0-9]*'
      AND app || '/' || name || '/' || cycle || '/-/0' <> key);

DROP TABLE moved;
DROP TABLE rekeyed;
DROP TABLE key_parts;
DROP TABLE key_escapes;
