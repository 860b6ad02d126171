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
