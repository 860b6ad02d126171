//! Opening a database by URL: `sqlite://path?mode=rwc` or `postgres://…`. SQLite is
//! tuned here once (WAL, foreign keys, busy timeout, synchronous=FULL) so every
//! caller gets the same durable behaviour.

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;

use crate::error::StoreResult;
use crate::migration::Migrator;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle to the database; cheap to clone (a pool inside).
#[derive(Clone, Debug)]
pub struct Db {
    pub conn: DatabaseConnection,
    pub backend: Backend,
    /// The SQLite database file (`None` on PostgreSQL and for an in-memory database), for
    /// the check-in writer's own connection.
    pub sqlite_file: Option<std::sync::Arc<std::path::PathBuf>>,
}

impl Db {
    pub async fn connect(url: &str) -> StoreResult<Db> {
        Db::connect_with(url, None).await
    }

    /// As [`Db::connect`], with PostgreSQL told to cancel any statement running longer
    /// than `statement_timeout`: `serve` passes its handler timeout, so a request already
    /// answered 503 stops its query too instead of holding a connection and a core.
    /// SQLite statements cannot be limited this way; the option does nothing there.
    pub async fn connect_with(url: &str, statement_timeout: Option<Duration>) -> StoreResult<Db> {
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30));
        match backend {
            Backend::Sqlite => {
                // SQLite has one writer at a time; a few readers beside it. A file
                // cannot hang up: no ping before each query (sqlx's default pings on every
                // checkout, one more round trip to the connection's thread per statement).
                opts.max_connections(4)
                    .min_connections(1)
                    .test_before_acquire(false);
                opts.map_sqlx_sqlite_opts(|o| {
                    o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                        .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                        .foreign_keys(true)
                        .busy_timeout(Duration::from_secs(10))
                        .create_if_missing(true)
                        // A committing connection checkpoints once the WAL passes this many
                        // pages (SQLite's default: 1,000), with the write lock held. `serve`
                        // checkpoints every second from the side (store::checkin), so
                        // commits on the check-in path rarely pay for one; other commands
                        // still checkpoint by themselves at 40 MB.
                        .pragma("wal_autocheckpoint", "10000")
                });
            }
            Backend::Postgres => {
                // Ping only connections idle long enough for a server, proxy or
                // firewall to have dropped them, not before every statement.
                opts.max_connections(16)
                    .min_connections(1)
                    .test_before_acquire_if_idle_for(Duration::from_secs(30));
                // JIT compilation pays off for long analytic queries, not for page queries:
                // with it on, a prepared statement's first custom plans over a million rows
                // crossed jit_above_cost and took a second each (bench/million.sh).
                // Custom plans always: one statement serves a school (a few rows) and a
                // province (thousands), and after five runs PostgreSQL may switch a prepared
                // statement to a generic plan made for neither — the province roll-up went
                // from 110 ms to 200 ms (bench/scale.sh). Planning these costs a millisecond.
                opts.map_sqlx_postgres_opts(move |o| {
                    let o = o.options([("jit", "off"), ("plan_cache_mode", "force_custom_plan")]);
                    match statement_timeout {
                        Some(t) => {
                            o.options([("statement_timeout", format!("{}ms", t.as_millis()))])
                        }
                        None => o,
                    }
                });
            }
        }
        let sqlite_file = match backend {
            Backend::Sqlite => sqlite_file(url)?.map(std::sync::Arc::new),
            Backend::Postgres => None,
        };
        let conn = Database::connect(opts).await?;
        Ok(Db {
            conn,
            backend,
            sqlite_file,
        })
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        Migrator::up(&self.conn, None).await?;
        self.optimize().await
    }

    /// Refreshes the planner's statistics where they are stale. SQLite has none until
    /// ANALYZE runs, and without them "pupils under this county" over a million rows
    /// picked a scan (p95 250 ms instead of 10 ms, bench/million.sh). `0x10002` also
    /// analyzes tables never analyzed; it is cheap when nothing changed. PostgreSQL's
    /// autovacuum keeps its own statistics.
    pub async fn optimize(&self) -> StoreResult<()> {
        use sea_orm::ConnectionTrait;
        if self.backend == Backend::Sqlite {
            // No analysis_limit: a 1,000-row sample misjudged pupils per school 33x and
            // the planner chose a scan again. A full ANALYZE runs only when stale.
            self.conn
                .execute_unprepared("PRAGMA optimize=0x10002")
                .await?;
        }
        Ok(())
    }

    /// Starts a write transaction. On SQLite it takes the write lock at BEGIN
    /// (IMMEDIATE): a deferred transaction that reads first and writes later fails with
    /// SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out, as soon as another writer
    /// (the check-in writer, say) commits in between. Waiting at BEGIN is what the busy
    /// timeout handles.
    pub async fn begin(&self) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
        use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
        match self.backend {
            Backend::Sqlite => {
                self.conn
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..Default::default()
                    })
                    .await
            }
            Backend::Postgres => self.conn.begin().await,
        }
    }

    pub fn db_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    pub async fn close(self) -> StoreResult<()> {
        self.conn.close().await?;
        Ok(())
    }

    /// A consistent copy of a live SQLite database in a new file (`VACUUM INTO`: readers
    /// and writers carry on meanwhile). For PostgreSQL use `dump::export` or pg_dump.
    pub async fn backup_sqlite(&self, out: &std::path::Path) -> StoreResult<()> {
        use sea_orm::ConnectionTrait;
        if self.backend != Backend::Sqlite {
            return Err(crate::StoreError::Invalid { code: "not_sqlite" });
        }
        if out.exists() {
            return Err(crate::StoreError::Invalid {
                code: "target_exists",
            });
        }
        let path = out.to_string_lossy().into_owned();
        self.conn
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                "VACUUM INTO $1",
                [path.into()],
            ))
            .await?;
        Ok(())
    }

    /// A cheap liveness probe for /healthz.
    pub async fn ping(&self) -> StoreResult<()> {
        self.conn.ping().await?;
        Ok(())
    }
}

/// The file of a SQLite URL, `None` for an in-memory database (which only the pool's own
/// connections can reach).
fn sqlite_file(url: &str) -> StoreResult<Option<std::path::PathBuf>> {
    use std::str::FromStr;
    let o = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .map_err(|e| crate::StoreError::Other(format!("database URL: {e}")))?;
    let f = o.get_filename();
    // sqlx names `sqlite::memory:` so; `mode=memory` keeps the name it was given.
    let in_memory = f.to_string_lossy().starts_with("file:sqlx-in-memory")
        || url
            .split_once('?')
            .is_some_and(|(_, q)| q.split('&').any(|kv| kv == "mode=memory"));
    Ok((!in_memory).then(|| f.to_path_buf()))
}

/// The single integer column `n` of a one-row query (`SELECT COUNT(*) AS n …`), 0 when
/// the query returns no row.
pub async fn scalar_i64<C: sea_orm::ConnectionTrait>(
    conn: &C,
    sql: impl Into<String>,
    values: Vec<sea_orm::Value>,
) -> StoreResult<i64> {
    let stmt =
        sea_orm::Statement::from_sql_and_values(conn.get_database_backend(), sql.into(), values);
    Ok(conn
        .query_one_raw(stmt)
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}

/// Inserts rows 500 at a time, without reading ids back: for generated data (the demo
/// county and its parent-school year). Here, below both demo modules, so neither imports
/// the other for it.
/// The `id` column of every row a statement answers (a SELECT, or a write's RETURNING id).
pub(crate) async fn ids<C: sea_orm::ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> StoreResult<Vec<i64>> {
    let stmt = sea_orm::Statement::from_sql_and_values(
        conn.get_database_backend(),
        sql.to_owned(),
        values,
    );
    conn.query_all_raw(stmt)
        .await?
        .iter()
        .map(|r| r.try_get::<i64>("", "id").map_err(Into::into))
        .collect()
}

pub(crate) async fn bulk<C, A>(conn: &C, rows: Vec<A>) -> StoreResult<()>
where
    C: sea_orm::ConnectionTrait,
    A: sea_orm::ActiveModelTrait + Send,
{
    use sea_orm::EntityTrait;
    let mut it = rows.into_iter().peekable();
    while it.peek().is_some() {
        let chunk: Vec<A> = it.by_ref().take(500).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Moves a row's `version` on by one in the write's transaction, only if it is still the
/// version the writer read. The UPDATE also holds the row until the transaction ends, so
/// of two writers that read the same version one passes and the other gets `Stale`
/// instead of overwriting what it never saw.
pub(crate) async fn claim_version<C: sea_orm::ConnectionTrait>(
    conn: &C,
    table: &'static str,
    id: i64,
    read: i64,
) -> StoreResult<()> {
    let r = conn
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            conn.get_database_backend(),
            format!("UPDATE {table} SET version = version + 1 WHERE id = $1 AND version = $2"),
            [id.into(), read.into()],
        ))
        .await?;
    match r.rows_affected() {
        0 => Err(crate::StoreError::Stale),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;
    use std::path::Path;

    #[test]
    fn sqlite_urls_name_their_file() {
        let f = |u| sqlite_file(u).unwrap();
        assert_eq!(
            f("sqlite://data/j.db?mode=rwc").as_deref(),
            Some(Path::new("data/j.db"))
        );
        assert_eq!(
            f("sqlite:///var/x.db").as_deref(),
            Some(Path::new("/var/x.db"))
        );
        assert_eq!(f("sqlite::memory:"), None);
        assert_eq!(f("sqlite://j.db?mode=memory"), None);
    }
}
