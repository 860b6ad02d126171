//! The parent school's bodies (plan 1, 健全组织机构): the leadership group of staff and
//! the parent committees at school, grade and class level, each per school year, with
//! their members in named positions. Also the roster the ledger and the printed list
//! read.

use std::collections::HashMap;

use jiaxiao_domain::parent_school::{CommitteeKind, Position};
use sea_orm::ModelTrait;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, FromQueryResult, Set, Value};
use serde::Serialize;

use super::reach::Phones;
use super::{Access, bind, rows, school_row, visible_school, writable_school};
use crate::audit::{self, Entry};
use crate::entities::{committee, committee_member};
use crate::{Db, Scope, StoreError, StoreResult};

#[derive(Debug, Clone)]
pub struct NewCommittee {
    pub school_id: i64,
    /// The year the body serves; `None`: the current one (made if need be).
    pub school_year_id: Option<i64>,
    /// The school itself, one of its grades or one of its classes.
    pub unit_id: i64,
    pub kind: CommitteeKind,
    pub name: String,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct CommitteeRow {
    pub id: i64,
    pub school_id: i64,
    pub school_year_id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    /// `school`, `grade` or `class`: the level of the body.
    pub unit_kind: String,
    pub kind: String,
    pub name: String,
    pub members: i64,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct MemberRow {
    pub id: i64,
    pub committee_id: i64,
    pub position: String,
    pub staff_id: Option<i64>,
    pub guardian_id: Option<i64>,
    pub person_name: String,
    pub phone: Option<String>,
    pub note: Option<String>,
}

impl MemberRow {
    fn rank(&self) -> usize {
        Position::from_code(&self.position).map_or(99, Position::rank)
    }
}

#[derive(Debug, Clone)]
pub struct NewMember {
    pub position: Position,
    /// Set for the leadership group.
    pub staff_id: Option<i64>,
    /// Set for a parent committee.
    pub guardian_id: Option<i64>,
    pub note: Option<String>,
}

/// One body with its members in roster order, and for parents the children that make
/// them parents of this school (name and class in the body's year).
#[derive(Debug, Clone, Serialize)]
pub struct Body {
    pub committee: CommitteeRow,
    pub members: Vec<(MemberRow, Vec<ChildOf>)>,
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct ChildOf {
    pub guardian_id: i64,
    pub pupil_name: String,
    pub class_name: Option<String>,
}

/// One line of the printed roster and of the ledger's committee sheet.
#[derive(Debug, Clone, Serialize)]
pub struct CommitteeRosterLine {
    pub committee_id: i64,
    pub committee_name: String,
    /// The school's, grade's or class's name.
    pub level_name: String,
    /// `leadership` or `committee`.
    pub kind: String,
    /// A position code (`head`, `chair`, …).
    pub position: String,
    pub person_name: String,
    pub phone: Option<String>,
    pub note: Option<String>,
}

const COMMITTEE_COLS: &str = "c.id, c.school_id, c.school_year_id, c.unit_id, u.name AS unit_name, u.kind AS unit_kind, c.kind, c.name, \
     (SELECT COUNT(*) FROM committee_member m WHERE m.committee_id = c.id) AS members";

/// The leadership group first, then the bodies from the school down to its classes.
const COMMITTEE_ORDER: &str = "CASE c.kind WHEN 'leadership' THEN 0 ELSE 1 END, \
     CASE u.kind WHEN 'school' THEN 0 WHEN 'grade' THEN 1 ELSE 2 END, \
     COALESCE(u.grade_level, 0), COALESCE(u.class_number, 0), c.id";

pub async fn create_committee(db: &Db, scope: &Scope, c: NewCommittee) -> StoreResult<i64> {
    let txn = db.begin().await?;
    writable_school(&txn, scope, c.school_id).await?;
    let name = super::text_required(jiaxiao_domain::text::Field::Title, &c.name, "name_missing")?;
    let level = unit_level(&txn, c.school_id, c.unit_id)
        .await?
        .ok_or(StoreError::Invalid {
            code: "unit_outside_school",
        })?;
    // The leadership group answers for the whole parent school (plan 1); grades and
    // classes have parent committees only.
    if c.kind == CommitteeKind::Leadership && level != "school" {
        return Err(StoreError::Invalid {
            code: "leadership_at_school_only",
        });
    }
    let year = match c.school_year_id {
        Some(y) => y,
        None => crate::org::ensure_school_year(&txn, crate::org::today_date()).await?,
    };
    super::writable_year(&txn, c.school_id, year).await?;
    let m = committee::ActiveModel {
        school_id: Set(c.school_id),
        school_year_id: Set(year),
        unit_id: Set(c.unit_id),
        kind: Set(c.kind.code().into()),
        name: Set(name),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::note(&txn, scope, c.school_id, "committee", m.id, "create", Some(serde_json::json!({"name": m.name, "kind": m.kind, "unit_id": m.unit_id, "school_year_id": year}))).await?;
    txn.commit().await?;
    Ok(m.id)
}

/// The kind of `unit` when it is the school itself or one of its grades or classes today.
async fn unit_level<C: ConnectionTrait>(
    conn: &C,
    school_id: i64,
    unit_id: i64,
) -> StoreResult<Option<String>> {
    #[derive(FromQueryResult)]
    struct K {
        kind: String,
    }
    let sql = format!(
        "SELECT u.kind FROM org_closure oc JOIN org_unit u ON u.id = oc.descendant_id \
         WHERE oc.ancestor_id = $1 AND oc.descendant_id = $2 AND {} \
         AND u.kind IN ('school', 'grade', 'class')",
        crate::org::in_force("oc", &crate::org::today_sql())
    );
    Ok(
        rows::<K, _>(conn, sql, vec![school_id.into(), unit_id.into()])
            .await?
            .into_iter()
            .next()
            .map(|k| k.kind),
    )
}

/// The bodies of a school in a school year.
pub async fn list_committees(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Vec<CommitteeRow>> {
    // An unknown or foreign school is NotFound, not an empty list.
    visible_school(&db.conn, scope, school_id).await?;
    let mut values: Vec<Value> = Vec::new();
    let cond = body_visible(scope, &mut values);
    let s = bind(&mut values, school_id);
    let y = bind(&mut values, school_year_id);
    let sql = format!(
        "SELECT {COMMITTEE_COLS} FROM committee c JOIN org_unit u ON u.id = c.unit_id \
         WHERE c.school_id = {s} AND c.school_year_id = {y} AND {cond} ORDER BY {COMMITTEE_ORDER}"
    );
    rows(&db.conn, sql, values).await
}

/// "The body `c` is one the caller may read": its unit (school, grade or class) lies in
/// their subtree. A head teacher sees their class's committee, not the school's bodies,
/// whose members are parents of other classes.
fn body_visible(scope: &Scope, values: &mut Vec<Value>) -> String {
    scope.sql_in_subtree("c.unit_id", values)
}

async fn body_in_reach<C: ConnectionTrait>(conn: &C, scope: &Scope, id: i64) -> StoreResult<bool> {
    let mut values: Vec<Value> = Vec::new();
    let cond = body_visible(scope, &mut values);
    let p = bind(&mut values, id);
    let n = crate::db::scalar_i64(
        conn,
        format!("SELECT COUNT(*) AS n FROM committee c WHERE c.id = {p} AND {cond}"),
        values,
    )
    .await?;
    Ok(n > 0)
}

/// One body the caller may see.
pub async fn get_committee(db: &Db, scope: &Scope, id: i64) -> StoreResult<CommitteeRow> {
    committee_where(&db.conn, scope, id, false).await
}

async fn committee_where<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i64,
    write: bool,
) -> StoreResult<CommitteeRow> {
    let access = if write { Access::Write } else { Access::Read };
    let from =
        format!("SELECT {COMMITTEE_COLS} FROM committee c JOIN org_unit u ON u.id = c.unit_id");
    let row: CommitteeRow =
        school_row(conn, scope, access, &from, "c.id", "c.school_id", id).await?;
    if write {
        super::writable_year(conn, row.school_id, row.school_year_id).await?;
    }
    Ok(row)
}

const MEMBER_COLS: &str = "m.id, m.committee_id, m.position, m.staff_id, m.guardian_id, \
     COALESCE(st.name, g.name, '') AS person_name, COALESCE(st.phone, g.phone) AS phone, m.note";
const MEMBER_FROM: &str = "committee_member m JOIN committee c ON c.id = m.committee_id \
     LEFT JOIN staff st ON st.id = m.staff_id LEFT JOIN guardian g ON g.id = m.guardian_id";

/// The members of one body, by position (head or chair first), then in order of joining.
pub async fn members(db: &Db, scope: &Scope, committee_id: i64) -> StoreResult<Vec<MemberRow>> {
    let c = committee_where(&db.conn, scope, committee_id, false).await?;
    let mut values: Vec<Value> = Vec::new();
    let cond = body_visible(scope, &mut values);
    let p = bind(&mut values, committee_id);
    let sql = format!(
        "SELECT {MEMBER_COLS} FROM {MEMBER_FROM} WHERE m.committee_id = {p} AND {cond} ORDER BY m.id"
    );
    if !body_in_reach(&db.conn, scope, c.id).await? {
        return Err(StoreError::NotFound);
    }
    let mut out: Vec<MemberRow> = rows(&db.conn, sql, values).await?;
    let phones = Phones::of(&db.conn, scope, c.school_id).await?;
    for m in &mut out {
        m.phone = phones.show(m.phone.take());
    }
    out.sort_by_key(MemberRow::rank);
    Ok(out)
}

/// Adds a member: staff of this school to the leadership group, a parent of a child in
/// the body's school, grade or class (that year) to a parent committee.
pub async fn add_member(
    db: &Db,
    scope: &Scope,
    committee_id: i64,
    m: NewMember,
) -> StoreResult<i64> {
    let txn = db.begin().await?;
    let c = committee_where(&txn, scope, committee_id, true).await?;
    let kind = CommitteeKind::from_code(&c.kind).ok_or(StoreError::Invalid { code: "bad_kind" })?;
    if m.position.belongs_to() != kind {
        return Err(StoreError::Invalid {
            code: "position_not_in_body",
        });
    }
    match (kind, m.staff_id, m.guardian_id) {
        (CommitteeKind::Leadership, Some(st), None) => {
            if !super::staff_at_school(&txn, st, c.school_id).await? {
                return Err(StoreError::Invalid {
                    code: "staff_not_at_school",
                });
            }
        }
        (CommitteeKind::Committee, None, Some(g)) => {
            let n = if c.unit_kind == "school" {
                crate::db::scalar_i64(
                    &txn,
                    "SELECT COUNT(*) AS n FROM guardianship gs JOIN pupil p ON p.id = gs.pupil_id \
                     WHERE gs.guardian_id = $1 AND p.school_id = $2",
                    vec![g.into(), c.school_id.into()],
                )
                .await?
            } else {
                // A grade's or class's committee is made of that grade's or class's
                // parents, in the tree of the committee's year (`org::year_day`).
                let day = crate::org::day_sql(crate::org::year_day(&txn, c.school_year_id).await?);
                crate::db::scalar_i64(
                    &txn,
                    format!(
                        "SELECT COUNT(*) AS n FROM guardianship gs \
                         JOIN class_membership cm ON cm.pupil_id = gs.pupil_id AND cm.school_year_id = $3 \
                         JOIN org_closure oc ON oc.descendant_id = cm.class_id AND oc.ancestor_id = $2 AND {} \
                         WHERE gs.guardian_id = $1",
                        crate::org::in_force("oc", &day)
                    ),
                    vec![g.into(), c.unit_id.into(), c.school_year_id.into()],
                )
                .await?
            };
            if n == 0 {
                return Err(StoreError::Invalid {
                    code: "guardian_not_at_school",
                });
            }
        }
        _ => {
            return Err(StoreError::Invalid {
                code: "member_missing",
            });
        }
    }
    let existing = committee_member::Entity::find()
        .filter_committee(committee_id)
        .all(&txn)
        .await?;
    if existing
        .iter()
        .any(|e| e.staff_id.is_some() && e.staff_id == m.staff_id)
        || existing
            .iter()
            .any(|e| e.guardian_id.is_some() && e.guardian_id == m.guardian_id)
    {
        return Err(StoreError::Invalid {
            code: "already_member",
        });
    }
    if m.position.is_single() && existing.iter().any(|e| e.position == m.position.code()) {
        return Err(StoreError::Invalid {
            code: "position_taken",
        });
    }
    let note = super::text_opt(jiaxiao_domain::text::Field::Line, m.note.as_deref())?;
    let row = committee_member::ActiveModel {
        committee_id: Set(committee_id),
        position: Set(m.position.code().into()),
        staff_id: Set(m.staff_id),
        guardian_id: Set(m.guardian_id),
        note: Set(note),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::note(
        &txn,
        scope,
        c.school_id,
        "committee_member",
        row.id,
        "create",
        Some(serde_json::json!({
            "committee_id": committee_id,
            "position": row.position,
            "staff_id": row.staff_id,
            "guardian_id": row.guardian_id
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

trait ByCommittee {
    fn filter_committee(self, id: i64) -> Self;
}

impl ByCommittee for sea_orm::Select<committee_member::Entity> {
    fn filter_committee(self, id: i64) -> Self {
        use sea_orm::{ColumnTrait, QueryFilter};
        self.filter(committee_member::Column::CommitteeId.eq(id))
    }
}

/// Removes one member from a body.
pub async fn remove_member(db: &Db, scope: &Scope, member_id: i64) -> StoreResult<()> {
    let txn = db.begin().await?;
    let m = committee_member::Entity::find_by_id(member_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let c = committee_where(&txn, scope, m.committee_id, true).await?;
    let before = serde_json::json!({
        "committee_id": m.committee_id,
        "position": m.position,
        "staff_id": m.staff_id,
        "guardian_id": m.guardian_id
    });
    m.delete(&txn).await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(c.school_id),
            entity: "committee_member",
            entity_id: Some(member_id.to_string()),
            action: "delete",
            before: Some(before),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Dissolves a body created by mistake, with its members.
pub async fn delete_committee(db: &Db, scope: &Scope, id: i64) -> StoreResult<()> {
    let txn = db.begin().await?;
    let c = committee_where(&txn, scope, id, true).await?;
    let backend = txn.get_database_backend();
    txn.execute_raw(sea_orm::Statement::from_sql_and_values(
        backend,
        "DELETE FROM committee_member WHERE committee_id = $1",
        [id.into()],
    ))
    .await?;
    committee::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(c.school_id),
            entity: "committee",
            entity_id: Some(id.to_string()),
            action: "delete",
            before: Some(serde_json::json!({"name": c.name, "kind": c.kind, "members": c.members})),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Every body of a school in a year with its members in roster order: the printed
/// roster, one table per body.
pub async fn bodies(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Vec<Body>> {
    let committees = list_committees(db, scope, school_id, school_year_id).await?;
    if committees.is_empty() {
        return Ok(Vec::new());
    }
    let mut values: Vec<Value> = Vec::new();
    let cond = body_visible(scope, &mut values);
    let s = bind(&mut values, school_id);
    let y = bind(&mut values, school_year_id);
    let sql = format!(
        "SELECT {MEMBER_COLS} FROM {MEMBER_FROM} WHERE c.school_id = {s} AND c.school_year_id = {y} AND {cond} ORDER BY m.id"
    );
    let mut all: Vec<MemberRow> = rows(&db.conn, sql, values).await?;
    let phones = Phones::of(&db.conn, scope, school_id).await?;
    for m in &mut all {
        m.phone = phones.show(m.phone.take());
    }
    // The children that make each parent a parent of this school, with their class that
    // year: how a school tells two 王丽 apart on paper.
    let mut values: Vec<Value> = Vec::new();
    let s = bind(&mut values, school_id);
    let y = bind(&mut values, school_year_id);
    // A head teacher's class committee member may have a child in another class: that
    // child stays out of the head teacher's roster.
    let child_vis = format!(
        "({} OR {})",
        scope.sql_in_subtree(&s, &mut values),
        scope.sql_in_subtree("cm.class_id", &mut values)
    );
    let sql = format!(
        "SELECT gs.guardian_id, p.name AS pupil_name, cu.name AS class_name FROM guardianship gs \
         JOIN pupil p ON p.id = gs.pupil_id \
         LEFT JOIN class_membership cm ON cm.pupil_id = p.id AND cm.school_year_id = {y} \
         LEFT JOIN org_unit cu ON cu.id = cm.class_id \
         WHERE p.school_id = {s} AND {child_vis} AND gs.guardian_id IN (SELECT m.guardian_id FROM committee_member m \
           JOIN committee c ON c.id = m.committee_id WHERE c.school_id = {s} AND c.school_year_id = {y}) \
         ORDER BY p.id"
    );
    let mut children: HashMap<i64, Vec<ChildOf>> = HashMap::new();
    for ch in rows::<ChildOf, _>(&db.conn, sql, values).await? {
        children.entry(ch.guardian_id).or_default().push(ch);
    }
    let mut by_committee: HashMap<i64, Vec<MemberRow>> = HashMap::new();
    for m in all {
        by_committee.entry(m.committee_id).or_default().push(m);
    }
    Ok(committees
        .into_iter()
        .map(|c| {
            let mut ms = by_committee.remove(&c.id).unwrap_or_default();
            ms.sort_by_key(MemberRow::rank);
            let members = ms
                .into_iter()
                .map(|m| {
                    let ch = m
                        .guardian_id
                        .and_then(|g| children.get(&g).cloned())
                        .unwrap_or_default();
                    (m, ch)
                })
                .collect();
            Body {
                committee: c,
                members,
            }
        })
        .collect())
}

/// The whole roster of a school's bodies in one year, body by body and position by
/// position: the committee sheet of the ledger.
pub async fn roster_for_year(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    year: i64,
) -> StoreResult<Vec<CommitteeRosterLine>> {
    Ok(bodies(db, scope, school_id, year)
        .await?
        .into_iter()
        .flat_map(|b| {
            let c = b.committee;
            b.members
                .into_iter()
                .map(move |(m, _)| CommitteeRosterLine {
                    committee_id: c.id,
                    committee_name: c.name.clone(),
                    level_name: c.unit_name.clone(),
                    kind: c.kind.clone(),
                    position: m.position,
                    person_name: m.person_name,
                    phone: m.phone,
                    note: m.note,
                })
        })
        .collect())
}
