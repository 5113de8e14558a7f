//! Switchyard: an OpenAI-compatible LLM gateway. See ARCHITECTURE.md in the
//! shared folder for the shape; `pipeline` is the request path.

// Errors carry OpenAI's error fields and live on the cold path; boxing them
// would only add an allocation where a request already failed.
#![allow(clippy::result_large_err)]

pub mod accounts;
pub mod alerts;
pub mod api;
pub mod audit;
pub mod auth;
pub mod config;
pub mod cost;
pub mod enforce;
pub mod guardrails;
pub mod limits;
pub mod metering;
pub mod mock_server;
pub mod pipeline;
pub mod providers;
pub mod relay;
pub mod respond;
pub mod router;
pub mod server;
pub mod settlement;
pub mod spend;
pub mod store;
#[doc(hidden)]
pub mod testing;
pub mod transport;
