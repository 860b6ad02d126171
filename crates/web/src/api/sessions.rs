//! The parent school's sessions over the API (issue 14): list, read, plan, edit, status,
//! check-in window, lesson plan and summary, and the check-in list of every invited
//! household — each through the same scoped store function as its page.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, Utc};
use jiaxiao_domain::parent_school::{Audience, Form, SessionStatus, Window};
use jiaxiao_store::parent_school::sessions::{self, NewSession, SessionFilter, SessionRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ErrorBody;
use super::checkin::china_time;
use super::conventions::{self as conv, idempotent, if_match, with_etag};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::AppError;

/// A session of the parent school (讲座, 家长课堂, …) as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct Session {
    id: i64,
    school_id: i64,
    school_name: String,
    /// The school year it belongs to, e.g. `2025-2026`.
    school_year: String,
    title: String,
    /// lecture, parent_class, open_day, forum, online or breakout
    form: String,
    /// planned, held or cancelled
    status: String,
    /// China time, RFC 3339 (`+08:00`).
    starts_at: String,
    duration_minutes: i32,
    place: Option<String>,
    online_url: Option<String>,
    topic_id: Option<i64>,
    topic_title: Option<String>,
    course_id: Option<i64>,
    /// The meeting day it belongs to, for a class breakout.
    activity_id: Option<i64>,
    instructor_staff_id: Option<i64>,
    instructor_name: String,
    instructor_title: Option<String>,
    instructor_org: Option<String>,
    /// school, units (grades or classes) or parents (named)
    audience: String,
    capacity: Option<i32>,
    lesson_plan: Option<String>,
    summary: Option<String>,
    window: CheckinWindow,
    /// Goes up with every change; send it back as `If-Match: "v<version>"` (also the `ETag`).
    version: i64,
}

/// When parents may check in, in minutes around the start.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy)]
pub struct CheckinWindow {
    /// Check-in opens this long before the start.
    #[schema(minimum = 0, maximum = 1440)]
    opens_before_minutes: i32,
    /// …and closes this long after it.
    #[schema(minimum = 0, maximum = 1440)]
    closes_after_minutes: i32,
    /// Check-ins this long after the start are `late`.
    #[schema(minimum = 0, maximum = 1440)]
    late_after_minutes: i32,
}

impl Session {
    fn from_row(r: SessionRow, year: String) -> Session {
        Session {
            id: r.id,
            school_id: r.school_id,
            school_name: r.school_name,
            school_year: year,
            title: r.title,
            form: r.form,
            status: r.status,
            starts_at: china_time(r.starts_at),
            duration_minutes: r.duration_minutes,
            place: r.place,
            online_url: r.online_url,
            topic_id: r.topic_id,
            topic_title: r.topic_title,
            course_id: r.course_id,
            activity_id: r.activity_id,
            instructor_staff_id: r.instructor_staff_id,
            instructor_name: r.instructor_name,
            instructor_title: r.instructor_title,
            instructor_org: r.instructor_org,
            audience: r.audience,
            capacity: r.capacity,
            lesson_plan: r.lesson_plan,
            summary: r.summary,
            window: CheckinWindow {
                opens_before_minutes: r.opens_before_minutes,
                closes_after_minutes: r.closes_after_minutes,
                late_after_minutes: r.late_after_minutes,
            },
            version: r.version,
        }
    }
}

/// A session as planned or edited: the fields of the page's form.
#[derive(Deserialize, ToSchema)]
pub struct SessionBody {
    school_id: i64,
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    /// lecture, parent_class, open_day, forum or online (a breakout is made with its
    /// meeting day)
    form: String,
    /// RFC 3339; without an offset it is China time.
    #[schema(example = "2026-12-18T19:00:00+08:00")]
    starts_at: String,
    #[schema(minimum = 1, maximum = 1440)]
    duration_minutes: i32,
    place: Option<String>,
    online_url: Option<String>,
    topic_id: Option<i64>,
    course_id: Option<i64>,
    /// A staff member of the school; their name is used when `instructor_name` is empty.
    instructor_staff_id: Option<i64>,
    #[serde(default)]
    instructor_name: String,
    instructor_title: Option<String>,
    instructor_org: Option<String>,
    /// school, units or parents
    audience: String,
    /// Grades or classes, for `units`.
    #[serde(default)]
    audience_units: Vec<i64>,
    /// Guardian ids, for `parents`.
    #[serde(default)]
    invitees: Vec<i64>,
    #[schema(minimum = 1)]
    capacity: Option<i32>,
}

impl SessionBody {
    fn into_new(self) -> Result<NewSession, AppError> {
        let bad = |c: &str| AppError::Invalid(c.into());
        let form = Form::from_code(&self.form).ok_or_else(|| bad("bad_form"))?;
        let audience = Audience::from_code(&self.audience).ok_or_else(|| bad("bad_audience"))?;
        Ok(NewSession {
            school_id: self.school_id,
            course_id: self.course_id,
            topic_id: self.topic_id,
            title: self.title,
            form: Some(form),
            starts_at: parse_time(&self.starts_at)?,
            duration_minutes: self.duration_minutes,
            place: self.place,
            online_url: self.online_url,
            instructor_staff_id: self.instructor_staff_id,
            instructor_name: self.instructor_name,
            instructor_title: self.instructor_title,
            instructor_org: self.instructor_org,
            audience: Some(audience),
            audience_units: self.audience_units,
            invitees: self.invitees,
            capacity: self.capacity,
            ..Default::default()
        })
    }
}

/// RFC 3339, or a local time without offset read as China time.
fn parse_time(s: &str) -> Result<DateTime<Utc>, AppError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    let china = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M"))
        .ok()
        .and_then(|n| n.and_local_timezone(china).single())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| AppError::Invalid("bad_time".into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    /// Only this school's sessions.
    school_id: Option<i64>,
    /// A school year, `2025-2026`; all years when absent.
    year: Option<String>,
    /// planned, held or cancelled
    status: Option<String>,
    /// lecture, parent_class, open_day, forum, online or breakout
    form: Option<String>,
    /// The cursor from the previous page's `Link` header.
    after: Option<String>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// `<start in ms>_<id>`: opaque to clients, who follow the `Link` header.
fn cursor(r: &SessionRow) -> String {
    format!("{}_{}", r.starts_at.timestamp_millis(), r.id)
}

fn parse_cursor(c: &str) -> Result<(DateTime<Utc>, i64), AppError> {
    let bad = || AppError::Invalid("bad_cursor".into());
    let (ms, id) = c.split_once('_').ok_or_else(bad)?;
    let at = DateTime::from_timestamp_millis(ms.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    Ok((at, id.parse().map_err(|_| bad())?))
}

/// The school years by id, for the `school_year` of each session.
async fn year_names(state: &AppState) -> Result<std::collections::HashMap<i64, String>, AppError> {
    Ok(jiaxiao_store::org::school_years(&state.db.conn)
        .await?
        .into_iter()
        .map(|y| (y.id, jiaxiao_store::org::year_param(&y.name).to_owned()))
        .collect())
}

/// Sessions the caller may see, by start time; the `Link` header names the next page
/// and `X-Total-Count` the number of matching sessions.
#[utoipa::path(get, path = "/api/v1/sessions", operation_id = "list_sessions", params(SessionQuery), tag = "parent school",
    responses((status = 200, body = [Session], headers(
        ("Link" = String, description = "the next page: `<…?after=…>; rel=\"next\"`, when this one is full"),
        ("X-Total-Count" = i64, description = "sessions matching the filters"))),
        (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    u: ApiUser,
    uri: Uri,
    Query(q): Query<SessionQuery>,
) -> Result<Response, AppError> {
    let limit = conv::limit(q.limit)?;
    let years = year_names(&state).await?;
    let school_year_id = match q.year.as_deref().map(str::trim).filter(|y| !y.is_empty()) {
        None => None,
        Some(y) => {
            let name = jiaxiao_store::org::year_name_of_param(y)
                .ok_or_else(|| AppError::Invalid("bad_year".into()))?;
            let param = jiaxiao_store::org::year_param(&name);
            // A year not on file has no sessions.
            Some(
                years
                    .iter()
                    .find(|(_, n)| *n == param)
                    .map_or(-1, |(id, _)| *id),
            )
        }
    };
    let f = SessionFilter {
        school_id: q.school_id,
        school_year_id,
        status: match q.status.as_deref() {
            None => None,
            Some(s) => Some(
                SessionStatus::from_code(s)
                    .ok_or_else(|| AppError::Invalid("bad_status".into()))?,
            ),
        },
        form: match q.form.as_deref() {
            None => None,
            Some(s) => {
                Some(Form::from_code(s).ok_or_else(|| AppError::Invalid("bad_form".into()))?)
            }
        },
        after: q.after.as_deref().map(parse_cursor).transpose()?,
        limit,
    };
    let (rows, total) = sessions::page(&state.db, &u.scope, &f, true).await?;
    let next = rows.last().map(cursor);
    let out: Vec<Session> = rows
        .into_iter()
        .map(|r| {
            let y = years.get(&r.school_year_id).cloned().unwrap_or_default();
            Session::from_row(r, y)
        })
        .collect();
    Ok(conv::page(&uri, out, limit, next, total))
}

async fn read(state: &AppState, u: &ApiUser, id: i64) -> Result<Session, AppError> {
    let r = sessions::get_session(&state.db, &u.scope, id).await?;
    let y = jiaxiao_store::org::school_year_name(&state.db.conn, r.school_year_id)
        .await?
        .map(|n| jiaxiao_store::org::year_param(&n).to_owned())
        .unwrap_or_default();
    Ok(Session::from_row(r, y))
}

fn versioned(status: StatusCode, s: Session) -> Response {
    let v = s.version;
    with_etag((status, Json(s)).into_response(), v)
}

/// One session, with its version as `ETag`.
#[utoipa::path(get, path = "/api/v1/sessions/{id}", operation_id = "get_session", tag = "parent school",
    responses((status = 200, body = Session, headers(("ETag" = String, description = "the version, for If-Match"))),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Ok(versioned(StatusCode::OK, read(&state, &u, id).await?))
}

/// Plans a session (staff who plan the school's sessions). Send an `Idempotency-Key`:
/// a retry with the same key and body gets the first answer, not a second session.
#[utoipa::path(post, path = "/api/v1/sessions", operation_id = "create_session", request_body = SessionBody, tag = "parent school",
    params(("Idempotency-Key" = Option<String>, Header, description = "1–64 of [A-Za-z0-9-_.:], new per create")),
    responses((status = 201, body = Session), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the first request with this key is still running"),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    u: ApiUser,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Result<Response, AppError> {
    u.check_write(&headers)?;
    let b: SessionBody = super::from_json(&body)?;
    idempotent(&state, &u, &method, &uri, &headers, &body, async {
        let new = b.into_new()?;
        let id = sessions::create_session(&state.db, &u.scope, new).await?;
        let s = read(&state, &u, id).await?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(s).unwrap_or_default(),
        ))
    })
    .await
}

/// Replaces a session's plan (the page's edit form). With `If-Match`, refused with 412
/// when someone changed it since. Check-ins are kept whatever the audience becomes.
#[utoipa::path(put, path = "/api/v1/sessions/{id}", operation_id = "update_session", request_body = SessionBody, tag = "parent school",
    params(("If-Match" = Option<String>, Header, description = "the ETag read, e.g. \"v3\"")),
    responses((status = 200, body = Session), (status = 401, body = ErrorBody),
        (status = 412, body = ErrorBody, description = "changed since the version in If-Match"),
        (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(b): Json<SessionBody>,
) -> Result<Response, AppError> {
    u.check_write(&headers)?;
    let expect = if_match(&headers)?;
    let current = sessions::get_session(&state.db, &u.scope, id).await?;
    if b.school_id != current.school_id {
        return Err(AppError::Invalid("school_fixed".into()));
    }
    sessions::update_session(&state.db, &u.scope, id, b.into_new()?, expect).await?;
    Ok(versioned(StatusCode::OK, read(&state, &u, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct StatusBody {
    /// held (needs the lesson plan) or cancelled
    status: String,
}

/// Marks a session held or cancelled.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/status", request_body = StatusBody, tag = "parent school",
    params(("If-Match" = Option<String>, Header, description = "the ETag read")),
    responses((status = 200, body = Session), (status = 401, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_status(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(b): Json<StatusBody>,
) -> Result<Response, AppError> {
    u.check_write(&headers)?;
    let status = SessionStatus::from_code(&b.status)
        .ok_or_else(|| AppError::Invalid("bad_status".into()))?;
    sessions::set_status(&state.db, &u.scope, id, status, if_match(&headers)?).await?;
    Ok(versioned(StatusCode::OK, read(&state, &u, id).await?))
}

/// Changes when parents may check in.
#[utoipa::path(put, path = "/api/v1/sessions/{id}/window", request_body = CheckinWindow, tag = "parent school",
    params(("If-Match" = Option<String>, Header, description = "the ETag read")),
    responses((status = 200, body = Session), (status = 401, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_window(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(w): Json<CheckinWindow>,
) -> Result<Response, AppError> {
    u.check_write(&headers)?;
    let w = Window {
        opens_before_minutes: w.opens_before_minutes,
        closes_after_minutes: w.closes_after_minutes,
        late_after_minutes: w.late_after_minutes,
    };
    sessions::set_window(&state.db, &u.scope, id, w, if_match(&headers)?).await?;
    Ok(versioned(StatusCode::OK, read(&state, &u, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct TextBody {
    #[schema(min_length = 1, max_length = 20000)]
    text: String,
}

/// Files (or replaces) the lesson plan (授课方案), needed before a session is held.
#[utoipa::path(put, path = "/api/v1/sessions/{id}/lesson-plan", request_body = TextBody, tag = "parent school",
    params(("If-Match" = Option<String>, Header, description = "the ETag read")),
    responses((status = 200, body = Session), (status = 401, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn lesson_plan(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(b): Json<TextBody>,
) -> Result<Response, AppError> {
    u.check_write(&headers)?;
    sessions::file_lesson_plan(&state.db, &u.scope, id, &b.text, if_match(&headers)?).await?;
    Ok(versioned(StatusCode::OK, read(&state, &u, id).await?))
}

/// Files the instructor's summary after the session.
#[utoipa::path(put, path = "/api/v1/sessions/{id}/summary", request_body = TextBody, tag = "parent school",
    params(("If-Match" = Option<String>, Header, description = "the ETag read")),
    responses((status = 200, body = Session), (status = 401, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(b): Json<TextBody>,
) -> Result<Response, AppError> {
    u.check_write(&headers)?;
    sessions::file_summary(&state.db, &u.scope, id, &b.text, if_match(&headers)?).await?;
    Ok(versioned(StatusCode::OK, read(&state, &u, id).await?))
}

/// One line of the check-in list: an invited household's parent and child, and their
/// check-in if any.
#[derive(Serialize, ToSchema)]
pub struct RosterEntry {
    guardian_id: i64,
    guardian_name: String,
    /// Whole for the school's admin and the class's head teacher, masked for others.
    phone: Option<String>,
    pupil_id: Option<i64>,
    pupil_name: Option<String>,
    class_id: Option<i64>,
    class_name: Option<String>,
    relation: Option<String>,
    /// present, late, excused or absent; none when not checked in
    status: Option<String>,
    method: Option<String>,
    /// China time, RFC 3339.
    checked_at: Option<String>,
    /// The staff member who marked it, when staff did.
    recorded_by: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RosterQuery {
    /// Only this class.
    class_id: Option<i64>,
}

/// The session's check-in list: every invited household with its status (the head
/// teacher's sheet: a head teacher sees their own classes).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/roster", params(RosterQuery), tag = "parent school",
    responses((status = 200, body = [RosterEntry]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn roster(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    Query(q): Query<RosterQuery>,
) -> Result<Json<Vec<RosterEntry>>, AppError> {
    let lines = sessions::roster(&state.db, &u.scope, id, q.class_id).await?;
    Ok(Json(
        lines
            .into_iter()
            .map(|l| RosterEntry {
                guardian_id: l.guardian_id,
                guardian_name: l.guardian_name,
                phone: l.phone,
                pupil_id: l.pupil_id,
                pupil_name: l.pupil_name,
                class_id: l.class_id,
                class_name: l.class_name,
                relation: l.relation,
                status: l.status,
                method: l.method,
                checked_at: l.checked_at.map(china_time),
                recorded_by: l.recorded_by,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct MarksBody {
    #[schema(min_items = 1, max_items = 2000)]
    marks: Vec<MarkItem>,
}

/// Staff's record of one parent (no smartphone, excused, absent).
#[derive(Deserialize, ToSchema)]
pub struct MarkItem {
    guardian_id: i64,
    /// present, late, excused or absent
    status: String,
}

#[derive(Serialize, ToSchema)]
pub struct MarksDone {
    /// Rows written; a mark equal to what is recorded leaves the row as it was.
    written: usize,
}

/// Staff mark parents on the session's roster, all in one transaction: every parent
/// must be on the roster as the caller sees it (a head teacher: their class), otherwise
/// nothing is written (404). A parent's own scan is not overwritten by the same status.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/marks", request_body = MarksBody, tag = "parent school",
    responses((status = 200, body = MarksDone), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn marks(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(b): Json<MarksBody>,
) -> Result<Json<MarksDone>, AppError> {
    use jiaxiao_domain::parent_school::AttendanceStatus;
    u.check_write(&headers)?;
    if b.marks.is_empty() || b.marks.len() > 2000 {
        return Err(AppError::Invalid("bad_marks".into()));
    }
    let mut marks = Vec::with_capacity(b.marks.len());
    for m in &b.marks {
        marks.push(jiaxiao_store::checkin::Mark {
            guardian_id: m.guardian_id,
            status: AttendanceStatus::from_code(&m.status)
                .ok_or_else(|| AppError::Invalid("bad_status".into()))?,
        });
    }
    let written = jiaxiao_store::checkin::mark(&state.db, &u.scope, id, &marks).await?;
    Ok(Json(MarksDone { written }))
}
