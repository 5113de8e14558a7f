//! Enforcement on every request: rate limits (`rpm`, `tpm`,
//! `max_parallel_requests`) and budgets held by reservation, in memory.
//!
//! Nothing here waits on a database or does I/O: each scope's counters sit
//! behind a short-held mutex found through one map, so a check costs a few
//! map look-ups and lock round-trips. Storage feeds in (`Budgets::set_spent`)
//! and reads out (`ResetEvent`s, `Alert`s) through the caller; ids are plain
//! `Arc<str>`s, so this module depends on neither config nor storage.
//!
//! - `Limiter` — rate limits per `ScopeId` (key, user, team, end user, model
//!   per key), all-or-nothing across a request's scopes; an `Admission`
//!   guard frees the parallel slot when dropped. The window algorithm is in
//!   `window.rs` and in `docs/limits.md`.
//! - `Budgets` — spend per `BudgetScope` (also tags), reserved before the
//!   call and settled after it, so concurrent requests cannot overspend (the
//!   guarantee is written out in `budget.rs`); periods (`budget_duration`,
//!   `Period`) reset on time; soft-budget, threshold and exceeded alerts are
//!   raised once per period.
//!
//! One request, in order: check rate limits → reserve budget → call the
//! upstream → settle the cost and record the tokens.
//!
//! ```
//! use switchyard::limits::{BudgetLimit, BudgetScope, Budgets, Limiter, Limits, Period, ScopeId};
//!
//! let limiter = Limiter::new(); // one of each for the whole gateway
//! let budgets = Budgets::default();
//! let (key, team) = ("3f2a…(sha-256 of the key)", "marketing");
//!
//! // 1. Rate limits, for every scope of the request at once.
//! let per_key = Limits { rpm: Some(60), tpm: Some(100_000), max_parallel_requests: Some(4) };
//! let per_team = Limits { rpm: Some(600), ..Limits::default() };
//! let rate_scopes = [(ScopeId::Key(key.into()), per_key), (ScopeId::Team(team.into()), per_team)];
//! let estimated_tokens = 1_200;
//! let mut admission = match limiter.check_and_start(&rate_scopes, estimated_tokens) {
//!     Ok(admission) => admission,
//!     // 429, message `denied.to_string()`, headers `denied.headers()`
//!     Err(denied) => return,
//! };
//!
//! // 2. Budgets: reserve the worst case on the key and on its team.
//! let monthly = BudgetLimit {
//!     max_budget: Some(100.0),
//!     soft_budget: Some(50.0),
//!     period: Some(Period::parse("1mo").unwrap()),
//! };
//! let budget_scopes = [(BudgetScope::Key(key.into()), monthly), (BudgetScope::Team(team.into()), monthly)];
//! let worst_case_cost = 0.05; // prompt estimate + max_tokens at the deployment's price
//! let reservation = match budgets.reserve(&budget_scopes, worst_case_cost) {
//!     Ok(reservation) => reservation,
//!     // 429, type `budget_exceeded`, message `over.to_string()`
//!     Err(over) => return,
//! };
//!
//! // 3. Call the upstream. If it fails, dropping `reservation` costs nothing
//! //    and dropping `admission` takes the token estimate back.
//!
//! // 4. Settle with the real cost and tokens.
//! let alerts = reservation.settle(0.012); // to the alert webhook, if any
//! admission.record_tokens(1_350);
//! let headers = admission.headers(); // x-ratelimit-* on the response
//! drop(admission); // when the response (or the stream) has ended
//! # assert!(alerts.is_empty());
//! # assert_eq!(headers.len(), 6);
//! ```
//!
//! Off the request path, now and then: `Budgets::take_resets` (persist the
//! resets) and `Limiter::forget_idle` (drop idle scopes' counters).

mod admission;
mod budget;
mod civil;
mod clock;
mod duration;
mod headers;
mod ledger;
mod quota;
#[cfg(test)]
mod races;
mod rate;
mod registry;
mod reservation;
mod scope;
mod window;

pub use admission::Admission;
pub use budget::{
    BudgetLimit, BudgetUsage, Budgets, DEFAULT_ALERT_THRESHOLD, OverBudget, ResetEvent,
};
pub use duration::{Period, PeriodError};
pub use headers::{format_reset, quota_headers};
pub use ledger::AlertKind;
pub use quota::{Quota, RateSnapshot};
pub use rate::{Denied, Limiter, Limits, RateKind};
pub use reservation::{Alert, Reservation};
pub use scope::{BudgetScope, ScopeId};
