//! The one error type of the store. Handlers map `NotFound` to 404 (also for rows
//! outside the caller's scope), `Conflict` and `Invalid` to a message the user can act on.

use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {what}")]
    Conflict { what: String },
    #[error("invalid: {code}")]
    Invalid { code: &'static str },
    /// The row changed since the caller read it (its `version` moved on): an API
    /// `If-Match` that no longer holds, or a concurrent writer in between.
    #[error("stale: the row changed since it was read")]
    Stale,
    #[error("database: {0}")]
    Db(#[source] DbErr),
    #[error("{0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        // Detected by error kind, not constraint name: SQLite reports no name.
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(what)) => StoreError::Conflict { what },
            _ => StoreError::Db(e),
        }
    }
}
