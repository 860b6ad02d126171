//! Shared test data and HTTP helpers: a province → city → county tree with schools,
//! rosters imported through the real store path, staff accounts, and the form-posting
//! helpers page tests use. Password of every account made here: [`PASSWORD`].

use jiaxiao_domain::roster::{detect_header, parse_rows, read_table};
use jiaxiao_domain::{Role, SchoolType, UnitKind};
use jiaxiao_store::accounts::{self, NewUser};
use jiaxiao_store::org::{self, NewUnit};
use jiaxiao_store::{Db, Scope};
use reqwest::{Client, StatusCode};

use crate::TestApp;

pub const PASSWORD: &str = "secret-pass";

/// A new node; schools are primary schools.
pub fn unit(parent: Option<i64>, kind: UnitKind, name: &str) -> NewUnit {
    NewUnit {
        parent_id: parent,
        kind,
        name: name.into(),
        code: None,
        school_type: (kind == UnitKind::School).then_some(SchoolType::Primary),
        grade_level: None,
        class_number: None,
    }
}

pub struct County {
    pub province: i64,
    pub city: i64,
    pub county: i64,
    pub schools: Vec<i64>,
}

/// 省 → 市 → 区 with the named schools under the county.
pub async fn county_with_schools(db: &Db, schools: &[&str]) -> County {
    let sys = Scope::system();
    let province = org::create_unit(db, &sys, unit(None, UnitKind::Province, "省"))
        .await
        .expect("province");
    let city = org::create_unit(db, &sys, unit(Some(province), UnitKind::City, "市"))
        .await
        .expect("city");
    let county = org::create_unit(db, &sys, unit(Some(city), UnitKind::County, "区"))
        .await
        .expect("county");
    let mut ids = Vec::new();
    for s in schools {
        ids.push(
            org::create_unit(db, &sys, unit(Some(county), UnitKind::School, s))
                .await
                .expect("school"),
        );
    }
    County {
        province,
        city,
        county,
        schools: ids,
    }
}

/// 省 → 市 → 甲区 / 乙区, with 甲小学 under 甲区 and 乙小学 under 乙区: for tests of what
/// one county may and may not see of the other.
pub struct TwoCounties {
    pub province: i64,
    pub city: i64,
    pub county_a: i64,
    pub county_b: i64,
    pub school_a: i64,
    pub school_b: i64,
}

pub async fn two_counties(db: &Db) -> TwoCounties {
    let sys = Scope::system();
    let make = |parent: Option<i64>, kind: UnitKind, name: &'static str| {
        let sys = sys.clone();
        async move {
            org::create_unit(db, &sys, unit(parent, kind, name))
                .await
                .expect(name)
        }
    };
    let province = make(None, UnitKind::Province, "省").await;
    let city = make(Some(province), UnitKind::City, "市").await;
    let county_a = make(Some(city), UnitKind::County, "甲区").await;
    let county_b = make(Some(city), UnitKind::County, "乙区").await;
    let school_a = make(Some(county_a), UnitKind::School, "甲小学").await;
    let school_b = make(Some(county_b), UnitKind::School, "乙小学").await;
    TwoCounties {
        province,
        city,
        county_a,
        county_b,
        school_a,
        school_b,
    }
}

/// Imports a CSV roster into `school` for this school year, as the import job would.
pub async fn import_roster(db: &Db, school: i64, csv: &str) {
    let t = read_table(csv.as_bytes()).expect("roster table");
    let h = detect_header(&t).expect("roster header");
    let parsed = parse_rows(&t, h.header_index, &h.mapping);
    let year = org::ensure_school_year(&db.conn, org::today_date())
        .await
        .expect("year");
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
    .expect("roster");
}

/// A staff account with one role, password [`PASSWORD`].
pub async fn staff_account(db: &Db, username: &str, role: Role, unit: i64) -> i64 {
    accounts::create_user(
        db,
        &Scope::system(),
        NewUser {
            username: username.into(),
            display_name: username.into(),
            password: PASSWORD.into(),
            staff_id: None,
            grants: vec![(role, unit)],
        },
    )
    .await
    .expect("account")
}

/// The scope a logged-in staff member gets.
pub async fn staff_scope(db: &Db, username: &str, role: Role, unit: i64) -> Scope {
    let uid = staff_account(db, username, role, unit).await;
    let token = accounts::create_session(db, uid).await.expect("session");
    accounts::session(db, &token)
        .await
        .expect("session")
        .expect("live session")
        .scope
}

/// Gives the parent with this phone an account (as after redeeming an invitation) and
/// returns their logged-in scope.
pub async fn parent_scope(db: &Db, phone: &str) -> Scope {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let g = jiaxiao_store::entities::guardian::Entity::find()
        .filter(jiaxiao_store::entities::guardian::Column::Phone.eq(phone))
        .one(&db.conn)
        .await
        .expect("query")
        .expect("a parent with that phone");
    let hash = accounts::hash_password(PASSWORD).expect("hash");
    let uid = accounts::ensure_parent_account(&db.conn, g.id, phone, &g.name, &hash)
        .await
        .expect("parent account");
    let token = accounts::create_session(db, uid).await.expect("session");
    accounts::session(db, &token)
        .await
        .expect("session")
        .expect("live session")
        .scope
}

/// The login form's CSRF token for client `c`: opening the form sets the cookie it
/// must match, as in a browser.
pub async fn login_csrf(app: &TestApp, c: &Client) -> String {
    let (status, html) = get(c, &app.url("/login")).await;
    assert_eq!(status, StatusCode::OK, "login form");
    csrf_of(&html)
}

/// A bearer token for a staff account (password [`PASSWORD`]) from the API's login.
pub async fn api_token(app: &TestApp, username: &str) -> String {
    let r = app
        .client()
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .expect("login request");
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<serde_json::Value>().await.expect("login answer")["token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

/// Logs in through the page (username or phone) and keeps the cookie.
pub async fn login(app: &TestApp, who: &str) -> Client {
    let c = app.client();
    let csrf = login_csrf(app, &c).await;
    let r = c
        .post(app.url("/login"))
        .form(&[("who", who), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login as {who}");
    c
}

pub async fn get(c: &Client, url: &str) -> (StatusCode, String) {
    let r = c.get(url).send().await.expect("get");
    (r.status(), r.text().await.expect("body"))
}

/// Status, content type and body bytes.
pub async fn get_bytes(c: &Client, url: &str) -> (StatusCode, String, Vec<u8>) {
    let r = c.get(url).send().await.expect("get");
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (r.status(), ct, r.bytes().await.expect("body").to_vec())
}

/// The CSRF token of the first form on a page.
pub fn csrf_of(html: &str) -> String {
    let i = html.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    html[i..i + html[i..].find('"').expect("end of token")].to_owned()
}

/// Posts a form; the status and the redirect target (or the body).
pub async fn post(c: &Client, url: &str, form: &[(&str, String)]) -> (StatusCode, String) {
    let r = c.post(url).form(form).send().await.expect("post");
    let status = r.status();
    match r.headers().get("location") {
        Some(l) => (status, l.to_str().expect("location").to_owned()),
        None => (status, r.text().await.expect("body")),
    }
}

/// Someone whose name and phone must show only within reach: which school and class
/// (`None` for staff of the school) they belong to.
#[derive(Debug, Clone, Copy)]
pub struct Person {
    pub name: &'static str,
    pub phone: &'static str,
    pub child: Option<&'static str>,
    pub school: char,
    pub class: Option<u8>,
}

/// The people of [`personal_data_world`]: a parent in each of school A's two classes and
/// in school B's class, and a staff member of each school in its leadership group.
/// Names and numbers are distinctive, and no two share a masked form (138****0001).
pub const PEOPLE: [Person; 5] = [
    Person {
        name: "欧阳甲一",
        phone: "13811110001",
        child: Some("欧阳小甲"),
        school: 'A',
        class: Some(1),
    },
    Person {
        name: "司马乙二",
        phone: "13922220002",
        child: Some("司马小乙"),
        school: 'A',
        class: Some(2),
    },
    Person {
        name: "诸葛丙三",
        phone: "13733330003",
        child: Some("诸葛小丙"),
        school: 'B',
        class: Some(1),
    },
    Person {
        name: "东方戊五",
        phone: "13555550005",
        child: None,
        school: 'A',
        class: None,
    },
    Person {
        name: "上官丁四",
        phone: "13644440004",
        child: None,
        school: 'B',
        class: None,
    },
];

/// Ids of [`personal_data_world`].
pub struct PersonalWorld {
    pub tree: TwoCounties,
    pub class_a1: i64,
    pub class_a2: i64,
    pub class_b: i64,
    /// Guardian ids of PEOPLE[0..3], pupil ids of their children.
    pub guardians: [i64; 3],
    pub pupils: [i64; 3],
    /// Held, whole school, every parent checked in and a reflection from each.
    pub session_a: i64,
    /// Held, school A, only 司马乙二 invited by name and checked in.
    pub session_named: i64,
    pub session_b: i64,
    /// School A's excellent-trainee round, awarded.
    pub round_a: i64,
    /// The paper sheet of class A2 for `session_a`, its tick entered.
    pub sheet_a2: i64,
    pub committee_a1: i64,
}

/// Two counties (甲区 with 甲小学, 乙区 with 乙小学), two classes in 甲小学 and one in
/// 乙小学, a parent with a child in each class, a held session in each school with every
/// parent checked in and reflections, a session for one named parent, committees at
/// school and class level and a leadership group with staff, an awarded excellent-trainee
/// round and a printed paper sheet; accounts (password [`PASSWORD`]): `parent` is
/// 欧阳甲一 (13811110001), `teacher_a`, `head_a1` (head teacher of 甲小学 三年级(1)班),
/// `admin_a`, `county_a` and `inspector_a` (甲区), `admin_b`.
/// For the generated personal-data test (crates/web/tests/personal_data.rs).
pub async fn personal_data_world(db: &Db) -> PersonalWorld {
    use jiaxiao_domain::parent_school::{
        AttendanceStatus, Audience, CommitteeKind, ExcellenceRule, Position, SessionStatus,
    };
    use jiaxiao_store::checkin::{self, Mark};
    use jiaxiao_store::parent_school::committees::{self, NewCommittee, NewMember};
    use jiaxiao_store::parent_school::sessions::{self, NewSession};
    use jiaxiao_store::parent_school::{excellence, paper, records};
    use jiaxiao_store::people::{self, NewStaff};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let sys = Scope::system();
    let tree = two_counties(db).await;
    let roster = |rows: &[(&str, &str, &str, &str, &str)]| {
        let mut s = String::from("学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n");
        for (no, child, class, parent, phone) in rows {
            s.push_str(&format!(
                "{no},{child},男,三年级,{class},{parent},父亲,{phone}\n"
            ));
        }
        s
    };
    let p = &PEOPLE;
    import_roster(
        db,
        tree.school_a,
        &roster(&[
            ("PA1", p[0].child.unwrap(), "1班", p[0].name, p[0].phone),
            ("PA2", p[1].child.unwrap(), "2班", p[1].name, p[1].phone),
        ]),
    )
    .await;
    import_roster(
        db,
        tree.school_b,
        &roster(&[("PB1", p[2].child.unwrap(), "1班", p[2].name, p[2].phone)]),
    )
    .await;
    let today = jiaxiao_store::today();
    let class_of = |school: i64, n: i32| {
        let sys = sys.clone();
        let today = today.clone();
        async move {
            org::units_under(db, &sys, school, UnitKind::Class, &today)
                .await
                .expect("classes")
                .into_iter()
                .find(|u| u.class_number == Some(n))
                .expect("class")
                .id
        }
    };
    let class_a1 = class_of(tree.school_a, 1).await;
    let class_a2 = class_of(tree.school_a, 2).await;
    let class_b = class_of(tree.school_b, 1).await;
    let mut guardians = [0; 3];
    let mut pupils = [0; 3];
    for i in 0..3 {
        guardians[i] = jiaxiao_store::entities::guardian::Entity::find()
            .filter(jiaxiao_store::entities::guardian::Column::Phone.eq(p[i].phone))
            .one(&db.conn)
            .await
            .expect("query")
            .expect("guardian")
            .id;
        pupils[i] = jiaxiao_store::entities::pupil::Entity::find()
            .filter(jiaxiao_store::entities::pupil::Column::Name.eq(p[i].child.unwrap()))
            .one(&db.conn)
            .await
            .expect("query")
            .expect("pupil")
            .id;
    }

    staff_account(db, "teacher_a", Role::Teacher, tree.school_a).await;
    staff_account(db, "head_a1", Role::HeadTeacher, class_a1).await;
    staff_account(db, "admin_a", Role::SchoolAdmin, tree.school_a).await;
    staff_account(db, "admin_b", Role::SchoolAdmin, tree.school_b).await;
    staff_account(db, "county_a", Role::CountyAdmin, tree.county_a).await;
    staff_account(db, "inspector_a", Role::Inspector, tree.county_a).await;
    let mut parents = Vec::new();
    for person in &p[..3] {
        parents.push(parent_scope(db, person.phone).await);
    }

    // A session an hour ago, held, with every invited parent marked present.
    let year = org::ensure_school_year(&db.conn, org::today_date())
        .await
        .expect("year");
    let held = |school: i64, title: &'static str, audience: Audience, invitees: Vec<i64>| {
        let sys = sys.clone();
        async move {
            let id = sessions::create_session(
                db,
                &sys,
                NewSession {
                    school_id: school,
                    title: title.into(),
                    starts_at: chrono::Utc::now() - chrono::Duration::hours(1),
                    duration_minutes: 60,
                    place: Some("礼堂".into()),
                    instructor_name: "讲师".into(),
                    audience: Some(audience),
                    invitees,
                    ..Default::default()
                },
            )
            .await
            .expect("session");
            sessions::file_lesson_plan(db, &sys, id, "授课方案：亲子沟通", None)
                .await
                .expect("lesson plan");
            sessions::set_status(db, &sys, id, SessionStatus::Held, None)
                .await
                .expect("held");
            id
        }
    };
    let session_a = held(
        tree.school_a,
        "家庭教育讲座甲",
        Audience::School,
        Vec::new(),
    )
    .await;
    let session_named = held(
        tree.school_a,
        "点名座谈会甲",
        Audience::Parents,
        vec![guardians[1]],
    )
    .await;
    let session_b = held(
        tree.school_b,
        "家庭教育讲座乙",
        Audience::School,
        Vec::new(),
    )
    .await;
    let present = |g: i64| Mark {
        guardian_id: g,
        status: AttendanceStatus::Present,
    };
    checkin::mark(
        db,
        &sys,
        session_a,
        &[present(guardians[0]), present(guardians[1])],
    )
    .await
    .expect("marks a");
    checkin::mark(db, &sys, session_named, &[present(guardians[1])])
        .await
        .expect("marks named");
    checkin::mark(db, &sys, session_b, &[present(guardians[2])])
        .await
        .expect("marks b");
    for (i, s) in [(0, session_a), (1, session_a), (2, session_b)] {
        records::hand_in_reflection(
            db,
            &parents[i],
            s,
            &format!("{}的学习心得：多陪伴孩子，多倾听孩子。", p[i].name),
        )
        .await
        .expect("reflection");
    }

    // Bodies: a leadership group with staff and a parent committee in each school, and
    // a committee in each of school A's classes.
    let mut committee_a1 = 0;
    for (school, unit, kind, member) in [
        (tree.school_a, tree.school_a, CommitteeKind::Leadership, 3),
        (tree.school_a, tree.school_a, CommitteeKind::Committee, 1),
        (tree.school_a, class_a1, CommitteeKind::Committee, 0),
        (tree.school_a, class_a2, CommitteeKind::Committee, 1),
        (tree.school_b, tree.school_b, CommitteeKind::Leadership, 4),
        (tree.school_b, class_b, CommitteeKind::Committee, 2),
    ] {
        let cid = committees::create_committee(
            db,
            &sys,
            NewCommittee {
                school_id: school,
                school_year_id: None,
                unit_id: unit,
                kind,
                name: match kind {
                    CommitteeKind::Leadership => "家长学校领导小组".into(),
                    _ => "家长委员会".into(),
                },
            },
        )
        .await
        .expect("committee");
        if unit == class_a1 {
            committee_a1 = cid;
        }
        let new_member = if kind == CommitteeKind::Leadership {
            let staff = people::create_staff(
                db,
                &sys,
                NewStaff {
                    unit_id: school,
                    name: p[member].name.into(),
                    phone: Some(p[member].phone.into()),
                    position: Some("德育主任".into()),
                },
            )
            .await
            .expect("staff");
            NewMember {
                position: Position::Head,
                staff_id: Some(staff),
                guardian_id: None,
                note: None,
            }
        } else {
            NewMember {
                position: Position::Chair,
                staff_id: None,
                guardian_id: Some(guardians[member]),
                note: None,
            }
        };
        committees::add_member(db, &sys, cid, new_member)
            .await
            .expect("member");
    }

    // Every trainee of school A nominated, approved, noticed and awarded.
    let round_a = excellence::compute(
        db,
        &sys,
        tree.school_a,
        year,
        &ExcellenceRule {
            min_attendance_rate: 0.0,
            min_hours: 0.0,
            min_reflections: 0,
            ..Default::default()
        },
    )
    .await
    .expect("round");
    excellence::review(db, &sys, round_a, &guardians[..2])
        .await
        .expect("review");
    excellence::start_notice(db, &sys, round_a, 5)
        .await
        .expect("notice");
    excellence::award(db, &sys, round_a, true)
        .await
        .expect("award");
    let sheet_a2 = paper::sheet_for(db, &sys, session_a, class_a2)
        .await
        .expect("sheet")
        .sheet
        .id;
    paper::enter_marks(
        db,
        &sys,
        sheet_a2,
        &[(guardians[1], AttendanceStatus::Present)],
    )
    .await
    .expect("paper ticks");

    PersonalWorld {
        tree,
        class_a1,
        class_a2,
        class_b,
        guardians,
        pupils,
        session_a,
        session_named,
        session_b,
        round_a,
        sheet_a2,
        committee_a1,
    }
}
