//! Whole-database export and import as JSON Lines, table by table in dependency
//! order: the supported way to move a county from SQLite to PostgreSQL (and a plain
//! text backup that any tool can read). Ids are kept, so references stay true.

use std::io::{BufRead, Write};

use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder};
use serde::{Deserialize, Serialize};

use crate::entities::*;
use crate::{Backend, Db, StoreError, StoreResult};

#[derive(Serialize, Deserialize)]
struct Line {
    table: String,
    row: serde_json::Value,
}

macro_rules! each_table {
    ($m:ident) => {
        $m!(org_unit, true);
        $m!(org_closure, false);
        $m!(school_year, true);
        $m!(pupil, true);
        $m!(class_membership, false);
        $m!(guardian, true);
        $m!(guardianship, false);
        $m!(staff, true);
        $m!(user_account, true);
        $m!(role_grant, true);
        $m!(web_session, false);
        $m!(api_token, true);
        $m!(invitation, true);
        $m!(sms_outbox, true);
        $m!(audit_log, true);
        $m!(import_job, true);
        $m!(parent_school_settings, false);
        $m!(committee, true);
        $m!(committee_member, true);
        $m!(topic, true);
        $m!(course, true);
        $m!(activity, true);
        $m!(activity_item, true);
        $m!(activity_duty, true);
        $m!(teaching_session, true);
        $m!(session_audience, false);
        $m!(session_invitee, false);
        $m!(checkin, true);
        $m!(checkin_refusal, true);
        $m!(paper_sheet, true);
        $m!(paper_mark, false);
        $m!(attachment, true);
        $m!(reflection, true);
        $m!(excellence_round, true);
        $m!(excellence_nominee, false);
        $m!(excellence_objection, true);
        $m!(school_year_reopened, false);
        $m!(webhook, true);
    };
}

/// The tables in the order they are written; also the order of `import`. Left out:
/// `roster_preview`, uploads waiting an hour at most for their confirmation, which a
/// move to another database has no reason to carry, and `session_tally`, counters that
/// `import` rebuilds from the check-ins. Webhooks move; their delivery log and the
/// check-in pump's cursor do not (the pump starts again from the newest check-in).
pub const TABLES: &[&str] = &[
    "org_unit",
    "org_closure",
    "school_year",
    "pupil",
    "class_membership",
    "guardian",
    "guardianship",
    "staff",
    "user_account",
    "role_grant",
    "web_session",
    "api_token",
    "invitation",
    "sms_outbox",
    "audit_log",
    "import_job",
    "parent_school_settings",
    "committee",
    "committee_member",
    "topic",
    "course",
    "activity",
    "activity_item",
    "activity_duty",
    "teaching_session",
    "session_audience",
    "session_invitee",
    "checkin",
    "checkin_refusal",
    "paper_sheet",
    "paper_mark",
    "attachment",
    "reflection",
    "excellence_round",
    "excellence_nominee",
    "excellence_objection",
    "school_year_reopened",
    "webhook",
];

/// Writes every row of every table; returns the number of rows.
pub async fn export(db: &Db, out: &mut impl Write) -> StoreResult<u64> {
    let mut n = 0u64;
    macro_rules! dump {
        ($t:ident, $_id:expr) => {{
            // org_unit rows reference their parent, which has a smaller id: id order is safe.
            let mut pages = $t::Entity::find()
                .order_by_asc(
                    <$t::Entity as EntityTrait>::PrimaryKey::iter()
                        .next()
                        .map(|k| k.into_column())
                        .unwrap(),
                )
                .paginate(&db.conn, 5000);
            while let Some(rows) = pages.fetch_and_next().await? {
                for r in rows {
                    let line = Line {
                        table: stringify!($t).into(),
                        row: serde_json::to_value(&r)
                            .map_err(|e| StoreError::Other(e.to_string()))?,
                    };
                    serde_json::to_writer(&mut *out, &line)
                        .map_err(|e| StoreError::Other(e.to_string()))?;
                    out.write_all(b"\n")
                        .map_err(|e| StoreError::Other(e.to_string()))?;
                    n += 1;
                }
            }
        }};
    }
    use sea_orm::{Iterable, PrimaryKeyToColumn};
    each_table!(dump);
    Ok(n)
}

/// Reads an export into an empty, migrated database in one transaction.
pub async fn import(db: &Db, input: impl BufRead) -> StoreResult<u64> {
    let txn = db.begin().await?;
    let existing = crate::db::scalar_i64(
        &txn,
        "SELECT COUNT(*) AS n FROM org_unit",
        Vec::<sea_orm::Value>::new(),
    )
    .await?;
    if existing > 0 {
        return Err(StoreError::Invalid {
            code: "target_not_empty",
        });
    }
    let mut n = 0u64;
    let mut batch: Vec<serde_json::Value> = Vec::new();
    let mut current = String::new();
    macro_rules! flush {
        () => {
            if !batch.is_empty() {
                insert_rows(&txn, &current, std::mem::take(&mut batch)).await?;
            }
        };
    }
    for (i, line) in input.lines().enumerate() {
        let line = line.map_err(|e| StoreError::Other(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let l: Line = serde_json::from_str(&line)
            .map_err(|e| StoreError::Other(format!("line {}: {e}", i + 1)))?;
        if l.table != current || batch.len() >= 500 {
            flush!();
            current = l.table;
        }
        batch.push(l.row);
        n += 1;
    }
    flush!();
    if db.backend == Backend::Postgres {
        reset_sequences(&txn).await?;
    }
    crate::parent_school::tally::rebuild(&txn).await?;
    txn.commit().await?;
    // The planner's statistics of a freshly loaded database are empty: PostgreSQL then
    // picked sequential scans (a parent's home took 2.3 s until ANALYZE, issue 16).
    db.conn.execute_unprepared("ANALYZE").await?;
    Ok(n)
}

/// After rows were written with explicit ids, moves PostgreSQL's identity sequences past
/// them (SQLite's AUTOINCREMENT follows by itself).
pub async fn reset_sequences<C: ConnectionTrait>(txn: &C) -> StoreResult<()> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        // Identity columns do not move when ids are given explicitly.
        macro_rules! reset {
            ($t:ident, $has_id:expr) => {
                if $has_id {
                    txn.execute_unprepared(&format!(
                        "SELECT setval(pg_get_serial_sequence('{0}', 'id'), COALESCE((SELECT MAX(id) FROM {0}), 0) + 1, false)",
                        stringify!($t)
                    ))
                    .await?;
                }
            };
        }
        each_table!(reset);
    }
    Ok(())
}

async fn insert_rows<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    rows: Vec<serde_json::Value>,
) -> StoreResult<()> {
    macro_rules! ins {
        ($t:ident, $_id:expr) => {
            if table == stringify!($t) {
                let mut models = Vec::with_capacity(rows.len());
                for r in rows {
                    let m = <$t::ActiveModel as sea_orm::ActiveModelTrait>::from_json(r)?;
                    models.push(m);
                }
                // Every column is Set (ids included): the rows keep their ids.
                $t::Entity::insert_many(models)
                    .exec_without_returning(conn)
                    .await?;
                return Ok(());
            }
        };
    }
    each_table!(ins);
    Err(StoreError::Other(format!("unknown table {table}")))
}
