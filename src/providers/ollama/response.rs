//! An `/api/chat` answer as an OpenAI `chat.completion`, and the pieces the
//! stream decoder shares: ids, tool calls, finish reasons and usage.

use crate::providers::openai_shape::unix_now;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::decode_error;
use crate::config::Deployment;
use crate::providers::{FailureClass, ProviderError};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// Ollama's answers carry no id; each gets one (unique, not secret).
pub(super) fn completion_id() -> String {
    format!("chatcmpl-{:032x}", fastrand::u128(..))
}

/// OpenAI's `finish_reason` for Ollama's `done_reason`: `length` is
/// `length`; `stop` (and `load`, `unload`, none) is `stop`, or
/// `tool_calls` when the model called tools (Ollama says `stop` then).
pub(super) fn finish_reason(done_reason: Option<&str>, tool_calls: bool) -> &'static str {
    match done_reason {
        Some("length") => "length",
        _ if tool_calls => "tool_calls",
        _ => "stop",
    }
}

/// OpenAI's usage from Ollama's `prompt_eval_count` and `eval_count`.
pub(super) fn usage(answer: &Value) -> Value {
    let count = |name: &str| answer.get(name).and_then(Value::as_u64).unwrap_or(0);
    let (prompt, completion) = (count("prompt_eval_count"), count("eval_count"));
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt.saturating_add(completion),
    })
}

/// One Ollama tool call as OpenAI's: the id Ollama sent, else
/// `call_<hash>` of the answer's id, the call's position, name and
/// arguments (unique per answer, stable for the same input); the arguments
/// object as a JSON string.
pub(super) fn tool_call(call: &Value, answer_id: &str, index: u64) -> Value {
    let name = call
        .pointer("/function/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let arguments = match call.pointer("/function/arguments") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => "{}".to_string(),
        Some(v) => v.to_string(),
    };
    let id = match call.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => {
            let mut h = Sha256::new();
            for piece in [answer_id, &index.to_string(), name, &arguments] {
                h.update(piece.as_bytes());
                h.update([0]);
            }
            let digest = h.finalize();
            let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
            format!("call_{hex}")
        }
    };
    json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
}

fn not_an_answer(detail: &str) -> ProviderError {
    ProviderError::new(
        FailureClass::ServerError,
        format!("Ollama answered with an unexpected body: {detail}"),
    )
    .with_code("bad_upstream_response")
}

/// An `{"error": …}` object in a successful body or a stream line.
pub(super) fn error_in(json: &Value) -> Option<ProviderError> {
    json.get("error").filter(|e| !e.is_null())?;
    // A 200 that says it failed: a server error unless the text says more.
    Some(decode_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        &HeaderMap::new(),
        json.to_string().as_bytes(),
    ))
}

pub(super) fn completion(d: &Deployment, body: &[u8]) -> Result<Value, ProviderError> {
    let answer: Value =
        serde_json::from_slice(body).map_err(|e| not_an_answer(&format!("not JSON ({e})")))?;
    if let Some(e) = error_in(&answer) {
        return Err(e);
    }
    let Some(msg) = answer.get("message").filter(|m| m.is_object()) else {
        return Err(not_an_answer("no message"));
    };
    let id = completion_id();
    let text = msg.get("content").and_then(Value::as_str).unwrap_or("");
    let calls: Vec<Value> = msg
        .get("tool_calls")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .enumerate()
        .map(|(i, c)| tool_call(c, &id, i as u64))
        .collect();
    let content = if text.is_empty() && !calls.is_empty() {
        Value::Null
    } else {
        Value::String(text.to_string())
    };
    let mut message = json!({"role": "assistant", "content": content});
    let finish = finish_reason(
        answer.get("done_reason").and_then(Value::as_str),
        !calls.is_empty(),
    );
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    if let Some(thinking) = msg
        .get("thinking")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        message["reasoning_content"] = Value::String(thinking.to_string());
    }
    Ok(json!({
        "id": id,
        "object": "chat.completion",
        "created": unix_now(),
        "model": answer.get("model").and_then(Value::as_str).unwrap_or(&d.upstream_model),
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": usage(&answer),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reasons() {
        assert_eq!(finish_reason(Some("stop"), false), "stop");
        assert_eq!(finish_reason(Some("stop"), true), "tool_calls");
        assert_eq!(finish_reason(Some("length"), true), "length");
        assert_eq!(finish_reason(Some("unload"), false), "stop");
        assert_eq!(finish_reason(None, false), "stop");
    }

    #[test]
    fn tool_calls_get_stable_distinct_ids() {
        let call = json!({"function": {"name": "f", "arguments": {"a": 1}}});
        let a = tool_call(&call, "chatcmpl-1", 0);
        assert_eq!(a["function"]["arguments"], "{\"a\":1}");
        let id = a["id"].as_str().unwrap();
        assert!(id.starts_with("call_") && id.len() == 29, "{id}");
        assert_eq!(tool_call(&call, "chatcmpl-1", 0)["id"], a["id"]);
        assert_ne!(tool_call(&call, "chatcmpl-1", 1)["id"], a["id"]);
        assert_ne!(tool_call(&call, "chatcmpl-2", 0)["id"], a["id"]);
        let named = json!({"id": "call_up", "function": {"name": "f", "arguments": {}}});
        assert_eq!(tool_call(&named, "x", 0)["id"], "call_up");
    }

    #[test]
    fn usage_from_eval_counts() {
        let u = usage(&json!({"prompt_eval_count": 26, "eval_count": 298}));
        assert_eq!(
            u,
            json!({"prompt_tokens": 26, "completion_tokens": 298, "total_tokens": 324})
        );
    }
}
