//! Each session's check-ins counted by status (`session_tally`, migration 0009), so that
//! an office's roll-up over a province's year reads one row per session instead of
//! millions of `checkin` rows (issue 16). Every writer of `checkin` keeps it in step in
//! its own transaction: the check-in writer adds its group's new rows ([`Delta`], once
//! per group), staff marks and paper ticks recount their session ([`recount`]), bulk loads
//! rebuild the table ([`rebuild`]); [`mismatches`] compares it with the rows. The
//! schools' counters over them (`school_tally`, migration 0011) are kept by the
//! database's triggers; [`school_mismatches`] compares them with the sessions.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, FromQueryResult, Statement, Value};

use super::{bind, rows};
use crate::StoreResult;

/// What to add to one session's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Delta {
    pub session_id: i64,
    pub present: i64,
    pub late: i64,
    pub excused: i64,
    pub absent: i64,
}

impl Delta {
    fn add(&mut self, status: &str, by: i64) {
        match status {
            "present" => self.present += by,
            "late" => self.late += by,
            "excused" => self.excused += by,
            "absent" => self.absent += by,
            _ => {}
        }
    }
}

/// The counters' changes of new rows `(session, status)`, one delta per session.
pub(crate) fn deltas<'a>(new_rows: impl IntoIterator<Item = (i64, &'a str)>) -> Vec<Delta> {
    let mut by: BTreeMap<i64, Delta> = BTreeMap::new();
    for (session_id, status) in new_rows {
        by.entry(session_id)
            .or_insert(Delta {
                session_id,
                ..Default::default()
            })
            .add(status, 1);
    }
    by.into_values().collect()
}

/// The SQL that adds `n` deltas (one `(?, ?, ?, ?, ?)` tuple each): an upsert both
/// backends (and rusqlite) read alike.
pub(crate) fn add_sql(tuples: &str) -> String {
    format!(
        "INSERT INTO session_tally (session_id, present, late, excused, absent) VALUES {tuples} \
         ON CONFLICT (session_id) DO UPDATE SET present = session_tally.present + excluded.present, \
           late = session_tally.late + excluded.late, excused = session_tally.excused + excluded.excused, \
           absent = session_tally.absent + excluded.absent"
    )
}

/// The counters of the statuses a SELECT over `checkin` groups, as SQL columns.
const COUNTS: &str = "COUNT(CASE WHEN status = 'present' THEN 1 END), \
    COUNT(CASE WHEN status = 'late' THEN 1 END), \
    COUNT(CASE WHEN status = 'excused' THEN 1 END), \
    COUNT(CASE WHEN status = 'absent' THEN 1 END)";

/// The PostgreSQL statement that inserts check-ins and adds them to their sessions'
/// counters at once: `insert` is an `INSERT INTO checkin … RETURNING session_id,
/// guardian_id, status`; the statement returns the inserted (session, guardian) pairs.
/// One statement is one transaction, so counters and rows commit together.
pub(crate) fn pg_insert_counted(insert: &str) -> String {
    format!(
        "WITH ins AS ({insert}), tally AS ({}) SELECT session_id, guardian_id FROM ins",
        add_sql_select(&format!(
            "SELECT session_id, {COUNTS} FROM ins GROUP BY session_id"
        ))
    )
}

fn add_sql_select(select: &str) -> String {
    format!(
        "INSERT INTO session_tally (session_id, present, late, excused, absent) {select} \
         ON CONFLICT (session_id) DO UPDATE SET present = session_tally.present + excluded.present, \
           late = session_tally.late + excluded.late, excused = session_tally.excused + excluded.excused, \
           absent = session_tally.absent + excluded.absent"
    )
}

/// Adds `ds` to the counters (one statement), in the caller's transaction.
pub(crate) async fn add<C: ConnectionTrait>(conn: &C, ds: &[Delta]) -> StoreResult<()> {
    if ds.is_empty() {
        return Ok(());
    }
    let mut values: Vec<Value> = Vec::with_capacity(ds.len() * 5);
    let tuples: Vec<String> = ds
        .iter()
        .map(|d| {
            let p = [
                bind(&mut values, d.session_id),
                bind(&mut values, d.present),
                bind(&mut values, d.late),
                bind(&mut values, d.excused),
                bind(&mut values, d.absent),
            ];
            format!("({})", p.join(", "))
        })
        .collect();
    conn.execute_raw(Statement::from_sql_and_values(
        conn.get_database_backend(),
        add_sql(&tuples.join(", ")),
        values,
    ))
    .await?;
    Ok(())
}

/// Sets a session's counters to what its rows say, at the end of a transaction that
/// changed statuses of existing rows (staff marks, paper ticks). On PostgreSQL the
/// counters' row is locked first and the rows counted in a later statement: a check-in
/// writer's group committed meanwhile is then counted, and one still running adds to
/// the counters after this transaction (it waits for the lock), so nothing is lost.
pub(crate) async fn recount<C: ConnectionTrait>(conn: &C, session_id: i64) -> StoreResult<()> {
    let backend = conn.get_database_backend();
    let exec = |sql: String| {
        conn.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            vec![Value::from(session_id)],
        ))
    };
    exec(
        "INSERT INTO session_tally (session_id) VALUES ($1) ON CONFLICT (session_id) DO NOTHING"
            .into(),
    )
    .await?;
    if backend == sea_orm::DbBackend::Postgres {
        exec("SELECT session_id FROM session_tally WHERE session_id = $1 FOR UPDATE".into())
            .await?;
    }
    exec(format!(
        "UPDATE session_tally SET (present, late, excused, absent) = \
           (SELECT {COUNTS} FROM checkin WHERE session_id = $1) WHERE session_id = $1"
    ))
    .await?;
    Ok(())
}

/// Rebuilds every counter from the rows: after a bulk load (`jiaxiao import database`,
/// the demo data, the scale generator) — the sessions' counters, the schools' (which the
/// database's triggers otherwise keep, migration 0011), and every school's reach cache
/// marked stale.
pub async fn rebuild<C: ConnectionTrait>(conn: &C) -> StoreResult<()> {
    conn.execute_unprepared("DELETE FROM session_tally").await?;
    conn.execute_unprepared(&format!(
        "INSERT INTO session_tally (session_id, present, late, excused, absent) \
         SELECT session_id, {COUNTS} FROM checkin GROUP BY session_id"
    ))
    .await?;
    conn.execute_unprepared("DELETE FROM school_tally").await?;
    conn.execute_unprepared(&format!("INSERT INTO school_tally {SCHOOL_TALLY}"))
        .await?;
    conn.execute_unprepared(
        "INSERT INTO reach_stale_school (school_id, school_year_id) \
         SELECT DISTINCT school_id, school_year_id FROM teaching_session \
         WHERE true ON CONFLICT (school_id, school_year_id) DO UPDATE SET n = reach_stale_school.n + 1",
    )
    .await?;
    Ok(())
}

/// The schools' counters as the sessions and their counters say (the columns of
/// `school_tally`, in order).
const SCHOOL_TALLY: &str = "SELECT t.school_year_id, t.school_id, t.status, t.form, COUNT(*), \
      COALESCE(SUM(k.present + k.late), 0) \
    FROM teaching_session t LEFT JOIN session_tally k ON k.session_id = t.id \
    GROUP BY t.school_year_id, t.school_id, t.status, t.form";

/// Schools whose counters (`school_tally`) differ from their sessions' (none, when the
/// triggers kept them): `jiaxiao check` and the counters test.
pub async fn school_mismatches<C: ConnectionTrait>(conn: &C) -> StoreResult<Vec<i64>> {
    #[derive(FromQueryResult)]
    struct Id {
        school_id: i64,
    }
    let sql = format!(
        "WITH r (school_year_id, school_id, status, form, sessions, checkins) AS ({SCHOOL_TALLY}) \
         SELECT r.school_id FROM r LEFT JOIN school_tally k ON k.school_year_id = r.school_year_id \
           AND k.school_id = r.school_id AND k.status = r.status AND k.form = r.form \
         WHERE k.school_id IS NULL OR k.sessions <> r.sessions OR k.checkins <> r.checkins \
         UNION SELECT k.school_id FROM school_tally k LEFT JOIN r ON k.school_year_id = r.school_year_id \
           AND k.school_id = r.school_id AND k.status = r.status AND k.form = r.form \
         WHERE r.school_id IS NULL AND (k.sessions <> 0 OR k.checkins <> 0) ORDER BY 1"
    );
    Ok(rows::<Id, _>(conn, sql, Vec::new())
        .await?
        .into_iter()
        .map(|i| i.school_id)
        .collect())
}

/// Sessions whose counters differ from their rows (none, when every writer kept them).
pub async fn mismatches<C: ConnectionTrait>(conn: &C) -> StoreResult<Vec<i64>> {
    #[derive(FromQueryResult)]
    struct Id {
        session_id: i64,
    }
    let sql = "SELECT r.session_id FROM (SELECT session_id, \
           COUNT(CASE WHEN status = 'present' THEN 1 END) AS p, COUNT(CASE WHEN status = 'late' THEN 1 END) AS l, \
           COUNT(CASE WHEN status = 'excused' THEN 1 END) AS e, COUNT(CASE WHEN status = 'absent' THEN 1 END) AS a \
           FROM checkin GROUP BY session_id) r LEFT JOIN session_tally t ON t.session_id = r.session_id \
         WHERE t.session_id IS NULL OR r.p <> t.present OR r.l <> t.late OR r.e <> t.excused OR r.a <> t.absent \
         UNION SELECT t.session_id FROM session_tally t \
         WHERE t.present + t.late + t.excused + t.absent > 0 \
           AND NOT EXISTS (SELECT 1 FROM checkin c WHERE c.session_id = t.session_id) \
         ORDER BY 1"
        .to_string();
    Ok(rows::<Id, _>(conn, sql, Vec::new())
        .await?
        .into_iter()
        .map(|i| i.session_id)
        .collect())
}

/// How many times parents came (present or late) to a school year's sessions that were
/// not cancelled, from the counters: the names a dossier would list.
pub async fn attendances(
    db: &crate::Db,
    scope: &crate::Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<i64> {
    super::visible_school(&db.conn, scope, school_id).await?;
    crate::db::scalar_i64(
        &db.conn,
        "SELECT CAST(COALESCE(SUM(k.present + k.late), 0) AS BIGINT) AS n FROM session_tally k \
         JOIN teaching_session t ON t.id = k.session_id \
         WHERE t.school_id = $1 AND t.school_year_id = $2 AND t.status <> 'cancelled'",
        vec![school_id.into(), school_year_id.into()],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_group_by_session_and_status() {
        let d = deltas([(2, "present"), (1, "late"), (2, "present"), (2, "absent")]);
        assert_eq!(
            d,
            vec![
                Delta {
                    session_id: 1,
                    late: 1,
                    ..Default::default()
                },
                Delta {
                    session_id: 2,
                    present: 2,
                    absent: 1,
                    ..Default::default()
                },
            ]
        );
    }
}
