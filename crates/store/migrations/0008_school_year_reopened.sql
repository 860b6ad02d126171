-- A school year whose last day has passed is read-only (issue 10 item 11); a school's
-- admin may reopen it for their school to put records right, and close it again. A row
-- here means "reopened"; closing deletes it (both audited).
CREATE TABLE school_year_reopened (
    school_id BIGINT NOT NULL REFERENCES org_unit(id),
    school_year_id BIGINT NOT NULL REFERENCES school_year(id),
    reopened_by BIGINT,
    reopened_at {TS} NOT NULL,
    PRIMARY KEY (school_id, school_year_id)
);
