//! Upstream failures, classified once at the provider edge. The router and
//! the client-facing error mapping both read the class.

use reqwest::StatusCode;
use reqwest::header::HeaderValue;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureClass {
    RateLimited,
    Overloaded,
    Timeout,
    ContextWindowExceeded,
    ContentPolicy,
    Auth,
    BadRequest,
    NotFound,
    ServerError,
    ConnectionFailed,
}

impl FailureClass {
    /// The class by name, as the audit log and `/router/state` show it.
    pub fn name(self) -> &'static str {
        match self {
            FailureClass::RateLimited => "rate_limited",
            FailureClass::Overloaded => "overloaded",
            FailureClass::Timeout => "timeout",
            FailureClass::ContextWindowExceeded => "context_window_exceeded",
            FailureClass::ContentPolicy => "content_policy",
            FailureClass::Auth => "auth",
            FailureClass::BadRequest => "bad_request",
            FailureClass::NotFound => "not_found",
            FailureClass::ServerError => "server_error",
            FailureClass::ConnectionFailed => "connection_failed",
        }
    }

    /// Whether another attempt (the same deployment later, or another one)
    /// may succeed where this one failed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            FailureClass::RateLimited
                | FailureClass::Overloaded
                | FailureClass::Timeout
                | FailureClass::ServerError
                | FailureClass::ConnectionFailed
        )
    }

    /// The status a client sees when the failure is the gateway's own
    /// (no upstream status to keep).
    pub fn default_status(self) -> StatusCode {
        match self {
            FailureClass::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            FailureClass::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            FailureClass::Timeout => StatusCode::GATEWAY_TIMEOUT,
            FailureClass::ContextWindowExceeded
            | FailureClass::ContentPolicy
            | FailureClass::BadRequest => StatusCode::BAD_REQUEST,
            FailureClass::Auth => StatusCode::UNAUTHORIZED,
            FailureClass::NotFound => StatusCode::NOT_FOUND,
            FailureClass::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            FailureClass::ConnectionFailed => StatusCode::BAD_GATEWAY,
        }
    }

    /// OpenAI's error `type` for this class.
    pub fn error_type(self) -> &'static str {
        match self {
            FailureClass::RateLimited => "rate_limit_error",
            FailureClass::Overloaded => "overloaded_error",
            FailureClass::Timeout => "timeout_error",
            FailureClass::ContextWindowExceeded
            | FailureClass::ContentPolicy
            | FailureClass::BadRequest
            | FailureClass::NotFound => "invalid_request_error",
            FailureClass::Auth => "authentication_error",
            FailureClass::ServerError => "server_error",
            FailureClass::ConnectionFailed => "api_connection_error",
        }
    }
}

/// A failure of one upstream attempt, in OpenAI's terms.
#[derive(Clone, Debug)]
pub struct ProviderError {
    pub class: FailureClass,
    /// The status to answer with: the upstream's where it sent one.
    pub status: StatusCode,
    pub message: String,
    pub error_type: String,
    pub code: Option<String>,
    pub param: Option<String>,
    /// The upstream's `retry-after`, passed on to the client.
    pub retry_after: Option<HeaderValue>,
}

impl ProviderError {
    pub fn new(class: FailureClass, message: impl Into<String>) -> Self {
        ProviderError {
            class,
            status: class.default_status(),
            message: message.into(),
            error_type: class.error_type().to_string(),
            code: None,
            param: None,
            retry_after: None,
        }
    }

    pub fn with_code(mut self, code: &str) -> Self {
        self.code = Some(code.to_string());
        self
    }
}
