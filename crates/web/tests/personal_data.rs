//! The generated personal-data test (issue 9, docs/SECURITY.md): every GET route of the
//! router, read from the source as `openapi_describes_every_route` does, is either
//! listed here with the URLs to request or named as returning nobody's personal data.
//! Each role of the fixture requests every URL, and the bytes of each answer — HTML and
//! JSON as text, XLSX cells read one by one (testkit::xlsx), PDF text through lopdf — must hold no name
//! or phone outside the role's reach, and no whole phone where the role sees them
//! masked. Answers with data carry `Cache-Control: no-store`. Both databases.

use std::collections::BTreeMap;
use std::io::Cursor;

use jiaxiao_testkit::fixtures::{PEOPLE, Person, PersonalWorld, login, personal_data_world};
use jiaxiao_testkit::xlsx::{Reader, Sheet, Xlsx};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::StatusCode;

/// GET routes that return nobody's personal data, and why.
const NO_PERSONAL_DATA: &[(&str, &str)] = &[
    ("/", "redirects to the caller's home"),
    ("/login", "the login form"),
    ("/invite", "the invitation form"),
    ("/lang/{code}", "switches the language and redirects"),
    ("/healthz", "database up or down"),
    ("/metrics", "counts by route template and status"),
    ("/assets/{*path}", "the embedded CSS and scripts"),
    ("/favicon.ico", "the app's icon"),
    ("/api/openapi.json", "the API's description"),
    ("/account/password", "the caller's own password form"),
    (
        "/account/tokens",
        "the caller's own API tokens: names and times, never the tokens",
    ),
    ("/import", "the roster upload form"),
    (
        "/api/v1/tokens",
        "the caller's own API tokens: names, scopes and times, never the tokens",
    ),
    (
        "/api/v1/webhooks",
        "webhooks on the units the caller manages: URLs and events, never their secrets",
    ),
];

/// Routes without GET that answer with personal data, and why that is in order. They are
/// writes with their own tests; docs/SECURITY.md lists them.
const WRITES_WITH_PERSONAL_DATA: &[(&str, &str)] = &[
    (
        "/people/invitations",
        "invitation letters (page or XLSX) for the units the caller manages",
    ),
    ("/import/preview", "the uploader's own roster file, checked"),
    (
        "/api/v1/invitations",
        "invitation codes of the parents under a unit the caller manages, as the page's letters",
    ),
    ("/import/remap", "the uploader's own roster file, remapped"),
];

/// Every other route without GET: writes that answer with a redirect or a status (a
/// rejected form re-renders what the caller typed). A new one must be added here or
/// above, which is the moment to ask whether its answer names anyone.
const WRITES: &[&str] = &[
    "/account/tokens/{id}/revoke",
    "/accounts/grants/{id}/revoke",
    "/accounts/users/{id}/grants",
    "/accounts/users/{id}/grants/{grant}/revoke",
    "/api/v1/auth/login",
    "/api/v1/auth/token",
    "/api/v1/sessions/{id}/checkins",
    "/api/v1/sessions/{id}/lesson-plan",
    "/api/v1/sessions/{id}/marks",
    "/api/v1/sessions/{id}/status",
    "/api/v1/sessions/{id}/summary",
    "/api/v1/sessions/{id}/window",
    "/api/v1/tokens/{id}",
    "/api/v1/units/{id}/moves",
    "/api/v1/webhooks/{id}",
    "/attachments/{id}/delete",
    "/import/commit",
    "/logout",
    "/org/{id}/children",
    "/org/{id}/move",
    "/p/notices/{round}/objection",
    "/p/sessions/{id}/reflection",
    "/paper/{sheet}/marks",
    "/paper/{sheet}/resolve",
    "/paper/{sheet}/scan",
    "/people/staff",
    "/ps/excellence/{round}/award",
    "/ps/excellence/{round}/notice",
    "/ps/excellence/{round}/objections",
    "/ps/excellence/{round}/review",
    "/ps/excellence/{round}/seal",
    "/ps/objections/{id}/resolve",
    "/ps/schools/{id}/activities/{aid}/breakouts",
    "/ps/schools/{id}/activities/{aid}/duties",
    "/ps/schools/{id}/activities/{aid}/duties/{did}/remove",
    "/ps/schools/{id}/activities/{aid}/items",
    "/ps/schools/{id}/activities/{aid}/items/{iid}/remove",
    "/ps/schools/{id}/committees/members/{mid}/remove",
    "/ps/schools/{id}/committees/{cid}/delete",
    "/ps/schools/{id}/committees/{cid}/members",
    "/ps/schools/{id}/curriculum/courses",
    "/ps/schools/{id}/curriculum/courses/{cid}/delete",
    "/ps/schools/{id}/curriculum/seed",
    "/ps/schools/{id}/curriculum/topics",
    "/ps/schools/{id}/curriculum/topics/{tid}",
    "/ps/schools/{id}/curriculum/topics/{tid}/active",
    "/ps/schools/{id}/curriculum/topics/{tid}/move",
    "/ps/schools/{id}/dossier",
    "/ps/schools/{id}/settings",
    "/ps/schools/{id}/year-open",
    "/sessions/{id}/attachments",
    "/sessions/{id}/lesson-plan",
    "/sessions/{id}/remind",
    "/sessions/{id}/status",
    "/sessions/{id}/summary",
    "/sessions/{id}/window",
];

/// The URLs to request for a route that may return personal data. A route missing here
/// and from [`NO_PERSONAL_DATA`] fails the test: list a new route before it ships.
fn urls(route: &str, w: &PersonalWorld) -> Option<Vec<String>> {
    let (a, b) = (w.tree.school_a, w.tree.school_b);
    let (sa, sn, sb) = (w.session_a, w.session_named, w.session_b);
    let sessions = || vec![sa, sn, sb];
    let each = |ids: Vec<i64>, f: &dyn Fn(i64) -> String| ids.into_iter().map(f).collect();
    let schools = |f: &dyn Fn(i64) -> String| each(vec![a, b], f);
    Some(match route {
        "/p" => vec!["/p".into()],
        "/p/sessions/{id}" => each(sessions(), &|s| format!("/p/sessions/{s}")),
        "/p/certificates/{round}" => vec![format!("/p/certificates/{}", w.round_a)],
        "/p/checkin/{id}" => vec![format!("/p/checkin/{sa}")],
        "/org" => vec!["/org".into()],
        "/org/{id}" => each(vec![a, w.class_a1, w.class_a2, b], &|u| format!("/org/{u}")),
        "/people" => ["", "?kind=guardians", "?kind=staff", "?q=1"]
            .iter()
            .map(|q| format!("/people{q}"))
            .collect(),
        "/people.xlsx" => ["", "?kind=guardians", "?kind=staff", "?q=1"]
            .iter()
            .map(|q| format!("/people.xlsx{q}"))
            .collect(),
        "/people/pupils/{id}" => each(w.pupils.to_vec(), &|p| format!("/people/pupils/{p}")),
        "/people/guardians/{id}" => {
            each(w.guardians.to_vec(), &|g| format!("/people/guardians/{g}"))
        }
        "/accounts" => vec!["/accounts".into()],
        "/accounts.xlsx" => vec!["/accounts.xlsx".into()],
        // Every account of the fixture: staff of both schools and counties, and parents.
        "/accounts/users/{id}" => (1..=10).map(|u| format!("/accounts/users/{u}")).collect(),
        "/audit" => vec!["/audit".into()],
        "/audit.xlsx" => vec!["/audit.xlsx".into()],
        "/import/jobs/{id}" => vec!["/import/jobs/1".into()],
        "/import/jobs/{id}/status" => vec!["/import/jobs/1/status".into()],
        "/sessions/{id}/projector" => each(sessions(), &|s| format!("/sessions/{s}/projector")),
        "/sessions/{id}/checkins" => each(sessions(), &|s| format!("/sessions/{s}/checkins")),
        "/sessions/{id}/mark" => vec![
            format!("/sessions/{sa}/mark"),
            format!("/sessions/{sa}/mark?class={}", w.class_a1),
            format!("/sessions/{sa}/mark?class={}", w.class_a2),
            format!("/sessions/{sb}/mark?class={}", w.class_b),
        ],
        "/ps" => vec!["/ps".into()],
        "/ps/schools/{id}" => schools(&|s| format!("/ps/schools/{s}")),
        "/ps/units/{id}" => each(vec![w.tree.county_a, w.tree.county_b], &|u| {
            format!("/ps/units/{u}")
        }),
        "/ps/units/{id}/rollup.xlsx" => each(vec![w.tree.county_a, w.tree.county_b], &|u| {
            format!("/ps/units/{u}/rollup.xlsx")
        }),
        "/sessions/{id}/paper" => each(sessions(), &|s| format!("/sessions/{s}/paper")),
        "/sessions/{id}/paper/{class}/sheet.pdf" => vec![
            format!("/sessions/{sa}/paper/{}/sheet.pdf", w.class_a1),
            format!("/sessions/{sa}/paper/{}/sheet.pdf", w.class_a2),
        ],
        "/paper" => vec!["/paper?code=NOSUCH".into()],
        "/paper/{sheet}" => vec![format!("/paper/{}", w.sheet_a2)],
        "/ps/schools/{id}/sessions" => schools(&|s| format!("/ps/schools/{s}/sessions")),
        "/ps/schools/{id}/sessions.xlsx" => schools(&|s| format!("/ps/schools/{s}/sessions.xlsx")),
        "/ps/schools/{id}/sessions/new" => schools(&|s| format!("/ps/schools/{s}/sessions/new")),
        "/sessions/{id}" => each(sessions(), &|s| format!("/sessions/{s}")),
        "/sessions/{id}/edit" => each(sessions(), &|s| format!("/sessions/{s}/edit")),
        "/sessions/{id}/checkins.xlsx" => {
            each(sessions(), &|s| format!("/sessions/{s}/checkins.xlsx"))
        }
        "/attachments/{id}" => vec!["/attachments/1".into()],
        "/ps/schools/{id}/trainees" => schools(&|s| format!("/ps/schools/{s}/trainees")),
        "/ps/schools/{id}/trainees.xlsx" => schools(&|s| format!("/ps/schools/{s}/trainees.xlsx")),
        "/ps/schools/{id}/excellence" => schools(&|s| format!("/ps/schools/{s}/excellence")),
        "/ps/excellence/{round}/notice.pdf" => {
            vec![format!("/ps/excellence/{}/notice.pdf", w.round_a)]
        }
        "/ps/excellence/{round}/certificates.pdf" => {
            vec![format!("/ps/excellence/{}/certificates.pdf", w.round_a)]
        }
        "/ps/schools/{id}/ledger" => schools(&|s| format!("/ps/schools/{s}/ledger")),
        "/ps/schools/{id}/ledger.xlsx" => schools(&|s| format!("/ps/schools/{s}/ledger.xlsx")),
        "/ps/schools/{id}/checkins.xlsx" => schools(&|s| format!("/ps/schools/{s}/checkins.xlsx")),
        "/ps/jobs/{id}/status" => vec!["/ps/jobs/1/status".into()],
        "/ps/schools/{id}/committees" => schools(&|s| format!("/ps/schools/{s}/committees")),
        "/ps/schools/{id}/committees/print" => {
            schools(&|s| format!("/ps/schools/{s}/committees/print"))
        }
        "/ps/schools/{id}/committees/roster.xlsx" => {
            schools(&|s| format!("/ps/schools/{s}/committees/roster.xlsx"))
        }
        "/ps/schools/{id}/curriculum" => schools(&|s| format!("/ps/schools/{s}/curriculum")),
        "/ps/schools/{id}/activities" => schools(&|s| format!("/ps/schools/{s}/activities")),
        "/ps/schools/{id}/activities/{aid}" => vec![format!("/ps/schools/{a}/activities/1")],
        "/ps/schools/{id}/activities/{aid}/print" => {
            vec![format!("/ps/schools/{a}/activities/1/print")]
        }
        "/ps/schools/{id}/activities/{aid}/run-sheet.pdf" => {
            vec![format!("/ps/schools/{a}/activities/1/run-sheet.pdf")]
        }
        "/api/v1/me" => vec!["/api/v1/me".into()],
        // The world's one webhook, on 甲小学, with its check-ins pumped (names, no phones).
        "/api/v1/webhooks/{id}/deliveries" => vec!["/api/v1/webhooks/1/deliveries".into()],
        "/api/v1/units/{id}" => schools(&|s| format!("/api/v1/units/{s}")),
        "/api/v1/units/{id}/children" => schools(&|s| format!("/api/v1/units/{s}/children")),
        "/api/v1/units/{id}/descendants" => schools(&|s| format!("/api/v1/units/{s}/descendants")),
        "/api/v1/pupils" => vec!["/api/v1/pupils".into()],
        "/api/v1/pupils/{id}" => each(w.pupils.to_vec(), &|p| format!("/api/v1/pupils/{p}")),
        "/api/v1/guardians" => vec!["/api/v1/guardians".into()],
        "/api/v1/staff" => vec!["/api/v1/staff".into()],
        "/api/v1/sessions" => vec!["/api/v1/sessions".into()],
        "/api/v1/sessions/{id}" => each(sessions(), &|s| format!("/api/v1/sessions/{s}")),
        "/api/v1/sessions/{id}/roster" => {
            each(sessions(), &|s| format!("/api/v1/sessions/{s}/roster"))
        }
        "/api/v1/sessions/{id}/checkin-code" => each(sessions(), &|s| {
            format!("/api/v1/sessions/{s}/checkin-code")
        }),
        _ => return None,
    })
}

/// Who logs in, and what of each person they may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// 欧阳甲一, a parent in 甲小学 三年级(1)班.
    Parent,
    Teacher,
    HeadTeacherA1,
    SchoolAdmin,
    CountyAdmin,
    Inspector,
}

const ROLES: [Role; 6] = [
    Role::Parent,
    Role::Teacher,
    Role::HeadTeacherA1,
    Role::SchoolAdmin,
    Role::CountyAdmin,
    Role::Inspector,
];

/// How a role may see a person's phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sees {
    /// Name and whole phone.
    Whole,
    /// Name and 138****0001.
    Masked,
    /// Neither name, child nor phone in any form.
    Nothing,
}

impl Role {
    fn login(self) -> &'static str {
        match self {
            Role::Parent => PEOPLE[0].phone,
            Role::Teacher => "teacher_a",
            Role::HeadTeacherA1 => "head_a1",
            Role::SchoolAdmin => "admin_a",
            Role::CountyAdmin => "county_a",
            Role::Inspector => "inspector_a",
        }
    }

    /// The role matrix of docs/SECURITY.md.
    fn sees(self, p: &Person) -> Sees {
        if p.school != 'A' {
            return Sees::Nothing;
        }
        match self {
            Role::Parent if p.phone == PEOPLE[0].phone => Sees::Whole,
            Role::Parent => Sees::Nothing,
            Role::HeadTeacherA1 if p.class == Some(1) => Sees::Whole,
            // The school's staff, by name: the instructor picker of a new session.
            Role::HeadTeacherA1 if p.class.is_none() => Sees::Masked,
            Role::HeadTeacherA1 => Sees::Nothing,
            Role::SchoolAdmin => Sees::Whole,
            Role::Teacher | Role::CountyAdmin | Role::Inspector => Sees::Masked,
        }
    }
}

/// What must show, so the test cannot pass on answers that show nobody: (role, URL,
/// person, how their phone shows; `Nothing`: only the name is looked for).
fn must_show(w: &PersonalWorld) -> Vec<(Role, String, usize, Sees)> {
    let (a, sa) = (w.tree.school_a, w.session_a);
    let mut v = Vec::new();
    for (role, person, how) in [
        (Role::SchoolAdmin, 1, Sees::Whole),
        (Role::HeadTeacherA1, 0, Sees::Whole),
        (Role::Teacher, 1, Sees::Masked),
        (Role::CountyAdmin, 1, Sees::Masked),
    ] {
        v.push((role, format!("/ps/schools/{a}/trainees"), person, how));
        v.push((role, format!("/ps/schools/{a}/ledger.xlsx"), person, how));
        v.push((role, format!("/ps/schools/{a}/checkins.xlsx"), person, how));
        v.push((role, format!("/sessions/{sa}/checkins.xlsx"), person, how));
        v.push((
            role,
            format!("/ps/schools/{a}/committees/roster.xlsx"),
            person,
            how,
        ));
        v.push((role, format!("/ps/schools/{a}/committees"), person, how));
        v.push((
            role,
            format!("/ps/excellence/{}/certificates.pdf", w.round_a),
            person,
            Sees::Nothing,
        ));
        v.push((
            role,
            format!("/ps/excellence/{}/notice.pdf", w.round_a),
            person,
            Sees::Nothing,
        ));
    }
    v.push((
        Role::SchoolAdmin,
        format!("/sessions/{sa}/paper/{}/sheet.pdf", w.class_a2),
        1,
        Sees::Nothing,
    ));
    v.push((
        Role::SchoolAdmin,
        format!("/sessions/{sa}"),
        1,
        Sees::Nothing,
    ));
    v.push((
        Role::SchoolAdmin,
        format!("/paper/{}", w.sheet_a2),
        1,
        Sees::Nothing,
    ));
    v.push((
        Role::SchoolAdmin,
        format!("/ps/schools/{a}/committees"),
        3,
        Sees::Whole,
    ));
    v.push((
        Role::Teacher,
        format!("/ps/schools/{a}/committees"),
        3,
        Sees::Masked,
    ));
    v.push((Role::Parent, "/p".into(), 0, Sees::Nothing));
    v
}

/// Every route of the router, from the source, and whether it answers GET:
/// `.route(PATH, …)` where PATH is a literal, a `let` binding of the same file or a
/// `format!` of one.
fn all_routes() -> Vec<(String, bool)> {
    let mut out = Vec::new();
    // Read at run time: cargo reuses a test binary built in another checkout of the
    // same tree (a worktree sharing the target directory), whose env! path may be gone.
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test");
    let root = std::path::Path::new(&dir).join("src");
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("src dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.extend(routes_in(&std::fs::read_to_string(&p).expect("source")));
            }
        }
    }
    // A path with GET and POST handlers is one GET route.
    out.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    out.dedup_by(|b, a| a.0 == b.0);
    out
}

fn routes_in(src: &str) -> Vec<(String, bool)> {
    // Comments mention `.route(` too.
    let src: String = src
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let src = src.as_str();
    let mut lets: BTreeMap<String, String> = BTreeMap::new();
    for l in src.lines().map(str::trim) {
        if let Some(rest) = l.strip_prefix("let ")
            && let Some((name, value)) = rest.split_once(" = \"")
            && let Some(value) = value.strip_suffix("\";")
        {
            lets.insert(name.to_owned(), value.to_owned());
        }
    }
    let mut out = Vec::new();
    for (i, _) in src.match_indices(".route(") {
        // The call's arguments, up to its closing parenthesis.
        let args = &src[i + 7..];
        let mut depth = 1;
        let end = args
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(args.len(), |(j, _)| j);
        let args = args[..end].trim_start();
        let is_get = args.contains("get(");
        let path = if let Some(rest) = args.strip_prefix('"') {
            rest[..rest.find('"').expect("end of path")].to_owned()
        } else if let Some(rest) = args.strip_prefix("&format!(\"") {
            let mut p = rest[..rest.find('"').expect("end of format")].to_owned();
            for (name, value) in &lets {
                p = p.replace(&format!("{{{name}}}"), value);
            }
            p.replace("{{", "{").replace("}}", "}")
        } else {
            let name: String = args
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            match lets.get(&name) {
                Some(v) => v.clone(),
                None => continue, // `.route(` in a string
            }
        };
        if path.starts_with('/') {
            out.push((path, is_get));
        }
    }
    out
}

/// The text a person would read in an answer: cells of a workbook, text of a PDF (with
/// whitespace removed: typst breaks lines anywhere), or the body as it is.
fn text_of(content_type: &str, bytes: &[u8]) -> String {
    if content_type.contains("spreadsheetml") {
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("XLSX opens");
        let mut out = String::new();
        for name in book.sheet_names() {
            let range = Sheet::read(&mut book, &name);
            for row in range.rows() {
                for cell in row {
                    out.push_str(&cell.to_string());
                    out.push('\t');
                }
                out.push('\n');
            }
        }
        out
    } else if content_type.contains("pdf") {
        let doc = lopdf::Document::load_mem(bytes).expect("PDF parses");
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        doc.extract_text(&pages)
            .expect("PDF text")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

fn masked(phone: &str) -> String {
    jiaxiao_domain::phone::mask(phone)
}

/// What of `p` must not appear in an answer to `role`.
fn forbidden(role: Role, p: &Person) -> Vec<String> {
    match role.sees(p) {
        Sees::Whole => Vec::new(),
        Sees::Masked => vec![p.phone.to_owned()],
        Sees::Nothing => {
            let mut v = vec![p.name.to_owned(), p.phone.to_owned(), masked(p.phone)];
            v.extend(p.child.map(str::to_owned));
            v
        }
    }
}

both_dbs!(personal_data_stays_within_reach, |t: TestDb| async move {
    let w = personal_data_world(&t.db).await;
    // A webhook on the first school, every check-in of the world in its delivery log.
    let sys = jiaxiao_store::Scope::system();
    let (hook, _) = jiaxiao_store::webhooks::create(
        &t.db,
        &sys,
        w.tree.school_a,
        "https://hooks.example.com/x",
        &["checkin.recorded"],
    )
    .await
    .unwrap();
    assert_eq!(hook, 1);
    sea_orm::ConnectionTrait::execute_unprepared(
        &t.db.conn,
        "UPDATE webhook_cursor SET last_id = 0",
    )
    .await
    .unwrap();
    assert!(
        jiaxiao_store::webhooks::pump_checkins(&t.db, chrono::Duration::zero(), 10_000)
            .await
            .unwrap()
            > 0
    );
    let app = TestApp::spawn(t).await;

    // Every route is classified: a GET route listed with URLs or named as holding no
    // one's data, any other route named as a write.
    let all = all_routes();
    let routes: Vec<String> = all.iter().filter(|r| r.1).map(|r| r.0.clone()).collect();
    assert!(routes.len() > 50, "GET routes found: {routes:?}");
    let writes: Vec<&String> = all.iter().filter(|r| !r.1).map(|r| &r.0).collect();
    let unclassified: Vec<&&String> = writes
        .iter()
        .filter(|w| {
            !WRITES.contains(&w.as_str())
                && !WRITES_WITH_PERSONAL_DATA
                    .iter()
                    .any(|(n, _)| *n == w.as_str())
        })
        .collect();
    assert!(
        unclassified.is_empty(),
        "routes without GET named neither in WRITES nor in WRITES_WITH_PERSONAL_DATA: \
         {unclassified:?}"
    );
    for n in WRITES
        .iter()
        .chain(WRITES_WITH_PERSONAL_DATA.iter().map(|(n, _)| n))
    {
        assert!(
            writes.iter().any(|w| w.as_str() == *n),
            "{n} is no longer a write route"
        );
    }
    let mut requests: Vec<(String, String)> = Vec::new();
    let mut unlisted = Vec::new();
    for r in &routes {
        match urls(r, &w) {
            Some(us) => requests.extend(us.into_iter().map(|u| (r.clone(), u))),
            None if NO_PERSONAL_DATA.iter().any(|(n, _)| n == r) => {}
            None => unlisted.push(r.clone()),
        }
    }
    assert!(
        unlisted.is_empty(),
        "GET routes neither listed with URLs in tests/personal_data.rs nor named in \
         NO_PERSONAL_DATA (and docs/SECURITY.md): {unlisted:?}"
    );
    for (n, _) in NO_PERSONAL_DATA {
        assert!(routes.iter().any(|r| r == n), "{n} is no longer a route");
    }

    let shows = must_show(&w);
    let mut problems: Vec<String> = Vec::new();
    let mut answered = 0;
    for role in ROLES {
        let c = login(&app, role.login()).await;
        let bad: Vec<(String, &Person)> = PEOPLE
            .iter()
            .flat_map(|p| forbidden(role, p).into_iter().map(move |s| (s, p)))
            .collect();
        for (route, url) in &requests {
            let r = c.get(app.url(url)).send().await.expect("request");
            let status = r.status();
            let ct = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let cache = r
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let bytes = r.bytes().await.expect("body");
            if status == StatusCode::OK {
                answered += 1;
                if cache != "no-store" {
                    problems.push(format!("{role:?} {url}: Cache-Control {cache:?}"));
                }
            }
            let text = text_of(&ct, &bytes);
            for (s, p) in &bad {
                if text.contains(s.as_str()) {
                    problems.push(format!(
                        "{role:?} {url} ({route}, {status}): shows {s} of {} ({:?})",
                        p.name,
                        role.sees(p)
                    ));
                }
            }
            for (who, suffix, i, how) in &shows {
                if *who != role || url != suffix {
                    continue;
                }
                let p = &PEOPLE[*i];
                if status != StatusCode::OK || !text.contains(p.name) {
                    problems.push(format!("{role:?} {url} ({status}): {} missing", p.name));
                }
                let phone = match how {
                    Sees::Whole => Some(p.phone.to_owned()),
                    Sees::Masked => Some(masked(p.phone)),
                    Sees::Nothing => None,
                };
                if let Some(ph) = phone
                    && !text.contains(&ph)
                {
                    problems.push(format!("{role:?} {url}: {ph} of {} missing", p.name));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // Most URLs answer someone: the check read real pages, not only 404s.
    assert!(answered > requests.len() * 2, "{answered} answers of 200");
});
