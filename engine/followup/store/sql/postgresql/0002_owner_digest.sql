-- An owner may choose a daily digest: the local time of day ("08:00") at which their
-- reminders are gathered and sent, one message per channel. NULL: each reminder is sent
-- when it fires.
ALTER TABLE owners ADD COLUMN digest text;
