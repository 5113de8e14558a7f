//! Streaming: Gemini's SSE events become OpenAI chunks as they arrive,
//! ending with the usage chunk (when asked for) and `[DONE]`.

use serde_json::{Value, json};

use super::gateway;
use crate::support::google_api::{Answer, GoogleApi, script, usage};
use crate::support::sse_data;

fn event(parts: Value, finish: Option<&str>, usage_meta: Value) -> Value {
    let mut candidate = json!({"content": {"role": "model", "parts": parts}});
    if let Some(f) = finish {
        candidate["finishReason"] = json!(f);
    }
    json!({"candidates": [candidate], "usageMetadata": usage_meta, "modelVersion": "gemini-2.5-flash", "responseId": "s-1"})
}

fn text_events() -> Vec<Value> {
    vec![
        event(
            json!([{"text": "Hel"}]),
            None,
            json!({"promptTokenCount": 5, "totalTokenCount": 5}),
        ),
        event(
            json!([{"text": "lo"}]),
            None,
            json!({"promptTokenCount": 5, "totalTokenCount": 5}),
        ),
        event(json!([{"text": "!"}]), Some("STOP"), usage(5, 3)),
    ]
}

/// The chunks' JSON, `created` left out, and whether `[DONE]` ended them.
fn chunks(body: &str) -> (Vec<Value>, bool) {
    let data = sse_data(body);
    let done = data.last().is_some_and(|d| d == "[DONE]");
    let chunks = data
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| {
            let mut v: Value = serde_json::from_str(d).unwrap();
            assert!(v["created"].is_u64());
            v.as_object_mut().unwrap().remove("created");
            v
        })
        .collect();
    (chunks, done)
}

fn chunk(delta: Value, finish: Option<&str>, with_usage: bool) -> Value {
    let mut c = json!({"id": "chatcmpl-s-1", "object": "chat.completion.chunk", "model": "gemini-2.5-flash",
                       "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]});
    if with_usage {
        c["usage"] = Value::Null;
    }
    c
}

#[tokio::test]
async fn text_streams_with_and_without_the_usage_chunk() {
    for include_usage in [false, true] {
        let api = GoogleApi::gemini(script(|_| Answer::Sse(text_events()))).await;
        let gw = gateway(&api, "").await;
        let mut request =
            json!({"model": "g", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
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
        let call = api.last();
        assert_eq!(
            call.path,
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
        );
        assert_eq!(call.query.as_deref(), Some("alt=sse"));
        assert!(call.body.get("stream_options").is_none() && call.body.get("stream").is_none());
        let (got, done) = chunks(&body);
        let mut expected = vec![
            chunk(
                json!({"role": "assistant", "content": ""}),
                None,
                include_usage,
            ),
            chunk(json!({"content": "Hel"}), None, include_usage),
            chunk(json!({"content": "lo"}), None, include_usage),
            chunk(json!({"content": "!"}), None, include_usage),
            chunk(json!({}), Some("stop"), include_usage),
        ];
        if include_usage {
            expected.push(json!({"id": "chatcmpl-s-1", "object": "chat.completion.chunk", "model": "gemini-2.5-flash",
                "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8,
                "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}}}));
        }
        assert_eq!(got, expected);
        assert!(done && body.ends_with("data: [DONE]\n\n"));
    }
}

#[tokio::test]
async fn function_calls_stream_as_whole_tool_call_chunks() {
    let events = vec![
        event(json!([{"text": "Checking."}]), None, json!({})),
        event(
            json!([{"functionCall": {"name": "get_weather", "args": {"city": "Bern"}}},
                   {"functionCall": {"name": "get_time", "args": {}}}]),
            Some("STOP"),
            usage(9, 6),
        ),
    ];
    let api = GoogleApi::gemini(script(move |_| Answer::Sse(events.clone()))).await;
    let gw = gateway(&api, "").await;
    let request = json!({"model": "g", "stream": true, "messages": [{"role": "user", "content": "w"}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
                   "properties": {"city": {"type": "string"}}}}},
                  {"type": "function", "function": {"name": "get_time"}}]});
    let (status, _, body) = gw.post_stream("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let (got, done) = chunks(&body);
    assert!(done);
    let deltas: Vec<Value> = got
        .iter()
        .map(|c| c["choices"][0]["delta"].clone())
        .collect();
    assert_eq!(deltas[1], json!({"content": "Checking."}));
    let calls: Vec<&Value> = deltas.iter().filter_map(|d| d.get("tool_calls")).collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0][0]["index"], 0);
    assert_eq!(
        calls[0][0]["function"],
        json!({"name": "get_weather", "arguments": "{\"city\":\"Bern\"}"})
    );
    assert_eq!(calls[1][0]["index"], 1);
    assert_eq!(
        calls[1][0]["function"],
        json!({"name": "get_time", "arguments": "{}"})
    );
    assert!(calls[0][0]["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(calls[0][0]["type"], "function");
    assert_eq!(
        got.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );

    // The same answer without streaming carries the same ids.
    let sent = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Checking."},
        {"functionCall": {"name": "get_weather", "args": {"city": "Bern"}}}, {"functionCall": {"name": "get_time", "args": {}}}]},
        "finishReason": "STOP"}], "responseId": "s-1"});
    let api = GoogleApi::gemini(script(move |_| Answer::Json(200, sent.clone()))).await;
    let gw = gateway(&api, "").await;
    let mut plain = request.clone();
    plain["stream"] = json!(false);
    let (_, _, whole) = gw.post("/v1/chat/completions", &plain).await;
    assert_eq!(
        whole["choices"][0]["message"]["tool_calls"][1]["id"],
        calls[1][0]["id"]
    );
}

#[tokio::test]
async fn events_split_anywhere_in_the_byte_stream_are_reassembled() {
    let text = text_events()
        .iter()
        .map(|e| format!("data: {e}\r\n\r\n"))
        .collect::<String>();
    let pieces: Vec<String> = text
        .as_bytes()
        .chunks(11)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    // chunks(11) may cut a multi-byte character; these events are ASCII.
    assert!(text.is_ascii());
    let api = GoogleApi::gemini(script(move |_| Answer::Raw(pieces.clone()))).await;
    let gw = gateway(&api, "").await;
    let request =
        json!({"model": "g", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let (_, _, body) = gw.post_stream("/v1/chat/completions", &request).await;
    let (got, done) = chunks(&body);
    assert!(done);
    let text: String = got
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello!");
}

#[tokio::test]
async fn errors_and_blocks_inside_a_stream_end_it_with_an_error_event() {
    let cases = [
        (
            vec![
                format!("data: {}\r\n\r\n", text_events()[0]),
                "data: {\"error\": {\"code\": 503, \"message\": \"The model is overloaded.\", \"status\": \"UNAVAILABLE\"}}\r\n\r\n".to_string(),
            ],
            "overloaded_error",
        ),
        (
            vec![format!("data: {}\r\n\r\n", json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}))],
            "invalid_request_error",
        ),
    ];
    for (pieces, kind) in cases {
        let api = GoogleApi::gemini(script(move |_| Answer::Raw(pieces.clone()))).await;
        let gw = gateway(&api, "").await;
        let request =
            json!({"model": "g", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
        let (status, _, body) = gw.post_stream("/v1/chat/completions", &request).await;
        assert_eq!(status, 200);
        let data = sse_data(&body);
        let last: Value = serde_json::from_str(data.last().unwrap()).unwrap();
        assert_eq!(last["error"]["type"], kind, "{body}");
        assert!(!body.contains("[DONE]"));
    }
}

#[tokio::test]
async fn a_stream_cut_before_its_finish_reason_ends_without_done() {
    let api = GoogleApi::gemini(script(|_| Answer::Sse(text_events()[..2].to_vec()))).await;
    let gw = gateway(&api, "").await;
    let request =
        json!({"model": "g", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let (status, _, body) = gw.post_stream("/v1/chat/completions", &request).await;
    assert_eq!(status, 200);
    let (got, done) = chunks(&body);
    assert_eq!(got.len(), 3);
    assert!(
        !done,
        "no finishReason came, so the answer may be incomplete: {body}"
    );
}
