//! How many tokens a chat prompt takes, for the pre-call context-window
//! check (`enable_pre_call_checks`).
//!
//! OpenAI-family models are counted with OpenAI's own BPE vocabularies
//! (tiktoken: `o200k_base` for gpt-4o, gpt-4.1, gpt-5 and the o-series,
//! `cl100k_base` for gpt-4 and gpt-3.5), with OpenAI's chat framing: 3
//! tokens per message, 1 more for a `name`, 3 to prime the reply. Other
//! providers' tokenizers are not public in a form we can run, so their
//! prompts are counted with `o200k_base` too: an estimate that is usually
//! within about 20 % of the real count (Anthropic's and Gemini's vocabularies
//! split English text slightly finer). Images count 85 tokens each (the
//! low-detail price; the check should not skip a deployment that fits), and
//! tool definitions are counted as their JSON text.

use serde_json::{Map, Value};
use tiktoken_rs::CoreBPE;

const PER_MESSAGE: u64 = 3;
const PER_NAME: u64 = 1;
const REPLY_PRIMING: u64 = 3;
const PER_IMAGE: u64 = 85;

/// Whether `model` is counted exactly (an OpenAI vocabulary) rather than
/// estimated.
pub fn is_exact(model: &str) -> bool {
    vocabulary_for(model).1
}

/// The tokens of a chat request's `messages` (and `tools`) for `model`.
pub fn count(body: &Map<String, Value>, model: &str) -> u64 {
    let (bpe, _) = vocabulary_for(model);
    let text = |s: &str| bpe.encode_ordinary(s).len() as u64;
    let mut total = REPLY_PRIMING;
    for message in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        total += PER_MESSAGE;
        let Some(m) = message.as_object() else {
            continue;
        };
        for (field, value) in m {
            match (field.as_str(), value) {
                ("content", Value::Array(parts)) => total += parts_tokens(parts, &text),
                ("name", Value::String(s)) => total += PER_NAME + text(s),
                (_, Value::String(s)) => total += text(s),
                // tool_calls and the like: their JSON is what the model reads.
                (_, Value::Null) => {}
                (_, other) => total += text(&other.to_string()),
            }
        }
    }
    if let Some(tools) = body.get("tools").filter(|t| !t.is_null()) {
        total += text(&tools.to_string());
    }
    total
}

fn parts_tokens(parts: &[Value], text: &dyn Fn(&str) -> u64) -> u64 {
    parts
        .iter()
        .map(|part| match part.get("type").and_then(Value::as_str) {
            Some("text") => part.get("text").and_then(Value::as_str).map_or(0, text),
            Some("image_url") | Some("image") | Some("input_image") => PER_IMAGE,
            _ => text(&part.to_string()),
        })
        .sum()
}

/// The vocabulary for a model name, and whether it is the model's own.
fn vocabulary_for(model: &str) -> (&'static CoreBPE, bool) {
    let name = model.rsplit('/').next().unwrap_or(model);
    let legacy = ["gpt-4-", "gpt-4", "gpt-3.5", "gpt-35", "text-embedding"];
    let current = [
        "gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt",
    ];
    if current.iter().any(|p| name.starts_with(p)) {
        (tiktoken_rs::o200k_base_singleton(), true)
    } else if legacy.iter().any(|p| name.starts_with(p)) {
        (tiktoken_rs::cl100k_base_singleton(), true)
    } else {
        (tiktoken_rs::o200k_base_singleton(), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn openai_framing_on_a_known_prompt() {
        // "Hello world" is 2 tokens in both vocabularies; "user" is 1.
        let b = body(json!({"messages": [{"role": "user", "content": "Hello world"}]}));
        assert_eq!(count(&b, "gpt-4o"), 3 + 3 + 1 + 2);
        assert_eq!(count(&b, "gpt-4"), 3 + 3 + 1 + 2);
        assert!(is_exact("openai/gpt-4o-mini") && is_exact("gpt-3.5-turbo"));
        assert!(!is_exact("claude-sonnet-4-5"));
    }

    #[test]
    fn parts_names_and_tools_count() {
        let plain = body(json!({"messages": [{"role": "user", "content": "Hello world"}]}));
        let parts = body(json!({"messages": [{"role": "user", "content": [
            {"type": "text", "text": "Hello world"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]}));
        assert_eq!(count(&parts, "gpt-4o"), count(&plain, "gpt-4o") + PER_IMAGE);
        let named =
            body(json!({"messages": [{"role": "user", "name": "ann", "content": "Hello world"}]}));
        assert!(count(&named, "gpt-4o") > count(&plain, "gpt-4o") + PER_NAME);
        let tools = body(
            json!({"messages": [{"role": "user", "content": "Hello world"}],
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]}),
        );
        assert!(count(&tools, "gpt-4o") > count(&plain, "gpt-4o") + 5);
    }

    #[test]
    fn long_prompts_grow_with_their_text() {
        let long = "word ".repeat(10_000);
        let b = body(json!({"messages": [{"role": "user", "content": long}]}));
        let n = count(&b, "gpt-4o");
        assert!((10_000..=10_020).contains(&n), "{n}");
    }
}
