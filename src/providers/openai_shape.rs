//! Pieces of OpenAI's response shapes that every translating dialect
//! builds the same way.

use base64::Engine;
use bytes::Bytes;
use serde_json::{Value, json};

/// Seconds since the Unix epoch, for `created` fields.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

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

/// Writes the OpenAI chunks of one translated stream: the same id, created
/// time and model on each, `usage: null` on each when the client asked for
/// a usage chunk (as OpenAI does), and the role chunk first.
pub struct ChunkWriter {
    pub id: Value,
    pub model: Value,
    pub created: u64,
    pub include_usage: bool,
    started: bool,
}

impl ChunkWriter {
    pub fn new(model: &str, include_usage: bool) -> Self {
        let created = unix_now();
        ChunkWriter {
            id: Value::Null,
            model: Value::String(model.to_string()),
            created,
            include_usage,
            started: false,
        }
    }

    pub fn with_id(mut self, id: String) -> Self {
        self.id = Value::String(id);
        self
    }

    /// One `data: {chunk}` event with these choices (and usage, when asked).
    pub fn chunk(&self, choices: Value, usage: Option<Value>) -> Bytes {
        let mut c = json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model, "choices": choices});
        if self.include_usage {
            c["usage"] = usage.unwrap_or(Value::Null);
        }
        let mut event = b"data: ".to_vec();
        // Serializing a Value cannot fail.
        event.extend_from_slice(&serde_json::to_vec(&c).unwrap_or_default());
        event.extend_from_slice(b"\n\n");
        Bytes::from(event)
    }

    /// A chunk for choice 0, after the role chunk.
    pub fn delta(&mut self, delta: Value, finish: Option<&str>, out: &mut Vec<Bytes>) {
        self.start(out);
        let choices =
            json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]);
        out.push(self.chunk(choices, None));
    }

    /// The role chunk, once, before anything else.
    pub fn start(&mut self, out: &mut Vec<Bytes>) {
        if !self.started {
            self.started = true;
            self.delta(json!({"role": "assistant", "content": ""}), None, out);
        }
    }
}
