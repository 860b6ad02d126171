//! HTTP tests of the input rules (issue 9: items 3, 4, 7, 8, 10, 14), each on SQLite and
//! PostgreSQL: ids of another school in a write, text lengths and characters, links,
//! the size of a posted form, and which status a refused write answers.

use jiaxiao_domain::Role;
use jiaxiao_domain::parent_school::AttendanceStatus;
use jiaxiao_store::checkin::{self, Mark};
use jiaxiao_store::parent_school::activities::{self, NewActivity};
use jiaxiao_store::parent_school::{curriculum, sessions};
use jiaxiao_store::people::{self, NewStaff};
use jiaxiao_store::{Db, Scope, StoreError};
use jiaxiao_testkit::fixtures::{
    csrf_of, get, get_bytes, import_roster, login, parent_scope, post, staff_account, staff_scope,
    two_counties,
};
use jiaxiao_testkit::xlsx::{Reader, Sheet, Xlsx};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::StatusCode;

const ROSTER_A: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
A1,王小明,男,三年级,2班,王建国,父亲,13800000001\n";
const ROSTER_B: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
B1,赵小乙,女,三年级,1班,赵乙方,母亲,13900000009\n";

/// Two schools in two counties; school A's admin is `school_a`, and school B has a
/// topic, an activity, a staff member and a parent that A must not be able to use.
struct World {
    a: i64,
    b: i64,
    topic_a: i64,
    topic_b: i64,
    activity_b: i64,
    staff_b: i64,
    guardian_b: i64,
    scope_a: Scope,
}

async fn world(db: &Db) -> World {
    let c = two_counties(db).await;
    let (a, b) = (c.school_a, c.school_b);
    let sys = Scope::system();
    staff_account(db, "school_a", Role::SchoolAdmin, a).await;
    let scope_a = staff_scope(db, "school_a_store", Role::SchoolAdmin, a).await;
    import_roster(db, a, ROSTER_A).await;
    import_roster(db, b, ROSTER_B).await;
    parent_scope(db, "13800000001").await;
    let topic_a = curriculum::add_topic(db, &sys, a, "甲校专题：习惯养成", None)
        .await
        .unwrap();
    let topic_b = curriculum::add_topic(db, &sys, b, "乙校专题：隔代教育", None)
        .await
        .unwrap();
    let start = chrono::Utc::now() + chrono::Duration::days(3);
    let activity_b = activities::create_activity(
        db,
        &sys,
        NewActivity {
            school_id: b,
            theme: "乙校家长会".into(),
            starts_at: start,
            ends_at: start + chrono::Duration::hours(2),
            place: "乙校礼堂".into(),
            participants: "全体家长".into(),
            organiser: "乙校德育处".into(),
            venue_notes: None,
            survey_ref: None,
        },
    )
    .await
    .unwrap();
    let staff_b = people::create_staff(
        db,
        &sys,
        NewStaff {
            unit_id: b,
            name: "乙校老师".into(),
            phone: None,
            position: None,
        },
    )
    .await
    .unwrap();
    let guardian_b = guardian_id(db, "13900000009").await;
    World {
        a,
        b,
        topic_a,
        topic_b,
        activity_b,
        staff_b,
        guardian_b,
        scope_a,
    }
}

async fn guardian_id(db: &Db, phone: &str) -> i64 {
    jiaxiao_store::db::scalar_i64(
        &db.conn,
        "SELECT id AS n FROM guardian WHERE phone = $1",
        vec![phone.into()],
    )
    .await
    .unwrap()
}

async fn sessions_of(db: &Db, school: i64) -> i64 {
    jiaxiao_store::db::scalar_i64(
        &db.conn,
        "SELECT COUNT(*) AS n FROM teaching_session WHERE school_id = $1",
        vec![school.into()],
    )
    .await
    .unwrap()
}

/// A valid session form for a week from now, whole school.
fn session_form(csrf: &str) -> Vec<(&'static str, String)> {
    let day = chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(7);
    vec![
        ("csrf", csrf.to_owned()),
        ("title", "家庭教育讲座".into()),
        ("form", "lecture".into()),
        ("date", day.format("%Y-%m-%d").to_string()),
        ("time", "19:00".into()),
        ("duration_minutes", "60".into()),
        ("place", "学校报告厅".into()),
        ("instructor_name", "王慧敏".into()),
        ("audience", "school".into()),
    ]
}

fn with(
    mut form: Vec<(&'static str, String)>,
    key: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    form.retain(|(k, _)| *k != key);
    form.push((key, value.to_owned()));
    form
}

/// Logs in as school A's admin and returns the client and a CSRF token.
async fn admin(app: &TestApp, w: &World) -> (reqwest::Client, String) {
    let c = login(app, "school_a").await;
    let (st, html) = get(&c, &app.url(&format!("/ps/schools/{}/sessions/new", w.a))).await;
    assert_eq!(st, StatusCode::OK);
    (c, csrf_of(&html))
}

both_dbs!(
    foreign_ids_in_session_writes_are_refused,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let (c, csrf) = admin(&app, &w).await;
        let url = app.url(&format!("/ps/schools/{}/sessions", w.a));

        // Another county's topic: refused beside the field, its title shown nowhere.
        let (st, body) = post(
            &c,
            &url,
            &with(session_form(&csrf), "topic_id", &w.topic_b.to_string()),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("id=\"err-topic_id\""), "{body}");
        assert!(!body.contains("隔代教育"));
        // An id that does not exist answers exactly alike.
        let (st, _) = post(
            &c,
            &url,
            &with(session_form(&csrf), "topic_id", "987654321"),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        // So does another school's teacher as instructor.
        let (st, body) = post(
            &c,
            &url,
            &with(
                session_form(&csrf),
                "instructor_staff_id",
                &w.staff_b.to_string(),
            ),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("id=\"err-instructor_staff_id\""), "{body}");
        assert_eq!(sessions_of(&app.db, w.a).await, 0);

        // Through the store (the API and meeting-day breakouts call it too).
        let base = || sessions::NewSession {
            school_id: w.a,
            title: "家庭教育讲座".into(),
            starts_at: chrono::Utc::now() + chrono::Duration::days(7),
            duration_minutes: 60,
            instructor_name: "王慧敏".into(),
            ..Default::default()
        };
        let refused = |r: Result<i64, StoreError>| match r {
            Err(StoreError::Invalid { code }) => code,
            other => panic!("expected a refusal, got {other:?}"),
        };
        let s = &w.scope_a;
        let db = &app.db;
        let r = sessions::create_session(
            db,
            s,
            sessions::NewSession {
                activity_id: Some(w.activity_b),
                ..base()
            },
        )
        .await;
        assert_eq!(refused(r), "activity_outside_school");
        let r = sessions::create_session(
            db,
            s,
            sessions::NewSession {
                instructor_staff_id: Some(w.staff_b),
                instructor_name: String::new(),
                ..base()
            },
        )
        .await;
        assert_eq!(refused(r), "staff_not_at_school");
        let r = sessions::create_session(
            db,
            s,
            sessions::NewSession {
                audience: Some(jiaxiao_domain::parent_school::Audience::Parents),
                invitees: vec![w.guardian_b],
                ..base()
            },
        )
        .await;
        assert_eq!(refused(r), "guardian_not_at_school");
        let r = sessions::create_session(
            db,
            s,
            sessions::NewSession {
                course_id: Some(987654321),
                ..base()
            },
        )
        .await;
        assert_eq!(refused(r), "course_outside_school");
        assert_eq!(sessions_of(db, w.a).await, 0);

        // The school's own topic is fine, and shows on the session.
        let (st, to) = post(
            &c,
            &url,
            &with(session_form(&csrf), "topic_id", &w.topic_a.to_string()),
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
        let (_, page) = get(&c, &app.url(&to)).await;
        assert!(page.contains("习惯养成"));
        let _ = w.b;
    }
);

both_dbs!(text_rules_on_the_session_form, |t: TestDb| async move {
    let app = TestApp::spawn(t).await;
    let w = world(&app.db).await;
    let (c, csrf) = admin(&app, &w).await;
    let url = app.url(&format!("/ps/schools/{}/sessions", w.a));

    // 40,000 characters: refused beside the title, everything else kept as typed.
    let long = "讲".repeat(40_000);
    let form = with(session_form(&csrf), "instructor_title", "心理咨询师");
    let (st, body) = post(&c, &url, &with(form, "title", &long)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"err-title\""), "{body}");
    assert!(body.contains("value=\"学校报告厅\""), "place kept");
    assert!(
        body.contains("value=\"心理咨询师\""),
        "instructor title kept"
    );
    assert!(body.contains("value=\"王慧敏\""), "instructor kept");

    for bad in [
        "讲座\u{202E}txt.exe",
        "讲座\0",
        "讲座\u{2066}",
        "讲座\u{1b}[2J",
    ] {
        let (st, body) = post(&c, &url, &with(session_form(&csrf), "title", bad)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert!(body.contains("id=\"err-title\""), "{bad:?}");
    }
    let (st, body) = post(
        &c,
        &url,
        &with(session_form(&csrf), "instructor_name", "王\u{202D}慧敏"),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"err-instructor_name\""));
    let (st, _) = post(
        &c,
        &url,
        &with(session_form(&csrf), "place", &"厅".repeat(201)),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(sessions_of(&app.db, w.a).await, 0);

    // Zero-width characters are taken out of titles, not refused.
    let (st, to) = post(
        &c,
        &url,
        &with(session_form(&csrf), "title", "家庭\u{200B}教育\u{FEFF}讲座"),
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let sid: i64 = to.trim_start_matches("/sessions/").parse().unwrap();
    let row = sessions::get_session(&app.db, &w.scope_a, sid)
        .await
        .unwrap();
    assert_eq!(row.title, "家庭教育讲座");

    // The lesson plan (a note) takes lines but not 5,001 characters.
    let (st, _) = post(
        &c,
        &app.url(&format!("/sessions/{sid}/lesson-plan")),
        &[("csrf", csrf.clone()), ("text", "记".repeat(5_001))],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = post(
        &c,
        &app.url(&format!("/sessions/{sid}/lesson-plan")),
        &[
            ("csrf", csrf.clone()),
            ("text", "一、导入\n二、讲授".into()),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);

    // Names typed on the staff pages follow the same rules.
    let (st, _) = post(
        &c,
        &app.url("/people/staff"),
        &[
            ("csrf", csrf.clone()),
            ("unit_id", w.a.to_string()),
            ("name", "李\u{202E}老师".into()),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    // And a committee's name.
    let (st, _) = post(
        &c,
        &app.url(&format!("/ps/schools/{}/committees", w.a)),
        &[
            ("csrf", csrf.clone()),
            ("unit_id", w.a.to_string()),
            ("kind", "committee".into()),
            ("name", "家长委员会\0".into()),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
});

both_dbs!(
    an_over_long_stored_title_does_not_break_the_ledger,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let (c, csrf) = admin(&app, &w).await;
        let url = app.url(&format!("/ps/schools/{}/sessions", w.a));
        let (st, to) = post(&c, &url, &session_form(&csrf)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let sid: i64 = to.trim_start_matches("/sessions/").parse().unwrap();
        // As stored before the input rules existed (or by an import): 40,000 characters.
        let long = "讲".repeat(40_000);
        use sea_orm::ConnectionTrait;
        app.db
            .conn
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                app.db.conn.get_database_backend(),
                "UPDATE teaching_session SET title = $1 WHERE id = $2",
                [long.clone().into(), sid.into()],
            ))
            .await
            .unwrap();
        let (st, ct, bytes) =
            get_bytes(&c, &app.url(&format!("/ps/schools/{}/ledger.xlsx", w.a))).await;
        assert_eq!(st, StatusCode::OK, "{ct}");
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let names = wb.sheet_names();
        let found = names.iter().any(|name| {
            Sheet::read(&mut wb, name).cells().any(|v| {
                let s = v.to_string();
                s.starts_with("讲讲讲") && s.chars().count() == 32_767 && s.ends_with('…')
            })
        });
        assert!(found, "the title, cut to one cell");
    }
);

both_dbs!(links_are_http_or_https_only, |t: TestDb| async move {
    let app = TestApp::spawn(t).await;
    let w = world(&app.db).await;
    let (c, csrf) = admin(&app, &w).await;
    let url = app.url(&format!("/ps/schools/{}/sessions", w.a));
    let online = || with(session_form(&csrf), "form", "online");
    for bad in [
        "javascript:alert(document.cookie)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example/x",
    ] {
        let (st, body) = post(&c, &url, &with(online(), "online_url", bad)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(body.contains("id=\"err-online_url\""), "{bad}");
    }
    assert_eq!(sessions_of(&app.db, w.a).await, 0);
    let (st, to) = post(
        &c,
        &url,
        &with(online(), "online_url", "https://meeting.example.cn/j/123"),
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let sid: i64 = to.trim_start_matches("/sessions/").parse().unwrap();
    let (_, page) = get(&c, &app.url(&to)).await;
    assert!(page.contains("href=\"https://meeting.example.cn/j/123\""));

    // A link stored before the rule is shown as text, never as a link.
    use sea_orm::ConnectionTrait;
    app.db
        .conn
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            app.db.conn.get_database_backend(),
            "UPDATE teaching_session SET online_url = $1 WHERE id = $2",
            ["javascript:alert(1)".into(), sid.into()],
        ))
        .await
        .unwrap();
    let (_, page) = get(&c, &app.url(&to)).await;
    assert!(!page.contains("href=\"javascript:"), "staff page");
    let parent = login(&app, "13800000001").await;
    let (st, page) = get(&parent, &app.url(&format!("/p/sessions/{sid}"))).await;
    assert_eq!(st, StatusCode::OK);
    assert!(!page.contains("href=\"javascript:"), "parent page");
});

both_dbs!(refusals_answer_the_right_status, |t: TestDb| async move {
    let app = TestApp::spawn(t).await;
    let w = world(&app.db).await;
    let (c, csrf) = admin(&app, &w).await;
    let url = app.url(&format!("/ps/schools/{}/sessions", w.a));

    // Unknown codes are refused, not quietly turned into a lecture for the whole school.
    for (field, value) in [
        ("form", "seminar"),
        ("audience", "everyone"),
        ("capacity", "-5"),
        ("capacity", "0"),
        ("capacity", "many"),
        ("date", "1999-09-01"),
        ("date", "2101-01-01"),
        ("date", "20255-09-01"),
        ("duration_minutes", "-60"),
    ] {
        let (st, body) = post(&c, &url, &with(session_form(&csrf), field, value)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}");
        assert!(
            body.contains(&format!("id=\"err-{field}\"")),
            "{field}={value}: message beside the field"
        );
        assert!(body.contains(&format!("value=\"{value}\"")) || field != "capacity");
    }
    assert_eq!(sessions_of(&app.db, w.a).await, 0);

    // Another school's form: 404 whatever the body holds.
    let (st, _) = post(
        &c,
        &app.url(&format!("/ps/schools/{}/sessions", w.b)),
        &with(session_form(&csrf), "title", ""),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // An objection to a round the caller cannot see is 404 before its body is read.
    let (st, _) = post(
        &c,
        &app.url("/ps/excellence/987654/objections"),
        &[
            ("csrf", csrf.clone()),
            ("guardian_id", "1".into()),
            ("body", "短".into()),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let parent = login(&app, "13800000001").await;
    let (_, home) = get(&parent, &app.url("/p")).await;
    let (st, _) = post(
        &parent,
        &app.url("/p/notices/987654/objection"),
        &[
            ("csrf", csrf_of(&home)),
            ("guardian_id", "1".into()),
            ("body", "短".into()),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
});

both_dbs!(
    a_huge_mark_form_is_refused_not_a_500,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let (c, csrf) = admin(&app, &w).await;
        let url = app.url(&format!("/ps/schools/{}/sessions", w.a));
        let (st, to) = post(&c, &url, &session_form(&csrf)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let sid: i64 = to.trim_start_matches("/sessions/").parse().unwrap();

        let mut form: Vec<(String, String)> =
            vec![("csrf".into(), csrf.clone()), ("class".into(), "1".into())];
        form.extend((1..=40_000).map(|g| (format!("g{g}"), "present".to_owned())));
        let r = c
            .post(app.url(&format!("/sessions/{sid}/mark")))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // The store itself copes with any number of marks: more parents than either
        // database takes bound variables is an ordinary "not yours", not a database error.
        let many: Vec<Mark> = (1..=70_000)
            .map(|g| Mark {
                guardian_id: 1_000_000 + g,
                status: AttendanceStatus::Present,
            })
            .collect();
        match checkin::mark(&app.db, &w.scope_a, sid, &many).await {
            Err(StoreError::NotFound) => {}
            other => panic!("expected NotFound, got {other:?}"),
        }
        // The same parent twice in one form: the last mark wins.
        let g = guardian_id(&app.db, "13800000001").await;
        let twice = [
            Mark {
                guardian_id: g,
                status: AttendanceStatus::Present,
            },
            Mark {
                guardian_id: g,
                status: AttendanceStatus::Absent,
            },
        ];
        assert_eq!(
            checkin::mark(&app.db, &w.scope_a, sid, &twice)
                .await
                .unwrap(),
            1
        );
        let status = jiaxiao_store::db::scalar_i64(
        &app.db.conn,
        "SELECT COUNT(*) AS n FROM checkin WHERE session_id = $1 AND guardian_id = $2 AND status = 'absent'",
        vec![sid.into(), g.into()],
    )
    .await
    .unwrap();
        assert_eq!(status, 1);
    }
);
