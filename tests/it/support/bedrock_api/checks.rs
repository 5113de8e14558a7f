//! What the Bedrock mock checks in a request body, as Bedrock does: unknown
//! members are refused, a conversation starts with a user turn and
//! alternates, content blocks hold one kind of data and no blank text,
//! tool blocks need a `toolConfig`, tool results answer the tool calls
//! before them, inference parameters are in range; InvokeModel bodies
//! follow each model family's documented schema.

use std::collections::HashSet;

use base64::Engine;
use serde_json::{Map, Value};

fn object<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{at}: expected an object"))
}

fn only(v: &Value, at: &str, known: &[&str]) -> Result<(), String> {
    match object(v, at)?.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "Malformed input request: {at}: extraneous key [{k}] is not permitted, please reformat your input and try again."
        )),
        None => Ok(()),
    }
}

/// A union: exactly one member, from `known`.
fn one_of<'a>(v: &'a Value, at: &str, known: &[&str]) -> Result<(&'a str, &'a Value), String> {
    only(v, at, known)?;
    let o = object(v, at)?;
    match (o.len(), o.iter().next()) {
        (1, Some((k, inner))) => Ok((k.as_str(), inner)),
        _ => Err(format!("{at} must hold exactly one of {known:?}")),
    }
}

pub fn converse(body: &Value) -> Result<(), String> {
    only(
        body,
        "#",
        &[
            "messages",
            "system",
            "inferenceConfig",
            "toolConfig",
            "guardrailConfig",
            "additionalModelRequestFields",
            "additionalModelResponseFieldPaths",
            "requestMetadata",
            "performanceConfig",
        ],
    )?;
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .ok_or("messages: at least one message is required")?;
    let mut tool_blocks = false;
    let mut calls: HashSet<&str> = HashSet::new();
    for (i, m) in messages.iter().enumerate() {
        let at = format!("messages.{i}");
        only(m, &at, &["role", "content"])?;
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        let expected = if i % 2 == 0 { "user" } else { "assistant" };
        if i == 0 && role != "user" {
            return Err("A conversation must start with a user message. Try again with a conversation that starts with a user message.".into());
        }
        if role != expected {
            return Err("A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.".into());
        }
        let content = m
            .get("content")
            .and_then(Value::as_array)
            .filter(|c| !c.is_empty())
            .ok_or(format!(
                "{at}.content: at least one content block is required"
            ))?;
        for (j, block) in content.iter().enumerate() {
            let at = format!("{at}.content.{j}");
            let (kind, inner) = one_of(
                block,
                &at,
                &[
                    "text",
                    "image",
                    "document",
                    "toolUse",
                    "toolResult",
                    "reasoningContent",
                    "cachePoint",
                ],
            )?;
            match kind {
                "text" => text(inner, &at)?,
                "image" => image(inner, &at)?,
                "toolUse" if role == "assistant" => {
                    tool_blocks = true;
                    only(inner, &at, &["toolUseId", "name", "input"])?;
                    let id = inner
                        .get("toolUseId")
                        .and_then(Value::as_str)
                        .ok_or(format!("{at}.toolUse.toolUseId is required"))?;
                    inner
                        .get("name")
                        .and_then(Value::as_str)
                        .ok_or(format!("{at}.toolUse.name is required"))?;
                    object(
                        inner.get("input").unwrap_or(&Value::Null),
                        &format!("{at}.toolUse.input"),
                    )?;
                    calls.insert(id);
                }
                "toolResult" if role == "user" => {
                    tool_blocks = true;
                    only(inner, &at, &["toolUseId", "content", "status"])?;
                    let id = inner.get("toolUseId").and_then(Value::as_str).unwrap_or("");
                    if !calls.contains(id) {
                        return Err(format!(
                            "{at}.toolResult: the toolUseId {id:?} does not match a toolUse in the previous assistant turn."
                        ));
                    }
                    for (k, c) in inner
                        .get("content")
                        .and_then(Value::as_array)
                        .ok_or(format!("{at}.toolResult.content is required"))?
                        .iter()
                        .enumerate()
                    {
                        let at = format!("{at}.toolResult.content.{k}");
                        match one_of(c, &at, &["text", "json", "image", "document"])? {
                            ("text", t) => t
                                .as_str()
                                .map(|_| ())
                                .ok_or(format!("{at}.text must be a string"))?,
                            ("json", j) => object(j, &at).map(|_| ())?,
                            (_, i) => image(i, &at)?,
                        }
                    }
                }
                "toolUse" | "toolResult" => {
                    return Err(format!("{at}: a {kind} block cannot be in a {role} turn"));
                }
                _ => {}
            }
        }
        if role == "user" {
            // Only the calls of the assistant turn just before may be answered.
            calls.clear();
        }
    }
    if tool_blocks && body.get("toolConfig").is_none() {
        return Err("The toolConfig field must be defined when using toolUse and toolResult content blocks.".into());
    }
    if let Some(system) = body.get("system") {
        for (i, block) in system
            .as_array()
            .ok_or("system must be a list")?
            .iter()
            .enumerate()
        {
            let at = format!("system.{i}");
            if let ("text", t) = one_of(block, &at, &["text", "guardContent", "cachePoint"])? {
                text(t, &at)?;
            }
        }
    }
    if let Some(config) = body.get("inferenceConfig") {
        only(
            config,
            "inferenceConfig",
            &["maxTokens", "temperature", "topP", "stopSequences"],
        )?;
        if let Some(n) = config.get("maxTokens")
            && n.as_u64().is_none_or(|n| n < 1)
        {
            return Err("inferenceConfig.maxTokens must be an integer of at least 1".into());
        }
        for k in ["temperature", "topP"] {
            if let Some(v) = config.get(k)
                && v.as_f64().is_none_or(|v| !(0.0..=1.0).contains(&v))
            {
                return Err(format!("inferenceConfig.{k} must be a number from 0 to 1"));
            }
        }
        if let Some(stops) = config.get("stopSequences")
            && !stops.as_array().is_some_and(|s| {
                s.len() <= 4 && s.iter().all(|s| s.as_str().is_some_and(|s| !s.is_empty()))
            })
        {
            return Err("inferenceConfig.stopSequences must be at most 4 non-empty strings".into());
        }
    }
    if let Some(config) = body.get("toolConfig") {
        tool_config(config)?;
    }
    Ok(())
}

fn text(v: &Value, at: &str) -> Result<(), String> {
    match v.as_str() {
        Some(t) if !t.trim().is_empty() => Ok(()),
        Some(_) => Err(format!(
            "The text field in the ContentBlock object at {at} is blank. Add text to the text field, and try again."
        )),
        None => Err(format!("{at}.text must be a string")),
    }
}

fn image(v: &Value, at: &str) -> Result<(), String> {
    only(v, at, &["format", "source"])?;
    if !matches!(
        v.get("format").and_then(Value::as_str),
        Some("png" | "jpeg" | "gif" | "webp")
    ) {
        return Err(format!("{at}.image.format must be png, jpeg, gif or webp"));
    }
    let bytes = v
        .pointer("/source/bytes")
        .and_then(Value::as_str)
        .ok_or(format!("{at}.image.source.bytes is required"))?;
    base64::engine::general_purpose::STANDARD
        .decode(bytes)
        .map(|_| ())
        .map_err(|_| format!("{at}.image.source.bytes is not valid base64"))
}

fn tool_config(config: &Value) -> Result<(), String> {
    only(config, "toolConfig", &["tools", "toolChoice"])?;
    let tools = config
        .get("tools")
        .and_then(Value::as_array)
        .filter(|t| !t.is_empty())
        .ok_or("toolConfig.tools: at least one tool is required")?;
    let mut names = HashSet::new();
    for (i, tool) in tools.iter().enumerate() {
        let at = format!("toolConfig.tools.{i}");
        let (_, spec) = one_of(tool, &at, &["toolSpec"])?;
        only(spec, &at, &["name", "description", "inputSchema"])?;
        let name = spec.get("name").and_then(Value::as_str).unwrap_or("");
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(format!(
                "{at}.toolSpec.name {name:?} must match [a-zA-Z0-9_-]{{1,64}}"
            ));
        }
        if !names.insert(name) {
            return Err(format!("The tool name {name} is used more than once."));
        }
        let (_, schema) = one_of(
            spec.get("inputSchema").unwrap_or(&Value::Null),
            &format!("{at}.inputSchema"),
            &["json"],
        )?;
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            return Err(format!(
                "{at}.inputSchema.json must be a JSON schema of type object"
            ));
        }
    }
    if let Some(choice) = config.get("toolChoice") {
        match one_of(choice, "toolChoice", &["auto", "any", "tool"])? {
            ("tool", t) => {
                let name = t.get("name").and_then(Value::as_str).unwrap_or("");
                if !names.contains(name) {
                    return Err(format!(
                        "toolChoice.tool.name {name:?} is not one of the tools"
                    ));
                }
            }
            (_, inner) => only(inner, "toolChoice", &[])?,
        }
    }
    Ok(())
}

/// InvokeModel for the embedding models this mock serves.
pub fn invoke(model: &str, body: &Value) -> Result<(), String> {
    if model.starts_with("amazon.titan-embed-text-v2") {
        only(
            body,
            "#",
            &["inputText", "dimensions", "normalize", "embeddingTypes"],
        )?;
        if body
            .get("inputText")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err("Malformed input request: #: required key [inputText] not found, please reformat your input and try again.".into());
        }
        if let Some(d) = body.get("dimensions")
            && !matches!(d.as_u64(), Some(256 | 512 | 1024))
        {
            return Err(format!(
                "Malformed input request: #/dimensions: {d} is not a valid enum value, please reformat your input and try again."
            ));
        }
        if body.get("normalize").is_some_and(|n| !n.is_boolean()) {
            return Err("Malformed input request: #/normalize: expected type: Boolean".into());
        }
        return Ok(());
    }
    if model.starts_with("cohere.embed") {
        only(
            body,
            "#",
            &[
                "texts",
                "input_type",
                "truncate",
                "embedding_types",
                "images",
                "output_dimension",
            ],
        )?;
        let texts = body
            .get("texts")
            .and_then(Value::as_array)
            .ok_or("Malformed input request: #: required key [texts] not found")?;
        if texts.len() > 96
            || !texts
                .iter()
                .all(|t| t.as_str().is_some_and(|t| t.len() <= 2048))
        {
            return Err("Malformed input request: #/texts: expected at most 96 strings of at most 2048 characters".into());
        }
        if !matches!(
            body.get("input_type").and_then(Value::as_str),
            Some("search_document" | "search_query" | "classification" | "clustering")
        ) {
            return Err("Malformed input request: #/input_type: not a valid enum value".into());
        }
        if let Some(types) = body.get("embedding_types")
            && !types.as_array().is_some_and(|t| {
                t.iter().all(|t| {
                    matches!(
                        t.as_str(),
                        Some("float" | "int8" | "uint8" | "binary" | "ubinary")
                    )
                })
            })
        {
            return Err(
                "Malformed input request: #/embedding_types: not a valid enum value".into(),
            );
        }
        return Ok(());
    }
    Err("The provided model identifier is invalid.".into())
}
