//! Upstream failures keep their meaning: status, message, retry-after; the
//! body is re-shaped into OpenAI's error shape; no secret leaks.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::upstream::{Reply, Upstream, script};
use crate::support::{Gateway, error_of};

async fn gateway_for(up: &Upstream, extra: &str) -> Gateway {
    Gateway::with_models(&format!(
        "- model_name: m\n  litellm_params:\n    model: openai/gpt-4o\n    api_base: {}\n    api_key: sk-upstream-SECRET-value\n{extra}",
        up.api_base
    ))
    .await
}

fn ask() -> Value {
    json!({"model": "m", "messages": [{"role": "user", "content": "x"}]})
}

#[tokio::test]
async fn openai_error_statuses_and_bodies_are_kept() {
    let cases = [
        (
            400,
            json!({"error": {"message": "This model's maximum context length is 128000 tokens.", "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}),
        ),
        (
            401,
            json!({"error": {"message": "Incorrect API key provided: sk-upstr***alue.", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}),
        ),
        (
            500,
            json!({"error": {"message": "The server had an error while processing your request. Sorry about that!", "type": "server_error", "param": null, "code": null}}),
        ),
    ];
    for (status, body) in cases {
        let reply = body.clone();
        let up = Upstream::openai(
            "sk-upstream-SECRET-value",
            script(move |_| Reply::Json(status, reply.clone())),
        )
        .await;
        let gw = gateway_for(&up, "").await;
        let (got_status, headers, got) = gw.post("/v1/chat/completions", &ask()).await;
        assert_eq!(got_status, status);
        assert_eq!(
            got, body,
            "an OpenAI error body is already in shape and passes unchanged"
        );
        assert!(headers.contains_key("x-litellm-call-id"));
    }
}

#[tokio::test]
async fn rate_limits_stay_429_with_retry_after() {
    let up = Upstream::openai("sk-upstream-SECRET-value", script(|_| {
        Reply::JsonWithHeaders(429, json!({"error": {"message": "Rate limit reached for gpt-4o on requests per min (RPM): Limit 3.", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}), vec![("retry-after", "20")])
    }))
    .await;
    let gw = gateway_for(&up, "").await;
    let (status, headers, body) = gw.post("/v1/chat/completions", &ask()).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "20");
    assert_eq!(error_of(&body)["code"], "rate_limit_exceeded");
}

#[tokio::test]
async fn a_bad_gateway_key_upstream_is_401_without_the_secret() {
    // The upstream quotes the key it got (some servers do): it must not reach the client.
    let up = Upstream::openai("another-key", script(|_| Reply::Json(200, json!({})))).await;
    let gw = gateway_for(&up, "").await;
    let (status, _, body) = gw.post("/v1/chat/completions", &ask()).await;
    assert_eq!(status, 401);
    assert_eq!(error_of(&body)["code"], "invalid_api_key");
    let up = Upstream::openai("sk-upstream-SECRET-value", script(|r| {
        let key = r.headers["authorization"].to_str().unwrap().trim_start_matches("Bearer ").to_string();
        Reply::Json(403, json!({"error": {"message": format!("key {key} has no access"), "type": "invalid_request_error", "param": null, "code": null}}))
    }))
    .await;
    let gw = gateway_for(&up, "").await;
    let (status, _, body) = gw.post("/v1/chat/completions", &ask()).await;
    assert_eq!(status, 403);
    assert!(!body.to_string().contains("SECRET"), "{body}");
    assert!(
        error_of(&body)["message"]
            .as_str()
            .unwrap()
            .contains("sk-...alue")
    );
}

#[tokio::test]
async fn non_json_error_bodies_are_reshaped() {
    let up = Upstream::openai(
        "sk-upstream-SECRET-value",
        script(|_| Reply::Json(502, json!("upstream proxy error"))),
    )
    .await;
    let gw = gateway_for(&up, "").await;
    let (status, _, body) = gw.post("/v1/chat/completions", &ask()).await;
    assert_eq!(status, 502);
    let e = error_of(&body);
    assert_eq!(e["type"], "server_error");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("upstream proxy error")
    );
}

#[tokio::test]
async fn a_slow_upstream_times_out_with_504() {
    let up = Upstream::openai(
        "sk-upstream-SECRET-value",
        script(|_| {
            Reply::After(
                Duration::from_secs(30),
                Box::new(Reply::Json(200, json!({}))),
            )
        }),
    )
    .await;
    let gw = gateway_for(&up, "    timeout: 0.4\n").await;
    let started = Instant::now();
    let (status, _, body) = gw.post("/v1/chat/completions", &ask()).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(status, 504);
    let e = error_of(&body);
    assert_eq!(e["type"], "timeout_error");
    assert!(e["message"].as_str().unwrap().contains("0.4"), "{e}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        up.abandoned(),
        1,
        "the timed-out upstream request must be cancelled"
    );
}

#[tokio::test]
async fn an_unreachable_upstream_is_502() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let gw = Gateway::with_models(&format!(
        "- model_name: m\n  litellm_params: {{model: openai/x, api_base: 'http://127.0.0.1:{port}/v1', api_key: k}}\n"
    ))
    .await;
    let (status, _, body) = gw.post("/v1/chat/completions", &ask()).await;
    assert_eq!(status, 502);
    assert_eq!(error_of(&body)["type"], "api_connection_error");
}

#[tokio::test]
async fn the_mock_provider_injects_errors() {
    let gw = Gateway::with_models(
        "- model_name: m\n  litellm_params: {model: mock/m, mock_error_status: 429}\n",
    )
    .await;
    let (status, headers, body) = gw.post("/v1/chat/completions", &ask()).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(error_of(&body)["code"], "rate_limit_exceeded");
}
