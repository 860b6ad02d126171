//! Check-ins (签到): the hot path of a parent scanning the projector's QR code, and the
//! slower paths around it (staff marking from the roster, the staff's view of refusals
//! and suspicious devices, the export).
//!
//! The hot path does no database reads. [`Checkins`] keeps each open session in memory
//! (its secret, window, status and the set of invited parents) for a few seconds, so a
//! check-in is judged by arithmetic and then costs one idempotent insert, unique on
//! (session, parent). Every hot-path write goes through one writer per process that
//! commits in groups: whatever check-ins queued up while the previous group was being
//! flushed go into the next transaction, and each waiting request
//! is answered only after the COMMIT that holds its row (on SQLite with synchronous=FULL,
//! so an answer means the row is on disk). SQLite needs this because it has one writer
//! and a flush per commit; PostgreSQL started with plain pooled inserts (DESIGN §6) and
//! took the same path when they reached less than half a pgbench INSERT's throughput
//! (decision 0008). On a SQLite file the writer is a thread of its own with its own
//! connection rather than a task on the pool (decision 0009).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use jiaxiao_domain::checkin_code::{CodeCheck, CodeGen};
use jiaxiao_domain::parent_school::{AttendanceStatus, Method, Refusal, SessionStatus, Window};
use sea_orm::{ConnectionTrait, FromQueryResult, Statement, Value};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::audit::{self, Entry};
use crate::parent_school::{bind, rows, tally};
use crate::{Backend, Db, Scope, StoreError, StoreResult};

/// How long a cached session is served before it is reloaded in the background. Bounds
/// how long another process's change (a new invitee, a cancellation) takes to be seen;
/// changes made in this process are seen at once (see [`sessions_changed`]).
const TTL: Duration = Duration::from_secs(10);
/// The most check-ins in one group commit; bounds the statement's bind parameters
/// (9 per row) well below SQLite's limit.
const MAX_GROUP: usize = 64;
/// Waiting check-ins beyond this make new requests wait for room (back-pressure).
const QUEUE: usize = 4096;

/// A check-in as a parent posts it.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub session_id: i64,
    pub code: String,
    /// Chosen by the client per attempt; a retry with the same nonce gets the same row.
    pub nonce: Option<String>,
    /// `Qr` when the phone opened the projector's link, `Code` when the digits were typed.
    pub method: Method,
    /// From [`device_hash`]; never a raw address or identifier.
    pub device_hash: Option<String>,
}

/// A parent's check-in row.
#[derive(Debug, Clone, PartialEq, Serialize, FromQueryResult)]
pub struct CheckinRow {
    pub session_id: i64,
    pub guardian_id: i64,
    pub status: String,
    pub method: String,
    pub checked_at: DateTime<Utc>,
    pub nonce: Option<String>,
}

/// The answer to an accepted attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// This attempt created the row.
    New(CheckinRow),
    /// The parent was already checked in (by an earlier attempt, a retry of this one,
    /// or staff): the row as it was.
    Already(CheckinRow),
}

impl Outcome {
    pub fn row(&self) -> &CheckinRow {
        match self {
            Outcome::New(r) | Outcome::Already(r) => r,
        }
    }
}

/// SHA-256 of a client's device id (a cookie or an id the app sends) and its user agent,
/// shortened: enough to notice one phone checking in several households, too little to
/// identify anyone. Raw addresses are never stored.
pub fn device_hash(device_id: &str, user_agent: &str) -> String {
    let mut h = Sha256::new();
    h.update(device_id.as_bytes());
    h.update([0u8]);
    h.update(user_agent.as_bytes());
    hex::encode(&h.finalize()[..8])
}

/// What the hot path knows about one session.
struct Cached {
    starts_at: DateTime<Utc>,
    window: Window,
    status: SessionStatus,
    code: CodeGen,
    invited: HashSet<i64>,
    /// Parents with a child in the session's school this year (and named invitees);
    /// `None` when everyone of the school is invited.
    school_parents: Option<HashSet<i64>>,
    loaded: Instant,
    epoch: u64,
    refreshing: AtomicBool,
}

impl Cached {
    fn knows(&self, g: i64) -> bool {
        self.invited.contains(&g) || self.school_parents.as_ref().is_some_and(|s| s.contains(&g))
    }

    /// The verdict of the rules, in the order a parent can act on them.
    fn judge(&self, g: i64, code: &str, now: DateTime<Utc>) -> Result<AttendanceStatus, Refusal> {
        if self.status == SessionStatus::Cancelled {
            return Err(Refusal::Cancelled);
        }
        match self.code.check(code, now.timestamp().max(0) as u64) {
            CodeCheck::Valid => {}
            CodeCheck::Expired => return Err(Refusal::ExpiredCode),
            CodeCheck::Wrong => return Err(Refusal::WrongCode),
        }
        if !self.invited.contains(&g) {
            return Err(Refusal::NotInvited);
        }
        self.window.classify((now - self.starts_at).num_seconds())
    }
}

struct Pending {
    row: CheckinRow,
    device_hash: Option<String>,
    reply: oneshot::Sender<StoreResult<Outcome>>,
}

struct RefusalRow {
    session_id: i64,
    guardian_id: Option<i64>,
    reason: Refusal,
    device_hash: Option<String>,
    at: DateTime<Utc>,
}

enum Job {
    Checkin(Pending),
    Refusal(RefusalRow),
}

/// The check-in service of one process: the session cache and the group-commit writer.
/// Cheap to clone.
#[derive(Clone)]
pub struct Checkins {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    tokens: crate::accounts::TokenCache,
    cache: RwLock<HashMap<i64, Arc<Cached>>>,
    loading: tokio::sync::Mutex<()>,
    writer: mpsc::Sender<Job>,
}

impl Checkins {
    /// Starts the service: the writer (a thread on a SQLite file, a task otherwise) and on
    /// SQLite the WAL checkpointer task, so it must be called inside a Tokio runtime.
    /// `tokens` is the process's cache of verified API tokens: loading a session puts its
    /// invited parents' tokens there.
    pub fn new(db: Db, tokens: crate::accounts::TokenCache) -> Checkins {
        // PostgreSQL too: one multi-row INSERT and one commit per group costs the server
        // a fraction of a statement and a commit per check-in (bench/checkin_burst.sh).
        let (tx, rx) = mpsc::channel(QUEUE);
        match db.sqlite_file.clone() {
            Some(file) => {
                std::thread::Builder::new()
                    .name("checkin-writer".into())
                    .spawn(move || sqlite_writer(&file, rx))
                    .expect("starting the check-in writer thread");
            }
            None => {
                tokio::spawn(writer(db.clone(), rx));
            }
        }
        if db.backend == Backend::Sqlite {
            tokio::spawn(checkpointer(db.clone()));
        }
        Checkins {
            inner: Arc::new(Inner {
                db,
                tokens,
                cache: RwLock::new(HashMap::new()),
                loading: tokio::sync::Mutex::new(()),
                writer: tx,
            }),
        }
    }

    /// Forgets the cached state of every session (after a change made elsewhere).
    pub fn invalidate(&self) {
        crate::parent_school::sessions::sessions_changed();
    }

    /// The session's state, from the cache when fresh enough. A stale entry is still
    /// served while one background task reloads it, so the burst never waits for a
    /// reload; an entry made stale by a change in this process is reloaded first.
    async fn session(&self, id: i64) -> StoreResult<Arc<Cached>> {
        let epoch = crate::parent_school::sessions::epoch();
        if let Some(c) = self.cached(id, epoch) {
            if c.loaded.elapsed() >= TTL && !c.refreshing.swap(true, Ordering::SeqCst) {
                let me = self.clone();
                let stale = c.clone();
                tokio::spawn(async move {
                    match load(&me.inner.db, &me.inner.tokens, id, epoch).await {
                        Ok(Some(fresh)) => me.put(id, fresh),
                        Ok(None) => me.forget(id),
                        Err(e) => {
                            tracing::warn!(error = %e, "reloading a check-in session failed");
                            stale.refreshing.store(false, Ordering::SeqCst);
                        }
                    }
                });
            }
            return Ok(c);
        }
        // One loader at a time: a burst on a cold session loads it once.
        let _g = self.inner.loading.lock().await;
        if let Some(c) = self.cached(id, epoch) {
            return Ok(c);
        }
        let fresh = load(&self.inner.db, &self.inner.tokens, id, epoch)
            .await?
            .ok_or(StoreError::NotFound)?;
        let c = Arc::new(fresh);
        self.inner
            .cache
            .write()
            .map_err(|_| StoreError::Other("check-in cache poisoned".into()))?
            .insert(id, c.clone());
        Ok(c)
    }

    fn cached(&self, id: i64, epoch: u64) -> Option<Arc<Cached>> {
        let map = self.inner.cache.read().ok()?;
        map.get(&id).filter(|c| c.epoch == epoch).cloned()
    }

    fn put(&self, id: i64, c: Cached) {
        if let Ok(mut m) = self.inner.cache.write() {
            m.insert(id, Arc::new(c));
        }
    }

    fn forget(&self, id: i64) {
        if let Ok(mut m) = self.inner.cache.write() {
            m.remove(&id);
        }
    }

    /// How many parents are invited to a session (from the cache), for the projector.
    pub async fn invited_count(&self, session_id: i64) -> StoreResult<usize> {
        Ok(self.session(session_id).await?.invited.len())
    }

    /// Checks a parent in. `Ok` with the row (new or already there); `Invalid` with the
    /// refusal's code when a rule refuses (the refusal is logged for staff); `NotFound`
    /// for a session that does not exist or belongs to a school the parent has no child
    /// in (logged as `wrong_school`: someone passed the code on).
    pub async fn check_in(
        &self,
        scope: &Scope,
        a: Attempt,
        now: DateTime<Utc>,
    ) -> StoreResult<Outcome> {
        // PostgreSQL keeps microseconds: the answer to a new check-in must show the same
        // time as every later "already checked in" answer.
        let now = now.trunc_subsecs(6);
        let s = self.session(a.session_id).await?;
        let Some(g) = scope.guardian_id() else {
            // Staff trying the parents' path: say so only to staff who can see the session.
            crate::parent_school::sessions::get_session(&self.inner.db, scope, a.session_id)
                .await?;
            self.log_refusal(a.session_id, None, Refusal::NotAParent, a.device_hash, now);
            return Err(invalid(Refusal::NotAParent));
        };
        if !s.knows(g) {
            self.log_refusal(
                a.session_id,
                Some(g),
                Refusal::WrongSchool,
                a.device_hash,
                now,
            );
            return Err(StoreError::NotFound);
        }
        match s.judge(g, &a.code, now) {
            Ok(status) => {
                let row = CheckinRow {
                    session_id: a.session_id,
                    guardian_id: g,
                    status: status.code().into(),
                    method: a.method.code().into(),
                    checked_at: now,
                    nonce: a.nonce,
                };
                self.insert(row, a.device_hash).await
            }
            Err(r) => {
                // A parent already checked in gets their row, whatever the code: a
                // retry after the code turned over, or a second scan of an old photo,
                // must answer "already checked in at 19:02", not an error.
                if let Some(row) = existing(&self.inner.db.conn, a.session_id, g).await? {
                    return Ok(Outcome::Already(row));
                }
                self.log_refusal(a.session_id, Some(g), r, a.device_hash, now);
                Err(invalid(r))
            }
        }
    }

    async fn insert(&self, row: CheckinRow, device_hash: Option<String>) -> StoreResult<Outcome> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .writer
            .send(Job::Checkin(Pending {
                row,
                device_hash,
                reply,
            }))
            .await
            .map_err(|_| StoreError::Other("check-in writer stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Other("check-in writer dropped a check-in".into()))?
    }

    /// Logs a refused attempt without making the caller wait, through the writer; dropped
    /// when its queue is full: refusals are evidence for staff, never a reason to slow
    /// down acknowledged check-ins.
    fn log_refusal(
        &self,
        session_id: i64,
        guardian_id: Option<i64>,
        reason: Refusal,
        device_hash: Option<String>,
        at: DateTime<Utc>,
    ) {
        let r = RefusalRow {
            session_id,
            guardian_id,
            reason,
            device_hash,
            at,
        };
        if self.inner.writer.try_send(Job::Refusal(r)).is_err() {
            tracing::warn!("check-in queue full: a refusal was not logged");
        }
    }
}

fn invalid(r: Refusal) -> StoreError {
    StoreError::Invalid { code: r.code() }
}

/// Loads what the hot path needs about a session. No scope: the cache serves every
/// caller, and each check-in is then judged against the parent's own id (an unknown
/// parent gets `NotFound`, as if the session did not exist).
async fn load(
    db: &Db,
    tokens: &crate::accounts::TokenCache,
    id: i64,
    epoch: u64,
) -> StoreResult<Option<Cached>> {
    #[derive(FromQueryResult)]
    struct S {
        school_id: i64,
        school_year_id: i64,
        starts_at: DateTime<Utc>,
        status: String,
        audience: String,
        checkin_secret: String,
        opens_before_minutes: i32,
        closes_after_minutes: i32,
        late_after_minutes: i32,
    }
    let s: Option<S> = rows::<S, _>(
        &db.conn,
        "SELECT school_id, school_year_id, starts_at, status, audience, checkin_secret, \
                opens_before_minutes, closes_after_minutes, late_after_minutes \
         FROM teaching_session WHERE id = $1"
            .into(),
        vec![id.into()],
    )
    .await?
    .into_iter()
    .next();
    let Some(s) = s else { return Ok(None) };
    let code = CodeGen::from_hex(&s.checkin_secret)
        .ok_or_else(|| StoreError::Other(format!("session {id} has an unusable secret")))?;
    let invited: HashSet<i64> = crate::parent_school::sessions::invited_guardian_ids(&db.conn, id)
        .await?
        .into_iter()
        .collect();
    // Not needed for the rules, but the parents about to check in are these: verifying
    // their tokens in one query spares one lookup per check-in.
    crate::accounts::preload_parent_tokens(&db.conn, tokens, id).await?;
    let school_parents = if s.audience == "school" {
        None
    } else {
        #[derive(FromQueryResult)]
        struct G {
            guardian_id: i64,
        }
        let ids: Vec<G> = rows(
            &db.conn,
            format!(
                "SELECT DISTINCT gs.guardian_id AS guardian_id FROM org_closure oc \
             JOIN class_membership cm ON cm.class_id = oc.descendant_id AND cm.school_year_id = $2 \
             JOIN guardianship gs ON gs.pupil_id = cm.pupil_id \
             WHERE oc.ancestor_id = $1 AND {}",
                // The school's classes on the session's own day, as its invitations.
                crate::org::in_force(
                    "oc",
                    &crate::org::day_sql((s.starts_at + chrono::Duration::hours(8)).date_naive())
                )
            ),
            vec![s.school_id.into(), s.school_year_id.into()],
        )
        .await?;
        Some(ids.into_iter().map(|g| g.guardian_id).collect())
    };
    Ok(Some(Cached {
        starts_at: s.starts_at,
        window: Window {
            opens_before_minutes: s.opens_before_minutes,
            closes_after_minutes: s.closes_after_minutes,
            late_after_minutes: s.late_after_minutes,
        },
        status: SessionStatus::from_code(&s.status).unwrap_or(SessionStatus::Planned),
        code,
        invited,
        school_parents,
        loaded: Instant::now(),
        epoch,
        refreshing: AtomicBool::new(false),
    }))
}

/// Copies the WAL into the database file every second, beside the writer (a PASSIVE
/// checkpoint takes no write lock), so that group commits do not stop to checkpoint.
async fn checkpointer(db: Db) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = db
            .conn
            .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
            .await
        {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

/// The writer: takes what is queued (up to [`MAX_GROUP`] check-ins), writes it in
/// one transaction, commits once, then answers each waiting request. While it commits,
/// the next group queues up, so the number of flushes per second stays near what the
/// disk can do however many parents scan at once.
async fn writer(db: Db, mut rx: mpsc::Receiver<Job>) {
    let mut group = Group::default();
    while let Some(first) = rx.recv().await {
        group.fill(first, &mut rx);
        let result = write_group(&db, &group.checkins).await;
        group.answer(result);
        // After the answers, in a statement of their own: a refusal never holds up or
        // fails a check-in.
        if !group.refusals.is_empty() {
            if let Err(e) = insert_refusals(&db.conn, &group.refusals).await {
                tracing::warn!(error = %e, "logging check-in refusals failed");
            }
            group.refusals.clear();
        }
    }
}

/// What the writer took from its queue for one commit.
#[derive(Default)]
struct Group {
    checkins: Vec<Pending>,
    refusals: Vec<RefusalRow>,
}

impl Group {
    /// `first` and whatever else is queued, up to [`MAX_GROUP`] check-ins.
    fn fill(&mut self, first: Job, rx: &mut mpsc::Receiver<Job>) {
        let mut job = Some(first);
        while let Some(j) = job.take() {
            match j {
                Job::Checkin(p) => self.checkins.push(p),
                Job::Refusal(r) => self.refusals.push(r),
            }
            if self.checkins.len() < MAX_GROUP {
                job = rx.try_recv().ok();
            }
        }
    }

    /// Answers every waiting check-in once its group has committed (or failed).
    fn answer(&mut self, result: StoreResult<Vec<Outcome>>) {
        match result {
            Ok(answers) => {
                for (p, a) in self.checkins.drain(..).zip(answers) {
                    let _ = p.reply.send(Ok(a));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, n = self.checkins.len(), "check-in group failed");
                for p in self.checkins.drain(..) {
                    let _ = p
                        .reply
                        .send(Err(StoreError::Other("check-in not saved".into())));
                }
            }
        }
    }
}

/// The SQLite writer: the same groups, written by a thread of its own on a connection
/// of its own. Through the pool each group cost a hop to sqlx's connection thread and
/// one back per returned row, each waiting for a CPU on a busy server; here the thread
/// wakes once per group, inserts, commits (synchronous=FULL: the flush) and answers.
fn sqlite_writer(file: &std::path::Path, mut rx: mpsc::Receiver<Job>) {
    // Opened at the first group and again after a failed open, so that a database that
    // cannot be opened for a moment fails those check-ins (answered, logged), not every
    // check-in until a restart.
    let mut conn: Option<rusqlite::Connection> = None;
    let mut group = Group::default();
    while let Some(first) = rx.blocking_recv() {
        group.fill(first, &mut rx);
        if conn.is_none() {
            conn = sqlite_open(file)
                .inspect_err(
                    |e| tracing::error!(error = %e, "the check-in writer cannot open the database"),
                )
                .ok();
        }
        let Some(c) = conn.as_mut() else {
            group.answer(Err(StoreError::Other(
                "check-in writer has no database".into(),
            )));
            group.refusals.clear();
            continue;
        };
        let result = sqlite_write_group(c, &group.checkins).map_err(sqlite_error);
        group.answer(result);
        if !group.refusals.is_empty() {
            if let Err(e) = sqlite_insert_refusals(c, &group.refusals) {
                tracing::warn!(error = %e, "logging check-in refusals failed");
            }
            group.refusals.clear();
        }
    }
}

/// The writer's connection, tuned as [`Db::connect`] tunes the pool's.
fn sqlite_open(file: &std::path::Path) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open_with_flags(
        file,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA wal_autocheckpoint = 10000;",
    )?;
    Ok(conn)
}

fn sqlite_error(e: rusqlite::Error) -> StoreError {
    StoreError::Other(format!("check-in writer: {e}"))
}

/// Timestamps as sqlx writes `DateTime<Utc>` into SQLite, so that every reader sees one
/// format whichever connection wrote the row.
fn sqlite_ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// One group in one transaction: each row inserted unless there, an existing row read
/// back in the same transaction; the answers in the order of `group`.
fn sqlite_write_group(
    conn: &mut rusqlite::Connection,
    group: &[Pending],
) -> rusqlite::Result<Vec<Outcome>> {
    if group.is_empty() {
        return Ok(Vec::new());
    }
    let now = sqlite_ts(&Utc::now());
    // IMMEDIATE: take the write lock at BEGIN, where the busy timeout waits for another
    // writer, rather than failing at the first write.
    let txn = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut answers = Vec::with_capacity(group.len());
    {
        let mut insert = txn.prepare_cached(
            "INSERT INTO checkin (session_id, guardian_id, status, method, checked_at, device_hash, nonce, created_at, recorded_by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL) ON CONFLICT (session_id, guardian_id) DO NOTHING",
        )?;
        let mut read = txn.prepare_cached(
            "SELECT status, method, checked_at, nonce FROM checkin \
             WHERE session_id = ?1 AND guardian_id = ?2",
        )?;
        for p in group {
            let r = &p.row;
            let n = insert.execute(rusqlite::params![
                r.session_id,
                r.guardian_id,
                r.status,
                r.method,
                sqlite_ts(&r.checked_at),
                p.device_hash,
                r.nonce,
                now,
            ])?;
            if n == 1 {
                answers.push(Outcome::New(r.clone()));
                continue;
            }
            let row = read.query_row(rusqlite::params![r.session_id, r.guardian_id], |x| {
                Ok(CheckinRow {
                    session_id: r.session_id,
                    guardian_id: r.guardian_id,
                    status: x.get(0)?,
                    method: x.get(1)?,
                    checked_at: x.get(2)?,
                    nonce: x.get(3)?,
                })
            })?;
            answers.push(Outcome::Already(row));
        }
        let new = tally::deltas(answers.iter().filter_map(|a| match a {
            Outcome::New(r) => Some((r.session_id, r.status.as_str())),
            Outcome::Already(_) => None,
        }));
        if !new.is_empty() {
            let tuples = vec!["(?, ?, ?, ?, ?)"; new.len()].join(", ");
            let params: Vec<i64> = new
                .iter()
                .flat_map(|d| [d.session_id, d.present, d.late, d.excused, d.absent])
                .collect();
            txn.execute(&tally::add_sql(&tuples), rusqlite::params_from_iter(params))?;
        }
    }
    txn.commit()?;
    Ok(answers)
}

fn sqlite_insert_refusals(
    conn: &mut rusqlite::Connection,
    rs: &[RefusalRow],
) -> rusqlite::Result<()> {
    let txn = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut insert = txn.prepare_cached(
            "INSERT INTO checkin_refusal (session_id, guardian_id, reason, device_hash, at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for r in rs {
            insert.execute(rusqlite::params![
                r.session_id,
                r.guardian_id,
                r.reason.code(),
                r.device_hash,
                sqlite_ts(&r.at),
            ])?;
        }
    }
    txn.commit()
}

/// One group in one INSERT statement, which commits by itself (one statement is
/// atomic and durable on both backends, and BEGIN/COMMIT around it were two more round
/// trips to the database thread per group); the answers in the order of `group`.
async fn write_group(db: &Db, group: &[Pending]) -> StoreResult<Vec<Outcome>> {
    if group.is_empty() {
        return Ok(Vec::new());
    }
    // The same parent twice in one group (two taps): the first one is inserted, the
    // second is answered with that row.
    let mut seen = HashSet::new();
    let first: Vec<(&CheckinRow, Option<&str>)> = group
        .iter()
        .filter(|p| seen.insert((p.row.session_id, p.row.guardian_id)))
        .map(|p| (&p.row, p.device_hash.as_deref()))
        .collect();
    // The session counters commit with the rows: on PostgreSQL in the insert's own
    // statement, elsewhere in a transaction around the two.
    let inserted = if db.backend == Backend::Postgres {
        insert_rows(&db.conn, &first).await?
    } else {
        let txn = db.begin().await?;
        let inserted = insert_rows(&txn, &first).await?;
        let new = first
            .iter()
            .filter(|(r, _)| inserted.contains(&(r.session_id, r.guardian_id)))
            .map(|(r, _)| (r.session_id, r.status.as_str()));
        tally::add(&txn, &tally::deltas(new)).await?;
        txn.commit().await?;
        inserted
    };
    let mut answers = Vec::with_capacity(group.len());
    let mut answered_new = HashSet::new();
    for p in group {
        let key = (p.row.session_id, p.row.guardian_id);
        if inserted.contains(&key) && answered_new.insert(key) {
            answers.push(Outcome::New(p.row.clone()));
        } else {
            // Committed before (check-ins are never deleted), so it is there to read.
            let row = existing(&db.conn, key.0, key.1)
                .await?
                .ok_or(StoreError::Other("check-in vanished".into()))?;
            answers.push(Outcome::Already(row));
        }
    }
    Ok(answers)
}

/// Inserts the rows that are not there yet (one statement); returns the (session,
/// guardian) pairs it inserted. The others were there already.
async fn insert_rows<C: ConnectionTrait>(
    conn: &C,
    rows_in: &[(&CheckinRow, Option<&str>)],
) -> StoreResult<HashSet<(i64, i64)>> {
    let mut values: Vec<Value> = Vec::with_capacity(rows_in.len() * 9);
    let mut tuples = Vec::with_capacity(rows_in.len());
    let now = Utc::now();
    // SQLite looks numbered parameters ($1…$512) up by name in a list, once per bind:
    // quadratic in a group's size, 6 % of the check-in path's CPU. Plain `?` are
    // bound by position.
    let sqlite = conn.get_database_backend() == sea_orm::DbBackend::Sqlite;
    let ph = |values: &mut Vec<Value>, v: Value| -> String {
        if sqlite {
            values.push(v);
            "?".into()
        } else {
            bind(values, v)
        }
    };
    for (r, dev) in rows_in {
        let p = [
            ph(&mut values, r.session_id.into()),
            ph(&mut values, r.guardian_id.into()),
            ph(&mut values, r.status.clone().into()),
            ph(&mut values, r.method.clone().into()),
            ph(&mut values, r.checked_at.into()),
            ph(&mut values, dev.map(str::to_owned).into()),
            ph(&mut values, r.nonce.clone().into()),
            ph(&mut values, now.into()),
        ];
        tuples.push(format!("({}, NULL)", p.join(", ")));
    }
    let insert = format!(
        "INSERT INTO checkin (session_id, guardian_id, status, method, checked_at, device_hash, nonce, created_at, recorded_by) \
         VALUES {} ON CONFLICT (session_id, guardian_id) DO NOTHING RETURNING session_id, guardian_id, status",
        tuples.join(", ")
    );
    let sql = if sqlite {
        insert
    } else {
        tally::pg_insert_counted(&insert)
    };
    #[derive(FromQueryResult)]
    struct K {
        session_id: i64,
        guardian_id: i64,
    }
    let got: Vec<K> = rows(conn, sql, values).await?;
    Ok(got
        .into_iter()
        .map(|k| (k.session_id, k.guardian_id))
        .collect())
}

async fn existing<C: ConnectionTrait>(
    conn: &C,
    session_id: i64,
    guardian_id: i64,
) -> StoreResult<Option<CheckinRow>> {
    Ok(rows::<CheckinRow, _>(
        conn,
        "SELECT session_id, guardian_id, status, method, checked_at, nonce FROM checkin \
         WHERE session_id = $1 AND guardian_id = $2"
            .into(),
        vec![session_id.into(), guardian_id.into()],
    )
    .await?
    .into_iter()
    .next())
}

async fn insert_refusals<C: ConnectionTrait>(conn: &C, rs: &[RefusalRow]) -> StoreResult<()> {
    let mut values: Vec<Value> = Vec::with_capacity(rs.len() * 5);
    let mut tuples = Vec::with_capacity(rs.len());
    for r in rs {
        let ph = [
            bind(&mut values, r.session_id),
            bind(&mut values, r.guardian_id),
            bind(&mut values, r.reason.code()),
            bind(&mut values, r.device_hash.clone()),
            bind(&mut values, r.at),
        ];
        tuples.push(format!("({})", ph.join(", ")));
    }
    let sql = format!(
        "INSERT INTO checkin_refusal (session_id, guardian_id, reason, device_hash, at) VALUES {}",
        tuples.join(", ")
    );
    conn.execute_raw(Statement::from_sql_and_values(
        conn.get_database_backend(),
        sql,
        values,
    ))
    .await?;
    Ok(())
}

/// A parent's own check-in for a session, for the parent's page (`None` when there is
/// none, or the caller is not a parent).
pub async fn my_checkin(
    db: &Db,
    scope: &Scope,
    session_id: i64,
) -> StoreResult<Option<CheckinRow>> {
    match scope.guardian_id() {
        Some(g) => existing(&db.conn, session_id, g).await,
        None => Ok(None),
    }
}

/// Parents checked in to a session (present or late), for the projector's counter.
pub async fn attended_count(db: &Db, scope: &Scope, session_id: i64) -> StoreResult<i64> {
    let s = crate::parent_school::sessions::get_session(db, scope, session_id).await?;
    crate::db::scalar_i64(
        &db.conn,
        "SELECT COUNT(*) AS n FROM checkin WHERE session_id = $1 AND status IN ('present', 'late')",
        vec![s.id.into()],
    )
    .await
}

/// "`col` (a guardian id) is a parent the caller may see in session `sid`": everyone
/// for staff whose reach covers the whole school, otherwise the parents of children in
/// the classes the caller can see (a head teacher's own class).
fn guardian_visible_sql(
    scope: &Scope,
    col: &str,
    school_col: &str,
    year_col: &str,
    values: &mut Vec<Value>,
) -> String {
    let whole = scope.sql_in_subtree(school_col, values);
    let class = scope.sql_in_subtree("cm.class_id", values);
    format!(
        "({whole} OR {col} IN (SELECT gs.guardian_id FROM guardianship gs JOIN class_membership cm \
           ON cm.pupil_id = gs.pupil_id AND cm.school_year_id = {year_col} WHERE {class}))"
    )
}

/// One staff mark: a parent and the status to record.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    pub guardian_id: i64,
    pub status: AttendanceStatus,
}

/// Staff marking from the roster (parents without a smartphone, the excused, the
/// absent): all marks in one transaction, method `staff`, recorded by the caller, one
/// audit row. Every parent must be on the session's roster as the caller sees it (a head
/// teacher marks their own class), otherwise nothing is written and the answer is
/// `NotFound`. A mark equal to the recorded status leaves the row as it was, so
/// "select all present" does not overwrite the parents who scanned.
/// Returns how many rows were written.
pub async fn mark(db: &Db, scope: &Scope, session_id: i64, marks: &[Mark]) -> StoreResult<usize> {
    let user = scope.user_id();
    let txn = db.begin().await?;
    let s = {
        let mut values: Vec<Value> = Vec::new();
        let cond = scope.sql_school_writable("s.school_id", &mut values);
        let p = bind(&mut values, session_id);
        #[derive(FromQueryResult)]
        struct S {
            id: i64,
            school_id: i64,
            school_year_id: i64,
            status: String,
        }
        rows::<S, _>(
            &txn,
            format!(
                "SELECT s.id, s.school_id, s.school_year_id, s.status FROM teaching_session s WHERE s.id = {p} AND {cond}"
            ),
            values,
        )
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)?
    };
    if s.status == SessionStatus::Cancelled.code() {
        return Err(invalid(Refusal::Cancelled));
    }
    crate::parent_school::writable_year(&txn, s.school_id, s.school_year_id).await?;
    if marks.is_empty() {
        return Ok(0);
    }
    // Which of the marked parents the caller may mark: invited and visible.
    let mut wanted: Vec<i64> = marks.iter().map(|m| m.guardian_id).collect();
    wanted.sort_unstable();
    wanted.dedup();
    // In chunks: one placeholder per parent would pass SQLite's limit of bound
    // variables (32,766) and PostgreSQL's (65,535) on a large enough form.
    let mut allowed: HashSet<i64> = HashSet::with_capacity(wanted.len());
    for chunk in wanted.chunks(500) {
        let mut values: Vec<Value> = Vec::new();
        let sid = bind(&mut values, s.id);
        let school = bind(&mut values, s.school_id);
        let year = bind(&mut values, s.school_year_id);
        let vis = guardian_visible_sql(scope, "x.guardian_id", &school, &year, &mut values);
        let ids: Vec<String> = chunk.iter().map(|g| bind(&mut values, *g)).collect();
        #[derive(FromQueryResult)]
        struct G {
            guardian_id: i64,
        }
        let sql = format!(
            "SELECT x.guardian_id FROM ({}) x WHERE x.guardian_id IN ({}) AND {vis}",
            crate::parent_school::sessions::invited_guardians_sql(txn.get_database_backend(), &sid),
            ids.join(", ")
        );
        allowed.extend(
            rows::<G, _>(&txn, sql, values)
                .await?
                .into_iter()
                .map(|g| g.guardian_id),
        );
    }
    if wanted.iter().any(|g| !allowed.contains(g)) {
        return Err(StoreError::NotFound);
    }
    let now = Utc::now();
    let mut written = 0usize;
    let mut changes = Vec::new();
    // One row per parent, the last mark winning: PostgreSQL refuses an upsert that
    // touches the same row twice in one statement.
    let mut seen = HashSet::with_capacity(marks.len());
    let mut unique: Vec<Mark> = marks
        .iter()
        .rev()
        .filter(|m| seen.insert(m.guardian_id))
        .copied()
        .collect();
    unique.reverse();
    // What each parent's record was before staff marked it — a parent's own scan that
    // a mark overwrites stays readable in the audit log (issue 10) — and their names,
    // so an inspector reads people, not ids.
    #[derive(FromQueryResult)]
    struct Prior {
        guardian_id: i64,
        name: String,
        status: Option<String>,
        method: Option<String>,
        checked_at: Option<DateTime<Utc>>,
    }
    let mut prior: std::collections::HashMap<i64, Prior> =
        std::collections::HashMap::with_capacity(unique.len());
    for chunk in unique.chunks(500) {
        let mut values: Vec<Value> = Vec::new();
        let sid = bind(&mut values, s.id);
        let ids: Vec<String> = chunk
            .iter()
            .map(|m| bind(&mut values, m.guardian_id))
            .collect();
        let sql = format!(
            "SELECT g.id AS guardian_id, g.name, c.status, c.method, c.checked_at FROM guardian g \
             LEFT JOIN checkin c ON c.guardian_id = g.id AND c.session_id = {sid} WHERE g.id IN ({})",
            ids.join(", ")
        );
        for p in rows::<Prior, _>(&txn, sql, values).await? {
            prior.insert(p.guardian_id, p);
        }
    }
    for chunk in unique.chunks(100) {
        let mut values: Vec<Value> = Vec::new();
        let mut tuples = Vec::new();
        for m in chunk {
            let ph = [
                bind(&mut values, s.id),
                bind(&mut values, m.guardian_id),
                bind(&mut values, m.status.code()),
                bind(&mut values, Method::Staff.code()),
                bind(&mut values, now),
                bind(&mut values, user),
                bind(&mut values, now),
            ];
            tuples.push(format!("({})", ph.join(", ")));
        }
        let sql = format!(
            "INSERT INTO checkin (session_id, guardian_id, status, method, checked_at, recorded_by, created_at) VALUES {} \
             ON CONFLICT (session_id, guardian_id) DO UPDATE SET status = excluded.status, method = excluded.method, \
               checked_at = excluded.checked_at, recorded_by = excluded.recorded_by \
             WHERE checkin.status <> excluded.status RETURNING guardian_id, status",
            tuples.join(", ")
        );
        #[derive(FromQueryResult)]
        struct W {
            guardian_id: i64,
            status: String,
        }
        let got: Vec<W> = rows(&txn, sql, values).await?;
        written += got.len();
        changes.extend(got.into_iter().map(|w| (w.guardian_id, w.status)));
    }
    if written > 0 {
        tally::recount(&txn, s.id).await?;
    }
    changes.sort();
    // Before and after per changed parent, keyed "name (#id)": the audit page shows
    // them field by field.
    let mut before = serde_json::Map::new();
    let mut after = serde_json::Map::new();
    for (g, st) in &changes {
        let p = prior.get(g);
        let key = format!("{} (#{g})", p.map(|p| p.name.as_str()).unwrap_or_default());
        let was = p.and_then(|p| {
            p.status.as_ref().map(|st| {
                let at = p
                    .checked_at
                    .map(|t| {
                        (t + chrono::Duration::hours(8))
                            .format("%m-%d %H:%M")
                            .to_string()
                    })
                    .unwrap_or_default();
                format!("{st} · {} · {at}", p.method.as_deref().unwrap_or_default())
            })
        });
        before.insert(
            key.clone(),
            was.map(serde_json::Value::String)
                .unwrap_or(serde_json::Value::Null),
        );
        after.insert(
            key,
            serde_json::Value::String(format!("{st} · {}", Method::Staff.code())),
        );
    }
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(s.school_id),
            entity: "checkin",
            entity_id: Some(s.id.to_string()),
            action: "mark",
            before: Some(serde_json::Value::Object(before)),
            after: Some(serde_json::Value::Object(after)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(written)
}

/// A refused attempt, for the staff's live board.
#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct RefusalLine {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub reason: String,
    pub guardian_id: Option<i64>,
    pub guardian_name: Option<String>,
    pub device_hash: Option<String>,
}

/// The newest refusals of a session the caller can see (a head teacher sees those of
/// their classes' parents).
pub async fn refusals(
    db: &Db,
    scope: &Scope,
    session_id: i64,
    limit: u64,
) -> StoreResult<Vec<RefusalLine>> {
    let s = crate::parent_school::sessions::get_session(db, scope, session_id).await?;
    let mut values: Vec<Value> = Vec::new();
    let sid = bind(&mut values, s.id);
    let school = bind(&mut values, s.school_id);
    let year = bind(&mut values, s.school_year_id);
    let vis = guardian_visible_sql(scope, "r.guardian_id", &school, &year, &mut values);
    let lim = bind(&mut values, limit as i64);
    rows(
        &db.conn,
        format!(
            "SELECT r.id, r.at, r.reason, r.guardian_id, g.name AS guardian_name, r.device_hash \
             FROM checkin_refusal r LEFT JOIN guardian g ON g.id = r.guardian_id \
             WHERE r.session_id = {sid} AND {vis} ORDER BY r.id DESC LIMIT {lim}"
        ),
        values,
    )
    .await
}

/// One device that checked in parents of more than one household in a session.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceFlag {
    pub device_hash: String,
    /// The parents it checked in: (guardian id, name), by id.
    pub parents: Vec<(i64, String)>,
}

/// Devices that checked in several parents who share no child (two parents of one child
/// on one phone is a family; two strangers on one phone is someone checking in for
/// others). Households are the connected groups of parents linked by a shared child.
pub async fn device_flags(db: &Db, scope: &Scope, session_id: i64) -> StoreResult<Vec<DeviceFlag>> {
    let s = crate::parent_school::sessions::get_session(db, scope, session_id).await?;
    let mut values: Vec<Value> = Vec::new();
    let sid = bind(&mut values, s.id);
    let school = bind(&mut values, s.school_id);
    let year = bind(&mut values, s.school_year_id);
    let vis = guardian_visible_sql(scope, "c.guardian_id", &school, &year, &mut values);
    #[derive(FromQueryResult)]
    struct D {
        device_hash: String,
        guardian_id: i64,
        name: String,
    }
    let shared: Vec<D> = rows(
        &db.conn,
        format!(
            "SELECT c.device_hash, c.guardian_id, g.name FROM checkin c JOIN guardian g ON g.id = c.guardian_id \
             WHERE c.session_id = {sid} AND c.device_hash IN ( \
               SELECT device_hash FROM checkin WHERE session_id = {sid} AND device_hash IS NOT NULL \
               GROUP BY device_hash HAVING COUNT(*) > 1) AND {vis} \
             ORDER BY c.device_hash, c.guardian_id"
        ),
        values,
    )
    .await?;
    if shared.is_empty() {
        return Ok(Vec::new());
    }
    // Children of the parents concerned, to tell households apart.
    let mut values: Vec<Value> = Vec::new();
    let ids: Vec<String> = shared
        .iter()
        .map(|d| bind(&mut values, d.guardian_id))
        .collect();
    #[derive(FromQueryResult)]
    struct L {
        guardian_id: i64,
        pupil_id: i64,
    }
    let links: Vec<L> = rows(
        &db.conn,
        format!(
            "SELECT guardian_id, pupil_id FROM guardianship WHERE guardian_id IN ({})",
            ids.join(", ")
        ),
        values,
    )
    .await?;
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    for l in links {
        children.entry(l.guardian_id).or_default().push(l.pupil_id);
    }
    let mut by_device: Vec<(String, Vec<(i64, String)>)> = Vec::new();
    for d in shared {
        match by_device.last_mut() {
            Some((h, v)) if *h == d.device_hash => v.push((d.guardian_id, d.name)),
            _ => by_device.push((d.device_hash, vec![(d.guardian_id, d.name)])),
        }
    }
    Ok(by_device
        .into_iter()
        .filter(|(_, parents)| households(parents, &children) > 1)
        .map(|(device_hash, parents)| DeviceFlag {
            device_hash,
            parents,
        })
        .collect())
}

/// How many households the parents form when linked through shared children.
fn households(parents: &[(i64, String)], children: &HashMap<i64, Vec<i64>>) -> usize {
    let n = parents.len();
    let mut root: Vec<usize> = (0..n).collect();
    fn find(root: &mut [usize], i: usize) -> usize {
        let mut i = i;
        while root[i] != i {
            root[i] = root[root[i]];
            i = root[i];
        }
        i
    }
    let mut first_parent_of: HashMap<i64, usize> = HashMap::new();
    for (i, (g, _)) in parents.iter().enumerate() {
        for p in children.get(g).map(Vec::as_slice).unwrap_or(&[]) {
            match first_parent_of.get(p) {
                Some(&j) => {
                    let (a, b) = (find(&mut root, i), find(&mut root, j));
                    root[a] = b;
                }
                None => {
                    first_parent_of.insert(*p, i);
                }
            }
        }
    }
    (0..n)
        .map(|i| find(&mut root, i))
        .collect::<HashSet<_>>()
        .len()
}

/// One check-in with the parent's name, for the staff's export.
#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct CheckinLine {
    pub guardian_id: i64,
    pub guardian_name: String,
    pub phone: Option<String>,
    pub status: String,
    pub method: String,
    pub checked_at: DateTime<Utc>,
    pub recorded_by: Option<String>,
    pub device_hash: Option<String>,
}

/// Every check-in of a session the caller can see, by time (a head teacher gets those
/// of their classes' parents).
pub async fn list(db: &Db, scope: &Scope, session_id: i64) -> StoreResult<Vec<CheckinLine>> {
    let s = crate::parent_school::sessions::get_session(db, scope, session_id).await?;
    let mut values: Vec<Value> = Vec::new();
    let sid = bind(&mut values, s.id);
    let school = bind(&mut values, s.school_id);
    let year = bind(&mut values, s.school_year_id);
    let vis = guardian_visible_sql(scope, "c.guardian_id", &school, &year, &mut values);
    rows(
        &db.conn,
        format!(
            "SELECT c.guardian_id, g.name AS guardian_name, g.phone, c.status, c.method, c.checked_at, \
                    u.display_name AS recorded_by, c.device_hash \
             FROM checkin c JOIN guardian g ON g.id = c.guardian_id \
             LEFT JOIN user_account u ON u.id = c.recorded_by \
             WHERE c.session_id = {sid} AND {vis} ORDER BY c.checked_at, c.id"
        ),
        values,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn households_join_parents_through_shared_children() {
        let parents = vec![(1, "a".into()), (2, "b".into()), (3, "c".into())];
        let mut children = HashMap::new();
        children.insert(1, vec![10]);
        children.insert(2, vec![10, 11]);
        children.insert(3, vec![12]);
        assert_eq!(households(&parents, &children), 2);
        children.insert(3, vec![11]);
        assert_eq!(households(&parents, &children), 1);
        assert_eq!(households(&parents[..1], &children), 1);
    }

    #[test]
    fn device_hashes_are_short_and_depend_on_both_parts() {
        let a = device_hash("dev-1", "Mozilla/5.0");
        assert_eq!(a.len(), 16);
        assert_ne!(a, device_hash("dev-2", "Mozilla/5.0"));
        assert_ne!(a, device_hash("dev-1", "Mozilla/5.1"));
    }
}
