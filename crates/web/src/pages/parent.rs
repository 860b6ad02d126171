//! Parent pages (phones first): my children.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use jiaxiao_store::people::{self, ChildLink};

use super::Chrome;
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::AppError;

pub fn routes() -> Router<AppState> {
    Router::new().route("/p", get(home))
}

#[derive(Template)]
#[template(path = "parent_home.html")]
struct Home {
    c: Chrome,
    children: Vec<ChildLink>,
}

async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, AppError> {
    let user = ctx.user.ok_or(AppError::Unauthorised)?;
    let gid = user.scope.guardian_id().ok_or(AppError::NotFound)?;
    let children = match people::children_of(&state.db, &user.scope, gid).await {
        Ok(c) => c,
        Err(jiaxiao_store::StoreError::NotFound) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    Ok(Html(
        Home {
            c: Chrome::new(ctx.lang, Some(&user)),
            children,
        }
        .render()?,
    ))
}
