//! The PDF dossier of a school year (per session: notice, lesson plan, sign-in summary,
//! photos, summary), rendered by a background job with progress.

use jiaxiao_store::Db;
use jiaxiao_store::blobs::Blobs;

pub async fn run(
    _db: Db,
    _blobs: Blobs,
    _job: jiaxiao_store::entities::import_job::Model,
    _progress: jiaxiao_jobs::ProgressFn,
) -> jiaxiao_jobs::JobResult {
    Err("pdf_unavailable".into())
}
