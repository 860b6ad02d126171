//! A big school's year of check-ins as XLSX keeps the server's memory flat (issue 16):
//! the export reads the lines a chunk at a time and writes them to temp files, so its
//! peak does not grow with the year. The peak resident memory read from /proc is the
//! whole process's, so each database is measured in a process of its own: the test
//! runs this binary again per backend, and memory one run freed cannot hide the
//! next run's growth.

use std::io::Write;

use chrono::{Duration, Utc};
use jiaxiao_domain::Role;
use jiaxiao_domain::parent_school::Form;
use jiaxiao_store::parent_school::sessions::{self, NewSession};
use jiaxiao_store::{Db, Scope};
use jiaxiao_testkit::fixtures::{county_with_schools, import_roster, login, staff_account};
use jiaxiao_testkit::xlsx::{Data, Reader, Xlsx, each_row};
use jiaxiao_testkit::{Kind, TestApp, TestDb};
use sea_orm::ConnectionTrait;

/// Parents of the school, each at every session: 250,000 check-ins. BENCHMARKS.md runs
/// it with `JIAXIAO_EXPORT_MEMORY_PARENTS=12000` (1.2 million, two sheets).
fn parents() -> usize {
    std::env::var("JIAXIAO_EXPORT_MEMORY_PARENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_500)
}
const SESSIONS: usize = 100;

/// The old export (the year's lines, then their cells, then the workbook, all in
/// memory) grew the process by 800 MB on SQLite and 520 MB on PostgreSQL for 250,000
/// lines; the streamed one by 22 and 8.
const MAX_GROWTH_KB: u64 = 64 * 1024;

/// A field of /proc/self/status, in kB.
fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

/// Sets the peak (VmHWM) back to the current resident size (Linux's clear_refs).
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
}

/// A school of `parents` parents and `SESSIONS` sessions this year at which every
/// parent checked in: one INSERT … SELECT, quick on both databases.
async fn big_school(db: &Db, parents: usize) -> i64 {
    let school = county_with_schools(db, &["实验小学"]).await.schools[0];
    let mut csv = String::from("学号,姓名,年级,班级,家长姓名,联系电话\n");
    for i in 0..parents {
        csv.push_str(&format!(
            "B{i:05},学生{i},{},{},家长{i},139{i:08}\n",
            i % 6 + 1,
            i / 6 % 10 + 1,
        ));
    }
    import_roster(db, school, &csv).await;
    for i in 0..SESSIONS {
        sessions::create_session(
            db,
            &Scope::system(),
            NewSession {
                school_id: school,
                title: format!("第{}讲", i + 1),
                form: Some(Form::Lecture),
                starts_at: Utc::now() - Duration::minutes(10 * i as i64 + 5),
                duration_minutes: 60,
                instructor_name: "专家".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    db.conn
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            db.db_backend(),
            "INSERT INTO checkin (session_id, guardian_id, status, method, checked_at, created_at) \
             SELECT t.id, g.id, 'present', 'qr', t.starts_at, t.starts_at \
             FROM teaching_session t CROSS JOIN guardian g WHERE t.school_id = $1",
            [school.into()],
        ))
        .await
        .unwrap();
    school
}

async fn export_stays_flat(kind: Kind) {
    let Some(t) = TestDb::new(kind).await else {
        return;
    };
    let db = t.db.clone();
    let parents = parents();
    let school = big_school(&db, parents).await;
    let lines = jiaxiao_store::db::scalar_i64(&db.conn, "SELECT COUNT(*) AS n FROM checkin", vec![])
        .await
        .unwrap() as usize;
    assert_eq!(lines, parents * SESSIONS);
    staff_account(&db, "admin", Role::SchoolAdmin, school).await;
    let app = TestApp::spawn(t).await;
    let admin = login(&app, "admin").await;
    // Warm up the pages' lazily built parts on a small answer before measuring.
    let r = admin
        .get(app.url(&format!("/ps/schools/{school}/ledger")))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    let out = tempfile::tempfile().unwrap();
    let mut out = std::io::BufWriter::new(out);
    let before = status_kb("VmRSS");
    reset_peak();
    let mut r = admin
        .get(app.url(&format!("/ps/schools/{school}/checkins.xlsx")))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    // The client's side is streamed to disk too: the peak is the server's.
    while let Some(chunk) = r.chunk().await.unwrap() {
        out.write_all(&chunk).unwrap();
    }
    let peak = status_kb("VmHWM");
    let growth = peak.saturating_sub(before);
    println!(
        "{lines} check-ins as XLSX: resident {before} kB before, peak {peak} kB, growth {growth} kB"
    );
    assert!(
        growth <= MAX_GROWTH_KB,
        "{kind:?}: the export grew the process by {growth} kB (bound {MAX_GROWTH_KB} kB)"
    );

    // What was sent is the year: every line once, typed cells, under one header.
    let file = out.into_inner().unwrap();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::BufReader::new(file)).unwrap();
    // Past Excel's row limit the lines go on in "签到明细 (2)", under the same header.
    let per_sheet = jiaxiao_export::MAX_SHEET_ROWS as usize - 2;
    let want: Vec<String> = (1..=lines.div_ceil(per_sheet))
        .map(|n| match n {
            1 => "签到明细".to_owned(),
            n => format!("签到明细 ({n})"),
        })
        .collect();
    assert_eq!(wb.sheet_names(), want);
    let (mut phones, mut total) = (0, 0);
    for name in &want {
        // A row at a time: a million lines kept whole would be most of a gigabyte here.
        each_row(&mut wb, name, |i, row| {
            if i == 1 {
                assert_eq!(row.get(2), Some(&Data::String("家长".into())));
            }
            if i < 2 {
                return;
            }
            total += 1;
            assert!(matches!(row[0], Data::DateTime(_)), "row {i}: {:?}", row[0]);
            assert!(matches!(&row[1], Data::String(s) if s.starts_with('第')));
            assert!(matches!(&row[2], Data::String(s) if s.starts_with("家长")));
            // The school admin sees whole numbers, as text.
            if matches!(&row[3], Data::String(p) if p.len() == 11 && p.starts_with("139")) {
                phones += 1;
            }
            assert!(matches!(row[6], Data::DateTime(_)), "row {i}: {:?}", row[6]);
        });
    }
    assert_eq!(total, lines, "every line once");
    assert_eq!(phones, lines);
}

/// Set in the child processes: the backend to measure.
const CHILD: &str = "JIAXIAO_EXPORT_MEMORY_CHILD";

#[test]
fn a_years_checkins_export_in_flat_memory() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    for kind in ["sqlite", "postgres"] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "measure", "--nocapture", "--test-threads=1"])
            .env(CHILD, kind)
            .output()
            .expect("run the measuring child");
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{kind}:\n{log}");
        assert!(log.contains("1 passed"), "{kind} measured:\n{log}");
        for l in log.lines().filter(|l| l.contains("as XLSX")) {
            println!("{kind}: {}", l.rsplit("... ").next().unwrap_or(l));
        }
    }
}

/// The measurement itself; a no-op unless run by the test above.
#[test]
fn measure() {
    let kind = match std::env::var(CHILD).as_deref() {
        Ok("sqlite") => Kind::Sqlite,
        Ok("postgres") => Kind::Postgres,
        _ => return,
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(export_stays_flat(kind));
}
