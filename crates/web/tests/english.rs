//! The staff and parent pages in English carry no Chinese of their own (issue 10 item
//! 17): school years, counts and column headers come from the locale files. Names and
//! other user data stay as typed. Each on SQLite and PostgreSQL.

use jiaxiao_domain::Role;
use jiaxiao_domain::parent_school::{Audience, Form, SessionStatus};
use jiaxiao_store::Scope;
use jiaxiao_store::parent_school::sessions::{self, NewSession};
use jiaxiao_testkit::fixtures::{county_with_schools, get, import_roster, login, staff_account};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::StatusCode;

const ROSTER: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
A1,王小明,男,三年级,2班,王建国,父亲,13800000001\n\
A2,王小红,女,一年级,1班,王建国,父亲,13800000001\n";

/// User data of the world below, as typed or as the roster names it: removed from a
/// page before it is searched for Chinese.
const DATA: &[&str] = &[
    "省",
    "市",
    "区",
    "Sunrise Primary",
    "王小明",
    "王小红",
    "王建国",
    "三年级",
    "一年级",
    "(2)班",
    "(1)班",
    "报告厅",
    "刘老师",
    "心得",
    // The language switch names the other language in its own script.
    "中文",
];

/// The first Chinese characters left on a page once user data is taken out, with
/// some context; scripts and styles are skipped.
fn chinese_left(html: &str) -> Option<String> {
    let mut text = html.to_owned();
    for tag in ["script", "style"] {
        while let Some(i) = text.find(&format!("<{tag}")) {
            let end = text[i..]
                .find(&format!("</{tag}>"))
                .map(|j| i + j + tag.len() + 3)
                .unwrap_or(text.len());
            text.replace_range(i..end, "");
        }
    }
    for d in DATA {
        text = text.replace(d, "");
    }
    // The shipped topic catalogue is content the school adopts and edits, as typed.
    for school_type in [None]
        .into_iter()
        .chain(jiaxiao_domain::SchoolType::ALL.iter().copied().map(Some))
    {
        for topic in jiaxiao_domain::parent_school::default_topics(school_type) {
            text = text.replace(topic, "");
        }
    }
    let is_cjk = |c: char| matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}');
    let at = text.char_indices().find(|(_, c)| is_cjk(*c))?.0;
    let from = text[..at]
        .char_indices()
        .rev()
        .nth(60)
        .map(|(i, _)| i)
        .unwrap_or(0);
    Some(
        text[from..]
            .chars()
            .take(160)
            .collect::<String>()
            .replace('\n', " "),
    )
}

/// Codes the store keeps (forms, statuses, audiences) seen as words of a page's text:
/// a Chinese page shows them in words.
fn codes_left(html: &str) -> Vec<String> {
    const CODES: &[&str] = &[
        "lecture",
        "parent_class",
        "open_day",
        "forum",
        "online",
        "breakout",
        "planned",
        "held",
        "cancelled",
        "present",
        "late",
        "absent",
        "excused",
        "school",
        "units",
        "parents",
        "leadership",
        "committee",
        "computed",
        "reviewed",
        "notice",
        "awarded",
    ];
    let body = html.split("<body").nth(1).unwrap_or(html);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| CODES.contains(w))
        .map(str::to_owned)
        .collect()
}

both_dbs!(
    english_pages_carry_no_chinese_chrome,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let c = county_with_schools(&app.db, &["Sunrise Primary"]).await;
        let school = c.schools[0];
        staff_account(&app.db, "admin", Role::SchoolAdmin, school).await;
        import_roster(&app.db, school, ROSTER).await;
        // A held session with a reflection, so counts and the trainee list have lines.
        let admin_scope =
            jiaxiao_testkit::fixtures::staff_scope(&app.db, "admin2", Role::SchoolAdmin, school)
                .await;
        let sid = sessions::create_session(
            &app.db,
            &admin_scope,
            NewSession {
                school_id: school,
                title: "Lecture one".into(),
                form: Some(Form::Lecture),
                starts_at: chrono::Utc::now() - chrono::Duration::minutes(5),
                duration_minutes: 60,
                place: Some("报告厅".into()),
                instructor_name: "刘老师".into(),
                audience: Some(Audience::School),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        sessions::file_lesson_plan(&app.db, &admin_scope, sid, "plan", None)
            .await
            .unwrap();
        sessions::set_status(&app.db, &admin_scope, sid, SessionStatus::Held, None)
            .await
            .unwrap();
        let _ = Scope::system();

        let admin = login(&app, "admin").await;
        let year = jiaxiao_store::org::school_year_of(jiaxiao_store::org::today_date()).0;
        let years = year.trim_end_matches("学年").to_owned();
        for path in [
            format!("/ps/schools/{school}"),
            format!("/ps/schools/{school}/sessions"),
            format!("/sessions/{sid}"),
            format!("/ps/schools/{school}/trainees"),
            format!("/ps/schools/{school}/ledger"),
            format!("/ps/schools/{school}/committees"),
            format!("/ps/schools/{school}/curriculum"),
            format!("/ps/schools/{school}/activities"),
            format!("/ps/schools/{school}/excellence"),
            "/people?kind=guardians".to_owned(),
        ] {
            // In Chinese first: no code of the store shown as it is stored.
            let (_, zh) = get(&admin, &app.url(&path)).await;
            let codes = codes_left(&zh);
            assert!(
                codes.is_empty(),
                "{path}: codes in the Chinese page: {codes:?}"
            );
            get(&admin, &app.url("/lang/en")).await;
            let (st, page) = get(&admin, &app.url(&path)).await;
            get(&admin, &app.url("/lang/zh")).await;
            assert_eq!(st, StatusCode::OK, "{path}");
            if let Some(left) = chinese_left(&page) {
                panic!("{path}: Chinese in the English page: …{left}…");
            }
            if path.ends_with("/committees") {
                assert!(
                    page.contains(&format!("School year {years}")),
                    "{path}: the year in English"
                );
            }
        }
        // The parents list counts the children the school can see, and says so.
        get(&admin, &app.url("/lang/en")).await;
        let (_, page) = get(&admin, &app.url("/people?kind=guardians")).await;
        assert!(page.contains("Children here"), "column header");
    }
);
