//! Accounts and role grants from the UI (issue 10 items 8 and 9): the unit choice is the
//! caller's subtree in tree order with classes under their grade, a principal gives a
//! head teacher an account at a class, and an account's page grants and revokes further
//! roles — a duplicate or a role at the wrong kind of unit refused beside the field, an
//! account outside the caller's subtree 404, every grant and revocation audited. Each on
//! SQLite and PostgreSQL.

use jiaxiao_domain::{Role, UnitKind};
use jiaxiao_store::accounts;
use jiaxiao_store::entities::{audit_log, role_grant};
use jiaxiao_store::org::{self, NewUnit};
use jiaxiao_store::{Db, Scope, StoreError};
use jiaxiao_testkit::fixtures::{csrf_of, get, login, post, staff_account, two_counties};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

/// 甲区 → 甲小学 with grades made in the order 一, 三, 二 (their names sort 一, 三, 二 by
/// character) and classes 二年级(10)班 before (2)班; 乙区 → 乙小学 with one class.
/// Accounts: `school_a` (principal of 甲小学), `county_a`, `school_b`.
struct World {
    school_a: i64,
    school_b: i64,
    class_1_1: i64,
    class_2_2: i64,
    class_2_10: i64,
    class_3_1: i64,
    class_b: i64,
    admin_b: i64,
}

async fn unit(db: &Db, parent: i64, kind: UnitKind, level: i32, number: Option<i32>) -> i64 {
    let name = match number {
        Some(n) => format!(
            "{}{}",
            jiaxiao_domain::org::grade_name(level),
            jiaxiao_domain::org::class_name(n)
        ),
        None => jiaxiao_domain::org::grade_name(level),
    };
    org::create_unit(
        db,
        &Scope::system(),
        NewUnit {
            parent_id: Some(parent),
            kind,
            name,
            code: None,
            school_type: None,
            grade_level: Some(level),
            class_number: number,
        },
    )
    .await
    .expect("unit")
}

async fn world(db: &Db) -> World {
    let t = two_counties(db).await;
    let g1 = unit(db, t.school_a, UnitKind::Grade, 1, None).await;
    let g3 = unit(db, t.school_a, UnitKind::Grade, 3, None).await;
    let g2 = unit(db, t.school_a, UnitKind::Grade, 2, None).await;
    let class_3_1 = unit(db, g3, UnitKind::Class, 3, Some(1)).await;
    let class_2_10 = unit(db, g2, UnitKind::Class, 2, Some(10)).await;
    let class_2_2 = unit(db, g2, UnitKind::Class, 2, Some(2)).await;
    let class_1_1 = unit(db, g1, UnitKind::Class, 1, Some(1)).await;
    let gb = unit(db, t.school_b, UnitKind::Grade, 1, None).await;
    let class_b = unit(db, gb, UnitKind::Class, 1, Some(1)).await;
    staff_account(db, "school_a", Role::SchoolAdmin, t.school_a).await;
    staff_account(db, "county_a", Role::CountyAdmin, t.county_a).await;
    let admin_b = staff_account(db, "school_b", Role::SchoolAdmin, t.school_b).await;
    World {
        school_a: t.school_a,
        school_b: t.school_b,
        class_1_1,
        class_2_2,
        class_2_10,
        class_3_1,
        class_b,
        admin_b,
    }
}

/// What a `<select name="…">` offers, in page order: `("group", label)` for an
/// `<optgroup>`, `(value, text)` for an option.
fn select_items(html: &str, name: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("<select name=\"{name}\""))
        .unwrap_or_else(|| panic!("no select {name}: {html}"));
    let body = &html[start..start + html[start..].find("</select>").expect("end of select")];
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        if let Some(r) = rest.strip_prefix("<optgroup label=\"") {
            let end = r.find('"').expect("label end");
            out.push(("group".into(), r[..end].to_owned()));
        } else if let Some(r) = rest.strip_prefix("<option value=\"") {
            let end = r.find('"').expect("value end");
            let value = r[..end].to_owned();
            let text_start = r.find('>').expect("option tag end") + 1;
            let text_end = r[text_start..].find('<').expect("option end") + text_start;
            out.push((value, r[text_start..text_end].trim().to_owned()));
        }
        rest = &rest[1..];
    }
    out
}

/// The id of the account `/accounts` sent us to after creating it.
fn user_of(location: &str) -> i64 {
    location
        .strip_prefix("/accounts/users/")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an account's page: {location}"))
}

async fn grants_of(db: &Db, user: i64) -> Vec<role_grant::Model> {
    role_grant::Entity::find()
        .filter(role_grant::Column::UserId.eq(user))
        .order_by_asc(role_grant::Column::Id)
        .all(&db.conn)
        .await
        .expect("grants")
}

both_dbs!(
    the_unit_choice_is_the_tree_in_order,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let c = login(&app, "school_a").await;
        let (st, html) = get(&c, &app.url("/accounts")).await;
        assert_eq!(st, StatusCode::OK);
        let units = select_items(&html, "unit_id");
        let want: Vec<(String, String)> = [
            (w.school_a.to_string(), "甲小学"),
            ("group".into(), "一年级"),
            (w.class_1_1.to_string(), "一年级(1)班"),
            ("group".into(), "二年级"),
            (w.class_2_2.to_string(), "二年级(2)班"),
            (w.class_2_10.to_string(), "二年级(10)班"),
            ("group".into(), "三年级"),
            (w.class_3_1.to_string(), "三年级(1)班"),
        ]
        .into_iter()
        .map(|(v, t)| (v, t.to_owned()))
        .collect();
        assert_eq!(units, want, "{html}");
        // Each unit says its kind, each role the kinds it is held at, for the script.
        assert!(html.contains(&format!(
            "<option value=\"{}\" data-kind=\"class\"",
            w.class_2_2
        )));
        let roles = select_items(&html, "role");
        let codes: Vec<&str> = roles.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(codes, ["school_admin", "head_teacher", "teacher"], "{html}");
        assert!(html.contains("value=\"head_teacher\" data-kinds=\"class\""));
        assert!(html.contains("value=\"teacher\" data-kinds=\"school\""));
        // Nothing of the other county.
        assert!(!html.contains("乙小学"), "{html}");

        // With a second school, the county sees grades and classes named with their school.
        let county_a = org::get_unit(&app.db, &Scope::system(), w.school_a)
            .await
            .unwrap()
            .parent_id
            .expect("county");
        org::create_unit(
            &app.db,
            &Scope::system(),
            jiaxiao_testkit::fixtures::unit(Some(county_a), UnitKind::School, "甲二小"),
        )
        .await
        .unwrap();
        let c = login(&app, "county_a").await;
        let (_, html) = get(&c, &app.url("/accounts")).await;
        let units = select_items(&html, "unit_id");
        let texts: Vec<&str> = units
            .iter()
            .map(|(_, t)| t.trim_start_matches('\u{3000}'))
            .collect();
        assert_eq!(
            texts,
            [
                "甲区",
                "甲二小",
                "甲小学",
                "甲小学 一年级",
                "甲小学 一年级(1)班",
                "甲小学 二年级",
                "甲小学 二年级(2)班",
                "甲小学 二年级(10)班",
                "甲小学 三年级",
                "甲小学 三年级(1)班",
            ],
            "{html}"
        );
        let roles = select_items(&html, "role");
        let codes: Vec<&str> = roles.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(
            codes,
            ["county_admin", "school_admin", "head_teacher", "teacher"],
            "{html}"
        );
    }
);

both_dbs!(
    a_principal_gives_a_head_teacher_an_account_and_a_second_role,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        let c = login(&app, "school_a").await;
        let (_, html) = get(&c, &app.url("/accounts")).await;
        let csrf = csrf_of(&html);
        let (st, to) = post(
            &c,
            &app.url("/accounts"),
            &[
                ("csrf", csrf.clone()),
                ("username", "ht_22".into()),
                ("display_name", "钱班主任".into()),
                ("password", "long-enough-pass".into()),
                ("role", "head_teacher".into()),
                ("unit_id", w.class_2_2.to_string()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
        let user = user_of(&to);
        let (st, page) = get(&c, &app.url(&to)).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("账号已创建"), "{page}");
        assert!(
            page.contains("钱班主任") && page.contains("ht_22"),
            "{page}"
        );
        assert!(
            page.contains("<strong>班主任</strong><span>甲小学 二年级(2)班</span>"),
            "{page}"
        );
        // The list links the name to the page.
        let (_, list) = get(&c, &app.url("/accounts")).await;
        assert!(
            list.contains(&format!("<a href=\"/accounts/users/{user}\">钱班主任</a>")),
            "{list}"
        );

        // A second role: teacher at the school.
        let grant_url = app.url(&format!("/accounts/users/{user}/grants"));
        let teacher_at_school = [
            ("csrf", csrf.clone()),
            ("role", "teacher".to_owned()),
            ("unit_id", w.school_a.to_string()),
        ];
        let (st, to) = post(&c, &grant_url, &teacher_at_school).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
        assert_eq!(to, format!("/accounts/users/{user}"));
        let (_, page) = get(&c, &app.url(&to)).await;
        assert!(page.contains("已授予角色"), "{page}");
        assert!(
            page.contains("<strong>教师</strong><span>甲小学</span>"),
            "{page}"
        );
        // And head teacher of a second class.
        let (st, _) = post(
            &c,
            &grant_url,
            &[
                ("csrf", csrf.clone()),
                ("role", "head_teacher".to_owned()),
                ("unit_id", w.class_3_1.to_string()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(grants_of(&app.db, user).await.len(), 3);

        // The same role at the same unit again: refused beside the unit, in words.
        let (st, body) = post(&c, &grant_url, &teacher_at_school).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("id=\"err-unit_id\""), "{body}");
        assert!(body.contains("已是该单位的教师"), "{body}");
        assert!(!body.contains("与已有记录重复"), "{body}");
        // The form keeps what was chosen.
        assert!(
            body.contains(&format!(
                "<option value=\"{}\" data-kind=\"school\" selected>",
                w.school_a
            )),
            "{body}"
        );

        // A role at a kind of unit it is not held at: refused by the server too.
        let (st, body) = post(
            &c,
            &grant_url,
            &[
                ("csrf", csrf.clone()),
                ("role", "head_teacher".to_owned()),
                ("unit_id", w.school_a.to_string()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("id=\"err-unit_id\""), "{body}");
        assert!(body.contains("该角色不能授予在这一级单位"), "{body}");
        let (st, body) = post(
            &c,
            &grant_url,
            &[
                ("csrf", csrf.clone()),
                ("role", "teacher".to_owned()),
                ("unit_id", w.class_1_1.to_string()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        // A role above the caller's own: refused beside the role.
        let (st, body) = post(
            &c,
            &grant_url,
            &[
                ("csrf", csrf.clone()),
                ("role", "county_admin".to_owned()),
                ("unit_id", w.school_a.to_string()),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(grants_of(&app.db, user).await.len(), 3);

        // Revoking the teacher role: back on the page, which says so, without it.
        let teacher = grants_of(&app.db, user)
            .await
            .into_iter()
            .find(|g| g.role == "teacher")
            .expect("teacher grant");
        let (_, page) = get(&c, &app.url(&format!("/accounts/users/{user}"))).await;
        let revoke = format!("/accounts/users/{user}/grants/{}/revoke", teacher.id);
        assert!(
            page.contains(&format!("action=\"{revoke}\" data-confirm=")),
            "{page}"
        );
        let (st, to) = post(&c, &app.url(&revoke), &[("csrf", csrf.clone())]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(to, format!("/accounts/users/{user}"));
        let (_, page) = get(&c, &app.url(&to)).await;
        assert!(page.contains("已撤销"), "{page}");
        assert!(!page.contains("<strong>教师</strong>"), "{page}");
        assert!(page.contains("<strong>班主任</strong><span>甲小学 二年级(2)班</span>"));
        let roles: Vec<String> = grants_of(&app.db, user)
            .await
            .into_iter()
            .map(|g| g.role)
            .collect();
        assert_eq!(roles, ["head_teacher", "head_teacher"]);
        // The user can log in with the roles left.
        let ht = app.client();
        let csrf_login = jiaxiao_testkit::fixtures::login_csrf(&app, &ht).await;
        let r = ht
            .post(app.url("/login"))
            .form(&[
                ("who", "ht_22"),
                ("password", "long-enough-pass"),
                ("csrf", csrf_login.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);

        // Audited with before and after: whose, which role, where.
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::Entity.eq("role_grant"))
            .filter(audit_log::Column::EntityId.eq(user.to_string()))
            .order_by_asc(audit_log::Column::Id)
            .all(&app.db.conn)
            .await
            .unwrap();
        let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["grant", "grant", "revoke"]);
        let json = |s: &Option<String>| -> serde_json::Value {
            serde_json::from_str(s.as_deref().expect("summary")).expect("json")
        };
        let (b, a) = (json(&rows[0].before_json), json(&rows[0].after_json));
        assert_eq!(b["username"], "ht_22");
        assert!(b.get("role").is_none());
        assert_eq!(a["role"], "teacher");
        assert_eq!(a["unit"], "甲小学");
        let (b, a) = (json(&rows[1].before_json), json(&rows[1].after_json));
        assert!(b.get("role").is_none());
        assert_eq!(a["unit"], "甲小学 三年级(1)班");
        let (b, a) = (json(&rows[2].before_json), json(&rows[2].after_json));
        assert_eq!(b["role"], "teacher");
        assert!(a.get("role").is_none());
        assert_eq!(a["display_name"], "钱班主任");
        // The audit log links the row to the account's page.
        let (_, audit) = get(&c, &app.url("/audit")).await;
        assert!(
            audit.contains(&format!("/accounts/users/{user}")),
            "{audit}"
        );
    }
);

both_dbs!(
    the_store_refuses_a_role_at_the_wrong_kind_and_a_duplicate,
    |t: TestDb| async move {
        let db = &t.db;
        let w = world(db).await;
        let sys = Scope::system();
        let user = staff_account(db, "ht", Role::HeadTeacher, w.class_2_2).await;
        for (role, unit) in [
            (Role::HeadTeacher, w.school_a),
            (Role::Teacher, w.class_2_10),
            (Role::SchoolAdmin, w.class_2_10),
            (Role::CountyAdmin, w.school_a),
        ] {
            let e = accounts::grant_role(db, &sys, user, role, unit).await;
            assert!(
                matches!(
                    e,
                    Err(StoreError::Invalid {
                        code: "role_not_at_this_kind"
                    })
                ),
                "{role:?} at {unit}: {e:?}"
            );
        }
        let e = accounts::grant_role(db, &sys, user, Role::HeadTeacher, w.class_2_2).await;
        assert!(
            matches!(
                e,
                Err(StoreError::Invalid {
                    code: "grant_exists"
                })
            ),
            "{e:?}"
        );
        accounts::grant_role(db, &sys, user, Role::HeadTeacher, w.class_2_10)
            .await
            .expect("a second class");
        assert_eq!(grants_of(db, user).await.len(), 2);
        // The account creation path refuses the wrong kind too.
        let e = accounts::create_user(
            db,
            &sys,
            accounts::NewUser {
                username: "x".into(),
                display_name: "x".into(),
                password: "long-enough-pass".into(),
                staff_id: None,
                grants: vec![(Role::HeadTeacher, w.school_a)],
            },
        )
        .await;
        assert!(matches!(
            e,
            Err(StoreError::Invalid {
                code: "role_not_at_this_kind"
            })
        ));
    }
);

both_dbs!(
    an_account_outside_the_subtree_is_not_found,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = world(&app.db).await;
        // One account with a role in each school.
        let both = staff_account(&app.db, "both", Role::HeadTeacher, w.class_1_1).await;
        accounts::grant_role(&app.db, &Scope::system(), both, Role::Teacher, w.school_b)
            .await
            .unwrap();
        let c = login(&app, "school_a").await;
        let (_, html) = get(&c, &app.url("/accounts")).await;
        let csrf = csrf_of(&html);
        // The other school's principal, and an id that does not exist, alike.
        for id in [w.admin_b, 999_999] {
            let (st, _) = get(&c, &app.url(&format!("/accounts/users/{id}"))).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{id}");
            let (st, _) = post(
                &c,
                &app.url(&format!("/accounts/users/{id}/grants")),
                &[
                    ("csrf", csrf.clone()),
                    ("role", "teacher".into()),
                    ("unit_id", w.school_a.to_string()),
                ],
            )
            .await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{id}");
        }
        assert_eq!(grants_of(&app.db, w.admin_b).await.len(), 1);
        // The shared account shows only its grant in this school.
        let (st, page) = get(&c, &app.url(&format!("/accounts/users/{both}"))).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("甲小学 一年级(1)班"), "{page}");
        assert!(!page.contains("乙小学"), "{page}");
        // Its grant in the other school cannot be revoked from here, by either route.
        let other = grants_of(&app.db, both)
            .await
            .into_iter()
            .find(|g| g.unit_id == w.school_b)
            .expect("grant in 乙小学");
        for url in [
            format!("/accounts/users/{both}/grants/{}/revoke", other.id),
            format!("/accounts/grants/{}/revoke", other.id),
        ] {
            let (st, _) = post(&c, &app.url(&url), &[("csrf", csrf.clone())]).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{url}");
        }
        // A grant of one account revoked through another account's page: 404.
        let mine = grants_of(&app.db, both).await[0].id;
        let (st, _) = post(
            &c,
            &app.url(&format!(
                "/accounts/users/{}/grants/{mine}/revoke",
                w.admin_b
            )),
            &[("csrf", csrf.clone())],
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert_eq!(grants_of(&app.db, both).await.len(), 2);
        // A class's head teacher manages no accounts.
        staff_account(&app.db, "ht_b", Role::HeadTeacher, w.class_b).await;
        let h = login(&app, "ht_b").await;
        let (st, _) = get(&c, &app.url(&format!("/accounts/users/{both}"))).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = get(&h, &app.url(&format!("/accounts/users/{both}"))).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // The county sees the accounts of its schools, not the other county's.
        let county = login(&app, "county_a").await;
        let (st, _) = get(&county, &app.url(&format!("/accounts/users/{both}"))).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = get(&county, &app.url(&format!("/accounts/users/{}", w.admin_b))).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // Revoking the account's last grant here leads back to the list.
        let (st, to) = post(
            &c,
            &app.url(&format!("/accounts/users/{both}/grants/{mine}/revoke")),
            &[("csrf", csrf.clone())],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(to, "/accounts");
        let (st, _) = get(&c, &app.url(&format!("/accounts/users/{both}"))).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
);
