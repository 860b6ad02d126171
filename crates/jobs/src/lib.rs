//! The background job runner. Jobs live in the database (table `import_job`), so any
//! `serve` or `worker` process may claim one; the claim is atomic, a job whose process
//! died is claimed again after `STALE_AFTER_MINUTES`. Progress of the jobs this process
//! runs is kept in memory for the pages to show.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiaxiao_store::Db;
use jiaxiao_store::entities::import_job;
use tokio::sync::Notify;

/// Reports (done, total) as a job advances.
pub type ProgressFn = Box<dyn FnMut(usize, usize) + Send>;

/// The outcome stored in the job row: a JSON body, or an error code.
pub type JobResult = Result<serde_json::Value, String>;

/// Runs one claimed job of a kind other than a roster import (the PDF dossier): given
/// by the layer that knows how (the web crate holds the translations the PDF needs).
pub type Handler = Arc<
    dyn Fn(Db, import_job::Model, ProgressFn) -> Pin<Box<dyn Future<Output = JobResult> + Send>>
        + Send
        + Sync,
>;

/// job id → (rows done, rows in all), for the jobs running in this process.
#[derive(Clone, Default)]
pub struct Progress(Arc<Mutex<HashMap<i64, (usize, usize)>>>);

impl Progress {
    pub fn get(&self, job: i64) -> Option<(usize, usize)> {
        self.0.lock().ok().and_then(|m| m.get(&job).copied())
    }

    fn set(&self, job: i64, done: usize, total: usize) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(job, (done, total));
        }
    }

    fn clear(&self, job: i64) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(&job);
        }
    }
}

/// What a process needs to run jobs: a name unique to the process (apalis' lesson:
/// `{role}-{host}-{pid}`), progress to report, and a bell that new work rings.
#[derive(Clone)]
pub struct Runner {
    pub db: Db,
    pub name: String,
    pub progress: Progress,
    pub wake: Arc<Notify>,
    handlers: Arc<HashMap<String, Handler>>,
}

impl Runner {
    pub fn new(db: Db, role: &str) -> Runner {
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "host".into());
        Runner {
            db,
            name: format!("{role}-{host}-{}", std::process::id()),
            progress: Progress::default(),
            wake: Arc::new(Notify::new()),
            handlers: Arc::new(HashMap::new()),
        }
    }

    /// Adds the handler of a job kind.
    pub fn with_handler(mut self, kind: &str, h: Handler) -> Runner {
        Arc::make_mut(&mut self.handlers).insert(kind.to_owned(), h);
        self
    }

    /// Claims and runs one job; false when there was nothing to do.
    pub async fn run_once(&self) -> bool {
        let job = match jiaxiao_store::roster::claim_next(&self.db, &self.name).await {
            Ok(Some(job)) => job,
            Ok(None) => return false,
            Err(e) => {
                tracing::error!(error = %e, "claiming a job failed");
                return false;
            }
        };
        let id = job.id;
        if job.kind != jiaxiao_store::roster::KIND_ROSTER {
            self.run_other(job).await;
            return true;
        }
        tracing::info!(job = id, rows = job.total, "roster import started");
        let progress = self.progress.clone();
        progress.set(id, 0, job.total as usize);
        let p = progress.clone();
        let result =
            jiaxiao_store::roster::run_claimed(&self.db, &job, move |d, t| p.set(id, d, t)).await;
        progress.clear(id);
        match result {
            Ok(rep) => tracing::info!(
                job = id,
                pupils_created = rep.pupils_created,
                "roster import done"
            ),
            // The outcome is in the job row; the log keeps the cause (no personal data in it).
            Err(e) => tracing::warn!(job = id, error = %e, "roster import failed"),
        }
        true
    }

    async fn run_other(&self, job: import_job::Model) {
        let id = job.id;
        let kind = job.kind.clone();
        tracing::info!(job = id, kind = %kind, "job started");
        let progress = self.progress.clone();
        progress.set(id, 0, job.total.max(1) as usize);
        let result = match self.handlers.get(&kind) {
            Some(h) => {
                let p = progress.clone();
                h(self.db.clone(), job, Box::new(move |d, t| p.set(id, d, t))).await
            }
            None => Err("no_handler".into()),
        };
        progress.clear(id);
        if let Err(e) = &result {
            tracing::warn!(job = id, kind = %kind, error = %e, "job failed");
        } else {
            tracing::info!(job = id, kind = %kind, "job done");
        }
        if let Err(e) = jiaxiao_store::roster::finish_other(&self.db, id, result).await {
            tracing::error!(job = id, error = %e, "recording a job's outcome failed");
        }
    }

    /// Runs jobs until `stop` completes: straight away when rung, otherwise polling, so
    /// work queued by another process is found too.
    pub async fn run(self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            while self.run_once().await {}
            tokio::select! {
                _ = &mut stop => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
    }
}
