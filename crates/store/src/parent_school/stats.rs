//! Figures for dashboards and the ledger: sessions by form, topic and month, check-in
//! lines of a year, and the roll-up of every school under an office node against the
//! district target of 100 lectures and parent classes a year (plan 3).

use chrono::{DateTime, Utc};
use sea_orm::{FromQueryResult, Value};
use serde::Serialize;

use super::{bind, rows, visible_school};
use crate::{Db, Scope, StoreResult};

/// The district target of plan 3: 每年开设百场讲座和家长课堂, per county (district).
pub const YEARLY_SESSION_TARGET: i64 = 100;

/// The SQL list of the forms the target counts (`Form::COUNTED`), for an `IN (…)`:
/// codes are fixed identifiers, never user text.
fn counted_forms() -> String {
    jiaxiao_domain::parent_school::Form::COUNTED
        .iter()
        .map(|f| format!("'{}'", f.code()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct Count {
    pub key: String,
    pub n: i64,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct MonthRow {
    pub month: String,
    pub sessions: i64,
    pub checkins: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchoolStats {
    pub by_form: Vec<Count>,
    pub by_topic: Vec<Count>,
    pub by_month: Vec<MonthRow>,
    pub held: i64,
    pub planned: i64,
}

/// A school's year: held sessions by form and topic, and sessions and attendances by
/// month (Beijing time).
pub async fn school_stats(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    year: i64,
) -> StoreResult<SchoolStats> {
    visible_school(&db.conn, scope, school_id).await?;
    let v = || -> Vec<Value> { vec![school_id.into(), year.into()] };
    let by_form = rows(
        &db.conn,
        "SELECT form AS key, COUNT(*) AS n FROM teaching_session WHERE school_id = $1 AND school_year_id = $2 \
         AND status = 'held' GROUP BY form ORDER BY n DESC"
            .into(),
        v(),
    )
    .await?;
    let by_topic = rows(
        &db.conn,
        "SELECT COALESCE(t.title, '') AS key, COUNT(*) AS n FROM teaching_session s LEFT JOIN topic t ON t.id = s.topic_id \
         WHERE s.school_id = $1 AND s.school_year_id = $2 AND s.status = 'held' GROUP BY t.title ORDER BY n DESC"
            .into(),
        v(),
    )
    .await?;
    #[derive(FromQueryResult)]
    struct S {
        starts_at: DateTime<Utc>,
        status: String,
        n: i64,
    }
    // Months are cut in Beijing time; grouping in Rust keeps one SQL for both backends.
    let sess: Vec<S> = rows(
        &db.conn,
        "SELECT s.starts_at, s.status, COALESCE(k.present + k.late, 0) AS n \
         FROM teaching_session s LEFT JOIN session_tally k ON k.session_id = s.id \
         WHERE s.school_id = $1 AND s.school_year_id = $2 AND s.status <> 'cancelled' ORDER BY s.starts_at"
            .into(),
        v(),
    )
    .await?;
    let mut by_month: Vec<MonthRow> = Vec::new();
    let (mut held, mut planned) = (0, 0);
    for s in &sess {
        let month = (s.starts_at + chrono::Duration::hours(8))
            .format("%Y-%m")
            .to_string();
        if s.status == "held" {
            held += 1;
        } else {
            planned += 1;
        }
        match by_month.last_mut() {
            Some(m) if m.month == month => {
                m.sessions += (s.status == "held") as i64;
                m.checkins += s.n;
            }
            _ => by_month.push(MonthRow {
                month,
                sessions: (s.status == "held") as i64,
                checkins: s.n,
            }),
        }
    }
    Ok(SchoolStats {
        by_form,
        by_topic,
        by_month,
        held,
        planned,
    })
}

/// One row of an office's roll-up: a unit under it — a city, a county or a school —
/// with the sums over its schools.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct RollupRow {
    pub unit_id: i64,
    pub name: String,
    pub kind: String,
    pub school_type: Option<String>,
    /// Schools in the row (1 for a school).
    pub schools: i64,
    /// Counties in the row: its target is theirs summed.
    pub counties: i64,
    pub held: i64,
    /// Held sessions of the forms the target counts (lectures and parent classes).
    pub counted: i64,
    pub online: i64,
    pub planned: i64,
    /// Check-ins present or late.
    pub checkins: i64,
    pub excellent: i64,
}

impl RollupRow {
    /// The yearly target of a county, city or province row (`None` for a school).
    pub fn target(&self) -> Option<i64> {
        (self.kind != "school").then(|| YEARLY_SESSION_TARGET * self.counties.max(1))
    }
}

/// What an office's roll-up has a row for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollupBy {
    /// The units one level down: a province's cities, a city's counties, a county's
    /// schools (a school: itself). The overview page: a handful of rows at any level.
    Child,
    /// Every school under the unit (the XLSX).
    School,
}

/// The year's figures of the units under `unit` (see [`RollupBy`]), as the tree stands
/// on `as_of` (a move on file for a later date is not applied; a past year is read on
/// its last day by the pages). Counted by the database from the schools' counters
/// (`school_tally`: sessions by status and form and their check-ins), never from
/// sessions or check-in rows: a province's year is a few hundred thousand sessions and
/// tens of millions of check-ins (issue 16).
pub async fn rollup(
    db: &Db,
    scope: &Scope,
    unit: i64,
    year: i64,
    as_of: chrono::NaiveDate,
    by: RollupBy,
) -> StoreResult<Vec<RollupRow>> {
    let u = crate::org::get_unit(db, scope, unit).await?;
    let day = crate::org::day_sql(as_of);
    let at = |alias: &str| crate::org::in_force(alias, &day);
    // The rows' units first, then the sums with their ids bound as values: the planner
    // then knows from its statistics whether they are a county's 30 schools (index
    // probes, 5 ms) or a province's cities over 3,000 schools (one scan, 80 ms). Left to
    // a subquery, it planned both alike — the province's way (bench/scale.sh).
    let members: Vec<i64> = match by {
        RollupBy::Child => {
            #[derive(FromQueryResult)]
            struct Id {
                id: i64,
            }
            rows::<Id, _>(
                &db.conn,
                format!(
                    "SELECT m.descendant_id AS id FROM org_closure m \
                     WHERE m.ancestor_id = $1 AND m.depth = {} AND {} ORDER BY m.descendant_id",
                    if u.kind == "school" { 0 } else { 1 },
                    at("m")
                ),
                vec![unit.into()],
            )
            .await?
            .into_iter()
            .map(|i| i.id)
            .collect()
        }
        RollupBy::School => vec![unit],
    };
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let mut values: Vec<Value> = Vec::new();
    let y = bind(&mut values, year);
    let list = members
        .iter()
        .map(|m| bind(&mut values, *m))
        .collect::<Vec<_>>()
        .join(", ");
    // A row per member; for the XLSX (`RollupBy::School`) the member is the unit and
    // the rows are its schools, one per school.
    let (mem, sch) = match by {
        RollupBy::Child => (
            format!("SELECT u.id AS member_id FROM org_unit u WHERE u.id IN ({list})"),
            format!(
                "SELECT cs.ancestor_id AS member_id, cs.descendant_id AS school_id FROM org_closure cs \
                 JOIN org_unit so ON so.id = cs.descendant_id AND so.kind = 'school' \
                 WHERE cs.ancestor_id IN ({list}) AND {}",
                at("cs")
            ),
        ),
        RollupBy::School => (
            format!(
                "SELECT cs.descendant_id AS member_id FROM org_closure cs \
                 JOIN org_unit so ON so.id = cs.descendant_id AND so.kind = 'school' \
                 WHERE cs.ancestor_id IN ({list}) AND {}",
                at("cs")
            ),
            format!(
                "SELECT cs.descendant_id AS member_id, cs.descendant_id AS school_id FROM org_closure cs \
                 JOIN org_unit so ON so.id = cs.descendant_id AND so.kind = 'school' \
                 WHERE cs.ancestor_id IN ({list}) AND {}",
                at("cs")
            ),
        ),
    };
    let counted = counted_forms();
    let sum = |col: &str| format!("CAST(COALESCE(SUM({col}), 0) AS BIGINT) AS {col}");
    // A school's year is a few `school_tally` rows (one per status and form), kept by the
    // database as sessions and check-ins are written.
    let sql = format!(
        "WITH mem AS ({mem}), sch AS ({sch}), \
         ses AS (SELECT k.school_id, \
             SUM(CASE WHEN k.status = 'held' THEN k.sessions ELSE 0 END) AS held, \
             SUM(CASE WHEN k.status = 'held' AND k.form IN ({counted}) THEN k.sessions ELSE 0 END) AS counted, \
             SUM(CASE WHEN k.status = 'held' AND k.form = 'online' THEN k.sessions ELSE 0 END) AS online, \
             SUM(CASE WHEN k.status = 'planned' THEN k.sessions ELSE 0 END) AS planned, \
             SUM(k.checkins) AS checkins \
           FROM school_tally k \
           WHERE k.school_year_id = {y} AND k.school_id IN (SELECT school_id FROM sch) \
           GROUP BY k.school_id), \
         exc AS (SELECT r.school_id, COUNT(*) AS excellent FROM excellence_nominee n \
           JOIN excellence_round r ON r.id = n.round_id \
           WHERE r.school_year_id = {y} AND n.decision = 'awarded' AND r.school_id IN (SELECT school_id FROM sch) \
           GROUP BY r.school_id) \
         SELECT u.id AS unit_id, u.name, u.kind, u.school_type, COUNT(sch.school_id) AS schools, \
           (SELECT COUNT(*) FROM org_unit co JOIN org_closure cc ON cc.descendant_id = co.id \
             AND cc.ancestor_id = u.id AND {cc} WHERE co.kind = 'county') AS counties, \
           {held}, {counted_col}, {online}, {planned}, {checkins}, {excellent} \
         FROM mem JOIN org_unit u ON u.id = mem.member_id \
         LEFT JOIN sch ON sch.member_id = mem.member_id \
         LEFT JOIN ses ON ses.school_id = sch.school_id \
         LEFT JOIN exc ON exc.school_id = sch.school_id \
         GROUP BY u.id, u.name, u.kind, u.school_type ORDER BY u.id",
        cc = at("cc"),
        held = sum("held"),
        counted_col = sum("counted"),
        online = sum("online"),
        planned = sum("planned"),
        checkins = sum("checkins"),
        excellent = sum("excellent"),
    );
    rows(&db.conn, sql, values).await
}

/// The yearly target of `unit`: a county's (district's) own, and for a city or province
/// the sum of its counties' — 100 each —; a school or a unit below a county is measured
/// against its county's.
pub async fn yearly_target(
    db: &Db,
    scope: &Scope,
    unit: i64,
    as_of: chrono::NaiveDate,
) -> StoreResult<i64> {
    crate::org::get_unit(db, scope, unit).await?;
    let counties = crate::db::scalar_i64(
        &db.conn,
        "SELECT COUNT(*) AS n FROM org_closure c JOIN org_unit o ON o.id = c.descendant_id \
         WHERE c.ancestor_id = $1 AND c.valid_from <= $2 AND c.valid_to > $2 AND o.kind = 'county'",
        vec![unit.into(), as_of.format("%Y-%m-%d").to_string().into()],
    )
    .await?;
    Ok(YEARLY_SESSION_TARGET * counties.max(1))
}

/// One check-in line for the ledger and the XLSX export.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct CheckinLine {
    pub session_id: i64,
    pub session_title: String,
    pub starts_at: DateTime<Utc>,
    pub guardian_id: i64,
    pub guardian_name: String,
    pub phone: Option<String>,
    pub status: String,
    pub method: String,
    pub checked_at: DateTime<Utc>,
}

/// Every check-in of a school's year (or of one session), by session and name.
pub async fn checkin_lines(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    year: i64,
    session_id: Option<i64>,
) -> StoreResult<Vec<CheckinLine>> {
    visible_school(&db.conn, scope, school_id).await?;
    let mut values: Vec<Value> = Vec::new();
    let one = match session_id {
        Some(id) => format!("AND t.id = {}", bind(&mut values, id)),
        None => String::new(),
    };
    let phones = super::reach::Phones::of(&db.conn, scope, school_id).await?;
    let mut lines: Vec<CheckinLine> = rows(
        &db.conn,
        format!(
            "{} {one} ORDER BY t.starts_at, c.session_id, g.name, c.guardian_id",
            checkin_lines_sql(scope, school_id, year, &mut values)
        ),
        values,
    )
    .await?;
    for l in &mut lines {
        l.phone = phones.show(l.phone.take());
    }
    Ok(lines)
}

/// `checkin_lines`' SELECT, FROM and WHERE — school, year and the caller's reach (a head
/// teacher's ledger holds their class's parents only) —, the one spelling the whole read
/// and the chunked one share. Callers add conditions and the order.
fn checkin_lines_sql(scope: &Scope, school_id: i64, year: i64, values: &mut Vec<Value>) -> String {
    let s = bind(values, school_id);
    let y = bind(values, year);
    let vis = super::reach::guardian_visible_sql(scope, "c.guardian_id", &s, &y, values);
    format!(
        "SELECT c.session_id, t.title AS session_title, t.starts_at, c.guardian_id, g.name AS guardian_name, g.phone, \
                c.status, c.method, c.checked_at \
         FROM checkin c JOIN teaching_session t ON t.id = c.session_id JOIN guardian g ON g.id = c.guardian_id \
         WHERE t.school_id = {s} AND t.school_year_id = {y} AND {vis}"
    )
}

/// Check-in lines read per query in `CheckinLineChunks`.
pub const CHECKIN_CHUNK: u64 = 5_000;

/// A school's year of check-in lines, in `checkin_lines`' order, read a chunk at a time
/// so that an export of a big school's year never holds the year (issue 16). The key
/// it seeks on is (session in the year's order, parent's name, parent id), unique since
/// a parent has one check-in per session; each query names one session, so the
/// (session, parent) index finds its rows and a chunk costs at most its session's
/// check-ins, never the year's.
pub struct CheckinLineChunks {
    scope: Scope,
    school_id: i64,
    year: i64,
    chunk: u64,
    phones: super::reach::Phones,
    /// The year's sessions still to read, in order (few: a few hundred a year).
    sessions: std::collections::VecDeque<i64>,
    /// The last line returned within the front session.
    after: Option<(String, i64)>,
}

impl CheckinLineChunks {
    /// Checks the school as `checkin_lines` does; lines come from `next`.
    pub async fn open(
        db: &Db,
        scope: &Scope,
        school_id: i64,
        year: i64,
        chunk: u64,
    ) -> StoreResult<CheckinLineChunks> {
        visible_school(&db.conn, scope, school_id).await?;
        let mut values = Vec::new();
        let s = bind(&mut values, school_id);
        let y = bind(&mut values, year);
        #[derive(FromQueryResult)]
        struct Id {
            id: i64,
        }
        let ids: Vec<Id> = rows(
            &db.conn,
            format!(
                "SELECT t.id FROM teaching_session t WHERE t.school_id = {s} AND t.school_year_id = {y} \
                 ORDER BY t.starts_at, t.id"
            ),
            values,
        )
        .await?;
        Ok(CheckinLineChunks {
            scope: scope.clone(),
            school_id,
            year,
            chunk: chunk.max(1),
            phones: super::reach::Phones::of(&db.conn, scope, school_id).await?,
            sessions: ids.into_iter().map(|i| i.id).collect(),
            after: None,
        })
    }

    /// The next lines, at most a chunk and never empty; `None` after the last.
    pub async fn next(&mut self, db: &Db) -> StoreResult<Option<Vec<CheckinLine>>> {
        while let Some(&session) = self.sessions.front() {
            let mut values = Vec::new();
            let t = bind(&mut values, session);
            let after = match &self.after {
                Some((name, id)) => {
                    let n = bind(&mut values, name.clone());
                    let g = bind(&mut values, *id);
                    format!("AND (g.name > {n} OR (g.name = {n} AND c.guardian_id > {g}))")
                }
                None => String::new(),
            };
            let sql = format!(
                "{} AND t.id = {t} {after} ORDER BY g.name, c.guardian_id LIMIT {}",
                checkin_lines_sql(&self.scope, self.school_id, self.year, &mut values),
                self.chunk
            );
            let mut lines: Vec<CheckinLine> = rows(&db.conn, sql, values).await?;
            if (lines.len() as u64) < self.chunk {
                self.sessions.pop_front();
                self.after = None;
            } else if let Some(l) = lines.last() {
                self.after = Some((l.guardian_name.clone(), l.guardian_id));
            }
            if lines.is_empty() {
                continue;
            }
            for l in &mut lines {
                l.phone = self.phones.show(l.phone.take());
            }
            return Ok(Some(lines));
        }
        Ok(None)
    }
}
