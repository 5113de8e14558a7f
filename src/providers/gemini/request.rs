//! OpenAI chat request → Gemini `GenerateContentRequest`.
//!
//! Messages become `contents` with roles `user` and `model`; system and
//! developer messages become `systemInstruction`; tool results become
//! `functionResponse` parts (consecutive ones share one `user` turn, as
//! Google asks for parallel calls), named after the assistant tool call
//! whose id they answer.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::{Params, ProviderError, bad_request, schema};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;

/// Tool-call ids carry Gemini's thought signature after this separator
/// (LiteLLM's convention), so it returns with the call as Gemini 3 requires.
pub const THOUGHT_SEPARATOR: &str = "__thought__";

pub fn chat_body(d: &Deployment, request: &ApiRequest) -> Result<Value, ProviderError> {
    let p = Params::new(d, request);
    let messages = request
        .body
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut turns = Turns::default();
    for (i, m) in messages.iter().enumerate() {
        turns.add(m, &format!("messages[{i}]"))?;
    }
    let mut body = Map::new();
    if turns.contents.is_empty() && !turns.system.is_empty() {
        // Google needs at least one turn: the instructions become the prompt.
        let parts = std::mem::take(&mut turns.system);
        turns.contents.push(json!({"role": "user", "parts": parts}));
    }
    body.insert("contents".into(), Value::Array(turns.contents));
    if !turns.system.is_empty() {
        body.insert("systemInstruction".into(), json!({"parts": turns.system}));
    }
    let config = generation_config(&p)?;
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    if let Some(declarations) = function_declarations(&p)? {
        body.insert(
            "tools".into(),
            json!([{"functionDeclarations": declarations}]),
        );
        if let Some(config) = tool_config(&p)? {
            body.insert(
                "toolConfig".into(),
                json!({"functionCallingConfig": config}),
            );
        }
    }
    // Google-specific parameters a client may send through the OpenAI SDK's
    // `extra_body`.
    for (ours, theirs) in [
        ("safety_settings", "safetySettings"),
        ("cached_content", "cachedContent"),
        ("labels", "labels"),
    ] {
        if let Some(v) = p.get(ours).or_else(|| p.get(theirs)) {
            body.insert(theirs.into(), v.clone());
        }
    }
    Ok(Value::Object(body))
}

#[derive(Default)]
struct Turns {
    contents: Vec<Value>,
    system: Vec<Value>,
    /// Tool-call id → function name, from the assistant turns so far.
    call_names: HashMap<String, String>,
    /// Whether the last turn holds only function responses.
    last_is_tool_results: bool,
}

impl Turns {
    fn add(&mut self, m: &Value, at: &str) -> Result<(), ProviderError> {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        let content = m.get("content").unwrap_or(&Value::Null);
        match role {
            "system" | "developer" => self.system.extend(text_parts(content, at)?),
            "user" => {
                let parts = user_parts(content, at)?;
                self.push("user", parts);
            }
            "assistant" => {
                let mut parts = text_parts(content, at)?;
                if let Some(Value::Array(calls)) = m.get("tool_calls") {
                    for (j, call) in calls.iter().enumerate() {
                        parts.push(self.function_call(call, &format!("{at}.tool_calls[{j}]"))?);
                    }
                }
                if let Some(call @ Value::Object(_)) = m.get("function_call") {
                    parts.push(self.function_call(call, &format!("{at}.function_call"))?);
                }
                self.push("model", parts);
            }
            "tool" | "function" => {
                let id = m.get("tool_call_id").and_then(Value::as_str);
                let name = id
                    .and_then(|id| self.call_names.get(id).cloned())
                    .or_else(|| m.get("name").and_then(Value::as_str).map(str::to_string))
                    .ok_or_else(|| {
                        bad_request(
                            &format!("{at}.tool_call_id"),
                            format!(
                                "No earlier assistant tool call has the id {:?} this tool result answers.",
                                id.unwrap_or("")
                            ),
                        )
                    })?;
                let part =
                    json!({"functionResponse": {"name": name, "response": tool_result(content)}});
                match self.contents.last_mut() {
                    Some(Value::Object(turn)) if self.last_is_tool_results => {
                        if let Some(Value::Array(parts)) = turn.get_mut("parts") {
                            parts.push(part);
                        }
                    }
                    _ => {
                        self.contents.push(json!({"role": "user", "parts": [part]}));
                        self.last_is_tool_results = true;
                    }
                }
            }
            other => {
                return Err(bad_request(
                    &format!("{at}.role"),
                    format!("The role {other:?} cannot be sent to Gemini."),
                ));
            }
        }
        Ok(())
    }

    /// Appends a turn; Google rejects turns without parts, so empty ones
    /// (an assistant message with no text and no calls) are left out.
    fn push(&mut self, role: &str, parts: Vec<Value>) {
        if !parts.is_empty() {
            self.contents.push(json!({"role": role, "parts": parts}));
            self.last_is_tool_results = false;
        }
    }

    fn function_call(&mut self, call: &Value, at: &str) -> Result<Value, ProviderError> {
        let function = call.get("function").unwrap_or(call);
        let name = function
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                bad_request(&format!("{at}.function.name"), "A tool call needs a name.")
            })?;
        let id = call.get("id").and_then(Value::as_str).unwrap_or("");
        self.call_names.insert(id.to_string(), name.to_string());
        let mut part =
            json!({"functionCall": {"name": name, "args": arguments(function.get("arguments"))}});
        let signature = id
            .split_once(THOUGHT_SEPARATOR)
            .map(|(_, s)| s)
            .or_else(|| {
                call.pointer("/extra_content/google/thought_signature")
                    .and_then(Value::as_str)
            });
        if let Some(signature) = signature.filter(|s| !s.is_empty()) {
            part["thoughtSignature"] = Value::String(signature.to_string());
        }
        Ok(part)
    }
}

/// Tool-call arguments as the JSON object Gemini's `args` must be. Arguments
/// that are not an object (a model's truncated output, say) are kept whole
/// under `arguments` rather than lost.
fn arguments(raw: Option<&Value>) -> Value {
    match raw {
        Some(Value::String(s)) if s.trim().is_empty() => json!({}),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => v,
            _ => json!({"arguments": s}),
        },
        Some(v @ Value::Object(_)) => v.clone(),
        None | Some(Value::Null) => json!({}),
        Some(other) => json!({"arguments": other}),
    }
}

/// A tool message's content as `functionResponse.response` (a JSON object):
/// an object as it is; anything else under `output`, the key Google's docs
/// give for a function's output.
fn tool_result(content: &Value) -> Value {
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
        Ok(v @ Value::Object(_)) => v,
        Ok(v) => json!({"output": v}),
        Err(_) => json!({"output": text}),
    }
}

/// Text-only content (system, developer and assistant messages).
fn text_parts(content: &Value, at: &str) -> Result<Vec<Value>, ProviderError> {
    match content {
        Value::Null => Ok(Vec::new()),
        Value::String(s) if s.is_empty() => Ok(Vec::new()),
        Value::String(s) => Ok(vec![json!({"text": s})]),
        Value::Array(parts) => {
            let mut out = Vec::new();
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
                if let Some(Value::String(t)) = text
                    && !t.is_empty()
                {
                    out.push(json!({"text": t}));
                }
            }
            Ok(out)
        }
        _ => Err(bad_request(
            &format!("{at}.content"),
            "Expected a string or an array of parts.",
        )),
    }
}

/// A user message: text, images, audio and files.
fn user_parts(content: &Value, at: &str) -> Result<Vec<Value>, ProviderError> {
    let Value::Array(parts) = content else {
        return text_parts(content, at);
    };
    let mut out = Vec::with_capacity(parts.len());
    for (k, part) in parts.iter().enumerate() {
        let here = format!("{at}.content[{k}]");
        let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "text" => {
                if let Some(t) = part
                    .get("text")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                {
                    out.push(json!({"text": t}));
                }
            }
            "image_url" => {
                let url = part
                    .get("image_url")
                    .and_then(|u| u.get("url").or(Some(u)))
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad_request(&here, "An image_url part needs a url."))?;
                out.push(media(url, "image/jpeg", &here)?);
            }
            "input_audio" => {
                let audio = part.get("input_audio");
                let data = audio.and_then(|a| a.get("data")).and_then(Value::as_str);
                let format = audio.and_then(|a| a.get("format")).and_then(Value::as_str);
                let (Some(data), Some(format)) = (data, format) else {
                    return Err(bad_request(
                        &here,
                        "An input_audio part needs data and format.",
                    ));
                };
                out.push(
                    json!({"inlineData": {"mimeType": format!("audio/{format}"), "data": data}}),
                );
            }
            "file" => {
                let file = part.get("file").unwrap_or(&Value::Null);
                let name = file.get("filename").and_then(Value::as_str).unwrap_or("");
                let fallback = guess_mime(name).unwrap_or("application/pdf");
                let url = file
                    .get("file_data")
                    .or_else(|| file.get("file_id"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad_request(&here, "A file part needs file_data or file_id."))?;
                out.push(media(url, fallback, &here)?);
            }
            other => {
                return Err(bad_request(
                    &here,
                    format!("Content parts of type {other:?} cannot be sent to Gemini."),
                ));
            }
        }
    }
    Ok(out)
}

/// A data URL becomes `inlineData`; any other URL (https, gs://, a Files
/// API URI) becomes `fileData` with its type guessed from the extension.
fn media(url: &str, fallback: &str, at: &str) -> Result<Value, ProviderError> {
    if let Some(rest) = url.strip_prefix("data:") {
        let (meta, data) = rest
            .split_once(',')
            .ok_or_else(|| bad_request(at, "The data URL has no ','."))?;
        let Some(mime) = meta.strip_suffix(";base64") else {
            return Err(bad_request(at, "Only base64 data URLs are supported."));
        };
        let mime = if mime.is_empty() { fallback } else { mime };
        return Ok(json!({"inlineData": {"mimeType": mime, "data": data}}));
    }
    let mime = guess_mime(url).unwrap_or(fallback);
    Ok(json!({"fileData": {"mimeType": mime, "fileUri": url}}))
}

fn guess_mime(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "wav" => "audio/wav",
        "mp3" => "audio/mp3",
        "flac" => "audio/flac",
        "ogg" => "audio/ogg",
        "mp4" => "video/mp4",
        "mov" => "video/mov",
        "webm" => "video/webm",
        _ => return None,
    })
}

/// OpenAI's `reasoning_effort` as a thinking budget in tokens, the mapping
/// Google's own OpenAI compatibility layer documents: none disables
/// thinking (where a model allows it).
fn thinking_budget(effort: &str) -> Option<i64> {
    Some(match effort {
        "none" => 0,
        "minimal" | "low" => 1024,
        "medium" => 8192,
        "high" => 24576,
        _ => return None,
    })
}

fn generation_config(p: &Params) -> Result<Map<String, Value>, ProviderError> {
    let mut c = Map::new();
    for (ours, theirs) in [
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("top_k", "topK"),
        ("n", "candidateCount"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
        ("seed", "seed"),
    ] {
        if let Some(v) = p.get(ours) {
            c.insert(theirs.into(), v.clone());
        }
    }
    if let Some(v) = p
        .get("max_completion_tokens")
        .or_else(|| p.get("max_tokens"))
    {
        c.insert("maxOutputTokens".into(), v.clone());
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
    if let Some(format) = p.get("response_format") {
        match format.get("type").and_then(Value::as_str) {
            Some("json_object") => {
                c.insert("responseMimeType".into(), "application/json".into());
            }
            Some("json_schema") => {
                c.insert("responseMimeType".into(), "application/json".into());
                if let Some(s) = format.pointer("/json_schema/schema") {
                    c.insert("responseSchema".into(), schema::convert(s));
                }
            }
            Some("text") | None => {}
            Some(other) => {
                return Err(bad_request(
                    "response_format",
                    format!("response_format type {other:?} is not supported for Gemini."),
                ));
            }
        }
    }
    if let Some(effort) = p.get("reasoning_effort").and_then(Value::as_str) {
        let budget = thinking_budget(effort).ok_or_else(|| {
            bad_request(
                "reasoning_effort",
                format!("Invalid reasoning_effort {effort:?}: expected none, minimal, low, medium or high."),
            )
        })?;
        let mut thinking = json!({"thinkingBudget": budget});
        if budget > 0 {
            // Thought summaries come back as `reasoning_content`.
            thinking["includeThoughts"] = Value::Bool(true);
        }
        c.insert("thinkingConfig".into(), thinking);
    }
    Ok(c)
}

fn function_declarations(p: &Params) -> Result<Option<Vec<Value>>, ProviderError> {
    let Some(Value::Array(tools)) = p.get("tools") else {
        return Ok(None);
    };
    let mut declarations = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let kind = tool
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("function");
        let function = tool
            .get("function")
            .filter(|_| kind == "function")
            .ok_or_else(|| {
                bad_request(
                    &format!("tools[{i}]"),
                    format!("Only function tools can be sent to Gemini, not {kind:?}."),
                )
            })?;
        let name = function
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                bad_request(
                    &format!("tools[{i}].function.name"),
                    "A function needs a name.",
                )
            })?;
        let mut declaration = json!({"name": name});
        if let Some(Value::String(description)) = function.get("description") {
            declaration["description"] = Value::String(description.clone());
        }
        if let Some(parameters) = function.get("parameters") {
            let converted = schema::convert(parameters);
            if !schema::is_empty_object(&converted) && converted != json!({}) {
                declaration["parameters"] = converted;
            }
        }
        declarations.push(declaration);
    }
    Ok((!declarations.is_empty()).then_some(declarations))
}

/// `tool_choice` as `functionCallingConfig`: auto → AUTO, none → NONE,
/// required → ANY, a named function → ANY limited to that name.
fn tool_config(p: &Params) -> Result<Option<Value>, ProviderError> {
    let Some(choice) = p.get("tool_choice") else {
        return Ok(None);
    };
    let config = match choice {
        Value::String(s) if s == "auto" => json!({"mode": "AUTO"}),
        Value::String(s) if s == "none" => json!({"mode": "NONE"}),
        Value::String(s) if s == "required" => json!({"mode": "ANY"}),
        Value::Object(_) => match choice.pointer("/function/name").and_then(Value::as_str) {
            Some(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
            None => {
                return Err(bad_request(
                    "tool_choice",
                    "A named tool_choice needs function.name.",
                ));
            }
        },
        _ => {
            return Err(bad_request(
                "tool_choice",
                "tool_choice must be auto, none, required or a named function.",
            ));
        }
    };
    Ok(Some(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_and_results_become_objects() {
        assert_eq!(arguments(Some(&json!("{\"a\":1}"))), json!({"a": 1}));
        assert_eq!(arguments(Some(&json!(""))), json!({}));
        assert_eq!(
            arguments(Some(&json!("{\"a\":"))),
            json!({"arguments": "{\"a\":"})
        );
        assert_eq!(tool_result(&json!("{\"t\":20}")), json!({"t": 20}));
        assert_eq!(tool_result(&json!("sunny")), json!({"output": "sunny"}));
        assert_eq!(tool_result(&json!("[1,2]")), json!({"output": [1, 2]}));
        assert_eq!(
            tool_result(&json!([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}])),
            json!({"output": "ab"})
        );
    }

    #[test]
    fn media_from_urls() {
        assert_eq!(
            media("data:image/png;base64,AAAA", "image/jpeg", "x").unwrap(),
            json!({"inlineData": {"mimeType": "image/png", "data": "AAAA"}})
        );
        assert_eq!(
            media("https://x.test/cat.WEBP?size=2", "image/jpeg", "x").unwrap(),
            json!({"fileData": {"mimeType": "image/webp", "fileUri": "https://x.test/cat.WEBP?size=2"}})
        );
        assert_eq!(
            media("https://x.test/photo", "image/jpeg", "x").unwrap()["fileData"]["mimeType"],
            "image/jpeg"
        );
        assert!(media("data:text/plain,hello", "image/jpeg", "x").is_err());
        assert_eq!(thinking_budget("high"), Some(24576));
        assert_eq!(thinking_budget("extreme"), None);
    }
}
