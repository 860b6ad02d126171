//! The demo county: created once, deterministically (fixed seed), in seconds — about
//! 30 schools of every type, 20,000 pupils, 30,000 parents, staff, classes and the
//! demo logins listed in the README. Rows get explicit ids so the bulk insert needs
//! no round trip per row.

use chrono::Utc;
use jiaxiao_domain::org::{class_name, grade_name};
use jiaxiao_domain::{Gender, Relation, Role, SchoolType, UnitKind, names};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use crate::entities::{
    class_membership, guardian, guardianship, pupil, role_grant, staff, user_account,
};
use crate::org::{NewUnit, insert_unit};
use crate::{Db, Scope, StoreResult};

pub const DEMO_PASSWORD: &str = "jiaxiao-demo";
pub const DEMO_PARENT_PHONE: &str = "13800000001";

/// The demo logins, printed by `jiaxiao demo`.
pub const LOGINS: &[(&str, &str)] = &[
    ("province", "省教育厅管理员 province office admin"),
    ("city", "市教育局管理员 city office admin"),
    ("county", "区教育局管理员 county office admin"),
    ("inspector", "督学 inspector of the county"),
    ("school", "小学校长 principal of a primary school"),
    ("teacher", "三年级班主任 head teacher of a grade-3 class"),
    (
        DEMO_PARENT_PHONE,
        "家长 parent in that class (log in with phone)",
    ),
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
];
const GIVEN_BOY: &[&str] = &[
    "浩", "宇", "轩", "然", "博", "文", "子", "俊", "杰", "涛", "明", "辰", "睿", "泽", "一", "航",
    "晨", "阳", "磊", "鑫", "昊", "天", "逸", "凯", "嘉", "思", "远", "铭", "瑞", "豪",
];
const GIVEN_GIRL: &[&str] = &[
    "欣", "怡", "梓", "涵", "雨", "萱", "诗", "琪", "可", "馨", "悦", "佳", "思", "语", "婷", "雪",
    "静", "晴", "彤", "妍", "瑶", "琳", "月", "颖", "若", "蕾", "玥", "菲", "安", "宁",
];
const ADULT_GIVEN: &[&str] = &[
    "建国", "建华", "卫东", "志强", "海涛", "晓东", "丽华", "秀英", "桂兰", "玉梅", "红霞", "春燕",
    "国强", "永刚", "立新", "亚军", "晓燕", "敏", "静", "伟", "芳", "娜", "军", "勇", "艳", "杰",
    "磊", "丹", "霞", "平", "刚", "辉", "鹏", "慧", "文斌", "志明", "美玲", "淑珍", "德华", "小红",
];

fn child_name(rng: &mut StdRng, surname: &str, gender: Gender) -> String {
    let pool = if gender == Gender::Male {
        GIVEN_BOY
    } else {
        GIVEN_GIRL
    };
    let mut n = surname.to_owned();
    n.push_str(pool[rng.random_range(0..pool.len())]);
    if rng.random_bool(0.7) {
        n.push_str(pool[rng.random_range(0..pool.len())]);
    }
    n
}

fn adult_name(rng: &mut StdRng, surname: &str) -> String {
    format!(
        "{surname}{}",
        ADULT_GIVEN[rng.random_range(0..ADULT_GIVEN.len())]
    )
}

/// (name, type, classes per grade, pupils per class)
fn schools() -> Vec<(String, SchoolType, i32, i32)> {
    let mut v = Vec::new();
    let kg = ["阳光", "启明", "童心", "彩虹", "春苗", "小太阳"];
    for n in kg {
        v.push((format!("雁塔区{n}幼儿园"), SchoolType::Kindergarten, 4, 28));
    }
    let primary = [
        "第一",
        "第二",
        "育才",
        "实验",
        "长安路",
        "曲江",
        "电子城",
        "丈八",
        "杨家村",
        "大雁塔",
        "小寨",
        "明德",
    ];
    for n in primary {
        v.push((format!("雁塔区{n}小学"), SchoolType::Primary, 4, 40));
    }
    for n in ["第一", "第三", "高新", "育英", "师大附"] {
        v.push((format!("雁塔区{n}初级中学"), SchoolType::Junior, 4, 45));
    }
    for n in ["翠华", "吉祥村"] {
        v.push((format!("雁塔区{n}九年制学校"), SchoolType::NineYear, 2, 42));
    }
    for n in ["第一", "第二"] {
        v.push((
            format!("西安市雁塔{n}高级中学"),
            SchoolType::SeniorHigh,
            4,
            48,
        ));
    }
    v.push(("雁塔区职业教育中心".into(), SchoolType::Vocational, 3, 40));
    v.push(("雁塔区特殊教育学校".into(), SchoolType::Special, 1, 12));
    v
}

/// Creates the demo data unless a demo is already there; returns whether it created.
pub async fn create(db: &Db) -> StoreResult<bool> {
    let exists = user_account::Entity::find()
        .filter_username("county")
        .one(&db.conn)
        .await?
        .is_some();
    if exists {
        return Ok(false);
    }
    let pw = crate::accounts::hash_password(DEMO_PASSWORD)?;
    let mut rng = StdRng::seed_from_u64(20250901);
    let txn = db.begin().await?;
    let now = Utc::now();
    let year = crate::org::ensure_school_year(&txn, crate::org::today_date()).await?;

    let unit = |parent, kind, name: &str| NewUnit {
        parent_id: parent,
        kind,
        name: name.to_owned(),
        code: None,
        school_type: None,
        grade_level: None,
        class_number: None,
    };
    let province = insert_unit(&txn, &unit(None, UnitKind::Province, "陕西省")).await?;
    let city = insert_unit(&txn, &unit(Some(province), UnitKind::City, "西安市")).await?;
    let county = insert_unit(&txn, &unit(Some(city), UnitKind::County, "雁塔区")).await?;
    let neighbour = insert_unit(&txn, &unit(Some(city), UnitKind::County, "碑林区")).await?;

    let mut next_pupil = max_id(&txn, "pupil").await? + 1;
    let mut next_guardian = max_id(&txn, "guardian").await? + 1;
    let mut next_staff = max_id(&txn, "staff").await? + 1;
    let mut pupils = Vec::new();
    let mut guardians = Vec::new();
    let mut links = Vec::new();
    let mut members = Vec::new();
    let mut staff_rows = Vec::new();
    let mut phone_seq: u64 = 0;
    let mut next_phone = |rng: &mut StdRng| {
        phone_seq += 1;
        let prefix = [135u64, 136, 137, 139, 150, 151, 158, 186, 187, 189][rng.random_range(0..10)];
        format!("{prefix}{:08}", phone_seq)
    };
    let mut demo_school = None;
    let mut demo_class = None;
    let mut other_class_in_demo_school = None;
    // A recent guardian per school, reused now and then: siblings in one school.
    let mut school_list = schools();
    // The last school belongs to the neighbouring county: scope and leak demos need one.
    let neighbour_school = school_list.len();
    school_list.push(("碑林区和平路小学".into(), SchoolType::Primary, 2, 38));
    for (si, (sname, stype, per_grade, per_class)) in school_list.into_iter().enumerate() {
        let in_neighbour = si == neighbour_school;
        let parent = if in_neighbour { neighbour } else { county };
        let school = insert_unit(
            &txn,
            &NewUnit {
                parent_id: Some(parent),
                kind: UnitKind::School,
                name: sname.clone(),
                code: Some(format!(
                    "6101{:02}{:04}",
                    if in_neighbour { 3 } else { 13 },
                    si + 1
                )),
                school_type: Some(stype),
                grade_level: None,
                class_number: None,
            },
        )
        .await?;
        if stype == SchoolType::Primary && demo_school.is_none() {
            demo_school = Some(school);
        }
        for (pos, title) in [("校长", "principal"), ("德育处主任", "moral")] {
            let sur = SURNAMES[rng.random_range(0..SURNAMES.len())];
            let name = adult_name(&mut rng, sur);
            staff_rows.push(staff_row(next_staff, school, &name, pos, now));
            let _ = title;
            next_staff += 1;
        }
        let mut recent_guardians: Vec<(i64, String)> = Vec::new();
        let mut student_seq = 0;
        for level in stype.grade_levels() {
            let grade = insert_unit(
                &txn,
                &NewUnit {
                    parent_id: Some(school),
                    kind: UnitKind::Grade,
                    name: grade_name(level),
                    code: None,
                    school_type: None,
                    grade_level: Some(level),
                    class_number: None,
                },
            )
            .await?;
            for cn in 1..=per_grade {
                let class = insert_unit(
                    &txn,
                    &NewUnit {
                        parent_id: Some(grade),
                        kind: UnitKind::Class,
                        name: format!("{}{}", grade_name(level), class_name(cn)),
                        code: None,
                        school_type: None,
                        grade_level: Some(level),
                        class_number: Some(cn),
                    },
                )
                .await?;
                if Some(school) == demo_school {
                    if level == 3 && cn == 2 {
                        demo_class = Some(class);
                    } else if level == 5 && cn == 1 {
                        other_class_in_demo_school = Some(class);
                    }
                }
                let sur = SURNAMES[rng.random_range(0..SURNAMES.len())];
                let ht = adult_name(&mut rng, sur);
                staff_rows.push(staff_row(next_staff, school, &ht, "班主任", now));
                next_staff += 1;
                let size = per_class - 3 + rng.random_range(0..6);
                for _ in 0..size {
                    student_seq += 1;
                    let surname = SURNAMES[rng.random_range(0..SURNAMES.len())];
                    let gender = if rng.random_bool(0.52) {
                        Gender::Male
                    } else {
                        Gender::Female
                    };
                    let name = child_name(&mut rng, surname, gender);
                    let pid = next_pupil;
                    next_pupil += 1;
                    pupils.push(pupil::ActiveModel {
                        id: Set(pid),
                        school_id: Set(school),
                        student_no: Set(format!("{}{:02}{:05}", 2025, si + 1, student_seq)),
                        name_pinyin: Set(names::full_pinyin(&name)),
                        name_initials: Set(names::initials(&name)),
                        name: Set(name),
                        gender: Set(Some(gender.code().to_owned())),
                        created_at: Set(now),
                    });
                    members.push(class_membership::ActiveModel {
                        pupil_id: Set(pid),
                        school_year_id: Set(year),
                        class_id: Set(class),
                    });
                    // About one pupil in 25 is the sibling of an earlier one.
                    if !recent_guardians.is_empty() && rng.random_bool(0.04) {
                        let (gid, _) =
                            recent_guardians[rng.random_range(0..recent_guardians.len())].clone();
                        links.push(link(gid, pid, Relation::Mother));
                        continue;
                    }
                    let parents = if rng.random_bool(0.6) { 2 } else { 1 };
                    for k in 0..parents {
                        let other_surname = SURNAMES[rng.random_range(0..SURNAMES.len())];
                        let (gname, rel) = match (k, rng.random_range(0..10)) {
                            (0, 0) => (adult_name(&mut rng, surname), Relation::Grandfather),
                            (0, 1) => (
                                adult_name(&mut rng, other_surname),
                                Relation::MaternalGrandmother,
                            ),
                            (0, _) => (adult_name(&mut rng, surname), Relation::Father),
                            _ => (adult_name(&mut rng, other_surname), Relation::Mother),
                        };
                        let gid = next_guardian;
                        next_guardian += 1;
                        let phone = next_phone(&mut rng);
                        guardians.push(guardian_row(gid, &gname, &phone, now));
                        links.push(link(gid, pid, rel));
                        recent_guardians.push((gid, gname));
                        if recent_guardians.len() > 40 {
                            recent_guardians.remove(0);
                        }
                    }
                }
            }
        }
    }

    // The demo parent: one person with a child in the demo class and one in grade 5.
    let (demo_school, demo_class, other_class) = (
        demo_school.expect("a primary school"),
        demo_class.expect("a grade-3 class"),
        other_class_in_demo_school.expect("a grade-5 class"),
    );
    let demo_parent = next_guardian;
    guardians.push(guardian_row(demo_parent, "王建国", DEMO_PARENT_PHONE, now));
    for (class, no, name, g) in [
        (demo_class, "2025DEMO001", "王小明", Gender::Male),
        (other_class, "2025DEMO002", "王小红", Gender::Female),
    ] {
        let pid = next_pupil;
        next_pupil += 1;
        pupils.push(pupil::ActiveModel {
            id: Set(pid),
            school_id: Set(demo_school),
            student_no: Set(no.into()),
            name: Set(name.into()),
            name_pinyin: Set(names::full_pinyin(name)),
            name_initials: Set(names::initials(name)),
            gender: Set(Some(g.code().into())),
            created_at: Set(now),
        });
        members.push(class_membership::ActiveModel {
            pupil_id: Set(pid),
            school_year_id: Set(year),
            class_id: Set(class),
        });
        links.push(link(demo_parent, pid, Relation::Father));
    }

    bulk(&txn, pupils).await?;
    bulk(&txn, members).await?;
    bulk(&txn, guardians).await?;
    bulk(&txn, links).await?;
    let staff_ids: Vec<i64> = staff_rows.iter().map(|s| *s.id.as_ref()).collect();
    bulk(&txn, staff_rows).await?;

    // Office staff and accounts.
    let mut next_user = max_id(&txn, "user_account").await? + 1;
    let accounts: Vec<(&str, &str, Role, i64, Option<i64>)> = vec![
        (
            "province",
            "省教育厅 李华",
            Role::ProvinceAdmin,
            province,
            None,
        ),
        ("city", "市教育局 张伟", Role::CityAdmin, city, None),
        (
            "county",
            "雁塔区教育局 刘洋",
            Role::CountyAdmin,
            county,
            None,
        ),
        ("inspector", "督学 陈明", Role::Inspector, county, None),
        ("school", "校长 赵丽", Role::SchoolAdmin, demo_school, None),
        (
            "teacher",
            "班主任 孙芳",
            Role::HeadTeacher,
            demo_class,
            None,
        ),
    ];
    for (username, display, role, unit_id, _) in accounts {
        let uid = next_user;
        next_user += 1;
        let staff_id = if unit_id == demo_school || unit_id == demo_class {
            let id = staff_ids.iter().copied().max().unwrap_or(0) + uid;
            let name = display.split(' ').next_back().unwrap_or(display);
            staff::Entity::insert(staff_row(
                id,
                demo_school,
                name,
                if role == Role::SchoolAdmin {
                    "校长"
                } else {
                    "班主任"
                },
                now,
            ))
            .exec_without_returning(&txn)
            .await?;
            Some(id)
        } else {
            None
        };
        user_account::ActiveModel {
            id: Set(uid),
            username: Set(Some(username.into())),
            phone: Set(None),
            display_name: Set(display.into()),
            password_hash: Set(Some(pw.clone())),
            staff_id: Set(staff_id),
            guardian_id: Set(None),
            active: Set(true),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        role_grant::ActiveModel {
            user_id: Set(uid),
            role: Set(role.code().into()),
            unit_id: Set(unit_id),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if role == Role::HeadTeacher {
            role_grant::ActiveModel {
                user_id: Set(uid),
                role: Set(Role::Teacher.code().into()),
                unit_id: Set(demo_school),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    user_account::ActiveModel {
        id: Set(next_user),
        username: Set(None),
        phone: Set(Some(DEMO_PARENT_PHONE.into())),
        display_name: Set("王建国".into()),
        password_hash: Set(Some(pw)),
        staff_id: Set(None),
        guardian_id: Set(Some(demo_parent)),
        active: Set(true),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let starts = crate::org::school_year_of(crate::org::today_date()).1;
    let starts = chrono::NaiveDate::parse_from_str(&starts, "%Y-%m-%d")
        .map_err(|e| crate::StoreError::Other(e.to_string()))?;
    crate::demo_ps::create(&txn, year, starts, county, demo_parent).await?;
    crate::dump::reset_sequences(&txn).await?;
    crate::audit::record(
        &txn,
        &Scope::system(),
        crate::audit::Entry {
            unit_id: Some(county),
            entity: "demo",
            entity_id: None,
            action: "create",
            before: None,
            after: Some(serde_json::json!({"seed": 20250901})),
        },
    )
    .await?;
    txn.commit().await?;
    crate::demo_ps::after_commit(db, demo_school, year).await?;
    db.optimize().await?;
    Ok(true)
}

fn staff_row(
    id: i64,
    unit: i64,
    name: &str,
    position: &str,
    now: chrono::DateTime<Utc>,
) -> staff::ActiveModel {
    staff::ActiveModel {
        id: Set(id),
        unit_id: Set(unit),
        name: Set(name.into()),
        name_pinyin: Set(names::full_pinyin(name)),
        name_initials: Set(names::initials(name)),
        phone: Set(None),
        position: Set(Some(position.into())),
        created_at: Set(now),
    }
}

fn guardian_row(
    id: i64,
    name: &str,
    phone: &str,
    now: chrono::DateTime<Utc>,
) -> guardian::ActiveModel {
    guardian::ActiveModel {
        id: Set(id),
        name: Set(name.into()),
        name_pinyin: Set(names::full_pinyin(name)),
        name_initials: Set(names::initials(name)),
        phone: Set(Some(phone.into())),
        created_at: Set(now),
    }
}

fn link(g: i64, p: i64, r: Relation) -> guardianship::ActiveModel {
    guardianship::ActiveModel {
        guardian_id: Set(g),
        pupil_id: Set(p),
        relation: Set(r.code().into()),
    }
}

async fn max_id<C: ConnectionTrait>(conn: &C, table: &str) -> StoreResult<i64> {
    crate::db::scalar_i64(
        conn,
        format!("SELECT COALESCE(MAX(id), 0) AS n FROM {table}"),
        Vec::<sea_orm::Value>::new(),
    )
    .await
}

use crate::db::bulk;

trait ByUsername {
    fn filter_username(self, name: &str) -> Self;
}

impl ByUsername for sea_orm::Select<user_account::Entity> {
    fn filter_username(self, name: &str) -> Self {
        use sea_orm::{ColumnTrait, QueryFilter};
        self.filter(user_account::Column::Username.eq(name))
    }
}
