//! Trainees and their year: credit hours and attendance rates (per parent, class,
//! grade, school), the excellent-trainee selection from rule to certificates, and the
//! ledger downloads (XLSX at once, the PDF dossier as a background job with progress).

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiaxiao_domain::parent_school::{ExcellenceRule, Settings};
use jiaxiao_export::pdf::{Certificate, CertificateLabels};
use jiaxiao_store::parent_school::excellence::{self, Round};
use jiaxiao_store::parent_school::records::{self, NewAttachment};
use jiaxiao_store::parent_school::{credits, sessions};
use serde::Deserialize;

use super::home::{pdf_response, xlsx_file_response};
use super::sessions::read_upload;
use super::{SchoolNav, SchoolYear};
use crate::app::AppState;
use crate::auth::Staff;
use crate::charts;
use crate::error::AppError;
use crate::i18n::{Lang, local_time, percent};
use crate::pages::Chrome;
use crate::pages::form::{FieldsOf, Posted, Submitted, done, unprocessable};
use crate::pages::list::{self, Column, Filter, List, ListQuery, ListView, Row};
use jiaxiao_export::Cell;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ps/schools/{id}/trainees", get(list_trainees))
        .route("/ps/schools/{id}/trainees.xlsx", get(trainees_xlsx))
        .route("/ps/schools/{id}/settings", post(save_settings))
        .route("/ps/schools/{id}/year-open", post(set_year_open))
        .route(
            "/ps/schools/{id}/excellence",
            get(show_excellence).post(compute),
        )
        .route("/ps/excellence/{round}/review", post(review))
        .route("/ps/excellence/{round}/notice", post(start_notice))
        .route("/ps/excellence/{round}/objections", post(record_objection))
        .route("/ps/objections/{id}/resolve", post(resolve_objection))
        .route("/ps/excellence/{round}/award", post(award))
        .route(
            "/ps/excellence/{round}/seal",
            post(upload_seal).layer(axum::extract::DefaultBodyLimit::max(
                records::MAX_ATTACHMENT_BYTES + 64 * 1024,
            )),
        )
        .route("/ps/excellence/{round}/certificates.pdf", get(certificates))
        .route("/ps/excellence/{round}/notice.pdf", get(notice_pdf))
        .route("/ps/schools/{id}/ledger", get(show_ledger))
        .route("/ps/schools/{id}/ledger.xlsx", get(ledger_xlsx))
        .route("/ps/schools/{id}/checkins.xlsx", get(checkins_xlsx))
        .route("/ps/schools/{id}/dossier", post(start_dossier))
        .route("/ps/jobs/{id}/status", get(job_status))
}

pub struct RateLine {
    pub grade: String,
    pub class: String,
    pub invited: i64,
    pub reached: i64,
    pub rate: String,
}

#[derive(Template)]
#[template(path = "parent_school/trainees.html")]
struct TraineesPage {
    c: Chrome,
    nav: SchoolNav,
    list: ListView,
    rates: Vec<RateLine>,
    school_rate: String,
    chart_grade: String,
    settings: Settings,
    can_write: bool,
    /// A past year on view and the caller manages the school: it may be reopened or
    /// closed again.
    may_reopen: bool,
}

/// The trainees of a school's year as a list (columns, filters by grade, class and
/// committee seat) and its rows: the page and its XLSX read the same.
fn trainee_list(
    lang: Lang,
    id: i64,
    y: &SchoolYear,
    trainees: &[credits::TraineeSummary],
    rates: &[credits::ClassRate],
) -> (List, Vec<Row>) {
    let base = format!("/ps/schools/{id}/trainees");
    let mut grades: Vec<(String, String)> = Vec::new();
    for r in rates {
        if let (Some(g), Some(n)) = (r.grade_id, &r.grade_name)
            && !grades.iter().any(|(v, _)| *v == g.to_string())
        {
            grades.push((g.to_string(), n.clone()));
        }
    }
    let list = List::new(
        "trainees",
        base.clone(),
        vec![
            Column::text("name", lang.t("ledger.col.parent")),
            Column::fixed("phone", lang.t("ledger.col.phone")),
            Column::text("class", lang.t("ledger.col.class")),
            Column::number("invited", lang.t("ledger.col.invited")),
            Column::number("attended", lang.t("ledger.col.attended")),
            Column::number("rate", lang.t("ledger.col.rate")),
            Column::number("hours", lang.t("ledger.col.hours")),
            Column::number("reflections", lang.t("ledger.col.reflections")),
            Column::text("committee", lang.t("ledger.col.committee")),
        ],
    )
    .filter(Filter::Choice {
        key: "grade",
        label: lang.t("ledger.col.grade"),
        options: grades,
    })
    .filter(Filter::Choice {
        key: "class",
        label: lang.t("ledger.col.class"),
        options: rates
            .iter()
            .map(|r| (r.class_id.to_string(), r.class_name.clone()))
            .collect(),
    })
    .filter(Filter::Choice {
        key: "committee",
        label: lang.t("ledger.col.committee"),
        options: vec![
            ("1".into(), lang.t("list.yes")),
            ("0".into(), lang.t("list.no")),
        ],
    })
    .search_hint(lang.t("ps.trainees.search_hint"))
    .empty(lang.t("ps.trainees.none"))
    .export(format!("/ps/schools/{id}/trainees.xlsx"));
    let _ = y;
    let rows = trainees
        .iter()
        .map(|t| {
            let phone = t.phone.clone().unwrap_or_default();
            let classes: Vec<&str> = t.classes.iter().map(|c| c.name.as_str()).collect();
            Row {
                href: Some(format!("/people/guardians/{}", t.guardian_id)),
                // Searched, filtered and sorted by the store (`credits::trainee_page`).
                search: String::new(),
                cells: vec![
                    Cell::Text(t.name.clone()),
                    Cell::Text(phone),
                    Cell::Text(classes.join(&lang.t("ps.list_sep"))),
                    Cell::Int(t.invited),
                    Cell::Int(t.attended),
                    Cell::Percent(t.rate()),
                    Cell::Hours(t.hours),
                    Cell::Int(t.reflections),
                    Cell::Text(if t.committee {
                        lang.t("list.yes")
                    } else {
                        String::new()
                    }),
                ],
                tags: Vec::new(),
                day: None,
                badge: None,
            }
        })
        .collect();
    (list, rows)
}

/// The list's search, filters and sort as the store's trainee query.
fn trainee_query(lq: &ListQuery, offset: u64, limit: u64) -> credits::TraineeQuery {
    let id = |k: &str| lq.get(k).and_then(|v| v.parse::<i64>().ok());
    credits::TraineeQuery {
        search: lq.search().map(str::to_owned),
        grade_id: id("grade"),
        class_id: id("class"),
        committee: lq.get("committee").map(|v| v == "1"),
        sort: lq.sort.as_deref().and_then(credits::TraineeSort::from_key),
        desc: lq.desc,
        offset,
        limit,
    }
}

async fn list_trainees(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    lq: ListQuery,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let lang = s.lang;
    let scope = &s.user.scope;
    let school = sessions::school(&state.db, scope, id).await?;
    let year = y.id;
    let rates = credits::class_rates(&state.db, scope, id, year).await?;
    let (trainees, total) = credits::trainee_page(
        &state.db,
        scope,
        id,
        year,
        &trainee_query(&lq, lq.offset() as u64, lq.size as u64),
    )
    .await?;
    let (list, rows) = trainee_list(lang, id, &y, &trainees, &rates);
    let list = list.paged(lang, &lq, rows, total as usize);
    let grades = credits::grade_rates(&rates);
    let settings = jiaxiao_store::parent_school::settings(&state.db.conn, id, year).await?;
    let can_write = y.open && sessions::form_choices(&state.db, scope, id).await.is_ok();
    let may_reopen = y.past && jiaxiao_store::org::manages(&state.db, scope, id).await?;
    Ok(Html(
        TraineesPage {
            c: Chrome::new(lang, Some(&s.user)),
            nav: SchoolNav::new(school, "trainees").with_year(&y),
            school_rate: percent(credits::school_rate(&rates).rate()),
            chart_grade: charts::rate_bars(
                &lang.t("ps.chart.by_grade"),
                &grades
                    .iter()
                    .map(|g| (g.name.clone(), g.rate()))
                    .collect::<Vec<_>>(),
            ),
            list,
            rates: rates
                .iter()
                .map(|r| RateLine {
                    grade: r.grade_name.clone().unwrap_or_default(),
                    class: r.class_name.clone(),
                    invited: r.invited,
                    reached: r.reached,
                    rate: percent(if r.invited > 0 {
                        r.reached as f64 / r.invited as f64
                    } else {
                        0.0
                    }),
                })
                .collect(),
            settings,
            can_write,
            may_reopen,
        }
        .render()?,
    ))
}

/// The trainees list's filtered rows as XLSX: the same scoped read as the page.
async fn trainees_xlsx(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    lq: ListQuery,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let lang = s.lang;
    let scope = &s.user.scope;
    let school = sessions::school(&state.db, scope, id).await?;
    let rates = credits::class_rates(&state.db, scope, id, y.id).await?;
    // One more than a file may hold: `list::xlsx` refuses that with a message.
    let (trainees, _) = credits::trainee_page(
        &state.db,
        scope,
        id,
        y.id,
        &trainee_query(&lq, 0, list::EXPORT_MAX as u64 + 1),
    )
    .await?;
    let (list, selected) = trainee_list(lang, id, &y, &trainees, &rates);
    let title = lang.tf(
        "ps.trainees.xlsx_title",
        [("school", school.name.clone()), ("year", y.name.clone())],
    );
    list::xlsx(
        &title,
        &format!("trainees-{id}-{}.xlsx", SchoolYear::param(&y.name)),
        &list.columns,
        &selected,
    )
}

#[derive(Deserialize)]
struct SettingsForm {
    csrf: String,
    lecture: f64,
    /// Absent (a form of an older page): the year's weight is kept.
    #[serde(default)]
    parent_class: Option<f64>,
    open_day: f64,
    forum: f64,
    online: f64,
    #[serde(default)]
    breakout: Option<f64>,
    opens_before_minutes: i32,
    closes_after_minutes: i32,
    late_after_minutes: i32,
}

async fn save_settings(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
    Form(f): Form<SettingsForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    // Every form of `domain::parent_school::Form` has its weight here: one missing would
    // be put back to the default on every save.
    let posted = |form: jiaxiao_domain::parent_school::Form| match form {
        jiaxiao_domain::parent_school::Form::Lecture => Some(f.lecture),
        jiaxiao_domain::parent_school::Form::ParentClass => f.parent_class,
        jiaxiao_domain::parent_school::Form::OpenDay => Some(f.open_day),
        jiaxiao_domain::parent_school::Form::Forum => Some(f.forum),
        jiaxiao_domain::parent_school::Form::Online => Some(f.online),
        jiaxiao_domain::parent_school::Form::Breakout => f.breakout,
    };
    for &form in jiaxiao_domain::parent_school::Form::ALL {
        if posted(form).is_some_and(|w| !(0.0..=10.0).contains(&w)) {
            return Err(AppError::Invalid("bad_weight".into()));
        }
    }
    // The current year is made on its first write; an earlier one is on file already.
    let year = if y.current {
        jiaxiao_store::org::ensure_school_year(&state.db.conn, jiaxiao_store::org::today_date())
            .await?
    } else {
        y.id
    };
    let mut settings = Settings {
        opens_before_minutes: f.opens_before_minutes.max(0),
        closes_after_minutes: f.closes_after_minutes.max(0),
        late_after_minutes: f.late_after_minutes.max(0),
        weights: jiaxiao_store::parent_school::settings(&state.db.conn, id, year)
            .await?
            .weights,
    };
    for &form in jiaxiao_domain::parent_school::Form::ALL {
        if let Some(w) = posted(form) {
            settings.weights.insert(form.code().into(), w);
        }
    }
    jiaxiao_store::parent_school::save_settings(&state.db, &s.user.scope, id, year, &settings)
        .await?;
    Ok(Redirect::to(&format!("/ps/schools/{id}/trainees{}", y.q())).into_response())
}

#[derive(Deserialize)]
struct YearOpenForm {
    csrf: String,
    open: String,
}

/// A school admin reopens a past year for the school (or closes it again).
async fn set_year_open(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
    Form(f): Form<YearOpenForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let open = f.open == "1";
    jiaxiao_store::parent_school::set_year_open(&state.db, &s.user.scope, id, y.starts_on, open)
        .await?;
    Ok(done(
        &format!("/ps/schools/{id}/trainees{}", y.q()),
        if open { "year_reopened" } else { "year_closed" },
    ))
}

pub struct NomineeLine {
    pub guardian_id: i64,
    pub name: String,
    pub reason: String,
    pub decision: String,
    pub decision_code: String,
    pub certificate_no: String,
}

pub struct ObjectionLine {
    pub id: i64,
    pub nominee: String,
    pub body: String,
    pub resolution: Option<String>,
    pub when: String,
}

#[derive(Template)]
#[template(path = "parent_school/excellence.html")]
struct ExcellencePage {
    c: Chrome,
    nav: SchoolNav,
    rule: ExcellenceRule,
    rate_pct: String,
    round_id: Option<i64>,
    status: String,
    status_code: String,
    notice: String,
    nominees: Vec<NomineeLine>,
    objections: Vec<ObjectionLine>,
    has_seal: bool,
    can_write: bool,
    /// A refused form, shown again with what was typed.
    posted: Posted,
}

/// An objection's outcome in words: the store files it as `[upheld] …` or
/// `[dismissed] …` before the reply.
pub fn outcome_text(lang: Lang, resolution: &str) -> String {
    for code in ["upheld", "dismissed"] {
        if let Some(rest) = resolution.strip_prefix(&format!("[{code}] ")) {
            return lang.tf(
                "form.objection_outcome",
                [
                    ("outcome", lang.t(&format!("form.objection_{code}"))),
                    ("reply", rest.to_owned()),
                ],
            );
        }
    }
    resolution.to_owned()
}

fn reason_text(lang: Lang, n: &excellence::NomineeRow) -> String {
    match n.reason() {
        Some(r) => {
            lang.tf(
                "ps.excellence.reason",
                &[
                    ("rate", percent(r.attendance_rate)),
                    ("attended", r.attended.to_string()),
                    ("invited", r.invited.to_string()),
                    ("hours", format!("{:.1}", r.hours)),
                    (
                        "reflections",
                        lang.tn("ps.excellence.reflections", r.reflections),
                    ),
                ],
            ) + if r.committee {
                lang.t("ps.excellence.committee_suffix")
            } else {
                String::new()
            }
            .as_str()
        }
        None => String::new(),
    }
}

async fn show_excellence(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    Ok(Html(
        render_excellence(&state, &s, &y, id, Posted::none()).await?,
    ))
}

/// The excellent-trainee page again with the refused form `p`: 422.
async fn refused(
    state: &AppState,
    s: &Staff,
    y: &SchoolYear,
    id: i64,
    p: Posted,
) -> Result<Response, AppError> {
    // A round's form carries no school in its path: the year is read for this school.
    let y = SchoolYear::resolve(state, y.lang, super::SchoolYear::param(&y.name), Some(id)).await?;
    Ok(unprocessable(render_excellence(state, s, &y, id, p).await?))
}

async fn render_excellence(
    state: &AppState,
    s: &Staff,
    y: &SchoolYear,
    id: i64,
    posted: Posted,
) -> Result<String, AppError> {
    let lang = s.lang;
    let scope = &s.user.scope;
    let school = sessions::school(&state.db, scope, id).await?;
    let year = y.id;
    let round: Option<Round> = excellence::get_round(&state.db, scope, id, year).await?;
    let can_write = y.open && sessions::form_choices(&state.db, scope, id).await.is_ok();
    let rule = round.as_ref().map(|r| r.rule.clone()).unwrap_or_default();
    let page = ExcellencePage {
        c: Chrome::new(lang, Some(&s.user)),
        nav: SchoolNav::new(school, "excellence").with_year(y),
        rate_pct: format!("{:.0}", rule.min_attendance_rate * 100.0),
        rule,
        round_id: round.as_ref().map(|r| r.round.id),
        status: round
            .as_ref()
            .map(|r| lang.t(&format!("ps.excellence.status.{}", r.round.status)))
            .unwrap_or_default(),
        status_code: round
            .as_ref()
            .map(|r| r.round.status.clone())
            .unwrap_or_default(),
        notice: round
            .as_ref()
            .and_then(|r| {
                Some(format!(
                    "{} — {}",
                    r.round.notice_from.clone()?,
                    r.round.notice_to.clone()?
                ))
            })
            .unwrap_or_default(),
        has_seal: round
            .as_ref()
            .is_some_and(|r| r.round.seal_attachment_id.is_some()),
        nominees: round
            .as_ref()
            .map(|r| {
                r.nominees
                    .iter()
                    .map(|n| NomineeLine {
                        guardian_id: n.guardian_id,
                        name: n.name.clone(),
                        reason: reason_text(lang, n),
                        decision: lang.t(&format!("ps.excellence.decision.{}", n.decision)),
                        decision_code: n.decision.clone(),
                        certificate_no: n.certificate_no.clone().unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        objections: round
            .as_ref()
            .map(|r| {
                r.objections
                    .iter()
                    .map(|o| ObjectionLine {
                        id: o.id,
                        nominee: o.nominee_name.clone(),
                        body: o.body.clone(),
                        resolution: o.resolution.as_deref().map(|r| outcome_text(lang, r)),
                        when: local_time(o.created_at),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        can_write,
        posted,
    };
    Ok(page.render()?)
}

#[derive(Deserialize)]
struct RuleForm {
    csrf: String,
    #[serde(default)]
    min_rate_pct: String,
    #[serde(default)]
    min_hours: String,
    #[serde(default)]
    min_reflections: String,
    #[serde(default)]
    require_committee: Option<String>,
    #[serde(default)]
    max_nominees: String,
}

async fn compute(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
    Submitted { form: f, raw }: Submitted<RuleForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    // The school before the form: out of reach is 404 whatever was typed.
    jiaxiao_store::parent_school::check_writable(&state.db, &s.user.scope, id).await?;
    let lang = s.lang;
    let mut p = Posted::new("rule", raw);
    let bad = |p: &mut Posted, field: &'static str| p.add(field, lang.t("form.bad_number"));
    let rate = f
        .min_rate_pct
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|r| (0.0..=100.0).contains(r));
    let hours = f.min_hours.trim().parse::<f64>().ok().filter(|h| *h >= 0.0);
    let reflections = f
        .min_reflections
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0);
    let max = match f.max_nominees.trim() {
        "" => Some(0),
        m => m.parse::<usize>().ok(),
    };
    let (Some(rate), Some(hours), Some(reflections), Some(max)) = (rate, hours, reflections, max)
    else {
        for (field, ok) in [
            ("min_rate_pct", rate.is_some()),
            ("min_hours", hours.is_some()),
            ("min_reflections", reflections.is_some()),
            ("max_nominees", max.is_some()),
        ] {
            if !ok {
                bad(&mut p, field);
            }
        }
        return refused(&state, &s, &y, id, p).await;
    };
    let rule = ExcellenceRule {
        min_attendance_rate: rate / 100.0,
        min_hours: hours,
        min_reflections: reflections,
        require_committee: f.require_committee.is_some(),
        max_nominees: max,
    };
    let year = if y.current {
        jiaxiao_store::org::ensure_school_year(&state.db.conn, jiaxiao_store::org::today_date())
            .await?
    } else {
        y.id
    };
    match excellence::compute(&state.db, &s.user.scope, id, year, &rule).await {
        Ok(_) => Ok(done(
            &format!("/ps/schools/{id}/excellence{}", y.q()),
            "saved",
        )),
        Err(e) => {
            let p = Posted::refused(lang, "rule", p.into_values(), e.into(), &[], |_| {})?;
            refused(&state, &s, &y, id, p).await
        }
    }
}

async fn school_of_round(state: &AppState, s: &Staff, round: i64) -> Result<i64, AppError> {
    Ok(
        excellence::certificate_round(&state.db, &s.user.scope, round)
            .await?
            .round
            .school_id,
    )
}

#[derive(Deserialize)]
struct ReviewForm {
    csrf: String,
    #[serde(default)]
    approve: Vec<i64>,
}

async fn review(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(round): Path<i64>,
    Submitted { form: f, raw }: Submitted<ReviewForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let school = school_of_round(&state, &s, round).await?;
    match excellence::review(&state.db, &s.user.scope, round, &f.approve).await {
        Ok(()) => Ok(done(
            &format!("/ps/schools/{school}/excellence{}", y.q()),
            "saved",
        )),
        Err(e) => {
            let p = Posted::refused(s.lang, "review", raw, e.into(), &[], |_| {})?;
            refused(&state, &s, &y, school, p).await
        }
    }
}

#[derive(Deserialize)]
struct NoticeForm {
    csrf: String,
    #[serde(default)]
    days: String,
}

async fn start_notice(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(round): Path<i64>,
    Submitted { form: f, raw }: Submitted<NoticeForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let school = school_of_round(&state, &s, round).await?;
    let r = match f.days.trim().parse::<i64>() {
        Ok(days) => excellence::start_notice(&state.db, &s.user.scope, round, days)
            .await
            .map_err(AppError::from),
        Err(_) => Err(AppError::Invalid("bad_days".into())),
    };
    match r {
        Ok(()) => Ok(done(
            &format!("/ps/schools/{school}/excellence{}", y.q()),
            "saved",
        )),
        Err(e) => {
            let fields: &FieldsOf = &[("bad_days", "days"), ("bad_notice_days", "days")];
            let p = Posted::refused(s.lang, "notice", raw, e, fields, |_| {})?;
            refused(&state, &s, &y, school, p).await
        }
    }
}

#[derive(Deserialize)]
struct ObjectionForm {
    csrf: String,
    guardian_id: i64,
    body: String,
}

async fn record_objection(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(round): Path<i64>,
    Submitted { form: f, raw }: Submitted<ObjectionForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let school = school_of_round(&state, &s, round).await?;
    match excellence::raise_objection(&state.db, &s.user.scope, round, f.guardian_id, &f.body).await
    {
        Ok(_) => Ok(done(
            &format!("/ps/schools/{school}/excellence{}", y.q()),
            "added",
        )),
        Err(e) => {
            let fields: &FieldsOf = &[("not_a_nominee", "guardian_id"), ("*", "body")];
            let p = Posted::refused(s.lang, "objection", raw, e.into(), fields, |_| {})?;
            refused(&state, &s, &y, school, p).await
        }
    }
}

#[derive(Deserialize)]
struct ResolveForm {
    csrf: String,
    round: i64,
    resolution: String,
    #[serde(default)]
    upheld: Option<String>,
}

async fn resolve_objection(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
    Submitted { form: f, raw }: Submitted<ResolveForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let school = school_of_round(&state, &s, f.round).await?;
    match excellence::resolve_objection(
        &state.db,
        &s.user.scope,
        id,
        &f.resolution,
        f.upheld.is_some(),
    )
    .await
    {
        Ok(_) => Ok(done(
            &format!("/ps/schools/{school}/excellence{}", y.q()),
            "saved",
        )),
        Err(e) => {
            let fields: &FieldsOf = &[("*", "resolution")];
            let p = Posted::refused(s.lang, "resolve", raw, e.into(), fields, |_| {})?;
            refused(&state, &s, &y, school, p.about(id)).await
        }
    }
}

#[derive(Deserialize)]
struct AwardForm {
    csrf: String,
    #[serde(default)]
    end_early: Option<String>,
}

async fn award(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(round): Path<i64>,
    Submitted { form: f, raw }: Submitted<AwardForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let school = school_of_round(&state, &s, round).await?;
    match excellence::award(&state.db, &s.user.scope, round, f.end_early.is_some()).await {
        Ok(_) => Ok(done(
            &format!("/ps/schools/{school}/excellence{}", y.q()),
            "saved",
        )),
        Err(e) => {
            let p = Posted::refused(s.lang, "award", raw, e.into(), &[], |_| {})?;
            refused(&state, &s, &y, school, p).await
        }
    }
}

async fn upload_seal(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(round): Path<i64>,
    mut mp: Multipart,
) -> Result<Response, AppError> {
    let (csrf, _, files) = read_upload(&mut mp).await?;
    s.check_csrf(&csrf)?;
    let r = excellence::certificate_round(&state.db, &s.user.scope, round)
        .await?
        .round;
    let school = r.school_id;
    let picture = match files.into_iter().next() {
        Some((name, bytes)) => super::prepare_picture(records::KIND_SEAL, bytes)
            .await
            .map(|b| (name, b)),
        None => Err(AppError::Invalid("empty_file".into())),
    };
    let (name, bytes) = match picture {
        Ok(p) => p,
        Err(e) => {
            let p = super::file_refused(s.lang, "seal", e)?;
            return refused(&state, &s, &y, school, p).await;
        }
    };
    let att = records::add_attachment(
        &state.db,
        &state.blobs,
        &s.user.scope,
        NewAttachment {
            school_id: school,
            // The round's year: a closed year keeps no new file, not even an orphan.
            school_year_id: Some(r.school_year_id),
            session_id: None,
            kind: records::KIND_SEAL,
            file_name: &name,
            bytes: &bytes,
        },
    )
    .await?;
    excellence::set_seal(&state.db, &s.user.scope, round, att).await?;
    Ok(done(
        &format!("/ps/schools/{school}/excellence{}", y.q()),
        "uploaded",
    ))
}

/// The awarded certificates of a round as one PDF (a parent gets only their own).
pub async fn certificates_pdf(
    state: &AppState,
    scope: &jiaxiao_store::Scope,
    lang: Lang,
    round: i64,
) -> Result<Vec<u8>, AppError> {
    let view = excellence::certificate_round(&state.db, scope, round).await?;
    let (school_name, year_name) = jiaxiao_store::parent_school::names(
        &state.db,
        view.round.school_id,
        view.round.school_year_id,
    )
    .await?;
    let seal = match view.round.seal_attachment_id {
        Some(a) => {
            let key =
                jiaxiao_store::parent_school::attachment_key(&state.db, view.round.school_id, a)
                    .await?;
            Some(state.blobs.get(&key).await?)
        }
        None => None,
    };
    let date = view
        .round
        .notice_to
        .clone()
        .unwrap_or_else(jiaxiao_store::today);
    let date = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
        .map(|d| {
            lang.tf(
                "ps.certificate.date",
                &[
                    ("y", d.format("%Y").to_string()),
                    ("m", d.format("%-m").to_string()),
                    ("d", d.format("%-d").to_string()),
                ],
            )
        })
        .unwrap_or(date);
    // The year's name is "2026-2027学年"; the sentence names the year in its own words.
    let years = year_name.trim_end_matches("学年");
    let certs: Vec<Certificate> = view
        .nominees
        .iter()
        .filter(|n| n.decision == excellence::AWARDED)
        .map(|n| Certificate {
            title: lang.t("ps.certificate.title"),
            recipient: n.name.clone(),
            body: vec![
                lang.tf("exports.certificate.body", &[("years", years.to_owned())]),
                lang.t("exports.certificate.closing"),
            ],
            school: school_name.clone(),
            date: date.clone(),
            number: n.certificate_no.clone().unwrap_or_default(),
            seal: seal.clone(),
            labels: CertificateLabels {
                after_recipient: lang.t("ps.certificate.after_recipient"),
                number: lang.t("ps.certificate.number"),
            },
        })
        .collect();
    if certs.is_empty() {
        return Err(AppError::Invalid("nothing_awarded".into()));
    }
    tokio::task::spawn_blocking(move || jiaxiao_export::pdf::certificates(&certs))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))
}

async fn certificates(
    State(state): State<AppState>,
    s: Staff,
    Path(round): Path<i64>,
) -> Result<Response, AppError> {
    let bytes = certificates_pdf(&state, &s.user.scope, s.lang, round).await?;
    Ok(pdf_response(bytes, "certificates.pdf"))
}

/// A `YYYY-MM-DD` date as the school writes it on paper ("2026年6月1日").
fn paper_date(lang: Lang, v: &str) -> String {
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map(|d| {
            lang.tf(
                "ps.certificate.date",
                &[
                    ("y", d.format("%Y").to_string()),
                    ("m", d.format("%-m").to_string()),
                    ("d", d.format("%-d").to_string()),
                ],
            )
        })
        .unwrap_or_else(|_| v.to_owned())
}

/// The printable public notice (公示) of a round once its notice period is set: the
/// approved (or, later, awarded) parents with their figures, the period and how to
/// object. No phone numbers: it goes on the notice board.
async fn notice_pdf(
    State(state): State<AppState>,
    s: Staff,
    Path(round): Path<i64>,
) -> Result<Response, AppError> {
    let lang = s.lang;
    let view = excellence::certificate_round(&state.db, &s.user.scope, round).await?;
    let (Some(from), Some(to)) = (view.round.notice_from.clone(), view.round.notice_to.clone())
    else {
        // Not in (or past) its notice period: there is no notice to print.
        return Err(AppError::NotFound);
    };
    let (school, year_name) = jiaxiao_store::parent_school::names(
        &state.db,
        view.round.school_id,
        view.round.school_year_id,
    )
    .await?;
    let years = year_name.trim_end_matches("学年").to_owned();
    let listed: Vec<_> = view
        .nominees
        .iter()
        .filter(|n| n.decision == excellence::APPROVED || n.decision == excellence::AWARDED)
        .collect();
    let days = match (
        chrono::NaiveDate::parse_from_str(&from, "%Y-%m-%d"),
        chrono::NaiveDate::parse_from_str(&to, "%Y-%m-%d"),
    ) {
        (Ok(f), Ok(t)) => (t - f).num_days() + 1,
        _ => 0,
    };
    let notice = jiaxiao_export::ExcellenceNotice {
        school: school.clone(),
        title: lang.tf("exports.notice.title", &[("years", years.clone())]),
        intro: vec![lang.tf(
            "exports.notice.intro",
            &[("years", years), ("n", listed.len().to_string())],
        )],
        headers: [
            "exports.notice.number",
            "ledger.col.parent",
            "ledger.col.rate",
            "ledger.col.hours",
            "ledger.col.reflections",
        ]
        .iter()
        .map(|k| lang.t(k))
        .collect(),
        rows: listed
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let why = n.reason();
                vec![
                    (i + 1).to_string(),
                    n.name.clone(),
                    why.as_ref()
                        .map(|w| crate::i18n::percent(w.attendance_rate))
                        .unwrap_or_default(),
                    why.as_ref()
                        .map(|w| format!("{:.1}", w.hours))
                        .unwrap_or_default(),
                    why.as_ref()
                        .map(|w| w.reflections.to_string())
                        .unwrap_or_default(),
                ]
            })
            .collect(),
        closing: vec![
            lang.tf(
                "exports.notice.period",
                &[
                    ("from", paper_date(lang, &from)),
                    ("to", paper_date(lang, &to)),
                    ("days", days.to_string()),
                ],
            ),
            lang.tf("exports.notice.objection", &[("school", school.clone())]),
        ],
        signature: lang.tf("exports.notice.signature", &[("school", school)]),
        date: paper_date(lang, &from),
    };
    let bytes = tokio::task::spawn_blocking(move || jiaxiao_export::excellence_notice(&notice))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(pdf_response(bytes, "notice.pdf"))
}

pub struct JobLine {
    pub id: i64,
    pub status: String,
    pub running: bool,
    pub created: String,
    pub attachment: Option<i64>,
    pub error: Option<String>,
    pub done: usize,
    pub total: usize,
}

#[derive(Template)]
#[template(path = "parent_school/ledger.html")]
struct LedgerPage {
    c: Chrome,
    nav: SchoolNav,
    jobs: Vec<JobLine>,
    can_write: bool,
}

fn job_line(
    state: &AppState,
    lang: Lang,
    j: &jiaxiao_store::entities::import_job::Model,
) -> JobLine {
    let result: serde_json::Value = j
        .result_json
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
    let running = j.status == jiaxiao_store::roster::STATUS_QUEUED
        || j.status == jiaxiao_store::roster::STATUS_RUNNING;
    let (done, total) = state.jobs.progress.get(j.id).unwrap_or((0, 0));
    JobLine {
        id: j.id,
        status: lang.t(&format!("ps.job.{}", j.status)),
        running,
        created: local_time(j.created_at),
        attachment: result.get("attachment_id").and_then(|v| v.as_i64()),
        error: result
            .get("error")
            .and_then(|v| v.as_str())
            .map(|e| lang.t(&format!("ps.job.error.{e}"))),
        done,
        total,
    }
}

async fn show_ledger(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let scope = &s.user.scope;
    let school = sessions::school(&state.db, scope, id).await?;
    let jobs =
        jiaxiao_store::roster::jobs_of(&state.db, scope, id, jiaxiao_store::roster::KIND_DOSSIER)
            .await?;
    let can_write = sessions::form_choices(&state.db, scope, id).await.is_ok();
    Ok(Html(
        LedgerPage {
            c: Chrome::new(s.lang, Some(&s.user)),
            nav: SchoolNav::new(school, "ledger").with_year(&y),
            jobs: jobs.iter().map(|j| job_line(&state, s.lang, j)).collect(),
            can_write,
        }
        .render()?,
    ))
}

async fn ledger_xlsx(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let year = y.id;
    let file = crate::ledger::ledger_xlsx(&state.db, &s.user.scope, s.lang, id, year).await?;
    Ok(xlsx_file_response(file, &format!("ledger-{id}.xlsx")))
}

/// The school's year of check-ins, one line per parent per session, as XLSX.
async fn checkins_xlsx(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let file =
        crate::ledger::year_checkins_xlsx(&state.db, &s.user.scope, s.lang, id, y.id).await?;
    Ok(xlsx_file_response(
        file,
        &format!("checkins-{id}-{}.xlsx", SchoolYear::param(&y.name)),
    ))
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn start_dossier(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    // Only those who may record the school's work queue its dossier.
    sessions::form_choices(&state.db, &s.user.scope, id).await?;
    let year = y.id;
    jiaxiao_store::roster::enqueue_other(
        &state.db,
        &s.user.scope,
        id,
        jiaxiao_store::roster::KIND_DOSSIER,
        "dossier.pdf",
        serde_json::json!({"school_id": id, "school_year_id": year, "lang": s.lang.code()}),
    )
    .await?;
    state.jobs.wake.notify_one();
    Ok(Redirect::to(&format!("/ps/schools/{id}/ledger{}", y.q())).into_response())
}

#[derive(Template)]
#[template(path = "parent_school/job_status.html")]
struct JobStatus {
    c: Chrome,
    j: JobLine,
}

async fn job_status(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let job = jiaxiao_store::roster::get_job_visible(&state.db, &s.user.scope, id).await?;
    Ok(Html(
        JobStatus {
            c: Chrome::new(s.lang, Some(&s.user)),
            j: job_line(&state, s.lang, &job),
        }
        .render()?,
    ))
}
