//! Sends webhook deliveries (issue 14): `serve` runs `run` beside the requests; each round
//! pumps new check-ins into the outbox, claims what is due, posts it signed, and records
//! the answers. Redirects are not followed and a host name is resolved and checked before
//! each send, so a webhook cannot be pointed at the server's own network.

use std::time::Duration;

use jiaxiao_domain::webhook::{address_allowed, signature};
use jiaxiao_store::Db;
use jiaxiao_store::webhooks::{self, Due, Outcome};
use tokio::sync::watch;

/// Deliveries sent at once by one process.
const CONCURRENT: usize = 32;
/// A receiver has this long to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed delivery is this process's: twice the send timeout.
const LEASE: chrono::Duration = chrono::Duration::seconds(20);

/// The client deliveries are sent with: no redirects, a timeout, our name.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .user_agent(concat!("jiaxiao-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("an HTTP client")
}

/// One round: pump, claim, send, record. Returns how many deliveries were sent.
pub async fn deliver_once(
    db: &Db,
    client: &reqwest::Client,
    private_ok: bool,
    settle: chrono::Duration,
) -> jiaxiao_store::StoreResult<usize> {
    webhooks::pump_checkins(db, settle, 5_000).await?;
    // One wave at a time: every claimed delivery is sent at once, so the round ends
    // within the send timeout and the lease can be short — what a killed process had
    // claimed goes out again LEASE after, not minutes later (bench/webhook_burst.sh).
    let due = webhooks::claim_due(db, CONCURRENT as u64, LEASE).await?;
    let n = due.len();
    let mut results = Vec::with_capacity(n);
    let mut running = tokio::task::JoinSet::new();
    for d in due {
        let client = client.clone();
        running.spawn(async move {
            let outcome = send(&client, &d, private_ok).await;
            (d, outcome)
        });
    }
    while let Some(r) = running.join_next().await {
        if let Ok(r) = r {
            results.push(r);
        }
    }
    webhooks::finish(db, &results).await?;
    Ok(n)
}

async fn send(client: &reqwest::Client, d: &Due, private_ok: bool) -> Outcome {
    let failed = |error: &str| Outcome::Failed {
        status: None,
        error: error.to_owned(),
    };
    let Ok(url) = reqwest::Url::parse(&d.url) else {
        return failed("bad_url");
    };
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return failed("bad_url");
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match tokio::net::lookup_host((host, port)).await {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            if addrs.is_empty() {
                return failed("dns");
            }
            if addrs.iter().any(|a| !address_allowed(a.ip(), private_ok)) {
                return failed("private_address");
            }
        }
        Err(_) => return failed("dns"),
    }
    let payload: serde_json::Value = serde_json::from_str(&d.payload).unwrap_or_default();
    let body = serde_json::json!({
        "delivery_id": d.id,
        "event": d.event,
        "data": payload,
    })
    .to_string();
    let now = chrono::Utc::now().timestamp();
    let r = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Jiaxiao-Event", &d.event)
        .header("X-Jiaxiao-Delivery", d.id.to_string())
        .header(
            "X-Jiaxiao-Signature",
            signature(&d.secret, now, body.as_bytes()),
        )
        .body(body)
        .send()
        .await;
    match r {
        Ok(r) if r.status().is_success() => Outcome::Delivered {
            status: i32::from(r.status().as_u16()),
        },
        Ok(r) => Outcome::Failed {
            status: Some(i32::from(r.status().as_u16())),
            error: "status".into(),
        },
        Err(e) if e.is_timeout() => failed("timeout"),
        Err(_) => failed("connect"),
    }
}

/// Sends deliveries until `stop` turns true: at once while there is work, else every
/// second. Check-ins younger than two seconds wait for the next round (see
/// `pump_checkins`).
pub async fn run(db: Db, private_ok: bool, mut stop: watch::Receiver<bool>) {
    let client = client();
    loop {
        let pause = match deliver_once(&db, &client, private_ok, chrono::Duration::seconds(2)).await
        {
            Ok(0) => Duration::from_secs(1),
            Ok(_) => Duration::ZERO,
            Err(e) => {
                tracing::warn!(error = %e, "sending webhooks");
                Duration::from_secs(5)
            }
        };
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tokio::time::sleep(pause) => {}
        }
    }
}
