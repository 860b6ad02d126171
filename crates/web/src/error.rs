//! One error type for handlers: rendered as an HTML page on pages and as JSON on the
//! API, always with the request id and never with internal details.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiaxiao_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("unauthorised")]
    Unauthorised,
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("csrf")]
    Csrf,
    /// A token without the scope the operation needs (403).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The object changed since the caller read it: `If-Match` no longer holds (412).
    #[error("stale")]
    Stale,
    /// Another request with the same idempotency key is still running (409).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too many requests")]
    TooMany,
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Invalid { code } => AppError::Invalid(code.to_owned()),
            StoreError::Conflict { .. } => AppError::Invalid("conflict".into()),
            StoreError::Stale => AppError::Stale,
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorised => StatusCode::UNAUTHORIZED,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Csrf | AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Stale => StatusCode::PRECONDITION_FAILED,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooMany => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> String {
        match self {
            AppError::NotFound => "not_found".into(),
            AppError::Unauthorised => "unauthorised".into(),
            AppError::Invalid(c) => c.clone(),
            AppError::Csrf => "csrf".into(),
            AppError::Forbidden(c) | AppError::Conflict(c) => c.clone(),
            AppError::Stale => "version_mismatch".into(),
            AppError::TooMany => "too_many_requests".into(),
            AppError::Internal(_) => "internal".into(),
        }
    }
}

/// The error travels to the outer middleware as an extension; the middleware renders it
/// as HTML or JSON and adds the request id (see `app::render_errors`).
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(msg) = &self {
            // Logged once here; the message can hold SQL but never personal data.
            tracing::error!(error = %msg, "internal error");
        }
        let mut r = self.status().into_response();
        r.extensions_mut().insert(ErrorCode(self.code()));
        r
    }
}

#[derive(Clone, Debug)]
pub struct ErrorCode(pub String);
