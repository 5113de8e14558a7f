//! Google's errors, `{"error": {"code", "message", "status", "details"}}`
//! (sometimes wrapped in a one-element array), classified once here by
//! their canonical `status`, else by HTTP status.

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use serde_json::Value;

use super::{FailureClass, ProviderError};
use crate::providers::openai;

pub fn decode_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ProviderError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let error = match &json {
        Value::Array(items) => items.first().and_then(|i| i.get("error")),
        other => other.get("error"),
    };
    let Some(error @ Value::Object(_)) = error else {
        // Not Google's shape (a proxy's page, an OAuth error): read it the
        // generic way.
        return openai::decode_error(status, headers, body);
    };
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map_or_else(|| format!("upstream answered {status}"), str::to_string);
    let google_status = error.get("status").and_then(Value::as_str);
    let mut class = classify(google_status, status, &message);
    let mut status = if status.is_client_error() || status.is_server_error() {
        status
    } else {
        class.default_status()
    };
    // Gemini answers a wrong API key with 400 INVALID_ARGUMENT; clients of
    // an OpenAI-style API expect 401 for it.
    if reasons(error).any(|r| r == "API_KEY_INVALID") {
        class = FailureClass::Auth;
        status = StatusCode::UNAUTHORIZED;
    }
    ProviderError {
        class,
        status,
        message,
        error_type: class.error_type().to_string(),
        code: if class == FailureClass::ContextWindowExceeded {
            Some("context_length_exceeded".into())
        } else {
            google_status.map(str::to_string)
        },
        param: None,
        retry_after: headers
            .get(RETRY_AFTER)
            .cloned()
            .or_else(|| retry_delay(error)),
    }
}

/// An `{"error": …}` event inside a stream; its `code` is the HTTP status.
pub fn from_stream_event(data: &[u8]) -> ProviderError {
    let json: Value = serde_json::from_slice(data).unwrap_or(Value::Null);
    let status = json
        .pointer("/error/code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .and_then(|c| StatusCode::from_u16(c).ok())
        .filter(|s| s.is_client_error() || s.is_server_error())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    decode_error(status, &HeaderMap::new(), data)
}

fn classify(google_status: Option<&str>, status: StatusCode, message: &str) -> FailureClass {
    let lower = message.to_ascii_lowercase();
    if lower.contains("exceeds the maximum number of tokens")
        || (lower.contains("input token count") && lower.contains("exceed"))
    {
        return FailureClass::ContextWindowExceeded;
    }
    match google_status {
        Some("INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE") => {
            FailureClass::BadRequest
        }
        Some("UNAUTHENTICATED" | "PERMISSION_DENIED") => FailureClass::Auth,
        Some("NOT_FOUND") => FailureClass::NotFound,
        Some("RESOURCE_EXHAUSTED") => FailureClass::RateLimited,
        Some("UNAVAILABLE") => FailureClass::Overloaded,
        Some("DEADLINE_EXCEEDED") => FailureClass::Timeout,
        Some("INTERNAL" | "UNKNOWN" | "DATA_LOSS" | "CANCELLED") => FailureClass::ServerError,
        _ => match status.as_u16() {
            429 => FailureClass::RateLimited,
            401 | 403 => FailureClass::Auth,
            404 => FailureClass::NotFound,
            408 | 504 => FailureClass::Timeout,
            503 => FailureClass::Overloaded,
            500..=599 => FailureClass::ServerError,
            _ => FailureClass::BadRequest,
        },
    }
}

/// `details[].reason` (from `google.rpc.ErrorInfo`).
fn reasons(error: &Value) -> impl Iterator<Item = &str> {
    error
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("reason").and_then(Value::as_str))
}

/// `google.rpc.RetryInfo`'s `retryDelay` ("37s", "1.5s") as a
/// `retry-after` of whole seconds, rounded up.
fn retry_delay(error: &Value) -> Option<HeaderValue> {
    let delay = error
        .get("details")
        .and_then(Value::as_array)?
        .iter()
        .find_map(|d| d.get("retryDelay").and_then(Value::as_str))?;
    let seconds: f64 = delay.strip_suffix('s')?.parse().ok()?;
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    HeaderValue::from_str(&(seconds.ceil() as u64).to_string()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(status: u16, body: &str) -> ProviderError {
        decode_error(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
        )
    }

    #[test]
    fn classifies_google_statuses() {
        for (status, google, class) in [
            (400, "INVALID_ARGUMENT", FailureClass::BadRequest),
            (401, "UNAUTHENTICATED", FailureClass::Auth),
            (403, "PERMISSION_DENIED", FailureClass::Auth),
            (404, "NOT_FOUND", FailureClass::NotFound),
            (429, "RESOURCE_EXHAUSTED", FailureClass::RateLimited),
            (500, "INTERNAL", FailureClass::ServerError),
            (503, "UNAVAILABLE", FailureClass::Overloaded),
            (504, "DEADLINE_EXCEEDED", FailureClass::Timeout),
        ] {
            let body =
                format!(r#"{{"error":{{"code":{status},"message":"m","status":"{google}"}}}}"#);
            let e = decode(status, &body);
            assert_eq!((e.class, e.status.as_u16()), (class, status), "{google}");
            assert_eq!(e.code.as_deref(), Some(google));
        }
    }

    #[test]
    fn reads_context_windows_keys_and_retry_delays() {
        let e = decode(
            400,
            r#"[{"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}]"#,
        );
        assert_eq!(e.class, FailureClass::ContextWindowExceeded);
        assert_eq!(e.code.as_deref(), Some("context_length_exceeded"));
        let e = decode(
            400,
            r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#,
        );
        assert_eq!((e.class, e.status.as_u16()), (FailureClass::Auth, 401));
        let e = decode(
            429,
            r#"{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"36.2s"}]}}"#,
        );
        assert_eq!(e.retry_after.unwrap(), "37");
        let e = from_stream_event(
            br#"{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}"#,
        );
        assert_eq!(
            (e.class, e.status.as_u16()),
            (FailureClass::Overloaded, 503)
        );
        assert_eq!(
            decode(502, "<html>bad gateway</html>").class,
            FailureClass::ServerError
        );
    }
}
