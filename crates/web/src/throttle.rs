//! Login throttling (decision 0010): a limit per client address on failed logins, and a
//! per-account back-off that slows guessing down without ever locking the owner out.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::app::AppState;

/// The numbers of the throttle. `Default` is what `serve` uses.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Failed logins one client address may have in hand (plus attempts in flight)
    /// before it is refused: a school behind one NAT address, at a parents' meeting,
    /// types passwords wrong now and then, not thirty times a minute.
    pub addr_failures: f64,
    /// How fast an address's failures are forgiven, per second (30 a minute).
    pub addr_forgive_per_sec: f64,
    /// Failures of one account that cost no waiting: enough for typos.
    pub free_failures: u32,
    /// The longest a login of a much-guessed account waits before its password is checked.
    pub max_delay: Duration,
    /// An account's failures are forgotten after this long without one.
    pub forget_after: Duration,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            addr_failures: 30.0,
            addr_forgive_per_sec: 0.5,
            free_failures: 10,
            max_delay: Duration::from_secs(10),
            forget_after: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Default)]
pub struct LoginThrottle {
    rules: Rules,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    addrs: HashMap<IpAddr, Bucket>,
    /// By SHA-256 of the normalised login name: no names or numbers in memory.
    accounts: HashMap<String, Backoff>,
    calls: u64,
}

struct Bucket {
    failures: f64,
    at: Instant,
    in_flight: u32,
}

struct Backoff {
    failures: u32,
    last: Instant,
}

/// A login that may go ahead after `delay`; end it with [`Attempt::finish`]. Dropped
/// unfinished (the client went away during the wait), it only leaves the address's
/// attempts in flight.
pub struct Attempt {
    throttle: Arc<LoginThrottle>,
    addr: Option<IpAddr>,
    account: String,
    finished: bool,
    pub delay: Duration,
}

impl Attempt {
    /// A failure counts against the address and the account; a success clears the
    /// account's back-off.
    pub fn finish(mut self, ok: bool, now: Instant) {
        self.finished = true;
        self.throttle.end(self.addr, &self.account, Some(ok), now);
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.finished {
            self.throttle
                .end(self.addr, &self.account, None, Instant::now());
        }
    }
}

/// The address a request came from: the peer of the connection, or, when the
/// configuration names the header a reverse proxy sets (`client_ip_header`), the last
/// address in that header. The address is used for throttling only and never logged.
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let from_header = state
            .settings
            .client_ip_header
            .as_deref()
            .and_then(|h| parts.headers.get(h))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddr(from_header.or(peer)))
    }
}

impl LoginThrottle {
    pub fn new(rules: Rules) -> LoginThrottle {
        LoginThrottle {
            rules,
            state: Mutex::default(),
        }
    }

    /// Starts a login attempt from `addr` against the account keyed `account`; `None`
    /// when the address has failed too often (answer 429). The account alone never
    /// refuses: past its free failures each attempt waits longer, doubling up to
    /// `max_delay`.
    pub fn begin(
        self: &Arc<Self>,
        addr: Option<IpAddr>,
        account: String,
        now: Instant,
    ) -> Option<Attempt> {
        let r = self.rules;
        let mut st = self.state.lock().ok()?;
        st.calls += 1;
        if st.calls.is_multiple_of(1024) {
            st.addrs
                .retain(|_, b| b.in_flight > 0 || forgiven(b, &r, now) >= 1.0);
            st.accounts
                .retain(|_, a| now.duration_since(a.last) < r.forget_after);
        }
        if let Some(ip) = addr {
            let b = st.addrs.entry(ip).or_insert(Bucket {
                failures: 0.0,
                at: now,
                in_flight: 0,
            });
            b.failures = forgiven(b, &r, now);
            b.at = now;
            // Attempts in flight count too: otherwise a thousand guesses sent at once
            // would all be checked before the first failure is counted.
            if b.failures + f64::from(b.in_flight) + 1.0 > r.addr_failures {
                return None;
            }
            b.in_flight += 1;
        }
        let failures = match st.accounts.get(&account) {
            Some(a) if now.duration_since(a.last) < r.forget_after => a.failures,
            _ => 0,
        };
        Some(Attempt {
            throttle: self.clone(),
            addr,
            account,
            finished: false,
            delay: delay_for(&r, failures),
        })
    }

    /// `ok`: `None` when the attempt was abandoned before its password was checked.
    fn end(&self, addr: Option<IpAddr>, account: &str, ok: Option<bool>, now: Instant) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        let r = self.rules;
        if let Some(b) = addr.and_then(|ip| st.addrs.get_mut(&ip)) {
            b.in_flight = b.in_flight.saturating_sub(1);
            if ok == Some(false) {
                b.failures = forgiven(b, &r, now) + 1.0;
                b.at = now;
            }
        }
        match ok {
            None => {}
            Some(true) => {
                st.accounts.remove(account);
            }
            Some(false) => {
                let a = st.accounts.entry(account.to_owned()).or_insert(Backoff {
                    failures: 0,
                    last: now,
                });
                if now.duration_since(a.last) >= r.forget_after {
                    a.failures = 0;
                }
                a.failures += 1;
                a.last = now;
            }
        }
    }
}

/// The key of the account a login names: the credential as the store will read it (a
/// normalised mobile number, a lower-cased username), hashed, so spelling a number
/// differently buys no tries and the throttle's memory holds no names or numbers.
pub fn login_key(login: &jiaxiao_store::accounts::Login<'_>) -> String {
    use jiaxiao_store::accounts::Login;
    let key = match login {
        Login::Parent { phone } => format!(
            "p:{}",
            jiaxiao_domain::PhoneNumber::parse(phone)
                .map(|p| p.to_string())
                .unwrap_or_else(|_| phone.trim().to_owned())
        ),
        Login::Staff { username } => format!("u:{}", username.trim().to_lowercase()),
    };
    jiaxiao_store::accounts::sha256_hex(&key)
}

/// An address's failures at `now`, after forgiving the time since they were counted.
fn forgiven(b: &Bucket, r: &Rules, now: Instant) -> f64 {
    (b.failures - now.duration_since(b.at).as_secs_f64() * r.addr_forgive_per_sec).max(0.0)
}

/// The wait before checking a password of an account with `failures` recent failures:
/// none for the free ones, then 1 s, 2 s, 4 s … up to `max_delay`.
fn delay_for(r: &Rules, failures: u32) -> Duration {
    if failures < r.free_failures {
        return Duration::ZERO;
    }
    let doublings = (failures - r.free_failures).min(16);
    Duration::from_secs(1u64 << doublings).min(r.max_delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn an_account_slows_down_but_never_refuses() {
        let t = Arc::new(LoginThrottle::default());
        let now = Instant::now();
        // Fifty failures from fifty addresses against one account.
        for i in 0..50u8 {
            let a = t.begin(ip(i), "acct".into(), now).expect("never refused");
            a.finish(false, now);
        }
        let a = t
            .begin(ip(200), "acct".into(), now)
            .expect("owner not locked out");
        assert_eq!(a.delay, Rules::default().max_delay);
        a.finish(true, now);
        // The right password clears the back-off.
        let a = t.begin(ip(200), "acct".into(), now).unwrap();
        assert_eq!(a.delay, Duration::ZERO);
    }

    #[test]
    fn delays_double_after_the_free_failures() {
        let r = Rules::default();
        assert_eq!(delay_for(&r, 0), Duration::ZERO);
        assert_eq!(delay_for(&r, 9), Duration::ZERO);
        assert_eq!(delay_for(&r, 10), Duration::from_secs(1));
        assert_eq!(delay_for(&r, 12), Duration::from_secs(4));
        assert_eq!(delay_for(&r, 14), r.max_delay);
        assert_eq!(delay_for(&r, u32::MAX), r.max_delay);
    }

    #[test]
    fn an_address_is_refused_after_its_failures_and_forgiven_in_time() {
        let t = Arc::new(LoginThrottle::default());
        let now = Instant::now();
        for i in 0..30 {
            let a = t
                .begin(ip(1), format!("name{i}"), now)
                .expect("within limit");
            a.finish(false, now);
        }
        assert!(t.begin(ip(1), "other".into(), now).is_none());
        // Another address is not affected.
        assert!(t.begin(ip(2), "other".into(), now).is_some());
        // Two seconds later one failure is forgiven.
        let later = now + Duration::from_secs(2);
        assert!(t.begin(ip(1), "other".into(), later).is_some());
    }

    #[test]
    fn attempts_in_flight_count_against_the_address() {
        let t = Arc::new(LoginThrottle::default());
        let now = Instant::now();
        let held: Vec<Attempt> = (0..30)
            .map(|i| t.begin(ip(1), format!("n{i}"), now).expect("within limit"))
            .collect();
        assert!(t.begin(ip(1), "n".into(), now).is_none());
        // Successes free their place and cost nothing.
        for a in held {
            a.finish(true, now);
        }
        // An abandoned attempt frees its place too.
        drop(t.begin(ip(1), "n".into(), now));
        assert!(t.begin(ip(1), "n".into(), now).is_some());
    }

    #[test]
    fn respelling_a_number_or_a_name_is_the_same_account() {
        use jiaxiao_store::accounts::Login;
        let keys: Vec<String> = [
            "13800000009",
            "138 0000 0009",
            "138-0000-0009",
            "+86 13800000009",
            "１３８００００００09",
        ]
        .iter()
        .map(|p| login_key(&Login::Parent { phone: p }))
        .collect();
        assert!(keys.iter().all(|k| *k == keys[0]));
        assert_eq!(
            login_key(&Login::Staff {
                username: " School_A "
            }),
            login_key(&Login::Staff {
                username: "school_a"
            })
        );
    }

    #[test]
    fn an_account_forgets_old_failures() {
        let t = Arc::new(LoginThrottle::default());
        let now = Instant::now();
        for _ in 0..12 {
            let a = t.begin(None, "acct".into(), now).unwrap();
            a.finish(false, now);
        }
        let later = now + Rules::default().forget_after;
        assert_eq!(
            t.begin(None, "acct".into(), later).unwrap().delay,
            Duration::ZERO
        );
    }
}
