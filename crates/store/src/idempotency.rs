//! Idempotency keys of API creates (issue 14, docs/API-DESIGN.md): the first answer to a
//! key is kept for a day and given again to a retry, so a client that lost the answer
//! can resend blindly and never makes a second object. Keys belong to the account that
//! sent them; a key sent again with another request is refused, not replayed.

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, Statement};

use crate::{Db, StoreResult};

/// How long an answer is kept.
pub const KEEP_HOURS: i64 = 24;
/// A first request that has not finished after this long is taken to have died (the
/// process stopped): a retry runs it again rather than waiting for ever.
pub const ABANDONED_AFTER_SECS: i64 = 120;

/// What to do with a request that carries a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The first time: run it, then [`finish`].
    Run,
    /// Seen and answered: give this answer again.
    Replay { status: u16, body: String },
    /// The first request with this key is still running.
    Running,
    /// The key was used for a different request.
    Mismatch,
}

/// Claims `key` for `request_hash` (the method, path and body, hashed by the caller).
pub async fn begin(db: &Db, user_id: i64, key: &str, request_hash: &str) -> StoreResult<Begin> {
    let conn = &db.conn;
    let now = Utc::now();
    let backend = conn.get_database_backend();
    let inserted = conn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO api_idempotency (user_id, idem_key, request_hash, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, idem_key) DO NOTHING",
            [user_id.into(), key.into(), request_hash.into(), now.into()],
        ))
        .await?
        .rows_affected();
    if inserted == 1 {
        // Old answers go as new keys come, like the roster's previews: no timer needed,
        // and the index on created_at keeps it a short range delete.
        sweep(db).await?;
        return Ok(Begin::Run);
    }
    #[derive(FromQueryResult)]
    struct Row {
        request_hash: String,
        status: Option<i32>,
        body: Option<String>,
    }
    let Some(r) = Row::find_by_statement(Statement::from_sql_and_values(
        backend,
        "SELECT request_hash, status, body FROM api_idempotency WHERE user_id = $1 AND idem_key = $2",
        [user_id.into(), key.into()],
    ))
    .one(conn)
    .await?
    else {
        // Swept between the two statements: a day old, so this is a new request.
        return Box::pin(begin(db, user_id, key, request_hash)).await;
    };
    if r.request_hash != request_hash {
        return Ok(Begin::Mismatch);
    }
    match r.status {
        Some(status) => Ok(Begin::Replay {
            status: status as u16,
            body: r.body.unwrap_or_default(),
        }),
        None => {
            // Taken over only if the first request has been silent too long; the
            // condition makes exactly one retry the new runner.
            let took = conn
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    "UPDATE api_idempotency SET created_at = $1 \
                     WHERE user_id = $2 AND idem_key = $3 AND status IS NULL AND created_at < $4",
                    [
                        now.into(),
                        user_id.into(),
                        key.into(),
                        (now - Duration::seconds(ABANDONED_AFTER_SECS)).into(),
                    ],
                ))
                .await?
                .rows_affected();
            Ok(if took == 1 {
                Begin::Run
            } else {
                Begin::Running
            })
        }
    }
}

/// Keeps the answer of a request that ran.
pub async fn finish(db: &Db, user_id: i64, key: &str, status: u16, body: &str) -> StoreResult<()> {
    db.conn
        .execute_raw(Statement::from_sql_and_values(
            db.db_backend(),
            "UPDATE api_idempotency SET status = $1, body = $2 WHERE user_id = $3 AND idem_key = $4",
            [
                i32::from(status).into(),
                body.into(),
                user_id.into(),
                key.into(),
            ],
        ))
        .await?;
    Ok(())
}

/// Lets go of a key whose request failed on our side (a 5xx): a retry runs it again.
pub async fn release(db: &Db, user_id: i64, key: &str) -> StoreResult<()> {
    db.conn
        .execute_raw(Statement::from_sql_and_values(
            db.db_backend(),
            "DELETE FROM api_idempotency WHERE user_id = $1 AND idem_key = $2 AND status IS NULL",
            [user_id.into(), key.into()],
        ))
        .await?;
    Ok(())
}

/// Forgets answers older than [`KEEP_HOURS`]; returns how many.
pub async fn sweep(db: &Db) -> StoreResult<u64> {
    let cutoff = Utc::now() - Duration::hours(KEEP_HOURS);
    Ok(db
        .conn
        .execute_raw(Statement::from_sql_and_values(
            db.db_backend(),
            "DELETE FROM api_idempotency WHERE created_at < $1",
            [cutoff.into()],
        ))
        .await?
        .rows_affected())
}
