//! Review leftovers of issue 10, each on SQLite and PostgreSQL: awarding and upholding
//! an objection ask first, refused committee and meeting-day forms keep the school year
//! they were posted in, an admin cannot revoke their own last managing role, and every
//! form's credit weight is kept by the settings form.

use jiaxiao_domain::Role;
use jiaxiao_domain::parent_school::ExcellenceRule;
use jiaxiao_store::Scope;
use jiaxiao_store::parent_school::excellence;
use jiaxiao_testkit::fixtures::{
    county_with_schools, csrf_of, get, import_roster, login, personal_data_world, post,
    staff_account,
};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::StatusCode;

const ROSTER: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
A1,王小明,男,三年级,2班,王建国,父亲,13800000001\n";

/// Last school year: its `?year=` value and its stored name.
fn last_year() -> (String, String) {
    use jiaxiao_store::org;
    let today = org::today_date();
    let starts = org::school_year_start(&org::school_year_of(today).0).unwrap();
    let name = org::school_year_of(starts - chrono::Duration::days(1)).0;
    (name.trim_end_matches("学年").to_owned(), name)
}

both_dbs!(awarding_and_upholding_ask_first, |t: TestDb| async move {
    let app = TestApp::spawn(t).await;
    let w = personal_data_world(&app.db).await;
    let sys = Scope::system();
    let year =
        jiaxiao_store::org::ensure_school_year(&app.db.conn, jiaxiao_store::org::today_date())
            .await
            .unwrap();
    let round = excellence::compute(
        &app.db,
        &sys,
        w.tree.school_b,
        year,
        &ExcellenceRule {
            min_attendance_rate: 0.0,
            min_hours: 0.0,
            min_reflections: 0,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    excellence::review(&app.db, &sys, round, &[w.guardians[2]])
        .await
        .unwrap();
    excellence::start_notice(&app.db, &sys, round, 5)
        .await
        .unwrap();
    excellence::raise_objection(
        &app.db,
        &sys,
        round,
        w.guardians[2],
        "该家长实际很少到校参加活动",
    )
    .await
    .unwrap();
    let admin = login(&app, "admin_b").await;
    let (_, page) = get(
        &admin,
        &app.url(&format!("/ps/schools/{}/excellence", w.tree.school_b)),
    )
    .await;
    assert!(
        page.contains("id=\"award\" data-confirm=\"确定确认表彰吗？"),
        "the award asks first"
    );
    assert!(
        page.contains("data-confirm=\"确定认定异议成立吗？该家长将被取消评选资格。\" data-confirm-if=\"upheld\""),
        "upholding asks first"
    );
});

both_dbs!(
    refused_committee_and_meeting_day_forms_keep_their_year,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let c = county_with_schools(&app.db, &["甲小学"]).await;
        let school = c.schools[0];
        staff_account(&app.db, "admin", Role::SchoolAdmin, school).await;
        import_roster(&app.db, school, ROSTER).await;
        let admin = login(&app, "admin").await;
        let (param, name) = last_year();
        let committees = app.url(&format!("/ps/schools/{school}/committees?year={param}"));
        let (_, page) = get(&admin, &committees).await;
        let csrf = csrf_of(&page);
        // Last year is reopened, so its pages carry forms.
        let (st, _) = post(
            &admin,
            &app.url(&format!("/ps/schools/{school}/year-open?year={param}")),
            &[("csrf", csrf.clone()), ("open", "1".into())],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let grade = jiaxiao_store::org::units_under(
            &app.db,
            &Scope::system(),
            school,
            jiaxiao_domain::UnitKind::Grade,
            &jiaxiao_store::today(),
        )
        .await
        .unwrap()[0]
            .id;
        // A leadership group at a grade is refused: the page again is last year's.
        let (st, body) = post(
            &admin,
            &committees,
            &[
                ("csrf", csrf.clone()),
                ("kind", "leadership".into()),
                ("unit_id", grade.to_string()),
                ("name", String::new()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body.contains(&format!(
                "action=\"/ps/schools/{school}/committees?year={param}\" id=\"new-committee\""
            )),
            "the form posts to last year again"
        );
        assert!(body.contains(&format!("id=\"year-name\">{name}</span>")));
        // Made there, a body is last year's.
        let (st, to) = post(
            &admin,
            &committees,
            &[
                ("csrf", csrf.clone()),
                ("kind", "committee".into()),
                ("unit_id", school.to_string()),
                ("name", "往年家委会".into()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
        assert!(to.contains(&format!("?year={param}")), "{to}");
        let (_, page) = get(&admin, &committees).await;
        assert!(page.contains("往年家委会"), "listed under last year");
        let (_, now) = get(
            &admin,
            &app.url(&format!("/ps/schools/{school}/committees")),
        )
        .await;
        assert!(!now.contains("往年家委会"), "not this year");

        // A meeting day without a theme, posted from last year's list.
        let activities = app.url(&format!("/ps/schools/{school}/activities?year={param}"));
        let (st, body) = post(
            &admin,
            &activities,
            &[
                ("csrf", csrf.clone()),
                ("theme", String::new()),
                ("date", "2000-01-01".into()),
                ("start", "09:00".into()),
                ("end", "11:00".into()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body.contains(&format!(
                "action=\"/ps/schools/{school}/activities?year={param}\" id=\"new-activity\""
            )),
            "the form posts to last year again"
        );
        assert!(body.contains(&format!("id=\"year-name\">{name}</span>")));
    }
);

both_dbs!(
    an_admin_cannot_revoke_their_own_last_managing_role,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let c = county_with_schools(&app.db, &["甲小学"]).await;
        let school = c.schools[0];
        let me = staff_account(&app.db, "admin", Role::SchoolAdmin, school).await;
        let admin = login(&app, "admin").await;
        let (_, grants) =
            jiaxiao_store::accounts::account_with_grants(&app.db, &Scope::system(), me)
                .await
                .unwrap();
        let gid = grants[0].grant_id;
        let page_url = app.url(&format!("/accounts/users/{me}"));
        let revoke = app.url(&format!("/accounts/users/{me}/grants/{gid}/revoke"));
        let (st, page) = get(&admin, &page_url).await;
        assert_eq!(st, StatusCode::OK);
        let csrf = csrf_of(&page);
        let (st, body) = post(&admin, &revoke, &[("csrf", csrf.clone())]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body.contains("id=\"revoke-refused\">这是您在该单位及以上唯一可管理账号的角色"),
            "{body}"
        );
        let (st, _) = get(&admin, &app.url("/lang/en")).await;
        assert!(st.is_redirection() || st.is_success());
        let (st, body) = post(&admin, &revoke, &[("csrf", csrf.clone())]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body.contains("This is your only role that manages accounts"),
            "{body}"
        );
        // The grant is still there; the county's admin may revoke it.
        staff_account(&app.db, "county", Role::CountyAdmin, c.county).await;
        let county = login(&app, "county").await;
        let (_, page) = get(&county, &page_url).await;
        let (st, _) = post(&county, &revoke, &[("csrf", csrf_of(&page))]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
    }
);

both_dbs!(every_form_keeps_its_credit_weight, |t: TestDb| async move {
    let app = TestApp::spawn(t).await;
    let c = county_with_schools(&app.db, &["甲小学"]).await;
    let school = c.schools[0];
    staff_account(&app.db, "admin", Role::SchoolAdmin, school).await;
    let admin = login(&app, "admin").await;
    let trainees = app.url(&format!("/ps/schools/{school}/trainees"));
    let (_, page) = get(&admin, &trainees).await;
    for form in jiaxiao_domain::parent_school::Form::ALL {
        assert!(
            page.contains(&format!("name=\"{}\"", form.code())),
            "a weight for {form:?}"
        );
    }
    let settings = app.url(&format!("/ps/schools/{school}/settings"));
    let mut form = vec![
        ("csrf", csrf_of(&page)),
        ("lecture", "1".to_owned()),
        ("parent_class", "2".to_owned()),
        ("open_day", "1".to_owned()),
        ("forum", "1".to_owned()),
        ("online", "0.5".to_owned()),
        ("breakout", "1.5".to_owned()),
        ("opens_before_minutes", "30".to_owned()),
        ("closes_after_minutes", "120".to_owned()),
        ("late_after_minutes", "10".to_owned()),
    ];
    let (st, _) = post(&admin, &settings, &form).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let year =
        jiaxiao_store::org::ensure_school_year(&app.db.conn, jiaxiao_store::org::today_date())
            .await
            .unwrap();
    let saved = jiaxiao_store::parent_school::settings(&app.db.conn, school, year)
        .await
        .unwrap();
    assert_eq!(saved.weight("parent_class"), 2.0);
    assert_eq!(saved.weight("breakout"), 1.5);
    assert_eq!(saved.credit_hours("parent_class", 90), 3.0);
    // A form without the two (an older page) keeps them.
    form.retain(|(k, _)| *k != "parent_class" && *k != "breakout");
    form.iter_mut().find(|(k, _)| *k == "lecture").unwrap().1 = "1.2".into();
    let (st, _) = post(&admin, &settings, &form).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let saved = jiaxiao_store::parent_school::settings(&app.db.conn, school, year)
        .await
        .unwrap();
    assert_eq!(saved.weight("lecture"), 1.2);
    assert_eq!(saved.weight("parent_class"), 2.0);
    assert_eq!(saved.weight("breakout"), 1.5);
});
