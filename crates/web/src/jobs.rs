//! The background job runner of a process, with the handlers of every job kind: roster
//! imports are built in; the ledger's PDF dossier is rendered here because it needs the
//! translations this crate holds.

use std::sync::Arc;

use jiaxiao_store::Db;
use jiaxiao_store::blobs::Blobs;

/// A runner for `serve` or `worker` processes.
pub fn runner(db: Db, role: &str, blobs: Blobs) -> jiaxiao_jobs::Runner {
    jiaxiao_jobs::Runner::new(db, role).with_handler(
        jiaxiao_store::roster::KIND_DOSSIER,
        Arc::new(move |db, job, progress| {
            let blobs = blobs.clone();
            Box::pin(async move { crate::ledger::dossier_job(db, blobs, job, progress).await })
        }),
    )
}
