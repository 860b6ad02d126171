//! The roster import wizard: upload → preview (every rejected row with its row number
//! and reason; a column mapping step when the header is not recognised) → confirm →
//! progress while the import runs in the background, in one transaction. An upload is
//! spooled to a temporary file, then read and checked on the blocking pool one at a
//! time, within `XlsxLimits`; the file itself, deflated, waits for confirmation in the
//! database (`store::roster::save_preview`), not in this process, and is checked again
//! on remap and confirm. So the memory of previews is one file's worth, however many
//! admins upload at once (issue 9).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiaxiao_domain::UnitKind;
use jiaxiao_domain::roster::{self, Field, Mapping};
use jiaxiao_store::StoreError;
use jiaxiao_store::org::{self, UnitRow};
use jiaxiao_store::roster::Preview;
use tokio::sync::OwnedSemaphorePermit;

use super::Chrome;
use crate::app::AppState;
use crate::auth::Staff;
use crate::error::AppError;
use crate::i18n::Lang;

/// A 100,000-row XLSX is about 5 MB; CSV in GBK a little more. 64 MB leaves room.
pub const MAX_ROSTER_BYTES: usize = 64 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/import", get(import_form))
        // Rosters are the one large upload; everything else keeps axum's 2 MB default.
        .route(
            "/import/preview",
            post(preview).layer(axum::extract::DefaultBodyLimit::max(MAX_ROSTER_BYTES)),
        )
        .route("/import/remap", post(remap))
        .route("/import/commit", post(commit))
        .route("/import/jobs/{id}", get(show_job))
        .route("/import/jobs/{id}/status", get(job_status))
}

#[derive(Template)]
#[template(path = "import_form.html")]
struct FormPage {
    c: Chrome,
    message: Option<String>,
    schools: Vec<UnitRow>,
}

async fn schools_for(state: &AppState, s: &Staff) -> Result<Vec<UnitRow>, AppError> {
    super::managed_units(state, &s.user.scope, &[UnitKind::School]).await
}

async fn form_page(
    state: &AppState,
    s: &Staff,
    message: Option<String>,
) -> Result<Response, AppError> {
    if !s.user.scope.can_manage() {
        return Err(AppError::NotFound);
    }
    let schools = schools_for(state, s).await?;
    let status = if message.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((
        status,
        Html(
            FormPage {
                c: Chrome::new(s.lang, Some(&s.user)),
                message,
                schools,
            }
            .render()?,
        ),
    )
        .into_response())
}

async fn import_form(State(state): State<AppState>, s: Staff) -> Result<Response, AppError> {
    form_page(&state, &s, None).await
}

struct FieldChoice {
    code: &'static str,
    label: String,
    selected: Option<usize>,
}

#[derive(Template)]
#[template(path = "import_preview.html")]
struct PreviewPage {
    c: Chrome,
    file_name: String,
    token: String,
    need_mapping: bool,
    fields: Vec<FieldChoice>,
    columns: Vec<String>,
    ok: usize,
    rejected: Vec<(usize, String, String)>,
    duplicates: Vec<(usize, String, String)>,
    plan: Option<PlanView>,
    message: Option<String>,
}

/// Lines of a long plan shown on the page; the counts are always whole.
const PLAN_LINES: usize = 100;

/// What the import would do (`store::roster::plan`, the same the CLI's `--dry-run` prints).
struct PlanView {
    summary: String,
    new_classes: Vec<(usize, String)>,
    needs_consent: bool,
    moves: Vec<jiaxiao_store::roster::PlannedMove>,
    moves_total: usize,
    /// Row, parent, relation in words, pupil, whether the parent is new.
    links: Vec<(usize, String, String, String, bool)>,
    links_total: usize,
}

impl PlanView {
    fn new(lang: Lang, plan: jiaxiao_store::roster::ImportPlan) -> PlanView {
        let r = &plan.report;
        let summary = lang.tf(
            "import.report",
            &[
                ("pupils", r.pupils_created.to_string()),
                ("updated", r.pupils_updated.to_string()),
                ("guardians", r.guardians_created.to_string()),
                ("links", r.links_created.to_string()),
                ("grades", r.grades_created.to_string()),
                ("classes", r.classes_created.to_string()),
                ("placements", r.placements_changed.to_string()),
            ],
        );
        let needs_consent = plan.needs_class_consent();
        let (moves_total, links_total) = (plan.moves.len(), plan.links.len());
        PlanView {
            summary,
            new_classes: plan.new_classes,
            needs_consent,
            moves: plan.moves.into_iter().take(PLAN_LINES).collect(),
            moves_total,
            links: plan
                .links
                .into_iter()
                .take(PLAN_LINES)
                .map(|l| {
                    let relation = lang.t(&format!("relation.{}", l.relation));
                    (l.row, l.parent, relation, l.pupil, l.new_parent)
                })
                .collect(),
            links_total,
        }
    }
}

/// The plan of `rows` for the school, when there is something to import.
async fn plan_of(
    state: &AppState,
    s: &Staff,
    school_id: i64,
    guess: &roster::HeaderGuess,
    parsed: &roster::ParsedRoster,
) -> Result<Option<PlanView>, AppError> {
    if !guess.missing_required().is_empty() || parsed.rows.is_empty() {
        return Ok(None);
    }
    let plan =
        jiaxiao_store::roster::plan(&state.db, &s.user.scope, school_id, &parsed.rows).await?;
    Ok(Some(PlanView::new(s.lang, plan)))
}

fn issues(lang: Lang, v: &[roster::RowIssue]) -> Vec<(usize, String, String)> {
    v.iter()
        .map(|i| (i.row, lang.reason(&i.code), i.detail.clone()))
        .collect()
}

/// How many uploads one process reads at once. Reading holds the file and its checked
/// rows (a CSV's table is never built, see `roster::check_file`); one at a time keeps
/// that to one file's worth however many admins upload together, and the others wait
/// for the slot (within the handler timeout) with their uploads on disk.
pub const PARALLEL_READS: usize = 1;

/// What a preview keeps of the file: its bytes deflated, in base64 for the text column.
/// A roster compresses several times over, and the rows are read again from it on
/// remap and confirm, so no table is held or stored.
const PACKED: &str = "deflate:";

fn pack(bytes: &[u8]) -> String {
    use base64::Engine;
    use std::io::Write;
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(bytes).expect("writing to memory");
    let deflated = z.finish().expect("writing to memory");
    let mut out = String::with_capacity(PACKED.len() + deflated.len().div_ceil(3) * 4);
    out.push_str(PACKED);
    base64::engine::general_purpose::STANDARD.encode_string(&deflated, &mut out);
    out
}

/// The file packed by [`pack`]. `None` for a payload in another form: a table stored as
/// JSON by an older version (it answers "expired" and the admin uploads again).
fn unpack(payload: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use std::io::Read;
    let deflated = base64::engine::general_purpose::STANDARD
        .decode(payload.strip_prefix(PACKED)?)
        .ok()?;
    let mut bytes = Vec::new();
    flate2::read::DeflateDecoder::new(&deflated[..])
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

/// Waits for one of the `PARALLEL_READS` slots. A request holds it from reading the file
/// until its table is stored (or read back and checked): each step holds a copy of the
/// table, so the slots bound the memory of all uploads together.
async fn read_slot(state: &AppState) -> Result<OwnedSemaphorePermit, AppError> {
    state
        .parses
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| AppError::Internal("upload slots closed".into()))
}

/// A read handed to the reader thread.
type ReadJob = Box<dyn FnOnce() + Send>;

/// The one thread that reads every upload of this process, in turn. Reads on the
/// blocking pool landed on a different thread each time, and each thread's allocator
/// heap stayed near its peak after its read: three uploads in a row cost about 65 MB
/// more than one (issue 9). On one thread the next read reuses what the last one freed.
fn reader() -> &'static std::sync::mpsc::Sender<ReadJob> {
    static READER: std::sync::OnceLock<std::sync::mpsc::Sender<ReadJob>> =
        std::sync::OnceLock::new();
    READER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<ReadJob>();
        std::thread::Builder::new()
            .name("roster-reader".into())
            .spawn(move || rx.into_iter().for_each(|job| job()))
            .expect("starting the roster reader thread");
        tx
    })
}

/// Runs `f` on the reader thread, so a large file does not stall the async workers. The
/// slot travels with `f` and comes back with its result: a request given up by the
/// timeout still counts until its reading ends. A panic in `f` (a reader bug the fuzz
/// targets have not found yet) ends this request with an internal error, not the
/// process nor the reader thread.
async fn blocking_read<T: Send + 'static>(
    slot: OwnedSemaphorePermit,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<(OwnedSemaphorePermit, T), AppError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: ReadJob = Box::new(move || {
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send((slot, out));
    });
    reader()
        .send(job)
        .map_err(|_| AppError::Internal("the roster reader thread is gone".into()))?;
    match rx.await {
        Ok((slot, Ok(out))) => Ok((slot, out)),
        _ => Err(AppError::Internal(
            "reading an upload failed (panic)".into(),
        )),
    }
}

/// The message for a file we refuse: the limit it broke, or "unreadable".
fn refusal(lang: Lang, e: &roster::ReadError) -> String {
    match e.limit() {
        Some(limit) => lang.tf(
            &format!("upload.{}", e.code()),
            &[("limit", limit.to_string())],
        ),
        None => lang.t("import.unreadable"),
    }
}

fn render_preview(
    s: &Staff,
    token: String,
    file_name: String,
    guess: &roster::HeaderGuess,
    parsed: &roster::ParsedRoster,
    plan: Option<PlanView>,
    message: Option<String>,
) -> Result<Response, AppError> {
    let lang = s.lang;
    let fields = Field::ALL
        .into_iter()
        .map(|f| FieldChoice {
            code: f.code(),
            label: lang.t(&format!("field.{}", f.code())),
            selected: guess.mapping.get(&f).copied(),
        })
        .collect();
    let status = if message.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Html(
            PreviewPage {
                c: Chrome::new(lang, Some(&s.user)),
                file_name,
                token,
                need_mapping: !guess.missing_required().is_empty(),
                fields,
                columns: guess.columns.clone(),
                ok: parsed.accepted,
                rejected: issues(lang, &parsed.rejected),
                duplicates: issues(lang, &parsed.duplicates),
                plan,
                message,
            }
            .render()?,
        ),
    )
        .into_response())
}

enum Spool {
    Upload(axum::extract::multipart::MultipartError),
    Disk(std::io::Error),
}

/// Writes the file field to an anonymous temporary file (gone when dropped), chunk by
/// chunk: an upload waiting for the reading slot holds disk, not memory.
async fn spool(field: &mut axum::extract::multipart::Field<'_>) -> Result<std::fs::File, Spool> {
    use tokio::io::AsyncWriteExt;
    let file = tokio::task::spawn_blocking(tempfile::tempfile)
        .await
        .map_err(|e| Spool::Disk(std::io::Error::other(e)))?
        .map_err(Spool::Disk)?;
    let mut file = tokio::fs::File::from_std(file);
    while let Some(chunk) = field.chunk().await.map_err(Spool::Upload)? {
        file.write_all(&chunk).await.map_err(Spool::Disk)?;
    }
    file.flush().await.map_err(Spool::Disk)?;
    Ok(file.into_std().await)
}

fn read_spooled(mut file: std::fs::File) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek};
    file.rewind()?;
    let mut bytes = Vec::with_capacity(file.metadata()?.len() as usize);
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

async fn preview(
    State(state): State<AppState>,
    s: Staff,
    mut mp: Multipart,
) -> Result<Response, AppError> {
    let (mut csrf, mut school_id, mut file_name, mut spooled) =
        (String::new(), None, String::new(), None);
    // A body cut off at the size limit is that limit's answer (an error page, see
    // `app::render_errors`), not a malformed upload.
    let upload_error = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            StatusCode::PAYLOAD_TOO_LARGE.into_response()
        } else {
            AppError::Invalid("bad_upload".into()).into_response()
        }
    };
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Ok(upload_error(e)),
        };
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "school_id" => school_id = field.text().await.ok().and_then(|t| t.parse::<i64>().ok()),
            "file" => {
                file_name = field.file_name().unwrap_or("roster").to_owned();
                match spool(&mut field).await {
                    Ok(f) => spooled = Some(f),
                    Err(Spool::Upload(e)) => return Ok(upload_error(e)),
                    Err(Spool::Disk(e)) => {
                        return Err(AppError::Internal(format!("spooling an upload: {e}")));
                    }
                }
            }
            _ => {}
        }
    }
    s.check_csrf(&csrf)?;
    let school_id = school_id.ok_or_else(|| AppError::Invalid("bad_upload".into()))?;
    // The school must be one the caller manages, before anything is parsed.
    let school = org::get_unit(&state.db, &s.user.scope, school_id).await?;
    if school.kind != UnitKind::School.code() || !s.user.scope.can_manage() {
        return Err(AppError::NotFound);
    }
    let spooled = spooled.ok_or_else(|| AppError::Invalid("bad_upload".into()))?;
    let slot = read_slot(&state).await?;
    let (slot, read) = blocking_read(slot, move || {
        let bytes = read_spooled(spooled)
            .map_err(|e| AppError::Internal(format!("reading a spooled upload: {e}")))?;
        Ok::<_, AppError>(
            // Rows kept: the preview shows what importing them would do.
            roster::check_file(&bytes, None, true).map(|(guess, parsed)| {
                let payload = pack(&bytes);
                (guess, parsed, payload)
            }),
        )
    })
    .await?;
    let (guess, parsed, payload) = match read? {
        Ok(x) => x,
        Err(e) => return form_page(&state, &s, Some(refusal(s.lang, &e))).await,
    };
    let saved = jiaxiao_store::roster::save_preview(
        &state.db,
        &s.user.scope,
        school_id,
        &file_name,
        payload,
    )
    .await;
    drop(slot);
    let id = match saved {
        Ok(id) => id,
        Err(StoreError::Invalid {
            code: "preview_too_large",
        }) => {
            let mb = jiaxiao_store::roster::PREVIEW_MAX_BYTES / (1024 * 1024);
            let message = s
                .lang
                .tf("upload.preview_too_large", &[("limit", mb.to_string())]);
            return form_page(&state, &s, Some(message)).await;
        }
        Err(e) => return Err(e.into()),
    };
    let plan = plan_of(&state, &s, school_id, &guess, &parsed).await?;
    render_preview(&s, id.to_string(), file_name, &guess, &parsed, plan, None)
}

fn chosen_mapping(form: &HashMap<String, String>) -> Mapping {
    Field::ALL
        .into_iter()
        .filter_map(|f| {
            form.get(&format!("map_{}", f.code()))
                .and_then(|v| v.parse::<usize>().ok())
                .map(|c| (f, c))
        })
        .collect()
}

/// The caller's pending preview named by the form's `token`, read back from the
/// database (any serve process can answer) and checked with the form's mapping; its
/// rows kept only with `keep_rows` (to import them).
/// `None` when it is gone: confirmed, replaced by a newer upload, expired or not theirs.
async fn reread(
    state: &AppState,
    s: &Staff,
    form: &HashMap<String, String>,
    keep_rows: bool,
) -> Result<Option<(Preview, roster::HeaderGuess, roster::ParsedRoster)>, AppError> {
    let Some(id) = form.get("token").and_then(|t| t.parse::<i64>().ok()) else {
        return Ok(None);
    };
    let slot = read_slot(state).await?;
    let mut preview = match jiaxiao_store::roster::get_preview(&state.db, &s.user.scope, id).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let payload = std::mem::take(&mut preview.payload);
    let mapping = chosen_mapping(form);
    let (_slot, checked) = blocking_read(slot, move || {
        let bytes = unpack(&payload)?;
        drop(payload);
        // It was read once already; a failure now is a changed reader, as unreadable.
        roster::check_file(&bytes, Some(&mapping), keep_rows).ok()
    })
    .await?;
    Ok(checked.map(|(guess, parsed)| (preview, guess, parsed)))
}

async fn remap(
    State(state): State<AppState>,
    s: Staff,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    s.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let Some((preview, guess, parsed)) = reread(&state, &s, &form, true).await? else {
        return form_page(&state, &s, Some(s.lang.t("import.expired"))).await;
    };
    let plan = plan_of(&state, &s, preview.school_id, &guess, &parsed).await?;
    render_preview(
        &s,
        preview.id.to_string(),
        preview.file_name,
        &guess,
        &parsed,
        plan,
        None,
    )
}

async fn commit(
    State(state): State<AppState>,
    s: Staff,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    s.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let Some((preview, guess, parsed)) = reread(&state, &s, &form, true).await? else {
        return form_page(&state, &s, Some(s.lang.t("import.expired"))).await;
    };
    if !guess.missing_required().is_empty() || parsed.rows.is_empty() {
        return Err(AppError::Invalid("nothing_to_import".into()));
    }
    // New classes in a school that has classes need the box ticked (the CLI's
    // --create-classes): a typo must not become a class.
    if form.get("create_classes").map(String::as_str) != Some("1")
        && let (true, new) = jiaxiao_store::roster::classes_to_create(
            &state.db,
            &s.user.scope,
            preview.school_id,
            &parsed.rows,
        )
        .await?
        && !new.is_empty()
    {
        let plan = plan_of(&state, &s, preview.school_id, &guess, &parsed).await?;
        let message = s.lang.t("import_plan.consent_needed");
        return render_preview(
            &s,
            preview.id.to_string(),
            preview.file_name,
            &guess,
            &parsed,
            plan,
            Some(message),
        );
    }
    let year = org::ensure_school_year(&state.db.conn, org::today_date()).await?;
    let job = match jiaxiao_store::roster::enqueue_preview(
        &state.db,
        &s.user.scope,
        preview.id,
        year,
        &parsed.rows,
    )
    .await
    {
        Ok(job) => job,
        // Confirmed a moment ago from another tab or process: one import, not two.
        Err(StoreError::NotFound) => {
            return form_page(&state, &s, Some(s.lang.t("import.expired"))).await;
        }
        Err(e) => return Err(e.into()),
    };
    // This process's runner starts at once; a worker elsewhere finds it within seconds.
    state.jobs.wake.notify_one();
    Ok(Redirect::to(&format!("/import/jobs/{job}")).into_response())
}

/// How far an import is, shared by the job page and its polled fragment.
struct StatusView {
    job_id: i64,
    running: bool,
    failed: bool,
    done: usize,
    total: usize,
    message: String,
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPage {
    c: Chrome,
    file_name: String,
    s: StatusView,
}

#[derive(Template)]
#[template(path = "import_status.html")]
struct JobStatus {
    c: Chrome,
    s: StatusView,
}

async fn job_view(
    state: &AppState,
    staff: &Staff,
    id: i64,
) -> Result<(Chrome, String, StatusView), AppError> {
    let job = jiaxiao_store::roster::get_job(&state.db, &staff.user.scope, id).await?;
    let lang = staff.lang;
    let (done, total) = state
        .jobs
        .progress
        .get(id)
        .unwrap_or((job.done as usize, job.total as usize));
    use jiaxiao_store::roster::{STATUS_FAILED, STATUS_QUEUED, STATUS_RUNNING};
    let running = job.status == STATUS_RUNNING || job.status == STATUS_QUEUED;
    let failed = job.status == STATUS_FAILED;
    let message = if failed {
        // The job row keeps a reason code; name it when there is a text for it.
        let code = job
            .result_json
            .as_deref()
            .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let key = format!("reason.{code}");
        match lang.t(&key) {
            reason if reason != key => format!("{}：{reason}", lang.t("import.failed")),
            _ => lang.t("import.failed"),
        }
    } else if let Some(r) = job
        .result_json
        .as_deref()
        .and_then(|j| serde_json::from_str::<jiaxiao_store::roster::ApplyReport>(j).ok())
    {
        format!(
            "{}: {}",
            lang.t("import.done"),
            lang.tf(
                "import.report",
                &[
                    ("pupils", r.pupils_created.to_string()),
                    ("updated", r.pupils_updated.to_string()),
                    ("guardians", r.guardians_created.to_string()),
                    ("links", r.links_created.to_string()),
                    ("grades", r.grades_created.to_string()),
                    ("classes", r.classes_created.to_string()),
                    ("placements", r.placements_changed.to_string()),
                ]
            )
        )
    } else {
        String::new()
    };
    let view = StatusView {
        job_id: id,
        running,
        failed,
        done,
        total,
        message,
    };
    Ok((Chrome::new(lang, Some(&staff.user)), job.file_name, view))
}

async fn show_job(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let (c, file_name, s) = job_view(&state, &s, id).await?;
    Ok(Html(JobPage { c, file_name, s }.render()?))
}

async fn job_status(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let (c, _, s) = job_view(&state, &s, id).await?;
    Ok(Html(JobStatus { c, s }.render()?))
}
