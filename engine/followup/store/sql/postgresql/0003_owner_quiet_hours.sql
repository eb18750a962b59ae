-- An owner may add quiet hours of their own to the rule pack's ("22:00-07:00"): a JSON
-- array of time ranges in the owner's time zone. NULL: none beyond the pack's.
ALTER TABLE owners ADD COLUMN quiet_hours text;
