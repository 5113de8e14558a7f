//! Switchyard: an OpenAI-compatible LLM gateway. See ARCHITECTURE.md in the
//! shared folder for the shape; `pipeline` is the request path.

pub mod api;
pub mod auth;
pub mod config;
pub mod mock_server;
pub mod pipeline;
pub mod providers;
pub mod relay;
pub mod router;
pub mod server;
pub mod transport;
