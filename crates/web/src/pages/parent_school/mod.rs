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
use crate::i18n::Lang;

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

/// The school year today falls in, made on the first write if it does not exist yet
/// (reads never create it: -1 then, and lists are empty). Year-scoped pages take a
/// [`SchoolYear`] instead, so they can show an earlier year.
pub async fn current_year(state: &AppState) -> Result<i64, AppError> {
    Ok(jiaxiao_store::org::current_school_year(&state.db.conn).await?)
}

/// What the header of every school page needs: the school, which tab is open and, on
/// the year-scoped pages, the school year shown with its selector.
pub struct SchoolNav {
    pub school: UnitRow,
    pub tab: &'static str,
    pub year: Option<SchoolYear>,
}

impl SchoolNav {
    pub fn new(school: UnitRow, tab: &'static str) -> SchoolNav {
        SchoolNav {
            school,
            tab,
            year: None,
        }
    }

    /// The nav of a page showing school year `y`: the selector, the year in the crumbs
    /// and the banner of a past year.
    pub fn with_year(mut self, y: &SchoolYear) -> SchoolNav {
        self.year = Some(y.clone());
        self
    }

    /// What links on the page append to keep the year: `?year=2024-2025`, or nothing
    /// for the current year (the default).
    pub fn q(&self) -> String {
        self.year.as_ref().map(SchoolYear::q).unwrap_or_default()
    }

    /// `&year=…` for links that already carry a query.
    pub fn amp(&self) -> String {
        self.q().replacen('?', "&", 1)
    }

    /// " · 2024-2025学年" for page titles.
    pub fn title_year(&self) -> String {
        self.year
            .as_ref()
            .map(|y| format!(" · {}", y.label()))
            .unwrap_or_default()
    }

    /// Whether the year shown takes writes (a page without a year: yes, the store decides).
    pub fn writable(&self) -> bool {
        self.year.as_ref().is_none_or(|y| y.open)
    }

    /// The tab's own page, where the selector sends the chosen year.
    pub fn here(&self) -> String {
        let id = self.school.id;
        match self.tab {
            "home" => format!("/ps/schools/{id}"),
            tab => format!("/ps/schools/{id}/{tab}"),
        }
    }
}

/// The school year a page shows and writes into (issue 10 item 11): `?year=2024-2025`,
/// absent (or empty) for the one today falls in. A malformed value is 422 `bad_year`,
/// a year not on file 422 `unknown_year`. `open` says whether the school in the path
/// (`/ps/schools/{id}/…`) may write into it — the store checks again on every write;
/// without a school in the path it is whether the year has not ended.
#[derive(Clone, Debug)]
pub struct SchoolYear {
    /// `-1` for the current year while nothing has been written in it (reads never
    /// create it, and `-1` matches no row).
    pub id: i64,
    pub name: String,
    /// Its first day (1 September).
    pub starts_on: chrono::NaiveDate,
    pub current: bool,
    /// Its last day lies before today.
    pub past: bool,
    pub open: bool,
    /// The names the selector offers, newest first; the current year always among them.
    pub choices: Vec<String>,
    /// The page's language, for the year's name in words (`label`).
    pub lang: Lang,
}

#[derive(serde::Deserialize)]
struct YearQuery {
    #[serde(default)]
    year: String,
}

impl SchoolYear {
    /// `?year=…` for a past or future year, nothing for the current one.
    pub fn q(&self) -> String {
        if self.current {
            String::new()
        } else {
            format!("?year={}", jiaxiao_store::org::year_param(&self.name))
        }
    }

    /// The year's name in the page's language.
    pub fn label(&self) -> String {
        self.lang.year(&self.name)
    }

    /// The value a choice carries in the selector's form.
    pub fn param(name: &str) -> &str {
        jiaxiao_store::org::year_param(name)
    }

    /// The school year with id `id` (a session's, a meeting day's), for `school`.
    pub async fn of_id(
        state: &AppState,
        lang: Lang,
        id: i64,
        school: i64,
    ) -> Result<SchoolYear, AppError> {
        let name = jiaxiao_store::org::school_year_name(&state.db.conn, id)
            .await?
            .unwrap_or_default();
        SchoolYear::resolve(
            state,
            lang,
            jiaxiao_store::org::year_param(&name),
            Some(school),
        )
        .await
    }

    /// The year `param` names (empty: the current one), for `school` when given.
    pub async fn resolve(
        state: &AppState,
        lang: Lang,
        param: &str,
        school: Option<i64>,
    ) -> Result<SchoolYear, AppError> {
        use jiaxiao_store::org;
        let conn = &state.db.conn;
        let today = org::today_date();
        let today_name = org::school_year_of(today).0;
        let name = match param.trim() {
            "" => today_name.clone(),
            p => org::year_name_of_param(p).ok_or_else(|| AppError::Invalid("bad_year".into()))?,
        };
        let start =
            org::school_year_start(&name).ok_or_else(|| AppError::Invalid("bad_year".into()))?;
        let (_, _, ends_on) = org::school_year_of(start);
        let past = ends_on < jiaxiao_store::today();
        // Last year is always offered, on file or not: a school new to the system can
        // reopen it to record what it did.
        let last_name = org::school_year_of(
            org::school_year_start(&today_name).unwrap_or(today) - chrono::Duration::days(1),
        )
        .0;
        let years = org::school_years(conn).await?;
        let mut choices: Vec<String> = years.iter().map(|y| y.name.clone()).collect();
        for n in [&today_name, &last_name] {
            if !choices.contains(n) {
                choices.push(n.clone());
            }
        }
        // Names sort as their first calendar year does: newest first.
        choices.sort_unstable_by(|a, b| b.cmp(a));
        let id = match years.iter().find(|y| y.name == name) {
            Some(y) => y.id,
            None if name == today_name || name == last_name => -1,
            None => return Err(AppError::Invalid("unknown_year".into())),
        };
        let open = match school {
            Some(s) if id > 0 => jiaxiao_store::parent_school::year_open(conn, s, id).await?,
            _ => !past,
        };
        Ok(SchoolYear {
            id,
            current: name == today_name,
            name,
            starts_on: start,
            past,
            open,
            choices,
            lang,
        })
    }
}

impl axum::extract::FromRequestParts<AppState> for SchoolYear {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, AppError> {
        use axum::extract::{MatchedPath, Query, RawPathParams};
        let q = Query::<YearQuery>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::Invalid("bad_year".into()))?;
        // Only under `/ps/schools/{id}` is the path's id a school.
        let under_school = parts
            .extensions
            .get::<MatchedPath>()
            .is_some_and(|m| m.as_str().starts_with("/ps/schools/{id}"));
        let mut school = None;
        if under_school && let Ok(params) = RawPathParams::from_request_parts(parts, state).await {
            school = params
                .iter()
                .find(|(k, _)| *k == "id")
                .and_then(|(_, v)| v.parse::<i64>().ok());
        }
        let lang = Lang::from_cookie(crate::auth::cookie(parts, "lang"));
        SchoolYear::resolve(state, lang, &q.year, school).await
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
