//! The HTTP face of jiaxiao: server-rendered pages for each audience (askama + htmx),
//! the JSON API v1, authentication extractors, and operations endpoints. Handlers are
//! thin: they turn requests into store calls with the caller's `Scope`.

rust_i18n::i18n!("locales", fallback = "zh-CN");

pub mod api;
pub mod app;
pub mod auth;
pub mod charts;
pub mod dossier;
pub mod error;
pub mod i18n;
pub mod jobs;
pub mod ledger;
pub mod pages;
pub mod sms;
pub mod throttle;
pub mod webhooks;

pub use app::{AppState, Settings, router};
