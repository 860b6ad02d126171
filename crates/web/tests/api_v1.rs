//! API v1 conventions and the parent school's sessions over the API (issue 14), on both
//! databases: cursor pages with `Link` and `X-Total-Count`, `If-Match` against the
//! session's version, `Idempotency-Key` on creates, and tokens whose scopes and unit
//! narrow what their user may do — made by API and on the tokens page.

use jiaxiao_domain::Role;
use jiaxiao_testkit::fixtures::{api_token, get, login, post, staff_account, two_counties};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn plan(school: i64, title: &str, day: u32) -> Value {
    json!({
        "school_id": school,
        "title": title,
        "form": "lecture",
        "starts_at": format!("2027-03-{day:02}T19:00:00+08:00"),
        "duration_minutes": 90,
        "place": "报告厅",
        "instructor_name": "王老师",
        "audience": "school"
    })
}

/// (status, headers, JSON body) of a request.
async fn send(rb: reqwest::RequestBuilder) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let r = rb.send().await.unwrap();
    let (st, h) = (r.status(), r.headers().clone());
    let body = r.json::<Value>().await.unwrap_or(Value::Null);
    (st, h, body)
}

both_dbs!(
    sessions_paged_versioned_and_idempotent,
    |t: TestDb| async move {
        let db = t.db.clone();
        let w = two_counties(&db).await;
        staff_account(&db, "adm_a", Role::SchoolAdmin, w.school_a).await;
        staff_account(&db, "adm_b", Role::SchoolAdmin, w.school_b).await;
        let app = TestApp::spawn(t).await;
        let c = app.client();
        let a = api_token(&app, "adm_a").await;
        let b = api_token(&app, "adm_b").await;
        let url = app.url("/api/v1/sessions");

        // A create with a key: the retry with the same key and body gets the same session.
        let (st, _, first) = send(
            c.post(&url)
                .bearer_auth(&a)
                .header("Idempotency-Key", "plan-1")
                .json(&plan(w.school_a, "亲子沟通", 3)),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{first}");
        let id = first["id"].as_i64().unwrap();
        assert_eq!(first["version"], 1);
        assert_eq!(first["starts_at"], "2027-03-03T19:00:00+08:00");
        assert_eq!(first["school_year"], "2026-2027");
        let (st, h, again) = send(
            c.post(&url)
                .bearer_auth(&a)
                .header("Idempotency-Key", "plan-1")
                .json(&plan(w.school_a, "亲子沟通", 3)),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED);
        assert_eq!(again["id"], first["id"]);
        assert_eq!(h["idempotent-replayed"], "true");
        // The same key with another body is refused, and makes nothing.
        let (st, _, e) = send(
            c.post(&url)
                .bearer_auth(&a)
                .header("Idempotency-Key", "plan-1")
                .json(&plan(w.school_a, "另一个题目", 3)),
        )
        .await;
        assert_eq!(
            (st, e["error"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("idempotency_key_reused")
            )
        );
        // A refusal is kept as the key's answer too; another account's key is its own.
        let (st, _, e) = send(
        c.post(&url)
            .bearer_auth(&a)
            .header("Idempotency-Key", "bad-form")
            .json(&json!({"school_id": w.school_a, "title": "x", "form": "party",
                "starts_at": "2027-03-01T19:00:00+08:00", "duration_minutes": 60, "audience": "school"})),
    )
    .await;
        assert_eq!(
            (st, e["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_form"))
        );
        let (st, _, _) = send(
            c.post(&url)
                .bearer_auth(&b)
                .header("Idempotency-Key", "plan-1")
                .json(&plan(w.school_a, "亲子沟通", 3)),
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "school A is outside B's reach");
        for day in [1, 2, 4] {
            let (st, _, _) = send(
                c.post(&url)
                    .bearer_auth(&a)
                    .json(&plan(w.school_a, "讲座", day)),
            )
            .await;
            assert_eq!(st, StatusCode::CREATED);
        }
        send(
            c.post(&url)
                .bearer_auth(&b)
                .json(&plan(w.school_b, "乙校讲座", 5)),
        )
        .await;

        // Pages of two, by start time: Link names the next page with the filters kept.
        let mut seen = Vec::new();
        let mut next = Some(format!("{url}?school_id={}&limit=2", w.school_a));
        let mut pages = 0;
        while let Some(u) = next.take() {
            let (st, h, rows) = send(c.get(&u).bearer_auth(&a)).await;
            assert_eq!(st, StatusCode::OK, "{u}: {rows}");
            assert_eq!(h["x-total-count"], "4");
            for r in rows.as_array().unwrap() {
                seen.push(r["starts_at"].as_str().unwrap().to_owned());
            }
            pages += 1;
            next = h.get("link").map(|l| {
                let l = l.to_str().unwrap();
                assert!(l.ends_with("rel=\"next\""), "{l}");
                assert!(l.contains("school_id=") && l.contains("limit=2"), "{l}");
                app.url(&l[1..l.find('>').unwrap()])
            });
        }
        assert_eq!(pages, 3, "two full pages, then an empty one");
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted);
        assert_eq!(seen.len(), 4);
        // B sees only its own school's session, whatever it asks for.
        let (_, h, rows) = send(c.get(&url).bearer_auth(&b)).await;
        assert_eq!(rows.as_array().unwrap().len(), 1);
        assert_eq!(h["x-total-count"], "1");
        let (st, _, e) = send(c.get(format!("{url}?limit=0")).bearer_auth(&a)).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_limit"))
        );
        let (st, _, e) = send(c.get(format!("{url}?after=zzz")).bearer_auth(&a)).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_cursor"))
        );

        // ETag and If-Match: an edit made against an old version is refused with 412.
        let one = app.url(&format!("/api/v1/sessions/{id}"));
        let (st, h, s) = send(c.get(&one).bearer_auth(&a)).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(h["etag"], "\"v1\"");
        assert_eq!(s["title"], "亲子沟通");
        let (st, h, s) = send(
            c.put(&one)
                .bearer_auth(&a)
                .header("If-Match", "\"v1\"")
                .json(&plan(w.school_a, "亲子沟通（改）", 3)),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{s}");
        assert_eq!(
            (s["version"].as_i64(), h["etag"].to_str().unwrap()),
            (Some(2), "\"v2\"")
        );
        let (st, _, e) = send(
            c.put(&one)
                .bearer_auth(&a)
                .header("If-Match", "\"v1\"")
                .json(&plan(w.school_a, "覆盖别人的修改", 3)),
        )
        .await;
        assert_eq!(
            (st, e["error"].as_str()),
            (StatusCode::PRECONDITION_FAILED, Some("version_mismatch"))
        );
        let (_, _, s) = send(c.get(&one).bearer_auth(&a)).await;
        assert_eq!(
            s["title"], "亲子沟通（改）",
            "the stale edit changed nothing"
        );

        // Held needs the lesson plan, as on the page; each write moves the version on.
        let status = app.url(&format!("/api/v1/sessions/{id}/status"));
        let (st, _, e) = send(
            c.post(&status)
                .bearer_auth(&a)
                .json(&json!({"status": "held"})),
        )
        .await;
        assert_eq!(
            (st, e["error"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("lesson_plan_missing")
            )
        );
        let (st, _, s) = send(
            c.put(app.url(&format!("/api/v1/sessions/{id}/lesson-plan")))
                .bearer_auth(&a)
                .header("If-Match", "\"v2\"")
                .json(&json!({"text": "一、导入 二、讲授 三、交流"})),
        )
        .await;
        assert_eq!((st, s["version"].as_i64()), (StatusCode::OK, Some(3)));
        let (st, _, s) = send(
            c.post(&status)
                .bearer_auth(&a)
                .json(&json!({"status": "held"})),
        )
        .await;
        assert_eq!((st, s["status"].as_str()), (StatusCode::OK, Some("held")));
        let (st, _, s) = send(
        c.put(app.url(&format!("/api/v1/sessions/{id}/window")))
            .bearer_auth(&a)
            .json(&json!({"opens_before_minutes": 15, "closes_after_minutes": 60, "late_after_minutes": 5})),
    )
    .await;
        assert_eq!(
            (st, s["window"]["opens_before_minutes"].as_i64()),
            (StatusCode::OK, Some(15))
        );
        // The documented range is a day either way (schemathesis found 1,066,344,281 taken).
        let (st, _, e) = send(
            c.put(app.url(&format!("/api/v1/sessions/{id}/window")))
                .bearer_auth(&a)
                .json(&json!({"opens_before_minutes": 1441, "closes_after_minutes": 60, "late_after_minutes": 5})),
        )
        .await;
        assert_eq!(
            (st, e["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_window"))
        );
        let (st, _, rows) = send(
            c.get(app.url(&format!("/api/v1/sessions/{id}/roster")))
                .bearer_auth(&a),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            rows.as_array().unwrap().is_empty(),
            "no pupils on file: {rows}"
        );
        // Another school's staff: 404 for reads and writes alike.
        let (st, _, _) = send(c.get(&one).bearer_auth(&b)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _, _) = send(
            c.post(&status)
                .bearer_auth(&b)
                .json(&json!({"status": "cancelled"})),
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
);

both_dbs!(
    tokens_narrow_what_their_user_may_do,
    |t: TestDb| async move {
        let db = t.db.clone();
        let w = two_counties(&db).await;
        staff_account(&db, "city", Role::CityAdmin, w.city).await;
        let app = TestApp::spawn(t).await;
        let c = app.client();
        let full = api_token(&app, "city").await;
        let sessions = app.url("/api/v1/sessions");
        for (school, title) in [(w.school_a, "甲校讲座"), (w.school_b, "乙校讲座")] {
            let (st, _, _) = send(
                c.post(&sessions)
                    .bearer_auth(&full)
                    .json(&plan(school, title, 9)),
            )
            .await;
            assert_eq!(st, StatusCode::CREATED);
        }

        // A read-only token limited to county A: reads A's school only, writes nothing.
        let (st, _, made) = send(c.post(app.url("/api/v1/tokens")).bearer_auth(&full).json(
            &json!({"name": "甲区报表", "scopes": ["read"], "unit_id": w.county_a, "days": 30}),
        ))
        .await;
        assert_eq!(st, StatusCode::CREATED, "{made}");
        assert_eq!(made["scopes"], json!(["read"]));
        assert_eq!(made["unit_name"], "甲区");
        let ro = made["token"].as_str().unwrap().to_owned();
        let (st, _, rows) = send(c.get(&sessions).bearer_auth(&ro)).await;
        assert_eq!(st, StatusCode::OK);
        let titles: Vec<&str> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["甲校讲座"]);
        let (st, _, e) = send(
            c.post(&sessions)
                .bearer_auth(&ro)
                .json(&plan(w.school_a, "x", 10)),
        )
        .await;
        assert_eq!(
            (st, e["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("insufficient_scope"))
        );
        let (st, _, _) = send(c.get(app.url("/api/v1/tokens")).bearer_auth(&ro)).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "listing tokens needs admin");
        let (st, _, me) = send(c.get(app.url("/api/v1/me")).bearer_auth(&ro)).await;
        assert_eq!(st, StatusCode::OK, "any token may ask who it is: {me}");

        // A token may hand on only what it has; a unit outside the reach is refused.
        let (_, _, adm) = send(
            c.post(app.url("/api/v1/tokens"))
                .bearer_auth(&full)
                .json(&json!({"name": "admin only", "scopes": ["admin", "read"]})),
        )
        .await;
        let adm = adm["token"].as_str().unwrap().to_owned();
        let (st, _, e) = send(
            c.post(app.url("/api/v1/tokens"))
                .bearer_auth(&adm)
                .json(&json!({"name": "wider", "scopes": ["parent_school"]})),
        )
        .await;
        assert_eq!(
            (st, e["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("token_scopes"))
        );
        let (st, _, e) = send(
            c.post(app.url("/api/v1/tokens"))
                .bearer_auth(&full)
                .json(&json!({"name": "elsewhere", "scopes": ["read"], "unit_id": 999_999})),
        )
        .await;
        assert_eq!(
            (st, e["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("token_unit"))
        );

        // Listed and revoked by API: the revoked token stops at once.
        let (st, _, list) = send(c.get(app.url("/api/v1/tokens")).bearer_auth(&adm)).await;
        assert_eq!(st, StatusCode::OK);
        let ro_id = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "甲区报表")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let r = c
            .delete(app.url(&format!("/api/v1/tokens/{ro_id}")))
            .bearer_auth(&adm)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let (st, _, _) = send(c.get(&sessions).bearer_auth(&ro)).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
);

both_dbs!(tokens_are_made_on_the_page, |t: TestDb| async move {
    let db = t.db.clone();
    let w = two_counties(&db).await;
    staff_account(&db, "adm", Role::SchoolAdmin, w.school_a).await;
    let app = TestApp::spawn(t).await;
    let c = login(&app, "adm").await;
    let (st, page) = get(&c, &app.url("/account/tokens")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        page.contains("生成接口令牌") && page.contains("name=\"scopes\""),
        "{page}"
    );
    let csrf = jiaxiao_testkit::fixtures::csrf_of(&page);
    // No scope chosen: the form comes back with the name kept and the message beside.
    let (st, body) = post(
        &c,
        &app.url("/account/tokens"),
        &[
            ("csrf", csrf.clone()),
            ("name", "校门签到平板".into()),
            ("days", "30".into()),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("value=\"校门签到平板\"") && body.contains("id=\"err-scopes\""),
        "{body}"
    );
    let (st, body) = post(
        &c,
        &app.url("/account/tokens"),
        &[
            ("csrf", csrf.clone()),
            ("name", "校门签到平板".into()),
            ("scopes", "checkin".into()),
            ("unit_id", w.school_a.to_string()),
            ("days", "30".into()),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let start = body
        .find("data-testid=\"new-token\">")
        .expect("token shown")
        + "data-testid=\"new-token\">".len();
    let tok = &body[start..start + body[start..].find('<').unwrap()];
    assert!(tok.starts_with("jx_"), "{tok}");
    assert!(
        body.contains("签到") && body.contains("甲小学"),
        "listed with its scope and unit"
    );
    // The check-in token may not read the lists.
    let r = app
        .client()
        .get(app.url("/api/v1/pupils"))
        .bearer_auth(tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
});

const ROSTER: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
A1,王小明,男,三年级,2班,王建国,父亲,13800000001\n\
A3,李四,男,三年级,2班,李大山,爷爷,13900000003\n";

both_dbs!(
    organisation_and_marks_written_by_api,
    |t: TestDb| async move {
        let db = t.db.clone();
        let w = two_counties(&db).await;
        jiaxiao_testkit::fixtures::import_roster(&db, w.school_a, ROSTER).await;
        staff_account(&db, "cty_a", Role::CountyAdmin, w.county_a).await;
        staff_account(&db, "cty_b", Role::CountyAdmin, w.county_b).await;
        staff_account(&db, "sch_a", Role::SchoolAdmin, w.school_a).await;
        let app = TestApp::spawn(t).await;
        let c = app.client();
        let a = api_token(&app, "cty_a").await;
        let b = api_token(&app, "cty_b").await;
        let children = app.url(&format!("/api/v1/units/{}/children", w.county_a));

        // A school under the county, once per key; then its grade and class by number.
        let new_school = json!({"name": "实验小学", "school_type": "primary", "code": "3301"});
        let (st, _, school) = send(
            c.post(&children)
                .bearer_auth(&a)
                .header("Idempotency-Key", "s-1")
                .json(&new_school),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{school}");
        assert_eq!(
            (school["kind"].as_str(), school["parent_id"].as_i64()),
            (Some("school"), Some(w.county_a))
        );
        let (_, _, again) = send(
            c.post(&children)
                .bearer_auth(&a)
                .header("Idempotency-Key", "s-1")
                .json(&new_school),
        )
        .await;
        assert_eq!(again["id"], school["id"]);
        let sid = school["id"].as_i64().unwrap();
        let (st, _, e) = send(
            c.post(&children)
                .bearer_auth(&a)
                .json(&json!({"name": "无类型学校"})),
        )
        .await;
        assert_eq!(
            (st, e["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_school_type"))
        );
        let (st, _, grade) = send(
            c.post(app.url(&format!("/api/v1/units/{sid}/children")))
                .bearer_auth(&a)
                .json(&json!({"number": 3})),
        )
        .await;
        assert_eq!(
            (st, grade["name"].as_str()),
            (StatusCode::CREATED, Some("三年级"))
        );
        // Outside the caller's reach: 404 however well-formed the body.
        let (st, _, _) = send(c.post(&children).bearer_auth(&b).json(&new_school)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // Renamed; a grade keeps the name its number gives.
        let (st, _, r) = send(
            c.patch(app.url(&format!("/api/v1/units/{sid}")))
                .bearer_auth(&a)
                .json(&json!({"name": "甲区实验小学"})),
        )
        .await;
        assert_eq!(
            (st, r["name"].as_str()),
            (StatusCode::OK, Some("甲区实验小学"))
        );
        let gid = grade["id"].as_i64().unwrap();
        let (st, _, e) = send(
            c.patch(app.url(&format!("/api/v1/units/{gid}")))
                .bearer_auth(&a)
                .json(&json!({"name": "火箭班"})),
        )
        .await;
        assert_eq!(
            (st, e["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("named_by_number"))
        );

        // Staff: the number checked as on the page.
        let staff = app.url("/api/v1/staff");
        let (st, _, p) = send(c.post(&staff).bearer_auth(&a).json(&json!({"unit_id": sid, "name": "李老师", "phone": "13800000009", "position": "德育主任"}))).await;
        assert_eq!(st, StatusCode::CREATED, "{p}");
        assert_eq!(
            (p["name"].as_str(), p["unit_id"].as_i64()),
            (Some("李老师"), Some(sid))
        );
        let (st, _, e) = send(
            c.post(&staff)
                .bearer_auth(&a)
                .json(&json!({"unit_id": sid, "name": "张老师", "phone": "12345"})),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"].as_str().unwrap().starts_with("phone_"), "{e}");

        // A move dated later: the city admin manages both counties; county B's admin neither.
        let moves = app.url(&format!("/api/v1/units/{sid}/moves"));
        let mv = json!({"parent_id": w.county_b, "effective": "2027-09-01"});
        let (st, _, _) = send(c.post(&moves).bearer_auth(&b).json(&mv)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        staff_account(&db, "city", Role::CityAdmin, w.city).await;
        let city = api_token(&app, "city").await;
        let (st, _, m) = send(c.post(&moves).bearer_auth(&city).json(&mv)).await;
        assert_eq!(st, StatusCode::CREATED, "{m}");
        let (_, _, u) = send(
            c.get(app.url(&format!("/api/v1/units/{sid}")))
                .bearer_auth(&city),
        )
        .await;
        assert_eq!(
            u["parent_id"].as_i64(),
            Some(w.county_a),
            "pending until its date"
        );

        // Invitation codes for the school's parents without a password.
        let (st, _, inv) = send(
            c.post(app.url("/api/v1/invitations"))
                .bearer_auth(&a)
                .json(&json!({"under": w.school_a})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED);
        assert_eq!(inv.as_array().unwrap().len(), 2);
        assert!(inv[0]["code"].as_str().unwrap().len() >= 6);

        // Staff marks over the API, with the check-in scope only.
        let sch = api_token(&app, "sch_a").await;
        let today = (chrono::Utc::now() + chrono::Duration::hours(8))
            .format("%Y-%m-%dT%H:%M")
            .to_string();
        let mut p = plan(w.school_a, "家长会", 1);
        p["starts_at"] = json!(today);
        let (st, _, s) = send(
            c.post(app.url("/api/v1/sessions"))
                .bearer_auth(&sch)
                .json(&p),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{s}");
        let session = s["id"].as_i64().unwrap();
        let (_, _, made) = send(
            c.post(app.url("/api/v1/tokens"))
                .bearer_auth(&sch)
                .json(&json!({"name": "签到平板", "scopes": ["checkin", "read"]})),
        )
        .await;
        let gate = made["token"].as_str().unwrap().to_owned();
        let (_, _, roster) = send(
            c.get(app.url(&format!("/api/v1/sessions/{session}/roster")))
                .bearer_auth(&gate),
        )
        .await;
        let lines = roster.as_array().unwrap();
        assert_eq!(lines.len(), 2, "{roster}");
        let wang = lines
            .iter()
            .find(|l| l["guardian_name"] == "王建国")
            .unwrap()["guardian_id"]
            .as_i64()
            .unwrap();
        let marks = app.url(&format!("/api/v1/sessions/{session}/marks"));
        let (st, _, done) = send(
            c.post(&marks)
                .bearer_auth(&gate)
                .json(&json!({"marks": [{"guardian_id": wang, "status": "excused"}]})),
        )
        .await;
        assert_eq!((st, done["written"].as_u64()), (StatusCode::OK, Some(1)));
        let (_, _, roster) = send(
            c.get(app.url(&format!("/api/v1/sessions/{session}/roster")))
                .bearer_auth(&gate),
        )
        .await;
        let line = roster
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["guardian_id"] == wang)
            .unwrap()
            .clone();
        assert_eq!(
            (line["status"].as_str(), line["method"].as_str()),
            (Some("excused"), Some("staff"))
        );
        // A parent not on the roster: nothing written.
        let (st, _, _) = send(c.post(&marks).bearer_auth(&gate).json(&json!({"marks": [{"guardian_id": wang, "status": "present"}, {"guardian_id": 999_999, "status": "present"}]}))).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // The gate's token plans nothing.
        let (st, _, _) = send(
            c.post(app.url("/api/v1/sessions"))
                .bearer_auth(&gate)
                .json(&p),
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    }
);
