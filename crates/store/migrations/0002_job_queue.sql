-- 0002 job queue: a roster import is queued with its checked rows, and any serve or
-- worker process claims and runs it. claimed_at lets a job whose process died be
-- claimed again after a while.
ALTER TABLE import_job ADD COLUMN school_year_id BIGINT;
ALTER TABLE import_job ADD COLUMN payload TEXT;
ALTER TABLE import_job ADD COLUMN claimed_by TEXT;
ALTER TABLE import_job ADD COLUMN claimed_at {TS};
CREATE INDEX import_job_status ON import_job(status, id);
