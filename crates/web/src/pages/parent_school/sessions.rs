//! Sessions (课次) for staff: the year's list, planning a session with its audience,
//! and a session's page — lesson plan (must be filed before it is marked held), the
//! check-in links, summary, photos and materials, parents' reflections, and exports.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use jiaxiao_domain::PhoneNumber;
use jiaxiao_domain::parent_school::{Audience, Form as LearningForm, SessionStatus, Window};
use jiaxiao_store::parent_school::records::{self, NewAttachment};
use jiaxiao_store::parent_school::sessions::{self, Choice, NewSession, SessionRow};
use serde::Deserialize;

use super::home::xlsx_response;
use super::{ManyForm, SchoolNav, SchoolYear, current_year, opt_text};
use crate::app::AppState;
use crate::auth::Staff;
use crate::error::AppError;
use crate::i18n::{Lang, local_time, percent};
use crate::pages::Chrome;
use crate::pages::form::{FieldErrors, Posted, Submitted, done, input_message, unprocessable};
use crate::pages::list::{Column, Filter, List, ListQuery, ListView, Row};
use jiaxiao_export::Cell;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ps/schools/{id}/sessions.xlsx", get(sessions_xlsx))
        .route(
            "/ps/schools/{id}/sessions",
            get(list_sessions).post(create_session),
        )
        .route("/ps/schools/{id}/sessions/new", get(new_session_form))
        .route("/sessions/{id}", get(show_session))
        .route("/sessions/{id}/edit", get(edit_form).post(update_session))
        .route("/sessions/{id}/lesson-plan", post(file_lesson_plan))
        .route("/sessions/{id}/summary", post(file_summary))
        .route("/sessions/{id}/status", post(set_status))
        .route("/sessions/{id}/window", post(set_window))
        .route("/sessions/{id}/remind", post(remind))
        .route(
            "/sessions/{id}/attachments",
            post(upload).layer(axum::extract::DefaultBodyLimit::max(
                4 * records::MAX_ATTACHMENT_BYTES,
            )),
        )
        .route("/sessions/{id}/checkins.xlsx", get(checkins_xlsx))
        .route("/attachments/{id}", get(download))
        .route("/attachments/{id}/delete", post(delete_attachment))
}

pub struct SessionLine {
    pub id: i64,
    pub when: String,
    pub title: String,
    pub form: String,
    pub status: String,
    pub instructor: String,
    pub topic: String,
    /// Who is invited: 全校 / 三年级、三年级(2)班 / 指定家长 3 人.
    pub audience: String,
}

/// How many grades and classes the list names before it says "等 N 个".
const LISTED_UNITS: usize = 3;

fn audience_label(lang: Lang, s: &SessionRow, label: Option<&sessions::AudienceLabel>) -> String {
    match s.audience.as_str() {
        "units" => {
            let units = label.map(|l| l.units.as_slice()).unwrap_or_default();
            let shown = units
                .iter()
                .take(LISTED_UNITS)
                .cloned()
                .collect::<Vec<_>>()
                .join(&lang.t("ps.list_sep"));
            if units.len() > LISTED_UNITS {
                lang.tf(
                    "ps.audience_col.more",
                    [("units", shown), ("n", units.len().to_string())],
                )
            } else {
                shown
            }
        }
        "parents" => lang.tf(
            "ps.audience_col.parents",
            [("n", label.map_or(0, |l| l.invitees).to_string())],
        ),
        _ => lang.t("ps.audience_col.school"),
    }
}

fn line(lang: Lang, s: &SessionRow, label: Option<&sessions::AudienceLabel>) -> SessionLine {
    SessionLine {
        id: s.id,
        when: local_time(s.starts_at),
        title: s.title.clone(),
        form: lang.t(&format!("ps.form.{}", s.form)),
        status: lang.t(&format!("ps.session_status.{}", s.status)),
        instructor: s.instructor_name.clone(),
        topic: s.topic_title.clone().unwrap_or_default(),
        audience: audience_label(lang, s, label),
    }
}

#[derive(Template)]
#[template(path = "parent_school/sessions.html")]
struct ListPage {
    c: Chrome,
    nav: SchoolNav,
    list: ListView,
}

/// A school year's sessions as a list, newest first (filters by form, status and date),
/// and its rows: the page and its XLSX read the same.
async fn session_list(
    state: &AppState,
    s: &Staff,
    id: i64,
    year: i64,
) -> Result<(List, Vec<Row>), AppError> {
    let lang = s.lang;
    let labels = sessions::audience_labels(&state.db, &s.user.scope, id, year).await?;
    let rows = sessions::list_sessions(&state.db, &s.user.scope, Some(id), Some(year))
        .await?
        .iter()
        .rev()
        .map(|r| {
            let l = line(lang, r, labels.get(&r.id));
            Row {
                href: Some(format!("/sessions/{}", r.id)),
                search: format!(
                    "{} {} {} {}",
                    l.title.to_lowercase(),
                    l.topic.to_lowercase(),
                    Row::search_text(&l.instructor, &[]),
                    l.audience
                ),
                tags: vec![("form", r.form.clone()), ("status", r.status.clone())],
                day: Some((r.starts_at + chrono::Duration::hours(8)).date_naive()),
                badge: Some((6, crate::pages::badge_class(&r.status))),
                cells: vec![
                    crate::ledger::time_cell(r.starts_at),
                    Cell::Text(l.title),
                    Cell::Text(l.form),
                    Cell::Text(l.audience),
                    Cell::Text(l.topic),
                    Cell::Text(l.instructor),
                    Cell::Text(l.status),
                ],
            }
        })
        .collect();
    let list = List::new(
        "sessions",
        format!("/ps/schools/{id}/sessions"),
        vec![
            Column::text("date", lang.t("ledger.col.date")),
            Column::text("title", lang.t("ledger.col.session")),
            Column::text("form", lang.t("ledger.col.form")),
            Column::fixed("audience", lang.t("ps.session.audience")),
            Column::text("topic", lang.t("ledger.col.topic")),
            Column::text("instructor", lang.t("ledger.col.instructor")),
            Column::text("status", lang.t("ledger.col.status_session")),
        ],
    )
    .filter(Filter::Choice {
        key: "form",
        label: lang.t("ledger.col.form"),
        options: LearningForm::ALL
            .iter()
            .map(|f| {
                (
                    f.code().to_owned(),
                    lang.t(&format!("ps.form.{}", f.code())),
                )
            })
            .collect(),
    })
    .filter(Filter::Choice {
        key: "status",
        label: lang.t("ledger.col.status_session"),
        options: SessionStatus::ALL
            .iter()
            .map(|f| {
                (
                    f.code().to_owned(),
                    lang.t(&format!("ps.session_status.{}", f.code())),
                )
            })
            .collect(),
    })
    .filter(Filter::Dates {
        label: lang.t("ledger.col.date"),
    })
    .link_col(1)
    .search_hint(lang.t("ps.session.search_hint"))
    .empty(lang.t("ps.session.none"))
    .export(format!("/ps/schools/{id}/sessions.xlsx"));
    Ok((list, rows))
}

async fn list_sessions(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    lq: ListQuery,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let school = sessions::school(&state.db, &s.user.scope, id).await?;
    let (list, rows) = session_list(&state, &s, id, y.id).await?;
    let selected = list.select(&lq, rows);
    let list = list.page(s.lang, &lq, &selected);
    Ok(Html(
        ListPage {
            c: Chrome::new(s.lang, Some(&s.user)),
            nav: SchoolNav::new(school, "sessions").with_year(&y),
            list,
        }
        .render()?,
    ))
}

/// The year's sessions, as filtered on the page, as XLSX.
async fn sessions_xlsx(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    lq: ListQuery,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let school = sessions::school(&state.db, &s.user.scope, id).await?;
    let (list, rows) = session_list(&state, &s, id, y.id).await?;
    let selected = list.select(&lq, rows);
    let title = s.lang.tf(
        "ps.session.xlsx_title",
        [("school", school.name.clone()), ("year", y.name.clone())],
    );
    crate::pages::list::xlsx(
        &title,
        &format!("sessions-{id}-{}.xlsx", SchoolYear::param(&y.name)),
        &list.columns,
        &selected,
    )
}

/// The session form, for a new session or to edit one (the same fields and widgets).
#[derive(Template)]
#[template(path = "parent_school/session_form.html")]
struct FormPage {
    c: Chrome,
    nav: SchoolNav,
    /// Where the form posts, and its heading.
    action: String,
    heading: String,
    forms: Vec<(String, String)>,
    topics: Vec<Choice>,
    courses: Vec<Choice>,
    staff: Vec<Choice>,
    units: Vec<Choice>,
    /// What the form shows: the defaults, the session's values, or what was posted
    /// when it is shown again.
    v: NewForm,
    errors: FieldErrors,
    message: Option<String>,
    edit: Option<EditNotes>,
}

/// What the edit form says beside the fields of the new-session form.
pub struct EditNotes {
    pub session_id: i64,
    /// Named parents the caller may see, each with a box to keep them.
    pub invitees: Vec<sessions::Invitee>,
    /// Named parents outside the caller's reach, kept as they are.
    pub hidden: usize,
    pub checkins: i64,
    pub held: bool,
    pub cancelled: bool,
}

async fn new_session_form(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let date = (Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(7))
        .format("%Y-%m-%d")
        .to_string();
    let v = NewForm {
        date,
        time: "19:00".into(),
        duration_minutes: "60".into(),
        form: LearningForm::Lecture.code().into(),
        audience: Audience::School.code().into(),
        ..Default::default()
    };
    let year = current_year(&state).await?;
    render_form(&state, &s, id, year, None, v, FieldErrors::default(), None).await
}

/// The form for a new session of school `id` (`edit` None) or for editing one, its
/// courses those of school year `year`.
#[allow(clippy::too_many_arguments)]
async fn render_form(
    state: &AppState,
    s: &Staff,
    id: i64,
    year: i64,
    edit: Option<EditNotes>,
    v: NewForm,
    errors: FieldErrors,
    message: Option<String>,
) -> Result<Html<String>, AppError> {
    let school = sessions::school(&state.db, &s.user.scope, id).await?;
    let (topics, staff, units) = sessions::form_choices(&state.db, &s.user.scope, id).await?;
    let courses = sessions::course_choices(&state.db, &s.user.scope, id, year).await?;
    // A meeting day's breakout keeps its form; other sessions choose among the plannable.
    let forms = LearningForm::ALL
        .iter()
        .filter(|f| {
            if v.form == LearningForm::Breakout.code() && edit.is_some() {
                f.code() == v.form
            } else {
                f.plannable()
            }
        })
        .map(|f| (f.code().to_owned(), s.lang.t(&format!("ps.form.{f}"))))
        .collect();
    let (action, heading) = match &edit {
        Some(e) => (
            format!("/sessions/{}/edit", e.session_id),
            s.lang.t("ps.session_edit.title"),
        ),
        None => (
            format!("/ps/schools/{id}/sessions"),
            s.lang.t("ps.session.new"),
        ),
    };
    Ok(Html(
        FormPage {
            c: Chrome::new(s.lang, Some(&s.user)),
            nav: SchoolNav::new(school, "sessions"),
            action,
            heading,
            forms,
            topics,
            courses,
            staff,
            units,
            v,
            errors,
            message,
            edit,
        }
        .render()?,
    ))
}

/// The session form as posted; every field is text so a form with a mistake can be
/// shown again exactly as it was typed.
#[derive(Deserialize, Default)]
pub struct NewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub form: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub time: String,
    #[serde(default)]
    pub duration_minutes: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub online_url: String,
    #[serde(default)]
    pub topic_id: String,
    #[serde(default)]
    pub course_id: String,
    #[serde(default)]
    pub instructor_staff_id: String,
    #[serde(default)]
    pub instructor_name: String,
    #[serde(default)]
    pub instructor_title: String,
    #[serde(default)]
    pub instructor_org: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default)]
    pub units: Vec<String>,
    #[serde(default)]
    pub phones: String,
    /// Named parents kept on an edited session (their ids).
    #[serde(default)]
    pub keep: Vec<String>,
    #[serde(default)]
    pub capacity: String,
}

impl NewForm {
    /// Whether unit `id` was chosen, for showing the form again.
    pub fn has_unit(&self, id: &i64) -> bool {
        let id = id.to_string();
        self.units.contains(&id)
    }

    /// Whether named parent `id` is kept, for showing the edit form again.
    pub fn keeps(&self, id: &i64) -> bool {
        let id = id.to_string();
        self.keep.contains(&id)
    }
}

/// A Beijing date and clock time as UTC; dates outside 2000–2100 are refused.
pub fn beijing(date: &str, time: &str) -> Result<chrono::DateTime<Utc>, AppError> {
    use chrono::Datelike;
    let d = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| jiaxiao_domain::text::plausible_year(d.year()))
        .ok_or_else(|| AppError::Invalid("bad_date".into()))?;
    let t = NaiveTime::parse_from_str(time.trim(), "%H:%M")
        .map_err(|_| AppError::Invalid("bad_time".into()))?;
    let local = d.and_time(t) - chrono::Duration::hours(8);
    Ok(Utc.from_utc_datetime(&local))
}

/// The field a store code is about, to show its message beside that field.
fn field_of(code: &str) -> Option<&'static str> {
    Some(match code {
        "title_missing" => "title",
        "instructor_missing" => "instructor_name",
        "bad_duration" => "duration_minutes",
        "bad_capacity" => "capacity",
        "breakout_without_meeting_day" => "form",
        "online_url_missing" | "url_not_http" => "online_url",
        "topic_outside_school" => "topic_id",
        "course_outside_school" => "course_id",
        "breakout_form_fixed" => "form",
        "year_change_with_checkins" => "date",
        "staff_not_at_school" => "instructor_staff_id",
        "audience_outside_school" | "audience_empty" => "audience",
        "guardian_not_at_school" => "phones",
        "bad_date" => "date",
        _ => return None,
    })
}

/// An optional id from a select: empty is none, anything else must be a number.
fn opt_id(s: &str) -> Result<Option<i64>, ()> {
    match s.trim() {
        "" => Ok(None),
        t => t.parse().map(Some).map_err(|_| ()),
    }
}

async fn create_session(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    ManyForm(f): ManyForm<NewForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    // The school before the body: a school the caller may not plan for is 404 whatever
    // the form holds.
    jiaxiao_store::parent_school::check_writable(&state.db, &s.user.scope, id).await?;
    let year = current_year(&state).await?;
    let mut errors = FieldErrors::default();
    let Some(new) = read_form(&state, &s, id, &f, Vec::new(), &mut errors).await? else {
        return invalid_form(&state, &s, id, year, None, f, errors).await;
    };
    match sessions::create_session(&state.db, &s.user.scope, new).await {
        Ok(sid) => Ok(done(&format!("/sessions/{sid}"), "session_created")),
        Err(jiaxiao_store::StoreError::Invalid { code }) => {
            store_refusal(s.lang, code, &mut errors);
            invalid_form(&state, &s, id, year, None, f, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A store's refusal beside the field it is about, or above the form.
fn store_refusal(lang: Lang, code: &'static str, errors: &mut FieldErrors) {
    let msg = input_message(lang, code, jiaxiao_domain::text::Field::Line);
    match field_of(code) {
        Some(field) => errors.add(field, msg),
        None => errors.add("form_top", msg),
    }
}

/// The session form of school `id` read into a [`NewSession`], or `None` with each
/// mistake in `errors`. `named` are parents invited whatever the form says (those of
/// an edited session the caller cannot see).
async fn read_form(
    state: &AppState,
    s: &Staff,
    id: i64,
    f: &NewForm,
    named: Vec<i64>,
    errors: &mut FieldErrors,
) -> Result<Option<NewSession>, AppError> {
    use jiaxiao_domain::text::{Field, clean, http_url};
    let lang = s.lang;
    for (name, field, value) in [
        ("title", Field::Title, &f.title),
        ("place", Field::Line, &f.place),
        ("instructor_name", Field::Name, &f.instructor_name),
        ("instructor_title", Field::Line, &f.instructor_title),
        ("instructor_org", Field::Line, &f.instructor_org),
    ] {
        if let Err(e) = clean(field, value) {
            errors.add(name, input_message(lang, e.code(), field));
        }
    }
    if !f.online_url.trim().is_empty()
        && let Err(e) = http_url(&f.online_url)
    {
        errors.add("online_url", input_message(lang, e.code(), Field::Url));
    }
    let form = LearningForm::from_code(&f.form);
    if form.is_none() {
        errors.add("form", lang.t("input.bad_form_kind"));
    }
    let audience = Audience::from_code(&f.audience);
    if audience.is_none() {
        errors.add("audience", lang.t("input.bad_audience"));
    }
    let starts_at = match beijing(&f.date, &f.time) {
        Ok(t) => Some(t),
        Err(e) => {
            let (field, code) = match &e {
                AppError::Invalid(c) if c == "bad_time" => ("time", "bad_time"),
                _ => ("date", "bad_date"),
            };
            errors.add(field, input_message(lang, code, Field::Line));
            None
        }
    };
    let duration: Option<i32> = f.duration_minutes.trim().parse().ok();
    if duration.is_none() {
        errors.add(
            "duration_minutes",
            input_message(lang, "bad_duration", Field::Line),
        );
    }
    let capacity = match f.capacity.trim() {
        "" => None,
        c => match c.parse::<i32>() {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                errors.add("capacity", input_message(lang, "bad_capacity", Field::Line));
                None
            }
        },
    };
    let topic_id = opt_id(&f.topic_id).unwrap_or_else(|_| {
        errors.add("topic_id", lang.t("input.bad_id"));
        None
    });
    let course_id = opt_id(&f.course_id).unwrap_or_else(|_| {
        errors.add("course_id", lang.t("input.bad_id"));
        None
    });
    let instructor_staff_id = opt_id(&f.instructor_staff_id).unwrap_or_else(|_| {
        errors.add("instructor_staff_id", lang.t("input.bad_id"));
        None
    });
    let mut audience_units = Vec::with_capacity(f.units.len());
    for u in &f.units {
        match u.trim().parse::<i64>() {
            Ok(n) => audience_units.push(n),
            Err(_) => errors.add("audience", lang.t("input.bad_id")),
        }
    }
    let mut invitees = Vec::new();
    if audience == Some(Audience::Parents) {
        invitees = named;
        for k in &f.keep {
            match k.trim().parse::<i64>() {
                Ok(n) => invitees.push(n),
                Err(_) => errors.add("phones", lang.t("input.bad_id")),
            }
        }
        let mut phones = Vec::new();
        for p in f
            .phones
            .split(|c: char| c.is_whitespace() || c == ',' || c == '，')
        {
            if p.is_empty() {
                continue;
            }
            match PhoneNumber::parse(p) {
                Ok(n) => phones.push(n.to_string()),
                Err(e) => errors.add("phones", lang.t(&format!("reason.{}", e.code()))),
            }
        }
        if errors.get("phones").is_none() {
            let (found, missing) =
                sessions::guardians_by_phone(&state.db, &s.user.scope, id, &phones).await?;
            if !missing.is_empty() {
                errors.add(
                    "phones",
                    lang.tf(
                        "ps.session.unknown_phones",
                        &[("phones", missing.join("、"))],
                    ),
                );
            }
            invitees.extend(found);
        }
    }
    let (Some(form), Some(audience), Some(starts_at), Some(duration)) =
        (form, audience, starts_at, duration)
    else {
        return Ok(None);
    };
    if !errors.is_empty() {
        return Ok(None);
    }
    Ok(Some(NewSession {
        school_id: id,
        topic_id,
        course_id,
        title: f.title.clone(),
        form: Some(form),
        starts_at,
        duration_minutes: duration,
        place: opt_text(&f.place),
        online_url: opt_text(&f.online_url),
        instructor_staff_id,
        instructor_name: f.instructor_name.clone(),
        instructor_title: opt_text(&f.instructor_title),
        instructor_org: opt_text(&f.instructor_org),
        audience: Some(audience),
        audience_units,
        invitees,
        capacity,
        ..Default::default()
    }))
}

/// The notes of the edit form, from the session as it is.
fn edit_notes(ev: &sessions::EditView) -> EditNotes {
    EditNotes {
        session_id: ev.row.id,
        invitees: ev.invitees.clone(),
        hidden: ev.hidden_invitees.len(),
        checkins: ev.checkins,
        held: ev.row.status == SessionStatus::Held.code(),
        cancelled: ev.row.status == SessionStatus::Cancelled.code(),
    }
}

/// The edit form of a session, filled with its current values; 404 unless the caller
/// may plan sessions at its school.
async fn edit_form(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let ev = sessions::edit_view(&state.db, &s.user.scope, id).await?;
    let (_, staff, _) = sessions::form_choices(&state.db, &s.user.scope, ev.row.school_id).await?;
    let r = &ev.row;
    let (date, time) = super::local_parts(r.starts_at);
    // A staff instructor's own name is left blank, so choosing another staff member
    // takes that one's name instead of keeping the old one.
    let staff_name = r
        .instructor_staff_id
        .and_then(|sid| staff.iter().find(|c| c.id == sid))
        .map(|c| c.name.as_str());
    let instructor_name = if staff_name == Some(r.instructor_name.as_str()) {
        String::new()
    } else {
        r.instructor_name.clone()
    };
    let id_text = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let v = NewForm {
        title: r.title.clone(),
        form: r.form.clone(),
        date,
        time,
        duration_minutes: r.duration_minutes.to_string(),
        place: r.place.clone().unwrap_or_default(),
        online_url: r.online_url.clone().unwrap_or_default(),
        topic_id: id_text(r.topic_id),
        course_id: id_text(r.course_id),
        instructor_staff_id: id_text(r.instructor_staff_id),
        instructor_name,
        instructor_title: r.instructor_title.clone().unwrap_or_default(),
        instructor_org: r.instructor_org.clone().unwrap_or_default(),
        audience: r.audience.clone(),
        units: ev.units.iter().map(i64::to_string).collect(),
        keep: ev.invitees.iter().map(|i| i.id.to_string()).collect(),
        capacity: r.capacity.map(|c| c.to_string()).unwrap_or_default(),
        ..Default::default()
    };
    let notes = edit_notes(&ev);
    let mut errors = FieldErrors::default();
    let mut status = axum::http::StatusCode::OK;
    if notes.cancelled {
        errors.add("form_top", s.lang.t("ps.error.session_cancelled"));
        status = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    let page = render_form(
        &state,
        &s,
        r.school_id,
        r.school_year_id,
        Some(notes),
        v,
        errors,
        None,
    )
    .await?;
    Ok((status, page).into_response())
}

/// Saves an edited session: back to its page with a message, which says the check-ins
/// were kept when the audience of a session with check-ins changed.
async fn update_session(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    ManyForm(f): ManyForm<NewForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    // The session before the body: one the caller may not edit is 404 whatever was posted.
    let ev = sessions::edit_view(&state.db, &s.user.scope, id).await?;
    let (school, year) = (ev.row.school_id, ev.row.school_year_id);
    let mut errors = FieldErrors::default();
    let read = read_form(
        &state,
        &s,
        school,
        &f,
        ev.hidden_invitees.clone(),
        &mut errors,
    )
    .await?;
    let notes = edit_notes(&ev);
    let Some(changes) = read else {
        return invalid_form(&state, &s, school, year, Some(notes), f, errors).await;
    };
    match sessions::update_session(&state.db, &s.user.scope, id, changes, None).await {
        Ok(e) => {
            let key = if e.audience_changed && e.checkins > 0 {
                "session_updated_checkins_kept"
            } else if e.changed {
                "session_updated"
            } else {
                "session_unchanged"
            };
            Ok(done(&format!("/sessions/{id}"), key))
        }
        Err(jiaxiao_store::StoreError::Invalid { code }) => {
            store_refusal(s.lang, code, &mut errors);
            invalid_form(&state, &s, school, year, Some(notes), f, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The session form again with what was typed, each message beside its field: 422.
async fn invalid_form(
    state: &AppState,
    s: &Staff,
    id: i64,
    year: i64,
    edit: Option<EditNotes>,
    f: NewForm,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let message = Some(s.lang.t("input.fix_below"));
    let page = render_form(state, s, id, year, edit, f, errors, message).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

pub struct AttachmentView {
    pub id: i64,
    pub name: String,
    pub image: bool,
}

pub struct CheckinView {
    pub name: String,
    pub status: String,
    pub when: String,
}

pub struct ReflectionView {
    pub name: String,
    pub body: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "parent_school/session.html")]
struct ShowPage {
    c: Chrome,
    nav: SchoolNav,
    s: SessionRow,
    when: String,
    ends: String,
    form: String,
    audience: String,
    audience_units: String,
    status: String,
    invited_parents: i64,
    invited_children: i64,
    attended: i64,
    excused: i64,
    absent: i64,
    refusals: i64,
    rate: String,
    /// Check-ins by parents the session no longer invites (its audience changed).
    uninvited: i64,
    uninvited_lines: Vec<CheckinView>,
    photos: Vec<AttachmentView>,
    materials: Vec<AttachmentView>,
    reflections: Vec<ReflectionView>,
    can_write: bool,
    message: Option<String>,
    /// A refused form, shown again with what was typed.
    posted: Posted,
}

#[derive(Deserialize, Default)]
struct MsgQuery {
    #[serde(default)]
    msg: Option<String>,
    #[serde(default)]
    n: Option<usize>,
}

async fn show_session(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Query(q): Query<MsgQuery>,
) -> Result<Html<String>, AppError> {
    Ok(Html(render_show(&state, &s, id, q, Posted::none()).await?))
}

/// The session's page again with the refused form `p`: 422.
async fn refused(state: &AppState, s: &Staff, id: i64, p: Posted) -> Result<Response, AppError> {
    let page = render_show(state, s, id, MsgQuery::default(), p).await?;
    Ok(unprocessable(page))
}

async fn render_show(
    state: &AppState,
    s: &Staff,
    id: i64,
    q: MsgQuery,
    posted: Posted,
) -> Result<String, AppError> {
    let lang = s.lang;
    let scope = &s.user.scope;
    let row = sessions::get_session(&state.db, scope, id).await?;
    let school = sessions::school(&state.db, scope, row.school_id).await?;
    let counts = sessions::counts(&state.db, scope, id).await?;
    let units = sessions::audience_units(&state.db, id).await?;
    let files = records::session_attachments(&state.db, scope, id).await?;
    let reflections = records::session_reflections(&state.db, scope, id).await?;
    let uninvited = if counts.uninvited > 0 {
        sessions::uninvited_checkins(&state.db, scope, id).await?
    } else {
        Vec::new()
    };
    // A session of a closed school year shows no forms: the store would refuse them.
    let y = SchoolYear::of_id(state, s.lang, row.school_year_id, row.school_id).await?;
    let can_write = y.open && sessions::session_secret(&state.db, scope, id).await.is_ok();
    let (photos, materials): (Vec<_>, Vec<_>) = files
        .into_iter()
        .filter(|a| a.kind == records::KIND_PHOTO || a.kind == records::KIND_MATERIAL)
        .partition(|a| a.kind == records::KIND_PHOTO);
    let view = |a: records::AttachmentRow| AttachmentView {
        id: a.id,
        image: a.content_type.starts_with("image/"),
        name: a.file_name,
    };
    // Messages are translation keys from our own redirects, never raw text.
    let message = q
        .msg
        .filter(|m| m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .map(|m| {
            lang.tf(
                &format!("ps.msg.{m}"),
                [("n", q.n.unwrap_or(0).to_string())],
            )
        });
    Ok(ShowPage {
        c: Chrome::new(lang, Some(&s.user)),
        nav: SchoolNav::new(school, "sessions").with_year(&y),
        when: local_time(row.starts_at),
        ends: crate::i18n::local_clock(row.ends_at()),
        form: lang.t(&format!("ps.form.{}", row.form)),
        audience: lang.t(&format!("ps.audience.{}", row.audience)),
        audience_units: units
            .iter()
            .map(|u| u.name.clone())
            .collect::<Vec<_>>()
            .join("、"),
        status: lang.t(&format!("ps.session_status.{}", row.status)),
        invited_parents: counts.invited_parents,
        invited_children: counts.invited_children,
        attended: counts.present + counts.late,
        excused: counts.excused,
        absent: counts.absent,
        refusals: counts.refusals,
        rate: percent(counts.rate()),
        uninvited: counts.uninvited,
        uninvited_lines: uninvited
            .into_iter()
            .map(|u| CheckinView {
                name: u.guardian_name,
                status: lang.t(&format!("ps.status.{}", u.status)),
                when: local_time(u.checked_at),
            })
            .collect(),
        photos: photos.into_iter().map(view).collect(),
        materials: materials.into_iter().map(view).collect(),
        reflections: reflections
            .into_iter()
            .map(|r| ReflectionView {
                name: r.guardian_name,
                body: r.body,
                when: local_time(r.created_at),
            })
            .collect(),
        can_write,
        message,
        posted,
        s: row,
    }
    .render()?)
}

#[derive(Deserialize)]
struct TextForm {
    csrf: String,
    text: String,
}

async fn file_lesson_plan(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Submitted { form: f, raw }: Submitted<TextForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    match sessions::file_lesson_plan(&state.db, &s.user.scope, id, &f.text, None).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/sessions/{id}?msg=lesson_plan_filed")).into_response())
        }
        Err(e) => {
            let p = Posted::refused(
                s.lang,
                "lesson_plan",
                raw,
                e.into(),
                &[("*", "text")],
                |p| p.check(s.lang, "text", jiaxiao_domain::text::Field::Note, &f.text),
            )?;
            refused(&state, &s, id, p).await
        }
    }
}

async fn file_summary(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Submitted { form: f, raw }: Submitted<TextForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    match sessions::file_summary(&state.db, &s.user.scope, id, &f.text, None).await {
        Ok(()) => Ok(Redirect::to(&format!("/sessions/{id}?msg=summary_filed")).into_response()),
        Err(e) => {
            let p = Posted::refused(s.lang, "summary", raw, e.into(), &[("*", "text")], |p| {
                p.check(s.lang, "text", jiaxiao_domain::text::Field::Note, &f.text)
            })?;
            refused(&state, &s, id, p).await
        }
    }
}

#[derive(Deserialize)]
struct StatusForm {
    csrf: String,
    status: String,
}

async fn set_status(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let status =
        SessionStatus::from_code(&f.status).ok_or(AppError::Invalid("bad_status".into()))?;
    match sessions::set_status(&state.db, &s.user.scope, id, status, None).await {
        Ok(()) => Ok(
            Redirect::to(&format!("/sessions/{id}?msg=status_{}", status.code())).into_response(),
        ),
        Err(jiaxiao_store::StoreError::Invalid {
            code: "lesson_plan_missing",
        }) => Ok(Redirect::to(&format!("/sessions/{id}?msg=lesson_plan_missing")).into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

/// Texts every invited parent who has not checked in yet (through the configured SMS
/// provider); the count comes back on the session page.
async fn remind(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let row = sessions::get_session(&state.db, &s.user.scope, id).await?;
    let to = sessions::remind(&state.db, &s.user.scope, id).await?;
    let mut sent = 0;
    for (name, phone) in &to {
        let body = s.lang.tf(
            "ps.session.reminder_sms",
            [
                ("name", name.clone()),
                ("school", row.school_name.clone()),
                ("title", row.title.clone()),
                ("when", local_time(row.starts_at)),
                (
                    "place",
                    row.place
                        .clone()
                        .or(row.online_url.clone())
                        .unwrap_or_default(),
                ),
            ],
        );
        if state.sms.send(phone, &body).await.is_ok() {
            sent += 1;
        }
    }
    Ok(Redirect::to(&format!("/sessions/{id}?msg=reminded&n={sent}")).into_response())
}

#[derive(Deserialize)]
struct WindowForm {
    csrf: String,
    #[serde(default)]
    opens_before_minutes: String,
    #[serde(default)]
    closes_after_minutes: String,
    #[serde(default)]
    late_after_minutes: String,
}

async fn set_window(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Submitted { form: f, raw }: Submitted<WindowForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    // The session before the numbers: another school's session is 404.
    sessions::session_secret(&state.db, &s.user.scope, id).await?;
    let mut p = Posted::new("window", raw);
    // The store's range (a day either way), said beside the field instead of at the top.
    let mut minutes = |field: &'static str, v: &str| match v.trim().parse::<i32>() {
        Ok(n) if (0..=1440).contains(&n) => n,
        Ok(_) => {
            p.add(field, s.lang.t("reason.bad_window"));
            0
        }
        Err(_) => {
            p.add(field, s.lang.t("form.bad_number"));
            0
        }
    };
    let window = Window {
        opens_before_minutes: minutes("opens_before_minutes", &f.opens_before_minutes),
        closes_after_minutes: minutes("closes_after_minutes", &f.closes_after_minutes),
        late_after_minutes: minutes("late_after_minutes", &f.late_after_minutes),
    };
    if !p.errors.is_empty() {
        return refused(&state, &s, id, p).await;
    }
    match sessions::set_window(&state.db, &s.user.scope, id, window, None).await {
        Ok(()) => Ok(Redirect::to(&format!("/sessions/{id}?msg=window_saved")).into_response()),
        Err(e) => {
            let p = Posted::refused(s.lang, "window", p.into_values(), e.into(), &[], |_| {})?;
            refused(&state, &s, id, p).await
        }
    }
}

/// Reads a multipart upload: the CSRF token, a kind, and one or more files.
pub async fn read_upload(
    mp: &mut Multipart,
) -> Result<(String, String, Vec<(String, Vec<u8>)>), AppError> {
    let (mut csrf, mut kind, mut files) = (String::new(), String::new(), Vec::new());
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|_| AppError::Invalid("bad_upload".into()))?
    {
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "kind" => kind = field.text().await.unwrap_or_default(),
            "file" => {
                let name = field.file_name().unwrap_or("file").to_owned();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|_| AppError::Invalid("file_too_large".into()))?;
                if !bytes.is_empty() {
                    files.push((name, bytes.to_vec()));
                }
            }
            _ => {}
        }
    }
    Ok((csrf, kind, files))
}

async fn upload(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    mut mp: Multipart,
) -> Result<Response, AppError> {
    let (csrf, kind, files) = read_upload(&mut mp).await?;
    s.check_csrf(&csrf)?;
    let kind = match kind.as_str() {
        "photo" => records::KIND_PHOTO,
        _ => records::KIND_MATERIAL,
    };
    let row = sessions::get_session(&state.db, &s.user.scope, id).await?;
    // Every file is checked before any is kept: a refusal keeps none, so the form can
    // simply be sent again.
    let mut ready = Vec::with_capacity(files.len());
    let mut refusal = files
        .is_empty()
        .then(|| AppError::Invalid("empty_file".into()));
    for (name, bytes) in files {
        match super::prepare_picture(kind, bytes).await {
            Ok(b) => ready.push((name, b)),
            Err(e) => {
                refusal = Some(e);
                break;
            }
        }
    }
    if let Some(e) = refusal {
        let mut p = super::file_refused(s.lang, "upload", e)?;
        p = Posted::new("upload", vec![("kind".into(), kind.to_owned())]).with_errors(p);
        return refused(&state, &s, id, p).await;
    }
    for (name, bytes) in ready {
        records::add_attachment(
            &state.db,
            &state.blobs,
            &s.user.scope,
            NewAttachment {
                school_id: row.school_id,
                school_year_id: None,
                session_id: Some(id),
                kind,
                file_name: &name,
                bytes: &bytes,
            },
        )
        .await?;
    }
    Ok(Redirect::to(&format!("/sessions/{id}?msg=uploaded")).into_response())
}

/// Deletes a photo or material of a session, back to the session's page.
async fn delete_attachment(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let session = records::delete_attachment(&state.db, &state.blobs, &s.user.scope, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(done(&format!("/sessions/{session}"), "deleted"))
}

/// A file of the caller's scope; images inline, everything else as a download.
async fn download(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let a = records::get_attachment(&state.db, &s.user.scope, id).await?;
    let bytes = state.blobs.get(&a.storage_key).await?;
    let disposition = if a.content_type.starts_with("image/") || a.content_type == "application/pdf"
    {
        "inline"
    } else {
        "attachment"
    };
    let name = urlencoding::encode(&a.file_name).into_owned();
    Ok((
        [
            (header::CONTENT_TYPE, a.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename*=UTF-8''{name}"),
            ),
            // Scanned sign-in sheets and dossiers carry parents' names and signatures.
            (header::CACHE_CONTROL, "no-store".into()),
        ],
        bytes,
    )
        .into_response())
}

async fn checkins_xlsx(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let bytes = crate::ledger::checkins_xlsx(&state.db, &s.user.scope, s.lang, id).await?;
    Ok(xlsx_response(bytes, &format!("checkins-{id}.xlsx")))
}
