//! Native passthrough to an `anthropic/` deployment: the client's body goes
//! upstream with only `model` replaced (every Anthropic-only field such as
//! `top_k`, `cache_control` or `thinking` kept), with the deployment's
//! `x-api-key` and the client's `anthropic-version` and `anthropic-beta`;
//! the answer's bytes come back as they arrive, an error with its status.
//!
//! A stream is relayed event by event: bytes are passed on up to the last
//! complete event, so that a stream the upstream leaves silent for
//! `stream_timeout` (or breaks) can still end with a well-formed Anthropic
//! `error` event. A whole body must arrive within `timeout`, or the
//! connection is cut (a truncated JSON body would otherwise look complete).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::api::Gateway;
use crate::api::error::ApiError;
use crate::config::Deployment;
use crate::pipeline::{self, Attempted, GroupFailure, Meta, Tries};
use crate::providers::headers::request_headers;
use crate::providers::{FailureClass, ProviderError, ProviderKind, UpstreamRequest};
use crate::router::retry;
use crate::router::{Constraints, Plan};
use crate::transport::ByteStream;

/// The API version sent when the client names none (the one Anthropic's
/// SDKs send).
const DEFAULT_VERSION: &str = "2023-06-01";

/// Request parameters Anthropic shares with OpenAI's names, so a
/// deployment's defaults (`litellm_params`) apply to them natively too.
const SHARED_DEFAULTS: &[&str] = &["max_tokens", "temperature", "top_p", "top_k"];

#[derive(Clone, Copy, PartialEq)]
pub enum Endpoint {
    Messages,
    CountTokens,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Messages => "messages",
            Endpoint::CountTokens => "messages/count_tokens",
        }
    }
}

/// How a native exchange ended: an answer to pass on (a success, or an
/// upstream error no fallback is configured for), or a failure of the
/// whole group that its fallback groups may still answer.
pub enum Outcome {
    /// The response, and where it came from.
    Answered(Response, Meta),
    Failed {
        failure: GroupFailure,
        /// Retries taken and the deployments tried.
        tries: Tries,
        /// The upstream's own error response, where it sent one.
        response: Option<Response>,
    },
}

/// Tries the plan's Anthropic deployments in order; a failure another
/// attempt may cure moves on (after the same backoff as other routes: the
/// provider's `retry-after` for rate limits), the last one ends the group.
pub async fn forward(
    gw: &Gateway,
    headers: &HeaderMap,
    plan: Plan,
    body: &Map<String, Value>,
    endpoint: Endpoint,
    constraints: &Constraints,
    started: Instant,
) -> Result<Outcome, ApiError> {
    let streaming =
        endpoint == Endpoint::Messages && body.get("stream").and_then(Value::as_bool) == Some(true);
    let router = &gw.router;
    let Some(mut current) = plan
        .attempts
        .iter()
        .find(|d| d.provider == ProviderKind::Anthropic)
        .cloned()
    else {
        return Err(ApiError::invalid(
            "No Anthropic deployment could be planned.",
        ));
    };
    let budget = current.max_retries.unwrap_or(router.settings.num_retries);
    let mut tried: Vec<String> = Vec::new();
    let mut retries = 0;
    let mut attempted = Vec::new();
    loop {
        let d = current.clone();
        let is_last = retries >= budget;
        let request = encode(&d, headers, body, endpoint)?;
        let wait = if streaming {
            d.stream_timeout
        } else {
            d.timeout
        };
        let deadline = tokio::time::Instant::now() + wait;
        let sent = Instant::now();
        let exchange = tokio::time::timeout(wait, gw.transport.send(&d, request)).await;
        let (failure, response) = match exchange {
            Ok(Ok(response)) if response.status.is_success() => {
                router.succeeded(&d, sent.elapsed());
                attempted.push(Attempted {
                    deployment: d.clone(),
                    outcome: "success",
                });
                let meta = Meta {
                    deployment: d.clone(),
                    group: plan.group.clone(),
                    upstream_time: sent.elapsed(),
                    retries,
                    fallbacks: 0,
                    attempted,
                };
                let passed = passed_headers(&response.headers);
                let body = if streaming {
                    Body::from_stream(events(response.body, wait))
                } else {
                    Body::from_stream(within(response.body, deadline))
                };
                let mut out = pipeline::respond(body, streaming, &meta, started);
                out.headers_mut().extend(passed);
                return Ok(Outcome::Answered(out, meta));
            }
            Ok(Ok(response)) => {
                let status = response.status;
                let mut e = ProviderError::new(
                    class_of(status),
                    format!("The Anthropic deployment answered {status}."),
                );
                e.status = status;
                e.retry_after = response.headers.get("retry-after").cloned();
                let mut out = Response::new(Body::from_stream(within(response.body, deadline)));
                *out.status_mut() = status;
                out.headers_mut().extend(passed_headers(&response.headers));
                (e, Some(out))
            }
            Ok(Err(e)) => (e, None),
            Err(_) => {
                let setting = if streaming {
                    "stream_timeout"
                } else {
                    "timeout"
                };
                (pipeline::timed_out(setting, wait), None)
            }
        };
        router.failed(&d, failure.class);
        tried.push(d.id.clone());
        attempted.push(Attempted {
            deployment: d.clone(),
            outcome: failure.class.name(),
        });
        if failure.class.is_retryable() && !is_last {
            let other = router.has_other_healthy(&plan.group, &tried);
            let pause = retry::backoff(&failure, retries, router.settings.retry_after, other);
            if let Some(next) = next_anthropic(gw, &plan.group, &tried, constraints) {
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
                retries += 1;
                current = next;
                continue;
            }
        }
        let class = failure.class;
        return Ok(Outcome::Failed {
            failure: (ApiError::from(failure), class),
            tries: Tries {
                retries,
                fallbacks: 0,
                attempted,
            },
            response,
        });
    }
}

/// Another Anthropic deployment of the group for a retry (an untried one
/// where any is healthy); none when the pick is not Anthropic.
fn next_anthropic(
    gw: &Gateway,
    group: &str,
    tried: &[String],
    constraints: &Constraints,
) -> Option<Arc<Deployment>> {
    gw.router
        .pick_avoiding(group, tried, constraints)
        .ok()
        .filter(|d| d.provider == ProviderKind::Anthropic)
}

fn class_of(status: StatusCode) -> FailureClass {
    match status.as_u16() {
        429 => FailureClass::RateLimited,
        529 | 503 => FailureClass::Overloaded,
        408 | 504 => FailureClass::Timeout,
        401 | 403 => FailureClass::Auth,
        404 => FailureClass::NotFound,
        500..=599 => FailureClass::ServerError,
        _ => FailureClass::BadRequest,
    }
}

/// `{api_base}/v1/{path}`; an `api_base` that already ends in `/v1` is not
/// given a second one.
pub fn url(api_base: &str, endpoint: Endpoint) -> String {
    let base = api_base.trim_end_matches('/');
    if base.ends_with("/v1") {
        format!("{base}/{}", endpoint.path())
    } else {
        format!("{base}/v1/{}", endpoint.path())
    }
}

fn encode(
    d: &Deployment,
    client: &HeaderMap,
    body: &Map<String, Value>,
    endpoint: Endpoint,
) -> Result<UpstreamRequest, ApiError> {
    let mut body = body.clone();
    // With serde_json's preserve_order, the field keeps its place.
    body.insert("model".into(), Value::String(d.upstream_model.clone()));
    if endpoint == Endpoint::Messages {
        for key in SHARED_DEFAULTS {
            if let Some(v) = d.defaults.get(*key)
                && !body.contains_key(*key)
            {
                body.insert((*key).into(), v.clone());
            }
        }
    }
    let version = client
        .get("anthropic-version")
        .cloned()
        .unwrap_or(HeaderValue::from_static(DEFAULT_VERSION));
    let mut fixed = vec![(HeaderName::from_static("anthropic-version"), version)];
    let betas: Vec<&str> = client
        .get_all("anthropic-beta")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !betas.is_empty()
        && let Ok(v) = HeaderValue::from_str(&betas.join(","))
    {
        fixed.push((HeaderName::from_static("anthropic-beta"), v));
    }
    let key = d
        .api_key
        .as_ref()
        .map(|k| (HeaderName::from_static("x-api-key"), k.expose()));
    let headers = request_headers(d, &fixed, key).map_err(ApiError::from)?;
    let bytes = serde_json::to_vec(&body)
        .map_err(|e| ApiError::invalid(format!("Cannot encode the request: {e}.")))?;
    Ok(UpstreamRequest {
        url: url(&d.api_base, endpoint),
        headers,
        body: Bytes::from(bytes),
    })
}

/// The upstream headers a client of Anthropic's API reads: the type of the
/// body, `retry-after`, `request-id` and the `anthropic-*` rate-limit headers.
fn passed_headers(upstream: &HeaderMap) -> Vec<(HeaderName, HeaderValue)> {
    upstream
        .iter()
        .filter(|(name, _)| {
            let n = name.as_str();
            n == "content-type"
                || n == "retry-after"
                || n == "request-id"
                || n.starts_with("anthropic-")
        })
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect()
}

/// A whole body, passed on as it arrives until `deadline`; past it, or when
/// the upstream breaks off, the client's connection is cut.
fn within(
    body: ByteStream,
    deadline: tokio::time::Instant,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures_util::stream::unfold(Some(body), move |body| async move {
        let mut body = body?;
        match tokio::time::timeout_at(deadline, body.next()).await {
            Ok(Some(Ok(bytes))) => Some((Ok(bytes), Some(body))),
            Ok(None) => None,
            Ok(Some(Err(e))) => Some((Err(std::io::Error::other(e.message)), None)),
            Err(_) => Some((
                Err(std::io::Error::other("the upstream exceeded `timeout`")),
                None,
            )),
        }
    })
}

/// A stream relayed event by event: each piece up to its last complete
/// event goes on at once; silence for `idle` or a broken connection ends it
/// with an `error` event in place of the incomplete rest.
fn events(
    body: ByteStream,
    idle: std::time::Duration,
) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send {
    let state = (Some(body), Vec::<u8>::new());
    futures_util::stream::unfold(state, move |(body, mut tail)| async move {
        let mut body = body?;
        loop {
            match tokio::time::timeout(idle, body.next()).await {
                Ok(Some(Ok(bytes))) => {
                    if tail.is_empty() && event_end(&bytes) == Some(bytes.len()) {
                        return Some((Ok(bytes), (Some(body), tail)));
                    }
                    // Only the new bytes (and the 2 before them) can end an event.
                    let from = tail.len().saturating_sub(2);
                    tail.extend_from_slice(&bytes);
                    if let Some(end) = event_end(&tail[from..]).map(|e| e + from) {
                        let ready = Bytes::from(tail.drain(..end).collect::<Vec<u8>>());
                        return Some((Ok(ready), (Some(body), tail)));
                    }
                }
                Ok(None) if tail.is_empty() => return None,
                Ok(None) => {
                    return Some((Ok(Bytes::from(std::mem::take(&mut tail))), (None, tail)));
                }
                Ok(Some(Err(e))) => {
                    let event = super::error_event("api_error", &e.message);
                    return Some((Ok(Bytes::from(event)), (None, tail)));
                }
                Err(_) => {
                    let message = format!(
                        "The upstream sent nothing for {} s (stream_timeout).",
                        idle.as_secs_f64()
                    );
                    let event = super::error_event("timeout_error", &message);
                    return Some((Ok(Bytes::from(event)), (None, tail)));
                }
            }
        }
    })
}

/// Where the last complete event ends: just after the last blank line
/// (`\n\n`, `\r\r`, or `\r\n\r\n`).
fn event_end(buf: &[u8]) -> Option<usize> {
    (2..=buf.len()).rev().find(|&end| {
        matches!(&buf[end - 2..end], b"\n\n" | b"\r\r")
            || (end >= 3 && &buf[end - 3..end] == b"\n\r\n")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_event_ends() {
        assert_eq!(
            url("https://api.anthropic.com", Endpoint::Messages),
            "https://api.anthropic.com/v1/messages"
        );
        assert_eq!(
            url("http://h:1/v1/", Endpoint::CountTokens),
            "http://h:1/v1/messages/count_tokens"
        );
        assert_eq!(event_end(b"event: a\ndata: 1\n\nevent: b\nda"), Some(18));
        assert_eq!(event_end(b"data: 1\r\n\r\n"), Some(11));
        assert_eq!(event_end(b"data: 1\n"), None);
    }
}
