//! Sending text messages. Production plugs a provider in behind [`SmsProvider`]; the
//! log-only provider used in development and tests keeps each message in the
//! `sms_outbox` table, with one-time codes masked and only for a few days, and logs only
//! its id (never the number or the text).

use std::future::Future;
use std::pin::Pin;

use jiaxiao_store::Db;

pub type SmsFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

pub trait SmsProvider: Send + Sync {
    fn send<'a>(&'a self, phone: &'a str, body: &'a str) -> SmsFuture<'a>;

    /// Sends a message that carries a one-time `secret` (an invitation code). The whole
    /// text goes to the phone, but a provider keeps no copy of the secret: a lost code
    /// is replaced by issuing a new one, never sent again, so nothing needs it.
    fn send_secret<'a>(&'a self, phone: &'a str, body: &'a str, secret: &'a str) -> SmsFuture<'a>;
}

pub struct LogOnlySms {
    pub db: Db,
}

impl LogOnlySms {
    async fn keep(&self, phone: &str, body: &str, secrets: &[&str]) -> Result<(), String> {
        let id = jiaxiao_store::accounts::record_sms(&self.db, phone, body, secrets)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(sms_id = id, "sms kept in outbox (log-only provider)");
        Ok(())
    }
}

impl SmsProvider for LogOnlySms {
    fn send<'a>(&'a self, phone: &'a str, body: &'a str) -> SmsFuture<'a> {
        Box::pin(self.keep(phone, body, &[]))
    }

    fn send_secret<'a>(&'a self, phone: &'a str, body: &'a str, secret: &'a str) -> SmsFuture<'a> {
        Box::pin(async move { self.keep(phone, body, &[secret]).await })
    }
}
