-- The index of each owner's applications by state served the owners' counts per state;
-- since 0011 those are kept in owner_counts, and what else filters an owner's
-- applications by state reads them through applications_owner_created (an owner's
-- rows, in the order a listing wants). Every move of an application rewrote this
-- index's entry, about one and a half pages of each move's commit.
DROP INDEX IF EXISTS applications_owner_state;
