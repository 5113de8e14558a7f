//! Cohere's error answers, classified once. The body is `{"message": …}`
//! (sometimes with an `id`); the meaning is in the status, which Cohere's
//! errors reference documents: 400 bad request (including "too many tokens"
//! for an over-long prompt), 401 missing/invalid/expired key, 402 billing
//! limit reached, 404 model or resource not found, 429 rate limited, 499
//! request cancelled ("try the request again"), 500 internal error; the API
//! definition adds 403, 498 invalid token, 501, 503 and 504.
//!
//! Statuses are kept, except the two OpenAI clients cannot read: 498 becomes
//! 401 (an invalid key is an authentication error) and 499 becomes 503,
//! retryable, as Cohere says to try again.

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;

use crate::providers::{FailureClass, ProviderError};

pub fn decode_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ProviderError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    };
    let message = text(json.get("message"))
        .or_else(|| text(json.pointer("/error/message")))
        .or_else(|| text(json.get("error")))
        .unwrap_or_else(|| {
            let raw = String::from_utf8_lossy(body);
            let raw = raw.trim();
            if raw.is_empty() {
                format!("Cohere answered {status}")
            } else {
                raw.chars().take(500).collect()
            }
        });
    let mut e = classified(status, message);
    e.retry_after = headers.get(RETRY_AFTER).cloned();
    e
}

/// The class, the status to answer with and OpenAI's code for a Cohere
/// error status and message.
pub(super) fn classified(status: StatusCode, message: String) -> ProviderError {
    use FailureClass::*;
    let lower = message.to_ascii_lowercase();
    // "too many tokens: total number of tokens in the prompt cannot exceed
    // 4081 - received 4292", "too many tokens: size limit exceeded by 11326
    // tokens"; but not "too many tokens: max tokens must be less than …",
    // which is a bad max_tokens.
    let too_long = lower.contains("too many tokens") && !lower.contains("max tokens must");
    let (class, answer, code) = match status.as_u16() {
        400 | 413 | 422 if too_long => (ContextWindowExceeded, status, "context_length_exceeded"),
        401 => (Auth, status, "invalid_api_key"),
        403 => (Auth, status, "permission_denied"),
        498 => (Auth, StatusCode::UNAUTHORIZED, "invalid_api_key"),
        402 => (BadRequest, status, "insufficient_quota"),
        404 => (NotFound, status, "not_found"),
        408 | 504 => (Timeout, status, "timeout"),
        429 => (RateLimited, status, "rate_limit_exceeded"),
        499 => (
            Overloaded,
            StatusCode::SERVICE_UNAVAILABLE,
            "request_cancelled",
        ),
        503 | 529 => (Overloaded, status, "service_unavailable"),
        501 => (BadRequest, status, "not_implemented"),
        500..=599 => (ServerError, status, "internal_server_error"),
        400..=499 => (BadRequest, status, "invalid_request"),
        // An error without an error status (e.g. a 200 body that is one).
        _ => (
            ServerError,
            StatusCode::INTERNAL_SERVER_ERROR,
            "bad_upstream_response",
        ),
    };
    ProviderError {
        class,
        status: answer,
        message,
        error_type: class.error_type().to_string(),
        code: Some(code.to_string()),
        param: None,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

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
            400,
            r#"{"id":"a1","message":"too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292."}"#,
        );
        assert_eq!(e.class, FailureClass::ContextWindowExceeded);
        assert_eq!(e.code.as_deref(), Some("context_length_exceeded"));
        let e = error(
            400,
            r#"{"message":"too many tokens: max tokens must be less than or equal to 4096, the maximum output for this model - received 8192."}"#,
        );
        assert_eq!(
            (e.class, e.status.as_u16()),
            (FailureClass::BadRequest, 400)
        );
        let e = error(401, r#"{"message":"invalid api token"}"#);
        assert_eq!(
            (e.class, e.message.as_str(), e.error_type.as_str()),
            (
                FailureClass::Auth,
                "invalid api token",
                "authentication_error"
            )
        );
        assert_eq!(error(498, "{}").status.as_u16(), 401);
        let e = error(499, r#"{"message":"request cancelled"}"#);
        assert_eq!(
            (e.class, e.status.as_u16()),
            (FailureClass::Overloaded, 503)
        );
        assert!(e.class.is_retryable());
        let e = error(
            402,
            r#"{"message":"Please add or update your payment method"}"#,
        );
        assert_eq!(
            (e.class, e.status.as_u16()),
            (FailureClass::BadRequest, 402)
        );
        assert_eq!(error(404, "{}").class, FailureClass::NotFound);
        assert_eq!(error(503, "").class, FailureClass::Overloaded);
        assert_eq!(error(504, "").class, FailureClass::Timeout);
        let e = error(502, "<html>bad gateway</html>");
        assert_eq!(
            (e.class, e.message.as_str()),
            (FailureClass::ServerError, "<html>bad gateway</html>")
        );
        assert_eq!(
            error(500, "").message,
            "Cohere answered 500 Internal Server Error"
        );
    }

    #[test]
    fn rate_limits_pass_retry_after_on() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("12"));
        let e = decode_error(
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            br#"{"message":"You are past the per minute request limit, please wait and try again later."}"#,
        );
        assert_eq!(e.class, FailureClass::RateLimited);
        assert_eq!(e.code.as_deref(), Some("rate_limit_exceeded"));
        assert_eq!(e.retry_after, Some(HeaderValue::from_static("12")));
    }
}
