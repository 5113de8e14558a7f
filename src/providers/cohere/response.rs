//! A Cohere v2 chat response as an OpenAI `chat.completion`, and the pieces
//! the stream decoder shares: finish reasons and usage.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::error::classified;
use super::{count, now, unexpected};
use crate::config::Deployment;
use crate::providers::{FailureClass, ProviderError};

/// OpenAI's `finish_reason` for Cohere's, or the failure it reports.
/// `detail` is the error Cohere gave with it, if any.
pub(super) fn finish_reason(
    reason: Option<&str>,
    tool_calls: bool,
    detail: Option<&str>,
) -> Result<&'static str, ProviderError> {
    let reason = reason.map(str::to_ascii_uppercase);
    match reason.as_deref() {
        Some("MAX_TOKENS") => Ok("length"),
        Some("TOOL_CALL") => Ok("tool_calls"),
        Some("ERROR") => Err(ProviderError::new(
            FailureClass::ServerError,
            format!(
                "Cohere stopped generating with an error: {}",
                detail.unwrap_or("(no details)")
            ),
        )
        .with_code("upstream_error")),
        Some("TIMEOUT") => Err(ProviderError::new(
            FailureClass::Timeout,
            "Cohere stopped generating: the generation timed out",
        )
        .with_code("timeout")),
        // No reason, but tool calls were made: that is why it stopped.
        None if tool_calls => Ok("tool_calls"),
        // COMPLETE, STOP_SEQUENCE and reasons added later.
        _ => Ok("stop"),
    }
}

/// Cohere's token counts, from `usage` (a chat response's or a stream's
/// `message-end` delta).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Usage {
    billed: (Option<u64>, Option<u64>),
    tokens: (Option<u64>, Option<u64>),
    cached: Option<u64>,
}

impl Usage {
    pub(super) fn read(usage: Option<&Value>) -> Usage {
        let Some(u) = usage else {
            return Usage::default();
        };
        Usage {
            billed: (
                count(u.pointer("/billed_units/input_tokens")),
                count(u.pointer("/billed_units/output_tokens")),
            ),
            tokens: (
                count(u.pointer("/tokens/input_tokens")),
                count(u.pointer("/tokens/output_tokens")),
            ),
            cached: count(u.get("cached_tokens")),
        }
    }

    /// OpenAI's usage: billed units, else tokens (see the module comment of
    /// `cohere`).
    pub(super) fn to_openai(self) -> Value {
        let prompt = self.billed.0.or(self.tokens.0).unwrap_or(0);
        let completion = self.billed.1.or(self.tokens.1).unwrap_or(0);
        let mut usage = json!({
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt.saturating_add(completion),
        });
        if let Some(cached) = self.cached {
            usage["prompt_tokens_details"] = json!({"cached_tokens": cached});
        }
        usage
    }
}

/// An OpenAI tool call for a Cohere one; arguments stay a JSON string.
pub(super) fn tool_call(call: &Value) -> Value {
    let arguments = match call.pointer("/function/arguments") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => "{}".to_string(),
        Some(v) => v.to_string(),
    };
    json!({
        "id": call.get("id").cloned().unwrap_or(Value::Null),
        "type": "function",
        "function": {
            "name": call.pointer("/function/name").and_then(Value::as_str).unwrap_or(""),
            "arguments": arguments,
        },
    })
}

pub(super) fn decode(d: &Deployment, body: &[u8]) -> Result<Value, ProviderError> {
    let json: Value =
        serde_json::from_slice(body).map_err(|e| unexpected(&format!("not JSON ({e})")))?;
    let Some(message) = json.get("message").filter(|m| m.is_object()) else {
        // An error body that came with a 200.
        if let Some(m) = json.get("message").and_then(Value::as_str) {
            return Err(classified(StatusCode::OK, m.to_string()));
        }
        return Err(unexpected("no message"));
    };
    let (mut text, mut reasoning) = (String::new(), String::new());
    for item in message
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match item.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(item.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("thinking") => {
                reasoning.push_str(item.get("thinking").and_then(Value::as_str).unwrap_or(""));
            }
            _ => {}
        }
    }
    let tool_calls: Vec<Value> = message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(tool_call)
        .collect();
    let plan = message.get("tool_plan").and_then(Value::as_str);
    let content = match plan {
        _ if !text.is_empty() => Value::String(text),
        Some(plan) if !plan.is_empty() => Value::String(plan.to_string()),
        _ if tool_calls.is_empty() => Value::String(String::new()),
        _ => Value::Null,
    };
    let finish = finish_reason(
        json.get("finish_reason").and_then(Value::as_str),
        !tool_calls.is_empty(),
        None,
    )?;
    let mut reply = json!({"role": "assistant", "content": content});
    if !tool_calls.is_empty() {
        reply["tool_calls"] = Value::Array(tool_calls);
    }
    if !reasoning.is_empty() {
        reply["reasoning_content"] = Value::String(reasoning);
    }
    Ok(json!({
        "id": json.get("id").cloned().unwrap_or(Value::Null),
        "object": "chat.completion",
        "created": now(),
        "model": d.upstream_model,
        "choices": [{"index": 0, "message": reply, "logprobs": null, "finish_reason": finish}],
        "usage": Usage::read(json.get("usage")).to_openai(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reasons() {
        assert_eq!(
            finish_reason(Some("COMPLETE"), false, None).unwrap(),
            "stop"
        );
        assert_eq!(
            finish_reason(Some("STOP_SEQUENCE"), false, None).unwrap(),
            "stop"
        );
        assert_eq!(
            finish_reason(Some("MAX_TOKENS"), false, None).unwrap(),
            "length"
        );
        assert_eq!(
            finish_reason(Some("TOOL_CALL"), true, None).unwrap(),
            "tool_calls"
        );
        assert_eq!(finish_reason(None, true, None).unwrap(), "tool_calls");
        let e = finish_reason(Some("ERROR"), false, Some("boom")).unwrap_err();
        assert_eq!(e.class, FailureClass::ServerError);
        assert!(e.message.contains("boom"));
        assert_eq!(
            finish_reason(Some("TIMEOUT"), false, None)
                .unwrap_err()
                .class,
            FailureClass::Timeout
        );
    }

    #[test]
    fn usage_prefers_billed_units() {
        let u = Usage::read(Some(
            &json!({"billed_units": {"input_tokens": 10.0, "output_tokens": 4},
            "tokens": {"input_tokens": 90, "output_tokens": 5}, "cached_tokens": 3}),
        ));
        assert_eq!(
            u.to_openai(),
            json!({"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14,
                   "prompt_tokens_details": {"cached_tokens": 3}})
        );
        let u = Usage::read(Some(
            &json!({"tokens": {"input_tokens": 90, "output_tokens": 5}}),
        ));
        assert_eq!(u.to_openai()["total_tokens"], 95);
        assert_eq!(Usage::read(None).to_openai()["total_tokens"], 0);
    }
}
