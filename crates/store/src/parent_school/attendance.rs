//! Who was invited to and who came to a school's sessions in a school year, read in a
//! handful of flat queries and joined in memory. Session counts, trainee hours and class
//! rates all come from here, so the ledger, the dashboards and the live board agree.
//! (Correlated EXISTS against the invitation union per session or per check-in made the
//! ledger of a 3,000-parent school take tens of seconds.)

use std::collections::{BTreeSet, HashMap, HashSet};

use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::Serialize;

use super::{bind, rows};
use crate::StoreResult;

/// What to read: one school's year, optionally narrowed to one session or to the
/// invitations and attendance of one parent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filter {
    pub school_id: i64,
    pub school_year_id: i64,
    pub session_id: Option<i64>,
    pub guardian_id: Option<i64>,
}

impl Filter {
    pub fn year(school_id: i64, school_year_id: i64) -> Self {
        Filter {
            school_id,
            school_year_id,
            session_id: None,
            guardian_id: None,
        }
    }
}

#[derive(Debug, Clone, FromQueryResult)]
pub(crate) struct Session {
    pub id: i64,
    pub status: String,
    pub form: String,
    pub duration_minutes: i32,
    pub audience: String,
}

impl Session {
    fn held(&self) -> bool {
        self.status == jiaxiao_domain::parent_school::SessionStatus::Held.code()
    }
}

/// The year's invitations and check-ins of one school (see [`Filter`]).
#[derive(Debug, Default)]
pub(crate) struct Attendance {
    pub sessions: Vec<Session>,
    /// Classes with pupils this year, and their pupils.
    pupils_of_class: HashMap<i64, Vec<i64>>,
    /// Invited units' descendants per session with a grades/classes audience.
    units_of_session: HashMap<i64, Vec<i64>>,
    /// The school's units on the session's day per whole-school session.
    classes_of_school_session: HashMap<i64, Vec<i64>>,
    guardians_of_pupil: HashMap<i64, Vec<i64>>,
    /// Parents named on a session.
    invitees: HashMap<i64, Vec<i64>>,
    /// (guardian, status) per session.
    checkins: HashMap<i64, Vec<(i64, String)>>,
    refusals: HashMap<i64, i64>,
}

#[derive(FromQueryResult)]
struct Pair {
    a: i64,
    b: i64,
}

#[derive(FromQueryResult)]
struct Came {
    session_id: i64,
    guardian_id: i64,
    status: String,
}

fn group(pairs: Vec<Pair>) -> HashMap<i64, Vec<i64>> {
    let mut m: HashMap<i64, Vec<i64>> = HashMap::new();
    for p in pairs {
        m.entry(p.a).or_default().push(p.b);
    }
    m
}

impl Attendance {
    pub async fn load<C: ConnectionTrait>(conn: &C, f: Filter) -> StoreResult<Self> {
        // Each session invites the classes under its school or audience units in the
        // tree as it stands on the session's own day, as `sessions::invited_pupils_sql`.
        let on_day = crate::org::in_force(
            "oc",
            &crate::org::beijing_day_sql(conn.get_database_backend(), "t.starts_at"),
        );
        // Placeholders of the filter, bound afresh for every statement; only the ones a
        // statement uses (PostgreSQL would keep an unused one in the cached statement).
        struct Sql {
            values: Vec<Value>,
            s: String,
            y: String,
            session: String,
        }
        let sql = |session_col: Option<&str>| -> Sql {
            let mut values = Vec::new();
            let s = bind(&mut values, f.school_id);
            let y = bind(&mut values, f.school_year_id);
            let session = match (f.session_id, session_col) {
                (Some(id), Some(col)) => format!(" AND {col} = {}", bind(&mut values, id)),
                _ => String::new(),
            };
            Sql {
                values,
                s,
                y,
                session,
            }
        };
        let guardian = |values: &mut Vec<Value>, col: &str| match f.guardian_id {
            Some(g) => format!(" AND {col} = {}", bind(values, g)),
            None => String::new(),
        };

        let Sql {
            values,
            s,
            y,
            session,
        } = sql(Some("id"));
        let sessions: Vec<Session> = rows(
            conn,
            format!(
                "SELECT id, status, form, duration_minutes, audience FROM teaching_session \
                 WHERE school_id = {s} AND school_year_id = {y}{session} ORDER BY starts_at, id"
            ),
            values,
        )
        .await?;
        if sessions.is_empty() {
            return Ok(Attendance::default());
        }

        // Pupils this year in the classes any of the year's sessions of the school
        // invites (only the parent's own children when narrowed to one parent).
        let Sql {
            mut values, s, y, ..
        } = sql(None);
        let mine = match f.guardian_id {
            Some(g) => format!(
                " AND cm.pupil_id IN (SELECT pupil_id FROM guardianship WHERE guardian_id = {})",
                bind(&mut values, g)
            ),
            None => String::new(),
        };
        let members_sql = format!(
            "SELECT cm.class_id AS a, cm.pupil_id AS b FROM class_membership cm \
             WHERE cm.school_year_id = {y}{mine} AND cm.class_id IN ( \
               SELECT oc.descendant_id FROM teaching_session t \
                 JOIN org_closure oc ON oc.ancestor_id = t.school_id AND {on_day} \
                 WHERE t.school_id = {s} AND t.school_year_id = {y} AND t.audience = 'school' \
               UNION SELECT oc.descendant_id FROM session_audience a \
                 JOIN teaching_session t ON t.id = a.session_id AND t.audience = 'units' \
                 JOIN org_closure oc ON oc.ancestor_id = a.unit_id AND {on_day} \
                 WHERE t.school_id = {s} AND t.school_year_id = {y})"
        );
        let members: Vec<Pair> = rows(conn, members_sql.clone(), values.clone()).await?;
        let pupils_of_class = group(members);

        let mut gvalues = values;
        let only = guardian(&mut gvalues, "gs.guardian_id");
        let guardians_of_pupil = group(
            rows(
                conn,
                format!(
                    "SELECT gs.pupil_id AS a, gs.guardian_id AS b FROM guardianship gs \
                     WHERE gs.pupil_id IN (SELECT m.b FROM ({members_sql}) m){only}"
                ),
                gvalues,
            )
            .await?,
        );

        // Rows hanging off this year's sessions: `head` joins `teaching_session t`; the
        // school-year condition, the filter's session and (given a column) its parent are
        // appended.
        let of_year_sessions = |head: &str, session_col: &str, guardian_col: Option<&str>| {
            let Sql {
                mut values,
                s,
                y,
                session,
            } = sql(Some(session_col));
            let only = guardian_col
                .map(|c| guardian(&mut values, c))
                .unwrap_or_default();
            (
                format!("{head} WHERE t.school_id = {s} AND t.school_year_id = {y}{session}{only}"),
                values,
            )
        };
        let (q, values) = of_year_sessions(
            &format!(
                "SELECT a.session_id AS a, oc.descendant_id AS b FROM session_audience a \
                 JOIN teaching_session t ON t.id = a.session_id AND t.audience = 'units' \
                 JOIN org_closure oc ON oc.ancestor_id = a.unit_id AND {on_day}"
            ),
            "a.session_id",
            None,
        );
        let units_of_session = group(rows(conn, q, values).await?);
        let (q, values) = of_year_sessions(
            &format!(
                "SELECT t.id AS a, oc.descendant_id AS b FROM teaching_session t \
                 JOIN org_closure oc ON oc.ancestor_id = t.school_id AND t.audience = 'school' AND {on_day}"
            ),
            "t.id",
            None,
        );
        let classes_of_school_session = group(rows(conn, q, values).await?);
        let (q, values) = of_year_sessions(
            "SELECT si.session_id AS a, si.guardian_id AS b FROM session_invitee si \
             JOIN teaching_session t ON t.id = si.session_id",
            "si.session_id",
            Some("si.guardian_id"),
        );
        let invitees = group(rows(conn, q, values).await?);
        let (q, values) = of_year_sessions(
            "SELECT c.session_id, c.guardian_id, c.status FROM checkin c \
             JOIN teaching_session t ON t.id = c.session_id",
            "c.session_id",
            Some("c.guardian_id"),
        );
        let came: Vec<Came> = rows(conn, q, values).await?;
        let mut checkins: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
        for c in came {
            checkins
                .entry(c.session_id)
                .or_default()
                .push((c.guardian_id, c.status));
        }

        let Sql {
            values,
            s,
            y,
            session,
        } = sql(Some("r.session_id"));
        let refusals = rows::<Pair, _>(
            conn,
            format!(
                "SELECT r.session_id AS a, COUNT(*) AS b FROM checkin_refusal r \
                 JOIN teaching_session t ON t.id = r.session_id \
                 WHERE t.school_id = {s} AND t.school_year_id = {y}{session} GROUP BY r.session_id"
            ),
            values,
        )
        .await?
        .into_iter()
        .map(|p| (p.a, p.b))
        .collect();

        Ok(Attendance {
            sessions,
            pupils_of_class,
            units_of_session,
            classes_of_school_session,
            guardians_of_pupil,
            invitees,
            checkins,
            refusals,
        })
    }

    /// The classes a session invites, in id order.
    fn classes(&self, s: &Session) -> BTreeSet<i64> {
        if s.audience == "school" {
            self.classes_of_school_session
                .get(&s.id)
                .into_iter()
                .flatten()
                .filter(|u| self.pupils_of_class.contains_key(u))
                .copied()
                .collect()
        } else if s.audience == "units" {
            self.units_of_session
                .get(&s.id)
                .into_iter()
                .flatten()
                .filter(|u| self.pupils_of_class.contains_key(u))
                .copied()
                .collect()
        } else {
            BTreeSet::new()
        }
    }

    /// (pupil, class) of every invited child.
    fn invited_pupils(&self, s: &Session) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        for c in self.classes(s) {
            for p in &self.pupils_of_class[&c] {
                out.push((*p, c));
            }
        }
        out
    }

    fn invited_guardians(&self, s: &Session, pupils: &[(i64, i64)]) -> HashSet<i64> {
        let mut g: HashSet<i64> = pupils
            .iter()
            .flat_map(|(p, _)| self.guardians_of_pupil.get(p).into_iter().flatten())
            .copied()
            .collect();
        g.extend(self.invitees.get(&s.id).into_iter().flatten().copied());
        g
    }

    /// Parents present or late at a session.
    fn attended(&self, s: &Session) -> HashSet<i64> {
        self.checkins
            .get(&s.id)
            .into_iter()
            .flatten()
            .filter(|(_, st)| st == "present" || st == "late")
            .map(|(g, _)| *g)
            .collect()
    }

    fn reached(&self, pupil: i64, attended: &HashSet<i64>) -> bool {
        self.guardians_of_pupil
            .get(&pupil)
            .is_some_and(|gs| gs.iter().any(|g| attended.contains(g)))
    }

    pub fn counts(&self, s: &Session) -> SessionCounts {
        let pupils = self.invited_pupils(s);
        let attended = self.attended(s);
        let children: HashSet<i64> = pupils.iter().map(|(p, _)| *p).collect();
        let mut c = SessionCounts {
            invited_parents: self.invited_guardians(s, &pupils).len() as i64,
            invited_children: children.len() as i64,
            children_reached: children
                .iter()
                .filter(|p| self.reached(**p, &attended))
                .count() as i64,
            refusals: self.refusals.get(&s.id).copied().unwrap_or(0),
            ..Default::default()
        };
        let invited = self.invited_guardians(s, &pupils);
        c.uninvited = attended.iter().filter(|g| !invited.contains(g)).count() as i64;
        for (_, st) in self.checkins.get(&s.id).into_iter().flatten() {
            match st.as_str() {
                "present" => c.present += 1,
                "late" => c.late += 1,
                "excused" => c.excused += 1,
                "absent" => c.absent += 1,
                _ => {}
            }
        }
        c
    }

    /// Counts of every session read, by session id.
    pub fn all_counts(&self) -> HashMap<i64, SessionCounts> {
        self.sessions
            .iter()
            .map(|s| (s.id, self.counts(s)))
            .collect()
    }

    /// Per parent over the held sessions: (invited, attended, credit hours). Walk-ins
    /// (checked in without an invitation) earn hours too.
    pub fn trainees(
        &self,
        settings: &jiaxiao_domain::parent_school::Settings,
    ) -> HashMap<i64, (i64, i64, f64)> {
        let mut by: HashMap<i64, (i64, i64, f64)> = HashMap::new();
        for s in self.sessions.iter().filter(|s| s.held()) {
            let pupils = self.invited_pupils(s);
            for g in self.invited_guardians(s, &pupils) {
                by.entry(g).or_default().0 += 1;
            }
            let hours = settings.credit_hours(&s.form, s.duration_minutes);
            for g in self.attended(s) {
                let e = by.entry(g).or_default();
                e.1 += 1;
                e.2 += hours;
            }
        }
        by
    }

    /// Per class over the held sessions: (child-sessions invited, reached), a child
    /// being reached when any of their parents attended.
    pub fn class_rates(&self) -> HashMap<i64, (i64, i64)> {
        let mut by: HashMap<i64, (i64, i64)> = HashMap::new();
        for s in self.sessions.iter().filter(|s| s.held()) {
            let attended = self.attended(s);
            for (p, c) in self.invited_pupils(s) {
                let e = by.entry(c).or_default();
                e.0 += 1;
                e.1 += self.reached(p, &attended) as i64;
            }
        }
        by
    }
}

/// Attendance figures of one session: invited parents and children, and how many of
/// them came. A child counts as reached when any of their parents attended.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SessionCounts {
    pub invited_parents: i64,
    pub present: i64,
    pub late: i64,
    pub excused: i64,
    pub absent: i64,
    pub invited_children: i64,
    pub children_reached: i64,
    pub refusals: i64,
    /// Of those present or late, parents the session does not invite: they checked in
    /// before its audience was changed. Counted in `present`/`late` (they came), never
    /// in `invited_parents`.
    pub uninvited: i64,
}

impl SessionCounts {
    /// Share of invited children whose household came, 0–1: the attendance rate the
    /// school reports (one household member attending counts for that child).
    pub fn rate(&self) -> f64 {
        if self.invited_children > 0 {
            self.children_reached as f64 / self.invited_children as f64
        } else if self.invited_parents > 0 {
            (self.present + self.late) as f64 / self.invited_parents as f64
        } else {
            0.0
        }
    }
}
