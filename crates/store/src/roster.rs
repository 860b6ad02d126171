//! Applying a checked roster (see `jiaxiao_domain::roster`) to one school in one
//! transaction: grades and classes created as needed, pupils matched by pupil number,
//! guardians by mobile number (so siblings share one parent), class membership for the
//! school year. Applying the same file twice changes nothing the second time.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use jiaxiao_domain::jobs::JobStatus;
use jiaxiao_domain::roster::RosterRow;
use jiaxiao_domain::{UnitKind, names};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Entry};
use crate::entities::{class_membership, guardian, guardianship, import_job, org_unit, pupil};
use crate::org::{NewUnit, insert_unit};
use crate::{Db, Scope, StoreError, StoreResult};

/// Ids per `IN (…)` lookup.
const CHUNK: usize = 1000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    pub rows: usize,
    pub grades_created: usize,
    pub classes_created: usize,
    pub pupils_created: usize,
    pub pupils_updated: usize,
    pub guardians_created: usize,
    pub links_created: usize,
    pub placements_changed: usize,
}

impl ApplyReport {
    pub fn changed_anything(&self) -> bool {
        self.grades_created
            + self.classes_created
            + self.pupils_created
            + self.pupils_updated
            + self.guardians_created
            + self.links_created
            + self.placements_changed
            > 0
    }
}

/// What an import would do, beyond its counts: the classes it would create, the pupils it
/// would move to another class, the parents it would link. Read by running the import
/// itself in a transaction that is rolled back ([`plan`]), so the preview and the import
/// cannot disagree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportPlan {
    pub report: ApplyReport,
    /// Whether the school had any class before this import: then a new class is more
    /// likely a typing mistake (三年级(9)班 where there are four) than a new class.
    pub school_had_classes: bool,
    /// Classes that would be created, by name, in the order first met; with the first row.
    pub new_classes: Vec<(usize, String)>,
    pub moves: Vec<PlannedMove>,
    pub links: Vec<PlannedLink>,
}

impl ImportPlan {
    /// Creating classes in a school that has classes needs the importer's say-so
    /// (`--create-classes`, or the box on the preview page).
    pub fn needs_class_consent(&self) -> bool {
        self.school_had_classes && !self.new_classes.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedMove {
    pub row: usize,
    pub student_no: String,
    pub name: String,
    pub from_class: String,
    pub to_class: String,
}

/// A parent linked to a pupil; `new_parent` when the parent is not on file yet. No phone:
/// the plan is printed and shown, and names are enough to check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedLink {
    pub row: usize,
    pub pupil: String,
    pub parent: String,
    pub relation: String,
    pub new_parent: bool,
}

/// What importing `rows` into `school_id` now would do, without doing it: the import runs
/// in a transaction that is rolled back (on SQLite it holds the write lock meanwhile, as the
/// import would).
pub async fn plan(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    rows: &[RosterRow],
) -> StoreResult<ImportPlan> {
    let txn = db.begin().await?;
    let year = crate::org::ensure_school_year(&txn, crate::org::today_date()).await?;
    let mut plan = ImportPlan::default();
    plan.report = apply_in(
        &txn,
        scope,
        school_id,
        year,
        rows,
        "",
        |_, _| {},
        Some(&mut plan),
    )
    .await?;
    txn.rollback().await?;
    Ok(plan)
}

/// The classes importing `rows` would create, with the row that first names each, and
/// whether the school has any class now: the cheap part of [`plan`] (reads only the
/// school's grades and classes), for the consent check before a real import, where a
/// whole rolled-back import first would double its time.
pub async fn classes_to_create(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    rows: &[RosterRow],
) -> StoreResult<(bool, Vec<(usize, String)>)> {
    crate::org::managed_unit(&db.conn, scope, school_id).await?;
    let grades: HashMap<i64, i32> = org_unit::Entity::find()
        .filter(org_unit::Column::ParentId.eq(school_id))
        .filter(org_unit::Column::Kind.eq(UnitKind::Grade.code()))
        .all(&db.conn)
        .await?
        .into_iter()
        .filter_map(|g| g.grade_level.map(|l| (g.id, l)))
        .collect();
    let mut have: HashSet<(i32, i32)> = HashSet::new();
    for c in org_unit::Entity::find()
        .filter(org_unit::Column::ParentId.is_in(grades.keys().copied().collect::<Vec<_>>()))
        .filter(org_unit::Column::Kind.eq(UnitKind::Class.code()))
        .all(&db.conn)
        .await?
    {
        if let (Some(p), Some(n)) = (c.parent_id, c.class_number)
            && let Some(level) = grades.get(&p)
        {
            have.insert((*level, n));
        }
    }
    let had_classes = !have.is_empty();
    let mut new = Vec::new();
    for r in rows {
        // As `apply_in` names and finds them: by grade level and class number.
        if have.insert((r.grade_level, r.class_number)) {
            new.push((r.row, format!("{}{}", r.grade_name, r.class_name)));
        }
    }
    Ok((had_classes, new))
}

/// Writes the rows to `school_id` for `school_year_id`. `progress(done, total)` is
/// called after each chunk. Either everything is written or nothing is.
pub async fn apply(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
    rows: &[RosterRow],
    file_name: &str,
    progress: impl FnMut(usize, usize) + Send,
) -> StoreResult<ApplyReport> {
    let txn = db.begin().await?;
    let rep = apply_in(
        &txn,
        scope,
        school_id,
        school_year_id,
        rows,
        file_name,
        progress,
        None,
    )
    .await?;
    let phase = std::time::Instant::now();
    txn.commit().await?;
    tracing::debug!(
        phase = "commit",
        ms = phase.elapsed().as_millis() as u64,
        "roster import"
    );
    // A large import changes table sizes a lot: let the planner know.
    db.optimize().await?;
    Ok(rep)
}

/// The import, inside the caller's transaction; with `plan`, also what it did, row by row.
#[allow(clippy::too_many_arguments)]
async fn apply_in(
    txn: &sea_orm::DatabaseTransaction,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
    rows: &[RosterRow],
    file_name: &str,
    mut progress: impl FnMut(usize, usize) + Send,
    mut plan: Option<&mut ImportPlan>,
) -> StoreResult<ApplyReport> {
    let school = crate::org::managed_unit(txn, scope, school_id).await?;
    if school.kind != UnitKind::School.code() {
        return Err(StoreError::Invalid {
            code: "not_a_school",
        });
    }
    let total = rows.len();
    let mut rep = ApplyReport {
        rows: total,
        ..Default::default()
    };

    let phase = std::time::Instant::now();
    // Grades and classes.
    let mut grades: HashMap<i32, i64> = HashMap::new();
    let mut classes: HashMap<(i64, i32), i64> = HashMap::new();
    for g in org_unit::Entity::find()
        .filter(org_unit::Column::ParentId.eq(school_id))
        .filter(org_unit::Column::Kind.eq(UnitKind::Grade.code()))
        .all(txn)
        .await?
    {
        if let Some(l) = g.grade_level {
            grades.insert(l, g.id);
        }
    }
    let grade_ids: Vec<i64> = grades.values().copied().collect();
    // Class names by id, for the plan's moves.
    let mut class_names: HashMap<i64, String> = HashMap::new();
    for c in org_unit::Entity::find()
        .filter(org_unit::Column::ParentId.is_in(grade_ids))
        .filter(org_unit::Column::Kind.eq(UnitKind::Class.code()))
        .all(txn)
        .await?
    {
        if let (Some(p), Some(n)) = (c.parent_id, c.class_number) {
            classes.insert((p, n), c.id);
        }
        if plan.is_some() {
            class_names.insert(c.id, c.name);
        }
    }
    if let Some(p) = plan.as_deref_mut() {
        p.school_had_classes = !classes.is_empty();
    }
    let mut row_class: Vec<i64> = Vec::with_capacity(rows.len());
    for r in rows {
        let gid = match grades.get(&r.grade_level) {
            Some(id) => *id,
            None => {
                let id = insert_unit(
                    txn,
                    &NewUnit {
                        parent_id: Some(school_id),
                        kind: UnitKind::Grade,
                        name: r.grade_name.clone(),
                        code: None,
                        school_type: None,
                        grade_level: Some(r.grade_level),
                        class_number: None,
                    },
                )
                .await?;
                rep.grades_created += 1;
                grades.insert(r.grade_level, id);
                id
            }
        };
        let cid = match classes.get(&(gid, r.class_number)) {
            Some(id) => *id,
            None => {
                let name = format!("{}{}", r.grade_name, r.class_name);
                let id = insert_unit(
                    txn,
                    &NewUnit {
                        parent_id: Some(gid),
                        kind: UnitKind::Class,
                        name: name.clone(),
                        code: None,
                        school_type: None,
                        grade_level: Some(r.grade_level),
                        class_number: Some(r.class_number),
                    },
                )
                .await?;
                rep.classes_created += 1;
                if let Some(p) = plan.as_deref_mut() {
                    p.new_classes.push((r.row, name.clone()));
                    class_names.insert(id, name);
                }
                classes.insert((gid, r.class_number), id);
                id
            }
        };
        row_class.push(cid);
    }

    tracing::debug!(
        phase = "grades_classes",
        ms = phase.elapsed().as_millis() as u64,
        "roster import"
    );
    let phase = std::time::Instant::now();
    // Pupils.
    let mut pupils: HashMap<String, pupil::Model> = pupil::Entity::find()
        .filter(pupil::Column::SchoolId.eq(school_id))
        .all(txn)
        .await?
        .into_iter()
        .map(|p| (p.student_no.clone(), p))
        .collect();
    // Only pupils who were here before can have placements and parents on file already:
    // the lookups below skip everyone this import creates.
    let existing_ids: Vec<i64> = pupils.values().map(|p| p.id).collect();
    let now = Utc::now();
    let mut new_pupils = Vec::new();
    let mut seen = HashSet::new();
    for r in rows {
        if !seen.insert(r.student_no.as_str()) {
            continue;
        }
        let gender = r.gender.map(|g| g.code().to_owned());
        match pupils.get(&r.student_no) {
            Some(p) if p.name == r.name && (gender.is_none() || p.gender == gender) => {}
            Some(p) => {
                let mut am: pupil::ActiveModel = p.clone().into();
                am.name = Set(r.name.clone());
                am.name_pinyin = Set(names::full_pinyin(&r.name));
                am.name_initials = Set(names::initials(&r.name));
                if gender.is_some() {
                    am.gender = Set(gender);
                }
                am.update(txn).await?;
                rep.pupils_updated += 1;
            }
            None => new_pupils.push(pupil::ActiveModel {
                school_id: Set(school_id),
                student_no: Set(r.student_no.clone()),
                name: Set(r.name.clone()),
                name_pinyin: Set(names::full_pinyin(&r.name)),
                name_initials: Set(names::initials(&r.name)),
                gender: Set(gender),
                created_at: Set(now),
                ..Default::default()
            }),
        }
    }
    rep.pupils_created = new_pupils.len();
    let mut done = 0;
    let steps = total.max(1);
    for chunk in chunked(new_pupils, 7) {
        done += chunk.len();
        // RETURNING gives the new ids in the same round trip (SQLite ≥ 3.35, PostgreSQL).
        for p in pupil::Entity::insert_many(chunk)
            .exec_with_returning(txn)
            .await?
        {
            pupils.insert(p.student_no.clone(), p);
        }
        progress(done.min(total) / 2, steps);
    }
    let pupil_id = |no: &str| {
        pupils
            .get(no)
            .map(|p| p.id)
            .ok_or(StoreError::Other("pupil vanished".into()))
    };

    tracing::debug!(
        phase = "pupils",
        ms = phase.elapsed().as_millis() as u64,
        "roster import"
    );
    let phase = std::time::Instant::now();
    // Placements for the school year.
    let mut placed: HashMap<i64, i64> = HashMap::new();
    for ids in existing_ids.chunks(CHUNK) {
        for m in class_membership::Entity::find()
            .filter(class_membership::Column::SchoolYearId.eq(school_year_id))
            .filter(class_membership::Column::PupilId.is_in(ids.to_vec()))
            .all(txn)
            .await?
        {
            placed.insert(m.pupil_id, m.class_id);
        }
    }
    let mut new_placements = Vec::new();
    let mut placed_now = HashSet::new();
    for (r, cid) in rows.iter().zip(&row_class) {
        let pid = pupil_id(&r.student_no)?;
        if !placed_now.insert(pid) {
            continue;
        }
        match placed.get(&pid) {
            Some(c) if c == cid => {}
            Some(from) => {
                if let Some(p) = plan.as_deref_mut() {
                    let name_of = |id: &i64| class_names.get(id).cloned().unwrap_or_default();
                    p.moves.push(PlannedMove {
                        row: r.row,
                        student_no: r.student_no.clone(),
                        name: r.name.clone(),
                        from_class: name_of(from),
                        to_class: name_of(cid),
                    });
                }
                class_membership::Entity::update_many()
                    .col_expr(class_membership::Column::ClassId, (*cid).into())
                    .filter(class_membership::Column::PupilId.eq(pid))
                    .filter(class_membership::Column::SchoolYearId.eq(school_year_id))
                    .exec(txn)
                    .await?;
                rep.placements_changed += 1;
            }
            None => {
                new_placements.push(class_membership::ActiveModel {
                    pupil_id: Set(pid),
                    school_year_id: Set(school_year_id),
                    class_id: Set(*cid),
                });
                rep.placements_changed += 1;
            }
        }
    }
    for chunk in chunked(new_placements, 3) {
        class_membership::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }

    tracing::debug!(
        phase = "placements",
        ms = phase.elapsed().as_millis() as u64,
        "roster import"
    );
    let phase = std::time::Instant::now();
    // Guardians by phone; without a phone, by name among the pupil's guardians.
    let phones: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            r.guardian
                .as_ref()?
                .phone
                .as_ref()
                .map(|p| p.as_str().to_owned())
        })
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut by_phone: HashMap<String, i64> = HashMap::new();
    for ph in phones.chunks(CHUNK) {
        for g in guardian::Entity::find()
            .filter(guardian::Column::Phone.is_in(ph.to_vec()))
            .all(txn)
            .await?
        {
            if let Some(p) = g.phone {
                by_phone.insert(p, g.id);
            }
        }
    }
    let existing_phones = if plan.is_some() {
        by_phone.clone()
    } else {
        HashMap::new()
    };
    let mut new_guardians = Vec::new();
    let mut queued = HashSet::new();
    for r in rows {
        if let Some(g) = &r.guardian
            && let Some(p) = &g.phone
            && !by_phone.contains_key(p.as_str())
            && queued.insert(p.as_str().to_owned())
        {
            new_guardians.push(guardian::ActiveModel {
                name: Set(g.name.clone()),
                name_pinyin: Set(names::full_pinyin(&g.name)),
                name_initials: Set(names::initials(&g.name)),
                phone: Set(Some(p.as_str().to_owned())),
                created_at: Set(now),
                ..Default::default()
            });
        }
    }
    rep.guardians_created = new_guardians.len();
    for chunk in chunked(new_guardians, 5) {
        for g in guardian::Entity::insert_many(chunk)
            .exec_with_returning(txn)
            .await?
        {
            if let Some(p) = g.phone {
                by_phone.insert(p, g.id);
            }
        }
    }

    tracing::debug!(
        phase = "guardians",
        ms = phase.elapsed().as_millis() as u64,
        "roster import"
    );
    let phase = std::time::Instant::now();
    // Links.
    let mut links: HashSet<(i64, i64)> = HashSet::new();
    let mut link_names: HashMap<(i64, String), i64> = HashMap::new();
    for ids in existing_ids.chunks(CHUNK) {
        let rows = guardianship::Entity::find()
            .filter(guardianship::Column::PupilId.is_in(ids.to_vec()))
            .find_also_related_guardian(txn)
            .await?;
        for (l, name) in rows {
            links.insert((l.guardian_id, l.pupil_id));
            link_names.insert((l.pupil_id, name), l.guardian_id);
        }
    }
    let mut new_links = Vec::new();
    // Parents on file before this import, for the plan's "new parent".
    let known_parents: HashSet<i64> = if plan.is_some() {
        let mut known: HashSet<i64> = links.iter().map(|(g, _)| *g).collect();
        known.extend(existing_phones.values().copied());
        known
    } else {
        HashSet::new()
    };
    for (i, r) in rows.iter().enumerate() {
        let Some(g) = &r.guardian else { continue };
        let pid = pupil_id(&r.student_no)?;
        let gid = match &g.phone {
            Some(p) => by_phone[p.as_str()],
            None => match link_names.get(&(pid, g.name.clone())) {
                Some(id) => *id,
                None => {
                    let id = guardian::ActiveModel {
                        name: Set(g.name.clone()),
                        name_pinyin: Set(names::full_pinyin(&g.name)),
                        name_initials: Set(names::initials(&g.name)),
                        phone: Set(None),
                        created_at: Set(now),
                        ..Default::default()
                    }
                    .insert(txn)
                    .await?
                    .id;
                    rep.guardians_created += 1;
                    link_names.insert((pid, g.name.clone()), id);
                    id
                }
            },
        };
        if links.insert((gid, pid)) {
            if let Some(p) = plan.as_deref_mut() {
                p.links.push(PlannedLink {
                    row: r.row,
                    pupil: r.name.clone(),
                    parent: g.name.clone(),
                    relation: g.relation.code().to_owned(),
                    new_parent: !known_parents.contains(&gid),
                });
            }
            new_links.push(guardianship::ActiveModel {
                guardian_id: Set(gid),
                pupil_id: Set(pid),
                relation: Set(g.relation.code().to_owned()),
            });
        }
        if i % 5000 == 0 {
            progress(total / 2 + i / 2, steps);
        }
    }
    rep.links_created = new_links.len();
    for chunk in chunked(new_links, 3) {
        guardianship::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }

    tracing::debug!(
        phase = "links",
        ms = phase.elapsed().as_millis() as u64,
        "roster import"
    );
    audit::record(
        txn,
        scope,
        Entry {
            unit_id: Some(school_id),
            entity: "roster",
            entity_id: None,
            action: "import",
            before: None,
            after: Some(serde_json::json!({"file": file_name, "report": rep})),
        },
    )
    .await?;
    progress(total, steps);
    Ok(rep)
}

/// Splits rows for multi-row INSERTs of `columns` columns: as few statements as the
/// bind limits allow (30,000 parameters, under SQLite's 32,766 and PostgreSQL's 65,535),
/// because each statement is parsed and planned once per chunk.
fn chunked<T>(v: Vec<T>, columns: usize) -> Vec<Vec<T>> {
    let size = (30_000 / columns.max(1)).max(1);
    let mut out = Vec::with_capacity(v.len() / size + 1);
    let mut it = v.into_iter().peekable();
    while it.peek().is_some() {
        out.push(it.by_ref().take(size).collect());
    }
    out
}

trait AlsoGuardian {
    async fn find_also_related_guardian<C: ConnectionTrait>(
        self,
        conn: &C,
    ) -> StoreResult<Vec<(guardianship::Model, String)>>;
}

impl AlsoGuardian for sea_orm::Select<guardianship::Entity> {
    async fn find_also_related_guardian<C: ConnectionTrait>(
        self,
        conn: &C,
    ) -> StoreResult<Vec<(guardianship::Model, String)>> {
        let links = self.all(conn).await?;
        let ids: Vec<i64> = links
            .iter()
            .map(|l| l.guardian_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut names = HashMap::new();
        for c in ids.chunks(CHUNK) {
            for g in guardian::Entity::find()
                .filter(guardian::Column::Id.is_in(c.to_vec()))
                .all(conn)
                .await?
            {
                names.insert(g.id, g.name);
            }
        }
        Ok(links
            .into_iter()
            .map(|l| {
                let n = names.get(&l.guardian_id).cloned().unwrap_or_default();
                (l, n)
            })
            .collect())
    }
}

/// Queues a checked roster for `school_id`; any serve or worker process runs it (see
/// [`claim_next`] and [`run_claimed`]). Returns the job id.
pub async fn enqueue(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
    rows: &[RosterRow],
    file_name: &str,
) -> StoreResult<i64> {
    let school = crate::org::managed_unit(&db.conn, scope, school_id).await?;
    if school.kind != UnitKind::School.code() {
        return Err(StoreError::Invalid {
            code: "not_a_school",
        });
    }
    let txn = db.begin().await?;
    let job = enqueue_in(&txn, scope, school_id, school_year_id, rows, file_name).await?;
    txn.commit().await?;
    Ok(job)
}

async fn enqueue_in<C: ConnectionTrait>(
    txn: &C,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
    rows: &[RosterRow],
    file_name: &str,
) -> StoreResult<i64> {
    let payload = serde_json::to_string(rows).map_err(|e| StoreError::Other(e.to_string()))?;
    let now = Utc::now();
    let job = import_job::ActiveModel {
        unit_id: Set(school_id),
        created_by: Set(scope.user_id()),
        file_name: Set(file_name.to_owned()),
        status: Set(STATUS_QUEUED.into()),
        total: Set(rows.len() as i32),
        done: Set(0),
        result_json: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        school_year_id: Set(Some(school_year_id)),
        payload: Set(Some(payload)),
        claimed_by: Set(None),
        claimed_at: Set(None),
        kind: Set(KIND_ROSTER.into()),
        ..Default::default()
    }
    .insert(txn)
    .await?
    .id;
    audit::record(
        txn,
        scope,
        Entry {
            unit_id: Some(school_id),
            entity: "import_job",
            entity_id: Some(job.to_string()),
            action: "enqueue",
            before: None,
            after: Some(serde_json::json!({"file": file_name, "rows": rows.len()})),
        },
    )
    .await?;
    Ok(job)
}

/// A roster file read and checked, waiting for its uploader to confirm it. `payload` is
/// what the web keeps of the file (the file itself, deflated), opaque here.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Preview {
    pub id: i64,
    pub school_id: i64,
    pub file_name: String,
    pub payload: String,
}

/// The largest preview kept: the upload limit, since what the web keeps (the file,
/// deflated, in base64) is smaller than the file for any roster, so what passes the
/// reading limits can be previewed; more is a file nobody uploaded.
pub const PREVIEW_MAX_BYTES: usize = 64 * 1024 * 1024;

/// How long a preview may wait for its confirmation.
pub fn preview_ttl() -> chrono::TimeDelta {
    chrono::TimeDelta::hours(1)
}

/// Keeps `payload` as the caller's one pending preview for `school_id` (a school they
/// manage), replacing any earlier one of theirs, and sweeps everyone's expired ones.
/// Refused with `preview_too_large` past [`PREVIEW_MAX_BYTES`] (the byte cap of issue 9).
pub async fn save_preview(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    file_name: &str,
    payload: String,
) -> StoreResult<i64> {
    let user_id = scope.user_id().ok_or(StoreError::NotFound)?;
    if payload.len() > PREVIEW_MAX_BYTES {
        return Err(StoreError::Invalid {
            code: "preview_too_large",
        });
    }
    let now = Utc::now();
    let bytes = payload.len();
    let txn = db.begin().await?;
    let school = crate::org::managed_unit(&txn, scope, school_id).await?;
    if school.kind != UnitKind::School.code() {
        return Err(StoreError::NotFound);
    }
    sweep_previews_in(&txn, now).await?;
    txn.execute_raw(sea_orm::Statement::from_sql_and_values(
        db.db_backend(),
        "DELETE FROM roster_preview WHERE user_id = $1",
        [user_id.into()],
    ))
    .await?;
    let id = crate::db::scalar_i64(
        &txn,
        "INSERT INTO roster_preview (user_id, school_id, file_name, payload, bytes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id AS n",
        vec![
            user_id.into(),
            school_id.into(),
            file_name.into(),
            // Moved, not copied: it can be tens of MB.
            payload.into(),
            (bytes as i64).into(),
            now.into(),
        ],
    )
    .await?;
    // Who uploaded which file where; the rows stay out of the audit log.
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(school_id),
            entity: "roster_preview",
            entity_id: Some(id.to_string()),
            action: "preview",
            before: None,
            after: Some(serde_json::json!({"file": file_name, "bytes": bytes})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// The caller's own pending preview `id`, if it has not expired and its school is still
/// one they manage; anyone else's is `NotFound`.
pub async fn get_preview(db: &Db, scope: &Scope, id: i64) -> StoreResult<Preview> {
    Preview::find_by_statement(own_preview(db, scope, id, "payload")?)
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// The SELECT of the caller's own live preview `id` (theirs, under an hour old, of a
/// school they manage), with `payload` as the given column expression: the file itself,
/// or `''` where only its school and name are wanted.
fn own_preview(db: &Db, scope: &Scope, id: i64, payload: &str) -> StoreResult<sea_orm::Statement> {
    let user_id = scope.user_id().ok_or(StoreError::NotFound)?;
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let cond = scope.sql_in_managed_subtree("school_id", &mut values);
    values.push(id.into());
    let n_id = values.len();
    values.push(user_id.into());
    let n_user = values.len();
    values.push((Utc::now() - preview_ttl()).into());
    let n_cutoff = values.len();
    Ok(sea_orm::Statement::from_sql_and_values(
        db.db_backend(),
        format!(
            "SELECT id, school_id, file_name, {payload} AS payload FROM roster_preview \
             WHERE {cond} AND id = ${n_id} AND user_id = ${n_user} AND created_at > ${n_cutoff}"
        ),
        values,
    ))
}

/// Queues the rows read from the caller's preview `preview_id` and removes the preview in
/// the same transaction, so a second confirmation of the same preview (a double click, or
/// another serve process) is `NotFound` rather than a second import.
pub async fn enqueue_preview(
    db: &Db,
    scope: &Scope,
    preview_id: i64,
    school_year_id: i64,
    rows: &[RosterRow],
) -> StoreResult<i64> {
    let txn = db.begin().await?;
    let preview = Preview::find_by_statement(own_preview(db, scope, preview_id, "''")?)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    txn.execute_raw(sea_orm::Statement::from_sql_and_values(
        db.db_backend(),
        "DELETE FROM roster_preview WHERE id = $1",
        [preview.id.into()],
    ))
    .await?;
    let job = enqueue_in(
        &txn,
        scope,
        preview.school_id,
        school_year_id,
        rows,
        &preview.file_name,
    )
    .await?;
    txn.commit().await?;
    Ok(job)
}

/// Removes previews older than [`preview_ttl`] at `now`; returns how many. Housekeeping,
/// like a job's claim: not audited.
pub async fn sweep_previews(db: &Db, now: chrono::DateTime<Utc>) -> StoreResult<u64> {
    let txn = db.begin().await?;
    let n = sweep_previews_in(&txn, now).await?;
    txn.commit().await?;
    Ok(n)
}

async fn sweep_previews_in<C: ConnectionTrait>(
    txn: &C,
    now: chrono::DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(txn
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            txn.get_database_backend(),
            "DELETE FROM roster_preview WHERE created_at <= $1",
            [(now - preview_ttl()).into()],
        ))
        .await?
        .rows_affected())
}

/// What a queued job does (`import_job.kind`).
pub const KIND_ROSTER: &str = "roster";
pub const KIND_DOSSIER: &str = "dossier";

pub const STATUS_QUEUED: &str = JobStatus::Queued.code();
pub const STATUS_RUNNING: &str = JobStatus::Running.code();
pub const STATUS_DONE: &str = JobStatus::Done.code();
pub const STATUS_FAILED: &str = JobStatus::Failed.code();

/// A job claimed this long ago and still running belonged to a process that died.
pub const STALE_AFTER_MINUTES: i64 = 30;

/// Claims the oldest runnable job for `worker`: queued, or running but stale. The claim
/// is one conditional UPDATE, so two processes never run the same job.
pub async fn claim_next(db: &Db, worker: &str) -> StoreResult<Option<import_job::Model>> {
    let stale = Utc::now() - chrono::Duration::minutes(STALE_AFTER_MINUTES);
    let candidates = import_job::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(import_job::Column::Status.eq(STATUS_QUEUED))
                .add(
                    sea_orm::Condition::all()
                        .add(import_job::Column::Status.eq(STATUS_RUNNING))
                        .add(import_job::Column::ClaimedAt.lt(stale)),
                ),
        )
        .order_by_asc(import_job::Column::Id)
        .limit(5)
        .all(&db.conn)
        .await?;
    for job in candidates {
        let now = Utc::now();
        let mut update = import_job::Entity::update_many()
            .col_expr(import_job::Column::Status, STATUS_RUNNING.into())
            .col_expr(
                import_job::Column::ClaimedBy,
                Some(worker.to_owned()).into(),
            )
            .col_expr(import_job::Column::ClaimedAt, Some(now).into())
            .col_expr(import_job::Column::UpdatedAt, now.into())
            .filter(import_job::Column::Id.eq(job.id))
            .filter(import_job::Column::Status.eq(job.status.clone()));
        update = match job.claimed_at {
            Some(at) => update.filter(import_job::Column::ClaimedAt.eq(at)),
            None => update.filter(import_job::Column::ClaimedAt.is_null()),
        };
        if update.exec(&db.conn).await?.rows_affected == 1 {
            return Ok(import_job::Entity::find_by_id(job.id).one(&db.conn).await?);
        }
    }
    Ok(None)
}

/// Runs a claimed job with the rights its creator has now (a revoked role stops it),
/// then records the outcome and drops the payload.
pub async fn run_claimed(
    db: &Db,
    job: &import_job::Model,
    progress: impl FnMut(usize, usize) + Send,
) -> StoreResult<ApplyReport> {
    let outcome = async {
        let scope = match job.created_by {
            Some(uid) => crate::accounts::scope_for_user(&db.conn, uid, None).await?,
            None => Scope::system(),
        };
        let rows: Vec<RosterRow> = serde_json::from_str(job.payload.as_deref().unwrap_or("[]"))
            .map_err(|e| StoreError::Other(format!("job payload: {e}")))?;
        let year = match job.school_year_id {
            Some(y) => y,
            None => crate::org::ensure_school_year(&db.conn, crate::org::today_date()).await?,
        };
        apply(
            db,
            &scope,
            job.unit_id,
            year,
            &rows,
            &job.file_name,
            progress,
        )
        .await
    }
    .await;
    match &outcome {
        Ok(rep) => {
            let body = serde_json::to_value(rep).unwrap_or_default();
            finish_job(db, job.id, STATUS_DONE, body).await?
        }
        Err(e) => {
            let code = match e {
                StoreError::NotFound => "not_found",
                StoreError::Invalid { code } => code,
                _ => "internal",
            };
            finish_job(
                db,
                job.id,
                STATUS_FAILED,
                serde_json::json!({ "error": code }),
            )
            .await?
        }
    }
    outcome
}

async fn finish_job(db: &Db, id: i64, status: &str, result: serde_json::Value) -> StoreResult<()> {
    let job = import_job::Entity::find_by_id(id)
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let total = job.total;
    let mut am: import_job::ActiveModel = job.into();
    am.status = Set(status.to_owned());
    am.done = Set(total);
    am.result_json = Set(Some(result.to_string()));
    am.payload = Set(None);
    am.updated_at = Set(Utc::now());
    am.update(&db.conn).await?;
    Ok(())
}

/// The rights a job runs with: its creator's as they are now (a revoked role stops it).
pub async fn scope_of_job(db: &Db, job: &import_job::Model) -> StoreResult<Scope> {
    match job.created_by {
        Some(uid) => crate::accounts::scope_for_user(&db.conn, uid, None).await,
        None => Ok(Scope::system()),
    }
}

/// Records the outcome of a job that is not a roster import.
pub async fn finish_other(
    db: &Db,
    id: i64,
    result: Result<serde_json::Value, String>,
) -> StoreResult<()> {
    match result {
        Ok(v) => finish_job(db, id, STATUS_DONE, v).await,
        Err(code) => finish_job(db, id, STATUS_FAILED, serde_json::json!({ "error": code })).await,
    }
}

/// Queues a job of another kind (the PDF dossier) for a unit.
pub async fn enqueue_other(
    db: &Db,
    scope: &Scope,
    unit_id: i64,
    kind: &str,
    label: &str,
    payload: serde_json::Value,
) -> StoreResult<i64> {
    let now = Utc::now();
    let txn = db.begin().await?;
    let job = import_job::ActiveModel {
        unit_id: Set(unit_id),
        created_by: Set(scope.user_id()),
        file_name: Set(label.to_owned()),
        status: Set(STATUS_QUEUED.into()),
        total: Set(1),
        done: Set(0),
        result_json: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        school_year_id: Set(payload.get("school_year_id").and_then(|v| v.as_i64())),
        payload: Set(Some(payload.to_string())),
        claimed_by: Set(None),
        claimed_at: Set(None),
        kind: Set(kind.to_owned()),
        ..Default::default()
    }
    .insert(&txn)
    .await?
    .id;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(unit_id),
            entity: "import_job",
            entity_id: Some(job.to_string()),
            action: "enqueue",
            before: None,
            after: Some(serde_json::json!({ "kind": kind })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(job)
}

/// Jobs of a kind for a unit, newest first (the ledger page lists its dossiers).
pub async fn jobs_of(
    db: &Db,
    scope: &Scope,
    unit_id: i64,
    kind: &str,
) -> StoreResult<Vec<import_job::Model>> {
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let cond = scope.sql_school_visible("unit_id", &mut values);
    values.push(unit_id.into());
    let u = values.len();
    values.push(kind.into());
    let k = values.len();
    Ok(import_job::Entity::find()
        .from_raw_sql(sea_orm::Statement::from_sql_and_values(
            db.db_backend(),
            format!(
                "SELECT * FROM import_job WHERE {cond} AND unit_id = ${u} AND kind = ${k} ORDER BY id DESC LIMIT 20"
            ),
            values,
        ))
        .all(&db.conn)
        .await?)
}

/// A job of a unit the caller can see (dossiers: teachers of the school follow them).
pub async fn get_job_visible(db: &Db, scope: &Scope, id: i64) -> StoreResult<import_job::Model> {
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let cond = scope.sql_school_visible("unit_id", &mut values);
    values.push(id.into());
    import_job::Entity::find()
        .from_raw_sql(sea_orm::Statement::from_sql_and_values(
            db.db_backend(),
            format!(
                "SELECT * FROM import_job WHERE {cond} AND id = ${}",
                values.len()
            ),
            values,
        ))
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn get_job(db: &Db, scope: &Scope, id: i64) -> StoreResult<import_job::Model> {
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let cond = scope.sql_in_managed_subtree("unit_id", &mut values);
    values.push(id.into());
    import_job::Entity::find()
        .from_raw_sql(sea_orm::Statement::from_sql_and_values(
            db.db_backend(),
            format!(
                "SELECT * FROM import_job WHERE {cond} AND id = ${}",
                values.len()
            ),
            values,
        ))
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)
}
