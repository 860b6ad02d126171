//! The `jiaxiao` binary: one program for serving, background work, migrations, demo
//! data, roster import, whole-database export/import, backups and accounts.

mod config;

/// Bulk imports allocate and free millions of small values (bind parameters, rows):
/// glibc's malloc was a third of the profile; mimalloc is much cheaper for that pattern.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use jiaxiao_domain::Role;
use jiaxiao_store::{Db, Scope};

use crate::config::Config;

#[derive(Parser)]
#[command(
    name = "jiaxiao",
    version,
    about = "家校 jiaxiao: parent schools, supervision evaluation and action plans"
)]
struct Cli {
    /// Configuration file (TOML). JIAXIAO_* environment variables override it.
    #[arg(long, global = true, env = "JIAXIAO_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the web pages and the API.
    Serve,
    /// Run background jobs (roster imports) without serving pages; `serve` runs them too
    /// unless `run_jobs = false`.
    Worker,
    /// Create or upgrade the database schema.
    Migrate,
    /// Create the demo county once (deterministic) and serve it.
    Demo {
        /// Where the demo database and its uploads live (default: the configured
        /// `data_dir`, `./data` unless set).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Create the data and exit instead of serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Import data files.
    Import {
        #[command(subcommand)]
        what: ImportCmd,
    },
    /// Write the whole database as JSON Lines (to move SQLite → PostgreSQL).
    Export {
        /// Output file; `-` for standard output.
        #[arg(long, short, default_value = "-")]
        out: String,
    },
    /// Copy the database to a file while it is in use.
    Backup {
        /// Output file (SQLite: a database file; PostgreSQL: JSON Lines).
        out: PathBuf,
    },
    /// Accounts.
    User {
        #[command(subcommand)]
        what: UserCmd,
    },
    /// Parent-school sessions.
    Session {
        #[command(subcommand)]
        what: SessionCmd,
    },
    /// Check the references the database does not enforce itself (exit 1 if any dangle).
    Check,
    /// Configuration.
    Config {
        #[command(subcommand)]
        what: ConfigCmd,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// Import a roster (CSV in UTF-8/GBK or XLSX) into a school.
    Roster {
        /// The school's id (see the tree page) or its code.
        #[arg(long)]
        school: String,
        /// Report what the import would do (classes created, pupils moved, parents
        /// linked), checked against the database; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Create the classes the file names that the school does not have yet. Without
        /// it, a school that has classes refuses a file naming a new one (a typo such as
        /// 三年级(9)班 where there are four classes would otherwise become a class).
        #[arg(long)]
        create_classes: bool,
        file: PathBuf,
    },
    /// Read a whole-database export into an empty database.
    Database { file: PathBuf },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create a staff account with one role at one unit.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// province_admin, city_admin, county_admin, inspector, school_admin, head_teacher, teacher
        #[arg(long)]
        role: String,
        /// The unit id where the role holds.
        #[arg(long)]
        unit: i64,
        /// The password; read from JIAXIAO_NEW_PASSWORD if not given.
        #[arg(long, env = "JIAXIAO_NEW_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Set a new password for a staff account.
    ResetPassword {
        #[arg(long)]
        username: String,
        #[arg(long, env = "JIAXIAO_NEW_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Print a new API token for an account (staff username or parent phone), for
    /// programs and load scripts.
    Token {
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        phone: Option<String>,
    },
    /// Write a new API token for every parent of a school, one per line, to a file
    /// (accounts without a password are created for parents who have none). Fast: one
    /// transaction and no password hashing, for load tests and scripts that act for
    /// parents. Treat the file like a set of passwords.
    Tokens {
        /// The school's code or id.
        #[arg(long)]
        school: String,
        /// Output file (created; an existing file is not overwritten).
        #[arg(long)]
        out: PathBuf,
        /// A name recorded with each token.
        #[arg(long, default_value = "bulk")]
        name: String,
    },
}

#[derive(Subcommand)]
enum SessionCmd {
    /// Plan a session for the whole school and print its id (for scripts and load tests;
    /// staff plan sessions in the browser).
    Create {
        /// The school's code or id.
        #[arg(long)]
        school: String,
        #[arg(long)]
        title: String,
        /// Start time (RFC 3339, e.g. 2026-12-01T19:00:00+08:00); now when absent.
        #[arg(long)]
        starts_at: Option<String>,
        #[arg(long, default_value_t = 90)]
        minutes: i32,
        #[arg(long, default_value = "班主任")]
        instructor: String,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Print an example configuration file with every setting and its default.
    Example,
    /// Print the configuration in force (passwords redacted).
    Show,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let cfg = Config::load(cli.config.as_deref())?;
    // Flushes the log lines still queued when main returns.
    let _logs = init_logs(&cfg);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(cli.cmd, cfg))
}

/// Logs go to stderr through a thread of their own: a request formats its line and
/// queues it; that thread writes whatever has queued up in one write and flushes when
/// the queue is empty. One `write` per request on the serving threads was a measurable
/// share of the check-in burst. Not lossy: when 128,000 lines are waiting, requests wait
/// for room rather than lose lines. Lines still queued at a kill -9 are lost.
fn init_logs(cfg: &Config) -> tracing_appender::non_blocking::WorkerGuard {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("JIAXIAO_LOG").unwrap_or_else(|_| EnvFilter::new(&cfg.log_level));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("jiaxiao-log")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    // Colour codes only for a person at a terminal: in a file, journald or a collector
    // they are noise around every field (issue 10).
    use std::io::IsTerminal;
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    if cfg.log_json {
        b.json().init();
    } else {
        b.init();
    }
    guard
}

/// Opens (creating a SQLite file if there is none) and migrates the database in force.
async fn open(cfg: &Config) -> Result<Db> {
    cfg.ensure_data_dir()?;
    let shown = cfg.database_shown();
    let db = Db::connect(&cfg.database_url())
        .await
        .with_context(|| format!("opening the database {shown}"))?;
    db.migrate()
        .await
        .with_context(|| format!("migrating the database {shown}"))?;
    Ok(db)
}

/// Opens the database for a command that works on data already there: a SQLite file that
/// does not exist is an error naming where it was looked for, not a new empty database
/// (which answered "not found" to everything, issue 10).
async fn open_existing(cfg: &Config) -> Result<Db> {
    if let Some(file) = cfg.sqlite_file()
        && !file.exists()
    {
        bail!(
            "no database at {} (data_dir {}); set JIAXIAO_DATA_DIR or data_dir to the directory \
             that holds jiaxiao.db, or JIAXIAO_DATABASE_URL to the database",
            file.display(),
            cfg.data_dir.display()
        );
    }
    open(cfg).await
}

async fn run(cmd: Cmd, mut cfg: Config) -> Result<()> {
    match cmd {
        Cmd::Serve => serve(open(&cfg).await?, &cfg).await,
        Cmd::Worker => {
            let db = open_existing(&cfg).await?;
            let runner = jiaxiao_web::jobs::runner(
                db.clone(),
                "worker",
                jiaxiao_store::blobs::Blobs::new(cfg.data_dir.join("uploads")),
            );
            println!("jiaxiao worker {} running jobs", runner.name);
            runner.run(shutdown()).await;
            db.close().await?;
            Ok(())
        }
        Cmd::Migrate => {
            open(&cfg).await?;
            println!("database is up to date");
            Ok(())
        }
        Cmd::Demo {
            data_dir,
            listen,
            no_serve,
        } => {
            if let Some(dir) = data_dir {
                cfg.data_dir = dir;
            }
            cfg.listen = listen;
            let db = open(&cfg).await?;
            let started = std::time::Instant::now();
            let created = jiaxiao_store::demo::create(&db).await?;
            if created {
                println!(
                    "demo data created in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            } else {
                println!("demo data already present");
            }
            println!(
                "demo logins (password: {}):",
                jiaxiao_store::demo::DEMO_PASSWORD
            );
            for (u, what) in jiaxiao_store::demo::LOGINS {
                println!("  {u:<12} {what}");
            }
            if no_serve {
                return Ok(());
            }
            serve(db, &cfg).await
        }
        Cmd::Import {
            what:
                ImportCmd::Roster {
                    school,
                    dry_run,
                    create_classes,
                    file,
                },
        } => import_roster(&cfg, &school, dry_run, create_classes, &file).await,
        Cmd::Import {
            what: ImportCmd::Database { file },
        } => {
            let db = open(&cfg).await?;
            let f = std::fs::File::open(&file)
                .with_context(|| format!("opening {}", file.display()))?;
            let n = jiaxiao_store::dump::import(&db, BufReader::new(f)).await?;
            println!("imported {n} rows");
            Ok(())
        }
        Cmd::Export { out } => {
            let db = open_existing(&cfg).await?;
            let n = if out == "-" {
                let stdout = std::io::stdout();
                let mut w = BufWriter::new(stdout.lock());
                let n = jiaxiao_store::dump::export(&db, &mut w).await?;
                w.flush()?;
                n
            } else {
                let mut w = BufWriter::new(std::fs::File::create(&out)?);
                let n = jiaxiao_store::dump::export(&db, &mut w).await?;
                w.flush()?;
                n
            };
            eprintln!("exported {n} rows");
            Ok(())
        }
        Cmd::Backup { out } => {
            let db = open_existing(&cfg).await?;
            if db.backend == jiaxiao_store::Backend::Sqlite {
                if out.exists() {
                    bail!("{} exists; choose a new file", out.display());
                }
                db.backup_sqlite(&out).await?;
            } else {
                let mut w = BufWriter::new(std::fs::File::create(&out)?);
                jiaxiao_store::dump::export(&db, &mut w).await?;
                w.flush()?;
            }
            println!("backup written to {}", out.display());
            Ok(())
        }
        Cmd::User { what } => user(&cfg, what).await,
        Cmd::Session {
            what:
                SessionCmd::Create {
                    school,
                    title,
                    starts_at,
                    minutes,
                    instructor,
                },
        } => {
            let db = open_existing(&cfg).await?;
            let school_id = school_id(&db, &cfg, &school).await?;
            let starts_at = match starts_at {
                Some(t) => chrono::DateTime::parse_from_rfc3339(&t)
                    .context("--starts-at must be RFC 3339")?
                    .with_timezone(&chrono::Utc),
                None => chrono::Utc::now(),
            };
            let id = jiaxiao_store::parent_school::sessions::create_session(
                &db,
                &Scope::system(),
                jiaxiao_store::parent_school::sessions::NewSession {
                    school_id,
                    title,
                    starts_at,
                    duration_minutes: minutes,
                    instructor_name: instructor,
                    ..Default::default()
                },
            )
            .await?;
            println!("{id}");
            Ok(())
        }
        Cmd::Check => {
            let db = open_existing(&cfg).await?;
            let found = jiaxiao_store::integrity::orphans(&db).await?;
            // The roll-ups read the session and school counters and a school's home its
            // reach cache: they must say what the rows say.
            use jiaxiao_store::parent_school::{attendance, tally};
            let off = tally::mismatches(&db.conn).await?;
            let schools = tally::school_mismatches(&db.conn).await?;
            let reach = attendance::reach_mismatches(&db).await?;
            if found.is_empty() && off.is_empty() && schools.is_empty() && reach.is_empty() {
                println!(
                    "all references hold; session and school counters and the reach cache match the rows"
                );
                return Ok(());
            }
            for o in &found {
                println!("{}: {} rows point nowhere", o.what, o.rows);
            }
            for (ids, what) in [
                (&off, "session counters differ from the check-ins of"),
                (&schools, "school counters differ from the sessions of"),
                (&reach, "the reach cache differs from the rows of"),
            ] {
                if !ids.is_empty() {
                    let unit = if std::ptr::eq(ids, &schools) {
                        "schools"
                    } else {
                        "sessions"
                    };
                    println!(
                        "{what} {} {unit} (first: {:?})",
                        ids.len(),
                        &ids[..ids.len().min(10)]
                    );
                }
            }
            bail!(
                "{} kinds of dangling references, {} sessions with wrong counters, {} schools with wrong \
                 counters, {} sessions with a wrong reach cache",
                found.len(),
                off.len(),
                schools.len(),
                reach.len()
            );
        }
        Cmd::Config {
            what: ConfigCmd::Example,
        } => {
            print!("{}", Config::example());
            Ok(())
        }
        Cmd::Config {
            what: ConfigCmd::Show,
        } => {
            println!("{}", cfg.redacted());
            Ok(())
        }
    }
}

async fn serve(db: Db, cfg: &Config) -> Result<()> {
    // The pool that migrated (and loaded the demo) had no statement limit, as no other
    // command has; serving, PostgreSQL cancels what outlives the request that asked.
    let db = if db.backend == jiaxiao_store::Backend::Postgres {
        db.close().await?;
        Db::connect_with(&cfg.database_url(), Some(jiaxiao_web::app::HANDLER_TIMEOUT))
            .await
            .with_context(|| format!("opening the database {}", cfg.database_shown()))?
    } else {
        db
    };
    let handle = metrics_exporter();
    // Bound first: whether /metrics may answer without a token depends on the address.
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    let metrics_open_without_token = jiaxiao_web::app::metrics_open_without_token(addr);
    if cfg.metrics_token.is_none() && !metrics_open_without_token {
        tracing::warn!(%addr, "/metrics is off: this address is not loopback and no metrics_token is set");
    }
    let state = jiaxiao_web::AppState::new(
        db,
        jiaxiao_web::Settings {
            secure_cookies: cfg.secure_cookies,
            metrics_token: cfg.metrics_token.clone(),
            metrics_open_without_token,
            uploads_dir: cfg.data_dir.join("uploads"),
            api_token_days: cfg.api_token_days,
            client_ip_header: cfg.client_ip_header.clone(),
            webhook_private_ok: cfg.webhook_private_ok,
            ..Default::default()
        },
        handle,
    );
    let app = jiaxiao_web::router(state.clone());
    // One signal stops both the HTTP server and this process's job runner.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let runner = if cfg.run_jobs {
        let mut rx = stop_rx.clone();
        Some(tokio::spawn(state.jobs.clone().run(async move {
            let _ = rx.wait_for(|s| *s).await;
        })))
    } else {
        None
    };
    // Webhook deliveries go out from every process that runs jobs (they claim with a
    // lease, so several processes share the work).
    let hooks = cfg.run_jobs.then(|| {
        tokio::spawn(jiaxiao_web::webhooks::run(
            state.db.clone(),
            cfg.webhook_private_ok,
            stop_rx.clone(),
        ))
    });
    // School years whose rosters changed get their reach cache recomputed beside the
    // requests, not by the first page that reads them (issue 16): ten at a time, again
    // at once while there are more, else every half minute.
    let warmer = cfg.run_jobs.then(|| {
        let db = state.db.clone();
        let mut rx = stop_rx.clone();
        tokio::spawn(async move {
            loop {
                let pause =
                    match jiaxiao_store::parent_school::attendance::refresh_stale_years(&db, 10)
                        .await
                    {
                        Ok(10) => std::time::Duration::ZERO,
                        Ok(_) => std::time::Duration::from_secs(30),
                        Err(e) => {
                            tracing::warn!(error = %e, "refreshing stale reach caches");
                            std::time::Duration::from_secs(30)
                        }
                    };
                tokio::select! {
                    _ = rx.wait_for(|s| *s) => break,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        })
    });
    println!("jiaxiao listening on http://{addr}");
    tracing::info!(%addr, "listening");
    let mut rx = stop_rx;
    // The peer address is kept for the login limit per client address (never logged).
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = rx.wait_for(|s| *s).await;
    });
    tokio::spawn(async move {
        shutdown().await;
        let _ = stop_tx.send(true);
    });
    server.await?;
    // A recompute cut short rolls back; its markers stay for the next start.
    if let Some(w) = warmer {
        w.abort();
        let _ = w.await;
    }
    // A round of deliveries ends with its answers recorded (or, cut short, its leases
    // run out and the next start sends again: at least once, never lost).
    if let Some(h) = hooks {
        let _ = h.await;
    }
    // A running import finishes its transaction before the pool closes.
    if let Some(r) = runner {
        let _ = r.await;
    }
    // In-flight requests have finished; close the pool cleanly (SQLite checkpoints).
    state.db.clone().close().await?;
    tracing::info!("stopped");
    Ok(())
}

fn metrics_exporter() -> Option<jiaxiao_web::app::MetricsHandle> {
    jiaxiao_web::app::install_metrics()
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

async fn import_roster(
    cfg: &Config,
    school: &str,
    dry_run: bool,
    create_classes: bool,
    file: &PathBuf,
) -> Result<()> {
    use jiaxiao_domain::roster;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let table =
        roster::read_table(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let guess = roster::detect_header(&table)
        .context("no header row with known column names (学号, 姓名, 年级, 班级, …) found")?;
    let missing = guess.missing_required();
    if !missing.is_empty() {
        bail!(
            "required columns not found: {}",
            missing
                .iter()
                .map(|f| f.code())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let parsed = roster::parse_rows(&table, guess.header_index, &guess.mapping);
    for i in &parsed.rejected {
        println!("row {}: rejected: {} ({})", i.row, i.code, i.detail);
    }
    for i in &parsed.duplicates {
        println!("row {}: duplicate of {}", i.row, i.detail);
    }
    println!(
        "{} rows ok, {} rejected, {} duplicates",
        parsed.rows.len(),
        parsed.rejected.len(),
        parsed.duplicates.len()
    );
    let db = open_existing(cfg).await?;
    let sys = Scope::system();
    let school_id = school_id(&db, cfg, school).await?;
    let new_classes = if dry_run {
        // The same plan the web wizard's preview shows: the import itself, rolled back.
        let plan = jiaxiao_store::roster::plan(&db, &sys, school_id, &parsed.rows)
            .await
            .map_err(named(cfg, format!("school {school}")))?;
        print_plan(&plan);
        plan.needs_class_consent().then_some(plan.new_classes)
    } else if create_classes {
        None
    } else {
        let (had_classes, new) =
            jiaxiao_store::roster::classes_to_create(&db, &sys, school_id, &parsed.rows)
                .await
                .map_err(named(cfg, format!("school {school}")))?;
        (had_classes && !new.is_empty()).then_some(new)
    };
    if let Some(new) = new_classes.filter(|_| !create_classes) {
        bail!(
            "the file names {} class(es) the school does not have ({}); check the file, or \
             pass --create-classes to create them",
            new.len(),
            new.iter()
                .map(|(row, name)| format!("{name}, row {row}"))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    if dry_run {
        println!("dry run: nothing written");
        return Ok(());
    }
    let year =
        jiaxiao_store::org::ensure_school_year(&db.conn, jiaxiao_store::org::today_date()).await?;
    let started = std::time::Instant::now();
    let mut last = 0;
    let rep = jiaxiao_store::roster::apply(
        &db,
        &sys,
        school_id,
        year,
        &parsed.rows,
        &file.to_string_lossy(),
        |d, t| {
            let pct = d * 100 / t.max(1);
            if pct >= last + 10 {
                last = pct;
                eprintln!("  {pct}%");
            }
        },
    )
    .await?;
    println!("{}", serde_json::to_string_pretty(&rep)?);
    eprintln!("written in {:.2} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// What `import roster --dry-run` prints: the counts, then each class created, pupil moved
/// and parent linked, with the file's row.
fn print_plan(plan: &jiaxiao_store::roster::ImportPlan) {
    let r = &plan.report;
    println!(
        "would create {} grades, {} classes, {} pupils, {} parents; update {} pupils; \
         place or move {} pupils; link {} parents",
        r.grades_created,
        r.classes_created,
        r.pupils_created,
        r.guardians_created,
        r.pupils_updated,
        r.placements_changed,
        r.links_created
    );
    for (row, name) in &plan.new_classes {
        println!("row {row}: new class {name}");
    }
    for m in &plan.moves {
        println!(
            "row {}: {} {} moves from {} to {}",
            m.row, m.student_no, m.name, m.from_class, m.to_class
        );
    }
    for l in &plan.links {
        println!(
            "row {}: {} ({}{}) linked to {}",
            l.row,
            l.parent,
            l.relation,
            if l.new_parent { ", new" } else { "" },
            l.pupil
        );
    }
}

/// A school by code or id. School codes are numbers too (6101130007): a code wins over
/// an id. Not found names what was asked for and the database looked in.
async fn school_id(db: &Db, cfg: &Config, school: &str) -> Result<i64> {
    use jiaxiao_store::StoreError;
    let missing = || {
        anyhow::anyhow!(
            "no school with code or id {school} in the database {}",
            cfg.database_shown()
        )
    };
    let id = match jiaxiao_store::org::unit_id_by_code(db, school).await {
        Ok(id) => id,
        Err(StoreError::NotFound) => school.parse::<i64>().map_err(|_| missing())?,
        Err(e) => return Err(e.into()),
    };
    match jiaxiao_store::org::get_unit(db, &Scope::system(), id).await {
        Ok(u) if u.kind == jiaxiao_domain::UnitKind::School.code() => Ok(id),
        Ok(u) => bail!(
            "unit {id} ({}) is a {}, not a school, in the database {}",
            u.name,
            u.kind,
            cfg.database_shown()
        ),
        Err(StoreError::NotFound) => Err(missing()),
        Err(e) => Err(e.into()),
    }
}

/// Adds "what, where" to a store's bare NotFound; other errors pass unchanged.
fn named(cfg: &Config, what: String) -> impl FnOnce(jiaxiao_store::StoreError) -> anyhow::Error {
    let shown = cfg.database_shown();
    move |e| match e {
        jiaxiao_store::StoreError::NotFound => {
            anyhow::anyhow!("{what} not found in the database {shown}")
        }
        e => e.into(),
    }
}

async fn user(cfg: &Config, what: UserCmd) -> Result<()> {
    let db = open_existing(cfg).await?;
    let sys = Scope::system();
    match what {
        UserCmd::Create {
            username,
            name,
            role,
            unit,
            password,
        } => {
            let role = Role::from_code(&role).with_context(|| format!("unknown role {role}"))?;
            let id = jiaxiao_store::accounts::create_user(
                &db,
                &sys,
                jiaxiao_store::accounts::NewUser {
                    username,
                    display_name: name,
                    password,
                    staff_id: None,
                    grants: vec![(role, unit)],
                },
            )
            .await
            .map_err(named(cfg, format!("unit {unit}")))?;
            println!("created account {id}");
        }
        UserCmd::ResetPassword { username, password } => {
            jiaxiao_store::accounts::reset_password(&db, &sys, &username, &password)
                .await
                .map_err(named(cfg, format!("account {username}")))?;
            println!("password reset; the account's sessions and API tokens have ended");
        }
        UserCmd::Token { username, phone } => {
            let uid = match (username, phone) {
                (Some(u), _) => jiaxiao_store::accounts::user_id_by_name(&db, &u)
                    .await
                    .map_err(named(cfg, format!("account {u}")))?,
                (_, Some(p)) => jiaxiao_store::accounts::user_id_by_phone(&db, &p)
                    .await
                    .map_err(named(cfg, format!("account with phone {p}")))?,
                _ => bail!("give --username or --phone"),
            };
            println!(
                "{}",
                jiaxiao_store::accounts::create_api_token(
                    &db,
                    uid,
                    "cli",
                    chrono::Duration::days(cfg.api_token_days)
                )
                .await?
            );
        }
        UserCmd::Tokens { school, out, name } => {
            let school_id = school_id(&db, cfg, &school).await?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&out)
                .with_context(|| format!("creating {} (it must not exist)", out.display()))?;
            let started = std::time::Instant::now();
            let tokens =
                jiaxiao_store::accounts::bulk_parent_tokens(&db, &sys, school_id, &name).await?;
            let mut w = BufWriter::new(&mut f);
            for (_, t) in &tokens {
                writeln!(w, "{t}")?;
            }
            w.flush()?;
            eprintln!(
                "{} tokens written to {} in {:.2} s",
                tokens.len(),
                out.display(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
