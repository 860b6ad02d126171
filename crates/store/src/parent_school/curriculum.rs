//! The curriculum (授课内容) of a parent school: its topic catalogue, copied from the
//! shipped defaults of its school type on the first change and then its own; courses
//! planned under those topics per grade and semester; and coverage — which topics each
//! grade's parents have had, this year and over their child's earlier years here.

use std::collections::HashMap;

use jiaxiao_domain::SchoolType;
use jiaxiao_domain::parent_school::default_topics;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, FromQueryResult, Set,
    Value,
};
use serde::Serialize;

use super::{Access, bind, rows, school_row, visible_school, writable_school};
use crate::audit::{self, Entry};
use crate::entities::{course, topic};
use crate::{Db, Scope, StoreError, StoreResult};
use jiaxiao_domain::text::Field;

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct TopicRow {
    /// 0 for a shipped default the school has not adopted yet.
    pub id: i64,
    pub school_id: i64,
    pub ordinal: i32,
    pub title: String,
    pub description: Option<String>,
    pub active: bool,
}

/// A school's topics. `stored` is false while the school still runs on the shipped
/// defaults (nothing written yet: reading never writes).
#[derive(Debug, Clone, Serialize)]
pub struct Catalogue {
    pub stored: bool,
    pub topics: Vec<TopicRow>,
}

const TOPIC_COLS: &str = "t.id, t.school_id, t.ordinal, t.title, t.description, t.active";

pub async fn list_topics(db: &Db, scope: &Scope, school_id: i64) -> StoreResult<Catalogue> {
    let school = visible_school(&db.conn, scope, school_id).await?;
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_school_visible("t.school_id", &mut values);
    let s = bind(&mut values, school_id);
    let sql = format!(
        "SELECT {TOPIC_COLS} FROM topic t WHERE t.school_id = {s} AND {cond} ORDER BY t.ordinal, t.id"
    );
    let topics: Vec<TopicRow> = rows(&db.conn, sql, values).await?;
    if !topics.is_empty() {
        return Ok(Catalogue {
            stored: true,
            topics,
        });
    }
    let kind = school
        .school_type
        .as_deref()
        .and_then(SchoolType::from_code);
    Ok(Catalogue {
        stored: false,
        topics: default_topics(kind)
            .iter()
            .enumerate()
            .map(|(i, t)| TopicRow {
                id: 0,
                school_id,
                ordinal: i as i32 + 1,
                title: (*t).to_owned(),
                description: None,
                active: true,
            })
            .collect(),
    })
}

/// Copies the defaults of the school's type into its catalogue unless it has one.
/// Returns how many topics were added (0 when the school already had its own).
async fn seed_in(txn: &DatabaseTransaction, scope: &Scope, school_id: i64) -> StoreResult<usize> {
    let school = writable_school(txn, scope, school_id).await?;
    let n = crate::db::scalar_i64(
        txn,
        "SELECT COUNT(*) AS n FROM topic WHERE school_id = $1",
        vec![school_id.into()],
    )
    .await?;
    if n > 0 {
        return Ok(0);
    }
    let kind = school
        .school_type
        .as_deref()
        .and_then(SchoolType::from_code);
    let defaults = default_topics(kind);
    let now = chrono::Utc::now();
    topic::Entity::insert_many(
        defaults
            .iter()
            .enumerate()
            .map(|(i, t)| topic::ActiveModel {
                school_id: Set(school_id),
                ordinal: Set(i as i32 + 1),
                title: Set((*t).to_owned()),
                description: Set(None),
                active: Set(true),
                created_at: Set(now),
                ..Default::default()
            }),
    )
    .exec_without_returning(txn)
    .await?;
    audit::record(
        txn,
        scope,
        Entry {
            unit_id: Some(school_id),
            entity: "topic",
            entity_id: None,
            action: "seed",
            before: None,
            after: Some(
                serde_json::json!({"school_type": school.school_type, "topics": defaults.len()}),
            ),
        },
    )
    .await?;
    Ok(defaults.len())
}

/// Adopts the shipped defaults as the school's own catalogue (a no-op once it has one).
pub async fn seed_topics(db: &Db, scope: &Scope, school_id: i64) -> StoreResult<usize> {
    let txn = db.begin().await?;
    let n = seed_in(&txn, scope, school_id).await?;
    txn.commit().await?;
    Ok(n)
}

fn clean(title: &str) -> StoreResult<String> {
    super::text_required(Field::Title, title, "title_missing")
}

fn clean_opt(s: Option<String>) -> StoreResult<Option<String>> {
    super::text_opt(Field::Note, s.as_deref())
}

/// Adds a topic at the end of the school's catalogue.
pub async fn add_topic(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    title: &str,
    description: Option<String>,
) -> StoreResult<i64> {
    let txn = db.begin().await?;
    seed_in(&txn, scope, school_id).await?;
    let title = clean(title)?;
    let description = clean_opt(description)?;
    let last = crate::db::scalar_i64(
        &txn,
        "SELECT CAST(COALESCE(MAX(ordinal), 0) AS BIGINT) AS n FROM topic WHERE school_id = $1",
        vec![school_id.into()],
    )
    .await?;
    let m = topic::ActiveModel {
        school_id: Set(school_id),
        ordinal: Set(last as i32 + 1),
        title: Set(title),
        description: Set(description),
        active: Set(true),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::note(
        &txn,
        scope,
        school_id,
        "topic",
        m.id,
        "create",
        Some(serde_json::json!({"title": m.title, "ordinal": m.ordinal})),
    )
    .await?;
    txn.commit().await?;
    Ok(m.id)
}

/// A topic of a school the caller may change.
async fn writable_topic<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i64,
) -> StoreResult<topic::Model> {
    school_row(
        conn,
        scope,
        Access::Write,
        "SELECT t.id, t.school_id, t.ordinal, t.title, t.description, t.active, t.created_at FROM topic t",
        "t.id",
        "t.school_id",
        id,
    )
    .await
}

/// Renames a topic and replaces its description.
pub async fn update_topic(
    db: &Db,
    scope: &Scope,
    id: i64,
    title: &str,
    description: Option<String>,
) -> StoreResult<()> {
    let txn = db.begin().await?;
    let m = writable_topic(&txn, scope, id).await?;
    let title = clean(title)?;
    let description = clean_opt(description)?;
    let (school, before) = (m.school_id, m.title.clone());
    let mut am: topic::ActiveModel = m.into();
    am.title = Set(title.clone());
    am.description = Set(description);
    am.update(&txn).await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(school),
            entity: "topic",
            entity_id: Some(id.to_string()),
            action: "update",
            before: Some(serde_json::json!({ "title": before })),
            after: Some(serde_json::json!({ "title": title })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Moves a topic one place up (`delta` < 0) or down (`delta` > 0) in the catalogue,
/// renumbering the catalogue 1…n so gaps and ties from earlier edits disappear.
pub async fn move_topic(db: &Db, scope: &Scope, id: i64, delta: i32) -> StoreResult<()> {
    let txn = db.begin().await?;
    let m = writable_topic(&txn, scope, id).await?;
    let school = m.school_id;
    let sql =
        "SELECT t.id, t.school_id, t.ordinal, t.title, t.description, t.active, t.created_at \
               FROM topic t WHERE t.school_id = $1 ORDER BY t.ordinal, t.id"
            .to_owned();
    let mut all: Vec<topic::Model> = rows(&txn, sql, vec![school.into()]).await?;
    let Some(i) = all.iter().position(|t| t.id == id) else {
        return Err(StoreError::NotFound);
    };
    let j = (i as i64 + delta.signum() as i64).clamp(0, all.len() as i64 - 1) as usize;
    all.swap(i, j);
    for (k, t) in all.into_iter().enumerate() {
        if t.ordinal != k as i32 + 1 {
            let mut am: topic::ActiveModel = t.into();
            am.ordinal = Set(k as i32 + 1);
            am.update(&txn).await?;
        }
    }
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(school),
            entity: "topic",
            entity_id: Some(id.to_string()),
            action: "move",
            before: Some(serde_json::json!({ "position": i + 1 })),
            after: Some(serde_json::json!({ "position": j + 1 })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Retires a topic (kept for the sessions and courses that name it) or brings it back.
pub async fn set_topic_active(db: &Db, scope: &Scope, id: i64, active: bool) -> StoreResult<()> {
    let txn = db.begin().await?;
    let m = writable_topic(&txn, scope, id).await?;
    let (school, before) = (m.school_id, m.active);
    let mut am: topic::ActiveModel = m.into();
    am.active = Set(active);
    am.update(&txn).await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(school),
            entity: "topic",
            entity_id: Some(id.to_string()),
            action: "active",
            before: Some(serde_json::json!({ "active": before })),
            after: Some(serde_json::json!({ "active": active })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct NewCourse {
    pub school_id: i64,
    pub topic_id: i64,
    pub grade_level: i32,
    /// 1 autumn, 2 spring.
    pub semester: i32,
    /// The topic's title when empty.
    pub title: String,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct CourseRow {
    pub id: i64,
    pub school_id: i64,
    pub school_year_id: i64,
    pub topic_id: i64,
    pub topic_title: String,
    pub grade_level: i32,
    pub semester: i32,
    pub title: String,
    /// Sessions planned under this course, and how many of them were held.
    pub sessions: i64,
    pub held: i64,
}

/// Plans a course for this school year: a topic for one grade level in one semester.
pub async fn create_course(db: &Db, scope: &Scope, c: NewCourse) -> StoreResult<i64> {
    let txn = db.begin().await?;
    seed_in(&txn, scope, c.school_id).await?;
    let school = writable_school(&txn, scope, c.school_id).await?;
    if !jiaxiao_domain::parent_school::SEMESTERS.contains(&c.semester) {
        return Err(StoreError::Invalid {
            code: "bad_semester",
        });
    }
    let levels = school
        .school_type
        .as_deref()
        .and_then(SchoolType::from_code)
        .map_or(-2..=12, SchoolType::grade_levels);
    if !levels.contains(&c.grade_level) {
        return Err(StoreError::Invalid { code: "bad_grade" });
    }
    let t = writable_topic(&txn, scope, c.topic_id).await?;
    if t.school_id != c.school_id {
        return Err(StoreError::Invalid {
            code: "topic_outside_school",
        });
    }
    let title = match super::text(Field::Title, &c.title)?.as_str() {
        "" => t.title.clone(),
        s => s.to_owned(),
    };
    let year = crate::org::ensure_school_year(&txn, crate::org::today_date()).await?;
    super::writable_year(&txn, c.school_id, year).await?;
    let m = course::ActiveModel {
        school_id: Set(c.school_id),
        school_year_id: Set(year),
        topic_id: Set(t.id),
        grade_level: Set(c.grade_level),
        semester: Set(c.semester),
        title: Set(title),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::note(
        &txn,
        scope,
        c.school_id,
        "course",
        m.id,
        "create",
        Some(serde_json::json!({
            "title": m.title, "topic_id": m.topic_id, "grade_level": m.grade_level,
            "semester": m.semester, "school_year_id": year
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(m.id)
}

/// The courses of a school year by grade, semester and topic order.
pub async fn list_courses(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Vec<CourseRow>> {
    // An unknown or foreign school is NotFound, not an empty list.
    visible_school(&db.conn, scope, school_id).await?;
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_school_visible("c.school_id", &mut values);
    let s = bind(&mut values, school_id);
    let y = bind(&mut values, school_year_id);
    let sql = format!(
        "SELECT c.id, c.school_id, c.school_year_id, c.topic_id, t.title AS topic_title, c.grade_level, c.semester, c.title, \
           (SELECT COUNT(*) FROM teaching_session s WHERE s.course_id = c.id) AS sessions, \
           (SELECT COUNT(*) FROM teaching_session s WHERE s.course_id = c.id AND s.status = 'held') AS held \
         FROM course c JOIN topic t ON t.id = c.topic_id \
         WHERE c.school_id = {s} AND c.school_year_id = {y} AND {cond} \
         ORDER BY c.grade_level, c.semester, t.ordinal, c.id"
    );
    rows(&db.conn, sql, values).await
}

/// Drops a planned course; one that sessions already name stays (the ledger cites it).
pub async fn delete_course(db: &Db, scope: &Scope, id: i64) -> StoreResult<()> {
    let txn = db.begin().await?;
    let m: course::Model = school_row(
        &txn,
        scope,
        Access::Write,
        "SELECT c.id, c.school_id, c.school_year_id, c.topic_id, c.grade_level, c.semester, c.title, c.created_at \
         FROM course c",
        "c.id",
        "c.school_id",
        id,
    )
    .await?;
    super::writable_year(&txn, m.school_id, m.school_year_id).await?;
    let used = crate::db::scalar_i64(
        &txn,
        "SELECT COUNT(*) AS n FROM teaching_session WHERE course_id = $1",
        vec![id.into()],
    )
    .await?;
    if used > 0 {
        return Err(StoreError::Invalid {
            code: "course_has_sessions",
        });
    }
    course::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(m.school_id),
            entity: "course",
            entity_id: Some(id.to_string()),
            action: "delete",
            before: Some(serde_json::json!({"title": m.title, "grade_level": m.grade_level, "semester": m.semester})),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// One grade's row of the coverage grid.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageGrade {
    pub grade_id: i64,
    pub grade_name: String,
    pub grade_level: Option<i32>,
    /// This year's pupils of the grade.
    pub pupils: i64,
    /// topic id → held sessions this year whose audience included the grade.
    pub this_year: HashMap<i64, i64>,
    /// topic id → how many of this year's pupils had their parents invited to a held
    /// session on the topic at this school in an earlier year.
    pub earlier: HashMap<i64, i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub topics: Vec<TopicRow>,
    pub grades: Vec<CoverageGrade>,
}

#[derive(FromQueryResult)]
struct Cell {
    grade_id: i64,
    topic_id: i64,
    n: i64,
}

/// The grade × topic coverage of a school in a school year. Grades are today's grades
/// of the school; retired topics show only where they were taught.
pub async fn coverage(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Coverage> {
    let catalogue = list_topics(db, scope, school_id).await?;
    #[derive(FromQueryResult)]
    struct Grade {
        id: i64,
        name: String,
        grade_level: Option<i32>,
    }
    // The school's grades and their classes as the year's tree has them
    // (`org::year_day`); what a session invited, in the tree on the session's own day.
    let year_day = crate::org::year_day(&db.conn, school_year_id)
        .await?
        .format("%Y-%m-%d")
        .to_string();
    let x_on_day = crate::org::in_force(
        "x",
        &crate::org::beijing_day_sql(db.conn.get_database_backend(), "s.starts_at"),
    );
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_school_visible("gc.ancestor_id", &mut values);
    let s = bind(&mut values, school_id);
    let end = bind(&mut values, year_day.clone());
    let gc_on = crate::org::in_force("gc", &end);
    let sql = format!(
        "SELECT g.id, g.name, g.grade_level FROM org_closure gc JOIN org_unit g ON g.id = gc.descendant_id \
         WHERE gc.ancestor_id = {s} AND {gc_on} AND g.kind = 'grade' AND {cond} \
         ORDER BY COALESCE(g.grade_level, 0), g.name, g.id"
    );
    let grades: Vec<Grade> = rows(&db.conn, sql, values).await?;

    let base = |values: &mut Vec<Value>| {
        let s = bind(values, school_id);
        let y = bind(values, school_year_id);
        let end = bind(values, year_day.clone());
        (
            s,
            y,
            crate::org::in_force("gc", &end),
            crate::org::in_force("cc", &end),
        )
    };

    // This year's pupils per grade.
    let mut values: Vec<Value> = Vec::new();
    let (s, y, gc_on, cc_on) = base(&mut values);
    let sql = format!(
        "SELECT g.id AS grade_id, CAST(0 AS BIGINT) AS topic_id, COUNT(DISTINCT cm.pupil_id) AS n \
         FROM org_closure gc JOIN org_unit g ON g.id = gc.descendant_id AND g.kind = 'grade' \
         JOIN org_closure cc ON cc.ancestor_id = g.id AND {cc_on} \
         JOIN class_membership cm ON cm.class_id = cc.descendant_id AND cm.school_year_id = {y} \
         WHERE gc.ancestor_id = {s} AND {gc_on} GROUP BY g.id"
    );
    let pupils: HashMap<i64, i64> = rows::<Cell, _>(&db.conn, sql, values)
        .await?
        .into_iter()
        .map(|c| (c.grade_id, c.n))
        .collect();

    // Held sessions this year per grade and topic: invited as the whole school, as the
    // grade or one of its classes, or by name as parents of a child in the grade.
    let mut values: Vec<Value> = Vec::new();
    let (s, y, gc_on, _) = base(&mut values);
    let sql = format!(
        "SELECT g.id AS grade_id, s.topic_id AS topic_id, COUNT(DISTINCT s.id) AS n \
         FROM teaching_session s \
         JOIN org_closure gc ON gc.ancestor_id = s.school_id AND {gc_on} \
         JOIN org_unit g ON g.id = gc.descendant_id AND g.kind = 'grade' \
         WHERE s.school_id = {s} AND s.school_year_id = {y} AND s.status = 'held' AND s.topic_id IS NOT NULL AND ( \
           s.audience = 'school' \
           OR (s.audience = 'units' AND EXISTS (SELECT 1 FROM session_audience a JOIN org_closure x \
               ON x.descendant_id = a.unit_id AND x.ancestor_id = g.id AND {x_on_day} WHERE a.session_id = s.id)) \
           OR (s.audience = 'parents' AND EXISTS (SELECT 1 FROM session_invitee si \
               JOIN guardianship gs ON gs.guardian_id = si.guardian_id \
               JOIN class_membership cm ON cm.pupil_id = gs.pupil_id AND cm.school_year_id = s.school_year_id \
               JOIN org_closure x ON x.descendant_id = cm.class_id AND x.ancestor_id = g.id AND {x_on_day} \
               WHERE si.session_id = s.id))) \
         GROUP BY g.id, s.topic_id"
    );
    let this_year: Vec<Cell> = rows(&db.conn, sql, values).await?;

    // Earlier years: this year's pupils of each grade, followed back through their
    // class placements in the years before this one (class_membership history) to the
    // held sessions of this school that invited them there.
    let starts_on = crate::entities::school_year::Entity::find_by_id(school_year_id)
        .one(&db.conn)
        .await?
        .map(|y| y.starts_on);
    let earlier: Vec<Cell> = match starts_on {
        None => Vec::new(),
        Some(starts_on) => {
            let mut values: Vec<Value> = Vec::new();
            let (s, y, gc_on, cc_on) = base(&mut values);
            let st = bind(&mut values, starts_on);
            let sql = format!(
                "SELECT g.id AS grade_id, s.topic_id AS topic_id, COUNT(DISTINCT cm.pupil_id) AS n \
                 FROM org_closure gc JOIN org_unit g ON g.id = gc.descendant_id AND g.kind = 'grade' \
                 JOIN org_closure cc ON cc.ancestor_id = g.id AND {cc_on} \
                 JOIN class_membership cm ON cm.class_id = cc.descendant_id AND cm.school_year_id = {y} \
                 JOIN class_membership pm ON pm.pupil_id = cm.pupil_id \
                 JOIN school_year py ON py.id = pm.school_year_id AND py.starts_on < {st} \
                 JOIN teaching_session s ON s.school_year_id = pm.school_year_id AND s.school_id = {s} \
                   AND s.status = 'held' AND s.topic_id IS NOT NULL \
                 WHERE gc.ancestor_id = {s} AND {gc_on} AND ( \
                   (s.audience = 'school' AND EXISTS (SELECT 1 FROM org_closure x WHERE x.ancestor_id = s.school_id \
                       AND x.descendant_id = pm.class_id AND {x_on_day})) \
                   OR (s.audience = 'units' AND EXISTS (SELECT 1 FROM session_audience a JOIN org_closure x \
                       ON x.ancestor_id = a.unit_id AND x.descendant_id = pm.class_id AND {x_on_day} \
                       WHERE a.session_id = s.id)) \
                   OR (s.audience = 'parents' AND EXISTS (SELECT 1 FROM session_invitee si \
                       JOIN guardianship gs ON gs.guardian_id = si.guardian_id \
                       WHERE si.session_id = s.id AND gs.pupil_id = cm.pupil_id))) \
                 GROUP BY g.id, s.topic_id"
            );
            rows(&db.conn, sql, values).await?
        }
    };

    let mut out: Vec<CoverageGrade> = grades
        .into_iter()
        .map(|g| CoverageGrade {
            grade_id: g.id,
            grade_name: g.name,
            grade_level: g.grade_level,
            pupils: pupils.get(&g.id).copied().unwrap_or(0),
            this_year: HashMap::new(),
            earlier: HashMap::new(),
        })
        .collect();
    let mut taught = std::collections::HashSet::new();
    for (cells, earlier) in [(this_year, false), (earlier, true)] {
        for c in cells {
            taught.insert(c.topic_id);
            if let Some(g) = out.iter_mut().find(|g| g.grade_id == c.grade_id) {
                if earlier {
                    g.earlier.insert(c.topic_id, c.n);
                } else {
                    g.this_year.insert(c.topic_id, c.n);
                }
            }
        }
    }
    let topics = catalogue
        .topics
        .into_iter()
        .filter(|t| t.active || taught.contains(&t.id))
        .collect();
    Ok(Coverage {
        topics,
        grades: out,
    })
}
