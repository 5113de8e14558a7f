//! AWS Bedrock (`bedrock/`) behind the OpenAI API, over real HTTP against
//! the strict mock in `support::bedrock_api`, which recomputes every SigV4
//! signature: chat (Converse), streaming (ConverseStream's binary event
//! stream), tools, images, JSON mode, parameter mapping, finish reasons,
//! errors, Titan and Cohere embeddings, session tokens and credentials from
//! the environment, the decoders under arbitrary input, and the OpenAI
//! Python SDK end to end.

mod chat;
mod config;
mod embeddings;
mod errors;
mod fuzz;
mod sdk;
mod stream;

use serde_json::{Value, json};

use crate::support::Gateway;
use crate::support::bedrock_api::{BedrockApi, CLAUDE};

/// A gateway with one model group `b` on `api`'s Claude 3.5 Sonnet.
async fn gateway(api: &BedrockApi, extra: &str) -> Gateway {
    Gateway::with_models(&api.entry("b", CLAUDE, extra)).await
}

fn user(text: &str) -> Value {
    json!({"model": "b", "messages": [{"role": "user", "content": text}]})
}
