//! People in the tree: pupils (placed in a class per school year), their guardians,
//! and staff. Lists are paged with their total, by keyset when a page continues from the
//! one next to it (no rows skipped over, however deep; a page number jumped to is read by
//! offset), sortable by name (pinyin order) and searchable by name, full pinyin,
//! initials, phone or pupil number; every query is cut to the caller's scope in SQL.

use jiaxiao_domain::{Role, names};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, FromQueryResult, Set, Statement, Value,
};
use serde::Serialize;

use crate::audit::{self, Entry};
use crate::entities::staff;
use crate::parent_school::reach::Phones;
use crate::{Db, Scope, StoreError, StoreResult};

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct PupilRow {
    pub id: i64,
    pub student_no: String,
    pub name: String,
    pub gender: Option<String>,
    pub school_id: i64,
    pub school_name: String,
    pub class_id: Option<i64>,
    pub class_name: Option<String>,
    pub grade_name: Option<String>,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct GuardianRow {
    pub id: i64,
    pub name: String,
    pub phone: Option<String>,
    pub children: i64,
    pub has_account: bool,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct StaffRow {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub name: String,
    pub phone: Option<String>,
    pub position: Option<String>,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct GuardianLink {
    pub guardian_id: i64,
    pub name: String,
    pub phone: Option<String>,
    pub relation: String,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct ChildLink {
    pub pupil_id: i64,
    pub name: String,
    pub relation: String,
    pub school_name: String,
    pub class_name: Option<String>,
    pub grade_name: Option<String>,
}

/// A page request: optional search text, optional subtree, keyset cursor or offset, a
/// sort, and the filters a list offers (gender of pupils, account of guardians).
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub q: Option<String>,
    pub under: Option<i64>,
    pub after_id: Option<i64>,
    pub offset: u64,
    pub limit: u64,
    pub sort: Sort,
    /// Pupils: "m" or "f".
    pub gender: Option<String>,
    /// Guardians: with (true) or without (false) an account.
    pub has_account: Option<bool>,
    /// The page continues from a row of the one before or after it (keyset): no rows are
    /// skipped over, however deep the page. `offset` is ignored when set.
    pub cursor: Option<Cursor>,
}

/// A row a page continues from, by id: the page after it or the page before it in the
/// list's order. The row's sort key is read by the query itself, so a link carries only
/// the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    After(i64),
    Before(i64),
}

/// The order of a list. `Added` (by id) is the one the keyset cursor pages through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Added,
    /// By the name's pinyin, as a Chinese register sorts.
    Name { desc: bool },
    /// Pupils by student number, staff by unit.
    Code { desc: bool },
}

/// The most rows one read returns (an export's worth; a page asks for far fewer).
pub const MAX_ROWS: u64 = 20_000;

impl Sort {
    /// The sort key's columns on row alias `a`, `code` its code column; the id last, so
    /// that the order is total and a keyset can continue it.
    fn columns(self, a: &str, code: &str) -> Vec<String> {
        match self {
            Sort::Added => vec![format!("{a}.id")],
            Sort::Name { .. } => vec![
                format!("{a}.name_pinyin"),
                format!("{a}.name"),
                format!("{a}.id"),
            ],
            Sort::Code { .. } => vec![code.to_owned(), format!("{a}.id")],
        }
    }

    fn desc(self) -> bool {
        matches!(self, Sort::Name { desc: true } | Sort::Code { desc: true })
    }

    /// The ORDER BY of a list whose row alias is `a`, `code` its code column; `back`
    /// reverses it (a page read backwards from a cursor).
    fn order_by(self, a: &str, code: &str, back: bool) -> String {
        let dir = if self.desc() != back { "DESC" } else { "ASC" };
        self.columns(a, code)
            .iter()
            .map(|c| format!("{c} {dir}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The condition "after (or before) the cursor's row in this order". `from` is the
    /// list's FROM clause with the same aliases: the cursor row's key is read through it
    /// in a subquery, whose aliases shadow the outer ones.
    fn keyset(
        self,
        a: &str,
        code: &str,
        from: &str,
        cursor: Cursor,
        values: &mut Vec<Value>,
    ) -> String {
        let (id, back) = match cursor {
            Cursor::After(id) => (id, false),
            Cursor::Before(id) => (id, true),
        };
        let op = if self.desc() != back { "<" } else { ">" };
        values.push(id.into());
        let n = values.len();
        let cols = self.columns(a, code);
        if cols.len() == 1 {
            return format!("{a}.id {op} ${n}");
        }
        let cols = cols.join(", ");
        format!("({cols}) {op} (SELECT {cols} FROM {from} WHERE {a}.id = ${n})")
    }
}

/// A list's page: the ORDER BY, the keyset condition (when a cursor is given) and whether
/// the rows come back reversed (a page before the cursor is read backwards).
fn page_order(
    query: &Query,
    a: &str,
    code: &str,
    from: &str,
    values: &mut Vec<Value>,
) -> (String, Option<String>, bool) {
    let back = matches!(query.cursor, Some(Cursor::Before(_)));
    let cond = query
        .cursor
        .map(|c| query.sort.keyset(a, code, from, c, values));
    (query.sort.order_by(a, code, back), cond, back)
}

/// "Pupil visible to the caller": at a school in their subtree, or, for head
/// teachers granted at a class, in that class this year.
fn pupil_visible(scope: &Scope, values: &mut Vec<Value>) -> String {
    let by_school = scope.sql_in_subtree("p.school_id", values);
    if scope.has_role(Role::HeadTeacher) {
        let by_class = scope.sql_in_subtree("cm0.class_id", values);
        format!(
            "({by_school} OR p.id IN (SELECT cm0.pupil_id FROM class_membership cm0 WHERE {by_class}))"
        )
    } else {
        by_school
    }
}

/// "Pupil `alias` is under node `under`": by school for a school or anything above it (one
/// indexed join on the closure table), by this year's class for a grade or a class. One
/// plain condition, not an OR of both, keeps the planners of both databases on an index.
async fn pupils_under(
    db: &Db,
    alias: &str,
    under: i64,
    year: i64,
    values: &mut Vec<Value>,
) -> StoreResult<String> {
    let kind = crate::entities::org_unit::Entity::find_by_id(under)
        .one(&db.conn)
        .await?
        .map(|u| u.kind)
        .unwrap_or_default();
    values.push(under.into());
    let u = values.len();
    values.push(crate::today().into());
    let d = values.len();
    let subtree = format!(
        "SELECT descendant_id FROM org_closure WHERE ancestor_id = ${u} AND valid_from <= ${d} AND valid_to > ${d}"
    );
    if kind == jiaxiao_domain::UnitKind::Grade.code()
        || kind == jiaxiao_domain::UnitKind::Class.code()
    {
        values.push(year.into());
        let y = values.len();
        Ok(format!(
            "{alias}.id IN (SELECT cm_u.pupil_id FROM class_membership cm_u WHERE cm_u.school_year_id = ${y} AND cm_u.class_id IN ({subtree}))"
        ))
    } else {
        Ok(format!("{alias}.school_id IN ({subtree})"))
    }
}

pub(crate) fn like_conditions(
    raw: &str,
    cols: &[&str],
    exact: &[&str],
    values: &mut Vec<Value>,
) -> String {
    let q = raw.trim().to_lowercase();
    let mut parts = Vec::new();
    values.push(format!("%{}%", q.replace(['%', '_'], "")).into());
    let contains = values.len();
    // Pinyin typed with spaces between syllables ("wang xiao ming") meets the stored keys.
    let key = jiaxiao_domain::names::query_key(&q);
    values.push(format!("{}%", key.replace(['%', '_'], "")).into());
    let prefix = values.len();
    for (i, c) in cols.iter().enumerate() {
        // The name itself matches anywhere; pinyin keys match from the start.
        let p = if i == 0 { contains } else { prefix };
        parts.push(format!("{c} LIKE ${p}"));
    }
    for c in exact {
        values.push(raw.trim().to_owned().into());
        parts.push(format!("{c} = ${}", values.len()));
    }
    format!("({})", parts.join(" OR "))
}

fn limit_of(q: &Query) -> i64 {
    q.limit.clamp(1, MAX_ROWS) as i64
}

/// `LIMIT … OFFSET …` of a page, bound as values (no offset after a cursor).
fn page_of(q: &Query, values: &mut Vec<Value>) -> String {
    values.push(limit_of(q).into());
    let l = values.len();
    let offset = if q.cursor.is_some() { 0 } else { q.offset };
    values.push((offset.min(i64::MAX as u64) as i64).into());
    format!("LIMIT ${l} OFFSET ${}", values.len())
}

/// The conditions on `pupil p` of a pupils query.
async fn pupil_conds(
    db: &Db,
    scope: &Scope,
    query: &Query,
    year: i64,
    values: &mut Vec<Value>,
) -> StoreResult<String> {
    let mut conds = vec![pupil_visible(scope, values)];
    if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let mut c = like_conditions(
            q,
            &["p.name", "p.name_pinyin", "p.name_initials"],
            &["p.student_no"],
            values,
        );
        // A parent's whole mobile number finds their children (the search box says so);
        // within the caller's reach like every other condition here.
        if let Ok(phone) = jiaxiao_domain::PhoneNumber::parse(q) {
            values.push(phone.as_str().to_owned().into());
            c = format!(
                "({c} OR p.id IN (SELECT gs_q.pupil_id FROM guardianship gs_q \
                 JOIN guardian g_q ON g_q.id = gs_q.guardian_id WHERE g_q.phone = ${}))",
                values.len()
            );
        }
        conds.push(c);
    }
    if let Some(under) = query.under {
        conds.push(pupils_under(db, "p", under, year, values).await?);
    }
    if let Some(g) = query.gender.as_deref() {
        values.push(g.to_owned().into());
        conds.push(format!("p.gender = ${}", values.len()));
    }
    if let Some(after) = query.after_id {
        values.push(after.into());
        conds.push(format!("p.id > ${}", values.len()));
    }
    Ok(conds.join(" AND "))
}

/// Pupils, with their class in the current school year.
pub async fn list_pupils(db: &Db, scope: &Scope, query: &Query) -> StoreResult<Vec<PupilRow>> {
    let year = crate::org::current_school_year(&db.conn).await?;
    let mut values: Vec<Value> = Vec::new();
    let mut conds = pupil_conds(db, scope, query, year, &mut values).await?;
    let (inner, keyset, _) = page_order(query, "p", "p.student_no", "pupil p", &mut values);
    if let Some(k) = keyset {
        conds = format!("{conds} AND {k}");
    }
    let page = page_of(query, &mut values);
    values.push(year.into());
    let y = values.len();
    // The page is cut (backwards, before a cursor) inside; the outer order is the list's.
    let order = query.sort.order_by("p", "p.student_no", false);
    let sql = format!(
        "SELECT p.id, p.student_no, p.name, p.gender, p.school_id, s.name AS school_name, \
                cm.class_id, c.name AS class_name, g.name AS grade_name \
         FROM (SELECT p.id, p.student_no, p.name, p.name_pinyin, p.gender, p.school_id FROM pupil p \
               WHERE {conds} ORDER BY {inner} {page}) p \
         JOIN org_unit s ON s.id = p.school_id \
         LEFT JOIN class_membership cm ON cm.pupil_id = p.id AND cm.school_year_id = ${y} \
         LEFT JOIN org_unit c ON c.id = cm.class_id \
         LEFT JOIN org_unit g ON g.id = c.parent_id \
         ORDER BY {order}"
    );
    Ok(
        PupilRow::find_by_statement(Statement::from_sql_and_values(db.db_backend(), sql, values))
            .all(&db.conn)
            .await?,
    )
}

/// How many pupils a pupils query matches (its pages' total).
pub async fn count_pupils(db: &Db, scope: &Scope, query: &Query) -> StoreResult<u64> {
    let year = crate::org::current_school_year(&db.conn).await?;
    let mut values: Vec<Value> = Vec::new();
    let conds = pupil_conds(db, scope, query, year, &mut values).await?;
    let n = crate::db::scalar_i64(
        &db.conn,
        format!("SELECT COUNT(*) AS n FROM pupil p WHERE {conds}"),
        values,
    )
    .await?;
    Ok(n.max(0) as u64)
}

/// The conditions on `guardian g` of a guardians query.
async fn guardian_conds(
    db: &Db,
    scope: &Scope,
    query: &Query,
    values: &mut Vec<Value>,
) -> StoreResult<String> {
    let vis = pupil_visible(scope, values);
    let mut conds = vec![format!(
        "g.id IN (SELECT gs.guardian_id FROM guardianship gs JOIN pupil p ON p.id = gs.pupil_id WHERE {vis})"
    )];
    if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let digits: String = q.chars().filter(|c| c.is_ascii_digit()).collect();
        let mut c = like_conditions(
            q,
            &["g.name", "g.name_pinyin", "g.name_initials"],
            &[],
            values,
        );
        if digits.len() >= 4 {
            values.push(format!("%{digits}%").into());
            c = format!("({c} OR g.phone LIKE ${})", values.len());
        }
        conds.push(c);
    }
    if let Some(under) = query.under {
        let year = crate::org::current_school_year(&db.conn).await?;
        let cond = pupils_under(db, "p2", under, year, values).await?;
        conds.push(format!(
            "g.id IN (SELECT gs2.guardian_id FROM guardianship gs2 JOIN pupil p2 ON p2.id = gs2.pupil_id WHERE {cond})"
        ));
    }
    if let Some(has) = query.has_account {
        conds.push(format!(
            "{}EXISTS (SELECT 1 FROM user_account a2 WHERE a2.guardian_id = g.id AND a2.password_hash IS NOT NULL)",
            if has { "" } else { "NOT " }
        ));
    }
    if let Some(after) = query.after_id {
        values.push(after.into());
        conds.push(format!("g.id > ${}", values.len()));
    }
    Ok(conds.join(" AND "))
}

/// Guardians of pupils the caller can see.
pub async fn list_guardians(
    db: &Db,
    scope: &Scope,
    query: &Query,
) -> StoreResult<Vec<GuardianRow>> {
    let mut values: Vec<Value> = Vec::new();
    let mut conds = guardian_conds(db, scope, query, &mut values).await?;
    let (order, keyset, back) = page_order(query, "g", "g.name", "guardian g", &mut values);
    if let Some(k) = keyset {
        conds = format!("{conds} AND {k}");
    }
    // Only the children the caller can see are counted: a school's list says nothing of
    // a parent's children at other schools (the column reads "children here").
    let here = pupil_visible(scope, &mut values);
    let page = page_of(query, &mut values);
    let sql = format!(
        "SELECT g.id, g.name, g.phone, \
           (SELECT COUNT(*) FROM guardianship x JOIN pupil p ON p.id = x.pupil_id \
             WHERE x.guardian_id = g.id AND {here}) AS children, \
           EXISTS (SELECT 1 FROM user_account a WHERE a.guardian_id = g.id AND a.password_hash IS NOT NULL) AS has_account \
         FROM guardian g WHERE {conds} ORDER BY {order} {page}"
    );
    let phones = Phones::directory(scope);
    let mut rows = GuardianRow::find_by_statement(Statement::from_sql_and_values(
        db.db_backend(),
        sql,
        values,
    ))
    .all(&db.conn)
    .await?;
    for r in &mut rows {
        r.phone = phones.show(r.phone.take());
    }
    if back {
        rows.reverse();
    }
    Ok(rows)
}

/// How many guardians a guardians query matches.
pub async fn count_guardians(db: &Db, scope: &Scope, query: &Query) -> StoreResult<u64> {
    let mut values: Vec<Value> = Vec::new();
    let conds = guardian_conds(db, scope, query, &mut values).await?;
    let n = crate::db::scalar_i64(
        &db.conn,
        format!("SELECT COUNT(*) AS n FROM guardian g WHERE {conds}"),
        values,
    )
    .await?;
    Ok(n.max(0) as u64)
}

/// The conditions on `staff st` of a staff query.
fn staff_conds(scope: &Scope, query: &Query, values: &mut Vec<Value>) -> String {
    let mut conds = vec![scope.sql_in_subtree("st.unit_id", values)];
    if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
        conds.push(like_conditions(
            q,
            &["st.name", "st.name_pinyin", "st.name_initials"],
            &["st.phone"],
            values,
        ));
    }
    if let Some(under) = query.under {
        values.push(under.into());
        let u = values.len();
        values.push(crate::today().into());
        let d = values.len();
        conds.push(format!(
            "st.unit_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = ${u} AND valid_from <= ${d} AND valid_to > ${d})"
        ));
    }
    if let Some(after) = query.after_id {
        values.push(after.into());
        conds.push(format!("st.id > ${}", values.len()));
    }
    conds.join(" AND ")
}

pub async fn list_staff(db: &Db, scope: &Scope, query: &Query) -> StoreResult<Vec<StaffRow>> {
    let mut values: Vec<Value> = Vec::new();
    let mut conds = staff_conds(scope, query, &mut values);
    let from = "staff st JOIN org_unit u ON u.id = st.unit_id";
    let (order, keyset, back) = page_order(query, "st", "u.name", from, &mut values);
    if let Some(k) = keyset {
        conds = format!("{conds} AND {k}");
    }
    let page = page_of(query, &mut values);
    let sql = format!(
        "SELECT st.id, st.unit_id, u.name AS unit_name, st.name, st.phone, st.position \
         FROM staff st JOIN org_unit u ON u.id = st.unit_id WHERE {conds} ORDER BY {order} {page}"
    );
    let phones = Phones::directory(scope);
    let mut rows =
        StaffRow::find_by_statement(Statement::from_sql_and_values(db.db_backend(), sql, values))
            .all(&db.conn)
            .await?;
    for r in &mut rows {
        r.phone = phones.show(r.phone.take());
    }
    if back {
        rows.reverse();
    }
    Ok(rows)
}

/// How many staff a staff query matches.
pub async fn count_staff(db: &Db, scope: &Scope, query: &Query) -> StoreResult<u64> {
    let mut values: Vec<Value> = Vec::new();
    let conds = staff_conds(scope, query, &mut values);
    let n = crate::db::scalar_i64(
        &db.conn,
        format!("SELECT COUNT(*) AS n FROM staff st WHERE {conds}"),
        values,
    )
    .await?;
    Ok(n.max(0) as u64)
}

/// One pupil the caller can see, with their guardians.
pub async fn get_pupil(
    db: &Db,
    scope: &Scope,
    id: i64,
) -> StoreResult<(PupilRow, Vec<GuardianLink>)> {
    let year = crate::org::current_school_year(&db.conn).await?;
    let mut values: Vec<Value> = Vec::new();
    let vis = pupil_visible(scope, &mut values);
    values.push(id.into());
    let i = values.len();
    values.push(year.into());
    let y = values.len();
    let sql = format!(
        "SELECT p.id, p.student_no, p.name, p.gender, p.school_id, s.name AS school_name, \
                cm.class_id, c.name AS class_name, g.name AS grade_name \
         FROM pupil p JOIN org_unit s ON s.id = p.school_id \
         LEFT JOIN class_membership cm ON cm.pupil_id = p.id AND cm.school_year_id = ${y} \
         LEFT JOIN org_unit c ON c.id = cm.class_id LEFT JOIN org_unit g ON g.id = c.parent_id \
         WHERE p.id = ${i} AND {vis}"
    );
    let backend = db.db_backend();
    let pupil = PupilRow::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut guardians = GuardianLink::find_by_statement(Statement::from_sql_and_values(
        backend,
        "SELECT g.id AS guardian_id, g.name, g.phone, gs.relation FROM guardianship gs JOIN guardian g ON g.id = gs.guardian_id \
         WHERE gs.pupil_id = $1 ORDER BY g.id",
        [id.into()],
    ))
    .all(&db.conn)
    .await?;
    let phones = Phones::directory(scope);
    for g in &mut guardians {
        g.phone = phones.show(g.phone.take());
    }
    Ok((pupil, guardians))
}

/// The children of a guardian, as the guardian (parent scope) or staff who can see
/// at least one of them; children outside the caller's scope are left out.
pub async fn children_of(db: &Db, scope: &Scope, guardian_id: i64) -> StoreResult<Vec<ChildLink>> {
    let year = crate::org::current_school_year(&db.conn).await?;
    let mut values: Vec<Value> = vec![guardian_id.into(), year.into()];
    let vis = if scope.guardian_id() == Some(guardian_id) {
        "1=1".to_owned()
    } else {
        pupil_visible(scope, &mut values)
    };
    let sql = format!(
        "SELECT p.id AS pupil_id, p.name, gs.relation, s.name AS school_name, c.name AS class_name, g.name AS grade_name \
         FROM guardianship gs JOIN pupil p ON p.id = gs.pupil_id JOIN org_unit s ON s.id = p.school_id \
         LEFT JOIN class_membership cm ON cm.pupil_id = p.id AND cm.school_year_id = $2 \
         LEFT JOIN org_unit c ON c.id = cm.class_id LEFT JOIN org_unit g ON g.id = c.parent_id \
         WHERE gs.guardian_id = $1 AND {vis} ORDER BY p.id"
    );
    let rows =
        ChildLink::find_by_statement(Statement::from_sql_and_values(db.db_backend(), sql, values))
            .all(&db.conn)
            .await?;
    if rows.is_empty() {
        return Err(StoreError::NotFound);
    }
    Ok(rows)
}

#[derive(Debug, Clone)]
pub struct NewStaff {
    pub unit_id: i64,
    pub name: String,
    pub phone: Option<String>,
    pub position: Option<String>,
}

pub async fn insert_staff<C: ConnectionTrait>(conn: &C, s: &NewStaff) -> StoreResult<i64> {
    Ok(staff::ActiveModel {
        unit_id: Set(s.unit_id),
        name: Set(s.name.clone()),
        name_pinyin: Set(names::full_pinyin(&s.name)),
        name_initials: Set(names::initials(&s.name)),
        phone: Set(s.phone.clone()),
        position: Set(s.position.clone()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?
    .id)
}

pub async fn create_staff(db: &Db, scope: &Scope, s: NewStaff) -> StoreResult<i64> {
    let txn = db.begin().await?;
    crate::org::managed_unit(&txn, scope, s.unit_id).await?;
    let id = insert_staff(&txn, &s).await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(s.unit_id),
            entity: "staff",
            entity_id: Some(id.to_string()),
            action: "create",
            before: None,
            after: Some(serde_json::json!({"position": s.position})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// A staff member as typed on the people page or sent to the API.
#[derive(Debug, Clone, Default)]
pub struct StaffInput {
    pub unit_id: i64,
    pub name: String,
    pub phone: String,
    pub position: String,
}

/// Adds a staff member from what was typed: the unit is checked before the body (a unit
/// out of reach is `NotFound` whatever was typed), then the name, the mobile number
/// (optional) and the position (`position_text` when it breaks the text rules, so the
/// message lands beside the position).
pub async fn add_staff(db: &Db, scope: &Scope, s: StaffInput) -> StoreResult<i64> {
    use jiaxiao_domain::text::{Field, clean, clean_opt};
    crate::org::managed_unit(&db.conn, scope, s.unit_id).await?;
    let name = clean(Field::Name, &s.name).map_err(|e| StoreError::Invalid { code: e.code() })?;
    if name.is_empty() {
        return Err(StoreError::Invalid {
            code: "missing_name",
        });
    }
    let phone = match s.phone.trim() {
        "" => None,
        p => Some(
            jiaxiao_domain::PhoneNumber::parse(p)
                .map_err(|e| StoreError::Invalid { code: e.code() })?
                .to_string(),
        ),
    };
    let position =
        clean_opt(Field::Line, Some(s.position.as_str())).map_err(|_| StoreError::Invalid {
            code: "position_text",
        })?;
    create_staff(
        db,
        scope,
        NewStaff {
            unit_id: s.unit_id,
            name,
            phone,
            position,
        },
    )
    .await
}

/// A guardian's name and phone, for a guardian the caller can see (through a child).
pub async fn get_guardian(
    db: &Db,
    scope: &Scope,
    id: i64,
) -> StoreResult<(GuardianRow, Vec<ChildLink>)> {
    let children = children_of(db, scope, id).await?;
    let mut g = GuardianRow::find_by_statement(Statement::from_sql_and_values(
        db.db_backend(),
        "SELECT g.id, g.name, g.phone, \
           (SELECT COUNT(*) FROM guardianship x WHERE x.guardian_id = g.id) AS children, \
           EXISTS (SELECT 1 FROM user_account a WHERE a.guardian_id = g.id AND a.password_hash IS NOT NULL) AS has_account \
         FROM guardian g WHERE g.id = $1",
        [id.into()],
    ))
    .one(&db.conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    g.phone = Phones::directory(scope).show(g.phone.take());
    Ok((g, children))
}
