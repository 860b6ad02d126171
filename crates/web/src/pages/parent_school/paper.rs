//! The paper round trip: print a sign-in sheet per class (PDF with its sheet code),
//! enter the ticks afterwards, upload the scanned sheet as evidence, and settle the
//! conflicts with online check-ins in the open.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiaxiao_domain::parent_school::AttendanceStatus;
use jiaxiao_export::pdf::{SignInLabels, SignInRow, SignInSheet};
use jiaxiao_store::parent_school::paper::{self, MarkLine, SheetRow};
use jiaxiao_store::parent_school::records::{self, NewAttachment};
use jiaxiao_store::parent_school::sessions::{self, RosterLine, SessionRow};
use serde::Deserialize;

use super::SchoolNav;
use super::home::pdf_response;
use super::sessions::read_upload;
use crate::app::AppState;
use crate::auth::Staff;
use crate::error::AppError;
use crate::i18n::{Lang, local_time};
use crate::pages::Chrome;
use crate::pages::form::{Posted, Submitted, done, unprocessable};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sessions/{id}/paper", get(list_sheets))
        .route("/sessions/{id}/paper/{class}/sheet.pdf", get(print_sheet))
        .route("/paper", get(find_sheet))
        .route("/paper/{sheet}", get(show_sheet))
        .route("/paper/{sheet}/marks", post(enter_marks))
        .route("/paper/{sheet}/resolve", post(resolve))
        .route(
            "/paper/{sheet}/scan",
            post(upload_scan).layer(axum::extract::DefaultBodyLimit::max(
                records::MAX_ATTACHMENT_BYTES + 64 * 1024,
            )),
        )
}

pub struct ClassChoice {
    pub id: i64,
    pub name: String,
    pub parents: usize,
}

#[derive(Template)]
#[template(path = "parent_school/paper_list.html")]
struct ListPage {
    c: Chrome,
    nav: SchoolNav,
    s: SessionRow,
    classes: Vec<ClassChoice>,
    sheets: Vec<SheetRow>,
}

async fn list_sheets(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let scope = &s.user.scope;
    let row = sessions::get_session(&state.db, scope, id).await?;
    let school = sessions::school(&state.db, scope, row.school_id).await?;
    let sheets = paper::sheets_of(&state.db, scope, id).await?;
    let roster = sessions::roster(&state.db, scope, id, None).await?;
    let mut classes: Vec<ClassChoice> = Vec::new();
    for l in &roster {
        if let (Some(cid), Some(name)) = (l.class_id, &l.class_name) {
            match classes.iter_mut().find(|c| c.id == cid) {
                Some(c) => c.parents += 1,
                None => classes.push(ClassChoice {
                    id: cid,
                    name: name.clone(),
                    parents: 1,
                }),
            }
        }
    }
    Ok(Html(
        ListPage {
            c: Chrome::new(s.lang, Some(&s.user)),
            nav: SchoolNav::new(school, "sessions"),
            s: row,
            classes,
            sheets,
        }
        .render()?,
    ))
}

fn labels(lang: Lang) -> SignInLabels {
    let t = |k: &str| lang.t(&format!("ps.sheet.{k}"));
    SignInLabels {
        title: t("title"),
        when: t("when"),
        place: t("place"),
        class_name: t("class"),
        sheet_code: t("code"),
        number: t("number"),
        parent: t("parent"),
        child: t("child"),
        relation: t("relation"),
        signature: t("signature"),
        note: t("note"),
        page_of: t("page_of"),
    }
}

fn sheet_lines(lang: Lang, lines: &[RosterLine]) -> Vec<SignInRow> {
    lines
        .iter()
        .map(|l| SignInRow {
            parent: l.guardian_name.clone(),
            child: l.pupil_name.clone().unwrap_or_default(),
            relation: l
                .relation
                .as_deref()
                .map(|r| lang.t(&format!("relation.{r}")))
                .unwrap_or_default(),
        })
        .collect()
}

async fn print_sheet(
    State(state): State<AppState>,
    s: Staff,
    Path((id, class)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let scope = &s.user.scope;
    let row = sessions::get_session(&state.db, scope, id).await?;
    let sheet = paper::sheet_for(&state.db, scope, id, class).await?;
    let pdf = SignInSheet {
        school: row.school_name.clone(),
        session_title: row.title.clone(),
        when: local_time(row.starts_at),
        place: row
            .place
            .clone()
            .or(row.online_url.clone())
            .unwrap_or_default(),
        class_name: sheet.class_name.clone(),
        sheet_code: sheet.sheet.code.clone(),
        qr_content: sheet.sheet.code.clone(),
        rows: sheet_lines(s.lang, &sheet.lines),
        blank_rows: 3,
        labels: labels(s.lang),
    };
    let bytes = tokio::task::spawn_blocking(move || jiaxiao_export::pdf::signin_sheet(&pdf))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(pdf_response(bytes, &format!("{}.pdf", sheet.sheet.code)))
}

#[derive(Deserialize)]
struct CodeQuery {
    code: String,
}

async fn find_sheet(
    State(state): State<AppState>,
    s: Staff,
    Query(q): Query<CodeQuery>,
) -> Result<Response, AppError> {
    let sheet = paper::sheet_by_code(&state.db, &s.user.scope, &q.code).await?;
    Ok(Redirect::to(&format!("/paper/{}", sheet.sheet.id)).into_response())
}

pub struct EntryLine {
    pub guardian_id: i64,
    pub parent: String,
    pub child: String,
    pub online: String,
    pub entered: String,
}

pub struct MarkView {
    pub guardian_id: i64,
    pub parent: String,
    pub paper: String,
    pub online: String,
    pub state: String,
    pub conflict: bool,
}

#[derive(Template)]
#[template(path = "parent_school/paper_sheet.html")]
struct SheetPage {
    c: Chrome,
    nav: SchoolNav,
    s: SessionRow,
    sheet_id: i64,
    code: String,
    class_id: i64,
    class_name: String,
    scanned: Option<i64>,
    lines: Vec<EntryLine>,
    marks: Vec<MarkView>,
    statuses: Vec<(String, String)>,
    message: Option<String>,
    /// Refused marks or a refused scan, shown again with what was chosen.
    posted: Posted,
}

#[derive(Deserialize, Default)]
struct SheetQuery {
    #[serde(default)]
    added: Option<usize>,
    #[serde(default)]
    agrees: Option<usize>,
    #[serde(default)]
    conflicts: Option<usize>,
}

async fn show_sheet(
    State(state): State<AppState>,
    s: Staff,
    Path(sheet_id): Path<i64>,
    Query(q): Query<SheetQuery>,
) -> Result<Html<String>, AppError> {
    Ok(Html(
        render_sheet(&state, &s, sheet_id, q, Posted::none()).await?,
    ))
}

/// The sheet's page again with the refused form `p`: 422.
async fn refused(
    state: &AppState,
    s: &Staff,
    sheet_id: i64,
    p: Posted,
) -> Result<Response, AppError> {
    let page = render_sheet(state, s, sheet_id, SheetQuery::default(), p).await?;
    Ok(unprocessable(page))
}

async fn render_sheet(
    state: &AppState,
    s: &Staff,
    sheet_id: i64,
    q: SheetQuery,
    posted: Posted,
) -> Result<String, AppError> {
    let lang = s.lang;
    let scope = &s.user.scope;
    let marks: Vec<MarkLine> = paper::marks(&state.db, scope, sheet_id).await?;
    let sh = jiaxiao_store::parent_school::paper::sheet_by_id(&state.db, scope, sheet_id).await?;
    let row = sessions::get_session(&state.db, scope, sh.sheet.session_id).await?;
    let school = sessions::school(&state.db, scope, row.school_id).await?;
    let st = |v: &Option<String>| {
        v.as_deref()
            .map(|x| lang.t(&format!("ps.status.{x}")))
            .unwrap_or_else(|| lang.t("ps.none"))
    };
    let entered = |g: i64| {
        marks
            .iter()
            .find(|m| m.guardian_id == g)
            .map(|m| m.paper_status.clone())
            .unwrap_or_default()
    };
    let lines = sh
        .lines
        .iter()
        .map(|l| EntryLine {
            guardian_id: l.guardian_id,
            parent: l.guardian_name.clone(),
            child: l.pupil_name.clone().unwrap_or_default(),
            online: match (&l.status, &l.method) {
                (Some(x), Some(m)) => format!(
                    "{} · {}",
                    lang.t(&format!("ps.status.{x}")),
                    lang.t(&format!("ps.method.{m}"))
                ),
                _ => String::new(),
            },
            entered: if posted.is("marks") {
                posted
                    .val("marks", &format!("g_{}", l.guardian_id))
                    .to_owned()
            } else {
                entered(l.guardian_id)
            },
        })
        .collect();
    let message = q.added.map(|a| {
        lang.tf(
            "ps.sheet.entered",
            &[
                ("added", a.to_string()),
                ("agrees", q.agrees.unwrap_or(0).to_string()),
                ("conflicts", q.conflicts.unwrap_or(0).to_string()),
            ],
        )
    });
    Ok(SheetPage {
        c: Chrome::new(lang, Some(&s.user)),
        nav: SchoolNav::new(school, "sessions"),
        sheet_id,
        code: sh.sheet.code.clone(),
        class_id: sh.sheet.class_id,
        class_name: sh.class_name.clone(),
        scanned: sh.sheet.scan_attachment_id,
        lines,
        marks: marks
            .iter()
            .map(|m| MarkView {
                guardian_id: m.guardian_id,
                parent: m.guardian_name.clone(),
                paper: lang.t(&format!("ps.status.{}", m.paper_status)),
                online: match (&m.online_status, &m.online_method) {
                    (Some(_), Some(meth)) => {
                        format!(
                            "{} · {}",
                            st(&m.online_status),
                            lang.t(&format!("ps.method.{meth}"))
                        )
                    }
                    _ => st(&m.online_status),
                },
                state: lang.t(&format!(
                    "ps.sheet.state.{}",
                    m.resolution.as_deref().unwrap_or("added")
                )),
                conflict: m.resolution.as_deref() == Some("conflict"),
            })
            .collect(),
        statuses: AttendanceStatus::ALL
            .iter()
            .map(|a| (a.code().to_owned(), lang.t(&format!("ps.status.{a}"))))
            .collect(),
        message,
        posted,
        s: row,
    }
    .render()?)
}

async fn enter_marks(
    State(state): State<AppState>,
    s: Staff,
    Path(sheet_id): Path<i64>,
    Submitted { form: pairs, raw }: Submitted<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    s.check_csrf(&csrf)?;
    // The sheet before the marks: another class's sheet is 404 whatever was ticked.
    paper::sheet_by_id(&state.db, &s.user.scope, sheet_id).await?;
    let r = async {
        let mut marks = Vec::new();
        for (k, v) in &pairs {
            if let Some(g) = k.strip_prefix("g_")
                && !v.is_empty()
            {
                let g: i64 = g
                    .parse()
                    .map_err(|_| AppError::Invalid("bad_form".into()))?;
                let st =
                    AttendanceStatus::from_code(v).ok_or(AppError::Invalid("bad_status".into()))?;
                marks.push((g, st));
            }
        }
        Ok::<_, AppError>(paper::enter_marks(&state.db, &s.user.scope, sheet_id, &marks).await?)
    }
    .await;
    match r {
        Ok(rec) => Ok(Redirect::to(&format!(
            "/paper/{sheet_id}?added={}&agrees={}&conflicts={}",
            rec.added, rec.agrees, rec.conflicts
        ))
        .into_response()),
        Err(e) => {
            let p = Posted::refused(s.lang, "marks", raw, e, &[], |_| {})?;
            refused(&state, &s, sheet_id, p).await
        }
    }
}

#[derive(Deserialize)]
struct ResolveForm {
    csrf: String,
    guardian_id: i64,
    take: String,
}

async fn resolve(
    State(state): State<AppState>,
    s: Staff,
    Path(sheet_id): Path<i64>,
    Form(f): Form<ResolveForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    paper::resolve(
        &state.db,
        &s.user.scope,
        sheet_id,
        f.guardian_id,
        f.take == "paper",
    )
    .await?;
    Ok(Redirect::to(&format!("/paper/{sheet_id}")).into_response())
}

async fn upload_scan(
    State(state): State<AppState>,
    s: Staff,
    Path(sheet_id): Path<i64>,
    mut mp: Multipart,
) -> Result<Response, AppError> {
    let (csrf, _, files) = read_upload(&mut mp).await?;
    s.check_csrf(&csrf)?;
    let scope = &s.user.scope;
    let sh = paper::sheet_by_id(&state.db, scope, sheet_id).await?;
    let row = sessions::get_session(&state.db, scope, sh.sheet.session_id).await?;
    let picture = match files.into_iter().next() {
        Some((name, bytes)) => super::prepare_picture(records::KIND_SCAN, bytes)
            .await
            .map(|b| (name, b)),
        None => Err(AppError::Invalid("empty_file".into())),
    };
    let (name, bytes) = match picture {
        Ok(p) => p,
        Err(e) => {
            let p = super::file_refused(s.lang, "scan", e)?;
            return refused(&state, &s, sheet_id, p).await;
        }
    };
    let att = records::add_attachment(
        &state.db,
        &state.blobs,
        scope,
        NewAttachment {
            school_id: row.school_id,
            school_year_id: None,
            session_id: Some(row.id),
            kind: records::KIND_SCAN,
            file_name: &name,
            bytes: &bytes,
        },
    )
    .await?;
    paper::attach_scan(&state.db, scope, sheet_id, att).await?;
    Ok(done(&format!("/paper/{sheet_id}"), "uploaded"))
}
