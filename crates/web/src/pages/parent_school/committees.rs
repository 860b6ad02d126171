//! The parent school's bodies: the leadership group (staff) and the parent committees
//! at school, grade and class level for this school year — creating them, adding and
//! removing members in their positions (parents found by name or phone among the
//! body's own parents) — and the roster to print or download.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiaxiao_domain::UnitKind;
use jiaxiao_domain::parent_school::{CommitteeKind, Position};
use jiaxiao_store::org;
use jiaxiao_store::parent_school::committees::{self, NewCommittee, NewMember};
use jiaxiao_store::parent_school::reach::Phones;
use jiaxiao_store::parent_school::sessions;
use jiaxiao_store::people;
use serde::Deserialize;

use super::home::xlsx_response;
use super::opt_text;
use super::{SchoolNav, SchoolYear, may_write};
use crate::app::AppState;
use crate::auth::Staff;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::pages::Chrome;
use crate::pages::form::{FieldsOf, Posted, Submitted, done, unprocessable};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/ps/schools/{id}/committees",
            get(list_committees).post(create_committee),
        )
        .route("/ps/schools/{id}/committees/print", get(print_roster))
        .route("/ps/schools/{id}/committees/roster.xlsx", get(roster_xlsx))
        .route(
            "/ps/schools/{id}/committees/{cid}/members",
            post(add_member),
        )
        .route(
            "/ps/schools/{id}/committees/{cid}/delete",
            post(delete_committee),
        )
        .route(
            "/ps/schools/{id}/committees/members/{mid}/remove",
            post(remove_member),
        )
}

pub struct MemberView {
    pub id: i64,
    pub position: String,
    pub name: String,
    pub phone: String,
    /// 王小明（三年级(2)班）: whose parent this is.
    pub children: String,
    pub note: String,
}

pub struct BodyView {
    pub id: i64,
    pub name: String,
    pub level: String,
    pub leadership: bool,
    /// This parent committee is the one being searched for a new member.
    pub searching: bool,
    pub members: Vec<MemberView>,
    /// (code, label) of the positions this body has.
    pub positions: Vec<(String, String)>,
}

fn position_label(lang: Lang, code: &str) -> String {
    lang.t(&format!("position.{code}"))
}

fn body_views(lang: Lang, bodies: Vec<committees::Body>) -> Vec<BodyView> {
    bodies
        .into_iter()
        .map(|b| {
            let kind =
                CommitteeKind::from_code(&b.committee.kind).unwrap_or(CommitteeKind::Committee);
            BodyView {
                id: b.committee.id,
                name: b.committee.name,
                level: format!(
                    "{}（{}）",
                    b.committee.unit_name,
                    lang.t(&format!("kind.{}", b.committee.unit_kind))
                ),
                leadership: kind == CommitteeKind::Leadership,
                searching: false,
                positions: Position::of(kind)
                    .into_iter()
                    .map(|p| (p.code().to_owned(), position_label(lang, p.code())))
                    .collect(),
                members: b
                    .members
                    .into_iter()
                    .map(|(m, ch)| MemberView {
                        id: m.id,
                        position: position_label(lang, &m.position),
                        name: m.person_name,
                        phone: m.phone.unwrap_or_default(),
                        children: ch
                            .into_iter()
                            .map(|c| match c.class_name {
                                Some(k) => format!("{}（{k}）", c.pupil_name),
                                None => c.pupil_name,
                            })
                            .collect::<Vec<_>>()
                            .join("、"),
                        note: m.note.unwrap_or_default(),
                    })
                    .collect(),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "parent_school/committees.html")]
struct CommitteesPage {
    c: Chrome,
    nav: SchoolNav,
    year_name: String,
    can_write: bool,
    /// (unit id, name) of the school, its grades and its classes.
    levels: Vec<(i64, String)>,
    bodies: Vec<BodyView>,
    /// (staff id, name · position) of the school's staff, for the leadership group.
    staff: Vec<(i64, String)>,
    /// The search text and its hits, shown under the committee being searched.
    q: String,
    candidates: Vec<(i64, String, String)>,
    /// A refused form, shown again with what was typed.
    posted: Posted,
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    /// The committee to find parents for.
    committee: Option<i64>,
    q: Option<String>,
}

async fn list_committees(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
    Query(sq): Query<SearchQuery>,
) -> Result<Html<String>, AppError> {
    Ok(Html(
        render_list(&state, &s, &y, id, sq, Posted::none()).await?,
    ))
}

/// The committees page of the year the form was posted in (its `?year=`) again with
/// the refused form `p`: 422.
async fn refused(
    state: &AppState,
    s: &Staff,
    y: &SchoolYear,
    id: i64,
    p: Posted,
) -> Result<Response, AppError> {
    let page = render_list(state, s, y, id, SearchQuery::default(), p).await?;
    Ok(unprocessable(page))
}

async fn render_list(
    state: &AppState,
    s: &Staff,
    y: &SchoolYear,
    id: i64,
    sq: SearchQuery,
    p: Posted,
) -> Result<String, AppError> {
    let lang = s.lang;
    let scope = &s.user.scope;
    let school = sessions::school(&state.db, scope, id).await?;
    let (year, year_name) = (y.id, y.label());
    let bodies = committees::bodies(&state.db, scope, id, year).await?;
    // The forms list the school's grades, classes and staff: only for those whose reach
    // is the whole school. A head teacher reads their class's committee.
    let can_write =
        y.open && may_write(scope) && sessions::sees_whole_school(&state.db, scope, id).await?;
    let phones = Phones::of(&state.db.conn, scope, id).await?;
    let mut levels = vec![(school.id, school.name.clone())];
    let mut staff = Vec::new();
    if can_write {
        let today = jiaxiao_store::today();
        let mut units = org::units_under(&state.db, scope, id, UnitKind::Grade, &today).await?;
        units.extend(org::units_under(&state.db, scope, id, UnitKind::Class, &today).await?);
        units.sort_by_key(|u| (u.grade_level, u.class_number.unwrap_or(0)));
        levels.extend(units.into_iter().map(|u| (u.id, u.name)));
        staff = people::list_staff(
            &state.db,
            scope,
            &people::Query {
                under: Some(id),
                limit: 500,
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .map(|st| match st.position {
            Some(p) => (st.id, format!("{} · {p}", st.name)),
            None => (st.id, st.name),
        })
        .collect();
    }
    // Parents are found among the body's own parents: the school's, the grade's or the
    // class's.
    let q = sq.q.clone().unwrap_or_default();
    let search_in = sq
        .committee
        .and_then(|c| bodies.iter().find(|b| b.committee.id == c))
        .filter(|b| b.committee.kind == CommitteeKind::Committee.code());
    let candidates = match (search_in, q.trim()) {
        (Some(b), text) if !text.is_empty() && can_write => people::list_guardians(
            &state.db,
            scope,
            &people::Query {
                q: Some(text.to_owned()),
                under: Some(b.committee.unit_id),
                limit: 20,
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .map(|g| (g.id, g.name, phones.show(g.phone).unwrap_or_default()))
        .collect(),
        _ => Vec::new(),
    };
    let search_in = search_in.map(|b| b.committee.id);
    let mut bodies = body_views(lang, bodies);
    for b in &mut bodies {
        b.searching = Some(b.id) == search_in;
    }
    Ok(CommitteesPage {
        c: Chrome::new(lang, Some(&s.user)),
        nav: SchoolNav::new(school, "committees").with_year(y),
        year_name,
        can_write,
        levels,
        bodies,
        staff,
        q,
        candidates,
        posted: p,
    }
    .render()?)
}

/// Where a committee's or a member's refusal is shown.
const COMMITTEE_FIELDS: &FieldsOf = &[
    ("bad_kind", "kind"),
    ("leadership_at_school_only", "unit_id"),
    ("unit_outside_school", "unit_id"),
    ("*", "name"),
];
const MEMBER_FIELDS: &FieldsOf = &[
    ("position_not_in_body", "position"),
    ("position_taken", "position"),
    ("staff_not_at_school", "staff_id"),
    ("text_too_long", "note"),
    ("text_control_char", "note"),
    ("text_bidi_override", "note"),
];

#[derive(Deserialize)]
pub struct NewCommitteeForm {
    csrf: String,
    unit_id: i64,
    kind: String,
    #[serde(default)]
    name: String,
}

async fn create_committee(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
    Submitted { form: f, raw }: Submitted<NewCommitteeForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    jiaxiao_store::parent_school::check_writable(&state.db, &s.user.scope, id).await?;
    match create_committee_in(&state, &s, &y, id, &f).await {
        Ok(cid) => Ok(done(
            &format!("/ps/schools/{id}/committees{}#c{cid}", y.q()),
            "created",
        )),
        Err(e) => {
            let p = Posted::refused(s.lang, "committee", raw, e, COMMITTEE_FIELDS, |p| {
                p.check(s.lang, "name", jiaxiao_domain::text::Field::Title, &f.name)
            })?;
            refused(&state, &s, &y, id, p).await
        }
    }
}

async fn create_committee_in(
    state: &AppState,
    s: &Staff,
    y: &SchoolYear,
    id: i64,
    f: &NewCommitteeForm,
) -> Result<i64, AppError> {
    let lang = s.lang;
    let kind =
        CommitteeKind::from_code(&f.kind).ok_or_else(|| AppError::Invalid("bad_kind".into()))?;
    // A body without a name is named after its kind and level, as schools write it:
    // 家长学校工作领导小组, 家长委员会, 三年级(2)班家长委员会.
    let name = match opt_text(&f.name) {
        Some(n) => n,
        None if kind == CommitteeKind::Committee && f.unit_id != id => {
            let unit = org::get_unit(&state.db, &s.user.scope, f.unit_id).await?;
            format!("{}{}", unit.name, lang.t("committee_kind.committee"))
        }
        None => lang.t(&format!("committee_kind.{}", kind.code())),
    };
    Ok(committees::create_committee(
        &state.db,
        &s.user.scope,
        NewCommittee {
            school_id: id,
            // The year the page shows; the current one is made on its first body.
            school_year_id: (!y.current && y.id > 0).then_some(y.id),
            unit_id: f.unit_id,
            kind,
            name,
        },
    )
    .await?)
}

#[derive(Deserialize)]
pub struct NewMemberForm {
    csrf: String,
    position: String,
    #[serde(default)]
    staff_id: Option<i64>,
    #[serde(default)]
    guardian_id: Option<i64>,
    #[serde(default)]
    note: String,
}

async fn add_member(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path((id, cid)): Path<(i64, i64)>,
    Submitted { form: f, raw }: Submitted<NewMemberForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let r = match Position::from_code(&f.position) {
        Some(position) => committees::add_member(
            &state.db,
            &s.user.scope,
            cid,
            NewMember {
                position,
                staff_id: f.staff_id,
                guardian_id: f.guardian_id,
                note: opt_text(&f.note),
            },
        )
        .await
        .map_err(AppError::from),
        None => Err(AppError::Invalid("position_not_in_body".into())),
    };
    match r {
        Ok(_) => Ok(done(
            &format!("/ps/schools/{id}/committees{}#c{cid}", y.q()),
            "added",
        )),
        Err(e) => {
            // The body before the body of the form: another school's committee is 404.
            committees::get_committee(&state.db, &s.user.scope, cid).await?;
            let p = Posted::refused(s.lang, "member", raw, e, MEMBER_FIELDS, |p| {
                p.check(s.lang, "note", jiaxiao_domain::text::Field::Line, &f.note)
            })?;
            refused(&state, &s, &y, id, p.about(cid)).await
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

async fn remove_member(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path((id, mid)): Path<(i64, i64)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    committees::remove_member(&state.db, &s.user.scope, mid).await?;
    Ok(done(
        &format!("/ps/schools/{id}/committees{}", y.q()),
        "removed",
    ))
}

async fn delete_committee(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path((id, cid)): Path<(i64, i64)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    committees::delete_committee(&state.db, &s.user.scope, cid).await?;
    Ok(done(
        &format!("/ps/schools/{id}/committees{}", y.q()),
        "deleted",
    ))
}

#[derive(Template)]
#[template(path = "parent_school/committees_print.html")]
struct RosterPrint {
    c: Chrome,
    school_name: String,
    school_id: i64,
    year_name: String,
    bodies: Vec<BodyView>,
}

/// The roster as a page to print: one table per body, heads first.
async fn print_roster(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let scope = &s.user.scope;
    let school = sessions::school(&state.db, scope, id).await?;
    let (year, year_name) = (y.id, y.label());
    let bodies = committees::bodies(&state.db, scope, id, year).await?;
    Ok(Html(
        RosterPrint {
            c: Chrome::new(s.lang, Some(&s.user)),
            school_name: school.name,
            school_id: id,
            year_name,
            bodies: body_views(s.lang, bodies),
        }
        .render()?,
    ))
}

/// The same roster as a spreadsheet, one line per member.
async fn roster_xlsx(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let lang = s.lang;
    let scope = &s.user.scope;
    let school = sessions::school(&state.db, scope, id).await?;
    let (year, year_name) = (y.id, y.label());
    let lines = committees::roster_for_year(&state.db, scope, id, year).await?;
    let sheet = lang.t("ps_org.title");
    let title = format!(
        "{} {year_name} {}",
        school.name,
        lang.t("ps_org.roster_title")
    );
    let bytes = jiaxiao_export::xlsx(&[jiaxiao_export::Sheet {
        name: &sheet,
        title: &title,
        headers: [
            "ps_org.body",
            "ps_org.level",
            "ps_org.position",
            "ps_org.name",
            "ps_org.phone",
            "ps_org.note",
        ]
        .iter()
        .map(|k| lang.t(k))
        .collect(),
        rows: lines
            .into_iter()
            .map(|l| {
                vec![
                    l.committee_name.into(),
                    l.level_name.into(),
                    position_label(lang, &l.position).into(),
                    l.person_name.into(),
                    l.phone.into(),
                    l.note.into(),
                ]
            })
            .collect(),
    }])
    .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(xlsx_response(bytes, "committees.xlsx"))
}
