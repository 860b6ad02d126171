//! Check-in over the API (签到): a parent's phone or app posts the code it read, staff
//! screens fetch the current code. The rules and the write are the store's
//! (`jiaxiao_store::checkin`); this module only turns them into HTTP: 201 for a new
//! check-in, 200 for one that already existed, 422 with the refusal's reason code, 404
//! for a session outside the caller's reach.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, FixedOffset, Utc};
use jiaxiao_domain::checkin_code::{CodeGen, STEP};
use jiaxiao_domain::parent_school::Method;
use jiaxiao_store::checkin::{self as store, Attempt, Outcome};
use jiaxiao_store::parent_school::sessions;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ErrorBody;
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::AppError;

#[derive(Deserialize, ToSchema)]
pub struct CheckinBody {
    /// The six digits on the projector (also inside its QR code).
    #[schema(pattern = "^[0-9]{6}$")]
    code: String,
    /// Chosen by the client for this attempt, 16–64 characters of `[A-Za-z0-9_-]` (a
    /// UUID will do). Resending the same request after a lost answer is safe.
    #[schema(min_length = 16, max_length = 64, pattern = "^[A-Za-z0-9_-]{16,64}$")]
    nonce: String,
    /// A stable id of the device (an app's install id). Only a short hash of it and the
    /// user agent is kept, to notice one phone checking in several households.
    #[schema(max_length = 200)]
    device: Option<String>,
    /// `qr` (default) when the code came from scanning, `code` when it was typed.
    method: Option<CheckinMethod>,
}

/// How the parent got the code.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum CheckinMethod {
    Qr,
    Code,
}

/// A parent's check-in.
#[derive(Serialize, ToSchema)]
pub struct Checkin {
    session_id: i64,
    guardian_id: i64,
    /// present or late (staff may also record excused or absent)
    status: String,
    /// qr, code, staff, paper or offline
    method: String,
    /// When the parent was checked in, in China time (RFC 3339, `+08:00`).
    checked_at: String,
}

impl From<&store::CheckinRow> for Checkin {
    fn from(r: &store::CheckinRow) -> Self {
        Checkin {
            session_id: r.session_id,
            guardian_id: r.guardian_id,
            status: r.status.clone(),
            method: r.method.clone(),
            checked_at: china_time(r.checked_at),
        }
    }
}

/// The schools' clock: China has one time zone and no daylight saving.
pub fn china_time(t: DateTime<Utc>) -> String {
    let tz = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    t.with_timezone(&tz).to_rfc3339()
}

fn nonce_ok(n: &str) -> bool {
    (16..=64).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks the calling parent in. Answers 201 with the new check-in, or 200 with the one
/// that already existed (an earlier scan, a retry, or staff's mark), with its original
/// time. Refusals are 422 with a reason: `expired_code`, `wrong_code`, `not_invited`,
/// `too_early`, `closed`, `cancelled`, `not_a_parent`, `bad_nonce`. A session of a school
/// where the parent has no child is 404 like one that does not exist.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/checkins", params(("id" = i64, Path)), request_body = CheckinBody,
    responses((status = 201, body = Checkin), (status = 200, body = Checkin), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create_checkin(
    State(state): State<AppState>,
    u: ApiUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(b): Json<CheckinBody>,
) -> Result<(StatusCode, Json<Checkin>), AppError> {
    u.check_write(&headers)?;
    if !state.checkin_allowed(u.principal.user_id) {
        return Err(AppError::TooMany);
    }
    if !nonce_ok(&b.nonce) {
        return Err(AppError::Invalid("bad_nonce".into()));
    }
    let method = match b.method {
        None | Some(CheckinMethod::Qr) => Method::Qr,
        Some(CheckinMethod::Code) => Method::Code,
    };
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let attempt = Attempt {
        session_id: id,
        code: b.code,
        nonce: Some(b.nonce),
        method,
        device_hash: b
            .device
            .filter(|d| !d.trim().is_empty())
            .map(|d| store::device_hash(d.trim(), ua)),
    };
    let outcome = state
        .checkins
        .check_in(&u.scope, attempt, Utc::now())
        .await?;
    let status = match outcome {
        Outcome::New(_) => StatusCode::CREATED,
        Outcome::Already(_) => StatusCode::OK,
    };
    metrics::counter!("checkins_total", "result" => if status == StatusCode::CREATED { "new" } else { "already" })
        .increment(1);
    Ok((status, Json(Checkin::from(outcome.row()))))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CodeQuery {
    /// Also return the QR code as an SVG image (for a projector screen).
    #[serde(default)]
    svg: bool,
}

/// The code to show now.
#[derive(Serialize, ToSchema)]
pub struct CheckinCode {
    /// Six digits, for parents who type instead of scanning.
    code: String,
    /// What the QR code holds: the parent's check-in page with the code.
    qr_url: String,
    /// Seconds until the code changes (the previous code is still accepted for one
    /// more step).
    expires_in: u64,
    /// Seconds per code (30).
    step: u64,
    /// The QR code as SVG, when asked for with `svg=true`.
    qr_svg: Option<String>,
    /// Parents checked in (present or late) so far.
    checked_in: i64,
    /// Parents invited.
    invited: i64,
}

/// The current check-in code of a session, for staff who may record its attendance (404
/// for anyone else).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/checkin-code", params(("id" = i64, Path), CodeQuery),
    responses((status = 200, body = CheckinCode), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn checkin_code(
    State(state): State<AppState>,
    u: ApiUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<CodeQuery>,
) -> Result<Json<CheckinCode>, AppError> {
    let (s, secret) = sessions::session_secret(&state.db, &u.scope, id).await?;
    let codes = CodeGen::from_hex(&secret)
        .ok_or_else(|| AppError::Internal(format!("session {id}: unusable secret")))?;
    let now = Utc::now().timestamp().max(0) as u64;
    let code = codes.code_at(now);
    let qr_url = crate::pages::checkin::checkin_url(&state, &headers, s.id, &code);
    let qr_svg = if q.svg {
        Some(crate::pages::checkin::qr_svg(&qr_url)?)
    } else {
        None
    };
    let checked_in = store::attended_count(&state.db, &u.scope, s.id).await?;
    let invited = state.checkins.invited_count(s.id).await? as i64;
    Ok(Json(CheckinCode {
        code,
        qr_url,
        expires_in: CodeGen::expires_in(now),
        step: STEP,
        qr_svg,
        checked_in,
        invited,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_checked_and_times_are_china_time() {
        assert!(nonce_ok("5b0c1e2d-aaaa-4bbb-8ccc-123456789abc"));
        assert!(!nonce_ok("short"));
        assert!(!nonce_ok("has spaces in it, not ok!"));
        let t = DateTime::parse_from_rfc3339("2026-12-01T11:02:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(china_time(t), "2026-12-01T19:02:00+08:00");
    }
}
