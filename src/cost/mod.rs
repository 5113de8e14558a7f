//! What a call cost: usage × price.
//!
//! - `table`: the bundled price table (`prices.json`, with the date its
//!   prices were looked up), overlaid by the user's price file
//!   (`litellm_settings.price_file`) at start-up; looked up by upstream
//!   model name with its decorations stripped (`names`).
//! - `price`: a model's prices; a deployment's own (`litellm_params`, else
//!   `model_info`) win field by field over the table's. Every deployment's
//!   price is resolved once, when the config is loaded (`Deployment::price`).
//! - `usage`: the tokens an answer used, read from the OpenAI-shaped body
//!   or stream every dialect decodes to; the conventions per provider are
//!   there. `anthropic_usage`: Anthropic's own shape, for the native
//!   pass-through.
//! - `compute`: the arithmetic, cache reads and writes at their own prices.
//! - `estimate`: the documented estimate when a provider gives no usage.
//! - `stream_usage`: asking OpenAI-family upstreams for the usage chunk and
//!   hiding it from clients that did not ask.
//!
//! The user documentation is `docs/cost.md`.

mod anthropic_usage;
mod compute;
pub mod estimate;
mod names;
mod price;
pub mod stream_usage;
mod table;
mod usage;

pub use anthropic_usage::{AnthropicStreamUsage, usage_in_anthropic_body};
pub use compute::{cost, worst_case};
pub use names::candidates;
pub use price::{LONG_CONTEXT_THRESHOLD, LongContext, OVERRIDE_KEYS, Price, PriceEntry};
pub use stream_usage::{UsageTap, asks_usage_itself, stream_options_with_usage, wants_usage};
pub use table::PriceTable;
pub use usage::{Usage, usage_in_body, usage_in_event};

use crate::config::Deployment;

/// Translated streams always end with a usage chunk, whether the client
/// asked for it or not: the gateway needs it for cost, budgets and `tpm`.
/// `metering` drops it on the way out when the client did not ask.
pub const ALWAYS_USAGE: bool = true;

/// What `usage` cost on `d`, in USD; `None` when the deployment's model has
/// no known price.
pub fn deployment_cost(d: &Deployment, usage: &Usage) -> Option<f64> {
    d.price.as_ref().map(|p| cost(p, usage))
}
