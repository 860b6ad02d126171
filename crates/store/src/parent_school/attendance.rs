//! Who was invited to and who came to a school's sessions in a school year, counted by
//! the database: session counts, trainee hours and class rates all come from the same
//! three SQL pieces ([`Q`]: invited children, invited parents, parents who came), so the
//! ledger, the dashboards and the live board agree. Nothing here loads a year's
//! invitations or check-ins into the server: the answers are one row per session, class
//! or parent (issue 16; the in-memory join it replaces peaked at 440 MB on a county of a
//! million check-ins). One household member attending reaches that child.

use std::collections::{BTreeSet, HashMap};

use jiaxiao_domain::parent_school::SessionStatus;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::Serialize;

use super::{bind, rows};
use crate::{Db, StoreResult};

/// What to read: one school's year, optionally narrowed to one session or to the
/// invitations and attendance of one parent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filter {
    pub school_id: i64,
    pub school_year_id: i64,
    pub session_id: Option<i64>,
    pub guardian_id: Option<i64>,
}

impl Filter {
    pub fn year(school_id: i64, school_year_id: i64) -> Self {
        Filter {
            school_id,
            school_year_id,
            session_id: None,
            guardian_id: None,
        }
    }
}

/// The statement being built: its bound values and the SQL pieces over them. Every
/// statement binds afresh and uses every value it binds (PostgreSQL refuses a
/// parameter whose type it cannot infer).
struct Q {
    values: Vec<Value>,
    /// The filter's sessions, as a condition on `teaching_session t`.
    sessions: String,
    guardian: Option<String>,
    on_day: String,
}

/// Parents who came: present or late.
const CAME: &str = "IN ('present', 'late')";

impl Q {
    fn new<C: ConnectionTrait>(conn: &C, f: Filter, held_only: bool) -> Q {
        let mut values = Vec::new();
        let s = bind(&mut values, f.school_id);
        let y = bind(&mut values, f.school_year_id);
        let mut sessions = format!("t.school_id = {s} AND t.school_year_id = {y}");
        if let Some(id) = f.session_id {
            sessions.push_str(&format!(" AND t.id = {}", bind(&mut values, id)));
        }
        if held_only {
            sessions.push_str(&format!(" AND t.status = '{}'", SessionStatus::Held.code()));
        }
        let guardian = f.guardian_id.map(|g| bind(&mut values, g));
        // Each session invites the classes under its school or audience units in the
        // tree as it stands on the session's own day, as `sessions::invited_pupils_sql`.
        let on_day = crate::org::in_force(
            "oc",
            &crate::org::beijing_day_sql(conn.get_database_backend(), "t.starts_at"),
        );
        Q {
            values,
            sessions,
            guardian,
            on_day,
        }
    }

    /// The sessions of a school's year, or only those of `ids` (the stale ones the reach
    /// cache recomputes), every status: the cache keeps them all, its readers pick the
    /// held ones.
    fn sessions_of<C: ConnectionTrait>(
        conn: &C,
        school_id: i64,
        school_year_id: i64,
        ids: Option<&[i64]>,
    ) -> Q {
        let mut q = Q::new(conn, Filter::year(school_id, school_year_id), false);
        if let Some(ids) = ids {
            let list: Vec<String> = ids.iter().map(|i| bind(&mut q.values, *i)).collect();
            q.sessions
                .push_str(&format!(" AND t.id IN ({})", list.join(", ")));
        }
        q
    }

    /// The reach cache's rows counted from the rows, one SELECT each (columns named as
    /// the tables'): what `count_reach` reads for `refresh_reach` and `reach_mismatches`.
    fn reach_rows(&self) -> String {
        format!(
            "WITH {} SELECT inv.session_id, inv.class_id, COUNT(*) AS invited, \
               COUNT(CASE WHEN {} THEN 1 END) AS reached FROM inv GROUP BY inv.session_id, inv.class_id",
            self.inv(),
            reached_sql()
        )
    }

    fn invited_rows(&self) -> String {
        format!(
            "WITH {}, {} SELECT invg.session_id, COUNT(*) AS parents FROM invg GROUP BY invg.session_id",
            self.inv(),
            self.invg()
        )
    }

    fn walkin_rows(&self) -> String {
        format!(
            "WITH {}, {}, {} SELECT DISTINCT att.session_id, att.guardian_id FROM att WHERE NOT EXISTS \
               (SELECT 1 FROM invg WHERE invg.session_id = att.session_id AND invg.guardian_id = att.guardian_id)",
            self.inv(),
            self.invg(),
            self.att()
        )
    }

    fn only(&self, col: &str) -> String {
        self.guardian
            .as_ref()
            .map(|g| format!(" AND {col} = {g}"))
            .unwrap_or_default()
    }

    /// `inv (session_id, pupil_id, class_id)`: the children each session invites this
    /// year (only the parent's own when narrowed to one).
    fn inv(&self) -> String {
        let Q {
            sessions, on_day, ..
        } = self;
        let mine = self
            .guardian
            .as_ref()
            .map(|g| {
                format!(" AND cm.pupil_id IN (SELECT pupil_id FROM guardianship WHERE guardian_id = {g})")
            })
            .unwrap_or_default();
        format!(
            "inv AS (SELECT t.id AS session_id, cm.pupil_id, cm.class_id FROM teaching_session t \
               JOIN org_closure oc ON oc.ancestor_id = t.school_id AND {on_day} \
               JOIN class_membership cm ON cm.class_id = oc.descendant_id AND cm.school_year_id = t.school_year_id{mine} \
               WHERE {sessions} AND t.audience = 'school' \
             UNION SELECT t.id, cm.pupil_id, cm.class_id FROM teaching_session t \
               JOIN session_audience a ON a.session_id = t.id \
               JOIN org_closure oc ON oc.ancestor_id = a.unit_id AND {on_day} \
               JOIN class_membership cm ON cm.class_id = oc.descendant_id AND cm.school_year_id = t.school_year_id{mine} \
               WHERE {sessions} AND t.audience = 'units')"
        )
    }

    /// `invg (session_id, guardian_id)`: the parents each session invites — through
    /// their invited children, or by name. Needs `inv`.
    /// `CROSS JOIN` keeps `inv` (one school's invitations) outside: SQLite otherwise
    /// read all of `guardianship` to probe it (issue 16, `tests/plans.rs`); PostgreSQL
    /// plans it as any join.
    fn invg(&self) -> String {
        format!(
            "invg AS (SELECT inv.session_id, gs.guardian_id FROM inv \
               CROSS JOIN guardianship gs WHERE gs.pupil_id = inv.pupil_id{} \
             UNION SELECT t.id, si.guardian_id FROM teaching_session t \
               JOIN session_invitee si ON si.session_id = t.id WHERE {}{})",
            self.only("gs.guardian_id"),
            self.sessions,
            self.only("si.guardian_id"),
        )
    }

    /// `att (session_id, guardian_id)`: the parents who came, invited or not.
    fn att(&self) -> String {
        format!(
            "att AS (SELECT c.session_id, c.guardian_id FROM teaching_session t \
               JOIN checkin c ON c.session_id = t.id WHERE {} AND c.status {CAME}{})",
            self.sessions,
            self.only("c.guardian_id"),
        )
    }
}

/// Whether a parent of the child `inv` row came to its session (SQL condition).
fn reached_sql() -> String {
    format!(
        "EXISTS (SELECT 1 FROM guardianship rg JOIN checkin rc ON rc.guardian_id = rg.guardian_id \
           AND rc.session_id = inv.session_id AND rc.status {CAME} WHERE rg.pupil_id = inv.pupil_id)"
    )
}

#[derive(FromQueryResult)]
struct CountsRow {
    session_id: i64,
    invited_parents: i64,
    present: i64,
    late: i64,
    excused: i64,
    absent: i64,
    invited_children: i64,
    children_reached: i64,
    refusals: i64,
    uninvited: i64,
}

/// The counts of every session the filter names (a parent filter is not applied here):
/// check-ins from `session_tally`, invitations, reach and walk-ins from the reach cache
/// brought up to date first — a row per session and class, never the year's rows.
pub(crate) async fn session_counts(db: &Db, f: Filter) -> StoreResult<HashMap<i64, SessionCounts>> {
    refresh_reach(db, f.school_id, f.school_year_id).await?;
    let conn = &db.conn;
    let q = Q::new(
        conn,
        Filter {
            guardian_id: None,
            ..f
        },
        false,
    );
    let sql = format!(
        "WITH ses AS (SELECT t.id FROM teaching_session t WHERE {sessions}), \
         rc AS (SELECT r.session_id, CAST(SUM(r.invited) AS BIGINT) AS ic, CAST(SUM(r.reached) AS BIGINT) AS rc \
           FROM session_reach r JOIN ses ON ses.id = r.session_id GROUP BY r.session_id), \
         uc AS (SELECT w.session_id, COUNT(*) AS n FROM session_walkin w JOIN ses ON ses.id = w.session_id \
           GROUP BY w.session_id), \
         rf AS (SELECT r.session_id, COUNT(*) AS n FROM checkin_refusal r JOIN ses ON ses.id = r.session_id \
           GROUP BY r.session_id) \
         SELECT ses.id AS session_id, COALESCE(i.parents, 0) AS invited_parents, \
           COALESCE(k.present, 0) AS present, COALESCE(k.late, 0) AS late, \
           COALESCE(k.excused, 0) AS excused, COALESCE(k.absent, 0) AS absent, \
           COALESCE(rc.ic, 0) AS invited_children, COALESCE(rc.rc, 0) AS children_reached, \
           COALESCE(rf.n, 0) AS refusals, COALESCE(uc.n, 0) AS uninvited \
         FROM ses LEFT JOIN session_tally k ON k.session_id = ses.id \
         LEFT JOIN session_invited i ON i.session_id = ses.id LEFT JOIN rc ON rc.session_id = ses.id \
         LEFT JOIN uc ON uc.session_id = ses.id LEFT JOIN rf ON rf.session_id = ses.id",
        sessions = q.sessions,
    );
    Ok(rows::<CountsRow, _>(conn, sql, q.values)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.session_id,
                SessionCounts {
                    invited_parents: r.invited_parents,
                    present: r.present,
                    late: r.late,
                    excused: r.excused,
                    absent: r.absent,
                    invited_children: r.invited_children,
                    children_reached: r.children_reached,
                    refusals: r.refusals,
                    uninvited: r.uninvited,
                },
            )
        })
        .collect())
}

/// Per parent over the held sessions: (invited, attended, credit hours). Walk-ins
/// (checked in without an invitation) earn hours too.
pub(crate) async fn trainees<C: ConnectionTrait>(
    conn: &C,
    f: Filter,
    settings: &jiaxiao_domain::parent_school::Settings,
) -> StoreResult<HashMap<i64, (i64, i64, f64)>> {
    #[derive(FromQueryResult)]
    struct Trainee {
        guardian_id: i64,
        invited: i64,
        attended: i64,
        hours: f64,
    }
    let (tr, values) = trainee_table(conn, f, settings);
    let sql = format!("WITH {tr} SELECT guardian_id, invited, attended, hours FROM tr");
    Ok(rows::<Trainee, _>(conn, sql, values)
        .await?
        .into_iter()
        .map(|t| (t.guardian_id, (t.invited, t.attended, t.hours)))
        .collect())
}

/// The CTEs ending in `tr (guardian_id, invited, attended, hours)`: every parent invited
/// to or attending a held session of the filter, with their credit hours weighted by
/// form — one row per parent, for the whole table and for one page of it alike. Returns
/// the values bound so far; a caller binds its own after them.
pub(crate) fn trainee_table<C: ConnectionTrait>(
    conn: &C,
    f: Filter,
    settings: &jiaxiao_domain::parent_school::Settings,
) -> (String, Vec<Value>) {
    let mut q = Q::new(conn, f, true);
    let mut arms = String::new();
    for (form, w) in &settings.weights {
        let form = bind(&mut q.values, form.clone());
        let w = bind(&mut q.values, *w);
        arms.push_str(&format!(" WHEN {form} THEN {w}"));
    }
    // A form without a weight counts one to one, as `Settings::weight`.
    let one = bind(&mut q.values, 1.0f64);
    let zero = bind(&mut q.values, 0.0f64);
    let sql = format!(
        "{inv}, {invg}, \
         ti AS (SELECT guardian_id, COUNT(*) AS invited FROM invg GROUP BY guardian_id), \
         ta AS (SELECT c.guardian_id, COUNT(*) AS attended, \
             SUM(CASE t.form{arms} ELSE {one} END \
               * (CASE WHEN t.duration_minutes > 0 THEN t.duration_minutes ELSE 0 END) / 60.0) AS hours \
           FROM teaching_session t JOIN checkin c ON c.session_id = t.id \
           WHERE {sessions} AND c.status {CAME}{only} GROUP BY c.guardian_id), \
         tr AS (SELECT u.guardian_id, COALESCE(ti.invited, 0) AS invited, \
             COALESCE(ta.attended, 0) AS attended, COALESCE(ta.hours, {zero}) AS hours \
           FROM (SELECT guardian_id FROM ti UNION SELECT guardian_id FROM ta) u \
           LEFT JOIN ti ON ti.guardian_id = u.guardian_id LEFT JOIN ta ON ta.guardian_id = u.guardian_id)",
        inv = q.inv(),
        invg = q.invg(),
        sessions = q.sessions,
        only = q.only("c.guardian_id"),
    );
    (sql, q.values)
}

/// Brings up to date, in the background, the school years whose classes, children or
/// parents changed (a roster import, a bulk load): their whole year is recomputed, which
/// for a school of 6,000 children over 260 sessions takes seconds — better paid here than
/// by the first person to open its page. At most `limit` years a call, in the order of
/// their ids; returns how many were done. Pages still refresh what is left when they
/// read it, and two processes doing the same year only repeat work.
pub async fn refresh_stale_years(db: &Db, limit: u64) -> StoreResult<usize> {
    #[derive(FromQueryResult)]
    struct Year {
        school_id: i64,
        school_year_id: i64,
    }
    let years: Vec<Year> = rows(
        &db.conn,
        "SELECT school_id, school_year_id FROM reach_stale_school \
         ORDER BY school_year_id, school_id LIMIT $1"
            .into(),
        vec![(limit.min(i64::MAX as u64) as i64).into()],
    )
    .await?;
    for y in &years {
        refresh_reach(db, y.school_id, y.school_year_id).await?;
    }
    Ok(years.len())
}

/// Brings the reach cache of a school's year up to date (migration 0011: `session_reach`,
/// `session_invited`, `session_walkin`): the sessions the database marked stale — all of
/// the year when its classes, children or parents changed, else those whose check-ins,
/// audience or time changed — are counted again from the rows. The counting is a read,
/// outside any transaction; only replacing the cached rows is a write, so a whole year of
/// the largest school (seconds of reading) holds SQLite's single write lock for a moment,
/// not for the count, and check-ins and logins go on meanwhile. A marker is cleared only
/// if no change came in since it was read (its `n` unchanged); one that did stays, and the
/// next read counts its session again. A year with nothing stale costs one read and no
/// write: the pages read it every time.
pub(crate) async fn refresh_reach(db: &Db, school_id: i64, school_year_id: i64) -> StoreResult<()> {
    refresh_reach_between(db, school_id, school_year_id, async {}).await
}

/// [`refresh_reach`] running `between` after the count and before the write: the tests'
/// way to land a change in that gap.
#[doc(hidden)]
pub async fn refresh_reach_between(
    db: &Db,
    school_id: i64,
    school_year_id: i64,
    between: impl std::future::Future<Output = ()>,
) -> StoreResult<()> {
    #[derive(FromQueryResult)]
    struct Mark {
        id: i64,
        n: i64,
    }
    let v = || -> Vec<Value> { vec![school_id.into(), school_year_id.into()] };
    let whole: Option<i64> = rows::<Mark, _>(
        &db.conn,
        "SELECT school_id AS id, n FROM reach_stale_school WHERE school_id = $1 AND school_year_id = $2"
            .into(),
        v(),
    )
    .await?
    .first()
    .map(|m| m.n);
    let marks: Vec<Mark> = rows(
        &db.conn,
        "SELECT r.session_id AS id, r.n FROM reach_stale r JOIN teaching_session t ON t.id = r.session_id \
         WHERE t.school_id = $1 AND t.school_year_id = $2"
            .into(),
        v(),
    )
    .await?;
    if whole.is_none() && marks.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = marks.iter().map(|m| m.id).collect();
    // Bounded IN lists (SQLite's parameter limit).
    let parts: Vec<Option<&[i64]>> = match whole {
        Some(_) => vec![None],
        None => ids.chunks(500).map(Some).collect(),
    };
    let mut counted = Vec::with_capacity(parts.len());
    for part in &parts {
        counted.push(count_reach(&db.conn, school_id, school_year_id, *part).await?);
    }
    between.await;
    let txn = db.begin().await?;
    for (part, rows) in parts.iter().zip(counted) {
        store_reach(&txn, school_id, school_year_id, *part, rows).await?;
    }
    if let Some(n) = whole {
        let mut values = v();
        let n = bind(&mut values, n);
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            txn.get_database_backend(),
            format!(
                "DELETE FROM reach_stale_school WHERE school_id = $1 AND school_year_id = $2 AND n = {n}"
            ),
            values,
        ))
        .await?;
    }
    for chunk in marks.chunks(400) {
        let mut values = Vec::new();
        let pairs: Vec<String> = chunk
            .iter()
            .map(|m| {
                let id = bind(&mut values, m.id);
                format!("(session_id = {id} AND n = {})", bind(&mut values, m.n))
            })
            .collect();
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            txn.get_database_backend(),
            format!("DELETE FROM reach_stale WHERE {}", pairs.join(" OR ")),
            values,
        ))
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

#[derive(FromQueryResult)]
struct ReachRow {
    session_id: i64,
    class_id: i64,
    invited: i64,
    reached: i64,
}

/// A pair of ids: (session, parent) of a walk-in, or (session, invited parents).
#[derive(FromQueryResult)]
struct PairRow {
    session_id: i64,
    guardian_id: i64,
}

/// The reach cache's rows of the sessions `ids` of a school's year (all when `None`),
/// counted from the rows: one row per session and class, per session, and per walk-in.
struct Counted {
    reach: Vec<ReachRow>,
    invited: Vec<PairRow>,
    walkins: Vec<PairRow>,
}

async fn count_reach<C: ConnectionTrait>(
    conn: &C,
    school_id: i64,
    school_year_id: i64,
    ids: Option<&[i64]>,
) -> StoreResult<Counted> {
    let q = || Q::sessions_of(conn, school_id, school_year_id, ids);
    let (rq, iq, wq) = (q(), q(), q());
    Ok(Counted {
        reach: rows(conn, rq.reach_rows(), rq.values).await?,
        invited: rows(
            conn,
            format!(
                "SELECT f.session_id, f.parents AS guardian_id FROM ({}) f",
                iq.invited_rows()
            ),
            iq.values,
        )
        .await?,
        walkins: rows(conn, wq.walkin_rows(), wq.values).await?,
    })
}

/// Replaces the cached reach of the sessions `ids` of a school's year (all when `None`)
/// with `counted`, in the caller's transaction.
async fn store_reach<C: ConnectionTrait>(
    conn: &C,
    school_id: i64,
    school_year_id: i64,
    ids: Option<&[i64]>,
    counted: Counted,
) -> StoreResult<()> {
    let exec = |sql: String, values: Vec<Value>| {
        conn.execute_raw(sea_orm::Statement::from_sql_and_values(
            conn.get_database_backend(),
            sql,
            values,
        ))
    };
    for table in ["session_reach", "session_invited", "session_walkin"] {
        let q = Q::sessions_of(conn, school_id, school_year_id, ids);
        exec(
            format!(
                "DELETE FROM {table} WHERE session_id IN (SELECT t.id FROM teaching_session t WHERE {})",
                q.sessions
            ),
            q.values,
        )
        .await?;
    }
    // Multi-row INSERTs of a few thousand values each (SQLite takes 32,766).
    for chunk in counted.reach.chunks(1000) {
        let mut values = Vec::with_capacity(chunk.len() * 4);
        let tuples: Vec<String> = chunk
            .iter()
            .map(|r| {
                format!(
                    "({}, {}, {}, {})",
                    bind(&mut values, r.session_id),
                    bind(&mut values, r.class_id),
                    bind(&mut values, r.invited),
                    bind(&mut values, r.reached)
                )
            })
            .collect();
        exec(
            format!(
                "INSERT INTO session_reach (session_id, class_id, invited, reached) VALUES {}",
                tuples.join(", ")
            ),
            values,
        )
        .await?;
    }
    for (table, cols, pairs) in [
        ("session_invited", "session_id, parents", &counted.invited),
        (
            "session_walkin",
            "session_id, guardian_id",
            &counted.walkins,
        ),
    ] {
        for chunk in pairs.chunks(2000) {
            let mut values = Vec::with_capacity(chunk.len() * 2);
            let tuples: Vec<String> = chunk
                .iter()
                .map(|p| {
                    format!(
                        "({}, {})",
                        bind(&mut values, p.session_id),
                        bind(&mut values, p.guardian_id)
                    )
                })
                .collect();
            exec(
                format!("INSERT INTO {table} ({cols}) VALUES {}", tuples.join(", ")),
                values,
            )
            .await?;
        }
    }
    Ok(())
}

/// Per class over the held sessions, from the reach cache (call [`refresh_reach`]
/// first): (child-sessions invited, reached).
pub(crate) async fn class_rates<C: ConnectionTrait>(
    conn: &C,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<HashMap<i64, (i64, i64)>> {
    #[derive(FromQueryResult)]
    struct Rate {
        class_id: i64,
        invited: i64,
        reached: i64,
    }
    let sql = format!(
        "SELECT r.class_id, CAST(SUM(r.invited) AS BIGINT) AS invited, CAST(SUM(r.reached) AS BIGINT) AS reached \
         FROM session_reach r JOIN teaching_session t ON t.id = r.session_id \
         WHERE t.school_id = $1 AND t.school_year_id = $2 AND t.status = '{}' GROUP BY r.class_id",
        SessionStatus::Held.code()
    );
    Ok(
        rows::<Rate, _>(conn, sql, vec![school_id.into(), school_year_id.into()])
            .await?
            .into_iter()
            .map(|r| (r.class_id, (r.invited, r.reached)))
            .collect(),
    )
}

/// The trainees of a school's year — parents invited to or attending a held session —
/// from the reach cache (call [`refresh_reach`] first): the parents of the children in
/// the classes a held session invited, its named invitees and its walk-ins. Their ids,
/// for the school's home (a count) without the trainee table's hours and names.
pub(crate) async fn trainee_ids<C: ConnectionTrait>(
    conn: &C,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Vec<i64>> {
    #[derive(FromQueryResult)]
    struct Id {
        guardian_id: i64,
    }
    let held = format!(
        "t.school_id = $1 AND t.school_year_id = $2 AND t.status = '{}'",
        SessionStatus::Held.code()
    );
    let sql = format!(
        "SELECT gs.guardian_id FROM class_membership cm JOIN guardianship gs ON gs.pupil_id = cm.pupil_id \
         WHERE cm.school_year_id = $2 AND cm.class_id IN (SELECT r.class_id FROM session_reach r \
           JOIN teaching_session t ON t.id = r.session_id WHERE {held} AND r.invited > 0) \
         UNION SELECT si.guardian_id FROM session_invitee si JOIN teaching_session t ON t.id = si.session_id WHERE {held} \
         UNION SELECT w.guardian_id FROM session_walkin w JOIN teaching_session t ON t.id = w.session_id WHERE {held}"
    );
    Ok(
        rows::<Id, _>(conn, sql, vec![school_id.into(), school_year_id.into()])
            .await?
            .into_iter()
            .map(|i| i.guardian_id)
            .collect(),
    )
}

/// Sessions whose cached reach differs from what their rows say now (none, when every
/// writer marked what it changed): refreshes every school's years, then compares each
/// with a fresh count. `jiaxiao check` and the counters test.
pub async fn reach_mismatches(db: &Db) -> StoreResult<Vec<i64>> {
    #[derive(FromQueryResult)]
    struct Year {
        school_id: i64,
        school_year_id: i64,
    }
    let years: Vec<Year> = rows(
        &db.conn,
        "SELECT DISTINCT school_id, school_year_id FROM teaching_session ORDER BY school_id, school_year_id"
            .into(),
        Vec::new(),
    )
    .await?;
    let mut off = BTreeSet::new();
    for y in years {
        refresh_reach(db, y.school_id, y.school_year_id).await?;
        let fresh = count_reach(&db.conn, y.school_id, y.school_year_id, None).await?;
        let cached_rows = |sql: &str| {
            let q = Q::sessions_of(&db.conn, y.school_id, y.school_year_id, None);
            (
                format!(
                    "{sql} JOIN teaching_session t ON t.id = c.session_id WHERE {}",
                    q.sessions
                ),
                q.values,
            )
        };
        let (sql, values) = cached_rows(
            "SELECT c.session_id, c.class_id, c.invited, c.reached FROM session_reach c",
        );
        let cached: Vec<ReachRow> = rows(&db.conn, sql, values).await?;
        let (sql, values) =
            cached_rows("SELECT c.session_id, c.parents AS guardian_id FROM session_invited c");
        let cached_i: Vec<PairRow> = rows(&db.conn, sql, values).await?;
        let (sql, values) = cached_rows("SELECT c.session_id, c.guardian_id FROM session_walkin c");
        let cached_w: Vec<PairRow> = rows(&db.conn, sql, values).await?;
        let set = |v: Vec<ReachRow>| -> BTreeSet<(i64, i64, i64, i64)> {
            v.into_iter()
                .map(|r| (r.session_id, r.class_id, r.invited, r.reached))
                .collect()
        };
        let set_p = |v: Vec<PairRow>| -> BTreeSet<(i64, i64, i64, i64)> {
            v.into_iter()
                .map(|w| (w.session_id, w.guardian_id, 0, 0))
                .collect()
        };
        for (a, b) in [
            (set(fresh.reach), set(cached)),
            (set_p(fresh.walkins), set_p(cached_w)),
            (set_p(fresh.invited), set_p(cached_i)),
        ] {
            off.extend(a.symmetric_difference(&b).map(|r| r.0));
        }
    }
    Ok(off.into_iter().collect())
}

/// Attendance figures of one session: invited parents and children, and how many of
/// them came. A child counts as reached when any of their parents attended.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SessionCounts {
    pub invited_parents: i64,
    pub present: i64,
    pub late: i64,
    pub excused: i64,
    pub absent: i64,
    pub invited_children: i64,
    pub children_reached: i64,
    pub refusals: i64,
    /// Of those present or late, parents the session does not invite: they checked in
    /// before its audience was changed. Counted in `present`/`late` (they came), never
    /// in `invited_parents`.
    pub uninvited: i64,
}

impl SessionCounts {
    /// Share of invited children whose household came, 0–1: the attendance rate the
    /// school reports (one household member attending counts for that child).
    pub fn rate(&self) -> f64 {
        if self.invited_children > 0 {
            self.children_reached as f64 / self.invited_children as f64
        } else if self.invited_parents > 0 {
            (self.present + self.late) as f64 / self.invited_parents as f64
        } else {
            0.0
        }
    }
}
