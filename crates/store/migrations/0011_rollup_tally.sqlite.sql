-- Province scale (issue 16), part 2: what the office roll-ups and a school's home read,
-- kept by the database itself (triggers) so that every writer — the check-in writer's
-- rusqlite path, the ORM, bulk loads — keeps them in step. SQLite's triggers; the
-- PostgreSQL file of the same number builds the same tables with trigger functions.
--
-- school_tally: per school, school year, session status and form, the number of sessions
-- and their check-ins present or late (the sum of their `session_tally`). A province's
-- roll-up reads a few rows per school instead of every session of the year.
CREATE TABLE school_tally (
    school_year_id BIGINT NOT NULL,
    school_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    form TEXT NOT NULL,
    sessions BIGINT NOT NULL DEFAULT 0,
    checkins BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (school_year_id, school_id, status, form)
);

-- session_reach: per session and invited class, the children it invites and those of
-- them whose household came; session_invited: the parents it invites (through their
-- children or by name); session_walkin: the parents who came without the session
-- inviting them. Computed per session by the store (`parent_school::reach_tally`), from
-- the same SQL as the ledger, whenever the session is marked stale: its check-ins, its
-- audience or time changed (`reach_stale`), or its school's classes, children or parents
-- did (`reach_stale_school`, per school year: every session of it).
CREATE TABLE session_reach (
    session_id BIGINT NOT NULL,
    class_id BIGINT NOT NULL,
    invited BIGINT NOT NULL,
    reached BIGINT NOT NULL,
    PRIMARY KEY (session_id, class_id)
);
CREATE TABLE session_invited (
    session_id BIGINT PRIMARY KEY,
    parents BIGINT NOT NULL
);
CREATE TABLE session_walkin (
    session_id BIGINT NOT NULL,
    guardian_id BIGINT NOT NULL,
    PRIMARY KEY (session_id, guardian_id)
);
-- `n` counts the changes since the marker was set: a refresh reads the rows outside its
-- write (a long one would hold SQLite's only write lock) and clears a marker only if no
-- change came in meanwhile, so `n` is the same as when it read.
CREATE TABLE reach_stale (
    session_id BIGINT PRIMARY KEY,
    n BIGINT NOT NULL DEFAULT 1
);
CREATE TABLE reach_stale_school (
    school_id BIGINT NOT NULL,
    school_year_id BIGINT NOT NULL,
    n BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (school_id, school_year_id)
);
CREATE INDEX org_unit_kind ON org_unit(kind);
-- An office's units one level down (its overview's rows) without reading its whole subtree.
CREATE INDEX org_closure_depth ON org_closure(ancestor_id, depth);

CREATE TRIGGER teaching_session_tally_ins AFTER INSERT ON teaching_session BEGIN
    INSERT INTO school_tally (school_year_id, school_id, status, form, sessions, checkins)
    VALUES (NEW.school_year_id, NEW.school_id, NEW.status, NEW.form, 1,
            COALESCE((SELECT present + late FROM session_tally WHERE session_id = NEW.id), 0))
    ON CONFLICT (school_year_id, school_id, status, form) DO UPDATE
    SET sessions = school_tally.sessions + excluded.sessions, checkins = school_tally.checkins + excluded.checkins;
    INSERT INTO reach_stale (session_id) VALUES (NEW.id) ON CONFLICT (session_id) DO UPDATE SET n = reach_stale.n + 1;
END;

CREATE TRIGGER teaching_session_tally_del AFTER DELETE ON teaching_session BEGIN
    INSERT INTO school_tally (school_year_id, school_id, status, form, sessions, checkins)
    VALUES (OLD.school_year_id, OLD.school_id, OLD.status, OLD.form, -1,
            -COALESCE((SELECT present + late FROM session_tally WHERE session_id = OLD.id), 0))
    ON CONFLICT (school_year_id, school_id, status, form) DO UPDATE
    SET sessions = school_tally.sessions + excluded.sessions, checkins = school_tally.checkins + excluded.checkins;
    DELETE FROM session_reach WHERE session_id = OLD.id;
    DELETE FROM session_walkin WHERE session_id = OLD.id;
    DELETE FROM session_invited WHERE session_id = OLD.id;
END;

CREATE TRIGGER teaching_session_tally_upd AFTER UPDATE OF status, form, school_id, school_year_id ON teaching_session
WHEN OLD.status IS NOT NEW.status OR OLD.form IS NOT NEW.form OR OLD.school_id IS NOT NEW.school_id
  OR OLD.school_year_id IS NOT NEW.school_year_id BEGIN
    INSERT INTO school_tally (school_year_id, school_id, status, form, sessions, checkins)
    VALUES (OLD.school_year_id, OLD.school_id, OLD.status, OLD.form, -1,
            -COALESCE((SELECT present + late FROM session_tally WHERE session_id = OLD.id), 0))
    ON CONFLICT (school_year_id, school_id, status, form) DO UPDATE
    SET sessions = school_tally.sessions + excluded.sessions, checkins = school_tally.checkins + excluded.checkins;
    INSERT INTO school_tally (school_year_id, school_id, status, form, sessions, checkins)
    VALUES (NEW.school_year_id, NEW.school_id, NEW.status, NEW.form, 1,
            COALESCE((SELECT present + late FROM session_tally WHERE session_id = NEW.id), 0))
    ON CONFLICT (school_year_id, school_id, status, form) DO UPDATE
    SET sessions = school_tally.sessions + excluded.sessions, checkins = school_tally.checkins + excluded.checkins;
END;

CREATE TRIGGER teaching_session_reach_upd AFTER UPDATE OF starts_at, school_id, school_year_id, audience ON teaching_session
WHEN OLD.starts_at IS NOT NEW.starts_at OR OLD.school_id IS NOT NEW.school_id
  OR OLD.school_year_id IS NOT NEW.school_year_id OR OLD.audience IS NOT NEW.audience BEGIN
    INSERT INTO reach_stale (session_id) VALUES (NEW.id) ON CONFLICT (session_id) DO UPDATE SET n = reach_stale.n + 1;
END;

CREATE TRIGGER session_tally_school_ins AFTER INSERT ON session_tally BEGIN
    INSERT INTO school_tally (school_year_id, school_id, status, form, sessions, checkins)
    SELECT t.school_year_id, t.school_id, t.status, t.form, 0, NEW.present + NEW.late
    FROM teaching_session t WHERE t.id = NEW.session_id
    ON CONFLICT (school_year_id, school_id, status, form) DO UPDATE
    SET checkins = school_tally.checkins + excluded.checkins;
    INSERT INTO reach_stale (session_id) VALUES (NEW.session_id) ON CONFLICT (session_id) DO UPDATE SET n = reach_stale.n + 1;
END;

CREATE TRIGGER session_tally_school_upd AFTER UPDATE ON session_tally BEGIN
    INSERT INTO school_tally (school_year_id, school_id, status, form, sessions, checkins)
    SELECT t.school_year_id, t.school_id, t.status, t.form, 0,
           (NEW.present + NEW.late) - (OLD.present + OLD.late)
    FROM teaching_session t WHERE t.id = NEW.session_id
    ON CONFLICT (school_year_id, school_id, status, form) DO UPDATE
    SET checkins = school_tally.checkins + excluded.checkins;
    INSERT INTO reach_stale (session_id) VALUES (NEW.session_id) ON CONFLICT (session_id) DO UPDATE SET n = reach_stale.n + 1;
END;

CREATE TRIGGER session_tally_school_del AFTER DELETE ON session_tally BEGIN
    INSERT INTO school_tally (school_year_id, school_id, status, form, sessions, checkins)
    SELECT t.school_year_id, t.school_id, t.status, t.form, 0, -(OLD.present + OLD.late)
    FROM teaching_session t WHERE t.id = OLD.session_id
    ON CONFLICT (school_year_id, school_id, status, form) DO UPDATE
    SET checkins = school_tally.checkins + excluded.checkins;
    INSERT INTO reach_stale (session_id) VALUES (OLD.session_id) ON CONFLICT (session_id) DO UPDATE SET n = reach_stale.n + 1;
END;

CREATE TRIGGER session_audience_reach_ins AFTER INSERT ON session_audience BEGIN
    INSERT INTO reach_stale (session_id) VALUES (NEW.session_id) ON CONFLICT (session_id) DO UPDATE SET n = reach_stale.n + 1;
END;
CREATE TRIGGER session_audience_reach_del AFTER DELETE ON session_audience BEGIN
    INSERT INTO reach_stale (session_id) VALUES (OLD.session_id) ON CONFLICT (session_id) DO UPDATE SET n = reach_stale.n + 1;
END;
CREATE TRIGGER session_invitee_reach_ins AFTER INSERT ON session_invitee BEGIN
    INSERT INTO reach_stale (session_id) VALUES (NEW.session_id) ON CONFLICT (session_id) DO UPDATE SET n = reach_stale.n + 1;
END;
CREATE TRIGGER session_invitee_reach_del AFTER DELETE ON session_invitee BEGIN
    INSERT INTO reach_stale (session_id) VALUES (OLD.session_id) ON CONFLICT (session_id) DO UPDATE SET n = reach_stale.n + 1;
END;

-- A class's school is its ancestor of kind school (any time in its history).
CREATE TRIGGER class_membership_reach_ins AFTER INSERT ON class_membership BEGIN
    INSERT INTO reach_stale_school (school_id, school_year_id)
    SELECT DISTINCT a.ancestor_id, NEW.school_year_id FROM org_closure a
    JOIN org_unit u ON u.id = a.ancestor_id AND u.kind = 'school' WHERE a.descendant_id = NEW.class_id
    ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1;
END;
CREATE TRIGGER class_membership_reach_del AFTER DELETE ON class_membership BEGIN
    INSERT INTO reach_stale_school (school_id, school_year_id)
    SELECT DISTINCT a.ancestor_id, OLD.school_year_id FROM org_closure a
    JOIN org_unit u ON u.id = a.ancestor_id AND u.kind = 'school' WHERE a.descendant_id = OLD.class_id
    ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1;
END;
CREATE TRIGGER class_membership_reach_upd AFTER UPDATE ON class_membership BEGIN
    INSERT INTO reach_stale_school (school_id, school_year_id)
    SELECT DISTINCT a.ancestor_id, cm.school_year_id FROM (SELECT OLD.class_id AS class_id, OLD.school_year_id AS school_year_id
      UNION SELECT NEW.class_id, NEW.school_year_id) cm
    JOIN org_closure a ON a.descendant_id = cm.class_id
    JOIN org_unit u ON u.id = a.ancestor_id AND u.kind = 'school' WHERE true
    ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1;
END;

-- A child's parents changed: every year of the child's classes.
CREATE TRIGGER guardianship_reach_ins AFTER INSERT ON guardianship BEGIN
    INSERT INTO reach_stale_school (school_id, school_year_id)
    SELECT DISTINCT a.ancestor_id, cm.school_year_id FROM class_membership cm
    JOIN org_closure a ON a.descendant_id = cm.class_id
    JOIN org_unit u ON u.id = a.ancestor_id AND u.kind = 'school' WHERE cm.pupil_id = NEW.pupil_id
    ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1;
END;
CREATE TRIGGER guardianship_reach_del AFTER DELETE ON guardianship BEGIN
    INSERT INTO reach_stale_school (school_id, school_year_id)
    SELECT DISTINCT a.ancestor_id, cm.school_year_id FROM class_membership cm
    JOIN org_closure a ON a.descendant_id = cm.class_id
    JOIN org_unit u ON u.id = a.ancestor_id AND u.kind = 'school' WHERE cm.pupil_id = OLD.pupil_id
    ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1;
END;
CREATE TRIGGER guardianship_reach_upd AFTER UPDATE ON guardianship BEGIN
    INSERT INTO reach_stale_school (school_id, school_year_id)
    SELECT DISTINCT a.ancestor_id, cm.school_year_id FROM class_membership cm
    JOIN org_closure a ON a.descendant_id = cm.class_id
    JOIN org_unit u ON u.id = a.ancestor_id AND u.kind = 'school' WHERE cm.pupil_id IN (OLD.pupil_id, NEW.pupil_id)
    ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1;
END;

-- The tree under a school changed (a class moved between grades, a unit added): every
-- year of the school's sessions. Every such change writes a closure row whose ancestor
-- is the school itself; a school moved between counties changes none of its reach.
CREATE TRIGGER org_closure_reach_ins AFTER INSERT ON org_closure BEGIN
    INSERT INTO reach_stale_school (school_id, school_year_id)
    SELECT DISTINCT t.school_id, t.school_year_id FROM teaching_session t WHERE t.school_id = NEW.ancestor_id
    ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1;
END;
CREATE TRIGGER org_closure_reach_upd AFTER UPDATE ON org_closure BEGIN
    INSERT INTO reach_stale_school (school_id, school_year_id)
    SELECT DISTINCT t.school_id, t.school_year_id FROM teaching_session t WHERE t.school_id = NEW.ancestor_id
    ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1;
END;
CREATE TRIGGER org_closure_reach_del AFTER DELETE ON org_closure BEGIN
    INSERT INTO reach_stale_school (school_id, school_year_id)
    SELECT DISTINCT t.school_id, t.school_year_id FROM teaching_session t WHERE t.school_id = OLD.ancestor_id
    ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1;
END;

-- What is there already: the school tally from the sessions and their counters; every
-- school's years marked stale, computed on first read.
INSERT INTO school_tally (school_year_id, school_id, status, form, sessions, checkins)
SELECT t.school_year_id, t.school_id, t.status, t.form, COUNT(*), COALESCE(SUM(k.present + k.late), 0)
FROM teaching_session t LEFT JOIN session_tally k ON k.session_id = t.id
GROUP BY t.school_year_id, t.school_id, t.status, t.form;
INSERT INTO reach_stale_school (school_id, school_year_id)
SELECT DISTINCT school_id, school_year_id FROM teaching_session;
