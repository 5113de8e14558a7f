//! Streams from the Anthropic mock translated into OpenAI chunks.

use super::*;

#[tokio::test]
async fn streamed_text_with_and_without_usage() {
    let (api, gw) = serve(|_| Reply::Events(hello_events())).await;
    for include_usage in [false, true] {
        let mut request = chat(user("hi"));
        request["stream"] = json!(true);
        if include_usage {
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
        assert!(body.ends_with("data: [DONE]\n\n"));
        let got = chunks(&body);
        assert_eq!(
            deltas(&got),
            vec![
                (json!({"role": "assistant", "content": ""}), Value::Null),
                (json!({"content": "Hel"}), Value::Null),
                (json!({"content": "lo"}), Value::Null),
                (json!({}), json!("stop")),
            ]
        );
        for c in &got {
            assert_eq!(
                (c["id"].as_str(), c["object"].as_str()),
                (Some("msg_01mock"), Some("chat.completion.chunk"))
            );
            assert_eq!(c["model"], "claude-sonnet-4-5-20250929");
        }
        if include_usage {
            assert_eq!(got.len(), 5);
            let last = got.last().unwrap();
            assert_eq!(last["choices"], json!([]));
            assert_eq!(
                (
                    last["usage"]["prompt_tokens"].clone(),
                    last["usage"]["completion_tokens"].clone()
                ),
                (json!(16), json!(2))
            );
            assert_eq!(last["usage"]["prompt_tokens_details"]["cached_tokens"], 4);
            assert!(got[..4].iter().all(|c| c["usage"].is_null()));
        } else {
            assert_eq!(got.len(), 4);
            assert!(got.iter().all(|c| c.get("usage").is_none()));
        }
        let sent = api.last().body;
        assert_eq!(sent["stream"], true);
        assert!(sent.get("stream_options").is_none());
    }
}

#[tokio::test]
async fn streamed_tool_calls_are_indexed_over_tool_use_blocks() {
    let (_api, gw) = serve(|_| Reply::Events(tool_events())).await;
    let mut request = chat(user("Weather and time in Bern?"));
    request["stream"] = json!(true);
    request["tools"] =
        json!([weather_tool(), {"type": "function", "function": {"name": "get_time"}}]);
    let (status, _, body) = gw.post_stream("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        deltas(&chunks(&body)),
        vec![
            (json!({"role": "assistant", "content": ""}), Value::Null),
            (json!({"content": "Checking."}), Value::Null),
            (
                json!({"tool_calls": [{"index": 0, "id": "toolu_01", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
                Value::Null
            ),
            (
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"ci"}}]}),
                Value::Null
            ),
            (
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "ty\": \"Bern\"}"}}]}),
                Value::Null
            ),
            (
                json!({"tool_calls": [{"index": 1, "id": "toolu_02", "type": "function", "function": {"name": "get_time", "arguments": ""}}]}),
                Value::Null
            ),
            (
                json!({"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}),
                Value::Null
            ),
            (json!({}), json!("tool_calls")),
        ]
    );
}

#[tokio::test]
async fn an_error_event_ends_the_stream_with_an_error() {
    let (_api, gw) = serve(|_| {
        let mut evs = hello_events();
        evs.truncate(5); // message_start, ping, block start, "Hel", "lo"
        evs.push(("error", error_body("overloaded_error", "Overloaded")));
        Reply::Events(evs)
    })
    .await;
    let mut request = chat(user("hi"));
    request["stream"] = json!(true);
    let (status, _, body) = gw.post_stream("/v1/chat/completions", &request).await;
    assert_eq!(status, 200);
    assert!(!body.contains("[DONE]"), "{body}");
    let data = sse_data(&body);
    let last: Value = serde_json::from_str(data.last().unwrap()).unwrap();
    assert_eq!(error_of(&last)["message"], "Overloaded");
    assert_eq!(last["error"]["type"], "overloaded_error");
    assert!(
        body.contains("\"lo\""),
        "text before the error is delivered: {body}"
    );
}

#[tokio::test]
async fn events_split_anywhere_are_reassembled() {
    let whole = raw(&tool_events());
    let pieces: Vec<(Duration, String)> = whole
        .as_bytes()
        .chunks(7)
        .map(|c| {
            (
                Duration::from_millis(1),
                String::from_utf8_lossy(c).into_owned(),
            )
        })
        .collect();
    assert!(whole.is_ascii(), "7-byte pieces must not split a character");
    let (_api, gw) = serve(move |r| {
        if r.body["max_tokens"] == 1 {
            Reply::Events(tool_events())
        } else {
            Reply::Chunks(pieces.clone())
        }
    })
    .await;
    let mut request = chat(user("x"));
    request["stream"] = json!(true);
    let (_, _, split) = gw.post_stream("/v1/chat/completions", &request).await;
    request["max_tokens"] = json!(1);
    let (_, _, unsplit) = gw.post_stream("/v1/chat/completions", &request).await;
    assert_eq!(deltas(&chunks(&split)), deltas(&chunks(&unsplit)));
    assert!(split.ends_with("data: [DONE]\n\n"));
}
