//! Sending text messages. Production plugs a provider in behind [`SmsProvider`]; the
//! log-only provider used in development and tests keeps each message in the
//! `sms_outbox` table and logs only its id (never the number or the text).

use std::future::Future;
use std::pin::Pin;

use jiaxiao_store::Db;

pub type SmsFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

pub trait SmsProvider: Send + Sync {
    fn send<'a>(&'a self, phone: &'a str, body: &'a str) -> SmsFuture<'a>;
}

pub struct LogOnlySms {
    pub db: Db,
}

impl SmsProvider for LogOnlySms {
    fn send<'a>(&'a self, phone: &'a str, body: &'a str) -> SmsFuture<'a> {
        Box::pin(async move {
            let id = jiaxiao_store::accounts::record_sms(&self.db, phone, body)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(sms_id = id, "sms kept in outbox (log-only provider)");
            Ok(())
        })
    }
}
