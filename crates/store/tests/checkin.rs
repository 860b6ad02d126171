//! Check-in store tests (the hot path, refusals, staff marking, device flags), each on
//! SQLite and on PostgreSQL.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, Utc};
use jiaxiao_domain::checkin_code::CodeGen;
use jiaxiao_domain::parent_school::{AttendanceStatus, Audience, Method, SessionStatus};
use jiaxiao_domain::{Role, UnitKind};
use jiaxiao_store::accounts::{self, TokenCache};
use jiaxiao_store::checkin::{self, Attempt, Checkins, Mark, Outcome};
use jiaxiao_store::org;
use jiaxiao_store::parent_school::sessions::{self, NewSession};
use jiaxiao_store::people::{self, Query};
use jiaxiao_store::{Db, Scope, StoreError};
use jiaxiao_testkit::fixtures::{county_with_schools, import_roster, staff_scope};
use jiaxiao_testkit::{TestDb, both_dbs};

/// 王建国 has children in 三年级2班 and 一年级1班; 钱爸爸 and 钱妈妈 share one child in
/// 一年级1班; 孙爸爸's child is at the other school.
const ROSTER_A: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
A1,王小明,男,三年级,2班,王建国,父亲,13800000001\n\
A2,王小红,女,一年级,1班,王建国,父亲,13800000001\n\
A3,李四,男,三年级,2班,李大山,爷爷,13900000003\n\
A4,赵五,男,三年级,2班,赵妈妈,妈妈,13900000002\n\
A5,钱六,男,一年级,1班,钱爸爸,父亲,13900000005\n\
A5,钱六,男,一年级,1班,钱妈妈,母亲,13900000006\n";
const ROSTER_B: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
B1,孙七,男,一年级,1班,孙爸爸,父亲,13700000007\n";

struct World {
    city: i64,
    county: i64,
    school_a: i64,
    school_b: i64,
    class_32: i64,
    class_11: i64,
    admin_a: Scope,
    admin_b: Scope,
    /// Parent scopes by phone.
    parents: Vec<(String, Scope)>,
}

impl World {
    fn parent(&self, phone: &str) -> &Scope {
        &self.parents.iter().find(|(p, _)| p == phone).unwrap().1
    }
}

async fn world(db: &Db) -> World {
    let sys = Scope::system();
    let c = county_with_schools(db, &["甲小学", "乙小学"]).await;
    let (school_a, school_b) = (c.schools[0], c.schools[1]);
    import_roster(db, school_a, ROSTER_A).await;
    import_roster(db, school_b, ROSTER_B).await;
    let classes = org::units_under(db, &sys, school_a, UnitKind::Class, &jiaxiao_store::today())
        .await
        .unwrap();
    let class_of = |grade_level: i32| {
        classes
            .iter()
            .find(|c| c.grade_level == Some(grade_level))
            .map(|c| c.id)
            .unwrap()
    };
    let (class_32, class_11) = (class_of(3), class_of(1));
    let admin_a = staff_scope(db, "admin_a", Role::SchoolAdmin, school_a).await;
    let admin_b = staff_scope(db, "admin_b", Role::SchoolAdmin, school_b).await;
    let mut parents = Vec::new();
    for school in [school_a, school_b] {
        for (gid, token) in accounts::bulk_parent_tokens(db, &sys, school, "test")
            .await
            .unwrap()
        {
            let (scope, _) = accounts::token_session(db, &token).await.unwrap().unwrap();
            assert_eq!(scope.guardian_id(), Some(gid));
            let (g, _) = people::get_guardian(db, &sys, gid).await.unwrap();
            parents.push((g.phone.unwrap(), scope));
        }
    }
    World {
        city: c.city,
        county: c.county,
        school_a,
        school_b,
        class_32,
        class_11,
        admin_a,
        admin_b,
        parents,
    }
}

/// A session of school A starting `start_offset_min` minutes from now, for the parents of
/// the given classes (or the whole school).
async fn session(db: &Db, w: &World, start_offset_min: i64, classes: &[i64]) -> i64 {
    sessions::create_session(
        db,
        &w.admin_a,
        NewSession {
            school_id: w.school_a,
            title: "家长课堂".into(),
            starts_at: Utc::now() + Duration::minutes(start_offset_min),
            duration_minutes: 60,
            instructor_name: "张老师".into(),
            audience: Some(if classes.is_empty() {
                Audience::School
            } else {
                Audience::Units
            }),
            audience_units: classes.to_vec(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn code_gen(db: &Db, w: &World, id: i64) -> CodeGen {
    let (_, secret) = sessions::session_secret(db, &w.admin_a, id).await.unwrap();
    CodeGen::from_hex(&secret).unwrap()
}

fn attempt(session_id: i64, code: String, nonce: &str, device: Option<&str>) -> Attempt {
    Attempt {
        session_id,
        code,
        nonce: Some(nonce.into()),
        method: Method::Qr,
        device_hash: device.map(|d| checkin::device_hash(d, "test-agent")),
    }
}

fn refused(r: Result<Outcome, StoreError>) -> &'static str {
    match r {
        Err(StoreError::Invalid { code }) => code,
        Err(StoreError::NotFound) => "404",
        other => panic!("expected a refusal, got {other:?}"),
    }
}

both_dbs!(checked_in_once_then_already, |t: TestDb| async move {
    let db = &t.db;
    let w = world(db).await;
    let sid = session(db, &w, 0, &[w.class_32]).await;
    let codes = code_gen(db, &w, sid).await;
    let svc = Checkins::new(db.clone(), TokenCache::default());
    let now = Utc::now();
    let code = codes.code_at(now.timestamp() as u64);
    let dad = w.parent("13800000001");
    let first = svc
        .check_in(dad, attempt(sid, code.clone(), "n-1", None), now)
        .await
        .unwrap();
    let Outcome::New(row) = &first else {
        panic!("first check-in must be new: {first:?}")
    };
    assert_eq!(row.status, "present");
    assert_eq!(row.method, "qr");
    // The same nonce again (a retry after a lost answer): the same row.
    let retry = svc
        .check_in(dad, attempt(sid, code.clone(), "n-1", None), now)
        .await
        .unwrap();
    assert_eq!(retry, Outcome::Already(row.clone()));
    // A new attempt later, even with a code that has since expired: "already at …".
    let later = now + Duration::minutes(3);
    let again = svc
        .check_in(dad, attempt(sid, code, "n-2", None), later)
        .await
        .unwrap();
    let Outcome::Already(r2) = again else {
        panic!("second attempt must answer already")
    };
    assert_eq!(r2.checked_at.timestamp(), row.checked_at.timestamp());
    assert_eq!(r2.nonce.as_deref(), Some("n-1"));
    // One row for a parent of two invited children: both children count as reached.
    let both = session(db, &w, 0, &[w.class_32, w.class_11]).await;
    let codes2 = code_gen(db, &w, both).await;
    svc.check_in(
        dad,
        attempt(both, codes2.code_at(now.timestamp() as u64), "n-3", None),
        now,
    )
    .await
    .unwrap();
    let counts = sessions::counts(db, &w.admin_a, both).await.unwrap();
    assert_eq!(counts.present, 1);
    assert_eq!(counts.children_reached, 2);
    // A late arrival is recorded as late.
    let started = session(db, &w, -20, &[w.class_32]).await;
    let codes3 = code_gen(db, &w, started).await;
    let r = svc
        .check_in(
            w.parent("13900000003"),
            attempt(started, codes3.code_at(now.timestamp() as u64), "n-4", None),
            now,
        )
        .await
        .unwrap();
    assert_eq!(r.row().status, "late");
});

both_dbs!(concurrent_duplicates_make_one_row, |t: TestDb| async move {
    let db = &t.db;
    let w = world(db).await;
    let sid = session(db, &w, 0, &[w.class_32]).await;
    let codes = code_gen(db, &w, sid).await;
    let svc = Checkins::new(db.clone(), TokenCache::default());
    let now = Utc::now();
    let code = codes.code_at(now.timestamp() as u64);
    let mut tasks = Vec::new();
    for i in 0..60 {
        let phone = ["13800000001", "13900000003", "13900000002"][i % 3];
        let scope = w.parent(phone).clone();
        let svc = svc.clone();
        let code = code.clone();
        tasks.push(tokio::spawn(async move {
            svc.check_in(&scope, attempt(sid, code, &format!("n{i}"), None), now)
                .await
        }));
    }
    let mut new = 0;
    for t in tasks {
        match t.await.unwrap().unwrap() {
            Outcome::New(_) => new += 1,
            Outcome::Already(_) => {}
        }
    }
    assert_eq!(new, 3, "one new check-in per parent");
    let list = checkin::list(db, &w.admin_a, sid).await.unwrap();
    assert_eq!(list.len(), 3);
});

both_dbs!(refusals_name_their_reason, |t: TestDb| async move {
    let db = &t.db;
    let w = world(db).await;
    let svc = Checkins::new(db.clone(), TokenCache::default());
    let now = Utc::now();
    let ts = now.timestamp() as u64;
    let sid = session(db, &w, 0, &[w.class_32]).await;
    let codes = code_gen(db, &w, sid).await;
    let li = w.parent("13900000003");
    let dev = Some("phone-1");
    // An old code, a made-up code.
    let old = codes.code_at(ts - 180);
    assert_eq!(
        refused(svc.check_in(li, attempt(sid, old, "a", dev), now).await),
        "expired_code"
    );
    let mut wrong = codes.code_at(ts);
    wrong = if wrong == "000000" {
        "000001".into()
    } else {
        "000000".into()
    };
    let wrong_code = refused(svc.check_in(li, attempt(sid, wrong, "b", dev), now).await);
    assert!(matches!(wrong_code, "wrong_code" | "expired_code"));
    // A parent of the school whose child's class is not invited.
    let qian = w.parent("13900000005");
    assert_eq!(
        refused(
            svc.check_in(qian, attempt(sid, codes.code_at(ts), "c", dev), now)
                .await
        ),
        "not_invited"
    );
    // A parent of another school: as if the session did not exist.
    let sun = w.parent("13700000007");
    assert_eq!(
        refused(
            svc.check_in(sun, attempt(sid, codes.code_at(ts), "d", dev), now)
                .await
        ),
        "404"
    );
    // Staff are not parents.
    assert_eq!(
        refused(
            svc.check_in(&w.admin_a, attempt(sid, codes.code_at(ts), "e", dev), now)
                .await
        ),
        "not_a_parent"
    );
    // Too early, closed, cancelled.
    let future = session(db, &w, 120, &[w.class_32]).await;
    let g2 = code_gen(db, &w, future).await;
    assert_eq!(
        refused(
            svc.check_in(li, attempt(future, g2.code_at(ts), "f", dev), now)
                .await
        ),
        "too_early"
    );
    let past = session(db, &w, -300, &[w.class_32]).await;
    let g3 = code_gen(db, &w, past).await;
    assert_eq!(
        refused(
            svc.check_in(li, attempt(past, g3.code_at(ts), "g", dev), now)
                .await
        ),
        "closed"
    );
    let cancelled = session(db, &w, 0, &[w.class_32]).await;
    let g4 = code_gen(db, &w, cancelled).await;
    // Cached before the change: the change in this process must reach the cache.
    assert!(
        svc.invited_count(cancelled).await.unwrap() >= 3,
        "the invited parents are known"
    );
    sessions::set_status(db, &w.admin_a, cancelled, SessionStatus::Cancelled, None)
        .await
        .unwrap();
    assert_eq!(
        refused(
            svc.check_in(li, attempt(cancelled, g4.code_at(ts), "h", dev), now)
                .await
        ),
        "cancelled"
    );
    // No such session.
    assert_eq!(
        refused(
            svc.check_in(li, attempt(999_999, "123456".into(), "i", dev), now)
                .await
        ),
        "404"
    );
    // Staff see the refusals with their reasons (logged in the background: bounded wait).
    let mut reasons = Vec::new();
    for _ in 0..100 {
        reasons = checkin::refusals(db, &w.admin_a, sid, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.reason)
            .collect::<Vec<_>>();
        if reasons.len() >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    reasons.sort();
    let mut want = vec![
        "expired_code",
        wrong_code,
        "not_invited",
        "wrong_school",
        "not_a_parent",
    ];
    want.sort();
    assert_eq!(reasons, want);
    // The other school's staff see nothing of it.
    assert!(matches!(
        checkin::refusals(db, &w.admin_b, sid, 50).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        checkin::list(db, &w.admin_b, sid).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        checkin::device_flags(db, &w.admin_b, sid).await,
        Err(StoreError::NotFound)
    ));
});

both_dbs!(staff_mark_a_class_in_bulk, |t: TestDb| async move {
    let db = &t.db;
    let w = world(db).await;
    let sid = session(db, &w, 0, &[w.class_32]).await;
    let codes = code_gen(db, &w, sid).await;
    let svc = Checkins::new(db.clone(), TokenCache::default());
    let now = Utc::now();
    svc.check_in(
        w.parent("13800000001"),
        attempt(sid, codes.code_at(now.timestamp() as u64), "x", None),
        now,
    )
    .await
    .unwrap();
    let roster = sessions::roster(db, &w.admin_a, sid, Some(w.class_32))
        .await
        .unwrap();
    let id_of = |name: &str| {
        roster
            .iter()
            .find(|l| l.guardian_name == name)
            .unwrap()
            .guardian_id
    };
    let marks = [
        Mark {
            guardian_id: id_of("王建国"),
            status: AttendanceStatus::Present,
        },
        Mark {
            guardian_id: id_of("李大山"),
            status: AttendanceStatus::Excused,
        },
        Mark {
            guardian_id: id_of("赵妈妈"),
            status: AttendanceStatus::Absent,
        },
    ];
    // Present again for the parent who scanned changes nothing: two rows written.
    assert_eq!(checkin::mark(db, &w.admin_a, sid, &marks).await.unwrap(), 2);
    let list = checkin::list(db, &w.admin_a, sid).await.unwrap();
    let line = |name: &str| list.iter().find(|l| l.guardian_name == name).unwrap();
    assert_eq!(line("王建国").method, "qr");
    assert_eq!(line("李大山").status, "excused");
    assert_eq!(line("李大山").method, "staff");
    assert_eq!(line("李大山").recorded_by.as_deref(), Some("admin_a"));
    assert_eq!(line("赵妈妈").status, "absent");
    // Changing a mark updates the one row.
    checkin::mark(
        db,
        &w.admin_a,
        sid,
        &[Mark {
            guardian_id: id_of("赵妈妈"),
            status: AttendanceStatus::Late,
        }],
    )
    .await
    .unwrap();
    let counts = sessions::counts(db, &w.admin_a, sid).await.unwrap();
    assert_eq!(
        (counts.present, counts.late, counts.excused, counts.absent),
        (1, 1, 1, 0)
    );
    // Audited.
    let all = jiaxiao_store::audit::AuditFilter::default();
    let audit = jiaxiao_store::audit::list(db, &w.admin_a, &all, None, 50)
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.entity == "checkin" && a.action == "mark")
    );
    // Staff overwriting a parent's own scan: the scan stays readable as the before-value
    // of the audit row (issue 10).
    checkin::mark(
        db,
        &w.admin_a,
        sid,
        &[Mark {
            guardian_id: id_of("王建国"),
            status: AttendanceStatus::Excused,
        }],
    )
    .await
    .unwrap();
    let only_marks = jiaxiao_store::audit::AuditFilter {
        entity: Some("checkin".into()),
        action: Some("mark".into()),
        ..Default::default()
    };
    let last = &jiaxiao_store::audit::list(db, &w.admin_a, &only_marks, None, 1)
        .await
        .unwrap()[0];
    let key = format!("王建国 (#{})", id_of("王建国"));
    let before: serde_json::Value =
        serde_json::from_str(last.before_json.as_deref().unwrap()).unwrap();
    let after: serde_json::Value =
        serde_json::from_str(last.after_json.as_deref().unwrap()).unwrap();
    assert!(
        before[&key]
            .as_str()
            .unwrap()
            .starts_with("present · qr · "),
        "{before}"
    );
    assert_eq!(after[&key], "excused · staff");
    assert_eq!(
        jiaxiao_store::audit::count(db, &w.admin_a, &only_marks)
            .await
            .unwrap(),
        3
    );
    // A head teacher of 一年级1班 cannot mark a parent of 三年级2班; nothing is written.
    let head = staff_scope(db, "head_11", Role::HeadTeacher, w.class_11).await;
    assert!(matches!(
        checkin::mark(
            db,
            &head,
            sid,
            &[Mark {
                guardian_id: id_of("李大山"),
                status: AttendanceStatus::Absent
            }]
        )
        .await,
        Err(StoreError::NotFound)
    ));
    // The other school's admin cannot mark at all, nor can a parent not invited be marked.
    assert!(matches!(
        checkin::mark(db, &w.admin_b, sid, &marks).await,
        Err(StoreError::NotFound)
    ));
    let qian = people::list_guardians(
        db,
        &Scope::system(),
        &Query {
            q: Some("13900000005".into()),
            under: None,
            after_id: None,
            limit: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap()[0]
        .id;
    assert!(matches!(
        checkin::mark(
            db,
            &w.admin_a,
            sid,
            &[Mark {
                guardian_id: qian,
                status: AttendanceStatus::Present
            }]
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(line("李大山").status, "excused");
});

both_dbs!(
    one_device_for_strangers_is_flagged,
    |t: TestDb| async move {
        let db = &t.db;
        let w = world(db).await;
        let sid = session(db, &w, 0, &[]).await;
        let codes = code_gen(db, &w, sid).await;
        let svc = Checkins::new(db.clone(), TokenCache::default());
        let now = Utc::now();
        let code = codes.code_at(now.timestamp() as u64);
        // A couple sharing one phone: one household, no flag.
        for (phone, n) in [("13900000005", "a"), ("13900000006", "b")] {
            svc.check_in(
                w.parent(phone),
                attempt(sid, code.clone(), n, Some("family-phone")),
                now,
            )
            .await
            .unwrap();
        }
        assert!(
            checkin::device_flags(db, &w.admin_a, sid)
                .await
                .unwrap()
                .is_empty()
        );
        // One phone for two strangers: flagged, with both names.
        for (phone, n) in [("13900000003", "c"), ("13900000002", "d")] {
            svc.check_in(
                w.parent(phone),
                attempt(sid, code.clone(), n, Some("helpful-phone")),
                now,
            )
            .await
            .unwrap();
        }
        let flags = checkin::device_flags(db, &w.admin_a, sid).await.unwrap();
        assert_eq!(flags.len(), 1);
        let mut names: Vec<&str> = flags[0].parents.iter().map(|(_, n)| n.as_str()).collect();
        names.sort();
        assert_eq!(names, vec!["李大山", "赵妈妈"]);
        // A head teacher of 一年级1班 sees only what concerns their class's parents.
        let head = staff_scope(db, "head_11", Role::HeadTeacher, w.class_11).await;
        assert!(
            checkin::device_flags(db, &head, sid)
                .await
                .unwrap()
                .is_empty()
        );
        let mine = checkin::list(db, &head, sid).await.unwrap();
        let mut names: Vec<&str> = mine.iter().map(|l| l.guardian_name.as_str()).collect();
        names.sort();
        assert_eq!(names, vec!["钱妈妈", "钱爸爸"]);
    }
);

both_dbs!(
    bulk_tokens_cover_every_parent_once,
    |t: TestDb| async move {
        let db = &t.db;
        let w = world(db).await;
        // world() made tokens once; a second run adds tokens but no accounts.
        let again = accounts::bulk_parent_tokens(db, &w.admin_a, w.school_a, "again")
            .await
            .unwrap();
        assert_eq!(again.len(), 5);
        let mut ids: Vec<i64> = again.iter().map(|(g, _)| *g).collect();
        ids.dedup();
        assert_eq!(ids.len(), 5);
        assert!(matches!(
            accounts::bulk_parent_tokens(db, &w.admin_b, w.school_a, "x").await,
            Err(StoreError::NotFound)
        ));
    }
);

/// SQLite's check-in writer is a thread with a connection of its own (decision 0009): the
/// rows it writes must read exactly like rows written through the pool, and a writer that
/// cannot open the database must answer each check-in with an error, not leave it waiting,
/// and work again once it can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writer_thread_writes_like_the_pool_and_survives_a_failed_open() {
    use sea_orm::{ConnectionTrait, Statement};
    let t = TestDb::new(jiaxiao_testkit::Kind::Sqlite)
        .await
        .expect("sqlite");
    let db = &t.db;
    assert!(
        db.sqlite_file.is_some(),
        "a SQLite file gets the writer thread"
    );
    let w = world(db).await;
    let sid = session(db, &w, 0, &[w.class_32]).await;
    let codes = code_gen(db, &w, sid).await;
    let now = Utc::now();
    let code = codes.code_at(now.timestamp() as u64);
    let svc = Checkins::new(db.clone(), TokenCache::default());
    let dad = w.parent("13800000001");
    let row = svc
        .check_in(dad, attempt(sid, code.clone(), "n-1", Some("phone")), now)
        .await
        .unwrap()
        .row()
        .clone();
    // The text the writer stored is the text sqlx makes of the same instant.
    let text = |sql: &str, v: Vec<sea_orm::Value>| {
        let stmt = Statement::from_sql_and_values(db.db_backend(), sql, v);
        async move {
            db.conn
                .query_one_raw(stmt)
                .await
                .unwrap()
                .unwrap()
                .try_get::<String>("", "t")
                .unwrap()
        }
    };
    let stored = text(
        "SELECT checked_at AS t FROM checkin WHERE session_id = $1",
        vec![sid.into()],
    )
    .await;
    let by_sqlx = text("SELECT $1 AS t", vec![row.checked_at.into()]).await;
    assert_eq!(stored, by_sqlx);
    assert_eq!(
        checkin::my_checkin(db, dad, sid).await.unwrap(),
        Some(row.clone())
    );

    // A writer whose database cannot be opened answers each attempt with an error, and
    // opens it at the next group once it can (here: once the path leads to the file).
    let file = std::path::PathBuf::from(t.url.trim_start_matches("sqlite://"));
    let dir = file.parent().unwrap().join("later");
    let mut broken = db.clone();
    broken.sqlite_file = Some(std::sync::Arc::new(dir.join("t.db")));
    let svc = Checkins::new(broken, TokenCache::default());
    let mum = w.parent("13900000002");
    let answered = |n: &'static str| {
        let svc = svc.clone();
        let code = code.clone();
        async move {
            tokio::time::timeout(
                std::time::Duration::from_secs(60),
                svc.check_in(mum, attempt(sid, code, n, None), now),
            )
            .await
            .expect("answered, not left waiting")
        }
    };
    for n in ["n-2", "n-3"] {
        let r = answered(n).await;
        assert!(matches!(r, Err(StoreError::Other(_))), "{r:?}");
    }
    assert_eq!(checkin::my_checkin(db, mum, sid).await.unwrap(), None);
    std::fs::create_dir(&dir).unwrap();
    std::os::unix::fs::symlink(&file, dir.join("t.db")).unwrap();
    assert!(matches!(answered("n-4").await, Ok(Outcome::New(_))));
    assert!(checkin::my_checkin(db, mum, sid).await.unwrap().is_some());
}

/// Check-ins present or late of a school's year, counted from the rows.
async fn came_rows(db: &Db, school: i64) -> i64 {
    jiaxiao_store::db::scalar_i64(
        &db.conn,
        "SELECT COUNT(*) AS n FROM checkin c JOIN teaching_session t ON t.id = c.session_id \
         WHERE t.school_id = $1 AND c.status IN ('present', 'late')",
        vec![school.into()],
    )
    .await
    .unwrap()
}

// Issue 16: the session counters the roll-ups read equal what the check-in rows say
// after random writes through every writer — the check-in writer (groups of parents at
// once), staff marks over parents' own scans, a cancellation — and a school moved to
// another county counts under the county it was in on the day the roll-up is read.
both_dbs!(
    counters_equal_rows_after_random_writes,
    |t: TestDb| async move {
        use jiaxiao_store::parent_school::stats::{self, RollupBy};
        use jiaxiao_store::parent_school::{attendance, credits, tally};
        use rand::{Rng, SeedableRng};
        use sea_orm::{ConnectionTrait, Statement};
        let db = &t.db;
        let w = world(db).await;
        let year = org::current_school_year(&db.conn).await.unwrap();
        let sessions = [
            session(db, &w, 0, &[w.class_32]).await,
            session(db, &w, -5, &[w.class_11]).await,
            session(db, &w, 0, &[]).await,
            session(db, &w, -10, &[]).await,
        ];
        let svc = Checkins::new(db.clone(), TokenCache::default());
        let mut rng = rand::rngs::StdRng::seed_from_u64(16);
        let guardians: Vec<i64> = w
            .parents
            .iter()
            .filter_map(|(_, s)| s.guardian_id())
            .collect();
        for round in 0..6 {
            // A burst of parents' own check-ins, concurrent so the writer groups them.
            let now = Utc::now();
            let mut tries = Vec::new();
            for (i, (_, scope)) in w.parents.iter().enumerate() {
                let sid = sessions[rng.random_range(0..sessions.len())];
                let code = code_gen(db, &w, sid).await.code_at(now.timestamp() as u64);
                let svc = svc.clone();
                let scope = scope.clone();
                let nonce = format!("r{round}-{i}");
                tries.push(tokio::spawn(async move {
                    svc.check_in(&scope, attempt(sid, code, &nonce, None), now)
                        .await
                }));
            }
            for t in tries {
                let _ = t.await.unwrap();
            }
            // Staff mark random parents (those not invited are refused as a whole).
            for _ in 0..3 {
                let sid = sessions[rng.random_range(0..sessions.len())];
                let status = [
                    AttendanceStatus::Present,
                    AttendanceStatus::Late,
                    AttendanceStatus::Excused,
                    AttendanceStatus::Absent,
                ][rng.random_range(0..4)];
                let g = guardians[rng.random_range(0..guardians.len())];
                let _ = checkin::mark(
                    db,
                    &w.admin_a,
                    sid,
                    &[Mark {
                        guardian_id: g,
                        status,
                    }],
                )
                .await;
            }
            if round == 3 {
                sessions::set_status(db, &w.admin_a, sessions[3], SessionStatus::Cancelled, None)
                    .await
                    .unwrap();
            }
            // The school's home reads its reach cache mid-way (some rounds), so later
            // refreshes are incremental: only what the writes since then marked stale.
            if round % 2 == 1 {
                credits::home_figures(db, &w.admin_a, w.school_a, year)
                    .await
                    .unwrap();
            }
            // Roster and audience changes by any writer (plain SQL here: the database's
            // triggers mark what they touch) — a child moved to another class, a parent
            // link removed, a session's audience widened, a session held.
            let exec = |sql: String| {
                let conn = &db.conn;
                async move {
                    conn.execute_raw(Statement::from_string(conn.get_database_backend(), sql))
                        .await
                        .unwrap();
                }
            };
            match round {
                1 => {
                    exec(format!(
                        "UPDATE class_membership SET class_id = {} WHERE pupil_id = \
                         (SELECT MIN(pupil_id) FROM class_membership WHERE class_id = {})",
                        w.class_11, w.class_32
                    ))
                    .await
                }
                2 => {
                    exec(format!(
                        "DELETE FROM guardianship WHERE pupil_id = (SELECT MAX(pupil_id) FROM \
                         class_membership WHERE class_id = {})",
                        w.class_11
                    ))
                    .await
                }
                4 => {
                    exec(format!(
                        "INSERT INTO session_audience (session_id, unit_id) VALUES ({}, {})",
                        sessions[0], w.class_11
                    ))
                    .await
                }
                5 => {
                    for sid in [sessions[0], sessions[1]] {
                        exec(format!(
                            "UPDATE teaching_session SET status = 'held' WHERE id = {sid}"
                        ))
                        .await
                    }
                }
                _ => {}
            }
            assert_eq!(
                tally::mismatches(&db.conn).await.unwrap(),
                Vec::<i64>::new(),
                "round {round}"
            );
            assert_eq!(
                tally::school_mismatches(&db.conn).await.unwrap(),
                Vec::<i64>::new(),
                "school counters, round {round}"
            );
            assert_eq!(
                attendance::reach_mismatches(db).await.unwrap(),
                Vec::<i64>::new(),
                "reach cache, round {round}"
            );
        }
        // The home's figures are the ledger's: trainees and class rates from the cache
        // equal the trainee table and rates counted from the rows.
        let (n, rates) = credits::home_figures(db, &w.admin_a, w.school_a, year)
            .await
            .unwrap();
        let (trainees, rates_rows) = credits::trainees_and_rates(db, &w.admin_a, w.school_a, year)
            .await
            .unwrap();
        assert_eq!(n, trainees.len());
        assert!(n > 0);
        // The trainees list's pages from the store, every sort both ways: together they are
        // the whole table, each row with the whole table's figures, in the order asked.
        use credits::{TraineeQuery, TraineeSort};
        let whole: HashMap<i64, (i64, i64, f64)> = trainees
            .iter()
            .map(|t| (t.guardian_id, (t.invited, t.attended, t.hours)))
            .collect();
        let query = |sort, desc, offset| TraineeQuery {
            search: None,
            grade_id: None,
            class_id: None,
            committee: None,
            sort,
            desc,
            offset,
            limit: 3,
        };
        for sort in [
            None,
            Some(TraineeSort::Name),
            Some(TraineeSort::Rate),
            Some(TraineeSort::Hours),
            Some(TraineeSort::Class),
            Some(TraineeSort::Attended),
        ] {
            for desc in [false, true] {
                let mut seen: Vec<credits::TraineeSummary> = Vec::new();
                loop {
                    let (page, total) = credits::trainee_page(
                        db,
                        &w.admin_a,
                        w.school_a,
                        year,
                        &query(sort, desc, seen.len() as u64),
                    )
                    .await
                    .unwrap();
                    assert_eq!(total as usize, trainees.len(), "{sort:?}");
                    if page.is_empty() {
                        break;
                    }
                    assert!(page.len() <= 3);
                    seen.extend(page);
                }
                let ids: HashSet<i64> = seen.iter().map(|t| t.guardian_id).collect();
                assert_eq!(ids.len(), trainees.len(), "{sort:?} {desc}");
                for t in &seen {
                    assert_eq!(whole[&t.guardian_id], (t.invited, t.attended, t.hours));
                }
                let key = |t: &credits::TraineeSummary| match sort {
                    Some(TraineeSort::Rate) => t.rate(),
                    Some(TraineeSort::Hours) => t.hours,
                    Some(TraineeSort::Attended) => t.attended as f64,
                    _ => 0.0,
                };
                for pair in seen.windows(2) {
                    let (a, b) = (key(&pair[0]), key(&pair[1]));
                    assert!(
                        if desc { a >= b } else { a <= b },
                        "{sort:?} {desc}: {a} {b}"
                    );
                }
            }
        }
        // A class filter keeps the parents of that class's children, counted as such.
        let in_class = credits::trainee_page(
            db,
            &w.admin_a,
            w.school_a,
            year,
            &TraineeQuery {
                class_id: Some(w.class_32),
                limit: 1000,
                ..query(None, false, 0)
            },
        )
        .await
        .unwrap();
        assert!(in_class.1 > 0 && (in_class.1 as usize) < trainees.len());
        assert_eq!(in_class.0.len() as u64, in_class.1);
        assert!(
            in_class
                .0
                .iter()
                .all(|t| t.classes.iter().any(|c| c.class_id == w.class_32))
        );
        let pairs = |r: &[credits::ClassRate]| {
            r.iter()
                .map(|c| (c.class_id, c.invited, c.reached))
                .collect::<Vec<_>>()
        };
        assert_eq!(pairs(&rates), pairs(&rates_rows));
        assert!(rates.iter().any(|c| c.reached > 0));
        assert!(came_rows(db, w.school_a).await > 0);

        // The roll-up's figures are the rows' figures, at every level.
        let today = org::today_naive();
        let sys = Scope::system();
        let school_row = |rows: Vec<stats::RollupRow>, id: i64| {
            rows.into_iter().find(|r| r.unit_id == id).unwrap()
        };
        let came = came_rows(db, w.school_a).await;
        let r = school_row(
            stats::rollup(db, &sys, w.county, year, today, RollupBy::Child)
                .await
                .unwrap(),
            w.school_a,
        );
        assert_eq!(r.checkins, came);
        let county = school_row(
            stats::rollup(db, &sys, w.city, year, today, RollupBy::Child)
                .await
                .unwrap(),
            w.county,
        );
        assert_eq!(county.checkins, came + came_rows(db, w.school_b).await);
        assert_eq!((county.schools, county.target()), (2, Some(100)));

        // A move to another county tomorrow: today's roll-up counts the school under its
        // county, tomorrow's under the new one.
        let other = org::create_unit(
            db,
            &sys,
            jiaxiao_testkit::fixtures::unit(Some(w.city), UnitKind::County, "新区"),
        )
        .await
        .unwrap();
        let tomorrow = today + Duration::days(1);
        org::move_unit(
            db,
            &sys,
            w.school_a,
            other,
            &tomorrow.format("%Y-%m-%d").to_string(),
        )
        .await
        .unwrap();
        let on = |day| stats::rollup(db, &sys, w.city, year, day, RollupBy::Child);
        let before = on(today).await.unwrap();
        assert_eq!(
            school_row(before.clone(), w.county).checkins,
            county.checkins
        );
        assert_eq!(school_row(before, other).checkins, 0);
        let after = on(tomorrow).await.unwrap();
        assert_eq!(school_row(after.clone(), other).checkins, came);
        assert_eq!(school_row(after, w.county).schools, 1);
        assert_eq!(
            stats::rollup(db, &sys, w.county, year, today, RollupBy::School)
                .await
                .unwrap()
                .len(),
            2
        );
    }
);

// A bulk load leaves every school year marked and its reach cache empty: the background
// refresh fills it, a bounded number of years a call, and clears the marks.
both_dbs!(
    stale_years_are_refreshed_beside_the_pages,
    |t: TestDb| async move {
        use jiaxiao_store::parent_school::attendance;
        use sea_orm::ConnectionTrait;
        let db = &t.db;
        let w = world(db).await;
        session(db, &w, 0, &[w.class_32]).await;
        session(db, &w, -5, &[]).await;
        let exec = |sql: &'static str| async move {
            db.conn
                .execute_raw(sea_orm::Statement::from_string(db.db_backend(), sql))
                .await
                .unwrap();
        };
        exec("DELETE FROM session_reach").await;
        exec("DELETE FROM session_invited").await;
        exec("DELETE FROM reach_stale").await;
        exec("DELETE FROM reach_stale_school").await;
        exec(
            "INSERT INTO reach_stale_school (school_id, school_year_id) \
         SELECT DISTINCT school_id, school_year_id FROM teaching_session",
        )
        .await;
        let count = |sql: &'static str| async move {
            jiaxiao_store::db::scalar_i64(&db.conn, sql, vec![])
                .await
                .unwrap()
        };
        assert_eq!(count("SELECT COUNT(*) AS n FROM session_reach").await, 0);
        assert_eq!(attendance::refresh_stale_years(db, 10).await.unwrap(), 1);
        assert_eq!(
            count("SELECT COUNT(*) AS n FROM reach_stale_school").await,
            0
        );
        assert!(count("SELECT COUNT(*) AS n FROM session_reach").await > 0);
        assert_eq!(
            attendance::reach_mismatches(db).await.unwrap(),
            Vec::<i64>::new()
        );
        // Nothing marked: nothing done.
        assert_eq!(attendance::refresh_stale_years(db, 10).await.unwrap(), 0);
    }
);

// A change that lands while a refresh is counting (after its read, before its write)
// keeps its session marked: the cache written is the older count, and the next read
// counts again — the cache is never left stale without a marker.
both_dbs!(
    a_change_during_a_refresh_stays_marked,
    |t: TestDb| async move {
        use jiaxiao_store::parent_school::attendance;
        let db = &t.db;
        let w = world(db).await;
        let year = org::current_school_year(&db.conn).await.unwrap();
        let sid = session(db, &w, 0, &[w.class_32]).await;
        let roster = sessions::roster(db, &w.admin_a, sid, Some(w.class_32))
            .await
            .unwrap();
        let parent = roster[0].guardian_id;
        let marked = || async {
            jiaxiao_store::db::scalar_i64(&db.conn, "SELECT COUNT(*) AS n FROM reach_stale", vec![])
                .await
                .unwrap()
        };
        assert!(marked().await > 0);
        // The mark lands in the gap: the session's marker is bumped, not cleared.
        attendance::refresh_reach_between(db, w.school_a, year, async {
            let m = [Mark {
                guardian_id: parent,
                status: AttendanceStatus::Present,
            }];
            checkin::mark(db, &w.admin_a, sid, &m).await.unwrap();
        })
        .await
        .unwrap();
        assert_eq!(
            marked().await,
            1,
            "the session counted before the mark stays marked"
        );
        // Nothing in the gap: the next refresh counts the mark and clears the marker.
        attendance::refresh_reach_between(db, w.school_a, year, async {})
            .await
            .unwrap();
        assert_eq!(marked().await, 0);
        assert_eq!(
            attendance::reach_mismatches(db).await.unwrap(),
            Vec::<i64>::new()
        );
    }
);
