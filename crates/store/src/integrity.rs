//! Checks for the references the database does not enforce (pupil → school,
//! class membership → pupil/year/class, guardianship → guardian/pupil; see migration
//! 0001 and decision 0006). Run by `jiaxiao check` and asserted after imports in tests.

use crate::{Db, StoreResult};

/// One kind of dangling reference and how many rows have it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Orphans {
    pub what: &'static str,
    pub rows: i64,
}

const CHECKS: &[(&str, &str)] = &[
    (
        "pupil.school_id",
        "SELECT COUNT(*) AS n FROM pupil p WHERE NOT EXISTS (SELECT 1 FROM org_unit u WHERE u.id = p.school_id AND u.kind = 'school')",
    ),
    (
        "class_membership.pupil_id",
        "SELECT COUNT(*) AS n FROM class_membership m WHERE NOT EXISTS (SELECT 1 FROM pupil p WHERE p.id = m.pupil_id)",
    ),
    (
        "class_membership.school_year_id",
        "SELECT COUNT(*) AS n FROM class_membership m WHERE NOT EXISTS (SELECT 1 FROM school_year y WHERE y.id = m.school_year_id)",
    ),
    (
        "class_membership.class_id",
        "SELECT COUNT(*) AS n FROM class_membership m WHERE NOT EXISTS (SELECT 1 FROM org_unit u WHERE u.id = m.class_id AND u.kind = 'class')",
    ),
    (
        "guardianship.guardian_id",
        "SELECT COUNT(*) AS n FROM guardianship g WHERE NOT EXISTS (SELECT 1 FROM guardian x WHERE x.id = g.guardian_id)",
    ),
    (
        "guardianship.pupil_id",
        "SELECT COUNT(*) AS n FROM guardianship g WHERE NOT EXISTS (SELECT 1 FROM pupil p WHERE p.id = g.pupil_id)",
    ),
];

/// Every kind of dangling reference found; empty when all is well.
pub async fn orphans(db: &Db) -> StoreResult<Vec<Orphans>> {
    let mut out = Vec::new();
    for (what, sql) in CHECKS {
        let rows = crate::db::scalar_i64(&db.conn, *sql, Vec::new()).await?;
        if rows > 0 {
            out.push(Orphans { what, rows });
        }
    }
    Ok(out)
}
