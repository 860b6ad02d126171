//! Staff pages of the parent school (家长学校): the school's home with its dashboard,
//! sessions and their records, the paper sign-in round trip, trainees and credits,
//! excellent trainees, the ledger, and the office's overview of its schools.

pub mod home;
pub mod paper;
pub mod sessions;
pub mod trainees;

use axum::Router;
use jiaxiao_store::org::UnitRow;

use crate::app::AppState;
use crate::error::AppError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(home::routes())
        .merge(sessions::routes())
        .merge(paper::routes())
        .merge(trainees::routes())
}

/// The school year pages show by default: the one today falls in, made on the first
/// write if it does not exist yet (reads never create it: -1 then, and lists are empty).
pub async fn current_year(state: &AppState) -> Result<i64, AppError> {
    Ok(jiaxiao_store::org::current_school_year(&state.db.conn).await?)
}

/// What the header of every school page needs: the school and which tab is open.
pub struct SchoolNav {
    pub school: UnitRow,
    pub tab: &'static str,
}

impl SchoolNav {
    pub fn new(school: UnitRow, tab: &'static str) -> SchoolNav {
        SchoolNav { school, tab }
    }
}

/// A form whose multi-selects and checkboxes arrive as repeated keys (axum's `Form`
/// keeps only one of them), of at most `domain::text::MAX_FORM_FIELDS` fields.
pub struct ManyForm<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for ManyForm<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::Invalid("bad_form".into()))?;
        // Refused before parsing: tens of thousands of fields cost memory here and bound
        // variables in the store.
        let fields = bytes.iter().filter(|b| **b == b'&').count() + 1;
        if fields > jiaxiao_domain::text::MAX_FORM_FIELDS {
            return Err(AppError::Invalid("too_many_fields".into()));
        }
        serde_html_form::from_bytes(&bytes)
            .map(ManyForm)
            .map_err(|_| AppError::Invalid("bad_form".into()))
    }
}

/// An uploaded picture made fit to keep (decoded, upright, scaled down); anything that
/// does not decode is refused at upload with a message, not when a PDF renders later.
pub async fn prepare_picture(kind: &str, bytes: Vec<u8>) -> Result<Vec<u8>, AppError> {
    use jiaxiao_export::images;
    use jiaxiao_store::parent_school::records;
    let kind = kind.to_owned();
    tokio::task::spawn_blocking(move || match kind.as_str() {
        records::KIND_PHOTO | records::KIND_SCAN => images::prepare_photo(&bytes),
        records::KIND_SEAL => images::check_image(&bytes).map(|_| bytes),
        _ => Ok(bytes),
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|_| AppError::Invalid("not_an_image".into()))
}

/// Empty strings from a form mean "not given".
pub fn opt_text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}
