//! Check-in over HTTP: the API (201 / 200 / reason codes / 404 outside scope, login →
//! token → check-in) and the pages (projector, live board, roster marking, the parent's
//! phone page), each on SQLite and on PostgreSQL.

use chrono::Utc;
use jiaxiao_domain::checkin_code::CodeGen;
use jiaxiao_domain::parent_school::Audience;
use jiaxiao_domain::{Role, UnitKind};
use jiaxiao_store::org;
use jiaxiao_store::parent_school::sessions::{self, NewSession};
use jiaxiao_store::{Db, Scope};
use jiaxiao_testkit::fixtures::{
    PASSWORD, county_with_schools, csrf_of, get as page, import_roster, login, login_csrf,
    parent_scope, staff_account,
};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ROSTER_A: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
A1,王小明,男,三年级,2班,王建国,父亲,13800000001\n\
A3,李四,男,三年级,2班,李大山,爷爷,13900000003\n\
A5,钱六,男,一年级,1班,钱爸爸,父亲,13900000005\n";
const ROSTER_B: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
B1,孙七,男,一年级,1班,孙爸爸,父亲,13700000007\n";
const PARENT_PASS: &str = PASSWORD;

struct World {
    /// A session for 三年级2班 (王建国, 李大山), open now.
    session: i64,
    class_32: i64,
}

async fn world(db: &Db) -> World {
    let sys = Scope::system();
    let c = county_with_schools(db, &["甲小学", "乙小学"]).await;
    let (school_a, school_b) = (c.schools[0], c.schools[1]);
    import_roster(db, school_a, ROSTER_A).await;
    import_roster(db, school_b, ROSTER_B).await;
    staff_account(db, "admin_a", Role::SchoolAdmin, school_a).await;
    staff_account(db, "admin_b", Role::SchoolAdmin, school_b).await;
    // Parents with a password, as after redeeming an invitation.
    for phone in ["13800000001", "13900000003", "13900000005", "13700000007"] {
        parent_scope(db, phone).await;
    }
    let class_32 = org::units_under(db, &sys, school_a, UnitKind::Class, &jiaxiao_store::today())
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.grade_level == Some(3))
        .unwrap()
        .id;
    let session = sessions::create_session(
        db,
        &sys,
        NewSession {
            school_id: school_a,
            title: "家庭教育讲座".into(),
            starts_at: Utc::now(),
            duration_minutes: 90,
            instructor_name: "张老师".into(),
            audience: Some(Audience::Units),
            audience_units: vec![class_32],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    World { session, class_32 }
}

async fn token(app: &TestApp, body: Value) -> String {
    let r = app
        .client()
        .post(app.url("/api/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "login {body}");
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn parent_token(app: &TestApp, phone: &str) -> String {
    token(app, json!({"phone": phone, "password": PARENT_PASS})).await
}

async fn staff_token(app: &TestApp, username: &str) -> String {
    token(app, json!({"username": username, "password": PASSWORD})).await
}

async fn post_checkin(
    app: &TestApp,
    tok: &str,
    session: i64,
    code: &str,
    nonce: &str,
) -> (StatusCode, Value) {
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/sessions/{session}/checkins")))
        .bearer_auth(tok)
        .header("user-agent", "test-phone")
        .json(&json!({"code": code, "nonce": nonce, "device": "install-1"}))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

/// The current Unix time, at least 10 s before the next 30 s code step: a code
/// for "now" or "the previous step" computed from it is still accepted when the
/// request lands, however slow the machine (waits out the last 10 s of a step).
async fn settled_now() -> u64 {
    let now = Utc::now().timestamp() as u64;
    if now % 30 >= 20 {
        tokio::time::sleep(std::time::Duration::from_secs(31 - now % 30)).await;
        return Utc::now().timestamp() as u64;
    }
    now
}

async fn secret_gen(db: &Db, session: i64) -> CodeGen {
    let (_, secret) = sessions::session_secret(db, &Scope::system(), session)
        .await
        .unwrap();
    CodeGen::from_hex(&secret).unwrap()
}

both_dbs!(api_checkin_answers_and_refuses, |t: TestDb| async move {
    let app = TestApp::spawn(t).await;
    let w = world(&app.db).await;
    let sid = w.session;
    // Staff read the current code; the other school's staff cannot.
    let staff = staff_token(&app, "admin_a").await;
    let r = app
        .client()
        .get(app.url(&format!("/api/v1/sessions/{sid}/checkin-code")))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let c: Value = r.json().await.unwrap();
    let code = c["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    assert_eq!(c["step"], 30);
    assert!(
        c["qr_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/p/checkin/{sid}?c={code}"))
    );
    assert_eq!(c["invited"], 2);
    assert!(c["qr_svg"].is_null());
    let other = staff_token(&app, "admin_b").await;
    let r = app
        .client()
        .get(app.url(&format!("/api/v1/sessions/{sid}/checkin-code")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A parent: login → token → check-in (201), again (200, the original time).
    let dad = parent_token(&app, "13800000001").await;
    let (st, first) = post_checkin(&app, &dad, sid, &code, "nonce-0000000000001").await;
    assert_eq!(st, StatusCode::CREATED, "{first}");
    assert_eq!(first["status"], "present");
    assert_eq!(first["method"], "qr");
    assert!(first["checked_at"].as_str().unwrap().ends_with("+08:00"));
    let (st, again) = post_checkin(&app, &dad, sid, &code, "nonce-0000000000002").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(again["checked_at"], first["checked_at"]);
    let (st, retry) = post_checkin(&app, &dad, sid, &code, "nonce-0000000000001").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(retry, first);
    // Refusals with their reason codes.
    let codes = secret_gen(&app.db, sid).await;
    let now = Utc::now().timestamp() as u64;
    let li = parent_token(&app, "13900000003").await;
    let (st, e) = post_checkin(
        &app,
        &li,
        sid,
        &codes.code_at(now - 300),
        "nonce-0000000000003",
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("expired_code"))
    );
    assert!(e["request_id"].is_string());
    let (st, e) = post_checkin(&app, &li, sid, &code, "bad nonce").await;
    assert_eq!(
        (st, e["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_nonce"))
    );
    let qian = parent_token(&app, "13900000005").await;
    let (st, e) = post_checkin(&app, &qian, sid, &code, "nonce-0000000000004").await;
    assert_eq!(
        (st, e["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_invited"))
    );
    let (st, e) = post_checkin(&app, &staff, sid, &code, "nonce-0000000000005").await;
    assert_eq!(
        (st, e["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_a_parent"))
    );
    // Outside the caller's reach: 404, like a session that does not exist.
    let sun = parent_token(&app, "13700000007").await;
    let (st, e) = post_checkin(&app, &sun, sid, &code, "nonce-0000000000006").await;
    assert_eq!(
        (st, e["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (st, _) = post_checkin(&app, &li, 987_654, &code, "nonce-0000000000007").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = post_checkin(&app, "jx_nope", sid, &code, "nonce-0000000000008").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // The grandfather checks in with a typed code (the previous step still counts).
    let now = settled_now().await;
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/sessions/{sid}/checkins")))
        .bearer_auth(&li)
        .json(&json!({"code": codes.code_at(now - 30), "nonce": "nonce-0000000000009", "method": "code"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap()["method"], "code");
    // The check-in route has a stack of its own (app::hot_routes): the same request id
    // and security headers as every answer, and a small body limit.
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/sessions/{sid}/checkins")))
        .bearer_auth(&li)
        .header("x-request-id", "proxy-checkin-1")
        .json(&json!({"code": code, "nonce": "nonce-0000000000011"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-request-id"], "proxy-checkin-1");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/sessions/{sid}/checkins")))
        .bearer_auth(&li)
        .json(&json!({"code": code, "nonce": "x".repeat(20_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"], "too_large");
    assert!(e["request_id"].is_string());
    // A cookie-authenticated write without the CSRF header is refused.
    let browser = app.client();
    let r = browser
        .post(app.url("/login"))
        .form(&[
            ("csrf", login_csrf(&app, &browser).await.as_str()),
            ("who", "13900000005"),
            ("password", PARENT_PASS),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = browser
        .post(app.url(&format!("/api/v1/sessions/{sid}/checkins")))
        .json(&json!({"code": code, "nonce": "nonce-0000000000010"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Both check-in paths are in the OpenAPI document.
    let doc: Value = app
        .client()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/sessions/{id}/checkins"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/sessions/{id}/checkin-code"]["get"].is_object());
});

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

both_dbs!(
    staff_pages_projector_board_marking,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let sid = w.session;
        let staff = login(&app, "admin_a").await;
        // The projector: an inline SVG QR code and the six digits.
        let (st, html) = page(&staff, &app.url(&format!("/sessions/{sid}/projector"))).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("<svg"), "QR code rendered");
        assert!(html.contains("家庭教育讲座"));
        assert!(html.contains("/assets/projector.js"));
        let codes = secret_gen(&app.db, sid).await;
        let now = Utc::now().timestamp() as u64;
        assert!(html.contains(&codes.code_at(now)) || html.contains(&codes.code_at(now - 30)));
        let r = staff
            .get(app.url(&format!("/api/v1/sessions/{sid}/checkin-code?svg=true")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let c: Value = r.json().await.unwrap();
        assert!(c["qr_svg"].as_str().unwrap().starts_with("<svg"));
        let (st, js) = page(&staff, &app.url("/assets/projector.js")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(js.contains("checkin-code"));
        // A parent checks in and another is refused: the board shows both.
        let dad = parent_token(&app, "13800000001").await;
        let now = settled_now().await;
        let (st, _) =
            post_checkin(&app, &dad, sid, &codes.code_at(now), "nonce-0000000000001").await;
        assert_eq!(st, StatusCode::CREATED);
        let qian = parent_token(&app, "13900000005").await;
        post_checkin(&app, &qian, sid, &codes.code_at(now), "nonce-0000000000002").await;
        let mut html = String::new();
        for _ in 0..100 {
            html = page(&staff, &app.url(&format!("/sessions/{sid}/checkins")))
                .await
                .1;
            if html.contains("本次活动未邀请您参加") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(html.contains("王建国"));
        assert!(html.contains("李大山"));
        assert!(
            html.contains("本次活动未邀请您参加"),
            "refusal reason translated"
        );
        assert!(html.contains("hx-trigger=\"every 5s\""));
        // The htmx poll gets only the part.
        let r = staff
            .get(app.url(&format!("/sessions/{sid}/checkins")))
            .header("HX-Request", "true")
            .send()
            .await
            .unwrap();
        let part = r.text().await.unwrap();
        assert!(part.starts_with("<div id=\"board\""));
        assert!(!part.contains("<html"));
        // Marking the class: 李大山 excused.
        let (st, form) = page(
            &staff,
            &app.url(&format!("/sessions/{sid}/mark?class={}", w.class_32)),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        assert!(form.contains("data-all=\"present\""));
        let li_field = {
            let i = form.find("李大山").unwrap();
            let j = form[i..].find("name=\"g").unwrap() + i + 6;
            form[j..j + form[j..].find('"').unwrap()].to_owned()
        };
        let r = staff
            .post(app.url(&format!("/sessions/{sid}/mark")))
            .form(&[
                ("csrf", csrf_of(&form)),
                ("class", w.class_32.to_string()),
                (li_field.as_str(), "excused".into()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(location(&r).ends_with("&saved=1"));
        let (_, html) = page(&staff, &app.url(&format!("/sessions/{sid}/checkins"))).await;
        assert!(html.contains("请假"));
        // Without the CSRF token nothing is saved.
        let r = staff
            .post(app.url(&format!("/sessions/{sid}/mark")))
            .form(&[
                ("class", w.class_32.to_string()),
                (li_field.as_str(), "absent".into()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // The export.
        let r = staff
            .get(app.url(&format!("/sessions/{sid}/checkins.xlsx")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.bytes().await.unwrap().starts_with(b"PK"));
        // The other school sees none of it.
        let other = login(&app, "admin_b").await;
        for path in ["projector", "checkins", "checkins.xlsx", "mark"] {
            let (st, _) = page(&other, &app.url(&format!("/sessions/{sid}/{path}"))).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
        }
    }
);

both_dbs!(parent_phone_page_checks_in, |t: TestDb| async move {
    let app = TestApp::spawn(t).await;
    let w = world(&app.db).await;
    let sid = w.session;
    let codes = secret_gen(&app.db, sid).await;
    let code = codes.code_at(Utc::now().timestamp() as u64);
    let phone = app.client();
    // Not logged in: to the login page, and back to the link with its code afterwards.
    let r = phone
        .get(app.url(&format!("/p/checkin/{sid}?c={code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.starts_with("/login?next="));
    let (_, login_page) = page(&phone, &app.url(&to)).await;
    assert!(login_page.contains("name=\"next\""));
    let back = format!("/p/checkin/{sid}?c={code}");
    let r = phone
        .post(app.url("/login"))
        .form(&[
            ("csrf", login_csrf(&app, &phone).await.as_str()),
            ("who", "13800000001"),
            ("password", PARENT_PASS),
            ("next", back.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), back);
    // One tap.
    let (st, html) = page(&phone, &app.url(&back)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("点击签到"));
    assert!(html.contains("家庭教育讲座"));
    let nonce = {
        let i = html.find("name=\"nonce\" value=\"").unwrap() + 20;
        html[i..i + 32].to_owned()
    };
    let tap = [
        ("csrf", csrf_of(&html)),
        ("code", code.clone()),
        ("nonce", nonce),
        ("via", "qr".into()),
    ];
    let r = phone
        .post(app.url(&format!("/p/checkin/{sid}")))
        .form(&tap)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, done) = page(&phone, &app.url(&location(&r))).await;
    assert!(done.contains("签到成功"), "{done}");
    // Tapping again (or the browser resending): already checked in, same time.
    let r = phone
        .post(app.url(&format!("/p/checkin/{sid}")))
        .form(&tap)
        .send()
        .await
        .unwrap();
    assert!(location(&r).ends_with("ok=already"));
    let (_, again) = page(&phone, &app.url(&location(&r))).await;
    assert!(again.contains("已签到"));
    // Another parent types a wrong code and is told why.
    let grandpa = login(&app, "13900000003").await;
    let (_, html) = page(&grandpa, &app.url(&format!("/p/checkin/{sid}"))).await;
    assert!(!html.contains("点击签到"), "no code in the link: type it");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = grandpa
        .post(app.url(&format!("/p/checkin/{sid}")))
        .form(&[
            ("csrf", csrf_of(&html)),
            ("code", wrong.to_owned()),
            ("nonce", "typed-nonce-0000001".to_owned()),
            ("via", "code".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    let (_, refused) = page(&grandpa, &app.url(&location(&r))).await;
    assert!(
        refused.contains("签到码不正确") || refused.contains("签到码已过期"),
        "reason shown"
    );
    // A parent of the other school: no such page.
    let other = login(&app, "13700000007").await;
    let (st, _) = page(&other, &app.url(&back)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
});
