//! Webhooks (issue 14): an office or school registers a URL for events in its subtree.
//! Deliveries are an outbox in the database — the check-in pump writes them from the
//! check-in table behind a cursor, in the transaction that moves the cursor — and `serve`
//! sends them (web::webhooks), so nothing acknowledged is lost across a restart; the same
//! rows are the delivery log a program reads.

use chrono::{DateTime, Duration, Utc};
use jiaxiao_domain::webhook::{self as rules, CHECKIN_RECORDED, MAX_ATTEMPTS, PING};
use rand::Rng;
use sea_orm::{ConnectionTrait, FromQueryResult, Statement, Value};
use serde::Serialize;

use crate::audit::{self, Entry};
use crate::{Db, Scope, StoreError, StoreResult};

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct WebhookRow {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub url: String,
    /// Comma-separated event codes.
    pub events: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    pub event: String,
    pub payload: String,
    /// pending, delivered, failed
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub response_status: Option<i32>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A delivery claimed for sending, with what signing and sending it needs.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Due {
    pub id: i64,
    pub url: String,
    pub secret: String,
    pub event: String,
    pub payload: String,
    pub attempts: i32,
}

/// How a send ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Delivered { status: i32 },
    Failed { status: Option<i32>, error: String },
}

fn stmt(db: &impl ConnectionTrait, sql: String, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

/// `$n, $n+1, …` for `ids`, bound after the `values` already there.
fn in_list(ids: &[i64], values: &mut Vec<Value>) -> String {
    ids.iter()
        .map(|i| {
            values.push((*i).into());
            format!("${}", values.len())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Registers a webhook on a unit the caller manages, and queues its `ping`. `url` must
/// already have passed `domain::webhook::check_url`. Returns its id and secret (shown once).
pub async fn create(
    db: &Db,
    scope: &Scope,
    unit_id: i64,
    url: &str,
    events: &[&str],
) -> StoreResult<(i64, String)> {
    if events.is_empty() || events.iter().any(|e| !rules::EVENTS.contains(e)) {
        return Err(StoreError::Invalid {
            code: "webhook_events",
        });
    }
    let txn = db.begin().await?;
    crate::org::managed_unit(&txn, scope, unit_id).await?;
    let secret = hex::encode(rand::rng().random::<[u8; 24]>());
    let now = Utc::now();
    let events = events.join(",");
    let id = crate::db::scalar_i64(
        &txn,
        "INSERT INTO webhook (unit_id, url, secret, events, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id AS n",
        vec![
            unit_id.into(),
            url.into(),
            secret.clone().into(),
            events.clone().into(),
            scope.user_id().into(),
            now.into(),
        ],
    )
    .await?;
    let ping = serde_json::json!({ "webhook_id": id, "unit_id": unit_id, "events": events });
    txn.execute_raw(stmt(
        &txn,
        "INSERT INTO webhook_delivery (webhook_id, event, payload, status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, 'pending', 0, $4, $4)"
            .into(),
        vec![id.into(), PING.into(), ping.to_string().into(), now.into()],
    ))
    .await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(unit_id),
            entity: "webhook",
            entity_id: Some(id.to_string()),
            action: "create",
            before: None,
            after: Some(serde_json::json!({ "url": url, "events": events })),
        },
    )
    .await?;
    txn.commit().await?;
    // The pump starts from the check-ins of now on, not from the table's beginning.
    start_cursor(db).await?;
    Ok((id, secret))
}

/// The webhooks on units the caller manages, newest first.
pub async fn list(db: &Db, scope: &Scope) -> StoreResult<Vec<WebhookRow>> {
    let mut values = Vec::new();
    let cond = scope.sql_in_managed_subtree("w.unit_id", &mut values);
    Ok(WebhookRow::find_by_statement(stmt(
        &db.conn,
        format!(
            "SELECT w.id, w.unit_id, u.name AS unit_name, w.url, w.events, w.created_at \
             FROM webhook w JOIN org_unit u ON u.id = w.unit_id WHERE {cond} ORDER BY w.id DESC"
        ),
        values,
    ))
    .all(&db.conn)
    .await?)
}

/// One webhook the caller manages.
pub async fn get(db: &Db, scope: &Scope, id: i64) -> StoreResult<WebhookRow> {
    list(db, scope)
        .await?
        .into_iter()
        .find(|w| w.id == id)
        .ok_or(StoreError::NotFound)
}

/// Removes a webhook and its delivery log.
pub async fn delete(db: &Db, scope: &Scope, id: i64) -> StoreResult<()> {
    let w = get(db, scope, id).await?;
    let txn = db.begin().await?;
    for sql in [
        "DELETE FROM webhook_delivery WHERE webhook_id = $1",
        "DELETE FROM webhook WHERE id = $1",
        // With the last webhook gone the pump stops reading; the next webhook starts from
        // the check-ins of its own time, not from where this one was left.
        "DELETE FROM webhook_cursor WHERE NOT EXISTS (SELECT 1 FROM webhook WHERE id <> $1)",
    ] {
        txn.execute_raw(stmt(&txn, sql.into(), vec![id.into()]))
            .await?;
    }
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(w.unit_id),
            entity: "webhook",
            entity_id: Some(id.to_string()),
            action: "delete",
            before: Some(serde_json::json!({ "url": w.url, "events": w.events })),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A webhook's deliveries, newest first, before the delivery `before` when given.
pub async fn deliveries(
    db: &Db,
    scope: &Scope,
    id: i64,
    before: Option<i64>,
    limit: u64,
) -> StoreResult<Vec<DeliveryRow>> {
    get(db, scope, id).await?;
    Ok(DeliveryRow::find_by_statement(stmt(
        &db.conn,
        "SELECT id, webhook_id, event, payload, status, attempts, next_attempt_at, response_status, \
                error, created_at, delivered_at \
         FROM webhook_delivery WHERE webhook_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
            .into(),
        vec![
            id.into(),
            before.unwrap_or(i64::MAX).into(),
            (limit.clamp(1, 500) as i64).into(),
        ],
    ))
    .all(&db.conn)
    .await?)
}

const CURSOR: &str = "checkin";

/// Puts the pump's cursor at the newest check-in if it has none yet.
async fn start_cursor(db: &Db) -> StoreResult<()> {
    let exists = crate::db::scalar_i64(
        &db.conn,
        "SELECT COUNT(*) AS n FROM webhook_cursor WHERE name = $1",
        vec![CURSOR.into()],
    )
    .await?;
    if exists == 0 {
        let _ = db
            .conn
            .execute_raw(stmt(
                &db.conn,
                "INSERT INTO webhook_cursor (name, last_id) \
                 SELECT $1, COALESCE(MAX(id), 0) FROM checkin"
                    .into(),
                vec![CURSOR.into()],
            ))
            .await;
    }
    Ok(())
}

#[derive(FromQueryResult)]
struct NewCheckin {
    id: i64,
    session_id: i64,
    session_title: String,
    school_id: i64,
    guardian_id: i64,
    guardian_name: String,
    status: String,
    method: String,
    checked_at: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct Subscriber {
    webhook_id: i64,
    school_id: i64,
}

/// Turns check-ins recorded since the last call into `checkin.recorded` deliveries, at
/// most `limit` of them, leaving the newest `settle` alone: a PostgreSQL transaction may
/// commit a smaller id after a larger one, and the cursor must not pass it. The
/// deliveries and the cursor's move are one transaction, and the move is a
/// compare-and-set, so two processes never write an event twice. Returns how many
/// check-ins were read.
pub async fn pump_checkins(db: &Db, settle: Duration, limit: u64) -> StoreResult<usize> {
    let hooks =
        crate::db::scalar_i64(&db.conn, "SELECT COUNT(*) AS n FROM webhook", vec![]).await?;
    if hooks == 0 {
        return Ok(0);
    }
    start_cursor(db).await?;
    let last = crate::db::scalar_i64(
        &db.conn,
        "SELECT last_id AS n FROM webhook_cursor WHERE name = $1",
        vec![CURSOR.into()],
    )
    .await?;
    let rows = NewCheckin::find_by_statement(stmt(
        &db.conn,
        "SELECT c.id, c.session_id, s.title AS session_title, s.school_id, c.guardian_id, \
                g.name AS guardian_name, c.status, c.method, c.checked_at \
         FROM checkin c JOIN teaching_session s ON s.id = c.session_id \
         JOIN guardian g ON g.id = c.guardian_id \
         WHERE c.id > $1 AND c.created_at <= $2 ORDER BY c.id LIMIT $3"
            .into(),
        vec![
            last.into(),
            (Utc::now() - settle).into(),
            (limit.clamp(1, 10_000) as i64).into(),
        ],
    ))
    .all(&db.conn)
    .await?;
    let Some(newest) = rows.last().map(|r| r.id) else {
        return Ok(0);
    };
    // Which webhooks hear each school: on the school or any unit above it today.
    let mut schools: Vec<i64> = rows.iter().map(|r| r.school_id).collect();
    schools.sort_unstable();
    schools.dedup();
    let mut values: Vec<Value> = vec![
        crate::today().into(),
        format!("%{CHECKIN_RECORDED}%").into(),
    ];
    let list = in_list(&schools, &mut values);
    let subs = Subscriber::find_by_statement(stmt(
        &db.conn,
        format!(
            "SELECT w.id AS webhook_id, cl.descendant_id AS school_id FROM webhook w \
             JOIN org_closure cl ON cl.ancestor_id = w.unit_id \
             WHERE cl.valid_from <= $1 AND cl.valid_to > $1 AND w.events LIKE $2 \
               AND cl.descendant_id IN ({list})"
        ),
        values,
    ))
    .all(&db.conn)
    .await?;
    let now = Utc::now();
    let mut inserts: Vec<(i64, String)> = Vec::new();
    for r in &rows {
        for s in subs.iter().filter(|s| s.school_id == r.school_id) {
            let payload = serde_json::json!({
                "checkin_id": r.id,
                "session_id": r.session_id,
                "session_title": r.session_title,
                "school_id": r.school_id,
                "guardian_id": r.guardian_id,
                "guardian_name": r.guardian_name,
                "status": r.status,
                "method": r.method,
                "checked_at": r.checked_at.to_rfc3339(),
            });
            inserts.push((s.webhook_id, payload.to_string()));
        }
    }
    let txn = db.begin().await?;
    let moved = txn
        .execute_raw(stmt(
            &txn,
            "UPDATE webhook_cursor SET last_id = $1 WHERE name = $2 AND last_id = $3".into(),
            vec![newest.into(), CURSOR.into(), last.into()],
        ))
        .await?
        .rows_affected();
    if moved != 1 {
        // Another process pumped these first.
        txn.rollback().await?;
        return Ok(0);
    }
    for chunk in inserts.chunks(200) {
        let mut values: Vec<Value> = vec![CHECKIN_RECORDED.into(), now.into()];
        let rows: Vec<String> = chunk
            .iter()
            .map(|(w, p)| {
                values.push((*w).into());
                values.push(p.clone().into());
                let n = values.len();
                format!("(${}, $1, ${n}, 'pending', 0, $2, $2)", n - 1)
            })
            .collect();
        txn.execute_raw(stmt(
            &txn,
            format!(
                "INSERT INTO webhook_delivery (webhook_id, event, payload, status, attempts, next_attempt_at, created_at) VALUES {}",
                rows.join(", ")
            ),
            values,
        ))
        .await?;
    }
    txn.commit().await?;
    Ok(rows.len())
}

/// Claims up to `limit` deliveries that are due, leasing them for `lease` (a process that
/// dies while sending leaves them to be claimed again after it), oldest first.
pub async fn claim_due(db: &Db, limit: u64, lease: Duration) -> StoreResult<Vec<Due>> {
    let now = Utc::now();
    let until = now + lease;
    let ids: Vec<i64> = crate::db::ids(
        &db.conn,
        "SELECT id FROM webhook_delivery WHERE status = 'pending' AND next_attempt_at <= $1 \
         ORDER BY id LIMIT $2",
        vec![now.into(), (limit.clamp(1, 1_000) as i64).into()],
    )
    .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut values: Vec<Value> = vec![until.into(), now.into()];
    let list = in_list(&ids, &mut values);
    // The due-time condition again: of two processes claiming the same rows, the second
    // finds them leased and takes none of them.
    let claimed = crate::db::ids(
        &db.conn,
        &format!(
            "UPDATE webhook_delivery SET next_attempt_at = $1, attempts = attempts + 1 \
             WHERE status = 'pending' AND next_attempt_at <= $2 AND id IN ({list}) RETURNING id"
        ),
        values,
    )
    .await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let mut values: Vec<Value> = Vec::new();
    let list = in_list(&claimed, &mut values);
    Ok(Due::find_by_statement(stmt(
        &db.conn,
        format!(
            "SELECT d.id, w.url, w.secret, d.event, d.payload, d.attempts FROM webhook_delivery d \
             JOIN webhook w ON w.id = d.webhook_id WHERE d.id IN ({list}) ORDER BY d.id"
        ),
        values,
    ))
    .all(&db.conn)
    .await?)
}

/// Records how sends ended, in one transaction: delivered, or tried again after the
/// backoff, or given up after `MAX_ATTEMPTS`.
pub async fn finish(db: &Db, results: &[(Due, Outcome)]) -> StoreResult<()> {
    let now = Utc::now();
    let txn = db.begin().await?;
    for (due, outcome) in results {
        let (sql, values): (&str, Vec<Value>) = match outcome {
            Outcome::Delivered { status } => (
                "UPDATE webhook_delivery SET status = 'delivered', response_status = $1, error = NULL, \
                 delivered_at = $2 WHERE id = $3",
                vec![(*status).into(), now.into(), due.id.into()],
            ),
            Outcome::Failed { status, error } => {
                let given_up = due.attempts >= MAX_ATTEMPTS;
                let next = now
                    + Duration::from_std(rules::backoff(due.attempts))
                        .unwrap_or(Duration::hours(1));
                let error: String = error.chars().take(500).collect();
                (
                    "UPDATE webhook_delivery SET status = $1, response_status = $2, error = $3, \
                     next_attempt_at = $4 WHERE id = $5",
                    vec![
                        if given_up { "failed" } else { "pending" }.into(),
                        (*status).into(),
                        error.into(),
                        next.into(),
                        due.id.into(),
                    ],
                )
            }
        };
        txn.execute_raw(stmt(&txn, sql.into(), values)).await?;
    }
    txn.commit().await?;
    Ok(())
}
