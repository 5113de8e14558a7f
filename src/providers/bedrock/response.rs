//! Converse response → OpenAI `chat.completion`, and the pieces the stream
//! decoder shares: finish reasons and usage.

use serde_json::{Map, Value, json};

use super::{JSON_TOOL, Params, ProviderError, not_json, request, unix_now};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;

pub fn completion(d: &Deployment, req: &ApiRequest, body: &[u8]) -> Result<Value, ProviderError> {
    let response: Value = serde_json::from_slice(body).map_err(|e| not_json("a body", &e))?;
    let json_mode = request::json_schema(&Params::new(d, req))?.is_some();
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut answer = None;
    let mut tool_calls = Vec::new();
    for block in response
        .pointer("/output/message/content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(t) = block.get("text").and_then(Value::as_str) {
            text.push_str(t);
        } else if let Some(t) = block
            .pointer("/reasoningContent/reasoningText/text")
            .and_then(Value::as_str)
        {
            reasoning.push_str(t);
        } else if let Some(call) = block.get("toolUse") {
            let name = call.get("name").and_then(Value::as_str).unwrap_or("");
            let input = call.get("input").cloned().unwrap_or_else(|| json!({}));
            if json_mode && name == JSON_TOOL {
                answer = Some(input.to_string());
                continue;
            }
            tool_calls.push(json!({
                "id": call.get("toolUseId").and_then(Value::as_str).unwrap_or(""),
                "type": "function",
                "function": {"name": name, "arguments": input.to_string()},
            }));
        }
    }
    let answered = answer.is_some() && tool_calls.is_empty();
    if let Some(answer) = answer {
        text = answer;
    }
    let finish = finish_reason(response.get("stopReason").and_then(Value::as_str), answered);
    let mut message = Map::new();
    message.insert("role".into(), "assistant".into());
    message.insert(
        "content".into(),
        if text.is_empty() {
            Value::Null
        } else {
            Value::String(text)
        },
    );
    message.insert("refusal".into(), Value::Null);
    if !tool_calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(tool_calls));
    }
    if !reasoning.is_empty() {
        message.insert("reasoning_content".into(), Value::String(reasoning));
    }
    Ok(json!({
        "id": completion_id(),
        "object": "chat.completion",
        "created": unix_now(),
        "model": d.upstream_model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": usage(response.get("usage")),
    }))
}

/// Converse answers carry no id; the gateway makes one.
pub fn completion_id() -> String {
    format!("chatcmpl-{}", uuid::Uuid::new_v4().simple())
}

/// Bedrock's `stopReason` in OpenAI's terms. `answered`: the structured
/// answer tool was called (and no other tool), which is a finished answer.
pub fn finish_reason(reason: Option<&str>, answered: bool) -> &'static str {
    match reason {
        Some("tool_use") if answered => "stop",
        Some("tool_use") => "tool_calls",
        Some("max_tokens" | "model_context_window_exceeded") => "length",
        Some("guardrail_intervened" | "content_filtered") => "content_filter",
        _ => "stop",
    }
}

/// Converse `usage` as OpenAI usage. Cached prompt tokens (read or written)
/// are not in `inputTokens`, so they are added to `prompt_tokens`; when
/// Bedrock reports cache counts they are also kept under LiteLLM's names,
/// `cache_read_input_tokens` and `cache_creation_input_tokens`, for cost
/// accounting (a write costs more than input, a read less).
pub fn usage(usage: Option<&Value>) -> Value {
    let field = |k: &str| usage.and_then(|u| u.get(k)).and_then(Value::as_u64);
    let count = |k: &str| field(k).unwrap_or(0);
    let cache_read = count("cacheReadInputTokens");
    let cache_write = count("cacheWriteInputTokens");
    let prompt = count("inputTokens") + cache_read + cache_write;
    let completion = count("outputTokens");
    let mut out = json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cache_read},
    });
    if field("cacheReadInputTokens").is_some() || field("cacheWriteInputTokens").is_some() {
        out["cache_read_input_tokens"] = json!(cache_read);
        out["cache_creation_input_tokens"] = json!(cache_write);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reasons() {
        assert_eq!(finish_reason(Some("end_turn"), false), "stop");
        assert_eq!(finish_reason(Some("stop_sequence"), false), "stop");
        assert_eq!(finish_reason(Some("max_tokens"), false), "length");
        assert_eq!(finish_reason(Some("tool_use"), false), "tool_calls");
        assert_eq!(finish_reason(Some("tool_use"), true), "stop");
        assert_eq!(
            finish_reason(Some("guardrail_intervened"), false),
            "content_filter"
        );
        assert_eq!(
            finish_reason(Some("content_filtered"), false),
            "content_filter"
        );
        assert_eq!(finish_reason(None, false), "stop");
    }

    #[test]
    fn usage_counts_cached_prompt_tokens() {
        let u = usage(Some(
            &json!({"inputTokens": 10, "outputTokens": 5, "totalTokens": 19,
            "cacheReadInputTokens": 3, "cacheWriteInputTokens": 1}),
        ));
        assert_eq!(
            u,
            json!({"prompt_tokens": 14, "completion_tokens": 5, "total_tokens": 19,
                   "prompt_tokens_details": {"cached_tokens": 3},
                   "cache_read_input_tokens": 3, "cache_creation_input_tokens": 1})
        );
        // Without cache counts, no cache fields (the answer looks as before).
        let u = usage(Some(&json!({"inputTokens": 10, "outputTokens": 5})));
        assert!(u.get("cache_creation_input_tokens").is_none());
        assert_eq!(usage(None)["total_tokens"], 0);
    }
}
