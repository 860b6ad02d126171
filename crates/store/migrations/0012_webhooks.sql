-- Webhooks (issue 14): an office or school registers a URL for events in its subtree.
-- `events` is a comma-separated list of event codes (domain::webhook::EVENTS); the secret
-- signs each delivery and is shown once.
CREATE TABLE webhook (
    id {ID},
    unit_id BIGINT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    created_by BIGINT,
    created_at {TS} NOT NULL
);
CREATE INDEX webhook_unit ON webhook(unit_id);

-- The outbox and the delivery log in one: a row per event per webhook, written in the
-- event's transaction (or by the check-in pump), sent by `serve`, tried again with
-- backoff until delivered or given up (`status` pending, delivered, failed).
CREATE TABLE webhook_delivery (
    id {ID},
    webhook_id BIGINT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at {TS} NOT NULL,
    response_status INTEGER,
    error TEXT,
    created_at {TS} NOT NULL,
    delivered_at {TS}
);
CREATE INDEX webhook_delivery_due ON webhook_delivery(status, next_attempt_at);
CREATE INDEX webhook_delivery_log ON webhook_delivery(webhook_id, id);

-- How far the check-in pump has read the check-in table (by id), so that a restart
-- neither loses nor repeats an event.
CREATE TABLE webhook_cursor (
    name TEXT PRIMARY KEY,
    last_id BIGINT NOT NULL
);
