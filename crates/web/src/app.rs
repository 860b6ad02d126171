//! The application: shared state, the router of every audience and the API, and the
//! middleware stack (request ids, body limits, security headers, metrics, error pages).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use jiaxiao_store::Db;
use metrics_exporter_prometheus::PrometheusHandle;
use rand::Rng;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::error::ErrorCode;
use crate::i18n::Lang;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Cookies get `Secure` when the public URL is https.
    pub secure_cookies: bool,
    /// Upload limit for roster files.
    pub max_upload_bytes: usize,
    /// When set, /metrics answers only to `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// Without a token, /metrics answers only when this is true: `serve` sets it when it
    /// listens on a loopback address alone (see [`metrics_open_without_token`]), so a
    /// server reachable from the network never shows its figures to anyone who asks.
    pub metrics_open_without_token: bool,
    /// Where uploaded files (photos, scans, seals) and rendered dossiers are kept.
    pub uploads_dir: std::path::PathBuf,
    /// How long a new API token lives, in days.
    pub api_token_days: i64,
    /// Behind a reverse proxy: the header it puts the client's address in (e.g.
    /// `X-Real-IP`), for the login limit per address. Unset: the connection's peer.
    pub client_ip_header: Option<String>,
    /// Webhooks may point at loopback and private addresses (an operator's own network,
    /// a test's receiver). Off by default: a webhook could otherwise reach the server's
    /// neighbours.
    pub webhook_private_ok: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            secure_cookies: false,
            max_upload_bytes: 64 * 1024 * 1024,
            metrics_token: None,
            metrics_open_without_token: false,
            uploads_dir: std::path::PathBuf::from("./data/uploads"),
            api_token_days: jiaxiao_store::accounts::API_TOKEN_DAYS,
            client_ip_header: None,
            webhook_private_ok: false,
        }
    }
}

/// What every handler shares. Cloned for every request by the extractors and
/// middleware, so it is one `Arc`: a field-by-field clone showed up in check-in
/// profiles.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;
    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

pub struct AppStateInner {
    pub db: Db,
    pub settings: Settings,
    pub metrics: Option<PrometheusHandle>,
    login_limiter: Arc<DefaultKeyedRateLimiter<String>>,
    /// Failed logins per client address and the back-off per account (decision 0010).
    pub login_throttle: Arc<crate::throttle::LoginThrottle>,
    limit_checks: Arc<std::sync::atomic::AtomicU64>,
    /// Uploads being read at once (see `pages::roster::read_upload`).
    pub parses: Arc<tokio::sync::Semaphore>,
    /// The background job runner of this process (and the progress of its jobs).
    pub jobs: jiaxiao_jobs::Runner,
    pub sms: Arc<dyn crate::sms::SmsProvider>,
    /// The check-in hot path: cached sessions and the group-commit writer.
    pub checkins: jiaxiao_store::checkin::Checkins,
    /// Bearer tokens recently verified (see `auth::ApiUser`).
    pub tokens: jiaxiao_store::accounts::TokenCache,
    checkin_limiter: Arc<DefaultKeyedRateLimiter<i64>>,
    pub blobs: jiaxiao_store::blobs::Blobs,
}

impl AppState {
    pub fn new(db: Db, settings: Settings, metrics: Option<PrometheusHandle>) -> AppState {
        // Ten tries a minute per invitation phone and per account's password check:
        // enough for typos, too few for guessing.
        let quota = Quota::per_minute(NonZeroU32::new(10).expect("non-zero"));
        let tokens = jiaxiao_store::accounts::TokenCache::default();
        let blobs = jiaxiao_store::blobs::Blobs::new(settings.uploads_dir.clone());
        AppState(Arc::new(AppStateInner {
            settings,
            metrics,
            login_limiter: Arc::new(RateLimiter::keyed(quota)),
            login_throttle: Arc::default(),
            limit_checks: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            parses: Arc::new(tokio::sync::Semaphore::new(
                crate::pages::roster::PARALLEL_READS,
            )),
            jobs: crate::jobs::runner(db.clone(), "serve", blobs.clone()),
            blobs,
            sms: Arc::new(crate::sms::LogOnlySms { db: db.clone() }),
            checkins: jiaxiao_store::checkin::Checkins::new(db.clone(), tokens.clone()),
            tokens,
            // A parent checks in once; thirty tries a minute leaves room for typing a
            // code wrong and for retries, not for guessing codes.
            checkin_limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(30).expect("non-zero"),
            ))),
            db,
        }))
    }
}

pub fn router(state: AppState) -> Router {
    let max_upload = state.settings.max_upload_bytes;
    let hot = hot_routes(state.clone());
    // Only what needs the matched route (metrics) or the handler's own response wraps
    // each route; the rest wraps the router once. `Router::layer` boxes every route
    // again per layer, and every request cloned that chain of boxes.
    let routes = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/assets/{*path}", get(crate::pages::assets))
        // Browsers ask for /favicon.ico whatever the page links: the same icon, not a 404.
        .route(
            "/favicon.ico",
            get(|| crate::pages::assets(axum::extract::Path("favicon.svg".to_owned()))),
        )
        .merge(crate::pages::routes())
        .merge(crate::api::routes())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            HANDLER_TIMEOUT,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(render_errors))
        .layer(middleware::from_fn(track))
        .with_state(state);
    let outer = tower::ServiceBuilder::new()
        .layer(middleware::from_fn(edge))
        // Again outside the body limit, whose own 413 is plain text (issue 9, item 16);
        // answers already rendered inside pass through untouched.
        .layer(middleware::from_fn(render_errors))
        .layer(RequestBodyLimitLayer::new(max_upload))
        .layer(CompressionLayer::new())
        .service(routes);
    hot.fallback_service(outer)
}

/// The parents' check-in POST: a whole hall of parents scans within a minute (issue 3's
/// burst figure), so it skips what only pages and uploads need, the compression of
/// bodies and the upload size limit, and the fallback's second routing; together those
/// cost a fifth of its throughput. It keeps what every request gets: its id, the
/// security headers, metrics and the log line, JSON errors, the panic guard and the
/// timeout. Its body is a few dozen bytes, hence the small limit.
fn hot_routes(state: AppState) -> Router {
    crate::api::hot_routes()
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            HANDLER_TIMEOUT,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(hot_edge))
        .with_state(state)
}

/// How long a handler may take before the answer is 503 (a stuck database, say).
pub const HANDLER_TIMEOUT: Duration = Duration::from_secs(60);

fn panic_response(_: Box<dyn std::any::Any + Send>) -> Response {
    crate::error::AppError::Internal("panic in handler".into()).into_response()
}

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What every answer carries when the handler did not say otherwise. `no-store`: pages,
/// exports and API answers name parents and children, and must not stay in a shared
/// computer's or a proxy's cache (issue 9); only the static assets say otherwise.
const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (header::CACHE_CONTROL, "no-store"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    ),
    (header::REFERRER_POLICY, "same-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
];

/// The edge of every request: its id on the request (for the logs and error pages) and
/// on the answer, and the security headers. A request id from outside is kept only when
/// it looks like one (a proxy's); anything else is replaced by a fresh one: ids end up
/// in logs and on pages. One function rather than seven tower layers, because each
/// layer cost a boxed clone and a future per request on the check-in path.
async fn edge(req: Request, next: Next) -> Response {
    edged(req, |r| next.run(r)).await
}

/// The check-in route's one middleware: `edge`, `track` and `render_errors` composed
/// into one future, where three `from_fn` layers each boxed their inner service and
/// future per request.
async fn hot_edge(req: Request, next: Next) -> Response {
    edged(req, |r| tracked(r, |r| errors_rendered(r, |r| next.run(r)))).await
}

async fn edged<F: Future<Output = Response>>(
    mut req: Request,
    run: impl FnOnce(Request) -> F,
) -> Response {
    let id = match req.headers().get(&X_REQUEST_ID) {
        Some(v) if request_id_ok(v) => v.clone(),
        _ => {
            let v = HeaderValue::from_str(&format!("{:016x}", rand::rng().random::<u64>()))
                .expect("hex is a valid header value");
            req.headers_mut().insert(X_REQUEST_ID, v.clone());
            v
        }
    };
    let mut resp = run(req).await;
    let h = resp.headers_mut();
    h.reserve(1 + SECURITY_HEADERS.len());
    h.entry(X_REQUEST_ID).or_insert(id);
    for (name, value) in SECURITY_HEADERS {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    resp
}

fn request_id_ok(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    (1..=64).contains(&b.len()) && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

async fn healthz(State(s): State<AppState>) -> Response {
    match s.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}

/// Whether /metrics may answer without a token: only when the server listens on a
/// loopback address, where nobody but the machine's own scraper can reach it. A server
/// listening on 0.0.0.0 or a public address needs `metrics_token`.
pub fn metrics_open_without_token(listen: std::net::SocketAddr) -> bool {
    listen.ip().is_loopback()
}

/// Prometheus text. When a metrics token is configured, only a scraper presenting it
/// gets the figures (they name routes and counts, never people); without one, only a
/// server listening on loopback answers (404 otherwise, as if there were no metrics).
async fn metrics(State(s): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    match &s.settings.metrics_token {
        Some(token) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            if !crate::auth::constant_eq(given.as_bytes(), token.as_bytes()) {
                return StatusCode::UNAUTHORIZED.into_response();
            }
        }
        None if !s.settings.metrics_open_without_token => {
            return StatusCode::NOT_FOUND.into_response();
        }
        None => {}
    }
    match &s.metrics {
        Some(h) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Counts requests by route template and status, and logs one line per request with
/// no query string, no names, phones or addresses.
async fn track(req: Request, next: Next) -> Response {
    tracked(req, |r| next.run(r)).await
}

async fn tracked<F: Future<Output = Response>>(
    req: Request,
    run: impl FnOnce(Request) -> F,
) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let rid = request_id_of(req.headers());
    let start = Instant::now();
    // Everything logged while handling the request (an internal error, say) carries its id.
    let span = tracing::info_span!("request", request_id = %rid);
    let resp = tracing::Instrument::instrument(run(req), span).await;
    let elapsed = start.elapsed();
    let status = resp.status().as_u16();
    metrics::counter!("http_requests_total", "route" => route.clone(), "status" => status_label(status)).increment(1);
    metrics::histogram!("http_request_seconds", "route" => route.clone())
        .record(elapsed.as_secs_f64());
    tracing::info!(request_id = %rid, method = %method, route = %route, status, ms = elapsed.as_millis() as u64, "request");
    resp
}

/// The status as a metrics label; the usual ones without an allocation per request.
fn status_label(status: u16) -> metrics::SharedString {
    match status {
        200 => metrics::SharedString::const_str("200"),
        201 => metrics::SharedString::const_str("201"),
        204 => metrics::SharedString::const_str("204"),
        303 => metrics::SharedString::const_str("303"),
        304 => metrics::SharedString::const_str("304"),
        404 => metrics::SharedString::const_str("404"),
        422 => metrics::SharedString::const_str("422"),
        s => metrics::SharedString::from(s.to_string()),
    }
}

fn request_id_of(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    lang: Lang,
    message: String,
    request_id: String,
}

/// Turns an `AppError` left in the response into the right body: JSON for the API, a
/// page (or a redirect to the login) for browsers.
async fn render_errors(req: Request, next: Next) -> Response {
    errors_rendered(req, |r| next.run(r)).await
}

async fn errors_rendered<F: Future<Output = Response>>(
    req: Request,
    run: impl FnOnce(Request) -> F,
) -> Response {
    let is_api = req.uri().path().starts_with("/api/") || req.uri().path() == "/metrics";
    // Header values are reference-counted: kept as they are, and read only for an error.
    let rid = req.headers().get(&X_REQUEST_ID).cloned();
    let cookie = req.headers().get(header::COOKIE).cloned();
    let resp = run(req).await;
    let status = resp.status();
    let code = match resp.extensions().get::<ErrorCode>().cloned() {
        Some(ErrorCode(code)) => code,
        // Rejections by axum itself (bad JSON, unknown path, body too large, …) come
        // without a body of ours: give them the same shape as our own errors.
        None if status.as_u16() >= 400 && !has_body_of_ours(&resp) => {
            status_code_name(status).to_owned()
        }
        None => return resp,
    };
    let rid = rid
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let lang = Lang::from_cookie(
        cookie
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').find_map(|kv| kv.trim().strip_prefix("lang="))),
    );
    if is_api {
        return (
            status,
            Json(serde_json::json!({"error": code, "request_id": rid})),
        )
            .into_response();
    }
    if status == StatusCode::UNAUTHORIZED {
        return Redirect::to("/login").into_response();
    }
    let key = match status {
        StatusCode::NOT_FOUND => "error.not_found".to_owned(),
        StatusCode::FORBIDDEN => "error.csrf".to_owned(),
        StatusCode::TOO_MANY_REQUESTS => "login.limited".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "upload.too_large".to_owned(),
        StatusCode::UNPROCESSABLE_ENTITY => {
            // Roster and account reasons first, then the input rules (`domain::text`).
            [format!("reason.{code}"), format!("input.{code}")]
                .into_iter()
                .find(|k| lang.t(k) != *k)
                .unwrap_or_else(|| "error.invalid".to_owned())
        }
        s if s.is_client_error() => "error.invalid".to_owned(),
        _ => "error.internal".to_owned(),
    };
    let page = ErrorPage {
        lang,
        message: lang.t(&key),
        request_id: rid,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => status.into_response(),
    }
}

fn has_body_of_ours(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"))
}

fn status_code_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorised",
        404 => "not_found",
        405 => "method_not_allowed",
        408 | 503 => "timeout",
        413 => "too_large",
        415 => "unsupported_media_type",
        422 => "invalid",
        429 => "too_many_requests",
        _ => "internal",
    }
}

impl AppState {
    /// Starts a login attempt from `addr` against the account it names (see
    /// `throttle`); `None` when the address is throttled.
    pub fn begin_login(
        &self,
        addr: Option<std::net::IpAddr>,
        login: &jiaxiao_store::accounts::Login<'_>,
    ) -> Option<crate::throttle::Attempt> {
        self.login_throttle
            .begin(addr, crate::throttle::login_key(login), Instant::now())
    }

    /// Counts one refused username of an administrator creating accounts; false when
    /// they have had too many refusals this minute.
    pub fn username_refusal_allowed(&self, user_id: i64) -> bool {
        self.limit(&format!("un:{user_id}"))
    }

    /// Counts one check of a logged-in user's old password (changing it); false when
    /// throttled. Only the session's owner can trip it.
    pub fn password_check_allowed(&self, user_id: i64) -> bool {
        self.limit(&format!("pw:{user_id}"))
    }

    /// Counts one check-in attempt of a parent (or staff member); false when throttled.
    pub fn checkin_allowed(&self, user_id: i64) -> bool {
        self.checkin_limiter.check_key(&user_id).is_ok()
    }

    /// The same for redeeming an invitation code with a phone number.
    pub fn invitation_allowed(&self, phone: &str) -> bool {
        let p = jiaxiao_domain::PhoneNumber::parse(phone)
            .map(|p| p.to_string())
            .unwrap_or_else(|_| phone.trim().to_owned());
        self.limit(&format!("i:{p}"))
    }

    fn limit(&self, key: &str) -> bool {
        // Forget idle keys now and then so the table does not grow with every name tried.
        if self
            .limit_checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .is_multiple_of(1024)
        {
            self.login_limiter.retain_recent();
        }
        self.login_limiter
            .check_key(&jiaxiao_store::accounts::sha256_hex(key))
            .is_ok()
    }
}

pub type MetricsHandle = PrometheusHandle;

/// Installs the process-wide Prometheus recorder once; later calls get `None`.
pub fn install_metrics() -> Option<PrometheusHandle> {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::metrics_open_without_token;

    #[test]
    fn metrics_without_a_token_only_on_loopback() {
        for (addr, open) in [
            ("127.0.0.1:8080", true),
            ("127.0.0.2:8080", true),
            ("[::1]:8080", true),
            ("0.0.0.0:8080", false),
            ("[::]:8080", false),
            ("192.168.1.20:8080", false),
            ("203.0.113.7:443", false),
        ] {
            assert_eq!(
                metrics_open_without_token(addr.parse().unwrap()),
                open,
                "{addr}"
            );
        }
    }
}
