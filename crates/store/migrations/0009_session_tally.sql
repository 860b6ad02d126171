-- Province scale (issue 16): the office roll-ups and the school's monthly series read
-- each session's check-ins by status from here instead of counting a year of `checkin`
-- rows. Every writer of `checkin` adds to its session's row in the same transaction as
-- the rows it writes (the check-in writer once per group); bulk loads rebuild the table
-- (`parent_school::tally::rebuild`). `jiaxiao check` and a test compare it with the rows.
CREATE TABLE session_tally (
    session_id BIGINT PRIMARY KEY,
    present BIGINT NOT NULL DEFAULT 0,
    late BIGINT NOT NULL DEFAULT 0,
    excused BIGINT NOT NULL DEFAULT 0,
    absent BIGINT NOT NULL DEFAULT 0
);
INSERT INTO session_tally (session_id, present, late, excused, absent)
SELECT session_id,
       SUM(CASE WHEN status = 'present' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'late' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'excused' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'absent' THEN 1 ELSE 0 END)
FROM checkin GROUP BY session_id;

-- A parent's own history (`/p`, their hours) names the parent, not the session.
CREATE INDEX checkin_guardian ON checkin(guardian_id, session_id);
-- The roll-ups count a year's sessions by school, status and form from the index alone.
CREATE INDEX teaching_session_rollup ON teaching_session(school_year_id, school_id, status, form);
-- A parent's home gathers their sessions from the parent outwards (named invitations,
-- the grades and classes invited) instead of testing every session of the province.
CREATE INDEX session_invitee_guardian ON session_invitee(guardian_id);
CREATE INDEX session_audience_unit ON session_audience(unit_id);
-- Moves dated in the future (shown as pending on the tree) are the few closure rows that
-- start after today.
CREATE INDEX org_closure_from ON org_closure(valid_from);
