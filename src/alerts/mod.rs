//! Budget alerts, sent: the `limits::Alert`s that `Reservation::settle`
//! returns (soft budget, threshold, exceeded; each once per scope and
//! period, decided in `limits`) posted to a Slack incoming webhook and/or a
//! generic JSON webhook, as configured in `general_settings.alerting`
//! (`config::AlertSettings`). Formats and settings: docs/alerts.md.
//!
//! Nothing here slows a request: `Alerter::send` puts the alert on a
//! bounded queue and returns; one background task posts, retries a failed
//! post a few times and then logs it. `Alerter::flush` drains the queue at
//! shutdown, within a time limit.
//!
//! ```
//! use switchyard::alerts::{AlertContext, Alerter};
//! use switchyard::config::AlertSettings;
//! use switchyard::limits::{BudgetLimit, BudgetScope, Budgets};
//!
//! let settings = AlertSettings::default(); // `config.alerts`
//! let budgets = Budgets::new(settings.budget_alert_threshold);
//! # switchyard::transport::install_tls_provider();
//! let alerter = Alerter::new(&settings, reqwest::Client::new()); // once, at start-up
//!
//! // On the request path, after the call:
//! let scope = BudgetScope::Key("3f2a…(sha-256 of the key)".into());
//! let limit = BudgetLimit { max_budget: Some(1.0), ..BudgetLimit::default() };
//! let reservation = budgets.reserve(&[(scope, limit)], 0.2).unwrap();
//! let alerts = reservation.settle(0.15);
//! if !alerts.is_empty() && alerter.is_enabled() {
//!     let context = AlertContext::default(); // AlertContext::for_key(&key_entry, end_user)
//!     alerter.send_settled(alerts, &context, &budgets);
//! }
//! // At shutdown: alerter.flush().await;
//! ```

mod alerter;
mod context;
mod counters;
mod delivery;
mod message;
mod payload;

pub use alerter::Alerter;
pub use context::AlertContext;
pub use counters::AlertCounters;
pub use delivery::AlerterOptions;
pub use message::sentence;
