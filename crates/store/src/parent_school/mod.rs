//! The parent school (家长学校, DOMAIN.md §1) in the database: its bodies, curriculum,
//! sessions and their audiences, records, credits, excellent trainees, the ledger and
//! activities such as the parents' meeting day. Check-ins have their own hot-path
//! module, [`crate::checkin`].

pub mod activities;
pub mod attendance;
pub mod committees;
pub mod credits;
pub mod curriculum;
pub mod excellence;
pub mod paper;
pub mod reach;
pub mod records;
pub mod sessions;
pub mod stats;
pub mod tally;

use jiaxiao_domain::parent_school::Settings;
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, Statement, Value};

use crate::entities::parent_school_settings;
use crate::{Scope, StoreError, StoreResult};

/// A school the caller may record parent-school work for (`NotFound` otherwise).
pub(crate) async fn writable_school<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    school_id: i64,
) -> StoreResult<crate::org::UnitRow> {
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_school_writable("u.id", &mut values);
    school_where(conn, cond, values, school_id).await
}

/// A school the caller may read parent-school work of.
pub async fn visible_school<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    school_id: i64,
) -> StoreResult<crate::org::UnitRow> {
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_school_visible("u.id", &mut values);
    school_where(conn, cond, values, school_id).await
}

async fn school_where<C: ConnectionTrait>(
    conn: &C,
    cond: String,
    mut values: Vec<Value>,
    school_id: i64,
) -> StoreResult<crate::org::UnitRow> {
    let p = bind(&mut values, school_id);
    let sql = format!(
        "SELECT u.id, u.parent_id, u.kind, u.name, u.code, u.school_type, u.grade_level, u.class_number \
         FROM org_unit u WHERE u.kind = 'school' AND u.id = {p} AND {cond}"
    );
    rows::<crate::org::UnitRow, _>(conn, sql, values)
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)
}

/// The school's settings for a year, or the defaults.
pub async fn settings<C: ConnectionTrait>(
    conn: &C,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Settings> {
    let row = parent_school_settings::Entity::find_by_id((school_id, school_year_id))
        .one(conn)
        .await?;
    Ok(row
        .and_then(|r| serde_json::from_str(&r.settings_json).ok())
        .unwrap_or_default())
}

/// Replaces the school's settings for a year.
pub async fn save_settings(
    db: &crate::Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
    s: &Settings,
) -> StoreResult<()> {
    use sea_orm::{ActiveModelTrait, Set};
    let txn = db.begin().await?;
    writable_school(&txn, scope, school_id).await?;
    writable_year(&txn, school_id, school_year_id).await?;
    let json = serde_json::to_string(s).map_err(|e| StoreError::Other(e.to_string()))?;
    let existing = parent_school_settings::Entity::find_by_id((school_id, school_year_id))
        .one(&txn)
        .await?;
    let am = parent_school_settings::ActiveModel {
        school_id: Set(school_id),
        school_year_id: Set(school_year_id),
        settings_json: Set(json.clone()),
        updated_at: Set(chrono::Utc::now()),
    };
    if existing.is_some() {
        am.update(&txn).await?;
    } else {
        am.insert(&txn).await?;
    }
    crate::audit::record(
        &txn,
        scope,
        crate::audit::Entry {
            unit_id: Some(school_id),
            entity: "parent_school_settings",
            entity_id: Some(format!("{school_id}/{school_year_id}")),
            action: "update",
            before: None,
            after: serde_json::from_str(&json).ok(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Reading or changing a school's parent-school records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// The one row of `select_from` (a `SELECT … FROM …` with its table aliased) whose
/// `id_col` is `id`, when the caller may read or change the records of the school in
/// `school_col`; `NotFound` otherwise, exactly as for a row that does not exist.
pub(crate) async fn school_row<T: FromQueryResult, C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    access: Access,
    select_from: &str,
    id_col: &str,
    school_col: &str,
    id: i64,
) -> StoreResult<T> {
    let mut values: Vec<Value> = Vec::new();
    let cond = match access {
        Access::Read => scope.sql_school_visible(school_col, &mut values),
        Access::Write => scope.sql_school_writable(school_col, &mut values),
    };
    let p = bind(&mut values, id);
    rows::<T, _>(
        conn,
        format!("{select_from} WHERE {id_col} = {p} AND {cond}"),
        values,
    )
    .await?
    .into_iter()
    .next()
    .ok_or(StoreError::NotFound)
}

/// Runs `sql` with `values` and maps the rows.
pub(crate) async fn rows<T: FromQueryResult, C: ConnectionTrait>(
    conn: &C,
    sql: String,
    values: Vec<Value>,
) -> StoreResult<Vec<T>> {
    Ok(T::find_by_statement(Statement::from_sql_and_values(
        conn.get_database_backend(),
        sql,
        values,
    ))
    .all(conn)
    .await?)
}

/// Appends `v` to `values` and returns its placeholder.
pub(crate) fn bind(values: &mut Vec<Value>, v: impl Into<Value>) -> String {
    values.push(v.into());
    format!("${}", values.len())
}

/// The school a grade or class belongs to (today's tree), for routing a head teacher to
/// their school's pages; `None` above schools.
pub async fn school_of_unit(db: &crate::Db, unit_id: i64) -> StoreResult<Option<i64>> {
    let n = crate::db::scalar_i64(
        &db.conn,
        format!(
            "SELECT c.ancestor_id AS n FROM org_closure c JOIN org_unit u ON u.id = c.ancestor_id \
             WHERE c.descendant_id = $1 AND u.kind = 'school' AND {}",
            crate::org::in_force("c", &crate::org::today_sql())
        ),
        vec![unit_id.into()],
    )
    .await?;
    Ok((n > 0).then_some(n))
}

/// The names a printed page carries: the school's and the school year's.
pub async fn names(
    db: &crate::Db,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<(String, String)> {
    let school = crate::entities::org_unit::Entity::find_by_id(school_id)
        .one(&db.conn)
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    let year = crate::entities::school_year::Entity::find_by_id(school_year_id)
        .one(&db.conn)
        .await?
        .map(|y| y.name)
        .unwrap_or_default();
    Ok((school, year))
}

/// The storage key of an attachment of a school, for files the server itself embeds
/// (the seal on certificates).
pub async fn attachment_key(db: &crate::Db, school_id: i64, id: i64) -> StoreResult<String> {
    crate::entities::attachment::Entity::find_by_id(id)
        .one(&db.conn)
        .await?
        .filter(|a| a.school_id == school_id)
        .map(|a| a.storage_key)
        .ok_or(StoreError::NotFound)
}

/// Typed text as it is kept (`domain::text`: trimmed, length, no control or bidi
/// characters), or the rule's code as `Invalid`. Every write of the parent school
/// passes its text through here, so the API and the CLI get the same rules as the forms.
pub(crate) fn text(field: jiaxiao_domain::text::Field, s: &str) -> StoreResult<String> {
    jiaxiao_domain::text::clean(field, s).map_err(|e| StoreError::Invalid { code: e.code() })
}

/// [`text`] for an optional field: `None` when nothing is left.
pub(crate) fn text_opt(
    field: jiaxiao_domain::text::Field,
    s: Option<&str>,
) -> StoreResult<Option<String>> {
    jiaxiao_domain::text::clean_opt(field, s).map_err(|e| StoreError::Invalid { code: e.code() })
}

/// A required text field: [`text`], and `code` when nothing is left.
pub(crate) fn text_required(
    field: jiaxiao_domain::text::Field,
    s: &str,
    code: &'static str,
) -> StoreResult<String> {
    match text(field, s)? {
        t if t.is_empty() => Err(StoreError::Invalid { code }),
        t => Ok(t),
    }
}

/// Refuses an instant whose Beijing date falls outside `domain::text::YEARS`.
pub(crate) fn plausible_time(t: chrono::DateTime<chrono::Utc>) -> StoreResult<()> {
    use chrono::Datelike;
    let year = (t + chrono::Duration::hours(8)).year();
    if jiaxiao_domain::text::plausible_year(year) {
        Ok(())
    } else {
        Err(StoreError::Invalid { code: "bad_date" })
    }
}

/// Whether `id` is a row of `table` belonging to `school_id` (in its `school_id`
/// column). A foreign id and one that does not exist give the same answer, so a write
/// cannot learn which ids other schools have.
pub(crate) async fn belongs_to_school<C: ConnectionTrait>(
    conn: &C,
    table: &'static str,
    id: i64,
    school_id: i64,
) -> StoreResult<bool> {
    let n = crate::db::scalar_i64(
        conn,
        format!("SELECT COUNT(*) AS n FROM {table} WHERE id = $1 AND school_id = $2"),
        vec![id.into(), school_id.into()],
    )
    .await?;
    Ok(n > 0)
}

/// Whether staff member `staff_id` works at the school or a unit under it today.
pub(crate) async fn staff_at_school<C: ConnectionTrait>(
    conn: &C,
    staff_id: i64,
    school_id: i64,
) -> StoreResult<bool> {
    let n = crate::db::scalar_i64(
        conn,
        format!(
            "SELECT COUNT(*) AS n FROM staff st JOIN org_closure oc ON oc.descendant_id = st.unit_id \
             WHERE st.id = $1 AND oc.ancestor_id = $2 AND {}",
            crate::org::in_force("oc", &crate::org::today_sql())
        ),
        vec![staff_id.into(), school_id.into()],
    )
    .await?;
    Ok(n > 0)
}

/// Whether the caller may record parent-school work for the school (`NotFound`
/// otherwise): handlers ask this before reading a form, so a school out of reach is 404
/// whatever the body holds.
pub async fn check_writable(db: &crate::Db, scope: &Scope, school_id: i64) -> StoreResult<()> {
    writable_school(&db.conn, scope, school_id)
        .await
        .map(|_| ())
}

/// The one check every write into a school year passes (issue 10 item 11): a year whose
/// last day has passed is read-only for the school unless its admin has reopened it.
/// `Invalid { code: "year_closed" }` otherwise. The caller has checked the school.
pub(crate) async fn writable_year<C: ConnectionTrait>(
    conn: &C,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<()> {
    if year_open(conn, school_id, school_year_id).await? {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            code: "year_closed",
        })
    }
}

/// Whether the school may write into the year: it has not ended, or the school has
/// reopened it. A year not on file (`-1`, nothing written yet) is today's: open.
pub async fn year_open<C: ConnectionTrait>(
    conn: &C,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<bool> {
    let Some(y) = crate::entities::school_year::Entity::find_by_id(school_year_id)
        .one(conn)
        .await?
    else {
        return Ok(true);
    };
    if !crate::org::year_is_past(&y) {
        return Ok(true);
    }
    Ok(
        crate::entities::school_year_reopened::Entity::find_by_id((school_id, school_year_id))
            .one(conn)
            .await?
            .is_some(),
    )
}

/// Reopens (`open`) or closes again, for one school, the past school year that `day`
/// falls in; only for those who manage the school (its admin, or an office above it).
/// Only a past year can be reopened or closed: the current one is always open. A year
/// not on file yet is made when it is reopened, so a school can record a year it
/// never used the system in.
pub async fn set_year_open(
    db: &crate::Db,
    scope: &Scope,
    school_id: i64,
    day: chrono::NaiveDate,
    open: bool,
) -> StoreResult<()> {
    use crate::entities::school_year_reopened as reopened;
    use sea_orm::{ActiveModelTrait, ModelTrait, Set};
    let txn = db.begin().await?;
    let school = crate::org::managed_unit(&txn, scope, school_id).await?;
    if school.kind != jiaxiao_domain::UnitKind::School.code() {
        return Err(StoreError::NotFound);
    }
    let (name, _, ends_on) = crate::org::school_year_of(day);
    if ends_on >= crate::today() {
        return Err(StoreError::Invalid {
            code: "year_not_past",
        });
    }
    let year = match crate::org::school_year_named(&txn, &name).await? {
        Some(y) => y,
        // Closing a year never reopened: nothing to do.
        None if !open => return Ok(()),
        None => {
            let id = crate::org::ensure_school_year(&txn, day).await?;
            crate::entities::school_year::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or(StoreError::NotFound)?
        }
    };
    let school_year_id = year.id;
    let row = reopened::Entity::find_by_id((school_id, school_year_id))
        .one(&txn)
        .await?;
    let was_open = row.is_some();
    match (row, open) {
        (None, true) => {
            reopened::ActiveModel {
                school_id: Set(school_id),
                school_year_id: Set(school_year_id),
                reopened_by: Set(scope.user_id()),
                reopened_at: Set(chrono::Utc::now()),
            }
            .insert(&txn)
            .await?;
        }
        (Some(r), false) => {
            r.delete(&txn).await?;
        }
        // Already as asked: nothing to write or to audit.
        _ => return Ok(()),
    }
    crate::audit::record(
        &txn,
        scope,
        crate::audit::Entry {
            unit_id: Some(school_id),
            entity: "school_year_reopened",
            entity_id: Some(format!("{school_id}/{school_year_id}")),
            action: if open { "reopen" } else { "close" },
            before: Some(serde_json::json!({"year": year.name, "open": was_open})),
            after: Some(serde_json::json!({"year": year.name, "open": open})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
