//! The audit log as an inspector reads it (issue 10): who, when, which object (named,
//! linked), the action in words and a field-by-field before/after; filtered by person,
//! object type, action and date range, and exported to XLSX with the same filter.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, Response};
use axum::routing::get;
use jiaxiao_store::audit::{self, AuditFilter, AuditRow};
use serde::Deserialize;
use serde_json::Value;

use super::Chrome;
use crate::app::AppState;
use crate::auth::Staff;
use crate::error::AppError;
use crate::i18n::Lang;

/// Rows on one page of the log.
const PAGE: u64 = 50;
/// Rows in one export: a year of a busy county; narrow the filter for more.
const EXPORT_MAX: u64 = 20_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(list_audit))
        .route("/audit.xlsx", get(export_audit))
}

/// The filter as the page's GET form sends it: every field text, so a bad date is
/// named instead of failing the whole request.
#[derive(Deserialize, Default, Clone)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    entity: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    before: Option<i64>,
}

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter, AppError> {
        let day = |s: &str| -> Result<Option<chrono::NaiveDate>, AppError> {
            match s.trim() {
                "" => Ok(None),
                t => chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| AppError::Invalid("bad_date".into())),
            }
        };
        let text = |s: &str| Some(s.trim().to_owned()).filter(|t| !t.is_empty());
        Ok(AuditFilter {
            actor: match self.actor.trim() {
                "" => None,
                t => Some(t.parse().map_err(|_| AppError::Invalid("bad_id".into()))?),
            },
            entity: text(&self.entity),
            action: text(&self.action),
            from: day(&self.from)?,
            to: day(&self.to)?,
        })
    }

    /// The filter as a query string, for the next page and the export link.
    fn query_string(&self) -> String {
        [
            ("actor", &self.actor),
            ("entity", &self.entity),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", urlencoding::encode(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// One line of the log as shown and exported.
pub struct AuditLine {
    pub at: String,
    pub when: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub unit: String,
    pub entity: String,
    pub object: String,
    pub link: Option<String>,
    pub action: String,
    pub changes: Vec<FieldChange>,
}

/// One field of an object before and after a write; empty text for "not there".
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// The fields that differ between two JSON summaries, in the order they appear (the
/// before's keys first, then keys only the after has). A summary that is not an object
/// is one field named `value`.
pub fn diff(before: Option<&Value>, after: Option<&Value>) -> Vec<(String, String, String)> {
    fn fields(v: Option<&Value>) -> Vec<(String, &Value)> {
        match v {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
            Some(other) => vec![("value".into(), other)],
        }
    }
    fn text(v: Option<&Value>) -> String {
        match v {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }
    }
    let b = fields(before);
    let a = fields(after);
    let mut out = Vec::new();
    for (k, bv) in &b {
        let av = a.iter().find(|(ak, _)| ak == k).map(|(_, v)| *v);
        if av != Some(*bv) {
            out.push((k.clone(), text(Some(bv)), text(av)));
        }
    }
    for (k, av) in &a {
        if !b.iter().any(|(bk, _)| bk == k) {
            out.push((k.clone(), String::new(), text(Some(av))));
        }
    }
    out
}

/// The page an audited object lives on, when it has one.
fn link_of(entity: &str, id: Option<&str>, unit: Option<i64>) -> Option<String> {
    let id = id.filter(|i| i.parse::<i64>().is_ok());
    Some(match (entity, id, unit) {
        ("org_unit", Some(i), _) => format!("/org/{i}"),
        ("teaching_session" | "checkin", Some(i), _) => format!("/sessions/{i}"),
        ("paper_sheet", Some(i), _) => format!("/paper/{i}"),
        ("activity", Some(i), Some(u)) => format!("/ps/schools/{u}/activities/{i}"),
        ("committee" | "committee_member", _, Some(u)) => format!("/ps/schools/{u}/committees"),
        ("topic" | "course", _, Some(u)) => format!("/ps/schools/{u}/curriculum"),
        ("excellence_round" | "excellence_objection", _, Some(u)) => {
            format!("/ps/schools/{u}/trainees")
        }
        ("parent_school_settings", _, Some(u)) => format!("/ps/schools/{u}/trainees"),
        ("import_job", Some(i), _) => format!("/import/jobs/{i}"),
        // Both are filed under the account's id: its page lists its grants.
        ("user_account" | "role_grant", Some(i), _) => format!("/accounts/users/{i}"),
        ("user_account" | "role_grant", None, _) => "/accounts".into(),
        _ => return None,
    })
}

/// A readable name of the object from its summaries (their title or name), else its id.
fn object_name(r: &AuditRow, before: Option<&Value>, after: Option<&Value>) -> String {
    for v in [after, before].into_iter().flatten() {
        for k in ["title", "name", "theme", "display_name", "username"] {
            if let Some(Value::String(s)) = v.get(k)
                && !s.is_empty()
            {
                return s.clone();
            }
        }
    }
    r.entity_id
        .as_deref()
        .map(|i| format!("#{i}"))
        .unwrap_or_default()
}

fn line(lang: Lang, r: AuditRow) -> AuditLine {
    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let parse = |s: &Option<String>| s.as_deref().and_then(|t| serde_json::from_str(t).ok());
    let before: Option<Value> = parse(&r.before_json);
    let after: Option<Value> = parse(&r.after_json);
    let word = |area: &str, code: &str| {
        lang.t_first(&[format!("audit.{area}.{code}")])
            .unwrap_or_else(|| code.to_owned())
    };
    let changes = diff(before.as_ref(), after.as_ref())
        .into_iter()
        .map(|(field, before, after)| FieldChange {
            field: lang
                .t_first(&[format!("audit.fields.{field}")])
                .unwrap_or(field),
            before,
            after,
        })
        .collect();
    AuditLine {
        when: r.at,
        at: r
            .at
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        actor: r.actor.clone().unwrap_or_else(|| lang.t("audit.system")),
        unit: r.unit_name.clone().unwrap_or_default(),
        entity: word("entities", &r.entity),
        object: object_name(&r, before.as_ref(), after.as_ref()),
        link: link_of(&r.entity, r.entity_id.as_deref(), r.unit_id),
        action: word("actions", &r.action),
        changes,
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    q: AuditQuery,
    total: i64,
    lines: Vec<AuditLine>,
    actors: Vec<(String, String)>,
    entities: Vec<(String, String)>,
    actions: Vec<(String, String)>,
    next: Option<String>,
    export: String,
    message: Option<String>,
}

async fn list_audit(
    State(state): State<AppState>,
    s: Staff,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    use axum::response::IntoResponse;
    let scope = &s.user.scope;
    if !scope.can_manage() {
        return Err(AppError::NotFound);
    }
    let lang = s.lang;
    let facets = audit::facets(&state.db, scope).await?;
    // A filter that does not parse shows the page again with the message, the input kept.
    let (filter, message) = match q.filter() {
        Ok(f) => (Some(f), None),
        Err(AppError::Invalid(code)) => (None, Some(lang.reason(&code))),
        Err(e) => return Err(e),
    };
    let (total, rows) = match &filter {
        Some(f) => (
            audit::count(&state.db, scope, f).await?,
            audit::list(&state.db, scope, f, q.before, PAGE).await?,
        ),
        None => (0, Vec::new()),
    };
    let qs = q.query_string();
    let next = (rows.len() as u64 == PAGE)
        .then(|| {
            rows.last().map(|r| {
                let sep = if qs.is_empty() { "" } else { "&" };
                format!("/audit?{qs}{sep}before={}", r.id)
            })
        })
        .flatten();
    let word = |area: &str, code: &String| {
        (
            code.clone(),
            lang.t_first(&[format!("audit.{area}.{code}")])
                .unwrap_or_else(|| code.clone()),
        )
    };
    let page = AuditPage {
        c: Chrome::new(lang, Some(&s.user)),
        total,
        lines: rows.into_iter().map(|r| line(lang, r)).collect(),
        actors: facets
            .actors
            .into_iter()
            .map(|(id, n)| (id.to_string(), n))
            .collect(),
        entities: facets
            .entities
            .iter()
            .map(|e| word("entities", e))
            .collect(),
        actions: facets.actions.iter().map(|a| word("actions", a)).collect(),
        next,
        export: if qs.is_empty() {
            "/audit.xlsx".into()
        } else {
            format!("/audit.xlsx?{qs}")
        },
        message: message.clone(),
        q,
    }
    .render()?;
    let status = if message.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, Html(page)).into_response())
}

async fn export_audit(
    State(state): State<AppState>,
    s: Staff,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let scope = &s.user.scope;
    if !scope.can_manage() {
        return Err(AppError::NotFound);
    }
    let lang = s.lang;
    let filter = q.filter()?;
    let rows = audit::list(&state.db, scope, &filter, None, EXPORT_MAX).await?;
    let t = |k: &str| lang.t(&format!("audit.{k}"));
    let lines: Vec<Vec<jiaxiao_export::Cell>> = rows
        .into_iter()
        .map(|r| {
            let l = line(lang, r);
            let changes = l
                .changes
                .iter()
                .map(|c| format!("{}: {} → {}", c.field, c.before, c.after))
                .collect::<Vec<_>>()
                .join("\n");
            vec![
                crate::ledger::time_cell(l.when),
                l.actor.into(),
                l.unit.into(),
                l.entity.into(),
                l.object.into(),
                l.action.into(),
                changes.into(),
            ]
        })
        .collect();
    let bytes = jiaxiao_export::xlsx(&[jiaxiao_export::Sheet {
        name: &t("title"),
        title: &t("title"),
        headers: [
            "at", "actor", "unit", "entity", "object", "action", "change",
        ]
        .iter()
        .map(|k| t(k))
        .collect(),
        rows: lines,
    }])
    .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(super::parent_school::home::xlsx_response(
        bytes,
        "audit.xlsx",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_names_each_changed_field() {
        let b = json!({"title": "旧", "place": "礼堂", "n": 1});
        let a = json!({"title": "新", "place": "礼堂", "n": 2, "url": "https://x"});
        assert_eq!(
            diff(Some(&b), Some(&a)),
            vec![
                ("n".into(), "1".into(), "2".into()),
                ("title".into(), "旧".into(), "新".into()),
                ("url".into(), String::new(), "https://x".into()),
            ]
        );
        // A creation has no before; a deletion no after.
        assert_eq!(
            diff(None, Some(&json!({"name": "甲"}))),
            vec![("name".into(), String::new(), "甲".into())]
        );
        assert_eq!(
            diff(Some(&json!("x")), None),
            vec![("value".into(), "x".into(), String::new())]
        );
        assert!(diff(Some(&a), Some(&a)).is_empty());
    }

    #[test]
    fn objects_link_to_their_page() {
        assert_eq!(
            link_of("teaching_session", Some("7"), Some(3)).as_deref(),
            Some("/sessions/7")
        );
        assert_eq!(
            link_of("activity", Some("9"), Some(3)).as_deref(),
            Some("/ps/schools/3/activities/9")
        );
        assert_eq!(link_of("demo", Some("1"), None), None);
        // An id that is not a number never reaches a link.
        assert_eq!(link_of("org_unit", Some("../x"), None), None);
    }
}
