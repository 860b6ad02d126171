//! Writing the organisation and people over the API (issue 14): a node added under
//! another, renamed or moved from a date; a staff member added; invitation codes issued.
//! Each through the store function the tree and people pages use.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use jiaxiao_store::{accounts, org, people};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::conventions::idempotent;
use super::{ErrorBody, Staff, Unit};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::AppError;

#[derive(Deserialize, ToSchema)]
pub struct NewChildBody {
    /// The name of a city, county or school (a grade or class is named by its number).
    #[serde(default)]
    #[schema(max_length = 100)]
    name: String,
    /// A grade's level (1–12) or a class's number (1–99).
    number: Option<i32>,
    /// For a school: primary, junior_high, senior_high, nine_year, complete, vocational,
    /// kindergarten or special.
    #[serde(default)]
    school_type: String,
    /// An official code (a school's 学校标识码), optional.
    #[serde(default)]
    #[schema(max_length = 40)]
    code: String,
}

/// Adds a node under unit `id` (which the caller manages); its kind is the one below
/// the parent's.
#[utoipa::path(post, path = "/api/v1/units/{id}/children", request_body = NewChildBody, tag = "organisation",
    params(("Idempotency-Key" = Option<String>, Header, description = "1–64 of [A-Za-z0-9-_.:], new per create")),
    responses((status = 201, body = Unit), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_child(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Result<Response, AppError> {
    u.check_write(&headers)?;
    let b: NewChildBody = super::from_json(&body)?;
    idempotent(&state, &u, &method, &uri, &headers, &body, async {
        let child = org::add_child(
            &state.db,
            &u.scope,
            id,
            org::ChildInput {
                name: b.name,
                code: b.code,
                school_type: b.school_type,
                number: b.number,
            },
        )
        .await?;
        let unit = Unit::from(org::get_unit(&state.db, &u.scope, child).await?);
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(unit).unwrap_or_default(),
        ))
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct RenameBody {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
}

/// Renames a province, city, county or school the caller manages.
#[utoipa::path(patch, path = "/api/v1/units/{id}", request_body = RenameBody, tag = "organisation",
    responses((status = 200, body = Unit), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn rename(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(b): Json<RenameBody>,
) -> Result<Json<Unit>, AppError> {
    u.check_write(&headers)?;
    org::rename_unit(&state.db, &u.scope, id, &b.name).await?;
    Ok(Json(Unit::from(
        org::get_unit(&state.db, &u.scope, id).await?,
    )))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct MoveBody {
    /// The new parent, which the caller also manages.
    parent_id: i64,
    /// The day the move takes effect, `YYYY-MM-DD`; reads before it see the old parent.
    #[schema(example = "2027-09-01")]
    effective: String,
}

/// Moves unit `id` and its subtree under another parent from a date on (effective-dated:
/// roll-ups of earlier days count it under its old parent).
#[utoipa::path(post, path = "/api/v1/units/{id}/moves", request_body = MoveBody, tag = "organisation",
    params(("Idempotency-Key" = Option<String>, Header, description = "1–64 of [A-Za-z0-9-_.:], new per create")),
    responses((status = 201, body = MoveBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_unit(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Result<Response, AppError> {
    u.check_write(&headers)?;
    let b: MoveBody = super::from_json(&body)?;
    idempotent(&state, &u, &method, &uri, &headers, &body, async {
        org::move_unit(&state.db, &u.scope, id, b.parent_id, b.effective.trim()).await?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(&b).unwrap_or_default(),
        ))
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct NewStaffBody {
    /// The school or office the person works at (managed by the caller).
    unit_id: i64,
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// A mainland mobile number, optional.
    #[serde(default)]
    phone: String,
    /// 职务, e.g. 德育主任, optional.
    #[serde(default)]
    position: String,
}

/// Adds a staff member to a unit the caller manages.
#[utoipa::path(post, path = "/api/v1/staff", request_body = NewStaffBody, tag = "organisation",
    params(("Idempotency-Key" = Option<String>, Header, description = "1–64 of [A-Za-z0-9-_.:], new per create")),
    responses((status = 201, body = Staff), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_staff(
    State(state): State<AppState>,
    u: ApiUser,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Result<Response, AppError> {
    u.check_write(&headers)?;
    let b: NewStaffBody = super::from_json(&body)?;
    idempotent(&state, &u, &method, &uri, &headers, &body, async {
        let unit_id = b.unit_id;
        let id = people::add_staff(
            &state.db,
            &u.scope,
            people::StaffInput {
                unit_id,
                name: b.name,
                phone: b.phone,
                position: b.position,
            },
        )
        .await?;
        // Read back through the list the API serves, so the answer is what a later
        // GET /staff shows (phones as the caller may see them).
        let row = people::list_staff(
            &state.db,
            &u.scope,
            &people::Query {
                under: Some(unit_id),
                after_id: Some(id - 1),
                limit: 1,
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(AppError::NotFound)?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(Staff::from(row)).unwrap_or_default(),
        ))
    })
    .await
}

/// The most parents one call issues codes for.
const MAX_INVITATIONS: usize = 500;

#[derive(Deserialize, ToSchema)]
pub struct InvitationsBody {
    /// A school, grade or class the caller manages: codes for its parents who have no
    /// password yet.
    under: i64,
}

/// A one-time code a parent uses once to set their password.
#[derive(Serialize, ToSchema)]
pub struct Invitation {
    guardian_id: i64,
    name: String,
    phone: String,
    /// Shown only in this answer: the database keeps its hash.
    code: String,
}

/// Issues fresh invitation codes for the parents under a unit who have no password yet
/// (earlier codes of theirs stop working). The codes exist only in this answer. At most
/// 500 parents a call: a larger unit answers 422 `invitations_too_many`.
#[utoipa::path(post, path = "/api/v1/invitations", request_body = InvitationsBody, tag = "organisation",
    responses((status = 201, body = [Invitation]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn issue_invitations(
    State(state): State<AppState>,
    u: ApiUser,
    headers: HeaderMap,
    Json(b): Json<InvitationsBody>,
) -> Result<(StatusCode, Json<Vec<Invitation>>), AppError> {
    u.check_write(&headers)?;
    let ids = accounts::guardians_without_account(&state.db, &u.scope, b.under).await?;
    // One answer stays one request's work: a county's parents are issued class by class
    // or grade by grade (a county of the demo data took longer than a client waits).
    if ids.len() > MAX_INVITATIONS {
        return Err(AppError::Invalid("invitations_too_many".into()));
    }
    let issued = accounts::issue_invitations(&state.db, &u.scope, &ids).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            issued
                .into_iter()
                .map(|(guardian_id, name, phone, code)| Invitation {
                    guardian_id,
                    name,
                    phone,
                    code,
                })
                .collect(),
        ),
    ))
}
