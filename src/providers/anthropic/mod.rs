//! Anthropic's Messages API (`POST {api_base}/v1/messages`) as an upstream
//! dialect: the unified (OpenAI-schema) chat request is rewritten into a
//! Messages request, and the answer, stream or error back into OpenAI's
//! shapes. All of it is pure functions; the shared transport sends.
//!
//! Choices made where the two APIs do not line up (each also noted where
//! it is implemented):
//!
//! - `max_tokens` is required by Anthropic. It is the request's
//!   `max_completion_tokens` or `max_tokens` (or a deployment default of
//!   either), else `model_info.max_output_tokens`, else `model_info.max_tokens`,
//!   else [`DEFAULT_MAX_TOKENS`].
//! - `reasoning_effort` becomes `thinking: {type: enabled, budget_tokens}`
//!   with the budgets in [`thinking_budget`]; `minimal` counts as `low`,
//!   `none` turns thinking off.
//! - `response_format` `json_schema` (or `json_object`, with an open object
//!   schema) becomes a tool named [`JSON_TOOL`] whose `input_schema` is the
//!   schema, forced with `tool_choice`. The input of that tool call is the
//!   answer: it is returned as the message `content` (never as a tool call)
//!   and its `tool_use` stop reason as `finish_reason: stop`.
//! - Usage: Anthropic's `input_tokens` counts only the tokens after the last
//!   cache breakpoint, so `prompt_tokens` = `input_tokens` +
//!   `cache_read_input_tokens` + `cache_creation_input_tokens` (every token
//!   of the prompt, as OpenAI counts it). `prompt_tokens_details.cached_tokens`
//!   is the cache read; both cache counts are also kept in `usage` under
//!   Anthropic's names, for cost accounting.
//! - Errors keep the upstream status, including 529 (`overloaded_error`),
//!   which is classed `Overloaded` and so retryable. `type` is OpenAI's for
//!   the class; `code` is OpenAI's code where one exists
//!   (`rate_limit_exceeded`, `invalid_api_key`, `context_length_exceeded`),
//!   else Anthropic's error type.
//! - OpenAI parameters Anthropic has no equivalent for (`presence_penalty`,
//!   `frequency_penalty`, `seed`, `logprobs`, `logit_bias`, …) are not sent;
//!   `n` above 1 is refused. Anthropic's own `top_k` and `thinking` are
//!   passed through when a client sends them.

#[cfg(test)]
mod props;
mod request;
mod response;
mod stream;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use serde_json::Value;

use super::headers::request_headers;
use super::{
    Credentials, Dialect, FailureClass, Operation, ProviderError, StreamDecoder, UpstreamRequest,
};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;

/// The API version every request is pinned to (Anthropic's current one).
pub const API_VERSION: &str = "2023-06-01";
/// `max_tokens` when neither the request nor the deployment names one.
pub const DEFAULT_MAX_TOKENS: u64 = 4096;
/// The tool that carries a structured (`response_format`) answer.
pub const JSON_TOOL: &str = "json_response";

/// `thinking.budget_tokens` for an OpenAI `reasoning_effort`. Anthropic's
/// minimum budget is 1024 tokens; each step up quadruples it.
pub fn thinking_budget(effort: &str) -> Option<u64> {
    match effort {
        "minimal" | "low" => Some(1024),
        "medium" => Some(4096),
        "high" => Some(16384),
        _ => None,
    }
}

pub struct Anthropic;

pub static ANTHROPIC: Anthropic = Anthropic;

impl Dialect for Anthropic {
    fn encode(
        &self,
        d: &Deployment,
        request: &ApiRequest,
        _credentials: &Credentials,
    ) -> Result<UpstreamRequest, ProviderError> {
        if request.op == Operation::Embeddings {
            return Err(ProviderError::new(
                FailureClass::BadRequest,
                format!(
                    "Anthropic has no embeddings API; model group '{}' (anthropic/{}) cannot serve /v1/embeddings.",
                    d.group, d.upstream_model
                ),
            )
            .with_code("unsupported_operation"));
        }
        let body = request::body(d, request)?;
        let body = serde_json::to_vec(&body).map_err(|e| {
            ProviderError::new(
                FailureClass::BadRequest,
                format!("cannot encode the request: {e}"),
            )
        })?;
        Ok(UpstreamRequest {
            url: messages_url(&d.api_base),
            headers: headers(d)?,
            body: Bytes::from(body),
        })
    }

    fn decode_body(
        &self,
        d: &Deployment,
        request: &ApiRequest,
        body: Bytes,
    ) -> Result<Bytes, ProviderError> {
        response::decode(d, request, &body)
    }

    fn stream_decoder(&self, d: &Deployment, request: &ApiRequest) -> Box<dyn StreamDecoder> {
        Box::new(stream::Decoder::new(d, request))
    }

    fn decode_error(&self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ProviderError {
        decode_error(status, headers, body)
    }

    fn supported_params(&self, _op: Operation) -> Option<&'static [&'static str]> {
        Some(&[
            "max_tokens",
            "max_completion_tokens",
            "temperature",
            "top_p",
            "top_k",
            "stop",
            "n",
            "tools",
            "tool_choice",
            "parallel_tool_calls",
            "response_format",
            "reasoning_effort",
            "thinking",
        ])
    }
}

/// `{api_base}/v1/messages`; an `api_base` that already ends in `/v1` or
/// `/v1/messages` is not extended twice.
fn messages_url(api_base: &str) -> String {
    let base = api_base.trim_end_matches('/');
    if base.ends_with("/v1/messages") {
        base.to_string()
    } else if base.ends_with("/v1") {
        format!("{base}/messages")
    } else {
        format!("{base}/v1/messages")
    }
}

fn headers(d: &Deployment) -> Result<HeaderMap, ProviderError> {
    // `extra_headers` may set `anthropic-beta` or another `anthropic-version`.
    let version = (
        HeaderName::from_static("anthropic-version"),
        HeaderValue::from_static(API_VERSION),
    );
    let key = d
        .api_key
        .as_ref()
        .map(|k| (HeaderName::from_static("x-api-key"), k.expose()));
    request_headers(d, &[version], key)
}

/// Reads Anthropic's error body, `{"type": "error", "error": {"type", "message"}}`.
pub fn decode_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ProviderError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut e = error_from(Some(status), &json).unwrap_or_else(|| {
        let raw = String::from_utf8_lossy(body);
        let raw = raw.trim();
        let message = if raw.is_empty() {
            format!("upstream answered {status}")
        } else {
            raw.chars().take(500).collect()
        };
        classified(status, None, message)
    });
    e.retry_after = headers.get(RETRY_AFTER).cloned();
    e
}

/// The error in an error body or stream `error` event, if it is one. Without
/// an HTTP status (an event in a stream that began with 200), the status is
/// the one Anthropic documents for the error type.
fn error_from(status: Option<StatusCode>, json: &Value) -> Option<ProviderError> {
    let err = json.get("error").filter(|e| e.is_object())?;
    let kind = err.get("type").and_then(Value::as_str);
    let message = match err.get("message").and_then(Value::as_str) {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => format!("upstream error {}", kind.unwrap_or("(untyped)")),
    };
    let status = status
        .filter(|s| s.is_client_error() || s.is_server_error())
        .or_else(|| kind.and_then(documented_status))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Some(classified(status, kind, message))
}

/// Anthropic's documented status for each error type.
fn documented_status(kind: &str) -> Option<StatusCode> {
    let code = match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "api_error" => 500,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => return None,
    };
    StatusCode::from_u16(code).ok()
}

fn classified(status: StatusCode, kind: Option<&str>, message: String) -> ProviderError {
    let lower = message.to_ascii_lowercase();
    // "prompt is too long: 208310 tokens > 200000 maximum", and
    // "input length and `max_tokens` exceed context limit: …".
    let too_long = lower.contains("prompt is too long") || lower.contains("exceed context limit");
    let class = match kind {
        _ if too_long && (status.is_client_error() || kind == Some("invalid_request_error")) => {
            FailureClass::ContextWindowExceeded
        }
        Some("rate_limit_error") => FailureClass::RateLimited,
        Some("overloaded_error") => FailureClass::Overloaded,
        Some("authentication_error" | "permission_error") => FailureClass::Auth,
        Some("not_found_error") => FailureClass::NotFound,
        Some("api_error") => FailureClass::ServerError,
        Some("timeout_error") => FailureClass::Timeout,
        Some("invalid_request_error" | "request_too_large" | "billing_error") => {
            FailureClass::BadRequest
        }
        _ => match status.as_u16() {
            429 => FailureClass::RateLimited,
            401 | 403 => FailureClass::Auth,
            404 => FailureClass::NotFound,
            408 | 504 => FailureClass::Timeout,
            503 | 529 => FailureClass::Overloaded,
            500..=599 => FailureClass::ServerError,
            _ => FailureClass::BadRequest,
        },
    };
    let code = match (class, kind) {
        (FailureClass::ContextWindowExceeded, _) => Some("context_length_exceeded"),
        (_, Some("rate_limit_error")) => Some("rate_limit_exceeded"),
        (_, Some("authentication_error")) => Some("invalid_api_key"),
        (_, kind) => kind,
    };
    ProviderError {
        class,
        status,
        message,
        error_type: class.error_type().to_string(),
        code: code.map(str::to_string),
        param: None,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, kind: &str, message: &str) -> ProviderError {
        let body = serde_json::json!({"type": "error", "error": {"type": kind, "message": message},
            "request_id": "req_011"});
        decode_error(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.to_string().as_bytes(),
        )
    }

    #[test]
    fn classifies_documented_errors() {
        let e = error(529, "overloaded_error", "Overloaded");
        assert_eq!(
            (e.class, e.status.as_u16()),
            (FailureClass::Overloaded, 529)
        );
        assert!(e.class.is_retryable());
        assert_eq!(e.error_type, "overloaded_error");
        let e = error(
            400,
            "invalid_request_error",
            "prompt is too long: 208310 tokens > 200000 maximum",
        );
        assert_eq!(e.class, FailureClass::ContextWindowExceeded);
        assert_eq!(e.code.as_deref(), Some("context_length_exceeded"));
        let e = error(401, "authentication_error", "invalid x-api-key");
        assert_eq!(
            (e.class, e.error_type.as_str()),
            (FailureClass::Auth, "authentication_error")
        );
        assert_eq!(error(413, "request_too_large", "big").status.as_u16(), 413);
        assert_eq!(
            error(500, "api_error", "oops").class,
            FailureClass::ServerError
        );
        let e = decode_error(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>");
        assert_eq!(
            (e.class, e.message.as_str()),
            (FailureClass::ServerError, "<html>")
        );
    }

    #[test]
    fn stream_errors_take_the_documented_status() {
        let event = serde_json::json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        let e = error_from(None, &event).unwrap();
        assert_eq!(
            (e.status.as_u16(), e.class),
            (529, FailureClass::Overloaded)
        );
        assert!(error_from(None, &serde_json::json!({"type": "ping"})).is_none());
    }

    #[test]
    fn url_is_not_extended_twice() {
        for base in [
            "https://api.anthropic.com",
            "https://api.anthropic.com/",
            "https://api.anthropic.com/v1",
            "https://api.anthropic.com/v1/messages",
        ] {
            assert_eq!(messages_url(base), "https://api.anthropic.com/v1/messages");
        }
    }
}
