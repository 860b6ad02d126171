//! Webhooks over the API (issue 14): an office or school registers a URL for events in
//! its subtree and reads the delivery log. Needs the `admin` scope. How deliveries are
//! signed and retried: docs/API-DESIGN.md.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use jiaxiao_domain::webhook;
use jiaxiao_store::webhooks::{self as store, DeliveryRow, WebhookRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ErrorBody;
use super::checkin::china_time;
use super::conventions::idempotent;
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::AppError;

/// A registered webhook (never its secret).
#[derive(Serialize, ToSchema)]
pub struct Webhook {
    id: i64,
    /// Events in this unit's subtree are sent.
    unit_id: i64,
    unit_name: String,
    url: String,
    /// checkin.recorded, ping
    events: Vec<String>,
    /// China time, RFC 3339.
    created_at: String,
}

impl From<WebhookRow> for Webhook {
    fn from(w: WebhookRow) -> Self {
        Webhook {
            id: w.id,
            unit_id: w.unit_id,
            unit_name: w.unit_name,
            url: w.url,
            events: w.events.split(',').map(str::to_owned).collect(),
            created_at: china_time(w.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewWebhookBody {
    /// A unit the caller manages: its own events and its subtree's are sent.
    unit_id: i64,
    /// http or https; not a loopback or private address unless the operator allows it.
    #[schema(
        min_length = 1,
        max_length = 2000,
        example = "https://hooks.example.com/jiaxiao"
    )]
    url: String,
    /// At least one of checkin.recorded, ping. A `ping` is sent at once either way.
    #[schema(min_items = 1, example = json!(["checkin.recorded"]))]
    events: Vec<String>,
}

/// A new webhook with its signing secret: shown once.
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// Key of the HMAC-SHA256 in `X-Jiaxiao-Signature`. Not shown again.
    secret: String,
    #[serde(flatten)]
    about: Webhook,
}

/// One delivery of an event to a webhook, and how it went.
#[derive(Serialize, ToSchema)]
pub struct Delivery {
    id: i64,
    event: String,
    /// The event's data, as sent under `data`.
    #[schema(value_type = Object)]
    data: serde_json::Value,
    /// pending, delivered, failed
    status: String,
    attempts: i32,
    /// The receiver's last HTTP status, if it answered.
    response_status: Option<i32>,
    /// Why the last attempt failed: status, timeout, connect, dns, private_address.
    error: Option<String>,
    created_at: String,
    delivered_at: Option<String>,
    /// When it is tried again, while pending.
    next_attempt_at: Option<String>,
}

impl From<DeliveryRow> for Delivery {
    fn from(d: DeliveryRow) -> Self {
        Delivery {
            id: d.id,
            event: d.event,
            data: serde_json::from_str(&d.payload).unwrap_or_default(),
            next_attempt_at: (d.status == "pending").then(|| china_time(d.next_attempt_at)),
            status: d.status,
            attempts: d.attempts,
            response_status: d.response_status,
            error: d.error,
            created_at: china_time(d.created_at),
            delivered_at: d.delivered_at.map(china_time),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// Deliveries older than this one (the `id` of the last one of the previous page).
    before: Option<i64>,
    /// 1–500, default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// The webhooks on units the caller manages, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks", operation_id = "list_webhooks", tag = "webhooks",
    responses((status = 200, body = [Webhook]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    u: ApiUser,
) -> Result<Json<Vec<Webhook>>, AppError> {
    let rows = store::list(&state.db, &u.scope).await?;
    Ok(Json(rows.into_iter().map(Webhook::from).collect()))
}

/// Registers a webhook on a unit the caller manages; a `ping` delivery is queued at once.
#[utoipa::path(post, path = "/api/v1/webhooks", operation_id = "create_webhook", request_body = NewWebhookBody, tag = "webhooks",
    params(("Idempotency-Key" = Option<String>, Header, description = "1–64 of [A-Za-z0-9-_.:], new per create")),
    responses((status = 201, body = CreatedWebhook), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    u: ApiUser,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Result<Response, AppError> {
    u.check_write(&headers)?;
    let b: NewWebhookBody = super::from_json(&body)?;
    idempotent(&state, &u, &method, &uri, &headers, &body, async {
        let url = webhook::check_url(&b.url, state.settings.webhook_private_ok)
            .map_err(|e| AppError::Invalid(e.code().into()))?;
        let mut events: Vec<&str> = b.events.iter().map(String::as_str).collect();
        events.sort_unstable();
        events.dedup();
        let (id, secret) =
            store::create(&state.db, &u.scope, b.unit_id, url.as_str(), &events).await?;
        let about = Webhook::from(store::get(&state.db, &u.scope, id).await?);
        let out = CreatedWebhook { secret, about };
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(out).unwrap_or_default(),
        ))
    })
    .await
}

/// Removes a webhook and its delivery log.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", operation_id = "delete_webhook", tag = "webhooks",
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<StatusCode, AppError> {
    u.check_write(&headers)?;
    store::delete(&state.db, &u.scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook's deliveries, newest first: what was sent, the receiver's answer, retries.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", operation_id = "list_webhook_deliveries", tag = "webhooks",
    params(DeliveriesQuery),
    responses((status = 200, body = [Delivery]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Json<Vec<Delivery>>, AppError> {
    let limit = super::conventions::limit(q.limit)?;
    let rows = store::deliveries(&state.db, &u.scope, id, q.before, limit).await?;
    Ok(Json(rows.into_iter().map(Delivery::from).collect()))
}
