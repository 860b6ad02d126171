//! Store integration tests: each runs on SQLite and on PostgreSQL.

use jiaxiao_domain::roster::{detect_header, parse_rows, read_table};
use jiaxiao_domain::{Role, UnitKind};
use jiaxiao_store::accounts::{self, Login, NewUser};
use jiaxiao_store::org;
use jiaxiao_store::people::{self, Query};
use jiaxiao_store::{Db, Scope, StoreError, db};
use jiaxiao_testkit::fixtures::{staff_scope, two_counties, unit};
use jiaxiao_testkit::{Kind, TestDb, both_dbs};

const ROSTER: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n\
A1,王小明,男,三年级,2班,王建国,父亲,13800000001\n\
A2,王小红,女,一年级,1班,王建国,父亲,138-0000-0001\n\
A3,李四,男,三年级,2班,李大山,爷爷,029-88888888\n\
A4,赵五,男,三年级,2班,赵妈妈,妈妈,13900000002\n";

async fn import(
    db: &Db,
    scope: &Scope,
    school: i64,
    text: &str,
) -> Result<jiaxiao_store::roster::ApplyReport, StoreError> {
    let t = read_table(text.as_bytes()).unwrap();
    let h = detect_header(&t).unwrap();
    let parsed = parse_rows(&t, h.header_index, &h.mapping);
    let year = org::ensure_school_year(&db.conn, org::today_date())
        .await
        .unwrap();
    jiaxiao_store::roster::apply(db, scope, school, year, &parsed.rows, "t.csv", |_, _| {}).await
}

both_dbs!(tree_scope_and_leaks, |t: TestDb| async move {
    let db = &t.db;
    let tr = two_counties(db).await;
    let a = staff_scope(db, "county_a", Role::CountyAdmin, tr.county_a).await;
    // In scope: own school. Out of scope: the neighbour's school and the province answer NotFound.
    assert!(org::get_unit(db, &a, tr.school_a).await.is_ok());
    assert!(matches!(
        org::get_unit(db, &a, tr.school_b).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        org::get_unit(db, &a, tr.province).await,
        Err(StoreError::NotFound)
    ));
    // Cannot create under a neighbour.
    assert!(matches!(
        org::create_unit(db, &a, unit(Some(tr.county_b), UnitKind::School, "x")).await,
        Err(StoreError::NotFound)
    ));
    // Pupils of the neighbour never show.
    let sys = Scope::system();
    import(db, &sys, tr.school_b, ROSTER).await.unwrap();
    let seen = people::list_pupils(
        db,
        &a,
        &Query {
            limit: 50,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(seen.is_empty());
    let guardians = people::list_guardians(
        db,
        &a,
        &Query {
            limit: 50,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(guardians.is_empty());
    // A school admin cannot grant a county role.
    let s = staff_scope(db, "school_a", Role::SchoolAdmin, tr.school_a).await;
    let r = accounts::create_user(
        db,
        &s,
        NewUser {
            username: "evil".into(),
            display_name: "x".into(),
            password: "secret-pass".into(),
            staff_id: None,
            grants: vec![(Role::CountyAdmin, tr.county_a)],
        },
    )
    .await;
    assert!(r.is_err());
    // The audit log of county A shows its own rows only.
    let audit = jiaxiao_store::audit::list(db, &a, &Default::default(), None, 100)
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .all(|r| r.unit_name.as_deref() != Some("乙小学"))
    );
});

both_dbs!(move_is_effective_dated, |t: TestDb| async move {
    let db = &t.db;
    let tr = two_counties(db).await;
    let sys = Scope::system();
    org::move_unit(db, &sys, tr.school_a, tr.county_b, "2026-01-01")
        .await
        .unwrap();
    let before = org::units_under(db, &sys, tr.county_a, UnitKind::School, "2025-12-31")
        .await
        .unwrap();
    assert_eq!(
        before.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![tr.school_a]
    );
    let after = org::units_under(db, &sys, tr.county_a, UnitKind::School, "2026-01-01")
        .await
        .unwrap();
    assert!(after.is_empty());
    let b_after = org::units_under(db, &sys, tr.county_b, UnitKind::School, "2026-06-01")
        .await
        .unwrap();
    assert_eq!(b_after.len(), 2);
    // The province sees it either way.
    let p = org::units_under(db, &sys, tr.province, UnitKind::School, "2025-06-01")
        .await
        .unwrap();
    assert_eq!(p.len(), 2);
    // A move dated before the last one is refused.
    assert!(matches!(
        org::move_unit(db, &sys, tr.school_a, tr.county_a, "2025-06-01").await,
        Err(StoreError::Invalid {
            code: "later_move_exists"
        })
    ));
});

both_dbs!(
    roster_import_is_idempotent_and_links_siblings,
    |t: TestDb| async move {
        let db = &t.db;
        let tr = two_counties(db).await;
        let s = staff_scope(db, "school_a", Role::SchoolAdmin, tr.school_a).await;
        let first = import(db, &s, tr.school_a, ROSTER).await.unwrap();
        assert_eq!(first.pupils_created, 3, "the bad-phone row is not written");
        assert_eq!(first.guardians_created, 2, "siblings share one parent");
        assert_eq!(first.classes_created, 2);
        assert_eq!(jiaxiao_store::integrity::orphans(db).await.unwrap(), vec![]);
        let again = import(db, &s, tr.school_a, ROSTER).await.unwrap();
        assert!(!again.changed_anything(), "{again:?}");
        let found = people::list_guardians(
            db,
            &s,
            &Query {
                q: Some("wjg".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].children, 2);
        let by_pinyin = people::list_pupils(
            db,
            &s,
            &Query {
                q: Some("wangxiao".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(by_pinyin.len(), 2);
        let by_no = people::list_pupils(
            db,
            &s,
            &Query {
                q: Some("A4".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(by_no[0].name, "赵五");
        assert_eq!(by_no[0].class_name.as_deref(), Some("三年级(2)班"));
        // Another school's admin cannot import into this school.
        let other = staff_scope(db, "school_b", Role::SchoolAdmin, tr.school_b).await;
        assert!(matches!(
            import(db, &other, tr.school_a, ROSTER).await,
            Err(StoreError::NotFound)
        ));
    }
);

both_dbs!(head_teacher_sees_own_class_only, |t: TestDb| async move {
    let db = &t.db;
    let tr = two_counties(db).await;
    import(db, &Scope::system(), tr.school_a, ROSTER)
        .await
        .unwrap();
    let sys = Scope::system();
    let grade3 = org::children(db, &sys, tr.school_a, org::today_naive())
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "三年级")
        .unwrap();
    let class = org::children(db, &sys, grade3.id, org::today_naive())
        .await
        .unwrap()[0]
        .id;
    let ht = staff_scope(db, "ht", Role::HeadTeacher, class).await;
    let seen = people::list_pupils(
        db,
        &ht,
        &Query {
            limit: 50,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let names: Vec<_> = seen.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["王小明", "赵五"]);
});

both_dbs!(invitation_sets_first_password, |t: TestDb| async move {
    let db = &t.db;
    let tr = two_counties(db).await;
    let s = staff_scope(db, "school_a", Role::SchoolAdmin, tr.school_a).await;
    import(db, &s, tr.school_a, ROSTER).await.unwrap();
    let g = people::list_guardians(
        db,
        &s,
        &Query {
            q: Some("13900000002".into()),
            limit: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let issued = accounts::issue_invitations(db, &s, &[g[0].id])
        .await
        .unwrap();
    let code = &issued[0].3;
    assert!(
        accounts::redeem_invitation(db, "13900000002", "00000000", "parent-pass")
            .await
            .is_err()
            || code == "00000000"
    );
    let uid = accounts::redeem_invitation(db, "139 0000 0002", code, "parent-pass")
        .await
        .unwrap();
    // One-time: the same code does not work twice.
    assert!(
        accounts::redeem_invitation(db, "13900000002", code, "other-pass")
            .await
            .is_err()
    );
    let got = accounts::verify_login(
        db,
        Login::Parent {
            phone: "13900000002",
        },
        "parent-pass",
    )
    .await
    .unwrap();
    assert_eq!(got, Some(uid));
    // Wrong password and unknown phone look the same.
    assert_eq!(
        accounts::verify_login(
            db,
            Login::Parent {
                phone: "13900000002"
            },
            "nope-nope"
        )
        .await
        .unwrap(),
        None
    );
    assert_eq!(
        accounts::verify_login(
            db,
            Login::Parent {
                phone: "13700000000"
            },
            "nope-nope"
        )
        .await
        .unwrap(),
        None
    );
});

/// SQLite → export → import → PostgreSQL, nothing lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_to_postgres_round_trip() {
    let src = TestDb::new(Kind::Sqlite).await.unwrap();
    let tr = two_counties(&src.db).await;
    import(&src.db, &Scope::system(), tr.school_a, ROSTER)
        .await
        .unwrap();
    org::move_unit(
        &src.db,
        &Scope::system(),
        tr.school_a,
        tr.county_b,
        "2026-01-01",
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    let n = jiaxiao_store::dump::export(&src.db, &mut buf)
        .await
        .unwrap();
    assert!(n > 20);
    let Some(dst) = TestDb::new(Kind::Postgres).await else {
        return;
    };
    dst.db.migrate().await.unwrap();
    let m = jiaxiao_store::dump::import(&dst.db, std::io::Cursor::new(&buf))
        .await
        .unwrap();
    assert_eq!(n, m);
    let mut again = Vec::new();
    jiaxiao_store::dump::export(&dst.db, &mut again)
        .await
        .unwrap();
    let norm = |b: &[u8]| -> Vec<serde_json::Value> {
        String::from_utf8_lossy(b)
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                // Timestamps print differently per backend; compare them as instants.
                normalise_times(&mut v);
                v
            })
            .collect()
    };
    assert_eq!(norm(&buf), norm(&again));
    // New rows after import get fresh ids (sequences moved past imported ids).
    org::create_unit(
        &dst.db,
        &Scope::system(),
        unit(Some(tr.county_a), UnitKind::School, "新学校"),
    )
    .await
    .unwrap();
}

fn normalise_times(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => {
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
                *s = t.with_timezone(&chrono::Utc).timestamp_micros().to_string();
            }
        }
        serde_json::Value::Object(m) => m.values_mut().for_each(normalise_times),
        serde_json::Value::Array(a) => a.iter_mut().for_each(normalise_times),
        _ => {}
    }
}

both_dbs!(demo_creates_once, |t: TestDb| async move {
    let db = &t.db;
    assert!(jiaxiao_store::demo::create(db).await.unwrap());
    assert!(!jiaxiao_store::demo::create(db).await.unwrap());
    let uid = accounts::verify_login(
        db,
        Login::Parent {
            phone: "13800000001",
        },
        "jiaxiao-demo",
    )
    .await
    .unwrap()
    .unwrap();
    let token = accounts::create_session(db, uid).await.unwrap();
    let sess = accounts::session(db, &token).await.unwrap().unwrap();
    let kids = people::children_of(db, &sess.scope, sess.principal.guardian_id.unwrap())
        .await
        .unwrap();
    assert_eq!(kids.len(), 2);
    // The neighbouring county's school is not under the demo county.
    let sys = Scope::system();
    let today = jiaxiao_store::today();
    let province = org::roots(db, &sys).await.unwrap()[0].id;
    let counties = org::units_under(db, &sys, province, UnitKind::County, &today)
        .await
        .unwrap();
    let yanta = counties.iter().find(|c| c.name == "雁塔区").unwrap().id;
    let beilin = counties.iter().find(|c| c.name == "碑林区").unwrap().id;
    let in_yanta = org::units_under(db, &sys, yanta, UnitKind::School, &today)
        .await
        .unwrap();
    assert_eq!(in_yanta.len(), 29);
    assert!(
        in_yanta
            .iter()
            .all(|s| s.name.starts_with("雁塔区") || s.name.starts_with("西安市雁塔"))
    );
    let in_beilin = org::units_under(db, &sys, beilin, UnitKind::School, &today)
        .await
        .unwrap();
    assert_eq!(
        in_beilin
            .iter()
            .map(|u| u.name.as_str())
            .collect::<Vec<_>>(),
        vec!["碑林区和平路小学"]
    );
    let t_uid = accounts::verify_login(
        db,
        Login::Staff {
            username: "teacher",
        },
        "jiaxiao-demo",
    )
    .await
    .unwrap()
    .unwrap();
    let tok = accounts::create_session(db, t_uid).await.unwrap();
    let ts = accounts::session(db, &tok).await.unwrap().unwrap().scope;
    let own = people::list_guardians(
        db,
        &ts,
        &Query {
            q: Some("13800000001".into()),
            limit: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(own.len(), 1);
});

both_dbs!(
    integrity_check_finds_dangling_references,
    |t: TestDb| async move {
        let db = &t.db;
        assert_eq!(jiaxiao_store::integrity::orphans(db).await.unwrap(), vec![]);
        use sea_orm::ConnectionTrait;
        db.conn
        .execute_unprepared("INSERT INTO guardianship (guardian_id, pupil_id, relation) VALUES (424242, 434343, 'other')")
        .await
        .unwrap();
        let found = jiaxiao_store::integrity::orphans(db).await.unwrap();
        let kinds: Vec<&str> = found.iter().map(|o| o.what).collect();
        assert_eq!(
            kinds,
            vec!["guardianship.guardian_id", "guardianship.pupil_id"]
        );
    }
);

// Issue 9, item 5: tokens run out (a token made before expiry existed runs out the
// default lifetime after it was made), and a password reset revokes them and ends the
// account's sessions.
both_dbs!(
    api_tokens_expire_and_die_with_the_password,
    |t: TestDb| async move {
        use chrono::{Duration, Utc};
        use jiaxiao_store::entities::api_token;
        use sea_orm::{ActiveModelTrait, EntityTrait, Set};
        let db = &t.db;
        let tr = two_counties(db).await;
        staff_scope(db, "school_a", Role::SchoolAdmin, tr.school_a).await;
        let uid = accounts::user_id_by_name(db, "school_a").await.unwrap();
        let live = accounts::create_api_token(db, uid, "t", Duration::days(90))
            .await
            .unwrap();
        let expired = accounts::create_api_token(db, uid, "t", Duration::seconds(-1))
            .await
            .unwrap();
        assert!(accounts::token_session(db, &live).await.unwrap().is_some());
        assert!(
            accounts::token_session(db, &expired)
                .await
                .unwrap()
                .is_none()
        );
        // Tokens from before migration 0006: no expiry, judged by their age.
        for (value, age_days) in [("jx_legacy_young", 10), ("jx_legacy_old", 91)] {
            api_token::ActiveModel {
                user_id: Set(uid),
                name: Set("legacy".into()),
                token_hash: Set(accounts::sha256_hex(value)),
                created_at: Set(Utc::now() - Duration::days(age_days)),
                revoked: Set(false),
                expires_at: Set(None),
                last_used_at: Set(None),
                ..Default::default()
            }
            .insert(&db.conn)
            .await
            .unwrap();
        }
        assert!(
            accounts::token_session(db, "jx_legacy_young")
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            accounts::token_session(db, "jx_legacy_old")
                .await
                .unwrap()
                .is_none()
        );
        let me = accounts::token_session(db, &live).await.unwrap().unwrap().0;
        let listed = accounts::list_own_tokens(db, &me).await.unwrap();
        assert_eq!(listed.len(), 2, "the live one and the young legacy one");
        let session = accounts::create_session(db, uid).await.unwrap();
        assert_eq!(
            accounts::reset_password(db, &Scope::system(), "school_a", "new-secret-pass")
                .await
                .unwrap(),
            uid
        );
        assert!(accounts::token_session(db, &live).await.unwrap().is_none());
        assert!(
            accounts::token_session(db, "jx_legacy_young")
                .await
                .unwrap()
                .is_none()
        );
        assert!(accounts::session(db, &session).await.unwrap().is_none());
        let all = api_token::Entity::find().all(&db.conn).await.unwrap();
        assert!(all.iter().all(|t| t.revoked));
    }
);

// Issue 9, item 15: the outbox keeps no one-time code, and no message past its days.
both_dbs!(sms_outbox_keeps_no_codes, |t: TestDb| async move {
    use chrono::{Duration, Utc};
    use jiaxiao_store::entities::sms_outbox;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let db = &t.db;
    sms_outbox::ActiveModel {
        phone: Set("13800000001".into()),
        body: Set("old message".into()),
        created_at: Set(Utc::now() - Duration::days(accounts::SMS_OUTBOX_DAYS + 1)),
        ..Default::default()
    }
    .insert(&db.conn)
    .await
    .unwrap();
    accounts::record_sms(
        db,
        "13800000002",
        "王建国家长您好，邀请码 12345678，30天内有效",
        &["12345678"],
    )
    .await
    .unwrap();
    let rows = sms_outbox::Entity::find().all(&db.conn).await.unwrap();
    assert_eq!(rows.len(), 1, "the old message is gone");
    assert!(!rows[0].body.contains("12345678"), "{}", rows[0].body);
    assert!(rows[0].body.contains("********"));
});

// Issue 10: a move dated in the future is pending — every read of today (children,
// parent, path, roll-up) still sees the old parent, the same reads as of the date see
// the new one, and the pending move is listed on both sides.
both_dbs!(
    a_future_move_is_pending_until_its_date,
    |t: TestDb| async move {
        use jiaxiao_store::parent_school::stats;
        let db = &t.db;
        let tr = two_counties(db).await;
        let sys = Scope::system();
        let today = org::today_naive();
        let later = today + chrono::Duration::days(30);
        let effective = later.format("%Y-%m-%d").to_string();
        org::move_unit(db, &sys, tr.school_a, tr.county_b, &effective)
            .await
            .unwrap();
        let ids = |rows: Vec<org::ChildRow>| rows.into_iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(
            ids(org::children(db, &sys, tr.county_a, today).await.unwrap()),
            vec![tr.school_a]
        );
        assert_eq!(
            ids(org::children(db, &sys, tr.county_b, today).await.unwrap()),
            vec![tr.school_b]
        );
        assert!(ids(org::children(db, &sys, tr.county_a, later).await.unwrap()).is_empty());
        assert_eq!(
            org::get_unit(db, &sys, tr.school_a)
                .await
                .unwrap()
                .parent_id,
            Some(tr.county_a)
        );
        let crumbs = org::path(db, &sys, tr.school_a, today).await.unwrap();
        assert!(crumbs.iter().any(|u| u.id == tr.county_a));
        let crumbs = org::path(db, &sys, tr.school_a, later).await.unwrap();
        assert!(crumbs.iter().any(|u| u.id == tr.county_b));
        for side in [tr.county_a, tr.county_b, tr.school_a] {
            let pending = org::pending_moves(db, &sys, side, today).await.unwrap();
            assert_eq!(pending.len(), 1, "{side}");
            let m = &pending[0];
            assert_eq!(
                (m.unit_id, m.from_id, m.to_id, m.effective.as_str()),
                (
                    tr.school_a,
                    Some(tr.county_a),
                    tr.county_b,
                    effective.as_str()
                )
            );
        }
        assert!(
            org::pending_moves(db, &sys, tr.county_a, later)
                .await
                .unwrap()
                .is_empty()
        );
        let year = org::current_school_year(&db.conn).await.unwrap();
        let in_a = stats::rollup(db, &sys, tr.county_a, year, today, stats::RollupBy::Child)
            .await
            .unwrap();
        assert_eq!(
            in_a.iter().map(|r| r.unit_id).collect::<Vec<_>>(),
            vec![tr.school_a]
        );
        let in_b = stats::rollup(db, &sys, tr.county_b, year, today, stats::RollupBy::Child)
            .await
            .unwrap();
        assert_eq!(
            in_b.iter().map(|r| r.unit_id).collect::<Vec<_>>(),
            vec![tr.school_b]
        );
        let in_b = stats::rollup(db, &sys, tr.county_b, year, later, stats::RollupBy::Child)
            .await
            .unwrap();
        assert_eq!(in_b.len(), 2);
    }
);

// A serving pool on PostgreSQL cancels a statement that outlives its limit, and keeps the
// other options it connects with; SQLite has no such limit and runs it out.
both_dbs!(
    a_serving_pool_stops_statements_past_its_limit,
    |t: TestDb| async move {
        let db = Db::connect_with(&t.url, Some(std::time::Duration::from_millis(300)))
            .await
            .unwrap();
        match db.backend {
            jiaxiao_store::Backend::Postgres => {
                let slow = db::scalar_i64(&db.conn, "SELECT 1 AS n FROM pg_sleep(3)", vec![]).await;
                let err = slow.expect_err("a 3 s statement under a 300 ms limit");
                assert!(err.to_string().contains("statement timeout"), "{err}");
                // The pool's other options are still there beside the limit.
                let shown = db::scalar_i64(
                    &db.conn,
                    "SELECT CASE WHEN current_setting('plan_cache_mode') = 'force_custom_plan' \
                   AND current_setting('jit') = 'off' THEN CAST(1 AS BIGINT) ELSE 0 END AS n",
                    vec![],
                )
                .await
                .unwrap();
                assert_eq!(shown, 1);
                // The connection is still usable after the cancel.
                assert_eq!(
                    db::scalar_i64(&db.conn, "SELECT CAST(2 AS BIGINT) AS n", vec![])
                        .await
                        .unwrap(),
                    2
                );
            }
            jiaxiao_store::Backend::Sqlite => {
                assert_eq!(
                    db::scalar_i64(&db.conn, "SELECT CAST(2 AS BIGINT) AS n", vec![])
                        .await
                        .unwrap(),
                    2
                );
            }
        }
        db.close().await.unwrap();
    }
);

both_dbs!(
    keyset_pages_match_numbered_pages_in_every_order,
    |t: TestDb| async move {
        let db = &t.db;
        let tr = two_counties(db).await;
        let s = staff_scope(db, "school_a", Role::SchoolAdmin, tr.school_a).await;
        // 23 pupils with repeated names (ties broken by id) and a parent each; some
        // parents share a name too.
        let mut csv = String::from("学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n");
        for i in 0..23 {
            let name = ["王小明", "李四", "张三", "王小红", "阿明"][i % 5];
            let parent = ["王建国", "李大山", "赵妈妈"][i % 3];
            csv.push_str(&format!(
                "N{:02},{name},男,三年级,{}班,{parent}{},父亲,1380000{:04}\n",
                (i * 7) % 23,
                1 + i % 2,
                ["", "", "一"][i % 3],
                i
            ));
        }
        import(db, &s, tr.school_a, &csv).await.unwrap();
        for sort in [
            people::Sort::Added,
            people::Sort::Name { desc: false },
            people::Sort::Name { desc: true },
            people::Sort::Code { desc: false },
            people::Sort::Code { desc: true },
        ] {
            let q = |offset: u64, cursor: Option<people::Cursor>| Query {
                limit: 5,
                offset,
                sort,
                cursor,
                ..Default::default()
            };
            // The whole list in one read, then walked forwards by cursor and back again.
            let all: Vec<i64> = people::list_pupils(
                db,
                &s,
                &Query {
                    limit: 100,
                    sort,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .iter()
            .map(|p| p.id)
            .collect();
            assert_eq!(all.len(), 23);
            let mut pages: Vec<Vec<i64>> = Vec::new();
            let mut cursor = None;
            loop {
                let page: Vec<i64> =
                    people::list_pupils(db, &s, &q(if cursor.is_some() { 999 } else { 0 }, cursor))
                        .await
                        .unwrap()
                        .iter()
                        .map(|p| p.id)
                        .collect();
                if page.is_empty() {
                    break;
                }
                let offset = pages.len() as u64 * 5;
                let numbered: Vec<i64> = people::list_pupils(db, &s, &q(offset, None))
                    .await
                    .unwrap()
                    .iter()
                    .map(|p| p.id)
                    .collect();
                assert_eq!(page, numbered, "{sort:?} page {}", pages.len() + 1);
                cursor = page.last().map(|id| people::Cursor::After(*id));
                pages.push(page);
            }
            assert_eq!(pages.concat(), all, "{sort:?} forwards");
            for i in (1..pages.len()).rev() {
                let back: Vec<i64> =
                    people::list_pupils(db, &s, &q(999, Some(people::Cursor::Before(pages[i][0]))))
                        .await
                        .unwrap()
                        .iter()
                        .map(|p| p.id)
                        .collect();
                assert_eq!(back, pages[i - 1], "{sort:?} back to page {i}");
            }
            // Guardians and staff page the same way.
            let all: Vec<i64> = people::list_guardians(
                db,
                &s,
                &Query {
                    limit: 100,
                    sort,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .iter()
            .map(|g| g.id)
            .collect();
            let mut walked = Vec::new();
            let mut cursor = None;
            loop {
                let page: Vec<i64> = people::list_guardians(
                    db,
                    &s,
                    &q(if cursor.is_some() { 999 } else { 0 }, cursor),
                )
                .await
                .unwrap()
                .iter()
                .map(|g| g.id)
                .collect();
                let Some(last) = page.last() else { break };
                cursor = Some(people::Cursor::After(*last));
                if walked.len() >= 5 {
                    let before: Vec<i64> = people::list_guardians(
                        db,
                        &s,
                        &q(999, Some(people::Cursor::Before(page[0]))),
                    )
                    .await
                    .unwrap()
                    .iter()
                    .map(|g| g.id)
                    .collect();
                    assert_eq!(
                        before,
                        walked[walked.len() - 5..].to_vec(),
                        "{sort:?} guardians back"
                    );
                }
                walked.extend(page);
            }
            assert_eq!(walked, all, "{sort:?} guardians");
            assert!(all.len() >= 3);
        }
    }
);
