//! Embeddings: OpenAI's `/v1/embeddings` as Cohere's `POST /v2/embed` and
//! back. `input_type` is required by Cohere's v3+ models; without one in
//! the request (or the deployment) it is `search_document`, the type for
//! texts stored in a search index, which is what an OpenAI-style client
//! embedding text most often does. `encoding_format: base64` (the OpenAI
//! SDKs' default) is the little-endian f32 bytes, base64.

use serde_json::{Value, json};

use super::{Params, bad, count, unexpected};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::providers::ProviderError;
use crate::providers::openai_shape;

pub(super) const DEFAULT_INPUT_TYPE: &str = "search_document";

/// `{"model", "texts", "input_type", "embedding_types": ["float"], "output_dimension"?}`
pub(super) fn body(d: &Deployment, request: &ApiRequest) -> Result<Value, ProviderError> {
    let p = Params::new(d, request);
    let not_text = || {
        bad(
            "input",
            "Cohere embeds text: give a string or an array of strings (token arrays are not supported).",
        )
    };
    let texts: Vec<&str> = match request.body.get("input") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().ok_or_else(not_text))
            .collect::<Result<_, _>>()?,
        _ => return Err(not_text()),
    };
    let input_type = match p.get("input_type") {
        None => DEFAULT_INPUT_TYPE,
        Some(Value::String(t)) => t.as_str(),
        Some(_) => {
            return Err(bad(
                "input_type",
                "input_type must be a string: search_document, search_query, classification or clustering",
            ));
        }
    };
    let mut body = json!({
        "model": d.upstream_model,
        "texts": texts,
        "input_type": input_type,
        "embedding_types": ["float"],
    });
    if let Some(dims) = p.get("dimensions") {
        body["output_dimension"] = dims.clone();
    }
    Ok(body)
}

/// Cohere's `{"id", "embeddings": {"float": [[…]]}, "texts", "meta"}` as
/// OpenAI's `{"object": "list", "data": […], "model", "usage"}`.
pub(super) fn decode(
    d: &Deployment,
    request: &ApiRequest,
    body: &[u8],
) -> Result<Value, ProviderError> {
    let json: Value =
        serde_json::from_slice(body).map_err(|e| unexpected(&format!("not JSON ({e})")))?;
    // By type (what `embedding_types` asks for), or the older plain list.
    let vectors = match json.get("embeddings") {
        Some(Value::Object(by_type)) => by_type.get("float").and_then(Value::as_array),
        Some(Value::Array(list)) => Some(list),
        _ => None,
    }
    .ok_or_else(|| unexpected("no float embeddings"))?;
    let base64 = Params::new(d, request)
        .get("encoding_format")
        .and_then(Value::as_str)
        == Some("base64");
    let mut data = Vec::with_capacity(vectors.len());
    for (index, vector) in vectors.iter().enumerate() {
        let values = vector
            .as_array()
            .ok_or_else(|| unexpected("an embedding is not a list of numbers"))?;
        data.push(openai_shape::embedding(index, values, base64));
    }
    let tokens = count(json.pointer("/meta/billed_units/input_tokens")).unwrap_or(0);
    Ok(openai_shape::embedding_list(
        data,
        &d.upstream_model,
        tokens,
    ))
}
