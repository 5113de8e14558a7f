//! Google Gemini (`gemini/`) and Vertex AI (`vertex_ai/`) behind the OpenAI
//! API, over real HTTP against the strict mocks in `support::google_api`:
//! chat, streaming, tools, images, JSON mode, parameter mapping, finish
//! reasons, errors, Vertex's token exchange and its cache, embeddings, the
//! decoders under arbitrary input, and the OpenAI Python SDK end to end.

mod chat;
mod embeddings;
mod errors;
mod fuzz;
mod sdk;
mod stream;
mod vertex;

use serde_json::{Value, json};

use crate::support::Gateway;
use crate::support::google_api::GoogleApi;

/// A gateway with one model group `g` on `api`'s `gemini-2.5-flash`.
async fn gateway(api: &GoogleApi, extra: &str) -> Gateway {
    Gateway::with_models(&api.entry("g", "gemini-2.5-flash", extra)).await
}

fn user(text: &str) -> Value {
    json!({"model": "g", "messages": [{"role": "user", "content": text}]})
}
