//! HTTP tests of the parent school's organisation, curriculum and activity pages, each
//! on SQLite and PostgreSQL: render, write through forms with the CSRF token, print,
//! download, and stay out of another school.

use jiaxiao_domain::{Role, UnitKind};
use jiaxiao_store::org;
use jiaxiao_store::parent_school::{committees, curriculum};
use jiaxiao_store::people::{self, NewStaff};
use jiaxiao_store::{Db, Scope};
use jiaxiao_testkit::fixtures::{
    county_with_schools, csrf_of, get as page, import_roster, login, post, staff_account,
};
use jiaxiao_testkit::xlsx::{Reader, Sheet, Xlsx};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::StatusCode;

struct World {
    school_a: i64,
    school_b: i64,
}

const ROSTER_A: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
A1,王小明,男,三年级,2班,王建国,父亲,13800000001\n\
A2,李小花,女,三年级,1班,李大山,爷爷,13800000002\n";
const ROSTER_B: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
B1,吴小乙,男,三年级,2班,吴乙父,父亲,13900000001\n";

async fn world(db: &Db) -> World {
    let c = county_with_schools(db, &["甲小学", "乙小学"]).await;
    let (school_a, school_b) = (c.schools[0], c.schools[1]);
    staff_account(db, "school_a", Role::SchoolAdmin, school_a).await;
    staff_account(db, "school_b", Role::SchoolAdmin, school_b).await;
    import_roster(db, school_a, ROSTER_A).await;
    import_roster(db, school_b, ROSTER_B).await;
    World { school_a, school_b }
}

fn s(v: impl ToString) -> String {
    v.to_string()
}

both_dbs!(committee_pages_and_roster, |t: TestDb| async move {
    let app = TestApp::spawn(t).await;
    let w = world(&app.db).await;
    let principal = people::create_staff(
        &app.db,
        &Scope::system(),
        NewStaff {
            unit_id: w.school_a,
            name: "张校长".into(),
            phone: Some("13700000001".into()),
            position: Some("校长".into()),
        },
    )
    .await
    .unwrap();
    let c = login(&app, "school_a").await;
    let base = app.url(&format!("/ps/schools/{}/committees", w.school_a));
    let (st, html) = page(&c, &base).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"new-committee\""));
    assert!(html.contains("三年级(2)班"));
    let csrf = csrf_of(&html);

    // A forged token is refused; then the leadership group and a class committee,
    // both named after their kind and level when no name is given.
    let (st, _) = post(
        &c,
        &base,
        &[
            ("csrf", s("forged")),
            ("unit_id", s(w.school_a)),
            ("kind", s("leadership")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, to) = post(
        &c,
        &base,
        &[
            ("csrf", csrf.clone()),
            ("unit_id", s(w.school_a)),
            ("kind", s("leadership")),
            ("name", s("")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(to.starts_with(&format!("/ps/schools/{}/committees#c", w.school_a)));
    let class32 = org::units_under(
        &app.db,
        &Scope::system(),
        w.school_a,
        UnitKind::Class,
        &jiaxiao_store::today(),
    )
    .await
    .unwrap()
    .into_iter()
    .find(|u| u.name == "三年级(2)班")
    .unwrap()
    .id;
    let (st, _) = post(
        &c,
        &base,
        &[
            ("csrf", csrf.clone()),
            ("unit_id", s(class32)),
            ("kind", s("committee")),
            ("name", s("")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let year = org::current_school_year(&app.db.conn).await.unwrap();
    let bodies = committees::list_committees(&app.db, &Scope::system(), w.school_a, year)
        .await
        .unwrap();
    assert_eq!(bodies[0].name, "家长学校工作领导小组");
    assert_eq!(bodies[1].name, "三年级(2)班家长委员会");
    let (lead, pc) = (bodies[0].id, bodies[1].id);

    // Members: the principal as 组长; a parent found by phone as 主任.
    let (st, _) = post(
        &c,
        &format!("{base}/{lead}/members"),
        &[
            ("csrf", csrf.clone()),
            ("staff_id", s(principal)),
            ("position", s("head")),
            ("note", s("")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, html) = page(&c, &format!("{base}?committee={pc}&q=13800000001")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("王建国"));
    // Only the class's own parents are offered: 李大山's child is in class 1.
    let (_, other_class) = page(&c, &format!("{base}?committee={pc}&q=李大山")).await;
    assert!(!other_class.contains("13800000002"));
    let wang = people::list_guardians(
        &app.db,
        &Scope::system(),
        &people::Query {
            q: Some("13800000001".into()),
            limit: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap()[0]
        .id;
    assert!(html.contains(&format!("name=\"guardian_id\" value=\"{wang}\"")));
    let (st, _) = post(
        &c,
        &format!("{base}/{pc}/members"),
        &[
            ("csrf", csrf.clone()),
            ("guardian_id", s(wang)),
            ("position", s("chair")),
            ("note", s("家委会主任")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    // A parent of another school is refused with the reason.
    let foreign = people::list_guardians(
        &app.db,
        &Scope::system(),
        &people::Query {
            q: Some("13900000001".into()),
            limit: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap()[0]
        .id;
    let (st, body) = post(
        &c,
        &format!("{base}/{pc}/members"),
        &[
            ("csrf", csrf.clone()),
            ("guardian_id", s(foreign)),
            ("position", s("committee_member")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("只能选择本校"), "{body}");

    let (_, html) = page(&c, &base).await;
    assert!(html.contains("组长") && html.contains("张校长"));
    assert!(html.contains("主任") && html.contains("王小明（三年级(2)班）"));

    // The printed roster: one table per body, print styles.
    let (st, html) = page(&c, &format!("{base}/print")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("/assets/print.css"));
    assert!(html.contains("家长学校组织机构名单"));
    assert_eq!(html.matches("<table class=\"ruled\">").count(), 2);
    assert!(html.find("张校长").unwrap() < html.find("王建国").unwrap());
    let (st, css) = page(&c, &app.url("/assets/print.css")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(css.contains("@media print"));

    // The spreadsheet opens and lists both members, heads first.
    let r = c.get(format!("{base}/roster.xlsx")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let sheet = wb.sheet_names()[0].clone();
    let rows: Vec<Vec<String>> = Sheet::read(&mut wb, &sheet).text_rows();
    assert_eq!(rows[1][2], "职务");
    assert_eq!(
        rows[2],
        vec![
            "家长学校工作领导小组",
            "甲小学",
            "组长",
            "张校长",
            "13700000001",
            ""
        ]
    );
    assert_eq!(rows[3][2..5], ["主任", "王建国", "13800000001"]);

    // Removing a member and dissolving a body.
    let member = committees::members(&app.db, &Scope::system(), pc)
        .await
        .unwrap()[0]
        .id;
    let (st, _) = post(
        &c,
        &format!("{base}/members/{member}/remove"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);

    // Another school's staff see nothing and change nothing here.
    let b = login(&app, "school_b").await;
    assert_eq!(page(&b, &base).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        page(&b, &format!("{base}/print")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        page(&b, &format!("{base}/roster.xlsx")).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, own) = page(
        &b,
        &app.url(&format!("/ps/schools/{}/committees", w.school_b)),
    )
    .await;
    let b_csrf = csrf_of(&own);
    let (st, _) = post(&b, &format!("{base}/{lead}/delete"), &[("csrf", b_csrf)]).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = post(
        &c,
        &format!("{base}/{pc}/delete"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(
        committees::list_committees(&app.db, &Scope::system(), w.school_a, year)
            .await
            .unwrap()
            .len(),
        1
    );
});

both_dbs!(curriculum_and_meeting_day_pages, |t: TestDb| async move {
    let app = TestApp::spawn(t).await;
    let w = world(&app.db).await;
    let c = login(&app, "school_a").await;
    let cur = app.url(&format!("/ps/schools/{}/curriculum", w.school_a));
    let (st, html) = page(&c, &cur).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"defaults-note\""));
    assert!(html.contains("更新家教观念，做智慧型父母"));
    assert!(html.contains("洞悉世事，练达友情，让孩子学会生活"));
    let csrf = csrf_of(&html);
    let (st, _) = post(
        &c,
        &format!("{cur}/topics"),
        &[
            ("csrf", csrf.clone()),
            ("title", s("隔代教育的智慧")),
            ("description", s("")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let topics = curriculum::list_topics(&app.db, &Scope::system(), w.school_a)
        .await
        .unwrap();
    assert!(topics.stored);
    assert_eq!(topics.topics.len(), 10);
    let (first, added) = (topics.topics[0].id, topics.topics[9].id);
    let (st, _) = post(
        &c,
        &format!("{cur}/topics/{added}/move"),
        &[("csrf", csrf.clone()), ("dir", s("up"))],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _) = post(
        &c,
        &format!("{cur}/topics/{first}"),
        &[
            ("csrf", csrf.clone()),
            ("title", s("更新家教观念，做智慧型家长")),
            ("description", s("开学第一课")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _) = post(
        &c,
        &format!("{cur}/courses"),
        &[
            ("csrf", csrf.clone()),
            ("topic_id", s(first)),
            ("grade_level", s(3)),
            ("semester", s(1)),
            ("title", s("")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, body) = post(
        &c,
        &format!("{cur}/courses"),
        &[
            ("csrf", csrf.clone()),
            ("topic_id", s(first)),
            ("grade_level", s(3)),
            ("semester", s(5)),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("学期"), "{body}");
    let (_, html) = page(&c, &cur).await;
    assert!(!html.contains("id=\"defaults-note\""));
    assert!(html.contains("更新家教观念，做智慧型家长") && html.contains("开学第一课"));
    assert!(html.find("隔代教育的智慧").unwrap() < html.find("洞悉世事").unwrap());
    assert!(html.contains("第一学期"));
    assert!(html.contains("id=\"coverage-this-year\"") && html.contains("三年级"));

    // The parents' meeting day: header, a collective item, breakouts for two classes
    // (each its own session), a duty, then the page and the run sheet.
    let acts = app.url(&format!("/ps/schools/{}/activities", w.school_a));
    let (st, html) = page(&c, &acts).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"new-activity\""));
    // Today's date keeps the day in this school year's list.
    let date = jiaxiao_store::today();
    let (st, to) = post(
        &c,
        &acts,
        &[
            ("csrf", csrf.clone()),
            ("theme", s("家校携手 共育英才")),
            ("date", date.clone()),
            ("start", s("14:00")),
            ("end", s("16:30")),
            ("place", s("学校操场")),
            ("participants", s("全体学生及家长学校学员")),
            ("organiser", s("德育处")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(to.starts_with(&format!("/ps/schools/{}/activities/", w.school_a)));
    let day = app.url(&to);
    let (st, _) = post(
        &c,
        &format!("{day}/items"),
        &[
            ("csrf", csrf.clone()),
            ("part", s("collective")),
            ("title", s("校长致欢迎辞")),
            ("speaker", s("校长")),
            ("time", s("14:00")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let classes: Vec<(i64, String)> = org::units_under(
        &app.db,
        &Scope::system(),
        w.school_a,
        UnitKind::Class,
        &jiaxiao_store::today(),
    )
    .await
    .unwrap()
    .into_iter()
    .map(|u| (u.id, u.name))
    .collect();
    assert_eq!(classes.len(), 2);
    let (st, _) = post(
        &c,
        &format!("{day}/breakouts"),
        &[
            ("csrf", csrf.clone()),
            ("class_id", s(classes[0].0)),
            ("class_id", s(classes[1].0)),
            ("title", s("学员培训")),
            ("instructor_staff_id", s("")),
            ("instructor_name", s("")),
            ("place", s("")),
            ("time", s("14:40")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _) = post(
        &c,
        &format!("{day}/duties"),
        &[
            ("csrf", csrf.clone()),
            ("person", s("6.1班")),
            ("duty", s("清扫会场")),
            ("place", s("操场")),
            ("time_text", s("会后")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _) = post(
        &c,
        &day,
        &[
            ("csrf", csrf.clone()),
            ("theme", s("家校携手 共育英才")),
            ("date", date.clone()),
            ("start", s("14:00")),
            ("end", s("16:30")),
            ("place", s("学校操场")),
            ("participants", s("全体学生及家长学校学员")),
            ("organiser", s("德育处")),
            ("venue_notes", s("教室内家长坐前排，学生坐后排")),
            ("survey_ref", s("家长调查表")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);

    let (st, html) = page(&c, &day).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("校长致欢迎辞"));
    for (_, name) in &classes {
        assert!(html.contains(&format!("{name}班主任")), "{name}");
        assert!(html.contains(&format!("{name}教室")), "{name}");
    }
    assert_eq!(html.matches("href=\"/sessions/").count(), 2);
    assert!(html.contains("家长调查表") && html.contains("教室内家长坐前排"));
    let (st, sheet) = page(&c, &format!("{day}/print")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(sheet.contains("/assets/print.css"));
    assert!(sheet.contains(&format!("{date} 14:00–16:30")));
    assert!(sheet.contains("第一部分：集体活动") && sheet.contains("第二部分"));
    assert!(sheet.contains("人员安排") && sheet.contains("6.1班") && sheet.contains("清扫会场"));
    assert!(sheet.contains("三年级(2)班教室") && sheet.contains("14:40"));
    let (_, list) = page(&c, &acts).await;
    assert!(list.contains("家校携手 共育英才"));
    // Breakouts need at least one class.
    let (st, body) = post(
        &c,
        &format!("{day}/breakouts"),
        &[("csrf", csrf.clone()), ("title", s("学员培训"))],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Another school's staff get 404 on every page and form of this school.
    let b = login(&app, "school_b").await;
    for url in [&cur, &acts, &day, &format!("{day}/print")] {
        assert_eq!(page(&b, url).await.0, StatusCode::NOT_FOUND, "{url}");
    }
    let (_, own) = page(
        &b,
        &app.url(&format!("/ps/schools/{}/curriculum", w.school_b)),
    )
    .await;
    let b_csrf = csrf_of(&own);
    let (st, _) = post(
        &b,
        &format!("{cur}/topics"),
        &[("csrf", b_csrf.clone()), ("title", s("x"))],
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = post(
        &b,
        &format!("{day}/duties"),
        &[("csrf", b_csrf), ("person", s("x")), ("duty", s("x"))],
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
});
