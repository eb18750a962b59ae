-- An owner may say they stopped looking for work: the rules over all their applications
-- (the keep-looking nudges) then read `looking` as false. 1: still looking, the default,
-- so an owner stored before this column keeps getting the nudges.
ALTER TABLE owners ADD COLUMN looking INTEGER NOT NULL DEFAULT 1;
