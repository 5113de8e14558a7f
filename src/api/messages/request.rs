//! An Anthropic Messages request translated into an OpenAI chat request,
//! for deployments that speak OpenAI's dialect (or are reached through the
//! unified schema). Total on any JSON: what cannot be read is left out.
//!
//! Field by field:
//! - `system` (string or text blocks) → a leading `system` message;
//! - `messages[]`: text → text parts; `image` (base64 → data URL, or url)
//!   → `image_url` parts; `document` (base64 PDF → `file` part, plain text
//!   → text); assistant `tool_use` → `tool_calls` (input serialized as the
//!   arguments); user `tool_result` → `tool` messages placed before the
//!   rest of that user turn, as OpenAI requires them right after the call
//!   (images inside a result follow in the user message); `thinking` blocks
//!   of earlier turns are dropped (no OpenAI field takes them back);
//! - `tools[].input_schema` → function `parameters` (Anthropic's server
//!   tools, which have no schema, are dropped); `tool_choice` auto → "auto",
//!   any → "required", tool → the named function, none → "none";
//!   `disable_parallel_tool_use` → `parallel_tool_calls: false`;
//! - `max_tokens`, `temperature`, `top_p` as they are; `stop_sequences` →
//!   `stop`; `metadata.user_id` → `user`; `top_k` and other Anthropic-only
//!   fields are dropped (OpenAI rejects unknown parameters);
//! - `thinking: {type: enabled, budget_tokens: N}` → `reasoning_effort`:
//!   "low" below 4,096 tokens, "medium" below 16,384, else "high";
//! - `stream: true` → `stream: true` with `stream_options.include_usage`,
//!   so the closing `message_delta` can carry the usage.

use serde_json::{Map, Value, json};

/// Builds the OpenAI chat request body.
pub fn to_openai(req: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert(
        "model".into(),
        req.get("model").cloned().unwrap_or(Value::Null),
    );
    let mut messages = Vec::new();
    if let Some(system) = req.get("system")
        && let Some(content) = system_content(system)
    {
        messages.push(json!({"role": "system", "content": content}));
    }
    for m in req
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        translate_message(m, &mut messages);
    }
    out.insert("messages".into(), Value::Array(messages));
    for field in ["max_tokens", "temperature", "top_p"] {
        if let Some(v) = req.get(field).filter(|v| v.is_number()) {
            out.insert(field.into(), v.clone());
        }
    }
    if let Some(stops) = req.get("stop_sequences").and_then(Value::as_array) {
        let stops: Vec<Value> = stops.iter().filter(|s| s.is_string()).cloned().collect();
        if !stops.is_empty() {
            out.insert("stop".into(), Value::Array(stops));
        }
    }
    if let Some(user) = req
        .get("metadata")
        .and_then(|m| m.get("user_id"))
        .and_then(Value::as_str)
    {
        out.insert("user".into(), json!(user));
    }
    let tools: Vec<Value> = req
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(tool)
        .collect();
    if !tools.is_empty() {
        // OpenAI accepts a tool choice only together with tools.
        if let Some(choice) = req.get("tool_choice") {
            if let Some(c) = tool_choice(choice) {
                out.insert("tool_choice".into(), c);
            }
            if choice
                .get("disable_parallel_tool_use")
                .and_then(Value::as_bool)
                == Some(true)
            {
                out.insert("parallel_tool_calls".into(), json!(false));
            }
        }
        out.insert("tools".into(), Value::Array(tools));
    }
    let thinking = req.get("thinking");
    if thinking.and_then(|t| t.get("type")).and_then(Value::as_str) == Some("enabled") {
        let budget = thinking
            .and_then(|t| t.get("budget_tokens"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        out.insert("reasoning_effort".into(), json!(reasoning_effort(budget)));
    }
    if req.get("stream").and_then(Value::as_bool) == Some(true) {
        out.insert("stream".into(), json!(true));
        out.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Value::Object(out)
}

fn reasoning_effort(budget_tokens: u64) -> &'static str {
    match budget_tokens {
        0..4096 => "low",
        4096..16384 => "medium",
        _ => "high",
    }
}

fn system_content(system: &Value) -> Option<Value> {
    match system {
        Value::String(s) if !s.is_empty() => Some(json!(s)),
        Value::Array(blocks) => {
            let parts: Vec<Value> = blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .map(|t| json!({"type": "text", "text": t}))
                .collect();
            match parts.len() {
                0 => None,
                1 => parts[0].get("text").cloned(),
                _ => Some(Value::Array(parts)),
            }
        }
        _ => None,
    }
}

fn translate_message(m: &Value, out: &mut Vec<Value>) {
    let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
    let blocks = match m.get("content") {
        Some(Value::String(s)) => {
            out.push(json!({"role": role, "content": s}));
            return;
        }
        Some(Value::Array(blocks)) => blocks,
        _ => return,
    };
    if role == "assistant" {
        out.push(assistant_message(blocks));
        return;
    }
    let mut parts = Vec::new();
    for b in blocks {
        match b.get("type").and_then(Value::as_str) {
            Some("tool_result") => {
                let id = b.get("tool_use_id").and_then(Value::as_str).unwrap_or("");
                let (text, images) = tool_result_content(b.get("content"));
                out.push(json!({"role": "tool", "tool_call_id": id, "content": text}));
                parts.extend(images);
            }
            _ => parts.extend(user_part(b)),
        }
    }
    if parts.is_empty() {
        return;
    }
    let content = match parts.as_slice() {
        [only] if only.get("type").and_then(Value::as_str) == Some("text") => {
            only.get("text").cloned().unwrap_or_default()
        }
        _ => Value::Array(parts),
    };
    out.push(json!({"role": role, "content": content}));
}

/// One user content block as an OpenAI content part.
fn user_part(b: &Value) -> Option<Value> {
    match b.get("type").and_then(Value::as_str)? {
        "text" => {
            let text = b.get("text").and_then(Value::as_str)?;
            Some(json!({"type": "text", "text": text}))
        }
        "image" => {
            let url = source_url(b.get("source")?)?;
            Some(json!({"type": "image_url", "image_url": {"url": url}}))
        }
        "document" => {
            let source = b.get("source")?;
            match source.get("type").and_then(Value::as_str)? {
                "text" => {
                    let text = source.get("data").and_then(Value::as_str)?;
                    Some(json!({"type": "text", "text": text}))
                }
                "base64" => {
                    let data = source_url(source)?;
                    let name = b
                        .get("title")
                        .and_then(Value::as_str)
                        .unwrap_or("document.pdf");
                    Some(json!({"type": "file", "file": {"filename": name, "file_data": data}}))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A `base64` source as a data URL, a `url` source as its URL.
fn source_url(source: &Value) -> Option<String> {
    match source.get("type").and_then(Value::as_str)? {
        "base64" => {
            let media = source.get("media_type").and_then(Value::as_str)?;
            let data = source.get("data").and_then(Value::as_str)?;
            Some(format!("data:{media};base64,{data}"))
        }
        "url" => source
            .get("url")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    }
}

/// A tool result's text for the `tool` message, and its images, which only
/// a user message can carry.
fn tool_result_content(content: Option<&Value>) -> (String, Vec<Value>) {
    match content {
        Some(Value::String(s)) => (s.clone(), Vec::new()),
        Some(Value::Array(blocks)) => {
            let mut texts = Vec::new();
            let mut images = Vec::new();
            for b in blocks {
                match user_part(b) {
                    Some(p) if p.get("type").and_then(Value::as_str) == Some("text") => {
                        texts.push(p["text"].as_str().unwrap_or("").to_string());
                    }
                    Some(p) => images.push(p),
                    None => {}
                }
            }
            (texts.join("\n"), images)
        }
        _ => (String::new(), Vec::new()),
    }
}

fn assistant_message(blocks: &[Value]) -> Value {
    let mut text = String::new();
    let mut calls = Vec::new();
    for b in blocks {
        match b.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(b.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("tool_use") => {
                let input = b.get("input").cloned().unwrap_or_else(|| json!({}));
                calls.push(json!({
                    "id": b.get("id").and_then(Value::as_str).unwrap_or(""),
                    "type": "function",
                    "function": {
                        "name": b.get("name").and_then(Value::as_str).unwrap_or(""),
                        "arguments": input.to_string(),
                    }
                }));
            }
            _ => {}
        }
    }
    let mut message = json!({"role": "assistant", "content": text});
    if !calls.is_empty() {
        if text.is_empty() {
            message["content"] = Value::Null;
        }
        message["tool_calls"] = Value::Array(calls);
    }
    message
}

fn tool(t: &Value) -> Option<Value> {
    let schema = t.get("input_schema")?;
    let name = t.get("name").and_then(Value::as_str)?;
    let mut function = json!({"name": name, "parameters": schema});
    if let Some(d) = t.get("description").and_then(Value::as_str) {
        function["description"] = json!(d);
    }
    Some(json!({"type": "function", "function": function}))
}

fn tool_choice(choice: &Value) -> Option<Value> {
    match choice.get("type").and_then(Value::as_str)? {
        "auto" => Some(json!("auto")),
        "any" => Some(json!("required")),
        "none" => Some(json!("none")),
        "tool" => {
            let name = choice.get("name").and_then(Value::as_str)?;
            Some(json!({"type": "function", "function": {"name": name}}))
        }
        _ => None,
    }
}

/// Anthropic's token counts cannot be reproduced without its tokenizer, so
/// for other deployments `count_tokens` answers with an estimate: one token
/// per 4 characters of the system prompt, the messages' text, tool inputs
/// and results, and the tools' names, descriptions and schemas (serialized),
/// plus 1,600 per image or document (about what Anthropic charges for an
/// image of the largest size it keeps unscaled), rounded up; at least 1.
pub fn estimate_tokens(req: &Map<String, Value>) -> u64 {
    let mut counter = Counter::default();
    if let Some(s) = req.get("system") {
        counter.content(s);
    }
    for m in req
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(c) = m.get("content") {
            counter.content(c);
        }
    }
    for t in req
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for field in ["name", "description"] {
            counter.chars += t.get(field).and_then(Value::as_str).map_or(0, str::len) as u64;
        }
        if let Some(schema) = t.get("input_schema") {
            counter.chars += schema.to_string().len() as u64;
        }
    }
    (counter.chars.div_ceil(4) + counter.media * 1600).max(1)
}

#[derive(Default)]
struct Counter {
    chars: u64,
    media: u64,
}

impl Counter {
    fn content(&mut self, v: &Value) {
        match v {
            Value::String(s) => self.chars += s.len() as u64,
            Value::Array(blocks) => blocks.iter().for_each(|b| self.block(b)),
            _ => {}
        }
    }

    fn block(&mut self, b: &Value) {
        match b.get("type").and_then(Value::as_str) {
            Some("image" | "document") => self.media += 1,
            Some("tool_use") => {
                self.chars += b.get("name").and_then(Value::as_str).map_or(0, str::len) as u64;
                self.chars += b.get("input").map_or(0, |i| i.to_string().len()) as u64;
            }
            Some("tool_result") => {
                if let Some(c) = b.get("content") {
                    self.content(c);
                }
            }
            _ => {
                for field in ["text", "thinking"] {
                    self.chars += b.get(field).and_then(Value::as_str).map_or(0, str::len) as u64;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn translate(v: Value) -> Value {
        to_openai(v.as_object().unwrap())
    }

    #[test]
    fn tool_results_come_first_and_images_follow() {
        let got = translate(json!({
            "model": "m", "max_tokens": 10, "top_k": 5,
            "messages": [
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "s"},
                    {"type": "text", "text": "Let me look."},
                    {"type": "tool_use", "id": "toolu_1", "name": "look", "input": {"q": 1}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": [
                        {"type": "text", "text": "found"},
                        {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}]},
                    {"type": "text", "text": "and?"}]}
            ]
        }));
        assert_eq!(
            got["messages"],
            json!([
                {"role": "assistant", "content": "Let me look.", "tool_calls": [
                    {"id": "toolu_1", "type": "function", "function": {"name": "look", "arguments": "{\"q\":1}"}}]},
                {"role": "tool", "tool_call_id": "toolu_1", "content": "found"},
                {"role": "user", "content": [
                    {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
                    {"type": "text", "text": "and?"}]}
            ])
        );
        assert!(got.get("top_k").is_none());
    }

    #[test]
    fn thinking_budget_maps_to_reasoning_effort() {
        let effort = |n: u64| {
            translate(json!({"thinking": {"type": "enabled", "budget_tokens": n}}))
                ["reasoning_effort"]
                .clone()
        };
        assert_eq!(effort(1024), json!("low"));
        assert_eq!(effort(10000), json!("medium"));
        assert_eq!(effort(31999), json!("high"));
        assert!(
            translate(json!({"thinking": {"type": "disabled"}}))
                .get("reasoning_effort")
                .is_none()
        );
    }

    #[test]
    fn estimate_counts_text_tools_and_media() {
        let req = json!({"system": "abcd", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "abcdefgh"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}]}]});
        assert_eq!(estimate_tokens(req.as_object().unwrap()), 3 + 1600);
        assert_eq!(estimate_tokens(&Map::new()), 1);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            "[a-z_]{0,12}".prop_map(Value::from),
        ];
        let keys = prop_oneof![
            Just("type".to_string()),
            Just("role".to_string()),
            Just("content".to_string()),
            Just("text".to_string()),
            Just("source".to_string()),
            Just("input".to_string()),
            Just("tool_use_id".to_string()),
            Just("input_schema".to_string()),
            Just("name".to_string()),
            "[a-z_]{1,8}",
        ];
        leaf.prop_recursive(5, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((keys.clone(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn translation_and_estimate_never_panic(v in arb_json(), fields in prop::collection::vec(
            prop_oneof![Just("messages"), Just("system"), Just("tools"), Just("tool_choice"),
                        Just("thinking"), Just("metadata"), Just("stop_sequences"), Just("stream")], 0..6)) {
            let mut req = Map::new();
            for f in fields {
                req.insert(f.to_string(), v.clone());
            }
            let out = to_openai(&req);
            prop_assert!(out["messages"].is_array());
            estimate_tokens(&req);
            if let Value::Object(o) = &v {
                to_openai(o);
                estimate_tokens(o);
            }
        }
    }
}
