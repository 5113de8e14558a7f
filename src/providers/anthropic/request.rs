//! The unified chat request as a Messages request body.
//!
//! System and developer messages become the top-level `system`; the rest
//! become alternating user/assistant turns, consecutive turns of one role
//! merged into one (tool results are user turns). Content parts become
//! content blocks, keeping their `cache_control`; a message-level
//! `cache_control` is put on the message's last block.

use serde_json::{Map, Value, json};

use super::{DEFAULT_MAX_TOKENS, JSON_TOOL, thinking_budget};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::providers::ProviderError;
use crate::providers::openai_request::{bad, function_tool, tool_call_arguments};

/// A request parameter: the client's, else the deployment's default.
pub(super) struct Params<'a> {
    body: &'a Map<String, Value>,
    defaults: &'a Map<String, Value>,
}

impl<'a> Params<'a> {
    pub(super) fn new(d: &'a Deployment, request: &'a ApiRequest) -> Self {
        Params {
            body: &request.body,
            defaults: &d.defaults,
        }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        let set = |m: &'a Map<String, Value>| m.get(name).filter(|v| !v.is_null());
        set(self.body).or_else(|| set(self.defaults))
    }

    /// Whether a structured answer is asked for (and so [`JSON_TOOL`] used).
    pub(super) fn json_schema(&self) -> Option<Value> {
        let format = self.get("response_format")?;
        match format.get("type").and_then(Value::as_str)? {
            "json_schema" => Some(
                format
                    .pointer("/json_schema/schema")
                    .filter(|s| s.is_object())
                    .cloned()
                    .unwrap_or_else(open_object),
            ),
            "json_object" => Some(open_object()),
            _ => None,
        }
    }
}

fn open_object() -> Value {
    json!({"type": "object", "additionalProperties": true})
}

pub(super) fn body(
    d: &Deployment,
    request: &ApiRequest,
) -> Result<Map<String, Value>, ProviderError> {
    let p = Params::new(d, request);
    let mut out = Map::new();
    out.insert("model".into(), Value::String(d.upstream_model.clone()));
    let (system, messages) = conversation(request.body.get("messages"))?;
    if let Some(system) = system {
        out.insert("system".into(), system);
    }
    out.insert("messages".into(), Value::Array(messages));

    if p.get("n").and_then(Value::as_u64).is_some_and(|n| n > 1) {
        return Err(bad(
            "n",
            "Anthropic returns one choice per request; 'n' above 1 is not supported.",
        ));
    }
    let budget = match p.get("reasoning_effort") {
        None => None,
        Some(Value::String(e)) if e == "none" => None,
        Some(Value::String(e)) => Some(thinking_budget(e).ok_or_else(|| {
            let supported = "none, minimal, low, medium, high";
            let message = format!(
                "Invalid value for 'reasoning_effort': {e:?}. Supported values are: {supported}."
            );
            bad("reasoning_effort", message)
        })?),
        Some(_) => {
            let message = "Invalid type for 'reasoning_effort': expected a string.";
            return Err(bad("reasoning_effort", message));
        }
    };
    let (max_tokens, budget) = max_tokens(&p, d, budget);
    out.insert("max_tokens".into(), max_tokens.into());
    if let Some(budget) = budget {
        out.insert(
            "thinking".into(),
            json!({"type": "enabled", "budget_tokens": budget}),
        );
    } else if let Some(t) = request.body.get("thinking").filter(|t| t.is_object()) {
        out.insert("thinking".into(), t.clone());
    }
    let thinking = out.contains_key("thinking");

    match p.get("stop") {
        Some(Value::String(s)) => {
            out.insert("stop_sequences".into(), json!([s]));
        }
        Some(Value::Array(list)) if !list.is_empty() => {
            out.insert("stop_sequences".into(), Value::Array(list.clone()));
        }
        _ => {}
    }
    for name in ["temperature", "top_p"] {
        if let Some(v) = p.get(name) {
            out.insert(name.into(), v.clone());
        }
    }
    if let Some(v) = request.body.get("top_k").filter(|v| !v.is_null()) {
        out.insert("top_k".into(), v.clone());
    }
    if let Some(Value::String(user)) = p.get("user") {
        out.insert("metadata".into(), json!({"user_id": user}));
    }
    tools(&p, thinking, &mut out)?;
    if request.stream {
        out.insert("stream".into(), Value::Bool(true));
    }
    Ok(out)
}

/// `max_tokens`, and the thinking budget fitted under it: a budget must be
/// below `max_tokens`. A limit set by the request (or a deployment default
/// of it) is kept, and the budget shrinks to fit, though not below
/// Anthropic's 1024 minimum; a limit from `model_info` or the default grows.
fn max_tokens(p: &Params, d: &Deployment, budget: Option<u64>) -> (u64, Option<u64>) {
    let asked = p
        .get("max_completion_tokens")
        .or_else(|| p.get("max_tokens"))
        .and_then(Value::as_u64);
    let configured = ["max_output_tokens", "max_tokens"]
        .iter()
        .find_map(|k| d.model_info.get(*k).and_then(Value::as_u64));
    match (asked, budget) {
        (Some(max), Some(b)) if max <= b => (max, Some(max.saturating_sub(1).max(1024))),
        (Some(max), b) => (max, b),
        (None, b) => {
            let max = configured.unwrap_or(DEFAULT_MAX_TOKENS);
            match b {
                Some(b) if max <= b => (b + DEFAULT_MAX_TOKENS, Some(b)),
                b => (max, b),
            }
        }
    }
}

/// One turn being built: consecutive messages of one role merge into it.
struct Turn {
    role: &'static str,
    blocks: Vec<Value>,
}

type Conversation = (Option<Value>, Vec<Value>);

fn conversation(messages: Option<&Value>) -> Result<Conversation, ProviderError> {
    let messages = messages
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut system = Vec::new();
    let mut turns: Vec<Turn> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        let content = m.get("content").unwrap_or(&Value::Null);
        let (target, mut blocks) = match role {
            "system" | "developer" => (None, text_blocks(content, &at)?),
            "user" => (Some("user"), blocks(content, &at)?),
            "assistant" => (Some("assistant"), assistant_blocks(m, &at)?),
            "tool" => (Some("user"), vec![tool_result(m, &at)?]),
            other => {
                return Err(bad(
                    &format!("{at}.role"),
                    format!(
                        "The '{other}' role is not supported by Anthropic models; use 'tool' messages for tool results."
                    ),
                ));
            }
        };
        if let (Some(cache), Some(last)) = (m.get("cache_control"), blocks.last_mut())
            && let Some(block) = last.as_object_mut()
        {
            block.insert("cache_control".into(), cache.clone());
        }
        match target {
            None => system.append(&mut blocks),
            Some(role) => match turns.last_mut() {
                Some(turn) if turn.role == role => turn.blocks.append(&mut blocks),
                _ if blocks.is_empty() => {}
                _ => turns.push(Turn { role, blocks }),
            },
        }
    }
    // Plain text stays a plain string; blocks only where they carry more.
    let system = if system.is_empty() {
        None
    } else if system.iter().all(is_plain_text) {
        let texts: Vec<&str> = system
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect();
        Some(Value::String(texts.join("\n\n")))
    } else {
        Some(Value::Array(system))
    };
    let messages = turns
        .into_iter()
        .map(|t| {
            let content = match t.blocks.as_slice() {
                [only] if is_plain_text(only) => only["text"].clone(),
                _ => Value::Array(t.blocks),
            };
            json!({"role": t.role, "content": content})
        })
        .collect();
    Ok((system, messages))
}

fn is_plain_text(block: &Value) -> bool {
    block.get("type").and_then(Value::as_str) == Some("text")
        && block.as_object().is_some_and(|b| b.len() == 2)
}

fn parts<'v>(content: &'v Value, at: &str) -> Result<Vec<&'v Value>, ProviderError> {
    match content {
        Value::Null => Ok(Vec::new()),
        Value::Array(parts) => Ok(parts.iter().collect()),
        Value::String(_) => Ok(vec![content]),
        _ => Err(bad(
            &format!("{at}.content"),
            "expected a string or an array of content parts",
        )),
    }
}

/// Text, image and file parts as content blocks.
fn blocks(content: &Value, at: &str) -> Result<Vec<Value>, ProviderError> {
    let mut out = Vec::new();
    for (j, part) in parts(content, at)?.into_iter().enumerate() {
        let at = format!("{at}.content[{j}]");
        let mut block = match part {
            Value::String(s) => {
                out.push(json!({"type": "text", "text": s}));
                continue;
            }
            _ => match part.get("type").and_then(Value::as_str) {
                Some("text") => json!({"type": "text", "text": text_of(part, &at)?}),
                Some("image_url") => {
                    let url = part
                        .get("image_url")
                        .and_then(|i| i.get("url").or(Some(i)))
                        .and_then(Value::as_str)
                        .ok_or_else(|| bad(&at, "an image_url part needs image_url.url"))?;
                    media("image", url, &at)?
                }
                Some("file") => {
                    let data = part
                        .pointer("/file/file_data")
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            let message = "a file part needs file.file_data (a data URL); \
                                           file ids are not supported by Anthropic";
                            bad(&at, message)
                        })?;
                    media("document", data, &at)?
                }
                other => {
                    return Err(bad(
                        &at,
                        format!(
                            "content part type {:?} is not supported by Anthropic models",
                            other.unwrap_or("(none)")
                        ),
                    ));
                }
            },
        };
        if let (Some(cache), Some(b)) = (part.get("cache_control"), block.as_object_mut()) {
            b.insert("cache_control".into(), cache.clone());
        }
        out.push(block);
    }
    Ok(out)
}

fn text_of<'v>(part: &'v Value, at: &str) -> Result<&'v str, ProviderError> {
    part.get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(&format!("{at}.text"), "a text part needs a string 'text'"))
}

/// Only text is allowed (system and developer messages).
fn text_blocks(content: &Value, at: &str) -> Result<Vec<Value>, ProviderError> {
    let blocks = blocks(content, at)?;
    if blocks.iter().any(|b| b["type"] != "text") {
        return Err(bad(
            &format!("{at}.content"),
            "system and developer messages may only hold text",
        ));
    }
    Ok(blocks)
}

/// An image (or PDF document) block from a data URL or an http(s) URL.
fn media(kind: &str, url: &str, at: &str) -> Result<Value, ProviderError> {
    if let Some(rest) = url.strip_prefix("data:") {
        let (meta, data) = rest
            .split_once(',')
            .ok_or_else(|| bad(at, "malformed data URL"))?;
        let mut meta = meta.split(';');
        let media_type = meta.next().unwrap_or("");
        if !meta.any(|p| p == "base64") || media_type.is_empty() {
            return Err(bad(
                at,
                "data URLs must be base64 with a media type, e.g. data:image/png;base64,…",
            ));
        }
        let kind = if media_type == "application/pdf" {
            "document"
        } else {
            kind
        };
        return Ok(
            json!({"type": kind, "source": {"type": "base64", "media_type": media_type, "data": data}}),
        );
    }
    if url.starts_with("https://") || url.starts_with("http://") {
        return Ok(json!({"type": kind, "source": {"type": "url", "url": url}}));
    }
    Err(bad(at, "expected a data URL or an http(s) URL"))
}

/// Text blocks (empty ones dropped: Anthropic refuses them) and tool calls.
fn assistant_blocks(m: &Value, at: &str) -> Result<Vec<Value>, ProviderError> {
    let content = m.get("content").unwrap_or(&Value::Null);
    let mut out: Vec<Value> = blocks(content, at)?
        .into_iter()
        .filter(|b| b["type"] != "text" || b["text"].as_str().is_some_and(|t| !t.is_empty()))
        .collect();
    let calls = m
        .get("tool_calls")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for (j, call) in calls.iter().enumerate() {
        let at = format!("{at}.tool_calls[{j}]");
        let id = call.get("id").and_then(Value::as_str);
        let name = call.pointer("/function/name").and_then(Value::as_str);
        let (Some(id), Some(name)) = (id, name) else {
            return Err(bad(&at, "a tool call needs an id and function.name"));
        };
        let input = tool_call_arguments(call, &at)?;
        out.push(json!({"type": "tool_use", "id": id, "name": name, "input": input}));
    }
    Ok(out)
}

fn tool_result(m: &Value, at: &str) -> Result<Value, ProviderError> {
    let id = m
        .get("tool_call_id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad(
                &format!("{at}.tool_call_id"),
                "a tool message needs a tool_call_id",
            )
        })?;
    let mut block = json!({"type": "tool_result", "tool_use_id": id});
    match m.get("content") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => block["content"] = Value::String(s.clone()),
        Some(content) => block["content"] = Value::Array(blocks(content, at)?),
    }
    Ok(block)
}

/// `tools`, `tool_choice` (with `parallel_tool_calls`) and the structured
/// answer tool. Forcing a tool is refused by Anthropic while thinking, so
/// with thinking on the answer tool is offered, not forced.
fn tools(p: &Params, thinking: bool, out: &mut Map<String, Value>) -> Result<(), ProviderError> {
    let mut tools = Vec::new();
    for (i, t) in p
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let function = function_tool(t, &format!("tools[{i}]"), "Anthropic models")?;
        let mut tool = json!({"name": function.name});
        if let Some(desc) = function.description {
            tool["description"] = desc.clone();
        }
        tool["input_schema"] = function.parameters;
        let f = t.get("function").unwrap_or(t);
        if let Some(cache) = t.get("cache_control").or_else(|| f.get("cache_control")) {
            tool["cache_control"] = cache.clone();
        }
        tools.push(tool);
    }
    let mut choice = match p.get("tool_choice") {
        None => None,
        Some(Value::String(s)) => Some(match s.as_str() {
            "auto" => json!({"type": "auto"}),
            "none" => json!({"type": "none"}),
            "required" => json!({"type": "any"}),
            other => {
                return Err(bad(
                    "tool_choice",
                    format!(
                        "Invalid value for 'tool_choice': {other:?}. Supported values are: none, auto, required, or a named function."
                    ),
                ));
            }
        }),
        Some(v) => match v.pointer("/function/name").and_then(Value::as_str) {
            Some(name) => Some(json!({"type": "tool", "name": name})),
            None => {
                return Err(bad(
                    "tool_choice",
                    "a tool_choice object must name a function: {\"type\": \"function\", \"function\": {\"name\": …}}",
                ));
            }
        },
    };
    if let Some(schema) = p.json_schema() {
        let user_tools = !tools.is_empty();
        let description =
            "Respond with the answer as this tool's input, which must match its schema.";
        tools.push(json!({"name": JSON_TOOL, "description": description, "input_schema": schema}));
        choice = Some(match (thinking, user_tools, choice) {
            (true, _, _) => json!({"type": "auto"}),
            (false, false, _) => json!({"type": "tool", "name": JSON_TOOL}),
            (false, true, Some(c)) => c,
            (false, true, None) => json!({"type": "any"}),
        });
    }
    if tools.is_empty() {
        return Ok(());
    }
    if p.get("parallel_tool_calls") == Some(&Value::Bool(false)) {
        let c = choice.get_or_insert_with(|| json!({"type": "auto"}));
        if c["type"] != "none" {
            c["disable_parallel_tool_use"] = Value::Bool(true);
        }
    }
    out.insert("tools".into(), Value::Array(tools));
    if let Some(c) = choice {
        out.insert("tool_choice".into(), c);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_turns_and_lifts_system() {
        let messages = json!([
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
            {"role": "user", "content": "Hi"},
            {"role": "user", "content": [{"type": "text", "text": "there", "cache_control": {"type": "ephemeral"}}]},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "42"},
            {"role": "user", "content": "thanks"},
        ]);
        let (system, turns) = conversation(Some(&messages)).unwrap();
        assert_eq!(system, Some(json!("Be brief.\n\nUse metric units.")));
        assert_eq!(
            Value::Array(turns),
            json!([
                {"role": "user", "content": [{"type": "text", "text": "Hi"},
                    {"type": "text", "text": "there", "cache_control": {"type": "ephemeral"}}]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "42"},
                    {"type": "text", "text": "thanks"}]},
            ])
        );
    }

    #[test]
    fn images_from_data_and_http_urls() {
        assert_eq!(
            media("image", "data:image/png;base64,AAAA", "x").unwrap(),
            json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}})
        );
        assert_eq!(
            media("image", "https://example.com/a.jpg", "x").unwrap(),
            json!({"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}})
        );
        assert!(media("image", "data:image/png,raw", "x").is_err());
        assert!(media("image", "ftp://x", "x").is_err());
    }
}
