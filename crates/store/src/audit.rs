//! The audit trail: every write appends a row in the same transaction as the write,
//! and admins read the rows of their subtree.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, FromQueryResult, Set, Statement, Value};
use serde::Serialize;

use crate::entities::audit_log;
use crate::{Db, Scope, StoreResult};

/// What one write changed; `before`/`after` are short JSON summaries, never passwords.
pub struct Entry<'a> {
    pub unit_id: Option<i64>,
    pub entity: &'a str,
    pub entity_id: Option<String>,
    pub action: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub async fn record<C: ConnectionTrait>(conn: &C, scope: &Scope, e: Entry<'_>) -> StoreResult<()> {
    audit_log::ActiveModel {
        at: Set(Utc::now()),
        actor_user_id: Set(scope.user_id()),
        unit_id: Set(e.unit_id),
        entity: Set(e.entity.to_owned()),
        entity_id: Set(e.entity_id),
        action: Set(e.action.to_owned()),
        before_json: Set(e.before.map(|v| v.to_string())),
        after_json: Set(e.after.map(|v| v.to_string())),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The common case of [`record`]: a write to one entity of a unit, nothing kept of the
/// state before it.
pub async fn note<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    unit_id: i64,
    entity: &str,
    entity_id: impl ToString,
    action: &str,
    after: Option<serde_json::Value>,
) -> StoreResult<()> {
    record(
        conn,
        scope,
        Entry {
            unit_id: Some(unit_id),
            entity,
            entity_id: Some(entity_id.to_string()),
            action,
            before: None,
            after,
        },
    )
    .await
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: chrono::DateTime<Utc>,
    pub actor: Option<String>,
    pub unit_name: Option<String>,
    pub entity: String,
    pub entity_id: Option<String>,
    pub action: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

/// Newest first, keyset-paged by id. Rows without a unit (logins of office staff,
/// system work) are shown only to the system scope.
pub async fn list(
    db: &Db,
    scope: &Scope,
    before_id: Option<i64>,
    limit: u64,
) -> StoreResult<Vec<AuditRow>> {
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_in_managed_subtree("a.unit_id", &mut values);
    values.push(before_id.unwrap_or(i64::MAX).into());
    let b = values.len();
    values.push((limit as i64).into());
    let l = values.len();
    let sql = format!(
        "SELECT a.id, a.at, u.display_name AS actor, o.name AS unit_name, a.entity, a.entity_id, a.action, a.before_json, a.after_json \
         FROM audit_log a LEFT JOIN user_account u ON u.id = a.actor_user_id LEFT JOIN org_unit o ON o.id = a.unit_id \
         WHERE {cond} AND a.id < ${b} ORDER BY a.id DESC LIMIT ${l}"
    );
    Ok(
        AuditRow::find_by_statement(Statement::from_sql_and_values(db.db_backend(), sql, values))
            .all(&db.conn)
            .await?,
    )
}
