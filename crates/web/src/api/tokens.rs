//! API tokens with scopes (issue 14): a token names what it may do and the unit it is
//! limited to, on top of its user's roles; made, listed and revoked by their owner here
//! and on `/account/tokens`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use jiaxiao_domain::api::ApiScope;
use jiaxiao_store::accounts::{self, NewToken, TokenRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ErrorBody;
use super::checkin::china_time;
use super::conventions::idempotent;
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::AppError;

/// One of the caller's live tokens (never the token itself).
#[derive(Serialize, ToSchema)]
pub struct Token {
    id: i64,
    name: String,
    /// read, checkin, parent_school, people, admin; all of them for a token of the
    /// account's whole reach (`null`).
    scopes: Option<Vec<String>>,
    /// The unit the token is limited to.
    unit_id: Option<i64>,
    unit_name: Option<String>,
    /// China time, RFC 3339.
    created_at: String,
    last_used_at: Option<String>,
    expires_at: String,
}

impl From<TokenRow> for Token {
    fn from(t: TokenRow) -> Self {
        Token {
            id: t.id,
            name: t.name,
            scopes: t
                .scopes
                .map(|v| v.iter().map(|s| s.code().to_owned()).collect()),
            unit_id: t.unit_id,
            unit_name: t.unit_name,
            created_at: china_time(t.created_at),
            last_used_at: t.last_used_at.map(china_time),
            expires_at: china_time(t.expires_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewTokenBody {
    /// What the token is for ("门口签到平板", "county report script").
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// At least one of read, checkin, parent_school, people, admin; no more than the
    /// token of this request may do.
    #[schema(min_items = 1)]
    scopes: Vec<String>,
    /// Limit the token to this unit's subtree (within the caller's reach).
    unit_id: Option<i64>,
    /// Lifetime in days, 1–366 (default 90).
    #[schema(minimum = 1, maximum = 366)]
    days: Option<i64>,
}

/// A new token: shown once.
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    /// Send as `Authorization: Bearer <token>`. Not shown again.
    token: String,
    #[serde(flatten)]
    about: Token,
}

/// The caller's live tokens, newest first.
#[utoipa::path(get, path = "/api/v1/tokens", operation_id = "list_tokens", tag = "tokens",
    responses((status = 200, body = [Token]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, u: ApiUser) -> Result<Json<Vec<Token>>, AppError> {
    let rows = accounts::list_own_tokens(&state.db, &u.scope).await?;
    Ok(Json(rows.into_iter().map(Token::from).collect()))
}

/// Makes a token for the caller's own account with the scopes and unit given.
#[utoipa::path(post, path = "/api/v1/tokens", operation_id = "create_token", request_body = NewTokenBody, tag = "tokens",
    params(("Idempotency-Key" = Option<String>, Header, description = "1–64 of [A-Za-z0-9-_.:], new per create")),
    responses((status = 201, body = CreatedToken), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    u: ApiUser,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Result<Response, AppError> {
    u.check_write(&headers)?;
    let b: NewTokenBody = super::from_json(&body)?;
    idempotent(&state, &u, &method, &uri, &headers, &body, async {
        let mut scopes = Vec::with_capacity(b.scopes.len());
        for s in &b.scopes {
            scopes.push(
                ApiScope::from_code(s).ok_or_else(|| AppError::Invalid("token_scopes".into()))?,
            );
        }
        let lifetime = chrono::Duration::days(b.days.unwrap_or(accounts::API_TOKEN_DAYS));
        let (id, token) = accounts::create_scoped_token(
            &state.db,
            &u.scope,
            u.grantable_scopes(),
            NewToken {
                name: b.name.clone(),
                scopes,
                unit_id: b.unit_id,
                lifetime,
            },
        )
        .await?;
        let about = accounts::list_own_tokens(&state.db, &u.scope)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .map(Token::from)
            .ok_or(AppError::NotFound)?;
        let out = CreatedToken { token, about };
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(out).unwrap_or_default(),
        ))
    })
    .await
}

/// Revokes one of the caller's tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", operation_id = "delete_token", tag = "tokens",
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<StatusCode, AppError> {
    u.check_write(&headers)?;
    accounts::revoke_own_token(&state.db, &u.scope, id).await?;
    // Other processes see it within the cache's 30 s; this one at once.
    state.tokens.forget_user(u.principal.user_id);
    Ok(StatusCode::NO_CONTENT)
}
