//! Staff pages shared by school and office staff: the tree browser, people lists with
//! search, accounts and roles, the audit log, password change, invitation codes.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiaxiao_domain::{Role, UnitKind};
use jiaxiao_store::accounts::{self, NewUser, UserGrantRow};
use jiaxiao_store::org::{self, ChildRow, UnitRow};
use jiaxiao_store::people;
use serde::Deserialize;

use super::Chrome;
use crate::app::AppState;
use crate::auth::{Ctx, Staff};
use crate::error::AppError;
use crate::i18n::Lang;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/org", get(tree_roots))
        .route("/org/{id}", get(tree_unit))
        .route("/people", get(list_people))
        .route("/people/invitations", post(issue_invitations))
        .route("/accounts", get(list_accounts).post(create_account))
        .route("/accounts/grants/{id}/revoke", post(revoke_grant))
        .route("/audit", get(list_audit))
        .route(
            "/account/password",
            get(password_form).post(change_password),
        )
}

#[derive(Template)]
#[template(path = "tree.html")]
struct TreePage {
    c: Chrome,
    unit: Option<UnitRow>,
    path: Vec<UnitRow>,
    children: Vec<ChildRow>,
}

async fn tree_roots(State(state): State<AppState>, s: Staff) -> Result<Html<String>, AppError> {
    let roots = org::roots(&state.db, &s.user.scope).await?;
    if roots.len() == 1 {
        return tree_unit(State(state), s, Path(roots[0].id)).await;
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
        }
        .render()?,
    ))
}

async fn tree_unit(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let unit = org::get_unit(&state.db, &s.user.scope, id).await?;
    let path = org::path(&state.db, &s.user.scope, id).await?;
    let children = org::children(&state.db, &s.user.scope, id).await?;
    Ok(Html(
        TreePage {
            c: Chrome::new(s.lang, Some(&s.user)),
            unit: Some(unit),
            path,
            children,
        }
        .render()?,
    ))
}

#[derive(Deserialize, Default)]
pub struct PeopleQuery {
    kind: Option<String>,
    q: Option<String>,
    under: Option<i64>,
    after: Option<i64>,
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    c: Chrome,
    kind: String,
    q: String,
    under: Option<i64>,
    under_q: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    next: Option<String>,
}

const PAGE: u64 = 50;

async fn list_people(
    State(state): State<AppState>,
    s: Staff,
    Query(pq): Query<PeopleQuery>,
) -> Result<Html<String>, AppError> {
    let lang = s.lang;
    let kind = pq.kind.clone().unwrap_or_else(|| "pupils".into());
    let query = people::Query {
        q: pq.q.clone(),
        under: pq.under,
        after_id: pq.after,
        limit: PAGE,
    };
    let scope = &s.user.scope;
    let (headers, rows, last): (Vec<&str>, Vec<Vec<String>>, Option<i64>) = match kind.as_str() {
        "guardians" => {
            let r = people::list_guardians(&state.db, scope, &query).await?;
            let last = r.last().map(|x| x.id);
            (
                vec![
                    "people.name",
                    "people.phone",
                    "people.children",
                    "people.account",
                ],
                r.into_iter()
                    .map(|g| {
                        vec![
                            g.name,
                            g.phone.unwrap_or_default(),
                            g.children.to_string(),
                            if g.has_account {
                                "✓".into()
                            } else {
                                String::new()
                            },
                        ]
                    })
                    .collect(),
                last,
            )
        }
        "staff" => {
            let r = people::list_staff(&state.db, scope, &query).await?;
            let last = r.last().map(|x| x.id);
            (
                vec![
                    "people.name",
                    "people.position",
                    "people.unit",
                    "people.phone",
                ],
                r.into_iter()
                    .map(|x| {
                        vec![
                            x.name,
                            x.position.unwrap_or_default(),
                            x.unit_name,
                            x.phone.unwrap_or_default(),
                        ]
                    })
                    .collect(),
                last,
            )
        }
        _ => {
            let r = people::list_pupils(&state.db, scope, &query).await?;
            let last = r.last().map(|x| x.id);
            (
                vec![
                    "people.student_no",
                    "people.name",
                    "people.gender",
                    "people.school",
                    "people.class",
                ],
                r.into_iter()
                    .map(|p| {
                        let g = match p.gender.as_deref() {
                            Some("m") => lang.t("people.m"),
                            Some("f") => lang.t("people.f"),
                            _ => String::new(),
                        };
                        vec![
                            p.student_no,
                            p.name,
                            g,
                            p.school_name,
                            p.class_name.unwrap_or_default(),
                        ]
                    })
                    .collect(),
                last,
            )
        }
    };
    let under_q = pq.under.map(|u| format!("&under={u}")).unwrap_or_default();
    let q = pq.q.clone().unwrap_or_default();
    let next = (rows.len() as u64 == PAGE)
        .then(|| {
            last.map(|l| {
                format!(
                    "/people?kind={kind}&q={}{under_q}&after={l}",
                    urlencoding::encode(&q)
                )
            })
        })
        .flatten();
    Ok(Html(
        PeoplePage {
            c: Chrome::new(lang, Some(&s.user)),
            kind,
            q,
            under: pq.under,
            under_q,
            headers: headers.into_iter().map(|h| lang.t(h)).collect(),
            rows,
            next,
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "invitations.html")]
struct InvitationsPage {
    c: Chrome,
    rows: Vec<(String, String, String)>,
}

#[derive(Deserialize)]
pub struct InviteForm {
    csrf: String,
    /// Comma-separated guardian ids.
    guardians: String,
}

async fn issue_invitations(
    State(state): State<AppState>,
    s: Staff,
    Form(f): Form<InviteForm>,
) -> Result<Html<String>, AppError> {
    s.check_csrf(&f.csrf)?;
    let ids: Vec<i64> = f
        .guardians
        .split(',')
        .filter_map(|x| x.trim().parse().ok())
        .collect();
    let issued = accounts::issue_invitations(&state.db, &s.user.scope, &ids).await?;
    let rows = issued.into_iter().map(|(_, n, p, c)| (n, p, c)).collect();
    Ok(Html(
        InvitationsPage {
            c: Chrome::new(s.lang, Some(&s.user)),
            rows,
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    c: Chrome,
    message: Option<String>,
    grants: Vec<UserGrantRow>,
    roles: Vec<(String, String)>,
    units: Vec<(i64, String)>,
}

async fn accounts_page(
    state: &AppState,
    s: &Staff,
    message: Option<String>,
) -> Result<Html<String>, AppError> {
    if !s.user.scope.can_manage() {
        return Err(AppError::NotFound);
    }
    let scope = &s.user.scope;
    let grants = accounts::list_grants(&state.db, scope, 500).await?;
    let mine = scope.manage_roles();
    let roles = Role::ALL
        .iter()
        .filter(|r| **r != Role::Parent && mine.iter().any(|m| m.may_grant(**r)))
        .map(|r| (r.code().to_owned(), s.lang.t(&format!("role.{}", r.code()))))
        .collect();
    // Units where roles can be granted: the managed roots and their schools.
    let mut units = Vec::new();
    for root in org::roots(&state.db, scope).await? {
        if UnitKind::from_code(&root.kind).is_some_and(|k| k.is_office()) {
            units.push((root.id, root.name.clone()));
            for k in [UnitKind::City, UnitKind::County, UnitKind::School] {
                for u in
                    org::units_under(&state.db, scope, root.id, k, &jiaxiao_store::today()).await?
                {
                    units.push((u.id, u.name));
                }
            }
        } else {
            units.push((root.id, root.name.clone()));
            for k in [UnitKind::Class] {
                for u in
                    org::units_under(&state.db, scope, root.id, k, &jiaxiao_store::today()).await?
                {
                    units.push((u.id, u.name));
                }
            }
        }
    }
    Ok(Html(
        AccountsPage {
            c: Chrome::new(s.lang, Some(&s.user)),
            message,
            grants,
            roles,
            units,
        }
        .render()?,
    ))
}

async fn list_accounts(State(state): State<AppState>, s: Staff) -> Result<Html<String>, AppError> {
    accounts_page(&state, &s, None).await
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
    Form(f): Form<NewAccountForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let role = Role::from_code(&f.role).ok_or_else(|| AppError::Invalid("bad_role".into()))?;
    accounts::create_user(
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
    .await?;
    let msg = s.lang.t("accounts.created");
    Ok(accounts_page(&state, &s, Some(msg)).await?.into_response())
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
) -> Result<Redirect, AppError> {
    s.check_csrf(&f.csrf)?;
    accounts::revoke_role(&state.db, &s.user.scope, id).await?;
    Ok(Redirect::to("/accounts"))
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    rows: Vec<(String, String, String, String, String, String)>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
}

async fn list_audit(
    State(state): State<AppState>,
    s: Staff,
    Query(q): Query<AuditQuery>,
) -> Result<Html<String>, AppError> {
    if !s.user.scope.can_manage() {
        return Err(AppError::NotFound);
    }
    let rows = jiaxiao_store::audit::list(&state.db, &s.user.scope, q.before, 100).await?;
    let next = (rows.len() == 100)
        .then(|| rows.last().map(|r| format!("/audit?before={}", r.id)))
        .flatten();
    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let rows = rows
        .into_iter()
        .map(|r| {
            (
                r.at.with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
                r.actor.unwrap_or_else(|| "system".into()),
                r.unit_name.unwrap_or_default(),
                format!("{} {}", r.entity, r.entity_id.unwrap_or_default()),
                r.action,
                r.after_json.or(r.before_json).unwrap_or_default(),
            )
        })
        .collect();
    Ok(Html(
        AuditPage {
            c: Chrome::new(s.lang, Some(&s.user)),
            rows,
            next,
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    c: Chrome,
    message: Option<String>,
}

async fn password_form(ctx: Ctx) -> Result<Html<String>, AppError> {
    let user = ctx.user.ok_or(AppError::Unauthorised)?;
    Ok(Html(
        PasswordPage {
            c: Chrome::new(ctx.lang, Some(&user)),
            message: None,
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

async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let lang: Lang = ctx.lang;
    let user = ctx.user.ok_or(AppError::Unauthorised)?;
    if !crate::auth::constant_eq(f.csrf.as_bytes(), user.csrf.as_bytes()) {
        return Err(AppError::Csrf);
    }
    match accounts::change_password(&state.db, &user.scope, &f.old, &f.new).await {
        // All sessions ended, this one too: log in again with the new password.
        Ok(()) => Ok(Redirect::to("/login").into_response()),
        Err(jiaxiao_store::StoreError::Invalid { code }) => {
            let msg = if code == "wrong_password" {
                lang.t("password.wrong")
            } else {
                lang.t("password.short")
            };
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                Html(
                    PasswordPage {
                        c: Chrome::new(lang, Some(&user)),
                        message: Some(msg),
                    }
                    .render()?,
                ),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}
