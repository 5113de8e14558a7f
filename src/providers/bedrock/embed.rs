//! Embeddings through InvokeModel, to and from OpenAI's embeddings list:
//!
//! - Amazon Titan (`amazon.titan-embed-*`): `{"inputText", "dimensions"?,
//!   "normalize"}` → `{"embedding", "inputTextTokenCount"}`. One text per
//!   call: a request with several inputs is refused (400) rather than
//!   fanned out, since one client request is one upstream request.
//!   `normalize: true` for the v2 models, as OpenAI's embeddings are unit
//!   vectors; the image model takes the size as `embeddingConfig`.
//! - Cohere Embed (`cohere.embed-*`): `{"texts", "input_type",
//!   "embedding_types": ["float"], "output_dimension"?}` → `{"embeddings":
//!   [[…]]}` or, by type, `{"embeddings": {"float": [[…]]}}`. `input_type`
//!   is the request's, else `search_document`.
//!
//! `encoding_format: base64` (what the OpenAI SDKs ask for by default) is
//! the little-endian f32 bytes, base64.

use serde_json::{Value, json};

use super::{FailureClass, Params, ProviderError, bad_request, not_json};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::providers::openai_shape;

#[derive(Clone, Copy, PartialEq)]
enum Family {
    Titan,
    Cohere,
}

/// By the model id (which may carry a region prefix or be an ARN).
fn family(model: &str) -> Option<Family> {
    if model.contains("amazon.titan-embed") {
        Some(Family::Titan)
    } else if model.contains("cohere.embed") {
        Some(Family::Cohere)
    } else {
        None
    }
}

pub fn body(d: &Deployment, request: &ApiRequest) -> Result<Value, ProviderError> {
    let model = d.upstream_model.as_str();
    let Some(family) = family(model) else {
        return Err(bad_request(
            "model",
            format!(
                "bedrock/{model} cannot serve /v1/embeddings here: Amazon Titan (amazon.titan-embed-*) and Cohere Embed (cohere.embed-*) models can."
            ),
        ));
    };
    let p = Params::new(d, request);
    let texts = texts(request)?;
    let dims = p.get("dimensions");
    if family == Family::Cohere {
        let mut body = json!({
            "texts": texts,
            "input_type": p.get("input_type").cloned().unwrap_or_else(|| json!("search_document")),
            "embedding_types": ["float"],
        });
        if let Some(dims) = dims {
            body["output_dimension"] = dims.clone();
        }
        return Ok(body);
    }
    let [text] = texts.as_slice() else {
        return Err(bad_request(
            "input",
            format!(
                "Amazon Titan embeds one text per request and this request has {}: send the inputs one by one.",
                texts.len()
            ),
        )
        .with_code("unsupported_parameter"));
    };
    let mut body = json!({"inputText": text});
    if model.contains("titan-embed-image") {
        if let Some(dims) = dims {
            body["embeddingConfig"] = json!({"outputEmbeddingLength": dims});
        }
    } else if model.contains("titan-embed-text-v2") {
        body["normalize"] = Value::Bool(true);
        if let Some(dims) = dims {
            body["dimensions"] = dims.clone();
        }
    } else if let Some(dims) = dims {
        body["dimensions"] = dims.clone();
    }
    Ok(body)
}

fn texts(request: &ApiRequest) -> Result<Vec<&str>, ProviderError> {
    let not_text = || {
        bad_request(
            "input",
            "Bedrock embeds text: give a string or an array of strings (token arrays are not supported).",
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

/// The InvokeModel body as OpenAI's `{"object": "list", "data": [...]}`.
pub fn decode(d: &Deployment, request: &ApiRequest, body: &[u8]) -> Result<Value, ProviderError> {
    let json: Value =
        serde_json::from_slice(body).map_err(|e| not_json("an embeddings body", &e))?;
    let missing = || {
        ProviderError::new(
            FailureClass::ServerError,
            "Bedrock's embeddings answer has no embeddings",
        )
    };
    let (vectors, tokens): (Vec<&Value>, u64) = match family(&d.upstream_model) {
        Some(Family::Titan) => {
            let vector = json
                .get("embedding")
                .or_else(|| json.pointer("/embeddingsByType/float"))
                .ok_or_else(missing)?;
            let tokens = json
                .get("inputTextTokenCount")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            (vec![vector], tokens)
        }
        _ => {
            let list = match json.get("embeddings") {
                Some(Value::Object(by_type)) => by_type.get("float"),
                other => other,
            };
            let list = list.and_then(Value::as_array).ok_or_else(missing)?;
            (list.iter().collect(), 0)
        }
    };
    let base64 = Params::new(d, request)
        .get("encoding_format")
        .and_then(Value::as_str)
        == Some("base64");
    let mut data = Vec::with_capacity(vectors.len());
    for (index, vector) in vectors.into_iter().enumerate() {
        let values = vector.as_array().ok_or_else(missing)?;
        data.push(openai_shape::embedding(index, values, base64));
    }
    Ok(openai_shape::embedding_list(
        data,
        &d.upstream_model,
        tokens,
    ))
}
