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

/// What every page's header needs.
pub struct Chrome {
    pub lang: Lang,
    pub name: Option<String>,
    pub csrf: String,
    pub staff: bool,
    pub manage: bool,
    /// The success message of the write that led here, shown once (`form::done`).
    pub flash: Option<String>,
}

impl Chrome {
    pub fn new(lang: Lang, user: Option<&LoggedIn>) -> Chrome {
        Chrome {
            lang,
            name: user.map(|u| u.principal.display_name.clone()),
            csrf: user.map(|u| u.csrf.clone()).unwrap_or_default(),
            staff: user.is_some_and(|u| u.scope.is_staff()),
            manage: user.is_some_and(|u| u.scope.can_manage()),
            flash: user
                .and_then(|u| u.flash.as_deref())
                .and_then(|k| form::flash_text(lang, k)),
        }
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
