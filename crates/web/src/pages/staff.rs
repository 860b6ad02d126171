//! Staff pages shared by school and office staff: the tree browser, people lists with
//! search, accounts and roles, password change, invitation codes.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiaxiao_domain::{Role, UnitKind};
use jiaxiao_export::Cell;
use jiaxiao_store::accounts::{self, NewUser, UserGrantRow};
use jiaxiao_store::org::{self, ChildRow, UnitRow};
use jiaxiao_store::people;
use serde::Deserialize;

use super::Chrome;
use super::form::{FieldsOf, Posted, Submitted, done, unprocessable};
use super::list::{self, Column, Filter, List, ListQuery, ListView, Row};
use crate::app::AppState;
use crate::auth::{Ctx, Staff};
use crate::error::AppError;
use crate::i18n::Lang;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/org", get(tree_roots))
        .route("/org/{id}", get(tree_unit))
        .route("/org/{id}/children", post(create_unit))
        .route("/org/{id}/move", post(move_unit))
        .route("/people", get(list_people))
        .route("/people.xlsx", get(people_xlsx))
        .route("/people/pupils/{id}", get(show_pupil))
        .route("/people/guardians/{id}", get(show_guardian))
        .route("/people/invitations", post(issue_invitations))
        .route("/people/staff", post(create_staff))
        .route("/accounts", get(list_accounts).post(create_account))
        .route("/accounts.xlsx", get(accounts_xlsx))
        .route("/accounts/grants/{id}/revoke", post(revoke_grant))
        .route("/accounts/users/{id}", get(show_account_user))
        .route("/accounts/users/{id}/grants", post(grant_to_user))
        .route(
            "/accounts/users/{id}/grants/{grant}/revoke",
            post(revoke_user_grant),
        )
        .route(
            "/account/password",
            get(password_form).post(change_password),
        )
        .route("/account/tokens", get(list_tokens).post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
}

#[derive(Template)]
#[template(path = "tree.html")]
struct TreePage {
    c: Chrome,
    unit: Option<UnitRow>,
    path: Vec<UnitRow>,
    children: Vec<ChildRow>,
    /// The kind a new child would have, when the caller may add one here.
    child_kind: Option<String>,
    school_types: Vec<(String, String)>,
    grade_levels: Vec<(i32, String)>,
    /// Where this unit could move to, when the caller may move it.
    move_targets: Vec<(i64, String)>,
    today: String,
    /// The date read when it is not today.
    as_of: Option<String>,
    /// Moves on file that are not in force yet on the date read.
    pending: Vec<org::PendingMove>,
    /// A refused form, shown again with what was typed.
    posted: Posted,
}

async fn tree_roots(State(state): State<AppState>, s: Staff) -> Result<Html<String>, AppError> {
    let roots = org::roots(&state.db, &s.user.scope).await?;
    if roots.len() == 1 {
        return tree_page(&state, &s, roots[0].id, Posted::none()).await;
    }
    let children = roots
        .into_iter()
        .map(|r| ChildRow {
            id: r.id,
            kind: r.kind,
            name: r.name,
            school_type: r.school_type,
            children: 0,
        })
        .collect();
    Ok(Html(
        TreePage {
            c: Chrome::new(s.lang, Some(&s.user)),
            unit: None,
            path: Vec::new(),
            children,
            child_kind: None,
            school_types: Vec::new(),
            grade_levels: Vec::new(),
            move_targets: Vec::new(),
            today: jiaxiao_store::today(),
            as_of: None,
            pending: Vec::new(),
            posted: Posted::none(),
        }
        .render()?,
    ))
}

async fn tree_unit(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Query(q): Query<crate::pages::AsOfQuery>,
) -> Result<Html<String>, AppError> {
    tree_page_as_of(&state, &s, id, Posted::none(), q.date()?).await
}

async fn tree_page(
    state: &AppState,
    s: &Staff,
    id: i64,
    posted: Posted,
) -> Result<Html<String>, AppError> {
    tree_page_as_of(state, s, id, posted, org::today_naive()).await
}

/// The tree around `id` as it stands on `as_of`, with the moves on file for later dates
/// listed as pending.
async fn tree_page_as_of(
    state: &AppState,
    s: &Staff,
    id: i64,
    posted: Posted,
    as_of: chrono::NaiveDate,
) -> Result<Html<String>, AppError> {
    let scope = &s.user.scope;
    let unit = org::get_unit(&state.db, scope, id).await?;
    let path = org::path(&state.db, scope, id, as_of).await?;
    let children = org::children(&state.db, scope, id, as_of).await?;
    let pending = org::pending_moves(&state.db, scope, id, as_of).await?;
    let today = org::today_naive();
    let kind = UnitKind::from_code(&unit.kind);
    let manages = org::manages(&state.db, scope, id).await?;
    let child_kind = kind
        .and_then(|k| k.child())
        .filter(|_| manages)
        .map(|k| k.code().to_owned());
    let lang = s.lang;
    let school_types = jiaxiao_domain::SchoolType::ALL
        .iter()
        .map(|t| {
            (
                t.code().to_owned(),
                lang.t(&format!("school_type.{}", t.code())),
            )
        })
        .collect();
    let grade_levels = unit
        .school_type
        .as_deref()
        .and_then(jiaxiao_domain::SchoolType::from_code)
        .map(|t| {
            t.grade_levels()
                .map(|l| (l, jiaxiao_domain::org::grade_name(l)))
                .collect()
        })
        .unwrap_or_default();
    // A unit moves under another node of its parent's kind, inside the caller's reach.
    let mut move_targets = Vec::new();
    if manages && let (Some(parent), Some(k)) = (unit.parent_id, kind) {
        let parent_kind = UnitKind::ALL.iter().copied().find(|p| p.child() == Some(k));
        if let Some(pk) = parent_kind {
            for root in org::roots(&state.db, scope).await? {
                let mut found =
                    org::units_under(&state.db, scope, root.id, pk, &jiaxiao_store::today())
                        .await?;
                found.retain(|u| u.id != parent);
                move_targets.extend(found.into_iter().map(|u| (u.id, u.name)));
            }
            move_targets.sort();
            move_targets.dedup();
        }
    }
    Ok(Html(
        TreePage {
            c: Chrome::new(lang, Some(&s.user)),
            unit: Some(unit),
            path,
            children,
            child_kind,
            school_types,
            grade_levels,
            move_targets,
            today: jiaxiao_store::today(),
            as_of: (as_of != today).then(|| as_of.format("%Y-%m-%d").to_string()),
            pending,
            posted,
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct NewUnitForm {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    school_type: String,
    #[serde(default)]
    number: String,
}

async fn create_unit(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Submitted { form: f, raw }: Submitted<NewUnitForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    match add_child(&state, &s, id, f).await {
        Ok(()) => Ok(done(&format!("/org/{id}"), "added")),
        Err(e) => {
            let fields: &FieldsOf = &[
                ("bad_grade", "number"),
                ("bad_class", "number"),
                ("bad_number", "number"),
                ("bad_school_type", "school_type"),
                ("conflict", "name"),
                ("missing_name", "name"),
                ("text_too_long", "name"),
                ("text_control_char", "name"),
                ("text_bidi_override", "name"),
            ];
            refused(
                &state,
                &s,
                id,
                Posted::refused(s.lang, "unit", raw, e, fields, |_| {})?,
            )
            .await
        }
    }
}

/// A refused change to the tree shows the tree again with the form as it was typed and
/// the reason beside its field: 422.
async fn refused(state: &AppState, s: &Staff, id: i64, p: Posted) -> Result<Response, AppError> {
    let page = tree_page(state, s, id, p).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

async fn add_child(state: &AppState, s: &Staff, id: i64, f: NewUnitForm) -> Result<(), AppError> {
    org::add_child(
        &state.db,
        &s.user.scope,
        id,
        org::ChildInput {
            name: f.name,
            code: f.code,
            school_type: f.school_type,
            number: f.number.trim().parse::<i32>().ok(),
        },
    )
    .await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct MoveForm {
    csrf: String,
    parent_id: i64,
    effective: String,
}

async fn move_unit(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Submitted { form: f, raw }: Submitted<MoveForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    match org::move_unit(
        &state.db,
        &s.user.scope,
        id,
        f.parent_id,
        f.effective.trim(),
    )
    .await
    {
        Ok(()) => Ok(done(&format!("/org/{id}"), "moved")),
        Err(e) => {
            let fields: &FieldsOf = &[("bad_date", "effective"), ("*", "parent_id")];
            let p = Posted::refused(s.lang, "move", raw, e.into(), fields, |_| {})?;
            refused(&state, &s, id, p).await
        }
    }
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    c: Chrome,
    kind: String,
    under: Option<i64>,
    /// `&under=…` for the tabs, so switching kind keeps the unit.
    under_q: String,
    list: ListView,
    /// The node whose parents may be sent invitation codes from this page.
    invite_under: Option<i64>,
    /// Where the caller may add staff (empty: no form).
    staff_units: Vec<(i64, String)>,
    /// A refused form, shown again with what was typed.
    posted: Posted,
}

/// The most units the unit filter offers; a bigger tree offers its offices, schools and
/// grades (a class is reached from the tree page's link).
const UNIT_CHOICES: usize = 400;

/// Which people a list shows, read from `?kind=`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pupils,
    Guardians,
    Staff,
}

impl Kind {
    fn of(lq: &ListQuery) -> Kind {
        match lq.get("kind") {
            Some("guardians") => Kind::Guardians,
            Some("staff") => Kind::Staff,
            _ => Kind::Pupils,
        }
    }
    fn code(self) -> &'static str {
        match self {
            Kind::Pupils => "pupils",
            Kind::Guardians => "guardians",
            Kind::Staff => "staff",
        }
    }
}

/// The store query a people list asks: its search, unit, filters and sort, and the page
/// (`export`: every matching row, up to the export's limit).
fn people_query(kind: Kind, lq: &ListQuery, export: bool) -> people::Query {
    let desc = lq.desc;
    let sort = match (kind, lq.sort.as_deref()) {
        (_, Some("name")) => people::Sort::Name { desc },
        (Kind::Pupils, Some("student_no")) | (Kind::Staff, Some("unit")) => {
            people::Sort::Code { desc }
        }
        _ => people::Sort::Added,
    };
    people::Query {
        q: lq.search().map(str::to_owned),
        under: lq.get("under").and_then(|u| u.parse().ok()),
        offset: if export { 0 } else { lq.offset() as u64 },
        cursor: if export {
            None
        } else {
            lq.after
                .map(people::Cursor::After)
                .or(lq.before.map(people::Cursor::Before))
        },
        limit: if export {
            list::EXPORT_MAX as u64 + 1
        } else {
            lq.size as u64
        },
        sort,
        gender: lq
            .get("gender")
            .filter(|g| matches!(*g, "m" | "f"))
            .map(str::to_owned),
        has_account: match lq.get("account") {
            Some("1") => Some(true),
            Some("0") => Some(false),
            _ => None,
        },
        ..Default::default()
    }
}

/// A people list (columns and filters) with one page of rows, or every matching row for
/// the export, and the total: the page and its XLSX read through the same scoped store
/// calls.
async fn people_list(
    state: &AppState,
    s: &Staff,
    lq: &ListQuery,
    export: bool,
) -> Result<(List, Vec<Row>, usize, Vec<i64>), AppError> {
    let lang = s.lang;
    let scope = &s.user.scope;
    let kind = Kind::of(lq);
    let query = people_query(kind, lq, export);
    let under = query.under;
    let base = "/people".to_owned();
    // The rows' ids, in order: the page's links continue from the first and the last.
    let ids: Vec<i64>;
    let (columns, rows, total) = match kind {
        Kind::Guardians => {
            let total = people::count_guardians(&state.db, scope, &query).await?;
            let r = people::list_guardians(&state.db, scope, &query).await?;
            ids = r.iter().map(|g| g.id).collect();
            (
                vec![
                    Column::text("name", lang.t("people.name")),
                    Column::fixed("phone", lang.t("people.phone")),
                    Column {
                        sortable: false,
                        ..Column::number("children", lang.t("people.children_here"))
                    },
                    Column::fixed("account", lang.t("people.account")),
                ],
                r.into_iter()
                    .map(|g| Row {
                        href: Some(format!("/people/guardians/{}", g.id)),
                        cells: vec![
                            Cell::Text(g.name),
                            Cell::Text(g.phone.unwrap_or_default()),
                            Cell::Int(g.children),
                            Cell::Text(if g.has_account {
                                lang.t("list.yes")
                            } else {
                                String::new()
                            }),
                        ],
                        ..Default::default()
                    })
                    .collect::<Vec<_>>(),
                total,
            )
        }
        Kind::Staff => {
            let total = people::count_staff(&state.db, scope, &query).await?;
            let r = people::list_staff(&state.db, scope, &query).await?;
            ids = r.iter().map(|x| x.id).collect();
            (
                vec![
                    Column::text("name", lang.t("people.name")),
                    Column::fixed("position", lang.t("people.position")),
                    Column::text("unit", lang.t("people.unit")),
                    Column::fixed("phone", lang.t("people.phone")),
                ],
                r.into_iter()
                    .map(|x| Row {
                        href: Some(format!("/org/{}", x.unit_id)),
                        cells: vec![
                            Cell::Text(x.name),
                            Cell::Text(x.position.unwrap_or_default()),
                            Cell::Text(x.unit_name),
                            Cell::Text(x.phone.unwrap_or_default()),
                        ],
                        ..Default::default()
                    })
                    .collect(),
                total,
            )
        }
        Kind::Pupils => {
            let total = people::count_pupils(&state.db, scope, &query).await?;
            let r = people::list_pupils(&state.db, scope, &query).await?;
            ids = r.iter().map(|p| p.id).collect();
            (
                vec![
                    Column::text("student_no", lang.t("people.student_no")),
                    Column::text("name", lang.t("people.name")),
                    Column::fixed("gender", lang.t("people.gender")),
                    Column::fixed("school", lang.t("people.school")),
                    Column::fixed("class", lang.t("people.class")),
                ],
                r.into_iter()
                    .map(|p| {
                        let g = match p.gender.as_deref() {
                            Some("m") => lang.t("people.m"),
                            Some("f") => lang.t("people.f"),
                            _ => String::new(),
                        };
                        Row {
                            href: Some(format!("/people/pupils/{}", p.id)),
                            cells: vec![
                                Cell::Text(p.student_no),
                                Cell::Text(p.name),
                                Cell::Text(g),
                                Cell::Text(p.school_name),
                                Cell::Text(p.class_name.unwrap_or_default()),
                            ],
                            ..Default::default()
                        }
                    })
                    .collect(),
                total,
            )
        }
    };
    let mut list = List::new("people", base, columns)
        .search_hint(lang.t("people.search"))
        .empty(lang.t(match kind {
            Kind::Staff => "people.none_staff",
            _ => "people.none_pupils",
        }))
        .export("/people.xlsx");
    // The unit filter: the caller's managed units in tree order, classes left out of a
    // big tree; a unit given by a link from the tree page is offered even when left out.
    if scope.can_manage() {
        let mut tree = jiaxiao_store::accounts::managed_tree(&state.db, scope).await?;
        if tree.len() > UNIT_CHOICES {
            tree.retain(|u| u.kind != UnitKind::Class);
            tree.truncate(UNIT_CHOICES);
        }
        let mut options: Vec<(String, String)> = tree
            .iter()
            .map(|u| {
                (
                    u.id.to_string(),
                    format!("{}{}", "\u{a0}\u{a0}".repeat(u.depth.min(4)), u.label()),
                )
            })
            .collect();
        if let Some(u) = under
            && !tree.iter().any(|t| t.id == u)
        {
            let unit = org::get_unit(&state.db, scope, u).await?;
            options.insert(0, (u.to_string(), unit.name));
        }
        list = list.filter(Filter::Choice {
            key: "under",
            label: lang.t("people.unit"),
            options,
        });
    }
    match kind {
        Kind::Pupils => {
            list = list.filter(Filter::Choice {
                key: "gender",
                label: lang.t("people.gender"),
                options: vec![
                    ("m".into(), lang.t("people.m")),
                    ("f".into(), lang.t("people.f")),
                ],
            })
        }
        Kind::Guardians => {
            list = list.filter(Filter::Choice {
                key: "account",
                label: lang.t("people.account"),
                options: vec![
                    ("1".into(), lang.t("people.has_account")),
                    ("0".into(), lang.t("people.no_account")),
                ],
            })
        }
        Kind::Staff => {}
    }
    Ok((list, rows, total as usize, ids))
}

async fn list_people(
    State(state): State<AppState>,
    s: Staff,
    lq: ListQuery,
) -> Result<Html<String>, AppError> {
    people_page(&state, &s, lq, Posted::none()).await
}

/// The filtered people list as XLSX (phones shown as the page shows them).
async fn people_xlsx(
    State(state): State<AppState>,
    s: Staff,
    lq: ListQuery,
) -> Result<Response, AppError> {
    let (list, rows, total, _) = people_list(&state, &s, &lq, true).await?;
    if total > list::EXPORT_MAX {
        return Err(AppError::Invalid("export_too_large".into()));
    }
    let kind = Kind::of(&lq);
    let title = s.lang.t(match kind {
        Kind::Pupils => "people.pupils",
        Kind::Guardians => "people.guardians",
        Kind::Staff => "people.staff",
    });
    list::xlsx(
        &title,
        &format!("{}.xlsx", kind.code()),
        &list.columns,
        &rows,
    )
}

async fn people_page(
    state: &AppState,
    s: &Staff,
    lq: ListQuery,
    posted: Posted,
) -> Result<Html<String>, AppError> {
    let lang = s.lang;
    let scope = &s.user.scope;
    let kind = Kind::of(&lq);
    let under: Option<i64> = lq.get("under").and_then(|u| u.parse().ok());
    let (list, rows, total, ids) = people_list(state, s, &lq, false).await?;
    let list = list.paged(lang, &lq, rows, total).keyset(&ids);
    let under_q = under.map(|u| format!("&under={u}")).unwrap_or_default();
    let staff_units = if kind == Kind::Staff && scope.can_manage() {
        super::managed_units(state, scope, &UnitKind::ALL[..4])
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect()
    } else {
        Vec::new()
    };
    let invite_under = if kind == Kind::Guardians && scope.can_manage() {
        match under {
            Some(u) if org::manages(&state.db, scope, u).await? => Some(u),
            Some(_) => None,
            None => scope.manage_roots().first().copied(),
        }
    } else {
        None
    };
    Ok(Html(
        PeoplePage {
            c: Chrome::new(lang, Some(&s.user)),
            posted,
            invite_under,
            staff_units,
            kind: kind.code().to_owned(),
            under,
            under_q,
            list,
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct NewStaffForm {
    csrf: String,
    unit_id: i64,
    name: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    phone: String,
}

async fn create_staff(
    State(state): State<AppState>,
    s: Staff,
    Submitted { form: f, raw }: Submitted<NewStaffForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let unit = f.unit_id;
    match add_staff(&state, &s, f).await {
        Ok(()) => Ok(done(&format!("/people?kind=staff&under={unit}"), "added")),
        Err(e) => {
            let fields: &FieldsOf = &[
                ("phone_not_mobile", "phone"),
                ("phone_not_digits", "phone"),
                ("phone_empty", "phone"),
                ("position_text", "position"),
                ("*", "name"),
            ];
            let p = Posted::refused(s.lang, "staff", raw, e, fields, |_| {})?;
            let lq = ListQuery::from_pairs(vec![
                ("kind".into(), "staff".into()),
                ("under".into(), unit.to_string()),
            ]);
            Ok(unprocessable(people_page(&state, &s, lq, p).await?.0))
        }
    }
}

async fn add_staff(state: &AppState, s: &Staff, f: NewStaffForm) -> Result<(), AppError> {
    people::add_staff(
        &state.db,
        &s.user.scope,
        people::StaffInput {
            unit_id: f.unit_id,
            name: f.name,
            phone: f.phone,
            position: f.position,
        },
    )
    .await?;
    Ok(())
}

#[derive(Template)]
#[template(path = "invitations.html")]
struct InvitationsPage {
    c: Chrome,
    rows: Vec<(String, String, String)>,
    message: Option<String>,
}

#[derive(Deserialize)]
pub struct InviteForm {
    csrf: String,
    under: i64,
    /// "show" (a printable page), "xlsx" (a download) or "sms" (sent to each phone).
    mode: String,
}

/// Issues fresh codes for the parents under a node who have no password yet; the codes
/// exist only in this response (the database keeps their hashes).
async fn issue_invitations(
    State(state): State<AppState>,
    s: Staff,
    Form(f): Form<InviteForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let lang = s.lang;
    let ids = accounts::guardians_without_account(&state.db, &s.user.scope, f.under).await?;
    let issued = accounts::issue_invitations(&state.db, &s.user.scope, &ids).await?;
    let rows: Vec<(String, String, String)> =
        issued.into_iter().map(|(_, n, p, c)| (n, p, c)).collect();
    match f.mode.as_str() {
        "xlsx" => {
            let title = lang.t("invitations.title");
            let bytes = jiaxiao_export::xlsx(&[jiaxiao_export::Sheet {
                name: &title,
                title: &lang.t("invitations.help"),
                headers: vec![
                    lang.t("people.name"),
                    lang.t("people.phone"),
                    lang.t("login.code"),
                ],
                rows: rows
                    .into_iter()
                    .map(|(n, p, c)| vec![n.into(), p.into(), c.into()])
                    .collect(),
            }])
            .map_err(|e| AppError::Internal(e.to_string()))?;
            Ok((
                [
                    (
                        axum::http::header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            .to_owned(),
                    ),
                    (
                        axum::http::header::CONTENT_DISPOSITION,
                        "attachment; filename=\"invitations.xlsx\"".to_owned(),
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        "sms" => {
            let mut sent = 0;
            for (name, phone, code) in &rows {
                let body = lang.tf(
                    "invitations.sms",
                    &[("name", name.clone()), ("code", code.clone())],
                );
                if state.sms.send_secret(phone, &body, code).await.is_ok() {
                    sent += 1;
                }
            }
            let message = lang.tf("invitations.sent", &[("n", sent.to_string())]);
            Ok(Html(
                InvitationsPage {
                    c: Chrome::new(lang, Some(&s.user)),
                    rows: Vec::new(),
                    message: Some(message),
                }
                .render()?,
            )
            .into_response())
        }
        _ => Ok(Html(
            InvitationsPage {
                c: Chrome::new(lang, Some(&s.user)),
                rows,
                message: None,
            }
            .render()?,
        )
        .into_response()),
    }
}

#[derive(Template)]
#[template(path = "pupil.html")]
struct PupilPage {
    c: Chrome,
    pupil: people::PupilRow,
    guardians: Vec<people::GuardianLink>,
}

async fn show_pupil(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let (pupil, guardians) = people::get_pupil(&state.db, &s.user.scope, id).await?;
    Ok(Html(
        PupilPage {
            c: Chrome::new(s.lang, Some(&s.user)),
            pupil,
            guardians,
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "guardian.html")]
struct GuardianPage {
    c: Chrome,
    guardian: people::GuardianRow,
    children: Vec<people::ChildLink>,
}

async fn show_guardian(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let (guardian, children) = people::get_guardian(&state.db, &s.user.scope, id).await?;
    Ok(Html(
        GuardianPage {
            c: Chrome::new(s.lang, Some(&s.user)),
            guardian,
            children,
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    c: Chrome,
    message: Option<String>,
    list: ListView,
    choice: UnitChoice,
    /// A refused form, shown again with what was typed (never the password).
    posted: Posted,
}

/// A role the caller may grant, with the kinds of unit it is held at (for
/// `assets/grant.js`, which narrows the unit choice to them).
pub struct RoleOption {
    code: &'static str,
    label: String,
    kinds: String,
}

/// A unit that can be chosen, with its kind for `assets/grant.js`.
pub struct UnitOption {
    id: i64,
    kind: &'static str,
    text: String,
}

/// A run of the unit choice: a grade's classes under the grade's name (`<optgroup>`),
/// or units shown on their own, indented by depth.
pub struct UnitGroup {
    label: Option<String>,
    options: Vec<UnitOption>,
}

/// The role and unit choice of the accounts forms: the roles the caller may grant where
/// some unit of their subtree can hold them, and those units in tree order (issue 10
/// item 8).
pub struct UnitChoice {
    roles: Vec<RoleOption>,
    groups: Vec<UnitGroup>,
}

fn unit_choice(
    lang: Lang,
    scope: &jiaxiao_store::Scope,
    tree: &[accounts::TreeUnit],
) -> UnitChoice {
    let mine = scope.manage_roles();
    let present = |k: &UnitKind| tree.iter().any(|u| u.kind == *k);
    let roles: Vec<(Role, RoleOption)> = Role::ALL
        .iter()
        .filter(|r| mine.iter().any(|m| m.may_grant(**r)))
        .filter(|r| r.granted_at().iter().any(present))
        .map(|r| {
            let kinds: Vec<&str> = r.granted_at().iter().map(|k| k.code()).collect();
            (
                *r,
                RoleOption {
                    code: r.code(),
                    label: lang.t(&format!("role.{}", r.code())),
                    kinds: kinds.join(" "),
                },
            )
        })
        .collect();
    let grantable = |k: UnitKind| roles.iter().any(|(r, _)| r.granted_at().contains(&k));
    // With one school the grade and class names say enough; with several they need the
    // school in front.
    let many_schools = tree.iter().filter(|u| u.kind == UnitKind::School).count() > 1;
    let named = |u: &accounts::TreeUnit| {
        if many_schools {
            u.label()
        } else {
            u.name.clone()
        }
    };
    let mut groups: Vec<UnitGroup> = Vec::new();
    for u in tree {
        let option = || UnitOption {
            id: u.id,
            kind: u.kind.code(),
            text: named(u),
        };
        match u.kind {
            UnitKind::Grade => groups.push(UnitGroup {
                label: Some(named(u)),
                options: Vec::new(),
            }),
            UnitKind::Class if grantable(UnitKind::Class) => match groups.last_mut() {
                Some(g) if g.label.is_some() => g.options.push(option()),
                _ => groups.push(UnitGroup {
                    label: None,
                    options: vec![option()],
                }),
            },
            k if grantable(k) => {
                let indented = UnitOption {
                    text: format!("{}{}", "\u{3000}".repeat(u.depth), named(u)),
                    ..option()
                };
                match groups.last_mut() {
                    Some(g) if g.label.is_none() => g.options.push(indented),
                    _ => groups.push(UnitGroup {
                        label: None,
                        options: vec![indented],
                    }),
                }
            }
            _ => {}
        }
    }
    groups.retain(|g| !g.options.is_empty());
    UnitChoice {
        roles: roles.into_iter().map(|(_, o)| o).collect(),
        groups,
    }
}

async fn load_choice(state: &AppState, s: &Staff) -> Result<UnitChoice, AppError> {
    let tree = accounts::managed_tree(&state.db, &s.user.scope).await?;
    Ok(unit_choice(s.lang, &s.user.scope, &tree))
}

/// The most role grants the accounts list reads (a province's offices and schools).
const MAX_GRANTS: u64 = 10_000;

/// The role grants in the caller's managed subtree as a list: who, their account name,
/// role and unit, filtered by role, searched by name; the page and its XLSX read the same.
async fn grant_list(state: &AppState, s: &Staff) -> Result<(List, Vec<Row>), AppError> {
    if !s.user.scope.can_manage() {
        return Err(AppError::NotFound);
    }
    let lang = s.lang;
    let grants: Vec<UserGrantRow> =
        accounts::list_grants(&state.db, &s.user.scope, MAX_GRANTS).await?;
    let mut roles: Vec<String> = grants.iter().map(|g| g.role.clone()).collect();
    roles.sort_by_key(|r| Role::ALL.iter().position(|x| x.code() == r));
    roles.dedup();
    let list = List::new(
        "grants",
        "/accounts",
        vec![
            Column::text("name", lang.t("accounts.display_name")),
            Column::text("username", lang.t("accounts.username")),
            Column::text("role", lang.t("accounts.role")),
            Column::text("unit", lang.t("accounts.unit")),
        ],
    )
    // Not `role`: the new-account form below has a `role` field of its own.
    .filter(Filter::Choice {
        key: "roles",
        label: lang.t("accounts.role"),
        options: roles
            .into_iter()
            .map(|r| {
                let label = lang.t(&format!("role.{r}"));
                (r, label)
            })
            .collect(),
    })
    .search_hint(lang.t("accounts.search_hint"))
    .export("/accounts.xlsx");
    let rows = grants
        .into_iter()
        .map(|g| {
            let username = g.username.unwrap_or_default();
            Row {
                href: Some(format!("/accounts/users/{}", g.user_id)),
                search: Row::search_text(&g.display_name, &[&username, &g.unit_name]),
                tags: vec![("roles", g.role.clone())],
                cells: vec![
                    Cell::Text(g.display_name),
                    Cell::Text(username),
                    Cell::Text(lang.t(&format!("role.{}", g.role))),
                    Cell::Text(g.unit_name),
                ],
                day: None,
                badge: None,
            }
        })
        .collect();
    Ok((list, rows))
}

async fn accounts_page(
    state: &AppState,
    s: &Staff,
    lq: &ListQuery,
    message: Option<String>,
    posted: Posted,
) -> Result<Html<String>, AppError> {
    let (list, rows) = grant_list(state, s).await?;
    let selected = list.select(lq, rows);
    let list = list.page(s.lang, lq, &selected);
    Ok(Html(
        AccountsPage {
            c: Chrome::new(s.lang, Some(&s.user)),
            message,
            list,
            choice: load_choice(state, s).await?,
            posted,
        }
        .render()?,
    ))
}

async fn list_accounts(
    State(state): State<AppState>,
    s: Staff,
    mut lq: ListQuery,
) -> Result<Html<String>, AppError> {
    // `?created=true`: the message of an older link, not a key the list keeps.
    let msg = (lq.get("created") == Some("true")).then(|| s.lang.t("accounts.created"));
    lq.rest.retain(|(k, _)| k != "created");
    accounts_page(&state, &s, &lq, msg, Posted::none()).await
}

/// The filtered role grants as XLSX.
async fn accounts_xlsx(
    State(state): State<AppState>,
    s: Staff,
    lq: ListQuery,
) -> Result<Response, AppError> {
    let (list, rows) = grant_list(&state, &s).await?;
    let selected = list.select(&lq, rows);
    list::xlsx(
        &s.lang.t("accounts.title"),
        "accounts.xlsx",
        &list.columns,
        &selected,
    )
}

#[derive(Deserialize)]
pub struct NewAccountForm {
    csrf: String,
    username: String,
    display_name: String,
    password: String,
    role: String,
    unit_id: i64,
}

async fn create_account(
    State(state): State<AppState>,
    s: Staff,
    Submitted { form: f, raw }: Submitted<NewAccountForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let raw: Vec<_> = raw.into_iter().filter(|(k, _)| k != "password").collect();
    let fields: &FieldsOf = &[
        ("bad_role", "role"),
        ("password_too_short", "password"),
        ("weak_password", "password"),
        ("display_name_missing", "display_name"),
        ("text_too_long", "display_name"),
        ("text_control_char", "display_name"),
        ("text_bidi_override", "display_name"),
        ("*", "unit_id"),
    ];
    let Some(role) = Role::from_code(&f.role) else {
        let e = AppError::Invalid("bad_role".into());
        let p = Posted::refused(s.lang, "account", raw, e, fields, |_| {})?;
        return Ok(unprocessable(
            accounts_page(&state, &s, &ListQuery::default(), None, p)
                .await?
                .0,
        ));
    };
    let created = accounts::create_user(
        &state.db,
        &s.user.scope,
        NewUser {
            username: f.username,
            display_name: f.display_name,
            password: f.password,
            staff_id: None,
            grants: vec![(role, f.unit_id)],
        },
    )
    .await;
    match created {
        Ok(id) => Ok(done(&format!("/accounts/users/{id}"), "account_created")),
        // One answer for a malformed name and a name taken anywhere; counted, so that
        // trying names is no way to list other counties' accounts (see `create_user`).
        Err(jiaxiao_store::StoreError::Invalid {
            code: "username_unavailable",
        }) => {
            if !state.username_refusal_allowed(s.user.principal.user_id) {
                return Err(AppError::TooMany);
            }
            let mut p = Posted::new("account", raw);
            p.add(
                "username",
                s.lang.t("account_security.username_unavailable"),
            );
            Ok(unprocessable(
                accounts_page(&state, &s, &ListQuery::default(), None, p)
                    .await?
                    .0,
            ))
        }
        Err(e) => {
            let p = Posted::refused(s.lang, "account", raw, e.into(), fields, |_| {})?;
            Ok(unprocessable(
                accounts_page(&state, &s, &ListQuery::default(), None, p)
                    .await?
                    .0,
            ))
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

async fn revoke_grant(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    accounts::revoke_role(&state.db, &s.user.scope, id, None).await?;
    Ok(done("/accounts", "revoked"))
}

/// One grant on an account's page.
struct GrantLine {
    grant_id: i64,
    role: String,
    unit: String,
    /// The day it was granted (Beijing).
    since: String,
    /// Whether the caller may revoke it (a role they may grant).
    revocable: bool,
}

#[derive(Template)]
#[template(path = "account_user.html")]
struct AccountUserPage {
    c: Chrome,
    user: accounts::AccountUser,
    grants: Vec<GrantLine>,
    choice: UnitChoice,
    posted: Posted,
}

/// An account's page: its grants in the caller's subtree, a form to grant another role,
/// and revoke buttons (issue 10 item 9). Only an account with a grant inside the
/// caller's managed subtree has one for the caller; any other id is 404.
async fn account_user_page(
    state: &AppState,
    s: &Staff,
    id: i64,
    posted: Posted,
) -> Result<Html<String>, AppError> {
    let scope = &s.user.scope;
    if !scope.can_manage() {
        return Err(AppError::NotFound);
    }
    let (user, grants) = accounts::account_with_grants(&state.db, scope, id).await?;
    let mine = scope.manage_roles();
    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let grants = grants
        .into_iter()
        .map(|g| GrantLine {
            grant_id: g.grant_id,
            role: s.lang.t(&format!("role.{}", g.role)),
            unit: g.unit_label(),
            since: g
                .created_at
                .with_timezone(&tz)
                .format("%Y-%m-%d")
                .to_string(),
            revocable: Role::from_code(&g.role)
                .is_some_and(|r| mine.iter().any(|m| m.may_grant(r))),
        })
        .collect();
    Ok(Html(
        AccountUserPage {
            c: Chrome::new(s.lang, Some(&s.user)),
            user,
            grants,
            choice: load_choice(state, s).await?,
            posted,
        }
        .render()?,
    ))
}

async fn show_account_user(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    account_user_page(&state, &s, id, Posted::none()).await
}

#[derive(Deserialize)]
pub struct GrantForm {
    csrf: String,
    role: String,
    unit_id: i64,
}

async fn grant_to_user(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Submitted { form: f, raw }: Submitted<GrantForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let fields: &FieldsOf = &[
        ("bad_role", "role"),
        ("role_not_grantable", "role"),
        ("*", "unit_id"),
    ];
    let granted = match Role::from_code(&f.role).filter(|r| *r != Role::Parent) {
        Some(role) => accounts::grant_role(&state.db, &s.user.scope, id, role, f.unit_id)
            .await
            .map_err(AppError::from),
        None => Err(AppError::Invalid("bad_role".into())),
    };
    match granted {
        Ok(()) => Ok(done(&format!("/accounts/users/{id}"), "granted")),
        // A second grant of the same role at the same unit: said in words beside the
        // unit, not as the database's "duplicate record".
        Err(AppError::Invalid(code)) if code == "grant_exists" => {
            let mut p = Posted::new("grant", raw);
            let role = s.lang.t(&format!("role.{}", f.role));
            p.add(
                "unit_id",
                s.lang.tf("accounts.grant_exists", [("role", role)]),
            );
            Ok(unprocessable(account_user_page(&state, &s, id, p).await?.0))
        }
        Err(e) => {
            let p = Posted::refused(s.lang, "grant", raw, e, fields, |_| {})?;
            Ok(unprocessable(account_user_page(&state, &s, id, p).await?.0))
        }
    }
}

async fn revoke_user_grant(
    State(state): State<AppState>,
    s: Staff,
    Path((id, grant)): Path<(i64, i64)>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    if let Err(e) = accounts::revoke_role(&state.db, &s.user.scope, grant, Some(id)).await {
        // A refusal (one's own last managing role) is said on the account's page.
        let p = Posted::refused(s.lang, "revoke", Vec::new(), e.into(), &[], |_| {})?;
        return Ok(unprocessable(account_user_page(&state, &s, id, p).await?.0));
    }
    // An account left with no grant in the caller's subtree has no page for them now.
    let to = match accounts::account_with_grants(&state.db, &s.user.scope, id).await {
        Ok(_) => format!("/accounts/users/{id}"),
        Err(jiaxiao_store::StoreError::NotFound) => "/accounts".into(),
        Err(e) => return Err(e.into()),
    };
    Ok(done(&to, "revoked"))
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    c: Chrome,
    message: Option<String>,
    /// A refused change: the message beside the password it is about (the passwords
    /// themselves are never sent back).
    posted: Posted,
}

#[derive(Deserialize)]
pub struct PasswordQuery {
    #[serde(default)]
    changed: bool,
}

async fn password_form(ctx: Ctx, Query(q): Query<PasswordQuery>) -> Result<Html<String>, AppError> {
    let user = ctx.user.ok_or(AppError::Unauthorised)?;
    Ok(Html(
        PasswordPage {
            c: Chrome::new(ctx.lang, Some(&user)),
            message: q
                .changed
                .then(|| ctx.lang.t("account_security.password_changed")),
            posted: Posted::none(),
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    old: String,
    new: String,
}

/// Changes the caller's own password. This session stays logged in; every other
/// session and every API token of the account ends (a changed password is often a
/// stolen one). The old-password check is throttled like a login, per account.
async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Form(f): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let lang: Lang = ctx.lang;
    let user = ctx.user.ok_or(AppError::Unauthorised)?;
    if !crate::auth::constant_eq(f.csrf.as_bytes(), user.csrf.as_bytes()) {
        return Err(AppError::Csrf);
    }
    let refuse = |status: axum::http::StatusCode,
                  field: &'static str,
                  key: &str|
     -> Result<Response, AppError> {
        let mut posted = Posted::new("password", Vec::new());
        posted.add(field, lang.t(key));
        Ok((
            status,
            Html(
                PasswordPage {
                    c: Chrome::new(lang, Some(&user)),
                    message: None,
                    posted,
                }
                .render()?,
            ),
        )
            .into_response())
    };
    if !state.password_check_allowed(user.principal.user_id) {
        return refuse(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "old",
            "login.limited",
        );
    }
    let current = crate::auth::session_token(&headers);
    match accounts::change_password(&state.db, &user.scope, &f.old, &f.new, current).await {
        Ok(()) => {
            state.tokens.forget_user(user.principal.user_id);
            Ok(Redirect::to("/account/password?changed=true").into_response())
        }
        Err(jiaxiao_store::StoreError::Invalid { code }) => {
            if code == "wrong_password" {
                refuse(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "old",
                    "password.wrong",
                )
            } else {
                refuse(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "new",
                    "password.short",
                )
            }
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    c: Chrome,
    rows: Vec<TokenLine>,
    /// A token just made: shown this once.
    created: Option<String>,
    /// The units a token may be limited to: the user's own staff units.
    units: Vec<(i64, String)>,
    /// (code, name, what it allows) of every scope.
    scopes: Vec<(&'static str, String, String)>,
    posted: Posted,
}

struct TokenLine {
    id: i64,
    name: String,
    /// The scopes in words; empty for the account's whole reach.
    scopes: Vec<String>,
    unit: Option<String>,
    created: String,
    used: String,
    expires: String,
}

/// The token form's fields: repeated `scopes`, an optional unit, days (90 when empty).
#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    unit_id: String,
    #[serde(default)]
    days: String,
}

const TOKEN_FIELDS: &FieldsOf = &[
    ("token_name", "name"),
    ("token_scopes", "scopes"),
    ("token_days", "days"),
    ("token_unit", "unit_id"),
];

/// The caller's own live API tokens (when each was made, last used and runs out, what
/// it may do and where), and the form that makes a scoped one.
async fn tokens_page(
    state: &AppState,
    ctx: &Ctx,
    created: Option<String>,
    posted: Posted,
) -> Result<String, AppError> {
    let user = ctx.user.as_ref().ok_or(AppError::Unauthorised)?;
    let lang = ctx.lang;
    // Uses noted in this process but not yet written would show as older than they are.
    accounts::flush_token_uses(&state.db, &state.tokens).await?;
    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let fmt = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
    };
    let rows = accounts::list_own_tokens(&state.db, &user.scope)
        .await?
        .into_iter()
        .map(|t| TokenLine {
            id: t.id,
            name: t.name,
            scopes: t
                .scopes
                .unwrap_or_default()
                .iter()
                .map(|s| lang.t(&format!("api_scope.{}", s.code())))
                .collect(),
            unit: t.unit_name,
            created: fmt(t.created_at),
            used: t.last_used_at.map(fmt).unwrap_or_default(),
            expires: fmt(t.expires_at),
        })
        .collect();
    Ok(TokensPage {
        c: Chrome::new(lang, Some(user)),
        rows,
        created,
        units: user.units.iter().map(|u| (u.id, u.name.clone())).collect(),
        scopes: jiaxiao_domain::api::ApiScope::ALL
            .iter()
            .map(|s| {
                let code = s.code();
                (
                    code,
                    lang.t(&format!("api_scope.{code}")),
                    lang.t(&format!("api_scope.{code}_help")),
                )
            })
            .collect(),
        posted,
    }
    .render()?)
}

async fn list_tokens(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, AppError> {
    Ok(Html(tokens_page(&state, &ctx, None, Posted::none()).await?))
}

/// Makes a scoped token and shows it once on the page itself (never in a redirect's
/// address or a cookie); a refused form comes back with each message beside its field.
async fn create_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Submitted { form: f, raw }: Submitted<TokenForm>,
) -> Result<Response, AppError> {
    let user = ctx.user.as_ref().ok_or(AppError::Unauthorised)?;
    if !crate::auth::constant_eq(f.csrf.as_bytes(), user.csrf.as_bytes()) {
        return Err(AppError::Csrf);
    }
    let lang = ctx.lang;
    let mut p = Posted::new("token", raw.clone());
    p.check(lang, "name", jiaxiao_domain::text::Field::Name, &f.name);
    let scopes: Vec<_> = f
        .scopes
        .iter()
        .filter_map(|s| jiaxiao_domain::api::ApiScope::from_code(s))
        .collect();
    let unit_id = match f.unit_id.trim() {
        "" => None,
        u => match u.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                p.add("unit_id", lang.t("input.bad_id"));
                None
            }
        },
    };
    let days = match f.days.trim() {
        "" => Some(accounts::API_TOKEN_DAYS),
        d => d.parse::<i64>().ok(),
    };
    if !p.errors.is_empty() {
        return Ok(unprocessable(tokens_page(&state, &ctx, None, p).await?));
    }
    let made = accounts::create_scoped_token(
        &state.db,
        &user.scope,
        None,
        accounts::NewToken {
            name: f.name.clone(),
            scopes,
            unit_id,
            lifetime: chrono::Duration::days(days.unwrap_or(0)),
        },
    )
    .await;
    match made {
        Ok((_, token)) => {
            Ok(Html(tokens_page(&state, &ctx, Some(token), Posted::none()).await?).into_response())
        }
        Err(e) => {
            let p = Posted::refused(lang, "token", raw, e.into(), TOKEN_FIELDS, |_| {})?;
            Ok(unprocessable(tokens_page(&state, &ctx, None, p).await?))
        }
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Result<Redirect, AppError> {
    let user = ctx.user.ok_or(AppError::Unauthorised)?;
    if !crate::auth::constant_eq(f.csrf.as_bytes(), user.csrf.as_bytes()) {
        return Err(AppError::Csrf);
    }
    accounts::revoke_own_token(&state.db, &user.scope, id).await?;
    state.tokens.forget_user(user.principal.user_id);
    Ok(Redirect::to("/account/tokens"))
}
