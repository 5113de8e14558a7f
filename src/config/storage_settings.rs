//! Where accounts and spend are kept (`general_settings.database_url`, else
//! `DATABASE_URL`, else the SQLite file beside the config) and how often
//! the background writer flushes (`general_settings.proxy_batch_write_at`).

use std::time::Duration;

use super::diag::Findings;
use super::env::Env;
use super::values::{flag, resolved_string, seconds_at};
use super::yaml::Node;

/// LiteLLM writes spend every 10 s by default; so do we.
pub const DEFAULT_BATCH_WRITE: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub struct StorageSettings {
    /// `None` until `load_file` puts the SQLite file beside the config; a
    /// configuration read from a string without one is kept in memory.
    pub database_url: Option<String>,
    pub batch_write_interval: Duration,
    /// How often the in-memory accounts pick up other instances' changes
    /// (`general_settings.accounts_refresh_interval`, seconds).
    pub accounts_refresh_interval: Duration,
    /// `general_settings.disable_spend_logs`: nothing about spend is
    /// written (no log rows, no stored totals); budgets hold in memory only.
    pub disable_spend_logs: bool,
}

pub(super) fn storage_settings(
    general: Option<&Node>,
    env: &Env,
    f: &mut Findings,
) -> StorageSettings {
    let database_url = match general.and_then(|g| g.get("database_url")) {
        Some(node) => resolved_string(node, "general_settings.database_url", env, f),
        None => env.get("DATABASE_URL"),
    }
    .filter(|url| !url.trim().is_empty());
    StorageSettings {
        database_url,
        batch_write_interval: seconds_at(general, "proxy_batch_write_at", "general_settings", f)
            .unwrap_or(DEFAULT_BATCH_WRITE),
        accounts_refresh_interval: seconds_at(
            general,
            "accounts_refresh_interval",
            "general_settings",
            f,
        )
        .unwrap_or(crate::accounts::DEFAULT_REFRESH_INTERVAL),
        disable_spend_logs: general
            .and_then(|g| g.get("disable_spend_logs"))
            .and_then(|n| flag(n, "general_settings.disable_spend_logs", f))
            .unwrap_or(false),
    }
}
