//! The unified chat request as an `/api/chat` body: `model`, `messages`
//! (role, content as one string, `images`, `thinking`, `tool_calls`,
//! `tool_name`), `tools`, `format`, `options`, `keep_alive`, `think` and an
//! explicit `stream`.

use serde_json::{Map, Value, json};

use super::{Params, ProviderError, bad};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::providers::openai_request::{function_tool, tool_call_arguments};

pub(super) fn chat_body(
    d: &Deployment,
    request: &ApiRequest,
) -> Result<Map<String, Value>, ProviderError> {
    let p = Params::new(d, request);
    let mut out = Map::new();
    out.insert("model".into(), Value::String(d.upstream_model.clone()));
    out.insert("messages".into(), Value::Array(messages(&p, request)?));
    if p.get("n").and_then(Value::as_u64).is_some_and(|n| n > 1) {
        return Err(bad(
            "n",
            "Ollama returns one choice per request; 'n' above 1 is not supported.",
        ));
    }
    if let Some(tools) = tools(&p)? {
        out.insert("tools".into(), tools);
    }
    if let Some(format) = format(&p)? {
        out.insert("format".into(), format);
    }
    let options = options(&p)?;
    if !options.is_empty() {
        out.insert("options".into(), Value::Object(options));
    }
    // Ollama streams unless told not to.
    out.insert("stream".into(), Value::Bool(request.stream));
    if let Some(keep_alive) = keep_alive(&p)? {
        out.insert("keep_alive".into(), keep_alive);
    }
    if let Some(think) = think(&p)? {
        out.insert("think".into(), think);
    }
    Ok(out)
}

/// `keep_alive`: a duration string ("5m", "1h30m") or a number of seconds
/// (0 unloads the model after the answer, negative keeps it loaded).
pub(super) fn keep_alive(p: &Params) -> Result<Option<Value>, ProviderError> {
    match p.get("keep_alive") {
        None => Ok(None),
        Some(v @ (Value::String(_) | Value::Number(_))) => Ok(Some(v.clone())),
        Some(_) => Err(bad(
            "keep_alive",
            "Invalid type for 'keep_alive': expected a duration string (e.g. \"5m\") or a number of seconds.",
        )),
    }
}

/// `think` from `reasoning_effort` (the levels Ollama documents), else a
/// native `think` (a boolean or a level) as sent.
fn think(p: &Params) -> Result<Option<Value>, ProviderError> {
    if let Some(effort) = p.get("reasoning_effort") {
        let level = match effort.as_str() {
            Some("none") => return Ok(Some(Value::Bool(false))),
            Some("minimal" | "low") => "low",
            Some("medium") => "medium",
            Some("high") => "high",
            _ => {
                return Err(bad(
                    "reasoning_effort",
                    format!(
                        "Invalid value for 'reasoning_effort': {effort}. Supported values are: none, minimal, low, medium, high."
                    ),
                ));
            }
        };
        return Ok(Some(Value::String(level.into())));
    }
    match p.get("think") {
        None => Ok(None),
        Some(v @ Value::Bool(_)) => Ok(Some(v.clone())),
        Some(Value::String(s)) if matches!(s.as_str(), "low" | "medium" | "high") => {
            Ok(Some(Value::String(s.clone())))
        }
        Some(_) => Err(bad(
            "think",
            "Invalid value for 'think': expected true, false, \"low\", \"medium\" or \"high\".",
        )),
    }
}

/// `format`: "json" for `json_object`, the schema for `json_schema`, else
/// a native `format` as sent.
fn format(p: &Params) -> Result<Option<Value>, ProviderError> {
    if let Some(rf) = p.get("response_format") {
        return match rf.get("type").and_then(Value::as_str) {
            Some("json_object") => Ok(Some(Value::String("json".into()))),
            Some("json_schema") => Ok(Some(
                rf.pointer("/json_schema/schema")
                    .filter(|s| s.is_object())
                    .cloned()
                    .unwrap_or_else(|| Value::String("json".into())),
            )),
            Some("text") => Ok(None),
            _ => Err(bad(
                "response_format",
                "Invalid 'response_format': expected type text, json_object or json_schema.",
            )),
        };
    }
    match p.get("format") {
        None => Ok(None),
        Some(v @ (Value::String(_) | Value::Object(_))) => Ok(Some(v.clone())),
        Some(_) => Err(bad(
            "format",
            "Invalid 'format': expected \"json\" or a JSON schema object.",
        )),
    }
}

/// Ollama's `options`: a native `options` object first, then the OpenAI
/// parameters mapped onto it (they win where both name one).
fn options(p: &Params) -> Result<Map<String, Value>, ProviderError> {
    let mut out = match p.get("options") {
        None => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => {
            return Err(bad(
                "options",
                "Invalid type for 'options': expected an object.",
            ));
        }
    };
    for name in [
        "temperature",
        "top_p",
        "presence_penalty",
        "frequency_penalty",
    ] {
        if let Some(v) = p.get(name) {
            out.insert(name.into(), v.clone());
        }
    }
    for name in ["top_k", "seed", "num_ctx"] {
        if let Some(v) = p.integer(name)? {
            out.insert(name.into(), v.clone());
        }
    }
    let limit = match p.integer("max_completion_tokens")? {
        Some(v) => Some(v),
        None => p.integer("max_tokens")?,
    };
    if let Some(v) = limit {
        out.insert("num_predict".into(), v.clone());
    }
    match p.get("stop") {
        Some(Value::String(s)) => {
            out.insert("stop".into(), json!([s]));
        }
        Some(Value::Array(list)) if !list.is_empty() => {
            out.insert("stop".into(), Value::Array(list.clone()));
        }
        _ => {}
    }
    Ok(out)
}

/// Function tools as Ollama takes them, and what `tool_choice` and
/// `parallel_tool_calls` allow (Ollama has neither switch).
fn tools(p: &Params) -> Result<Option<Value>, ProviderError> {
    let Some(list) = p.get("tools").and_then(Value::as_array) else {
        return Ok(None);
    };
    match p.get("tool_choice") {
        None => {}
        Some(Value::String(c)) if c == "auto" => {}
        Some(Value::String(c)) if c == "none" => return Ok(None),
        Some(choice) => p.refuse(
            "tool_choice",
            format!(
                "Ollama cannot force a tool call (tool_choice {choice}); only \"auto\" and \"none\" are supported."
            ),
        )?,
    }
    if p.get("parallel_tool_calls") == Some(&Value::Bool(false)) {
        p.refuse(
            "parallel_tool_calls",
            "Ollama cannot limit a turn to one tool call (parallel_tool_calls: false).".into(),
        )?;
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, t) in list.iter().enumerate() {
        if t.get("type").and_then(Value::as_str) != Some("function") {
            return Err(bad(
                &format!("tools[{i}].type"),
                "only function tools are supported by Ollama",
            ));
        }
        let tool = function_tool(t, &format!("tools[{i}]"), "Ollama")?;
        let mut function = json!({"name": tool.name, "parameters": tool.parameters});
        if let Some(desc) = tool.description {
            function["description"] = desc.clone();
        }
        out.push(json!({"type": "function", "function": function}));
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

fn messages(p: &Params, request: &ApiRequest) -> Result<Vec<Value>, ProviderError> {
    let list = request
        .body
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut out = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let at = format!("messages[{i}]");
        let content = m.get("content").unwrap_or(&Value::Null);
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        let message = match role {
            "system" | "developer" => {
                let (text, images) = parts(p, content, &at)?;
                if !images.is_empty() {
                    return Err(bad(
                        &format!("{at}.content"),
                        "system and developer messages may only hold text",
                    ));
                }
                json!({"role": "system", "content": text})
            }
            "user" => {
                let (text, images) = parts(p, content, &at)?;
                let mut message = json!({"role": "user", "content": text});
                if !images.is_empty() {
                    message["images"] = Value::Array(images);
                }
                message
            }
            "assistant" => assistant(p, m, &at)?,
            "tool" | "function" => {
                let (text, _) = parts(p, content, &at)?;
                let mut message = json!({"role": "tool", "content": text});
                if let Some(name) = tool_name(m, &list[..i]) {
                    message["tool_name"] = Value::String(name.to_string());
                }
                message
            }
            other => {
                return Err(bad(
                    &format!("{at}.role"),
                    format!("The '{other}' role is not supported by Ollama."),
                ));
            }
        };
        out.push(message);
    }
    Ok(out)
}

/// The name of the tool a tool result answers: the message's own `name`,
/// else the name of the assistant tool call with its `tool_call_id`.
fn tool_name<'v>(m: &'v Value, before: &'v [Value]) -> Option<&'v str> {
    if let Some(name) = m.get("name").and_then(Value::as_str) {
        return Some(name);
    }
    let id = m.get("tool_call_id").and_then(Value::as_str)?;
    before.iter().rev().find_map(|prev| {
        prev.get("tool_calls")?
            .as_array()?
            .iter()
            .find(|c| c.get("id").and_then(Value::as_str) == Some(id))?
            .pointer("/function/name")?
            .as_str()
    })
}

fn assistant(p: &Params, m: &Value, at: &str) -> Result<Value, ProviderError> {
    let (text, _) = parts(p, m.get("content").unwrap_or(&Value::Null), at)?;
    let mut message = json!({"role": "assistant", "content": text});
    // Our own answers carry the thinking as reasoning_content; models that
    // think keep their reasoning across tool calls when it is sent back.
    if let Some(thinking) = m
        .get("reasoning_content")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        message["thinking"] = Value::String(thinking.to_string());
    }
    let calls = m
        .get("tool_calls")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut out = Vec::with_capacity(calls.len());
    for (j, call) in calls.iter().enumerate() {
        let at = format!("{at}.tool_calls[{j}]");
        let Some(name) = call.pointer("/function/name").and_then(Value::as_str) else {
            return Err(bad(&at, "a tool call needs function.name"));
        };
        let arguments = tool_call_arguments(call, &at)?;
        out.push(json!({"function": {"name": name, "arguments": arguments}}));
    }
    if !out.is_empty() {
        message["tool_calls"] = Value::Array(out);
    }
    Ok(message)
}

/// A message's content as Ollama's one string (text parts joined by a
/// newline) and its images (base64, from data URLs).
fn parts(p: &Params, content: &Value, at: &str) -> Result<(String, Vec<Value>), ProviderError> {
    let list = match content {
        Value::Null => return Ok((String::new(), Vec::new())),
        Value::String(s) => return Ok((s.clone(), Vec::new())),
        Value::Array(list) => list,
        _ => {
            return Err(bad(
                &format!("{at}.content"),
                "expected a string or an array of content parts",
            ));
        }
    };
    let (mut texts, mut images) = (Vec::new(), Vec::new());
    for (j, part) in list.iter().enumerate() {
        let at = format!("{at}.content[{j}]");
        match part.get("type").and_then(Value::as_str) {
            Some("text") => match part.get("text").and_then(Value::as_str) {
                Some(t) => texts.push(t),
                None => return Err(bad(&format!("{at}.text"), "a text part needs a string 'text'")),
            },
            Some("image_url") => {
                let url = part
                    .get("image_url")
                    .and_then(|i| i.get("url").or(Some(i)))
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(&at, "an image_url part needs image_url.url"))?;
                if let Some(data) = base64_of(url, &at)? {
                    images.push(Value::String(data.to_string()));
                } else {
                    p.refuse(
                        &at,
                        "Ollama takes images as base64 data URLs (data:image/png;base64,…); the gateway does not fetch image URLs."
                            .into(),
                    )?;
                }
            }
            other => p.refuse(
                &at,
                format!(
                    "Content parts of type {:?} are not supported by Ollama (text and image_url are).",
                    other.unwrap_or("(none)")
                ),
            )?,
        }
    }
    Ok((texts.join("\n"), images))
}

/// The base64 payload of a `data:…;base64,` URL; `None` for an http(s)
/// URL (which Ollama cannot take).
fn base64_of<'u>(url: &'u str, at: &str) -> Result<Option<&'u str>, ProviderError> {
    if let Some(rest) = url.strip_prefix("data:") {
        let (meta, data) = rest
            .split_once(',')
            .ok_or_else(|| bad(at, "malformed data URL"))?;
        if !meta.split(';').any(|p| p == "base64") || data.is_empty() {
            return Err(bad(
                at,
                "image data URLs must be base64, e.g. data:image/png;base64,…",
            ));
        }
        return Ok(Some(data));
    }
    if url.starts_with("https://") || url.starts_with("http://") {
        return Ok(None);
    }
    Err(bad(at, "expected a data URL or an http(s) URL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_results_are_named_after_their_call() {
        let messages = json!([
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}},
                {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": ""}},
            ]},
            {"role": "tool", "tool_call_id": "call_b", "content": "noon"},
            {"role": "tool", "tool_call_id": "call_x", "content": "?"},
        ]);
        let list = messages.as_array().unwrap();
        assert_eq!(tool_name(&list[1], &list[..1]), Some("get_time"));
        assert_eq!(tool_name(&list[2], &list[..2]), None);
    }

    #[test]
    fn data_urls_give_their_base64() {
        assert_eq!(
            base64_of("data:image/png;base64,AAAA", "x").unwrap(),
            Some("AAAA")
        );
        assert_eq!(base64_of("https://example.com/a.png", "x").unwrap(), None);
        assert!(base64_of("data:image/png,raw", "x").is_err());
        assert!(base64_of("ftp://x", "x").is_err());
    }
}
