-- Each change to a timer rewrote four b-trees: the table and three indexes. Two of the
-- indexes began with the owner or the application: (owner, fire_at) for an owner's
-- agenda, and (application_id, owner, fire_at) for an application's timers and an
-- owner's own (application_id ''). One index of (owner, application_id, fire_at) serves
-- all three, with the owner known (an application's queries read it from its row);
-- each timer written or removed then touches three b-trees, and a default-pack event's
-- commit about two pages fewer.
DROP INDEX IF EXISTS timers_owner_fire_at;
DROP INDEX IF EXISTS timers_application;
CREATE INDEX timers_owner_application ON timers (owner, application_id, fire_at);
