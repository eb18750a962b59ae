-- An owner may say they stopped looking for work: the rules over all their applications
-- (the keep-looking nudges) then read `looking` as false. true: still looking, the default,
-- so an owner stored before this column keeps getting the nudges.
ALTER TABLE owners ADD COLUMN looking boolean NOT NULL DEFAULT true;
