//! Pure rules and types of jiaxiao: the vocabulary of DOMAIN.md as Rust types and the
//! rules that need no IO (phone numbers, roster parsing, name search keys).
//! Nothing here touches a database, the network, or async.

pub mod api;
pub mod checkin_code;
pub mod jobs;
pub mod names;
pub mod org;
pub mod parent_school;
pub mod phone;
pub mod roster;
pub mod text;
pub mod webhook;
pub mod xlsx;

pub use org::{Gender, Relation, Role, SchoolType, UnitKind};
pub use phone::PhoneNumber;
