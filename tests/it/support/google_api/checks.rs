//! What the Google mocks check in a request body, as Google's API does:
//! proto JSON rejects unknown fields, turns need roles and parts, a part
//! holds one kind of data, and schemas stay within Google's subset.

use serde_json::Value;

/// Proto JSON: an unknown field is an error, as Google's API answers.
fn unknown(at: &str, v: &Value, known: &[&str]) -> Result<(), String> {
    match v.as_object() {
        Some(o) => match o.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(format!(
                "Invalid JSON payload received. Unknown name {k:?} at '{at}': Cannot find field."
            )),
            None => Ok(()),
        },
        None => Err(format!("Invalid value at '{at}': expected an object")),
    }
}

const PART_DATA: &[&str] = &[
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
];
const SCHEMA_FIELDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];
const GENERATION_CONFIG: &[&str] = &[
    "temperature",
    "topP",
    "topK",
    "candidateCount",
    "maxOutputTokens",
    "stopSequences",
    "presencePenalty",
    "frequencyPenalty",
    "seed",
    "responseMimeType",
    "responseSchema",
    "thinkingConfig",
    "responseLogprobs",
    "logprobs",
];

pub(super) fn check_generate(body: &Value, vertex: bool) -> Result<(), String> {
    let mut top = vec![
        "contents",
        "systemInstruction",
        "generationConfig",
        "tools",
        "toolConfig",
        "safetySettings",
        "cachedContent",
    ];
    if vertex {
        top.push("labels");
    }
    unknown("", body, &top)?;
    let contents = body["contents"]
        .as_array()
        .filter(|c| !c.is_empty())
        .ok_or("* GenerateContentRequest.contents: contents is not specified")?;
    for (i, c) in contents.iter().enumerate() {
        unknown(&format!("contents[{i}]"), c, &["role", "parts"])?;
        match c["role"].as_str() {
            Some("user" | "model") => {}
            other => {
                return Err(format!(
                    "Please use a valid role: user, model. (contents[{i}].role = {other:?})"
                ));
            }
        }
        check_parts(&c["parts"], &format!("contents[{i}]"))?;
    }
    if let Some(system) = body.get("systemInstruction") {
        unknown("system_instruction", system, &["role", "parts"])?;
        check_parts(&system["parts"], "system_instruction")?;
    }
    if let Some(config) = body.get("generationConfig") {
        unknown("generation_config", config, GENERATION_CONFIG)?;
        if let Some(schema) = config.get("responseSchema") {
            check_schema(schema, "generation_config.response_schema")?;
        }
        if let Some(t) = config.get("thinkingConfig") {
            unknown(
                "generation_config.thinking_config",
                t,
                &["thinkingBudget", "includeThoughts"],
            )?;
        }
    }
    for (i, tool) in body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        unknown(&format!("tools[{i}]"), tool, &["functionDeclarations"])?;
        for (j, f) in tool["functionDeclarations"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("tools[{i}].function_declarations[{j}]");
            unknown(&at, f, &["name", "description", "parameters"])?;
            f["name"]
                .as_str()
                .filter(|n| !n.is_empty())
                .ok_or(format!("{at}.name is required"))?;
            if let Some(p) = f.get("parameters") {
                check_schema(p, &format!("{at}.parameters"))?;
            }
        }
    }
    if let Some(tc) = body.get("toolConfig") {
        unknown("tool_config", tc, &["functionCallingConfig"])?;
        let fc = &tc["functionCallingConfig"];
        unknown(
            "tool_config.function_calling_config",
            fc,
            &["mode", "allowedFunctionNames"],
        )?;
        if !matches!(fc["mode"].as_str(), Some("AUTO" | "ANY" | "NONE")) {
            return Err(format!(
                "Invalid value at 'tool_config.function_calling_config.mode': {}",
                fc["mode"]
            ));
        }
    }
    Ok(())
}

fn check_parts(parts: &Value, at: &str) -> Result<(), String> {
    let parts = parts
        .as_array()
        .filter(|p| !p.is_empty())
        .ok_or(format!("{at}: must include at least one parts field"))?;
    for (k, part) in parts.iter().enumerate() {
        let here = format!("{at}.parts[{k}]");
        let mut known = PART_DATA.to_vec();
        known.extend(["thought", "thoughtSignature"]);
        unknown(&here, part, &known)?;
        let data: Vec<&&str> = PART_DATA
            .iter()
            .filter(|k| part.get(**k).is_some())
            .collect();
        if data.len() != 1 {
            return Err(format!(
                "{here}: a part holds exactly one kind of data, found {data:?}"
            ));
        }
        if part
            .get("text")
            .is_some_and(|t| t.as_str().is_none_or(str::is_empty))
        {
            return Err(format!(
                "Unable to submit request because it has an empty text parameter ({here})."
            ));
        }
        if let Some(d) = part.get("inlineData") {
            unknown(&format!("{here}.inline_data"), d, &["mimeType", "data"])?;
        }
        if let Some(d) = part.get("fileData") {
            unknown(&format!("{here}.file_data"), d, &["mimeType", "fileUri"])?;
        }
        if let Some(f) = part.get("functionCall") {
            unknown(&format!("{here}.function_call"), f, &["name", "args", "id"])?;
            if !f["args"].is_object() {
                return Err(format!("{here}.function_call.args must be an object"));
            }
        }
        if let Some(f) = part.get("functionResponse") {
            unknown(
                &format!("{here}.function_response"),
                f,
                &["name", "response", "id"],
            )?;
            if !f["response"].is_object() || f["name"].as_str().is_none_or(str::is_empty) {
                return Err(format!(
                    "{here}.function_response needs a name and an object response"
                ));
            }
        }
    }
    Ok(())
}

fn check_schema(schema: &Value, at: &str) -> Result<(), String> {
    unknown(at, schema, SCHEMA_FIELDS)?;
    if let Some(Value::Object(props)) = schema.get("properties") {
        if props.is_empty() {
            return Err(format!(
                "{at}.properties: should be non-empty for OBJECT type"
            ));
        }
        for (k, v) in props {
            check_schema(v, &format!("{at}.properties[{k}]"))?;
        }
    }
    if let Some(items) = schema.get("items") {
        check_schema(items, &format!("{at}.items"))?;
    }
    for (i, member) in schema
        .get("anyOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        check_schema(member, &format!("{at}.any_of[{i}]"))?;
    }
    Ok(())
}

pub(super) fn check_batch_embed(body: &Value, model: &str) -> Result<(), String> {
    unknown("", body, &["requests"])?;
    let requests = body["requests"]
        .as_array()
        .filter(|r| !r.is_empty())
        .ok_or("requests is required")?;
    for (i, r) in requests.iter().enumerate() {
        let at = format!("requests[{i}]");
        unknown(
            &at,
            r,
            &[
                "model",
                "content",
                "taskType",
                "title",
                "outputDimensionality",
            ],
        )?;
        if r["model"] != format!("models/{model}") {
            return Err(format!(
                "{at}.model: Model names must match the path (models/{model})."
            ));
        }
        check_parts(&r["content"]["parts"], &format!("{at}.content"))?;
    }
    Ok(())
}

pub(super) fn check_predict(body: &Value) -> Result<(), String> {
    unknown("", body, &["instances", "parameters"])?;
    let instances = body["instances"]
        .as_array()
        .filter(|r| !r.is_empty())
        .ok_or("instances is required")?;
    for (i, instance) in instances.iter().enumerate() {
        unknown(
            &format!("instances[{i}]"),
            instance,
            &["content", "task_type", "title"],
        )?;
        if !instance["content"].is_string() {
            return Err(format!("instances[{i}].content must be a string"));
        }
    }
    if let Some(p) = body.get("parameters") {
        unknown("parameters", p, &["outputDimensionality", "autoTruncate"])?;
    }
    Ok(())
}
