//! Retries: which failures are retried, how often, and how long the gateway
//! waits (the provider's retry-after for rate limits).

use std::time::{Duration, Instant};

use serde_json::json;

use super::*;

#[tokio::test]
async fn server_errors_are_retried_up_to_num_retries() {
    let up = failing_first(2, 500).await;
    let gw = gateway("  num_retries: 2\n", &[entry("m", "d1", &up, "")]).await;
    let (status, h, body) = gw.post("/v1/chat/completions", &ask("m")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(text_of(&body), "recovered");
    assert_eq!(up.requests().len(), 3);
    assert_eq!(header(&h, "x-litellm-attempted-retries"), "2");
    assert_eq!(header(&h, "x-litellm-attempted-fallbacks"), "0");
    assert_eq!(header(&h, "x-litellm-model-api-base"), up.api_base);
}

#[tokio::test]
async fn retries_run_out_and_the_last_error_is_returned() {
    let up = failing(500).await;
    let gw = gateway("  num_retries: 2\n", &[entry("m", "d1", &up, "")]).await;
    let (status, h, body) = gw.post("/v1/chat/completions", &ask("m")).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(up.requests().len(), 3);
    assert_eq!(header(&h, "x-litellm-attempted-retries"), "2");
}

#[tokio::test]
async fn deployment_max_retries_and_request_num_retries_override() {
    let up = failing(503).await;
    let gw = gateway(
        "  num_retries: 5\n",
        &[entry("m", "d1", &up, "    max_retries: 1\n")],
    )
    .await;
    let (status, _, _) = gw.post("/v1/chat/completions", &ask("m")).await;
    assert_eq!(status, 503);
    assert_eq!(up.requests().len(), 2, "max_retries: 1 → two attempts");
    let mut body = ask("m");
    body["num_retries"] = json!(0);
    let (status, _, _) = gw.post("/v1/chat/completions", &body).await;
    assert_eq!(status, 503);
    assert_eq!(
        up.requests().len(),
        3,
        "num_retries: 0 in the body → one attempt"
    );
    assert!(
        up.last().body.get("num_retries").is_none(),
        "gateway fields are not forwarded"
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let up = failing(400).await;
    let gw = gateway("  num_retries: 3\n", &[entry("m", "d1", &up, "")]).await;
    let (status, h, _) = gw.post("/v1/chat/completions", &ask("m")).await;
    assert_eq!(status, 400);
    assert_eq!(up.requests().len(), 1);
    assert_eq!(header(&h, "x-litellm-attempted-retries"), "0");
}

#[tokio::test]
async fn a_rate_limit_waits_for_retry_after() {
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let up = Upstream::openai(
        KEY,
        script(move |_| {
            if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                Reply::JsonWithHeaders(
                    429,
                    json!({"error": {"message": "Rate limit reached", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}),
                    vec![("retry-after", "1")],
                )
            } else {
                Reply::Json(200, completion("gpt-4o", "after the wait"))
            }
        }),
    )
    .await;
    let gw = gateway("  num_retries: 1\n", &[entry("m", "d1", &up, "")]).await;
    let started = Instant::now();
    let (status, _, body) = gw.post("/v1/chat/completions", &ask("m")).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(up.requests().len(), 2);
}

#[tokio::test]
async fn a_rate_limit_moves_to_another_healthy_deployment_at_once() {
    let limited = Upstream::openai(
        KEY,
        script(|_| {
            Reply::JsonWithHeaders(
                429,
                json!({"error": {"message": "Rate limit reached", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}),
                vec![("retry-after", "20")],
            )
        }),
    )
    .await;
    let healthy = ok("other").await;
    let gw = gateway(
        "  num_retries: 1\n",
        &[
            entry("m", "limited", &limited, ""),
            entry("m", "healthy", &healthy, ""),
        ],
    )
    .await;
    for _ in 0..6 {
        let started = Instant::now();
        let (status, h, body) = gw.post("/v1/chat/completions", &ask("m")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(header(&h, "x-litellm-model-id"), "healthy");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}

#[tokio::test]
async fn hangs_time_out_and_move_on() {
    let hung = Upstream::openai(
        KEY,
        script(|_| {
            Reply::After(
                Duration::from_secs(5),
                Box::new(Reply::Json(200, completion("gpt-4o", "late"))),
            )
        }),
    )
    .await;
    let healthy = ok("on time").await;
    let gw = gateway(
        "  num_retries: 1\n",
        &[
            entry("m", "hung", &hung, "    timeout: 0.2\n"),
            entry("m", "healthy", &healthy, ""),
        ],
    )
    .await;
    for _ in 0..4 {
        let (status, h, body) = gw.post("/v1/chat/completions", &ask("m")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(text_of(&body), "on time");
        assert_eq!(header(&h, "x-litellm-model-id"), "healthy");
    }
}

#[tokio::test]
async fn connection_refused_is_retried_elsewhere() {
    // A port nothing listens on: every connection is refused.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let healthy = ok("reachable").await;
    let gw = gateway(
        "  num_retries: 1\n",
        &[
            format!("- model_name: m\n  litellm_params:\n    model: openai/gpt-4o\n    api_base: http://{addr}/v1\n    api_key: {KEY}\n  model_info:\n    id: gone\n"),
            entry("m", "healthy", &healthy, ""),
        ],
    )
    .await;
    for _ in 0..6 {
        let (status, h, body) = gw.post("/v1/chat/completions", &ask("m")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(header(&h, "x-litellm-model-id"), "healthy");
    }
}

#[tokio::test]
async fn a_malformed_body_is_retried_elsewhere() {
    let broken = Upstream::openai(
        KEY,
        script(|_| {
            Reply::Chunks(vec![(
                Duration::ZERO,
                "{\"id\": \"chatcmpl-x\", \"choi".into(),
            )])
        }),
    )
    .await;
    let healthy = ok("well formed").await;
    let gw = gateway(
        "  num_retries: 1\n",
        &[
            entry("m", "broken", &broken, ""),
            entry("m", "healthy", &healthy, ""),
        ],
    )
    .await;
    for _ in 0..4 {
        let (status, _, body) = gw.post("/v1/chat/completions", &ask("m")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(text_of(&body), "well formed");
    }
}

#[tokio::test]
async fn a_stream_failing_before_its_first_byte_is_retried() {
    let streaming = Upstream::openai(
        KEY,
        script(|_| {
            Reply::Sse(vec![crate::support::upstream::chunk(
                "gpt-4o",
                json!({"role": "assistant", "content": "streamed"}),
                Some("stop"),
            )])
        }),
    )
    .await;
    let flaky = failing_first(1, 503).await;
    let gw = gateway(
        "  num_retries: 0\n  fallbacks:\n    - m: [s]\n",
        &[
            entry("m", "flaky", &flaky, ""),
            entry("s", "streaming", &streaming, ""),
        ],
    )
    .await;
    let mut body = ask("m");
    body["stream"] = json!(true);
    let (status, h, text) = gw.post_stream("/v1/chat/completions", &body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(header(&h, "x-litellm-attempted-fallbacks"), "1");
    assert!(
        text.contains("streamed") && text.ends_with("data: [DONE]\n\n"),
        "{text}"
    );
    assert_eq!(flaky.requests().len(), 1);
}

/// After a 200 head, nothing reaches the client until the first event: an
/// upstream that goes silent or sends an error event first is retried on
/// another deployment, and the client sees one clean stream.
#[tokio::test]
async fn a_stream_dying_after_its_head_but_before_its_first_event_is_retried() {
    let error_first = Upstream::openai(
        KEY,
        script(|_| {
            Reply::Chunks(vec![(
                Duration::ZERO,
                "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n".into(),
            )])
        }),
    )
    .await;
    let silent = Upstream::openai(
        KEY,
        script(|_| Reply::Chunks(vec![(Duration::from_secs(3), "data: [DONE]\n\n".into())])),
    )
    .await;
    let good = Upstream::openai(
        KEY,
        script(|_| {
            Reply::Sse(vec![crate::support::upstream::chunk(
                "gpt-4o",
                json!({"role": "assistant", "content": "clean"}),
                Some("stop"),
            )])
        }),
    )
    .await;
    let gw = gateway(
        "  num_retries: 2\n",
        &[
            entry("m", "error-first", &error_first, "    order: 1\n"),
            entry(
                "m",
                "silent",
                &silent,
                "    order: 2\n    stream_timeout: 0.2\n",
            ),
            entry("m", "good", &good, "    order: 3\n"),
        ],
    )
    .await;
    let mut body = ask("m");
    body["stream"] = json!(true);
    for _ in 0..3 {
        let (status, h, text) = gw.post_stream("/v1/chat/completions", &body).await;
        assert_eq!(status, 200, "{text}");
        assert_eq!(header(&h, "x-litellm-model-id"), "good");
        assert_eq!(
            header(&h, "x-litellm-attempted-retries"),
            "2",
            "order 1, then 2, then 3"
        );
        assert!(!text.contains("error"), "{text}");
        assert!(
            text.contains("clean") && text.ends_with("data: [DONE]\n\n"),
            "{text}"
        );
    }
    assert_eq!(
        (error_first.requests().len(), silent.requests().len()),
        (3, 3)
    );
}

#[tokio::test]
async fn retry_policy_sets_retries_per_failure_class() {
    let settings = "  num_retries: 5\n  retry_policy:\n    InternalServerErrorRetries: 2\n    RateLimitErrorRetries: 0\n    BadRequestErrorRetries: 1\n";
    for (status, attempts) in [(500, 3), (429, 1), (400, 2)] {
        let up = failing(status).await;
        let gw = gateway(settings, &[entry("m", "d1", &up, "")]).await;
        let (got, _, _) = gw.post("/v1/chat/completions", &ask("m")).await;
        assert_eq!(got, status);
        assert_eq!(up.requests().len(), attempts, "for {status}");
    }
}

/// The connection breaks after the head and part of a JSON body: nothing
/// reached the client yet, so the request is retried on another deployment.
#[tokio::test]
async fn a_connection_reset_mid_body_is_retried_elsewhere() {
    let cut = Upstream::openai(
        KEY,
        script(|_| {
            Reply::Reset(
                "application/json",
                vec!["{\"id\": \"chatcmpl-1\", \"obj".into()],
            )
        }),
    )
    .await;
    let good = ok("after the reset").await;
    let gw = gateway(
        "  num_retries: 1\n",
        &[
            entry("m", "cut", &cut, "    order: 1\n"),
            entry("m", "good", &good, "    order: 2\n"),
        ],
    )
    .await;
    let (status, h, body) = gw.post("/v1/chat/completions", &ask("m")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(text_of(&body), "after the reset");
    assert_eq!(header(&h, "x-litellm-attempted-retries"), "1");
    assert_eq!((cut.requests().len(), good.requests().len()), (1, 1));
    // Nowhere else to go: the client gets a clear 502, not a hang.
    let gw = gateway("  num_retries: 0\n", &[entry("m", "cut", &cut, "")]).await;
    let (status, _, body) = gw.post("/v1/chat/completions", &ask("m")).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["type"], "api_connection_error", "{body}");
    assert_eq!(cut.requests().len(), 2);
}

/// The connection breaks after the first event reached the client: that
/// stream cannot be retried (the client has bytes of it), so it ends with
/// an error event, and the upstream saw exactly one request.
#[tokio::test]
async fn a_connection_reset_after_the_first_event_ends_the_stream_with_an_error() {
    let first = crate::support::upstream::chunk(
        "gpt-4o",
        json!({"role": "assistant", "content": "half"}),
        None,
    );
    let cut = Upstream::openai(
        KEY,
        script(move |_| Reply::Reset("text/event-stream", vec![format!("data: {first}\n\n")])),
    )
    .await;
    let good = ok("unused").await;
    let gw = gateway(
        "  num_retries: 2\n",
        &[
            entry("m", "cut", &cut, "    order: 1\n"),
            entry("m", "good", &good, "    order: 2\n"),
        ],
    )
    .await;
    let mut body = ask("m");
    body["stream"] = json!(true);
    let (status, h, text) = gw.post_stream("/v1/chat/completions", &body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(header(&h, "x-litellm-model-id"), "cut");
    assert!(text.contains("half"), "{text}");
    let last = text.trim_end().rsplit("\n\n").next().unwrap();
    assert!(
        last.starts_with("data: {\"error\"") && !text.contains("[DONE]"),
        "ends with an error event: {text}"
    );
    assert_eq!((cut.requests().len(), good.requests().len()), (1, 0));
}
