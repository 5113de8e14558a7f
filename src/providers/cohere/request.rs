//! The unified chat request as a Cohere v2 chat body.

use serde_json::{Map, Value, json};

use super::{Params, bad};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::providers::ProviderError;
use crate::providers::openai_request::function_tool;

/// Cohere's documented range for `p`.
const P_RANGE: (f64, f64) = (0.01, 0.99);

pub(super) fn body(d: &Deployment, request: &ApiRequest) -> Result<Value, ProviderError> {
    let p = Params::new(d, request);
    let mut out = Map::new();
    out.insert("model".into(), Value::String(d.upstream_model.clone()));
    out.insert("messages".into(), messages(request.body.get("messages"))?);
    if request.stream {
        out.insert("stream".into(), Value::Bool(true));
    }
    if let Some(n) = p.get("n")
        && n.as_u64() != Some(1)
    {
        return Err(bad(
            "n",
            "Cohere returns one choice per request: n must be 1.",
        ));
    }
    for (from, to) in [
        ("temperature", "temperature"),
        ("top_k", "k"),
        ("seed", "seed"),
        ("frequency_penalty", "frequency_penalty"),
        ("presence_penalty", "presence_penalty"),
    ] {
        if let Some(v) = p.get(from) {
            out.insert(to.into(), v.clone());
        }
    }
    if let Some(top_p) = p.get("top_p") {
        let top_p = top_p
            .as_f64()
            .ok_or_else(|| bad("top_p", "top_p must be a number"))?;
        out.insert("p".into(), json!(top_p.clamp(P_RANGE.0, P_RANGE.1)));
    }
    if let Some(max) = p
        .get("max_completion_tokens")
        .or_else(|| p.get("max_tokens"))
    {
        out.insert("max_tokens".into(), max.clone());
    }
    match p.get("stop") {
        None => {}
        Some(Value::String(s)) => {
            out.insert("stop_sequences".into(), json!([s]));
        }
        Some(Value::Array(list)) if list.iter().all(Value::is_string) => {
            out.insert("stop_sequences".into(), Value::Array(list.clone()));
        }
        Some(_) => return Err(bad("stop", "stop must be a string or an array of strings")),
    }
    tools(&p, &mut out)?;
    response_format(&p, &mut out)?;
    Ok(Value::Object(out))
}

/// System and developer messages joined into one leading system message;
/// the rest in order.
fn messages(messages: Option<&Value>) -> Result<Value, ProviderError> {
    let list = messages
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut system = Vec::new();
    let mut out = Vec::with_capacity(list.len() + 1);
    for (i, m) in list.iter().enumerate() {
        let at = format!("messages[{i}]");
        let content = m.get("content").unwrap_or(&Value::Null);
        match m.get("role").and_then(Value::as_str).unwrap_or("") {
            "system" | "developer" => system.push(text_of(content, &at)?),
            "user" => out.push(json!({"role": "user", "content": user_content(content, &at)?})),
            "assistant" => out.extend(assistant(m, &at)?),
            "tool" => out.push(tool_result(m, &at)?),
            other => {
                return Err(bad(
                    &format!("{at}.role"),
                    format!(
                        "The '{other}' role is not supported by Cohere models; use 'tool' messages for tool results."
                    ),
                ));
            }
        }
    }
    if !system.is_empty() {
        out.insert(0, json!({"role": "system", "content": system.join("\n\n")}));
    }
    Ok(Value::Array(out))
}

fn parts<'v>(content: &'v Value, at: &str) -> Result<&'v [Value], ProviderError> {
    match content {
        Value::Array(parts) => Ok(parts),
        _ => Err(bad(
            &format!("{at}.content"),
            "expected a string or an array of content parts",
        )),
    }
}

/// The text of a message that may only hold text (its text parts joined).
fn text_of(content: &Value, at: &str) -> Result<String, ProviderError> {
    match content {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        _ => {
            let mut text = String::new();
            for (j, part) in parts(content, at)?.iter().enumerate() {
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => text.push_str(part_text(part, &format!("{at}.content[{j}]"))?),
                    // An assistant's earlier refusal is not part of the conversation.
                    Some("refusal") => {}
                    _ => {
                        return Err(bad(
                            &format!("{at}.content[{j}]"),
                            "only text parts are supported in system, assistant and tool messages",
                        ));
                    }
                }
            }
            Ok(text)
        }
    }
}

fn part_text<'v>(part: &'v Value, at: &str) -> Result<&'v str, ProviderError> {
    part.get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(&format!("{at}.text"), "a text part needs a string 'text'"))
}

/// A string stays a string; text and image parts become Cohere's content
/// items (image URLs, http(s) or data URLs, as Command A Vision takes them).
fn user_content(content: &Value, at: &str) -> Result<Value, ProviderError> {
    if let Value::String(_) = content {
        return Ok(content.clone());
    }
    let mut out = Vec::new();
    for (j, part) in parts(content, at)?.iter().enumerate() {
        let at = format!("{at}.content[{j}]");
        match part.get("type").and_then(Value::as_str) {
            Some("text") => out.push(json!({"type": "text", "text": part_text(part, &at)?})),
            Some("image_url") => {
                let image = part.get("image_url").unwrap_or(&Value::Null);
                let url = image
                    .get("url")
                    .or(Some(image))
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(&at, "an image_url part needs image_url.url"))?;
                let mut item = json!({"type": "image_url", "image_url": {"url": url}});
                if let Some(detail) = image.get("detail").filter(|v| v.is_string()) {
                    item["image_url"]["detail"] = detail.clone();
                }
                out.push(item);
            }
            other => {
                return Err(bad(
                    &at,
                    format!(
                        "content part type {:?} is not supported by Cohere models (text and image_url are)",
                        other.unwrap_or("(none)")
                    ),
                ));
            }
        }
    }
    Ok(Value::Array(out))
}

/// An assistant turn. With tool calls its text is Cohere's `tool_plan`; an
/// empty turn (no text, no calls) is left out, as Cohere refuses empty turns.
fn assistant(m: &Value, at: &str) -> Result<Option<Value>, ProviderError> {
    let text = text_of(m.get("content").unwrap_or(&Value::Null), at)?;
    let calls = m
        .get("tool_calls")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if calls.is_empty() {
        return Ok((!text.is_empty()).then(|| json!({"role": "assistant", "content": text})));
    }
    let mut out = Vec::with_capacity(calls.len());
    for (j, call) in calls.iter().enumerate() {
        let at = format!("{at}.tool_calls[{j}]");
        let id = call.get("id").and_then(Value::as_str);
        let name = call.pointer("/function/name").and_then(Value::as_str);
        let (Some(id), Some(name)) = (id, name) else {
            return Err(bad(&at, "a tool call needs an id and function.name"));
        };
        let arguments = match call.pointer("/function/arguments") {
            None | Some(Value::Null) => "{}".to_string(),
            Some(Value::String(s)) if s.trim().is_empty() => "{}".to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        };
        out.push(json!({"id": id, "type": "function",
                        "function": {"name": name, "arguments": arguments}}));
    }
    let mut message = json!({"role": "assistant", "tool_calls": out});
    if !text.is_empty() {
        message["tool_plan"] = Value::String(text);
    }
    Ok(Some(message))
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
    let content = match m.get("content").unwrap_or(&Value::Null) {
        Value::String(s) => Value::String(s.clone()),
        Value::Null => Value::String(String::new()),
        parts => Value::Array(
            self::parts(parts, at)?
                .iter()
                .enumerate()
                .map(|(j, p)| {
                    let text = part_text(p, &format!("{at}.content[{j}]"))?;
                    Ok(json!({"type": "text", "text": text}))
                })
                .collect::<Result<_, ProviderError>>()?,
        ),
    };
    Ok(json!({"role": "tool", "tool_call_id": id, "content": content}))
}

/// `tools`, `tool_choice` and `parallel_tool_calls` (see the module comment
/// of `cohere`).
fn tools(p: &Params, out: &mut Map<String, Value>) -> Result<(), ProviderError> {
    let mut tools = Vec::new();
    for (i, t) in p
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let tool = function_tool(t, &format!("tools[{i}]"), "Cohere models")?;
        let mut function = json!({"name": tool.name, "parameters": tool.parameters});
        if let Some(desc) = tool.description {
            function["description"] = desc.clone();
        }
        tools.push(json!({"type": "function", "function": function}));
    }
    if p.get("parallel_tool_calls") == Some(&Value::Bool(false)) && !p.dropping {
        return Err(bad(
            "parallel_tool_calls",
            "Cohere has no switch against parallel tool calls: parallel_tool_calls: false cannot be honoured. Set drop_params: true to send the request anyway.",
        ));
    }
    let choice = match p.get("tool_choice") {
        None => None,
        Some(Value::String(s)) => match s.as_str() {
            "auto" => None,
            "none" => Some("NONE"),
            "required" => Some("REQUIRED"),
            other => {
                return Err(bad(
                    "tool_choice",
                    format!(
                        "Invalid value for 'tool_choice': {other:?}. Supported values are: none, auto, required, or a named function."
                    ),
                ));
            }
        },
        // Cohere cannot name the tool to call: offer only that one, required.
        Some(v) => {
            let Some(name) = v.pointer("/function/name").and_then(Value::as_str) else {
                return Err(bad(
                    "tool_choice",
                    "a tool_choice object must name a function: {\"type\": \"function\", \"function\": {\"name\": …}}",
                ));
            };
            tools.retain(|t| t.pointer("/function/name").and_then(Value::as_str) == Some(name));
            if tools.is_empty() {
                return Err(bad(
                    "tool_choice",
                    format!("tool_choice names {name:?}, which is not among the tools"),
                ));
            }
            Some("REQUIRED")
        }
    };
    match (tools.is_empty(), choice) {
        (true, Some("REQUIRED")) => Err(bad(
            "tool_choice",
            "tool_choice 'required' needs tools to choose from",
        )),
        (true, _) => Ok(()),
        (false, choice) => {
            out.insert("tools".into(), Value::Array(tools));
            if let Some(c) = choice {
                out.insert("tool_choice".into(), Value::String(c.into()));
            }
            Ok(())
        }
    }
}

fn response_format(p: &Params, out: &mut Map<String, Value>) -> Result<(), ProviderError> {
    let Some(format) = p.get("response_format") else {
        return Ok(());
    };
    let format = match format.get("type").and_then(Value::as_str) {
        Some("text") => return Ok(()),
        Some("json_object") => json!({"type": "json_object"}),
        Some("json_schema") => match format.pointer("/json_schema/schema") {
            Some(schema @ Value::Object(_)) => {
                json!({"type": "json_object", "json_schema": schema})
            }
            _ => json!({"type": "json_object"}),
        },
        _ => {
            return Err(bad(
                "response_format",
                "response_format.type must be text, json_object or json_schema",
            ));
        }
    };
    out.insert("response_format".into(), format);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifts_system_and_maps_tool_turns() {
        let list = json!([
            {"role": "user", "content": "Hi"},
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
            {"role": "assistant", "content": ""},
            {"role": "assistant", "content": "Let me check.", "tool_calls": [{"id": "c1", "type": "function",
                "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "42"}]},
        ]);
        assert_eq!(
            messages(Some(&list)).unwrap(),
            json!([
                {"role": "system", "content": "Be brief.\n\nUse metric units."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "tool_plan": "Let me check.", "tool_calls": [{"id": "c1",
                    "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "42"}]},
            ])
        );
        let bad_role = json!([{"role": "function", "name": "f", "content": "x"}]);
        assert_eq!(
            messages(Some(&bad_role)).unwrap_err().param.as_deref(),
            Some("messages[0].role")
        );
    }

    #[test]
    fn images_keep_their_url_and_detail() {
        let content = json!([{"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}}]);
        assert_eq!(
            user_content(&content, "m").unwrap(),
            json!([{"type": "text", "text": "What is this?"},
                   {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}}])
        );
        let audio = json!([{"type": "input_audio", "input_audio": {}}]);
        assert!(user_content(&audio, "m").is_err());
    }
}
