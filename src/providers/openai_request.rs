//! Reading pieces of the unified (OpenAI-schema) request the way every
//! translating dialect needs them, with 400s that name the parameter.

use serde_json::{Value, json};

use super::{FailureClass, ProviderError};

/// A 400 about one request parameter.
pub fn bad(param: &str, message: impl Into<String>) -> ProviderError {
    ProviderError {
        param: Some(param.to_string()),
        ..ProviderError::new(FailureClass::BadRequest, message)
    }
}

/// One OpenAI function tool, as `tools[i]` declares it.
pub struct FunctionTool<'a> {
    pub name: &'a str,
    pub description: Option<&'a Value>,
    /// The JSON schema; an empty object schema when none is given.
    pub parameters: Value,
}

/// Reads `tools[i]` (`at`); only function tools exist for `provider`.
pub fn function_tool<'a>(
    t: &'a Value,
    at: &str,
    provider: &str,
) -> Result<FunctionTool<'a>, ProviderError> {
    if t.get("type").and_then(Value::as_str).unwrap_or("function") != "function" {
        return Err(bad(
            &format!("{at}.type"),
            format!("only function tools are supported by {provider}"),
        ));
    }
    let f = t.get("function").unwrap_or(t);
    let name = f
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(&format!("{at}.function.name"), "a tool needs a name"))?;
    Ok(FunctionTool {
        name,
        description: f.get("description").filter(|d| d.is_string()),
        parameters: f
            .get("parameters")
            .filter(|s| s.is_object())
            .cloned()
            .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
    })
}

/// An assistant tool call's `function.arguments` (a JSON string in OpenAI's
/// schema) as a JSON object; missing or blank arguments are `{}`.
pub fn tool_call_arguments(call: &Value, at: &str) -> Result<Value, ProviderError> {
    let arguments = match call.pointer("/function/arguments") {
        None | Some(Value::Null) => json!({}),
        Some(Value::String(s)) if s.trim().is_empty() => json!({}),
        Some(Value::String(s)) => serde_json::from_str(s).map_err(|e| {
            bad(
                &format!("{at}.function.arguments"),
                format!("the arguments are not valid JSON: {e}"),
            )
        })?,
        Some(v) => v.clone(),
    };
    if !arguments.is_object() {
        return Err(bad(
            &format!("{at}.function.arguments"),
            "the arguments must be a JSON object",
        ));
    }
    Ok(arguments)
}
