//! The `jiaxiao` binary as an operator uses it: configuration, roster import from the
//! command line, export/import between backends, and two `serve` processes sharing one
//! PostgreSQL database.

use std::process::{Command, Stdio};
use std::time::Duration;

use jiaxiao_domain::{SchoolType, UnitKind};
use jiaxiao_store::org::{self, NewUnit};
use jiaxiao_store::{Db, Scope};
use jiaxiao_testkit::{Kind, TestDb, both_dbs};

const BIN: &str = env!("CARGO_BIN_EXE_jiaxiao");

fn jiaxiao(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("JIAXIAO_DATABASE_URL", url)
        .env("JIAXIAO_LOG", "warn")
        .output()
        .expect("run jiaxiao")
}

async fn school(db: &Db) -> i64 {
    let sys = Scope::system();
    let mk = |parent, kind, name: &str| NewUnit {
        parent_id: parent,
        kind,
        name: name.into(),
        code: None,
        school_type: (kind == UnitKind::School).then_some(SchoolType::Primary),
        grade_level: None,
        class_number: None,
    };
    let p = org::create_unit(db, &sys, mk(None, UnitKind::Province, "省"))
        .await
        .unwrap();
    let c = org::create_unit(db, &sys, mk(Some(p), UnitKind::City, "市"))
        .await
        .unwrap();
    let k = org::create_unit(db, &sys, mk(Some(c), UnitKind::County, "区"))
        .await
        .unwrap();
    org::create_unit(db, &sys, mk(Some(k), UnitKind::School, "实验小学"))
        .await
        .unwrap()
}

/// An XLSX as schools make them: a title and a date line above the header, a note below.
fn roster_xlsx(rows: usize) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "实验小学2026学年学生名单").unwrap();
    ws.write_string(1, 0, "制表日期：2026年9月1日").unwrap();
    for (c, h) in [
        "学号",
        "姓名",
        "性别",
        "年级",
        "班级",
        "家长姓名",
        "关系",
        "手机号",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    for i in 0..rows {
        let r = 3 + i as u32;
        ws.write_string(r, 0, format!("S{i:05}")).unwrap();
        ws.write_string(r, 1, format!("学生{i}")).unwrap();
        ws.write_string(r, 2, if i % 2 == 0 { "男" } else { "女" })
            .unwrap();
        ws.write_number(r, 3, (1 + i % 6) as f64).unwrap();
        ws.write_string(r, 4, format!("{}班", 1 + i % 4)).unwrap();
        ws.write_string(r, 5, format!("家长{}", i / 2)).unwrap();
        ws.write_string(r, 6, "妈妈").unwrap();
        // Siblings (i, i+1) share a parent; the number is typed as a number in Excel.
        ws.write_number(r, 7, (13_700_000_000u64 + (i / 2) as u64) as f64)
            .unwrap();
    }
    ws.write_string(3 + rows as u32 + 1, 0, "注：本表由教务处导出")
        .unwrap();
    wb.save_to_buffer().unwrap()
}

async fn count(db: &Db, table: &str) -> i64 {
    jiaxiao_store::db::scalar_i64(
        &db.conn,
        format!("SELECT COUNT(*) AS n FROM {table}"),
        Vec::new(),
    )
    .await
    .unwrap()
}

both_dbs!(
    roster_import_from_the_command_line,
    |t: TestDb| async move {
        let school = school(&t.db).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("名单.xlsx");
        std::fs::write(&file, roster_xlsx(200)).unwrap();
        let f = file.to_str().unwrap();
        let out = jiaxiao(
            &t.url,
            &["import", "roster", "--school", &school.to_string(), f],
        );
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(
            &out.stdout[out.stdout.iter().position(|b| *b == b'{').unwrap()..],
        )
        .unwrap();
        assert_eq!(report["pupils_created"], 200);
        assert_eq!(report["guardians_created"], 100);
        assert_eq!(count(&t.db, "pupil").await, 200);
        // The same file again changes nothing.
        let again = jiaxiao(
            &t.url,
            &["import", "roster", "--school", &school.to_string(), f],
        );
        let report: serde_json::Value = serde_json::from_slice(
            &again.stdout[again.stdout.iter().position(|b| *b == b'{').unwrap()..],
        )
        .unwrap();
        for k in [
            "pupils_created",
            "pupils_updated",
            "guardians_created",
            "links_created",
            "placements_changed",
            "classes_created",
        ] {
            assert_eq!(report[k], 0, "{k}");
        }
        // A file that is not a roster: one clear error, nothing written.
        let junk = dir.path().join("junk.xlsx");
        std::fs::write(&junk, b"PK\x03\x04 this is not a workbook").unwrap();
        let bad = jiaxiao(
            &t.url,
            &[
                "import",
                "roster",
                "--school",
                &school.to_string(),
                junk.to_str().unwrap(),
            ],
        );
        assert!(!bad.status.success());
        let err = String::from_utf8_lossy(&bad.stderr);
        assert!(err.contains("junk.xlsx"), "{err}");
        assert_eq!(count(&t.db, "pupil").await, 200);
    }
);

#[test]
fn config_example_and_redaction() {
    let out = Command::new(BIN)
        .args(["config", "example"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("listen = \"127.0.0.1:8080\""), "{text}");
    let out = Command::new(BIN)
        .args(["config", "show"])
        .env(
            "JIAXIAO_DATABASE_URL",
            "postgres://jx:topsecret@db.internal/jx",
        )
        .env("JIAXIAO_LISTEN", "0.0.0.0:9000")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("topsecret"), "{text}");
    assert!(text.contains("jx:***@db.internal"), "{text}");
    assert!(text.contains("0.0.0.0:9000"), "{text}");
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["worker", "--help"],
        vec!["migrate", "--help"],
        vec!["demo", "--help"],
        vec!["import", "roster", "--help"],
        vec!["import", "database", "--help"],
        vec!["export", "--help"],
        vec!["backup", "--help"],
        vec!["user", "create", "--help"],
        vec!["user", "reset-password", "--help"],
        vec!["user", "tokens", "--help"],
        vec!["session", "create", "--help"],
        vec!["config", "example", "--help"],
        vec!["check", "--help"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_from_sqlite_import_into_postgres() {
    let src = TestDb::new(Kind::Sqlite).await.unwrap();
    let school = school(&src.db).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.xlsx");
    std::fs::write(&file, roster_xlsx(50)).unwrap();
    assert!(
        jiaxiao(
            &src.url,
            &[
                "import",
                "roster",
                "--school",
                &school.to_string(),
                file.to_str().unwrap()
            ]
        )
        .status
        .success()
    );
    let dump = dir.path().join("county.jsonl");
    let out = jiaxiao(&src.url, &["export", "-o", dump.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let Some(dst) = TestDb::new(Kind::Postgres).await else {
        return;
    };
    let out = jiaxiao(&dst.url, &["import", "database", dump.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for t in [
        "org_unit",
        "org_closure",
        "pupil",
        "guardian",
        "guardianship",
        "class_membership",
        "audit_log",
    ] {
        assert_eq!(count(&src.db, t).await, count(&dst.db, t).await, "{t}");
    }
    // Importing twice is refused: the target must be empty.
    assert!(
        !jiaxiao(&dst.url, &["import", "database", dump.to_str().unwrap()])
            .status
            .success()
    );
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn serve(url: &str) -> (Server, String) {
    serve_with(url, &[]).await
}

async fn serve_with(url: &str, env: &[(&str, &str)]) -> (Server, String) {
    serve_on(url, "127.0.0.1", env).await
}

/// `serve` listening on `host` (reached through 127.0.0.1 all the same).
async fn serve_on(url: &str, host: &str, env: &[(&str, &str)]) -> (Server, String) {
    let port = jiaxiao_testkit::free_port();
    let server = Server(
        Command::new(BIN)
            .arg("serve")
            .envs(env.iter().copied())
            .env("JIAXIAO_DATABASE_URL", url)
            .env("JIAXIAO_LISTEN", format!("{host}:{port}"))
            .env("JIAXIAO_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..600 {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (server, base);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("serve did not start");
}

/// /metrics shows its figures only to the machine itself or to a scraper with the token:
/// without a token it answers on a loopback address and is off (404) on any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_loopback_or_the_token() {
    let Some(t) = TestDb::new(Kind::Sqlite).await else {
        return;
    };
    let status = |base: String, bearer: Option<&'static str>| async move {
        let mut r = reqwest::Client::new().get(format!("{base}/metrics"));
        if let Some(b) = bearer {
            r = r.bearer_auth(b);
        }
        r.send().await.unwrap().status().as_u16()
    };
    {
        let (_s, base) = serve_on(&t.url, "127.0.0.1", &[]).await;
        assert_eq!(status(base, None).await, 200, "loopback, no token: open");
    }
    {
        let (_s, base) = serve_on(&t.url, "0.0.0.0", &[]).await;
        assert_eq!(
            status(base, None).await,
            404,
            "all addresses, no token: off"
        );
    }
    {
        let env = [("JIAXIAO_METRICS_TOKEN", "scrape-me")];
        let (_s, base) = serve_on(&t.url, "0.0.0.0", &env).await;
        assert_eq!(
            status(base.clone(), None).await,
            401,
            "token set, none given"
        );
        assert_eq!(status(base.clone(), Some("wrong")).await, 401);
        assert_eq!(status(base, Some("scrape-me")).await, 200);
    }
}

/// Opens the login form: its CSRF cookie (`name=value`) and the token of its hidden field.
async fn login_form(c: &reqwest::Client, base: &str) -> (String, String) {
    let r = c.get(format!("{base}/login")).send().await.unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = r.text().await.unwrap();
    let i = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = html[i..i + html[i..].find('"').unwrap()].to_owned();
    (cookie, csrf)
}

/// Sessions and writes live in the database: a login on one process works on the
/// other, and what one writes the other reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_share_sessions_and_writes() {
    let Some(t) = TestDb::new(Kind::Postgres).await else {
        return;
    };
    let school = school(&t.db).await;
    jiaxiao_store::accounts::create_user(
        &t.db,
        &Scope::system(),
        jiaxiao_store::accounts::NewUser {
            username: "principal".into(),
            display_name: "校长".into(),
            password: "secret-pass".into(),
            staff_id: None,
            grants: vec![(jiaxiao_domain::Role::SchoolAdmin, school)],
        },
    )
    .await
    .unwrap();
    let (_a, base_a) = serve(&t.url).await;
    let (_b, base_b) = serve(&t.url).await;
    let login = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (login_cookie, csrf) = login_form(&login, &base_a).await;
    let r = login
        .post(format!("{base_a}/login"))
        .header("cookie", login_cookie)
        .form(&[
            ("who", "principal"),
            ("password", "secret-pass"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = c
        .get(format!("{base_b}/org/{school}"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "the session made on A works on B");
    let html = page.text().await.unwrap();
    let i = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = &html[i..i + html[i..].find('"').unwrap()];
    let r = c
        .post(format!("{base_b}/org/{school}/children"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf), ("number", "3")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let on_a = c
        .get(format!("{base_a}/org/{school}"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(on_a.contains("三年级"), "a write on B is read on A");
    // Logging out on A ends the session on B too.
    c.post(format!("{base_a}/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap();
    let after = c
        .get(format!("{base_b}/org/{school}"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 303);
}

#[test]
fn demo_is_created_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let first = Command::new(BIN)
        .args(["demo", "--data-dir", d, "--no-serve"])
        .env("JIAXIAO_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(text.contains("demo data created"), "{text}");
    for login in [
        "province",
        "city",
        "county",
        "inspector",
        "school",
        "teacher",
        "13800000001",
    ] {
        assert!(text.contains(login), "{login} missing from {text}");
    }
    let second = Command::new(BIN)
        .args(["demo", "--data-dir", d, "--no-serve"])
        .env("JIAXIAO_LOG", "warn")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&second.stdout).contains("already present"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_of_a_live_sqlite_database_opens() {
    let t = TestDb::new(Kind::Sqlite).await.unwrap();
    school(&t.db).await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.db");
    let out = jiaxiao(&t.url, &["backup", copy.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = Db::connect(&format!("sqlite://{}", copy.display()))
        .await
        .unwrap();
    assert_eq!(count(&restored, "org_unit").await, 4);
    // An existing file is never overwritten.
    assert!(
        !jiaxiao(&t.url, &["backup", copy.to_str().unwrap()])
            .status
            .success()
    );
}

// With `run_jobs = false`, `serve` only queues imports and a separate `worker` process
// runs them.
both_dbs!(
    a_worker_process_runs_queued_imports,
    |t: TestDb| async move {
        let school = school(&t.db).await;
        jiaxiao_store::accounts::create_user(
            &t.db,
            &Scope::system(),
            jiaxiao_store::accounts::NewUser {
                username: "principal".into(),
                display_name: "校长".into(),
                password: "secret-pass".into(),
                staff_id: None,
                grants: vec![(jiaxiao_domain::Role::SchoolAdmin, school)],
            },
        )
        .await
        .unwrap();
        let (_s, base) = serve_with(&t.url, &[("JIAXIAO_RUN_JOBS", "false")]).await;
        let c = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let (_, login_csrf) = login_form(&c, &base).await;
        c.post(format!("{base}/login"))
            .form(&[
                ("who", "principal"),
                ("password", "secret-pass"),
                ("csrf", login_csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        let form = c
            .get(format!("{base}/import"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf_of = |html: &str| {
            let i = html.find("name=\"csrf\" value=\"").unwrap() + 19;
            html[i..i + html[i..].find('"').unwrap()].to_owned()
        };
        let mp = reqwest::multipart::Form::new()
            .text("csrf", csrf_of(&form))
            .text("school_id", school.to_string())
            .part(
                "file",
                reqwest::multipart::Part::bytes(roster_xlsx(30)).file_name("r.xlsx"),
            );
        let preview = c
            .post(format!("{base}/import/preview"))
            .multipart(mp)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = preview
            .split("name=\"token\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        let r = c
            .post(format!("{base}/import/commit"))
            .form(&[("csrf", csrf_of(&preview)), ("token", token)])
            .send()
            .await
            .unwrap();
        let job = r.headers()["location"].to_str().unwrap().to_owned();
        // Queued, and nobody runs it yet.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(count(&t.db, "pupil").await, 0);
        let mut worker = Server(
            Command::new(BIN)
                .arg("worker")
                .env("JIAXIAO_DATABASE_URL", &t.url)
                .env("JIAXIAO_LOG", "warn")
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let mut done = String::new();
        for _ in 0..600 {
            let body = c
                .get(format!("{base}{job}/status"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if body.contains("job-result") {
                done = body;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(done.contains("导入完成"), "{done}");
        assert_eq!(count(&t.db, "pupil").await, 30);
        // The worker stops cleanly on SIGTERM.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(worker.0.id().to_string())
            .status();
        let status = worker.0.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }
);

both_dbs!(
    parent_tokens_and_a_session_for_a_load_test,
    |t: TestDb| async move {
        let school = school(&t.db).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("名单.xlsx");
        std::fs::write(&file, roster_xlsx(40)).unwrap();
        let s = school.to_string();
        let out = jiaxiao(
            &t.url,
            &["import", "roster", "--school", &s, file.to_str().unwrap()],
        );
        assert!(out.status.success());
        let tokens = dir.path().join("tokens.txt");
        let tf = tokens.to_str().unwrap();
        let out = jiaxiao(&t.url, &["user", "tokens", "--school", &s, "--out", tf]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<String> = std::fs::read_to_string(&tokens)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(lines.len(), 20, "one token per parent");
        assert!(lines.iter().all(|l| l.starts_with("jx_")));
        let (scope, _) = jiaxiao_store::accounts::token_session(&t.db, &lines[0])
            .await
            .unwrap()
            .unwrap();
        assert!(scope.guardian_id().is_some());
        // The file is never overwritten.
        let again = jiaxiao(&t.url, &["user", "tokens", "--school", &s, "--out", tf]);
        assert!(!again.status.success());
        let out = jiaxiao(
            &t.url,
            &["session", "create", "--school", &s, "--title", "压测"],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let id: i64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        assert!(id > 0);
    }
);

/// `jiaxiao` with only the given JIAXIAO_* variables (none inherited), in `cwd`.
fn jiaxiao_in(cwd: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut c = Command::new(BIN);
    c.args(args).current_dir(cwd).env("JIAXIAO_LOG", "warn");
    for (k, _) in std::env::vars() {
        if k.starts_with("JIAXIAO_") && k != "JIAXIAO_LOG" {
            c.env_remove(k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run jiaxiao")
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_data_dir_holds_the_database_and_errors_say_where_they_looked() {
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    // JIAXIAO_DATA_DIR moves the database: not ./data/jiaxiao.db in the working directory.
    let out = jiaxiao_in(cwd.path(), &[("JIAXIAO_DATA_DIR", d)], &["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(data.path().join("jiaxiao.db").exists());
    assert!(!cwd.path().join("data").exists());
    // So does data_dir in the TOML file.
    let other = tempfile::tempdir().unwrap();
    let toml = cwd.path().join("jiaxiao.toml");
    std::fs::write(
        &toml,
        format!("data_dir = \"{}\"\n", other.path().display()),
    )
    .unwrap();
    let out = jiaxiao_in(
        cwd.path(),
        &[],
        &["--config", toml.to_str().unwrap(), "migrate"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(other.path().join("jiaxiao.db").exists());

    let file = cwd.path().join("名单.xlsx");
    std::fs::write(&file, roster_xlsx(3)).unwrap();
    let f = file.to_str().unwrap();
    // An unknown school names the school asked for and the database looked in.
    let out = jiaxiao_in(
        cwd.path(),
        &[("JIAXIAO_DATA_DIR", d)],
        &["import", "roster", "--school", "4242", f],
    );
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(msg.contains("4242"), "{msg}");
    assert!(msg.contains(&format!("{d}/jiaxiao.db")), "{msg}");
    // A data directory without a database is named, and no empty database is made there.
    let empty = tempfile::tempdir().unwrap();
    let e = empty.path().to_str().unwrap();
    let out = jiaxiao_in(
        cwd.path(),
        &[("JIAXIAO_DATA_DIR", e)],
        &["import", "roster", "--school", "1", f],
    );
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(
        msg.contains(&format!("no database at {e}/jiaxiao.db")),
        "{msg}"
    );
    assert!(!empty.path().join("jiaxiao.db").exists());
    // An unknown account, too; a database URL is shown with its password redacted.
    let out = jiaxiao_in(
        cwd.path(),
        &[("JIAXIAO_DATA_DIR", d)],
        &["user", "token", "--username", "nobody"],
    );
    let msg = text(&out);
    assert!(!out.status.success());
    assert!(msg.contains("account nobody not found"), "{msg}");
    assert!(msg.contains(d), "{msg}");
    let out = jiaxiao_in(
        cwd.path(),
        &[(
            "JIAXIAO_DATABASE_URL",
            "postgres://jx:topsecret@127.0.0.1:1/jx",
        )],
        &["import", "roster", "--school", "1", f],
    );
    let msg = text(&out);
    assert!(!out.status.success());
    assert!(msg.contains("postgres://jx:***@127.0.0.1:1/jx"), "{msg}");
    assert!(!msg.contains("topsecret"), "{msg}");
}

both_dbs!(
    roster_dry_run_reports_what_the_import_would_do,
    |t: TestDb| async move {
        let school = school(&t.db).await;
        let s = school.to_string();
        let dir = tempfile::tempdir().unwrap();
        // Six grades of two classes each (一年级(1)班 and (3)班, 三年级(1)班 and (3)班, …).
        let first = dir.path().join("名单.xlsx");
        std::fs::write(&first, roster_xlsx(48)).unwrap();
        let out = jiaxiao(
            &t.url,
            &["import", "roster", "--school", &s, first.to_str().unwrap()],
        );
        assert!(out.status.success(), "{}", text(&out));
        let (pupils, units, links) = (
            count(&t.db, "pupil").await,
            count(&t.db, "org_unit").await,
            count(&t.db, "guardianship").await,
        );
        // S00000 moves from (1)班 to (3)班; a new pupil in 三年级(9)班 (there are two); a
        // second parent for S00002.
        let next = dir.path().join("next.csv");
        std::fs::write(
            &next,
            "学号,姓名,性别,年级,班级,家长姓名,关系,手机号\n\
             S00000,学生0,男,1,3班,家长0,妈妈,13700000000\n\
             S90000,新生,女,3,9班,新家长,爸爸,13911112222\n\
             S00002,学生2,男,3,3班,王大伟,爸爸,13922223333\n",
        )
        .unwrap();
        let n = next.to_str().unwrap();
        let dry = jiaxiao(
            &t.url,
            &["import", "roster", "--school", &s, "--dry-run", n],
        );
        let msg = text(&dry);
        // Refused without --create-classes, and says so with the class and its row.
        assert!(!dry.status.success(), "{msg}");
        assert!(msg.contains("--create-classes"), "{msg}");
        assert!(msg.contains("row 3: new class 三年级(9)班"), "{msg}");
        assert!(
            msg.contains("S00000 学生0 moves from 一年级(1)班 to 一年级(3)班"),
            "{msg}"
        );
        assert!(msg.contains("新家长 (father, new) linked to 新生"), "{msg}");
        assert!(
            msg.contains("王大伟 (father, new) linked to 学生2"),
            "{msg}"
        );
        assert!(
            !msg.contains("家长0 (mother"),
            "an existing link is not new: {msg}"
        );
        let dry = jiaxiao(
            &t.url,
            &[
                "import",
                "roster",
                "--school",
                &s,
                "--dry-run",
                "--create-classes",
                n,
            ],
        );
        let msg = text(&dry);
        assert!(dry.status.success(), "{msg}");
        assert!(
            msg.contains("would create 0 grades, 1 classes, 1 pupils, 2 parents"),
            "{msg}"
        );
        assert!(msg.contains("dry run: nothing written"), "{msg}");
        // Nothing written by either dry run, nor by the refused import.
        let real = jiaxiao(&t.url, &["import", "roster", "--school", &s, n]);
        assert!(!real.status.success(), "{}", text(&real));
        assert_eq!(count(&t.db, "pupil").await, pupils);
        assert_eq!(count(&t.db, "org_unit").await, units);
        assert_eq!(count(&t.db, "guardianship").await, links);
        // With the flag, the import does what the dry run said.
        let real = jiaxiao(
            &t.url,
            &["import", "roster", "--school", &s, "--create-classes", n],
        );
        assert!(real.status.success(), "{}", text(&real));
        assert_eq!(count(&t.db, "pupil").await, pupils + 1);
        assert_eq!(count(&t.db, "org_unit").await, units + 1);
        assert_eq!(count(&t.db, "guardianship").await, links + 2);
    }
);

#[test]
fn logs_to_a_pipe_have_no_colour_codes() {
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut c = Command::new(BIN);
    c.args(["migrate"])
        .current_dir(cwd.path())
        .env_remove("JIAXIAO_DATABASE_URL")
        .env_remove("JIAXIAO_CONFIG")
        .env("JIAXIAO_DATA_DIR", data.path())
        .env("JIAXIAO_LOG", "info");
    let out = c.output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    // Migrations log at info, so there is something to look at.
    assert!(err.contains("INFO"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err}");
}
