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
    assert!(!body.contains("id=\"request-id\""), "the error page: {body}");
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
