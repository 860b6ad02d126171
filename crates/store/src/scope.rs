//! The caller's reach in the organisation tree. Every store function over tenant data
//! takes a `Scope` first and puts it into the SQL `WHERE`, so forgetting a filter is a
//! type error, not a leak. Only the authentication functions in [`crate::accounts`]
//! build one from a verified session or token; [`Scope::system`] is for the operator's
//! own CLI commands.

use jiaxiao_domain::Role;
use sea_orm::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub unit_id: i64,
    pub role: Role,
}

#[derive(Debug, Clone)]
pub struct Scope {
    user_id: Option<i64>,
    guardian_id: Option<i64>,
    grants: Vec<Grant>,
    system: bool,
}

impl Scope {
    pub(crate) fn for_user(user_id: i64, guardian_id: Option<i64>, grants: Vec<Grant>) -> Scope {
        Scope {
            user_id: Some(user_id),
            guardian_id,
            grants,
            system: false,
        }
    }

    /// The whole tree, for commands the operator runs on the server (`jiaxiao demo`,
    /// `jiaxiao import roster`). Web handlers never call this.
    pub fn system() -> Scope {
        Scope {
            user_id: None,
            guardian_id: None,
            grants: Vec::new(),
            system: true,
        }
    }

    pub fn user_id(&self) -> Option<i64> {
        self.user_id
    }

    pub fn guardian_id(&self) -> Option<i64> {
        self.guardian_id
    }

    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    pub fn is_system(&self) -> bool {
        self.system
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// Staff roles (anything but parent) give access to the staff pages.
    pub fn is_staff(&self) -> bool {
        self.system || self.grants.iter().any(|g| g.role != Role::Parent)
    }

    pub fn can_manage(&self) -> bool {
        self.system || self.grants.iter().any(|g| g.role.can_manage())
    }

    /// The nodes whose subtrees the caller may read.
    pub fn read_roots(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self
            .grants
            .iter()
            .filter(|g| g.role != Role::Parent)
            .map(|g| g.unit_id)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The nodes whose subtrees the caller may change.
    pub fn manage_roots(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self
            .grants
            .iter()
            .filter(|g| g.role.can_manage())
            .map(|g| g.unit_id)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The strongest role the caller holds, for deciding which roles they may grant.
    pub fn manage_roles(&self) -> Vec<Role> {
        self.grants
            .iter()
            .filter(|g| g.role.can_manage())
            .map(|g| g.role)
            .collect()
    }

    /// A SQL condition "`column` lies in the caller's readable subtrees today", with
    /// its bind values appended to `values`. Placeholders are numbered from
    /// `values.len() + 1`, so conditions compose.
    pub fn sql_in_subtree(&self, column: &str, values: &mut Vec<Value>) -> String {
        self.subtree_condition(column, &self.read_roots(), values)
    }

    /// Like [`Scope::sql_in_subtree`], for the subtrees the caller may change.
    pub fn sql_in_managed_subtree(&self, column: &str, values: &mut Vec<Value>) -> String {
        self.subtree_condition(column, &self.manage_roots(), values)
    }

    /// "`column` (a school) lies in the caller's readable subtrees, or above one of their
    /// roots": a head teacher granted at a class sees their school's parent-school sessions.
    pub fn sql_school_visible(&self, column: &str, values: &mut Vec<Value>) -> String {
        self.school_condition(column, &self.read_roots(), values)
    }

    /// Like [`Scope::sql_school_visible`] for recording parent-school work (sessions,
    /// attendance, records): every staff role but the inspector's, who only looks.
    pub fn sql_school_writable(&self, column: &str, values: &mut Vec<Value>) -> String {
        let mut roots: Vec<i64> = self
            .grants
            .iter()
            .filter(|g| !matches!(g.role, Role::Parent | Role::Inspector))
            .map(|g| g.unit_id)
            .collect();
        roots.sort_unstable();
        roots.dedup();
        self.school_condition(column, &roots, values)
    }

    fn school_condition(&self, column: &str, roots: &[i64], values: &mut Vec<Value>) -> String {
        if self.system {
            return "1=1".into();
        }
        if roots.is_empty() {
            return "1=0".into();
        }
        let down = self.subtree_condition(column, roots, values);
        let mut ph = Vec::with_capacity(roots.len());
        for r in roots {
            values.push((*r).into());
            ph.push(format!("${}", values.len()));
        }
        // The schools above a root as the tree stands today, not after a move on file
        // for a later date.
        let today = crate::today();
        values.push(today.clone().into());
        let d1 = values.len();
        values.push(today.into());
        let d2 = values.len();
        format!(
            "({down} OR {column} IN (SELECT ancestor_id FROM org_closure WHERE descendant_id IN ({}) AND valid_from <= ${d1} AND valid_to > ${d2}))",
            ph.join(", ")
        )
    }

    fn subtree_condition(&self, column: &str, roots: &[i64], values: &mut Vec<Value>) -> String {
        if self.system {
            return "1=1".into();
        }
        if roots.is_empty() {
            return "1=0".into();
        }
        let today = crate::today();
        let mut ph = Vec::with_capacity(roots.len());
        for r in roots {
            values.push((*r).into());
            ph.push(format!("${}", values.len()));
        }
        values.push(today.clone().into());
        let d1 = values.len();
        values.push(today.into());
        let d2 = values.len();
        format!(
            "{column} IN (SELECT descendant_id FROM org_closure WHERE ancestor_id IN ({}) AND valid_from <= ${d1} AND valid_to > ${d2})",
            ph.join(", ")
        )
    }
}
