//! Sessions (课次) of the parent school: planning them with their audience, the lesson
//! plan that must be filed before a session counts as held, the summary afterwards, and
//! who is invited — the question every check-in, roster and attendance rate asks.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use jiaxiao_domain::parent_school::{Audience, Form, SessionStatus, Window};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, FromQueryResult, Set, Value};
use serde::Serialize;

use super::{
    Access, belongs_to_school, bind, plausible_time, rows, school_row, staff_at_school, text,
    text_opt, text_required, visible_school, writable_school,
};
use crate::audit::{self, Entry};
use crate::db::claim_version;
use crate::entities::{session_audience, session_invitee, teaching_session};
use crate::{Db, Scope, StoreError, StoreResult};

pub use super::attendance::SessionCounts;

/// Bumped whenever a session's status or window changes in this process, so that the
/// check-in cache (`store::checkin`, which reads it through [`epoch`]) reloads cached
/// sessions before the next check-in is judged. Kept here, below `checkin`, so the
/// session store does not import the check-in module (issue 10: no import circles).
static EPOCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub(crate) fn sessions_changed() {
    EPOCH.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// How many check-in-relevant session changes this process has made.
pub(crate) fn epoch() -> u64 {
    EPOCH.load(std::sync::atomic::Ordering::SeqCst)
}

#[derive(Debug, Clone, Default)]
pub struct NewSession {
    pub school_id: i64,
    pub course_id: Option<i64>,
    pub topic_id: Option<i64>,
    pub activity_id: Option<i64>,
    pub title: String,
    pub form: Option<Form>,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub place: Option<String>,
    pub online_url: Option<String>,
    pub instructor_staff_id: Option<i64>,
    pub instructor_name: String,
    pub instructor_title: Option<String>,
    pub instructor_org: Option<String>,
    pub audience: Option<Audience>,
    /// Grades or classes when the audience is `units`.
    pub audience_units: Vec<i64>,
    /// Parents when the audience is `parents`.
    pub invitees: Vec<i64>,
    pub capacity: Option<i32>,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct SessionRow {
    pub id: i64,
    pub school_id: i64,
    pub school_name: String,
    pub school_year_id: i64,
    pub course_id: Option<i64>,
    pub topic_id: Option<i64>,
    pub topic_title: Option<String>,
    pub activity_id: Option<i64>,
    pub title: String,
    pub form: String,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub place: Option<String>,
    pub online_url: Option<String>,
    pub instructor_staff_id: Option<i64>,
    pub instructor_name: String,
    pub instructor_title: Option<String>,
    pub instructor_org: Option<String>,
    pub audience: String,
    pub capacity: Option<i32>,
    pub status: String,
    pub lesson_plan: Option<String>,
    pub summary: Option<String>,
    pub opens_before_minutes: i32,
    pub closes_after_minutes: i32,
    pub late_after_minutes: i32,
    /// Counts the session's writes: an API update naming an older one is refused.
    pub version: i64,
}

impl SessionRow {
    pub fn window(&self) -> Window {
        Window {
            opens_before_minutes: self.opens_before_minutes,
            closes_after_minutes: self.closes_after_minutes,
            late_after_minutes: self.late_after_minutes,
        }
    }

    pub fn ends_at(&self) -> DateTime<Utc> {
        self.starts_at + chrono::Duration::minutes(self.duration_minutes as i64)
    }
}

pub(crate) const SESSION_COLS: &str = "s.id, s.school_id, o.name AS school_name, s.school_year_id, s.course_id, s.topic_id, t.title AS topic_title, s.activity_id, s.title, s.form, s.starts_at, s.duration_minutes, s.place, s.online_url, s.instructor_staff_id, s.instructor_name, s.instructor_title, s.instructor_org, s.audience, s.capacity, s.status, s.lesson_plan, s.summary, s.opens_before_minutes, s.closes_after_minutes, s.late_after_minutes, s.version";
pub(crate) const SESSION_FROM: &str = "teaching_session s JOIN org_unit o ON o.id = s.school_id LEFT JOIN topic t ON t.id = s.topic_id";

/// A fresh per-session check-in secret: 20 random bytes, hex (TOTP's recommended size).
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut b = [0u8; 20];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub async fn create_session(db: &Db, scope: &Scope, s: NewSession) -> StoreResult<i64> {
    let txn = db.begin().await?;
    let id = create_session_in(&txn, scope, s).await?;
    txn.commit().await?;
    Ok(id)
}

/// [`create_session`] inside the caller's transaction: a meeting day's breakout creates
/// its session and its programme line together or not at all.
pub(crate) async fn create_session_in(
    txn: &sea_orm::DatabaseTransaction,
    scope: &Scope,
    s: NewSession,
) -> StoreResult<i64> {
    // The school first: a school the caller may not write to is 404 whatever the body.
    writable_school(txn, scope, s.school_id).await?;
    if let Some(a) = s.activity_id
        && !belongs_to_school(txn, "activity", a, s.school_id).await?
    {
        return Err(StoreError::Invalid {
            code: "activity_outside_school",
        });
    }
    let c = check(txn, s.school_id, s.activity_id, &s).await?;
    let date = (c.starts_at + chrono::Duration::hours(8)).date_naive();
    let year = crate::org::ensure_school_year(txn, date).await?;
    super::writable_year(txn, s.school_id, year).await?;
    let settings = super::settings(txn, s.school_id, year).await?;
    let m = teaching_session::ActiveModel {
        school_id: Set(s.school_id),
        school_year_id: Set(year),
        course_id: Set(c.course_id),
        topic_id: Set(c.topic_id),
        activity_id: Set(s.activity_id),
        title: Set(c.title),
        form: Set(c.form.code().into()),
        starts_at: Set(c.starts_at),
        duration_minutes: Set(c.duration_minutes),
        place: Set(c.place),
        online_url: Set(c.online_url),
        instructor_staff_id: Set(c.instructor_staff_id),
        instructor_name: Set(c.instructor_name),
        instructor_title: Set(c.instructor_title),
        instructor_org: Set(c.instructor_org),
        audience: Set(c.audience.code().into()),
        capacity: Set(c.capacity),
        status: Set(SessionStatus::Planned.code().into()),
        lesson_plan: Set(None),
        lesson_plan_at: Set(None),
        summary: Set(None),
        summary_at: Set(None),
        checkin_secret: Set(new_secret()),
        opens_before_minutes: Set(settings.opens_before_minutes),
        closes_after_minutes: Set(settings.closes_after_minutes),
        late_after_minutes: Set(settings.late_after_minutes),
        created_by: Set(scope.user_id()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    put_audience(txn, m.id, c.audience, &c.units, &c.invitees).await?;
    audit::note(txn, scope, s.school_id, "teaching_session", m.id, "create", Some(serde_json::json!({"title": m.title, "form": m.form, "starts_at": m.starts_at, "audience": m.audience}))).await?;
    Ok(m.id)
}

/// A session's fields as typed, checked against the text rules and resolved against
/// its school: what creating and editing both store.
struct Checked {
    title: String,
    form: Form,
    starts_at: DateTime<Utc>,
    duration_minutes: i32,
    place: Option<String>,
    online_url: Option<String>,
    topic_id: Option<i64>,
    course_id: Option<i64>,
    instructor_staff_id: Option<i64>,
    instructor_name: String,
    instructor_title: Option<String>,
    instructor_org: Option<String>,
    audience: Audience,
    /// Sorted, without repeats; empty unless the audience is `units`.
    units: Vec<i64>,
    /// Sorted, without repeats; empty unless the audience is `parents`.
    invitees: Vec<i64>,
    capacity: Option<i32>,
}

/// The rules a session's fields must meet, for a session of `school_id` that belongs to
/// meeting day `activity_id` (if any). The caller has checked the school is writable.
async fn check<C: ConnectionTrait>(
    txn: &C,
    school_id: i64,
    activity_id: Option<i64>,
    s: &NewSession,
) -> StoreResult<Checked> {
    use jiaxiao_domain::text::Field;
    let title = text_required(Field::Title, &s.title, "title_missing")?;
    let place = text_opt(Field::Line, s.place.as_deref())?;
    let instructor_name = text(Field::Name, &s.instructor_name)?;
    let instructor_title = text_opt(Field::Line, s.instructor_title.as_deref())?;
    let instructor_org = text_opt(Field::Line, s.instructor_org.as_deref())?;
    let online_url = match s.online_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(u) => Some(
            jiaxiao_domain::text::http_url(u)
                .map_err(|e| StoreError::Invalid { code: e.code() })?,
        ),
    };
    if instructor_name.is_empty() && s.instructor_staff_id.is_none() {
        return Err(StoreError::Invalid {
            code: "instructor_missing",
        });
    }
    if !(1..=24 * 60).contains(&s.duration_minutes) {
        return Err(StoreError::Invalid {
            code: "bad_duration",
        });
    }
    if s.capacity.is_some_and(|c| c < 1) {
        return Err(StoreError::Invalid {
            code: "bad_capacity",
        });
    }
    plausible_time(s.starts_at)?;
    let form = s.form.unwrap_or(Form::Lecture);
    // A breakout belongs to its meeting day: planned alone it would be a lecture under
    // another name, counted where the meeting day's are not.
    if !form.plannable() && activity_id.is_none() {
        return Err(StoreError::Invalid {
            code: "breakout_without_meeting_day",
        });
    }
    if form == Form::Online && online_url.is_none() {
        return Err(StoreError::Invalid {
            code: "online_url_missing",
        });
    }
    let audience = s.audience.unwrap_or(Audience::School);
    // Every id the caller names must be this school's: a foreign or unknown one is
    // refused alike, so nothing of another school is linked or shown on this session.
    if let Some(t) = s.topic_id
        && !belongs_to_school(txn, "topic", t, school_id).await?
    {
        return Err(StoreError::Invalid {
            code: "topic_outside_school",
        });
    }
    if let Some(c) = s.course_id
        && !belongs_to_school(txn, "course", c, school_id).await?
    {
        return Err(StoreError::Invalid {
            code: "course_outside_school",
        });
    }
    if let Some(st) = s.instructor_staff_id
        && !staff_at_school(txn, st, school_id).await?
    {
        return Err(StoreError::Invalid {
            code: "staff_not_at_school",
        });
    }
    // Audience units must be grades or classes of this very school on the session's
    // day, the tree its invitations are read from.
    let on_day = crate::org::in_force(
        "c",
        &crate::org::day_sql((s.starts_at + chrono::Duration::hours(8)).date_naive()),
    );
    for u in &s.audience_units {
        let n = crate::db::scalar_i64(
            txn,
            &format!(
                "SELECT COUNT(*) AS n FROM org_closure c JOIN org_unit u ON u.id = c.descendant_id \
                 WHERE c.ancestor_id = $1 AND c.descendant_id = $2 AND {on_day} AND u.kind IN ('grade', 'class')"
            ),
            vec![school_id.into(), (*u).into()],
        )
        .await?;
        if n == 0 {
            return Err(StoreError::Invalid {
                code: "audience_outside_school",
            });
        }
    }
    // Named parents must have a child in this school.
    for g in &s.invitees {
        let n = crate::db::scalar_i64(
            txn,
            "SELECT COUNT(*) AS n FROM guardianship gs JOIN pupil p ON p.id = gs.pupil_id \
             WHERE gs.guardian_id = $1 AND p.school_id = $2",
            vec![(*g).into(), school_id.into()],
        )
        .await?;
        if n == 0 {
            return Err(StoreError::Invalid {
                code: "guardian_not_at_school",
            });
        }
    }
    if audience == Audience::Units && s.audience_units.is_empty()
        || audience == Audience::Parents && s.invitees.is_empty()
    {
        return Err(StoreError::Invalid {
            code: "audience_empty",
        });
    }
    let instructor_name = match (s.instructor_staff_id, instructor_name.as_str()) {
        (Some(id), "") => {
            use sea_orm::EntityTrait;
            crate::entities::staff::Entity::find_by_id(id)
                .one(txn)
                .await?
                .map(|st| st.name)
                .ok_or(StoreError::Invalid {
                    code: "instructor_missing",
                })?
        }
        _ => instructor_name,
    };
    let sorted = |ids: &[i64]| {
        let mut v = ids.to_vec();
        v.sort_unstable();
        v.dedup();
        v
    };
    Ok(Checked {
        title,
        form,
        starts_at: s.starts_at,
        duration_minutes: s.duration_minutes,
        place,
        online_url,
        topic_id: s.topic_id,
        course_id: s.course_id,
        instructor_staff_id: s.instructor_staff_id,
        instructor_name,
        instructor_title,
        instructor_org,
        units: if audience == Audience::Units {
            sorted(&s.audience_units)
        } else {
            Vec::new()
        },
        invitees: if audience == Audience::Parents {
            sorted(&s.invitees)
        } else {
            Vec::new()
        },
        audience,
        capacity: s.capacity,
    })
}

/// Writes the invited grades/classes or named parents of a session.
async fn put_audience<C: ConnectionTrait>(
    txn: &C,
    session_id: i64,
    audience: Audience,
    units: &[i64],
    invitees: &[i64],
) -> StoreResult<()> {
    use sea_orm::EntityTrait;
    if audience == Audience::Units && !units.is_empty() {
        session_audience::Entity::insert_many(units.iter().map(|u| {
            session_audience::ActiveModel {
                session_id: Set(session_id),
                unit_id: Set(*u),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    if audience == Audience::Parents && !invitees.is_empty() {
        session_invitee::Entity::insert_many(invitees.iter().map(|g| {
            session_invitee::ActiveModel {
                session_id: Set(session_id),
                guardian_id: Set(*g),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// A session the caller may see (staff of its school or above, a head teacher of one
/// of its classes).
pub async fn get_session(db: &Db, scope: &Scope, id: i64) -> StoreResult<SessionRow> {
    let from = format!("SELECT {SESSION_COLS} FROM {SESSION_FROM}");
    school_row(
        &db.conn,
        scope,
        Access::Read,
        &from,
        "s.id",
        "s.school_id",
        id,
    )
    .await
}

/// The session with its secret, for the check-in code; staff who may record only.
pub async fn session_secret(db: &Db, scope: &Scope, id: i64) -> StoreResult<(SessionRow, String)> {
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_school_writable("s.school_id", &mut values);
    let p = bind(&mut values, id);
    let sql = format!(
        "SELECT {SESSION_COLS}, s.checkin_secret FROM {SESSION_FROM} WHERE s.id = {p} AND {cond}"
    );
    let stmt = sea_orm::Statement::from_sql_and_values(db.db_backend(), sql, values);
    let row = db
        .conn
        .query_one_raw(stmt)
        .await?
        .ok_or(StoreError::NotFound)?;
    let secret: String = row.try_get("", "checkin_secret")?;
    Ok((SessionRow::from_query_result(&row, "")?, secret))
}

/// Sessions of one school (or every visible school when `school_id` is None) in a
/// school year, by start time: the pages' list.
pub async fn list_sessions(
    db: &Db,
    scope: &Scope,
    school_id: Option<i64>,
    school_year_id: Option<i64>,
) -> StoreResult<Vec<SessionRow>> {
    let f = SessionFilter {
        school_id,
        school_year_id,
        limit: 2000,
        ..Default::default()
    };
    Ok(page(db, scope, &f, false).await?.0)
}

/// Which sessions a list holds: the page's filters, and a keyset cursor for the API.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub school_id: Option<i64>,
    pub school_year_id: Option<i64>,
    pub status: Option<SessionStatus>,
    pub form: Option<Form>,
    /// The (start, id) of the last session of the previous page: sessions after it follow.
    pub after: Option<(DateTime<Utc>, i64)>,
    pub limit: u64,
}

/// One page of sessions the caller may see, by start time and id, and (when `count`)
/// how many match the filter in all.
pub async fn page(
    db: &Db,
    scope: &Scope,
    f: &SessionFilter,
    count: bool,
) -> StoreResult<(Vec<SessionRow>, Option<i64>)> {
    let mut values: Vec<Value> = Vec::new();
    let mut cond = scope.sql_school_visible("s.school_id", &mut values);
    if let Some(sid) = f.school_id {
        let p = bind(&mut values, sid);
        cond.push_str(&format!(" AND s.school_id = {p}"));
    }
    if let Some(y) = f.school_year_id {
        let p = bind(&mut values, y);
        cond.push_str(&format!(" AND s.school_year_id = {p}"));
    }
    if let Some(st) = f.status {
        let p = bind(&mut values, st.code());
        cond.push_str(&format!(" AND s.status = {p}"));
    }
    if let Some(form) = f.form {
        let p = bind(&mut values, form.code());
        cond.push_str(&format!(" AND s.form = {p}"));
    }
    let total = match count {
        true => Some(
            crate::db::scalar_i64(
                &db.conn,
                &format!("SELECT COUNT(*) AS n FROM teaching_session s WHERE {cond}"),
                values.clone(),
            )
            .await?,
        ),
        false => None,
    };
    if let Some((at, id)) = f.after {
        let a = bind(&mut values, at);
        let b = bind(&mut values, at);
        let i = bind(&mut values, id);
        cond.push_str(&format!(
            " AND (s.starts_at > {a} OR (s.starts_at = {b} AND s.id > {i}))"
        ));
    }
    let sql = format!(
        "SELECT {SESSION_COLS} FROM {SESSION_FROM} WHERE {cond} ORDER BY s.starts_at, s.id LIMIT {}",
        f.limit
    );
    Ok((rows(&db.conn, sql, values).await?, total))
}

/// A session the caller may change, in a year open to writes. `expect`: the version the
/// caller read (an API `If-Match`); a session that has moved on since is `Stale`.
async fn writable_session<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i64,
    expect: Option<i64>,
) -> StoreResult<teaching_session::Model> {
    use sea_orm::EntityTrait;
    let m = teaching_session::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    writable_school(conn, scope, m.school_id).await?;
    super::writable_year(conn, m.school_id, m.school_year_id).await?;
    if expect.is_some_and(|v| v != m.version) {
        return Err(StoreError::Stale);
    }
    Ok(m)
}

/// Files (or replaces) the lesson plan (授课方案).
pub async fn file_lesson_plan(
    db: &Db,
    scope: &Scope,
    id: i64,
    plan: &str,
    expect: Option<i64>,
) -> StoreResult<()> {
    let plan = text_required(
        jiaxiao_domain::text::Field::Note,
        plan,
        "lesson_plan_missing",
    )?;
    update_text(db, scope, id, "lesson_plan", &plan, expect).await
}

/// Files the instructor's summary after the session.
pub async fn file_summary(
    db: &Db,
    scope: &Scope,
    id: i64,
    summary: &str,
    expect: Option<i64>,
) -> StoreResult<()> {
    let summary = text_required(
        jiaxiao_domain::text::Field::Note,
        summary,
        "summary_missing",
    )?;
    update_text(db, scope, id, "summary", &summary, expect).await
}

async fn update_text(
    db: &Db,
    scope: &Scope,
    id: i64,
    what: &'static str,
    text: &str,
    expect: Option<i64>,
) -> StoreResult<()> {
    let txn = db.begin().await?;
    let m = writable_session(&txn, scope, id, expect).await?;
    claim_version(&txn, "teaching_session", id, m.version).await?;
    let school = m.school_id;
    let mut am: teaching_session::ActiveModel = m.into();
    let now = Utc::now();
    if what == "lesson_plan" {
        am.lesson_plan = Set(Some(text.trim().to_owned()));
        am.lesson_plan_at = Set(Some(now));
    } else {
        am.summary = Set(Some(text.trim().to_owned()));
        am.summary_at = Set(Some(now));
    }
    am.update(&txn).await?;
    audit::note(
        &txn,
        scope,
        school,
        "teaching_session",
        id,
        what,
        Some(serde_json::json!({ "chars": text.chars().count() })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Marks a session held (refused until its lesson plan is filed) or cancelled.
pub async fn set_status(
    db: &Db,
    scope: &Scope,
    id: i64,
    status: SessionStatus,
    expect: Option<i64>,
) -> StoreResult<()> {
    let txn = db.begin().await?;
    let m = writable_session(&txn, scope, id, expect).await?;
    if status == SessionStatus::Held && m.lesson_plan.as_deref().unwrap_or("").is_empty() {
        return Err(StoreError::Invalid {
            code: "lesson_plan_missing",
        });
    }
    let before = m.status.clone();
    let school = m.school_id;
    claim_version(&txn, "teaching_session", id, m.version).await?;
    let mut am: teaching_session::ActiveModel = m.into();
    am.status = Set(status.code().into());
    am.update(&txn).await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(school),
            entity: "teaching_session",
            entity_id: Some(id.to_string()),
            action: "status",
            before: Some(serde_json::json!({ "status": before })),
            after: Some(serde_json::json!({ "status": status.code() })),
        },
    )
    .await?;
    txn.commit().await?;
    sessions_changed();
    Ok(())
}

/// Changes the check-in window of one session (minutes around its start).
pub async fn set_window(
    db: &Db,
    scope: &Scope,
    id: i64,
    w: Window,
    expect: Option<i64>,
) -> StoreResult<()> {
    // A day either way at most: the documented range of the API's `CheckinWindow`.
    let day = 0..=1440;
    if ![
        w.opens_before_minutes,
        w.closes_after_minutes,
        w.late_after_minutes,
    ]
    .iter()
    .all(|m| day.contains(m))
    {
        return Err(StoreError::Invalid { code: "bad_window" });
    }
    let txn = db.begin().await?;
    let m = writable_session(&txn, scope, id, expect).await?;
    let school = m.school_id;
    claim_version(&txn, "teaching_session", id, m.version).await?;
    let mut am: teaching_session::ActiveModel = m.into();
    am.opens_before_minutes = Set(w.opens_before_minutes);
    am.closes_after_minutes = Set(w.closes_after_minutes);
    am.late_after_minutes = Set(w.late_after_minutes);
    am.update(&txn).await?;
    audit::note(
        &txn,
        scope,
        school,
        "teaching_session",
        id,
        "window",
        Some(serde_json::json!({
            "opens_before": w.opens_before_minutes,
            "closes_after": w.closes_after_minutes,
            "late_after": w.late_after_minutes
        })),
    )
    .await?;
    txn.commit().await?;
    sessions_changed();
    Ok(())
}

/// What an edit did, for the message the page shows afterwards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Edited {
    /// Whether anything changed; nothing is written or audited otherwise.
    pub changed: bool,
    pub audience_changed: bool,
    /// Check-ins on file for the session: all kept, whatever the audience became.
    pub checkins: i64,
}

/// Changes a session's date and time, place, instructor, form, topic, course, audience
/// and capacity: `s` is the session as it should be (its `school_id` and `activity_id`
/// are the session's own and not read). Writable by whoever may plan sessions at its
/// school; a cancelled session is not edited. Changing the audience keeps every check-in
/// (a parent no longer invited still attended) and recomputes who is invited; moving the
/// session into another school year is refused once anyone has checked in, since the
/// year decides which classes its audience means. One audit row holds the before and
/// after of every changed field, the audience in names.
pub async fn update_session(
    db: &Db,
    scope: &Scope,
    id: i64,
    s: NewSession,
    expect: Option<i64>,
) -> StoreResult<Edited> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let txn = db.begin().await?;
    let m = writable_session(&txn, scope, id, expect).await?;
    if m.status == SessionStatus::Cancelled.code() {
        return Err(StoreError::Invalid {
            code: "session_cancelled",
        });
    }
    let c = check(&txn, m.school_id, m.activity_id, &s).await?;
    // A meeting day's breakout stays its class's breakout: the day's programme line and
    // its counting as a breakout point at it.
    if m.activity_id.is_some() && c.form.code() != m.form {
        return Err(StoreError::Invalid {
            code: "breakout_form_fixed",
        });
    }
    let checkins = crate::db::scalar_i64(
        &txn,
        "SELECT COUNT(*) AS n FROM checkin WHERE session_id = $1",
        vec![id.into()],
    )
    .await?;
    let date = (c.starts_at + chrono::Duration::hours(8)).date_naive();
    let year = crate::org::ensure_school_year(&txn, date).await?;
    // A closed year is neither edited nor moved into.
    super::writable_year(&txn, m.school_id, m.school_year_id).await?;
    super::writable_year(&txn, m.school_id, year).await?;
    if year != m.school_year_id && checkins > 0 {
        return Err(StoreError::Invalid {
            code: "year_change_with_checkins",
        });
    }
    let (old_units, old_invitees) = audience_ids(&txn, id).await?;
    let audience_changed =
        c.audience.code() != m.audience || c.units != old_units || c.invitees != old_invitees;
    let old_audience = match audience_changed {
        true => audience_text(&txn, m.school_id, &m.audience, &old_units, &old_invitees).await?,
        false => String::new(),
    };
    let new_audience = match audience_changed {
        true => audience_text(&txn, m.school_id, c.audience.code(), &c.units, &c.invitees).await?,
        false => String::new(),
    };
    let title_of = |table: &'static str, v: Option<i64>| {
        let txn = &txn;
        async move {
            let Some(v) = v else {
                return Ok::<_, StoreError>(serde_json::Value::Null);
            };
            let r: Vec<Choice> = rows(
                txn,
                format!("SELECT id, title AS name FROM {table} WHERE id = $1"),
                vec![v.into()],
            )
            .await?;
            Ok(r.into_iter().next().map(|c| c.name).into())
        }
    };
    let topics = match m.topic_id != c.topic_id {
        true => Some((
            title_of("topic", m.topic_id).await?,
            title_of("topic", c.topic_id).await?,
        )),
        false => None,
    };
    let courses = match m.course_id != c.course_id {
        true => Some((
            title_of("course", m.course_id).await?,
            title_of("course", c.course_id).await?,
        )),
        false => None,
    };

    let mut before = serde_json::Map::new();
    let mut after = serde_json::Map::new();
    let mut field = |k: &str, b: serde_json::Value, a: serde_json::Value| {
        if b != a {
            before.insert(k.into(), b);
            after.insert(k.into(), a);
        }
    };
    use serde_json::json;
    field("title", json!(m.title), json!(c.title));
    field("form", json!(m.form), json!(c.form.code()));
    field(
        "starts_at",
        json!(beijing_text(m.starts_at)),
        json!(beijing_text(c.starts_at)),
    );
    field(
        "duration_minutes",
        json!(m.duration_minutes),
        json!(c.duration_minutes),
    );
    field("place", json!(m.place), json!(c.place));
    field("online_url", json!(m.online_url), json!(c.online_url));
    field(
        "instructor",
        json!(m.instructor_name),
        json!(c.instructor_name),
    );
    field(
        "instructor_staff_id",
        json!(m.instructor_staff_id),
        json!(c.instructor_staff_id),
    );
    field(
        "instructor_title",
        json!(m.instructor_title),
        json!(c.instructor_title),
    );
    field(
        "instructor_org",
        json!(m.instructor_org),
        json!(c.instructor_org),
    );
    if let Some((b, a)) = topics {
        field("topic", b, a);
    }
    if let Some((b, a)) = courses {
        field("course", b, a);
    }
    field("audience", json!(old_audience), json!(new_audience));
    field("capacity", json!(m.capacity), json!(c.capacity));
    if before.is_empty() {
        return Ok(Edited {
            changed: false,
            audience_changed: false,
            checkins,
        });
    }
    let school = m.school_id;
    claim_version(&txn, "teaching_session", id, m.version).await?;
    let mut am: teaching_session::ActiveModel = m.into();
    am.school_year_id = Set(year);
    am.course_id = Set(c.course_id);
    am.topic_id = Set(c.topic_id);
    am.title = Set(c.title);
    am.form = Set(c.form.code().into());
    am.starts_at = Set(c.starts_at);
    am.duration_minutes = Set(c.duration_minutes);
    am.place = Set(c.place);
    am.online_url = Set(c.online_url);
    am.instructor_staff_id = Set(c.instructor_staff_id);
    am.instructor_name = Set(c.instructor_name);
    am.instructor_title = Set(c.instructor_title);
    am.instructor_org = Set(c.instructor_org);
    am.audience = Set(c.audience.code().into());
    am.capacity = Set(c.capacity);
    am.update(&txn).await?;
    if audience_changed {
        // Only who is invited changes: the check-in rows stay as they are.
        session_audience::Entity::delete_many()
            .filter(session_audience::Column::SessionId.eq(id))
            .exec(&txn)
            .await?;
        session_invitee::Entity::delete_many()
            .filter(session_invitee::Column::SessionId.eq(id))
            .exec(&txn)
            .await?;
        put_audience(&txn, id, c.audience, &c.units, &c.invitees).await?;
    }
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(school),
            entity: "teaching_session",
            entity_id: Some(id.to_string()),
            action: "update",
            before: Some(serde_json::Value::Object(before)),
            after: Some(serde_json::Value::Object(after)),
        },
    )
    .await?;
    txn.commit().await?;
    // The check-in cache holds the time, window and invited parents of the session.
    sessions_changed();
    Ok(Edited {
        changed: true,
        audience_changed,
        checkins,
    })
}

/// A Beijing date and clock time, as the audit log shows a session's start.
fn beijing_text(t: DateTime<Utc>) -> String {
    (t + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The invited grades/classes and the named parents of a session, each sorted.
async fn audience_ids<C: ConnectionTrait>(
    conn: &C,
    session_id: i64,
) -> StoreResult<(Vec<i64>, Vec<i64>)> {
    #[derive(FromQueryResult)]
    struct Id {
        id: i64,
    }
    let ids = |sql: &str| {
        let sql = sql.to_owned();
        async move {
            Ok::<Vec<i64>, StoreError>(
                rows::<Id, _>(conn, sql, vec![session_id.into()])
                    .await?
                    .into_iter()
                    .map(|r| r.id)
                    .collect(),
            )
        }
    };
    Ok((
        ids("SELECT unit_id AS id FROM session_audience WHERE session_id = $1 ORDER BY unit_id")
            .await?,
        ids("SELECT guardian_id AS id FROM session_invitee WHERE session_id = $1 ORDER BY guardian_id")
            .await?,
    ))
}

/// An audience in names, for the audit log: the school's name for the whole school,
/// the grades and classes ("三年级、四年级(2)班"), or the named parents.
async fn audience_text<C: ConnectionTrait>(
    conn: &C,
    school_id: i64,
    audience: &str,
    units: &[i64],
    invitees: &[i64],
) -> StoreResult<String> {
    let mut values: Vec<Value> = Vec::new();
    let sql = match audience {
        "units" => {
            let ps: Vec<String> = units.iter().map(|u| bind(&mut values, *u)).collect();
            format!(
                "SELECT u.id, {UNIT_LABEL} AS name FROM org_unit u {UNIT_GRADE} WHERE u.id IN ({}) \
                 ORDER BY COALESCE(u.grade_level, g.grade_level), u.kind DESC, u.class_number, u.id",
                ps.join(", ")
            )
        }
        "parents" => {
            let ps: Vec<String> = invitees.iter().map(|g| bind(&mut values, *g)).collect();
            format!(
                "SELECT id, name FROM guardian WHERE id IN ({}) ORDER BY name, id",
                ps.join(", ")
            )
        }
        _ => format!(
            "SELECT id, name FROM org_unit WHERE id = {}",
            bind(&mut values, school_id)
        ),
    };
    if values.is_empty() {
        return Ok(String::new());
    }
    Ok(rows::<Choice, _>(conn, sql, values)
        .await?
        .into_iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join("、"))
}

/// A grade's or class's name as people say it: a class with its grade ("三年级(2)班"),
/// since class names alone repeat in every grade. Needs `org_unit u` and [`UNIT_GRADE`].
const UNIT_LABEL: &str = "CASE WHEN u.kind = 'class' AND g.kind = 'grade' \
     AND substr(u.name, 1, length(g.name)) <> g.name THEN g.name || u.name ELSE u.name END";
const UNIT_GRADE: &str = "LEFT JOIN org_unit g ON g.id = u.parent_id";

/// A session as its edit form shows it.
#[derive(Debug, Clone)]
pub struct EditView {
    pub row: SessionRow,
    /// The invited grades and classes.
    pub units: Vec<i64>,
    /// The named parents the caller may see, phones as [`super::reach::Phones`] shows them.
    pub invitees: Vec<Invitee>,
    /// Named parents outside the caller's reach: kept as they are by an edit.
    pub hidden_invitees: Vec<i64>,
    /// Check-ins on file, which an audience change keeps.
    pub checkins: i64,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct Invitee {
    pub id: i64,
    pub name: String,
    pub phone: Option<String>,
}

/// What the edit form of a session needs; `NotFound` unless the caller may edit it.
pub async fn edit_view(db: &Db, scope: &Scope, id: i64) -> StoreResult<EditView> {
    let m = writable_session(&db.conn, scope, id, None).await?;
    let row = get_session(db, scope, id).await?;
    let (units, all_invitees) = audience_ids(&db.conn, id).await?;
    let mut values: Vec<Value> = Vec::new();
    let sid = bind(&mut values, id);
    let school = bind(&mut values, m.school_id);
    let year = bind(&mut values, m.school_year_id);
    let vis = super::reach::guardian_visible_sql(scope, "g.id", &school, &year, &mut values);
    let phones = super::reach::Phones::of(&db.conn, scope, m.school_id).await?;
    let mut invitees: Vec<Invitee> = rows(
        &db.conn,
        format!(
            "SELECT g.id, g.name, g.phone FROM session_invitee si JOIN guardian g ON g.id = si.guardian_id \
             WHERE si.session_id = {sid} AND {vis} ORDER BY g.name, g.id"
        ),
        values,
    )
    .await?;
    for i in &mut invitees {
        i.phone = phones.show(i.phone.take());
    }
    let hidden_invitees = all_invitees
        .into_iter()
        .filter(|g| !invitees.iter().any(|i| i.id == *g))
        .collect();
    let checkins = crate::db::scalar_i64(
        &db.conn,
        "SELECT COUNT(*) AS n FROM checkin WHERE session_id = $1",
        vec![id.into()],
    )
    .await?;
    Ok(EditView {
        row,
        units,
        invitees,
        hidden_invitees,
        checkins,
    })
}

/// A check-in by a parent the session no longer invites (its audience was changed
/// after they checked in): kept, and shown apart from the invited.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct UninvitedCheckin {
    pub guardian_name: String,
    pub status: String,
    pub checked_at: DateTime<Utc>,
}

/// The check-ins of a session by parents it does not invite, as far as the caller may
/// see them.
pub async fn uninvited_checkins(
    db: &Db,
    scope: &Scope,
    id: i64,
) -> StoreResult<Vec<UninvitedCheckin>> {
    let s = get_session(db, scope, id).await?;
    let mut values: Vec<Value> = Vec::new();
    let sid = bind(&mut values, s.id);
    let school = bind(&mut values, s.school_id);
    let year = bind(&mut values, s.school_year_id);
    let vis =
        super::reach::guardian_visible_sql(scope, "c.guardian_id", &school, &year, &mut values);
    rows(
        &db.conn,
        format!(
            "SELECT g.name AS guardian_name, c.status, c.checked_at FROM checkin c \
             JOIN guardian g ON g.id = c.guardian_id \
             WHERE c.session_id = {sid} AND c.guardian_id NOT IN ({invited}) AND {vis} \
             ORDER BY c.checked_at, c.id",
            invited = invited_guardians_sql(db.conn.get_database_backend(), &sid)
        ),
        values,
    )
    .await
}

/// Who a session of the list invites: its grades and classes by name, or how many
/// parents it names (nothing for the whole school).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AudienceLabel {
    pub units: Vec<String>,
    pub invitees: i64,
}

/// [`AudienceLabel`] of every session of a school year, by session id.
pub async fn audience_labels(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<HashMap<i64, AudienceLabel>> {
    visible_school(&db.conn, scope, school_id).await?;
    #[derive(FromQueryResult)]
    struct Unit {
        session_id: i64,
        name: String,
    }
    #[derive(FromQueryResult)]
    struct Named {
        session_id: i64,
        n: i64,
    }
    let values = || -> Vec<Value> { vec![school_id.into(), school_year_id.into()] };
    let units: Vec<Unit> = rows(
        &db.conn,
        format!(
            "SELECT a.session_id, {UNIT_LABEL} AS name FROM session_audience a \
             JOIN teaching_session s ON s.id = a.session_id JOIN org_unit u ON u.id = a.unit_id {UNIT_GRADE} \
             WHERE s.school_id = $1 AND s.school_year_id = $2 AND s.audience = 'units' \
             ORDER BY a.session_id, COALESCE(u.grade_level, g.grade_level), u.kind DESC, u.class_number, u.id"
        ),
        values(),
    )
    .await?;
    let named: Vec<Named> = rows(
        &db.conn,
        "SELECT si.session_id, COUNT(*) AS n FROM session_invitee si \
         JOIN teaching_session s ON s.id = si.session_id \
         WHERE s.school_id = $1 AND s.school_year_id = $2 AND s.audience = 'parents' \
         GROUP BY si.session_id"
            .into(),
        values(),
    )
    .await?;
    let mut out: HashMap<i64, AudienceLabel> = HashMap::new();
    for u in units {
        out.entry(u.session_id).or_default().units.push(u.name);
    }
    for n in named {
        out.entry(n.session_id).or_default().invitees = n.n;
    }
    Ok(out)
}

/// `SELECT pupil_id, class_id` of the pupils whose parents are invited to the session
/// `sid` (a placeholder or a column): every class of the school, or the classes under
/// the invited grades and classes, in the session's school year and in the tree as it
/// stands on the session's own day (a class moving away next month is still invited
/// to this month's sessions, not to those after its move).
pub(crate) fn invited_pupils_sql(backend: DbBackend, sid: &str) -> String {
    let on_day = crate::org::in_force("oc", &crate::org::beijing_day_sql(backend, "s.starts_at"));
    format!(
        "SELECT cm.pupil_id AS pupil_id, cm.class_id AS class_id FROM teaching_session s \
           JOIN org_closure oc ON oc.ancestor_id = s.school_id AND {on_day} \
           JOIN class_membership cm ON cm.class_id = oc.descendant_id AND cm.school_year_id = s.school_year_id \
           WHERE s.id = {sid} AND s.audience = 'school' \
         UNION SELECT cm.pupil_id, cm.class_id FROM session_audience a \
           JOIN teaching_session s ON s.id = a.session_id \
           JOIN org_closure oc ON oc.ancestor_id = a.unit_id AND {on_day} \
           JOIN class_membership cm ON cm.class_id = oc.descendant_id AND cm.school_year_id = s.school_year_id \
           WHERE a.session_id = {sid} AND s.audience = 'units'"
    )
}

/// `SELECT guardian_id` of every parent invited to session `sid`: the parents of the
/// invited pupils and the parents named on the session.
pub(crate) fn invited_guardians_sql(backend: DbBackend, sid: &str) -> String {
    format!(
        "SELECT gs.guardian_id AS guardian_id FROM guardianship gs WHERE gs.pupil_id IN (SELECT ip.pupil_id FROM ({}) ip) \
         UNION SELECT si.guardian_id FROM session_invitee si WHERE si.session_id = {sid}",
        invited_pupils_sql(backend, sid)
    )
}

/// Every invited parent of a session, for the check-in cache (no scope: the caller has
/// already resolved the session in the parent's own scope).
pub async fn invited_guardian_ids<C: ConnectionTrait>(
    conn: &C,
    session_id: i64,
) -> StoreResult<Vec<i64>> {
    #[derive(FromQueryResult)]
    struct G {
        guardian_id: i64,
    }
    let mut values: Vec<Value> = Vec::new();
    let p = bind(&mut values, session_id);
    let sql = invited_guardians_sql(conn.get_database_backend(), &p);
    Ok(rows::<G, _>(conn, sql, values)
        .await?
        .into_iter()
        .map(|g| g.guardian_id)
        .collect())
}

/// The invited grades and classes of a session.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct AudienceUnit {
    pub id: i64,
    pub name: String,
    pub kind: String,
}

pub async fn audience_units(db: &Db, session_id: i64) -> StoreResult<Vec<AudienceUnit>> {
    let sql = format!(
        "SELECT u.id, {UNIT_LABEL} AS name, u.kind FROM session_audience a JOIN org_unit u ON u.id = a.unit_id \
         {UNIT_GRADE} WHERE a.session_id = $1 \
         ORDER BY COALESCE(u.grade_level, g.grade_level), u.kind DESC, u.class_number, u.id"
    );
    rows(&db.conn, sql, vec![session_id.into()]).await
}

/// One line of a session's roster: a parent of an invited child (or a parent invited by
/// name, without a child), with their check-in if any.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct RosterLine {
    pub guardian_id: i64,
    pub guardian_name: String,
    pub phone: Option<String>,
    pub pupil_id: Option<i64>,
    pub pupil_name: Option<String>,
    pub class_id: Option<i64>,
    pub class_name: Option<String>,
    pub relation: Option<String>,
    pub status: Option<String>,
    pub method: Option<String>,
    pub checked_at: Option<DateTime<Utc>>,
    /// Who marked it, when staff did (a parent's own check-in has none).
    pub recorded_by: Option<String>,
}

/// The roster of a session, optionally for one class, ordered by class and child. A
/// head teacher sees only the classes they can see.
pub async fn roster(
    db: &Db,
    scope: &Scope,
    session_id: i64,
    class_id: Option<i64>,
) -> StoreResult<Vec<RosterLine>> {
    let s = get_session(db, scope, session_id).await?;
    let mut values: Vec<Value> = Vec::new();
    let sid = bind(&mut values, s.id);
    let class_cond = match class_id {
        Some(c) => format!("AND ip.class_id = {}", bind(&mut values, c)),
        None => String::new(),
    };
    // Head teachers see their own classes only; staff of the school see all. Parents
    // invited by name show only to those who may see them (a head teacher: their
    // class's parents).
    let vis = scope.sql_in_subtree("ip.class_id", &mut values);
    let school = bind(&mut values, s.school_id);
    let year = bind(&mut values, s.school_year_id);
    let named_vis = super::reach::guardian_visible_sql(scope, "g.id", &school, &year, &mut values);
    let sql = format!(
        "SELECT g.id AS guardian_id, g.name AS guardian_name, g.phone, p.id AS pupil_id, p.name AS pupil_name, \
                ip.class_id AS class_id, cu.name AS class_name, gs.relation AS relation, \
                c.status AS status, c.method AS method, c.checked_at AS checked_at, \
                u.display_name AS recorded_by \
         FROM ({ips}) ip JOIN pupil p ON p.id = ip.pupil_id JOIN org_unit cu ON cu.id = ip.class_id \
         JOIN guardianship gs ON gs.pupil_id = p.id JOIN guardian g ON g.id = gs.guardian_id \
         LEFT JOIN checkin c ON c.session_id = {sid} AND c.guardian_id = g.id \
         LEFT JOIN user_account u ON u.id = c.recorded_by \
         WHERE {vis} {class_cond} \
         UNION ALL \
         SELECT g.id, g.name, g.phone, NULL, NULL, NULL, NULL, NULL, c.status, c.method, c.checked_at, \
                u.display_name \
         FROM session_invitee si JOIN guardian g ON g.id = si.guardian_id \
         LEFT JOIN checkin c ON c.session_id = {sid} AND c.guardian_id = g.id \
         LEFT JOIN user_account u ON u.id = c.recorded_by \
         WHERE si.session_id = {sid} AND {named_vis} \
         ORDER BY class_id, pupil_name, guardian_name",
        ips = invited_pupils_sql(db.conn.get_database_backend(), &sid)
    );
    let phones = super::reach::Phones::of(&db.conn, scope, s.school_id).await?;
    let mut lines: Vec<RosterLine> = rows(&db.conn, sql, values).await?;
    for l in &mut lines {
        l.phone = phones.show(l.phone.take());
    }
    Ok(lines)
}

/// Sessions a parent is invited to from `from` on (or all of them this year when
/// `from` is None), with their own check-in.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct ParentSession {
    pub id: i64,
    pub school_name: String,
    pub title: String,
    pub form: String,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub place: Option<String>,
    pub online_url: Option<String>,
    pub instructor_name: String,
    pub status: String,
    pub my_status: Option<String>,
    pub my_checked_at: Option<DateTime<Utc>>,
}

pub async fn sessions_for_parent(
    db: &Db,
    scope: &Scope,
    from: Option<DateTime<Utc>>,
    limit: u64,
) -> StoreResult<Vec<ParentSession>> {
    parent_sessions(db, scope, ParentWhich::Listed { from, limit }).await
}

/// One session the parent is invited to (or came to), cancelled ones included so the
/// page can say so; `NotFound` otherwise.
pub async fn session_for_parent(
    db: &Db,
    scope: &Scope,
    session_id: i64,
) -> StoreResult<ParentSession> {
    parent_sessions(db, scope, ParentWhich::One(session_id))
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)
}

enum ParentWhich {
    Listed {
        from: Option<DateTime<Utc>>,
        limit: u64,
    },
    One(i64),
}

async fn parent_sessions(
    db: &Db,
    scope: &Scope,
    which: ParentWhich,
) -> StoreResult<Vec<ParentSession>> {
    let Some(g) = scope.guardian_id() else {
        return Ok(Vec::new());
    };
    let mut values: Vec<Value> = Vec::new();
    let gp = bind(&mut values, g);
    let on_day = crate::org::in_force(
        "anc",
        &crate::org::beijing_day_sql(db.conn.get_database_backend(), "s.starts_at"),
    );
    let (cond, tail) = match which {
        ParentWhich::Listed { from, limit } => {
            let time_cond = match from {
                Some(t) => format!("AND s.starts_at >= {}", bind(&mut values, t)),
                None => String::new(),
            };
            let lim = bind(&mut values, limit as i64);
            (
                format!("s.status <> 'cancelled' {time_cond}"),
                format!("ORDER BY s.starts_at LIMIT {lim}"),
            )
        }
        ParentWhich::One(id) => (format!("s.id = {}", bind(&mut values, id)), String::new()),
    };
    // The parent's sessions are gathered from the parent outwards (own check-ins, named
    // invitations, the units above their children's classes) and only then joined to
    // `teaching_session`: filtering every session of the province by "is this parent
    // invited" read the whole table (issue 16, `tests/plans.rs`). `CROSS JOIN` fixes the
    // join order on SQLite (its documented override); PostgreSQL plans it as any join.
    let sql = format!(
        "WITH anc AS (SELECT DISTINCT cm.school_year_id, oc.ancestor_id, oc.valid_from, oc.valid_to \
                      FROM guardianship gs JOIN class_membership cm ON cm.pupil_id = gs.pupil_id \
                      JOIN org_closure oc ON oc.descendant_id = cm.class_id \
                      WHERE gs.guardian_id = {gp}), \
              mine AS (SELECT c.session_id AS id FROM checkin c WHERE c.guardian_id = {gp} \
                UNION SELECT si.session_id FROM session_invitee si WHERE si.guardian_id = {gp} \
                UNION SELECT s.id FROM anc JOIN teaching_session s ON s.school_id = anc.ancestor_id \
                        AND s.school_year_id = anc.school_year_id \
                      WHERE s.audience = 'school' AND {on_day} \
                UNION SELECT s.id FROM anc CROSS JOIN session_audience a CROSS JOIN teaching_session s \
                      WHERE a.unit_id = anc.ancestor_id AND s.id = a.session_id \
                        AND s.school_year_id = anc.school_year_id AND s.audience = 'units' AND {on_day}) \
         SELECT s.id, o.name AS school_name, s.title, s.form, s.starts_at, s.duration_minutes, s.place, s.online_url, \
                s.instructor_name, s.status, c.status AS my_status, c.checked_at AS my_checked_at \
         FROM mine CROSS JOIN teaching_session s JOIN org_unit o ON o.id = s.school_id \
         LEFT JOIN checkin c ON c.session_id = s.id AND c.guardian_id = {gp} \
         WHERE s.id = mine.id AND {cond} {tail}"
    );
    rows(&db.conn, sql, values).await
}

impl SessionCounts {
    /// The part of a session a roster shows (a head teacher's classes): parents with
    /// their last status, children reached when any of their parents came. Walk-ins
    /// are not on a roster and so not counted here.
    pub fn from_roster(lines: &[RosterLine]) -> SessionCounts {
        let mut status: HashMap<i64, Option<&str>> = HashMap::new();
        let mut children: HashMap<i64, bool> = HashMap::new();
        for l in lines {
            let st = l.status.as_deref();
            status.insert(l.guardian_id, st);
            if let Some(p) = l.pupil_id {
                let came = matches!(st, Some("present" | "late"));
                *children.entry(p).or_default() |= came;
            }
        }
        let mut c = SessionCounts {
            invited_parents: status.len() as i64,
            invited_children: children.len() as i64,
            children_reached: children.values().filter(|r| **r).count() as i64,
            ..Default::default()
        };
        for st in status.values().flatten() {
            match *st {
                "present" => c.present += 1,
                "late" => c.late += 1,
                "excused" => c.excused += 1,
                "absent" => c.absent += 1,
                _ => {}
            }
        }
        c
    }
}

/// Whether the caller's scope takes in the whole school (not only some of its classes).
pub async fn sees_whole_school(db: &Db, scope: &Scope, school_id: i64) -> StoreResult<bool> {
    sees_whole_school_in(&db.conn, scope, school_id).await
}

pub(crate) async fn sees_whole_school_in<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    school_id: i64,
) -> StoreResult<bool> {
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_in_subtree("u.id", &mut values);
    let p = bind(&mut values, school_id);
    let n = crate::db::scalar_i64(
        conn,
        format!("SELECT COUNT(*) AS n FROM org_unit u WHERE u.id = {p} AND {cond}"),
        values,
    )
    .await?;
    Ok(n > 0)
}

pub async fn counts(db: &Db, scope: &Scope, session_id: i64) -> StoreResult<SessionCounts> {
    let s = get_session(db, scope, session_id).await?;
    let f = super::attendance::Filter {
        session_id: Some(s.id),
        ..super::attendance::Filter::year(s.school_id, s.school_year_id)
    };
    Ok(super::attendance::session_counts(db, f)
        .await?
        .remove(&s.id)
        .unwrap_or_default())
}

/// The school's visibility check, for pages that list a school's sessions.
pub async fn school(db: &Db, scope: &Scope, school_id: i64) -> StoreResult<crate::org::UnitRow> {
    visible_school(&db.conn, scope, school_id).await
}

/// (id, title) of the school's active topics and its staff, for the session form.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct Choice {
    pub id: i64,
    pub name: String,
}

pub async fn form_choices(
    db: &Db,
    scope: &Scope,
    school_id: i64,
) -> StoreResult<(Vec<Choice>, Vec<Choice>, Vec<Choice>)> {
    writable_school(&db.conn, scope, school_id).await?;
    let topics = rows(
        &db.conn,
        "SELECT id, title AS name FROM topic WHERE school_id = $1 AND active = $2 ORDER BY ordinal, id".into(),
        vec![school_id.into(), true.into()],
    )
    .await?;
    let staff = rows(
        &db.conn,
        "SELECT id, name FROM staff WHERE unit_id = $1 ORDER BY name, id".into(),
        vec![school_id.into()],
    )
    .await?;
    let units = rows(
        &db.conn,
        format!(
            "SELECT u.id, {UNIT_LABEL} AS name \
             FROM org_closure c JOIN org_unit u ON u.id = c.descendant_id {UNIT_GRADE} \
             WHERE c.ancestor_id = $1 AND {today} AND u.kind IN ('grade', 'class') \
             ORDER BY COALESCE(u.grade_level, g.grade_level), u.kind DESC, u.class_number, u.id",
            today = crate::org::in_force("c", &crate::org::today_sql())
        ),
        vec![school_id.into()],
    )
    .await?;
    Ok((topics, staff, units))
}

/// (id, "三年级 · title") of the school's courses in a school year, for the session form.
pub async fn course_choices(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Vec<Choice>> {
    writable_school(&db.conn, scope, school_id).await?;
    #[derive(FromQueryResult)]
    struct C {
        id: i64,
        grade_level: i32,
        title: String,
    }
    Ok(rows::<C, _>(
        &db.conn,
        "SELECT id, grade_level, title FROM course WHERE school_id = $1 AND school_year_id = $2 \
         ORDER BY grade_level, semester, id"
            .into(),
        vec![school_id.into(), school_year_id.into()],
    )
    .await?
    .into_iter()
    .map(|c| Choice {
        id: c.id,
        name: format!(
            "{} · {}",
            jiaxiao_domain::org::grade_name(c.grade_level),
            c.title
        ),
    })
    .collect())
}

/// Parents of the school by mobile number, for a session with named invitees; unknown
/// numbers come back so the form can name them.
pub async fn guardians_by_phone(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    phones: &[String],
) -> StoreResult<(Vec<i64>, Vec<String>)> {
    writable_school(&db.conn, scope, school_id).await?;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for p in phones {
        let id = crate::db::scalar_i64(
            &db.conn,
            "SELECT g.id AS n FROM guardian g WHERE g.phone = $1 AND EXISTS (SELECT 1 FROM guardianship gs \
             JOIN pupil p ON p.id = gs.pupil_id WHERE gs.guardian_id = g.id AND p.school_id = $2)",
            vec![p.clone().into(), school_id.into()],
        )
        .await?;
        if id > 0 {
            found.push(id);
        } else {
            missing.push(p.clone());
        }
    }
    Ok((found, missing))
}

/// Invited parents with a mobile number who have not checked in yet, for a reminder;
/// the reminder itself is audited here (who asked, how many), the texts go through the
/// SMS provider.
pub async fn remind(db: &Db, scope: &Scope, session_id: i64) -> StoreResult<Vec<(String, String)>> {
    let (s, _) = session_secret(db, scope, session_id).await?;
    #[derive(FromQueryResult)]
    struct P {
        name: String,
        phone: String,
    }
    let mut values: Vec<Value> = Vec::new();
    let sid = bind(&mut values, s.id);
    let list: Vec<P> = rows(
        &db.conn,
        format!(
            "SELECT g.name, g.phone FROM guardian g WHERE g.phone IS NOT NULL AND g.id IN ({}) \
             AND NOT EXISTS (SELECT 1 FROM checkin c WHERE c.session_id = {sid} AND c.guardian_id = g.id) ORDER BY g.id",
            invited_guardians_sql(db.conn.get_database_backend(), &sid)
        ),
        values,
    )
    .await?;
    let txn = db.begin().await?;
    audit::note(
        &txn,
        scope,
        s.school_id,
        "teaching_session",
        s.id,
        "remind",
        Some(serde_json::json!({ "parents": list.len() })),
    )
    .await?;
    txn.commit().await?;
    Ok(list.into_iter().map(|p| (p.name, p.phone)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(g: i64, p: Option<i64>, st: Option<&str>) -> RosterLine {
        RosterLine {
            guardian_id: g,
            guardian_name: format!("家长{g}"),
            phone: None,
            pupil_id: p,
            pupil_name: None,
            class_id: Some(1),
            class_name: None,
            relation: None,
            status: st.map(str::to_owned),
            method: None,
            checked_at: None,
            recorded_by: None,
        }
    }

    #[test]
    fn roster_counts_parents_once_and_children_by_household() {
        // Child 10 has two parents, one came late; child 11's parent is absent; parent 3
        // has two children (10 is shared with parent 1) and did not come.
        let lines = [
            line(1, Some(10), Some("late")),
            line(2, Some(10), None),
            line(3, Some(11), Some("absent")),
            line(3, Some(12), Some("absent")),
            line(4, None, Some("present")),
        ];
        let c = SessionCounts::from_roster(&lines);
        assert_eq!(c.invited_parents, 4);
        assert_eq!((c.present, c.late, c.absent, c.excused), (1, 1, 1, 0));
        assert_eq!((c.invited_children, c.children_reached), (3, 1));
        assert!((c.rate() - 1.0 / 3.0).abs() < 1e-9);
    }
}
