//! The OpenAI dialect, spoken by OpenAI, Azure OpenAI, Mistral, DeepSeek,
//! Groq, Together, vLLM and any OpenAI-compatible server. The request body is
//! forwarded as the client sent it (unknown fields untouched); only `model`
//! is replaced and deployment defaults are added.

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::headers::request_headers;
use super::sse::SseSplitter;
use super::{
    Credentials, Dialect, FailureClass, Operation, ProviderError, StreamDecoder, UpstreamRequest,
};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;

/// How the endpoint and the key are put into the request.
pub enum Flavour {
    /// `{api_base}/chat/completions` with `Authorization: Bearer`.
    Standard,
    /// `{api_base}/openai/deployments/{deployment}/chat/completions?api-version=…`
    /// with an `api-key` header.
    Azure,
}

pub struct OpenAi(pub Flavour);

pub static OPENAI: OpenAi = OpenAi(Flavour::Standard);
pub static AZURE: OpenAi = OpenAi(Flavour::Azure);

fn path(op: Operation) -> &'static str {
    match op {
        Operation::Chat => "chat/completions",
        Operation::Embeddings => "embeddings",
        // Together, vLLM and other OpenAI-compatible servers speak Cohere's
        // rerank shape at `{api_base}/rerank`.
        Operation::Rerank => "rerank",
    }
}

impl Dialect for OpenAi {
    fn encode(
        &self,
        d: &Deployment,
        request: &ApiRequest,
        _credentials: &Credentials,
    ) -> Result<UpstreamRequest, ProviderError> {
        let url = match self.0 {
            Flavour::Standard => format!("{}/{}", d.api_base, path(request.op)),
            Flavour::Azure => format!(
                "{}/openai/deployments/{}/{}?api-version={}",
                d.api_base,
                d.upstream_model,
                path(request.op),
                d.api_version
                    .as_deref()
                    .unwrap_or(super::AZURE_DEFAULT_API_VERSION)
            ),
        };
        let credential = d.api_key.as_ref().map(|key| match self.0 {
            Flavour::Standard => (AUTHORIZATION, format!("Bearer {}", key.expose())),
            Flavour::Azure => (HeaderName::from_static("api-key"), key.expose().to_string()),
        });
        let organization = d
            .organization
            .as_deref()
            .and_then(|org| HeaderValue::from_str(org).ok());
        let fixed: Vec<(HeaderName, HeaderValue)> = organization
            .map(|v| (HeaderName::from_static("openai-organization"), v))
            .into_iter()
            .collect();
        let headers = request_headers(
            d,
            &fixed,
            credential
                .as_ref()
                .map(|(name, value)| (name.clone(), value.as_str())),
        )?;
        // A stream's usage comes only when asked for: the gateway asks
        // (cost, budgets, tpm) and `metering` hides it if the client did not.
        let stream_options = (request.op == Operation::Chat
            && request.stream
            && !request.include_usage
            && crate::cost::asks_usage_itself(d.provider))
        .then(|| crate::cost::stream_options_with_usage(&request.body))
        .flatten();
        let merged = Merged {
            body: &request.body,
            model: &d.upstream_model,
            defaults: &d.defaults,
            stream_options: stream_options.as_ref(),
        };
        let body = serde_json::to_vec(&merged).map_err(|e| {
            ProviderError::new(
                FailureClass::BadRequest,
                format!("cannot encode the request: {e}"),
            )
        })?;
        Ok(UpstreamRequest {
            url,
            headers,
            body: Bytes::from(body),
        })
    }

    fn decode_body(
        &self,
        _d: &Deployment,
        _request: &ApiRequest,
        body: Bytes,
    ) -> Result<Bytes, ProviderError> {
        // Passed through as it is, but only when it is a JSON object: a cut
        // or garbled body is the upstream's failure (retryable), not an answer.
        let object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if object && serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok() {
            return Ok(body);
        }
        let mut e = ProviderError::new(
            FailureClass::ServerError,
            "The upstream answered with a body that is not a JSON object.",
        );
        e.status = StatusCode::BAD_GATEWAY;
        Err(e)
    }

    fn stream_decoder(&self, _d: &Deployment, _request: &ApiRequest) -> Box<dyn StreamDecoder> {
        Box::new(PassThrough {
            sse: SseSplitter::default(),
            done: false,
        })
    }

    fn decode_error(&self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ProviderError {
        decode_error(status, headers, body)
    }
}

/// The client's body with `model` replaced and the deployment's defaults
/// added where the client set nothing, serialized without copying the body.
struct Merged<'a> {
    body: &'a Map<String, Value>,
    model: &'a str,
    defaults: &'a Map<String, Value>,
    /// Sent instead of the body's `stream_options`, when set.
    stream_options: Option<&'a Value>,
}

impl Serialize for Merged<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("model", self.model)?;
        if let Some(options) = self.stream_options {
            map.serialize_entry("stream_options", options)?;
        }
        // Sent above instead of the body's or the defaults' own.
        let replaced = |k: &str| k == "stream_options" && self.stream_options.is_some();
        for (k, v) in self.body {
            // `drop_params` and the routing fields are the gateway's, not
            // the upstream's.
            let gateways = matches!(
                k.as_str(),
                "model"
                    | "drop_params"
                    | "fallbacks"
                    | "disable_fallbacks"
                    | "num_retries"
                    | "tags"
            );
            if !gateways && !replaced(k) {
                map.serialize_entry(k, v)?;
            }
        }
        for (k, v) in self.defaults {
            if !self.body.contains_key(k) && !replaced(k) {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

/// OpenAI chunks pass through as they come; only the framing is normalised
/// and an `{"error": …}` event is recognised as a failure.
struct PassThrough {
    sse: SseSplitter,
    done: bool,
}

impl StreamDecoder for PassThrough {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<Bytes>) -> Result<(), ProviderError> {
        for ev in self.sse.push(bytes) {
            let data = ev.data.trim();
            if data == "[DONE]" {
                self.done = true;
                out.push(Bytes::from_static(b"data: [DONE]\n\n"));
                continue;
            }
            // Cheap test first: only a chunk naming "error" is parsed.
            if (ev.name.as_deref() == Some("error") || data.contains("\"error\""))
                && let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(data)
                && obj.contains_key("error")
            {
                let status = StatusCode::INTERNAL_SERVER_ERROR;
                return Err(decode_error(status, &HeaderMap::new(), data.as_bytes()));
            }
            let mut event = Vec::with_capacity(data.len() + 8);
            event.extend_from_slice(b"data: ");
            event.extend_from_slice(data.as_bytes());
            event.extend_from_slice(b"\n\n");
            out.push(Bytes::from(event));
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

/// Reads an OpenAI-style error body (also Azure's, and the top-level
/// `{"message": …}` / `{"detail": …}` shapes of vLLM and other servers).
pub fn decode_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ProviderError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let err = match json.get("error") {
        Some(Value::Object(_)) => json.get("error").unwrap_or(&Value::Null),
        _ => &json,
    };
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let message = text(err.get("message"))
        .or_else(|| text(json.get("error")))
        .or_else(|| text(json.get("detail")))
        .unwrap_or_else(|| {
            let raw = String::from_utf8_lossy(body);
            let raw = raw.trim();
            if raw.is_empty() {
                format!("upstream answered {status}")
            } else {
                raw.chars().take(500).collect()
            }
        });
    let code = text(err.get("code"));
    let class = classify(status, code.as_deref(), &message);
    let status = if status.is_client_error() || status.is_server_error() {
        status
    } else {
        class.default_status()
    };
    ProviderError {
        class,
        status,
        error_type: text(err.get("type")).unwrap_or_else(|| class.error_type().to_string()),
        code,
        param: text(err.get("param")),
        message,
        retry_after: headers.get(RETRY_AFTER).cloned(),
    }
}

fn classify(status: StatusCode, code: Option<&str>, message: &str) -> FailureClass {
    let lower = message.to_ascii_lowercase();
    match status.as_u16() {
        429 => FailureClass::RateLimited,
        401 | 403 => FailureClass::Auth,
        404 => FailureClass::NotFound,
        408 | 504 => FailureClass::Timeout,
        503 | 529 => FailureClass::Overloaded,
        500..=599 => FailureClass::ServerError,
        _ if code == Some("context_length_exceeded")
            || lower.contains("maximum context length")
            || lower.contains("context length") =>
        {
            FailureClass::ContextWindowExceeded
        }
        _ if matches!(code, Some("content_filter" | "content_policy_violation"))
            || lower.contains("content management policy") =>
        {
            FailureClass::ContentPolicy
        }
        _ => FailureClass::BadRequest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_documented_errors() {
        let ctx = br#"{"error":{"message":"This model's maximum context length is 4097 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
        let e = decode_error(StatusCode::BAD_REQUEST, &HeaderMap::new(), ctx);
        assert_eq!(e.class, FailureClass::ContextWindowExceeded);
        assert_eq!(e.param.as_deref(), Some("messages"));
        let azure = br#"{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}"#;
        let e = decode_error(StatusCode::NOT_FOUND, &HeaderMap::new(), azure);
        assert_eq!(
            (e.class, e.code.as_deref()),
            (FailureClass::NotFound, Some("DeploymentNotFound"))
        );
        assert_eq!(e.error_type, "invalid_request_error");
        let filter = br#"{"error":{"message":"filtered","type":null,"param":"prompt","code":"content_filter","status":400}}"#;
        assert_eq!(
            decode_error(StatusCode::BAD_REQUEST, &HeaderMap::new(), filter).class,
            FailureClass::ContentPolicy
        );
        let vllm = br#"{"object":"error","message":"bad","type":"BadRequestError","param":null,"code":400}"#;
        let e = decode_error(StatusCode::BAD_REQUEST, &HeaderMap::new(), vllm);
        assert_eq!(
            (e.message.as_str(), e.class),
            ("bad", FailureClass::BadRequest)
        );
        let e = decode_error(
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            b"<html>oops</html>",
        );
        assert_eq!(
            (e.message.as_str(), e.class),
            ("<html>oops</html>", FailureClass::ServerError)
        );
    }
}
