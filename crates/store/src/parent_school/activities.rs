//! Activities made of several parts, such as the parents' meeting day of plan 2: a
//! header (theme, time, place, participants, organiser), a programme of collective
//! items and per-class breakouts — each breakout a session of its own, so each class
//! has its own check-in and lesson plan —, venue notes, the duty roster (人员安排) and a
//! slot for the survey parents fill in.

use chrono::{DateTime, Utc};
use jiaxiao_domain::parent_school::{ActivityPart, Audience, Form};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, FromQueryResult, Set};
use sea_orm::{ModelTrait, Value};
use serde::Serialize;

use super::sessions::{NewSession, create_session_in};
use super::{
    Access, bind, plausible_time, rows, school_row, text, text_opt, text_required, visible_school,
    writable_school,
};
use crate::audit::{self, Entry};
use crate::entities::{activity, activity_duty, activity_item};
use crate::{Db, Scope, StoreError, StoreResult};
use jiaxiao_domain::text::Field;

#[derive(Debug, Clone)]
pub struct NewActivity {
    pub school_id: i64,
    pub theme: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: String,
    pub participants: String,
    pub organiser: String,
    pub venue_notes: Option<String>,
    /// Where the parents' survey lives until surveys have their own area: free text or
    /// a link.
    pub survey_ref: Option<String>,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct ActivityRow {
    pub id: i64,
    pub school_id: i64,
    pub school_name: String,
    pub school_year_id: i64,
    pub theme: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: String,
    pub participants: String,
    pub organiser: String,
    pub venue_notes: Option<String>,
    pub survey_ref: Option<String>,
    pub items: i64,
    pub breakouts: i64,
    pub duties: i64,
}

#[derive(Debug, Clone)]
pub struct NewItem {
    pub part: ActivityPart,
    pub title: String,
    pub speaker: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
}

/// A class's breakout: a programme line and the session behind it, whose audience is
/// that class.
#[derive(Debug, Clone, Default)]
pub struct NewBreakout {
    pub class_id: i64,
    pub title: String,
    pub topic_id: Option<i64>,
    pub course_id: Option<i64>,
    pub instructor_staff_id: Option<i64>,
    pub instructor_name: String,
    pub instructor_title: Option<String>,
    pub place: Option<String>,
    /// The activity's start when None.
    pub starts_at: Option<DateTime<Utc>>,
    /// Until the activity ends when None.
    pub duration_minutes: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct NewDuty {
    pub person: String,
    pub duty: String,
    pub place: Option<String>,
    pub time_text: Option<String>,
}

/// A programme line; for a breakout also its session's class, instructor and place.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct ItemLine {
    pub id: i64,
    pub activity_id: i64,
    pub ordinal: i32,
    pub part: String,
    pub title: String,
    pub speaker: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub session_id: Option<i64>,
    pub class_name: Option<String>,
    pub instructor_name: Option<String>,
    pub place: Option<String>,
    pub session_status: Option<String>,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct DutyRow {
    pub id: i64,
    pub activity_id: i64,
    pub ordinal: i32,
    pub person: String,
    pub duty: String,
    pub place: Option<String>,
    pub time_text: Option<String>,
}

/// Everything the run sheet shows.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityFull {
    pub activity: ActivityRow,
    pub items: Vec<ItemLine>,
    pub duties: Vec<DutyRow>,
}

fn required(s: &str, code: &'static str) -> StoreResult<String> {
    text_required(Field::Title, s, code)
}

fn optional(s: Option<String>) -> StoreResult<Option<String>> {
    text_opt(Field::Line, s.as_deref())
}

/// The header's fields as they are kept.
struct Header {
    theme: String,
    place: String,
    participants: String,
    organiser: String,
    venue_notes: Option<String>,
    survey_ref: Option<String>,
}

fn checked(a: &NewActivity) -> StoreResult<Header> {
    plausible_time(a.starts_at)?;
    if a.ends_at <= a.starts_at {
        return Err(StoreError::Invalid { code: "bad_time" });
    }
    Ok(Header {
        theme: required(&a.theme, "theme_missing")?,
        place: text(Field::Line, &a.place)?,
        participants: text(Field::Line, &a.participants)?,
        organiser: text(Field::Line, &a.organiser)?,
        venue_notes: text_opt(Field::Note, a.venue_notes.as_deref())?,
        survey_ref: text_opt(Field::Line, a.survey_ref.as_deref())?,
    })
}

pub async fn create_activity(db: &Db, scope: &Scope, a: NewActivity) -> StoreResult<i64> {
    let txn = db.begin().await?;
    writable_school(&txn, scope, a.school_id).await?;
    let h = checked(&a)?;
    let date = (a.starts_at + chrono::Duration::hours(8)).date_naive();
    let year = crate::org::ensure_school_year(&txn, date).await?;
    super::writable_year(&txn, a.school_id, year).await?;
    let m = activity::ActiveModel {
        school_id: Set(a.school_id),
        school_year_id: Set(year),
        theme: Set(h.theme),
        starts_at: Set(a.starts_at),
        ends_at: Set(a.ends_at),
        place: Set(h.place),
        participants: Set(h.participants),
        organiser: Set(h.organiser),
        venue_notes: Set(h.venue_notes),
        survey_ref: Set(h.survey_ref),
        created_by: Set(scope.user_id()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::note(
        &txn,
        scope,
        a.school_id,
        "activity",
        m.id,
        "create",
        Some(serde_json::json!({"theme": m.theme, "starts_at": m.starts_at, "place": m.place})),
    )
    .await?;
    txn.commit().await?;
    Ok(m.id)
}

/// Replaces the header, venue notes and survey slot (the school stays the same).
pub async fn update_activity(db: &Db, scope: &Scope, id: i64, a: NewActivity) -> StoreResult<()> {
    let txn = db.begin().await?;
    let row = activity_where(&txn, scope, id, true).await?;
    let h = checked(&a)?;
    let theme = h.theme.clone();
    let m = activity::Entity::find_by_id(row.id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let before = serde_json::json!({"theme": m.theme, "starts_at": m.starts_at, "place": m.place});
    let mut am: activity::ActiveModel = m.into();
    am.theme = Set(theme.clone());
    am.starts_at = Set(a.starts_at);
    am.ends_at = Set(a.ends_at);
    am.place = Set(h.place.clone());
    am.participants = Set(h.participants);
    am.organiser = Set(h.organiser);
    am.venue_notes = Set(h.venue_notes);
    am.survey_ref = Set(h.survey_ref);
    am.update(&txn).await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(row.school_id),
            entity: "activity",
            entity_id: Some(id.to_string()),
            action: "update",
            before: Some(before),
            after: Some(
                serde_json::json!({"theme": theme, "starts_at": a.starts_at, "place": h.place}),
            ),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

const ACTIVITY_COLS: &str = "a.id, a.school_id, o.name AS school_name, a.school_year_id, a.theme, a.starts_at, a.ends_at, \
     a.place, a.participants, a.organiser, a.venue_notes, a.survey_ref, \
     (SELECT COUNT(*) FROM activity_item i WHERE i.activity_id = a.id) AS items, \
     (SELECT COUNT(*) FROM activity_item i WHERE i.activity_id = a.id AND i.session_id IS NOT NULL) AS breakouts, \
     (SELECT COUNT(*) FROM activity_duty d WHERE d.activity_id = a.id) AS duties";

async fn activity_where<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i64,
    write: bool,
) -> StoreResult<ActivityRow> {
    let access = if write { Access::Write } else { Access::Read };
    let from =
        format!("SELECT {ACTIVITY_COLS} FROM activity a JOIN org_unit o ON o.id = a.school_id");
    let row: ActivityRow =
        school_row(conn, scope, access, &from, "a.id", "a.school_id", id).await?;
    if write {
        super::writable_year(conn, row.school_id, row.school_year_id).await?;
    }
    Ok(row)
}

pub async fn get_activity(db: &Db, scope: &Scope, id: i64) -> StoreResult<ActivityRow> {
    activity_where(&db.conn, scope, id, false).await
}

/// A school's activities in a school year, by start.
pub async fn list_activities(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Vec<ActivityRow>> {
    // An unknown or foreign school is NotFound, not an empty list.
    visible_school(&db.conn, scope, school_id).await?;
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_school_visible("a.school_id", &mut values);
    let s = bind(&mut values, school_id);
    let y = bind(&mut values, school_year_id);
    let sql = format!(
        "SELECT {ACTIVITY_COLS} FROM activity a JOIN org_unit o ON o.id = a.school_id \
         WHERE a.school_id = {s} AND a.school_year_id = {y} AND {cond} ORDER BY a.starts_at, a.id"
    );
    rows(&db.conn, sql, values).await
}

async fn next_ordinal<C: ConnectionTrait>(
    conn: &C,
    table: &'static str,
    activity_id: i64,
) -> StoreResult<i32> {
    let n = crate::db::scalar_i64(
        conn,
        format!(
            "SELECT CAST(COALESCE(MAX(ordinal), 0) AS BIGINT) AS n FROM {table} WHERE activity_id = $1"
        ),
        vec![activity_id.into()],
    )
    .await?;
    Ok(n as i32 + 1)
}

/// Adds a programme line without a session of its own: a collective item (a welcome,
/// a report, a trainee's speech) or a by-class item every class does alike (the school
/// explaining its management, parents and pupils talking).
pub async fn add_item(db: &Db, scope: &Scope, activity_id: i64, i: NewItem) -> StoreResult<i64> {
    let txn = db.begin().await?;
    let a = activity_where(&txn, scope, activity_id, true).await?;
    let title = required(&i.title, "title_missing")?;
    let speaker = text_opt(Field::Name, i.speaker.as_deref())?;
    if let Some(t) = i.starts_at {
        plausible_time(t)?;
    }
    let ordinal = next_ordinal(&txn, "activity_item", activity_id).await?;
    let m = activity_item::ActiveModel {
        activity_id: Set(activity_id),
        ordinal: Set(ordinal),
        part: Set(i.part.code().into()),
        title: Set(title),
        speaker: Set(speaker),
        starts_at: Set(i.starts_at),
        session_id: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::note(
        &txn,
        scope,
        a.school_id,
        "activity_item",
        m.id,
        "create",
        Some(serde_json::json!({"activity_id": activity_id, "part": m.part, "title": m.title})),
    )
    .await?;
    txn.commit().await?;
    Ok(m.id)
}

/// Adds one breakout per class, each with its session (audience: that class, linked to
/// the activity), all or none. Returns (item id, session id) per breakout.
pub async fn add_breakouts(
    db: &Db,
    scope: &Scope,
    activity_id: i64,
    breakouts: Vec<NewBreakout>,
) -> StoreResult<Vec<(i64, i64)>> {
    if breakouts.is_empty() {
        return Err(StoreError::Invalid {
            code: "audience_empty",
        });
    }
    let txn = db.begin().await?;
    let a = activity_where(&txn, scope, activity_id, true).await?;
    let mut ordinal = next_ordinal(&txn, "activity_item", activity_id).await?;
    let mut out = Vec::with_capacity(breakouts.len());
    for b in breakouts {
        let title = required(&b.title, "title_missing")?;
        let starts_at = b.starts_at.unwrap_or(a.starts_at);
        // A class of the school on the breakout's day, the tree its session invites from.
        let is_class = crate::db::scalar_i64(
            &txn,
            format!(
                "SELECT COUNT(*) AS n FROM org_closure oc JOIN org_unit u ON u.id = oc.descendant_id \
                 WHERE oc.ancestor_id = $1 AND oc.descendant_id = $2 AND {} AND u.kind = 'class'",
                crate::org::in_force(
                    "oc",
                    &crate::org::day_sql((starts_at + chrono::Duration::hours(8)).date_naive())
                )
            ),
            vec![a.school_id.into(), b.class_id.into()],
        )
        .await?;
        if is_class == 0 {
            return Err(StoreError::Invalid {
                code: "class_outside_school",
            });
        }
        let duration = b
            .duration_minutes
            .unwrap_or_else(|| ((a.ends_at - starts_at).num_minutes()).clamp(1, 24 * 60) as i32);
        let session_id = create_session_in(
            &txn,
            scope,
            NewSession {
                school_id: a.school_id,
                course_id: b.course_id,
                topic_id: b.topic_id,
                activity_id: Some(activity_id),
                title: title.clone(),
                // Plan 2's 学员培训 by class: its own form, not a lecture (issue 10).
                form: Some(Form::Breakout),
                starts_at,
                duration_minutes: duration,
                place: b.place.clone(),
                online_url: None,
                instructor_staff_id: b.instructor_staff_id,
                instructor_name: b.instructor_name.clone(),
                instructor_title: b.instructor_title.clone(),
                instructor_org: None,
                audience: Some(Audience::Units),
                audience_units: vec![b.class_id],
                invitees: Vec::new(),
                capacity: None,
            },
        )
        .await?;
        let instructor = crate::entities::teaching_session::Entity::find_by_id(session_id)
            .one(&txn)
            .await?
            .map(|s| s.instructor_name);
        let m = activity_item::ActiveModel {
            activity_id: Set(activity_id),
            ordinal: Set(ordinal),
            part: Set(ActivityPart::Breakout.code().into()),
            title: Set(title),
            speaker: Set(instructor),
            starts_at: Set(Some(starts_at)),
            session_id: Set(Some(session_id)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        ordinal += 1;
        audit::note(
            &txn,
            scope,
            a.school_id,
            "activity_item",
            m.id,
            "create",
            Some(serde_json::json!({
                "activity_id": activity_id, "part": m.part, "title": m.title,
                "class_id": b.class_id, "session_id": session_id
            })),
        )
        .await?;
        out.push((m.id, session_id));
    }
    txn.commit().await?;
    Ok(out)
}

/// Removes a programme line. A breakout's session is cancelled with it — unless parents
/// already checked in to it, which is a record the school must keep.
pub async fn remove_item(db: &Db, scope: &Scope, item_id: i64) -> StoreResult<()> {
    let txn = db.begin().await?;
    let m = activity_item::Entity::find_by_id(item_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let a = activity_where(&txn, scope, m.activity_id, true).await?;
    if let Some(sid) = m.session_id {
        let checkins = crate::db::scalar_i64(
            &txn,
            "SELECT COUNT(*) AS n FROM checkin WHERE session_id = $1",
            vec![sid.into()],
        )
        .await?;
        if checkins > 0 {
            return Err(StoreError::Invalid {
                code: "breakout_has_checkins",
            });
        }
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            txn.get_database_backend(),
            "UPDATE teaching_session SET status = 'cancelled', version = version + 1 WHERE id = $1",
            [sid.into()],
        ))
        .await?;
        audit::note(
            &txn,
            scope,
            a.school_id,
            "teaching_session",
            sid,
            "status",
            Some(serde_json::json!({"status": "cancelled", "activity_item": item_id})),
        )
        .await?;
    }
    let before = serde_json::json!({"activity_id": m.activity_id, "part": m.part, "title": m.title, "session_id": m.session_id});
    m.delete(&txn).await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(a.school_id),
            entity: "activity_item",
            entity_id: Some(item_id.to_string()),
            action: "delete",
            before: Some(before),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Adds a line to the duty roster: who does what, where, when.
pub async fn add_duty(db: &Db, scope: &Scope, activity_id: i64, d: NewDuty) -> StoreResult<i64> {
    let txn = db.begin().await?;
    let a = activity_where(&txn, scope, activity_id, true).await?;
    let person = text_required(Field::Name, &d.person, "person_missing")?;
    let duty = text_required(Field::Line, &d.duty, "duty_missing")?;
    let ordinal = next_ordinal(&txn, "activity_duty", activity_id).await?;
    let m = activity_duty::ActiveModel {
        activity_id: Set(activity_id),
        ordinal: Set(ordinal),
        person: Set(person),
        duty: Set(duty),
        place: Set(optional(d.place)?),
        time_text: Set(optional(d.time_text)?),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::note(
        &txn,
        scope,
        a.school_id,
        "activity_duty",
        m.id,
        "create",
        Some(serde_json::json!({"activity_id": activity_id, "person": m.person, "duty": m.duty})),
    )
    .await?;
    txn.commit().await?;
    Ok(m.id)
}

pub async fn remove_duty(db: &Db, scope: &Scope, duty_id: i64) -> StoreResult<()> {
    let txn = db.begin().await?;
    let m = activity_duty::Entity::find_by_id(duty_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let a = activity_where(&txn, scope, m.activity_id, true).await?;
    let before =
        serde_json::json!({"activity_id": m.activity_id, "person": m.person, "duty": m.duty});
    m.delete(&txn).await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(a.school_id),
            entity: "activity_duty",
            entity_id: Some(duty_id.to_string()),
            action: "delete",
            before: Some(before),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The activity with its programme (collective part first, each part in its order) and
/// its duty roster.
pub async fn get_activity_full(db: &Db, scope: &Scope, id: i64) -> StoreResult<ActivityFull> {
    let activity = get_activity(db, scope, id).await?;
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_school_visible("a.school_id", &mut values);
    let p = bind(&mut values, id);
    let sql = format!(
        "SELECT i.id, i.activity_id, i.ordinal, i.part, i.title, i.speaker, i.starts_at, i.session_id, \
           (SELECT MIN(u.name) FROM session_audience sa JOIN org_unit u ON u.id = sa.unit_id WHERE sa.session_id = s.id) AS class_name, \
           s.instructor_name, s.place, s.status AS session_status \
         FROM activity_item i JOIN activity a ON a.id = i.activity_id \
         LEFT JOIN teaching_session s ON s.id = i.session_id \
         WHERE i.activity_id = {p} AND {cond} \
         ORDER BY CASE i.part WHEN 'collective' THEN 0 ELSE 1 END, i.ordinal, i.id"
    );
    let items = rows(&db.conn, sql, values).await?;
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_school_visible("a.school_id", &mut values);
    let p = bind(&mut values, id);
    let sql = format!(
        "SELECT d.id, d.activity_id, d.ordinal, d.person, d.duty, d.place, d.time_text \
         FROM activity_duty d JOIN activity a ON a.id = d.activity_id \
         WHERE d.activity_id = {p} AND {cond} ORDER BY d.ordinal, d.id"
    );
    let duties = rows(&db.conn, sql, values).await?;
    Ok(ActivityFull {
        activity,
        items,
        duties,
    })
}
