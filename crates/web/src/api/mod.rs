//! JSON API v1: the same resources as the pages, for programs. The DTOs here are the
//! API's contract (store rows can change without breaking it); the OpenAPI document at
//! `/api/openapi.json` is generated from these types and handlers by utoipa. Errors are
//! `{"error": code, "request_id": id}`.

pub mod checkin;
pub mod conventions;
pub mod org;
pub mod sessions;
pub mod tokens;
pub mod webhooks;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use jiaxiao_domain::PhoneNumber;
use jiaxiao_store::accounts::{self, Login};
use jiaxiao_store::org as org_store;
use jiaxiao_store::people;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::AppError;

/// The parents' check-in: served beside the other routes on a lighter layer stack (see
/// `app::router`).
pub fn hot_routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/sessions/{id}/checkins",
        post(checkin::create_checkin),
    )
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/token", delete(revoke_token))
        .route("/api/v1/me", get(me))
        .route("/api/v1/units/{id}", get(unit).patch(org::rename))
        .route(
            "/api/v1/units/{id}/children",
            get(children).post(org::add_child),
        )
        .route("/api/v1/units/{id}/descendants", get(descendants))
        .route("/api/v1/pupils", get(pupils))
        .route("/api/v1/pupils/{id}", get(pupil))
        .route("/api/v1/guardians", get(guardians))
        .route("/api/v1/staff", get(staff).post(org::add_staff))
        .route(
            "/api/v1/sessions/{id}/checkin-code",
            get(checkin::checkin_code),
        )
        .route(
            "/api/v1/sessions",
            get(sessions::list).post(sessions::create),
        )
        .route(
            "/api/v1/sessions/{id}",
            get(sessions::get).put(sessions::update),
        )
        .route("/api/v1/sessions/{id}/status", post(sessions::set_status))
        .route("/api/v1/sessions/{id}/window", put(sessions::set_window))
        .route(
            "/api/v1/sessions/{id}/lesson-plan",
            put(sessions::lesson_plan),
        )
        .route("/api/v1/sessions/{id}/summary", put(sessions::summary))
        .route("/api/v1/sessions/{id}/roster", get(sessions::roster))
        .route("/api/v1/sessions/{id}/marks", post(sessions::marks))
        .route("/api/v1/units/{id}/moves", post(org::move_unit))
        .route("/api/v1/invitations", post(org::issue_invitations))
        .route("/api/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/api/v1/tokens/{id}", delete(tokens::revoke))
        .route(
            "/api/v1/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/api/v1/webhooks/{id}", delete(webhooks::delete))
        .route(
            "/api/v1/webhooks/{id}/deliveries",
            get(webhooks::deliveries),
        )
}

/// A JSON body already parsed by axum (so malformed JSON and a wrong content type get
/// axum's 400 and 415), read into the operation's type: a wrong shape is 422 `invalid`,
/// as axum's own `Json` would answer.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    v: &serde_json::Value,
) -> Result<T, AppError> {
    T::deserialize(v).map_err(|_| AppError::Invalid("invalid".into()))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "jiaxiao API", version = "1", description = "家校 jiaxiao: organisation tree and people, parent-school check-in, scoped to the caller's roles."),
    paths(login, revoke_token, me, unit, children, descendants, pupils, pupil, guardians, staff,
        checkin::create_checkin, checkin::checkin_code,
        sessions::list, sessions::get, sessions::create, sessions::update, sessions::set_status,
        sessions::set_window, sessions::lesson_plan, sessions::summary, sessions::roster, sessions::marks,
        org::add_child, org::rename, org::move_unit, org::add_staff, org::issue_invitations,
        tokens::list, tokens::create, tokens::revoke,
        webhooks::list, webhooks::create, webhooks::delete, webhooks::deliveries),
    components(schemas(ErrorBody, LoginBody, TokenBody, Me, RoleAt, Unit, UnitChild, Pupil, PupilDetail, GuardianOfPupil, Guardian, Staff,
        checkin::CheckinBody, checkin::CheckinMethod, checkin::Checkin, checkin::CheckinCode,
        sessions::Session, sessions::CheckinWindow, sessions::SessionBody, sessions::StatusBody,
        sessions::TextBody, sessions::RosterEntry, sessions::MarksBody, sessions::MarkItem, sessions::MarksDone,
        org::NewChildBody, org::RenameBody, org::MoveBody, org::NewStaffBody, org::InvitationsBody, org::Invitation, tokens::Token, tokens::NewTokenBody, tokens::CreatedToken,
        webhooks::Webhook, webhooks::NewWebhookBody, webhooks::CreatedWebhook, webhooks::Delivery)),
    modifiers(&BearerAuth, &CommonErrors),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The answers every operation can give besides its own, added to each operation in one
/// place so the document says what the server really does (schemathesis checks it in
/// CI): 400 for a malformed path, query or JSON body, 401 without a valid token, 404 for
/// anything outside the caller's reach, 429 when throttled; 422 for a query parameter or
/// body field with a value it may not take; and for operations with a body, 413 past the
/// size limit and 415 without a JSON content type. The server's own failures (500, 503) are left out: they are not part
/// of the contract.
struct CommonErrors;

impl utoipa::Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, ResponseBuilder, content::ContentBuilder};
        let answer = |what: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(what)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let mut common = vec![
                    ("400", "malformed request (path, query or body)"),
                    ("401", "no valid token or session"),
                    (
                        "403",
                        "the token lacks the scope this operation needs (insufficient_scope), or a cookie write without X-CSRF-Token",
                    ),
                    ("404", "not found, or outside the caller's reach"),
                    ("429", "too many requests"),
                ];
                let has_query =
                    op.parameters.iter().flatten().any(|p| {
                        matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query)
                    });
                if has_query || op.request_body.is_some() {
                    common.push(("422", "a parameter or field has a value it may not take"));
                }
                if op.request_body.is_some() {
                    common.extend([
                        ("413", "body too large"),
                        ("415", "the body is not JSON (Content-Type)"),
                    ]);
                }
                for (code, what) in common {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| answer(what));
                }
            }
        }
    }
}

/// Every error: a stable code and the request id to quote to an administrator.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    error: String,
    request_id: String,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    /// Staff log in with a username…
    username: Option<String>,
    /// …parents with their mobile number.
    phone: Option<String>,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenBody {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
}

/// Exchanges a password for a bearer token. Same rate limit and the same answer for
/// every failure as the login page.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginBody, security(()),
    responses((status = 200, body = TokenBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    crate::throttle::ClientAddr(addr): crate::throttle::ClientAddr,
    Json(b): Json<LoginBody>,
) -> Result<Json<TokenBody>, AppError> {
    let login = match (&b.phone, &b.username) {
        (Some(p), _) if PhoneNumber::parse(p).is_ok() => Login::Parent { phone: p },
        (_, Some(u)) => Login::Staff { username: u },
        _ => return Err(AppError::Unauthorised),
    };
    // Throttled on the credential actually used, whatever else the body carries, and
    // on the client's address (decision 0010).
    let attempt = state.begin_login(addr, &login).ok_or(AppError::TooMany)?;
    if !attempt.delay.is_zero() {
        tokio::time::sleep(attempt.delay).await;
    }
    let verified = accounts::verify_login(&state.db, login, &b.password).await?;
    attempt.finish(verified.is_some(), std::time::Instant::now());
    let Some(uid) = verified else {
        metrics::counter!("logins_total", "result" => "failed", "via" => "api").increment(1);
        return Err(AppError::Unauthorised);
    };
    metrics::counter!("logins_total", "result" => "ok", "via" => "api").increment(1);
    let lifetime = chrono::Duration::days(state.settings.api_token_days);
    let token = accounts::create_api_token(&state.db, uid, "api login", lifetime).await?;
    Ok(Json(TokenBody { token }))
}

/// Revokes the bearer token of this request (log out a program).
#[utoipa::path(delete, path = "/api/v1/auth/token", responses((status = 204), (status = 401, body = ErrorBody)))]
async fn revoke_token(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<StatusCode, AppError> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(AppError::Unauthorised)?;
    let revoked = accounts::revoke_api_token(&state.db, token.trim()).await?;
    state.tokens.forget(token.trim());
    if revoked {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::Unauthorised)
    }
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    user_id: i64,
    display_name: String,
    /// Set for parents: the guardian record the account belongs to.
    guardian_id: Option<i64>,
    roles: Vec<RoleAt>,
}

#[derive(Serialize, ToSchema)]
pub struct RoleAt {
    /// province_admin, city_admin, county_admin, inspector, school_admin, head_teacher, teacher
    role: String,
    /// The unit where the role holds, for its whole subtree.
    unit_id: i64,
}

/// The caller and their roles.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(u: ApiUser) -> Json<Me> {
    Json(Me {
        user_id: u.principal.user_id,
        display_name: u.principal.display_name,
        guardian_id: u.principal.guardian_id,
        roles: u
            .scope
            .grants()
            .iter()
            .map(|g| RoleAt {
                role: g.role.code().into(),
                unit_id: g.unit_id,
            })
            .collect(),
    })
}

#[derive(Serialize, ToSchema)]
pub struct Unit {
    id: i64,
    parent_id: Option<i64>,
    /// province, city, county, school, grade, class
    kind: String,
    name: String,
    code: Option<String>,
    /// For schools: kindergarten, primary, junior, nine_year, senior_high, vocational, special, complete_secondary, twelve_year
    school_type: Option<String>,
    grade_level: Option<i32>,
    class_number: Option<i32>,
}

impl From<org_store::UnitRow> for Unit {
    fn from(u: org_store::UnitRow) -> Self {
        Unit {
            id: u.id,
            parent_id: u.parent_id,
            kind: u.kind,
            name: u.name,
            code: u.code,
            school_type: u.school_type,
            grade_level: u.grade_level,
            class_number: u.class_number,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UnitChild {
    id: i64,
    kind: String,
    name: String,
    school_type: Option<String>,
    /// How many units are directly below this one.
    children: i64,
}

/// One unit of the organisation tree (404 outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/units/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = Unit), (status = 404, body = ErrorBody)))]
async fn unit(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Unit>, AppError> {
    Ok(Json(
        org_store::get_unit(&state.db, &u.scope, id).await?.into(),
    ))
}

/// The units directly below a unit.
#[utoipa::path(get, path = "/api/v1/units/{id}/children", params(("id" = i64, Path)),
    responses((status = 200, body = [UnitChild]), (status = 404, body = ErrorBody)))]
async fn children(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<UnitChild>>, AppError> {
    let rows = org_store::children(&state.db, &u.scope, id, org_store::today_naive()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|c| UnitChild {
                id: c.id,
                kind: c.kind,
                name: c.name,
                school_type: c.school_type,
                children: c.children,
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DescendantsQuery {
    /// province, city, county, school, grade or class
    #[param(inline)]
    kind: KindParam,
    /// The tree as it stood on this date (YYYY-MM-DD); today when absent. Moves are
    /// effective-dated, so a past year's roll-up uses the tree of that year.
    #[param(value_type = Option<String>, format = Date)]
    as_of: Option<chrono::NaiveDate>,
}

/// A kind of unit in the tree, as the API names it.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum KindParam {
    Province,
    City,
    County,
    School,
    Grade,
    Class,
}

impl From<KindParam> for jiaxiao_domain::UnitKind {
    fn from(k: KindParam) -> Self {
        use jiaxiao_domain::UnitKind as K;
        match k {
            KindParam::Province => K::Province,
            KindParam::City => K::City,
            KindParam::County => K::County,
            KindParam::School => K::School,
            KindParam::Grade => K::Grade,
            KindParam::Class => K::Class,
        }
    }
}

/// Units of one kind anywhere below a unit, as the tree stood on a date.
#[utoipa::path(get, path = "/api/v1/units/{id}/descendants", params(("id" = i64, Path), DescendantsQuery),
    responses((status = 200, body = [Unit]), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn descendants(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    Query(q): Query<DescendantsQuery>,
) -> Result<Json<Vec<Unit>>, AppError> {
    let kind = q.kind.into();
    let as_of = match q.as_of {
        Some(d) => d.format("%Y-%m-%d").to_string(),
        None => jiaxiao_store::today(),
    };
    let rows = org_store::units_under(&state.db, &u.scope, id, kind, &as_of).await?;
    Ok(Json(rows.into_iter().map(Unit::from).collect()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Name, full pinyin, initials, phone or pupil number.
    q: Option<String>,
    /// Only people under this unit.
    under: Option<i64>,
    /// Keyset cursor: the last id of the previous page.
    after: Option<i64>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

impl ListQuery {
    /// A page size outside 1–500 is refused rather than quietly clamped, so a caller
    /// learns that its request was not what it got.
    fn to_query(&self) -> Result<people::Query, AppError> {
        let limit = conventions::limit(self.limit)?;
        Ok(people::Query {
            q: self.q.clone(),
            under: self.under,
            after_id: self.after,
            limit,
            ..Default::default()
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct Pupil {
    id: i64,
    student_no: String,
    name: String,
    /// m or f
    gender: Option<String>,
    school_id: i64,
    school_name: String,
    /// The class in the current school year.
    class_id: Option<i64>,
    class_name: Option<String>,
    grade_name: Option<String>,
}

impl From<people::PupilRow> for Pupil {
    fn from(p: people::PupilRow) -> Self {
        Pupil {
            id: p.id,
            student_no: p.student_no,
            name: p.name,
            gender: p.gender,
            school_id: p.school_id,
            school_name: p.school_name,
            class_id: p.class_id,
            class_name: p.class_name,
            grade_name: p.grade_name,
        }
    }
}

/// Pupils in the caller's scope, by pupil id.
#[utoipa::path(get, path = "/api/v1/pupils", params(ListQuery),
    responses((status = 200, body = [Pupil], headers(("Link" = String, description = "the next page, when this one is full"))), (status = 401, body = ErrorBody)))]
async fn pupils(
    State(state): State<AppState>,
    u: ApiUser,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let query = q.to_query()?;
    let rows = people::list_pupils(&state.db, &u.scope, &query).await?;
    let next = rows.last().map(|r| r.id.to_string());
    let rows: Vec<Pupil> = rows.into_iter().map(Pupil::from).collect();
    Ok(conventions::page(&uri, rows, query.limit, next, None))
}

#[derive(Serialize, ToSchema)]
pub struct GuardianOfPupil {
    guardian_id: i64,
    name: String,
    phone: Option<String>,
    /// father, mother, grandfather, grandmother, maternal_grandfather, maternal_grandmother, other
    relation: String,
}

#[derive(Serialize, ToSchema)]
pub struct PupilDetail {
    #[serde(flatten)]
    pupil: Pupil,
    guardians: Vec<GuardianOfPupil>,
}

/// One pupil with their parents and guardians.
#[utoipa::path(get, path = "/api/v1/pupils/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = PupilDetail), (status = 404, body = ErrorBody)))]
async fn pupil(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<PupilDetail>, AppError> {
    let (p, gs) = people::get_pupil(&state.db, &u.scope, id).await?;
    Ok(Json(PupilDetail {
        pupil: p.into(),
        guardians: gs
            .into_iter()
            .map(|g| GuardianOfPupil {
                guardian_id: g.guardian_id,
                name: g.name,
                phone: g.phone,
                relation: g.relation,
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Guardian {
    id: i64,
    name: String,
    phone: Option<String>,
    /// How many children this parent has (in any school).
    children: i64,
    /// Whether the parent has set a password.
    has_account: bool,
}

/// Parents and guardians of pupils in the caller's scope.
#[utoipa::path(get, path = "/api/v1/guardians", params(ListQuery),
    responses((status = 200, body = [Guardian], headers(("Link" = String, description = "the next page, when this one is full"))), (status = 401, body = ErrorBody)))]
async fn guardians(
    State(state): State<AppState>,
    u: ApiUser,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let query = q.to_query()?;
    let rows = people::list_guardians(&state.db, &u.scope, &query).await?;
    let next = rows.last().map(|r| r.id.to_string());
    Ok(conventions::page(
        &uri,
        rows.into_iter()
            .map(|g| Guardian {
                id: g.id,
                name: g.name,
                phone: g.phone,
                children: g.children,
                has_account: g.has_account,
            })
            .collect::<Vec<Guardian>>(),
        query.limit,
        next,
        None,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Staff {
    id: i64,
    unit_id: i64,
    unit_name: String,
    name: String,
    phone: Option<String>,
    position: Option<String>,
}

impl From<people::StaffRow> for Staff {
    fn from(s: people::StaffRow) -> Self {
        Staff {
            id: s.id,
            unit_id: s.unit_id,
            unit_name: s.unit_name,
            name: s.name,
            phone: s.phone,
            position: s.position,
        }
    }
}

/// Staff of the schools and offices in the caller's scope.
#[utoipa::path(get, path = "/api/v1/staff", params(ListQuery),
    responses((status = 200, body = [Staff], headers(("Link" = String, description = "the next page, when this one is full"))), (status = 401, body = ErrorBody)))]
async fn staff(
    State(state): State<AppState>,
    u: ApiUser,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let query = q.to_query()?;
    let rows = people::list_staff(&state.db, &u.scope, &query).await?;
    let next = rows.last().map(|r| r.id.to_string());
    Ok(conventions::page(
        &uri,
        rows.into_iter().map(Staff::from).collect::<Vec<Staff>>(),
        query.limit,
        next,
        None,
    ))
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::ApiDoc;
    use utoipa::OpenApi;

    /// Every route of `routes()` is described, and nothing else is: the two lists are
    /// read from the source so a new route without a description fails here.
    #[test]
    fn openapi_describes_every_route() {
        let src = include_str!("mod.rs");
        let mut routes: Vec<String> = src
            .lines()
            .map(str::trim)
            // `.route("/api/v1/…", …)` on one line, or its path alone on the next line
            // when rustfmt breaks the call.
            .filter_map(|l| {
                l.strip_prefix(".route(\"/api/v1")
                    .or_else(|| l.strip_suffix("\",")?.strip_prefix("\"/api/v1"))
            })
            .map(|r| format!("/api/v1{}", &r[..r.find('"').unwrap_or(r.len())]))
            .collect();
        routes.sort();
        let doc = ApiDoc::openapi();
        let mut described: Vec<String> = doc.paths.paths.keys().cloned().collect();
        described.sort();
        assert_eq!(routes, described);
    }

    /// The error answers the server really gives are in the document for every operation
    /// (schemathesis failed on 30 "undocumented status code"s before).
    #[test]
    fn every_operation_documents_its_error_answers() {
        let doc = ApiDoc::openapi();
        let mut checked = 0;
        for (path, item) in &doc.paths.paths {
            for op in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
                .into_iter()
                .flatten()
            {
                let has = |c: &str| op.responses.responses.contains_key(c);
                for c in ["400", "401", "404", "429"] {
                    assert!(has(c), "{path}: {c} not documented");
                }
                if op.request_body.is_some() {
                    for c in ["413", "415", "422"] {
                        assert!(has(c), "{path}: {c} not documented");
                    }
                }
                checked += 1;
            }
        }
        assert!(checked >= 12, "only {checked} operations");
    }

    /// A generated client names its methods by operation id: each one is there and
    /// unique (utoipa takes the handler's name, and two modules' `list` met once).
    #[test]
    fn operation_ids_are_unique() {
        let doc = ApiDoc::openapi();
        let mut seen = std::collections::HashMap::new();
        for (path, item) in &doc.paths.paths {
            for op in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
                .into_iter()
                .flatten()
            {
                let id = op.operation_id.clone().unwrap_or_default();
                assert!(!id.is_empty(), "{path}: no operation id");
                if let Some(other) = seen.insert(id.clone(), path.clone()) {
                    panic!("operation id {id} on {path} and {other}");
                }
            }
        }
    }
}
