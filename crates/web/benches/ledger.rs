//! The ledger figures of issue 3, on SQLite: a school of 3,000 parents with 40 held
//! sessions. Times (a) the XLSX export of one session's 3,000 check-ins and (b) the whole
//! ledger XLSX once attendance is at 80 % (96,000 check-ins). Medians of 3 runs.
//! Run: `cargo bench -p jiaxiao-web --bench ledger` (BENCHMARKS.md).

use std::time::Instant;

use chrono::{Duration, Utc};
use jiaxiao_domain::parent_school::{Form, SessionStatus};
use jiaxiao_store::entities::checkin;
use jiaxiao_store::org;
use jiaxiao_store::parent_school::sessions::{self, NewSession};
use jiaxiao_store::{Db, Scope};
use jiaxiao_testkit::{Kind, TestDb};
use jiaxiao_web::i18n::Lang;
use sea_orm::{EntityTrait, Set};

const PARENTS: usize = 3000;
const SESSIONS: usize = 40;

async fn insert_checkins(db: &Db, rows: Vec<(i64, i64)>) {
    let txn = db.begin().await.unwrap();
    let now = Utc::now();
    for chunk in rows.chunks(500) {
        checkin::Entity::insert_many(chunk.iter().map(|(s, g)| checkin::ActiveModel {
            session_id: Set(*s),
            guardian_id: Set(*g),
            status: Set("present".into()),
            method: Set("qr".into()),
            checked_at: Set(now),
            recorded_by: Set(None),
            device_hash: Set(None),
            nonce: Set(None),
            created_at: Set(now),
            ..Default::default()
        }))
        .exec_without_returning(&txn)
        .await
        .unwrap();
    }
    // Bulk rows bypass the check-in writer: the counters are rebuilt as after any load.
    jiaxiao_store::parent_school::tally::rebuild(&txn)
        .await
        .unwrap();
    txn.commit().await.unwrap();
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let t = TestDb::new(Kind::Sqlite).await.expect("sqlite");
    let db = &t.db;
    let sys = Scope::system();
    let school = jiaxiao_testkit::fixtures::county_with_schools(db, &["测试小学"])
        .await
        .schools[0];
    let mut csv = String::from("学号,姓名,年级,班级,家长姓名,联系电话\n");
    for i in 0..PARENTS {
        csv.push_str(&format!(
            "B{i:05},学生{i},{},{},家长{i},139{:08}\n",
            i % 6 + 1,
            i / 6 % 10 + 1,
            i
        ));
    }
    jiaxiao_testkit::fixtures::import_roster(db, school, &csv).await;
    let year = org::current_school_year(&db.conn).await.unwrap();
    let year_start =
        chrono::NaiveDate::parse_from_str(&org::school_year_of(org::today_date()).1, "%Y-%m-%d")
            .unwrap();
    let first = year_start.and_hms_opt(11, 0, 0).unwrap().and_utc();
    let span = (Utc::now() - first).num_minutes().max(SESSIONS as i64 * 60);
    let mut ids = Vec::new();
    for i in 0..SESSIONS {
        let id = sessions::create_session(
            db,
            &sys,
            NewSession {
                school_id: school,
                title: format!("第{}讲", i + 1),
                form: Some(Form::Lecture),
                starts_at: first + Duration::minutes(span * i as i64 / SESSIONS as i64),
                duration_minutes: 60,
                instructor_name: "专家".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        sessions::file_lesson_plan(db, &sys, id, "教案", None)
            .await
            .unwrap();
        sessions::set_status(db, &sys, id, SessionStatus::Held, None)
            .await
            .unwrap();
        ids.push(id);
    }
    let guardians = sessions::invited_guardian_ids(&db.conn, ids[0])
        .await
        .unwrap();
    assert_eq!(guardians.len(), PARENTS);
    // (a) 20,000 check-ins: every parent at the first 6 sessions, 2,000 at the 7th.
    let mut pairs: Vec<(i64, i64)> = Vec::new();
    for (i, s) in ids.iter().enumerate() {
        for (j, g) in guardians.iter().enumerate() {
            let first_20k = i < 6 || (i == 6 && j < 2000);
            if first_20k {
                pairs.push((*s, *g));
            }
        }
    }
    insert_checkins(db, pairs).await;
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..3 {
        let t0 = Instant::now();
        // Since issue 9 the export is one session's, read from its roster.
        let b = jiaxiao_web::ledger::checkins_xlsx(db, &sys, Lang::Zh, ids[0])
            .await
            .unwrap();
        times.push(t0.elapsed().as_secs_f64());
        size = b.len();
    }
    println!(
        "checkins_xlsx: one session's 3,000 check-ins, median {:.3} s (runs {:?}), {} bytes",
        median(times.clone()),
        times,
        size
    );
    // (b) Up to 80 % attendance at every session: 96,000 check-ins.
    let mut more = Vec::new();
    for (i, s) in ids.iter().enumerate() {
        for (j, g) in guardians.iter().enumerate() {
            let had = i < 6 || (i == 6 && j < 2000);
            if !had && (j * 7 + i * 13) % 10 < 8 {
                more.push((*s, *g));
            }
        }
    }
    insert_checkins(db, more).await;
    let mut times = Vec::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        let b = jiaxiao_web::ledger::ledger_xlsx(db, &sys, Lang::Zh, school, year)
            .await
            .unwrap();
        times.push(t0.elapsed().as_secs_f64());
        size = b.len as usize;
    }
    let n = jiaxiao_store::db::scalar_i64(&db.conn, "SELECT COUNT(*) AS n FROM checkin", vec![])
        .await
        .unwrap();
    println!(
        "ledger_xlsx: {PARENTS} parents x {SESSIONS} sessions, {n} check-ins, median {:.3} s (runs {:?}), {} bytes",
        median(times.clone()),
        times,
        size
    );
}
