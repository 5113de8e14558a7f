//! The gateway's estimate of a call's tokens when the provider reports no
//! usage; the result is marked `estimated`. The rule:
//!
//! - Prompt of a chat request: counted as the pre-call context check counts
//!   it (`router::prompt_tokens`: OpenAI's own vocabulary for OpenAI
//!   models, else `o200k_base`, with OpenAI's chat framing of 3 tokens per
//!   message and 3 to prime the answer; 85 per image).
//! - Prompt of an embeddings request: `o200k_base` tokens of each `input`
//!   string (a token-id array counts its length).
//! - Completion of an answer body: `o200k_base` tokens of each choice's
//!   content, reasoning content and tool-call arguments.
//! - Completion of a stream: characters / 4, rounded up, of the streamed
//!   text (counted as it passes, see `stream_usage.rs`; tokenizing on the
//!   hot path would cost more than the estimate is worth).
//!
//! Other providers' tokenizers differ from OpenAI's by some percent either
//! way; hence "estimated".

use serde_json::{Map, Value};

use super::usage::Usage;

/// Tokens of `text` in OpenAI's `o200k_base` vocabulary.
pub fn text_tokens(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    tiktoken_rs::o200k_base_singleton().count_ordinary(text) as u64
}

/// The streamed-text rule: characters / 4, rounded up.
pub fn chars_to_tokens(chars: u64) -> u64 {
    chars.div_ceil(4)
}

/// The prompt tokens of a chat or embeddings request body for `model`.
pub fn prompt_tokens(body: &Map<String, Value>, model: &str) -> u64 {
    if body.contains_key("messages") {
        return crate::router::prompt_tokens::count(body, model);
    }
    match body.get("input") {
        Some(Value::String(s)) => text_tokens(s),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => text_tokens(s),
                Value::Array(ids) => ids.len() as u64,
                _ => 0,
            })
            .sum(),
        _ => 0,
    }
}

fn tool_call_tokens(calls: &Value) -> u64 {
    calls
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let f = c.get("function");
            let text = |k: &str| f.and_then(|f| f.get(k)).and_then(Value::as_str);
            text("name").map_or(0, text_tokens) + text("arguments").map_or(0, text_tokens)
        })
        .sum()
}

/// The completion tokens of an OpenAI chat completion body.
pub fn completion_tokens(body: &Value) -> u64 {
    body.get("choices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("message"))
        .map(|m| {
            let text = |k: &str| m.get(k).and_then(Value::as_str).map_or(0, text_tokens);
            text("content")
                + text("reasoning_content")
                + m.get("tool_calls").map_or(0, tool_call_tokens)
        })
        .sum()
}

/// The estimated usage of a non-streaming exchange with `model`: the
/// request's prompt and, when the answer is a chat completion, its
/// completion.
pub fn exchange(request: &Map<String, Value>, model: &str, answer: &[u8]) -> Usage {
    let answer: Value = serde_json::from_slice(answer).unwrap_or(Value::Null);
    Usage {
        prompt_tokens: prompt_tokens(request, model),
        completion_tokens: completion_tokens(&answer),
        estimated: true,
        ..Usage::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn chat_prompts_are_counted_as_the_context_check_counts_them() {
        // "Hello" and "user" are one o200k token each: 3 + 3 + 1 + 1.
        let body = map(json!({"messages": [{"role": "user", "content": "Hello"}]}));
        assert_eq!(text_tokens("Hello"), 1);
        assert_eq!(prompt_tokens(&body, "claude-sonnet-4-5"), 8);
    }

    #[test]
    fn embeddings_input_counts() {
        assert_eq!(prompt_tokens(&map(json!({"input": "Hello"})), "m"), 1);
        assert_eq!(
            prompt_tokens(&map(json!({"input": ["Hello", "Hello", [1, 2, 3]]})), "m"),
            5
        );
        assert_eq!(prompt_tokens(&map(json!({})), "m"), 0);
    }

    #[test]
    fn completion_of_an_answer_body() {
        let answer = json!({"choices": [{"message": {"role": "assistant", "content": "Hello",
            "tool_calls": [{"function": {"name": "Hello", "arguments": "Hello"}}]}}]});
        assert_eq!(completion_tokens(&answer), 3);
        let u = exchange(
            &map(json!({"messages": [{"role": "user", "content": "Hello"}]})),
            "gpt-4o",
            answer.to_string().as_bytes(),
        );
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.estimated),
            (8, 3, true)
        );
    }

    #[test]
    fn streamed_characters_round_up() {
        assert_eq!(
            (chars_to_tokens(0), chars_to_tokens(1), chars_to_tokens(8)),
            (0, 1, 2)
        );
    }
}
