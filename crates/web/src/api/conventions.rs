//! The conventions every API operation follows (docs/API-DESIGN.md, issue 14): cursor
//! pages with a `Link: <…>; rel="next"` header and the total in `X-Total-Count`,
//! versions as `ETag` checked against `If-Match`, and `Idempotency-Key` on creates.
//! Handlers call these; none spells a header itself.

use axum::http::header::{ETAG, IF_MATCH, LINK};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jiaxiao_store::idempotency::{self, Begin};
use serde::Serialize;

use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::AppError;

pub const TOTAL_HEADER: &str = "x-total-count";
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// A page size: 1–500, 50 when absent; outside is refused (`bad_limit`), never clamped.
pub fn limit(asked: Option<i64>) -> Result<u64, AppError> {
    match asked {
        None => Ok(50),
        Some(n @ 1..=500) => Ok(n as u64),
        Some(_) => Err(AppError::Invalid("bad_limit".into())),
    }
}

/// One page of a list: the rows as a JSON array (the body stays a bare array, as v1's
/// lists always were), the next page's link when the page is full, and the total when
/// it was cheap to count.
pub fn page<T: Serialize>(
    uri: &Uri,
    rows: Vec<T>,
    limit: u64,
    next: Option<String>,
    total: Option<i64>,
) -> Response {
    let full = rows.len() as u64 >= limit;
    let mut r = axum::Json(rows).into_response();
    if let (true, Some(cursor)) = (full, next) {
        let link = format!("<{}>; rel=\"next\"", with_after(uri, &cursor));
        if let Ok(v) = HeaderValue::from_str(&link) {
            r.headers_mut().insert(LINK, v);
        }
    }
    if let Some(n) = total {
        r.headers_mut().insert(TOTAL_HEADER, HeaderValue::from(n));
    }
    r
}

/// The request's own path and query with `after` replaced by `cursor`: the next page
/// keeps every filter the caller gave.
fn with_after(uri: &Uri, cursor: &str) -> String {
    let mut pairs: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty() && kv.split('=').next() != Some("after"))
        .collect();
    let after = format!("after={}", urlencoding::encode(cursor));
    pairs.push(&after);
    format!("{}?{}", uri.path(), pairs.join("&"))
}

/// The `ETag` of a versioned object.
pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"v{version}\"")).expect("ascii")
}

/// Adds the `ETag` of `version` to an answer.
pub fn with_etag(mut r: Response, version: i64) -> Response {
    r.headers_mut().insert(ETAG, etag(version));
    r
}

/// The version an update was made against: `If-Match: "v7"` → 7; absent or `*` → none
/// (the update applies to whatever is there). A value that cannot be one of our tags
/// cannot match either: 412, like a stale one.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, AppError> {
    let Some(v) = headers.get(IF_MATCH) else {
        return Ok(None);
    };
    let v = v.to_str().map_err(|_| AppError::Stale)?.trim();
    if v == "*" {
        return Ok(None);
    }
    v.trim_start_matches("W/")
        .trim_matches('"')
        .strip_prefix('v')
        .and_then(|n| n.parse().ok())
        .map(Some)
        .ok_or(AppError::Stale)
}

/// Runs a create once per `Idempotency-Key`: the first request runs `run`, and its
/// answer (success or refusal) is kept and given again to every retry with the same key
/// and the same request; the same key with another request is 422
/// `idempotency_key_reused`, and while the first is still running 409
/// `idempotency_in_progress`. Without the header, `run` simply runs. A failure on our
/// side (5xx) is not kept, so a retry tries again.
pub async fn idempotent<F>(
    state: &AppState,
    user: &ApiUser,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &serde_json::Value,
    run: F,
) -> Result<Response, AppError>
where
    F: std::future::Future<Output = Result<(StatusCode, serde_json::Value), AppError>>,
{
    let Some(key) = headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(answer(run.await?));
    };
    let key = key
        .to_str()
        .ok()
        .filter(|k| {
            (1..=64).contains(&k.len())
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .ok_or_else(|| AppError::Invalid("bad_idempotency_key".into()))?;
    // The parsed body, not its bytes: the same request sent again with other spacing
    // or key order is still the same request.
    let hash = jiaxiao_store::accounts::sha256_hex(&format!("{method} {}\n{body}", uri.path()));
    let uid = user.principal.user_id;
    match idempotency::begin(&state.db, uid, key, &hash).await? {
        Begin::Replay { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut r = (status, body.clone()).into_response();
            r.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if status.as_u16() >= 400 {
                // A kept refusal is rendered like a fresh one, with this request's id.
                let code = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("error")?.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "invalid".into());
                r.extensions_mut().insert(crate::error::ErrorCode(code));
            }
            r.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(r)
        }
        Begin::Running => Err(AppError::Conflict("idempotency_in_progress".into())),
        Begin::Mismatch => Err(AppError::Invalid("idempotency_key_reused".into())),
        Begin::Run => match run.await {
            Ok((status, json)) => {
                idempotency::finish(&state.db, uid, key, status.as_u16(), &json.to_string())
                    .await?;
                Ok(answer((status, json)))
            }
            Err(e) if e.status().is_server_error() => {
                idempotency::release(&state.db, uid, key).await?;
                Err(e)
            }
            Err(e) => {
                // A refusal is an answer too: the same request would be refused again.
                let body = serde_json::json!({ "error": e.code() }).to_string();
                idempotency::finish(&state.db, uid, key, e.status().as_u16(), &body).await?;
                Err(e)
            }
        },
    }
}

fn answer((status, json): (StatusCode, serde_json::Value)) -> Response {
    (status, axum::Json(json)).into_response()
}
