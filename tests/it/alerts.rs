//! Budget alerts sent to webhooks: the Slack and generic JSON bodies, the
//! settings in `general_settings`, and the background sender (never
//! blocking, retrying, dropping when full), with alerts raised by the real
//! `limits::Budgets`.

mod budgets;
mod config;
mod delivery;
pub mod hook;

use std::time::Duration;

use switchyard::alerts::{AlertContext, AlerterOptions};
use switchyard::config::{AlertSettings, Secret};

/// The hash a key's budget scope is named by.
const KEY_HASH: &str = "3f2a9c01b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e";

/// Retries without the real pauses.
fn fast() -> AlerterOptions {
    AlerterOptions {
        capacity: 100,
        attempts: 3,
        backoff: Duration::from_millis(10),
        request_timeout: Duration::from_secs(30),
        flush_timeout: Duration::from_secs(10),
    }
}

fn settings(slack: Option<String>, webhook: Option<String>) -> AlertSettings {
    AlertSettings {
        slack_webhook_url: slack.map(Secret),
        webhook_url: webhook.map(Secret),
        ..AlertSettings::default()
    }
}

/// What the request path knows about a key in team t-1.
fn context() -> AlertContext {
    AlertContext {
        key_hash: Some(KEY_HASH.into()),
        key_name: Some("sk-...abcd".into()),
        key_alias: Some("billing-app".into()),
        user_id: Some("ana".into()),
        team_id: Some("t-1".into()),
        team_alias: Some("Marketing".into()),
        ..AlertContext::default()
    }
}
