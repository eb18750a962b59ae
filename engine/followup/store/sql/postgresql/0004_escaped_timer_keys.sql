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
-- replaces a timer row it does not recognise. The same as SQLite's migration 0006.
-- (A slice's length is kept from going below 0: PostgreSQL refuses a negative one, for
-- a key shorter than the parts its row says it has.)

-- One part of a key, escaped; a function of this session only, dropped at the end.
CREATE FUNCTION pg_temp.followup_key_part(part text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE
        WHEN part = '-' THEN '%2D'
        WHEN part !~ '[%/\u0001-\u001f\u007f-\u009f\u2028\u2029]' THEN part
        ELSE (SELECT string_agg(
                  CASE WHEN c ~ '[%/\u0001-\u001f\u007f-\u009f\u2028\u2029]'
                       THEN regexp_replace(upper(encode(convert_to(c, 'UTF8'), 'hex')),
                                           '(..)', '%\1', 'g')
                       ELSE c END,
                  '' ORDER BY i)
              FROM regexp_split_to_table(part, '') WITH ORDINALITY AS chars (c, i))
    END
$$;

-- Each timer's key in the old form of its parts, and in the new.
CREATE TEMP TABLE followup_rekeyed (old text COLLATE "C" PRIMARY KEY, new text NOT NULL);
WITH
    app_timers AS (
        SELECT key, application_id, contact, occurrence,
               CASE action WHEN 'transition' THEN 'transition:' || rule ELSE rule END AS name,
               '/' || coalesce(nullif(contact, ''), '-') || '/' || occurrence AS old_tail
        FROM timers
        WHERE action IN ('notify', 'transition') AND application_id <> ''),
    app_cycles AS (
        SELECT *, application_id || '/' || name || '/' AS old_head,
               substr(key, length(application_id || '/' || name || '/') + 1,
                      greatest(0, length(key) - length(application_id || '/' || name || '/')
                                  - length(old_tail))) AS cycle
        FROM app_timers),
    owner_days AS (
        SELECT key, owner, rule, 'owner/' || owner || '/' || rule || '/' AS old_head,
               substr(key, length('owner/' || owner || '/' || rule || '/') + 1) AS day
        FROM timers
        WHERE action = 'notify' AND application_id = ''),
    forms (key, old, new) AS (
        SELECT key, old_head || cycle || old_tail,
               pg_temp.followup_key_part(application_id) || '/'
               || pg_temp.followup_key_part(name) || '/' || cycle || '/'
               || CASE WHEN contact IS NULL THEN '-'
                       ELSE pg_temp.followup_key_part(contact) END
               || '/' || occurrence
        FROM app_cycles
        WHERE cycle ~ '^[0-9]+$'
        UNION ALL
        SELECT key, old_head || day,
               'owner/' || pg_temp.followup_key_part(owner) || '/'
               || pg_temp.followup_key_part(rule) || '/' || day
        FROM owner_days
        WHERE day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
        UNION ALL
        SELECT key, 'owner/' || owner || '/replan',
               'owner/' || pg_temp.followup_key_part(owner) || '/replan'
        FROM timers WHERE action = 'replan' AND application_id = ''
        UNION ALL
        SELECT key, application_id || '/replan',
               pg_temp.followup_key_part(application_id) || '/replan'
        FROM timers WHERE action = 'replan' AND application_id <> '')
INSERT INTO followup_rekeyed (old, new)
SELECT key, new FROM forms WHERE key = old AND new <> old;

-- Moved out and back in under their new keys: one key's new form may be another's old
-- one, which an UPDATE would trip over row by row.
CREATE TEMP TABLE followup_moved AS
SELECT r.new AS key, t.application_id, t.owner, t.rule, t.action, t.fire_at, t.due_at,
       t.contact, t.target, t.occurrence, t.claimed_by, t.claimed_until
FROM timers AS t JOIN followup_rekeyed AS r ON r.old = t.key;
DELETE FROM timers WHERE key IN (SELECT old FROM followup_rekeyed);
INSERT INTO timers (key, application_id, owner, rule, action, fire_at, due_at, contact,
                    target, occurrence, claimed_by, claimed_until)
SELECT key, application_id, owner, rule, action, fire_at, due_at, contact, target,
       occurrence, claimed_by, claimed_until
FROM followup_moved;

-- The keys of timed moves in the history: APP/transition:NAME/CYCLE/-/0.
WITH
    moves AS (
        SELECT application_id, seq, key, name,
               application_id || '/transition:' || name || '/' AS old_head
        FROM history
        WHERE kind IN ('transition', 'skipped') AND key IS NOT NULL),
    cycles AS (
        SELECT *, substr(key, length(old_head) + 1,
                         greatest(0, length(key) - length(old_head) - 4)) AS cycle
        FROM moves),
    forms AS (
        SELECT application_id, seq,
               pg_temp.followup_key_part(application_id) || '/'
               || pg_temp.followup_key_part('transition:' || name) || '/' || cycle
               || '/-/0' AS new
        FROM cycles
        WHERE key = old_head || cycle || '/-/0' AND cycle ~ '^[0-9]+$')
UPDATE history AS h SET key = f.new
FROM forms AS f
WHERE h.application_id = f.application_id AND h.seq = f.seq AND h.key <> f.new;

DROP TABLE followup_moved;
DROP TABLE followup_rekeyed;
DROP FUNCTION pg_temp.followup_key_part(text);
