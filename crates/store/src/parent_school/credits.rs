//! Credits and attendance rates: hours per trainee per school year weighted by the
//! session's form (the school's settings), and attendance rates per parent, class,
//! grade and school. Only held sessions count.

use std::collections::{BTreeMap, HashMap};

use jiaxiao_domain::parent_school::TraineeYear;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::Serialize;

use super::attendance::{self, Filter};
use super::reach::Phones;
use super::sessions::SessionCounts;
use super::{bind, rows, visible_school};
use crate::{Db, Scope, StoreResult};

/// One parent's year at one school.
#[derive(Debug, Clone, Serialize)]
pub struct TraineeSummary {
    pub guardian_id: i64,
    pub name: String,
    pub phone: Option<String>,
    pub invited: i64,
    pub attended: i64,
    pub hours: f64,
    pub reflections: i64,
    pub committee: bool,
    /// The classes of their children at this school in the year, by grade then class
    /// (the trainees list filters and shows them).
    pub classes: Vec<TraineeClass>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TraineeClass {
    pub class_id: i64,
    pub grade_id: Option<i64>,
    /// The class's full name, grade included ("三年级(2)班").
    pub name: String,
}

impl TraineeSummary {
    pub fn rate(&self) -> f64 {
        self.as_year().attendance_rate()
    }

    pub fn as_year(&self) -> TraineeYear {
        TraineeYear {
            guardian_id: self.guardian_id,
            invited: self.invited,
            attended: self.attended,
            hours: self.hours,
            reflections: self.reflections,
            committee: self.committee,
        }
    }
}

/// Every trainee of a school in a year: invited to or attending at least one held
/// session. Walk-ins (checked in without an invitation) earn hours too.
pub async fn trainees(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Vec<TraineeSummary>> {
    visible_school(&db.conn, scope, school_id).await?;
    let all = trainees_of(&db.conn, school_id, school_year_id).await?;
    let (trainees, _) =
        in_reach(&db.conn, scope, school_id, school_year_id, all, Vec::new()).await?;
    Ok(trainees)
}

/// What of a school's year the caller may see: a head teacher their class's parents and
/// their classes, with phones as [`Phones`] allows; everyone else whose reach is the
/// whole school all of it. Page, XLSX and PDF all read through here.
async fn in_reach<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
    mut trainees: Vec<TraineeSummary>,
    mut classes: Vec<ClassRate>,
) -> StoreResult<(Vec<TraineeSummary>, Vec<ClassRate>)> {
    if let Some(w) = super::reach::within(conn, scope, school_id, school_year_id).await? {
        trainees.retain(|t| w.guardians.contains(&t.guardian_id));
        classes.retain(|c| w.classes.contains(&c.class_id));
    }
    let phones = Phones::of(conn, scope, school_id).await?;
    for t in &mut trainees {
        t.phone = phones.show(t.phone.take());
    }
    Ok((trainees, classes))
}

pub(crate) async fn trainees_of<C: ConnectionTrait>(
    conn: &C,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Vec<TraineeSummary>> {
    trainees_from(conn, Filter::year(school_id, school_year_id)).await
}

/// The trainee table of the filter: invitations, attendance and hours counted by the
/// database, names, reflections and committee seats from three more queries.
async fn trainees_from<C: ConnectionTrait>(
    conn: &C,
    f: Filter,
) -> StoreResult<Vec<TraineeSummary>> {
    let settings = super::settings(conn, f.school_id, f.school_year_id).await?;
    let mut by: BTreeMap<i64, TraineeSummary> = attendance::trainees(conn, f, &settings)
        .await?
        .into_iter()
        .map(|(g, (invited, attended, hours))| {
            (
                g,
                TraineeSummary {
                    guardian_id: g,
                    name: String::new(),
                    phone: None,
                    invited,
                    attended,
                    hours,
                    reflections: 0,
                    committee: false,
                    classes: Vec::new(),
                },
            )
        })
        .collect();
    if by.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(FromQueryResult)]
    struct Named {
        id: i64,
        name: String,
        phone: Option<String>,
    }
    let ids: Vec<i64> = by.keys().copied().collect();
    // Bounded IN lists: SQLite takes 32,766 parameters at most.
    for chunk in ids.chunks(500) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len());
        let list: Vec<String> = chunk.iter().map(|g| bind(&mut values, *g)).collect();
        let named: Vec<Named> = rows(
            conn,
            format!(
                "SELECT id, name, phone FROM guardian WHERE id IN ({})",
                list.join(", ")
            ),
            values,
        )
        .await?;
        for n in named {
            if let Some(e) = by.get_mut(&n.id) {
                e.name = n.name;
                e.phone = n.phone;
            }
        }
    }
    #[derive(FromQueryResult)]
    struct PerGuardian {
        guardian_id: i64,
        n: i64,
    }
    let mut values: Vec<Value> = Vec::new();
    let s = bind(&mut values, f.school_id);
    let y = bind(&mut values, f.school_year_id);
    let (mut v2, only) = (values.clone(), String::new());
    let only = match f.guardian_id {
        Some(g) => format!(" AND r.guardian_id = {}", bind(&mut v2, g)),
        None => only,
    };
    let reflections: Vec<PerGuardian> = rows(
        conn,
        format!(
            "SELECT r.guardian_id, COUNT(*) AS n FROM reflection r JOIN teaching_session t ON t.id = r.session_id \
             WHERE t.school_id = {s} AND t.school_year_id = {y}{only} GROUP BY r.guardian_id"
        ),
        v2,
    )
    .await?;
    for r in reflections {
        if let Some(e) = by.get_mut(&r.guardian_id) {
            e.reflections = r.n;
        }
    }
    let seats: Vec<PerGuardian> = rows(
        conn,
        format!(
            "SELECT m.guardian_id, COUNT(*) AS n FROM committee_member m JOIN committee k ON k.id = m.committee_id \
             WHERE k.school_id = {s} AND k.school_year_id = {y} AND m.guardian_id IS NOT NULL GROUP BY m.guardian_id"
        ),
        values,
    )
    .await?;
    for m in seats {
        if let Some(e) = by.get_mut(&m.guardian_id) {
            e.committee = m.n > 0;
        }
    }
    let only = f.guardian_id.map(|g| vec![g]);
    attach_classes(
        conn,
        f.school_id,
        f.school_year_id,
        only.as_deref(),
        &mut by,
    )
    .await?;
    let mut out: Vec<TraineeSummary> = by.into_values().collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.guardian_id.cmp(&b.guardian_id)));
    Ok(out)
}

/// Fills in each trainee's children's classes at the school this year, in register order
/// (grade level, then class number): one read for the school, or for the parents named.
async fn attach_classes<C: ConnectionTrait>(
    conn: &C,
    school_id: i64,
    school_year_id: i64,
    only: Option<&[i64]>,
    by: &mut BTreeMap<i64, TraineeSummary>,
) -> StoreResult<()> {
    #[derive(FromQueryResult)]
    struct ChildClass {
        guardian_id: i64,
        class_id: i64,
        grade_id: Option<i64>,
        name: String,
    }
    let mut values: Vec<Value> = Vec::new();
    let s = bind(&mut values, school_id);
    let y = bind(&mut values, school_year_id);
    let only = match only {
        Some([]) => return Ok(()),
        Some(ids) => {
            let list: Vec<String> = ids.iter().map(|g| bind(&mut values, *g)).collect();
            format!(" AND gs.guardian_id IN ({})", list.join(", "))
        }
        None => String::new(),
    };
    let classes: Vec<ChildClass> = rows(
        conn,
        format!(
            "SELECT gs.guardian_id, c.id AS class_id, c.parent_id AS grade_id, c.name, \
                    g.grade_level, c.class_number \
             FROM guardianship gs JOIN pupil p ON p.id = gs.pupil_id \
             JOIN class_membership cm ON cm.pupil_id = p.id AND cm.school_year_id = {y} \
             JOIN org_unit c ON c.id = cm.class_id LEFT JOIN org_unit g ON g.id = c.parent_id \
             WHERE p.school_id = {s}{only} \
             ORDER BY g.grade_level, c.class_number, c.id"
        ),
        values,
    )
    .await?;
    for c in classes {
        if let Some(e) = by.get_mut(&c.guardian_id)
            && !e.classes.iter().any(|k| k.class_id == c.class_id)
        {
            e.classes.push(TraineeClass {
                class_id: c.class_id,
                grade_id: c.grade_id,
                name: c.name,
            });
        }
    }
    Ok(())
}

/// What of a school's trainee table one list page asks for: search (name, its pinyin or
/// initials, or a phone number as the caller sees it), filters, sort, and the rows.
#[derive(Debug, Clone)]
pub struct TraineeQuery {
    pub search: Option<String>,
    pub grade_id: Option<i64>,
    pub class_id: Option<i64>,
    pub committee: Option<bool>,
    pub sort: Option<TraineeSort>,
    pub desc: bool,
    pub offset: u64,
    pub limit: u64,
}

/// The trainee table's sortable columns (the list's `?sort=` keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraineeSort {
    Name,
    Class,
    Invited,
    Attended,
    Rate,
    Hours,
    Reflections,
    Committee,
}

impl TraineeSort {
    pub fn from_key(key: &str) -> Option<TraineeSort> {
        Some(match key {
            "name" => TraineeSort::Name,
            "class" => TraineeSort::Class,
            "invited" => TraineeSort::Invited,
            "attended" => TraineeSort::Attended,
            "rate" => TraineeSort::Rate,
            "hours" => TraineeSort::Hours,
            "reflections" => TraineeSort::Reflections,
            "committee" => TraineeSort::Committee,
            _ => return None,
        })
    }

    /// The ORDER BY expression over the page query's `x` (text by pinyin, as the lists
    /// sort names; a parent without a class this year last).
    fn sql(self) -> &'static [&'static str] {
        match self {
            TraineeSort::Name => &["x.name_pinyin", "x.name"],
            TraineeSort::Class => &[
                "CASE WHEN x.class_key IS NULL THEN 1 ELSE 0 END",
                "x.class_key",
            ],
            TraineeSort::Invited => &["x.invited"],
            TraineeSort::Attended => &["x.attended"],
            TraineeSort::Rate => {
                &["CASE WHEN x.invited = 0 THEN 0.0 ELSE x.attended * 1.0 / x.invited END"]
            }
            TraineeSort::Hours => &["x.hours"],
            TraineeSort::Reflections => &["x.reflections"],
            TraineeSort::Committee => &["x.committee"],
        }
    }
}

/// One page of a school's trainee table in the caller's reach, and how many rows match:
/// the database counts, filters, sorts and cuts it (issue 16: a page holds its rows, not
/// the school's year). The list page and its XLSX read through here.
pub async fn trainee_page(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
    q: &TraineeQuery,
) -> StoreResult<(Vec<TraineeSummary>, u64)> {
    visible_school(&db.conn, scope, school_id).await?;
    let conn = &db.conn;
    let settings = super::settings(conn, school_id, school_year_id).await?;
    let within = super::reach::within(conn, scope, school_id, school_year_id).await?;
    let phones = Phones::of(conn, scope, school_id).await?;
    let f = Filter::year(school_id, school_year_id);
    let (tr, mut values) = attendance::trainee_table(conn, f, &settings);
    let s = bind(&mut values, school_id);
    let y = bind(&mut values, school_year_id);
    let mut conds: Vec<String> = Vec::new();
    if let Some(w) = &within {
        if w.guardians.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let list: Vec<String> = w.guardians.iter().map(|g| bind(&mut values, *g)).collect();
        conds.push(format!("tr.guardian_id IN ({})", list.join(", ")));
    }
    if let Some(text) = q.search.as_deref().filter(|t| !t.trim().is_empty()) {
        let mut c = crate::people::like_conditions(
            text,
            &["gd.name", "gd.name_pinyin", "gd.name_initials"],
            &[],
            &mut values,
        );
        // Digits find a phone only as far as the caller sees it: the whole number for
        // those shown it, the last four otherwise (the masked number shows those).
        let digits: String = text.trim().chars().filter(|c| !c.is_whitespace()).collect();
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            let tail = if phones.whole() {
                Some(format!("%{digits}%"))
            } else if digits.len() <= 4 {
                Some(format!("%{digits}"))
            } else {
                None
            };
            if let Some(p) = tail {
                c = format!("({c} OR gd.phone LIKE {})", bind(&mut values, p));
            }
        }
        conds.push(c);
    }
    let in_class = |values: &mut Vec<Value>, col: &str, id: i64| {
        format!(
            "EXISTS (SELECT 1 FROM guardianship gs JOIN class_membership cm ON cm.pupil_id = gs.pupil_id \
               AND cm.school_year_id = {y} JOIN org_unit c ON c.id = cm.class_id \
             WHERE gs.guardian_id = tr.guardian_id AND {col} = {})",
            bind(values, id)
        )
    };
    if let Some(c) = q.class_id {
        conds.push(in_class(&mut values, "c.id", c));
    }
    if let Some(g) = q.grade_id {
        conds.push(in_class(&mut values, "c.parent_id", g));
    }
    match q.committee {
        Some(true) => conds.push("seat.guardian_id IS NOT NULL".into()),
        Some(false) => conds.push("seat.guardian_id IS NULL".into()),
        None => {}
    }
    let conds = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    let order = match q.sort {
        Some(k) => {
            let dir = if q.desc { " DESC" } else { "" };
            let keys: Vec<String> = k.sql().iter().map(|e| format!("{e}{dir}")).collect();
            format!("{}, x.name_pinyin, x.guardian_id", keys.join(", "))
        }
        None => "x.name, x.guardian_id".into(),
    };
    let limit = bind(&mut values, q.limit.min(i64::MAX as u64) as i64);
    let offset = bind(&mut values, q.offset.min(i64::MAX as u64) as i64);
    #[derive(FromQueryResult)]
    struct PageRow {
        guardian_id: i64,
        name: String,
        phone: Option<String>,
        invited: i64,
        attended: i64,
        hours: f64,
        reflections: i64,
        committee: i32,
        total: i64,
    }
    let sql = format!(
        "WITH {tr}, \
         rf AS (SELECT r.guardian_id, COUNT(*) AS n FROM reflection r \
           JOIN teaching_session t ON t.id = r.session_id \
           WHERE t.school_id = {s} AND t.school_year_id = {y} GROUP BY r.guardian_id), \
         seat AS (SELECT DISTINCT m.guardian_id FROM committee_member m \
           JOIN committee k ON k.id = m.committee_id \
           WHERE k.school_id = {s} AND k.school_year_id = {y} AND m.guardian_id IS NOT NULL), \
         kl AS (SELECT gs.guardian_id, MIN(COALESCE(g.grade_level, 0) * 1000 + COALESCE(c.class_number, 0)) AS class_key \
           FROM guardianship gs JOIN pupil p ON p.id = gs.pupil_id \
           JOIN class_membership cm ON cm.pupil_id = p.id AND cm.school_year_id = {y} \
           JOIN org_unit c ON c.id = cm.class_id LEFT JOIN org_unit g ON g.id = c.parent_id \
           WHERE p.school_id = {s} GROUP BY gs.guardian_id), \
         x AS (SELECT tr.guardian_id, gd.name, gd.name_pinyin, gd.phone, tr.invited, tr.attended, tr.hours, \
             COALESCE(rf.n, 0) AS reflections, CASE WHEN seat.guardian_id IS NULL THEN 0 ELSE 1 END AS committee, \
             kl.class_key \
           FROM tr JOIN guardian gd ON gd.id = tr.guardian_id \
           LEFT JOIN rf ON rf.guardian_id = tr.guardian_id LEFT JOIN seat ON seat.guardian_id = tr.guardian_id \
           LEFT JOIN kl ON kl.guardian_id = tr.guardian_id{conds}) \
         SELECT x.guardian_id, x.name, x.phone, x.invited, x.attended, x.hours, x.reflections, x.committee, \
           COUNT(*) OVER () AS total \
         FROM x ORDER BY {order} LIMIT {limit} OFFSET {offset}"
    );
    let page: Vec<PageRow> = rows(conn, sql, values).await?;
    let total = match page.first() {
        Some(r) => r.total as u64,
        // Past the last page: count what matches without cutting it.
        None if q.offset > 0 => {
            let all = TraineeQuery {
                offset: 0,
                limit: 1,
                ..q.clone()
            };
            return Ok((
                Vec::new(),
                Box::pin(trainee_page(db, scope, school_id, school_year_id, &all))
                    .await?
                    .1,
            ));
        }
        None => 0,
    };
    let ids: Vec<i64> = page.iter().map(|r| r.guardian_id).collect();
    let mut by: BTreeMap<i64, TraineeSummary> = page
        .into_iter()
        .map(|r| {
            (
                r.guardian_id,
                TraineeSummary {
                    guardian_id: r.guardian_id,
                    name: r.name,
                    phone: phones.show(r.phone),
                    invited: r.invited,
                    attended: r.attended,
                    hours: r.hours,
                    reflections: r.reflections,
                    committee: r.committee != 0,
                    classes: Vec::new(),
                },
            )
        })
        .collect();
    attach_classes(conn, school_id, school_year_id, Some(&ids), &mut by).await?;
    // Back in the page's order.
    Ok((ids.iter().filter_map(|id| by.remove(id)).collect(), total))
}

/// Attendance of one class over a year: child-sessions invited and reached (a child
/// is reached when any of their parents attended).
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct ClassRate {
    pub class_id: i64,
    pub class_name: String,
    pub grade_id: Option<i64>,
    pub grade_name: Option<String>,
    pub grade_level: Option<i32>,
    pub invited: i64,
    pub reached: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rate {
    pub id: i64,
    pub name: String,
    pub invited: i64,
    pub reached: i64,
}

impl Rate {
    pub fn rate(&self) -> f64 {
        if self.invited == 0 {
            0.0
        } else {
            self.reached as f64 / self.invited as f64
        }
    }
}

/// Rates per class of a school in a year (held sessions only), by grade and class.
pub async fn class_rates(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Vec<ClassRate>> {
    visible_school(&db.conn, scope, school_id).await?;
    let all = class_rates_from(db, Filter::year(school_id, school_year_id)).await?;
    let (_, classes) =
        in_reach(&db.conn, scope, school_id, school_year_id, Vec::new(), all).await?;
    Ok(classes)
}

/// The class rates of a school's year from the reach cache, brought up to date first.
async fn class_rates_from(db: &Db, f: Filter) -> StoreResult<Vec<ClassRate>> {
    let school_year_id = f.school_year_id;
    attendance::refresh_reach(db, f.school_id, school_year_id).await?;
    let conn = &db.conn;
    let by = attendance::class_rates(conn, f.school_id, school_year_id).await?;
    if by.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(FromQueryResult)]
    struct Class {
        class_id: i64,
        class_name: String,
        grade_id: Option<i64>,
        grade_name: Option<String>,
        grade_level: Option<i32>,
        class_number: Option<i32>,
    }
    // The classes the school's sessions invited (on each session's day, so a class that
    // has since moved away keeps its rate here), under their grade as the year's tree has it.
    let day = crate::org::day_sql(crate::org::year_day(conn, school_year_id).await?);
    let mut values: Vec<Value> = Vec::new();
    let ids: Vec<String> = by.keys().map(|c| bind(&mut values, *c)).collect();
    let classes: Vec<Class> = rows(
        conn,
        format!(
            "SELECT cu.id AS class_id, cu.name AS class_name, gu.id AS grade_id, gu.name AS grade_name, \
                    gu.grade_level, cu.class_number \
             FROM org_unit cu \
             LEFT JOIN org_unit gu ON gu.id = COALESCE((SELECT p.ancestor_id FROM org_closure p \
               WHERE p.descendant_id = cu.id AND p.depth = 1 AND {}), cu.parent_id) \
             WHERE cu.id IN ({})",
            crate::org::in_force("p", &day),
            ids.join(", ")
        ),
        values,
    )
    .await?;
    let mut out: Vec<(Option<i32>, Option<i32>, ClassRate)> = classes
        .into_iter()
        .filter_map(|c| {
            let (invited, reached) = by.get(&c.class_id).copied()?;
            Some((
                c.grade_level,
                c.class_number,
                ClassRate {
                    class_id: c.class_id,
                    class_name: c.class_name,
                    grade_id: c.grade_id,
                    grade_name: c.grade_name,
                    grade_level: c.grade_level,
                    invited,
                    reached,
                },
            ))
        })
        .collect();
    out.sort_by_key(|(g, n, c)| (*g, *n, c.class_id));
    Ok(out.into_iter().map(|(_, _, c)| c).collect())
}

/// A school's year in one read: every session's counts, the trainee table and the class
/// rates (the ledger, the school's home and the trainees page).
pub struct YearFigures {
    pub counts: HashMap<i64, SessionCounts>,
    pub trainees: Vec<TraineeSummary>,
    pub classes: Vec<ClassRate>,
}

pub async fn year_figures(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<YearFigures> {
    let (trainees, classes) = trainees_and_rates(db, scope, school_id, school_year_id).await?;
    Ok(YearFigures {
        counts: attendance::session_counts(db, Filter::year(school_id, school_year_id)).await?,
        trainees,
        classes,
    })
}

/// The trainee table and the class rates of a school's year, in the caller's reach
/// (the school's home and the trainees page, which show no per-session counts).
pub async fn trainees_and_rates(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<(Vec<TraineeSummary>, Vec<ClassRate>)> {
    visible_school(&db.conn, scope, school_id).await?;
    let f = Filter::year(school_id, school_year_id);
    in_reach(
        &db.conn,
        scope,
        school_id,
        school_year_id,
        trainees_from(&db.conn, f).await?,
        class_rates_from(db, f).await?,
    )
    .await
}

/// What a school's home shows of its year, in the caller's reach: the number of
/// trainees and the class rates — from the reach cache, so the page reads a row per
/// session and class and the trainees' ids, never the year's check-ins (issue 16).
pub async fn home_figures(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<(usize, Vec<ClassRate>)> {
    visible_school(&db.conn, scope, school_id).await?;
    let classes = class_rates_from(db, Filter::year(school_id, school_year_id)).await?;
    let mut ids = attendance::trainee_ids(&db.conn, school_id, school_year_id).await?;
    let mut classes = classes;
    if let Some(w) = super::reach::within(&db.conn, scope, school_id, school_year_id).await? {
        ids.retain(|g| w.guardians.contains(g));
        classes.retain(|c| w.classes.contains(&c.class_id));
    }
    Ok((ids.len(), classes))
}

/// Grade rates folded from class rates, in grade order.
pub fn grade_rates(classes: &[ClassRate]) -> Vec<Rate> {
    let mut order: Vec<i64> = Vec::new();
    let mut by: HashMap<i64, Rate> = HashMap::new();
    for c in classes {
        let id = c.grade_id.unwrap_or(0);
        let e = by.entry(id).or_insert_with(|| {
            order.push(id);
            Rate {
                id,
                name: c.grade_name.clone().unwrap_or_default(),
                invited: 0,
                reached: 0,
            }
        });
        e.invited += c.invited;
        e.reached += c.reached;
    }
    order.into_iter().filter_map(|id| by.remove(&id)).collect()
}

/// The school's rate over all its classes.
pub fn school_rate(classes: &[ClassRate]) -> Rate {
    Rate {
        id: 0,
        name: String::new(),
        invited: classes.iter().map(|c| c.invited).sum(),
        reached: classes.iter().map(|c| c.reached).sum(),
    }
}

/// A parent's own hours this year at every school of their children.
pub async fn my_hours(db: &Db, scope: &Scope, school_year_id: i64) -> StoreResult<Vec<MyYear>> {
    let Some(g) = scope.guardian_id() else {
        return Ok(Vec::new());
    };
    #[derive(FromQueryResult)]
    struct School {
        id: i64,
        name: String,
    }
    let schools: Vec<School> = rows(
        &db.conn,
        "SELECT DISTINCT o.id, o.name FROM guardianship gs JOIN pupil p ON p.id = gs.pupil_id \
         JOIN org_unit o ON o.id = p.school_id WHERE gs.guardian_id = $1 ORDER BY o.id"
            .into(),
        vec![g.into()],
    )
    .await?;
    let mut out = Vec::new();
    for s in schools {
        // Only this parent's children and check-ins are read.
        let f = Filter {
            guardian_id: Some(g),
            ..Filter::year(s.id, school_year_id)
        };
        if let Some(me) = trainees_from(&db.conn, f)
            .await?
            .into_iter()
            .find(|t| t.guardian_id == g)
        {
            out.push(MyYear {
                school_name: s.name,
                summary: me,
            });
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct MyYear {
    pub school_name: String,
    pub summary: TraineeSummary,
}
