//! Cohere's v2 API (`cohere/…` and `cohere_chat/…`; default api_base
//! `https://api.cohere.com`, `Authorization: Bearer <api_key>`) as an
//! upstream dialect: chat (`POST {api_base}/v2/chat`, streamed or not),
//! embeddings (`POST /v2/embed`) and rerank (`POST /v2/rerank`). All of it is
//! pure translation; the shared transport sends.
//!
//! Choices made where the two APIs do not line up (each also noted where it
//! is implemented):
//!
//! - System and developer messages become one `system` message at the head
//!   of the conversation (Cohere refuses a system turn anywhere else).
//! - `top_p` → `p`, clamped to Cohere's documented range 0.01–0.99 (OpenAI
//!   clients often send `top_p: 1`, "no nucleus cut", which Cohere refuses);
//!   `top_k` → `k`; `stop` → `stop_sequences`; `max_completion_tokens` (else
//!   `max_tokens`) → `max_tokens`; `temperature`, `seed`,
//!   `frequency_penalty`, `presence_penalty` as they are. `n` must be 1.
//! - `tool_choice`: `auto` is Cohere's default (not sent), `none` → `NONE`,
//!   `required` → `REQUIRED`, a named function → `REQUIRED` with only that
//!   tool offered. Cohere has no switch against parallel tool calls, so
//!   `parallel_tool_calls: false` is refused (dropped under `drop_params`).
//! - `response_format`: `json_object` → `{type: json_object}`, `json_schema`
//!   → `{type: json_object, json_schema: <schema>}`.
//! - Assistant text beside tool calls is Cohere's `tool_plan`, both ways:
//!   sent as `tool_plan`, and a returned `tool_plan` (or streamed
//!   `tool-plan-delta`) is the message `content`. Thinking is
//!   `reasoning_content`.
//! - `finish_reason`: `COMPLETE`, `STOP_SEQUENCE` → `stop`; `MAX_TOKENS` →
//!   `length`; `TOOL_CALL` → `tool_calls`; `ERROR` and `TIMEOUT` fail the
//!   request (or end the stream with an error event).
//! - Usage is `usage.billed_units` (the tokens Cohere charges for, which is
//!   what cost and budgets settle on); `usage.tokens` (which also counts
//!   Cohere's own prompt template) only where billed units are missing.
//!   `cached_tokens` becomes `prompt_tokens_details.cached_tokens`.
//! - Embeddings: `input_type` is `search_document` unless the request (or
//!   the deployment) names one; `embedding_types: ["float"]`; `dimensions` →
//!   `output_dimension`; `encoding_format: base64` is the little-endian f32
//!   bytes, encoded here.
//! - Rerank answers in the Cohere shape LiteLLM returns for `/v1/rerank`.
//!   Object documents are sent as their `text`, else as `key: value` lines
//!   of their `rank_fields` (all fields without them), as Cohere recommends
//!   for structured data. Cohere v2 does not return documents: with
//!   `return_documents` the gateway adds the text it sent.
//! - Errors (`{"message"}` or `{"id", "message"}`) keep their status, except
//!   Cohere's non-standard 498 (invalid token) → 401 and 499 (request
//!   cancelled, "try again") → 503, retryable; see `error.rs`.

mod embed;
mod error;
#[cfg(test)]
mod props;
mod request;
mod rerank;
mod response;
mod stream;

pub(super) use crate::providers::openai_request::bad;
pub(super) use crate::providers::openai_shape::unix_now as now;
use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde_json::{Map, Value};

use super::headers::request_headers;
use super::{
    Credentials, Dialect, FailureClass, Operation, ProviderError, StreamDecoder, UpstreamRequest,
};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;

pub use error::decode_error;

pub struct Cohere;

pub static COHERE: Cohere = Cohere;

impl Dialect for Cohere {
    fn encode(
        &self,
        d: &Deployment,
        request: &ApiRequest,
        _credentials: &Credentials,
    ) -> Result<UpstreamRequest, ProviderError> {
        if request.stream && request.op != Operation::Chat {
            return Err(bad(
                "stream",
                "Cohere streams chat only; embeddings and rerank answer in one body.",
            ));
        }
        let (path, body) = match request.op {
            Operation::Chat => ("chat", request::body(d, request)?),
            Operation::Embeddings => ("embed", embed::body(d, request)?),
            Operation::Rerank => ("rerank", rerank::body(d, request)?),
        };
        let body = serde_json::to_vec(&body).map_err(|e| {
            ProviderError::new(
                FailureClass::BadRequest,
                format!("cannot encode the request: {e}"),
            )
        })?;
        let key = d.api_key.as_ref().map(|k| format!("Bearer {}", k.expose()));
        Ok(UpstreamRequest {
            url: url(&d.api_base, path),
            headers: request_headers(d, &[], key.as_deref().map(|k| (AUTHORIZATION, k)))?,
            body: Bytes::from(body),
        })
    }

    fn decode_body(
        &self,
        d: &Deployment,
        request: &ApiRequest,
        body: Bytes,
    ) -> Result<Bytes, ProviderError> {
        let value = match request.op {
            Operation::Chat => response::decode(d, &body)?,
            Operation::Embeddings => embed::decode(d, request, &body)?,
            Operation::Rerank => rerank::decode(d, request, &body)?,
        };
        Ok(Bytes::from(value.to_string()))
    }

    fn stream_decoder(&self, d: &Deployment, _: &ApiRequest) -> Box<dyn StreamDecoder> {
        Box::new(stream::Decoder::new(d))
    }

    fn decode_error(&self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ProviderError {
        error::decode_error(status, headers, body)
    }

    fn supported_params(&self, op: Operation) -> Option<&'static [&'static str]> {
        Some(match op {
            Operation::Chat => &[
                "max_tokens",
                "max_completion_tokens",
                "temperature",
                "top_p",
                "top_k",
                "stop",
                "n",
                "seed",
                "frequency_penalty",
                "presence_penalty",
                "tools",
                "tool_choice",
                "parallel_tool_calls",
                "response_format",
            ],
            Operation::Embeddings => &["dimensions", "encoding_format", "input_type"],
            Operation::Rerank => &[
                "top_n",
                "return_documents",
                "max_tokens_per_doc",
                "rank_fields",
            ],
        })
    }
}

/// `{api_base}/v2/{path}`; an `api_base` that already ends in a version
/// (`/v2`, or `/v1` from an older configuration) is not extended twice.
fn url(api_base: &str, path: &str) -> String {
    let base = api_base.trim_end_matches('/');
    let base = base
        .strip_suffix("/v2")
        .or_else(|| base.strip_suffix("/v1"))
        .unwrap_or(base);
    format!("{base}/v2/{path}")
}

/// A request parameter: the client's value, else the deployment's default.
/// `null` counts as not set.
pub(super) struct Params<'a> {
    body: &'a Map<String, Value>,
    defaults: &'a Map<String, Value>,
    /// Whether parameters Cohere cannot express are dropped, not refused.
    pub(super) dropping: bool,
}

impl<'a> Params<'a> {
    pub(super) fn new(d: &'a Deployment, request: &'a ApiRequest) -> Self {
        Params {
            body: &request.body,
            defaults: &d.defaults,
            dropping: d.drop_params
                || request.body.get("drop_params").and_then(Value::as_bool) == Some(true),
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<&'a Value> {
        let set = |m: &'a Map<String, Value>| m.get(name).filter(|v| !v.is_null());
        set(self.body).or_else(|| set(self.defaults))
    }
}

/// A 200 answer that is not what Cohere documents.
pub(super) fn unexpected(detail: &str) -> ProviderError {
    ProviderError::new(
        FailureClass::ServerError,
        format!("Cohere answered with an unexpected body: {detail}"),
    )
    .with_code("bad_upstream_response")
}

/// Cohere counts (billed units are floats in its schema) as whole numbers.
pub(super) fn count(v: Option<&Value>) -> Option<u64> {
    let n = v?.as_f64()?;
    (n.is_finite() && n >= 0.0).then(|| n.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_is_not_extended_twice() {
        for base in [
            "https://api.cohere.com",
            "https://api.cohere.com/",
            "https://api.cohere.com/v2",
            "https://api.cohere.com/v1/",
        ] {
            assert_eq!(url(base, "chat"), "https://api.cohere.com/v2/chat");
        }
    }

    #[test]
    fn counts_are_whole_and_never_negative() {
        assert_eq!(count(Some(&serde_json::json!(12.0))), Some(12));
        assert_eq!(count(Some(&serde_json::json!(-1))), None);
        assert_eq!(count(Some(&serde_json::json!("7"))), None);
        assert_eq!(count(None), None);
    }
}
