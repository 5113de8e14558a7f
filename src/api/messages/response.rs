//! An OpenAI chat completion translated into an Anthropic message: the
//! first choice's reasoning (`reasoning_content`, or `reasoning`) becomes a
//! `thinking` block, its text a `text` block, each tool call a `tool_use`
//! block whose arguments are parsed into the `input` object; the finish
//! reason becomes the `stop_reason` and the usage Anthropic's counts.

use axum::http::StatusCode;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::api::error::ApiError;

/// What translating an answer needs to know about the request.
pub struct Context {
    /// The model the client asked for, used when the upstream names none.
    pub model: String,
    pub stop_sequences: Vec<String>,
    /// The message id used when the upstream gives none.
    pub fallback_id: String,
}

impl Context {
    pub fn new(request: &Map<String, Value>) -> Context {
        Context {
            model: request
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            stop_sequences: request
                .get("stop_sequences")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect(),
            fallback_id: format!("msg_{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// `msg_…` from the upstream's id (`chatcmpl-…`), else the fallback.
    pub fn message_id(&self, upstream_id: Option<&str>) -> String {
        match upstream_id {
            Some(id) if !id.is_empty() => {
                format!("msg_{}", id.strip_prefix("chatcmpl-").unwrap_or(id))
            }
            _ => self.fallback_id.clone(),
        }
    }

    pub fn model_of(&self, chunk: &Value) -> String {
        chunk
            .get("model")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .unwrap_or(&self.model)
            .to_string()
    }

    /// Anthropic's `stop_reason` and `stop_sequence` for an OpenAI finish
    /// reason. OpenAI's "stop" covers both the natural end and a stop
    /// sequence; servers that say which string stopped them (vLLM's
    /// `stop_reason`) let the two be told apart.
    pub fn stop(&self, finish: &str, matched: Option<&Value>) -> (&'static str, Option<String>) {
        match finish {
            "length" => ("max_tokens", None),
            "tool_calls" | "function_call" => ("tool_use", None),
            "content_filter" => ("refusal", None),
            _ => match matched.and_then(Value::as_str) {
                Some(s) if self.stop_sequences.iter().any(|x| x == s) => {
                    ("stop_sequence", Some(s.to_string()))
                }
                _ => ("end_turn", None),
            },
        }
    }
}

/// Anthropic's usage from OpenAI's: `input_tokens` excludes the tokens read
/// from the prompt cache, which Anthropic counts apart.
pub fn usage(u: Option<&Value>) -> Value {
    let n = |p: &str| {
        u.and_then(|u| u.pointer(p))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let cached = n("/prompt_tokens_details/cached_tokens");
    json!({
        "input_tokens": n("/prompt_tokens").saturating_sub(cached),
        "output_tokens": n("/completion_tokens"),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
    })
}

/// A tool call's arguments as the `input` object Anthropic clients expect:
/// empty arguments are `{}`, anything not a JSON object is kept under
/// `arguments` rather than lost.
pub fn tool_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return json!({});
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({"arguments": arguments}),
    }
}

/// The reasoning text some OpenAI-compatible servers add to a message or delta.
pub fn reasoning_of(v: &Value) -> Option<&str> {
    ["reasoning_content", "reasoning"]
        .into_iter()
        .find_map(|k| v.get(k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

pub fn to_anthropic(body: &[u8], ctx: &Context) -> Result<Bytes, ApiError> {
    let unreadable = || {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "api_error",
            "The upstream's answer could not be read as a chat completion.",
        )
    };
    let answer: Value = serde_json::from_slice(body).map_err(|_| unreadable())?;
    let choices = answer
        .get("choices")
        .and_then(Value::as_array)
        .ok_or_else(unreadable)?;
    let choice = choices
        .iter()
        .find(|c| c.get("index").and_then(Value::as_u64) == Some(0))
        .or(choices.first());
    let message = choice
        .and_then(|c| c.get("message"))
        .unwrap_or(&Value::Null);
    let mut content = Vec::new();
    if let Some(thinking) = reasoning_of(message) {
        content.push(json!({"type": "thinking", "thinking": thinking, "signature": ""}));
    }
    for field in ["content", "refusal"] {
        if let Some(text) = message.get(field).and_then(Value::as_str)
            && !text.is_empty()
        {
            content.push(json!({"type": "text", "text": text}));
        }
    }
    for (i, call) in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let id = call
            .get("id")
            .and_then(Value::as_str)
            .map_or_else(|| format!("toolu_{i}"), str::to_string);
        let function = call.get("function").unwrap_or(&Value::Null);
        let name = function.get("name").and_then(Value::as_str).unwrap_or("");
        let arguments = function
            .get("arguments")
            .and_then(Value::as_str)
            .unwrap_or("");
        content.push(
            json!({"type": "tool_use", "id": id, "name": name, "input": tool_input(arguments)}),
        );
    }
    let finish = choice
        .and_then(|c| c.get("finish_reason"))
        .and_then(Value::as_str)
        .unwrap_or("stop");
    let (stop_reason, stop_sequence) = ctx.stop(finish, choice.and_then(|c| c.get("stop_reason")));
    let message = json!({
        "id": ctx.message_id(answer.get("id").and_then(Value::as_str)),
        "type": "message",
        "role": "assistant",
        "model": ctx.model_of(&answer),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": usage(answer.get("usage")),
    });
    Ok(Bytes::from(message.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context::new(
            json!({"model": "m", "stop_sequences": ["END"]})
                .as_object()
                .unwrap(),
        )
    }

    #[test]
    fn translates_text_reasoning_tools_and_usage() {
        let answer = json!({"id": "chatcmpl-abc", "model": "gpt-x", "choices": [{"index": 0,
            "finish_reason": "tool_calls", "message": {"role": "assistant", "content": "ok",
            "reasoning_content": "think", "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "f", "arguments": "{\"a\":1}"}}]}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 4, "prompt_tokens_details": {"cached_tokens": 6}}});
        let got: Value =
            serde_json::from_slice(&to_anthropic(answer.to_string().as_bytes(), &ctx()).unwrap())
                .unwrap();
        assert_eq!(got["id"], "msg_abc");
        assert_eq!(got["model"], "gpt-x");
        assert_eq!(
            got["content"],
            json!([{"type": "thinking", "thinking": "think", "signature": ""},
                   {"type": "text", "text": "ok"},
                   {"type": "tool_use", "id": "call_1", "name": "f", "input": {"a": 1}}])
        );
        assert_eq!(got["stop_reason"], "tool_use");
        assert_eq!(
            got["usage"],
            json!({"input_tokens": 4, "output_tokens": 4, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 6})
        );
    }

    #[test]
    fn stop_reasons() {
        let c = ctx();
        assert_eq!(c.stop("stop", None), ("end_turn", None));
        assert_eq!(c.stop("length", None), ("max_tokens", None));
        assert_eq!(
            c.stop("stop", Some(&json!("END"))),
            ("stop_sequence", Some("END".into()))
        );
        assert_eq!(c.stop("stop", Some(&json!(50256))), ("end_turn", None));
        assert_eq!(tool_input(""), json!({}));
        assert_eq!(tool_input("[1]"), json!({"arguments": "[1]"}));
        assert!(to_anthropic(b"nope", &c).is_err());
    }
}
