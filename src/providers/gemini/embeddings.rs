//! Embeddings: Gemini's `batchEmbedContents` and Vertex AI's `predict`, to
//! and from OpenAI's embeddings list. `encoding_format: base64` (what the
//! OpenAI SDKs ask for by default) is the little-endian f32 bytes, base64.

use serde_json::{Value, json};

use super::{FailureClass, Params, ProviderError, bad_request};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::providers::openai_shape;

/// `{"requests": [{"model": "models/…", "content": {"parts": [{"text"}]},
/// "outputDimensionality"?, "taskType"?}]}`
pub fn gemini_body(d: &Deployment, request: &ApiRequest) -> Result<Value, ProviderError> {
    let p = Params::new(d, request);
    let model = format!("models/{}", d.upstream_model.trim_start_matches("models/"));
    let requests: Vec<Value> = texts(request)?
        .into_iter()
        .map(|text| {
            let mut r = json!({"model": model, "content": {"parts": [{"text": text}]}});
            if let Some(dims) = p.get("dimensions") {
                r["outputDimensionality"] = dims.clone();
            }
            if let Some(task) = p.get("task_type") {
                r["taskType"] = task.clone();
            }
            r
        })
        .collect();
    Ok(json!({"requests": requests}))
}

/// `{"instances": [{"content", "task_type"?}], "parameters": {"outputDimensionality"}}`
pub fn vertex_body(d: &Deployment, request: &ApiRequest) -> Result<Value, ProviderError> {
    let p = Params::new(d, request);
    let instances: Vec<Value> = texts(request)?
        .into_iter()
        .map(|text| {
            let mut i = json!({"content": text});
            if let Some(task) = p.get("task_type") {
                i["task_type"] = task.clone();
            }
            i
        })
        .collect();
    let mut body = json!({"instances": instances});
    if let Some(dims) = p.get("dimensions") {
        body["parameters"] = json!({"outputDimensionality": dims});
    }
    Ok(body)
}

fn texts(request: &ApiRequest) -> Result<Vec<&str>, ProviderError> {
    let not_text = || {
        bad_request(
            "input",
            "Gemini embeds text: give a string or an array of strings (token arrays are not supported).",
        )
    };
    match request.body.get("input") {
        Some(Value::String(s)) => Ok(vec![s.as_str()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().ok_or_else(not_text))
            .collect(),
        _ => Err(not_text()),
    }
}

/// The upstream body as OpenAI's `{"object": "list", "data": [...]}`.
pub fn decode(
    vertex: bool,
    d: &Deployment,
    request: &ApiRequest,
    body: &[u8],
) -> Result<Value, ProviderError> {
    let json: Value = serde_json::from_slice(body).map_err(|e| {
        ProviderError::new(
            FailureClass::ServerError,
            format!("the embeddings answer is not JSON: {e}"),
        )
    })?;
    let (list, values_at) = if vertex {
        ("predictions", "/embeddings/values")
    } else {
        ("embeddings", "/values")
    };
    let items = json.get(list).and_then(Value::as_array).ok_or_else(|| {
        ProviderError::new(
            FailureClass::ServerError,
            format!("the embeddings answer has no {list:?}"),
        )
    })?;
    let format = Params::new(d, request).get("encoding_format");
    let base64 = format.and_then(Value::as_str) == Some("base64");
    let mut data = Vec::with_capacity(items.len());
    let mut tokens = 0;
    for (index, item) in items.iter().enumerate() {
        let values = item
            .pointer(values_at)
            .and_then(Value::as_array)
            .ok_or_else(|| {
                ProviderError::new(FailureClass::ServerError, "an embedding has no values")
            })?;
        tokens += item
            .pointer("/embeddings/statistics/token_count")
            .and_then(Value::as_f64)
            .unwrap_or(0.0) as u64;
        data.push(openai_shape::embedding(index, values, base64));
    }
    // Gemini's batch answer carries no token count; Vertex's gives one per input.
    Ok(openai_shape::embedding_list(
        data,
        &d.upstream_model,
        tokens,
    ))
}
