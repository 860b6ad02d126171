//! Server-rendered pages, by audience: `public` (login, invitation), `parent` (/p),
//! `staff` (tree, people, roster import, accounts, audit — shared by school and office
//! staff, each cut to their scope).

pub mod parent;
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
        .merge(roster::routes())
}

/// Static files, embedded in the binary.
pub async fn assets(Path(path): Path<String>) -> Response {
    match Assets::get(&path) {
        Some(f) => {
            let mime = if path.ends_with(".css") {
                "text/css; charset=utf-8"
            } else if path.ends_with(".js") {
                "text/javascript; charset=utf-8"
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

/// What every page's header needs.
pub struct Chrome {
    pub lang: Lang,
    pub name: Option<String>,
    pub csrf: String,
    pub staff: bool,
    pub manage: bool,
}

impl Chrome {
    pub fn new(lang: Lang, user: Option<&LoggedIn>) -> Chrome {
        Chrome {
            lang,
            name: user.map(|u| u.principal.display_name.clone()),
            csrf: user.map(|u| u.csrf.clone()).unwrap_or_default(),
            staff: user.is_some_and(|u| u.scope.is_staff()),
            manage: user.is_some_and(|u| u.scope.can_manage()),
        }
    }
}
