//! The organisation tree: nodes, the effective-dated closure table, school years.
//! A move closes the closure rows of the old path and opens new ones on its date, so a
//! question "as of" a past date walks the tree as it was.

use chrono::Utc;
use jiaxiao_domain::{SchoolType, UnitKind};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, FromQueryResult, Set, Statement, Value,
};
use serde::Serialize;

use crate::audit::{self, Entry};
use crate::entities::{org_unit, school_year};
use crate::{Db, OPEN_END, Scope, StoreError, StoreResult};

/// Units exist "since always" unless moved: creation does not date them, moves do.
pub const BEGINNING: &str = "0000-01-01";

#[derive(Debug, Clone)]
pub struct NewUnit {
    pub parent_id: Option<i64>,
    pub kind: UnitKind,
    pub name: String,
    pub code: Option<String>,
    pub school_type: Option<SchoolType>,
    pub grade_level: Option<i32>,
    pub class_number: Option<i32>,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct UnitRow {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub kind: String,
    pub name: String,
    pub code: Option<String>,
    pub school_type: Option<String>,
    pub grade_level: Option<i32>,
    pub class_number: Option<i32>,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct ChildRow {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub school_type: Option<String>,
    pub children: i64,
}

/// Inserts a node and its closure rows without checks or audit: for the bulk paths
/// (demo, roster import) that have already checked the scope once.
pub async fn insert_unit<C: ConnectionTrait>(conn: &C, u: &NewUnit) -> StoreResult<i64> {
    let model = org_unit::ActiveModel {
        parent_id: Set(u.parent_id),
        kind: Set(u.kind.code().to_owned()),
        name: Set(u.name.clone()),
        code: Set(u.code.clone()),
        school_type: Set(u.school_type.map(|t| t.code().to_owned())),
        grade_level: Set(u.grade_level),
        class_number: Set(u.class_number),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let id = model.id;
    let backend = conn.get_database_backend();
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        "INSERT INTO org_closure (ancestor_id, descendant_id, depth, valid_from, valid_to) VALUES ($1, $1, 0, $2, $3)",
        [id.into(), BEGINNING.into(), OPEN_END.into()],
    ))
    .await?;
    if let Some(parent) = u.parent_id {
        conn.execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO org_closure (ancestor_id, descendant_id, depth, valid_from, valid_to) \
             SELECT ancestor_id, $1, depth + 1, $2, $3 FROM org_closure WHERE descendant_id = $4 AND valid_to = $3",
            [id.into(), BEGINNING.into(), OPEN_END.into(), parent.into()],
        ))
        .await?;
    }
    Ok(id)
}

/// Creates a node under a parent the caller manages; the kind must fit the parent.
pub async fn create_unit(db: &Db, scope: &Scope, u: NewUnit) -> StoreResult<i64> {
    let txn = db.begin().await?;
    match u.parent_id {
        Some(p) => {
            let parent = managed_unit(&txn, scope, p).await?;
            let pk = UnitKind::from_code(&parent.kind)
                .ok_or(StoreError::Invalid { code: "bad_kind" })?;
            if pk.child() != Some(u.kind) {
                return Err(StoreError::Invalid {
                    code: "kind_not_allowed_here",
                });
            }
        }
        None if scope.is_system() && u.kind == UnitKind::Province => {}
        None => return Err(StoreError::NotFound),
    }
    let id = insert_unit(&txn, &u).await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(id),
            entity: "org_unit",
            entity_id: Some(id.to_string()),
            action: "create",
            before: None,
            after: Some(serde_json::json!({"name": u.name, "kind": u.kind.code(), "parent_id": u.parent_id})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// What a new node's form (the tree page's, the API's) gives: a name for a province,
/// city, county or school, a number for a grade (its level) or a class, a school type
/// for a school, an optional code.
#[derive(Debug, Clone, Default)]
pub struct ChildInput {
    pub name: String,
    pub code: String,
    pub school_type: String,
    pub number: Option<i32>,
}

/// Adds a node under `parent_id` from what was typed: the kind is the one the parent's
/// kind takes; grades and classes are named from their number (三年级, 三年级(2)班).
/// A parent the caller cannot see is `NotFound` whatever was typed.
pub async fn add_child(db: &Db, scope: &Scope, parent_id: i64, c: ChildInput) -> StoreResult<i64> {
    let invalid = |code| StoreError::Invalid { code };
    let parent = get_unit(db, scope, parent_id).await?;
    let kind = UnitKind::from_code(&parent.kind)
        .and_then(|k| k.child())
        .ok_or(StoreError::NotFound)?;
    let (name, grade_level, class_number) = match kind {
        UnitKind::Grade => {
            let l = c.number.ok_or(invalid("bad_grade"))?;
            (jiaxiao_domain::org::grade_name(l), Some(l), None)
        }
        UnitKind::Class => {
            let n = c
                .number
                .filter(|n| (1..=99).contains(n))
                .ok_or(invalid("bad_class"))?;
            let grade = parent
                .grade_level
                .map(jiaxiao_domain::org::grade_name)
                .unwrap_or_default();
            (
                format!("{grade}{}", jiaxiao_domain::org::class_name(n)),
                parent.grade_level,
                Some(n),
            )
        }
        _ => (
            jiaxiao_domain::text::clean(jiaxiao_domain::text::Field::Name, &c.name)
                .map_err(|e| invalid(e.code()))?,
            None,
            None,
        ),
    };
    if name.is_empty() {
        return Err(invalid("missing_name"));
    }
    let school_type = (kind == UnitKind::School)
        .then(|| SchoolType::from_code(c.school_type.trim()))
        .flatten();
    if kind == UnitKind::School && school_type.is_none() {
        return Err(invalid("bad_school_type"));
    }
    let code = Some(c.code.trim().to_owned()).filter(|c| !c.is_empty());
    create_unit(
        db,
        scope,
        NewUnit {
            parent_id: Some(parent_id),
            kind,
            name,
            code,
            school_type,
            grade_level,
            class_number,
        },
    )
    .await
}

/// Renames a node the caller manages (a grade or class keeps the name its number
/// gives). Audited with the old and new name.
pub async fn rename_unit(db: &Db, scope: &Scope, id: i64, name: &str) -> StoreResult<()> {
    use sea_orm::{ActiveModelTrait, Set};
    let name = jiaxiao_domain::text::clean(jiaxiao_domain::text::Field::Name, name)
        .map_err(|e| StoreError::Invalid { code: e.code() })?;
    if name.is_empty() {
        return Err(StoreError::Invalid {
            code: "missing_name",
        });
    }
    let txn = db.begin().await?;
    let m = managed_unit(&txn, scope, id).await?;
    if matches!(
        UnitKind::from_code(&m.kind),
        Some(UnitKind::Grade | UnitKind::Class)
    ) {
        return Err(StoreError::Invalid {
            code: "named_by_number",
        });
    }
    if m.name == name {
        return Ok(());
    }
    let before = m.name.clone();
    org_unit::ActiveModel {
        id: Set(id),
        name: Set(name.clone()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(id),
            entity: "org_unit",
            entity_id: Some(id.to_string()),
            action: "rename",
            before: Some(serde_json::json!({ "name": before })),
            after: Some(serde_json::json!({ "name": name })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A unit's columns, its parent as the tree stands on `as_of`: `org_unit.parent_id`
/// already holds the parent of a move dated later (issue 10: a pending move is not in
/// force). The date is a parsed `NaiveDate`, formatted here, never caller text.
fn unit_cols(as_of: chrono::NaiveDate) -> String {
    format!(
        "u.id, COALESCE((SELECT p.ancestor_id FROM org_closure p WHERE p.descendant_id = u.id AND p.depth = 1 \
           AND p.valid_from <= '{d}' AND p.valid_to > '{d}'), u.parent_id) AS parent_id, \
         u.kind, u.name, u.code, u.school_type, u.grade_level, u.class_number",
        d = as_of.format("%Y-%m-%d")
    )
}

/// Today's date (Beijing) as a date.
pub fn today_naive() -> chrono::NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// The closure rows `alias` in force on `day`, SQL text of a `YYYY-MM-DD` value (a
/// placeholder, [`day_sql`] or [`beijing_day_sql`]). Every read within a school walks the
/// tree through this: picking rows by `valid_to = OPEN_END` would read the tree as it
/// will be after every pending move — a class moving next month counted in its new
/// school today (issue 10).
pub fn in_force(alias: &str, day: &str) -> String {
    format!("{alias}.valid_from <= {day} AND {alias}.valid_to > {day}")
}

/// A date as an SQL literal: formatted from a parsed date, never caller text.
pub fn day_sql(d: chrono::NaiveDate) -> String {
    format!("'{}'", d.format("%Y-%m-%d"))
}

/// Today's date (Beijing) as an SQL literal, for reads about now.
pub fn today_sql() -> String {
    day_sql(today_naive())
}

/// The Beijing calendar day of timestamp column `ts` as `YYYY-MM-DD` text, so that a
/// session's invitations follow the tree on the session's own date.
pub fn beijing_day_sql(backend: sea_orm::DbBackend, ts: &str) -> String {
    match backend {
        sea_orm::DbBackend::Postgres => {
            format!("to_char(({ts} AT TIME ZONE 'UTC') + INTERVAL '8 hours', 'YYYY-MM-DD')")
        }
        _ => format!("date({ts}, '+8 hours')"),
    }
}

/// The day reads of a school year's records look at the tree on: today while the year
/// runs, its last day once it is over (last year's ledger shows the school as it ended
/// that year, not after this summer's moves), its first day before it begins.
pub async fn year_day<C: ConnectionTrait>(
    conn: &C,
    school_year_id: i64,
) -> StoreResult<chrono::NaiveDate> {
    let today = today_naive();
    let Some(y) = school_year::Entity::find_by_id(school_year_id)
        .one(conn)
        .await?
    else {
        return Ok(today);
    };
    let (Ok(from), Ok(to)) = (parse_day(&y.starts_on), parse_day(&y.ends_on)) else {
        return Ok(today);
    };
    Ok(today.clamp(from, to.max(from)))
}

/// A `YYYY-MM-DD` date, or `Invalid(bad_date)`.
pub fn parse_day(s: &str) -> StoreResult<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| StoreError::Invalid { code: "bad_date" })
}

async fn unit_where<C: ConnectionTrait>(
    conn: &C,
    cond: String,
    mut values: Vec<Value>,
    id: i64,
) -> StoreResult<UnitRow> {
    values.push(id.into());
    let sql = format!(
        "SELECT {} FROM org_unit u WHERE u.id = ${} AND {cond}",
        unit_cols(today_naive()),
        values.len()
    );
    UnitRow::find_by_statement(Statement::from_sql_and_values(
        conn.get_database_backend(),
        sql,
        values,
    ))
    .one(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// A node the caller may read; anything else is `NotFound`.
pub async fn get_unit(db: &Db, scope: &Scope, id: i64) -> StoreResult<UnitRow> {
    let mut values = Vec::new();
    let cond = scope.sql_in_subtree("u.id", &mut values);
    unit_where(&db.conn, cond, values, id).await
}

pub(crate) async fn managed_unit<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i64,
) -> StoreResult<UnitRow> {
    let mut values = Vec::new();
    let cond = scope.sql_in_managed_subtree("u.id", &mut values);
    unit_where(conn, cond, values, id).await
}

/// Whether the caller may change `id` (and its subtree).
pub async fn manages(db: &Db, scope: &Scope, id: i64) -> StoreResult<bool> {
    match managed_unit(&db.conn, scope, id).await {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The nodes where the caller's roles are granted: the tops of what they can see.
pub async fn roots(db: &Db, scope: &Scope) -> StoreResult<Vec<UnitRow>> {
    let backend = db.db_backend();
    if scope.is_system() {
        let sql = format!(
            "SELECT {} FROM org_unit u WHERE u.parent_id IS NULL ORDER BY u.id",
            unit_cols(today_naive())
        );
        return Ok(
            UnitRow::find_by_statement(Statement::from_string(backend, sql))
                .all(&db.conn)
                .await?,
        );
    }
    let ids = scope.read_roots();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ph: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {} FROM org_unit u WHERE u.id IN ({}) ORDER BY u.id",
        unit_cols(today_naive()),
        ph.join(",")
    );
    let values: Vec<Value> = ids.into_iter().map(Into::into).collect();
    Ok(
        UnitRow::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
            .all(&db.conn)
            .await?,
    )
}

/// Direct children of a node the caller may read as the tree stands on `as_of`, with
/// how many children each has then.
pub async fn children(
    db: &Db,
    scope: &Scope,
    id: i64,
    as_of: chrono::NaiveDate,
) -> StoreResult<Vec<ChildRow>> {
    get_unit(db, scope, id).await?;
    let d = as_of.format("%Y-%m-%d").to_string();
    let sql = "SELECT u.id, u.kind, u.name, u.school_type, \
               (SELECT COUNT(*) FROM org_closure k WHERE k.ancestor_id = u.id AND k.depth = 1 \
                  AND k.valid_from <= $2 AND k.valid_to > $2) AS children \
               FROM org_unit u JOIN org_closure c ON c.descendant_id = u.id \
               WHERE c.ancestor_id = $1 AND c.depth = 1 AND c.valid_from <= $2 AND c.valid_to > $2 \
               ORDER BY u.kind, u.grade_level, u.class_number, u.name, u.id";
    Ok(ChildRow::find_by_statement(Statement::from_sql_and_values(
        db.db_backend(),
        sql,
        [id.into(), d.into()],
    ))
    .all(&db.conn)
    .await?)
}

/// The path from the top of the caller's reach down to the node as the tree stands on
/// `as_of`, for breadcrumbs.
pub async fn path(
    db: &Db,
    scope: &Scope,
    id: i64,
    as_of: chrono::NaiveDate,
) -> StoreResult<Vec<UnitRow>> {
    get_unit(db, scope, id).await?;
    let mut values: Vec<Value> = vec![id.into(), as_of.format("%Y-%m-%d").to_string().into()];
    let cond = scope.sql_in_subtree("u.id", &mut values);
    let sql = format!(
        "SELECT {} FROM org_unit u JOIN org_closure c ON c.ancestor_id = u.id \
         WHERE c.descendant_id = $1 AND c.valid_from <= $2 AND c.valid_to > $2 AND {cond} ORDER BY c.depth DESC",
        unit_cols(as_of)
    );
    Ok(
        UnitRow::find_by_statement(Statement::from_sql_and_values(db.db_backend(), sql, values))
            .all(&db.conn)
            .await?,
    )
}

/// A move on file that is not yet in force on the date asked about.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct PendingMove {
    pub unit_id: i64,
    pub unit_name: String,
    pub from_id: Option<i64>,
    pub from_name: Option<String>,
    pub to_id: i64,
    pub to_name: String,
    /// `YYYY-MM-DD`, the first day under the new parent.
    pub effective: String,
}

/// Moves dated after `as_of` of the node itself, of its children, or into it: shown as
/// pending on the tree, not applied.
pub async fn pending_moves(
    db: &Db,
    scope: &Scope,
    id: i64,
    as_of: chrono::NaiveDate,
) -> StoreResult<Vec<PendingMove>> {
    get_unit(db, scope, id).await?;
    let d = as_of.format("%Y-%m-%d").to_string();
    let sql = "SELECT u.id AS unit_id, u.name AS unit_name, o.ancestor_id AS from_id, f.name AS from_name, \
                 n.ancestor_id AS to_id, t.name AS to_name, n.valid_from AS effective \
               FROM org_closure n JOIN org_unit u ON u.id = n.descendant_id JOIN org_unit t ON t.id = n.ancestor_id \
               LEFT JOIN org_closure o ON o.descendant_id = n.descendant_id AND o.depth = 1 AND o.valid_to = n.valid_from \
               LEFT JOIN org_unit f ON f.id = o.ancestor_id \
               WHERE n.depth = 1 AND n.valid_from > $2 \
                 AND (n.descendant_id = $1 OR n.ancestor_id = $1 OR o.ancestor_id = $1) \
               ORDER BY n.valid_from, u.name";
    Ok(
        PendingMove::find_by_statement(Statement::from_sql_and_values(
            db.db_backend(),
            sql,
            [id.into(), d.into()],
        ))
        .all(&db.conn)
        .await?,
    )
}

/// Nodes of one kind under `ancestor` as the tree stood on `as_of` (YYYY-MM-DD).
pub async fn units_under(
    db: &Db,
    scope: &Scope,
    ancestor: i64,
    kind: UnitKind,
    as_of: &str,
) -> StoreResult<Vec<UnitRow>> {
    get_unit(db, scope, ancestor).await?;
    let sql = format!(
        "SELECT {} FROM org_unit u JOIN org_closure c ON c.descendant_id = u.id \
         WHERE c.ancestor_id = $1 AND c.valid_from <= $2 AND c.valid_to > $2 AND u.kind = $3 ORDER BY u.name, u.id",
        unit_cols(parse_day(as_of)?)
    );
    Ok(UnitRow::find_by_statement(Statement::from_sql_and_values(
        db.db_backend(),
        sql,
        [ancestor.into(), as_of.into(), kind.code().into()],
    ))
    .all(&db.conn)
    .await?)
}

/// Moves a node (and its subtree) under a new parent from `effective` (YYYY-MM-DD) on.
/// The caller must manage both the node and the new parent.
pub async fn move_unit(
    db: &Db,
    scope: &Scope,
    id: i64,
    new_parent: i64,
    effective: &str,
) -> StoreResult<()> {
    if chrono::NaiveDate::parse_from_str(effective, "%Y-%m-%d").is_err() {
        return Err(StoreError::Invalid { code: "bad_date" });
    }
    let txn = db.begin().await?;
    let unit = managed_unit(&txn, scope, id).await?;
    let parent = managed_unit(&txn, scope, new_parent).await?;
    let (uk, pk) = (
        UnitKind::from_code(&unit.kind),
        UnitKind::from_code(&parent.kind),
    );
    if pk.and_then(|k| k.child()) != uk {
        return Err(StoreError::Invalid {
            code: "kind_not_allowed_here",
        });
    }
    let backend = txn.get_database_backend();
    // Later moves already on file would be cut in two; refuse rather than guess.
    let later = crate::db::scalar_i64(
        &txn,
        "SELECT COUNT(*) AS n FROM org_closure WHERE descendant_id = $1 AND valid_from > $2",
        Vec::<sea_orm::Value>::from([id.into(), effective.into()]),
    )
    .await?;
    if later > 0 {
        return Err(StoreError::Invalid {
            code: "later_move_exists",
        });
    }
    // Close the paths from the old strict ancestors into the subtree.
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        "UPDATE org_closure SET valid_to = $1 \
         WHERE valid_to = $2 AND depth > 0 \
           AND descendant_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $3 AND valid_to = $2) \
           AND ancestor_id NOT IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $3 AND valid_to = $2)",
        [effective.into(), OPEN_END.into(), id.into()],
    ))
    .await?;
    // A move on the same day as an earlier one leaves empty intervals: drop them.
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        "DELETE FROM org_closure WHERE valid_from >= valid_to",
        Vec::<Value>::new(),
    ))
    .await?;
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        "INSERT INTO org_closure (ancestor_id, descendant_id, depth, valid_from, valid_to) \
         SELECT a.ancestor_id, s.descendant_id, a.depth + s.depth + 1, $1, $2 \
         FROM org_closure a, org_closure s \
         WHERE a.descendant_id = $3 AND a.valid_to = $2 AND s.ancestor_id = $4 AND s.valid_to = $2",
        [
            effective.into(),
            OPEN_END.into(),
            new_parent.into(),
            id.into(),
        ],
    ))
    .await?;
    let mut am: org_unit::ActiveModel = org_unit::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?
        .into();
    am.parent_id = Set(Some(new_parent));
    am.update(&txn).await?;
    let old_parent_name = match unit.parent_id {
        Some(p) => org_unit::Entity::find_by_id(p)
            .one(&txn)
            .await?
            .map(|u| u.name),
        None => None,
    };
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(id),
            entity: "org_unit",
            entity_id: Some(id.to_string()),
            action: "move",
            // Names beside ids: an inspector reads "甲区 → 乙区", not two numbers.
            before: Some(serde_json::json!({
                "name": unit.name, "parent_id": unit.parent_id, "parent": old_parent_name
            })),
            after: Some(serde_json::json!({
                "name": unit.name, "parent_id": new_parent, "parent": parent.name, "effective": effective
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The school year a date falls in: 1 September to 31 August.
pub fn school_year_of(date: chrono::NaiveDate) -> (String, String, String) {
    use chrono::Datelike;
    let start = if date.month() >= 9 {
        date.year()
    } else {
        date.year() - 1
    };
    (
        format!("{}-{}学年", start, start + 1),
        format!("{start}-09-01"),
        format!("{}-08-31", start + 1),
    )
}

/// The id of the school year containing today, for read paths: `-1` (matching no
/// membership) when none has been created yet, so reading never writes.
pub async fn current_school_year<C: ConnectionTrait>(conn: &C) -> StoreResult<i64> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let (name, _, _) = school_year_of(today_date());
    Ok(school_year::Entity::find()
        .filter(school_year::Column::Name.eq(name))
        .one(conn)
        .await?
        .map(|y| y.id)
        .unwrap_or(-1))
}

/// The id of the school year containing `date`, created (and audited) on first use by
/// the paths that write class memberships.
pub async fn ensure_school_year<C: ConnectionTrait>(
    conn: &C,
    date: chrono::NaiveDate,
) -> StoreResult<i64> {
    let (name, starts, ends) = school_year_of(date);
    if let Some(y) = school_year::Entity::find()
        .filter_by_name(&name)
        .one(conn)
        .await?
    {
        return Ok(y.id);
    }
    let m = school_year::ActiveModel {
        name: Set(name),
        starts_on: Set(starts),
        ends_on: Set(ends),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    audit::record(
        conn,
        &Scope::system(),
        Entry {
            unit_id: None,
            entity: "school_year",
            entity_id: Some(m.id.to_string()),
            action: "create",
            before: None,
            after: Some(serde_json::json!({"name": m.name})),
        },
    )
    .await?;
    Ok(m.id)
}

/// The school years on file, newest first: the choices of the year selector.
pub async fn school_years<C: ConnectionTrait>(conn: &C) -> StoreResult<Vec<school_year::Model>> {
    use sea_orm::QueryOrder;
    Ok(school_year::Entity::find()
        .order_by_desc(school_year::Column::StartsOn)
        .all(conn)
        .await?)
}

/// The school year called `name` ("2025-2026学年"), if one is on file.
pub async fn school_year_named<C: ConnectionTrait>(
    conn: &C,
    name: &str,
) -> StoreResult<Option<school_year::Model>> {
    Ok(school_year::Entity::find()
        .filter_by_name(name)
        .one(conn)
        .await?)
}

/// The name of the school year with id `id`, if there is one.
pub async fn school_year_name<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> StoreResult<Option<String>> {
    Ok(school_year::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(|y| y.name))
}

/// A school year as links carry it (`?year=2025-2026`): its name without 学年.
pub fn year_param(name: &str) -> &str {
    name.trim_end_matches("学年")
}

/// The school-year name a `?year=` value stands for: `2025-2026` (or the whole name),
/// two consecutive years within `domain::text::YEARS`; `None` for anything else.
pub fn year_name_of_param(param: &str) -> Option<String> {
    let p = param.trim();
    let (a, b) = p.trim_end_matches("学年").split_once('-')?;
    let ok = |s: &str| s.len() == 4 && s.bytes().all(|c| c.is_ascii_digit());
    if !ok(a) || !ok(b) {
        return None;
    }
    let (a, b): (i32, i32) = (a.parse().ok()?, b.parse().ok()?);
    (b == a + 1
        && jiaxiao_domain::text::plausible_year(a)
        && jiaxiao_domain::text::plausible_year(b))
    .then(|| format!("{a}-{b}学年"))
}

/// The first day of the school year called `name` ("2024-2025学年": 2024-09-01).
pub fn school_year_start(name: &str) -> Option<chrono::NaiveDate> {
    let first: i32 = name.get(..4)?.parse().ok()?;
    chrono::NaiveDate::from_ymd_opt(first, 9, 1)
}

/// Whether a school year is over: its last day lies before today (Beijing time). Past
/// years are read-only unless a school reopens them.
pub fn year_is_past(y: &school_year::Model) -> bool {
    y.ends_on.as_str() < crate::today().as_str()
}

trait ByName {
    fn filter_by_name(self, name: &str) -> Self;
}

impl ByName for sea_orm::Select<school_year::Entity> {
    fn filter_by_name(self, name: &str) -> Self {
        use sea_orm::{ColumnTrait, QueryFilter};
        self.filter(school_year::Column::Name.eq(name))
    }
}

pub fn today_date() -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(&crate::today(), "%Y-%m-%d").expect("today is a date")
}

/// A unit's id by its code (school codes), for the CLI.
pub async fn unit_id_by_code(db: &Db, code: &str) -> StoreResult<i64> {
    use sea_orm::{ColumnTrait, QueryFilter};
    org_unit::Entity::find()
        .filter(org_unit::Column::Code.eq(code))
        .one(&db.conn)
        .await?
        .map(|u| u.id)
        .ok_or(StoreError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_years_turn_in_september() {
        let d = |s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(school_year_of(d("2026-08-31")).0, "2025-2026学年");
        assert_eq!(school_year_of(d("2026-09-01")).0, "2026-2027学年");
    }

    #[test]
    fn year_parameters_name_two_consecutive_years() {
        assert_eq!(
            year_name_of_param("2024-2025").as_deref(),
            Some("2024-2025学年")
        );
        assert_eq!(
            year_name_of_param("2024-2025学年").as_deref(),
            Some("2024-2025学年")
        );
        assert_eq!(year_param("2024-2025学年"), "2024-2025");
        for bad in [
            "",
            "2024",
            "2024-2026",
            "1999-2000",
            "abcd-efgh",
            "+202-2025",
            "2024-2025x",
        ] {
            assert_eq!(year_name_of_param(bad), None, "{bad}");
        }
    }
}
