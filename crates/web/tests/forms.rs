//! Every page form refused with a mistake comes back on its own page with 422, what was
//! typed still in the fields and the message beside the field (`id="err-<field>"`),
//! naming the line of a multi-line input; a write that worked shows a success message
//! once on the page it lands on (issue 9 item 10, issue 10 items 6, 14 and 15). Each on
//! SQLite and PostgreSQL.

use jiaxiao_domain::Role;
use jiaxiao_store::parent_school::curriculum;
use jiaxiao_store::{Db, Scope};
use jiaxiao_testkit::fixtures::{
    csrf_of, get, import_roster, login, parent_scope, post, staff_account, two_counties,
};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::StatusCode;

const ROSTER_A: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
A1,王小明,男,三年级,2班,王建国,父亲,13800000001\n\
A2,李小红,女,三年级,2班,李红梅,母亲,13800000002\n";
const ROSTER_B: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
B1,赵小乙,女,三年级,1班,赵乙方,母亲,13900000009\n";

/// Two schools in two counties; `school_a` is school A's admin, `county_a` the admin of
/// school A's county.
struct World {
    a: i64,
    b: i64,
    county_a: i64,
}

async fn world(db: &Db) -> World {
    let c = two_counties(db).await;
    staff_account(db, "school_a", Role::SchoolAdmin, c.school_a).await;
    staff_account(db, "county_a", Role::CountyAdmin, c.county_a).await;
    import_roster(db, c.school_a, ROSTER_A).await;
    import_roster(db, c.school_b, ROSTER_B).await;
    parent_scope(db, "13800000001").await;
    parent_scope(db, "13800000002").await;
    World {
        a: c.school_a,
        b: c.school_b,
        county_a: c.county_a,
    }
}

/// Logs in as `who` and returns the client and a CSRF token read off `page`.
async fn client(app: &TestApp, who: &str, page: &str) -> (reqwest::Client, String) {
    let c = login(app, who).await;
    let (st, html) = get(&c, &app.url(page)).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    (c, csrf_of(&html))
}

/// The refused form came back on its own page (not the error page) with the typed
/// value in it and the message beside `field`.
#[track_caller]
fn refused_beside(st: StatusCode, body: &str, field: &str, typed: &str) {
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        !body.contains("id=\"request-id\""),
        "the error page: {body}"
    );
    assert!(
        body.contains(&format!("id=\"err-{field}\"")),
        "no message beside {field}: {body}"
    );
    assert!(body.contains(typed), "typed value {typed:?} lost: {body}");
}

fn scope() -> Scope {
    Scope::system()
}

both_dbs!(a_refused_topic_keeps_its_input, |t: TestDb| async move {
    let app = TestApp::spawn(t).await;
    let w = world(&app.db).await;
    let page = format!("/ps/schools/{}/curriculum", w.a);
    let (c, csrf) = client(&app, "school_a", &page).await;
    let url = app.url(&format!("/ps/schools/{}/curriculum/topics", w.a));
    let (st, body) = post(
        &c,
        &url,
        &[
            ("csrf", csrf.clone()),
            ("title", "习惯养成".into()),
            ("description", "说明\u{202E}倒写".into()),
        ],
    )
    .await;
    refused_beside(st, &body, "description", "value=\"习惯养成\"");
    // Fixed: saved, and the page it lands on says so once.
    let (st, to) = post(
        &c,
        &url,
        &[
            ("csrf", csrf.clone()),
            ("title", "习惯养成".into()),
            ("description", "说明".into()),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, body) = get(&c, &app.url(&to)).await;
    assert!(body.contains("class=\"ok flash\""), "{body}");
    assert!(body.contains("已添加"));
    let (_, body) = get(&c, &app.url(&to)).await;
    assert!(!body.contains("class=\"ok flash\""), "shown only once");

    // A topic's own edit form: the row that was posted gets its input back.
    let tid = curriculum::add_topic(&app.db, &scope(), w.a, "隔代教育", None)
        .await
        .unwrap();
    let (st, body) = post(
        &c,
        &app.url(&format!("/ps/schools/{}/curriculum/topics/{tid}", w.a)),
        &[("csrf", csrf.clone()), ("title", "隔代\0教育".into())],
    )
    .await;
    refused_beside(st, &body, "title", "隔代\0教育");
    // Another school's topic is still 404, whatever was typed.
    let other = curriculum::add_topic(&app.db, &scope(), w.b, "乙校专题", None)
        .await
        .unwrap();
    let (st, _) = post(
        &c,
        &app.url(&format!("/ps/schools/{}/curriculum/topics/{other}", w.a)),
        &[("csrf", csrf.clone()), ("title", "\0".into())],
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
});

both_dbs!(a_refused_course_keeps_its_input, |t: TestDb| async move {
    let app = TestApp::spawn(t).await;
    let w = world(&app.db).await;
    let tid = curriculum::add_topic(&app.db, &scope(), w.a, "习惯养成", None)
        .await
        .unwrap();
    let page = format!("/ps/schools/{}/curriculum", w.a);
    let (c, csrf) = client(&app, "school_a", &page).await;
    let (st, body) = post(
        &c,
        &app.url(&format!("/ps/schools/{}/curriculum/courses", w.a)),
        &[
            ("csrf", csrf.clone()),
            ("topic_id", tid.to_string()),
            ("grade_level", "3".into()),
            ("semester", "2".into()),
            ("title", "课".repeat(201)),
        ],
    )
    .await;
    refused_beside(st, &body, "title", &"课".repeat(201));
    assert!(body.contains("value=\"2\" selected"), "semester kept");
});

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

/// A session of school A planned through its form; its id.
async fn new_session(app: &TestApp, c: &reqwest::Client, csrf: &str, school: i64) -> i64 {
    let (st, to) = post(
        c,
        &app.url(&format!("/ps/schools/{school}/sessions")),
        &session_form(csrf),
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    to.trim_start_matches("/sessions/").parse().unwrap()
}

/// The number after the first `marker` in `html`.
fn id_after(html: &str, marker: &str) -> i64 {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"))
        + marker.len();
    html[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap()
}

both_dbs!(
    refused_committee_forms_keep_their_input,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        jiaxiao_store::people::create_staff(
            &app.db,
            &scope(),
            jiaxiao_store::people::NewStaff {
                unit_id: w.a,
                name: "李德育".into(),
                phone: None,
                position: Some("德育主任".into()),
            },
        )
        .await
        .unwrap();
        let page = format!("/ps/schools/{}/committees", w.a);
        let (c, csrf) = client(&app, "school_a", &page).await;
        let url = app.url(&page);
        let (st, body) = post(
            &c,
            &url,
            &[
                ("csrf", csrf.clone()),
                ("kind", "committee".into()),
                ("unit_id", w.a.to_string()),
                ("name", "家长\u{202E}委员会".into()),
            ],
        )
        .await;
        refused_beside(st, &body, "name", "家长\u{202E}委员会");
        // Fixed: created, and the page says so.
        let (st, to) = post(
            &c,
            &url,
            &[
                ("csrf", csrf.clone()),
                ("kind", "leadership".into()),
                ("unit_id", w.a.to_string()),
                ("name", "家长学校工作领导小组".into()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, body) = get(&c, &app.url(&to)).await;
        assert!(body.contains("已创建"), "{body}");
        let cid = id_after(&body, "<section class=\"card\" id=\"c");
        let staff = id_after(&body, "<select name=\"staff_id\" required><option value=\"");
        // A member's note with a control character: beside the note, the note kept.
        let (st, body) = post(
            &c,
            &app.url(&format!("/ps/schools/{}/committees/{cid}/members", w.a)),
            &[
                ("csrf", csrf.clone()),
                ("staff_id", staff.to_string()),
                ("position", "head".into()),
                ("note", "分管\u{1b}德育".into()),
            ],
        )
        .await;
        refused_beside(st, &body, "note", "分管\u{1b}德育");
        // Another county's committee: 404 before anything typed is looked at.
        let (st, _) = post(
            &c,
            &app.url(&format!("/ps/schools/{}/committees/987654/members", w.a)),
            &[
                ("csrf", csrf.clone()),
                ("staff_id", staff.to_string()),
                ("position", "head".into()),
                ("note", "\0".into()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
);

both_dbs!(
    refused_activity_forms_keep_their_input,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let page = format!("/ps/schools/{}/activities", w.a);
        let (c, csrf) = client(&app, "school_a", &page).await;
        let header = |theme: &str, start: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("theme", theme.to_owned()),
                ("date", "2026-12-18".into()),
                ("start", start.to_owned()),
                ("end", "16:30".into()),
                ("place", "学校礼堂".into()),
                ("participants", "全体家长".into()),
                ("organiser", "德育处".into()),
            ]
        };
        let (st, body) = post(&c, &app.url(&page), &header("家长开放日", "25:00")).await;
        refused_beside(st, &body, "start", "value=\"家长开放日\"");
        assert!(body.contains("value=\"学校礼堂\""), "place kept");
        let (st, to) = post(&c, &app.url(&page), &header("家长开放日", "14:00")).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
        let a = app.url(&to);
        // The header again, with a theme too long.
        let (st, body) = post(&c, &a, &header(&"会".repeat(201), "14:00")).await;
        refused_beside(st, &body, "theme", &"会".repeat(201));
        // An item with a NUL in its title.
        let (st, body) = post(
            &c,
            &format!("{a}/items"),
            &[
                ("csrf", csrf.clone()),
                ("part", "collective".into()),
                ("title", "校长\0讲话".into()),
                ("speaker", "张校长".into()),
            ],
        )
        .await;
        refused_beside(st, &body, "title", "value=\"张校长\"");
        // Breakouts for no class at all.
        let (st, body) = post(
            &c,
            &format!("{a}/breakouts"),
            &[
                ("csrf", csrf.clone()),
                ("title", "班级家长会".into()),
                ("place", "各班教室".into()),
            ],
        )
        .await;
        refused_beside(st, &body, "class_id", "value=\"各班教室\"");
        // A duty whose person's name hides a bidi override.
        let (st, body) = post(
            &c,
            &format!("{a}/duties"),
            &[
                ("csrf", csrf.clone()),
                ("person", "王\u{202E}老师".into()),
                ("duty", "签到引导".into()),
            ],
        )
        .await;
        refused_beside(st, &body, "person", "value=\"签到引导\"");
        // Fixed: added, and the page says so.
        let (st, to) = post(
            &c,
            &format!("{a}/duties"),
            &[
                ("csrf", csrf.clone()),
                ("person", "王老师".into()),
                ("duty", "签到引导".into()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, body) = get(&c, &app.url(&to)).await;
        assert!(body.contains("已添加"), "{body}");
    }
);

both_dbs!(
    refused_session_page_forms_keep_their_input,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let (c, csrf) = client(
            &app,
            "school_a",
            &format!("/ps/schools/{}/sessions/new", w.a),
        )
        .await;
        let sid = new_session(&app, &c, &csrf, w.a).await;
        let u = |p: &str| app.url(&format!("/sessions/{sid}{p}"));
        // The session's own page says it was added.
        let (_, body) = get(&c, &u("")).await;
        assert!(body.contains("已添加课次"), "{body}");
        let plan = "一、导入\n".repeat(1_001);
        let (st, body) = post(
            &c,
            &u("/lesson-plan"),
            &[("csrf", csrf.clone()), ("text", plan.clone())],
        )
        .await;
        refused_beside(st, &body, "text", "一、导入\n一、导入");
        let (st, body) = post(
            &c,
            &u("/window"),
            &[
                ("csrf", csrf.clone()),
                ("opens_before_minutes", "半小时".into()),
                ("late_after_minutes", "10".into()),
                ("closes_after_minutes", "60".into()),
            ],
        )
        .await;
        refused_beside(st, &body, "opens_before_minutes", "value=\"半小时\"");
        // A text file uploaded as a photo: said beside the file field.
        let part =
            reqwest::multipart::Part::bytes(b"not a picture at all".to_vec()).file_name("a.txt");
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("kind", "photo")
            .part("file", part);
        let r = c
            .post(u("/attachments"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let st = r.status();
        let body = r.text().await.unwrap();
        refused_beside(st, &body, "file", "不是图片");
        // The same file as material is kept, and the page says so.
        let part =
            reqwest::multipart::Part::bytes(b"not a picture at all".to_vec()).file_name("a.txt");
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("kind", "material")
            .part("file", part);
        let r = c
            .post(u("/attachments"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        let (_, body) = get(&c, &app.url(&to)).await;
        assert!(
            body.contains("文件已上传") && body.contains("a.txt"),
            "{body}"
        );
    }
);

both_dbs!(
    refused_staff_pages_keep_their_input,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        // A member of staff with a phone that is no mobile number.
        let (c, csrf) = client(&app, "school_a", "/people?kind=staff").await;
        let (st, body) = post(
            &c,
            &app.url("/people/staff"),
            &[
                ("csrf", csrf.clone()),
                ("unit_id", w.a.to_string()),
                ("name", "李老师".into()),
                ("position", "班主任".into()),
                ("phone", "12345".into()),
            ],
        )
        .await;
        refused_beside(st, &body, "phone", "value=\"李老师\"");
        assert!(body.contains("value=\"12345\""));
        // Another county's unit: 404, whatever was typed.
        let (st, _) = post(
            &c,
            &app.url("/people/staff"),
            &[
                ("csrf", csrf.clone()),
                ("unit_id", w.b.to_string()),
                ("name", "李老师".into()),
                ("phone", "12345".into()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // An account whose username is taken: beside the username, the password not sent back.
        let (c, csrf) = client(&app, "county_a", "/accounts").await;
        let (st, body) = post(
            &c,
            &app.url("/accounts"),
            &[
                ("csrf", csrf.clone()),
                ("username", "school_a".into()),
                ("display_name", "新校长".into()),
                ("password", "secret-pass-1".into()),
                ("role", "school_admin".into()),
                ("unit_id", w.a.to_string()),
            ],
        )
        .await;
        refused_beside(st, &body, "username", "value=\"新校长\"");
        assert!(!body.contains("secret-pass-1"));
        // A school under the county with a control character in its name.
        let (st, body) = post(
            &c,
            &app.url(&format!("/org/{}/children", w.county_a)),
            &[
                ("csrf", csrf.clone()),
                ("name", "第\u{7}中学".into()),
                ("code", "X-1".into()),
                ("school_type", "primary".into()),
            ],
        )
        .await;
        refused_beside(st, &body, "name", "value=\"X-1\"");
        // Fixed: added, and the tree says so.
        let (st, to) = post(
            &c,
            &app.url(&format!("/org/{}/children", w.county_a)),
            &[
                ("csrf", csrf.clone()),
                ("name", "第七中学".into()),
                ("code", "X-1".into()),
                ("school_type", "primary".into()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
        let (_, body) = get(&c, &app.url(&to)).await;
        assert!(
            body.contains("已添加") && body.contains("第七中学"),
            "{body}"
        );
        // A wrong old password: beside the old password.
        let (st, body) = post(
            &c,
            &app.url("/account/password"),
            &[
                ("csrf", csrf.clone()),
                ("old", "not-my-password".into()),
                ("new", "a-new-secret".into()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("id=\"err-old\""), "{body}");
        assert!(!body.contains("not-my-password"));
    }
);

both_dbs!(
    paper_excellence_and_parent_forms_keep_their_input,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let (admin, csrf) = client(
            &app,
            "school_a",
            &format!("/ps/schools/{}/sessions/new", w.a),
        )
        .await;
        let sid = new_session(&app, &admin, &csrf, w.a).await;
        let u = |p: &str| app.url(&format!("/sessions/{sid}{p}"));

        // The paper sheet of 三年级2班: a status nobody offers is refused on the sheet's
        // own page with what was chosen; a non-image scan is refused beside the file.
        let (_, paper) = get(&admin, &u("/paper")).await;
        let class = id_after(&paper, &format!("/sessions/{sid}/paper/"));
        let (st, _) = get(&admin, &u(&format!("/paper/{class}/sheet.pdf"))).await;
        assert_eq!(st, StatusCode::OK);
        let (_, paper) = get(&admin, &u("/paper")).await;
        let sheet = id_after(&paper, "<a href=\"/paper/");
        let (_, entry) = get(&admin, &app.url(&format!("/paper/{sheet}"))).await;
        let wang = id_after(&entry[entry.find("王建国").unwrap()..], "name=\"g_");
        let li = id_after(&entry[entry.find("李红梅").unwrap()..], "name=\"g_");
        let (st, body) = post(
            &admin,
            &app.url(&format!("/paper/{sheet}/marks")),
            &[
                ("csrf", csrf.clone()),
                (&format!("g_{li}"), "excused".into()),
                (&format!("g_{wang}"), "asleep".into()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("id=\"marks\""), "the sheet's own page");
        assert!(body.contains("value=\"excused\" selected"), "choice kept");
        let part =
            reqwest::multipart::Part::bytes(b"%PDF-1.4 not a scan".to_vec()).file_name("s.pdf");
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .part("file", part);
        let r = admin
            .post(app.url(&format!("/paper/{sheet}/scan")))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let st = r.status();
        refused_beside(st, &r.text().await.unwrap(), "file", "不是图片");
        let (st, _) = post(
            &admin,
            &app.url(&format!("/paper/{sheet}/marks")),
            &[
                ("csrf", csrf.clone()),
                (&format!("g_{wang}"), "present".into()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        post(
            &admin,
            &u("/lesson-plan"),
            &[("csrf", csrf.clone()), ("text", "一、导入".into())],
        )
        .await;
        post(
            &admin,
            &u("/status"),
            &[("csrf", csrf.clone()), ("status", "held".into())],
        )
        .await;

        // 王建国 attended: a reflection too short comes back with its text.
        let wang_home = login(&app, "13800000001").await;
        let (st, page) = get(&wang_home, &app.url(&format!("/p/sessions/{sid}"))).await;
        assert_eq!(st, StatusCode::OK);
        let (st, body) = post(
            &wang_home,
            &app.url(&format!("/p/sessions/{sid}/reflection")),
            &[("csrf", csrf_of(&page)), ("body", "很好".into())],
        )
        .await;
        refused_beside(st, &body, "body", ">很好</textarea>");

        // The excellent-trainee rule with a word for a number.
        let ex = app.url(&format!("/ps/schools/{}/excellence", w.a));
        let rule = |rate: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("min_rate_pct", rate.to_owned()),
                ("min_hours", "1".into()),
                ("min_reflections", "0".into()),
            ]
        };
        let (st, body) = post(&admin, &ex, &rule("全勤")).await;
        refused_beside(st, &body, "min_rate_pct", "value=\"全勤\"");
        let (st, _) = post(&admin, &ex, &rule("100")).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, page) = get(&admin, &ex).await;
        let round = id_after(&page, "/ps/excellence/");
        let e = |p: &str| app.url(&format!("/ps/excellence/{round}{p}"));
        let (st, _) = post(
            &admin,
            &e("/review"),
            &[("csrf", csrf.clone()), ("approve", wang.to_string())],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        // A notice of no days.
        let (st, body) = post(
            &admin,
            &e("/notice"),
            &[("csrf", csrf.clone()), ("days", "0".into())],
        )
        .await;
        refused_beside(st, &body, "days", "value=\"0\"");
        post(
            &admin,
            &e("/notice"),
            &[("csrf", csrf.clone()), ("days", "5".into())],
        )
        .await;

        // A parent's objection too short: on the parent's home, beside the text.
        let parent = login(&app, "13800000002").await;
        let (_, home) = get(&parent, &app.url("/p")).await;
        let pcsrf = csrf_of(&home);
        let (st, body) = post(
            &parent,
            &e("/objection").replace("/ps/excellence/", "/p/notices/"),
            &[
                ("csrf", pcsrf.clone()),
                ("guardian_id", wang.to_string()),
                ("body", "不".into()),
            ],
        )
        .await;
        refused_beside(st, &body, "body", ">不</textarea>");
        // Sent: the parent is told it was received.
        let (st, to) = post(
            &parent,
            &e("/objection").replace("/ps/excellence/", "/p/notices/"),
            &[
                ("csrf", pcsrf.clone()),
                ("guardian_id", wang.to_string()),
                ("body", "该家长本学期多次未到，请核实。".into()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
        let (_, home) = get(&parent, &app.url(&to)).await;
        assert!(home.contains("您的异议已提交"), "{home}");

        // Staff answer it: an empty reply is refused beside it; the outcome reads in
        // words, never as [dismissed].
        let (_, page) = get(&admin, &ex).await;
        let oid = id_after(&page, "/ps/objections/");
        let resolve = |text: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("round", round.to_string()),
                ("resolution", text.to_owned()),
            ]
        };
        let r = app.url(&format!("/ps/objections/{oid}/resolve"));
        let (st, body) = post(&admin, &r, &resolve("核实\0")).await;
        refused_beside(st, &body, "resolution", "id=\"err-resolution\"");
        let (st, _) = post(&admin, &r, &resolve("经核实，该家长出勤属实")).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, page) = get(&admin, &ex).await;
        assert!(page.contains("异议不成立"), "{page}");
        assert!(page.contains("经核实，该家长出勤属实"));
        assert!(!page.contains("[dismissed]"));
    }
);

both_dbs!(undoing_asks_first, |t: TestDb| async move {
    let app = TestApp::spawn(t).await;
    let w = world(&app.db).await;
    let (c, csrf) = client(
        &app,
        "school_a",
        &format!("/ps/schools/{}/sessions/new", w.a),
    )
    .await;
    let sid = new_session(&app, &c, &csrf, w.a).await;
    let (_, page) = get(&c, &app.url(&format!("/sessions/{sid}"))).await;
    // The cancel form carries its question; the script that asks it is served from our
    // own origin (the CSP allows no inline script) and every page loads it.
    assert!(page.contains("data-confirm=\"确定取消这次课吗？"), "{page}");
    assert!(page.contains("<script src=\"/assets/confirm.js\" defer></script>"));
    let (st, js) = get(&c, &app.url("/assets/confirm.js")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(js.contains("dataset.confirm") && js.contains("preventDefault"));
});

both_dbs!(
    an_attachment_is_deleted_with_its_file,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let (c, csrf) = client(
            &app,
            "school_a",
            &format!("/ps/schools/{}/sessions/new", w.a),
        )
        .await;
        let sid = new_session(&app, &c, &csrf, w.a).await;
        let part = reqwest::multipart::Part::bytes(b"agenda".to_vec()).file_name("议程.txt");
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("kind", "material")
            .part("file", part);
        let r = c
            .post(app.url(&format!("/sessions/{sid}/attachments")))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, page) = get(&c, &app.url(&format!("/sessions/{sid}"))).await;
        let aid = id_after(&page, "<a href=\"/attachments/");
        assert!(page.contains(&format!("action=\"/attachments/{aid}/delete\"")));
        let a = jiaxiao_store::parent_school::records::get_attachment(&app.db, &scope(), aid)
            .await
            .unwrap();
        let file = app.uploads.join(&a.storage_key);
        assert!(file.exists(), "{file:?}");
        // Another county's admin cannot delete it: 404, and it stays.
        jiaxiao_testkit::fixtures::staff_account(&app.db, "school_b", Role::SchoolAdmin, w.b).await;
        let (other, ocsrf) = client(&app, "school_b", &format!("/ps/schools/{}", w.b)).await;
        let (st, _) = post(
            &other,
            &app.url(&format!("/attachments/{aid}/delete")),
            &[("csrf", ocsrf)],
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert!(file.exists());
        // Its school's admin can: gone from the page and the disk, and the audit keeps it.
        let (st, to) = post(
            &c,
            &app.url(&format!("/attachments/{aid}/delete")),
            &[("csrf", csrf.clone())],
        )
        .await;
        assert_eq!(
            (st, to.as_str()),
            (StatusCode::SEE_OTHER, format!("/sessions/{sid}").as_str())
        );
        let (_, page) = get(&c, &app.url(&to)).await;
        assert!(
            page.contains("已删除") && !page.contains("议程.txt"),
            "{page}"
        );
        assert!(!file.exists());
        let audited = jiaxiao_store::db::scalar_i64(
            &app.db.conn,
            "SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'attachment' AND action = 'delete'",
            vec![],
        )
        .await
        .unwrap();
        assert_eq!(audited, 1);
    }
);
