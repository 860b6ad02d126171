//! The paper round trip for parents without smartphones: a printed sign-in sheet per
//! class with its own code, the ticks entered afterwards, the scanned sheet kept as
//! evidence, and conflicts with online check-ins reconciled in the open.

use chrono::Utc;
use jiaxiao_domain::parent_school::{AttendanceStatus, Method};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, Set,
    Value,
};
use serde::Serialize;

use super::sessions::{self, RosterLine};
use super::{bind, rows, writable_school};
use crate::audit;
use crate::entities::{paper_mark, paper_sheet, teaching_session};
use crate::{Db, Scope, StoreError, StoreResult};

/// A sheet with its class roster, ready to print.
#[derive(Debug, Clone, Serialize)]
pub struct Sheet {
    pub sheet: paper_sheet::Model,
    pub class_name: String,
    pub lines: Vec<RosterLine>,
}

/// Sheet codes avoid letters that read alike on paper (0/O, 1/I/L).
fn new_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut r = rand::rng();
    let s: String = (0..6)
        .map(|_| ALPHABET[r.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("S-{s}")
}

async fn writable_session<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i64,
) -> StoreResult<teaching_session::Model> {
    let m = teaching_session::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    writable_school(conn, scope, m.school_id).await?;
    Ok(m)
}

/// The sheet of one class of a session, made on first print and reused afterwards (the
/// code printed on paper must stay valid).
pub async fn sheet_for(
    db: &Db,
    scope: &Scope,
    session_id: i64,
    class_id: i64,
) -> StoreResult<Sheet> {
    let s = writable_session(&db.conn, scope, session_id).await?;
    super::reach::class_in_reach(&db.conn, scope, class_id).await?;
    let lines: Vec<RosterLine> = sessions::roster(db, scope, session_id, Some(class_id)).await?;
    let class = crate::entities::org_unit::Entity::find_by_id(class_id)
        .one(&db.conn)
        .await?
        .filter(|u| u.kind == "class")
        .ok_or(StoreError::NotFound)?;
    let existing = paper_sheet::Entity::find()
        .filter(paper_sheet::Column::SessionId.eq(session_id))
        .filter(paper_sheet::Column::ClassId.eq(class_id))
        .one(&db.conn)
        .await?;
    let sheet = match existing {
        Some(sh) => sh,
        None => {
            if lines.is_empty() {
                return Err(StoreError::Invalid {
                    code: "class_not_invited",
                });
            }
            let txn = db.begin().await?;
            super::writable_year(&txn, s.school_id, s.school_year_id).await?;
            let m = paper_sheet::ActiveModel {
                session_id: Set(session_id),
                class_id: Set(class_id),
                code: Set(new_code()),
                printed_at: Set(Utc::now()),
                scan_attachment_id: Set(None),
                entered_at: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            audit::note(
                &txn,
                scope,
                s.school_id,
                "paper_sheet",
                m.id,
                "print",
                Some(serde_json::json!({"session": session_id, "class": class_id, "code": m.code})),
            )
            .await?;
            txn.commit().await?;
            m
        }
    };
    Ok(Sheet {
        sheet,
        class_name: class.name,
        lines,
    })
}

/// A sheet by the code printed on it, for staff who may record the session.
pub async fn sheet_by_code(db: &Db, scope: &Scope, code: &str) -> StoreResult<Sheet> {
    let code = code.trim().to_uppercase();
    let sh = paper_sheet::Entity::find()
        .filter(paper_sheet::Column::Code.eq(code))
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    sheet_for(db, scope, sh.session_id, sh.class_id).await
}

/// How a paper tick compares with what the system already had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// No check-in before: the paper one was recorded.
    Added,
    /// The paper agrees with the online check-in.
    Agrees,
    /// The paper says otherwise; staff decide.
    Conflict,
    /// Staff decided.
    Resolved,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reconciliation {
    pub added: usize,
    pub agrees: usize,
    pub conflicts: usize,
}

/// Enters the ticks read off a sheet: `marks` are (parent, status) for the parents on
/// it. A parent with no check-in gets one (method paper, recorded by the caller); one
/// whose online check-in says otherwise becomes a conflict for staff to resolve.
/// Entering again replaces the earlier ticks; resolved conflicts stay resolved.
pub async fn enter_marks(
    db: &Db,
    scope: &Scope,
    sheet_id: i64,
    marks: &[(i64, AttendanceStatus)],
) -> StoreResult<Reconciliation> {
    let sh = paper_sheet::Entity::find_by_id(sheet_id)
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let sheet = sheet_for(db, scope, sh.session_id, sh.class_id).await?;
    let on_sheet: std::collections::HashSet<i64> =
        sheet.lines.iter().map(|l| l.guardian_id).collect();
    if let Some((g, _)) = marks.iter().find(|(g, _)| !on_sheet.contains(g)) {
        return Err(StoreError::Conflict {
            what: format!("guardian {g} is not on sheet {}", sh.code),
        });
    }
    let session = teaching_session::Entity::find_by_id(sh.session_id)
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let txn = db.begin().await?;
    super::writable_year(&txn, session.school_id, session.school_year_id).await?;
    let mut rec = Reconciliation {
        added: 0,
        agrees: 0,
        conflicts: 0,
    };
    for (g, status) in marks {
        let existing = crate::entities::checkin::Entity::find()
            .filter(crate::entities::checkin::Column::SessionId.eq(sh.session_id))
            .filter(crate::entities::checkin::Column::GuardianId.eq(*g))
            .one(&txn)
            .await?;
        let prior = paper_mark::Entity::find_by_id((sheet_id, *g))
            .one(&txn)
            .await?;
        let resolution = match &existing {
            None => {
                crate::entities::checkin::ActiveModel {
                    session_id: Set(sh.session_id),
                    guardian_id: Set(*g),
                    status: Set(status.code().into()),
                    method: Set(Method::Paper.code().into()),
                    checked_at: Set(session.starts_at),
                    recorded_by: Set(scope.user_id()),
                    device_hash: Set(None),
                    nonce: Set(None),
                    created_at: Set(Utc::now()),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                rec.added += 1;
                "added"
            }
            Some(c) if c.method == Method::Paper.code() => {
                // Our own earlier entry: the sheet is the source, update it.
                if c.status != status.code() {
                    let mut am: crate::entities::checkin::ActiveModel = c.clone().into();
                    am.status = Set(status.code().into());
                    am.recorded_by = Set(scope.user_id());
                    am.update(&txn).await?;
                }
                rec.added += 1;
                "added"
            }
            Some(c) if c.status == status.code() => {
                rec.agrees += 1;
                "agrees"
            }
            Some(_) => {
                if prior
                    .as_ref()
                    .and_then(|p| p.resolution.as_deref())
                    .is_some_and(|r| r.starts_with("resolved"))
                    && prior.as_ref().map(|p| p.status.as_str()) == Some(status.code())
                {
                    "resolved"
                } else {
                    rec.conflicts += 1;
                    "conflict"
                }
            }
        };
        let resolution = if resolution == "resolved" {
            prior.as_ref().and_then(|p| p.resolution.clone())
        } else {
            Some(resolution.to_owned())
        };
        match prior {
            Some(p) => {
                let mut am: paper_mark::ActiveModel = p.into();
                am.status = Set(status.code().into());
                am.resolution = Set(resolution);
                am.update(&txn).await?;
            }
            None => {
                paper_mark::ActiveModel {
                    sheet_id: Set(sheet_id),
                    guardian_id: Set(*g),
                    status: Set(status.code().into()),
                    resolution: Set(resolution),
                }
                .insert(&txn)
                .await?;
            }
        }
    }
    let mut am: paper_sheet::ActiveModel = sh.clone().into();
    am.entered_at = Set(Some(Utc::now()));
    am.update(&txn).await?;
    super::tally::recount(&txn, sh.session_id).await?;
    audit::note(&txn, scope, session.school_id, "paper_sheet", sheet_id, "enter", Some(serde_json::json!({"added": rec.added, "agrees": rec.agrees, "conflicts": rec.conflicts}))).await?;
    txn.commit().await?;
    Ok(rec)
}

/// One parent on a sheet, paper against system.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct MarkLine {
    pub guardian_id: i64,
    pub guardian_name: String,
    pub paper_status: String,
    pub resolution: Option<String>,
    pub online_status: Option<String>,
    pub online_method: Option<String>,
}

pub async fn marks(db: &Db, scope: &Scope, sheet_id: i64) -> StoreResult<Vec<MarkLine>> {
    let sh = paper_sheet::Entity::find_by_id(sheet_id)
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    writable_session(&db.conn, scope, sh.session_id).await?;
    super::reach::class_in_reach(&db.conn, scope, sh.class_id).await?;
    let mut values: Vec<Value> = Vec::new();
    let p = bind(&mut values, sheet_id);
    let s = bind(&mut values, sh.session_id);
    rows(
        &db.conn,
        format!(
            "SELECT m.guardian_id, g.name AS guardian_name, m.status AS paper_status, m.resolution, \
                    c.status AS online_status, c.method AS online_method \
             FROM paper_mark m JOIN guardian g ON g.id = m.guardian_id \
             LEFT JOIN checkin c ON c.session_id = {s} AND c.guardian_id = m.guardian_id \
             WHERE m.sheet_id = {p} ORDER BY (CASE WHEN m.resolution = 'conflict' THEN 0 ELSE 1 END), g.name"
        ),
        values,
    )
    .await
}

/// Staff settle a conflict: keep the online check-in, or take the paper's status.
pub async fn resolve(
    db: &Db,
    scope: &Scope,
    sheet_id: i64,
    guardian_id: i64,
    take_paper: bool,
) -> StoreResult<()> {
    let sh = paper_sheet::Entity::find_by_id(sheet_id)
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let txn = db.begin().await?;
    let session = writable_session(&txn, scope, sh.session_id).await?;
    super::writable_year(&txn, session.school_id, session.school_year_id).await?;
    let mark = paper_mark::Entity::find_by_id((sheet_id, guardian_id))
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    if take_paper {
        let c = crate::entities::checkin::Entity::find()
            .filter(crate::entities::checkin::Column::SessionId.eq(sh.session_id))
            .filter(crate::entities::checkin::Column::GuardianId.eq(guardian_id))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut am: crate::entities::checkin::ActiveModel = c.into();
        am.status = Set(mark.status.clone());
        am.method = Set(Method::Paper.code().into());
        am.recorded_by = Set(scope.user_id());
        am.update(&txn).await?;
        super::tally::recount(&txn, sh.session_id).await?;
    }
    let mut am: paper_mark::ActiveModel = mark.into();
    am.resolution = Set(Some(
        if take_paper {
            "resolved_paper"
        } else {
            "resolved_online"
        }
        .into(),
    ));
    am.update(&txn).await?;
    audit::note(
        &txn,
        scope,
        session.school_id,
        "paper_mark",
        format!("{sheet_id}/{guardian_id}"),
        "resolve",
        Some(serde_json::json!({"take_paper": take_paper})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Links the scanned sheet (an attachment of the session) as evidence.
pub async fn attach_scan(
    db: &Db,
    scope: &Scope,
    sheet_id: i64,
    attachment_id: i64,
) -> StoreResult<()> {
    let sh = paper_sheet::Entity::find_by_id(sheet_id)
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let txn = db.begin().await?;
    let session = writable_session(&txn, scope, sh.session_id).await?;
    super::writable_year(&txn, session.school_id, session.school_year_id).await?;
    // The scan must be a file of this school: another school's would be shown and
    // printed as this sheet's evidence.
    if !super::belongs_to_school(&txn, "attachment", attachment_id, session.school_id).await? {
        return Err(StoreError::NotFound);
    }
    let mut am: paper_sheet::ActiveModel = sh.into();
    am.scan_attachment_id = Set(Some(attachment_id));
    am.update(&txn).await?;
    audit::note(
        &txn,
        scope,
        session.school_id,
        "paper_sheet",
        sheet_id,
        "scan",
        Some(serde_json::json!({"attachment": attachment_id})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The sheets of a session with how many conflicts remain.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct SheetRow {
    pub id: i64,
    pub class_id: i64,
    pub class_name: String,
    pub code: String,
    pub entered: bool,
    pub scanned: bool,
    pub conflicts: i64,
}

pub async fn sheets_of(db: &Db, scope: &Scope, session_id: i64) -> StoreResult<Vec<SheetRow>> {
    writable_session(&db.conn, scope, session_id).await?;
    rows(
        &db.conn,
        "SELECT p.id, p.class_id, u.name AS class_name, p.code, \
                (CASE WHEN p.entered_at IS NULL THEN FALSE ELSE TRUE END) AS entered, \
                (CASE WHEN p.scan_attachment_id IS NULL THEN FALSE ELSE TRUE END) AS scanned, \
                (SELECT COUNT(*) FROM paper_mark m WHERE m.sheet_id = p.id AND m.resolution = 'conflict') AS conflicts \
         FROM paper_sheet p JOIN org_unit u ON u.id = p.class_id WHERE p.session_id = $1 ORDER BY u.grade_level, u.class_number"
            .into(),
        vec![session_id.into()],
    )
    .await
}

/// A sheet by id with its roster, for staff who may record the session.
pub async fn sheet_by_id(db: &Db, scope: &Scope, sheet_id: i64) -> StoreResult<Sheet> {
    let sh = paper_sheet::Entity::find_by_id(sheet_id)
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    sheet_for(db, scope, sh.session_id, sh.class_id).await
}
