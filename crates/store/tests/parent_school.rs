//! Parent-school store tests (sessions, audiences, paper round trip, records, credits,
//! excellent trainees, roll-ups); each runs on SQLite and on PostgreSQL.

use chrono::{Duration, Utc};
use jiaxiao_domain::parent_school::{
    AttendanceStatus, Audience, ExcellenceRule, Form, SessionStatus,
};
use jiaxiao_domain::{Role, UnitKind};
use jiaxiao_store::org;
use jiaxiao_store::parent_school::sessions::{self, NewSession};
use jiaxiao_store::parent_school::{credits, excellence, paper, records, stats};
use jiaxiao_store::{Db, Scope, StoreError};
use jiaxiao_testkit::fixtures::{
    county_with_schools, import_roster, parent_scope, staff_scope, unit,
};
use jiaxiao_testkit::{TestDb, both_dbs};

const ROSTER: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
A1,王小明,男,三年级,2班,王建国,父亲,13800000001\n\
A2,王小红,女,一年级,1班,王建国,父亲,13800000001\n\
A3,李四,男,三年级,2班,李大山,爷爷,13900000003\n\
A3,李四,男,三年级,2班,李妈妈,母亲,13900000004\n\
A4,赵五,男,三年级,2班,赵妈妈,母亲,13900000002\n\
A5,孙六,女,一年级,1班,孙爸爸,父亲,13900000005\n";

struct Fx {
    county: i64,
    school: i64,
    other_school: i64,
    admin: Scope,
    other_admin: Scope,
    inspector: Scope,
    class_3_2: i64,
    class_1_1: i64,
}

async fn fixture(db: &Db) -> Fx {
    let sys = Scope::system();
    let c = county_with_schools(db, &["实验小学", "二小"]).await;
    let (county, school, other_school) = (c.county, c.schools[0], c.schools[1]);
    import_roster(db, school, ROSTER).await;
    let today = jiaxiao_store::today();
    let classes = org::units_under(db, &sys, school, UnitKind::Class, &today)
        .await
        .unwrap();
    let class_of = |grade: &str| {
        classes
            .iter()
            .find(|u| u.name.contains(grade))
            .map(|u| u.id)
            .unwrap_or_else(|| panic!("class {grade} in {classes:?}"))
    };
    let (class_3_2, class_1_1) = (class_of("三年级"), class_of("一年级"));
    Fx {
        county,
        school,
        other_school,
        admin: staff_scope(db, "admin", Role::SchoolAdmin, school).await,
        other_admin: staff_scope(db, "other", Role::SchoolAdmin, other_school).await,
        inspector: staff_scope(db, "insp", Role::Inspector, county).await,
        class_3_2,
        class_1_1,
    }
}

fn lecture(school: i64, title: &str) -> NewSession {
    NewSession {
        school_id: school,
        title: title.into(),
        form: Some(Form::Lecture),
        starts_at: Utc::now() - Duration::minutes(5),
        duration_minutes: 90,
        place: Some("报告厅".into()),
        instructor_name: "刘老师".into(),
        instructor_title: Some("高级教师".into()),
        audience: Some(Audience::School),
        ..Default::default()
    }
}

both_dbs!(sessions_audiences_and_scope, |t: TestDb| async move {
    let db = &t.db;
    let fx = fixture(db).await;
    // Refusals with reasons.
    let mut bad = lecture(fx.school, "");
    assert!(matches!(
        sessions::create_session(db, &fx.admin, bad.clone()).await,
        Err(StoreError::Invalid {
            code: "title_missing"
        })
    ));
    bad.title = "网课".into();
    bad.form = Some(Form::Online);
    assert!(matches!(
        sessions::create_session(db, &fx.admin, bad).await,
        Err(StoreError::Invalid {
            code: "online_url_missing"
        })
    ));
    // Another school's admin and an inspector cannot plan here.
    for s in [&fx.other_admin, &fx.inspector] {
        assert!(matches!(
            sessions::create_session(db, s, lecture(fx.school, "x")).await,
            Err(StoreError::NotFound)
        ));
    }
    let whole = sessions::create_session(db, &fx.admin, lecture(fx.school, "全校讲座"))
        .await
        .unwrap();
    let grade3 = sessions::create_session(
        db,
        &fx.admin,
        NewSession {
            audience: Some(Audience::Units),
            audience_units: vec![fx.class_3_2],
            form: Some(Form::Forum),
            ..lecture(fx.school, "三年级座谈")
        },
    )
    .await
    .unwrap();
    // A class of another school is refused as audience.
    let foreign = org::create_unit(
        db,
        &Scope::system(),
        org::NewUnit {
            grade_level: Some(1),
            ..unit(Some(fx.other_school), UnitKind::Grade, "一年级")
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        sessions::create_session(
            db,
            &fx.admin,
            NewSession {
                audience: Some(Audience::Units),
                audience_units: vec![foreign],
                ..lecture(fx.school, "x")
            }
        )
        .await,
        Err(StoreError::Invalid {
            code: "audience_outside_school"
        })
    ));
    // Whole school: five parents (王建国 once for two children), five children.
    let c = sessions::counts(db, &fx.admin, whole).await.unwrap();
    assert_eq!((c.invited_parents, c.invited_children), (5, 5));
    let c = sessions::counts(db, &fx.admin, grade3).await.unwrap();
    assert_eq!((c.invited_parents, c.invited_children), (4, 3));
    // The roster lists 王建国 twice on the whole-school session (one line per child).
    let r = sessions::roster(db, &fx.admin, whole, None).await.unwrap();
    assert_eq!(r.iter().filter(|l| l.guardian_name == "王建国").count(), 2);
    // Out of scope: NotFound; the inspector may read.
    assert!(matches!(
        sessions::get_session(db, &fx.other_admin, whole).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        sessions::get_session(db, &fx.inspector, whole)
            .await
            .is_ok()
    );
    // A head teacher of 三年级2班 sees the session and only their class on the roster.
    let ht = staff_scope(db, "ht", Role::HeadTeacher, fx.class_3_2).await;
    assert!(sessions::get_session(db, &ht, whole).await.is_ok());
    let r = sessions::roster(db, &ht, whole, None).await.unwrap();
    assert!(r.iter().all(|l| l.class_id == Some(fx.class_3_2)));
    assert_eq!(r.len(), 4);
    // The parent sees both sessions on their home page; 孙爸爸 (grade 1) only one.
    let wang = parent_scope(db, "13800000001").await;
    let mine = sessions::sessions_for_parent(db, &wang, None, 50)
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    let sun = parent_scope(db, "13900000005").await;
    let mine = sessions::sessions_for_parent(db, &sun, None, 50)
        .await
        .unwrap();
    assert_eq!(mine.iter().map(|s| s.id).collect::<Vec<_>>(), vec![whole]);
    // Held only with a lesson plan.
    assert!(matches!(
        sessions::set_status(db, &fx.admin, whole, SessionStatus::Held, None).await,
        Err(StoreError::Invalid {
            code: "lesson_plan_missing"
        })
    ));
    sessions::file_lesson_plan(db, &fx.admin, whole, "一、导入 二、讲授 三、交流", None)
        .await
        .unwrap();
    sessions::set_status(db, &fx.admin, whole, SessionStatus::Held, None)
        .await
        .unwrap();
    assert_eq!(
        sessions::get_session(db, &fx.admin, whole)
            .await
            .unwrap()
            .status,
        "held"
    );
    let _ = fx.county;
});

both_dbs!(
    paper_round_trip_credits_and_excellence,
    |t: TestDb| async move {
        let db = &t.db;
        let fx = fixture(db).await;
        let s1 = sessions::create_session(db, &fx.admin, lecture(fx.school, "第一讲"))
            .await
            .unwrap();
        let s2 = sessions::create_session(
            db,
            &fx.admin,
            NewSession {
                form: Some(Form::Online),
                online_url: Some("https://meeting.example/1".into()),
                duration_minutes: 60,
                ..lecture(fx.school, "线上课")
            },
        )
        .await
        .unwrap();
        // The paper sheet of 三年级2班 keeps its code between prints.
        let sheet = paper::sheet_for(db, &fx.admin, s1, fx.class_3_2)
            .await
            .unwrap();
        assert!(sheet.sheet.code.starts_with("S-"));
        assert_eq!(sheet.lines.len(), 4);
        let again = paper::sheet_by_code(db, &fx.admin, &sheet.sheet.code.to_lowercase())
            .await
            .unwrap();
        assert_eq!(again.sheet.id, sheet.sheet.id);
        // Another school cannot print it.
        assert!(matches!(
            paper::sheet_for(db, &fx.other_admin, s1, fx.class_3_2).await,
            Err(StoreError::NotFound)
        ));
        let gid = |name: &str| {
            sheet
                .lines
                .iter()
                .find(|l| l.guardian_name == name)
                .unwrap()
                .guardian_id
        };
        let (wang, li_ye, li_ma, zhao) =
            (gid("王建国"), gid("李大山"), gid("李妈妈"), gid("赵妈妈"));
        // 赵妈妈 had checked in online as present: the paper says absent → conflict.
        use sea_orm::ConnectionTrait;
        db.conn
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            db.db_backend(),
            "INSERT INTO checkin (session_id, guardian_id, status, method, checked_at, created_at) VALUES ($1, $2, 'present', 'qr', $3, $3)",
            [s1.into(), zhao.into(), Utc::now().into()],
        ))
        .await
        .unwrap();
        let rec = paper::enter_marks(
            db,
            &fx.admin,
            sheet.sheet.id,
            &[
                (wang, AttendanceStatus::Present),
                (li_ye, AttendanceStatus::Late),
                (li_ma, AttendanceStatus::Absent),
                (zhao, AttendanceStatus::Absent),
            ],
        )
        .await
        .unwrap();
        assert_eq!((rec.added, rec.agrees, rec.conflicts), (3, 0, 1));
        // A parent not on the sheet is refused and nothing is written.
        let sun_sheet = paper::sheet_for(db, &fx.admin, s1, fx.class_1_1)
            .await
            .unwrap();
        let sun = sun_sheet
            .lines
            .iter()
            .find(|l| l.guardian_name == "孙爸爸")
            .unwrap()
            .guardian_id;
        assert!(matches!(
            paper::enter_marks(
                db,
                &fx.admin,
                sheet.sheet.id,
                &[(sun, AttendanceStatus::Present)]
            )
            .await,
            Err(StoreError::Conflict { .. })
        ));
        let marks = paper::marks(db, &fx.admin, sheet.sheet.id).await.unwrap();
        assert_eq!(marks[0].resolution.as_deref(), Some("conflict"));
        assert_eq!(marks[0].online_status.as_deref(), Some("present"));
        // Staff keep the online check-in; entering the same sheet again keeps it resolved.
        paper::resolve(db, &fx.admin, sheet.sheet.id, zhao, false)
            .await
            .unwrap();
        let rec = paper::enter_marks(
            db,
            &fx.admin,
            sheet.sheet.id,
            &[(zhao, AttendanceStatus::Absent)],
        )
        .await
        .unwrap();
        assert_eq!(rec.conflicts, 0);
        let rows = paper::sheets_of(db, &fx.admin, s1).await.unwrap();
        assert_eq!(rows.iter().map(|r| r.conflicts).sum::<i64>(), 0);
        // 王建国's attendance reaches both his children (grade 1 and grade 3).
        let c = sessions::counts(db, &fx.admin, s1).await.unwrap();
        assert_eq!(c.children_reached, 4); // 王小明, 王小红, 李四, 赵五
        assert_eq!((c.present, c.late, c.absent), (2, 1, 1));

        // Credits count held sessions only.
        let year = sessions::get_session(db, &fx.admin, s1)
            .await
            .unwrap()
            .school_year_id;
        assert!(
            credits::trainees(db, &fx.admin, fx.school, year)
                .await
                .unwrap()
                .iter()
                .all(|t| t.hours == 0.0)
        );
        for s in [s1, s2] {
            sessions::file_lesson_plan(db, &fx.admin, s, "教案", None)
                .await
                .unwrap();
            sessions::set_status(db, &fx.admin, s, SessionStatus::Held, None)
                .await
                .unwrap();
        }
        let sheet2 = paper::sheet_for(db, &fx.admin, s2, fx.class_3_2)
            .await
            .unwrap();
        paper::enter_marks(
            db,
            &fx.admin,
            sheet2.sheet.id,
            &[(wang, AttendanceStatus::Present)],
        )
        .await
        .unwrap();
        let tr = credits::trainees(db, &fx.admin, fx.school, year)
            .await
            .unwrap();
        let w = tr.iter().find(|t| t.guardian_id == wang).unwrap();
        // 90 min lecture × 1.0 + 60 min online × 0.5.
        assert_eq!((w.invited, w.attended), (2, 2));
        assert!((w.hours - 2.0).abs() < 1e-9, "{}", w.hours);
        let li = tr.iter().find(|t| t.guardian_id == li_ma).unwrap();
        assert_eq!((li.invited, li.attended), (2, 0));
        let rates = credits::class_rates(db, &fx.admin, fx.school, year)
            .await
            .unwrap();
        let grades = credits::grade_rates(&rates);
        assert_eq!(grades.len(), 2);
        let school = credits::school_rate(&rates);
        assert_eq!(school.invited, 10); // 5 children × 2 sessions
        assert!(school.reached >= 5);

        // A reflection needs attendance.
        let wang_scope = parent_scope(db, "13800000001").await;
        let li_scope = parent_scope(db, "13900000004").await;
        assert!(matches!(
            records::hand_in_reflection(db, &li_scope, s1, "很有收获的一次讲座，谢谢老师").await,
            Err(StoreError::Invalid {
                code: "not_attended"
            })
        ));
        records::hand_in_reflection(db, &wang_scope, s1, "很有收获的一次讲座，谢谢老师")
            .await
            .unwrap();
        assert_eq!(
            records::session_reflections(db, &fx.admin, s1)
                .await
                .unwrap()
                .len(),
            1
        );

        // Excellent trainees: compute → review → notice → objection → award.
        let rule = ExcellenceRule {
            min_attendance_rate: 1.0,
            min_hours: 1.0,
            min_reflections: 1,
            ..Default::default()
        };
        let round = excellence::compute(db, &fx.admin, fx.school, year, &rule)
            .await
            .unwrap();
        let view = excellence::get_round(db, &fx.admin, fx.school, year)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            view.nominees
                .iter()
                .map(|n| n.guardian_id)
                .collect::<Vec<_>>(),
            vec![wang]
        );
        assert_eq!(view.nominees[0].reason().unwrap().reflections, 1);
        assert!(matches!(
            excellence::start_notice(db, &fx.admin, round, 5).await,
            Err(StoreError::Invalid {
                code: "review_first"
            })
        ));
        excellence::review(db, &fx.admin, round, &[wang])
            .await
            .unwrap();
        excellence::start_notice(db, &fx.admin, round, 5)
            .await
            .unwrap();
        // Parents of the school see the notice and may object; recomputing is locked.
        let notices = excellence::public_notices(db, &li_scope).await.unwrap();
        assert_eq!(notices[0].nominees[0].1, "王建国");
        let obj = excellence::raise_objection(db, &li_scope, round, wang, "该家长有两次未到场")
            .await
            .unwrap();
        assert!(matches!(
            excellence::compute(db, &fx.admin, fx.school, year, &rule).await,
            Err(StoreError::Invalid {
                code: "round_locked"
            })
        ));
        assert!(matches!(
            excellence::award(db, &fx.admin, round, true).await,
            Err(StoreError::Invalid {
                code: "objections_open"
            })
        ));
        assert!(matches!(
            excellence::award(db, &fx.admin, round, false).await,
            Err(StoreError::Invalid { .. })
        ));
        excellence::resolve_objection(db, &fx.admin, obj, "经核实签到记录完整", false)
            .await
            .unwrap();
        assert_eq!(
            excellence::award(db, &fx.admin, round, true).await.unwrap(),
            1
        );
        let certs = excellence::my_certificates(db, &wang_scope).await.unwrap();
        assert_eq!(certs.len(), 1);
        assert!(certs[0].certificate_no.is_some());
        // Another parent cannot fetch that certificate round.
        assert!(matches!(
            excellence::certificate_round(db, &li_scope, round).await,
            Err(StoreError::NotFound)
        ));

        // The county's roll-up sees the held sessions; the other school none.
        let roll = stats::rollup(
            db,
            &fx.inspector,
            fx.county,
            year,
            jiaxiao_store::org::today_naive(),
            stats::RollupBy::School,
        )
        .await
        .unwrap();
        let ours = roll.iter().find(|r| r.unit_id == fx.school).unwrap();
        assert_eq!(
            (ours.held, ours.counted, ours.online, ours.excellent),
            (2, 1, 1, 1)
        );
        let st = stats::school_stats(db, &fx.admin, fx.school, year)
            .await
            .unwrap();
        assert_eq!(st.held, 2);
        assert_eq!(
            stats::checkin_lines(db, &fx.admin, fx.school, year, None)
                .await
                .unwrap()
                .len(),
            5
        );
        assert!(matches!(
            stats::school_stats(db, &fx.other_admin, fx.school, year).await,
            Err(StoreError::NotFound)
        ));
    }
);

both_dbs!(attachments_check_their_kind, |t: TestDb| async move {
    let db = &t.db;
    let fx = fixture(db).await;
    let dir = tempfile::tempdir().unwrap();
    let blobs = jiaxiao_store::blobs::Blobs::new(dir.path());
    let s = sessions::create_session(db, &fx.admin, lecture(fx.school, "讲座"))
        .await
        .unwrap();
    let png = b"\x89PNG\r\n\x1a\n0000";
    let new = |kind: &'static str, bytes: &'static [u8]| records::NewAttachment {
        school_year_id: None,
        school_id: fx.school,
        session_id: Some(s),
        kind,
        file_name: "a.png",
        bytes,
    };
    assert!(matches!(
        records::add_attachment(db, &blobs, &fx.admin, new(records::KIND_PHOTO, b"GIF89a")).await,
        Err(StoreError::Invalid {
            code: "not_an_image"
        })
    ));
    assert!(matches!(
        records::add_attachment(db, &blobs, &fx.other_admin, new(records::KIND_PHOTO, png)).await,
        Err(StoreError::NotFound)
    ));
    let id = records::add_attachment(db, &blobs, &fx.admin, new(records::KIND_PHOTO, png))
        .await
        .unwrap();
    let a = records::get_attachment(db, &fx.admin, id).await.unwrap();
    assert_eq!(a.content_type, "image/png");
    assert_eq!(blobs.get(&a.storage_key).await.unwrap(), png);
    assert!(matches!(
        records::get_attachment(db, &fx.other_admin, id).await,
        Err(StoreError::NotFound)
    ));
    // A file of a year's record outside any session (a round's seal) passes the year's
    // check too: last year, closed, keeps no new file — not even an orphan.
    let last_year = org::ensure_school_year(
        &db.conn,
        org::school_year_start(&org::school_year_of(org::today_naive()).0).unwrap()
            - Duration::days(1),
    )
    .await
    .unwrap();
    let seal = |year: i64| records::NewAttachment {
        school_year_id: Some(year),
        session_id: None,
        ..new(records::KIND_SEAL, png)
    };
    let before = records::school_attachments(db, &fx.admin, fx.school, records::KIND_SEAL)
        .await
        .unwrap()
        .len();
    assert!(matches!(
        records::add_attachment(db, &blobs, &fx.admin, seal(last_year)).await,
        Err(StoreError::Invalid {
            code: "year_closed"
        })
    ));
    assert_eq!(
        records::school_attachments(db, &fx.admin, fx.school, records::KIND_SEAL)
            .await
            .unwrap()
            .len(),
        before
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join(fx.school.to_string()))
            .map(|d| d.count())
            .unwrap_or(0),
        1,
        "only the photo's bytes are kept"
    );
    let this_year = org::ensure_school_year(&db.conn, org::today_naive())
        .await
        .unwrap();
    records::add_attachment(db, &blobs, &fx.admin, seal(this_year))
        .await
        .unwrap();
});

/// Places `csv` in `school` for the school year holding `day` (the fixture's import is
/// this year's; a session a month out may fall in the next one).
async fn roster_for_day(db: &Db, school: i64, day: chrono::NaiveDate, csv: &str) {
    use jiaxiao_domain::roster::{detect_header, parse_rows, read_table};
    let t = read_table(csv.as_bytes()).unwrap();
    let h = detect_header(&t).unwrap();
    let parsed = parse_rows(&t, h.header_index, &h.mapping);
    let year = org::ensure_school_year(&db.conn, day).await.unwrap();
    jiaxiao_store::roster::apply(
        db,
        &Scope::system(),
        school,
        year,
        &parsed.rows,
        "t.csv",
        |_, _| {},
    )
    .await
    .unwrap();
}

/// 10:00 in Beijing on `day`.
fn beijing_ten(day: chrono::NaiveDate) -> chrono::DateTime<Utc> {
    use chrono::TimeZone;
    Utc.from_utc_datetime(&day.and_hms_opt(2, 0, 0).unwrap())
}

both_dbs!(
    reads_within_a_school_follow_the_tree_on_their_day,
    |t: TestDb| async move {
        let db = &t.db;
        let fx = fixture(db).await;
        let today = org::today_naive();
        let (before, moved_on) = (today + Duration::days(1), today + Duration::days(30));
        let after = moved_on + Duration::days(1);
        const OTHER: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
            B1,吴小乙,男,三年级,1班,吴乙父,父亲,13700000001\n";
        for day in [before, after] {
            roster_for_day(db, fx.school, day, ROSTER).await;
            roster_for_day(db, fx.other_school, day, OTHER).await;
        }
        let grade_b = org::units_under(
            db,
            &Scope::system(),
            fx.other_school,
            UnitKind::Grade,
            &jiaxiao_store::today(),
        )
        .await
        .unwrap()[0]
            .id;
        // 三年级2班 (A1, A3, A4) joins the other school next month.
        org::move_unit(
            db,
            &Scope::system(),
            fx.class_3_2,
            grade_b,
            &moved_on.format("%Y-%m-%d").to_string(),
        )
        .await
        .unwrap();
        let at = |school: i64, day: chrono::NaiveDate, title: &str| NewSession {
            starts_at: beijing_ten(day),
            ..lecture(school, title)
        };
        let a_before = sessions::create_session(db, &fx.admin, at(fx.school, before, "月内讲座"))
            .await
            .unwrap();
        let a_after = sessions::create_session(db, &fx.admin, at(fx.school, after, "迁出后讲座"))
            .await
            .unwrap();
        let b_after = sessions::create_session(
            db,
            &fx.other_admin,
            at(fx.other_school, after, "迁入后讲座"),
        )
        .await
        .unwrap();
        // Before the move the class is still the old school's: its roster and counts.
        let classes_of = |lines: &[sessions::RosterLine]| {
            let mut c: Vec<i64> = lines.iter().filter_map(|l| l.class_id).collect();
            c.sort();
            c.dedup();
            c
        };
        let r = sessions::roster(db, &fx.admin, a_before, None)
            .await
            .unwrap();
        assert!(classes_of(&r).contains(&fx.class_3_2), "{r:?}");
        let c = sessions::counts(db, &fx.admin, a_before).await.unwrap();
        assert_eq!(c.invited_children, 5, "{c:?}");
        // A session dated after the move invites it at its new school, not the old one.
        let r = sessions::roster(db, &fx.admin, a_after, None)
            .await
            .unwrap();
        assert_eq!(classes_of(&r), vec![fx.class_1_1]);
        let c = sessions::counts(db, &fx.admin, a_after).await.unwrap();
        assert_eq!(c.invited_children, 2, "{c:?}");
        // (Who may see whom is today's tree: the new school's staff see the class's
        // parents from the move on.)
        let r = sessions::roster(db, &Scope::system(), b_after, None)
            .await
            .unwrap();
        assert!(classes_of(&r).contains(&fx.class_3_2), "{r:?}");
        let c = sessions::counts(db, &fx.other_admin, b_after)
            .await
            .unwrap();
        assert_eq!(c.invited_children, 4, "{c:?}");
        // An audience is checked against the tree on the session's day.
        let units = |day, title: &str| NewSession {
            audience: Some(Audience::Units),
            audience_units: vec![fx.class_3_2],
            ..at(fx.school, day, title)
        };
        sessions::create_session(db, &fx.admin, units(before, "三年级2班座谈"))
            .await
            .unwrap();
        assert!(matches!(
            sessions::create_session(db, &fx.admin, units(after, "迁出后座谈")).await,
            Err(StoreError::Invalid {
                code: "audience_outside_school"
            })
        ));
        // A parent of the class sees the old school's session this month and the new
        // school's after the move.
        let zhao = parent_scope(db, "13900000002").await;
        let mine: Vec<i64> = sessions::sessions_for_parent(db, &zhao, None, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert!(
            mine.contains(&a_before) && mine.contains(&b_after),
            "{mine:?}"
        );
        assert!(!mine.contains(&a_after), "{mine:?}");
        // Held, this month's session makes the class's parents the old school's trainees
        // and gives the class its rate there.
        sessions::file_lesson_plan(db, &fx.admin, a_before, "教案", None)
            .await
            .unwrap();
        sessions::set_status(db, &fx.admin, a_before, SessionStatus::Held, None)
            .await
            .unwrap();
        let year = org::ensure_school_year(&db.conn, before).await.unwrap();
        let trainees = credits::trainees(db, &fx.admin, fx.school, year)
            .await
            .unwrap();
        let names: Vec<&str> = trainees.iter().map(|t| t.name.as_str()).collect();
        assert!(
            names.contains(&"赵妈妈") && names.contains(&"李大山"),
            "{names:?}"
        );
        let rates = credits::class_rates(db, &fx.admin, fx.school, year)
            .await
            .unwrap();
        assert!(
            rates.iter().any(|r| r.class_id == fx.class_3_2),
            "{rates:?}"
        );
    }
);

both_dbs!(
    checkin_lines_in_chunks_are_the_whole_read,
    |t: TestDb| async move {
        use sea_orm::ConnectionTrait;
        let db = &t.db;
        let fx = fixture(db).await;
        let year = org::current_school_year(&db.conn).await.unwrap();
        let mut ids = Vec::new();
        for (i, title) in ["第一讲", "第二讲", "第三讲", "无人到场"]
            .iter()
            .enumerate()
        {
            let mut s = lecture(fx.school, title);
            // Out of creation order: the chunks follow the sessions' times.
            s.starts_at = Utc::now() - Duration::days([3, 1, 2, 4][i]);
            ids.push(sessions::create_session(db, &fx.admin, s).await.unwrap());
        }
        for s in &ids[..3] {
            db.conn
                .execute_raw(sea_orm::Statement::from_sql_and_values(
                    db.db_backend(),
                    "INSERT INTO checkin (session_id, guardian_id, status, method, checked_at, created_at) \
                     SELECT $1, g.id, 'present', 'qr', $2, $2 FROM guardian g",
                    [(*s).into(), Utc::now().into()],
                ))
                .await
                .unwrap();
        }
        // Two parents of one name: the key's parent id keeps them apart.
        db.conn
            .execute_unprepared(
                "UPDATE guardian SET name = '李家长' WHERE name IN ('李大山', '李妈妈')",
            )
            .await
            .unwrap();
        let ht = staff_scope(db, "ht", Role::HeadTeacher, fx.class_3_2).await;
        for scope in [&fx.admin, &ht] {
            let whole = stats::checkin_lines(db, scope, fx.school, year, None)
                .await
                .unwrap();
            let key = |l: &stats::CheckinLine| (l.session_id, l.guardian_id, l.phone.clone());
            let want: Vec<_> = whole.iter().map(key).collect();
            assert!(want.len() >= 6, "{want:?}");
            for chunk in [1, 2, 3, 5, 1000] {
                let mut r = stats::CheckinLineChunks::open(db, scope, fx.school, year, chunk)
                    .await
                    .unwrap();
                let mut got = Vec::new();
                while let Some(lines) = r.next(db).await.unwrap() {
                    assert!(!lines.is_empty() && lines.len() as u64 <= chunk);
                    got.extend(lines.iter().map(key));
                }
                assert_eq!(got, want, "chunks of {chunk}");
            }
        }
        // The head teacher sees their class's parents with masked numbers.
        let ht_lines = stats::checkin_lines(db, &ht, fx.school, year, None)
            .await
            .unwrap();
        assert!(ht_lines.len() < 15);
        assert!(matches!(
            stats::CheckinLineChunks::open(db, &fx.other_admin, fx.school, year, 10).await,
            Err(StoreError::NotFound)
        ));
    }
);
