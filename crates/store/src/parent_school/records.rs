//! The records of the learning process (学习过程资料): photos and materials the
//! instructor files after a session, scanned sheets, the school's seal, and parents'
//! reflections (心得). All of it lands in the ledger.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, FromQueryResult, Set, Value};
use serde::Serialize;

use super::{Access, bind, rows, school_row, writable_school};
use crate::audit;
use crate::blobs::Blobs;
use crate::entities::{attachment, reflection};
use crate::{Db, Scope, StoreError, StoreResult};

/// What an attachment is for.
pub const KIND_PHOTO: &str = "photo";
pub const KIND_MATERIAL: &str = "material";
pub const KIND_SCAN: &str = "scan";
pub const KIND_SEAL: &str = "seal";
pub const KIND_DOSSIER: &str = "dossier";

/// Largest upload we keep; phones' photos are 2–8 MB.
pub const MAX_ATTACHMENT_BYTES: usize = 20 * 1024 * 1024;

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct AttachmentRow {
    pub id: i64,
    pub school_id: i64,
    pub session_id: Option<i64>,
    pub kind: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub storage_key: String,
    pub created_at: DateTime<Utc>,
}

/// The content type of an image we can put into a PDF, from its first bytes (the
/// browser's claim is not trusted).
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

pub struct NewAttachment<'a> {
    pub school_id: i64,
    pub session_id: Option<i64>,
    /// The school year a file outside any session is part of (a round's seal): it
    /// passes `writable_year` as a session's file does through its session. `None` for
    /// files of no year's record (a generated dossier).
    pub school_year_id: Option<i64>,
    pub kind: &'a str,
    pub file_name: &'a str,
    pub bytes: &'a [u8],
}

/// Keeps a file for a school (and a session): photos, scans and seals must be JPEG or
/// PNG; materials may be anything.
pub async fn add_attachment(
    db: &Db,
    blobs: &Blobs,
    scope: &Scope,
    a: NewAttachment<'_>,
) -> StoreResult<i64> {
    if a.bytes.is_empty() {
        return Err(StoreError::Invalid { code: "empty_file" });
    }
    if a.bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(StoreError::Invalid {
            code: "file_too_large",
        });
    }
    let content_type = match (a.kind, sniff_image(a.bytes)) {
        (KIND_PHOTO | KIND_SCAN | KIND_SEAL, Some(t)) => t,
        (KIND_PHOTO | KIND_SCAN | KIND_SEAL, None) => {
            return Err(StoreError::Invalid {
                code: "not_an_image",
            });
        }
        (_, Some(t)) => t,
        (_, None) if a.bytes.starts_with(b"%PDF") => "application/pdf",
        _ => "application/octet-stream",
    };
    writable_school(&db.conn, scope, a.school_id).await?;
    if let Some(sid) = a.session_id {
        let s = crate::entities::teaching_session::Entity::find_by_id(sid)
            .one(&db.conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        if s.school_id != a.school_id {
            return Err(StoreError::NotFound);
        }
        super::writable_year(&db.conn, s.school_id, s.school_year_id).await?;
    }
    if let Some(y) = a.school_year_id {
        super::writable_year(&db.conn, a.school_id, y).await?;
    }
    // The bytes first: a crash between the two leaves an unreferenced file, never a
    // row without its file.
    let key = blobs.put(&a.school_id.to_string(), a.bytes).await?;
    // A file name comes from the uploader's machine: keep it readable, never refuse it.
    let name: String = a
        .file_name
        .chars()
        .filter(|c| !c.is_control() && !jiaxiao_domain::text::is_bidi_control(*c))
        .take(200)
        .collect();
    let txn = db.begin().await?;
    let m = attachment::ActiveModel {
        school_id: Set(a.school_id),
        session_id: Set(a.session_id),
        kind: Set(a.kind.to_owned()),
        file_name: Set(name.clone()),
        content_type: Set(content_type.to_owned()),
        size_bytes: Set(a.bytes.len() as i64),
        storage_key: Set(key),
        uploaded_by: Set(scope.user_id()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::note(
        &txn,
        scope,
        a.school_id,
        "attachment",
        m.id,
        "create",
        Some(serde_json::json!({"kind": a.kind, "session": a.session_id, "bytes": a.bytes.len()})),
    )
    .await?;
    txn.commit().await?;
    Ok(m.id)
}

const ATT_COLS: &str = "a.id, a.school_id, a.session_id, a.kind, a.file_name, a.content_type, a.size_bytes, a.storage_key, a.created_at";

/// Files of a session the caller may see.
pub async fn session_attachments(
    db: &Db,
    scope: &Scope,
    session_id: i64,
) -> StoreResult<Vec<AttachmentRow>> {
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_school_visible("a.school_id", &mut values);
    let p = bind(&mut values, session_id);
    rows(
        &db.conn,
        format!(
            "SELECT {ATT_COLS} FROM attachment a WHERE a.session_id = {p} AND {cond} ORDER BY a.kind, a.id"
        ),
        values,
    )
    .await
}

/// One attachment the caller may see.
pub async fn get_attachment(db: &Db, scope: &Scope, id: i64) -> StoreResult<AttachmentRow> {
    let from = format!("SELECT {ATT_COLS} FROM attachment a");
    school_row(
        &db.conn,
        scope,
        Access::Read,
        &from,
        "a.id",
        "a.school_id",
        id,
    )
    .await
}

/// Deletes a session's photo or material (issue 10 item 13) and then its bytes; the
/// session it belonged to comes back. Scans, seals and dossiers are pointed at by their
/// sheet, round or job and stay (`attachment_in_use`). Another school's, or one the
/// caller may only read, is `NotFound`.
pub async fn delete_attachment(
    db: &Db,
    blobs: &Blobs,
    scope: &Scope,
    id: i64,
) -> StoreResult<Option<i64>> {
    let txn = db.begin().await?;
    let from = format!("SELECT {ATT_COLS} FROM attachment a");
    let a: AttachmentRow =
        school_row(&txn, scope, Access::Write, &from, "a.id", "a.school_id", id).await?;
    if a.kind != KIND_PHOTO && a.kind != KIND_MATERIAL {
        return Err(StoreError::Invalid {
            code: "attachment_in_use",
        });
    }
    if let Some(sid) = a.session_id
        && let Some(s) = crate::entities::teaching_session::Entity::find_by_id(sid)
            .one(&txn)
            .await?
    {
        super::writable_year(&txn, s.school_id, s.school_year_id).await?;
    }
    attachment::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        scope,
        audit::Entry {
            unit_id: Some(a.school_id),
            entity: "attachment",
            entity_id: Some(id.to_string()),
            action: "delete",
            before: Some(serde_json::json!({
                "kind": a.kind,
                "session": a.session_id,
                "file_name": a.file_name,
                "bytes": a.size_bytes,
            })),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    // After the commit: a crash in between leaves an unread file, never a row without
    // its bytes.
    blobs.remove(&a.storage_key).await?;
    Ok(a.session_id)
}

/// Attachments of a school by kind (seals, dossiers), newest first.
pub async fn school_attachments(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    kind: &str,
) -> StoreResult<Vec<AttachmentRow>> {
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_school_visible("a.school_id", &mut values);
    let s = bind(&mut values, school_id);
    let k = bind(&mut values, kind);
    rows(
        &db.conn,
        format!(
            "SELECT {ATT_COLS} FROM attachment a WHERE a.school_id = {s} AND a.kind = {k} AND {cond} ORDER BY a.id DESC"
        ),
        values,
    )
    .await
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct ReflectionRow {
    pub id: i64,
    pub session_id: i64,
    pub guardian_id: i64,
    pub guardian_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A parent hands in (or rewrites) their reflection on a session they attended.
pub async fn hand_in_reflection(
    db: &Db,
    scope: &Scope,
    session_id: i64,
    body: &str,
) -> StoreResult<i64> {
    let g = scope.guardian_id().ok_or(StoreError::NotFound)?;
    let body = match super::text(jiaxiao_domain::text::Field::Note, body) {
        Err(StoreError::Invalid {
            code: "text_too_long",
        }) => {
            return Err(StoreError::Invalid {
                code: "reflection_too_long",
            });
        }
        other => other?,
    };
    let body = body.as_str();
    if body.chars().count() < 10 {
        return Err(StoreError::Invalid {
            code: "reflection_too_short",
        });
    }
    if body.chars().count() > 5000 {
        return Err(StoreError::Invalid {
            code: "reflection_too_long",
        });
    }
    let attended = crate::db::scalar_i64(
        &db.conn,
        "SELECT COUNT(*) AS n FROM checkin WHERE session_id = $1 AND guardian_id = $2 AND status IN ('present', 'late')",
        vec![session_id.into(), g.into()],
    )
    .await?;
    if attended == 0 {
        return Err(StoreError::Invalid {
            code: "not_attended",
        });
    }
    let session = crate::entities::teaching_session::Entity::find_by_id(session_id)
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    super::writable_year(&db.conn, session.school_id, session.school_year_id).await?;
    let school_id = session.school_id;
    let txn = db.begin().await?;
    use sea_orm::{ColumnTrait, QueryFilter};
    let existing = reflection::Entity::find()
        .filter(reflection::Column::SessionId.eq(session_id))
        .filter(reflection::Column::GuardianId.eq(g))
        .one(&txn)
        .await?;
    let id = match existing {
        Some(r) => {
            let id = r.id;
            let mut am: reflection::ActiveModel = r.into();
            am.body = Set(body.to_owned());
            am.created_at = Set(Utc::now());
            am.update(&txn).await?;
            id
        }
        None => {
            reflection::ActiveModel {
                session_id: Set(session_id),
                guardian_id: Set(g),
                body: Set(body.to_owned()),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&txn)
            .await?
            .id
        }
    };
    audit::note(
        &txn,
        scope,
        school_id,
        "reflection",
        id,
        "hand_in",
        Some(serde_json::json!({"session": session_id, "chars": body.chars().count()})),
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// Reflections on a session, for staff who can see it.
pub async fn session_reflections(
    db: &Db,
    scope: &Scope,
    session_id: i64,
) -> StoreResult<Vec<ReflectionRow>> {
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_school_visible("s.school_id", &mut values);
    // A head teacher reads their own class's parents' reflections.
    let vis = super::reach::guardian_visible_sql(
        scope,
        "r.guardian_id",
        "s.school_id",
        "s.school_year_id",
        &mut values,
    );
    let p = bind(&mut values, session_id);
    rows(
        &db.conn,
        format!(
            "SELECT r.id, r.session_id, r.guardian_id, g.name AS guardian_name, r.body, r.created_at \
             FROM reflection r JOIN teaching_session s ON s.id = r.session_id JOIN guardian g ON g.id = r.guardian_id \
             WHERE r.session_id = {p} AND {cond} AND {vis} ORDER BY r.id"
        ),
        values,
    )
    .await
}

/// A parent's own reflection on a session, if any.
pub async fn my_reflection(db: &Db, scope: &Scope, session_id: i64) -> StoreResult<Option<String>> {
    let Some(g) = scope.guardian_id() else {
        return Ok(None);
    };
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(reflection::Entity::find()
        .filter(reflection::Column::SessionId.eq(session_id))
        .filter(reflection::Column::GuardianId.eq(g))
        .one(&db.conn)
        .await?
        .map(|r| r.body))
}
