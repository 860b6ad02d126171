//! What an API token may do (issue 14): the scopes a token names, and the one table that
//! says which scope each API operation needs. A token's scopes narrow what its user's
//! roles allow; they never widen it.

use crate::org::coded_enum;
use serde::{Deserialize, Serialize};

coded_enum!(
    /// A part of the API a token may use.
    ApiScope {
        // Every `GET`: the tree, people, the parent school's records and figures.
        Read => "read",
        // Check-ins: a parent's own, staff marks and paper ticks (a gate device's token).
        Checkin => "checkin",
        // The parent school's writes: sessions, records, committees, curriculum,
        // excellent trainees, meeting days, exports.
        ParentSchool => "parent_school",
        // The organisation and people: units, staff, pupils, guardians, rosters,
        // invitation codes.
        People => "people",
        // Tokens and webhooks.
        Admin => "admin",
    }
);

/// The scope an operation needs, from its method and its route pattern as the router
/// names it (`/api/v1/sessions/{id}/checkins`). One table for every operation, so a new
/// write cannot be forgotten: anything not named here needs `admin`, the narrowest grant.
/// `None`: any live token may call it (revoking the token itself, asking who it is).
pub fn required_scope(method: &str, route: &str) -> Option<ApiScope> {
    let Some(rest) = route.strip_prefix("/api/v1/") else {
        return Some(ApiScope::Admin);
    };
    if matches!((method, rest), ("DELETE", "auth/token") | ("GET", "me")) {
        return None;
    }
    let first = rest.split('/').next().unwrap_or("");
    if first == "tokens" || first == "webhooks" {
        return Some(ApiScope::Admin);
    }
    if method == "GET" || method == "HEAD" {
        return Some(ApiScope::Read);
    }
    let checkin = rest.ends_with("/checkins")
        || rest.ends_with("/marks")
        || (first == "paper-sheets" && rest.ends_with("/ticks"));
    if checkin {
        return Some(ApiScope::Checkin);
    }
    match first {
        "sessions" | "schools" | "attachments" | "committees" | "topics" | "courses"
        | "excellence" | "objections" | "activities" | "paper-sheets" | "jobs" => {
            Some(ApiScope::ParentSchool)
        }
        "units" | "staff" | "pupils" | "guardians" | "imports" | "invitations" => {
            Some(ApiScope::People)
        }
        _ => Some(ApiScope::Admin),
    }
}

/// Parses a token's stored scopes (`"read checkin"`); unknown words are dropped, so a
/// scope removed in a later version grants nothing.
pub fn parse_scopes(s: &str) -> Vec<ApiScope> {
    let mut v: Vec<ApiScope> = s
        .split_whitespace()
        .filter_map(ApiScope::from_code)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The stored form of a set of scopes.
pub fn format_scopes(scopes: &[ApiScope]) -> String {
    let mut v = scopes.to_vec();
    v.sort_unstable();
    v.dedup();
    v.iter().map(|s| s.code()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_writes_and_the_default() {
        use ApiScope::*;
        let r = required_scope;
        assert_eq!(r("GET", "/api/v1/pupils"), Some(Read));
        assert_eq!(r("GET", "/api/v1/sessions/{id}"), Some(Read));
        assert_eq!(r("POST", "/api/v1/sessions/{id}/checkins"), Some(Checkin));
        assert_eq!(r("POST", "/api/v1/sessions/{id}/marks"), Some(Checkin));
        assert_eq!(r("POST", "/api/v1/sessions"), Some(ParentSchool));
        assert_eq!(r("PUT", "/api/v1/sessions/{id}"), Some(ParentSchool));
        assert_eq!(r("POST", "/api/v1/units/{id}/children"), Some(People));
        // Tokens are admin even to read: a read-only token cannot list its siblings.
        assert_eq!(r("GET", "/api/v1/tokens"), Some(Admin));
        assert_eq!(r("POST", "/api/v1/something-new"), Some(Admin));
        assert_eq!(r("DELETE", "/api/v1/auth/token"), None);
        assert_eq!(r("GET", "/api/v1/me"), None);
    }

    #[test]
    fn scopes_round_trip_and_drop_unknown_words() {
        let s = parse_scopes("checkin read  teleport read");
        assert_eq!(s, vec![ApiScope::Read, ApiScope::Checkin]);
        assert_eq!(format_scopes(&s), "read checkin");
    }
}
