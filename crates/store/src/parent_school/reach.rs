//! Which of a school's people a caller may see, and whether they see phone numbers whole:
//! every read of the parent school that names parents (rosters, check-in lines, trainees,
//! committees, reflections, excellent trainees) filters and masks through here, so a
//! page and its XLSX or PDF can only ever show the same people (docs/SECURITY.md).

use std::collections::HashSet;

use jiaxiao_domain::Role;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::{bind, rows};
use crate::{Scope, StoreResult};

/// "`col` (a guardian id) is a parent the caller may see": everyone for staff whose reach
/// covers the whole school in `school_expr`, otherwise the parents of children placed in
/// the classes the caller can see in school year `year_expr` (a head teacher's own
/// class). `school_expr` and `year_expr` are placeholders or columns.
pub(crate) fn guardian_visible_sql(
    scope: &Scope,
    col: &str,
    school_expr: &str,
    year_expr: &str,
    values: &mut Vec<Value>,
) -> String {
    let whole = scope.sql_in_subtree(school_expr, values);
    let class = scope.sql_in_subtree("cm.class_id", values);
    format!(
        "({whole} OR {col} IN (SELECT gs.guardian_id FROM guardianship gs JOIN class_membership cm \
           ON cm.pupil_id = gs.pupil_id AND cm.school_year_id = {year_expr} WHERE {class}))"
    )
}

/// Whether the caller sees the phone numbers of a school's parents and staff whole, or
/// masked (138****0001). Whole for the operator, the school's own admin (who issues
/// invitations and calls parents) and a head teacher whose reach is their own classes
/// (who calls their class's parents); masked for teachers, offices and inspectors, who
/// need to tell people apart, not to ring them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phones {
    whole: bool,
}

impl Phones {
    pub async fn of<C: ConnectionTrait>(
        conn: &C,
        scope: &Scope,
        school_id: i64,
    ) -> StoreResult<Phones> {
        if scope.is_system()
            || scope
                .grants()
                .iter()
                .any(|g| g.role == Role::SchoolAdmin && g.unit_id == school_id)
        {
            return Ok(Phones { whole: true });
        }
        let whole = scope.has_role(Role::HeadTeacher)
            && !super::sessions::sees_whole_school_in(conn, scope, school_id).await?;
        Ok(Phones { whole })
    }

    /// For the people directory (`/people`, the API's pupils, guardians and staff),
    /// whose lists span schools: whole when every staff role the caller holds is a
    /// school admin's or a head teacher's (the rows are already cut to their reach), and
    /// for a parent's own record; masked as soon as the caller holds a teacher's, an
    /// office's or an inspector's role.
    pub fn directory(scope: &Scope) -> Phones {
        let whole = scope.is_system()
            || scope
                .grants()
                .iter()
                .all(|g| matches!(g.role, Role::Parent | Role::SchoolAdmin | Role::HeadTeacher));
        Phones { whole }
    }

    pub fn whole(&self) -> bool {
        self.whole
    }

    /// A stored number as this caller may see it.
    pub fn show(&self, phone: Option<String>) -> Option<String> {
        match phone {
            Some(p) if !self.whole => Some(jiaxiao_domain::phone::mask(&p)),
            p => p,
        }
    }
}

/// The parents and classes of a school the caller may see in a school year: `None` when
/// their reach covers the whole school, otherwise the parents of children placed in the
/// classes they can see, and those classes.
pub(crate) struct Within {
    pub guardians: HashSet<i64>,
    pub classes: HashSet<i64>,
}

pub(crate) async fn within<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Option<Within>> {
    if super::sessions::sees_whole_school_in(conn, scope, school_id).await? {
        return Ok(None);
    }
    #[derive(FromQueryResult)]
    struct Id {
        id: i64,
    }
    let mut values: Vec<Value> = Vec::new();
    let class = scope.sql_in_subtree("u.id", &mut values);
    let s = bind(&mut values, school_id);
    // The school's classes as the year's tree has them (`org::year_day`).
    let on_day = crate::org::in_force(
        "oc",
        &crate::org::day_sql(crate::org::year_day(conn, school_year_id).await?),
    );
    let classes: HashSet<i64> = rows::<Id, _>(
        conn,
        format!(
            "SELECT u.id FROM org_unit u JOIN org_closure oc ON oc.descendant_id = u.id \
             AND oc.ancestor_id = {s} AND {on_day} WHERE u.kind = 'class' AND {class}"
        ),
        values,
    )
    .await?
    .into_iter()
    .map(|r| r.id)
    .collect();
    let mut values: Vec<Value> = Vec::new();
    let class = scope.sql_in_subtree("cm.class_id", &mut values);
    let y = bind(&mut values, school_year_id);
    let guardians = rows::<Id, _>(
        conn,
        format!(
            "SELECT DISTINCT gs.guardian_id AS id FROM guardianship gs JOIN class_membership cm \
             ON cm.pupil_id = gs.pupil_id AND cm.school_year_id = {y} WHERE {class}"
        ),
        values,
    )
    .await?
    .into_iter()
    .map(|r| r.id)
    .collect();
    Ok(Some(Within { guardians, classes }))
}

/// `NotFound` unless the class lies in the caller's subtree: a head teacher opens their own
/// class's paper sheet, not another's printed by the school.
pub(crate) async fn class_in_reach<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    class_id: i64,
) -> StoreResult<()> {
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_in_subtree("u.id", &mut values);
    let p = bind(&mut values, class_id);
    let n = crate::db::scalar_i64(
        conn,
        format!("SELECT COUNT(*) AS n FROM org_unit u WHERE u.id = {p} AND {cond}"),
        values,
    )
    .await?;
    if n == 0 {
        return Err(crate::StoreError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::Grant;

    fn scope(grants: &[(Role, i64)]) -> Scope {
        let grants = grants
            .iter()
            .map(|&(role, unit_id)| Grant { unit_id, role })
            .collect();
        Scope::for_user(1, None, grants)
    }

    #[test]
    fn the_directory_shows_phones_whole_only_to_those_who_ring_parents() {
        let whole = |g: &[(Role, i64)]| Phones::directory(&scope(g)).whole();
        assert!(whole(&[(Role::SchoolAdmin, 5)]));
        assert!(whole(&[(Role::HeadTeacher, 9)]));
        assert!(whole(&[(Role::SchoolAdmin, 5), (Role::HeadTeacher, 9)]));
        assert!(whole(&[(Role::Parent, 1)]));
        assert!(Phones::directory(&Scope::system()).whole());
        assert!(!whole(&[(Role::Teacher, 5)]));
        assert!(!whole(&[(Role::CountyAdmin, 3)]));
        assert!(!whole(&[(Role::Inspector, 3)]));
        // The stricter role wins.
        assert!(!whole(&[(Role::SchoolAdmin, 5), (Role::Teacher, 6)]));
    }

    #[test]
    fn show_masks_or_keeps() {
        let masked = Phones { whole: false };
        assert_eq!(
            masked.show(Some("13811110001".into())).as_deref(),
            Some("138****0001")
        );
        assert_eq!(masked.show(None), None);
        let whole = Phones { whole: true };
        assert_eq!(
            whole.show(Some("13811110001".into())).as_deref(),
            Some("13811110001")
        );
    }
}
