-- 0003 parent school (家长学校): its bodies, curriculum, sessions, check-ins, records,
-- excellent trainees and activities such as the parents' meeting day. DOMAIN.md §1.

-- Per-school, per-year settings: form weights for credit hours, check-in window
-- defaults. JSON text so a school can tune them without a migration.
CREATE TABLE parent_school_settings (
    school_id BIGINT NOT NULL REFERENCES org_unit(id),
    school_year_id BIGINT NOT NULL REFERENCES school_year(id),
    settings_json TEXT NOT NULL,
    updated_at {TS} NOT NULL,
    PRIMARY KEY (school_id, school_year_id)
);

-- The leadership group (kind 'leadership', staff) and parent committees (kind
-- 'committee', parents) at school, grade or class level (unit_id), per school year.
CREATE TABLE committee (
    id {ID},
    school_id BIGINT NOT NULL REFERENCES org_unit(id),
    school_year_id BIGINT NOT NULL REFERENCES school_year(id),
    unit_id BIGINT NOT NULL REFERENCES org_unit(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at {TS} NOT NULL
);
CREATE INDEX committee_school ON committee(school_id, school_year_id);

-- A member is a staff member or a parent; position is a code (head, deputy, member,
-- chair, vice_chair, secretary_general, contact).
CREATE TABLE committee_member (
    id {ID},
    committee_id BIGINT NOT NULL REFERENCES committee(id),
    position TEXT NOT NULL,
    staff_id BIGINT REFERENCES staff(id),
    guardian_id BIGINT REFERENCES guardian(id),
    note TEXT,
    created_at {TS} NOT NULL
);
CREATE INDEX committee_member_committee ON committee_member(committee_id);

-- The topic catalogue of a school (copied from the defaults of its school type on
-- first use, then the school's own to edit).
CREATE TABLE topic (
    id {ID},
    school_id BIGINT NOT NULL REFERENCES org_unit(id),
    ordinal INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    active BOOLEAN NOT NULL,
    created_at {TS} NOT NULL
);
CREATE INDEX topic_school ON topic(school_id, ordinal);

-- A course: a topic planned for one grade level in one semester (1 autumn, 2 spring).
CREATE TABLE course (
    id {ID},
    school_id BIGINT NOT NULL REFERENCES org_unit(id),
    school_year_id BIGINT NOT NULL REFERENCES school_year(id),
    topic_id BIGINT NOT NULL REFERENCES topic(id),
    grade_level INTEGER NOT NULL,
    semester INTEGER NOT NULL,
    title TEXT NOT NULL,
    created_at {TS} NOT NULL
);
CREATE INDEX course_school ON course(school_id, school_year_id);

-- A parents' meeting day or any activity made of several sessions (plan 2).
CREATE TABLE activity (
    id {ID},
    school_id BIGINT NOT NULL REFERENCES org_unit(id),
    school_year_id BIGINT NOT NULL REFERENCES school_year(id),
    theme TEXT NOT NULL,
    starts_at {TS} NOT NULL,
    ends_at {TS} NOT NULL,
    place TEXT NOT NULL,
    participants TEXT NOT NULL,
    organiser TEXT NOT NULL,
    venue_notes TEXT,
    survey_ref TEXT,
    created_by BIGINT,
    created_at {TS} NOT NULL
);
CREATE INDEX activity_school ON activity(school_id, school_year_id);

-- The programme: collective items (part 1) and per-class breakouts (part 2), each
-- breakout linked to its own session and so its own check-in.
CREATE TABLE activity_item (
    id {ID},
    activity_id BIGINT NOT NULL REFERENCES activity(id),
    ordinal INTEGER NOT NULL,
    part TEXT NOT NULL,
    title TEXT NOT NULL,
    speaker TEXT,
    starts_at {TS},
    session_id BIGINT
);
CREATE INDEX activity_item_activity ON activity_item(activity_id, ordinal);

-- 人员安排: person → duty → place → time.
CREATE TABLE activity_duty (
    id {ID},
    activity_id BIGINT NOT NULL REFERENCES activity(id),
    ordinal INTEGER NOT NULL,
    person TEXT NOT NULL,
    duty TEXT NOT NULL,
    place TEXT,
    time_text TEXT
);
CREATE INDEX activity_duty_activity ON activity_duty(activity_id, ordinal);

-- A session (课次). form: lecture, open_day, forum, online. audience: school, units
-- (rows in session_audience), parents (rows in session_invitee). status: planned,
-- held, cancelled. The check-in secret never leaves the server except as TOTP codes.
CREATE TABLE teaching_session (
    id {ID},
    school_id BIGINT NOT NULL REFERENCES org_unit(id),
    school_year_id BIGINT NOT NULL REFERENCES school_year(id),
    course_id BIGINT REFERENCES course(id),
    topic_id BIGINT REFERENCES topic(id),
    activity_id BIGINT REFERENCES activity(id),
    title TEXT NOT NULL,
    form TEXT NOT NULL,
    starts_at {TS} NOT NULL,
    duration_minutes INTEGER NOT NULL,
    place TEXT,
    online_url TEXT,
    instructor_staff_id BIGINT REFERENCES staff(id),
    instructor_name TEXT NOT NULL,
    instructor_title TEXT,
    instructor_org TEXT,
    audience TEXT NOT NULL,
    capacity INTEGER,
    status TEXT NOT NULL,
    lesson_plan TEXT,
    lesson_plan_at {TS},
    summary TEXT,
    summary_at {TS},
    checkin_secret TEXT NOT NULL,
    opens_before_minutes INTEGER NOT NULL,
    closes_after_minutes INTEGER NOT NULL,
    late_after_minutes INTEGER NOT NULL,
    created_by BIGINT,
    created_at {TS} NOT NULL
);
CREATE INDEX teaching_session_school ON teaching_session(school_id, starts_at);
CREATE INDEX teaching_session_year ON teaching_session(school_year_id, school_id);

-- Grades or classes invited to a session.
CREATE TABLE session_audience (
    session_id BIGINT NOT NULL REFERENCES teaching_session(id),
    unit_id BIGINT NOT NULL REFERENCES org_unit(id),
    PRIMARY KEY (session_id, unit_id)
);

-- Named parents invited to a session.
CREATE TABLE session_invitee (
    session_id BIGINT NOT NULL REFERENCES teaching_session(id),
    guardian_id BIGINT NOT NULL REFERENCES guardian(id),
    PRIMARY KEY (session_id, guardian_id)
);

-- One row per parent per session, however it was recorded. method: qr, code,
-- staff, paper, offline. status: present, late, excused, absent. High-volume and
-- written on the hot path: no FOREIGN KEYs (decision 0006); the store resolves ids.
-- nonce makes a client's retry return the first answer.
CREATE TABLE checkin (
    id {ID},
    session_id BIGINT NOT NULL,
    guardian_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    method TEXT NOT NULL,
    checked_at {TS} NOT NULL,
    recorded_by BIGINT,
    device_hash TEXT,
    nonce TEXT,
    created_at {TS} NOT NULL,
    UNIQUE (session_id, guardian_id)
);
CREATE INDEX checkin_guardian ON checkin(guardian_id);
CREATE INDEX checkin_device ON checkin(session_id, device_hash);

-- Refused attempts with a reason code (expired_code, not_invited, outside_window,
-- wrong_school, …), shown to staff.
CREATE TABLE checkin_refusal (
    id {ID},
    session_id BIGINT NOT NULL,
    guardian_id BIGINT,
    reason TEXT NOT NULL,
    device_hash TEXT,
    at {TS} NOT NULL
);
CREATE INDEX checkin_refusal_session ON checkin_refusal(session_id, id);

-- A printed paper sign-in sheet for one class of one session; code is printed on it.
CREATE TABLE paper_sheet (
    id {ID},
    session_id BIGINT NOT NULL REFERENCES teaching_session(id),
    class_id BIGINT NOT NULL REFERENCES org_unit(id),
    code TEXT NOT NULL UNIQUE,
    printed_at {TS} NOT NULL,
    scan_attachment_id BIGINT,
    entered_at {TS},
    UNIQUE (session_id, class_id)
);

-- The ticks read off a paper sheet, kept beside the check-ins so that conflicts
-- (paper says absent, the phone said present) stay visible after reconciliation.
CREATE TABLE paper_mark (
    sheet_id BIGINT NOT NULL REFERENCES paper_sheet(id),
    guardian_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    resolution TEXT,
    PRIMARY KEY (sheet_id, guardian_id)
);

-- Uploaded files (photos, materials, scanned sheets, seals). The bytes live in the
-- blob store under storage_key.
CREATE TABLE attachment (
    id {ID},
    school_id BIGINT NOT NULL REFERENCES org_unit(id),
    session_id BIGINT,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    storage_key TEXT NOT NULL,
    uploaded_by BIGINT,
    created_at {TS} NOT NULL
);
CREATE INDEX attachment_session ON attachment(session_id);
CREATE INDEX attachment_school ON attachment(school_id, kind);

-- 心得: what a parent took from a session.
CREATE TABLE reflection (
    id {ID},
    session_id BIGINT NOT NULL REFERENCES teaching_session(id),
    guardian_id BIGINT NOT NULL REFERENCES guardian(id),
    body TEXT NOT NULL,
    created_at {TS} NOT NULL,
    UNIQUE (session_id, guardian_id)
);
CREATE INDEX reflection_guardian ON reflection(guardian_id);

-- One selection of excellent trainees per school and year. status: computed,
-- reviewed, notice (公示), awarded.
CREATE TABLE excellence_round (
    id {ID},
    school_id BIGINT NOT NULL REFERENCES org_unit(id),
    school_year_id BIGINT NOT NULL REFERENCES school_year(id),
    rule_json TEXT NOT NULL,
    status TEXT NOT NULL,
    notice_from TEXT,
    notice_to TEXT,
    seal_attachment_id BIGINT,
    created_by BIGINT,
    created_at {TS} NOT NULL,
    UNIQUE (school_id, school_year_id)
);

-- A nominee with the reason the rule found; decision: nominated, approved,
-- rejected, awarded.
CREATE TABLE excellence_nominee (
    round_id BIGINT NOT NULL REFERENCES excellence_round(id),
    guardian_id BIGINT NOT NULL REFERENCES guardian(id),
    reason_json TEXT NOT NULL,
    decision TEXT NOT NULL,
    certificate_no TEXT,
    PRIMARY KEY (round_id, guardian_id)
);

-- Objections raised during the public notice, and how the school answered.
CREATE TABLE excellence_objection (
    id {ID},
    round_id BIGINT NOT NULL REFERENCES excellence_round(id),
    guardian_id BIGINT NOT NULL REFERENCES guardian(id),
    body TEXT NOT NULL,
    raised_by BIGINT,
    resolution TEXT,
    created_at {TS} NOT NULL
);

-- The job queue now runs more than roster imports (the ledger's PDF dossier).
ALTER TABLE import_job ADD COLUMN kind TEXT NOT NULL DEFAULT 'roster';
