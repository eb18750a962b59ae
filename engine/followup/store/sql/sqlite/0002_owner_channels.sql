-- An owner may choose the channels their reminders go to (a JSON array of channel
-- names), instead of the rule pack's default channels. NULL: the pack decides.
ALTER TABLE owners ADD COLUMN channels TEXT;
