//! Who is calling: the session cookie (pages) or a bearer token (API) turned into the
//! store's `Scope`. Only these extractors produce a scope for handlers.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use jiaxiao_store::Scope;
use jiaxiao_store::accounts::{self, Principal};

use crate::app::AppState;
use crate::error::AppError;
use crate::i18n::Lang;

pub const SESSION_COOKIE: &str = "jx_session";

pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The session cookie's value in a request, if any.
pub fn session_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v)
}

/// Page context: language, and the logged-in user when there is one.
pub struct Ctx {
    pub lang: Lang,
    pub user: Option<LoggedIn>,
}

pub struct LoggedIn {
    pub scope: Scope,
    pub principal: Principal,
    pub csrf: String,
    /// The key of a success message waiting for this page (`pages::form::done`).
    pub flash: Option<String>,
    /// The units of the user's staff roles, for the header's unit switcher.
    pub units: Vec<accounts::GrantedUnit>,
    /// The request's path: the header marks the section it lies in (`pages::Section`).
    pub path: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let lang = Lang::from_cookie(cookie(parts, "lang"));
        let user = match cookie(parts, SESSION_COOKIE) {
            Some(tok) => accounts::session(&state.db, tok).await?.map(|s| LoggedIn {
                scope: s.scope,
                principal: s.principal,
                csrf: s.csrf_token,
                units: s.units,
                path: parts.uri.path().to_owned(),
                flash: cookie(parts, crate::pages::form::FLASH_COOKIE)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned),
            }),
            None => None,
        };
        Ok(Ctx { lang, user })
    }
}

/// A logged-in member of staff (any staff role), for the staff pages.
pub struct Staff {
    pub lang: Lang,
    pub user: LoggedIn,
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        match ctx.user {
            Some(u) if u.scope.is_staff() => Ok(Staff {
                lang: ctx.lang,
                user: u,
            }),
            Some(_) => Err(AppError::NotFound),
            None => Err(AppError::Unauthorised),
        }
    }
}

impl Staff {
    /// Forms carry the session's CSRF token; a mismatch is refused.
    pub fn check_csrf(&self, token: &str) -> Result<(), AppError> {
        if constant_eq(token.as_bytes(), self.user.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(AppError::Csrf)
        }
    }
}

pub fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An API caller: a bearer token, or a session cookie (for pages calling the API).
pub struct ApiUser {
    pub scope: Scope,
    pub principal: Principal,
    /// The session's CSRF token when the caller came with the cookie: writes must then
    /// carry it in `X-CSRF-Token` (see `ApiUser::check_write`).
    pub cookie_csrf: Option<String>,
}

impl ApiUser {
    /// A write through the API: bearer callers pass; cookie callers must send the
    /// session's CSRF token in `X-CSRF-Token`, since a browser attaches the cookie to
    /// requests that other sites make it send.
    pub fn check_write(&self, headers: &axum::http::HeaderMap) -> Result<(), AppError> {
        match &self.cookie_csrf {
            None => Ok(()),
            Some(csrf) => {
                let given = headers
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if constant_eq(given.as_bytes(), csrf.as_bytes()) {
                    Ok(())
                } else {
                    Err(AppError::Csrf)
                }
            }
        }
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = Self::authenticate(parts, state).await?;
        // What the operation needs (`jiaxiao_domain::api::required_scope`, one table for
        // all of them) against what the token may do; a page session may do everything
        // its roles allow.
        if let Some(have) = &user.principal.token_scopes {
            let route = parts
                .extensions
                .get::<axum::extract::MatchedPath>()
                .map(|m| m.as_str())
                .unwrap_or("");
            if let Some(need) = jiaxiao_domain::api::required_scope(parts.method.as_str(), route)
                && !have.contains(&need)
            {
                return Err(AppError::Forbidden("insufficient_scope".into()));
            }
        }
        Ok(user)
    }
}

impl ApiUser {
    async fn authenticate(parts: &Parts, state: &AppState) -> Result<ApiUser, AppError> {
        if let Some(token) = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            return match accounts::token_session_cached(&state.db, &state.tokens, token.trim())
                .await?
            {
                Some((scope, principal)) => Ok(ApiUser {
                    scope,
                    principal,
                    cookie_csrf: None,
                }),
                None => Err(AppError::Unauthorised),
            };
        }
        match cookie(parts, SESSION_COOKIE) {
            Some(tok) => match accounts::session(&state.db, tok).await? {
                Some(s) => Ok(ApiUser {
                    scope: s.scope,
                    principal: s.principal,
                    cookie_csrf: Some(s.csrf_token),
                }),
                None => Err(AppError::Unauthorised),
            },
            None => Err(AppError::Unauthorised),
        }
    }

    /// The scopes this caller may hand on to a token it makes: its own token's, or all
    /// of them for a page session and a whole token.
    pub fn grantable_scopes(&self) -> Option<&[jiaxiao_domain::api::ApiScope]> {
        self.principal.token_scopes.as_deref()
    }
}
