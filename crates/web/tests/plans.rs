//! Query plans of the main pages (issue 16): every statement the pages of a province,
//! city, county, school, head teacher and parent run on the demo data is explained on
//! both databases, and none may read a big table from end to end. On PostgreSQL the
//! planner is told to avoid sequential scans (`enable_seqscan = off`), so a scan that is
//! left is one no index can serve; on SQLite, `EXPLAIN QUERY PLAN` names each full scan,
//! planned with the statistics of a city of ten million check-ins (`CITY_STATS`).
//! (A freshly loaded PostgreSQL database once served `/p` in 2.3 s from such a scan.)

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use jiaxiao_store::Db;
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement, Value};

/// Tables that grow with a province's pupils, parents or check-ins.
const BIG: &[&str] = &[
    "checkin",
    "checkin_refusal",
    "class_membership",
    "guardianship",
    "pupil",
    "guardian",
    "teaching_session",
    "session_audience",
    "session_invitee",
    "session_tally",
    "audit_log",
    "org_closure",
    "paper_mark",
];

type Seen = Arc<Mutex<BTreeMap<String, Vec<Value>>>>;

async fn id(db: &Db, sql: &str) -> i64 {
    jiaxiao_store::db::scalar_i64(&db.conn, sql, Vec::<Value>::new())
        .await
        .unwrap()
}

async fn login(app: &TestApp, who: &str) -> reqwest::Client {
    let c = app.client();
    let csrf = jiaxiao_testkit::fixtures::login_csrf(app, &c).await;
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("who", who),
            ("password", jiaxiao_store::demo::DEMO_PASSWORD),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login as {who}");
    c
}

/// `alias → table` of the FROM and JOIN clauses of `sql` (SQLite names a scan by the
/// table's alias).
fn aliases(sql: &str) -> BTreeMap<String, String> {
    let words: Vec<&str> = sql
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = BTreeMap::new();
    for i in 0..words.len() {
        let w = words[i].to_ascii_uppercase();
        if (w == "FROM" || w == "JOIN") && i + 1 < words.len() {
            let table = words[i + 1].trim_matches('"').to_string();
            out.insert(table.clone(), table.clone());
            let mut j = i + 2;
            if j < words.len() && words[j].eq_ignore_ascii_case("AS") {
                j += 1;
            }
            if let Some(a) = words.get(j) {
                let a = a.trim_matches('"');
                if a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    out.insert(a.to_string(), table.clone());
                }
            }
        }
    }
    out
}

/// The big tables a statement reads in full, by its plan.
async fn full_scans(db: &Db, sql: &str, values: &[Value]) -> Vec<String> {
    let backend = db.conn.get_database_backend();
    if backend == sea_orm::DbBackend::Postgres {
        let txn = sea_orm::TransactionTrait::begin(&db.conn).await.unwrap();
        txn.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await
            .unwrap();
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!("EXPLAIN (FORMAT TEXT) {sql}"),
                values.to_vec(),
            ))
            .await
            .unwrap_or_else(|e| panic!("explain {sql}: {e}"));
        txn.rollback().await.unwrap();
        rows.into_iter()
            .filter_map(|r| {
                let line: String = r.try_get_by_index(0).ok()?;
                let at = line.find("Seq Scan on ")?;
                let table = line[at + 12..].split_whitespace().next()?.to_string();
                BIG.contains(&table.as_str()).then_some(table)
            })
            .collect()
    } else {
        let names = aliases(sql);
        // The planner reads the city's statistics (see `CITY_STATS`) on this connection.
        let txn = sea_orm::TransactionTrait::begin(&db.conn).await.unwrap();
        txn.execute_unprepared("ANALYZE sqlite_schema")
            .await
            .unwrap();
        let plan: Vec<String> = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!("EXPLAIN QUERY PLAN {sql}"),
                values.to_vec(),
            ))
            .await
            .unwrap_or_else(|e| panic!("explain {sql}: {e}"))
            .into_iter()
            .filter_map(|r| r.try_get_by_index::<String>(3).ok())
            .collect();
        // `SCAN x` of a subquery or CTE the plan builds itself reads that, not a table.
        let built: Vec<&str> = plan
            .iter()
            .filter_map(|d| {
                d.strip_prefix("CO-ROUTINE ")
                    .or_else(|| d.strip_prefix("MATERIALIZE "))
                    .and_then(|r| r.split_whitespace().next())
            })
            .collect();
        let scans: Vec<String> = plan
            .iter()
            .filter_map(|detail| {
                let rest = detail.strip_prefix("SCAN ")?;
                // A covering index read in full is still a read of every row.
                let name = rest.split_whitespace().next()?;
                if built.contains(&name) {
                    return None;
                }
                let table = names.get(name).cloned().unwrap_or_else(|| name.to_string());
                BIG.contains(&table.as_str()).then_some(table)
            })
            .collect();
        txn.rollback().await.unwrap();
        if !scans.is_empty() {
            eprintln!("plan of {sql}:\n  {}", plan.join("\n  "));
        }
        scans
    }
}

/// `sqlite_stat1` of the SQLite city of `bench/scale_gen.py` (300 schools, 300,000
/// parents, 10 million check-ins), as `ANALYZE` wrote it: with them SQLite plans the
/// demo's statements as it would at that scale (SQLite documents loading a big
/// database's statistics into a small one for exactly this). Regenerate after adding an
/// index: `bench/plan_stats.sh` (BENCHMARKS.md).
const CITY_STATS: &str = include_str!("data/sqlite_stat1_city.tsv");

async fn use_city_stats(db: &Db) {
    db.conn.execute_unprepared("ANALYZE").await.unwrap();
    for line in CITY_STATS.lines().filter(|l| !l.trim().is_empty()) {
        let mut f = line.split('\t');
        let (tbl, idx, stat) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let idx: Value = if idx.is_empty() {
            Value::String(None)
        } else {
            idx.into()
        };
        db.conn
            .execute_raw(Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                "DELETE FROM sqlite_stat1 WHERE tbl = $1 AND idx IS $2",
                [tbl.into(), idx.clone()],
            ))
            .await
            .unwrap();
        db.conn
            .execute_raw(Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ($1, $2, $3)",
                [tbl.into(), idx, stat.into()],
            ))
            .await
            .unwrap();
    }
}

both_dbs!(
    main_pages_never_scan_a_big_table,
    |mut t: TestDb| async move {
        assert!(jiaxiao_store::demo::create(&t.db).await.unwrap());
        if t.db.conn.get_database_backend() == sea_orm::DbBackend::Postgres {
            // As `jiaxiao import database` ends: the planner gets its statistics.
            t.db.conn.execute_unprepared("ANALYZE").await.unwrap();
        }
        let seen: Seen = Arc::default();
        let s = seen.clone();
        t.db.conn.set_metric_callback(move |info| {
            let st = info.statement;
            let sql = st.sql.trim();
            if sql.to_ascii_uppercase().starts_with("SELECT") || sql.starts_with("WITH") {
                let values = st.values.as_ref().map(|v| v.0.clone()).unwrap_or_default();
                s.lock().unwrap().entry(sql.to_string()).or_insert(values);
            }
        });
        let app = TestApp::spawn(t).await;
        let db = app.db.clone();
        let province = id(&db, "SELECT id AS n FROM org_unit WHERE kind = 'province'").await;
        let city = id(&db, "SELECT id AS n FROM org_unit WHERE kind = 'city'").await;
        let county = id(
            &db,
            "SELECT MIN(o.id) AS n FROM org_unit o WHERE o.kind = 'county'",
        )
        .await;
        let school = id(
            &db,
            "SELECT g.unit_id AS n FROM role_grant g JOIN user_account u ON u.id = g.user_id \
         WHERE u.username = 'school'",
        )
        .await;
        let session = id(
        &db,
        &format!(
            "SELECT MIN(id) AS n FROM teaching_session WHERE school_id = {school} AND status = 'held'"
        ),
    )
    .await;
        let pages: Vec<(&str, Vec<String>)> = vec![
            (
                "province",
                vec![format!("/ps/units/{province}"), format!("/ps/units/{city}")],
            ),
            ("city", vec![format!("/ps/units/{city}")]),
            (
                "county",
                vec![
                    format!("/ps/units/{county}"),
                    format!("/ps/units/{county}/rollup.xlsx"),
                    format!("/org/{county}"),
                ],
            ),
            (
                "school",
                vec![
                    format!("/ps/schools/{school}"),
                    format!("/ps/schools/{school}/sessions"),
                    format!("/ps/schools/{school}/trainees"),
                    format!("/ps/schools/{school}/ledger"),
                    format!("/sessions/{session}"),
                    "/people?kind=pupils".into(),
                    "/people?kind=guardians".into(),
                ],
            ),
            (
                "teacher",
                vec![
                    format!("/ps/schools/{school}"),
                    format!("/ps/schools/{school}/trainees"),
                ],
            ),
            (jiaxiao_store::demo::DEMO_PARENT_PHONE, vec!["/p".into()]),
        ];
        for (who, urls) in &pages {
            let c = login(&app, who).await;
            for u in urls {
                let r = c.get(app.url(u)).send().await.unwrap();
                assert_eq!(r.status(), StatusCode::OK, "{who} GET {u}");
                r.bytes().await.unwrap();
            }
        }
        if db.conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
            use_city_stats(&db).await;
        }
        let statements = seen.lock().unwrap().clone();
        assert!(statements.len() > 20, "{} statements", statements.len());
        let mut bad = Vec::new();
        for (sql, values) in &statements {
            let scans = full_scans(&db, sql, values).await;
            if !scans.is_empty() {
                bad.push(format!("{scans:?} in {sql}"));
            }
        }
        assert!(
            bad.is_empty(),
            "full scans of big tables:\n{}",
            bad.join("\n\n")
        );
    }
);
