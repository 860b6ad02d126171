//! Editing a saved session (issue 10 item 13): the edit form is the new-session form
//! filled with the session's values; saving changes the fields in one audited write
//! (before and after of each changed field, the audience in names); an audience change
//! keeps every check-in, says so before and after, and the check-in cache follows it at
//! once; only those who may plan sessions at the school may edit (404 otherwise); a
//! mistake comes back beside its field with the input kept. And the sessions list says
//! whom each session invites (item 15). Each on SQLite and PostgreSQL.

use chrono::{Duration, Utc};
use jiaxiao_domain::checkin_code::CodeGen;
use jiaxiao_domain::parent_school::{AttendanceStatus, Audience, SessionStatus};
use jiaxiao_domain::{Role, UnitKind};
use jiaxiao_store::checkin::{self, Mark};
use jiaxiao_store::entities::{audit_log, checkin as checkin_row, guardian};
use jiaxiao_store::org;
use jiaxiao_store::parent_school::sessions::{self, NewSession};
use jiaxiao_store::{Db, Scope};
use jiaxiao_testkit::fixtures::{
    PASSWORD, csrf_of, get, import_roster, login, parent_scope, post, staff_account, two_counties,
};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

const ROSTER_A: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
A1,王小明,男,三年级,2班,王建国,父亲,13800000001\n\
A2,李小红,女,三年级,2班,李红梅,母亲,13800000002\n\
A3,张小华,男,三年级,3班,张三丰,父亲,13800000003\n";
const ROSTER_B: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
B1,赵小乙,女,三年级,1班,赵乙方,母亲,13900000009\n";

struct World {
    school: i64,
    class_2: i64,
    class_3: i64,
}

/// 甲小学 (三年级 2班 and 3班) in 甲区 with its admin `school_a`, 甲区's inspector
/// `inspector_a`, and 乙小学 in 乙区 with its admin `school_b`.
async fn world(db: &Db) -> World {
    let c = two_counties(db).await;
    import_roster(db, c.school_a, ROSTER_A).await;
    import_roster(db, c.school_b, ROSTER_B).await;
    staff_account(db, "school_a", Role::SchoolAdmin, c.school_a).await;
    staff_account(db, "school_b", Role::SchoolAdmin, c.school_b).await;
    staff_account(db, "inspector_a", Role::Inspector, c.county_a).await;
    let classes = org::units_under(
        db,
        &Scope::system(),
        c.school_a,
        UnitKind::Class,
        &jiaxiao_store::today(),
    )
    .await
    .unwrap();
    let class = |n: i32| {
        classes
            .iter()
            .find(|u| u.class_number == Some(n))
            .expect("class")
            .id
    };
    World {
        school: c.school_a,
        class_2: class(2),
        class_3: class(3),
    }
}

/// A lecture of 甲小学 a week from now at 19:00 Beijing time, in the 报告厅.
async fn session(
    db: &Db,
    w: &World,
    audience: Audience,
    units: Vec<i64>,
    parents: Vec<i64>,
) -> i64 {
    let day = (Utc::now() + Duration::hours(8) + Duration::days(7)).date_naive();
    let starts_at = day.and_hms_opt(11, 0, 0).unwrap().and_utc();
    sessions::create_session(
        db,
        &Scope::system(),
        NewSession {
            school_id: w.school,
            title: "学员培训".into(),
            starts_at,
            duration_minutes: 60,
            place: Some("报告厅".into()),
            instructor_name: "张老师".into(),
            audience: Some(audience),
            audience_units: units,
            invitees: parents,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn guardian_id(db: &Db, phone: &str) -> i64 {
    guardian::Entity::find()
        .filter(guardian::Column::Phone.eq(phone))
        .one(&db.conn)
        .await
        .unwrap()
        .expect("guardian")
        .id
}

/// The fields of the edit form as the page fills them, so a test changes only what it
/// means to.
fn form_values(html: &str) -> Vec<(&'static str, String)> {
    let value = |name: &str| -> String {
        let key = format!("name=\"{name}\"");
        let Some(at) = html.find(&key) else {
            return String::new();
        };
        let tag_end = at + html[at..].find('>').unwrap();
        let tag = &html[html[..at].rfind('<').unwrap()..tag_end];
        match tag.find("value=\"") {
            Some(v) => {
                let rest = &tag[v + 7..];
                rest[..rest.find('"').unwrap()].to_owned()
            }
            None => String::new(),
        }
    };
    let mut out: Vec<(&'static str, String)> = [
        "title",
        "date",
        "time",
        "duration_minutes",
        "place",
        "online_url",
        "instructor_name",
        "instructor_title",
        "instructor_org",
        "capacity",
    ]
    .into_iter()
    .map(|n| (n, value(n)))
    .collect();
    out.push(("form", "lecture".into()));
    out
}

async fn edit_page(app: &TestApp, c: &reqwest::Client, id: i64) -> String {
    let (st, html) = get(c, &app.url(&format!("/sessions/{id}/edit"))).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    html
}

fn with(
    mut v: Vec<(&'static str, String)>,
    changes: &[(&'static str, &str)],
) -> Vec<(&'static str, String)> {
    for (k, val) in changes {
        v.retain(|(n, _)| n != k);
        v.push((k, (*val).to_owned()));
    }
    v
}

/// The last audit row of the session: (action, before, after).
async fn last_audit(db: &Db, id: i64) -> (String, Value, Value) {
    let r = audit_log::Entity::find()
        .filter(audit_log::Column::Entity.eq("teaching_session"))
        .filter(audit_log::Column::EntityId.eq(id.to_string()))
        .order_by_desc(audit_log::Column::Id)
        .one(&db.conn)
        .await
        .unwrap()
        .expect("an audit row");
    let parse = |s: Option<String>| {
        s.and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Value::Null)
    };
    (r.action, parse(r.before_json), parse(r.after_json))
}

both_dbs!(
    an_edit_saves_the_fields_and_audits_them,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let id = session(&app.db, &w, Audience::School, vec![], vec![]).await;
        let c = login(&app, "school_a").await;
        // The session page links to the edit form, which holds the session's values.
        let (_, page) = get(&c, &app.url(&format!("/sessions/{id}"))).await;
        assert!(
            page.contains(&format!("href=\"/sessions/{id}/edit\"")),
            "{page}"
        );
        let html = edit_page(&app, &c, id).await;
        assert!(html.contains("id=\"edit-session\""));
        assert!(html.contains("value=\"报告厅\""), "{html}");
        assert!(html.contains("value=\"19:00\""));
        let csrf = csrf_of(&html);
        let mut form = with(
            form_values(&html),
            &[
                ("place", "多功能厅"),
                ("time", "18:30"),
                ("audience", "school"),
            ],
        );
        form.push(("csrf", csrf));
        let (st, to) = post(&c, &app.url(&format!("/sessions/{id}/edit")), &form).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
        assert_eq!(to, format!("/sessions/{id}"));
        let (_, page) = get(&c, &app.url(&to)).await;
        assert!(page.contains("课次已修改"), "flash: {page}");
        assert!(page.contains("多功能厅"));
        assert!(page.contains("18:30"));
        assert!(!page.contains("报告厅"));

        let (action, before, after) = last_audit(&app.db, id).await;
        assert_eq!(action, "update");
        assert_eq!(before["place"], "报告厅");
        assert_eq!(after["place"], "多功能厅");
        assert!(
            before["starts_at"].as_str().unwrap().ends_with("19:00"),
            "{before}"
        );
        assert!(
            after["starts_at"].as_str().unwrap().ends_with("18:30"),
            "{after}"
        );
        // Only what changed is in the row.
        assert!(before.get("title").is_none(), "{before}");
        assert!(after.get("audience").is_none(), "{after}");

        // Saving the same values again writes nothing.
        let audits = audit_log::Entity::find().count(&app.db.conn).await.unwrap();
        let html = edit_page(&app, &c, id).await;
        let mut form = with(form_values(&html), &[("audience", "school")]);
        form.push(("csrf", csrf_of(&html)));
        let (st, _) = post(&c, &app.url(&format!("/sessions/{id}/edit")), &form).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(
            audit_log::Entity::find().count(&app.db.conn).await.unwrap(),
            audits
        );
    }
);

both_dbs!(
    an_audience_change_keeps_the_checkins,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let id = session(&app.db, &w, Audience::Units, vec![w.class_2], vec![]).await;
        let wang = guardian_id(&app.db, "13800000001").await;
        checkin::mark(
            &app.db,
            &Scope::system(),
            id,
            &[Mark {
                guardian_id: wang,
                status: AttendanceStatus::Present,
            }],
        )
        .await
        .unwrap();
        // 张三丰 (class 3) is not invited yet: refused, and the check-in cache now holds
        // the session with its old audience.
        parent_scope(&app.db, "13800000003").await;
        let r = app
            .client()
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"phone": "13800000003", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let tok = r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, secret) = sessions::session_secret(&app.db, &Scope::system(), id)
            .await
            .unwrap();
        let codes = CodeGen::from_hex(&secret).unwrap();
        // The check-in window is around the start, a week away: open it for the test (a
        // fixture's shortcut — writers take a day either way at most).
        {
            use sea_orm::ConnectionTrait;
            app.db
                .conn
                .execute_unprepared(&format!(
                    "UPDATE teaching_session SET opens_before_minutes = {} WHERE id = {id}",
                    8 * 24 * 60
                ))
                .await
                .unwrap();
        }
        let check_in = |nonce: &'static str| {
            let (app, tok, code) = (
                &app,
                tok.clone(),
                codes.code_at(Utc::now().timestamp() as u64),
            );
            async move {
                let r = app
                    .client()
                    .post(app.url(&format!("/api/v1/sessions/{id}/checkins")))
                    .bearer_auth(tok)
                    .json(&json!({"code": code, "nonce": nonce, "device": "install-3"}))
                    .send()
                    .await
                    .unwrap();
                (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let (st, e) = check_in("nonce-0000000000031").await;
        assert_eq!(e["error"], "not_invited", "{st} {e}");

        let c = login(&app, "school_a").await;
        let html = edit_page(&app, &c, id).await;
        assert!(
            html.contains("已有 1 条签到记录，修改对象不会删除这些记录"),
            "{html}"
        );
        let mut form = with(form_values(&html), &[("audience", "units")]);
        form.push(("units", w.class_3.to_string()));
        form.push(("csrf", csrf_of(&html)));
        let (st, to) = post(&c, &app.url(&format!("/sessions/{id}/edit")), &form).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
        let (_, page) = get(&c, &app.url(&to)).await;
        assert!(page.contains("原有签到记录全部保留"), "flash: {page}");
        // The check-in is kept, shown apart, and counted as attending but not as invited.
        let kept = checkin_row::Entity::find()
            .filter(checkin_row::Column::SessionId.eq(id))
            .count(&app.db.conn)
            .await
            .unwrap();
        assert_eq!(kept, 1);
        assert!(page.contains("id=\"uninvited\""), "{page}");
        assert!(page.contains("王建国"));
        assert!(page.contains("非邀请对象"));
        let n = sessions::counts(&app.db, &Scope::system(), id)
            .await
            .unwrap();
        assert_eq!((n.invited_parents, n.present, n.uninvited), (1, 1, 1));
        assert_eq!((n.invited_children, n.children_reached), (1, 0));

        let (_, before, after) = last_audit(&app.db, id).await;
        assert_eq!(before["audience"], "三年级(2)班");
        assert_eq!(after["audience"], "三年级(3)班");

        // The newly invited parent checks in at once: the cache forgot the old audience.
        let (st, e) = check_in("nonce-0000000000032").await;
        assert_eq!(st, StatusCode::CREATED, "{e}");
    }
);

both_dbs!(
    only_those_who_plan_sessions_edit_them,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let id = session(&app.db, &w, Audience::School, vec![], vec![]).await;
        let admin = login(&app, "school_a").await;
        let html = edit_page(&app, &admin, id).await;
        let form = with(
            form_values(&html),
            &[("audience", "school"), ("place", "别处")],
        );
        for who in ["inspector_a", "school_b"] {
            let c = login(&app, who).await;
            let (st, _) = get(&c, &app.url(&format!("/sessions/{id}/edit"))).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{who}");
            // A CSRF token of this client's own, from a page it may open.
            let (_, mine) = get(&c, &app.url("/account/tokens")).await;
            let mut f = form.clone();
            f.push(("csrf", csrf_of(&mine)));
            let (st, _) = post(&c, &app.url(&format!("/sessions/{id}/edit")), &f).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{who}");
        }
        // The inspector reads the session, without the edit link.
        let c = login(&app, "inspector_a").await;
        let (st, page) = get(&c, &app.url(&format!("/sessions/{id}"))).await;
        assert_eq!(st, StatusCode::OK);
        assert!(!page.contains("/edit\""), "{page}");
        let row = sessions::get_session(&app.db, &Scope::system(), id)
            .await
            .unwrap();
        assert_eq!(row.place.as_deref(), Some("报告厅"));
    }
);

both_dbs!(
    a_bad_time_comes_back_with_the_input_kept,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let id = session(&app.db, &w, Audience::School, vec![], vec![]).await;
        let c = login(&app, "school_a").await;
        let html = edit_page(&app, &c, id).await;
        let mut form = with(
            form_values(&html),
            &[
                ("audience", "school"),
                ("time", "25:61"),
                ("place", "新教学楼三楼"),
            ],
        );
        form.push(("csrf", csrf_of(&html)));
        let (st, body) = post(&c, &app.url(&format!("/sessions/{id}/edit")), &form).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("id=\"err-time\""), "{body}");
        assert!(body.contains("value=\"新教学楼三楼\""), "{body}");
        assert!(body.contains("id=\"edit-session\""));
        let row = sessions::get_session(&app.db, &Scope::system(), id)
            .await
            .unwrap();
        assert_eq!(row.place.as_deref(), Some("报告厅"));

        // A cancelled session is not edited: the form says so and a post is refused.
        sessions::set_status(
            &app.db,
            &Scope::system(),
            id,
            SessionStatus::Cancelled,
            None,
        )
        .await
        .unwrap();
        let (st, body) = get(&c, &app.url(&format!("/sessions/{id}/edit"))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("已取消的课次不能修改"), "{body}");
        let mut form = with(
            form_values(&html),
            &[("audience", "school"), ("place", "别处")],
        );
        form.push(("csrf", csrf_of(&html)));
        let (st, body) = post(&c, &app.url(&format!("/sessions/{id}/edit")), &form).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let row = sessions::get_session(&app.db, &Scope::system(), id)
            .await
            .unwrap();
        assert_eq!(row.place.as_deref(), Some("报告厅"));
    }
);

both_dbs!(
    the_sessions_list_names_the_audience,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let wang = guardian_id(&app.db, "13800000001").await;
        let li = guardian_id(&app.db, "13800000002").await;
        session(&app.db, &w, Audience::School, vec![], vec![]).await;
        session(
            &app.db,
            &w,
            Audience::Units,
            vec![w.class_3, w.class_2],
            vec![],
        )
        .await;
        session(&app.db, &w, Audience::Parents, vec![], vec![wang, li]).await;
        let c = login(&app, "school_a").await;
        let (st, page) = get(&c, &app.url(&format!("/ps/schools/{}/sessions", w.school))).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("<td class=\"audience\">全校</td>"), "{page}");
        assert!(
            page.contains("<td class=\"audience\">三年级(2)班、三年级(3)班</td>"),
            "{page}"
        );
        assert!(
            page.contains("<td class=\"audience\">指定家长 2 人</td>"),
            "{page}"
        );
    }
);
