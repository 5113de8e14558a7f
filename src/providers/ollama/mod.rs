//! Ollama's native API (`ollama/…` and `ollama_chat/…`, both on
//! `POST {api_base}/api/chat`; embeddings on `POST {api_base}/api/embed`)
//! as an upstream dialect. Pure translators between the OpenAI schema and
//! Ollama's; the shared transport sends. An `api_key`, when configured, goes
//! in `Authorization: Bearer` (a local server needs none; ollama.com and
//! proxies in front of a server do).
//!
//! Choices made where the two APIs do not line up (each also noted where
//! it is implemented):
//!
//! - `stream` is always sent: Ollama streams unless told `false`. A stream
//!   is NDJSON (one JSON object a line, the last with `done: true`, its
//!   `done_reason` and the token counts), not SSE.
//! - Sampling parameters go into `options`: `temperature`, `top_p`,
//!   `top_k`, `seed`, `stop`, `presence_penalty`, `frequency_penalty`,
//!   `num_predict` (from `max_completion_tokens`, else `max_tokens`) and
//!   `num_ctx` (the request's, else the deployment's `num_ctx`). A native
//!   `options` object in the request is sent too, under the mapped values.
//! - `response_format` `json_object` becomes `format: "json"`; `json_schema`
//!   becomes `format: <the schema>`. `keep_alive` (request, else deployment
//!   default) is passed through. `reasoning_effort` becomes `think`:
//!   `none` → `false`, `minimal`/`low` → `"low"`, `medium`, `high` (the
//!   levels Ollama documents); a native `think` is passed through.
//! - Images: a `data:` URL's base64 payload goes into the message's
//!   `images`. Ollama does not fetch URLs and the gateway does not either:
//!   an http(s) image URL (or any content part Ollama cannot take) is a 400
//!   unless `drop_params` is set, which leaves the part out.
//! - Tools: function tools as they are; assistant `tool_calls` carry their
//!   arguments as a JSON object (OpenAI's are a string); a tool result
//!   becomes a `tool` message with the `tool_name` of the call it answers.
//!   Ollama has no `tool_choice`: `auto` is its behaviour, `none` leaves the
//!   tools out, `required` or a named function is a 400 unless
//!   `drop_params`; likewise `parallel_tool_calls: false`.
//! - Answers: `message.thinking` is `reasoning_content`; tool calls get
//!   ids `call_<hash>` (Ollama sends none) and their arguments as a JSON
//!   string; `done_reason` `length` is `length`, anything else `stop`, or
//!   `tool_calls` when the model called tools. Usage is `prompt_eval_count`
//!   and `eval_count`. Ollama sends no id: each answer gets `chatcmpl-…`.
//! - Errors are `{"error": "…"}` with the HTTP status (400, 404 for an
//!   unknown model, 429, 500, 502, and 503 when the server's queue is
//!   full); mid-stream, an `{"error": …}` line ends the stream as a failure.
//! - Embeddings: `input` (text only), `dimensions`, `truncate`,
//!   `keep_alive`; `encoding_format: base64` is the little-endian f32 bytes.

mod embeddings;
mod request;
mod response;
mod stream;

use crate::providers::openai_request::bad;
use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderMap, RETRY_AFTER};
use serde_json::{Map, Value};

use super::headers::request_headers;
use super::{
    Credentials, Dialect, FailureClass, Operation, ProviderError, StreamDecoder, UpstreamRequest,
};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;

pub struct Ollama;

pub static OLLAMA: Ollama = Ollama;

impl Dialect for Ollama {
    fn encode(
        &self,
        d: &Deployment,
        request: &ApiRequest,
        _credentials: &Credentials,
    ) -> Result<UpstreamRequest, ProviderError> {
        let (path, body) = match request.op {
            Operation::Chat => ("api/chat", request::chat_body(d, request)?),
            Operation::Embeddings => ("api/embed", embeddings::body(d, request)?),
            Operation::Rerank => return Err(no_rerank()),
        };
        let body = serde_json::to_vec(&body).map_err(|e| {
            ProviderError::new(
                FailureClass::BadRequest,
                format!("cannot encode the request: {e}"),
            )
        })?;
        let bearer = d.api_key.as_ref().map(|k| format!("Bearer {}", k.expose()));
        let headers = request_headers(d, &[], bearer.as_deref().map(|b| (AUTHORIZATION, b)))?;
        Ok(UpstreamRequest {
            url: url(&d.api_base, path),
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
            Operation::Chat => response::completion(d, &body)?,
            Operation::Embeddings => embeddings::decode(d, request, &body)?,
            Operation::Rerank => return Err(no_rerank()),
        };
        Ok(Bytes::from(value.to_string()))
    }

    fn stream_decoder(&self, d: &Deployment, _: &ApiRequest) -> Box<dyn StreamDecoder> {
        Box::new(stream::NdjsonDecoder::new(d))
    }

    fn decode_error(&self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ProviderError {
        decode_error(status, headers, body)
    }

    fn supported_params(&self, op: Operation) -> Option<&'static [&'static str]> {
        Some(match op {
            Operation::Embeddings => &[
                "dimensions",
                "encoding_format",
                "truncate",
                "keep_alive",
                "num_ctx",
            ],
            _ => &[
                "max_tokens",
                "max_completion_tokens",
                "temperature",
                "top_p",
                "top_k",
                "seed",
                "stop",
                "n",
                "presence_penalty",
                "frequency_penalty",
                "tools",
                "tool_choice",
                "parallel_tool_calls",
                "response_format",
                "reasoning_effort",
                // Ollama's own, accepted as they are.
                "num_ctx",
                "keep_alive",
                "think",
                "format",
                "options",
            ],
        })
    }
}

/// `{api_base}/api/{endpoint}`; an `api_base` that already ends in `/api`
/// is not extended twice.
fn url(api_base: &str, path: &str) -> String {
    let base = api_base.trim_end_matches('/');
    let base = base.strip_suffix("/api").unwrap_or(base);
    format!("{base}/{path}")
}

/// A request parameter: the client's value, else the deployment's default.
/// `null` counts as not set.
struct Params<'a> {
    body: &'a Map<String, Value>,
    defaults: &'a Map<String, Value>,
    /// `drop_params`: what Ollama cannot express is left out, not refused.
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

    /// An integer parameter (Ollama's own ones are not checked by the API
    /// layer, so their type is checked here).
    fn integer(&self, key: &str) -> Result<Option<&'a Value>, ProviderError> {
        match self.get(key) {
            Some(v) if !(v.is_i64() || v.is_u64()) => Err(bad(
                key,
                format!("Invalid type for '{key}': expected an integer."),
            )),
            v => Ok(v),
        }
    }

    /// A value Ollama cannot express: a 400 naming `param`, or `Ok` (and
    /// the caller leaves it out) with `drop_params`.
    fn refuse(&self, param: &str, message: String) -> Result<(), ProviderError> {
        if self.dropping {
            return Ok(());
        }
        let message = format!(
            "{message} Set drop_params: true in the request or the deployment's litellm_params to leave it out."
        );
        Err(bad(param, message).with_code("unsupported_parameter"))
    }
}

fn no_rerank() -> ProviderError {
    ProviderError::new(FailureClass::BadRequest, "Ollama has no rerank endpoint")
        .with_code("unsupported_operation")
}

/// Reads Ollama's error body, `{"error": "message"}`, keeping the status.
pub fn decode_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ProviderError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = match json.get("error") {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        Some(Value::Object(e)) => match e.get("message") {
            Some(Value::String(m)) => m.clone(),
            _ => Value::Object(e.clone()).to_string(),
        },
        _ => {
            let raw = String::from_utf8_lossy(body);
            let raw = raw.trim();
            if raw.is_empty() {
                format!("upstream answered {status}")
            } else {
                raw.chars().take(500).collect()
            }
        }
    };
    let mut e = classified(status, message);
    e.retry_after = headers.get(RETRY_AFTER).cloned();
    e
}

/// The class and OpenAI code of an Ollama error, from its status and text.
fn classified(status: StatusCode, message: String) -> ProviderError {
    let lower = message.to_ascii_lowercase();
    // "input length exceeds the context length" (embed with truncate:
    // false), "prompt too long", "exceeds maximum context length".
    let too_long = lower.contains("context length")
        || lower.contains("context window")
        || lower.contains("prompt too long");
    let (class, code) = match status.as_u16() {
        429 => (FailureClass::RateLimited, Some("rate_limit_exceeded")),
        401 | 403 => (FailureClass::Auth, None),
        404 if lower.contains("model") => (FailureClass::NotFound, Some("model_not_found")),
        404 => (FailureClass::NotFound, None),
        408 | 504 => (FailureClass::Timeout, None),
        // 503: "server busy, please try again. maximum pending requests exceeded".
        503 => (FailureClass::Overloaded, None),
        500..=599 => (FailureClass::ServerError, None),
        _ if too_long => (
            FailureClass::ContextWindowExceeded,
            Some("context_length_exceeded"),
        ),
        _ => (FailureClass::BadRequest, None),
    };
    let status = if status.is_client_error() || status.is_server_error() {
        status
    } else {
        class.default_status()
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

    fn error(status: u16, body: &str) -> ProviderError {
        decode_error(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
        )
    }

    #[test]
    fn classifies_documented_errors() {
        let e = error(
            404,
            r#"{"error":"model 'llama3.3' not found, try pulling it first"}"#,
        );
        assert_eq!(
            (e.class, e.status.as_u16(), e.code.as_deref()),
            (FailureClass::NotFound, 404, Some("model_not_found"))
        );
        assert_eq!(
            e.message,
            "model 'llama3.3' not found, try pulling it first"
        );
        let e = error(
            503,
            r#"{"error":"server busy, please try again.  maximum pending requests exceeded"}"#,
        );
        assert_eq!(e.class, FailureClass::Overloaded);
        assert!(e.class.is_retryable());
        let e = error(429, r#"{"error":"rate limit exceeded"}"#);
        assert_eq!(
            (e.class, e.code.as_deref()),
            (FailureClass::RateLimited, Some("rate_limit_exceeded"))
        );
        let e = error(
            400,
            r#"{"error":"the input length exceeds the context length"}"#,
        );
        assert_eq!(e.class, FailureClass::ContextWindowExceeded);
        let e = error(400, r#"{"error":"llama3 does not support tools"}"#);
        assert_eq!(
            (e.class, e.error_type.as_str()),
            (FailureClass::BadRequest, "invalid_request_error")
        );
        let e = error(500, r#"{"error":"failed to load model: out of memory"}"#);
        assert_eq!(
            (e.class, e.error_type.as_str()),
            (FailureClass::ServerError, "server_error")
        );
        let e = error(502, "<html>bad gateway</html>");
        assert_eq!(
            (e.class, e.message.as_str()),
            (FailureClass::ServerError, "<html>bad gateway</html>")
        );
        assert_eq!(
            error(401, r#"{"error":"unauthorized"}"#).class,
            FailureClass::Auth
        );
    }

    #[test]
    fn url_is_not_extended_twice() {
        for base in [
            "http://localhost:11434",
            "http://localhost:11434/",
            "http://localhost:11434/api",
            "http://localhost:11434/api/",
        ] {
            assert_eq!(url(base, "api/chat"), "http://localhost:11434/api/chat");
        }
    }
}
