//! Streaming: chunks pass through as they arrive, with and without the
//! usage chunk, tool-call deltas intact; silence and disconnects handled.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::support::upstream::{Reply, Upstream, chunk, script};
use crate::support::{Gateway, MASTER_KEY, client, sse_data};

fn entry(up: &Upstream, extra: &str) -> String {
    format!(
        "- model_name: s\n  litellm_params:\n    model: openai/gpt-4o\n    api_base: {}\n    api_key: k\n{extra}",
        up.api_base
    )
}

fn stream_request() -> Value {
    json!({"model": "s", "stream": true, "messages": [{"role": "user", "content": "x"}]})
}

fn text_chunks(with_usage: bool) -> Vec<Value> {
    let mut chunks = vec![
        chunk("gpt-4o", json!({"role": "assistant", "content": ""}), None),
        chunk("gpt-4o", json!({"content": "Hel"}), None),
        chunk("gpt-4o", json!({"content": "lo"}), None),
        chunk("gpt-4o", json!({}), Some("stop")),
    ];
    if with_usage {
        for c in &mut chunks {
            c["usage"] = Value::Null;
        }
        chunks.push(json!({"id": "chatcmpl-test123", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": "gpt-4o", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}));
    }
    chunks
}

#[tokio::test]
async fn chunks_pass_through_in_order_with_and_without_usage() {
    for with_usage in [false, true] {
        let up = Upstream::openai(
            "k",
            script(move |r| {
                let asked = r.body.pointer("/stream_options/include_usage") == Some(&json!(true));
                Reply::Sse(text_chunks(asked))
            }),
        )
        .await;
        let gw = Gateway::with_models(&entry(&up, "")).await;
        let mut request =
            json!({"model": "s", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
        if with_usage {
            request["stream_options"] = json!({"include_usage": true});
        }
        let (status, headers, body) = gw.post_stream("/v1/chat/completions", &request).await;
        assert_eq!(status, 200, "{body}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        assert!(headers.contains_key("x-litellm-model-id"));
        let data = sse_data(&body);
        let expected: Vec<String> = text_chunks(with_usage)
            .iter()
            .map(Value::to_string)
            .chain(["[DONE]".into()])
            .collect();
        assert_eq!(data, expected);
        assert!(body.ends_with("data: [DONE]\n\n"));
        assert_eq!(up.last().body["stream"], json!(true));
        // The gateway asks for usage itself (cost, budgets) and hides it
        // from a client that did not ask: either way the client's stream
        // is what it asked for.
        assert_eq!(
            up.last().body["stream_options"],
            json!({"include_usage": true})
        );
    }
}

#[tokio::test]
async fn streamed_tool_call_argument_deltas_keep_their_index_and_id() {
    let chunks = vec![
        chunk(
            "gpt-4o",
            json!({"role": "assistant", "content": null}),
            None,
        ),
        chunk(
            "gpt-4o",
            json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
            None,
        ),
        chunk(
            "gpt-4o",
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"ci"}}]}),
            None,
        ),
        chunk(
            "gpt-4o",
            json!({"tool_calls": [{"index": 1, "id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]}),
            None,
        ),
        chunk(
            "gpt-4o",
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "ty\":\"Bern\"}"}}]}),
            None,
        ),
        chunk("gpt-4o", json!({}), Some("tool_calls")),
    ];
    let sent = chunks.clone();
    let up = Upstream::openai("k", script(move |_| Reply::Sse(sent.clone()))).await;
    let gw = Gateway::with_models(&entry(&up, "")).await;
    let (status, _, body) = gw
        .post_stream("/v1/chat/completions", &json!({"model": "s", "stream": true, "messages": [{"role": "user", "content": "w"}],
            "tools": [{"type": "function", "function": {"name": "get_weather"}}, {"type": "function", "function": {"name": "get_time"}}]}))
        .await;
    assert_eq!(status, 200);
    let got: Vec<Value> = sse_data(&body)
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(got, chunks);
    let args: String = got
        .iter()
        .filter_map(|c| c.pointer("/choices/0/delta/tool_calls/0"))
        .filter(|t| t["index"] == 0)
        .filter_map(|t| t.pointer("/function/arguments").and_then(Value::as_str))
        .collect();
    assert_eq!(args, "{\"city\":\"Bern\"}");
}

#[tokio::test]
async fn events_split_across_tcp_chunks_are_reassembled() {
    let c1 = chunk("gpt-4o", json!({"content": "A"}), None).to_string();
    let (a, b) = c1.split_at(20);
    let pieces = vec![
        (Duration::ZERO, format!("data: {a}")),
        (Duration::from_millis(20), format!("{b}\n")),
        (
            Duration::from_millis(20),
            "\n: keep-alive comment\n\ndata: [DONE]\n\n".to_string(),
        ),
    ];
    let up = Upstream::openai("k", script(move |_| Reply::Chunks(pieces.clone()))).await;
    let gw = Gateway::with_models(&entry(&up, "")).await;
    let (_, _, body) = gw
        .post_stream(
            "/v1/chat/completions",
            &json!({"model": "s", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(sse_data(&body), vec![c1, "[DONE]".to_string()]);
}

#[tokio::test]
async fn chunks_reach_the_client_before_the_upstream_finishes() {
    let first = chunk("gpt-4o", json!({"content": "early"}), None).to_string();
    let pieces = vec![
        (Duration::ZERO, format!("data: {first}\n\n")),
        (Duration::from_millis(1500), "data: [DONE]\n\n".to_string()),
    ];
    let up = Upstream::openai("k", script(move |_| Reply::Chunks(pieces.clone()))).await;
    let gw = Gateway::with_models(&entry(&up, "")).await;
    let started = Instant::now();
    let response = gw.send("/v1/chat/completions", &stream_request()).await;
    let mut stream = response.bytes_stream();
    let piece = stream.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&piece).contains("early"));
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "the first chunk waited for the rest: {:?}",
        started.elapsed()
    );
    let mut rest = Vec::new();
    while let Some(p) = stream.next().await {
        rest.extend_from_slice(&p.unwrap());
    }
    assert_eq!(String::from_utf8(rest).unwrap(), "data: [DONE]\n\n");
}

#[tokio::test]
async fn a_silent_upstream_ends_the_stream_with_an_error_event() {
    let first = chunk("gpt-4o", json!({"content": "partial"}), None).to_string();
    let pieces = vec![
        (Duration::ZERO, format!("data: {first}\n\n")),
        (Duration::from_secs(30), "data: [DONE]\n\n".to_string()),
    ];
    let up = Upstream::openai("k", script(move |_| Reply::Chunks(pieces.clone()))).await;
    let gw = Gateway::with_models(&entry(&up, "    stream_timeout: 0.3\n")).await;
    let started = Instant::now();
    let (status, _, body) = gw
        .post_stream(
            "/v1/chat/completions",
            &json!({"model": "s", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(status, 200);
    let data = sse_data(&body);
    assert_eq!(data.len(), 2, "{body}");
    assert_eq!(data[0], first);
    let err: Value = serde_json::from_str(&data[1]).unwrap();
    assert_eq!(err["error"]["code"], "stream_timeout");
    assert_eq!(err["error"]["type"], "timeout_error");
    assert!(!body.contains("[DONE]"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(up.streams_cut(), 1, "the upstream stream must be dropped");
}

#[tokio::test]
async fn an_upstream_that_never_starts_streaming_times_out_with_504() {
    let up = Upstream::openai(
        "k",
        script(|_| Reply::After(Duration::from_secs(30), Box::new(Reply::Sse(vec![])))),
    )
    .await;
    let gw = Gateway::with_models(&entry(&up, "    stream_timeout: 0.3\n")).await;
    let (status, _, body) = gw
        .post_stream(
            "/v1/chat/completions",
            &json!({"model": "s", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(status, 504, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(crate::support::error_of(&body)["type"], "timeout_error");
}

#[tokio::test]
async fn an_error_before_the_first_byte_is_a_plain_http_error() {
    let up = Upstream::openai("k", script(|_| {
        Reply::JsonWithHeaders(429, json!({"error": {"message": "Rate limit reached for requests", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}), vec![("retry-after", "7")])
    }))
    .await;
    let gw = Gateway::with_models(&entry(&up, "")).await;
    let (status, headers, body) = gw
        .post_stream(
            "/v1/chat/completions",
            &json!({"model": "s", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "7");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
}

#[tokio::test]
async fn an_error_event_mid_stream_is_passed_on_as_an_error_event() {
    let first = chunk("gpt-4o", json!({"content": "a"}), None).to_string();
    let pieces = vec![
        (Duration::ZERO, format!("data: {first}\n\n")),
        (Duration::ZERO, "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n".into()),
    ];
    let up = Upstream::openai("k", script(move |_| Reply::Chunks(pieces.clone()))).await;
    let gw = Gateway::with_models(&entry(&up, "")).await;
    let (_, _, body) = gw
        .post_stream(
            "/v1/chat/completions",
            &json!({"model": "s", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    let data = sse_data(&body);
    assert_eq!(data[0], first);
    let err: Value = serde_json::from_str(&data[1]).unwrap();
    assert_eq!(err["error"]["message"], "The server had an error");
    assert_eq!(data.len(), 2);
}

#[tokio::test]
async fn a_client_that_disconnects_cancels_the_upstream_stream() {
    let c = chunk("gpt-4o", json!({"content": "tick "}), None).to_string();
    let pieces: Vec<(Duration, String)> = (0..100)
        .map(|_| (Duration::from_millis(50), format!("data: {c}\n\n")))
        .collect();
    let up = Upstream::openai("k", script(move |_| Reply::Chunks(pieces.clone()))).await;
    let gw = Gateway::with_models(&entry(&up, "")).await;
    let response = gw.send("/v1/chat/completions", &stream_request()).await;
    let mut stream = response.bytes_stream();
    stream.next().await.unwrap().unwrap();
    drop(stream);
    // The upstream would stream for 5 s; the cut must arrive long before.
    let deadline = Instant::now() + Duration::from_secs(2);
    while up.streams_cut() == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        up.streams_cut(),
        1,
        "the upstream stream is still being read after the client left"
    );
    assert_eq!(up.streams_finished(), 0);
}

#[tokio::test]
async fn a_client_that_disconnects_while_waiting_cancels_the_upstream_request() {
    for stream in [true, false] {
        let up = Upstream::openai(
            "k",
            script(|_| Reply::After(Duration::from_secs(3), Box::new(Reply::Sse(vec![])))),
        )
        .await;
        let gw = Gateway::with_models(&entry(&up, "")).await;
        let request = client()
            .post(gw.url("/v1/chat/completions"))
            .bearer_auth(MASTER_KEY)
            .json(&json!({"model": "s", "stream": stream, "messages": [{"role": "user", "content": "x"}]}))
            .send();
        // Give up long before the upstream answers.
        assert!(
            tokio::time::timeout(Duration::from_millis(300), request)
                .await
                .is_err()
        );
        let deadline = Instant::now() + Duration::from_secs(2);
        while up.abandoned() == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(up.requests().len(), 1);
        assert_eq!(
            up.abandoned(),
            1,
            "stream={stream}: the upstream request outlived the client"
        );
    }
}
