//! Bedrock's errors, classified once here. Bedrock speaks AWS's restJson1
//! protocol: the error type is the `x-amzn-ErrorType` header (e.g.
//! `ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/`),
//! else the body's `__type` (`com.amazon.coral.validate#ValidationException`)
//! or `code`; the message is the body's `message` (or `Message`). Inside a
//! ConverseStream an exception is an event-stream message whose
//! `:exception-type` is the union member's name (`throttlingException`).

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;

use super::{FailureClass, ProviderError};
use crate::providers::openai;

/// AWS error types Bedrock Runtime documents (plus the signature errors of
/// AWS's front door), with their class and documented status.
const TYPES: &[(&str, FailureClass, u16)] = &[
    ("ThrottlingException", FailureClass::RateLimited, 429),
    (
        "ServiceQuotaExceededException",
        FailureClass::RateLimited,
        429,
    ),
    ("ServiceUnavailableException", FailureClass::Overloaded, 503),
    ("ModelNotReadyException", FailureClass::Overloaded, 429),
    ("ValidationException", FailureClass::BadRequest, 400),
    ("ConflictException", FailureClass::BadRequest, 400),
    ("AccessDeniedException", FailureClass::Auth, 403),
    ("UnrecognizedClientException", FailureClass::Auth, 403),
    ("InvalidSignatureException", FailureClass::Auth, 403),
    ("IncompleteSignatureException", FailureClass::Auth, 400),
    (
        "MissingAuthenticationTokenException",
        FailureClass::Auth,
        403,
    ),
    ("ExpiredTokenException", FailureClass::Auth, 403),
    ("ResourceNotFoundException", FailureClass::NotFound, 404),
    ("ModelTimeoutException", FailureClass::Timeout, 408),
    ("InternalServerException", FailureClass::ServerError, 500),
    ("InternalFailure", FailureClass::ServerError, 500),
    ("ModelErrorException", FailureClass::ServerError, 424),
    ("ModelStreamErrorException", FailureClass::ServerError, 424),
];

/// The wording Bedrock's models use when the prompt does not fit.
const CONTEXT_WINDOW: &[&str] = &[
    "input is too long",
    "too many input tokens",
    "too many tokens",
    "prompt is too long",
    "context window",
    "context length",
    "context limit",
    "maximum context",
];

pub fn decode_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ProviderError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |k: &str| {
        json.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let kind = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .or_else(|| text("__type"))
        .or_else(|| text("code"))
        .map(type_name)
        .filter(|k| !k.is_empty());
    let Some(kind) = kind else {
        // Not AWS's shape (a proxy's page, say): read it the generic way.
        return openai::decode_error(status, headers, body);
    };
    let fallback = format!("Bedrock answered {status} ({kind})");
    let message = text("message")
        .or_else(|| text("Message"))
        .unwrap_or(&fallback);
    let mut e = classified(kind, message, Some(status));
    e.retry_after = headers.get(RETRY_AFTER).cloned();
    e
}

/// An exception inside a ConverseStream: its `:exception-type` and payload.
pub fn from_stream_exception(kind: &str, payload: &[u8]) -> ProviderError {
    let json: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let message = json
        .get("message")
        .or_else(|| json.get("Message"))
        .and_then(Value::as_str)
        .unwrap_or("Bedrock ended the stream with an exception");
    let mut name = String::with_capacity(kind.len());
    let mut chars = kind.chars();
    if let Some(first) = chars.next() {
        name.extend(first.to_uppercase());
        name.extend(chars);
    }
    classified(&name, message, None)
}

/// `{"message"}`-less errors inside a stream (`:message-type: error`).
pub fn from_stream_error(code: &str, message: &str) -> ProviderError {
    classified(code, message, None)
}

/// `ValidationException:http://…` and `…#ValidationException` → `ValidationException`.
fn type_name(raw: &str) -> &str {
    let raw = raw.split(':').next().unwrap_or(raw);
    raw.rsplit('#').next().unwrap_or(raw).trim()
}

fn classified(kind: &str, message: &str, status: Option<StatusCode>) -> ProviderError {
    let known = TYPES.iter().find(|(name, _, _)| *name == kind);
    let lower = message.to_ascii_lowercase();
    let mut class = match known {
        Some((_, class, _)) => *class,
        None => match status.map_or(500, |s| s.as_u16()) {
            429 => FailureClass::RateLimited,
            401 | 403 => FailureClass::Auth,
            404 => FailureClass::NotFound,
            408 | 504 => FailureClass::Timeout,
            503 => FailureClass::Overloaded,
            500..=599 => FailureClass::ServerError,
            _ => FailureClass::BadRequest,
        },
    };
    if class == FailureClass::BadRequest && CONTEXT_WINDOW.iter().any(|w| lower.contains(w)) {
        class = FailureClass::ContextWindowExceeded;
    }
    let status = match status {
        // A quota is a rate limit; clients retry a 429, not a 400.
        _ if class == FailureClass::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        Some(s) if s.is_client_error() || s.is_server_error() => s,
        _ => known
            .and_then(|(_, _, s)| StatusCode::from_u16(*s).ok())
            .unwrap_or_else(|| class.default_status()),
    };
    let code = if class == FailureClass::ContextWindowExceeded {
        "context_length_exceeded"
    } else {
        kind
    };
    ProviderError {
        status,
        code: Some(code.to_string()),
        ..ProviderError::new(class, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn decode(status: u16, header: Option<&'static str>, body: &str) -> ProviderError {
        let mut headers = HeaderMap::new();
        if let Some(h) = header {
            headers.insert("x-amzn-errortype", HeaderValue::from_static(h));
        }
        decode_error(
            StatusCode::from_u16(status).unwrap(),
            &headers,
            body.as_bytes(),
        )
    }

    #[test]
    fn classifies_by_header_type_or_body() {
        for (status, kind, class) in [
            (429, "ThrottlingException", FailureClass::RateLimited),
            (503, "ServiceUnavailableException", FailureClass::Overloaded),
            (429, "ModelNotReadyException", FailureClass::Overloaded),
            (400, "ValidationException", FailureClass::BadRequest),
            (403, "AccessDeniedException", FailureClass::Auth),
            (403, "UnrecognizedClientException", FailureClass::Auth),
            (404, "ResourceNotFoundException", FailureClass::NotFound),
            (408, "ModelTimeoutException", FailureClass::Timeout),
            (500, "InternalServerException", FailureClass::ServerError),
        ] {
            let header = format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/");
            let mut headers = HeaderMap::new();
            headers.insert("x-amzn-errortype", HeaderValue::from_str(&header).unwrap());
            let e = decode_error(
                StatusCode::from_u16(status).unwrap(),
                &headers,
                br#"{"message":"m"}"#,
            );
            assert_eq!((e.class, e.status.as_u16()), (class, status), "{kind}");
            assert_eq!((e.code.as_deref(), e.message.as_str()), (Some(kind), "m"));
        }
        let e = decode(
            400,
            None,
            r#"{"__type":"com.amazon.coral.validate#ValidationException","message":"Input is too long for requested model."}"#,
        );
        assert_eq!(e.class, FailureClass::ContextWindowExceeded);
        assert_eq!(e.code.as_deref(), Some("context_length_exceeded"));
        let e = decode(
            400,
            Some("ServiceQuotaExceededException"),
            r#"{"message":"q"}"#,
        );
        assert_eq!(
            (e.class, e.status.as_u16()),
            (FailureClass::RateLimited, 429)
        );
        let e = decode(502, None, "<html>bad gateway</html>");
        assert_eq!(e.class, FailureClass::ServerError);
    }

    #[test]
    fn stream_exceptions_use_member_names() {
        let e = from_stream_exception("throttlingException", br#"{"message":"slow down"}"#);
        assert_eq!(
            (e.class, e.status.as_u16()),
            (FailureClass::RateLimited, 429)
        );
        assert_eq!(e.message, "slow down");
        let e = from_stream_exception("modelStreamErrorException", b"not json");
        assert_eq!(
            (e.class, e.status.as_u16()),
            (FailureClass::ServerError, 424)
        );
        let e = from_stream_error("InternalFailure", "boom");
        assert_eq!(e.class, FailureClass::ServerError);
    }
}
