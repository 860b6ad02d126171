-- The check-in hot path writes every index tree of `checkin` in random order, and on
-- SQLite every page a group commit touches is written to the WAL again. Every read of
-- check-ins names its session, so the unique (session, parent) index serves them all:
-- the (session, device) index served only the staff's device-flag list, and the
-- (parent) index only lookups that also name the session.
DROP INDEX checkin_device;
DROP INDEX checkin_guardian;
