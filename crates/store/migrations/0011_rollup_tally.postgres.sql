-- Province scale (issue 16), part 2: the tables of the SQLite file of the same number
-- (see its comments), kept by PostgreSQL trigger functions.
CREATE TABLE school_tally (
    school_year_id BIGINT NOT NULL,
    school_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    form TEXT NOT NULL,
    sessions BIGINT NOT NULL DEFAULT 0,
    checkins BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (school_year_id, school_id, status, form)
);
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

CREATE FUNCTION school_tally_add(y BIGINT, s BIGINT, st TEXT, f TEXT, n BIGINT, c BIGINT) RETURNS void AS $$
    INSERT INTO school_tally AS k (school_year_id, school_id, status, form, sessions, checkins)
    VALUES (y, s, st, f, n, c)
    ON CONFLICT (school_year_id, school_id, status, form) DO UPDATE
    SET sessions = k.sessions + excluded.sessions, checkins = k.checkins + excluded.checkins
$$ LANGUAGE sql;

CREATE FUNCTION reach_stale_mark(s BIGINT) RETURNS void AS $$
    INSERT INTO reach_stale (session_id) VALUES (s) ON CONFLICT (session_id) DO UPDATE SET n = reach_stale.n + 1
$$ LANGUAGE sql;

CREATE FUNCTION teaching_session_tally() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM school_tally_add(OLD.school_year_id, OLD.school_id, OLD.status, OLD.form, -1,
            -COALESCE((SELECT present + late FROM session_tally WHERE session_id = OLD.id), 0));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM school_tally_add(NEW.school_year_id, NEW.school_id, NEW.status, NEW.form, 1,
            COALESCE((SELECT present + late FROM session_tally WHERE session_id = NEW.id), 0));
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM reach_stale_mark(NEW.id);
    END IF;
    IF TG_OP = 'DELETE' THEN
        DELETE FROM session_reach WHERE session_id = OLD.id;
        DELETE FROM session_walkin WHERE session_id = OLD.id;
        DELETE FROM session_invited WHERE session_id = OLD.id;
    DELETE FROM session_invited WHERE session_id = OLD.id;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER teaching_session_tally_ins_del AFTER INSERT OR DELETE ON teaching_session
FOR EACH ROW EXECUTE FUNCTION teaching_session_tally();
CREATE TRIGGER teaching_session_tally_upd AFTER UPDATE OF status, form, school_id, school_year_id ON teaching_session
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.form IS DISTINCT FROM NEW.form
  OR OLD.school_id IS DISTINCT FROM NEW.school_id OR OLD.school_year_id IS DISTINCT FROM NEW.school_year_id)
EXECUTE FUNCTION teaching_session_tally();

CREATE FUNCTION teaching_session_reach() RETURNS trigger AS $$
BEGIN
    PERFORM reach_stale_mark(NEW.id);
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER teaching_session_reach_upd AFTER UPDATE OF starts_at, school_id, school_year_id, audience ON teaching_session
FOR EACH ROW WHEN (OLD.starts_at IS DISTINCT FROM NEW.starts_at OR OLD.school_id IS DISTINCT FROM NEW.school_id
  OR OLD.school_year_id IS DISTINCT FROM NEW.school_year_id OR OLD.audience IS DISTINCT FROM NEW.audience)
EXECUTE FUNCTION teaching_session_reach();

CREATE FUNCTION session_tally_school() RETURNS trigger AS $$
DECLARE
    sid BIGINT;
    d BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        sid := NEW.session_id; d := NEW.present + NEW.late;
    ELSIF TG_OP = 'UPDATE' THEN
        sid := NEW.session_id; d := (NEW.present + NEW.late) - (OLD.present + OLD.late);
    ELSE
        sid := OLD.session_id; d := -(OLD.present + OLD.late);
    END IF;
    IF d <> 0 THEN
        PERFORM school_tally_add(t.school_year_id, t.school_id, t.status, t.form, 0, d)
        FROM teaching_session t WHERE t.id = sid;
    END IF;
    PERFORM reach_stale_mark(sid);
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER session_tally_school AFTER INSERT OR UPDATE OR DELETE ON session_tally
FOR EACH ROW EXECUTE FUNCTION session_tally_school();

CREATE FUNCTION session_members_reach() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM reach_stale_mark(OLD.session_id);
    ELSE
        PERFORM reach_stale_mark(NEW.session_id);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER session_audience_reach AFTER INSERT OR UPDATE OR DELETE ON session_audience
FOR EACH ROW EXECUTE FUNCTION session_members_reach();
CREATE TRIGGER session_invitee_reach AFTER INSERT OR UPDATE OR DELETE ON session_invitee
FOR EACH ROW EXECUTE FUNCTION session_members_reach();

-- The three markers below are statement triggers over transition tables: a roster import
-- writes tens of thousands of placements and parents in a few statements, and a row
-- trigger's lookup per row (planned before the new rows had statistics) made a
-- 20,000-pupil import quadratic. One set-based INSERT per statement instead.

-- A class's school is its ancestor of kind school (any time in its history).
CREATE FUNCTION class_membership_reach() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO reach_stale_school (school_id, school_year_id)
        SELECT DISTINCT a.ancestor_id, cm.school_year_id
        FROM (SELECT DISTINCT class_id, school_year_id FROM new_rows) cm
        JOIN org_closure a ON a.descendant_id = cm.class_id
        JOIN org_unit u ON u.id = a.ancestor_id AND u.kind = 'school'
        ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO reach_stale_school (school_id, school_year_id)
        SELECT DISTINCT a.ancestor_id, cm.school_year_id
        FROM (SELECT DISTINCT class_id, school_year_id FROM old_rows) cm
        JOIN org_closure a ON a.descendant_id = cm.class_id
        JOIN org_unit u ON u.id = a.ancestor_id AND u.kind = 'school'
        ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER class_membership_reach_insert AFTER INSERT ON class_membership
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION class_membership_reach();
CREATE TRIGGER class_membership_reach_update AFTER UPDATE ON class_membership
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION class_membership_reach();
CREATE TRIGGER class_membership_reach_delete AFTER DELETE ON class_membership
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION class_membership_reach();

-- A child's parents changed: every year of the child's classes.
CREATE FUNCTION guardianship_reach() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO reach_stale_school (school_id, school_year_id)
        SELECT DISTINCT a.ancestor_id, cm.school_year_id
        FROM (SELECT DISTINCT pupil_id FROM new_rows) g
        JOIN class_membership cm ON cm.pupil_id = g.pupil_id
        JOIN org_closure a ON a.descendant_id = cm.class_id
        JOIN org_unit u ON u.id = a.ancestor_id AND u.kind = 'school'
        ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO reach_stale_school (school_id, school_year_id)
        SELECT DISTINCT a.ancestor_id, cm.school_year_id
        FROM (SELECT DISTINCT pupil_id FROM old_rows) g
        JOIN class_membership cm ON cm.pupil_id = g.pupil_id
        JOIN org_closure a ON a.descendant_id = cm.class_id
        JOIN org_unit u ON u.id = a.ancestor_id AND u.kind = 'school'
        ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER guardianship_reach_insert AFTER INSERT ON guardianship
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION guardianship_reach();
CREATE TRIGGER guardianship_reach_update AFTER UPDATE ON guardianship
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION guardianship_reach();
CREATE TRIGGER guardianship_reach_delete AFTER DELETE ON guardianship
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION guardianship_reach();

-- The tree under a school changed: every such change writes a closure row whose ancestor
-- is the school itself; a school moved between counties changes none of its reach.
CREATE FUNCTION org_closure_reach() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO reach_stale_school (school_id, school_year_id)
        SELECT DISTINCT t.school_id, t.school_year_id FROM teaching_session t
        WHERE t.school_id IN (SELECT ancestor_id FROM new_rows)
        ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO reach_stale_school (school_id, school_year_id)
        SELECT DISTINCT t.school_id, t.school_year_id FROM teaching_session t
        WHERE t.school_id IN (SELECT ancestor_id FROM old_rows)
        ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER org_closure_reach_insert AFTER INSERT ON org_closure
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION org_closure_reach();
CREATE TRIGGER org_closure_reach_update AFTER UPDATE ON org_closure
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION org_closure_reach();
CREATE TRIGGER org_closure_reach_delete AFTER DELETE ON org_closure
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION org_closure_reach();

INSERT INTO school_tally (school_year_id, school_id, status, form, sessions, checkins)
SELECT t.school_year_id, t.school_id, t.status, t.form, COUNT(*), COALESCE(SUM(k.present + k.late), 0)
FROM teaching_session t LEFT JOIN session_tally k ON k.session_id = t.id
GROUP BY t.school_year_id, t.school_id, t.status, t.form;
INSERT INTO reach_stale_school (school_id, school_year_id)
SELECT DISTINCT school_id, school_year_id FROM teaching_session;
