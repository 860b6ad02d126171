//! Sessions (课次) of the parent school: planning them with their audience, the lesson
//! plan that must be filed before a session counts as held, the summary afterwards, and
//! who is invited — the question every check-in, roster and attendance rate asks.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use jiaxiao_domain::parent_school::{Audience, Form, SessionStatus, Window};
use sea_orm::{ActiveModelTrait, ConnectionTrait, FromQueryResult, Set, Value};
use serde::Serialize;

use super::{
    Access, belongs_to_school, bind, plausible_time, rows, school_row, staff_at_school, text,
    text_opt, text_required, visible_school, writable_school,
};
use crate::audit::{self, Entry};
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

pub(crate) const SESSION_COLS: &str = "s.id, s.school_id, o.name AS school_name, s.school_year_id, s.course_id, s.topic_id, t.title AS topic_title, s.activity_id, s.title, s.form, s.starts_at, s.duration_minutes, s.place, s.online_url, s.instructor_staff_id, s.instructor_name, s.instructor_title, s.instructor_org, s.audience, s.capacity, s.status, s.lesson_plan, s.summary, s.opens_before_minutes, s.closes_after_minutes, s.late_after_minutes";
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
    use jiaxiao_domain::text::Field;
    // The school first: a school the caller may not write to is 404 whatever the body.
    writable_school(txn, scope, s.school_id).await?;
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
    if !form.plannable() && s.activity_id.is_none() {
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
        && !belongs_to_school(txn, "topic", t, s.school_id).await?
    {
        return Err(StoreError::Invalid {
            code: "topic_outside_school",
        });
    }
    if let Some(c) = s.course_id
        && !belongs_to_school(txn, "course", c, s.school_id).await?
    {
        return Err(StoreError::Invalid {
            code: "course_outside_school",
        });
    }
    if let Some(a) = s.activity_id
        && !belongs_to_school(txn, "activity", a, s.school_id).await?
    {
        return Err(StoreError::Invalid {
            code: "activity_outside_school",
        });
    }
    if let Some(st) = s.instructor_staff_id
        && !staff_at_school(txn, st, s.school_id).await?
    {
        return Err(StoreError::Invalid {
            code: "staff_not_at_school",
        });
    }
    let date = (s.starts_at + chrono::Duration::hours(8)).date_naive();
    let year = crate::org::ensure_school_year(txn, date).await?;
    super::writable_year(txn, s.school_id, year).await?;
    let settings = super::settings(txn, s.school_id, year).await?;
    // Audience units must be grades or classes of this very school.
    for u in &s.audience_units {
        let n = crate::db::scalar_i64(
            txn,
            "SELECT COUNT(*) AS n FROM org_closure c JOIN org_unit u ON u.id = c.descendant_id \
             WHERE c.ancestor_id = $1 AND c.descendant_id = $2 AND c.valid_to = $3 AND u.kind IN ('grade', 'class')",
            vec![s.school_id.into(), (*u).into(), crate::OPEN_END.into()],
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
            vec![(*g).into(), s.school_id.into()],
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
        (Some(id), "") => crate::entities::staff::Entity::find_by_id(id)
            .one(txn)
            .await?
            .map(|st| st.name)
            .ok_or(StoreError::Invalid {
                code: "instructor_missing",
            })?,
        _ => instructor_name,
    };
    use sea_orm::EntityTrait;
    let m = teaching_session::ActiveModel {
        school_id: Set(s.school_id),
        school_year_id: Set(year),
        course_id: Set(s.course_id),
        topic_id: Set(s.topic_id),
        activity_id: Set(s.activity_id),
        title: Set(title),
        form: Set(form.code().into()),
        starts_at: Set(s.starts_at),
        duration_minutes: Set(s.duration_minutes),
        place: Set(place),
        online_url: Set(online_url),
        instructor_staff_id: Set(s.instructor_staff_id),
        instructor_name: Set(instructor_name),
        instructor_title: Set(instructor_title),
        instructor_org: Set(instructor_org),
        audience: Set(audience.code().into()),
        capacity: Set(s.capacity),
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
    if audience == Audience::Units {
        let mut units = s.audience_units.clone();
        units.sort_unstable();
        units.dedup();
        session_audience::Entity::insert_many(units.into_iter().map(|u| {
            session_audience::ActiveModel {
                session_id: Set(m.id),
                unit_id: Set(u),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    if audience == Audience::Parents {
        let mut ids = s.invitees.clone();
        ids.sort_unstable();
        ids.dedup();
        session_invitee::Entity::insert_many(ids.into_iter().map(|g| {
            session_invitee::ActiveModel {
                session_id: Set(m.id),
                guardian_id: Set(g),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    audit::note(txn, scope, s.school_id, "teaching_session", m.id, "create", Some(serde_json::json!({"title": m.title, "form": m.form, "starts_at": m.starts_at, "audience": m.audience}))).await?;
    Ok(m.id)
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
/// school year, by start time.
pub async fn list_sessions(
    db: &Db,
    scope: &Scope,
    school_id: Option<i64>,
    school_year_id: Option<i64>,
) -> StoreResult<Vec<SessionRow>> {
    let mut values: Vec<Value> = Vec::new();
    let mut cond = scope.sql_school_visible("s.school_id", &mut values);
    if let Some(sid) = school_id {
        let p = bind(&mut values, sid);
        cond.push_str(&format!(" AND s.school_id = {p}"));
    }
    if let Some(y) = school_year_id {
        let p = bind(&mut values, y);
        cond.push_str(&format!(" AND s.school_year_id = {p}"));
    }
    let sql = format!(
        "SELECT {SESSION_COLS} FROM {SESSION_FROM} WHERE {cond} ORDER BY s.starts_at, s.id LIMIT 2000"
    );
    rows(&db.conn, sql, values).await
}

async fn writable_session<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i64,
) -> StoreResult<teaching_session::Model> {
    use sea_orm::EntityTrait;
    let m = teaching_session::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    writable_school(conn, scope, m.school_id).await?;
    super::writable_year(conn, m.school_id, m.school_year_id).await?;
    Ok(m)
}

/// Files (or replaces) the lesson plan (授课方案).
pub async fn file_lesson_plan(db: &Db, scope: &Scope, id: i64, plan: &str) -> StoreResult<()> {
    let plan = text_required(
        jiaxiao_domain::text::Field::Note,
        plan,
        "lesson_plan_missing",
    )?;
    update_text(db, scope, id, "lesson_plan", &plan).await
}

/// Files the instructor's summary after the session.
pub async fn file_summary(db: &Db, scope: &Scope, id: i64, summary: &str) -> StoreResult<()> {
    let summary = text_required(
        jiaxiao_domain::text::Field::Note,
        summary,
        "summary_missing",
    )?;
    update_text(db, scope, id, "summary", &summary).await
}

async fn update_text(
    db: &Db,
    scope: &Scope,
    id: i64,
    what: &'static str,
    text: &str,
) -> StoreResult<()> {
    let txn = db.begin().await?;
    let m = writable_session(&txn, scope, id).await?;
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
pub async fn set_status(db: &Db, scope: &Scope, id: i64, status: SessionStatus) -> StoreResult<()> {
    let txn = db.begin().await?;
    let m = writable_session(&txn, scope, id).await?;
    if status == SessionStatus::Held && m.lesson_plan.as_deref().unwrap_or("").is_empty() {
        return Err(StoreError::Invalid {
            code: "lesson_plan_missing",
        });
    }
    let before = m.status.clone();
    let school = m.school_id;
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
pub async fn set_window(db: &Db, scope: &Scope, id: i64, w: Window) -> StoreResult<()> {
    if w.opens_before_minutes < 0 || w.closes_after_minutes < 0 || w.late_after_minutes < 0 {
        return Err(StoreError::Invalid { code: "bad_window" });
    }
    let txn = db.begin().await?;
    let m = writable_session(&txn, scope, id).await?;
    let school = m.school_id;
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

/// `SELECT pupil_id, class_id` of the pupils whose parents are invited to the session
/// `sid` (a placeholder or a column): every class of the school, or the classes under
/// the invited grades and classes, in the session's school year.
pub(crate) fn invited_pupils_sql(sid: &str) -> String {
    format!(
        "SELECT cm.pupil_id AS pupil_id, cm.class_id AS class_id FROM teaching_session s \
           JOIN org_closure oc ON oc.ancestor_id = s.school_id AND oc.valid_to = '{end}' \
           JOIN class_membership cm ON cm.class_id = oc.descendant_id AND cm.school_year_id = s.school_year_id \
           WHERE s.id = {sid} AND s.audience = 'school' \
         UNION SELECT cm.pupil_id, cm.class_id FROM session_audience a \
           JOIN teaching_session s ON s.id = a.session_id \
           JOIN org_closure oc ON oc.ancestor_id = a.unit_id AND oc.valid_to = '{end}' \
           JOIN class_membership cm ON cm.class_id = oc.descendant_id AND cm.school_year_id = s.school_year_id \
           WHERE a.session_id = {sid} AND s.audience = 'units'",
        end = crate::OPEN_END
    )
}

/// `SELECT guardian_id` of every parent invited to session `sid`: the parents of the
/// invited pupils and the parents named on the session.
pub(crate) fn invited_guardians_sql(sid: &str) -> String {
    format!(
        "SELECT gs.guardian_id AS guardian_id FROM guardianship gs WHERE gs.pupil_id IN (SELECT ip.pupil_id FROM ({}) ip) \
         UNION SELECT si.guardian_id FROM session_invitee si WHERE si.session_id = {sid}",
        invited_pupils_sql(sid)
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
    let sql = invited_guardians_sql(&p);
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
    let sql =
        "SELECT u.id, u.name, u.kind FROM session_audience a JOIN org_unit u ON u.id = a.unit_id \
               WHERE a.session_id = $1 ORDER BY u.grade_level, u.class_number, u.id"
            .to_string();
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
        ips = invited_pupils_sql(&sid)
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
    let end = crate::OPEN_END;
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
    let sql = format!(
        "SELECT s.id, o.name AS school_name, s.title, s.form, s.starts_at, s.duration_minutes, s.place, s.online_url, \
                s.instructor_name, s.status, c.status AS my_status, c.checked_at AS my_checked_at \
         FROM teaching_session s JOIN org_unit o ON o.id = s.school_id \
         LEFT JOIN checkin c ON c.session_id = s.id AND c.guardian_id = {gp} \
         WHERE {cond} AND ( \
           c.id IS NOT NULL \
           OR s.id IN (SELECT si.session_id FROM session_invitee si WHERE si.guardian_id = {gp}) \
           OR EXISTS (SELECT 1 FROM guardianship gs JOIN class_membership cm ON cm.pupil_id = gs.pupil_id \
                      JOIN org_closure oc ON oc.descendant_id = cm.class_id AND oc.valid_to = '{end}' \
                      WHERE gs.guardian_id = {gp} AND cm.school_year_id = s.school_year_id AND ( \
                        (s.audience = 'school' AND oc.ancestor_id = s.school_id) \
                        OR (s.audience = 'units' AND oc.ancestor_id IN (SELECT a.unit_id FROM session_audience a WHERE a.session_id = s.id))))) \
         {tail}"
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
    let att = super::attendance::Attendance::load(&db.conn, f).await?;
    Ok(att
        .sessions
        .first()
        .map(|x| att.counts(x))
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
        "SELECT u.id, u.name \
         FROM org_closure c JOIN org_unit u ON u.id = c.descendant_id LEFT JOIN org_unit g ON g.id = u.parent_id \
         WHERE c.ancestor_id = $1 AND c.valid_to = $2 AND u.kind IN ('grade', 'class') \
         ORDER BY COALESCE(u.grade_level, g.grade_level), u.kind DESC, u.class_number, u.id"
            .into(),
        vec![school_id.into(), crate::OPEN_END.into()],
    )
    .await?;
    Ok((topics, staff, units))
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
            invited_guardians_sql(&sid)
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
