//! Rerank: the gateway's `/v1/rerank` (Cohere's own request shape, as
//! LiteLLM serves it) as Cohere's `POST /v2/rerank`, and the answer in the
//! shape LiteLLM returns: `{"id", "results": [{"index", "relevance_score",
//! "document"?: {"text"}}], "meta"}`.
//!
//! Cohere v2 takes documents as strings and returns no documents; object
//! documents are sent as their `text`, else as `key: value` lines (of their
//! `rank_fields`, or of all fields), the YAML-like form Cohere recommends
//! for structured data; with `return_documents` each result gets the text
//! that was sent for it.

use serde_json::{Map, Value, json};

use super::{Params, bad, unexpected};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::providers::ProviderError;

/// `{"model", "query", "documents", "top_n"?, "max_tokens_per_doc"?}`
pub(super) fn body(d: &Deployment, request: &ApiRequest) -> Result<Value, ProviderError> {
    let p = Params::new(d, request);
    let query = request
        .body
        .get("query")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("query", "Missing required parameter: 'query'."))?;
    let mut body = json!({
        "model": d.upstream_model,
        "query": query,
        "documents": texts(&p, request)?,
    });
    for name in ["top_n", "max_tokens_per_doc"] {
        if let Some(v) = p.get(name) {
            body[name] = v.clone();
        }
    }
    Ok(body)
}

/// The text sent for each document.
fn texts(p: &Params, request: &ApiRequest) -> Result<Vec<String>, ProviderError> {
    let fields: Option<Vec<&str>> = match p.get("rank_fields") {
        None => None,
        Some(Value::Array(f)) if f.iter().all(Value::is_string) => {
            Some(f.iter().filter_map(Value::as_str).collect())
        }
        Some(_) => {
            return Err(bad(
                "rank_fields",
                "rank_fields must be an array of strings",
            ));
        }
    };
    let docs = request
        .body
        .get("documents")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("documents", "Missing required parameter: 'documents'."))?;
    docs.iter()
        .enumerate()
        .map(|(i, doc)| match doc {
            Value::String(s) => Ok(s.clone()),
            Value::Object(o) => Ok(object_text(o, fields.as_deref())),
            _ => Err(bad(
                &format!("documents[{i}]"),
                "a document must be a string or an object",
            )),
        })
        .collect()
}

fn object_text(doc: &Map<String, Value>, fields: Option<&[&str]>) -> String {
    if fields.is_none()
        && let Some(Value::String(text)) = doc.get("text")
    {
        return text.clone();
    }
    let mut lines = Vec::new();
    let mut line = |k: &str, v: &Value| match v {
        Value::String(s) => lines.push(format!("{k}: {s}")),
        other => lines.push(format!("{k}: {other}")),
    };
    match fields {
        Some(fields) => {
            for f in fields {
                if let Some(v) = doc.get(*f) {
                    line(f, v);
                }
            }
        }
        None => doc.iter().for_each(|(k, v)| line(k, v)),
    }
    lines.join("\n")
}

pub(super) fn decode(
    d: &Deployment,
    request: &ApiRequest,
    body: &[u8],
) -> Result<Value, ProviderError> {
    let json: Value =
        serde_json::from_slice(body).map_err(|e| unexpected(&format!("not JSON ({e})")))?;
    let results = json
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| unexpected("no results"))?;
    let p = Params::new(d, request);
    let documents = if p.get("return_documents") == Some(&Value::Bool(true)) {
        Some(texts(&p, request)?)
    } else {
        None
    };
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        let index = r
            .get("index")
            .and_then(Value::as_u64)
            .ok_or_else(|| unexpected("a result has no index"))?;
        let mut result = json!({
            "index": index,
            "relevance_score": r.get("relevance_score").cloned().unwrap_or(Value::Null),
        });
        if let Some(docs) = &documents {
            let text = usize::try_from(index)
                .ok()
                .and_then(|i| docs.get(i))
                .ok_or_else(|| unexpected("a result's index is not one of the documents"))?;
            result["document"] = json!({"text": text});
        }
        out.push(result);
    }
    Ok(json!({
        "id": json.get("id").cloned().unwrap_or(Value::Null),
        "results": out,
        "meta": json.get("meta").cloned().unwrap_or_else(|| json!({})),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_documents_become_text() {
        let doc = json!({"title": "Bern", "pop": 134794});
        let doc = doc.as_object().unwrap();
        assert_eq!(object_text(doc, None), "title: Bern\npop: 134794");
        assert_eq!(object_text(doc, Some(&["title"])), "title: Bern");
        let with_text = json!({"text": "Bern is the capital.", "id": 7});
        assert_eq!(
            object_text(with_text.as_object().unwrap(), None),
            "Bern is the capital."
        );
    }
}
