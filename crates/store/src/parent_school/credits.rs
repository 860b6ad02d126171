//! Credits and attendance rates: hours per trainee per school year weighted by the
//! session's form (the school's settings), and attendance rates per parent, class,
//! grade and school. Only held sessions count.

use std::collections::{BTreeMap, HashMap};

use jiaxiao_domain::parent_school::TraineeYear;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::Serialize;

use super::{bind, rows, visible_school};
use crate::{Db, Scope, StoreResult};

/// `SELECT session_id, guardian_id` of every invitation to a held session of school
/// `$s` in year `$y` (placeholders given).
fn held_invitations_sql(s: &str, y: &str) -> String {
    let end = crate::OPEN_END;
    format!(
        "SELECT s.id AS session_id, gs.guardian_id AS guardian_id FROM teaching_session s \
           JOIN org_closure oc ON oc.ancestor_id = s.school_id AND oc.valid_to = '{end}' \
           JOIN class_membership cm ON cm.class_id = oc.descendant_id AND cm.school_year_id = s.school_year_id \
           JOIN guardianship gs ON gs.pupil_id = cm.pupil_id \
           WHERE s.school_id = {s} AND s.school_year_id = {y} AND s.status = 'held' AND s.audience = 'school' \
         UNION SELECT s.id, gs.guardian_id FROM teaching_session s JOIN session_audience a ON a.session_id = s.id \
           JOIN org_closure oc ON oc.ancestor_id = a.unit_id AND oc.valid_to = '{end}' \
           JOIN class_membership cm ON cm.class_id = oc.descendant_id AND cm.school_year_id = s.school_year_id \
           JOIN guardianship gs ON gs.pupil_id = cm.pupil_id \
           WHERE s.school_id = {s} AND s.school_year_id = {y} AND s.status = 'held' AND s.audience = 'units' \
         UNION SELECT s.id, si.guardian_id FROM teaching_session s JOIN session_invitee si ON si.session_id = s.id \
           WHERE s.school_id = {s} AND s.school_year_id = {y} AND s.status = 'held'"
    )
}

/// One parent's year at one school.
#[derive(Debug, Clone, Serialize)]
pub struct TraineeSummary {
    pub guardian_id: i64,
    pub name: String,
    pub phone: Option<String>,
    pub invited: i64,
    pub attended: i64,
    pub hours: f64,
    pub reflections: i64,
    pub committee: bool,
}

impl TraineeSummary {
    pub fn rate(&self) -> f64 {
        self.as_year().attendance_rate()
    }

    pub fn as_year(&self) -> TraineeYear {
        TraineeYear {
            guardian_id: self.guardian_id,
            invited: self.invited,
            attended: self.attended,
            hours: self.hours,
            reflections: self.reflections,
            committee: self.committee,
        }
    }
}

/// Every trainee of a school in a year: invited to or attending at least one held
/// session. Walk-ins (checked in without an invitation) earn hours too.
pub async fn trainees(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Vec<TraineeSummary>> {
    visible_school(&db.conn, scope, school_id).await?;
    trainees_of(&db.conn, school_id, school_year_id).await
}

pub(crate) async fn trainees_of<C: ConnectionTrait>(
    conn: &C,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Vec<TraineeSummary>> {
    let settings = super::settings(conn, school_id, school_year_id).await?;
    // Three plain queries joined in memory: a NOT EXISTS against the invitation union
    // per check-in was quadratic (53 s for 3,000 parents × 40 sessions).
    #[derive(FromQueryResult)]
    struct Inv {
        guardian_id: i64,
    }
    #[derive(FromQueryResult)]
    struct Held {
        id: i64,
        form: String,
        duration_minutes: i32,
    }
    #[derive(FromQueryResult)]
    struct Came {
        session_id: i64,
        guardian_id: i64,
        status: String,
    }
    let mut values: Vec<Value> = Vec::new();
    let s = bind(&mut values, school_id);
    let y = bind(&mut values, school_year_id);
    let inv: Vec<Inv> = rows(
        conn,
        format!(
            "SELECT i.guardian_id FROM ({}) i",
            held_invitations_sql(&s, &y)
        ),
        values,
    )
    .await?;
    let v = || -> Vec<Value> { vec![school_id.into(), school_year_id.into()] };
    let held: std::collections::HashMap<i64, Held> = rows::<Held, _>(
        conn,
        "SELECT id, form, duration_minutes FROM teaching_session WHERE school_id = $1 AND school_year_id = $2 AND status = 'held'"
            .into(),
        v(),
    )
    .await?
    .into_iter()
    .map(|h| (h.id, h))
    .collect();
    let came: Vec<Came> = rows(
        conn,
        "SELECT c.session_id, c.guardian_id, c.status FROM checkin c JOIN teaching_session t ON t.id = c.session_id \
         WHERE t.school_id = $1 AND t.school_year_id = $2 AND t.status = 'held'"
            .into(),
        v(),
    )
    .await?;
    let mut by: BTreeMap<i64, TraineeSummary> = BTreeMap::new();
    let entry = |by: &mut BTreeMap<i64, TraineeSummary>, g: i64| {
        by.entry(g).or_insert_with(|| TraineeSummary {
            guardian_id: g,
            name: String::new(),
            phone: None,
            invited: 0,
            attended: 0,
            hours: 0.0,
            reflections: 0,
            committee: false,
        });
    };
    for i in &inv {
        entry(&mut by, i.guardian_id);
        if let Some(t) = by.get_mut(&i.guardian_id) {
            t.invited += 1;
        }
    }
    // Walk-ins (checked in without an invitation) earn hours too.
    for c in came {
        if c.status != "present" && c.status != "late" {
            continue;
        }
        let Some(h) = held.get(&c.session_id) else {
            continue;
        };
        entry(&mut by, c.guardian_id);
        if let Some(t) = by.get_mut(&c.guardian_id) {
            t.attended += 1;
            t.hours += settings.credit_hours(&h.form, h.duration_minutes);
        }
    }
    #[derive(FromQueryResult)]
    struct Named {
        id: i64,
        name: String,
        phone: Option<String>,
        reflections: i64,
        committee: i64,
    }
    let mut values: Vec<Value> = Vec::new();
    let s = bind(&mut values, school_id);
    let y = bind(&mut values, school_year_id);
    let inv = held_invitations_sql(&s, &y);
    let named: Vec<Named> = rows(
        conn,
        format!(
            "SELECT g.id, g.name, g.phone, \
               (SELECT COUNT(*) FROM reflection r JOIN teaching_session t ON t.id = r.session_id \
                 WHERE r.guardian_id = g.id AND t.school_id = {s} AND t.school_year_id = {y}) AS reflections, \
               (SELECT COUNT(*) FROM committee_member m JOIN committee k ON k.id = m.committee_id \
                 WHERE m.guardian_id = g.id AND k.school_id = {s} AND k.school_year_id = {y}) AS committee \
             FROM guardian g WHERE g.id IN (SELECT i.guardian_id FROM ({inv}) i \
               UNION SELECT c.guardian_id FROM checkin c JOIN teaching_session t ON t.id = c.session_id \
               WHERE t.school_id = {s} AND t.school_year_id = {y})"
        ),
        values,
    )
    .await?;
    for n in named {
        if let Some(e) = by.get_mut(&n.id) {
            e.name = n.name;
            e.phone = n.phone;
            e.reflections = n.reflections;
            e.committee = n.committee > 0;
        }
    }
    let mut out: Vec<TraineeSummary> = by.into_values().collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.guardian_id.cmp(&b.guardian_id)));
    Ok(out)
}

/// Attendance of one class over a year: child-sessions invited and reached (a child
/// is reached when any of their parents attended).
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct ClassRate {
    pub class_id: i64,
    pub class_name: String,
    pub grade_id: Option<i64>,
    pub grade_name: Option<String>,
    pub grade_level: Option<i32>,
    pub invited: i64,
    pub reached: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rate {
    pub id: i64,
    pub name: String,
    pub invited: i64,
    pub reached: i64,
}

impl Rate {
    pub fn rate(&self) -> f64 {
        if self.invited == 0 {
            0.0
        } else {
            self.reached as f64 / self.invited as f64
        }
    }
}

/// Rates per class of a school in a year (held sessions only), by grade and class.
pub async fn class_rates(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Vec<ClassRate>> {
    visible_school(&db.conn, scope, school_id).await?;
    class_rates_of(&db.conn, school_id, school_year_id).await
}

pub(crate) async fn class_rates_of<C: ConnectionTrait>(
    conn: &C,
    school_id: i64,
    school_year_id: i64,
) -> StoreResult<Vec<ClassRate>> {
    let end = crate::OPEN_END;
    let mut values: Vec<Value> = Vec::new();
    let s = bind(&mut values, school_id);
    let y = bind(&mut values, school_year_id);
    let sql = format!(
        "WITH ip AS ( \
           SELECT s.id AS session_id, cm.pupil_id, cm.class_id FROM teaching_session s \
             JOIN org_closure oc ON oc.ancestor_id = s.school_id AND oc.valid_to = '{end}' \
             JOIN class_membership cm ON cm.class_id = oc.descendant_id AND cm.school_year_id = s.school_year_id \
             WHERE s.school_id = {s} AND s.school_year_id = {y} AND s.status = 'held' AND s.audience = 'school' \
           UNION SELECT s.id, cm.pupil_id, cm.class_id FROM teaching_session s JOIN session_audience a ON a.session_id = s.id \
             JOIN org_closure oc ON oc.ancestor_id = a.unit_id AND oc.valid_to = '{end}' \
             JOIN class_membership cm ON cm.class_id = oc.descendant_id AND cm.school_year_id = s.school_year_id \
             WHERE s.school_id = {s} AND s.school_year_id = {y} AND s.status = 'held' AND s.audience = 'units') \
         SELECT ip.class_id, cu.name AS class_name, gu.id AS grade_id, gu.name AS grade_name, gu.grade_level, \
                COUNT(*) AS invited, \
                SUM(CASE WHEN EXISTS (SELECT 1 FROM guardianship gs JOIN checkin c ON c.guardian_id = gs.guardian_id \
                    AND c.session_id = ip.session_id AND c.status IN ('present', 'late') WHERE gs.pupil_id = ip.pupil_id) \
                    THEN 1 ELSE 0 END) AS reached \
         FROM ip JOIN org_unit cu ON cu.id = ip.class_id LEFT JOIN org_unit gu ON gu.id = cu.parent_id \
         GROUP BY ip.class_id, cu.name, gu.id, gu.name, gu.grade_level, cu.class_number \
         ORDER BY gu.grade_level, cu.class_number, ip.class_id"
    );
    rows(conn, sql, values).await
}

/// Grade rates folded from class rates, in grade order.
pub fn grade_rates(classes: &[ClassRate]) -> Vec<Rate> {
    let mut order: Vec<i64> = Vec::new();
    let mut by: HashMap<i64, Rate> = HashMap::new();
    for c in classes {
        let id = c.grade_id.unwrap_or(0);
        let e = by.entry(id).or_insert_with(|| {
            order.push(id);
            Rate {
                id,
                name: c.grade_name.clone().unwrap_or_default(),
                invited: 0,
                reached: 0,
            }
        });
        e.invited += c.invited;
        e.reached += c.reached;
    }
    order.into_iter().filter_map(|id| by.remove(&id)).collect()
}

/// The school's rate over all its classes.
pub fn school_rate(classes: &[ClassRate]) -> Rate {
    Rate {
        id: 0,
        name: String::new(),
        invited: classes.iter().map(|c| c.invited).sum(),
        reached: classes.iter().map(|c| c.reached).sum(),
    }
}

/// A parent's own hours this year at every school of their children.
pub async fn my_hours(db: &Db, scope: &Scope, school_year_id: i64) -> StoreResult<Vec<MyYear>> {
    let Some(g) = scope.guardian_id() else {
        return Ok(Vec::new());
    };
    #[derive(FromQueryResult)]
    struct School {
        id: i64,
        name: String,
    }
    let schools: Vec<School> = rows(
        &db.conn,
        "SELECT DISTINCT o.id, o.name FROM guardianship gs JOIN pupil p ON p.id = gs.pupil_id \
         JOIN org_unit o ON o.id = p.school_id WHERE gs.guardian_id = $1 ORDER BY o.id"
            .into(),
        vec![g.into()],
    )
    .await?;
    let mut out = Vec::new();
    for s in schools {
        let all = trainees_of(&db.conn, s.id, school_year_id).await?;
        if let Some(me) = all.into_iter().find(|t| t.guardian_id == g) {
            out.push(MyYear {
                school_name: s.name,
                summary: me,
            });
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct MyYear {
    pub school_name: String,
    pub summary: TraineeSummary,
}
