//! Retry and fallback policy for one request: how many retries, how long to
//! wait before each, and which groups to fall back to.

use std::time::Duration;

use serde_json::Value;

use crate::providers::{FailureClass, ProviderError};

/// A provider's `retry-after` is honoured up to this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
const INITIAL_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// The per-request routing fields of the body (`fallbacks`,
/// `disable_fallbacks`, `num_retries`). They are the gateway's, never sent
/// upstream.
#[derive(Default)]
pub struct RequestRouting {
    pub fallbacks: Option<Vec<String>>,
    pub disable_fallbacks: bool,
    pub num_retries: Option<u32>,
    /// Body `tags`, else `metadata.tags` (the `x-litellm-tags` header is
    /// copied into `tags` first).
    pub tags: Vec<String>,
}

impl RequestRouting {
    pub fn from_body(body: &serde_json::Map<String, Value>) -> RequestRouting {
        let fallbacks = body.get("fallbacks").and_then(Value::as_array).map(|list| {
            list.iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    // LiteLLM also takes {"model": "…"} entries.
                    Value::Object(o) => o.get("model").and_then(Value::as_str).map(str::to_string),
                    _ => None,
                })
                .collect()
        });
        let strings = |v: Option<&Value>| -> Option<Vec<String>> {
            v.and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
        };
        let tags = strings(body.get("tags"))
            .or_else(|| strings(body.get("metadata").and_then(|m| m.get("tags"))))
            .unwrap_or_default();
        RequestRouting {
            tags,
            fallbacks,
            disable_fallbacks: body.get("disable_fallbacks").and_then(Value::as_bool) == Some(true),
            num_retries: body
                .get("num_retries")
                .and_then(Value::as_u64)
                .map(|n| n.min(10) as u32),
        }
    }
}

/// `x-litellm-tags: a,b` becomes the body's `tags` unless it has some.
pub fn tags_from_header(
    headers: &axum::http::HeaderMap,
    body: &mut serde_json::Map<String, Value>,
) {
    if body.contains_key("tags") {
        return;
    }
    if let Some(v) = headers.get("x-litellm-tags").and_then(|v| v.to_str().ok()) {
        let tags: Vec<Value> = v
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| Value::String(t.to_string()))
            .collect();
        body.insert("tags".into(), Value::Array(tags));
    }
}

/// Whether a failure of this class is worth trying another group for: not
/// a request the client got wrong.
pub fn falls_back(class: FailureClass) -> bool {
    class != FailureClass::BadRequest
}

/// How long to wait before retry number `retry` (0-based) after `e`.
/// Rate limits back off exponentially with jitter, or as long as the
/// provider's `retry-after` says (capped) unless another deployment of the
/// group is healthy; other failures are retried at once. Never shorter than
/// `router_settings.retry_after`.
pub fn backoff(e: &ProviderError, retry: u32, minimum: Duration, other_healthy: bool) -> Duration {
    let wait = if e.class != FailureClass::RateLimited || other_healthy {
        Duration::ZERO
    } else if let Some(secs) = e
        .retry_after
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
    {
        Duration::from_secs_f64(secs).min(MAX_RETRY_AFTER)
    } else {
        let exp = INITIAL_BACKOFF.saturating_mul(1u32 << retry.min(8));
        exp.min(MAX_BACKOFF).mul_f64(0.75 + fastrand::f64() * 0.5)
    };
    wait.max(minimum)
}

/// `usage.total_tokens` of an OpenAI JSON answer, read without building it.
pub fn total_tokens(body: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Answer {
        usage: Option<Usage>,
    }
    #[derive(serde::Deserialize)]
    struct Usage {
        total_tokens: Option<u64>,
    }
    serde_json::from_slice::<Answer>(body)
        .ok()?
        .usage?
        .total_tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn limited(after: Option<&'static str>) -> ProviderError {
        let mut e = ProviderError::new(FailureClass::RateLimited, "slow down");
        e.retry_after = after.map(HeaderValue::from_static);
        e
    }

    #[test]
    fn rate_limits_wait_for_retry_after_capped() {
        assert_eq!(
            backoff(&limited(Some("2")), 0, Duration::ZERO, false),
            Duration::from_secs(2)
        );
        assert_eq!(
            backoff(&limited(Some("3600")), 0, Duration::ZERO, false),
            MAX_RETRY_AFTER
        );
        assert_eq!(
            backoff(&limited(Some("2")), 0, Duration::ZERO, true),
            Duration::ZERO
        );
        let b = backoff(&limited(None), 2, Duration::ZERO, false);
        assert!(
            b >= Duration::from_millis(1500) && b <= Duration::from_millis(2500),
            "{b:?}"
        );
        let e = ProviderError::new(FailureClass::ServerError, "boom");
        assert_eq!(backoff(&e, 3, Duration::ZERO, false), Duration::ZERO);
        assert_eq!(
            backoff(&e, 0, Duration::from_millis(50), false),
            Duration::from_millis(50)
        );
    }
}
