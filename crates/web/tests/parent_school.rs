//! HTTP tests of a parent-school year through the pages, each on SQLite and PostgreSQL:
//! plan a session, lesson plan before held, paper sheet round trip, photos, reflections,
//! trainees, excellent trainees to certificates, the ledger XLSX and the PDF dossier job,
//! the office overview — and nothing of it visible from another school.

use jiaxiao_domain::Role;
use jiaxiao_store::Db;
use jiaxiao_testkit::fixtures::{
    county_with_schools, csrf_of, get, get_bytes as bytes, import_roster, login, parent_scope,
    post, staff_account,
};
use jiaxiao_testkit::xlsx::{Reader, Sheet, Xlsx};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::StatusCode;

const ROSTER: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
A1,王小明,男,三年级,2班,王建国,父亲,13800000001\n\
A2,王小红,女,一年级,1班,王建国,父亲,13800000001\n\
A3,李四,男,三年级,2班,李大山,爷爷,13900000003\n";

struct World {
    county: i64,
    school_a: i64,
    school_b: i64,
}

async fn world(db: &Db) -> World {
    let c = county_with_schools(db, &["甲小学", "乙小学"]).await;
    let (school_a, school_b) = (c.schools[0], c.schools[1]);
    staff_account(db, "school_a", Role::SchoolAdmin, school_a).await;
    staff_account(db, "school_b", Role::SchoolAdmin, school_b).await;
    staff_account(db, "county", Role::CountyAdmin, c.county).await;
    import_roster(db, school_a, ROSTER).await;
    // 王建国 has an account (as after redeeming an invitation).
    parent_scope(db, "13800000001").await;
    World {
        county: c.county,
        school_a,
        school_b,
    }
}

/// The first number after `prefix` in `html`.
fn id_after(html: &str, prefix: &str) -> i64 {
    let i = html
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix} in page"))
        + prefix.len();
    html[i..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap()
}

/// A real photo-sized JPEG (bigger than what is kept, so it is scaled down).
fn photo() -> Vec<u8> {
    let img = image::DynamicImage::new_rgb8(2400, 1800);
    let mut out = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut out),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    out
}

both_dbs!(a_year_through_the_pages, |t: TestDb| async move {
    let app = TestApp::spawn(t).await;
    let w = world(&app.db).await;
    let admin = login(&app, "school_a").await;
    let r = admin.get(app.url("/ps")).send().await.unwrap();
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, format!("/ps/schools/{}", w.school_a));
    let (_, home) = get(&admin, &app.url(&to)).await;
    assert!(home.contains("data-chart="), "dashboard charts");

    // Plan a session starting now (Beijing time).
    let (st, form) = get(
        &admin,
        &app.url(&format!("/ps/schools/{}/sessions/new", w.school_a)),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    // Parent classes can be planned; meeting-day breakouts only come with their day.
    assert!(form.contains("value=\"parent_class\"") && !form.contains("value=\"breakout\""));
    let csrf = csrf_of(&form);
    let now = chrono::Utc::now() + chrono::Duration::hours(8) - chrono::Duration::minutes(5);
    let (st, to) = post(
        &admin,
        &app.url(&format!("/ps/schools/{}/sessions", w.school_a)),
        &[
            ("csrf", csrf.clone()),
            ("title", "读懂孩子的心".into()),
            ("form", "lecture".into()),
            ("date", now.format("%Y-%m-%d").to_string()),
            ("time", now.format("%H:%M").to_string()),
            ("duration_minutes", "90".into()),
            ("place", "报告厅".into()),
            ("instructor_name", "王慧敏".into()),
            ("instructor_title", "教授".into()),
            ("audience", "school".into()),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let sid: i64 = to.trim_start_matches("/sessions/").parse().unwrap();
    let u = |p: &str| app.url(&format!("/sessions/{sid}{p}"));
    // A text reminder goes to the two invited parents, none checked in yet.
    let (_, to) = post(
        &admin,
        &app.url(&format!("/sessions/{sid}/remind")),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert!(to.ends_with("msg=reminded&n=2"), "{to}");
    let texts = jiaxiao_store::db::scalar_i64(
        &app.db.conn,
        "SELECT COUNT(*) AS n FROM sms_outbox WHERE body LIKE '%读懂孩子的心%'",
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(texts, 2);
    // Held is refused until the lesson plan is filed.
    let (_, to) = post(
        &admin,
        &u("/status"),
        &[("csrf", csrf.clone()), ("status", "held".into())],
    )
    .await;
    assert!(to.ends_with("msg=lesson_plan_missing"), "{to}");
    post(
        &admin,
        &u("/lesson-plan"),
        &[("csrf", csrf.clone()), ("text", "一、导入 二、讲授".into())],
    )
    .await;
    post(
        &admin,
        &u("/status"),
        &[("csrf", csrf.clone()), ("status", "held".into())],
    )
    .await;
    let (_, page) = get(&admin, &u("")).await;
    assert!(
        page.contains("已开课") && page.contains("一、导入"),
        "held with plan"
    );

    // A photo of the session.
    let part = reqwest::multipart::Part::bytes(photo()).file_name("p.jpg");
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("kind", "photo")
        .part("file", part);
    let r = admin
        .post(u("/attachments"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = get(&admin, &u("")).await;
    let photo = id_after(&page, "<img src=\"/attachments/");
    let (st, ct, _) = bytes(&admin, &app.url(&format!("/attachments/{photo}"))).await;
    assert_eq!((st, ct.as_str()), (StatusCode::OK, "image/jpeg"));

    // Paper: print the sheet of 三年级2班, tick 王建国 present, see it counted.
    let (_, paper) = get(&admin, &u("/paper")).await;
    let class = id_after(&paper, &format!("/sessions/{sid}/paper/"));
    let (st, ct, pdf) = bytes(&admin, &u(&format!("/paper/{class}/sheet.pdf"))).await;
    assert_eq!((st, ct.as_str()), (StatusCode::OK, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF"));
    let (_, paper) = get(&admin, &u("/paper")).await;
    let sheet = id_after(&paper, "<a href=\"/paper/");
    let (_, entry) = get(&admin, &app.url(&format!("/paper/{sheet}"))).await;
    let wang = id_after(
        &entry[entry.find("王建国").expect("王建国 on the sheet")..],
        "name=\"g_",
    );
    let (st, to) = post(
        &admin,
        &app.url(&format!("/paper/{sheet}/marks")),
        &[
            ("csrf", csrf.clone()),
            (&format!("g_{wang}"), "present".into()),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(to.contains("added=1"), "{to}");

    // Trainees: 王建国 has 1.5 hours.
    let (_, tr) = get(
        &admin,
        &app.url(&format!("/ps/schools/{}/trainees", w.school_a)),
    )
    .await;
    assert!(tr.contains("王建国") && tr.contains("1.5"), "hours");

    // The parent sees the session, hands in a reflection; staff see it.
    let parent = login(&app, "13800000001").await;
    let (_, p) = get(&parent, &app.url("/p")).await;
    assert!(p.contains("读懂孩子的心"), "parent home lists the session");
    let (_, ps) = get(&parent, &app.url(&format!("/p/sessions/{sid}"))).await;
    let (st, _) = post(
        &parent,
        &app.url(&format!("/p/sessions/{sid}/reflection")),
        &[
            ("csrf", csrf_of(&ps)),
            ("body", "回家后和孩子聊了很久，很有收获。".into()),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, page) = get(&admin, &u("")).await;
    assert!(page.contains("很有收获"));

    // Excellent trainees: rule → review → notice → award → certificate PDF.
    let ex = app.url(&format!("/ps/schools/{}/excellence", w.school_a));
    post(
        &admin,
        &ex,
        &[
            ("csrf", csrf.clone()),
            ("min_rate_pct", "100".into()),
            ("min_hours", "1".into()),
            ("min_reflections", "1".into()),
        ],
    )
    .await;
    let (_, page) = get(&admin, &ex).await;
    assert!(
        page.contains("王建国") && page.contains("100.0%"),
        "nominee with reason"
    );
    let round = id_after(&page, "/ps/excellence/");
    let e = |p: &str| app.url(&format!("/ps/excellence/{round}{p}"));
    let (st, _) = post(
        &admin,
        &e("/review"),
        &[("csrf", csrf.clone()), ("approve", wang.to_string())],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    post(
        &admin,
        &e("/notice"),
        &[("csrf", csrf.clone()), ("days", "5".into())],
    )
    .await;
    let (_, p) = get(&parent, &app.url("/p")).await;
    assert!(
        p.contains("优秀学员公示"),
        "the parent sees the public notice"
    );
    post(
        &admin,
        &e("/award"),
        &[("csrf", csrf.clone()), ("end_early", "1".into())],
    )
    .await;
    let (st, ct, pdf) = bytes(&admin, &e("/certificates.pdf")).await;
    assert_eq!((st, ct.as_str()), (StatusCode::OK, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF"));
    let (st, _, pdf) = bytes(&parent, &app.url(&format!("/p/certificates/{round}"))).await;
    assert_eq!(st, StatusCode::OK);
    assert!(pdf.starts_with(b"%PDF"));

    // The ledger workbook opens with its sheets and the check-in.
    let (st, _, x) = bytes(
        &admin,
        &app.url(&format!("/ps/schools/{}/ledger.xlsx", w.school_a)),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(x)).unwrap();
    let names = wb.sheet_names().to_vec();
    assert!(
        names.contains(&"课次".to_string()) && names.contains(&"签到明细".to_string()),
        "{names:?}"
    );
    let rows = Sheet::read(&mut wb, "签到明细");
    assert_eq!(rows.height(), 3, "title, header, one check-in");

    // The PDF dossier renders in the background; its progress page ends with a link.
    let ledger = app.url(&format!("/ps/schools/{}/ledger", w.school_a));
    let (st, _) = post(
        &admin,
        &app.url(&format!("/ps/schools/{}/dossier", w.school_a)),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let mut link = None;
    for _ in 0..600 {
        let (_, page) = get(&admin, &ledger).await;
        if page.contains("class=\"dossier-link\"") {
            link = Some(id_after(&page, "<a href=\"/attachments/"));
            break;
        }
        assert!(!page.contains("class=\"alert\""), "dossier failed: {page}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (st, ct, pdf) = bytes(
        &admin,
        &app.url(&format!("/attachments/{}", link.expect("dossier done"))),
    )
    .await;
    assert_eq!((st, ct.as_str()), (StatusCode::OK, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF") && pdf.len() > 10_000);

    // The county sees the school in its roll-up.
    let county = login(&app, "county").await;
    let (_, ov) = get(&county, &app.url(&format!("/ps/units/{}", w.county))).await;
    assert!(ov.contains("甲小学") && ov.contains("id=\"target\""));
    // It says what the target counts, and a target not yet reached is a figure, not an
    // alarm (issue 10).
    assert!(
        ov.contains("计入目标的学习形式：专家讲座、家长课堂"),
        "{ov}"
    );
    assert!(ov.contains("class=\"neutral\" id=\"target\""), "{ov}");
    let (st, _, x) = bytes(
        &county,
        &app.url(&format!("/ps/units/{}/rollup.xlsx", w.county)),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(Xlsx::new(std::io::Cursor::new(x)).is_ok());

    // Another school's admin sees none of it.
    let other = login(&app, "school_b").await;
    for path in [
        format!("/sessions/{sid}"),
        format!("/sessions/{sid}/paper/{class}/sheet.pdf"),
        format!("/paper/{sheet}"),
        format!("/attachments/{photo}"),
        format!("/ps/schools/{}", w.school_a),
        format!("/ps/schools/{}/ledger.xlsx", w.school_a),
        format!("/ps/excellence/{round}/certificates.pdf"),
    ] {
        let (st, _) = get(&other, &app.url(&path)).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
    }
    let (st, _) = post(
        &other,
        &u("/lesson-plan"),
        &[
            (
                "csrf",
                csrf_of(
                    &get(&other, &app.url(&format!("/ps/schools/{}", w.school_b)))
                        .await
                        .1,
                ),
            ),
            ("text", "x".into()),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
});

// A head teacher's live board counts their own class; a parent opening a cancelled
// session is told so rather than shown "not found".
both_dbs!(
    head_teacher_board_and_cancelled_session,
    |t: TestDb| async move {
        use chrono::Utc;
        use jiaxiao_domain::parent_school::{AttendanceStatus, SessionStatus};
        use jiaxiao_store::Scope;
        use jiaxiao_store::checkin::{self, Mark};
        use jiaxiao_store::parent_school::sessions::{self, NewSession};

        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let db = &app.db;
        let sys = Scope::system();
        let class_11 = jiaxiao_store::db::scalar_i64(
            &db.conn,
            "SELECT u.id AS n FROM org_unit u JOIN org_closure c ON c.descendant_id = u.id \
         WHERE c.ancestor_id = $1 AND u.kind = 'class' AND u.grade_level = 1",
            vec![w.school_a.into()],
        )
        .await
        .unwrap();
        staff_account(db, "head_11", Role::HeadTeacher, class_11).await;
        let new = |title: &str| NewSession {
            school_id: w.school_a,
            title: title.into(),
            starts_at: Utc::now(),
            duration_minutes: 60,
            instructor_name: "张老师".into(),
            ..Default::default()
        };
        // The whole school: 王建国 (children in 1-1 and 3-2) and 李大山 (3-2).
        let sid = sessions::create_session(db, &sys, new("全校家长会"))
            .await
            .unwrap();
        let roster = sessions::roster(db, &sys, sid, None).await.unwrap();
        let li = roster
            .iter()
            .find(|l| l.guardian_name == "李大山")
            .unwrap()
            .guardian_id;
        checkin::mark(
            db,
            &sys,
            sid,
            &[Mark {
                guardian_id: li,
                status: AttendanceStatus::Present,
            }],
        )
        .await
        .unwrap();
        let board = format!("/sessions/{sid}/checkins");
        let (st, page) = get(&login(&app, "school_a").await, &app.url(&board)).await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            page.contains(r#"<strong id="came">1</strong> / 2"#),
            "school: 1 of 2"
        );
        let (st, page) = get(&login(&app, "head_11").await, &app.url(&board)).await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            page.contains(r#"<strong id="came">0</strong> / 1"#),
            "class 1-1: only 王建国 is theirs"
        );

        let gone = sessions::create_session(db, &sys, new("改期的讲座"))
            .await
            .unwrap();
        sessions::set_status(db, &sys, gone, SessionStatus::Cancelled, None)
            .await
            .unwrap();
        let parent = login(&app, "13800000001").await;
        let (st, page) = get(&parent, &app.url(&format!("/p/sessions/{gone}"))).await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            page.contains("改期的讲座") && page.contains("已取消"),
            "{page}"
        );
        assert!(
            !page.contains(&format!("/p/checkin/{gone}")),
            "no check-in button"
        );
        let (_, home) = get(&parent, &app.url("/p")).await;
        assert!(
            !home.contains("改期的讲座"),
            "cancelled sessions leave the list"
        );
    }
);
