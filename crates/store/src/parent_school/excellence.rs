//! Year-end selection of excellent trainees (年终评选优秀学员): the school's rule
//! computes a nomination list with each parent's reason, the school reviews it, a
//! public notice (公示) period takes objections, then the award and its certificates.

use chrono::{DateTime, Utc};
use jiaxiao_domain::parent_school::{ExcellenceRule, Nomination};
use jiaxiao_domain::parent_school::{NomineeDecision, RoundStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, Set, Value,
};
use serde::Serialize;

use super::{bind, rows, visible_school, writable_school};
use crate::audit;
use crate::entities::{excellence_nominee, excellence_objection, excellence_round};
use crate::{Db, Scope, StoreError, StoreResult};

// The column codes, spelled by the domain's enums (one code each).
pub const COMPUTED: &str = RoundStatus::Computed.code();
pub const REVIEWED: &str = RoundStatus::Reviewed.code();
pub const NOTICE: &str = RoundStatus::Notice.code();
pub const AWARDED: &str = RoundStatus::Awarded.code();

pub const NOMINATED: &str = NomineeDecision::Nominated.code();
pub const APPROVED: &str = NomineeDecision::Approved.code();
pub const REJECTED: &str = NomineeDecision::Rejected.code();

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct NomineeRow {
    pub guardian_id: i64,
    pub name: String,
    pub phone: Option<String>,
    pub reason_json: String,
    pub decision: String,
    pub certificate_no: Option<String>,
}

impl NomineeRow {
    pub fn reason(&self) -> Option<Nomination> {
        serde_json::from_str(&self.reason_json).ok()
    }
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct ObjectionRow {
    pub id: i64,
    pub guardian_id: i64,
    pub nominee_name: String,
    pub body: String,
    pub resolution: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Round {
    pub round: excellence_round::Model,
    pub rule: ExcellenceRule,
    pub nominees: Vec<NomineeRow>,
    pub objections: Vec<ObjectionRow>,
}

async fn find_round<C: sea_orm::ConnectionTrait>(
    conn: &C,
    school_id: i64,
    year: i64,
) -> StoreResult<Option<excellence_round::Model>> {
    Ok(excellence_round::Entity::find()
        .filter(excellence_round::Column::SchoolId.eq(school_id))
        .filter(excellence_round::Column::SchoolYearId.eq(year))
        .one(conn)
        .await?)
}

/// The school's round for a year, with nominees and objections.
pub async fn get_round(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    year: i64,
) -> StoreResult<Option<Round>> {
    visible_school(&db.conn, scope, school_id).await?;
    let Some(r) = find_round(&db.conn, school_id, year).await? else {
        return Ok(None);
    };
    let view = round_view(db, r).await?;
    in_reach(db, scope, view).await.map(Some)
}

/// The nominees and objections the caller may see (a head teacher: their class's
/// parents), phones as [`super::reach::Phones`] allows.
async fn in_reach(db: &Db, scope: &Scope, mut view: Round) -> StoreResult<Round> {
    let (school, year) = (view.round.school_id, view.round.school_year_id);
    if let Some(w) = super::reach::within(&db.conn, scope, school, year).await? {
        view.nominees
            .retain(|n| w.guardians.contains(&n.guardian_id));
        view.objections
            .retain(|o| w.guardians.contains(&o.guardian_id));
    }
    let phones = super::reach::Phones::of(&db.conn, scope, school).await?;
    for n in &mut view.nominees {
        n.phone = phones.show(n.phone.take());
    }
    Ok(view)
}

async fn round_view(db: &Db, r: excellence_round::Model) -> StoreResult<Round> {
    let mut values: Vec<Value> = Vec::new();
    let p = bind(&mut values, r.id);
    let nominees: Vec<NomineeRow> = rows(
        &db.conn,
        format!(
            "SELECT n.guardian_id, g.name, g.phone, n.reason_json, n.decision, n.certificate_no \
             FROM excellence_nominee n JOIN guardian g ON g.id = n.guardian_id WHERE n.round_id = {p}"
        ),
        values,
    )
    .await?;
    // Keep the rule's order (best first) as stored in reason_json.
    let mut nominees = nominees;
    nominees.sort_by(|a, b| {
        let (ra, rb) = (a.reason(), b.reason());
        let key = |n: &Option<Nomination>| n.as_ref().map(|n| (n.attendance_rate, n.hours));
        key(&rb)
            .partial_cmp(&key(&ra))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.guardian_id.cmp(&b.guardian_id))
    });
    let objections = rows(
        &db.conn,
        "SELECT o.id, o.guardian_id, g.name AS nominee_name, o.body, o.resolution, o.created_at \
         FROM excellence_objection o JOIN guardian g ON g.id = o.guardian_id WHERE o.round_id = $1 ORDER BY o.id"
            .into(),
        vec![r.id.into()],
    )
    .await?;
    let rule = serde_json::from_str(&r.rule_json).unwrap_or_default();
    Ok(Round {
        round: r,
        rule,
        nominees,
        objections,
    })
}

/// Applies `rule` to the school's year and stores the nomination list. Recomputing is
/// allowed until the public notice starts.
pub async fn compute(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    year: i64,
    rule: &ExcellenceRule,
) -> StoreResult<i64> {
    let txn = db.begin().await?;
    writable_school(&txn, scope, school_id).await?;
    super::writable_year(&txn, school_id, year).await?;
    let trainees = super::credits::trainees_of(&txn, school_id, year).await?;
    let years: Vec<_> = trainees.iter().map(|t| t.as_year()).collect();
    let nominations = rule.nominate(&years);
    let rule_json = serde_json::to_string(rule).map_err(|e| StoreError::Other(e.to_string()))?;
    let round_id = match find_round(&txn, school_id, year).await? {
        Some(r) if r.status == NOTICE || r.status == AWARDED => {
            return Err(StoreError::Invalid {
                code: "round_locked",
            });
        }
        Some(r) => {
            let id = r.id;
            excellence_nominee::Entity::delete_many()
                .filter(excellence_nominee::Column::RoundId.eq(id))
                .exec(&txn)
                .await?;
            let mut am: excellence_round::ActiveModel = r.into();
            am.rule_json = Set(rule_json);
            am.status = Set(COMPUTED.into());
            am.update(&txn).await?;
            id
        }
        None => {
            excellence_round::ActiveModel {
                school_id: Set(school_id),
                school_year_id: Set(year),
                rule_json: Set(rule_json),
                status: Set(COMPUTED.into()),
                notice_from: Set(None),
                notice_to: Set(None),
                seal_attachment_id: Set(None),
                created_by: Set(scope.user_id()),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&txn)
            .await?
            .id
        }
    };
    for chunk in nominations.chunks(500) {
        let models: Vec<excellence_nominee::ActiveModel> = chunk
            .iter()
            .map(|n| excellence_nominee::ActiveModel {
                round_id: Set(round_id),
                guardian_id: Set(n.guardian_id),
                reason_json: Set(serde_json::to_string(n).unwrap_or_default()),
                decision: Set(NOMINATED.into()),
                certificate_no: Set(None),
            })
            .collect();
        excellence_nominee::Entity::insert_many(models)
            .exec_without_returning(&txn)
            .await?;
    }
    audit::note(
        &txn,
        scope,
        school_id,
        "excellence_round",
        round_id,
        "compute",
        Some(serde_json::json!({"nominees": nominations.len(), "trainees": trainees.len()})),
    )
    .await?;
    txn.commit().await?;
    Ok(round_id)
}

async fn writable_round<C: sea_orm::ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    round_id: i64,
) -> StoreResult<excellence_round::Model> {
    let r = excellence_round::Entity::find_by_id(round_id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    writable_school(conn, scope, r.school_id).await?;
    super::writable_year(conn, r.school_id, r.school_year_id).await?;
    Ok(r)
}

async fn set_status<C: sea_orm::ConnectionTrait>(
    conn: &C,
    r: excellence_round::Model,
    status: &str,
) -> StoreResult<()> {
    let mut am: excellence_round::ActiveModel = r.into();
    am.status = Set(status.into());
    am.update(conn).await?;
    Ok(())
}

/// The school's review: which nominees go on the public notice.
pub async fn review(db: &Db, scope: &Scope, round_id: i64, approved: &[i64]) -> StoreResult<()> {
    let txn = db.begin().await?;
    let r = writable_round(&txn, scope, round_id).await?;
    if r.status != COMPUTED && r.status != REVIEWED {
        return Err(StoreError::Invalid {
            code: "round_locked",
        });
    }
    let school = r.school_id;
    let all = excellence_nominee::Entity::find()
        .filter(excellence_nominee::Column::RoundId.eq(round_id))
        .all(&txn)
        .await?;
    let mut n_ok = 0;
    for n in all {
        let ok = approved.contains(&n.guardian_id);
        n_ok += ok as usize;
        let mut am: excellence_nominee::ActiveModel = n.into();
        am.decision = Set(if ok { APPROVED } else { REJECTED }.into());
        am.update(&txn).await?;
    }
    set_status(&txn, r, REVIEWED).await?;
    audit::note(
        &txn,
        scope,
        school,
        "excellence_round",
        round_id,
        "review",
        Some(serde_json::json!({"approved": n_ok})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Starts the public notice (公示) for `days` days from today.
pub async fn start_notice(db: &Db, scope: &Scope, round_id: i64, days: i64) -> StoreResult<()> {
    if !(1..=30).contains(&days) {
        return Err(StoreError::Invalid {
            code: "bad_notice_days",
        });
    }
    let txn = db.begin().await?;
    let r = writable_round(&txn, scope, round_id).await?;
    if r.status != REVIEWED {
        return Err(StoreError::Invalid {
            code: "review_first",
        });
    }
    let school = r.school_id;
    let from = crate::org::today_date();
    let to = from + chrono::Duration::days(days - 1);
    let mut am: excellence_round::ActiveModel = r.into();
    am.status = Set(NOTICE.into());
    am.notice_from = Set(Some(from.to_string()));
    am.notice_to = Set(Some(to.to_string()));
    am.update(&txn).await?;
    audit::note(
        &txn,
        scope,
        school,
        "excellence_round",
        round_id,
        "notice",
        Some(serde_json::json!({"from": from.to_string(), "to": to.to_string()})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The public notice as a parent of the school sees it: the approved names while the
/// notice runs. Parents of other schools get nothing.
pub async fn public_notices(db: &Db, scope: &Scope) -> StoreResult<Vec<PublicNotice>> {
    let Some(g) = scope.guardian_id() else {
        return Ok(Vec::new());
    };
    let rounds: Vec<excellence_round::Model> = excellence_round::Entity::find()
        .from_raw_sql(sea_orm::Statement::from_sql_and_values(
            db.db_backend(),
            "SELECT * FROM excellence_round WHERE status = 'notice' AND school_id IN \
             (SELECT p.school_id FROM guardianship gs JOIN pupil p ON p.id = gs.pupil_id WHERE gs.guardian_id = $1)",
            [g.into()],
        ))
        .all(&db.conn)
        .await?;
    let mut out = Vec::new();
    for r in rounds {
        let school_name = crate::entities::org_unit::Entity::find_by_id(r.school_id)
            .one(&db.conn)
            .await?
            .map(|u| u.name)
            .unwrap_or_default();
        let names: Vec<NomineeRow> = rows(
            &db.conn,
            "SELECT n.guardian_id, g.name, NULL AS phone, n.reason_json, n.decision, n.certificate_no \
             FROM excellence_nominee n JOIN guardian g ON g.id = n.guardian_id \
             WHERE n.round_id = $1 AND n.decision = 'approved' ORDER BY g.name"
                .into(),
            vec![r.id.into()],
        )
        .await?;
        out.push(PublicNotice {
            round_id: r.id,
            school_name,
            notice_to: r.notice_to.clone().unwrap_or_default(),
            nominees: names.into_iter().map(|n| (n.guardian_id, n.name)).collect(),
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct PublicNotice {
    pub round_id: i64,
    pub school_name: String,
    pub notice_to: String,
    pub nominees: Vec<(i64, String)>,
}

/// An objection during the notice, by a parent of the school or its staff.
pub async fn raise_objection(
    db: &Db,
    scope: &Scope,
    round_id: i64,
    nominee: i64,
    body: &str,
) -> StoreResult<i64> {
    // Who may object comes first: a round the caller cannot see is 404 whatever the
    // body says.
    let visible = public_notices(db, scope)
        .await?
        .iter()
        .any(|n| n.round_id == round_id && n.nominees.iter().any(|(g, _)| *g == nominee));
    let r = excellence_round::Entity::find_by_id(round_id)
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    if !visible {
        // Staff of the school may record an objection received on paper, about one of
        // the round's nominees.
        writable_school(&db.conn, scope, r.school_id).await?;
        let nominated = excellence_nominee::Entity::find()
            .filter(excellence_nominee::Column::RoundId.eq(round_id))
            .filter(excellence_nominee::Column::GuardianId.eq(nominee))
            .one(&db.conn)
            .await?;
        if nominated.is_none() {
            return Err(StoreError::Invalid {
                code: "not_a_nominee",
            });
        }
        if r.status != NOTICE {
            return Err(StoreError::Invalid {
                code: "not_in_notice",
            });
        }
    }
    super::writable_year(&db.conn, r.school_id, r.school_year_id).await?;
    let body = super::text(jiaxiao_domain::text::Field::Note, body)?;
    if body.chars().count() < 5 {
        return Err(StoreError::Invalid {
            code: "objection_too_short",
        });
    }
    let txn = db.begin().await?;
    let id = excellence_objection::ActiveModel {
        round_id: Set(round_id),
        guardian_id: Set(nominee),
        body: Set(body),
        raised_by: Set(scope.user_id()),
        resolution: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?
    .id;
    audit::note(
        &txn,
        scope,
        r.school_id,
        "excellence_objection",
        id,
        "raise",
        Some(serde_json::json!({"nominee": nominee})),
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// The school answers an objection; upheld removes the nominee from the list.
pub async fn resolve_objection(
    db: &Db,
    scope: &Scope,
    objection_id: i64,
    resolution: &str,
    upheld: bool,
) -> StoreResult<()> {
    let txn = db.begin().await?;
    let o = excellence_objection::Entity::find_by_id(objection_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let r = writable_round(&txn, scope, o.round_id).await?;
    let resolution = super::text_required(
        jiaxiao_domain::text::Field::Note,
        resolution,
        "resolution_missing",
    )?;
    if upheld {
        excellence_nominee::Entity::update_many()
            .col_expr(excellence_nominee::Column::Decision, REJECTED.into())
            .filter(excellence_nominee::Column::RoundId.eq(o.round_id))
            .filter(excellence_nominee::Column::GuardianId.eq(o.guardian_id))
            .exec(&txn)
            .await?;
    }
    let mut am: excellence_objection::ActiveModel = o.into();
    am.resolution = Set(Some(format!(
        "{}{}",
        if upheld { "[upheld] " } else { "[dismissed] " },
        resolution
    )));
    am.update(&txn).await?;
    audit::note(
        &txn,
        scope,
        r.school_id,
        "excellence_objection",
        objection_id,
        "resolve",
        Some(serde_json::json!({"upheld": upheld})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Awards the approved nominees once the notice period has ended (or `force` for a
/// school that ends it early by decision) and every objection is answered; numbers
/// their certificates.
pub async fn award(db: &Db, scope: &Scope, round_id: i64, force: bool) -> StoreResult<usize> {
    let txn = db.begin().await?;
    let r = writable_round(&txn, scope, round_id).await?;
    if r.status != NOTICE {
        return Err(StoreError::Invalid {
            code: "not_in_notice",
        });
    }
    let today = crate::today();
    if !force && r.notice_to.as_deref().is_some_and(|t| t >= today.as_str()) {
        return Err(StoreError::Invalid {
            code: "notice_running",
        });
    }
    let open = excellence_objection::Entity::find()
        .filter(excellence_objection::Column::RoundId.eq(round_id))
        .filter(excellence_objection::Column::Resolution.is_null())
        .all(&txn)
        .await?;
    if !open.is_empty() {
        return Err(StoreError::Invalid {
            code: "objections_open",
        });
    }
    let approved = excellence_nominee::Entity::find()
        .filter(excellence_nominee::Column::RoundId.eq(round_id))
        .filter(excellence_nominee::Column::Decision.eq(APPROVED))
        .all(&txn)
        .await?;
    let year_name = crate::entities::school_year::Entity::find_by_id(r.school_year_id)
        .one(&txn)
        .await?
        .map(|y| y.name)
        .unwrap_or_default();
    let prefix: String = year_name
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(4)
        .collect();
    let n = approved.len();
    let mut approved = approved;
    approved.sort_by_key(|a| a.guardian_id);
    for (i, a) in approved.into_iter().enumerate() {
        let mut am: excellence_nominee::ActiveModel = a.into();
        am.decision = Set(AWARDED.into());
        am.certificate_no = Set(Some(format!("{prefix}-{}-{:04}", r.school_id, i + 1)));
        am.update(&txn).await?;
    }
    let school = r.school_id;
    set_status(&txn, r, AWARDED).await?;
    audit::note(
        &txn,
        scope,
        school,
        "excellence_round",
        round_id,
        "award",
        Some(serde_json::json!({"awarded": n})),
    )
    .await?;
    txn.commit().await?;
    Ok(n)
}

/// Sets the seal image printed on the round's certificates.
pub async fn set_seal(
    db: &Db,
    scope: &Scope,
    round_id: i64,
    attachment_id: i64,
) -> StoreResult<()> {
    let txn = db.begin().await?;
    let r = writable_round(&txn, scope, round_id).await?;
    let a = crate::entities::attachment::Entity::find_by_id(attachment_id)
        .one(&txn)
        .await?
        .filter(|a| a.school_id == r.school_id)
        .ok_or(StoreError::NotFound)?;
    let school = r.school_id;
    let mut am: excellence_round::ActiveModel = r.into();
    am.seal_attachment_id = Set(Some(a.id));
    am.update(&txn).await?;
    audit::note(
        &txn,
        scope,
        school,
        "excellence_round",
        round_id,
        "seal",
        Some(serde_json::json!({"attachment": attachment_id})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A parent's own certificates: awarded rounds where they are named.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct MyCertificate {
    pub round_id: i64,
    pub school_id: i64,
    pub school_name: String,
    pub year_name: String,
    pub certificate_no: Option<String>,
}

pub async fn my_certificates(db: &Db, scope: &Scope) -> StoreResult<Vec<MyCertificate>> {
    let Some(g) = scope.guardian_id() else {
        return Ok(Vec::new());
    };
    rows(
        &db.conn,
        "SELECT r.id AS round_id, r.school_id, o.name AS school_name, y.name AS year_name, n.certificate_no \
         FROM excellence_nominee n JOIN excellence_round r ON r.id = n.round_id \
         JOIN org_unit o ON o.id = r.school_id JOIN school_year y ON y.id = r.school_year_id \
         WHERE n.guardian_id = $1 AND n.decision = 'awarded' ORDER BY y.name DESC"
            .into(),
        vec![g.into()],
    )
    .await
}

/// Whether the caller may print the round's certificates: staff of the school, or a
/// parent for their own certificate.
pub async fn certificate_round(db: &Db, scope: &Scope, round_id: i64) -> StoreResult<Round> {
    let r = excellence_round::Entity::find_by_id(round_id)
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut view = round_view(db, r).await?;
    if let Some(g) = scope.guardian_id()
        && !scope.is_staff()
    {
        view.nominees.retain(|n| n.guardian_id == g);
        if view
            .nominees
            .iter()
            .all(|n| n.decision != NomineeDecision::Awarded.code())
        {
            return Err(StoreError::NotFound);
        }
        return Ok(view);
    }
    visible_school(&db.conn, scope, view.round.school_id).await?;
    in_reach(db, scope, view).await
}
