-- API tokens run out (`expires_at`, set at creation from the configured lifetime) and
-- show when they were last used (`last_used_at`, written at most once a minute, in
-- batches, never on the check-in write). Tokens created before this migration have no
-- `expires_at`: they count as expiring the lifetime after `created_at` (see
-- `accounts::token_session`), since portable SQL cannot add days to a timestamp here.
ALTER TABLE api_token ADD COLUMN expires_at {TS};
ALTER TABLE api_token ADD COLUMN last_used_at {TS};

-- The log-only SMS provider kept invitation codes in plain text. From now on the
-- outbox keeps messages with their one-time codes masked and only for a few days;
-- the rows written before may hold live codes, and nothing reads them but people.
DELETE FROM sms_outbox;
