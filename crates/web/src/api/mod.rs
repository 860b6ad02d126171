//! JSON API v1: the same resources as the pages, for programs. Errors are
//! `{"error": code, "request_id": id}`; the description is at `/api/openapi.json`.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiaxiao_domain::PhoneNumber;
use jiaxiao_store::accounts::{self, Login};
use jiaxiao_store::org;
use jiaxiao_store::people;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::AppError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/v1/auth/login", post(login))
        .route("/v1/me", get(me))
        .route("/v1/units/{id}", get(unit))
        .route("/v1/units/{id}/children", get(children))
        .route("/v1/pupils", get(pupils))
        .route("/v1/guardians", get(guardians))
}

#[derive(Deserialize)]
pub struct LoginBody {
    username: Option<String>,
    phone: Option<String>,
    password: String,
}

#[derive(Serialize)]
pub struct TokenBody {
    token: String,
}

/// Exchanges a password for a bearer token. Same rate limit and same answer for every
/// failure as the login page.
async fn login(
    State(state): State<AppState>,
    Json(b): Json<LoginBody>,
) -> Result<Json<TokenBody>, AppError> {
    let who = b
        .phone
        .as_deref()
        .or(b.username.as_deref())
        .unwrap_or("")
        .trim()
        .to_owned();
    if state
        .login_limiter
        .check_key(&accounts::sha256_hex(&who.to_lowercase()))
        .is_err()
    {
        return Err(AppError::TooMany);
    }
    let login = match (&b.phone, &b.username) {
        (Some(p), _) if PhoneNumber::parse(p).is_ok() => Login::Parent { phone: p },
        (_, Some(u)) => Login::Staff { username: u },
        _ => return Err(AppError::Unauthorised),
    };
    let uid = accounts::verify_login(&state.db, login, &b.password)
        .await?
        .ok_or(AppError::Unauthorised)?;
    let token = accounts::create_api_token(&state.db, uid, "api login").await?;
    Ok(Json(TokenBody { token }))
}

#[derive(Serialize)]
struct Me {
    user_id: i64,
    display_name: String,
    guardian_id: Option<i64>,
    roles: Vec<RoleAt>,
}

#[derive(Serialize)]
struct RoleAt {
    role: String,
    unit_id: i64,
}

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

async fn unit(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<org::UnitRow>, AppError> {
    Ok(Json(org::get_unit(&state.db, &u.scope, id).await?))
}

async fn children(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<org::ChildRow>>, AppError> {
    Ok(Json(org::children(&state.db, &u.scope, id).await?))
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    under: Option<i64>,
    after: Option<i64>,
    limit: Option<u64>,
}

impl ListQuery {
    fn to_query(&self) -> people::Query {
        people::Query {
            q: self.q.clone(),
            under: self.under,
            after_id: self.after,
            limit: self.limit.unwrap_or(50),
        }
    }
}

async fn pupils(
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<people::PupilRow>>, AppError> {
    Ok(Json(
        people::list_pupils(&state.db, &u.scope, &q.to_query()).await?,
    ))
}

async fn guardians(
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<people::GuardianRow>>, AppError> {
    Ok(Json(
        people::list_guardians(&state.db, &u.scope, &q.to_query()).await?,
    ))
}

async fn openapi() -> Json<serde_json::Value> {
    let list_params = serde_json::json!([
        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "name, pinyin, initials, phone or pupil number"},
        {"name": "under", "in": "query", "schema": {"type": "integer"}, "description": "only under this unit"},
        {"name": "after", "in": "query", "schema": {"type": "integer"}, "description": "keyset cursor: the last id of the previous page"},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 500}}
    ]);
    let err = serde_json::json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    Json(serde_json::json!({
        "openapi": "3.1.0",
        "info": {"title": "jiaxiao API", "version": "1"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "string"}, "request_id": {"type": "string"}}, "required": ["error", "request_id"]}}
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/auth/login": {"post": {"summary": "Exchange a password for a bearer token", "security": [],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"username": {"type": "string"}, "phone": {"type": "string"}, "password": {"type": "string"}}, "required": ["password"]}}}},
                "responses": {"200": {"description": "token", "content": {"application/json": {"schema": {"type": "object", "properties": {"token": {"type": "string"}}}}}}, "401": err, "429": err}}},
            "/api/v1/me": {"get": {"summary": "The caller and their roles", "responses": {"200": {"description": "me"}, "401": err}}},
            "/api/v1/units/{id}": {"get": {"summary": "One unit of the organisation tree", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}], "responses": {"200": {"description": "unit"}, "404": err}}},
            "/api/v1/units/{id}/children": {"get": {"summary": "Units directly below", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}], "responses": {"200": {"description": "units"}, "404": err}}},
            "/api/v1/pupils": {"get": {"summary": "Pupils in the caller's scope", "parameters": list_params, "responses": {"200": {"description": "pupils"}, "401": err}}},
            "/api/v1/guardians": {"get": {"summary": "Parents of pupils in the caller's scope", "parameters": list_params, "responses": {"200": {"description": "guardians"}, "401": err}}}
        }
    }))
}
