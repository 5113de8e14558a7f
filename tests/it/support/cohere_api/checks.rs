//! The checks the mock makes, each answering with Cohere's documented
//! message (see the module comment of `cohere_api`).

use serde_json::{Map, Value};

const CHAT_FIELDS: &[&str] = &[
    "model",
    "messages",
    "stream",
    "tools",
    "strict_tools",
    "documents",
    "citation_options",
    "response_format",
    "safety_mode",
    "max_tokens",
    "stop_sequences",
    "temperature",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "k",
    "p",
    "logprobs",
    "tool_choice",
    "thinking",
];
const EMBED_FIELDS: &[&str] = &[
    "model",
    "input_type",
    "texts",
    "images",
    "inputs",
    "max_tokens",
    "output_dimension",
    "embedding_types",
    "truncate",
];
const RERANK_FIELDS: &[&str] = &["model", "query", "documents", "top_n", "max_tokens_per_doc"];

/// `model` required, nothing undocumented.
fn common(body: &Map<String, Value>, known: &[&str]) -> Result<(), String> {
    if let Some(k) = body.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(format!(
            "invalid request: unknown field: parameter {k} is not a valid field"
        ));
    }
    match body.get("model") {
        Some(Value::String(m)) if !m.is_empty() => Ok(()),
        _ => Err("invalid request: a model parameter is required for this endpoint.".into()),
    }
}

fn number_in(body: &Map<String, Value>, name: &str, lo: f64, hi: f64) -> Result<(), String> {
    match body.get(name) {
        None => Ok(()),
        Some(v) if v.as_f64().is_some_and(|n| (lo..=hi).contains(&n)) => Ok(()),
        Some(v) => Err(format!(
            "invalid request: {name} must be between {lo} and {hi} inclusive - received {v}"
        )),
    }
}

pub fn validate_chat(body: &Map<String, Value>) -> Result<(), String> {
    common(body, CHAT_FIELDS)?;
    let messages = match body.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => m,
        _ => return Err("invalid request: messages must not be empty".into()),
    };
    let mut calls: Vec<&str> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let content = m.get("content");
        match m.get("role").and_then(Value::as_str).unwrap_or("") {
            "system" if i > 0 => return Err("system turn must be the first in the list".into()),
            "system" | "user" => check_content(content, i)?,
            "assistant" => {
                let tool_calls = m.get("tool_calls").and_then(Value::as_array);
                match tool_calls {
                    Some(list) if !list.is_empty() => {
                        for c in list {
                            let ok = c["id"].is_string()
                                && c["type"] == "function"
                                && c["function"]["name"].is_string()
                                && c["function"]["arguments"]
                                    .as_str()
                                    .is_some_and(|a| serde_json::from_str::<Value>(a).is_ok());
                            if !ok {
                                return Err(format!(
                                    "invalid request: messages[{i}].tool_calls: each needs an id, type function, function.name and function.arguments as a JSON string"
                                ));
                            }
                            calls.push(c["id"].as_str().unwrap());
                        }
                    }
                    _ => check_content(content, i)?,
                }
            }
            "tool" => {
                let id = m.get("tool_call_id").and_then(Value::as_str).unwrap_or("");
                if !calls.contains(&id) {
                    return Err(format!(
                        "invalid request: messages[{i}]: tool_call_id {id:?} does not match any tool call of an earlier assistant message"
                    ));
                }
                if !content.is_some_and(|c| c.is_string() || c.is_array()) {
                    return Err(format!(
                        "invalid request: messages[{i}]: tool content is required"
                    ));
                }
            }
            role => {
                return Err(format!(
                    "invalid request: role {role:?} is invalid. Role must be one of the following: system, user, assistant, tool"
                ));
            }
        }
    }
    let tools = match body.get("tools") {
        None => None,
        Some(Value::Array(t)) => Some(t),
        Some(_) => return Err("invalid request: tools must be a list".into()),
    };
    for t in tools.into_iter().flatten() {
        if t["type"] != "function"
            || !t["function"]["name"].is_string()
            || !t["function"]["parameters"].is_object()
        {
            return Err(format!(
                "invalid request: invalid tool {t}: type function, function.name and function.parameters are required"
            ));
        }
    }
    if let Some(choice) = body.get("tool_choice") {
        if !matches!(choice.as_str(), Some("REQUIRED" | "NONE")) {
            return Err(format!(
                "invalid request: tool_choice must be one of REQUIRED, NONE - received {choice}"
            ));
        }
        if tools.is_none_or(|t| t.is_empty()) {
            return Err("invalid request: tool_choice requires the tools parameter".into());
        }
    }
    if let Some(format) = body.get("response_format") {
        if !matches!(format["type"].as_str(), Some("text" | "json_object")) {
            return Err(format!(
                "invalid request: response_format.type must be text or json_object - received {}",
                format["type"]
            ));
        }
        if tools.is_some() {
            return Err("invalid request: response_format is not supported with tools.".into());
        }
    }
    number_in(body, "p", 0.01, 0.99)?;
    number_in(body, "k", 0.0, 500.0)?;
    number_in(body, "temperature", 0.0, 5.0)?;
    number_in(body, "frequency_penalty", 0.0, 1.0)?;
    number_in(body, "presence_penalty", 0.0, 1.0)?;
    if let Some(stops) = body.get("stop_sequences")
        && !stops
            .as_array()
            .is_some_and(|s| s.len() <= 5 && s.iter().all(Value::is_string))
    {
        return Err("invalid request: stop_sequences must be a list of at most 5 strings".into());
    }
    if let Some(max) = body.get("max_tokens")
        && !matches!(max.as_u64(), Some(1..))
    {
        return Err("invalid request: max_tokens must be a positive integer".into());
    }
    Ok(())
}

/// A string, or text and image_url items; never empty.
fn check_content(content: Option<&Value>, i: usize) -> Result<(), String> {
    let ok = match content {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(items)) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|it| match it["type"].as_str().unwrap_or("") {
                        "text" => it["text"].is_string(),
                        "image_url" => it["image_url"]["url"].is_string(),
                        _ => false,
                    })
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid request: message must not be empty in a turn (messages[{i}])"
        ))
    }
}

pub fn validate_embed(body: &Map<String, Value>) -> Result<(), String> {
    common(body, EMBED_FIELDS)?;
    if !matches!(
        body.get("input_type").and_then(Value::as_str),
        Some("search_document" | "search_query" | "classification" | "clustering" | "image")
    ) {
        return Err(
            "invalid request: valid input_type must be provided with the provided model".into(),
        );
    }
    let types = body.get("embedding_types").and_then(Value::as_array);
    if !types.is_some_and(|t| !t.is_empty() && t.iter().all(Value::is_string)) {
        return Err(
            "invalid request: embedding_types is required for embed models v3 and higher".into(),
        );
    }
    let texts = match body.get("texts") {
        Some(Value::Array(t)) if !t.is_empty() && t.iter().all(Value::is_string) => t,
        _ => return Err("invalid request: texts must be a non-empty list of strings".into()),
    };
    if texts.len() > 96 {
        return Err(format!(
            "invalid request: total number of texts must be at most 96 - received {}",
            texts.len()
        ));
    }
    if let Some(dims) = body.get("output_dimension")
        && !matches!(dims.as_u64(), Some(256 | 512 | 1024 | 1536))
    {
        return Err(format!(
            "invalid request: output_dimension must be one of 256, 512, 1024, 1536 - received {dims}"
        ));
    }
    Ok(())
}

pub fn validate_rerank(body: &Map<String, Value>) -> Result<(), String> {
    common(body, RERANK_FIELDS)?;
    if body
        .get("query")
        .and_then(Value::as_str)
        .is_none_or(|q| q.trim().is_empty())
    {
        return Err("invalid request: query must not be empty or be only whitespace".into());
    }
    match body.get("documents") {
        Some(Value::Array(d)) if !d.is_empty() && d.iter().all(Value::is_string) => {}
        Some(Value::Array(d)) if !d.is_empty() => {
            return Err("invalid request: documents must be a list of strings".into());
        }
        _ => return Err("invalid request: list of documents must not be empty".into()),
    }
    for name in ["top_n", "max_tokens_per_doc"] {
        if let Some(v) = body.get(name)
            && !matches!(v.as_u64(), Some(1..))
        {
            return Err(format!(
                "invalid request: {name} must be a positive integer"
            ));
        }
    }
    Ok(())
}
