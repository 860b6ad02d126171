//! HTTP tests of uploads (issue 9): a workbook built to exhaust memory is refused and the
//! server keeps answering, roster previews live in the database (confirmed by another
//! process, replaced, swept, never someone else's), and a body over the limit is an
//! error page. Each test on SQLite and PostgreSQL.

use jiaxiao_domain::Role;
use jiaxiao_store::Db;
use jiaxiao_testkit::fixtures::{TwoCounties, csrf_of, get as page, staff_account, two_counties};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::{Client, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Two admins of school A (the second one is the "foreign user" of a preview), one of B.
async fn world(db: &Db) -> (i64, i64) {
    let TwoCounties {
        school_a, school_b, ..
    } = two_counties(db).await;
    staff_account(db, "school_a", Role::SchoolAdmin, school_a).await;
    staff_account(db, "school_a2", Role::SchoolAdmin, school_a).await;
    staff_account(db, "school_b", Role::SchoolAdmin, school_b).await;
    (school_a, school_b)
}

/// Logs in on the server at `base` (tests here use two servers on one database), with
/// the login form's CSRF token as a browser would.
async fn login(base: &str, c: &Client, who: &str) {
    let (status, html) = page(c, &format!("{base}/login")).await;
    assert_eq!(status, StatusCode::OK, "login form");
    let csrf = csrf_of(&html);
    let r = c
        .post(format!("{base}/login"))
        .form(&[("who", who), ("password", "secret-pass"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login as {who}");
}

async fn logged_in(app: &TestApp, who: &str) -> Client {
    let c = app.client();
    login(&app.base, &c, who).await;
    c
}

async fn upload(
    app: &TestApp,
    c: &Client,
    school: i64,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, String) {
    upload_to(&app.base, c, school, name, bytes).await
}

async fn upload_to(
    base: &str,
    c: &Client,
    school: i64,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, String) {
    let (_, form) = page(c, &format!("{base}/import")).await;
    let mp = reqwest::multipart::Form::new()
        .text("csrf", csrf_of(&form))
        .text("school_id", school.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
    let r = c
        .post(format!("{base}/import/preview"))
        .multipart(mp)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

fn token_of(html: &str) -> String {
    html.split("name=\"token\" value=\"")
        .nth(1)
        .expect("token field")
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// Confirms preview `token` at `base` with the CSRF token of `c`'s session (read from
/// any staff page there).
async fn confirm(base: &str, c: &Client, token: &str) -> reqwest::Response {
    let (_, form) = page(c, &format!("{base}/import")).await;
    c.post(format!("{base}/import/commit"))
        .form(&[("csrf", csrf_of(&form)), ("token", token.to_owned())])
        .send()
        .await
        .unwrap()
}

/// Polls a roster import until it shows its result (bounded: a stuck job still fails).
async fn wait_for_job(app: &TestApp, c: &Client, job: &str) -> String {
    for _ in 0..600 {
        let (_, body) = page(c, &app.url(&format!("{job}/status"))).await;
        if body.contains("job-result") {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("import {job} did not finish within a minute");
}

/// Another `serve` process on the same database: its own state, nothing shared in memory.
async fn second_process(app: &TestApp) -> String {
    let settings = jiaxiao_web::Settings {
        uploads_dir: app.uploads.clone(),
        ..Default::default()
    };
    let state = jiaxiao_web::AppState::new(app.db.clone(), settings, None);
    let router = jiaxiao_web::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

const ROSTER: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
U1,周小雨,女,二年级,1班,周海,父亲,13800000011\n\
U2,吴小天,男,二年级,1班,吴敏,母亲,13800000012\n";

/// The probe's workbook: values only in A1 and XFD1048576 (1.6 KB).
fn sparse_corners_workbook() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "学号").unwrap();
    ws.write_string(1_048_575, 16_383, "x").unwrap();
    wb.save_to_buffer().unwrap()
}

both_dbs!(
    sparse_workbook_is_refused_and_the_server_keeps_answering,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let (school_a, _) = world(&app.db).await;
        let c = logged_in(&app, "school_a").await;
        let bytes = sparse_corners_workbook();
        assert!(bytes.len() < 8 * 1024, "{}", bytes.len());
        // Several at once, as an attacker would send them: each is refused on its own.
        let mut answers = Vec::new();
        for _ in 0..4 {
            let (base, c, bytes) = (app.base.clone(), c.clone(), bytes.clone());
            answers.push(tokio::spawn(async move {
                upload_to(&base, &c, school_a, "坏表.xlsx", bytes).await
            }));
        }
        for answer in answers {
            let (status, html) = answer.await.unwrap();
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(html.contains("文件超过 100000 行，无法导入"), "{html}");
        }
        assert_eq!(page(&c, &app.url("/healthz")).await.0, StatusCode::OK);
        let (status, html) = upload(&app, &c, school_a, "名单.csv", ROSTER.into()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("可导入行数: 2"), "{html}");
    }
);

both_dbs!(
    previews_live_in_the_database_one_per_user,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let (school_a, _) = world(&app.db).await;
        let c = logged_in(&app, "school_a").await;
        let (_, first) = upload(&app, &c, school_a, "一.csv", ROSTER.into()).await;
        let (_, second) = upload(&app, &c, school_a, "二.csv", ROSTER.into()).await;
        let (first, second) = (token_of(&first), token_of(&second));
        // A new upload replaces the user's earlier preview.
        let r = confirm(&app.base, &c, &first).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("预览已过期"));
        // Another admin of the same school cannot confirm it, on either process.
        let other = process_b_client(&app, "school_a2").await;
        let r = confirm(&other.0, &other.1, &second).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let b_of_a = logged_in(&app, "school_b").await;
        assert_eq!(
            confirm(&app.base, &b_of_a, &second).await.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // The uploader confirms it on the other process: nothing of it is in that
        // process's memory.
        // (A new client: this one's session cookie would skip the other's login form.)
        let (base_b, _) = &other;
        let c_b = app.client();
        login(base_b, &c_b, "school_a").await;
        let r = confirm(base_b, &c_b, &second).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let job = r.headers()["location"].to_str().unwrap().to_owned();
        let done = wait_for_job(&app, &c_b, &job).await;
        assert!(done.contains("导入完成"), "{done}");
        // Confirmed once: a second confirmation (another tab) is not a second import.
        let r = confirm(&app.base, &c, &second).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
);

both_dbs!(
    a_preview_keeps_the_file_deflated_not_its_table,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let (school_a, _) = world(&app.db).await;
        let c = logged_in(&app, "school_a").await;
        // 20,000 rows with CRLF line ends and one bad row near the end.
        let mut csv = String::from("学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\r\n");
        for i in 0..20_000 {
            let grade = if i == 19_990 { "十三" } else { "3" };
            csv.push_str(&format!(
                "B{i:06},王小明,男,{grade},{},王大明,父亲,139{i:08}\r\n",
                i % 12 + 1
            ));
        }
        let (status, html) = upload(&app, &c, school_a, "big.csv", csv.clone().into()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("可导入行数: 19999"), "{html}");
        assert!(html.contains("19992"), "the bad row by its line: {html}");
        // The table kept as JSON was larger than the file; the file deflated is a
        // fraction of it.
        let kept = jiaxiao_store::db::scalar_i64(
            &app.db.conn,
            "SELECT bytes AS n FROM roster_preview",
            vec![],
        )
        .await
        .unwrap();
        assert!(
            (kept as usize) < csv.len() / 3,
            "kept {kept} bytes of a {} byte file",
            csv.len()
        );
        // Read back from what was kept, the rows are all there to import.
        let r = confirm(&app.base, &c, &token_of(&html)).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let job = r.headers()["location"].to_str().unwrap().to_owned();
        let done = wait_for_job(&app, &c, &job).await;
        assert!(done.contains("导入完成"), "{done}");
    }
);

async fn process_b_client(app: &TestApp, who: &str) -> (String, Client) {
    let base = second_process(app).await;
    let c = app.client();
    login(&base, &c, who).await;
    (base, c)
}

both_dbs!(
    previews_expire_after_an_hour_and_remap_reads_them_back,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let (school_a, _) = world(&app.db).await;
        let c = logged_in(&app, "school_a").await;
        let csv = "编号,学生,年级,班级\nM1,张三,3,2\n";
        let (_, html) = upload(&app, &c, school_a, "m.csv", csv.into()).await;
        assert!(html.contains("表头无法自动识别"), "{html}");
        let token = token_of(&html);
        let remap = |token: String, csrf: String| {
            let c = c.clone();
            let url = app.url("/import/remap");
            async move {
                let form = [
                    ("csrf", csrf),
                    ("token", token),
                    ("map_student_no", "0".into()),
                    ("map_name", "1".into()),
                    ("map_grade", "2".into()),
                    ("map_class", "3".into()),
                ];
                let r = c.post(url).form(&form).send().await.unwrap();
                (r.status(), r.text().await.unwrap())
            }
        };
        let (status, html) = remap(token.clone(), csrf_of(&html)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("可导入行数: 1"), "{html}");
        // Nothing is swept before its hour is up; after it, the preview is gone.
        let now = chrono::Utc::now();
        assert_eq!(
            jiaxiao_store::roster::sweep_previews(&app.db, now)
                .await
                .unwrap(),
            0
        );
        let later = now + chrono::TimeDelta::minutes(61);
        assert_eq!(
            jiaxiao_store::roster::sweep_previews(&app.db, later)
                .await
                .unwrap(),
            1
        );
        let (status, html) = remap(token, csrf_of(&html)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("预览已过期"), "{html}");
    }
);

/// Sends a request head announcing `len` body bytes and a little of the body, then
/// reads the answer: the server must refuse by the announced length.
async fn announce_body(base: &str, path: &str, content_type: &str, len: usize) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {len}\r\nCookie: lang=zh-CN\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&[b'x'; 1024]).await.unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

both_dbs!(
    bodies_over_the_limit_get_the_error_page,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        world(&app.db).await;
        // Past the 64 MiB upload limit: refused by its length, before the body arrives.
        let answer = announce_body(
            &app.base,
            "/import/preview",
            "multipart/form-data; boundary=x",
            100 * 1024 * 1024,
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("text/html"), "{answer}");
        assert!(answer.contains("上传的文件太大"), "{answer}");
        let answer = announce_body(
            &app.base,
            "/api/v1/sessions",
            "application/json",
            100 * 1024 * 1024,
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("\"error\":\"too_large\""), "{answer}");
        // Past a page form's 2 MB: the same page, in the user's language.
        let c = logged_in(&app, "school_a").await;
        let (_, form) = page(&c, &app.url("/import")).await;
        let big = "x".repeat(3 * 1024 * 1024);
        let r = c
            .post(app.url("/import/remap"))
            .form(&[
                ("csrf", csrf_of(&form)),
                ("token", "1".into()),
                ("pad", big),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(r.text().await.unwrap().contains("上传的文件太大"));
    }
);
