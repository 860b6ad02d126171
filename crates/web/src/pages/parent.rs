//! Parent pages (phones first): my children, my coming sessions with one-tap check-in
//! links, my hours, my certificates, the school's public notice of excellent trainees,
//! and a session's page where I hand in my reflection (心得).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, Response};
use axum::routing::{get, post};
use jiaxiao_store::parent_school::excellence::{self, MyCertificate, PublicNotice};
use jiaxiao_store::parent_school::{credits, records, sessions};
use jiaxiao_store::people::{self, ChildLink};
use serde::Deserialize;

use super::Chrome;
use super::form::{FieldsOf, Posted, Submitted, done, unprocessable};
use crate::app::AppState;
use crate::auth::{Ctx, LoggedIn, constant_eq};
use crate::error::AppError;
use crate::i18n::{local_time, percent};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/p", get(home))
        .route("/p/sessions/{id}", get(show_session))
        .route("/p/sessions/{id}/reflection", post(hand_in_reflection))
        .route("/p/certificates/{round}", get(certificate))
        .route("/p/notices/{round}/objection", post(object))
}

pub struct SessionCard {
    pub id: i64,
    pub title: String,
    pub when: String,
    pub place: String,
    pub form: String,
    pub school: String,
    pub mine: Option<String>,
    pub soon: bool,
}

pub struct HoursCard {
    pub school: String,
    pub hours: String,
    pub attended: i64,
    pub invited: i64,
    pub rate: String,
}

#[derive(Template)]
#[template(path = "parent_home.html")]
struct Home {
    c: Chrome,
    children: Vec<ChildLink>,
    upcoming: Vec<SessionCard>,
    past: Vec<SessionCard>,
    hours: Vec<HoursCard>,
    certificates: Vec<MyCertificate>,
    notices: Vec<PublicNotice>,
    /// A refused objection, shown again with what was typed.
    posted: Posted,
}

fn parent(ctx: &Ctx) -> Result<&LoggedIn, AppError> {
    let user = ctx.user.as_ref().ok_or(AppError::Unauthorised)?;
    user.scope.guardian_id().ok_or(AppError::NotFound)?;
    Ok(user)
}

async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, AppError> {
    Ok(Html(render_home(&state, &ctx, Posted::none()).await?))
}

async fn render_home(state: &AppState, ctx: &Ctx, posted: Posted) -> Result<String, AppError> {
    let user = parent(ctx)?;
    let lang = ctx.lang;
    let gid = user.scope.guardian_id().ok_or(AppError::NotFound)?;
    let children = match people::children_of(&state.db, &user.scope, gid).await {
        Ok(c) => c,
        Err(jiaxiao_store::StoreError::NotFound) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let now = chrono::Utc::now();
    let year = jiaxiao_store::org::current_school_year(&state.db.conn).await?;
    let all = sessions::sessions_for_parent(&state.db, &user.scope, None, 200).await?;
    let card = |s: &sessions::ParentSession| SessionCard {
        id: s.id,
        title: s.title.clone(),
        when: local_time(s.starts_at),
        place: s.place.clone().unwrap_or_else(|| lang.t("ps.form.online")),
        form: lang.t(&format!("ps.form.{}", s.form)),
        school: s.school_name.clone(),
        mine: s.my_status.as_ref().map(|st| {
            let at = s
                .my_checked_at
                .map(crate::i18n::local_clock)
                .unwrap_or_default();
            format!("{} {at}", lang.t(&format!("ps.status.{st}")))
        }),
        soon: s.starts_at - now < chrono::Duration::hours(24)
            && s.starts_at + chrono::Duration::hours(3) > now,
    };
    let upcoming = all
        .iter()
        .filter(|s| s.starts_at + chrono::Duration::hours(3) > now)
        .take(6)
        .map(card)
        .collect();
    let past = all
        .iter()
        .rev()
        .filter(|s| s.starts_at + chrono::Duration::hours(3) <= now)
        .take(10)
        .map(card)
        .collect();
    let hours = credits::my_hours(&state.db, &user.scope, year)
        .await?
        .into_iter()
        .map(|y| HoursCard {
            school: y.school_name,
            hours: format!("{:.1}", y.summary.hours),
            attended: y.summary.attended,
            invited: y.summary.invited,
            rate: percent(y.summary.rate()),
        })
        .collect();
    Ok(Home {
        c: Chrome::new(lang, Some(user)),
        children,
        upcoming,
        past,
        hours,
        certificates: excellence::my_certificates(&state.db, &user.scope).await?,
        notices: excellence::public_notices(&state.db, &user.scope).await?,
        posted,
    }
    .render()?)
}

#[derive(Template)]
#[template(path = "parent_session.html")]
struct SessionPage {
    c: Chrome,
    card: SessionCard,
    instructor: String,
    online_url: Option<String>,
    attended: bool,
    reflection: String,
    cancelled: bool,
    /// A refused reflection, shown again with what was typed.
    posted: Posted,
}

async fn show_session(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    Ok(Html(
        render_session(&state, &ctx, id, Posted::none()).await?,
    ))
}

async fn render_session(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    posted: Posted,
) -> Result<String, AppError> {
    let user = parent(ctx)?;
    let lang = ctx.lang;
    // Only sessions the parent is invited to (or attended): the same query as the home.
    let s = sessions::session_for_parent(&state.db, &user.scope, id).await?;
    let cancelled = s.status == jiaxiao_domain::parent_school::SessionStatus::Cancelled.code();
    let attended = matches!(s.my_status.as_deref(), Some("present") | Some("late"));
    let reflection = records::my_reflection(&state.db, &user.scope, id)
        .await?
        .unwrap_or_default();
    Ok(SessionPage {
        c: Chrome::new(lang, Some(user)),
        instructor: s.instructor_name.clone(),
        online_url: s.online_url.clone(),
        card: SessionCard {
            id: s.id,
            title: s.title.clone(),
            when: local_time(s.starts_at),
            place: s.place.clone().unwrap_or_default(),
            form: lang.t(&format!("ps.form.{}", s.form)),
            school: s.school_name.clone(),
            mine: s.my_status.as_ref().map(|st| {
                format!(
                    "{} {}",
                    lang.t(&format!("ps.status.{st}")),
                    s.my_checked_at
                        .map(crate::i18n::local_clock)
                        .unwrap_or_default()
                )
            }),
            soon: false,
        },
        attended,
        reflection,
        cancelled,
        posted,
    }
    .render()?)
}

#[derive(Deserialize)]
struct ReflectionForm {
    csrf: String,
    body: String,
}

async fn hand_in_reflection(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Submitted { form: f, raw }: Submitted<ReflectionForm>,
) -> Result<Response, AppError> {
    let user = parent(&ctx)?;
    if !constant_eq(f.csrf.as_bytes(), user.csrf.as_bytes()) {
        return Err(AppError::Csrf);
    }
    match records::hand_in_reflection(&state.db, &user.scope, id, &f.body).await {
        Ok(_) => Ok(done(&format!("/p/sessions/{id}"), "reflection_saved")),
        Err(e) => {
            let p = Posted::refused(
                ctx.lang,
                "reflection",
                raw,
                e.into(),
                &[("*", "body")],
                |_| {},
            )?;
            Ok(unprocessable(render_session(&state, &ctx, id, p).await?))
        }
    }
}

async fn certificate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(round): Path<i64>,
) -> Result<Response, AppError> {
    let user = parent(&ctx)?;
    let bytes = crate::pages::parent_school::trainees::certificates_pdf(
        &state,
        &user.scope,
        ctx.lang,
        round,
    )
    .await?;
    Ok(crate::pages::parent_school::home::pdf_response(
        bytes,
        "certificate.pdf",
    ))
}

#[derive(Deserialize)]
struct ObjectionForm {
    csrf: String,
    guardian_id: i64,
    body: String,
}

async fn object(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(round): Path<i64>,
    Submitted { form: f, raw }: Submitted<ObjectionForm>,
) -> Result<Response, AppError> {
    let user = parent(&ctx)?;
    if !constant_eq(f.csrf.as_bytes(), user.csrf.as_bytes()) {
        return Err(AppError::Csrf);
    }
    match excellence::raise_objection(&state.db, &user.scope, round, f.guardian_id, &f.body).await {
        Ok(_) => Ok(done("/p", "objection_received")),
        Err(e) => {
            let fields: &FieldsOf = &[("not_a_nominee", "guardian_id"), ("*", "body")];
            let p = Posted::refused(ctx.lang, "objection", raw, e.into(), fields, |_| {})?;
            Ok(unprocessable(
                render_home(&state, &ctx, p.about(round)).await?,
            ))
        }
    }
}
