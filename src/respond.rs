//! The response every route sends for an answer: status, content type and
//! the `x-litellm-*` headers (model, group, api base, timings, retries,
//! fallbacks, cost), and the call id every response carries.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::pipeline::Meta;

const CALL_ID: HeaderName = HeaderName::from_static("x-litellm-call-id");
const MODEL_ID: HeaderName = HeaderName::from_static("x-litellm-model-id");
const MODEL_GROUP: HeaderName = HeaderName::from_static("x-litellm-model-group");
const DURATION: HeaderName = HeaderName::from_static("x-litellm-response-duration-ms");
const OVERHEAD: HeaderName = HeaderName::from_static("x-litellm-overhead-duration-ms");
pub(crate) const COST: HeaderName = HeaderName::from_static("x-litellm-response-cost");
const API_BASE: HeaderName = HeaderName::from_static("x-litellm-model-api-base");
pub const RETRIES: HeaderName = HeaderName::from_static("x-litellm-attempted-retries");
pub const FALLBACKS: HeaderName = HeaderName::from_static("x-litellm-attempted-fallbacks");

/// The response every route sends for an answer: 200, the content type and
/// the `x-litellm-*` headers LiteLLM users' dashboards read.
pub fn respond(body: Body, streaming: bool, meta: &Meta, started: Instant) -> Response {
    let total = started.elapsed();
    let overhead = total.saturating_sub(meta.upstream_time);
    let content_type = if streaming {
        "text/event-stream"
    } else {
        "application/json"
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if streaming {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    let millis = |t: Duration| HeaderValue::from_str(&format!("{:.3}", t.as_secs_f64() * 1000.0));
    for (name, value) in [
        (MODEL_ID, HeaderValue::from_str(&meta.deployment.id)),
        (MODEL_GROUP, HeaderValue::from_str(&meta.group)),
        (DURATION, millis(total)),
        (OVERHEAD, millis(overhead)),
        (API_BASE, HeaderValue::from_str(&meta.deployment.api_base)),
        (RETRIES, Ok(HeaderValue::from(meta.retries))),
        (FALLBACKS, Ok(HeaderValue::from(meta.fallbacks))),
    ] {
        if let Ok(v) = value {
            h.insert(name, v);
        }
    }
    response
}

/// Every response, success or error, carries a call id.
pub fn with_call_id(response: Response) -> Response {
    set_call_id(response, &new_call_id())
}

/// A request's id: its `x-litellm-call-id` and its spend record's.
///
/// Time-ordered (UUID v7: milliseconds, then random bits), so that spend-log
/// rows keyed by it are appended to their index instead of landing on a
/// random page each: random keys made the writer rewrite hundreds of pages
/// per batch. Unique, not unguessable: no system call for randomness.
pub fn new_call_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let random = fastrand::u128(..).to_le_bytes();
    let mut tail = [0u8; 10];
    tail.copy_from_slice(&random[..10]);
    let id = uuid::Builder::from_unix_timestamp_millis(millis, &tail).into_uuid();
    id.hyphenated().to_string()
}

pub fn set_call_id(mut response: Response, id: &str) -> Response {
    if let Ok(id) = HeaderValue::from_str(id) {
        response.headers_mut().insert(CALL_ID, id);
    }
    response
}
