//! Pieces of OpenAI's response shapes that every translating dialect
//! builds the same way.

use base64::Engine;
use serde_json::{Value, json};

/// One entry of an embeddings list: the vector as floats, or (for
/// `encoding_format: base64`, which the OpenAI SDKs always ask for) as
/// base64 of little-endian f32 values, as OpenAI sends it.
pub fn embedding(index: usize, values: &[Value], base64: bool) -> Value {
    let embedding = if base64 {
        let mut bytes = Vec::with_capacity(values.len() * 4);
        for v in values {
            bytes.extend_from_slice(&(v.as_f64().unwrap_or(0.0) as f32).to_le_bytes());
        }
        Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
    } else {
        Value::Array(values.to_vec())
    };
    json!({"object": "embedding", "index": index, "embedding": embedding})
}

/// The embeddings list around `data`.
pub fn embedding_list(data: Vec<Value>, model: &str, prompt_tokens: u64) -> Value {
    json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    })
}
