//! Storage of jiaxiao: sea-orm entities, the one migration set that runs on SQLite and
//! PostgreSQL, the queries of each area, and the [`Scope`] every tenant query takes.
//! No SQL lives outside this crate.

pub mod accounts;
pub mod audit;
pub mod blobs;
pub mod checkin;
pub mod db;
pub mod demo;
mod demo_ps;
pub mod dump;
pub mod entities;
pub mod error;
pub mod idempotency;
pub mod integrity;
pub mod migration;
pub mod org;
pub mod parent_school;
pub mod people;
pub mod roster;
pub mod scope;
pub mod webhooks;

pub use db::{Backend, Db};
pub use error::{StoreError, StoreResult};
pub use scope::Scope;

/// Today's date in the schools' time zone as `YYYY-MM-DD`, the key of effective-dated
/// rows. China has one time zone and no daylight saving, so a fixed offset is exact.
pub fn today() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string()
}

/// The far-future `valid_to` of rows that are still in force.
pub const OPEN_END: &str = "9999-12-31";
