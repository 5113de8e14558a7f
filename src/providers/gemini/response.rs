//! Gemini `GenerateContentResponse` → OpenAI `chat.completion`, and the
//! pieces the stream decoder shares: finish reasons, usage, tool calls.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::request::THOUGHT_SEPARATOR;
use super::{FailureClass, ProviderError, unix_now};
use crate::config::Deployment;

pub fn completion(d: &Deployment, body: &[u8]) -> Result<Value, ProviderError> {
    let response: Value = serde_json::from_slice(body).map_err(|e| {
        ProviderError::new(
            FailureClass::ServerError,
            format!("Gemini answered with a body that is not JSON: {e}"),
        )
    })?;
    let candidates = candidates(&response);
    if candidates.is_empty() {
        return Err(prompt_blocked(&response).unwrap_or_else(|| {
            ProviderError::new(
                FailureClass::ServerError,
                "Gemini answered without candidates",
            )
        }));
    }
    let id = completion_id(&response);
    let mut choices = Vec::with_capacity(candidates.len());
    for (position, candidate) in candidates.iter().enumerate() {
        let index = candidate_index(candidate, position);
        let mut text = String::new();
        let mut reasoning = String::new();
        let mut tool_calls = Vec::new();
        for part in parts(candidate) {
            match part_kind(part) {
                PartKind::Text(t) => text.push_str(t),
                PartKind::Thought(t) => reasoning.push_str(t),
                PartKind::Call => {
                    tool_calls.push(tool_call(&id, index, tool_calls.len(), part));
                }
                PartKind::Other => {}
            }
        }
        let finish = finish_reason(
            candidate.get("finishReason").and_then(Value::as_str),
            !tool_calls.is_empty(),
        );
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
        choices.push(
            json!({"index": index, "message": message, "logprobs": null, "finish_reason": finish}),
        );
    }
    Ok(json!({
        "id": id,
        "object": "chat.completion",
        "created": unix_now(),
        "model": model_name(&response, d),
        "choices": choices,
        "usage": usage(response.get("usageMetadata")),
    }))
}

pub fn candidates(response: &Value) -> &[Value] {
    response
        .get("candidates")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

pub fn parts(candidate: &Value) -> &[Value] {
    candidate
        .pointer("/content/parts")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

pub enum PartKind<'a> {
    Text(&'a str),
    Thought(&'a str),
    Call,
    Other,
}

pub fn part_kind(part: &Value) -> PartKind<'_> {
    if part.get("functionCall").is_some_and(Value::is_object) {
        return PartKind::Call;
    }
    match part.get("text").and_then(Value::as_str) {
        Some(t) if part.get("thought").and_then(Value::as_bool) == Some(true) => {
            PartKind::Thought(t)
        }
        Some(t) => PartKind::Text(t),
        None => PartKind::Other,
    }
}

/// `chatcmpl-` and Gemini's `responseId`, else a fresh id.
pub fn completion_id(response: &Value) -> String {
    match response.get("responseId").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => format!("chatcmpl-{id}"),
        _ => format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
    }
}

pub fn model_name(response: &Value, d: &Deployment) -> String {
    response
        .get("modelVersion")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .unwrap_or(&d.upstream_model)
        .to_string()
}

/// Proto3 JSON leaves out a zero `index`; the position stands in for it.
pub fn candidate_index(candidate: &Value, position: usize) -> u64 {
    candidate
        .get("index")
        .and_then(Value::as_u64)
        .unwrap_or(position as u64)
}

/// Gemini's finish reason in OpenAI's terms. Blocked output (safety,
/// recitation, blocklist, prohibited content, SPII) is `content_filter`;
/// reasons OpenAI has no word for are `stop`.
pub fn finish_reason(reason: Option<&str>, has_tool_calls: bool) -> &'static str {
    match reason {
        Some("MAX_TOKENS") => "length",
        Some(
            "SAFETY"
            | "RECITATION"
            | "BLOCKLIST"
            | "PROHIBITED_CONTENT"
            | "SPII"
            | "IMAGE_SAFETY"
            | "IMAGE_PROHIBITED_CONTENT",
        ) => "content_filter",
        _ if has_tool_calls => "tool_calls",
        _ => "stop",
    }
}

/// An OpenAI tool call from a `functionCall` part. The id is a hash of where
/// the call stands in which response, so a stream and its reassembly agree;
/// a thought signature rides along after `__thought__`.
pub fn tool_call(completion_id: &str, candidate: u64, position: usize, part: &Value) -> Value {
    let call = part.get("functionCall").unwrap_or(&Value::Null);
    let name = call.get("name").and_then(Value::as_str).unwrap_or("");
    let args = match call.get("args") {
        Some(v @ Value::Object(_)) => v.to_string(),
        _ => "{}".to_string(),
    };
    let mut h = Sha256::new();
    for piece in [
        completion_id,
        &candidate.to_string(),
        &position.to_string(),
        name,
        &args,
    ] {
        h.update(piece.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    let mut id = String::with_capacity(29);
    id.push_str("call_");
    for b in &digest[..12] {
        id.push_str(&format!("{b:02x}"));
    }
    if let Some(signature) = part.get("thoughtSignature").and_then(Value::as_str)
        && !signature.is_empty()
    {
        id.push_str(THOUGHT_SEPARATOR);
        id.push_str(signature);
    }
    json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}})
}

/// `usageMetadata` as OpenAI usage. Thinking tokens are output the caller
/// pays for, so `completion_tokens` counts them (`candidatesTokenCount` does
/// not) and `reasoning_tokens` says how many; tool-use prompt tokens count as
/// prompt. `total_tokens` is their sum, which is Gemini's `totalTokenCount`.
pub fn usage(meta: Option<&Value>) -> Value {
    let count = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let prompt = count("promptTokenCount") + count("toolUsePromptTokenCount");
    let thoughts = count("thoughtsTokenCount");
    let completion = count("candidatesTokenCount") + thoughts;
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": count("cachedContentTokenCount")},
        "completion_tokens_details": {"reasoning_tokens": thoughts},
    })
}

/// A prompt Google refused to answer: no candidates, and a `blockReason`.
pub fn prompt_blocked(response: &Value) -> Option<ProviderError> {
    let reason = response
        .pointer("/promptFeedback/blockReason")
        .and_then(Value::as_str)?;
    let detail = response
        .pointer("/promptFeedback/blockReasonMessage")
        .and_then(Value::as_str)
        .map(|m| format!(" {m}"))
        .unwrap_or_default();
    Some(
        ProviderError::new(
            FailureClass::ContentPolicy,
            format!("The prompt was blocked by Gemini (blockReason {reason}).{detail}"),
        )
        .with_code("content_filter"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_counts_thoughts_as_completion() {
        let u = usage(Some(
            &json!({"promptTokenCount": 10, "candidatesTokenCount": 5,
            "thoughtsTokenCount": 7, "cachedContentTokenCount": 4, "totalTokenCount": 22}),
        ));
        assert_eq!(
            u,
            json!({"prompt_tokens": 10, "completion_tokens": 12, "total_tokens": 22,
                   "prompt_tokens_details": {"cached_tokens": 4},
                   "completion_tokens_details": {"reasoning_tokens": 7}})
        );
        assert_eq!(usage(None)["total_tokens"], 0);
    }

    #[test]
    fn finish_reasons() {
        assert_eq!(finish_reason(Some("STOP"), false), "stop");
        assert_eq!(finish_reason(Some("STOP"), true), "tool_calls");
        assert_eq!(finish_reason(Some("MAX_TOKENS"), true), "length");
        for r in [
            "SAFETY",
            "RECITATION",
            "BLOCKLIST",
            "PROHIBITED_CONTENT",
            "SPII",
        ] {
            assert_eq!(finish_reason(Some(r), false), "content_filter");
        }
        assert_eq!(
            finish_reason(Some("MALFORMED_FUNCTION_CALL"), false),
            "stop"
        );
    }

    #[test]
    fn tool_call_ids_are_stable_and_carry_signatures() {
        let part =
            json!({"functionCall": {"name": "f", "args": {"a": 1}}, "thoughtSignature": "c2ln"});
        let a = tool_call("chatcmpl-x", 0, 0, &part);
        assert_eq!(a, tool_call("chatcmpl-x", 0, 0, &part));
        assert_ne!(a["id"], tool_call("chatcmpl-x", 0, 1, &part)["id"]);
        let id = a["id"].as_str().unwrap();
        assert!(
            id.starts_with("call_") && id.ends_with("__thought__c2ln"),
            "{id}"
        );
        assert_eq!(a["function"]["arguments"], "{\"a\":1}");
    }
}
