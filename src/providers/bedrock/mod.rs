//! AWS Bedrock (`bedrock/{model}`, also `bedrock/converse/{model}`) as an
//! upstream dialect: chat through the Converse API
//! (`POST {endpoint}/model/{modelId}/converse`), streaming through
//! ConverseStream (`…/converse-stream`, AWS's binary event stream) and
//! embeddings through InvokeModel (`…/invoke`) for Amazon Titan and Cohere
//! Embed. Every request is signed with SigV4 (service `bedrock`) in
//! `encode`; the rest is pure translation.
//!
//! Choices made where the two APIs do not line up (each also noted where it
//! is implemented):
//!
//! - System and developer messages become `system` blocks. Consecutive
//!   messages of one role are merged into one turn (Converse wants user and
//!   assistant turns to alternate); tool results are `toolResult` blocks in
//!   a user turn.
//! - Images only as base64 data URLs (png, jpeg, gif, webp): Converse takes
//!   the bytes, and the gateway fetches nothing on the request path.
//! - `response_format` (`json_schema`, or `json_object` with an open object
//!   schema) becomes a tool named [`JSON_TOOL`] that the model must call
//!   (`toolChoice: any`, which more Bedrock models accept than a named
//!   tool); its input is returned as the message content, with
//!   `finish_reason: stop`.
//! - `tool_choice: none` leaves the tools out, unless the conversation holds
//!   tool calls or results: Converse then requires `toolConfig`, so the tools
//!   are sent with the default (auto) choice. A conversation with tool blocks
//!   but no `tools` gets a tool spec per name used, with an open schema.
//! - `top_k` goes into `additionalModelRequestFields`; a client's own
//!   `additionalModelRequestFields` and `guardrailConfig` pass through.
//!   `n` above 1 and `parallel_tool_calls: false` have no Converse
//!   equivalent and are refused (or dropped with `drop_params`).
//! - Usage: `prompt_tokens` = `inputTokens` + `cacheReadInputTokens` +
//!   `cacheWriteInputTokens`; `prompt_tokens_details.cached_tokens` is the
//!   cache read; when Bedrock reports cache counts, both are also in `usage`
//!   as `cache_read_input_tokens` and `cache_creation_input_tokens`.
//! - Embeddings: Titan embeds one `inputText` per call, so a request with
//!   several inputs is refused with a 400 that says to send them one by one
//!   (the dialect makes one upstream request per client request); Cohere
//!   Embed takes up to 96 `texts`, `input_type` defaulting to
//!   `search_document`.
//! - Errors are classified by their AWS error type (`x-amzn-ErrorType`, else
//!   the body's `__type` or `code`); see `error.rs`.

mod embed;
mod error;
mod eventstream;
mod request;
mod response;
mod sign;
mod stream;

pub(super) use crate::providers::openai_shape::unix_now;
use std::time::SystemTime;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use serde_json::{Map, Value};

use super::headers::request_headers;
use super::{
    Credentials, Dialect, FailureClass, Operation, ProviderError, StreamDecoder, UpstreamRequest,
};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;

pub use error::decode_error;
pub use eventstream::{Frame, FrameReader};

/// The tool that carries a structured (`response_format`) answer.
pub const JSON_TOOL: &str = "json_response";

pub struct Bedrock;

pub static BEDROCK: Bedrock = Bedrock;

/// `{endpoint}/model/{modelId}/{action}`, the model id percent-encoded (ids
/// hold `:`, ARNs also `/`).
fn url(d: &Deployment, action: &str) -> String {
    format!(
        "{}/model/{}/{action}",
        d.api_base,
        encode_segment(&d.upstream_model)
    )
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Dialect for Bedrock {
    fn encode(
        &self,
        d: &Deployment,
        request: &ApiRequest,
        _credentials: &Credentials,
    ) -> Result<UpstreamRequest, ProviderError> {
        let (action, body, accept) = match request.op {
            Operation::Chat if request.stream => (
                "converse-stream",
                request::body(d, request)?,
                "application/vnd.amazon.eventstream",
            ),
            Operation::Chat => ("converse", request::body(d, request)?, "application/json"),
            Operation::Embeddings => ("invoke", embed::body(d, request)?, "application/json"),
            Operation::Rerank => {
                return Err(ProviderError::new(
                    FailureClass::BadRequest,
                    "The bedrock/ provider does not serve /v1/rerank.",
                )
                .with_code("unsupported_operation"));
            }
        };
        let body = serde_json::to_vec(&body).map_err(|e| {
            ProviderError::new(
                FailureClass::BadRequest,
                format!("cannot encode the request: {e}"),
            )
        })?;
        let url = url(d, action);
        let mut headers = request_headers(d, &[(ACCEPT, HeaderValue::from_static(accept))], None)?;
        sign::sign(d, &url, &mut headers, &body, SystemTime::now())?;
        Ok(UpstreamRequest {
            url,
            headers,
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
            Operation::Embeddings => embed::decode(d, request, &body)?,
            _ => response::completion(d, request, &body)?,
        };
        Ok(Bytes::from(value.to_string()))
    }

    fn stream_decoder(&self, d: &Deployment, request: &ApiRequest) -> Box<dyn StreamDecoder> {
        Box::new(stream::Decoder::new(d, request))
    }

    fn decode_error(&self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ProviderError {
        error::decode_error(status, headers, body)
    }

    fn supported_params(&self, op: Operation) -> Option<&'static [&'static str]> {
        Some(match op {
            Operation::Embeddings => &["dimensions", "encoding_format", "input_type"],
            _ => &[
                "max_tokens",
                "max_completion_tokens",
                "temperature",
                "top_p",
                "top_k",
                "stop",
                // 1 only; more is refused in `request`.
                "n",
                "tools",
                "tool_choice",
                // `true` only: Converse lets a model call several tools.
                "parallel_tool_calls",
                "response_format",
                "additionalModelRequestFields",
                "guardrailConfig",
            ],
        })
    }
}

/// A request parameter: the client's value, else the deployment's default.
/// `null` counts as not set.
struct Params<'a> {
    body: &'a Map<String, Value>,
    defaults: &'a Map<String, Value>,
    dropping: bool,
}

impl<'a> Params<'a> {
    fn new(d: &'a Deployment, request: &'a ApiRequest) -> Self {
        Params {
            body: &request.body,
            defaults: &d.defaults,
            dropping: d.drop_params
                || request.body.get("drop_params").and_then(Value::as_bool) == Some(true),
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        match self.body.get(key) {
            Some(v) if !v.is_null() => Some(v),
            _ => self.defaults.get(key).filter(|v| !v.is_null()),
        }
    }
}

fn bad_request(param: &str, message: impl Into<String>) -> ProviderError {
    ProviderError {
        param: Some(param.to_string()),
        ..ProviderError::new(FailureClass::BadRequest, message)
    }
}

fn not_json(what: &str, e: &serde_json::Error) -> ProviderError {
    ProviderError::new(
        FailureClass::ServerError,
        format!("Bedrock answered with {what} that is not JSON: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_are_one_encoded_path_segment() {
        assert_eq!(
            encode_segment("anthropic.claude-3-5-sonnet-20240620-v1:0"),
            "anthropic.claude-3-5-sonnet-20240620-v1%3A0"
        );
        assert_eq!(
            encode_segment("arn:aws:bedrock:eu-central-1:1:inference-profile/eu.x"),
            "arn%3Aaws%3Abedrock%3Aeu-central-1%3A1%3Ainference-profile%2Feu.x"
        );
    }
}
