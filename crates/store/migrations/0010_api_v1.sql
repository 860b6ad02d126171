-- API v1 (issue 14). A token may name what it may do and the unit it is limited to, on
-- top of its user's roles; NULL is the account's whole reach (tokens from a login).
ALTER TABLE api_token ADD COLUMN scopes TEXT;
ALTER TABLE api_token ADD COLUMN unit_id BIGINT;

-- Two editors of one session do not overwrite each other silently: every write adds one,
-- and a write that names the version it read (If-Match) is refused when it moved on.
ALTER TABLE teaching_session ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- Creates through the API carry an Idempotency-Key: the first answer is kept for a day
-- and given again to a retry, so a lost answer never makes a second object. `status`
-- is NULL while the first request runs.
CREATE TABLE api_idempotency (
    id {ID},
    user_id BIGINT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER,
    body TEXT,
    created_at {TS} NOT NULL,
    UNIQUE (user_id, idem_key)
);
CREATE INDEX api_idempotency_created ON api_idempotency(created_at);
