//! The parent school's front pages: where staff land (`/ps`), a school's home with its
//! dashboard, and an office's overview of every school under it against the yearly
//! target, with the roll-up export.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use jiaxiao_store::parent_school::{credits, sessions, stats};

use super::{SchoolNav, SchoolYear};
use crate::app::AppState;
use crate::auth::Staff;
use crate::charts;
use crate::error::AppError;
use crate::i18n::{local_time, percent};
use crate::pages::Chrome;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ps", get(entry))
        .route("/ps/schools/{id}", get(school_home))
        .route("/ps/units/{id}", get(unit_overview))
        .route("/ps/units/{id}/rollup.xlsx", get(rollup_xlsx))
}

#[derive(serde::Deserialize)]
struct EntryQuery {
    unit: Option<i64>,
}

/// Staff land on their school, or on their office's overview; `?unit=` (the header's
/// unit switcher) picks which of their units, the first otherwise.
async fn entry(
    State(state): State<AppState>,
    s: Staff,
    Query(q): Query<EntryQuery>,
) -> Result<Response, AppError> {
    let roots = jiaxiao_store::org::roots(&state.db, &s.user.scope).await?;
    let first = match q.unit {
        Some(id) => roots.iter().find(|r| r.id == id),
        None => roots.first(),
    }
    .ok_or(AppError::NotFound)?;
    let to = match first.kind.as_str() {
        "school" => format!("/ps/schools/{}", first.id),
        "grade" | "class" => {
            let school = jiaxiao_store::parent_school::school_of_unit(&state.db, first.id)
                .await?
                .ok_or(AppError::NotFound)?;
            format!("/ps/schools/{school}")
        }
        _ => format!("/ps/units/{}", first.id),
    };
    Ok(Redirect::to(&to).into_response())
}

pub struct UpcomingRow {
    pub id: i64,
    pub when: String,
    pub title: String,
    pub form: String,
    pub status: String,
    /// The status's badge class (`pages::badge_class`).
    pub badge: &'static str,
}

#[derive(Template)]
#[template(path = "parent_school/school_home.html")]
struct SchoolHome {
    c: Chrome,
    nav: SchoolNav,
    held: i64,
    planned: i64,
    school_rate: String,
    trainees: usize,
    chart_form: String,
    chart_topic: String,
    chart_grade: String,
    chart_class: String,
    chart_month: String,
    upcoming: Vec<UpcomingRow>,
    can_write: bool,
}

async fn school_home(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let lang = s.lang;
    let scope = &s.user.scope;
    let school = sessions::school(&state.db, scope, id).await?;
    let year = y.id;
    let st = stats::school_stats(&state.db, scope, id, year).await?;
    let (trainees, rates) = credits::home_figures(&state.db, scope, id, year).await?;
    let grades = credits::grade_rates(&rates);
    let form_data: Vec<(String, i64)> = st
        .by_form
        .iter()
        .map(|c| (lang.t(&format!("ps.form.{}", c.key)), c.n))
        .collect();
    let topic_data: Vec<(String, i64)> = st
        .by_topic
        .iter()
        .map(|c| {
            let k = if c.key.is_empty() {
                lang.t("ps.no_topic")
            } else {
                c.key.clone()
            };
            (k, c.n)
        })
        .collect();
    let grade_data: Vec<(String, f64)> =
        grades.iter().map(|g| (g.name.clone(), g.rate())).collect();
    let class_data: Vec<(String, f64)> = rates
        .iter()
        .map(|c| {
            (
                c.class_name.clone(),
                if c.invited > 0 {
                    c.reached as f64 / c.invited as f64
                } else {
                    0.0
                },
            )
        })
        .collect();
    let months: Vec<(String, i64, i64)> = st
        .by_month
        .iter()
        .map(|m| (m.month.clone(), m.sessions, m.checkins))
        .collect();
    let now = chrono::Utc::now() - chrono::Duration::hours(3);
    let upcoming = sessions::list_sessions(&state.db, scope, Some(id), Some(year))
        .await?
        .into_iter()
        .filter(|s| {
            s.starts_at >= now
                && s.status != jiaxiao_domain::parent_school::SessionStatus::Cancelled.code()
        })
        .take(8)
        .map(|s| UpcomingRow {
            id: s.id,
            when: local_time(s.starts_at),
            title: s.title,
            form: lang.t(&format!("ps.form.{}", s.form)),
            status: lang.t(&format!("ps.session_status.{}", s.status)),
            badge: crate::pages::badge_class(&s.status),
        })
        .collect();
    let can_write = jiaxiao_store::parent_school::visible_school(&state.db.conn, scope, id)
        .await
        .is_ok()
        && !scope.has_role(jiaxiao_domain::Role::Inspector)
        && y.open;
    Ok(Html(
        SchoolHome {
            c: Chrome::new(lang, Some(&s.user)),
            held: st.held,
            planned: st.planned,
            school_rate: percent(credits::school_rate(&rates).rate()),
            trainees,
            chart_form: charts::pie(&lang.t("ps.chart.by_form"), &form_data),
            chart_topic: charts::hbar(&lang.t("ps.chart.by_topic"), &topic_data),
            chart_grade: charts::rate_bars(&lang.t("ps.chart.by_grade"), &grade_data),
            chart_class: charts::rate_bars(&lang.t("ps.chart.by_class"), &class_data),
            chart_month: charts::monthly(
                &lang.t("ps.chart.by_month"),
                [
                    &lang.t("ps.chart.sessions"),
                    &lang.t("ps.chart.attendances"),
                ],
                &months,
            ),
            upcoming,
            can_write,
            nav: SchoolNav::new(school, "home").with_year(&y),
        }
        .render()?,
    ))
}

pub struct RollupRow {
    /// Where the row's name leads: a school's home, or the office unit's own overview.
    pub href: String,
    pub name: String,
    /// A school's type, or an office unit's number of schools.
    pub what: String,
    pub held: i64,
    pub counted: i64,
    /// An office unit's yearly target; empty for a school.
    pub target: String,
    pub online: i64,
    pub planned: i64,
    pub checkins: i64,
    pub excellent: i64,
}

#[derive(Template)]
#[template(path = "parent_school/unit_overview.html")]
struct UnitOverview {
    c: Chrome,
    unit_id: i64,
    unit_name: String,
    held: i64,
    counted: i64,
    target: i64,
    reached: bool,
    counted_forms: String,
    schools: usize,
    /// The date the schools under the unit are read on (`YYYY-MM-DD`).
    as_of: String,
    /// Some when that date is today (the link back is then not shown).
    today: Option<String>,
    rows: Vec<RollupRow>,
    /// Whether the rows are office units with a target of their own (not schools).
    has_target: bool,
    /// The heading of the rows' first column (县（区）, 学校 …) and of the second.
    member_col: String,
    what_col: String,
    chart_target: String,
    chart_schools: String,
    /// The school year counted, with its selector.
    year: SchoolYear,
}

async fn unit_overview(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
    Query(q): Query<crate::pages::AsOfQuery>,
) -> Result<Html<String>, AppError> {
    let lang = s.lang;
    let scope = &s.user.scope;
    let year = y.id;
    let as_of = year_as_of(&state, &q, year).await?;
    let today = jiaxiao_store::org::today_naive();
    let unit = jiaxiao_store::org::get_unit(&state.db, scope, id).await?;
    // One row per unit a level down: a province's page has its cities, not 3,000 schools.
    let roll = stats::rollup(&state.db, scope, id, year, as_of, stats::RollupBy::Child).await?;
    let held: i64 = roll.iter().map(|r| r.held).sum();
    let counted: i64 = roll.iter().map(|r| r.counted).sum();
    let target = stats::yearly_target(&state.db, scope, id, as_of).await?;
    let member_kind = roll
        .first()
        .map(|r| r.kind.clone())
        .unwrap_or_else(|| "school".into());
    // Every row labelled: the chart grows with the list instead of dropping units.
    let mut by_member: Vec<(String, i64)> =
        roll.iter().map(|r| (r.name.clone(), r.counted)).collect();
    by_member.sort_by_key(|s| std::cmp::Reverse(s.1));
    let counted_forms = jiaxiao_domain::parent_school::Form::COUNTED
        .iter()
        .map(|f| lang.t(&format!("ps.form.{f}")))
        .collect::<Vec<_>>()
        .join(lang.t("ps.list_sep").as_str());
    let as_of_s = as_of.format("%Y-%m-%d").to_string();
    Ok(Html(
        UnitOverview {
            c: Chrome::new(lang, Some(&s.user)),
            unit_id: id,
            unit_name: unit.name,
            year: y.clone(),
            held,
            counted,
            target,
            reached: counted >= target,
            counted_forms,
            schools: by_member.len(),
            has_target: member_kind != "school",
            member_col: lang.t(&format!("ps.overview.member.{member_kind}")),
            what_col: lang.t(if member_kind == "school" {
                "ledger.col.school_type"
            } else {
                "ps.overview.schools"
            }),
            as_of: as_of_s.clone(),
            today: (as_of == today).then(String::new),
            chart_target: charts::against_target(
                &lang.tf(
                    "ps.overview.target_chart",
                    &[("target", target.to_string())],
                ),
                &lang.t("ps.overview.counted"),
                counted,
                target,
            ),
            chart_schools: charts::hbar(
                &lang.t(&format!("ps.overview.by_member.{member_kind}")),
                &by_member,
            ),
            rows: roll
                .into_iter()
                .map(|r| RollupRow {
                    href: if r.kind == "school" {
                        format!("/ps/schools/{}{}", r.unit_id, y.q())
                    } else {
                        format!(
                            "/ps/units/{}?as_of={as_of_s}{}",
                            r.unit_id,
                            y.q().replacen('?', "&", 1)
                        )
                    },
                    what: if r.kind == "school" {
                        r.school_type
                            .as_deref()
                            .map(|t| lang.t(&format!("school_type.{t}")))
                            .unwrap_or_default()
                    } else {
                        r.schools.to_string()
                    },
                    target: r.target().map(|t| t.to_string()).unwrap_or_default(),
                    name: r.name,
                    held: r.held,
                    counted: r.counted,
                    online: r.online,
                    planned: r.planned,
                    checkins: r.checkins,
                    excellent: r.excellent,
                })
                .collect(),
        }
        .render()?,
    ))
}

/// The date an office's figures of `year` read the tree on: the one asked for, else
/// today while the year runs and its last day once it is over — last year's roll-up
/// counts a school that moved since under the county it was in then.
async fn year_as_of(
    state: &AppState,
    q: &crate::pages::AsOfQuery,
    year: i64,
) -> Result<chrono::NaiveDate, AppError> {
    if q.as_of.trim().is_empty() {
        Ok(jiaxiao_store::org::year_day(&state.db.conn, year).await?)
    } else {
        q.date()
    }
}

async fn rollup_xlsx(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
    Query(q): Query<crate::pages::AsOfQuery>,
) -> Result<Response, AppError> {
    let year = y.id;
    let as_of = year_as_of(&state, &q, year).await?;
    let bytes =
        crate::ledger::rollup_xlsx(&state.db, &s.user.scope, s.lang, id, year, as_of).await?;
    Ok(xlsx_response(bytes, "rollup.xlsx"))
}

/// An XLSX download.
pub fn xlsx_response(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// An XLSX download sent from its temp file a block at a time, with its length.
pub fn xlsx_file_response(x: crate::ledger::XlsxFile, name: &str) -> Response {
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(
        tokio::fs::File::from_std(x.file),
    ));
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CONTENT_LENGTH, x.len.to_string()),
        ],
        body,
    )
        .into_response()
}

/// A PDF shown inline (the browser's viewer prints it).
pub fn pdf_response(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}
