//! Configuration: zero-config defaults (SQLite under ./data, 127.0.0.1:8080), an
//! optional TOML file, and JIAXIAO_* environment variables over both. Printed with
//! passwords redacted. One data directory holds the SQLite database and the uploads
//! unless `database_url` names another database (issue 10).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `postgres://user:pass@host/db` or `sqlite://FILE?mode=rwc`; unset, the SQLite
    /// database `jiaxiao.db` in `data_dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Address and port to listen on.
    pub listen: String,
    /// Where uploads live, and the SQLite database unless `database_url` is set.
    pub data_dir: PathBuf,
    /// Mark cookies Secure (set when served over https).
    pub secure_cookies: bool,
    /// Log level filter, e.g. "info" or "jiaxiao=debug,info".
    pub log_level: String,
    /// Logs as JSON lines (for collectors) instead of text.
    pub log_json: bool,
    /// Whether `serve` also runs background jobs (set false when `worker` processes do).
    pub run_jobs: bool,
    /// When set, /metrics answers only to `Authorization: Bearer <metrics_token>`. Without
    /// it, /metrics answers only when `listen` is a loopback address.
    pub metrics_token: Option<String>,
    /// How many days a new API token lives.
    pub api_token_days: i64,
    /// Behind a reverse proxy, the header that carries the client's address (e.g.
    /// "X-Real-IP"), for the login limit per address; set it only when the proxy
    /// overwrites that header, or clients can pick their own address.
    pub client_ip_header: Option<String>,
    /// Let webhooks point at loopback and private network addresses (your own network's
    /// receivers). Off: a webhook could otherwise reach this server's neighbours.
    pub webhook_private_ok: bool,
    #[serde(skip)]
    pub from_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: None,
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            secure_cookies: false,
            log_level: "info".into(),
            log_json: false,
            run_jobs: true,
            metrics_token: None,
            api_token_days: jiaxiao_store::accounts::API_TOKEN_DAYS,
            client_ip_header: None,
            webhook_private_ok: false,
            from_file: None,
        }
    }
}

impl Config {
    pub fn load(file: Option<&Path>) -> Result<Config> {
        let defaults = config::Config::try_from(&Config::default())?;
        let mut b = config::Config::builder().add_source(defaults);
        if let Some(f) = file {
            b = b.add_source(config::File::from(f).format(config::FileFormat::Toml));
        }
        // JIAXIAO_DATABASE_URL → database_url (prefix separator "_", no nesting).
        b = b.add_source(
            config::Environment::with_prefix("JIAXIAO")
                .prefix_separator("_")
                .try_parsing(true),
        );
        let mut cfg: Config = b
            .build()?
            .try_deserialize()
            .context("reading configuration")?;
        cfg.from_file = file.map(Path::to_path_buf);
        if cfg.api_token_days < 1 {
            anyhow::bail!("api_token_days must be 1 or more");
        }
        Ok(cfg)
    }

    /// The database in force: `database_url`, or `jiaxiao.db` in `data_dir`.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.clone(),
            _ => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("jiaxiao.db").display()
            ),
        }
    }

    /// The database for messages: its URL with any password replaced by `***`.
    pub fn database_shown(&self) -> String {
        redact_url(&self.database_url())
    }

    /// The SQLite file in force, if the database is SQLite.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        let url = self.database_url();
        let path = url
            .strip_prefix("sqlite://")
            .or(url.strip_prefix("sqlite:"))?;
        let path = path.split('?').next().unwrap_or(path);
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
    }

    pub fn ensure_data_dir(&self) -> Result<()> {
        if let Some(path) = self.sqlite_file()
            && let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        Ok(())
    }

    /// The configuration with the database password replaced by `***`.
    pub fn redacted(&self) -> String {
        let mut c = self.clone();
        c.database_url = Some(self.database_shown());
        if c.metrics_token.is_some() {
            c.metrics_token = Some("***".into());
        }
        toml::to_string_pretty(&c).unwrap_or_default()
    }

    pub fn example() -> String {
        let body = toml::to_string_pretty(&Config::default()).unwrap_or_default();
        format!(
            "# jiaxiao configuration. Every setting can also be given as an environment\n\
             # variable: JIAXIAO_DATABASE_URL, JIAXIAO_LISTEN, JIAXIAO_DATA_DIR, …\n\
             # data_dir holds the uploads and, unless database_url is set, the SQLite\n\
             # database jiaxiao.db.\n\
             # PostgreSQL: database_url = \"postgres://jiaxiao:PASSWORD@127.0.0.1/jiaxiao\"\n\n{body}"
        )
    }
}

fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((creds, host)) = rest.split_once('@')
        && let Some((user, _)) = creds.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
        let c = Config {
            database_url: Some("postgres://u:secret@h/db".into()),
            ..Default::default()
        };
        assert!(!c.redacted().contains("secret"));
        assert_eq!(c.database_shown(), "postgres://u:***@h/db");
    }

    #[test]
    fn the_data_dir_holds_the_database_unless_a_url_is_given() {
        let c = Config {
            data_dir: PathBuf::from("/srv/jx"),
            ..Default::default()
        };
        assert_eq!(c.database_url(), "sqlite:///srv/jx/jiaxiao.db?mode=rwc");
        assert_eq!(c.sqlite_file(), Some(PathBuf::from("/srv/jx/jiaxiao.db")));
        let c = Config {
            data_dir: PathBuf::from("/srv/jx"),
            database_url: Some("postgres://u:p@h/db".into()),
            ..Default::default()
        };
        assert_eq!(c.database_url(), "postgres://u:p@h/db");
        assert_eq!(c.sqlite_file(), None);
    }

    #[test]
    fn example_parses_back() {
        let ex = Config::example();
        let c: Config = toml::from_str(&ex).unwrap();
        assert_eq!(c.listen, "127.0.0.1:8080");
    }
}
