-- The check-in hot path writes three index trees per row in random order, and on
-- SQLite every page it touches is written to the WAL at each group commit. The
-- (session, device) index served only the staff's device-flag list, which reads one
-- session's rows through the unique (session, parent) index just as well.
DROP INDEX checkin_device;
