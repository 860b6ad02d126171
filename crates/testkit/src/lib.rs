//! Test support: a fresh database per test on either backend, the real app on a random
//! port, and the `both_dbs!` macro that runs a test once on SQLite and once on
//! PostgreSQL. The PostgreSQL side starts a throwaway cluster with Debian's `initdb`
//! and `pg_ctl` (as the `postgres` user when run as root) once per test binary and
//! clones a migrated template database for each test.

pub mod fixtures;
pub mod xlsx;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use jiaxiao_store::Db;
use tokio::sync::OnceCell;

pub use jiaxiao_store;

/// The real application on a random loopback port, over a test database.
pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub uploads: std::path::PathBuf,
    _uploads: tempfile::TempDir,
    _t: TestDb,
}

impl TestApp {
    /// Serves `t` until the test ends.
    pub async fn spawn(t: TestDb) -> TestApp {
        TestApp::spawn_with(t, |_| {}).await
    }

    /// Serves `t` with settings changed by `adjust` (e.g. webhooks to a local receiver).
    pub async fn spawn_with(t: TestDb, adjust: impl FnOnce(&mut jiaxiao_web::Settings)) -> TestApp {
        let uploads = tempfile::tempdir().expect("uploads dir");
        let mut settings = jiaxiao_web::Settings {
            uploads_dir: uploads.path().to_path_buf(),
            ..Default::default()
        };
        adjust(&mut settings);
        let state = jiaxiao_web::AppState::new(t.db.clone(), settings, None);
        let app = jiaxiao_web::router(state.clone());
        // Jobs run as in `serve`; the runner ends with the test's runtime.
        tokio::spawn(state.jobs.clone().run(std::future::pending::<()>()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            // With the peer address, as `serve` does: the login limit per address uses it.
            let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            let _ = axum::serve(listener, app).await;
        });
        TestApp {
            base: format!("http://{addr}"),
            db: t.db.clone(),
            uploads: uploads.path().to_path_buf(),
            _uploads: uploads,
            _t: t,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client with its own cookie jar that does not follow redirects, so tests see them.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A database for one test; dropping it leaves the files to the temp dir cleanup.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// An explicit (empty) `Drop` makes closures capture a `TestDb` whole: without it, a
/// test body that uses only `t.db` would capture that field alone and drop the temp
/// dir — deleting the SQLite file under the open pool — before the test runs.
impl Drop for TestDb {
    fn drop(&mut self) {}
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// A fresh, migrated database, or `None` when PostgreSQL is not installed and not
    /// required (`REQUIRE_POSTGRES=1` turns that into a panic).
    pub async fn new(kind: Kind) -> Option<TestDb> {
        match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite://{}", dir.path().join("t.db").display());
                let db = Db::connect(&url).await.expect("connect sqlite");
                db.migrate().await.expect("migrate");
                Some(TestDb {
                    db,
                    url,
                    _dir: Some(dir),
                })
            }
            Kind::Postgres => {
                let cluster = PG.get_or_init(start_cluster).await.as_ref()?;
                let name = format!(
                    "t{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst)
                );
                let admin = Db::connect(&cluster.url("postgres"))
                    .await
                    .expect("connect admin");
                admin
                    .conn
                    .execute_unprepared(&format!(
                        "CREATE DATABASE {name} TEMPLATE jiaxiao_template"
                    ))
                    .await
                    .expect("clone template");
                admin.close().await.ok();
                let url = cluster.url(&name);
                let db = Db::connect(&url).await.expect("connect");
                Some(TestDb {
                    db,
                    url,
                    _dir: None,
                })
            }
        }
    }
}

use sea_orm::ConnectionTrait;

struct Cluster {
    port: u16,
    _dir: PathBuf,
}

impl Cluster {
    fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }
}

static PG: OnceCell<Option<Cluster>> = OnceCell::const_new();

fn pg_bin() -> Option<PathBuf> {
    let base = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(base)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .collect();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .find(|p| p.join("initdb").exists())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

fn run_pg(bin: &Path, tool: &str, args: &[&str]) -> bool {
    let exe = bin.join(tool);
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    let status = cmd.args(args).stdout(std::process::Stdio::null()).status();
    status.map(|s| s.success()).unwrap_or(false)
}

async fn start_cluster() -> Option<Cluster> {
    let required = std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    let Some(bin) = pg_bin() else {
        assert!(
            !required,
            "REQUIRE_POSTGRES=1 but no PostgreSQL binaries under /usr/lib/postgresql"
        );
        eprintln!("PostgreSQL not installed: skipping the PostgreSQL variant");
        return None;
    };
    let dir = std::env::temp_dir().join(format!("jiaxiao-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("pg dir");
    if is_root() {
        Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .expect("chown");
    }
    let data = dir.join("data");
    let data_s = data.to_string_lossy().to_string();
    assert!(
        run_pg(
            &bin,
            "initdb",
            &[
                "-D",
                &data_s,
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C.UTF-8"
            ]
        ),
        "initdb failed"
    );
    let port = free_port();
    let opts = format!(
        "-p {port} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        dir.display()
    );
    assert!(
        run_pg(
            &bin,
            "pg_ctl",
            &[
                "-D",
                &data_s,
                "-o",
                &opts,
                "-l",
                &format!("{}/log", dir.display()),
                "-w",
                "start"
            ]
        ),
        "pg_ctl start failed"
    );
    let cluster = Cluster {
        port,
        _dir: dir.clone(),
    };
    register_stop(bin, data_s);
    let admin = Db::connect(&cluster.url("postgres"))
        .await
        .expect("connect new cluster");
    admin
        .conn
        .execute_unprepared("CREATE DATABASE jiaxiao_template")
        .await
        .expect("template");
    admin.close().await.ok();
    let tmpl = Db::connect(&cluster.url("jiaxiao_template"))
        .await
        .expect("connect template");
    tmpl.migrate().await.expect("migrate template");
    tmpl.close().await.ok();
    Some(cluster)
}

/// Stops the cluster when the test process ends (a detached `pg_ctl stop` that waits
/// for this process to go away).
fn register_stop(bin: PathBuf, data: String) {
    let pid = std::process::id();
    let pg_ctl = bin.join("pg_ctl");
    let script = format!(
        "while [ -d /proc/{pid} ]; do sleep 0.5; done; {} -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf \"$(dirname '{data}')\"",
        pg_ctl.display()
    );
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", &script]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", &script]);
        c
    };
    let _ = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs the body once per backend: `both_dbs!(name, |t| async move { … })` makes
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_dbs {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::TestDb::new($crate::Kind::Sqlite)
                    .await
                    .expect("sqlite");
                ($body)(t).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(t) = $crate::TestDb::new($crate::Kind::Postgres).await {
                    ($body)(t).await;
                }
            }
        }
    };
}
