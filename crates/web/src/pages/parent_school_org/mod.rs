//! Staff pages of the parent school's organisation (DOMAIN.md §1): its bodies and their
//! printable roster, its curriculum with the coverage grid, and its activities such as
//! the parents' meeting day with a printable run sheet. All under `/ps/schools/{id}`.

pub mod activities;
pub mod committees;
pub mod curriculum;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use jiaxiao_domain::Role;
use jiaxiao_store::Scope;

use crate::app::AppState;
use crate::error::AppError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(committees::routes())
        .merge(curriculum::routes())
        .merge(activities::routes())
}

/// The school header of every parent-school page (shared with `pages::ps`).
pub use crate::pages::ps::SchoolNav as OrgNav;

/// The school year the pages show: the one today falls in (`-1`, matching nothing,
/// until something has been written in it: reads never create it) and its name.
pub async fn this_year(state: &AppState) -> Result<(i64, String), AppError> {
    let id = jiaxiao_store::org::current_school_year(&state.db.conn).await?;
    let name = jiaxiao_store::org::school_year_of(jiaxiao_store::org::today_date()).0;
    Ok((id, name))
}

/// Whether to show the forms that change things: inspectors only look. The store
/// decides for real; this only spares them forms that would answer 404.
pub fn may_write(scope: &Scope) -> bool {
    scope.is_staff() && !scope.has_role(Role::Inspector)
}

/// Empty strings from a form mean "not given".
pub fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// A date and a clock time typed in Beijing time, as UTC. China has one zone and no
/// daylight saving, so a fixed offset is exact.
pub fn parse_local(date: &str, time: &str) -> Result<DateTime<Utc>, AppError> {
    let d = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::Invalid("bad_date".into()))?;
    let t = NaiveTime::parse_from_str(time.trim(), "%H:%M")
        .map_err(|_| AppError::Invalid("bad_time".into()))?;
    Ok(d.and_time(t).and_utc() - chrono::Duration::hours(8))
}

/// Beijing date and clock of a UTC time, for form fields.
pub fn local_parts(t: DateTime<Utc>) -> (String, String) {
    let l = t + chrono::Duration::hours(8);
    (
        l.format("%Y-%m-%d").to_string(),
        l.format("%H:%M").to_string(),
    )
}

/// An XLSX download.
pub fn xlsx_response(file_name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Where a form sends the browser back to: the page the form was on.
pub fn back(to: String) -> Response {
    axum::response::Redirect::to(&to).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_round_trip_through_beijing_time() {
        let t = parse_local("2025-10-20", "14:30").unwrap();
        assert_eq!(t.to_rfc3339(), "2025-10-20T06:30:00+00:00");
        assert_eq!(local_parts(t), ("2025-10-20".into(), "14:30".into()));
        assert!(parse_local("2025-13-01", "14:30").is_err());
        assert!(parse_local("2025-10-20", "25:00").is_err());
    }
}
