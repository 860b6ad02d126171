//! Every page action that writes has its API operation (issue 14): the page routes that
//! take a POST are read from the page modules' source, and each must be in the table
//! below — with the API operation that does the same through the same store function,
//! or in `PENDING` while issue 14 is open. A new page write without an entry fails here,
//! and so does an entry naming an operation the OpenAPI document lacks.

use std::collections::BTreeSet;

use utoipa::OpenApi;

/// Page write → the API operation ("METHOD /api/v1/…") that does it.
const COUNTERPARTS: &[(&str, &str)] = &[
    (
        "POST /sessions/{id}/mark",
        "POST /api/v1/sessions/{id}/marks",
    ),
    (
        "POST /p/checkin/{id}",
        "POST /api/v1/sessions/{id}/checkins",
    ),
    ("POST /ps/schools/{id}/sessions", "POST /api/v1/sessions"),
    ("POST /sessions/{id}/edit", "PUT /api/v1/sessions/{id}"),
    (
        "POST /sessions/{id}/lesson-plan",
        "PUT /api/v1/sessions/{id}/lesson-plan",
    ),
    (
        "POST /sessions/{id}/summary",
        "PUT /api/v1/sessions/{id}/summary",
    ),
    (
        "POST /sessions/{id}/status",
        "POST /api/v1/sessions/{id}/status",
    ),
    (
        "POST /sessions/{id}/window",
        "PUT /api/v1/sessions/{id}/window",
    ),
    (
        "POST /org/{id}/children",
        "POST /api/v1/units/{id}/children",
    ),
    ("POST /org/{id}/move", "POST /api/v1/units/{id}/moves"),
    ("POST /people/invitations", "POST /api/v1/invitations"),
    ("POST /people/staff", "POST /api/v1/staff"),
    ("POST /login", "POST /api/v1/auth/login"),
    ("POST /logout", "DELETE /api/v1/auth/token"),
    ("POST /account/tokens", "POST /api/v1/tokens"),
    (
        "POST /account/tokens/{id}/revoke",
        "DELETE /api/v1/tokens/{id}",
    ),
];

/// Page writes whose API operation issue 14 has still to build. This list only
/// shrinks; the issue is not done while it holds anything.
const PENDING: &[&str] = &[
    "POST /p/sessions/{id}/reflection",
    "POST /p/notices/{round}/objection",
    "POST /ps/schools/{id}/activities",
    "POST /ps/schools/{id}/activities/{aid}",
    "POST /ps/schools/{id}/activities/{aid}/items",
    "POST /ps/schools/{id}/activities/{aid}/breakouts",
    "POST /ps/schools/{id}/activities/{aid}/items/{iid}/remove",
    "POST /ps/schools/{id}/activities/{aid}/duties",
    "POST /ps/schools/{id}/activities/{aid}/duties/{did}/remove",
    "POST /ps/schools/{id}/committees",
    "POST /ps/schools/{id}/committees/{cid}/members",
    "POST /ps/schools/{id}/committees/{cid}/delete",
    "POST /ps/schools/{id}/committees/members/{mid}/remove",
    "POST /ps/schools/{id}/curriculum/seed",
    "POST /ps/schools/{id}/curriculum/topics",
    "POST /ps/schools/{id}/curriculum/topics/{tid}",
    "POST /ps/schools/{id}/curriculum/topics/{tid}/move",
    "POST /ps/schools/{id}/curriculum/topics/{tid}/active",
    "POST /ps/schools/{id}/curriculum/courses",
    "POST /ps/schools/{id}/curriculum/courses/{cid}/delete",
    "POST /paper/{sheet}/marks",
    "POST /paper/{sheet}/resolve",
    "POST /paper/{sheet}/scan",
    "POST /sessions/{id}/remind",
    "POST /sessions/{id}/attachments",
    "POST /attachments/{id}/delete",
    "POST /ps/schools/{id}/settings",
    "POST /ps/schools/{id}/year-open",
    "POST /ps/schools/{id}/excellence",
    "POST /ps/excellence/{round}/review",
    "POST /ps/excellence/{round}/notice",
    "POST /ps/excellence/{round}/objections",
    "POST /ps/objections/{id}/resolve",
    "POST /ps/excellence/{round}/award",
    "POST /ps/excellence/{round}/seal",
    "POST /ps/schools/{id}/dossier",
    "POST /invite",
    "POST /import/preview",
    "POST /import/remap",
    "POST /import/commit",
    "POST /accounts",
    "POST /accounts/grants/{id}/revoke",
    "POST /accounts/users/{id}/grants",
    "POST /accounts/users/{id}/grants/{grant}/revoke",
    "POST /account/password",
];

/// The write routes of the page modules: `.route(PATH, …post(…)…)`, with the meeting
/// day's routes, which are built from `let a = "…";`, spelled out.
fn page_writes() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pages");
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut out = BTreeSet::new();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let base = src
            .lines()
            .find_map(|l| l.trim().strip_prefix("let a = \"")?.strip_suffix("\";"))
            .unwrap_or("")
            .to_owned();
        let mut rest = src.as_str();
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + ".route(".len()..];
            // The call's text up to its closing parenthesis.
            let (mut depth, mut end) = (1, 0);
            for (k, ch) in rest.char_indices() {
                match ch {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = k;
                    break;
                }
            }
            let call = &rest[..end];
            let first = call.trim_start();
            let path = if let Some(p) = first.strip_prefix('"') {
                p[..p.find('"').unwrap()].to_owned()
            } else if let Some(p) = first.strip_prefix("&format!(\"") {
                p[..p.find('"').unwrap()]
                    .replace("{a}", &base)
                    .replace("{{", "{")
                    .replace("}}", "}")
            } else if first.starts_with("a,") {
                base.clone()
            } else {
                panic!(
                    "{}: a route whose path this test cannot read: {first}",
                    f.display()
                );
            };
            for m in ["post(", "put(", "delete(", "patch("] {
                if call.contains(m) {
                    out.insert(format!("{} {path}", m.trim_end_matches('(').to_uppercase()));
                }
            }
        }
    }
    out
}

#[test]
fn every_page_write_has_its_api_operation() {
    let writes = page_writes();
    assert!(writes.len() > 40, "only {} page writes found", writes.len());
    let known: BTreeSet<String> = COUNTERPARTS
        .iter()
        .map(|(p, _)| p.to_string())
        .chain(PENDING.iter().map(|p| p.to_string()))
        .collect();
    let missing: Vec<&String> = writes.difference(&known).collect();
    assert!(
        missing.is_empty(),
        "page writes with no API operation and not in PENDING: {missing:?}"
    );
    let stale: Vec<&String> = known.difference(&writes).collect();
    assert!(
        stale.is_empty(),
        "entries for page writes that no longer exist: {stale:?}"
    );

    let doc = jiaxiao_web::api::ApiDoc::openapi();
    let has = |op: &str| {
        let (method, path) = op.split_once(' ').unwrap();
        doc.paths.paths.get(path).is_some_and(|item| match method {
            "GET" => item.get.is_some(),
            "POST" => item.post.is_some(),
            "PUT" => item.put.is_some(),
            "PATCH" => item.patch.is_some(),
            "DELETE" => item.delete.is_some(),
            _ => false,
        })
    };
    for (page, api) in COUNTERPARTS {
        assert!(has(api), "{page}: {api} is not in the OpenAPI document");
        assert!(!PENDING.contains(page), "{page} is both done and pending");
    }
    println!(
        "{} page writes: {} with their API operation, {} pending",
        writes.len(),
        COUNTERPARTS.len(),
        PENDING.len()
    );
}
