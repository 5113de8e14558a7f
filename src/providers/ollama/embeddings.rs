//! Embeddings: `POST /api/embed` with `model`, `input` (a string or an
//! array of strings), `truncate`, `dimensions`, `keep_alive` and
//! `options.num_ctx`; the answer's `embeddings` as OpenAI's list, usage from
//! `prompt_eval_count`. `encoding_format: base64` (what the OpenAI SDKs ask
//! for by default) is the little-endian f32 bytes, base64.

use serde_json::{Map, Value, json};

use super::request::keep_alive;
use super::response::error_in;
use super::{FailureClass, Params, ProviderError, bad};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::providers::openai_shape;

pub(super) fn body(
    d: &Deployment,
    request: &ApiRequest,
) -> Result<Map<String, Value>, ProviderError> {
    let p = Params::new(d, request);
    let input = match request.body.get("input") {
        Some(s @ Value::String(_)) => s.clone(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            Value::Array(items.clone())
        }
        _ => {
            return Err(bad(
                "input",
                "Ollama embeds text: give a string or an array of strings (token arrays are not supported).",
            ));
        }
    };
    let mut out = Map::new();
    out.insert("model".into(), Value::String(d.upstream_model.clone()));
    out.insert("input".into(), input);
    match p.get("truncate") {
        None => {}
        Some(v @ Value::Bool(_)) => {
            out.insert("truncate".into(), v.clone());
        }
        Some(_) => {
            return Err(bad(
                "truncate",
                "Invalid type for 'truncate': expected a boolean.",
            ));
        }
    }
    if let Some(dims) = p.integer("dimensions")? {
        out.insert("dimensions".into(), dims.clone());
    }
    if let Some(k) = keep_alive(&p)? {
        out.insert("keep_alive".into(), k);
    }
    if let Some(n) = p.integer("num_ctx")? {
        out.insert("options".into(), json!({"num_ctx": n}));
    }
    Ok(out)
}

pub(super) fn decode(
    d: &Deployment,
    request: &ApiRequest,
    body: &[u8],
) -> Result<Value, ProviderError> {
    let unexpected = |detail: String| {
        ProviderError::new(
            FailureClass::ServerError,
            format!("Ollama answered embeddings with an unexpected body: {detail}"),
        )
        .with_code("bad_upstream_response")
    };
    let json: Value =
        serde_json::from_slice(body).map_err(|e| unexpected(format!("not JSON ({e})")))?;
    if let Some(e) = error_in(&json) {
        return Err(e);
    }
    let items = json
        .get("embeddings")
        .and_then(Value::as_array)
        .ok_or_else(|| unexpected("no \"embeddings\"".into()))?;
    let base64 = Params::new(d, request)
        .get("encoding_format")
        .and_then(Value::as_str)
        == Some("base64");
    let mut data = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let values = item
            .as_array()
            .ok_or_else(|| unexpected(format!("embedding {index} is not an array")))?;
        data.push(openai_shape::embedding(index, values, base64));
    }
    let tokens = json
        .get("prompt_eval_count")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Ok(openai_shape::embedding_list(
        data,
        json.get("model")
            .and_then(Value::as_str)
            .unwrap_or(&d.upstream_model),
        tokens,
    ))
}
