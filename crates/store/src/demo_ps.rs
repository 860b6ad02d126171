//! The demo county's parent-school year so far: every school's topic catalogue,
//! leadership group and parent committee, a year of sessions (past ones held with
//! lesson plans, summaries and check-ins by every method; later ones planned), and
//! reflections. Deterministic like the rest of the demo.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use jiaxiao_domain::SchoolType;
use jiaxiao_domain::parent_school::{Form, Position, SessionStatus, Settings, default_topics};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, FromQueryResult, Set};

use crate::StoreResult;
use crate::db::bulk as bulk_insert;
use crate::entities::{
    checkin, committee, committee_member, reflection, session_audience, teaching_session, topic,
};
use crate::parent_school::rows;

const EXPERTS: &[(&str, &str, &str)] = &[
    ("王慧敏", "教授", "陕西师范大学教育学院"),
    (
        "李春华",
        "国家二级心理咨询师",
        "雁塔区未成年人心理健康辅导中心",
    ),
    ("张建军", "家庭教育指导师", "西安市家庭教育研究会"),
    ("刘晓燕", "副主任医师", "西安市儿童医院"),
];

const LESSON_PLAN: &str = "一、教学目标：帮助家长了解本专题的核心观点，掌握两三个在家可用的方法。\n\
二、教学重点：结合本年级学生特点，分析常见问题。\n\
三、教学过程：1. 案例导入（10分钟）；2. 专题讲授（30分钟）；3. 家长交流与答疑（20分钟）。\n\
四、课后作业：每位家长回家后与孩子进行一次专题谈话，并写下心得。";

const SUMMARY: &str = "本次课程按计划完成。家长到场积极，交流环节有多位家长分享了自己的做法，\
授课教师针对家长提出的问题逐一解答。课后收集家长心得，整理归档。\
下一步将根据家长反馈，调整下次课程的案例与时间安排。";

const REFLECTIONS: &[&str] = &[
    "听了这次讲座，我认识到陪伴比说教更重要，以后每天抽出半小时和孩子聊聊学校的事。",
    "老师讲的“先处理情绪再处理事情”对我很有启发，回家试了一下，孩子愿意和我说心里话了。",
    "通过交流，我学到了其他家长培养孩子阅读习惯的方法，准备在家里建一个读书角。",
    "以前总是盯着分数，这次课让我明白要多关注孩子的心理健康和品格养成。",
];

#[derive(FromQueryResult)]
struct SchoolRow {
    id: i64,
    school_type: Option<String>,
}

#[derive(FromQueryResult)]
struct ClassRow {
    id: i64,
    grade_id: i64,
}

#[derive(FromQueryResult)]
struct Household {
    class_id: i64,
    guardian_id: i64,
}

#[derive(FromQueryResult)]
struct StaffRow {
    id: i64,
    name: String,
}

/// A Beijing wall-clock time as UTC.
fn bj(d: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&(d.and_hms_opt(h, m, 0).expect("valid time") - Duration::hours(8)))
}

pub(crate) async fn create<C: ConnectionTrait>(
    conn: &C,
    year: i64,
    year_starts: NaiveDate,
    county: i64,
    demo_parent: i64,
) -> StoreResult<()> {
    let mut rng = StdRng::seed_from_u64(20260901);
    let now = Utc::now();
    let settings = Settings::default();
    let schools: Vec<SchoolRow> = rows(
        conn,
        "SELECT o.id, o.school_type FROM org_unit o WHERE o.kind = 'school' ORDER BY o.id".into(),
        vec![],
    )
    .await?;
    let next = |t: &'static str| async move {
        crate::db::scalar_i64(
            conn,
            format!("SELECT COALESCE(MAX(id), 0) AS n FROM {t}"),
            vec![],
        )
        .await
    };
    let mut next_topic = next("topic").await? + 1;
    let mut next_session = next("teaching_session").await? + 1;
    let mut next_committee = next("committee").await? + 1;
    let mut next_member = next("committee_member").await? + 1;
    let mut next_checkin = next("checkin").await? + 1;
    let mut next_reflection = next("reflection").await? + 1;
    let (mut topics, mut sessions, mut audiences, mut committees, mut members) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut checkins, mut reflections) = (Vec::new(), Vec::new());
    let today = now;
    let forms = [Form::Lecture, Form::Forum, Form::OpenDay, Form::Online];
    // Last school year, so the year selector has an earlier year to show (issue 10
    // item 11): one held lecture per school in its spring term.
    let last_year_day = year_starts - Duration::days(120);
    let last_year = crate::org::ensure_school_year(conn, last_year_day).await?;
    for (si, school) in schools.iter().enumerate() {
        let stype = school
            .school_type
            .as_deref()
            .and_then(SchoolType::from_code);
        let topic_ids: Vec<(i64, &str)> = default_topics(stype)
            .iter()
            .map(|t| {
                let id = next_topic;
                next_topic += 1;
                (id, *t)
            })
            .collect();
        for (i, (id, title)) in topic_ids.iter().enumerate() {
            topics.push(topic::ActiveModel {
                id: Set(*id),
                school_id: Set(school.id),
                ordinal: Set(i as i32 + 1),
                title: Set((*title).to_owned()),
                description: Set(None),
                active: Set(true),
                created_at: Set(now),
            });
        }
        let classes: Vec<ClassRow> = rows(
            conn,
            "SELECT c.id, c.parent_id AS grade_id FROM org_unit c JOIN org_unit g ON g.id = c.parent_id \
             WHERE g.parent_id = $1 AND c.kind = 'class' ORDER BY g.grade_level, c.class_number"
                .into(),
            vec![school.id.into()],
        )
        .await?;
        let households: Vec<Household> = rows(
            conn,
            "SELECT cm.pupil_id, cm.class_id, MIN(gs.guardian_id) AS guardian_id FROM class_membership cm \
             JOIN guardianship gs ON gs.pupil_id = cm.pupil_id JOIN org_unit c ON c.id = cm.class_id \
             JOIN org_unit g ON g.id = c.parent_id WHERE g.parent_id = $1 AND cm.school_year_id = $2 \
             GROUP BY cm.pupil_id, cm.class_id ORDER BY cm.pupil_id"
                .into(),
            vec![school.id.into(), year.into()],
        )
        .await?;
        let staff: Vec<StaffRow> = rows(
            conn,
            "SELECT id, name FROM staff WHERE unit_id = $1 ORDER BY id LIMIT 12".into(),
            vec![school.id.into()],
        )
        .await?;
        // Bodies: the leadership group and the school's parent committee.
        let lead = next_committee;
        let parents_c = next_committee + 1;
        next_committee += 2;
        for (id, kind, name) in [
            (lead, "leadership", "家长学校工作领导小组"),
            (parents_c, "committee", "校级家长委员会"),
        ] {
            committees.push(committee::ActiveModel {
                id: Set(id),
                school_id: Set(school.id),
                school_year_id: Set(year),
                unit_id: Set(school.id),
                kind: Set(kind.into()),
                name: Set(name.into()),
                created_at: Set(now),
            });
        }
        for (i, st) in staff.iter().take(5).enumerate() {
            let pos = match i {
                0 => Position::Head,
                1 | 2 => Position::Deputy,
                _ => Position::Member,
            };
            members.push(committee_member::ActiveModel {
                id: Set(next_member),
                committee_id: Set(lead),
                position: Set(pos.code().into()),
                staff_id: Set(Some(st.id)),
                guardian_id: Set(None),
                note: Set(None),
                created_at: Set(now),
            });
            next_member += 1;
        }
        let mut committee_parents = Vec::new();
        for (i, h) in households.iter().step_by(37).take(7).enumerate() {
            let pos = match i {
                0 => Position::Chair,
                1 | 2 => Position::ViceChair,
                3 => Position::SecretaryGeneral,
                6 => Position::Contact,
                _ => Position::CommitteeMember,
            };
            committee_parents.push(h.guardian_id);
            members.push(committee_member::ActiveModel {
                id: Set(next_member),
                committee_id: Set(parents_c),
                position: Set(pos.code().into()),
                staff_id: Set(None),
                guardian_id: Set(Some(h.guardian_id)),
                note: Set(None),
                created_at: Set(now),
            });
            next_member += 1;
        }
        {
            let (tid, ttitle) = topic_ids[si % topic_ids.len()];
            let e = EXPERTS[si % EXPERTS.len()];
            let starts = bj(last_year_day + Duration::days(si as i64 % 20), 19, 0);
            sessions.push(teaching_session::ActiveModel {
                id: Set(next_session),
                school_id: Set(school.id),
                school_year_id: Set(last_year),
                course_id: Set(None),
                topic_id: Set(Some(tid)),
                activity_id: Set(None),
                title: Set(ttitle.to_owned()),
                form: Set(Form::Lecture.code().into()),
                starts_at: Set(starts),
                duration_minutes: Set(60),
                place: Set(Some("学校报告厅".to_owned())),
                online_url: Set(None),
                instructor_staff_id: Set(None),
                instructor_name: Set(e.0.to_owned()),
                instructor_title: Set(Some(e.1.to_owned())),
                instructor_org: Set(Some(e.2.to_owned())),
                audience: Set("school".into()),
                capacity: Set(None),
                status: Set(SessionStatus::Held.code().into()),
                lesson_plan: Set(Some(LESSON_PLAN.to_owned())),
                lesson_plan_at: Set(Some(starts)),
                summary: Set(Some(SUMMARY.to_owned())),
                summary_at: Set(Some(starts + Duration::days(1))),
                checkin_secret: Set(crate::parent_school::sessions::new_secret()),
                opens_before_minutes: Set(settings.opens_before_minutes),
                closes_after_minutes: Set(settings.closes_after_minutes),
                late_after_minutes: Set(settings.late_after_minutes),
                created_by: Set(None),
                created_at: Set(starts - Duration::days(14)),
                version: Set(1),
            });
            next_session += 1;
        }
        // A session in each month of the school year: whole-school talks in odd months,
        // grade forums and open days in even ones; online now and then.
        let grades: Vec<i64> = {
            let mut g: Vec<i64> = classes.iter().map(|c| c.grade_id).collect();
            g.dedup();
            g
        };
        for month in 0..10u32 {
            let m0 = year_starts.month0() + month;
            let (y, m) = (year_starts.year() + (m0 / 12) as i32, m0 % 12 + 1);
            let day = 8 + ((si as u32 * 3 + month * 5) % 18);
            let Some(date) = NaiveDate::from_ymd_opt(y, m, day) else {
                continue;
            };
            let form = forms[(si + month as usize) % forms.len()];
            let (hour, minute) = if form == Form::OpenDay {
                (9, 0)
            } else {
                (19, 0)
            };
            let starts = bj(date, hour, minute);
            let (tid, ttitle) = topic_ids[(month as usize + si) % topic_ids.len()];
            let per_grade = month % 2 == 1 && !grades.is_empty();
            let target_grade = if per_grade {
                Some(grades[(month as usize / 2 + si) % grades.len()])
            } else {
                None
            };
            let (iname, ititle, iorg, istaff) = if form == Form::Lecture || staff.is_empty() {
                let e = EXPERTS[(si + month as usize) % EXPERTS.len()];
                (
                    e.0.to_owned(),
                    Some(e.1.to_owned()),
                    Some(e.2.to_owned()),
                    None,
                )
            } else {
                let st = &staff[(month as usize) % staff.len()];
                (
                    st.name.clone(),
                    Some("德育处".to_owned()),
                    None,
                    Some(st.id),
                )
            };
            let held = starts + Duration::hours(3) < today;
            let sid = next_session;
            next_session += 1;
            let duration = if form == Form::OpenDay { 90 } else { 60 };
            sessions.push(teaching_session::ActiveModel {
                id: Set(sid),
                school_id: Set(school.id),
                school_year_id: Set(year),
                course_id: Set(None),
                topic_id: Set(Some(tid)),
                activity_id: Set(None),
                title: Set(ttitle.to_owned()),
                form: Set(form.code().into()),
                starts_at: Set(starts),
                duration_minutes: Set(duration),
                place: Set((form != Form::Online).then(|| {
                    if per_grade {
                        "各班教室".to_owned()
                    } else {
                        "学校报告厅".to_owned()
                    }
                })),
                online_url: Set((form == Form::Online)
                    .then(|| format!("https://meeting.example.cn/jiaxiao/{sid}"))),
                instructor_staff_id: Set(istaff),
                instructor_name: Set(iname),
                instructor_title: Set(ititle),
                instructor_org: Set(iorg),
                audience: Set(if per_grade { "units" } else { "school" }.into()),
                capacity: Set(None),
                status: Set(if held {
                    SessionStatus::Held
                } else {
                    SessionStatus::Planned
                }
                .code()
                .into()),
                lesson_plan: Set((held || month < 4).then(|| LESSON_PLAN.to_owned())),
                lesson_plan_at: Set((held || month < 4).then_some(now)),
                summary: Set(held.then(|| SUMMARY.to_owned())),
                summary_at: Set(held.then_some(now)),
                checkin_secret: Set(crate::parent_school::sessions::new_secret()),
                opens_before_minutes: Set(settings.opens_before_minutes),
                closes_after_minutes: Set(settings.closes_after_minutes),
                late_after_minutes: Set(settings.late_after_minutes),
                created_by: Set(None),
                created_at: Set(now),
                version: Set(1),
            });
            if let Some(g) = target_grade {
                audiences.push(session_audience::ActiveModel {
                    session_id: Set(sid),
                    unit_id: Set(g),
                });
            }
            if !held {
                continue;
            }
            // Check-ins: a household's turnout depends on its class (some head teachers
            // rally harder), one parent per household, a few by staff or on paper.
            let invited = households.iter().filter(|h| {
                target_grade.is_none_or(|g| {
                    classes
                        .iter()
                        .any(|c| c.id == h.class_id && c.grade_id == g)
                })
            });
            let mut seen = std::collections::HashSet::new();
            for h in invited {
                let class_bias = (h.class_id % 7) as f64 * 0.03;
                let p = 0.62
                    + class_bias
                    + if h.guardian_id == demo_parent {
                        1.0
                    } else {
                        0.0
                    };
                let roll: f64 = rng.random();
                if !seen.insert(h.guardian_id) {
                    continue;
                }
                let (status, method, offset) = if roll < p {
                    let offset = rng.random_range(-25i64..22);
                    let status = if offset > settings.late_after_minutes as i64 {
                        "late"
                    } else {
                        "present"
                    };
                    let r: f64 = rng.random();
                    let method = if r < 0.74 {
                        "qr"
                    } else if r < 0.82 {
                        "code"
                    } else if r < 0.93 {
                        "staff"
                    } else {
                        "paper"
                    };
                    (status, method, offset)
                } else if roll < p + 0.04 {
                    ("excused", "staff", -60)
                } else {
                    continue;
                };
                checkins.push(checkin::ActiveModel {
                    id: Set(next_checkin),
                    session_id: Set(sid),
                    guardian_id: Set(h.guardian_id),
                    status: Set(status.into()),
                    method: Set(method.into()),
                    checked_at: Set(starts
                        + Duration::minutes(offset)
                        + Duration::seconds(rng.random_range(0..60))),
                    recorded_by: Set(None),
                    device_hash: Set(None),
                    nonce: Set(None),
                    created_at: Set(starts + Duration::minutes(offset)),
                });
                next_checkin += 1;
                if (status == "present" || status == "late")
                    && (h.guardian_id == demo_parent
                        || committee_parents.contains(&h.guardian_id)
                        || rng.random_range(0..40) == 0)
                {
                    reflections.push(reflection::ActiveModel {
                        id: Set(next_reflection),
                        session_id: Set(sid),
                        guardian_id: Set(h.guardian_id),
                        body: Set(REFLECTIONS[rng.random_range(0..REFLECTIONS.len())].into()),
                        created_at: Set(starts + Duration::days(1)),
                    });
                    next_reflection += 1;
                }
            }
        }
    }
    let _ = county;
    bulk_insert(conn, topics).await?;
    bulk_insert(conn, committees).await?;
    bulk_insert(conn, members).await?;
    bulk_insert(conn, sessions).await?;
    bulk_insert(conn, audiences).await?;
    bulk_insert(conn, checkins).await?;
    bulk_insert(conn, reflections).await?;
    crate::parent_school::tally::rebuild(conn).await?;
    Ok(())
}

/// After the bulk rows are in: the demo school's coming parents' meeting day (plan 2,
/// through the same store functions the pages use) and its excellent-trainee
/// nominations computed from the year so far.
pub(crate) async fn after_commit(db: &crate::Db, demo_school: i64, year: i64) -> StoreResult<()> {
    use crate::parent_school::activities::{self, NewActivity, NewBreakout, NewDuty, NewItem};
    use jiaxiao_domain::parent_school::{ActivityPart, ExcellenceRule};
    let sys = crate::Scope::system();
    let day = (Utc::now() + Duration::hours(8)).date_naive() + Duration::days(5);
    let aid = activities::create_activity(
        db,
        &sys,
        NewActivity {
            school_id: demo_school,
            theme: "家校携手 共育成长——秋季家长会".into(),
            starts_at: bj(day, 14, 0),
            ends_at: bj(day, 16, 30),
            place: "学校操场".into(),
            participants: "全体学生及家长学校学员".into(),
            organiser: "德育处".into(),
            venue_notes: Some(
                "学生在东操场，家长在西操场；进教室后家长坐前排，学生坐后排；学生不得在校园内随意走动。"
                    .into(),
            ),
            survey_ref: Some("家长调查表（问卷模块上线后在此关联）".into()),
        },
    )
    .await?;
    for (title, speaker) in [
        ("校长致欢迎辞", "校长 赵丽"),
        ("德育处作家长会动员报告", "德育处主任"),
        ("家长学校学员代表发言", "学员代表 王建国"),
    ] {
        activities::add_item(
            db,
            &sys,
            aid,
            NewItem {
                part: ActivityPart::Collective,
                title: title.into(),
                speaker: Some(speaker.into()),
                starts_at: None,
            },
        )
        .await?;
    }
    let classes: Vec<ClassRow> = rows(
        &db.conn,
        "SELECT c.id, c.parent_id AS grade_id FROM org_unit c JOIN org_unit g ON g.id = c.parent_id \
         WHERE g.parent_id = $1 AND c.kind = 'class' ORDER BY g.grade_level, c.class_number LIMIT 6"
            .into(),
        vec![demo_school.into()],
    )
    .await?;
    let breakouts = classes
        .iter()
        .map(|c| NewBreakout {
            class_id: c.id,
            title: "学员培训：读懂孩子，科学陪伴".into(),
            instructor_name: "班主任".into(),
            starts_at: Some(bj(day, 15, 0)),
            duration_minutes: Some(90),
            ..Default::default()
        })
        .collect();
    activities::add_breakouts(db, &sys, aid, breakouts).await?;
    for (person, duty, place, time) in [
        ("各班班主任", "维持本班秩序", "各班教室", ""),
        (
            "赵老师、钱老师",
            "引导迟到家长入座",
            "西操场",
            "14:00–14:30",
        ),
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
    ] {
        activities::add_duty(
            db,
            &sys,
            aid,
            NewDuty {
                person: person.into(),
                duty: duty.into(),
                place: Some(place.into()),
                time_text: (!time.is_empty()).then(|| time.into()),
            },
        )
        .await?;
    }
    crate::parent_school::excellence::compute(
        db,
        &sys,
        demo_school,
        year,
        &ExcellenceRule {
            min_attendance_rate: 1.0,
            min_hours: 1.0,
            min_reflections: 1,
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}
