//! The request path, top to bottom. Each step lives in its own module:
//!
//! api (parse) → auth → [policy, limits, cache: later] → router (plan)
//! → providers (encode → transport → decode) → [cost, telemetry: later]
//! → response, streamed chunk by chunk.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::error::ApiError;
use crate::api::wire::ApiRequest;
use crate::api::{Gateway, body};
use crate::config::Deployment;
use crate::providers::{self, FailureClass, Operation, ProviderError};
use crate::relay::relay;
use crate::transport;

/// One client request, answered with exactly one response.
pub async fn handle(gw: Arc<Gateway>, op: Operation, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let mut response = run(&gw, op, &headers, body, started)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        response.headers_mut().insert(CALL_ID, id);
    }
    response
}

async fn run(
    gw: &Gateway,
    op: Operation,
    headers: &HeaderMap,
    body: Body,
    started: Instant,
) -> Result<Response, ApiError> {
    let _principal = gw.auth.authenticate(headers)?;
    let bytes = body::read(body, headers, gw.config.max_request_bytes).await?;
    let request = ApiRequest::parse(op, &bytes)?;
    let plan = gw.router.plan(&request.model)?;

    let mut last_error = None;
    for deployment in &plan.attempts {
        match attempt(gw, deployment, &request).await {
            Ok(answer) => return Ok(respond(answer, deployment, &plan.group, started)),
            Err(e) => {
                let retryable = e.class.is_retryable();
                last_error = Some(without_secrets(e, deployment));
                if !retryable {
                    break;
                }
            }
        }
    }
    Err(last_error.map_or_else(
        || ApiError::invalid("No deployment could be planned."),
        ApiError::from,
    ))
}

/// A successful upstream answer and how long the upstream took.
struct Answer {
    body: Body,
    streaming: bool,
    upstream_time: Duration,
}

/// One try against one deployment: encode, send, and read the body or open
/// the stream.
async fn attempt(
    gw: &Gateway,
    d: &Deployment,
    request: &ApiRequest,
) -> Result<Answer, ProviderError> {
    let dialect = d.provider.dialect();
    let credentials = providers::credentials(&gw.transport, d).await?;
    let upstream_request = dialect.encode(d, request, &credentials)?;
    let sent = Instant::now();
    if request.stream {
        // stream_timeout bounds each wait: for the head, and between chunks.
        let wait = d.stream_timeout;
        let response = tokio::time::timeout(wait, gw.transport.send(d, upstream_request))
            .await
            .map_err(|_| timed_out("stream_timeout", wait))??;
        let upstream_time = sent.elapsed();
        if !response.status.is_success() {
            let bytes = tokio::time::timeout(wait, transport::collect(response.body))
                .await
                .map_err(|_| timed_out("stream_timeout", wait))??;
            return Err(dialect.decode_error(response.status, &response.headers, &bytes));
        }
        let events = relay(response.body, dialect.stream_decoder(d, request), wait);
        return Ok(Answer {
            body: Body::from_stream(events),
            streaming: true,
            upstream_time,
        });
    }
    // timeout bounds the whole exchange.
    let exchange = async {
        let response = gw.transport.send(d, upstream_request).await?;
        let bytes = transport::collect(response.body).await?;
        if !response.status.is_success() {
            return Err(dialect.decode_error(response.status, &response.headers, &bytes));
        }
        dialect.decode_body(d, request, bytes)
    };
    let bytes = tokio::time::timeout(d.timeout, exchange)
        .await
        .map_err(|_| timed_out("timeout", d.timeout))??;
    Ok(Answer {
        body: Body::from(bytes),
        streaming: false,
        upstream_time: sent.elapsed(),
    })
}

fn timed_out(setting: &str, limit: Duration) -> ProviderError {
    ProviderError::new(
        FailureClass::Timeout,
        format!(
            "The upstream did not answer within {} s ({setting}).",
            limit.as_secs_f64()
        ),
    )
    .with_code("timeout")
}

/// Upstream messages sometimes quote the key they were sent; never pass it on.
fn without_secrets(mut e: ProviderError, d: &Deployment) -> ProviderError {
    if let Some(key) = &d.api_key
        && key.expose().len() >= 4
        && e.message.contains(key.expose())
    {
        e.message = e.message.replace(key.expose(), &key.masked());
    }
    e
}

const CALL_ID: HeaderName = HeaderName::from_static("x-litellm-call-id");
const MODEL_ID: HeaderName = HeaderName::from_static("x-litellm-model-id");
const MODEL_GROUP: HeaderName = HeaderName::from_static("x-litellm-model-group");
const DURATION: HeaderName = HeaderName::from_static("x-litellm-response-duration-ms");
const OVERHEAD: HeaderName = HeaderName::from_static("x-litellm-overhead-duration-ms");

fn respond(answer: Answer, d: &Deployment, group: &str, started: Instant) -> Response {
    let total = started.elapsed();
    let overhead = total.saturating_sub(answer.upstream_time);
    let content_type = if answer.streaming {
        "text/event-stream"
    } else {
        "application/json"
    };
    let mut response = Response::new(answer.body);
    *response.status_mut() = StatusCode::OK;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if answer.streaming {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    let millis = |t: Duration| HeaderValue::from_str(&format!("{:.3}", t.as_secs_f64() * 1000.0));
    for (name, value) in [
        (MODEL_ID, HeaderValue::from_str(&d.id)),
        (MODEL_GROUP, HeaderValue::from_str(group)),
        (DURATION, millis(total)),
        (OVERHEAD, millis(overhead)),
    ] {
        if let Ok(v) = value {
            h.insert(name, v);
        }
    }
    response
}
