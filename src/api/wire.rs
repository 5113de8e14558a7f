//! The unified request: the client's JSON body kept whole (so every field
//! the gateway does not interpret reaches the upstream untouched), plus the
//! few fields the gateway itself reads, validated once.

use serde_json::{Map, Value};

use super::error::ApiError;
use crate::providers::Operation;

#[derive(Debug)]
pub struct ApiRequest {
    pub op: Operation,
    pub model: String,
    pub stream: bool,
    pub include_usage: bool,
    pub body: Map<String, Value>,
}

#[derive(Clone, Copy)]
enum Shape {
    Bool,
    Integer,
    Number,
    String,
    Object,
    Array,
    StringOrArray,
    StringOrObject,
}

impl Shape {
    fn accepts(self, v: &Value) -> bool {
        match self {
            Shape::Bool => v.is_boolean(),
            Shape::Integer => v.is_i64() || v.is_u64(),
            Shape::Number => v.is_number(),
            Shape::String => v.is_string(),
            Shape::Object => v.is_object(),
            Shape::Array => v.is_array(),
            Shape::StringOrArray => v.is_string() || v.is_array(),
            Shape::StringOrObject => v.is_string() || v.is_object(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Shape::Bool => "a boolean",
            Shape::Integer => "an integer",
            Shape::Number => "a number",
            Shape::String => "a string",
            Shape::Object => "an object",
            Shape::Array => "an array",
            Shape::StringOrArray => "a string or an array",
            Shape::StringOrObject => "a string or an object",
        }
    }
}

/// Types of the chat parameters OpenAI documents; `null` is accepted for each.
const CHAT_FIELDS: &[(&str, Shape)] = &[
    ("stream", Shape::Bool),
    ("stream_options", Shape::Object),
    ("n", Shape::Integer),
    ("temperature", Shape::Number),
    ("top_p", Shape::Number),
    ("max_tokens", Shape::Integer),
    ("max_completion_tokens", Shape::Integer),
    ("presence_penalty", Shape::Number),
    ("frequency_penalty", Shape::Number),
    ("seed", Shape::Integer),
    ("logprobs", Shape::Bool),
    ("top_logprobs", Shape::Integer),
    ("logit_bias", Shape::Object),
    ("stop", Shape::StringOrArray),
    ("user", Shape::String),
    ("tools", Shape::Array),
    ("tool_choice", Shape::StringOrObject),
    ("parallel_tool_calls", Shape::Bool),
    ("response_format", Shape::Object),
    ("metadata", Shape::Object),
];

const EMBEDDING_FIELDS: &[(&str, Shape)] = &[
    ("dimensions", Shape::Integer),
    ("user", Shape::String),
    ("encoding_format", Shape::String),
];

const RERANK_FIELDS: &[(&str, Shape)] = &[
    ("top_n", Shape::Integer),
    ("return_documents", Shape::Bool),
    ("rank_fields", Shape::Array),
    ("max_chunks_per_doc", Shape::Integer),
    ("max_tokens_per_doc", Shape::Integer),
];

const ROLES: &[&str] = &[
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];

impl ApiRequest {
    pub fn parse(op: Operation, bytes: &[u8]) -> Result<ApiRequest, ApiError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                ApiError::invalid("The request body is empty; expected a JSON object.")
            } else {
                ApiError::invalid(format!("The request body is not valid JSON: {e}."))
            }
        })?;
        let Value::Object(body) = value else {
            return Err(ApiError::invalid("The request body must be a JSON object."));
        };
        let model = match body.get("model") {
            Some(Value::String(m)) if !m.is_empty() => m.clone(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(ApiError::param(
                    "model",
                    "Missing required parameter: 'model'.",
                ));
            }
            Some(_) => {
                return Err(ApiError::param(
                    "model",
                    "Invalid type for 'model': expected a string.",
                ));
            }
        };
        let fields = match op {
            Operation::Chat => {
                validate_messages(body.get("messages"))?;
                CHAT_FIELDS
            }
            Operation::Embeddings => {
                validate_input(body.get("input"))?;
                EMBEDDING_FIELDS
            }
            Operation::Rerank => {
                validate_rerank(&body)?;
                RERANK_FIELDS
            }
        };
        // A body has a few keys and the table ~20: scan the body, not the table.
        for (name, v) in &body {
            if let Some((_, shape)) = fields.iter().find(|(field, _)| field == name)
                && !v.is_null()
                && !shape.accepts(v)
            {
                return Err(ApiError::param(
                    name,
                    format!("Invalid type for '{name}': expected {}.", shape.name()),
                ));
            }
        }
        if op == Operation::Embeddings
            && let Some(Value::String(f)) = body.get("encoding_format")
            && f != "float"
            && f != "base64"
        {
            return Err(ApiError::param(
                "encoding_format",
                "Invalid value for 'encoding_format': expected 'float' or 'base64'.",
            ));
        }
        let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
        let include_usage = body
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            == Some(true);
        Ok(ApiRequest {
            op,
            model,
            stream,
            include_usage,
            body,
        })
    }
}

fn validate_messages(messages: Option<&Value>) -> Result<(), ApiError> {
    let messages = match messages {
        None | Some(Value::Null) => {
            return Err(ApiError::param(
                "messages",
                "Missing required parameter: 'messages'.",
            ));
        }
        Some(Value::Array(m)) => m,
        Some(_) => {
            return Err(ApiError::param(
                "messages",
                "Invalid type for 'messages': expected an array of messages.",
            ));
        }
    };
    if messages.is_empty() {
        return Err(ApiError::param(
            "messages",
            "Invalid 'messages': empty array. Expected at least one message.",
        ));
    }
    for (i, m) in messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        let Value::Object(m) = m else {
            return Err(ApiError::param(
                &at,
                format!("Invalid type for '{at}': expected an object."),
            ));
        };
        match m.get("role") {
            Some(Value::String(r)) if ROLES.contains(&r.as_str()) => {}
            Some(Value::String(r)) => {
                return Err(ApiError::param(
                    &format!("{at}.role"),
                    format!(
                        "Invalid value for '{at}.role': {r:?}. Supported values are: {}.",
                        ROLES.join(", ")
                    ),
                ));
            }
            _ => {
                return Err(ApiError::param(
                    &format!("{at}.role"),
                    format!("Missing required parameter: '{at}.role'."),
                ));
            }
        }
        if let Some(c) = m.get("content")
            && !(c.is_string() || c.is_array() || c.is_null())
        {
            return Err(ApiError::param(
                &format!("{at}.content"),
                format!(
                    "Invalid type for '{at}.content': expected a string or an array of content parts."
                ),
            ));
        }
    }
    Ok(())
}

fn validate_input(input: Option<&Value>) -> Result<(), ApiError> {
    let ok = match input {
        None | Some(Value::Null) => {
            return Err(ApiError::param(
                "input",
                "Missing required parameter: 'input'.",
            ));
        }
        Some(Value::String(_)) => true,
        Some(Value::Array(items)) => {
            !items.is_empty()
                && (items.iter().all(Value::is_string)
                    || items.iter().all(Value::is_u64)
                    || items.iter().all(|i| {
                        i.as_array()
                            .is_some_and(|t| !t.is_empty() && t.iter().all(Value::is_u64))
                    }))
        }
        Some(_) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::param(
            "input",
            "Invalid 'input': expected a string, an array of strings, or an array of token arrays.",
        ))
    }
}

/// Cohere's rerank shape: a `query` and a non-empty list of `documents`
/// (strings, or objects with the text in their fields).
fn validate_rerank(body: &Map<String, Value>) -> Result<(), ApiError> {
    match body.get("query") {
        Some(Value::String(q)) if !q.is_empty() => {}
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(ApiError::param(
                "query",
                "Missing required parameter: 'query'.",
            ));
        }
        Some(_) => {
            return Err(ApiError::param(
                "query",
                "Invalid type for 'query': expected a string.",
            ));
        }
    }
    match body.get("documents") {
        Some(Value::Array(docs))
            if !docs.is_empty() && docs.iter().all(|d| d.is_string() || d.is_object()) =>
        {
            Ok(())
        }
        None | Some(Value::Null) => Err(ApiError::param(
            "documents",
            "Missing required parameter: 'documents'.",
        )),
        Some(_) => Err(ApiError::param(
            "documents",
            "Invalid 'documents': expected a non-empty array of strings or objects.",
        )),
    }
}
