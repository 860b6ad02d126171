//! The school-year selector (issue 10 item 11), each on SQLite and PostgreSQL: a session
//! dated in last school year is listed under that year and not under this one, last
//! year's ledger can be downloaded today, a past year takes no writes until the school's
//! admin reopens it, and a bad `?year=` is refused with a message.

use jiaxiao_domain::Role;
use jiaxiao_testkit::fixtures::{
    county_with_schools, csrf_of, get, get_bytes, import_roster, login, post, staff_account,
};
use jiaxiao_testkit::xlsx::{Reader, Sheet, Xlsx};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::StatusCode;

const ROSTER: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
A1,王小明,男,三年级,2班,王建国,父亲,13800000001\n";

/// A date inside last school year (Beijing), its `?year=` value and its name.
fn last_year() -> (chrono::NaiveDate, String, String) {
    let today = jiaxiao_store::org::today_date();
    let starts =
        jiaxiao_store::org::school_year_start(&jiaxiao_store::org::school_year_of(today).0)
            .unwrap();
    let day = starts - chrono::Duration::days(100);
    let name = jiaxiao_store::org::school_year_of(day).0;
    (day, name.trim_end_matches("学年").to_owned(), name)
}

struct World {
    school: i64,
}

async fn world(app: &TestApp) -> World {
    let c = county_with_schools(&app.db, &["甲小学"]).await;
    let school = c.schools[0];
    staff_account(&app.db, "admin", Role::SchoolAdmin, school).await;
    staff_account(&app.db, "teacher", Role::Teacher, school).await;
    import_roster(&app.db, school, ROSTER).await;
    World { school }
}

/// Plans a lecture on `date`; the status and the redirect (or the page).
async fn plan(
    c: &reqwest::Client,
    app: &TestApp,
    school: i64,
    csrf: &str,
    title: &str,
    date: chrono::NaiveDate,
) -> (StatusCode, String) {
    post(
        c,
        &app.url(&format!("/ps/schools/{school}/sessions")),
        &[
            ("csrf", csrf.to_owned()),
            ("title", title.into()),
            ("form", "lecture".into()),
            ("date", date.format("%Y-%m-%d").to_string()),
            ("time", "19:00".into()),
            ("duration_minutes", "60".into()),
            ("place", "报告厅".into()),
            ("instructor_name", "王慧敏".into()),
            ("audience", "school".into()),
        ],
    )
    .await
}

/// Reopens (`"1"`) or closes (`"0"`) last year for the school.
async fn set_open(
    c: &reqwest::Client,
    app: &TestApp,
    school: i64,
    param: &str,
    csrf: &str,
    open: &str,
) -> (StatusCode, String) {
    post(
        c,
        &app.url(&format!("/ps/schools/{school}/year-open?year={param}")),
        &[("csrf", csrf.to_owned()), ("open", open.into())],
    )
    .await
}

both_dbs!(
    a_session_of_last_year_is_listed_under_last_year,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app).await;
        let admin = login(&app, "admin").await;
        let (day, param, name) = last_year();
        let sessions = app.url(&format!("/ps/schools/{}/sessions", w.school));
        let (_, page) = get(&admin, &sessions).await;
        let csrf = csrf_of(&page);
        // The selector offers last year even before anything was recorded in it.
        assert!(page.contains("id=\"year-pick\""), "selector");
        assert!(
            page.contains(&format!("value=\"{param}\"")),
            "last year offered"
        );

        // Last year is read-only: a session dated in it is refused beside the form...
        let (st, body) = plan(&admin, &app, w.school, &csrf, "去年的家长课", day).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("该学年已结束"), "the reason is shown");
        // ...until the school's admin reopens it.
        let (st, to) = set_open(&admin, &app, w.school, &param, &csrf, "1").await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
        assert_eq!(
            to,
            format!("/ps/schools/{}/trainees?year={param}", w.school)
        );
        let (st, to) = plan(&admin, &app, w.school, &csrf, "去年的家长课", day).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
        // And one this year.
        let today = jiaxiao_store::org::today_date();
        let (st, _) = plan(&admin, &app, w.school, &csrf, "今年的家长课", today).await;
        assert_eq!(st, StatusCode::SEE_OTHER);

        let (st, now) = get(&admin, &sessions).await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            now.contains("今年的家长课") && !now.contains("去年的家长课"),
            "{now}"
        );
        let (st, then) = get(&admin, &format!("{sessions}?year={param}")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            then.contains("去年的家长课") && !then.contains("今年的家长课"),
            "{then}"
        );
        // The page names the year it shows, links keep it, and the reopened year says so.
        assert!(then.contains(&format!(" · {name} · ")), "year in the title");
        assert!(
            then.contains(&format!("{}</span>", name)),
            "year in the crumbs"
        );
        assert!(
            then.contains(&format!("/ps/schools/{}/ledger?year={param}", w.school)),
            "tabs keep the year"
        );
        assert!(then.contains("已重新开放"), "reopened banner");
        // The full name works too, and the home page shows the same year.
        let (st, _) = get(&admin, &format!("{sessions}?year={name}")).await;
        assert_eq!(st, StatusCode::OK);
        let (st, home) = get(
            &admin,
            &app.url(&format!("/ps/schools/{}?year={param}", w.school)),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        assert!(home.contains(&name));
    }
);

both_dbs!(
    last_years_ledger_can_be_downloaded_today,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app).await;
        let admin = login(&app, "admin").await;
        let (day, param, name) = last_year();
        let (_, page) = get(
            &admin,
            &app.url(&format!("/ps/schools/{}/sessions", w.school)),
        )
        .await;
        let csrf = csrf_of(&page);
        set_open(&admin, &app, w.school, &param, &csrf, "1").await;
        let (st, _) = plan(&admin, &app, w.school, &csrf, "去年的家长课", day).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        // Closed again: reading and exporting stay possible.
        let (st, _) = set_open(&admin, &app, w.school, &param, &csrf, "0").await;
        assert_eq!(st, StatusCode::SEE_OTHER);

        let ledger = app.url(&format!("/ps/schools/{}/ledger?year={param}", w.school));
        let (st, page) = get(&admin, &ledger).await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            page.contains(&format!(
                "/ps/schools/{}/ledger.xlsx?year={param}",
                w.school
            )),
            "the download keeps the year"
        );
        assert!(page.contains("（只读）"), "read-only banner");
        let sessions_sheet = |bytes: Vec<u8>| {
            let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
            let rows = Sheet::read(&mut wb, "课次");
            rows.rows()
                .iter()
                .flat_map(|r| r.iter().map(|c| c.to_string()))
                .collect::<Vec<_>>()
                .join("|")
        };
        let (st, _, x) = get_bytes(
            &admin,
            &app.url(&format!(
                "/ps/schools/{}/ledger.xlsx?year={param}",
                w.school
            )),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let sheet = sessions_sheet(x);
        assert!(sheet.contains("去年的家长课"), "last year's session");
        assert!(sheet.contains(&name), "the title names the year");
        let (st, _, x) = get_bytes(
            &admin,
            &app.url(&format!("/ps/schools/{}/ledger.xlsx", w.school)),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            !sessions_sheet(x).contains("去年的家长课"),
            "not this year's"
        );
    }
);

both_dbs!(
    a_past_year_takes_no_writes_until_reopened,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app).await;
        let admin = login(&app, "admin").await;
        let teacher = login(&app, "teacher").await;
        let (day, param, _) = last_year();
        let (_, page) = get(
            &admin,
            &app.url(&format!("/ps/schools/{}/sessions", w.school)),
        )
        .await;
        let csrf = csrf_of(&page);
        set_open(&admin, &app, w.school, &param, &csrf, "1").await;
        let (_, to) = plan(&admin, &app, w.school, &csrf, "去年的家长课", day).await;
        let sid: i64 = to.trim_start_matches("/sessions/").parse().unwrap();
        // A teacher may record the school's work but not reopen or close a year.
        let (_, tpage) = get(&teacher, &app.url(&format!("/ps/schools/{}", w.school))).await;
        let tcsrf = csrf_of(&tpage);
        let (st, _) = set_open(&teacher, &app, w.school, &param, &tcsrf, "0").await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = set_open(&admin, &app, w.school, &param, &csrf, "0").await;
        assert_eq!(st, StatusCode::SEE_OTHER);

        // Closed: the session page shows no forms, and a write is refused by the store.
        let (_, spage) = get(&admin, &app.url(&format!("/sessions/{sid}"))).await;
        assert!(!spage.contains(&format!("action=\"/sessions/{sid}/lesson-plan\"")));
        let lesson = app.url(&format!("/sessions/{sid}/lesson-plan"));
        let text = || ("text", "家庭教育的三个关键：陪伴、倾听、示范。".to_owned());
        let (st, body) = post(&admin, &lesson, &[("csrf", csrf.clone()), text()]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("（只读）"), "the page says why");
        let scope =
            jiaxiao_testkit::fixtures::staff_scope(&app.db, "admin2", Role::SchoolAdmin, w.school)
                .await;
        let e = jiaxiao_store::parent_school::sessions::set_status(
            &app.db,
            &scope,
            sid,
            jiaxiao_domain::parent_school::SessionStatus::Cancelled,
            None,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                e,
                jiaxiao_store::StoreError::Invalid {
                    code: "year_closed"
                }
            ),
            "{e:?}"
        );
        let (_, trainees) = get(
            &admin,
            &app.url(&format!("/ps/schools/{}/trainees?year={param}", w.school)),
        )
        .await;
        assert!(
            trainees.contains("id=\"year-open\""),
            "admin sees the reopen form"
        );
        assert!(
            !trainees.contains("/settings?year="),
            "settings form hidden"
        );
        let (_, tt) = get(
            &teacher,
            &app.url(&format!("/ps/schools/{}/trainees?year={param}", w.school)),
        )
        .await;
        assert!(!tt.contains("id=\"year-open\""), "a teacher does not");

        // Reopened: the same write goes through.
        let (st, to) = set_open(&admin, &app, w.school, &param, &csrf, "1").await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
        let (st, to) = post(&admin, &lesson, &[("csrf", csrf.clone()), text()]).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
        // Each reopening and closing is audited for the school.
        let n = jiaxiao_store::db::scalar_i64(
            &app.db.conn,
            "SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'school_year_reopened'",
            vec![],
        )
        .await
        .unwrap();
        assert_eq!(n, 3, "reopen, close, reopen");
        // The current year cannot be closed.
        let this = jiaxiao_store::org::school_year_of(jiaxiao_store::org::today_date()).0;
        let (st, _) = set_open(
            &admin,
            &app,
            w.school,
            this.trim_end_matches("学年"),
            &csrf,
            "0",
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

both_dbs!(
    a_bad_year_is_refused_with_a_message,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app).await;
        let admin = login(&app, "admin").await;
        for (q, message) in [
            ("2024", "学年格式不正确"),
            ("abcd-efgh", "学年格式不正确"),
            ("2024-2026", "学年格式不正确"),
            ("1890-1891", "学年格式不正确"),
            ("2090-2091", "没有该学年的记录"),
        ] {
            for path in ["/sessions", "/ledger.xlsx", "/committees", ""] {
                let url = app.url(&format!("/ps/schools/{}{path}?year={q}", w.school));
                let (st, body) = get(&admin, &url).await;
                assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
                assert!(body.contains(message), "{url}: {body}");
            }
        }
        // Empty means the current year.
        let (st, _) = get(
            &admin,
            &app.url(&format!("/ps/schools/{}/sessions?year=", w.school)),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
    }
);
