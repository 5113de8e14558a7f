//! OpenAI chat request → Converse request: `system`, `messages` (user and
//! assistant turns, alternating; content blocks `text`, `image`, `toolUse`,
//! `toolResult`), `inferenceConfig`, `toolConfig` and the pass-through
//! `additionalModelRequestFields` / `guardrailConfig`.

use serde_json::{Map, Value, json};

use super::{JSON_TOOL, Params, ProviderError, bad_request};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;

pub fn body(d: &Deployment, request: &ApiRequest) -> Result<Value, ProviderError> {
    let p = Params::new(d, request);
    let mut turns = Turns::default();
    for (i, m) in request
        .body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        turns.add(m, &format!("messages[{i}]"))?;
    }
    let mut body = Map::new();
    let messages = turns
        .turns
        .iter()
        .map(|(role, content)| json!({"role": role, "content": content}));
    body.insert("messages".into(), messages.collect());
    if !turns.system.is_empty() {
        body.insert("system".into(), Value::Array(turns.system));
    }
    let config = inference_config(&p)?;
    if !config.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(config));
    }
    if let Some(tools) = tool_config(&p, &turns.tool_names)? {
        body.insert("toolConfig".into(), tools);
    }
    let mut extra = match p.get("additionalModelRequestFields") {
        Some(Value::Object(fields)) => fields.clone(),
        Some(_) => {
            return Err(bad_request(
                "additionalModelRequestFields",
                "additionalModelRequestFields must be an object.",
            ));
        }
        None => Map::new(),
    };
    if let Some(k) = p.get("top_k") {
        extra.insert("top_k".into(), k.clone());
    }
    if !extra.is_empty() {
        body.insert("additionalModelRequestFields".into(), Value::Object(extra));
    }
    if let Some(g) = p.get("guardrailConfig") {
        body.insert("guardrailConfig".into(), g.clone());
    }
    Ok(Value::Object(body))
}

/// The schema of the structured answer `response_format` asks for, if any.
pub fn json_schema(p: &Params) -> Result<Option<Value>, ProviderError> {
    let Some(format) = p.get("response_format") else {
        return Ok(None);
    };
    match format.get("type").and_then(Value::as_str) {
        Some("json_schema") => Ok(Some(
            format
                .pointer("/json_schema/schema")
                .filter(|s| s.is_object())
                .cloned()
                .unwrap_or_else(open_object),
        )),
        Some("json_object") => Ok(Some(open_object())),
        Some("text") | None => Ok(None),
        Some(other) => Err(bad_request(
            "response_format",
            format!("response_format type {other:?} is not supported for Bedrock."),
        )),
    }
}

fn open_object() -> Value {
    json!({"type": "object"})
}

#[derive(Default)]
struct Turns {
    turns: Vec<(&'static str, Vec<Value>)>,
    system: Vec<Value>,
    /// Names of the tools the conversation has called, in order.
    tool_names: Vec<String>,
}

impl Turns {
    fn add(&mut self, m: &Value, at: &str) -> Result<(), ProviderError> {
        let content = m.get("content").unwrap_or(&Value::Null);
        match m.get("role").and_then(Value::as_str).unwrap_or("") {
            "system" | "developer" => self.system.extend(text_blocks(content, at)?),
            "user" => {
                let blocks = user_blocks(content, at)?;
                self.push("user", blocks);
            }
            "assistant" => {
                let mut blocks = text_blocks(content, at)?;
                for (j, call) in m
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    blocks.push(self.tool_use(call, &format!("{at}.tool_calls[{j}]"))?);
                }
                self.push("assistant", blocks);
            }
            "tool" => {
                let id = m
                    .get("tool_call_id")
                    .and_then(Value::as_str)
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| {
                        bad_request(
                            &format!("{at}.tool_call_id"),
                            "A tool message needs a tool_call_id.",
                        )
                    })?;
                let block =
                    json!({"toolResult": {"toolUseId": id, "content": [tool_output(content)]}});
                self.push("user", vec![block]);
            }
            other => {
                return Err(bad_request(
                    &format!("{at}.role"),
                    format!(
                        "The role {other:?} cannot be sent to Bedrock; use tool messages for tool results."
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Appends blocks as a turn, merged into the previous turn of the same
    /// role; turns without blocks are left out (Converse refuses them).
    fn push(&mut self, role: &'static str, blocks: Vec<Value>) {
        if blocks.is_empty() {
            return;
        }
        match self.turns.last_mut() {
            Some((last, content)) if *last == role => content.extend(blocks),
            _ => self.turns.push((role, blocks)),
        }
    }

    fn tool_use(&mut self, call: &Value, at: &str) -> Result<Value, ProviderError> {
        let function = call.get("function").unwrap_or(&Value::Null);
        let (Some(id), Some(name)) = (
            call.get("id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty()),
            function
                .get("name")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty()),
        ) else {
            return Err(bad_request(
                at,
                "A tool call needs an id and function.name.",
            ));
        };
        if !self.tool_names.iter().any(|n| n == name) {
            self.tool_names.push(name.to_string());
        }
        let input = match function.get("arguments") {
            None | Some(Value::Null) => json!({}),
            Some(Value::String(s)) if s.trim().is_empty() => json!({}),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(v @ Value::Object(_)) => v,
                // Arguments that are not an object are kept, not lost.
                _ => json!({"arguments": s}),
            },
            Some(v @ Value::Object(_)) => v.clone(),
            Some(other) => json!({"arguments": other}),
        };
        Ok(json!({"toolUse": {"toolUseId": id, "name": name, "input": input}}))
    }
}

/// A tool message's content as one tool-result block: a JSON object as
/// `json`, anything else as `text`.
fn tool_output(content: &Value) -> Value {
    let text = match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(v @ Value::Object(_)) => json!({"json": v}),
        _ => json!({"text": text}),
    }
}

/// Text-only content (system, developer and assistant messages); empty text
/// is left out (Converse refuses blank text blocks).
fn text_blocks(content: &Value, at: &str) -> Result<Vec<Value>, ProviderError> {
    match content {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(text_block(s).into_iter().collect()),
        Value::Array(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for (k, part) in parts.iter().enumerate() {
                let text = match part.get("type").and_then(Value::as_str) {
                    Some("text") => part.get("text"),
                    Some("refusal") => part.get("refusal"),
                    _ => {
                        return Err(bad_request(
                            &format!("{at}.content[{k}]"),
                            "Only text parts are accepted in this message.",
                        ));
                    }
                };
                out.extend(text.and_then(Value::as_str).and_then(text_block));
            }
            Ok(out)
        }
        _ => Err(bad_request(
            &format!("{at}.content"),
            "Expected a string or an array of parts.",
        )),
    }
}

fn text_block(s: &str) -> Option<Value> {
    (!s.trim().is_empty()).then(|| json!({"text": s}))
}

/// A user message: text and images.
fn user_blocks(content: &Value, at: &str) -> Result<Vec<Value>, ProviderError> {
    let Value::Array(parts) = content else {
        return text_blocks(content, at);
    };
    let mut out = Vec::with_capacity(parts.len());
    for (k, part) in parts.iter().enumerate() {
        let here = format!("{at}.content[{k}]");
        match part.get("type").and_then(Value::as_str).unwrap_or("") {
            "text" => out.extend(
                part.get("text")
                    .and_then(Value::as_str)
                    .and_then(text_block),
            ),
            "image_url" => {
                let url = part
                    .get("image_url")
                    .and_then(|u| u.get("url").or(Some(u)))
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad_request(&here, "An image_url part needs a url."))?;
                out.push(image(url, &here)?);
            }
            other => {
                return Err(bad_request(
                    &here,
                    format!("Content parts of type {other:?} cannot be sent to Bedrock."),
                ));
            }
        }
    }
    Ok(out)
}

/// A base64 data URL as an image block; Converse takes the bytes (base64 in
/// JSON), never a URL to fetch.
fn image(url: &str, at: &str) -> Result<Value, ProviderError> {
    let Some(rest) = url.strip_prefix("data:") else {
        return Err(bad_request(
            at,
            "Bedrock takes images as bytes: send a base64 data URL (data:image/png;base64,…); image URLs are not fetched.",
        ));
    };
    let (meta, data) = rest
        .split_once(',')
        .ok_or_else(|| bad_request(at, "The data URL has no ','."))?;
    let format = match meta.strip_suffix(";base64") {
        Some("image/png") => "png",
        Some("image/jpeg" | "image/jpg") => "jpeg",
        Some("image/gif") => "gif",
        Some("image/webp") => "webp",
        _ => {
            return Err(bad_request(
                at,
                "Bedrock accepts base64 png, jpeg, gif and webp images.",
            ));
        }
    };
    Ok(json!({"image": {"format": format, "source": {"bytes": data}}}))
}

fn inference_config(p: &Params) -> Result<Map<String, Value>, ProviderError> {
    let mut c = Map::new();
    if let Some(n) = p.get("n")
        && n.as_u64() != Some(1)
        && !p.dropping
    {
        return Err(bad_request(
            "n",
            "Bedrock's Converse API returns one choice: n must be 1.",
        ));
    }
    if let Some(v) = p
        .get("max_completion_tokens")
        .or_else(|| p.get("max_tokens"))
    {
        c.insert("maxTokens".into(), v.clone());
    }
    for (ours, theirs) in [("temperature", "temperature"), ("top_p", "topP")] {
        if let Some(v) = p.get(ours) {
            c.insert(theirs.into(), v.clone());
        }
    }
    match p.get("stop") {
        Some(Value::String(s)) => {
            c.insert("stopSequences".into(), json!([s]));
        }
        Some(Value::Array(list)) if !list.is_empty() => {
            c.insert("stopSequences".into(), Value::Array(list.clone()));
        }
        _ => {}
    }
    Ok(c)
}

/// `tools`, `tool_choice` and the structured-answer tool as `toolConfig`.
fn tool_config(p: &Params, history: &[String]) -> Result<Option<Value>, ProviderError> {
    let mut specs = Vec::new();
    for (i, tool) in p
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = format!("tools[{i}]");
        if tool
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|k| k != "function")
        {
            return Err(bad_request(
                &at,
                "Only function tools can be sent to Bedrock.",
            ));
        }
        let f = tool.get("function").unwrap_or(tool);
        let name = f
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_request(&format!("{at}.function.name"), "A tool needs a name."))?;
        let schema = f.get("parameters").filter(|s| s.is_object()).cloned();
        let mut spec = json!({"name": name, "inputSchema": {"json": schema.unwrap_or_else(|| json!({"type": "object", "properties": {}}))}});
        if let Some(Value::String(description)) = f.get("description") {
            spec["description"] = Value::String(description.clone());
        }
        specs.push(json!({"toolSpec": spec}));
    }
    if p.get("parallel_tool_calls") == Some(&Value::Bool(false)) && !p.dropping {
        return Err(bad_request(
            "parallel_tool_calls",
            "Bedrock's Converse API cannot limit a model to one tool call per turn.",
        ));
    }
    let none = p.get("tool_choice").and_then(Value::as_str) == Some("none");
    let mut choice = match p.get("tool_choice") {
        None => None,
        Some(Value::String(s)) => match s.as_str() {
            "auto" => Some(json!({"auto": {}})),
            "required" => Some(json!({"any": {}})),
            "none" => None,
            other => {
                return Err(bad_request(
                    "tool_choice",
                    format!(
                        "Invalid value for 'tool_choice': {other:?}. Supported values are: none, auto, required, or a named function."
                    ),
                ));
            }
        },
        Some(v) => match v.pointer("/function/name").and_then(Value::as_str) {
            Some(name) => Some(json!({"tool": {"name": name}})),
            None => {
                return Err(bad_request(
                    "tool_choice",
                    "A named tool_choice needs function.name.",
                ));
            }
        },
    };
    // `none`: the tools are not offered (Converse has no such choice).
    let withheld = if none {
        std::mem::take(&mut specs)
    } else {
        Vec::new()
    };
    if let Some(schema) = json_schema(p)? {
        let description =
            "Respond with the answer as this tool's input, which must match its schema.";
        choice = Some(match choice {
            Some(c) if !specs.is_empty() => c,
            _ => json!({"any": {}}),
        });
        specs.push(json!({"toolSpec": {"name": JSON_TOOL, "description": description, "inputSchema": {"json": schema}}}));
    }
    if specs.is_empty() && !history.is_empty() {
        // Converse requires toolConfig when messages hold tool blocks.
        specs = if withheld.is_empty() {
            history
                .iter()
                .map(|name| json!({"toolSpec": {"name": name, "inputSchema": {"json": open_object()}}}))
                .collect()
        } else {
            withheld
        };
    }
    if specs.is_empty() {
        return Ok(None);
    }
    let mut config = json!({"tools": specs});
    if let Some(c) = choice {
        config["toolChoice"] = c;
    }
    Ok(Some(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_turns_and_lifts_system() {
        let mut t = Turns::default();
        let messages = json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "user", "content": [{"type": "text", "text": "there"}, {"type": "text", "text": " "}]},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "{\"ok\":true}"},
            {"role": "tool", "tool_call_id": "t2", "content": "42"},
            {"role": "user", "content": "thanks"},
        ]);
        for (i, m) in messages.as_array().unwrap().iter().enumerate() {
            t.add(m, &format!("messages[{i}]")).unwrap();
        }
        assert_eq!(t.system, vec![json!({"text": "Be brief."})]);
        assert_eq!(t.tool_names, vec!["f".to_string()]);
        let turns: Vec<Value> = t
            .turns
            .iter()
            .map(|(r, c)| json!({"role": r, "content": c}))
            .collect();
        assert_eq!(
            Value::Array(turns),
            json!([
                {"role": "user", "content": [{"text": "Hi"}, {"text": "there"}]},
                {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {"a": 1}}}]},
                {"role": "user", "content": [
                    {"toolResult": {"toolUseId": "t1", "content": [{"json": {"ok": true}}]}},
                    {"toolResult": {"toolUseId": "t2", "content": [{"text": "42"}]}},
                    {"text": "thanks"}]},
            ])
        );
    }

    #[test]
    fn images_only_from_data_urls() {
        assert_eq!(
            image("data:image/png;base64,AAAA", "x").unwrap(),
            json!({"image": {"format": "png", "source": {"bytes": "AAAA"}}})
        );
        assert!(image("https://example.com/a.png", "x").is_err());
        assert!(image("data:image/tiff;base64,AAAA", "x").is_err());
        assert_eq!(tool_output(&json!("[1]")), json!({"text": "[1]"}));
    }
}
