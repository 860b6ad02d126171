-- 0005 roster previews (issue 9): the table a school admin uploaded, read and checked,
-- waiting in the database for them to confirm it instead of in one process's memory,
-- so any serve process behind a balancer can confirm it and three large uploads do not
-- pile up in RAM. One pending preview per user (a new one replaces it); rows older
-- than an hour are swept on the next write and never read.
CREATE TABLE roster_preview (
    id {ID},
    user_id BIGINT NOT NULL REFERENCES user_account(id),
    school_id BIGINT NOT NULL REFERENCES org_unit(id),
    file_name TEXT NOT NULL,
    payload TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    created_at {TS} NOT NULL
);
CREATE UNIQUE INDEX roster_preview_user ON roster_preview(user_id);
CREATE INDEX roster_preview_created ON roster_preview(created_at);
