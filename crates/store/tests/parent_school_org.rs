//! Store tests of the parent school's organisation, curriculum and meeting days
//! (DOMAIN.md §1), each on SQLite and PostgreSQL.

use chrono::{Duration, SubsecRound, Utc};
use jiaxiao_domain::parent_school::{ActivityPart, CommitteeKind, Position, SessionStatus};
use jiaxiao_domain::roster::{detect_header, parse_rows, read_table};
use jiaxiao_domain::{Role, SchoolType, UnitKind};
use jiaxiao_store::org::{self, NewUnit, UnitRow};
use jiaxiao_store::parent_school::activities::{self, NewActivity, NewBreakout, NewDuty, NewItem};
use jiaxiao_store::parent_school::committees::{self, NewCommittee, NewMember};
use jiaxiao_store::parent_school::curriculum::{self, NewCourse};
use jiaxiao_store::parent_school::sessions::{self, NewSession};
use jiaxiao_store::people::{self, NewStaff, Query};
use jiaxiao_store::{Db, Scope, StoreError};
use jiaxiao_testkit::fixtures::{staff_scope, two_counties, unit};
use jiaxiao_testkit::{TestDb, both_dbs};

/// Places a roster in `school` for the school year containing `date`.
async fn import(db: &Db, school: i64, date: chrono::NaiveDate, text: &str) -> i64 {
    let t = read_table(text.as_bytes()).unwrap();
    let h = detect_header(&t).unwrap();
    let parsed = parse_rows(&t, h.header_index, &h.mapping);
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
    let year = org::ensure_school_year(&db.conn, date).await.unwrap();
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
    year
}

const ROSTER_A: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
A1,王小明,男,三年级,2班,王建国,父亲,13800000001\n\
A2,李小花,女,三年级,2班,李大山,爷爷,13800000002\n\
A3,赵小东,男,三年级,1班,赵妈妈,妈妈,13800000003\n\
A4,钱小北,男,三年级,1班,钱爸爸,父亲,13800000004\n\
A5,孙小西,女,一年级,1班,孙妈妈,妈妈,13800000005\n\
A6,周小南,女,六年级,1班,周爸爸,父亲,13800000006\n";

const ROSTER_B: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
B1,吴小乙,男,三年级,2班,吴乙父,父亲,13900000001\n";

async fn units(db: &Db, school: i64, kind: UnitKind) -> Vec<UnitRow> {
    org::units_under(db, &Scope::system(), school, kind, &jiaxiao_store::today())
        .await
        .unwrap()
}

async fn unit_named(db: &Db, school: i64, kind: UnitKind, name: &str) -> i64 {
    units(db, school, kind)
        .await
        .into_iter()
        .find(|u| u.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
        .id
}

async fn guardian(db: &Db, phone: &str) -> i64 {
    people::list_guardians(
        db,
        &Scope::system(),
        &Query {
            q: Some(phone.into()),
            limit: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap()[0]
        .id
}

async fn staff(db: &Db, at: i64, name: &str, position: &str) -> i64 {
    people::create_staff(
        db,
        &Scope::system(),
        NewStaff {
            unit_id: at,
            name: name.into(),
            phone: None,
            position: Some(position.into()),
        },
    )
    .await
    .unwrap()
}

fn invalid(r: Result<impl std::fmt::Debug, StoreError>) -> &'static str {
    match r {
        Err(StoreError::Invalid { code }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "expected NotFound, got {r:?}"
    );
}

fn member(position: Position, staff_id: Option<i64>, guardian_id: Option<i64>) -> NewMember {
    NewMember {
        position,
        staff_id,
        guardian_id,
        note: None,
    }
}

both_dbs!(committees_at_three_levels, |t: TestDb| async move {
    let db = &t.db;
    let tr = two_counties(db).await;
    let today = org::today_date();
    import(db, tr.school_a, today, ROSTER_A).await;
    import(db, tr.school_b, today, ROSTER_B).await;
    let admin = staff_scope(db, "admin_a", Role::SchoolAdmin, tr.school_a).await;
    let principal = staff(db, tr.school_a, "张校长", "校长").await;
    let moral = staff(db, tr.school_a, "李主任", "德育处主任").await;
    let teacher = staff(db, tr.school_a, "王老师", "班主任").await;
    let foreign_staff = staff(db, tr.school_b, "乙校长", "校长").await;
    let grade3 = unit_named(db, tr.school_a, UnitKind::Grade, "三年级").await;
    let class32 = unit_named(db, tr.school_a, UnitKind::Class, "三年级(2)班").await;
    let [wang, li, zhao, qian, sun, zhou] = [
        guardian(db, "13800000001").await,
        guardian(db, "13800000002").await,
        guardian(db, "13800000003").await,
        guardian(db, "13800000004").await,
        guardian(db, "13800000005").await,
        guardian(db, "13800000006").await,
    ];
    let foreign_parent = guardian(db, "13900000001").await;

    let new = |unit_id, kind, name: &str| NewCommittee {
        school_id: tr.school_a,
        school_year_id: None,
        unit_id,
        kind,
        name: name.into(),
    };
    // School level: the leadership group (staff) and the school's parent committee.
    let lead = committees::create_committee(
        db,
        &admin,
        new(
            tr.school_a,
            CommitteeKind::Leadership,
            "家长学校工作领导小组",
        ),
    )
    .await
    .unwrap();
    let school_pc = committees::create_committee(
        db,
        &admin,
        new(tr.school_a, CommitteeKind::Committee, "家长委员会"),
    )
    .await
    .unwrap();
    // Grade and class level, and the refusals of a body in the wrong place.
    let grade_pc = committees::create_committee(
        db,
        &admin,
        new(grade3, CommitteeKind::Committee, "三年级家长委员会"),
    )
    .await
    .unwrap();
    let class_pc = committees::create_committee(
        db,
        &admin,
        new(class32, CommitteeKind::Committee, "三年级(2)班家长委员会"),
    )
    .await
    .unwrap();
    assert_eq!(
        invalid(
            committees::create_committee(db, &admin, new(grade3, CommitteeKind::Leadership, "x"))
                .await
        ),
        "leadership_at_school_only"
    );
    assert_eq!(
        invalid(
            committees::create_committee(
                db,
                &admin,
                new(tr.school_b, CommitteeKind::Committee, "x")
            )
            .await
        ),
        "unit_outside_school"
    );
    assert_eq!(
        invalid(
            committees::create_committee(db, &admin, new(grade3, CommitteeKind::Committee, " "))
                .await
        ),
        "name_missing"
    );

    // Every leadership position, held by staff of this school only.
    for (p, s) in [
        (Position::Member, teacher),
        (Position::Deputy, moral),
        (Position::Head, principal),
    ] {
        committees::add_member(db, &admin, lead, member(p, Some(s), None))
            .await
            .unwrap();
    }
    assert_eq!(
        invalid(
            committees::add_member(
                db,
                &admin,
                lead,
                member(Position::Member, Some(foreign_staff), None)
            )
            .await
        ),
        "staff_not_at_school"
    );
    assert_eq!(
        invalid(
            committees::add_member(
                db,
                &admin,
                lead,
                member(Position::Chair, Some(teacher), None)
            )
            .await
        ),
        "position_not_in_body"
    );
    assert_eq!(
        invalid(
            committees::add_member(db, &admin, lead, member(Position::Member, None, Some(wang)))
                .await
        ),
        "member_missing"
    );

    // Every parent-committee position, held by parents of this school.
    for (p, g) in [
        (Position::Contact, zhou),
        (Position::CommitteeMember, sun),
        (Position::SecretaryGeneral, qian),
        (Position::ViceChair, zhao),
        (Position::ViceChair, li),
        (Position::Chair, wang),
    ] {
        committees::add_member(db, &admin, school_pc, member(p, None, Some(g)))
            .await
            .unwrap();
    }
    // A parent of another school is refused, and so is a second chair or the same
    // parent twice.
    assert_eq!(
        invalid(
            committees::add_member(
                db,
                &admin,
                school_pc,
                member(Position::CommitteeMember, None, Some(foreign_parent))
            )
            .await
        ),
        "guardian_not_at_school"
    );
    assert_eq!(
        invalid(
            committees::add_member(
                db,
                &admin,
                grade_pc,
                member(Position::Chair, None, Some(wang))
            )
            .await
            .map(|_| ())
            .and(
                committees::add_member(
                    db,
                    &admin,
                    grade_pc,
                    member(Position::Chair, None, Some(li))
                )
                .await
            )
        ),
        "position_taken"
    );
    assert_eq!(
        invalid(
            committees::add_member(
                db,
                &admin,
                school_pc,
                member(Position::CommitteeMember, None, Some(wang))
            )
            .await
        ),
        "already_member"
    );
    // A class committee takes that class's parents only: 孙妈妈's child is in grade 1.
    assert_eq!(
        invalid(
            committees::add_member(
                db,
                &admin,
                class_pc,
                member(Position::CommitteeMember, None, Some(sun))
            )
            .await
        ),
        "guardian_not_at_school"
    );
    let class_chair = committees::add_member(
        db,
        &admin,
        class_pc,
        member(Position::Chair, None, Some(li)),
    )
    .await
    .unwrap();
    let contact = committees::add_member(
        db,
        &admin,
        class_pc,
        NewMember {
            position: Position::Contact,
            guardian_id: Some(wang),
            staff_id: None,
            note: Some("  负责班级群  ".into()),
        },
    )
    .await
    .unwrap();

    // The roster: the leadership group first, then school, grade and class committees,
    // each by position rank.
    let year = org::current_school_year(&db.conn).await.unwrap();
    let lines = committees::roster_for_year(db, &admin, tr.school_a, year)
        .await
        .unwrap();
    let summary: Vec<(String, String, String)> = lines
        .iter()
        .map(|l| {
            (
                l.level_name.clone(),
                l.position.clone(),
                l.person_name.clone(),
            )
        })
        .collect();
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        summary,
        vec![
            s("甲小学", "head", "张校长"),
            s("甲小学", "deputy", "李主任"),
            s("甲小学", "member", "王老师"),
            s("甲小学", "chair", "王建国"),
            s("甲小学", "vice_chair", "赵妈妈"),
            s("甲小学", "vice_chair", "李大山"),
            s("甲小学", "secretary_general", "钱爸爸"),
            s("甲小学", "committee_member", "孙妈妈"),
            s("甲小学", "contact", "周爸爸"),
            s("三年级", "chair", "王建国"),
            s("三年级(2)班", "chair", "李大山"),
            s("三年级(2)班", "contact", "王建国"),
        ]
    );
    assert_eq!(lines[0].kind, "leadership");
    assert_eq!(lines[3].committee_name, "家长委员会");
    assert_eq!(lines[3].phone.as_deref(), Some("13800000001"));
    assert_eq!(lines[11].note.as_deref(), Some("负责班级群"));
    // The printed roster names each parent's child and class.
    let bodies = committees::bodies(db, &admin, tr.school_a, year)
        .await
        .unwrap();
    assert_eq!(bodies.len(), 4);
    let (chair, children) = &bodies[1].members[0];
    assert_eq!(chair.person_name, "王建国");
    assert_eq!(children[0].pupil_name, "王小明");
    assert_eq!(children[0].class_name.as_deref(), Some("三年级(2)班"));

    committees::remove_member(db, &admin, contact)
        .await
        .unwrap();
    assert_eq!(
        committees::members(db, &admin, class_pc)
            .await
            .unwrap()
            .len(),
        1
    );

    // Scope: a teacher of the other school sees and changes nothing here; the county
    // sees the roster; an inspector reads but cannot write.
    let other = staff_scope(db, "teacher_b", Role::Teacher, tr.school_b).await;
    not_found(committees::list_committees(db, &other, tr.school_a, year).await);
    not_found(committees::get_committee(db, &other, lead).await);
    not_found(committees::members(db, &other, lead).await);
    not_found(
        committees::add_member(
            db,
            &other,
            lead,
            member(Position::Member, Some(foreign_staff), None),
        )
        .await,
    );
    not_found(committees::remove_member(db, &other, class_chair).await);
    not_found(committees::delete_committee(db, &other, class_pc).await);
    not_found(committees::roster_for_year(db, &other, tr.school_a, year).await);
    not_found(
        committees::create_committee(db, &other, new(tr.school_a, CommitteeKind::Committee, "x"))
            .await,
    );
    let county = staff_scope(db, "county_a", Role::CountyAdmin, tr.county_a).await;
    assert_eq!(
        committees::roster_for_year(db, &county, tr.school_a, year)
            .await
            .unwrap()
            .len(),
        11
    );
    let inspector = staff_scope(db, "inspector_a", Role::Inspector, tr.county_a).await;
    assert_eq!(
        committees::list_committees(db, &inspector, tr.school_a, year)
            .await
            .unwrap()
            .len(),
        4
    );
    not_found(committees::delete_committee(db, &inspector, class_pc).await);

    committees::delete_committee(db, &admin, class_pc)
        .await
        .unwrap();
    assert_eq!(
        committees::list_committees(db, &admin, tr.school_a, year)
            .await
            .unwrap()
            .len(),
        3
    );
});

both_dbs!(topics_courses_and_coverage, |t: TestDb| async move {
    let db = &t.db;
    let tr = two_counties(db).await;
    let admin = staff_scope(db, "admin_a", Role::SchoolAdmin, tr.school_a).await;
    let today = org::today_date();

    // Until the school changes something it runs on the nine topics of plan 1.
    let cat = curriculum::list_topics(db, &admin, tr.school_a)
        .await
        .unwrap();
    assert!(!cat.stored);
    assert_eq!(cat.topics.len(), 9);
    assert_eq!(cat.topics[0].title, "更新家教观念，做智慧型父母");
    assert!(cat.topics[8].title.starts_with("洞悉世事"));
    // The first change adopts them, then adds.
    let extra = curriculum::add_topic(db, &admin, tr.school_a, "家庭安全教育", None)
        .await
        .unwrap();
    let cat = curriculum::list_topics(db, &admin, tr.school_a)
        .await
        .unwrap();
    assert!(cat.stored);
    assert_eq!(cat.topics.len(), 10);
    assert_eq!(cat.topics[9].id, extra);
    assert_eq!(
        curriculum::seed_topics(db, &admin, tr.school_a)
            .await
            .unwrap(),
        0
    );
    let ids: Vec<i64> = cat.topics.iter().map(|t| t.id).collect();
    // Rename, reorder (the new topic one place up), retire.
    curriculum::update_topic(
        db,
        &admin,
        ids[1],
        "了解小学生活，读懂孩子的心",
        Some("一年级新生家长".into()),
    )
    .await
    .unwrap();
    curriculum::move_topic(db, &admin, extra, -1).await.unwrap();
    curriculum::set_topic_active(db, &admin, ids[4], false)
        .await
        .unwrap();
    let cat = curriculum::list_topics(db, &admin, tr.school_a)
        .await
        .unwrap();
    assert_eq!(cat.topics[1].title, "了解小学生活，读懂孩子的心");
    assert_eq!(cat.topics[1].description.as_deref(), Some("一年级新生家长"));
    assert_eq!(cat.topics[8].id, extra);
    assert_eq!(cat.topics[9].id, ids[8]);
    assert!(!cat.topics[4].active);
    assert_eq!(
        cat.topics.iter().map(|t| t.ordinal).collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(
        invalid(curriculum::update_topic(db, &admin, extra, "  ", None).await),
        "title_missing"
    );

    // Courses per grade and semester, within the school's grades.
    let course = |topic_id, grade_level, semester| NewCourse {
        school_id: tr.school_a,
        topic_id,
        grade_level,
        semester,
        title: String::new(),
    };
    let c1 = curriculum::create_course(db, &admin, course(ids[1], 1, 1))
        .await
        .unwrap();
    curriculum::create_course(
        db,
        &admin,
        NewCourse {
            title: "亲子沟通工作坊".into(),
            ..course(ids[3], 3, 2)
        },
    )
    .await
    .unwrap();
    assert_eq!(
        invalid(curriculum::create_course(db, &admin, course(ids[1], 7, 1)).await),
        "bad_grade"
    );
    assert_eq!(
        invalid(curriculum::create_course(db, &admin, course(ids[1], 1, 3)).await),
        "bad_semester"
    );
    let year = org::current_school_year(&db.conn).await.unwrap();
    let courses = curriculum::list_courses(db, &admin, tr.school_a, year)
        .await
        .unwrap();
    assert_eq!(courses.len(), 2);
    assert_eq!(courses[0].title, "了解小学生活，读懂孩子的心");
    assert_eq!(
        (
            courses[1].grade_level,
            courses[1].semester,
            courses[1].title.as_str()
        ),
        (3, 2, "亲子沟通工作坊")
    );

    // Pupils: last year A1 was in grade 1; this year A1 is in grade 2 and A9 is new in
    // grade 1.
    let last_year_date = today - Duration::days(365);
    import(
        db,
        tr.school_a,
        last_year_date,
        "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
         A1,王小明,男,一年级,1班,王建国,父亲,13800000001\n",
    )
    .await;
    import(
        db,
        tr.school_a,
        today,
        "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
         A1,王小明,男,二年级,1班,王建国,父亲,13800000001\n\
         A9,新同学,女,一年级,1班,新妈妈,妈妈,13800000009\n",
    )
    .await;
    let grade1 = unit_named(db, tr.school_a, UnitKind::Grade, "一年级").await;
    let grade2 = unit_named(db, tr.school_a, UnitKind::Grade, "二年级").await;
    let class11 = unit_named(db, tr.school_a, UnitKind::Class, "一年级(1)班").await;

    let held = |topic: i64, units: Vec<i64>, starts_at| {
        let db = db.clone();
        let admin = admin.clone();
        async move {
            let id = sessions::create_session(
                &db,
                &admin,
                NewSession {
                    school_id: tr.school_a,
                    topic_id: Some(topic),
                    title: "讲座".into(),
                    starts_at,
                    duration_minutes: 60,
                    instructor_name: "专家".into(),
                    audience: Some(jiaxiao_domain::parent_school::Audience::Units),
                    audience_units: units,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            sessions::file_lesson_plan(&db, &admin, id, "授课方案", None)
                .await
                .unwrap();
            sessions::set_status(&db, &admin, id, SessionStatus::Held, None)
                .await
                .unwrap();
            id
        }
    };
    // This year: a held session for grade 1 on topic 2; a planned one for grade 2 on
    // topic 4 does not count.
    held(ids[1], vec![grade1], Utc::now()).await;
    sessions::create_session(
        db,
        &admin,
        NewSession {
            school_id: tr.school_a,
            topic_id: Some(ids[3]),
            title: "未举行".into(),
            starts_at: Utc::now(),
            duration_minutes: 60,
            instructor_name: "专家".into(),
            audience: Some(jiaxiao_domain::parent_school::Audience::Units),
            audience_units: vec![grade2],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // Last year: a held session for class 一年级1班 on topic 1 — A1's class then. Last
    // year is over: the school reopens it to record the session.
    jiaxiao_store::parent_school::set_year_open(db, &admin, tr.school_a, last_year_date, true)
        .await
        .unwrap();
    held(ids[0], vec![class11], Utc::now() - Duration::days(365)).await;

    let cov = curriculum::coverage(db, &admin, tr.school_a, year)
        .await
        .unwrap();
    let g = |id: i64| cov.grades.iter().find(|g| g.grade_id == id).unwrap();
    assert_eq!(g(grade1).this_year.get(&ids[1]), Some(&1));
    assert!(g(grade2).this_year.is_empty());
    assert_eq!((g(grade1).pupils, g(grade2).pupils), (1, 1));
    // Across the years: A1 (grade 2 now) had topic 1 in grade 1 last year; this year's
    // grade 1 pupil was not here then.
    assert_eq!(g(grade2).earlier.get(&ids[0]), Some(&1));
    assert!(g(grade1).earlier.is_empty());
    assert!(!g(grade1).this_year.contains_key(&ids[0]));
    // The retired topic 5 is left out of the grid; the others stay.
    assert_eq!(cov.topics.len(), 9);
    assert!(cov.topics.iter().all(|t| t.id != ids[4]));

    // A course that sessions name stays; an unused one goes.
    curriculum::delete_course(db, &admin, c1).await.unwrap();

    // Scope: the other school's teacher gets NotFound everywhere.
    let other = staff_scope(db, "teacher_b", Role::Teacher, tr.school_b).await;
    not_found(curriculum::list_topics(db, &other, tr.school_a).await);
    not_found(curriculum::coverage(db, &other, tr.school_a, year).await);
    not_found(curriculum::list_courses(db, &other, tr.school_a, year).await);
    not_found(curriculum::add_topic(db, &other, tr.school_a, "x", None).await);
    not_found(curriculum::update_topic(db, &other, extra, "x", None).await);
    not_found(curriculum::set_topic_active(db, &other, extra, false).await);
    not_found(curriculum::move_topic(db, &other, extra, 1).await);
    not_found(curriculum::create_course(db, &other, course(ids[1], 1, 1)).await);
    // A topic of another school cannot be planned here.
    let b_topic = curriculum::add_topic(
        db,
        &staff_scope(db, "admin_b", Role::SchoolAdmin, tr.school_b).await,
        tr.school_b,
        "乙校专题",
        None,
    )
    .await
    .unwrap();
    not_found(curriculum::create_course(db, &other, course(b_topic, 1, 1)).await);
    not_found(curriculum::create_course(db, &admin, course(b_topic, 1, 1)).await);
    // Only a scope that sees both schools gets as far as the school check.
    let b_topic_a = curriculum::add_topic(db, &Scope::system(), tr.school_b, "乙校另一专题", None)
        .await
        .unwrap();
    assert_eq!(
        invalid(curriculum::create_course(db, &Scope::system(), course(b_topic_a, 1, 1)).await),
        "topic_outside_school"
    );
    // Other school types get their own starter set.
    let kg = org::create_unit(
        db,
        &Scope::system(),
        NewUnit {
            school_type: Some(SchoolType::Kindergarten),
            ..unit(Some(tr.county_a), UnitKind::School, "甲幼儿园")
        },
    )
    .await
    .unwrap();
    let kg_topics = curriculum::list_topics(db, &admin_of(db, kg).await, kg)
        .await
        .unwrap();
    assert!(
        kg_topics
            .topics
            .iter()
            .any(|t| t.title.contains("幼小衔接"))
    );
});

async fn admin_of(db: &Db, school: i64) -> Scope {
    staff_scope(db, &format!("admin_{school}"), Role::SchoolAdmin, school).await
}

both_dbs!(plan_two_meeting_day, |t: TestDb| async move {
    let db = &t.db;
    let tr = two_counties(db).await;
    let today = org::today_date();
    import(db, tr.school_a, today, ROSTER_A).await;
    import(db, tr.school_b, today, ROSTER_B).await;
    let admin = staff_scope(db, "admin_a", Role::SchoolAdmin, tr.school_a).await;
    let classes = units(db, tr.school_a, UnitKind::Class).await;
    assert_eq!(classes.len(), 4);
    let head_teachers = [
        ("一年级(1)班", "刘老师"),
        ("三年级(1)班", "陈老师"),
        ("三年级(2)班", "王老师"),
        ("六年级(1)班", "杨老师"),
    ];
    let mut staff_ids = Vec::new();
    for (_, name) in head_teachers {
        staff_ids.push(staff(db, tr.school_a, name, "班主任").await);
    }

    // The header of plan 2: time, the playground, everyone, a theme, 德育处.
    // Whole seconds: PostgreSQL keeps microseconds, not nanoseconds.
    let starts = (Utc::now() + Duration::days(7)).trunc_subsecs(0);
    let ends = starts + Duration::minutes(150);
    let day = activities::create_activity(
        db,
        &admin,
        NewActivity {
            school_id: tr.school_a,
            theme: "家校携手 共育英才——家长学校学员培训暨家长会".into(),
            starts_at: starts,
            ends_at: ends,
            place: "学校操场".into(),
            participants: "全体学生及家长学校学员".into(),
            organiser: "德育处".into(),
            venue_notes: None,
            survey_ref: None,
        },
    )
    .await
    .unwrap();

    // Part 1, everyone together.
    for (title, speaker) in [
        ("校长致欢迎辞", "校长"),
        ("德育处作动员报告", "德育处"),
        ("学员代表发言", "学员代表"),
    ] {
        activities::add_item(
            db,
            &admin,
            day,
            NewItem {
                part: ActivityPart::Collective,
                title: title.into(),
                speaker: Some(speaker.into()),
                starts_at: None,
            },
        )
        .await
        .unwrap();
    }
    // Part 2, by class: (1) trainee training, one session per class with its instructor
    // and classroom; (2) and (3) the same in every class.
    let part2 = starts + Duration::minutes(40);
    let breakouts: Vec<NewBreakout> = head_teachers
        .iter()
        .zip(&staff_ids)
        .map(|((class, _), staff_id)| NewBreakout {
            class_id: classes.iter().find(|c| c.name == *class).unwrap().id,
            title: "学员培训".into(),
            instructor_staff_id: Some(*staff_id),
            place: Some(format!("{class}教室")),
            starts_at: Some(part2),
            ..Default::default()
        })
        .collect();
    let created = activities::add_breakouts(db, &admin, day, breakouts)
        .await
        .unwrap();
    assert_eq!(created.len(), 4);
    for (title, speaker) in [
        (
            "学校介绍管理办法（封闭式管理、寄宿制），家长填写调查表",
            "各班班主任",
        ),
        ("学生与家长交流学习、习惯等情况", "学生与家长"),
    ] {
        activities::add_item(
            db,
            &admin,
            day,
            NewItem {
                part: ActivityPart::Breakout,
                title: title.into(),
                speaker: Some(speaker.into()),
                starts_at: None,
            },
        )
        .await
        .unwrap();
    }
    // Layout and survey.
    let header = activities::get_activity(db, &admin, day).await.unwrap();
    activities::update_activity(
        db,
        &admin,
        day,
        NewActivity {
            school_id: tr.school_a,
            theme: header.theme.clone(),
            starts_at: header.starts_at,
            ends_at: header.ends_at,
            place: header.place.clone(),
            participants: header.participants.clone(),
            organiser: header.organiser.clone(),
            venue_notes: Some(
                "学生在东场地，家长在西场地；进教室后家长坐前排，学生坐后排；学生不得在校园内随意走动。"
                    .into(),
            ),
            survey_ref: Some("家长调查表（纸质，各班收回后交德育处）".into()),
        },
    )
    .await
    .unwrap();
    // 人员安排: person → duty → place (→ time).
    let duties = [
        ("各班班主任", "维持本班秩序", "各班教室", ""),
        ("赵老师、钱老师", "引导迟到家长入座", "操场", "14:00–14:30"),
        ("学校办公室", "布置会场", "操场", "会前"),
        ("孙老师", "标语书写", "操场主席台", "会前"),
        ("周老师", "照相", "操场及各班教室", ""),
        ("吴老师", "主持", "主席台", ""),
        ("郑老师", "音响", "主席台", ""),
        ("6.1班", "清扫会场", "操场", "会后"),
        (
            "冯老师",
            "巡视新楼，引导走错的家长到教室，遇突发情况报告学校",
            "新楼",
            "",
        ),
        (
            "陈老师",
            "巡视旧楼，引导走错的家长到教室，遇突发情况报告学校",
            "旧楼",
            "",
        ),
        ("褚老师", "维持校门口秩序", "校门口", "全程"),
    ];
    for (person, duty, place, time) in duties {
        activities::add_duty(
            db,
            &admin,
            day,
            NewDuty {
                person: person.into(),
                duty: duty.into(),
                place: Some(place.into()),
                time_text: Some(time.into()),
            },
        )
        .await
        .unwrap();
    }

    let full = activities::get_activity_full(db, &admin, day)
        .await
        .unwrap();
    assert_eq!(full.activity.place, "学校操场");
    assert_eq!(full.activity.organiser, "德育处");
    assert_eq!(full.activity.breakouts, 4);
    assert!(
        full.activity
            .venue_notes
            .as_deref()
            .unwrap()
            .contains("家长坐前排")
    );
    assert!(
        full.activity
            .survey_ref
            .as_deref()
            .unwrap()
            .contains("调查表")
    );
    let programme: Vec<(&str, &str)> = full
        .items
        .iter()
        .map(|i| (i.part.as_str(), i.title.as_str()))
        .collect();
    assert_eq!(programme.len(), 9);
    assert_eq!(programme[0], ("collective", "校长致欢迎辞"));
    assert_eq!(programme[2], ("collective", "学员代表发言"));
    assert!(programme[3..].iter().all(|(p, _)| *p == "breakout"));
    let sessions_of_day: Vec<_> = full
        .items
        .iter()
        .filter(|i| i.session_id.is_some())
        .collect();
    assert_eq!(
        sessions_of_day
            .iter()
            .map(|i| (
                i.class_name.clone().unwrap(),
                i.instructor_name.clone().unwrap(),
                i.place.clone().unwrap()
            ))
            .collect::<Vec<_>>(),
        head_teachers
            .iter()
            .map(|(c, t)| (c.to_string(), t.to_string(), format!("{c}教室")))
            .collect::<Vec<_>>()
    );
    assert_eq!(full.duties.len(), 11);
    assert_eq!(full.duties[7].person, "6.1班");
    assert_eq!(full.duties[1].time_text.as_deref(), Some("14:00–14:30"));
    assert_eq!(full.duties[0].time_text, None);

    // Each breakout is a session of that class alone, linked to the day, with its own
    // roster (and so its own check-in); it runs to the end of the day.
    for (item_id, session_id) in &created {
        let s = sessions::get_session(db, &admin, *session_id)
            .await
            .unwrap();
        assert_eq!(s.activity_id, Some(day));
        assert_eq!(s.audience, "units");
        assert_eq!(s.starts_at, part2);
        assert_eq!(s.duration_minutes, 110);
        let aud = sessions::audience_units(db, *session_id).await.unwrap();
        assert_eq!(aud.len(), 1);
        assert_eq!(aud[0].kind, "class");
        let roster = sessions::roster(db, &admin, *session_id, None)
            .await
            .unwrap();
        assert!(!roster.is_empty());
        assert!(roster.iter().all(|r| r.class_id == Some(aud[0].id)));
        assert!(full.items.iter().any(|i| i.id == *item_id));
    }
    let class32 = sessions::roster(db, &admin, created[2].1, None)
        .await
        .unwrap();
    assert_eq!(class32.len(), 2);
    // The day belongs to this year's list.
    let list = activities::list_activities(db, &admin, tr.school_a, full.activity.school_year_id)
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].duties, 11);

    // Refusals: a class of another school, a day that ends before it starts.
    let b_class = units(db, tr.school_b, UnitKind::Class).await[0].id;
    assert_eq!(
        invalid(
            activities::add_breakouts(
                db,
                &admin,
                day,
                vec![NewBreakout {
                    class_id: b_class,
                    title: "学员培训".into(),
                    instructor_name: "某老师".into(),
                    ..Default::default()
                }]
            )
            .await
        ),
        "class_outside_school"
    );
    assert_eq!(
        invalid(
            activities::create_activity(
                db,
                &admin,
                NewActivity {
                    ends_at: starts,
                    ..NewActivity {
                        school_id: tr.school_a,
                        theme: "x".into(),
                        starts_at: starts,
                        ends_at: ends,
                        place: String::new(),
                        participants: String::new(),
                        organiser: String::new(),
                        venue_notes: None,
                        survey_ref: None,
                    }
                }
            )
            .await
        ),
        "bad_time"
    );
    // Dropping a breakout cancels its session.
    activities::remove_item(db, &admin, created[3].0)
        .await
        .unwrap();
    assert_eq!(
        sessions::get_session(db, &admin, created[3].1)
            .await
            .unwrap()
            .status,
        "cancelled"
    );
    let duty0 = full.duties[0].id;
    activities::remove_duty(db, &admin, duty0).await.unwrap();

    // Scope: the other school's staff see and change nothing of this day.
    let other = staff_scope(db, "admin_b", Role::SchoolAdmin, tr.school_b).await;
    not_found(activities::get_activity(db, &other, day).await);
    not_found(activities::get_activity_full(db, &other, day).await);
    not_found(
        activities::list_activities(db, &other, tr.school_a, full.activity.school_year_id).await,
    );
    not_found(
        activities::add_item(
            db,
            &other,
            day,
            NewItem {
                part: ActivityPart::Collective,
                title: "x".into(),
                speaker: None,
                starts_at: None,
            },
        )
        .await,
    );
    not_found(
        activities::add_duty(
            db,
            &other,
            day,
            NewDuty {
                person: "x".into(),
                duty: "x".into(),
                place: None,
                time_text: None,
            },
        )
        .await,
    );
    not_found(activities::remove_item(db, &other, created[0].0).await);
    not_found(activities::remove_duty(db, &other, full.duties[1].id).await);
    not_found(
        activities::add_breakouts(
            db,
            &other,
            day,
            vec![NewBreakout {
                class_id: b_class,
                title: "x".into(),
                instructor_name: "x".into(),
                ..Default::default()
            }],
        )
        .await,
    );
});

// Issue 10: a meeting day's class breakouts are their own form; the office's target
// counts only lectures and parent classes, and a city is measured against the sum of
// its counties' targets.
both_dbs!(
    breakouts_do_not_count_toward_the_target,
    |t: TestDb| async move {
        use jiaxiao_domain::parent_school::Form;
        use jiaxiao_store::parent_school::stats;
        let db = &t.db;
        let tr = two_counties(db).await;
        import(db, tr.school_a, org::today_date(), ROSTER_A).await;
        let admin = admin_of(db, tr.school_a).await;
        let classes = units(db, tr.school_a, UnitKind::Class).await;
        let starts = (Utc::now() - Duration::hours(3)).trunc_subsecs(0);
        let day = activities::create_activity(
            db,
            &admin,
            NewActivity {
                school_id: tr.school_a,
                theme: "家长会".into(),
                starts_at: starts,
                ends_at: starts + Duration::minutes(120),
                place: "操场".into(),
                participants: "全体家长".into(),
                organiser: "德育处".into(),
                venue_notes: None,
                survey_ref: None,
            },
        )
        .await
        .unwrap();
        let breakouts = classes
            .iter()
            .map(|c| NewBreakout {
                class_id: c.id,
                title: "学员培训".into(),
                instructor_name: "班主任".into(),
                ..Default::default()
            })
            .collect();
        let created = activities::add_breakouts(db, &admin, day, breakouts)
            .await
            .unwrap();
        assert_eq!(created.len(), classes.len());
        let mut held = Vec::new();
        for (_, sid) in &created {
            let s = sessions::get_session(db, &admin, *sid).await.unwrap();
            assert_eq!(s.form, Form::Breakout.code());
            held.push(*sid);
        }
        for form in [Form::Lecture, Form::ParentClass, Form::OpenDay] {
            let id = sessions::create_session(
                db,
                &admin,
                NewSession {
                    school_id: tr.school_a,
                    title: format!("{form}"),
                    form: Some(form),
                    starts_at: starts,
                    duration_minutes: 60,
                    instructor_name: "专家".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            held.push(id);
        }
        for id in &held {
            sessions::file_lesson_plan(db, &admin, *id, "授课方案", None)
                .await
                .unwrap();
            sessions::set_status(db, &admin, *id, SessionStatus::Held, None)
                .await
                .unwrap();
        }
        // Planned on its own, a breakout is refused: it would be a lecture by another name.
        assert!(matches!(
            sessions::create_session(
                db,
                &admin,
                NewSession {
                    school_id: tr.school_a,
                    title: "分班".into(),
                    form: Some(Form::Breakout),
                    starts_at: starts,
                    duration_minutes: 60,
                    instructor_name: "班主任".into(),
                    ..Default::default()
                },
            )
            .await,
            Err(StoreError::Invalid {
                code: "breakout_without_meeting_day"
            })
        ));

        let year = org::current_school_year(&db.conn).await.unwrap();
        let sys = Scope::system();
        let roll = stats::rollup(
            db,
            &sys,
            tr.county_a,
            year,
            org::today_naive(),
            stats::RollupBy::Child,
        )
        .await
        .unwrap();
        let ours = roll.iter().find(|r| r.unit_id == tr.school_a).unwrap();
        assert_eq!(ours.held, classes.len() as i64 + 3);
        assert_eq!(ours.counted, 2, "a lecture and a parent class, no breakout");
        assert_eq!(
            stats::yearly_target(db, &sys, tr.county_a, org::today_naive())
                .await
                .unwrap(),
            100
        );
        assert_eq!(
            stats::yearly_target(db, &sys, tr.city, org::today_naive())
                .await
                .unwrap(),
            200
        );
        assert_eq!(
            stats::yearly_target(db, &sys, tr.province, org::today_naive())
                .await
                .unwrap(),
            200
        );
        assert_eq!(
            stats::yearly_target(db, &sys, tr.school_a, org::today_naive())
                .await
                .unwrap(),
            100
        );
    }
);
