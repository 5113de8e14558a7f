//! Errors as clients of OpenAI's API expect them:
//! `{"error": {"message", "type", "param", "code"}}` with a fitting status.

use axum::http::{HeaderName, HeaderValue, StatusCode, header::RETRY_AFTER};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::providers::ProviderError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub error_type: String,
    pub param: Option<String>,
    pub code: Option<String>,
    pub retry_after: Option<HeaderValue>,
    /// Retries and fallbacks attempted before this error, when routed.
    pub retries: Option<(u32, u32)>,
    /// More headers for the response (the `x-ratelimit-*` of a refusal).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, error_type: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            error_type: error_type.to_string(),
            param: None,
            code: None,
            retry_after: None,
            retries: None,
            headers: Vec::new(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    /// A 400 about one request parameter.
    pub fn param(param: &str, message: impl Into<String>) -> Self {
        ApiError {
            param: Some(param.to_string()),
            ..ApiError::invalid(message)
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError {
            code: Some("invalid_api_key".into()),
            ..ApiError::new(StatusCode::UNAUTHORIZED, "authentication_error", message)
        }
    }

    pub fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_string());
        self
    }

    pub fn with_code(mut self, code: &str) -> Self {
        self.code = Some(code.to_string());
        self
    }

    /// The JSON body alone, also used as an SSE error event.
    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"message": self.message, "type": self.error_type, "param": self.param, "code": self.code}})
    }
}

impl From<ProviderError> for ApiError {
    fn from(e: ProviderError) -> Self {
        ApiError {
            status: e.status,
            message: e.message,
            error_type: e.error_type,
            param: e.param,
            code: e.code,
            retry_after: e.retry_after,
            retries: None,
            headers: Vec::new(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        response.headers_mut().extend(self.headers);
        if let Some(v) = self.retry_after {
            response.headers_mut().insert(RETRY_AFTER, v);
        }
        if let Some((retries, fallbacks)) = self.retries {
            let h = response.headers_mut();
            h.insert("x-litellm-attempted-retries", HeaderValue::from(retries));
            h.insert(
                "x-litellm-attempted-fallbacks",
                HeaderValue::from(fallbacks),
            );
        }
        response
    }
}
