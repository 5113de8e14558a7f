//! A Message as an OpenAI `chat.completion`, and the pieces the stream
//! decoder shares: stop reasons and usage.

use crate::providers::openai_shape::unix_now;

use bytes::Bytes;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::JSON_TOOL;
use super::request::Params;
use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::providers::{FailureClass, ProviderError};

/// OpenAI's `finish_reason` for Anthropic's `stop_reason`. `tool_use` is
/// `stop` when the only tool used carried the structured answer.
pub(super) fn finish_reason(stop_reason: Option<&str>, tool_calls: bool) -> &'static str {
    match stop_reason {
        Some("tool_use") if tool_calls => "tool_calls",
        Some("max_tokens" | "model_context_window_exceeded") => "length",
        Some("refusal") => "content_filter",
        // end_turn, stop_sequence, pause_turn, a structured answer, unknown.
        _ => "stop",
    }
}

/// Anthropic's token counts, as reported so far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Usage {
    input: u64,
    output: u64,
    cache_read: u64,
    cache_creation: u64,
}

impl Usage {
    /// Takes every count `usage` reports (a stream reports them in parts).
    pub(super) fn update(&mut self, usage: Option<&Value>) {
        let Some(usage) = usage else { return };
        let read = |name: &str, into: &mut u64| {
            if let Some(n) = usage.get(name).and_then(Value::as_u64) {
                *into = n;
            }
        };
        read("input_tokens", &mut self.input);
        read("output_tokens", &mut self.output);
        read("cache_read_input_tokens", &mut self.cache_read);
        read("cache_creation_input_tokens", &mut self.cache_creation);
    }

    /// OpenAI's usage: every prompt token in `prompt_tokens` (see the module
    /// comment of `anthropic`), the cache counts beside it.
    pub(super) fn to_openai(self) -> Value {
        let prompt = self
            .input
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_creation);
        json!({
            "prompt_tokens": prompt,
            "completion_tokens": self.output,
            "total_tokens": prompt.saturating_add(self.output),
            "prompt_tokens_details": {"cached_tokens": self.cache_read},
            "cache_read_input_tokens": self.cache_read,
            "cache_creation_input_tokens": self.cache_creation,
        })
    }
}

fn not_a_message(detail: &str) -> ProviderError {
    ProviderError::new(
        FailureClass::ServerError,
        format!("Anthropic answered with an unexpected body: {detail}"),
    )
    .with_code("bad_upstream_response")
}

pub(super) fn decode(
    d: &Deployment,
    request: &ApiRequest,
    body: &[u8],
) -> Result<Bytes, ProviderError> {
    let msg: Value =
        serde_json::from_slice(body).map_err(|e| not_a_message(&format!("not JSON ({e})")))?;
    if let Some(e) = super::error_from(Some(StatusCode::OK), &msg) {
        return Err(e);
    }
    let Some(blocks) = msg.get("content").and_then(Value::as_array) else {
        return Err(not_a_message("no content array"));
    };
    let json_mode = Params::new(d, request).json_schema().is_some();
    let (mut text, mut reasoning, mut answer) = (String::new(), String::new(), None);
    let mut tool_calls = Vec::new();
    for block in blocks {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(block.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("thinking") => {
                reasoning.push_str(block.get("thinking").and_then(Value::as_str).unwrap_or(""));
            }
            Some("tool_use") => {
                let name = block.get("name").and_then(Value::as_str).unwrap_or("");
                let input = block.get("input").cloned().unwrap_or_else(|| json!({}));
                if json_mode && name == JSON_TOOL {
                    answer = Some(input.to_string());
                } else {
                    tool_calls.push(json!({
                        "id": block.get("id").cloned().unwrap_or(Value::Null),
                        "type": "function",
                        "function": {"name": name, "arguments": input.to_string()},
                    }));
                }
            }
            _ => {} // redacted_thinking, server tool blocks: nothing OpenAI can show.
        }
    }
    let content = match answer {
        Some(a) => Value::String(a),
        None if !text.is_empty() || tool_calls.is_empty() => Value::String(text),
        None => Value::Null,
    };
    let mut message = json!({"role": "assistant", "content": content});
    let finish = finish_reason(
        msg.get("stop_reason").and_then(Value::as_str),
        !tool_calls.is_empty(),
    );
    if !tool_calls.is_empty() {
        message["tool_calls"] = Value::Array(tool_calls);
    }
    if !reasoning.is_empty() {
        message["reasoning_content"] = Value::String(reasoning);
    }
    let mut usage = Usage::default();
    usage.update(msg.get("usage"));
    let out = json!({
        "id": msg.get("id").cloned().unwrap_or(Value::Null),
        "object": "chat.completion",
        "created": unix_now(),
        "model": msg.get("model").and_then(Value::as_str).unwrap_or(&d.upstream_model),
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": usage.to_openai(),
    });
    serde_json::to_vec(&out)
        .map(Bytes::from)
        .map_err(|e| not_a_message(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_counts_every_prompt_token() {
        let mut u = Usage::default();
        u.update(Some(&json!({"input_tokens": 10, "output_tokens": 1,
            "cache_read_input_tokens": 100, "cache_creation_input_tokens": 5})));
        u.update(Some(&json!({"output_tokens": 7})));
        let o = u.to_openai();
        assert_eq!(
            (
                o["prompt_tokens"].clone(),
                o["completion_tokens"].clone(),
                o["total_tokens"].clone()
            ),
            (json!(115), json!(7), json!(122))
        );
        assert_eq!(o["prompt_tokens_details"]["cached_tokens"], 100);
        assert_eq!(o["cache_creation_input_tokens"], 5);
    }

    #[test]
    fn stop_reasons() {
        assert_eq!(finish_reason(Some("end_turn"), false), "stop");
        assert_eq!(finish_reason(Some("stop_sequence"), false), "stop");
        assert_eq!(finish_reason(Some("max_tokens"), false), "length");
        assert_eq!(finish_reason(Some("tool_use"), true), "tool_calls");
        assert_eq!(finish_reason(Some("tool_use"), false), "stop");
        assert_eq!(finish_reason(Some("refusal"), false), "content_filter");
    }
}
