//! Webhooks (issue 14): which events a program may subscribe to, which URLs it may give,
//! how a delivery is signed and when a failed one is tried again. Pure rules; the store
//! keeps the outbox and the web crate sends.

use std::net::IpAddr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::{Host, Url};

/// The events a webhook can ask for. `ping` is sent once when a webhook is made.
pub const EVENTS: &[&str] = &[CHECKIN_RECORDED, PING];
pub const CHECKIN_RECORDED: &str = "checkin.recorded";
pub const PING: &str = "ping";

/// Tries of one delivery before it is given up (the log keeps it as failed).
pub const MAX_ATTEMPTS: i32 = 8;

/// The longest URL kept.
pub const MAX_URL: usize = 2_000;

/// Why a URL cannot be a webhook's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlError {
    /// Not an absolute http(s) URL, or with a user name or password in it.
    Invalid,
    /// Loopback, private, link-local or otherwise not on the public internet; allowed
    /// only when the operator says so (`webhook_private_ok`).
    Private,
}

impl UrlError {
    pub fn code(self) -> &'static str {
        match self {
            UrlError::Invalid => "webhook_url",
            UrlError::Private => "webhook_url_private",
        }
    }
}

/// A URL a webhook may be sent to. A host name is checked again, resolved, before each
/// delivery (`address_allowed`): a name can point anywhere.
pub fn check_url(raw: &str, private_ok: bool) -> Result<Url, UrlError> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_URL {
        return Err(UrlError::Invalid);
    }
    let url = Url::parse(raw).map_err(|_| UrlError::Invalid)?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(UrlError::Invalid);
    }
    let public = match url.host() {
        None => return Err(UrlError::Invalid),
        Some(Host::Ipv4(a)) => address_allowed(IpAddr::V4(a), false),
        Some(Host::Ipv6(a)) => address_allowed(IpAddr::V6(a), false),
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d.contains('.')
                && d != "localhost"
                && !d.ends_with(".localhost")
                && !d.ends_with(".local")
        }
    };
    if public || private_ok {
        Ok(url)
    } else {
        Err(UrlError::Private)
    }
}

/// Whether a delivery may connect to `ip`: a public address, or any when the operator
/// allows private ones.
pub fn address_allowed(ip: IpAddr, private_ok: bool) -> bool {
    if private_ok {
        return true;
    }
    match ip {
        IpAddr::V4(a) => {
            let [o0, o1, ..] = a.octets();
            !(a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_documentation()
                || a.is_multicast()
                // Carrier-grade NAT (100.64/10) and "this network" (0/8).
                || (o0 == 100 && (64..128).contains(&o1))
                || o0 == 0)
        }
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return address_allowed(IpAddr::V4(v4), false);
            }
            let s0 = a.segments()[0];
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                // Unique local (fc00::/7) and link-local (fe80::/10).
                || (s0 & 0xfe00) == 0xfc00
                || (s0 & 0xffc0) == 0xfe80)
        }
    }
}

/// The signature header's value for a body sent at `timestamp` (Unix seconds):
/// `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>" with the webhook's secret>`.
/// The receiver recomputes it and refuses an old timestamp, so a captured delivery
/// cannot be replayed later.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// How long after failed attempt `attempt` (1-based) the next one is made: 10 s, 30 s,
/// 1.5 min, … tripling, at most an hour.
pub fn backoff(attempt: i32) -> Duration {
    let secs = 10u64.saturating_mul(3u64.saturating_pow(attempt.max(1) as u32 - 1));
    Duration::from_secs(secs.min(3_600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_http_urls_unless_the_operator_allows_private_ones() {
        assert!(check_url("https://hooks.example.com/jiaxiao?k=1", false).is_ok());
        assert!(check_url("http://203.0.114.10:8080/x", false).is_ok());
        for bad in [
            "",
            "ftp://example.com/x",
            "https://user:pw@example.com/x",
            "example.com/x",
            "javascript:alert(1)",
            "https://",
        ] {
            assert_eq!(check_url(bad, true).err(), Some(UrlError::Invalid), "{bad}");
        }
        for private in [
            "http://127.0.0.1:9000/x",
            "http://localhost/x",
            "http://api.localhost/x",
            "http://10.1.2.3/x",
            "http://192.168.1.10/x",
            "http://172.16.0.1/x",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/x",
            "http://[::1]/x",
            "http://[fd00::1]/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://0.0.0.0/x",
            "http://intranet/x",
        ] {
            assert_eq!(
                check_url(private, false).err(),
                Some(UrlError::Private),
                "{private}"
            );
            assert!(
                check_url(private, true).is_ok(),
                "{private} allowed by the operator"
            );
        }
        assert_eq!(
            check_url(
                &format!("https://example.com/{}", "a".repeat(MAX_URL)),
                true
            )
            .err(),
            Some(UrlError::Invalid)
        );
    }

    #[test]
    fn signatures_cover_the_time_and_the_body() {
        let s = signature("secret", 1_700_000_000, b"{\"a\":1}");
        assert!(s.starts_with("t=1700000000,v1="));
        assert_eq!(s.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(s, signature("secret", 1_700_000_001, b"{\"a\":1}"));
        assert_ne!(s, signature("secret", 1_700_000_000, b"{\"a\":2}"));
        assert_ne!(s, signature("other", 1_700_000_000, b"{\"a\":1}"));
        // What a receiver computes (Python: hmac.new(b"secret", b"1700000000.{\"a\":1}", sha256)).
        assert_eq!(
            s,
            "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(10));
        assert_eq!(backoff(2), Duration::from_secs(30));
        assert_eq!(backoff(3), Duration::from_secs(90));
        assert_eq!(backoff(7), Duration::from_secs(3_600));
        assert_eq!(backoff(100), Duration::from_secs(3_600));
    }
}
