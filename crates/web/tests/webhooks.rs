//! Webhooks (issue 14) against a local receiver, on both databases: registering through
//! the API (URL and event rules, the caller's subtree), the ping, check-ins pumped into
//! signed deliveries for the webhooks above their school, a failing receiver tried again
//! after the backoff and given up after the last attempt, the delivery log, and a pump
//! that writes each event once however many processes run it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use jiaxiao_domain::Role;
use jiaxiao_domain::webhook::{MAX_ATTEMPTS, signature};
use jiaxiao_store::Db;
use jiaxiao_testkit::fixtures::{api_token, import_roster, staff_account, two_counties};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use jiaxiao_web::webhooks::{client, deliver_once};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// What the receiver was sent: headers and body, in order.
type Got = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A local receiver at `<url>`: answers 500 to the next `fail` requests, 200 after.
async fn receiver() -> (String, Got, Arc<AtomicUsize>) {
    let got: Got = Arc::default();
    let fail = Arc::new(AtomicUsize::new(0));
    let (g, f) = (got.clone(), fail.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (g, f) = (g.clone(), f.clone());
            async move {
                g.lock().unwrap().push((headers, body));
                let failing = f
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if failing {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), got, fail)
}

async fn send(rb: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = rb.send().await.unwrap();
    let st = r.status();
    (st, r.json::<Value>().await.unwrap_or(Value::Null))
}

async fn exec(db: &Db, sql: &str, values: Vec<sea_orm::Value>) {
    db.conn
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            db.db_backend(),
            sql,
            values,
        ))
        .await
        .unwrap();
}

async fn count(db: &Db, sql: &str) -> i64 {
    jiaxiao_store::db::scalar_i64(&db.conn, sql, vec![])
        .await
        .unwrap()
}

/// A session at `school` now and a check-in of each of its parents (not yet checked in).
async fn checkins_at(db: &Db, school: i64, title: &str) {
    let id = jiaxiao_store::parent_school::sessions::create_session(
        db,
        &jiaxiao_store::Scope::system(),
        jiaxiao_store::parent_school::sessions::NewSession {
            school_id: school,
            title: title.into(),
            form: Some(jiaxiao_domain::parent_school::Form::Lecture),
            starts_at: chrono::Utc::now(),
            duration_minutes: 60,
            instructor_name: "专家".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    exec(
        db,
        "INSERT INTO checkin (session_id, guardian_id, status, method, checked_at, created_at) \
         SELECT t.id, gs.guardian_id, 'present', 'qr', t.starts_at, t.starts_at \
         FROM teaching_session t JOIN pupil p ON p.school_id = t.school_id \
         JOIN guardianship gs ON gs.pupil_id = p.id WHERE t.id = $1",
        vec![id.into()],
    )
    .await;
}

/// The receiver's requests as (delivery id, event, data), checking each signature.
fn received(got: &Got, secret: &str) -> Vec<(i64, String, Value)> {
    got.lock()
        .unwrap()
        .iter()
        .map(|(h, body)| {
            let sig = h["x-jiaxiao-signature"].to_str().unwrap();
            let t: i64 = sig
                .strip_prefix("t=")
                .and_then(|s| s.split(',').next())
                .unwrap()
                .parse()
                .unwrap();
            assert!((chrono::Utc::now().timestamp() - t).abs() < 300, "{sig}");
            assert_eq!(
                sig,
                signature(secret, t, body.as_bytes()),
                "signature of {body}"
            );
            let v: Value = serde_json::from_str(body).unwrap();
            assert_eq!(h["x-jiaxiao-event"].to_str().unwrap(), v["event"]);
            (
                v["delivery_id"].as_i64().unwrap(),
                v["event"].as_str().unwrap().to_owned(),
                v["data"].clone(),
            )
        })
        .collect()
}

both_dbs!(webhooks_deliver_signed_and_retry, |t: TestDb| async move {
    let db = t.db.clone();
    let w = two_counties(&db).await;
    staff_account(&db, "cty_a", Role::CountyAdmin, w.county_a).await;
    staff_account(&db, "adm_a", Role::SchoolAdmin, w.school_a).await;
    staff_account(&db, "adm_b", Role::SchoolAdmin, w.school_b).await;
    import_roster(
        &db,
        w.school_a,
        "学号,姓名,年级,班级,家长姓名,联系电话\nA1,王小明,3,1,王建国,13800000001\nA2,李小红,3,1,李大山,13800000002\n",
    )
    .await;
    import_roster(
        &db,
        w.school_b,
        "学号,姓名,年级,班级,家长姓名,联系电话\nB1,赵五,3,1,赵妈妈,13900000003\n",
    )
    .await;
    let app = TestApp::spawn_with(t, |s| s.webhook_private_ok = true).await;
    let c = app.client();
    let county = api_token(&app, "cty_a").await;
    let school_b = api_token(&app, "adm_b").await;
    let url = app.url("/api/v1/webhooks");
    let (hook, got, fail) = receiver().await;
    let http = client();
    let deliver = || deliver_once(&db, &http, true, chrono::Duration::zero());

    // What may be registered, and where.
    for (body, code) in [
        (
            json!({"unit_id": w.county_a, "url": "ftp://example.com/x", "events": ["ping"]}),
            "webhook_url",
        ),
        (
            json!({"unit_id": w.county_a, "url": hook, "events": ["session.sold"]}),
            "webhook_events",
        ),
        (
            json!({"unit_id": w.county_a, "url": hook, "events": []}),
            "webhook_events",
        ),
    ] {
        let (st, e) = send(c.post(&url).bearer_auth(&county).json(&body)).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{body}"
        );
    }
    let (st, _) = send(
        c.post(&url)
            .bearer_auth(&school_b)
            .json(&json!({"unit_id": w.county_a, "url": hook, "events": ["checkin.recorded"]})),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "a school admin cannot listen to its county"
    );
    let (st, made) = send(
        c.post(&url)
            .bearer_auth(&county)
            .json(&json!({"unit_id": w.county_a, "url": hook, "events": ["checkin.recorded"]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{made}");
    let id = made["id"].as_i64().unwrap();
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert_eq!(made["events"], json!(["checkin.recorded"]));
    let (_, listed) = send(c.get(&url).bearer_auth(&county)).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(
        listed[0].get("secret").is_none(),
        "the secret is shown once"
    );
    let (_, listed) = send(c.get(&url).bearer_auth(&school_b)).await;
    assert_eq!(listed, json!([]));

    // The ping goes out at once, signed.
    assert_eq!(deliver().await.unwrap(), 1);
    let seen = received(&got, &secret);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].1, "ping");

    // Check-ins at the county's school are sent, the other county's are not; the
    // receiver fails the first one, which waits for its backoff.
    checkins_at(&db, w.school_a, "亲子沟通").await;
    checkins_at(&db, w.school_b, "家庭教育").await;
    fail.store(1, Ordering::SeqCst);
    assert_eq!(deliver().await.unwrap(), 2);
    assert_eq!(
        deliver().await.unwrap(),
        0,
        "the failed one waits for its backoff"
    );
    let deliveries = app.url(&format!("/api/v1/webhooks/{id}/deliveries"));
    let (st, log) = send(c.get(&deliveries).bearer_auth(&county)).await;
    assert_eq!(st, StatusCode::OK);
    let log = log.as_array().unwrap().clone();
    assert_eq!(log.len(), 3, "{log:?}");
    let pending: Vec<&Value> = log.iter().filter(|d| d["status"] == "pending").collect();
    assert_eq!(pending.len(), 1, "{log:?}");
    assert_eq!(pending[0]["response_status"], 500);
    assert_eq!(pending[0]["attempts"], 1);
    assert!(pending[0]["next_attempt_at"].is_string());
    exec(
        &db,
        "UPDATE webhook_delivery SET next_attempt_at = $1 WHERE status = 'pending'",
        vec![(chrono::Utc::now() - chrono::Duration::seconds(1)).into()],
    )
    .await;
    assert_eq!(deliver().await.unwrap(), 1);
    let seen = received(&got, &secret);
    assert_eq!(seen.len(), 4, "ping, two check-ins, one of them twice");
    let mut checkins: Vec<&Value> = seen
        .iter()
        .filter(|s| s.1 == "checkin.recorded")
        .map(|s| &s.2)
        .collect();
    checkins.dedup_by_key(|v| v["checkin_id"].as_i64());
    let mut names: Vec<&str> = checkins
        .iter()
        .map(|v| v["guardian_name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names, ["李大山", "王建国"]);
    assert!(
        checkins
            .iter()
            .all(|v| v["school_id"] == w.school_a && v["status"] == "present")
    );
    let (_, log) = send(c.get(&deliveries).bearer_auth(&county)).await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "delivered"),
        "{log}"
    );
    let (st, _) = send(c.get(&deliveries).bearer_auth(&school_b)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Pumped once only: again, or by two processes at once, writes nothing twice.
    checkins_at(&db, w.school_a, "习惯养成").await;
    let (a, b) = tokio::join!(
        jiaxiao_store::webhooks::pump_checkins(&db, chrono::Duration::zero(), 100),
        jiaxiao_store::webhooks::pump_checkins(&db, chrono::Duration::zero(), 100),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a + b, 2, "two check-ins read once between them: {a} + {b}");
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM webhook_delivery").await,
        5
    );

    // The last attempt that fails gives the delivery up.
    exec(
        &db,
        "UPDATE webhook_delivery SET attempts = $1 WHERE status = 'pending'",
        vec![(MAX_ATTEMPTS - 1).into()],
    )
    .await;
    fail.store(2, Ordering::SeqCst);
    assert_eq!(deliver().await.unwrap(), 2);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM webhook_delivery WHERE status = 'failed'"
        )
        .await,
        2
    );

    // Removing the webhook removes its log.
    let (st, _) = send(
        c.delete(app.url(&format!("/api/v1/webhooks/{id}")))
            .bearer_auth(&school_b),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let r = c
        .delete(app.url(&format!("/api/v1/webhooks/{id}")))
        .bearer_auth(&county)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM webhook_delivery").await,
        0
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM webhook_cursor").await,
        0,
        "no webhook left, no cursor"
    );
    let (_, listed) = send(c.get(&url).bearer_auth(&county)).await;
    assert_eq!(listed, json!([]));
});
