//! Staff pages of the parent school (家长学校, DOMAIN.md §1): the school's home with its
//! dashboard, sessions and their records, the paper sign-in round trip, trainees and
//! credits, excellent trainees, the ledger, the office's overview of its schools; and the
//! school's organisation under `/ps/schools/{id}`: its bodies and their printable roster,
//! its curriculum with the coverage grid, its activities such as the parents' meeting day.

pub mod activities;
pub mod committees;
pub mod curriculum;
pub mod home;
pub mod paper;
pub mod sessions;
pub mod trainees;

use axum::Router;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use jiaxiao_domain::Role;
use jiaxiao_store::Scope;
use jiaxiao_store::org::UnitRow;

use crate::app::AppState;
use crate::error::AppError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(home::routes())
        .merge(sessions::routes())
        .merge(paper::routes())
        .merge(trainees::routes())
        .merge(committees::routes())
        .merge(curriculum::routes())
        .merge(activities::routes())
}

/// The school year pages show by default: the one today falls in, made on the first
/// write if it does not exist yet (reads never create it: -1 then, and lists are empty).
pub async fn current_year(state: &AppState) -> Result<i64, AppError> {
    Ok(jiaxiao_store::org::current_school_year(&state.db.conn).await?)
}

/// What the header of every school page needs: the school and which tab is open.
pub struct SchoolNav {
    pub school: UnitRow,
    pub tab: &'static str,
}

impl SchoolNav {
    pub fn new(school: UnitRow, tab: &'static str) -> SchoolNav {
        SchoolNav { school, tab }
    }
}

/// A form whose multi-selects and checkboxes arrive as repeated keys (axum's `Form`
/// keeps only one of them), of at most `domain::text::MAX_FORM_FIELDS` fields.
pub struct ManyForm<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for ManyForm<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::Invalid("bad_form".into()))?;
        // Refused before parsing: tens of thousands of fields cost memory here and bound
        // variables in the store.
        let fields = bytes.iter().filter(|b| **b == b'&').count() + 1;
        if fields > jiaxiao_domain::text::MAX_FORM_FIELDS {
            return Err(AppError::Invalid("too_many_fields".into()));
        }
        serde_html_form::from_bytes(&bytes)
            .map(ManyForm)
            .map_err(|_| AppError::Invalid("bad_form".into()))
    }
}

/// An uploaded picture made fit to keep (decoded, upright, scaled down); anything that
/// does not decode is refused at upload with a message, not when a PDF renders later.
pub async fn prepare_picture(kind: &str, bytes: Vec<u8>) -> Result<Vec<u8>, AppError> {
    use jiaxiao_export::images;
    use jiaxiao_store::parent_school::records;
    let kind = kind.to_owned();
    tokio::task::spawn_blocking(move || match kind.as_str() {
        records::KIND_PHOTO | records::KIND_SCAN => images::prepare_photo(&bytes),
        records::KIND_SEAL => images::check_image(&bytes).map(|_| bytes),
        _ => Ok(bytes),
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|_| AppError::Invalid("not_an_image".into()))
}

/// A refused upload as a message beside its file field (`file`): a file that is not a
/// picture, or none chosen. Other errors pass through.
pub fn file_refused(
    lang: crate::i18n::Lang,
    form: &'static str,
    e: AppError,
) -> Result<crate::pages::form::Posted, AppError> {
    let key = match &e {
        AppError::Invalid(c) if c == "not_an_image" => "form.not_an_image",
        AppError::Invalid(c) if c == "empty_file" => "form.empty_file",
        _ => {
            let fields: &crate::pages::form::FieldsOf = &[("*", "file")];
            return crate::pages::form::Posted::refused(lang, form, Vec::new(), e, fields, |_| {});
        }
    };
    let mut p = crate::pages::form::Posted::new(form, Vec::new());
    p.add("file", lang.t(key));
    Ok(p)
}

/// Empty strings from a form mean "not given".
pub fn opt_text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

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
