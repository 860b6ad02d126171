-- 0001 foundation: the organisation tree, people, accounts, audit.
-- One text for both backends. Two placeholders are filled in per backend:
--   {ID}  an auto-increment 64-bit primary key
--   {TS}  a UTC timestamp (TEXT on SQLite, TIMESTAMPTZ on PostgreSQL)
-- Calendar dates are TEXT 'YYYY-MM-DD' on both: they compare correctly as strings.

-- The tree: province → city → county → school → grade → class.
-- parent_id is the parent today; history lives in org_closure.
CREATE TABLE org_unit (
    id {ID},
    parent_id BIGINT REFERENCES org_unit(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    code TEXT UNIQUE,
    school_type TEXT,
    grade_level INTEGER,
    class_number INTEGER,
    created_at {TS} NOT NULL
);
CREATE INDEX org_unit_parent ON org_unit(parent_id);

-- Closure table with validity: "everything under X as of D" is one indexed join.
-- A move closes rows (valid_to = move date) and opens new ones (valid_from = move date);
-- rows in force today have valid_to = '9999-12-31'.
CREATE TABLE org_closure (
    ancestor_id BIGINT NOT NULL REFERENCES org_unit(id),
    descendant_id BIGINT NOT NULL REFERENCES org_unit(id),
    depth INTEGER NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    PRIMARY KEY (ancestor_id, descendant_id, valid_from)
);
CREATE INDEX org_closure_descendant ON org_closure(descendant_id, valid_to);

-- 学年, national: 2025-2026 runs from 1 September to 31 August.
CREATE TABLE school_year (
    id {ID},
    name TEXT NOT NULL UNIQUE,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL
);

-- The three high-volume tables below (pupil, class_membership, guardianship) carry no
-- FOREIGN KEY clauses: on PostgreSQL the per-row RI triggers made a 100,000-row roster
-- import ten times slower than the inserts themselves. The store is the only writer and
-- resolves every id inside the writing transaction; `store::integrity::orphans` checks
-- (and a test asserts) that no reference dangles. See docs/decisions/0006.
CREATE TABLE pupil (
    id {ID},
    school_id BIGINT NOT NULL,
    student_no TEXT NOT NULL,
    name TEXT NOT NULL,
    name_pinyin TEXT NOT NULL,
    name_initials TEXT NOT NULL,
    gender TEXT,
    created_at {TS} NOT NULL,
    UNIQUE (school_id, student_no)
);
CREATE INDEX pupil_name ON pupil(name);
CREATE INDEX pupil_pinyin ON pupil(name_pinyin);
CREATE INDEX pupil_initials ON pupil(name_initials);

-- Which class a pupil is in, per school year.
CREATE TABLE class_membership (
    pupil_id BIGINT NOT NULL,
    school_year_id BIGINT NOT NULL,
    class_id BIGINT NOT NULL,
    PRIMARY KEY (pupil_id, school_year_id)
);
CREATE INDEX class_membership_class ON class_membership(class_id, school_year_id);

-- A parent or guardian is one person however many children they have; the mobile
-- number, when known, identifies them.
CREATE TABLE guardian (
    id {ID},
    name TEXT NOT NULL,
    name_pinyin TEXT NOT NULL,
    name_initials TEXT NOT NULL,
    phone TEXT UNIQUE,
    created_at {TS} NOT NULL
);
CREATE INDEX guardian_name ON guardian(name);

CREATE TABLE guardianship (
    guardian_id BIGINT NOT NULL,
    pupil_id BIGINT NOT NULL,
    relation TEXT NOT NULL,
    PRIMARY KEY (guardian_id, pupil_id)
);
CREATE INDEX guardianship_pupil ON guardianship(pupil_id);

-- Staff of a school or of an office (unit_id is the school or the office's node).
CREATE TABLE staff (
    id {ID},
    unit_id BIGINT NOT NULL REFERENCES org_unit(id),
    name TEXT NOT NULL,
    name_pinyin TEXT NOT NULL,
    name_initials TEXT NOT NULL,
    phone TEXT,
    position TEXT,
    created_at {TS} NOT NULL
);
CREATE INDEX staff_unit ON staff(unit_id);

-- Staff log in by username, parents by phone; both may exist on one account.
CREATE TABLE user_account (
    id {ID},
    username TEXT UNIQUE,
    phone TEXT UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    staff_id BIGINT REFERENCES staff(id),
    guardian_id BIGINT UNIQUE REFERENCES guardian(id),
    active BOOLEAN NOT NULL,
    created_at {TS} NOT NULL
);

-- A role granted at a node holds for the node's subtree.
CREATE TABLE role_grant (
    id {ID},
    user_id BIGINT NOT NULL REFERENCES user_account(id),
    role TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES org_unit(id),
    created_at {TS} NOT NULL,
    UNIQUE (user_id, role, unit_id)
);
CREATE INDEX role_grant_unit ON role_grant(unit_id);

-- Server-side sessions, so several serve processes share them. id is the SHA-256 of
-- the cookie value: a leaked table does not leak live cookies.
CREATE TABLE web_session (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES user_account(id),
    csrf_token TEXT NOT NULL,
    created_at {TS} NOT NULL,
    expires_at {TS} NOT NULL
);
CREATE INDEX web_session_user ON web_session(user_id);

CREATE TABLE api_token (
    id {ID},
    user_id BIGINT NOT NULL REFERENCES user_account(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at {TS} NOT NULL,
    revoked BOOLEAN NOT NULL
);

-- One-time codes a school prints for parents to set their first password.
CREATE TABLE invitation (
    id {ID},
    guardian_id BIGINT NOT NULL REFERENCES guardian(id),
    code_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES user_account(id),
    created_at {TS} NOT NULL,
    expires_at {TS} NOT NULL,
    used_at {TS}
);
CREATE INDEX invitation_guardian ON invitation(guardian_id);

-- What the log-only SMS provider "sent", for development and tests.
CREATE TABLE sms_outbox (
    id {ID},
    phone TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at {TS} NOT NULL
);

-- Every write, in the same transaction as the write.
CREATE TABLE audit_log (
    id {ID},
    at {TS} NOT NULL,
    actor_user_id BIGINT,
    unit_id BIGINT,
    entity TEXT NOT NULL,
    entity_id TEXT,
    action TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX audit_log_unit ON audit_log(unit_id, id);

-- Long work (roster imports) with progress that any serve process can report.
CREATE TABLE import_job (
    id {ID},
    unit_id BIGINT NOT NULL REFERENCES org_unit(id),
    created_by BIGINT,
    file_name TEXT NOT NULL,
    status TEXT NOT NULL,
    total INTEGER NOT NULL,
    done INTEGER NOT NULL,
    result_json TEXT,
    created_at {TS} NOT NULL,
    updated_at {TS} NOT NULL
);
