//! Check-in pages (签到): the projector screen with its changing QR code, the staff's
//! live board (who came, who did not, refused attempts, suspicious devices; its XLSX
//! export is the ledger's, `pages/ps/sessions.rs`), marking a class from its roster, and
//! the parent's phone page that the QR code opens. Times are shown in China time.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::{COOKIE, HOST, SET_COOKIE, USER_AGENT};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use jiaxiao_domain::checkin_code::CodeGen;
use jiaxiao_domain::parent_school::{AttendanceStatus, Method};
use jiaxiao_store::StoreError;
use jiaxiao_store::checkin::{self, Attempt, DeviceFlag, Mark, Outcome, RefusalLine};
use jiaxiao_store::parent_school::sessions::{self, RosterLine, SessionCounts};
use serde::Deserialize;

use super::Chrome;
use crate::app::AppState;
use crate::auth::{Ctx, Staff, constant_eq};
use crate::error::AppError;
use crate::i18n::Lang;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sessions/{id}/projector", get(show_projector))
        .route("/sessions/{id}/checkins", get(show_board))
        .route("/sessions/{id}/mark", get(mark_form).post(mark_class))
        .route("/p/checkin/{id}", get(parent_page).post(parent_checkin))
}

/// The device cookie of the parent pages: a random id per browser, hashed with the user
/// agent into the check-in's device fingerprint.
const DEVICE_COOKIE: &str = "jx_device";

/// China time (UTC+8, no daylight saving) as `HH:MM`.
pub fn hm(t: DateTime<Utc>) -> String {
    (t + chrono::Duration::hours(8)).format("%H:%M").to_string()
}

/// China time as `YYYY-MM-DD HH:MM`.
pub fn ymd_hm(t: DateTime<Utc>) -> String {
    (t + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The link a QR code holds: the parent's page for the session with the code. Absolute,
/// since a phone's camera needs a whole address; built from the Host the staff screen
/// used, which is the name parents reach this server by.
pub fn checkin_url(state: &AppState, headers: &HeaderMap, session_id: i64, code: &str) -> String {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = if state.settings.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}/p/checkin/{session_id}?c={code}")
}

/// A QR code of `text` as an SVG element to put into a page (no XML declaration); it
/// scales with the CSS size of its box.
pub fn qr_svg(text: &str) -> Result<String, AppError> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let svg = code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(320, 320)
        .build();
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_owned(),
        None => svg,
    })
}

#[derive(Template)]
#[template(path = "checkin/projector.html")]
struct ProjectorPage {
    c: Chrome,
    id: i64,
    title: String,
    starts: String,
    place: String,
    code: String,
    qr: String,
    checked_in: i64,
    invited: i64,
}

async fn show_projector(
    State(state): State<AppState>,
    s: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let scope = &s.user.scope;
    let (row, secret) = sessions::session_secret(&state.db, scope, id).await?;
    let codes = CodeGen::from_hex(&secret)
        .ok_or_else(|| AppError::Internal(format!("session {id}: unusable secret")))?;
    let code = codes.code_at(Utc::now().timestamp().max(0) as u64);
    let url = checkin_url(&state, &headers, id, &code);
    Ok(Html(
        ProjectorPage {
            c: Chrome::new(s.lang, Some(&s.user)),
            id,
            title: row.title.clone(),
            starts: ymd_hm(row.starts_at),
            place: row.place.clone().unwrap_or_default(),
            qr: qr_svg(&url)?,
            code,
            checked_in: checkin::attended_count(&state.db, scope, id).await?,
            invited: state.checkins.invited_count(id).await? as i64,
        }
        .render()?,
    ))
}

/// One parent on the board: their children (in the classes the viewer sees) and their
/// check-in.
struct BoardLine {
    guardian_id: i64,
    name: String,
    children: String,
    class_name: String,
    status: Option<String>,
    method: Option<String>,
    at: String,
}

#[derive(Template)]
#[template(path = "checkin/board.html")]
struct BoardPage {
    c: Chrome,
    b: Board,
}

#[derive(Template)]
#[template(path = "checkin/board_part.html")]
struct BoardPart {
    c: Chrome,
    b: Board,
}

struct Board {
    id: i64,
    title: String,
    starts: String,
    counts: SessionCounts,
    rate: String,
    came: Vec<BoardLine>,
    missing: Vec<BoardLine>,
    refusals: Vec<(String, String, String)>,
    flags: Vec<DeviceFlag>,
    classes: Vec<(i64, String)>,
    can_record: bool,
}

impl BoardLine {
    /// Whether the recorded status is `code` (for pre-selecting the roster's radios).
    fn is(&self, code: &str) -> bool {
        self.status.as_deref() == Some(code)
    }
}

/// Collapses roster lines (one per child and parent) into one line per parent.
fn by_parent(lines: Vec<RosterLine>) -> Vec<BoardLine> {
    let mut out: Vec<BoardLine> = Vec::new();
    let mut at: BTreeMap<i64, usize> = BTreeMap::new();
    for l in lines {
        let child = l.pupil_name.clone().unwrap_or_default();
        match at.get(&l.guardian_id) {
            Some(&i) => {
                let b = &mut out[i];
                if !child.is_empty() && !b.children.split('、').any(|c| c == child) {
                    b.children.push('、');
                    b.children.push_str(&child);
                }
            }
            None => {
                at.insert(l.guardian_id, out.len());
                out.push(BoardLine {
                    guardian_id: l.guardian_id,
                    name: l.guardian_name,
                    children: child,
                    class_name: l.class_name.unwrap_or_default(),
                    status: l.status,
                    method: l.method,
                    at: l.checked_at.map(hm).unwrap_or_default(),
                });
            }
        }
    }
    out
}

fn classes_of(lines: &[RosterLine]) -> Vec<(i64, String)> {
    let mut v: Vec<(i64, String)> = lines
        .iter()
        .filter_map(|l| Some((l.class_id?, l.class_name.clone()?)))
        .collect();
    v.dedup();
    v.sort();
    v.dedup();
    v
}

async fn board(state: &AppState, s: &Staff, id: i64) -> Result<Board, AppError> {
    let scope = &s.user.scope;
    let row = sessions::get_session(&state.db, scope, id).await?;
    let roster = sessions::roster(&state.db, scope, id, None).await?;
    // A head teacher's board counts their own classes, as their roster shows them.
    let counts = if sessions::sees_whole_school(&state.db, scope, row.school_id).await? {
        sessions::counts(&state.db, scope, id).await?
    } else {
        SessionCounts::from_roster(&roster)
    };
    let classes = classes_of(&roster);
    let (came, missing): (Vec<BoardLine>, Vec<BoardLine>) =
        by_parent(roster).into_iter().partition(|l| {
            l.status
                .as_deref()
                .is_some_and(|st| st == "present" || st == "late")
        });
    let refusals = checkin::refusals(&state.db, scope, id, 100)
        .await?
        .into_iter()
        .map(|r: RefusalLine| {
            (
                hm(r.at),
                s.lang.t(&format!("reason.{}", r.reason)),
                r.guardian_name.unwrap_or_default(),
            )
        })
        .collect();
    let flags = checkin::device_flags(&state.db, scope, id).await?;
    let can_record = sessions::session_secret(&state.db, scope, id).await.is_ok();
    Ok(Board {
        id,
        title: row.title.clone(),
        starts: ymd_hm(row.starts_at),
        rate: format!("{:.0}%", counts.rate() * 100.0),
        counts,
        came,
        missing,
        refusals,
        flags,
        classes,
        can_record,
    })
}

/// The live board; htmx polls it for the part below the heading (`HX-Request`).
async fn show_board(
    State(state): State<AppState>,
    s: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let b = board(&state, &s, id).await?;
    let c = Chrome::new(s.lang, Some(&s.user));
    if headers.contains_key("hx-request") {
        return Ok(Html(BoardPart { c, b }.render()?));
    }
    Ok(Html(BoardPage { c, b }.render()?))
}

fn status_text(lang: Lang, status: &str) -> String {
    lang.t(&format!("attendance.{status}"))
}

#[derive(Deserialize)]
pub struct MarkQuery {
    class: Option<i64>,
    saved: Option<usize>,
}

#[derive(Template)]
#[template(path = "checkin/mark.html")]
struct MarkPage {
    c: Chrome,
    id: i64,
    title: String,
    class: Option<(i64, String)>,
    classes: Vec<(i64, String)>,
    lines: Vec<BoardLine>,
    statuses: Vec<(&'static str, String)>,
    saved: Option<String>,
}

/// The roster of one class with a status per parent; without `class`, the classes to
/// choose from.
async fn mark_form(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Query(q): Query<MarkQuery>,
) -> Result<Html<String>, AppError> {
    let scope = &s.user.scope;
    let row = sessions::get_session(&state.db, scope, id).await?;
    // Only staff who may record this school's attendance see the form.
    sessions::session_secret(&state.db, scope, id).await?;
    let all = sessions::roster(&state.db, scope, id, None).await?;
    let classes = classes_of(&all);
    let class = q
        .class
        .and_then(|c| classes.iter().find(|(id, _)| *id == c).cloned());
    if q.class.is_some() && class.is_none() {
        return Err(AppError::NotFound);
    }
    let lines = match &class {
        Some((cid, _)) => by_parent(
            all.into_iter()
                .filter(|l| l.class_id == Some(*cid))
                .collect(),
        ),
        None => Vec::new(),
    };
    let lang = s.lang;
    Ok(Html(
        MarkPage {
            c: Chrome::new(lang, Some(&s.user)),
            id,
            title: row.title.clone(),
            class,
            classes,
            lines,
            statuses: AttendanceStatus::ALL
                .iter()
                .map(|st| (st.code(), status_text(lang, st.code())))
                .collect(),
            saved: q
                .saved
                .map(|n| lang.tf("checkin.saved", &[("n", n.to_string())])),
        }
        .render()?,
    ))
}

/// Saves the marks of one class in one transaction: fields `g<guardian id>` = status
/// (an empty value leaves that parent as they are).
async fn mark_class(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    crate::pages::parent_school::ManyForm(fields): crate::pages::parent_school::ManyForm<
        Vec<(String, String)>,
    >,
) -> Result<Response, AppError> {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    s.check_csrf(get("csrf").unwrap_or(""))?;
    // The session before the body: one the caller may not mark is 404, not 422.
    sessions::session_secret(&state.db, &s.user.scope, id).await?;
    let class: i64 = get("class")
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| AppError::Invalid("bad_class".into()))?;
    let mut marks = Vec::new();
    for (k, v) in &fields {
        let Some(g) = k.strip_prefix('g').and_then(|g| g.parse::<i64>().ok()) else {
            continue;
        };
        if v.is_empty() {
            continue;
        }
        let status =
            AttendanceStatus::from_code(v).ok_or_else(|| AppError::Invalid("bad_status".into()))?;
        marks.push(Mark {
            guardian_id: g,
            status,
        });
    }
    let n = checkin::mark(&state.db, &s.user.scope, id, &marks).await?;
    Ok(Redirect::to(&format!("/sessions/{id}/mark?class={class}&saved={n}")).into_response())
}

#[derive(Deserialize)]
pub struct ParentQuery {
    /// The code from the QR link.
    c: Option<String>,
    /// After a check-in: `new` or `already`.
    ok: Option<String>,
    /// After a refusal: its reason code.
    r: Option<String>,
}

#[derive(Template)]
#[template(path = "checkin/parent.html")]
struct ParentPage {
    c: Chrome,
    id: i64,
    title: String,
    when: String,
    place: String,
    /// "已签到 19:02" and friends, when the parent is checked in.
    done: Option<String>,
    /// The refusal to show.
    refusal: Option<String>,
    /// The code from the link, for the one-tap button.
    code: String,
    nonce: String,
    /// The caller is a parent (staff get the explanation and no form).
    parent: bool,
}

fn device_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == DEVICE_COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn random_hex(n: usize) -> String {
    use rand::Rng;
    let mut b = vec![0u8; n];
    rand::rng().fill(&mut b[..]);
    hex::encode(b)
}

fn done_text(lang: Lang, row: &checkin::CheckinRow, already: bool) -> String {
    let key = match (already, row.status.as_str()) {
        (_, "late") => "checkin.done_late",
        (_, "excused") => "checkin.done_excused",
        (_, "absent") => "checkin.done_absent",
        (true, _) => "checkin.done_already",
        (false, _) => "checkin.done",
    };
    lang.tf(key, &[("time", hm(row.checked_at))])
}

/// The page a parent's phone opens from the QR code. Not logged in: to the login page
/// and back here with the code. Logged in: their check-in if there is one, otherwise
/// one button (a GET never checks in: link previews and prefetches must not).
async fn parent_page(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<ParentQuery>,
) -> Result<Response, AppError> {
    let code =
        q.c.as_deref()
            .filter(|c| c.len() <= 12 && c.chars().all(|ch| ch.is_ascii_digit()))
            .unwrap_or("")
            .to_owned();
    let Some(user) = ctx.user else {
        let back = if code.is_empty() {
            format!("/p/checkin/{id}")
        } else {
            format!("/p/checkin/{id}?c={code}")
        };
        return Ok(
            Redirect::to(&format!("/login?next={}", urlencoding::encode(&back))).into_response(),
        );
    };
    let lang = ctx.lang;
    let mine = checkin::my_checkin(&state.db, &user.scope, id).await?;
    let info = sessions::sessions_for_parent(&state.db, &user.scope, None, 500)
        .await?
        .into_iter()
        .find(|s| s.id == id);
    let refusal = if user.scope.guardian_id().is_none() {
        Some(lang.t("reason.not_a_parent"))
    } else if info.is_none() && mine.is_none() {
        // Not a session of this parent's school: like a page that does not exist.
        return Err(AppError::NotFound);
    } else {
        q.r.as_deref()
            .filter(|r| r.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
            .map(|r| {
                let k = format!("reason.{r}");
                let t = lang.t(&k);
                if t == k { lang.t("error.invalid") } else { t }
            })
    };
    let done = mine
        .as_ref()
        .map(|row| done_text(lang, row, q.ok.as_deref() != Some("new")));
    let page = ParentPage {
        c: Chrome::new(lang, Some(&user)),
        id,
        title: info.as_ref().map(|s| s.title.clone()).unwrap_or_default(),
        when: info
            .as_ref()
            .map(|s| ymd_hm(s.starts_at))
            .unwrap_or_default(),
        place: info
            .as_ref()
            .and_then(|s| s.place.clone())
            .unwrap_or_default(),
        done,
        refusal,
        code,
        nonce: random_hex(16),
        parent: user.scope.guardian_id().is_some(),
    };
    let html = Html(page.render()?);
    if device_cookie(&headers).is_none() {
        let cookie = format!(
            "{DEVICE_COOKIE}={}; Path=/p; HttpOnly; SameSite=Lax; Max-Age=31536000{}",
            random_hex(16),
            if state.settings.secure_cookies {
                "; Secure"
            } else {
                ""
            }
        );
        return Ok((AppendHeaders([(SET_COOKIE, cookie)]), html).into_response());
    }
    Ok(html.into_response())
}

#[derive(Deserialize)]
pub struct ParentForm {
    csrf: String,
    code: String,
    nonce: String,
    /// `qr` when the button came with the code from the QR link, `code` when typed.
    #[serde(default)]
    via: String,
}

/// Checks the logged-in parent in and shows the answer on the same page (303 back).
async fn parent_checkin(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<ParentForm>,
) -> Result<Response, AppError> {
    let user = ctx.user.ok_or(AppError::Unauthorised)?;
    if !constant_eq(f.csrf.as_bytes(), user.csrf.as_bytes()) {
        return Err(AppError::Csrf);
    }
    if !state.checkin_allowed(user.principal.user_id) {
        return Err(AppError::TooMany);
    }
    let ua = headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let attempt = Attempt {
        session_id: id,
        code: f.code,
        nonce: Some(f.nonce).filter(|n| n.len() <= 64),
        method: if f.via == "qr" {
            Method::Qr
        } else {
            Method::Code
        },
        device_hash: device_cookie(&headers).map(|d| checkin::device_hash(&d, ua)),
    };
    let to = match state
        .checkins
        .check_in(&user.scope, attempt, Utc::now())
        .await
    {
        Ok(Outcome::New(_)) => format!("/p/checkin/{id}?ok=new"),
        Ok(Outcome::Already(_)) => format!("/p/checkin/{id}?ok=already"),
        Err(StoreError::Invalid { code }) => format!("/p/checkin/{id}?r={code}"),
        Err(e) => return Err(e.into()),
    };
    Ok(Redirect::to(&to).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_codes_are_inline_svg() {
        let svg = qr_svg("http://school.example/p/checkin/1?c=123456").unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("viewBox"));
    }

    #[test]
    fn times_are_shown_in_china_time() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T11:02:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(hm(t), "19:02");
        assert_eq!(ymd_hm(t), "2026-12-01 19:02");
    }
}
