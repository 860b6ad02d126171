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
    pub actor_user_id: Option<i64>,
    pub actor: Option<String>,
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
    pub entity: String,
    pub entity_id: Option<String>,
    pub action: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

/// What an inspector narrows the log to; every part optional. Dates are Beijing days,
/// both ends included.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<i64>,
    pub entity: Option<String>,
    pub action: Option<String>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
}

impl AuditFilter {
    /// The filter's SQL conditions after the caller's scope, binding into `values`.
    fn sql(&self, scope: &Scope, values: &mut Vec<Value>) -> String {
        let mut cond = vec![scope.sql_in_managed_subtree("a.unit_id", values)];
        let bind = |v: Value, values: &mut Vec<Value>| {
            values.push(v);
            format!("${}", values.len())
        };
        if let Some(u) = self.actor {
            cond.push(format!("a.actor_user_id = {}", bind(u.into(), values)));
        }
        if let Some(e) = &self.entity {
            cond.push(format!("a.entity = {}", bind(e.clone().into(), values)));
        }
        if let Some(x) = &self.action {
            cond.push(format!("a.action = {}", bind(x.clone().into(), values)));
        }
        // A Beijing day runs from 16:00 UTC the day before.
        let start = |d: chrono::NaiveDate| {
            d.and_hms_opt(0, 0, 0).expect("midnight").and_utc() - chrono::Duration::hours(8)
        };
        if let Some(d) = self.from {
            cond.push(format!("a.at >= {}", bind(start(d).into(), values)));
        }
        if let Some(d) = self.to {
            let end = start(d) + chrono::Duration::days(1);
            cond.push(format!("a.at < {}", bind(end.into(), values)));
        }
        cond.join(" AND ")
    }
}

/// Newest first, keyset-paged by id, narrowed by `filter`. Rows without a unit (logins
/// of office staff, system work) are shown only to the system scope.
pub async fn list(
    db: &Db,
    scope: &Scope,
    filter: &AuditFilter,
    before_id: Option<i64>,
    limit: u64,
) -> StoreResult<Vec<AuditRow>> {
    let mut values: Vec<Value> = Vec::new();
    let cond = filter.sql(scope, &mut values);
    values.push(before_id.unwrap_or(i64::MAX).into());
    let b = values.len();
    values.push((limit as i64).into());
    let l = values.len();
    let sql = format!(
        "SELECT a.id, a.at, a.actor_user_id, u.display_name AS actor, a.unit_id, o.name AS unit_name, a.entity, a.entity_id, a.action, a.before_json, a.after_json \
         FROM audit_log a LEFT JOIN user_account u ON u.id = a.actor_user_id LEFT JOIN org_unit o ON o.id = a.unit_id \
         WHERE {cond} AND a.id < ${b} ORDER BY a.id DESC LIMIT ${l}"
    );
    Ok(
        AuditRow::find_by_statement(Statement::from_sql_and_values(db.db_backend(), sql, values))
            .all(&db.conn)
            .await?,
    )
}

/// How many rows `filter` matches, for the page's total.
pub async fn count(db: &Db, scope: &Scope, filter: &AuditFilter) -> StoreResult<i64> {
    let mut values: Vec<Value> = Vec::new();
    let cond = filter.sql(scope, &mut values);
    crate::db::scalar_i64(
        &db.conn,
        format!("SELECT COUNT(*) AS n FROM audit_log a WHERE {cond}"),
        values,
    )
    .await
}

/// The people, object types and actions that occur in the caller's part of the log,
/// for the filter's choices.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facets {
    pub actors: Vec<(i64, String)>,
    pub entities: Vec<String>,
    pub actions: Vec<String>,
}

pub async fn facets(db: &Db, scope: &Scope) -> StoreResult<Facets> {
    #[derive(FromQueryResult)]
    struct Actor {
        id: i64,
        name: String,
    }
    #[derive(FromQueryResult)]
    struct Key {
        k: String,
    }
    let backend = db.db_backend();
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_in_managed_subtree("a.unit_id", &mut values);
    let actors = Actor::find_by_statement(Statement::from_sql_and_values(
        backend,
        format!(
            "SELECT DISTINCT u.id, u.display_name AS name FROM audit_log a JOIN user_account u ON u.id = a.actor_user_id \
             WHERE {cond} ORDER BY u.display_name, u.id"
        ),
        values.clone(),
    ))
    .all(&db.conn)
    .await?;
    let keys = |col: &str| {
        Statement::from_sql_and_values(
            backend,
            format!("SELECT DISTINCT a.{col} AS k FROM audit_log a WHERE {cond} ORDER BY k"),
            values.clone(),
        )
    };
    let entities = Key::find_by_statement(keys("entity")).all(&db.conn).await?;
    let actions = Key::find_by_statement(keys("action")).all(&db.conn).await?;
    Ok(Facets {
        actors: actors.into_iter().map(|a| (a.id, a.name)).collect(),
        entities: entities.into_iter().map(|k| k.k).collect(),
        actions: actions.into_iter().map(|k| k.k).collect(),
    })
}
