//! Server-rendered pages, by audience: `public` (login, invitation), `parent` (/p),
//! `staff` (tree, people, roster import, accounts, audit — shared by school and office
//! staff, each cut to their scope), `checkin` (projector, live board, roster marking,
//! and the parent's check-in page).

pub mod audit;
pub mod checkin;
pub mod form;
pub mod list;
pub mod parent;
pub mod parent_school;
pub mod public;
pub mod roster;
pub mod staff;

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::auth::LoggedIn;
use crate::i18n::Lang;

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(public::routes())
        .merge(parent::routes())
        .merge(staff::routes())
        .merge(audit::routes())
        .merge(roster::routes())
        .merge(checkin::routes())
        .merge(parent_school::routes())
        .layer(axum::middleware::from_fn(form::clear_flash))
}

/// Static files, embedded in the binary.
pub async fn assets(Path(path): Path<String>) -> Response {
    match Assets::get(&path) {
        Some(f) => {
            let mime = if path.ends_with(".css") {
                "text/css; charset=utf-8"
            } else if path.ends_with(".js") {
                "text/javascript; charset=utf-8"
            } else if path.ends_with(".svg") {
                "image/svg+xml"
            } else {
                "application/octet-stream"
            };
            (
                [
                    (header::CONTENT_TYPE, mime),
                    (header::CACHE_CONTROL, "public, max-age=3600"),
                ],
                f.data,
            )
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The units of the given kinds that the caller manages (their managed roots and
/// everything of those kinds below them), for the pickers of forms that change things.
pub async fn managed_units(
    state: &AppState,
    scope: &jiaxiao_store::Scope,
    kinds: &[jiaxiao_domain::UnitKind],
) -> Result<Vec<jiaxiao_store::org::UnitRow>, crate::error::AppError> {
    let today = jiaxiao_store::today();
    let mut out: Vec<jiaxiao_store::org::UnitRow> = Vec::new();
    for root in scope.manage_roots() {
        let unit = jiaxiao_store::org::get_unit(&state.db, scope, root).await?;
        let root_kind = jiaxiao_domain::UnitKind::from_code(&unit.kind);
        if root_kind.is_some_and(|k| kinds.contains(&k)) {
            out.push(unit);
        }
        for k in kinds {
            if Some(*k) != root_kind {
                out.extend(
                    jiaxiao_store::org::units_under(&state.db, scope, root, *k, &today).await?,
                );
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|u| seen.insert(u.id));
    Ok(out)
}

/// The parts of the staff pages the header's navigation bar names. Which one a page
/// is in follows from its path alone (`Section::of_path`), so no handler says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    ParentSchool,
    Tree,
    People,
    Import,
    Accounts,
    Audit,
}

impl Section {
    /// The section of a request path: its first segment. A session, its check-ins, its
    /// paper sheets and attachments belong to the parent school; one's own account
    /// (`/account/…`) to none.
    pub fn of_path(path: &str) -> Option<Section> {
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        let first = first.split(['.', '?']).next().unwrap_or("");
        Some(match first {
            "ps" | "sessions" | "paper" | "attachments" => Section::ParentSchool,
            "org" => Section::Tree,
            "people" => Section::People,
            "import" => Section::Import,
            "accounts" => Section::Accounts,
            "audit" => Section::Audit,
            _ => return None,
        })
    }

    pub fn href(self) -> &'static str {
        match self {
            Section::ParentSchool => "/ps",
            Section::Tree => "/org",
            Section::People => "/people",
            Section::Import => "/import",
            Section::Accounts => "/accounts",
            Section::Audit => "/audit",
        }
    }

    /// The key of its name in the locale files (`nav.*`).
    pub fn label_key(self) -> &'static str {
        match self {
            Section::ParentSchool => "nav.parent_school",
            Section::Tree => "nav.tree",
            Section::People => "nav.people",
            Section::Import => "nav.import",
            Section::Accounts => "nav.accounts",
            Section::Audit => "nav.audit",
        }
    }
}

/// An entry of the header's unit switcher: a unit the user holds a staff role at and
/// the page that unit's work starts from.
pub struct UnitLink {
    pub name: String,
    pub kind: &'static str,
    pub href: String,
    /// The page on view is this unit's own page.
    pub current: bool,
}

/// What every page's header needs.
pub struct Chrome {
    pub lang: Lang,
    pub name: Option<String>,
    pub csrf: String,
    pub staff: bool,
    pub manage: bool,
    /// The success message of the write that led here, shown once (`form::done`).
    pub flash: Option<String>,
    /// The section of the staff pages this page lies in, marked in the navigation bar.
    pub section: Option<Section>,
    /// The page is its section's own first page (the bread crumb is then not a link).
    pub section_root: bool,
    /// The units the user works at, for the switcher (staff only).
    pub units: Vec<UnitLink>,
}

impl Chrome {
    pub fn new(lang: Lang, user: Option<&LoggedIn>) -> Chrome {
        let staff = user.is_some_and(|u| u.scope.is_staff());
        let path = user.map(|u| u.path.as_str()).unwrap_or("");
        let section = if staff { Section::of_path(path) } else { None };
        Chrome {
            lang,
            name: user.map(|u| u.principal.display_name.clone()),
            csrf: user.map(|u| u.csrf.clone()).unwrap_or_default(),
            staff,
            manage: user.is_some_and(|u| u.scope.can_manage()),
            flash: user
                .and_then(|u| u.flash.as_deref())
                .and_then(|k| form::flash_text(lang, k)),
            section,
            // The tree's first page shows a unit, which its crumbs name as the page.
            section_root: section
                .is_some_and(|s| s != Section::Tree && s.href() == path.trim_end_matches('/')),
            units: match user {
                Some(u) if staff => unit_links(&u.units, path),
                _ => Vec::new(),
            },
        }
    }

    /// The section's name, for the first bread crumb.
    pub fn section_label(&self) -> String {
        self.section
            .map(|s| self.lang.t(s.label_key()))
            .unwrap_or_default()
    }

    /// Whether the page lies in the section whose first page is `href` (the nav bar's mark).
    pub fn at(&self, href: &str) -> bool {
        self.section.is_some_and(|s| s.href() == href)
    }

    /// The unit the page on view belongs to, when it is one of the switcher's.
    pub fn current_unit(&self) -> Option<&UnitLink> {
        self.units.iter().find(|u| u.current)
    }
}

/// Where each unit's work starts: a school's parent-school home, an office's overview;
/// a grade or class goes through `/ps?unit=`, which finds its school.
fn unit_links(units: &[jiaxiao_store::accounts::GrantedUnit], path: &str) -> Vec<UnitLink> {
    use jiaxiao_domain::UnitKind;
    units
        .iter()
        .map(|u| {
            let href = match u.kind {
                UnitKind::School => format!("/ps/schools/{}", u.id),
                UnitKind::Grade | UnitKind::Class => format!("/ps?unit={}", u.id),
                _ => format!("/ps/units/{}", u.id),
            };
            // The unit's own page and the pages under it (a school's tabs).
            let current = path == href || path.starts_with(&format!("{href}/"));
            UnitLink {
                name: u.name.clone(),
                kind: u.kind.code(),
                href,
                current,
            }
        })
        .collect()
}

/// The badge colour of a status code (app.css `.badge-*`), one table for every status
/// the staff pages show: sessions, excellent-trainee rounds and nominees, check-ins,
/// objections. Green is done, amber waits on someone, grey is out of play, red refused.
pub fn badge_class(code: &str) -> &'static str {
    match code {
        "held" | "awarded" | "approved" | "present" | "done" => "badge-ok",
        "planned" | "reviewed" => "badge-info",
        "late" | "notice" | "computed" | "pending" | "queued" | "running" => "badge-warn",
        "cancelled" | "excused" | "dismissed" => "badge-muted",
        "absent" | "rejected" | "upheld" | "failed" => "badge-danger",
        _ => "badge-muted",
    }
}

/// `?as_of=YYYY-MM-DD`: the date a page reads the organisation tree on, today when not
/// given. A move on file for a later date is not in force before it (issue 10); a date
/// that does not parse, or lies outside 2000–2100, is refused rather than read as today.
#[derive(serde::Deserialize, Default)]
pub struct AsOfQuery {
    #[serde(default)]
    pub as_of: String,
}

impl AsOfQuery {
    pub fn date(&self) -> Result<chrono::NaiveDate, crate::error::AppError> {
        use chrono::Datelike;
        if self.as_of.trim().is_empty() {
            return Ok(jiaxiao_store::org::today_naive());
        }
        jiaxiao_store::org::parse_day(&self.as_of)
            .ok()
            .filter(|d| jiaxiao_domain::text::plausible_year(d.year()))
            .ok_or_else(|| crate::error::AppError::Invalid("bad_date".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::Section;

    #[test]
    fn a_path_names_its_section() {
        assert_eq!(
            Section::of_path("/ps/schools/3/ledger"),
            Some(Section::ParentSchool)
        );
        assert_eq!(
            Section::of_path("/sessions/9/checkins"),
            Some(Section::ParentSchool)
        );
        assert_eq!(Section::of_path("/org"), Some(Section::Tree));
        assert_eq!(Section::of_path("/people/pupils/1"), Some(Section::People));
        assert_eq!(Section::of_path("/audit.xlsx"), Some(Section::Audit));
        assert_eq!(
            Section::of_path("/accounts/users/2"),
            Some(Section::Accounts)
        );
        // One's own account is no section; nor is a prefix of a section's name.
        assert_eq!(Section::of_path("/account/password"), None);
        assert_eq!(Section::of_path("/organisation"), None);
    }
}
