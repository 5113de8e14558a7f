//! `/v1/messages` to an `anthropic/` deployment: passed through natively,
//! body and Anthropic headers as the client sent them (model replaced), the
//! answer's bytes and errors as the upstream sent them.

use std::time::Duration;

use serde_json::json;

use super::mock::{Answer, AnthropicMock, claude, sse};
use super::{events, names, post, send};
use crate::support::{Gateway, MASTER_KEY, client, read_json};

fn entry(mock: &AnthropicMock, extra: &str) -> String {
    format!(
        "- model_name: claude\n  litellm_params:\n    model: anthropic/claude-sonnet-4-5\n    api_base: {}\n    api_key: sk-ant-upstream\n{extra}",
        mock.api_base
    )
}

#[tokio::test]
async fn body_and_headers_pass_through() {
    let mock = AnthropicMock::start("sk-ant-upstream", claude).await;
    let gw = Gateway::with_models(&entry(&mock, "")).await;
    let request = json!({
        "model": "claude", "max_tokens": 64, "top_k": 5, "temperature": 0.2,
        "system": [{"type": "text", "text": "Long, cacheable instructions.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "service_tier": "auto", "some_future_field": {"x": [1, 2]}
    });
    let response = client()
        .post(gw.url("/v1/messages"))
        .header("x-api-key", MASTER_KEY)
        .header("anthropic-version", "2023-06-01")
        .header("anthropic-beta", "prompt-caching-2024-07-31")
        .header("anthropic-beta", "extended-cache-ttl-2025-04-11")
        .json(&request)
        .send()
        .await
        .unwrap();
    let (status, headers, body) = read_json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["content"][0]["text"], super::mock::NATIVE_TEXT);
    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(headers["request-id"], "req_mock1");
    assert_eq!(headers["x-litellm-model-group"], "claude");
    assert!(headers.contains_key("x-litellm-call-id"));

    let seen = mock.last();
    assert_eq!(seen.path, "/v1/messages");
    let mut expected = request.clone();
    expected["model"] = json!("claude-sonnet-4-5");
    assert_eq!(
        seen.body, expected,
        "every field but the model arrives untouched"
    );
    assert_eq!(
        seen.body.as_object().unwrap().keys().next().unwrap(),
        "model",
        "the order is kept"
    );
    assert_eq!(
        seen.headers["x-api-key"], "sk-ant-upstream",
        "the deployment's key, not the client's"
    );
    assert_eq!(seen.headers["anthropic-version"], "2023-06-01");
    assert_eq!(
        seen.headers["anthropic-beta"],
        "prompt-caching-2024-07-31,extended-cache-ttl-2025-04-11"
    );
    assert!(!seen.headers.contains_key("authorization"));

    // A client that names no version (and authenticates with a bearer token)
    // gets the default one.
    let (status, _, _) = read_json(
        client()
            .post(gw.url("/messages"))
            .bearer_auth(MASTER_KEY)
            .json(&request)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(mock.last().headers["anthropic-version"], "2023-06-01");
    assert!(!mock.last().headers.contains_key("anthropic-beta"));
}

#[tokio::test]
async fn stream_bytes_are_relayed_unchanged() {
    let text = sse(&[
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
               "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 3, "output_tokens": 1}}}),
        json!({"type": "ping"}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Bonjour"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 2}}),
        json!({"type": "message_stop"}),
    ]);
    // Split mid-line, mid-event and between the two newlines.
    let cuts = [7, 150, text.find("\n\n").unwrap() + 1, text.len() - 5];
    let mut sorted = cuts.to_vec();
    sorted.sort_unstable();
    let mut pieces = Vec::new();
    let mut from = 0;
    for at in sorted {
        pieces.push((Duration::from_millis(5), text[from..at].to_string()));
        from = at;
    }
    pieces.push((Duration::from_millis(5), text[from..].to_string()));
    let mock =
        AnthropicMock::start("sk-ant-upstream", move |_| Answer::Pieces(pieces.clone())).await;
    let gw = Gateway::with_models(&entry(&mock, "")).await;
    let request = json!({"model": "claude", "max_tokens": 64, "stream": true, "messages": [{"role": "user", "content": "Salut"}]});
    let response = send(&gw, "/v1/messages", Some(MASTER_KEY), &request).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(response.headers()["request-id"], "req_mock_stream");
    assert_eq!(response.text().await.unwrap(), text);
    assert_eq!(mock.last().body["stream"], true);
}

#[tokio::test]
async fn upstream_errors_keep_status_body_and_retry_after() {
    let mock = AnthropicMock::start("sk-ant-upstream", |seen| {
        match seen.body["messages"][0]["content"].as_str() {
            Some("busy") => Answer::Json(529, json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}), vec![]),
            _ => Answer::Json(
                429,
                json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Number of requests has exceeded your rate limit."}}),
                vec![("retry-after", "12"), ("anthropic-ratelimit-requests-remaining", "0")],
            ),
        }
    })
    .await;
    let gw = Gateway::with_models(&entry(&mock, "")).await;
    let request =
        json!({"model": "claude", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]});
    let (status, headers, body) = post(&gw, &request).await;
    assert_eq!(status, 429);
    assert_eq!(
        body,
        json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Number of requests has exceeded your rate limit."}})
    );
    assert_eq!(headers["retry-after"], "12");
    assert_eq!(headers["anthropic-ratelimit-requests-remaining"], "0");
    assert!(headers.contains_key("x-litellm-call-id"));
    let busy = json!({"model": "claude", "max_tokens": 5, "stream": true, "messages": [{"role": "user", "content": "busy"}]});
    let (status, _, body) = post(&gw, &busy).await;
    assert_eq!(
        (status, body["error"]["type"].clone()),
        (529, json!("overloaded_error"))
    );
    // The gateway's own validation comes first, in the same shape.
    let (status, _, body) = post(&gw, &json!({"model": "claude", "messages": []})).await;
    assert_eq!(
        (status, body["error"]["type"].clone()),
        (400, json!("invalid_request_error"))
    );
    assert_eq!(mock.seen().len(), 2);
}

#[tokio::test]
async fn a_stalled_native_stream_ends_with_an_error_event() {
    let start = sse(&[
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
        "model": "m", "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 1, "output_tokens": 1}}}),
    ]);
    let half = "event: content_block_start\ndata: {\"type\":\"content_blo".to_string();
    let mock = AnthropicMock::start("sk-ant-upstream", move |_| {
        Answer::Pieces(vec![
            (Duration::ZERO, format!("{start}{half}")),
            (Duration::from_secs(3), "ck_start\"}\n\n".into()),
        ])
    })
    .await;
    let gw = Gateway::with_models(&entry(&mock, "    stream_timeout: 0.3\n")).await;
    let request = json!({"model": "claude", "max_tokens": 5, "stream": true, "messages": [{"role": "user", "content": "x"}]});
    let body = send(&gw, "/v1/messages", Some(MASTER_KEY), &request)
        .await
        .text()
        .await
        .unwrap();
    let evs = events(&body);
    assert_eq!(
        names(&evs),
        ["message_start", "error"],
        "the half event is dropped: {body}"
    );
    assert_eq!(evs[1].1["error"]["type"], "timeout_error");
}

#[tokio::test]
async fn count_tokens_is_forwarded() {
    let mock = AnthropicMock::start("sk-ant-upstream", claude).await;
    let gw = Gateway::with_models(&entry(&mock, "    temperature: 0.5\n")).await;
    let request = json!({"model": "claude", "messages": [{"role": "user", "content": "Hello"}],
        "tools": [{"name": "t", "input_schema": {"type": "object"}}]});
    let (status, _, body) =
        read_json(send(&gw, "/v1/messages/count_tokens", Some(MASTER_KEY), &request).await).await;
    assert_eq!((status, body), (200, json!({"input_tokens": 42})));
    let seen = mock.last();
    assert_eq!(seen.path, "/v1/messages/count_tokens");
    let mut expected = request.clone();
    expected["model"] = json!("claude-sonnet-4-5");
    assert_eq!(
        seen.body, expected,
        "no deployment default is added to a count"
    );
    // A message request does get the deployment's defaults Anthropic shares.
    let (status, _, _) = post(&gw, &json!({"model": "claude", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]})).await;
    assert_eq!(status, 200);
    assert_eq!(mock.last().body["temperature"], 0.5);
}
