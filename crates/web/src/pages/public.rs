//! Public pages: login, logout, first password by invitation, language switch.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiaxiao_domain::PhoneNumber;
use jiaxiao_store::accounts::{self, Login};
use serde::Deserialize;

use super::Chrome;
use crate::app::AppState;
use crate::auth::{Ctx, SESSION_COOKIE, constant_eq};
use crate::error::AppError;
use crate::throttle::ClientAddr;

/// The pre-session cookie of the login form. Its value is also the form's hidden `csrf`
/// field, and a login is accepted only when the two agree: another site cannot read
/// the cookie, so it cannot log a visitor into an account of its choosing (login CSRF).
pub const LOGIN_COOKIE: &str = "jx_login";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/invite", get(invite_form).post(invite))
        .route("/lang/{code}", get(set_lang))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    message: Option<String>,
    /// Where to go after logging in (a path of this site), e.g. back to a check-in link.
    next: String,
    /// The login form's CSRF token (the value of [`LOGIN_COOKIE`]).
    csrf: String,
}

/// The login form's token from its cookie when it looks like one of ours, else a fresh one.
fn login_token(headers: &axum::http::HeaderMap) -> String {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| {
            *k == LOGIN_COOKIE && v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
        })
        .map(|(_, v)| v.to_owned())
        .unwrap_or_else(|| hex::encode(rand::random::<[u8; 32]>()))
}

fn login_cookie(state: &AppState, token: &str, max_age: i64) -> String {
    format!(
        "{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if state.settings.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    )
}

/// The login form with its CSRF cookie (kept for a day: a parent may leave the page
/// open before a meeting).
fn login_page(
    state: &AppState,
    status: axum::http::StatusCode,
    page: LoginPage,
) -> Result<Response, AppError> {
    let cookie = login_cookie(state, &page.csrf, 86400);
    Ok((
        status,
        AppendHeaders([(SET_COOKIE, cookie)]),
        Html(page.render()?),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    c: Chrome,
    message: Option<String>,
}

async fn home(ctx: Ctx) -> Redirect {
    match ctx.user {
        None => Redirect::to("/login"),
        Some(u) if u.scope.is_staff() => Redirect::to("/org"),
        Some(_) => Redirect::to("/p"),
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    /// Set after a parent has set their first password.
    #[serde(default)]
    invited: bool,
    #[serde(default)]
    next: String,
}

/// A place to return to after logging in: a path on this site only, so a crafted link
/// cannot send a parent to another site after they typed their password.
pub fn local_next(next: &str) -> Option<&str> {
    (next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control()))
    .then_some(next)
}

async fn login_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, AppError> {
    let next = local_next(&q.next).unwrap_or("").to_owned();
    if ctx.user.is_some() {
        return Ok(Redirect::to(if next.is_empty() { "/" } else { &next }).into_response());
    }
    login_page(
        &state,
        axum::http::StatusCode::OK,
        LoginPage {
            c: Chrome::new(ctx.lang, None),
            message: q.invited.then(|| ctx.lang.t("login.invite_done")),
            next,
            csrf: login_token(&headers),
        },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    who: String,
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

fn session_cookie(state: &AppState, token: &str, max_age: i64) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if state.settings.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    )
}

/// One login form for everyone: a mobile number logs in a parent, anything else a
/// member of staff. Wrong password and unknown account answer alike. The form's CSRF
/// token must match its cookie; a client address that failed too often is refused
/// (429), and a much-guessed account answers more slowly but still lets its owner in
/// (decision 0010).
async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientAddr(addr): ClientAddr,
    headers: axum::http::HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, AppError> {
    let who = f.who.trim();
    let lang = ctx.lang;
    let next = local_next(&f.next).unwrap_or("").to_owned();
    let csrf = login_token(&headers);
    let page = |message: &str, csrf: String| LoginPage {
        c: Chrome::new(lang, None),
        message: Some(lang.t(message)),
        next: next.clone(),
        csrf,
    };
    if f.csrf.is_empty() || !constant_eq(f.csrf.as_bytes(), csrf.as_bytes()) {
        // A form from before the cookie, or one another site built: show a fresh form.
        let fresh = hex::encode(rand::random::<[u8; 32]>());
        return login_page(
            &state,
            axum::http::StatusCode::FORBIDDEN,
            page("account_security.login_expired", fresh),
        );
    }
    let login = if PhoneNumber::parse(who).is_ok() {
        Login::Parent { phone: who }
    } else {
        Login::Staff { username: who }
    };
    let Some(attempt) = state.begin_login(addr, &login) else {
        return login_page(
            &state,
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            page("login.limited", csrf),
        );
    };
    if !attempt.delay.is_zero() {
        tokio::time::sleep(attempt.delay).await;
    }
    let verified = accounts::verify_login(&state.db, login, &f.password).await?;
    attempt.finish(verified.is_some(), std::time::Instant::now());
    match verified {
        Some(uid) => {
            let token = accounts::create_session(&state.db, uid).await?;
            metrics::counter!("logins_total", "result" => "ok").increment(1);
            let cookie = session_cookie(&state, &token, accounts::SESSION_DAYS * 86400);
            let to = if next.is_empty() { "/" } else { next.as_str() };
            Ok((
                AppendHeaders([
                    (SET_COOKIE, cookie),
                    (SET_COOKIE, login_cookie(&state, "", 0)),
                ]),
                Redirect::to(to),
            )
                .into_response())
        }
        None => {
            metrics::counter!("logins_total", "result" => "failed").increment(1);
            login_page(
                &state,
                axum::http::StatusCode::UNAUTHORIZED,
                page("login.failed", csrf),
            )
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    ctx: Ctx,
    parts: axum::http::HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Result<Response, AppError> {
    if let Some(u) = &ctx.user {
        if !constant_eq(f.csrf.as_bytes(), u.csrf.as_bytes()) {
            return Err(AppError::Csrf);
        }
        let token = parts
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|kv| {
                kv.trim()
                    .strip_prefix(&format!("{SESSION_COOKIE}="))
                    .map(str::to_owned)
            });
        if let Some(t) = token {
            accounts::end_session(&state.db, &t).await?;
        }
    }
    Ok((
        AppendHeaders([(SET_COOKIE, session_cookie(&state, "", 0))]),
        Redirect::to("/login"),
    )
        .into_response())
}

async fn invite_form(ctx: Ctx) -> Result<Html<String>, AppError> {
    Ok(Html(
        InvitePage {
            c: Chrome::new(ctx.lang, None),
            message: None,
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct InviteForm {
    phone: String,
    code: String,
    password: String,
}

async fn invite(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<InviteForm>,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    if !state.invitation_allowed(&f.phone) {
        return Err(AppError::TooMany);
    }
    match accounts::redeem_invitation(&state.db, &f.phone, &f.code, &f.password).await {
        Ok(_) => Ok(Redirect::to("/login?invited=true").into_response()),
        Err(jiaxiao_store::StoreError::Invalid { code }) => {
            let msg = if code == "password_too_short" {
                lang.t("password.short")
            } else {
                lang.t("login.invite_bad")
            };
            let page = InvitePage {
                c: Chrome::new(lang, None),
                message: Some(msg),
            };
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                Html(page.render()?),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn set_lang(Path(code): Path<String>, headers: axum::http::HeaderMap) -> Response {
    let v = if code == "en" { "en" } else { "zh" };
    let back = local_back(
        headers
            .get(axum::http::header::REFERER)
            .and_then(|r| r.to_str().ok()),
        headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok()),
    );
    (
        AppendHeaders([(
            SET_COOKIE,
            format!("lang={v}; Path=/; SameSite=Lax; Max-Age=31536000"),
        )]),
        Redirect::to(&back),
    )
        .into_response()
}

/// Back to the page the language switch was clicked on — but only a page of this site:
/// the Referer's host must be ours and the path must not start a new authority ("//").
fn local_back(referer: Option<&str>, host: Option<&str>) -> String {
    let (Some(r), Some(host)) = (referer, host) else {
        return "/".into();
    };
    let Some(rest) = r
        .strip_prefix("http://")
        .or_else(|| r.strip_prefix("https://"))
    else {
        return "/".into();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority != host || path.starts_with("//") || path.starts_with("/\\") {
        return "/".into();
    }
    path.to_owned()
}

#[cfg(test)]
mod tests {
    use super::{local_back, local_next};

    #[test]
    fn login_returns_only_to_this_site() {
        assert_eq!(
            local_next("/p/checkin/3?c=123456"),
            Some("/p/checkin/3?c=123456")
        );
        assert_eq!(local_next("//evil.example/"), None);
        assert_eq!(local_next("/\\evil.example"), None);
        assert_eq!(local_next("https://evil.example/"), None);
        assert_eq!(local_next(""), None);
    }

    #[test]
    fn language_switch_returns_only_to_this_site() {
        let h = Some("school.example:8080");
        assert_eq!(
            local_back(Some("http://school.example:8080/people?q=1"), h),
            "/people?q=1"
        );
        assert_eq!(
            local_back(Some("https://evil.example//evil.example/"), h),
            "/"
        );
        assert_eq!(
            local_back(Some("http://school.example:8080//evil.example/"), h),
            "/"
        );
        assert_eq!(
            local_back(Some("http://school.example:8080/\\evil.example"), h),
            "/"
        );
        assert_eq!(local_back(None, h), "/");
        assert_eq!(local_back(Some("javascript:alert(1)"), h), "/");
    }
}
