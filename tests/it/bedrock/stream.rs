//! Streaming: ConverseStream's binary event stream becomes OpenAI chunks as
//! it arrives: text, tool-call deltas, the finish chunk, usage when asked
//! for, `[DONE]`; exceptions and corrupt frames end it with an error event.

use serde_json::{Value, json};

use super::gateway;
use crate::support::bedrock_api::{Answer, BedrockApi, Event, frame, script, text_events, usage};
use crate::support::sse_data;

/// The chunks' JSON with `created` and `id` checked and left out, and
/// whether `[DONE]` ended them.
fn chunks(body: &str) -> (Vec<Value>, bool) {
    let data = sse_data(body);
    let done = data.last().is_some_and(|d| d == "[DONE]");
    let mut id = None;
    let chunks = data
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| {
            let mut v: Value = serde_json::from_str(d).unwrap_or_else(|e| panic!("{e}: {d}"));
            if v.get("error").is_some() {
                return v;
            }
            assert!(v["created"].is_u64());
            let this = v["id"].as_str().unwrap().to_string();
            assert!(this.starts_with("chatcmpl-"));
            assert_eq!(
                id.get_or_insert_with(|| this.clone()),
                &this,
                "one id per stream"
            );
            let o = v.as_object_mut().unwrap();
            o.remove("created");
            o.remove("id");
            v
        })
        .collect();
    (chunks, done)
}

fn chunk(delta: Value, finish: Option<&str>, with_usage: bool) -> Value {
    let mut c = json!({"object": "chat.completion.chunk", "model": crate::support::bedrock_api::CLAUDE,
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]});
    if with_usage {
        c["usage"] = Value::Null;
    }
    c
}

fn stream_request(include_usage: bool) -> Value {
    let mut r =
        json!({"model": "b", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    if include_usage {
        r["stream_options"] = json!({"include_usage": true});
    }
    r
}

#[tokio::test]
async fn text_streams_with_and_without_the_usage_chunk() {
    for include_usage in [false, true] {
        let api = BedrockApi::start(script(|_| {
            Answer::Events(text_events(&["Hel", "lo", "!"], "end_turn"))
        }))
        .await;
        let gw = gateway(&api, "").await;
        let (status, headers, body) = gw
            .post_stream("/v1/chat/completions", &stream_request(include_usage))
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        let call = api.last();
        assert_eq!(call.action, "converse-stream");
        assert_eq!(call.headers["accept"], "application/vnd.amazon.eventstream");
        assert!(call.body.get("stream").is_none() && call.body.get("stream_options").is_none());
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
            expected.push(json!({"object": "chat.completion.chunk", "model": crate::support::bedrock_api::CLAUDE,
                "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12,
                "prompt_tokens_details": {"cached_tokens": 0}}}));
        }
        assert_eq!(got, expected);
        assert!(done && body.ends_with("data: [DONE]\n\n"));
    }
}

fn tool_events() -> Vec<Event> {
    let start = |i: u64, id: &str, name: &str| {
        Event::Event(
            "contentBlockStart",
            json!({"contentBlockIndex": i, "start": {"toolUse": {"toolUseId": id, "name": name}}}),
        )
    };
    let input = |i: u64, piece: &str| {
        Event::Event(
            "contentBlockDelta",
            json!({"contentBlockIndex": i, "delta": {"toolUse": {"input": piece}}}),
        )
    };
    let stop = |i: u64| Event::Event("contentBlockStop", json!({"contentBlockIndex": i}));
    vec![
        Event::Event("messageStart", json!({"role": "assistant"})),
        Event::Event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "Checking."}}),
        ),
        stop(0),
        start(1, "tooluse_1", "get_weather"),
        input(1, "{\"city\":"),
        input(1, "\"Paris\"}"),
        stop(1),
        start(2, "tooluse_2", "get_time"),
        input(2, "{}"),
        stop(2),
        Event::Event("messageStop", json!({"stopReason": "tool_use"})),
        Event::Event(
            "metadata",
            json!({"usage": usage(30, 12), "metrics": {"latencyMs": 9}}),
        ),
    ]
}

#[tokio::test]
async fn tool_use_streams_as_tool_call_deltas() {
    let api = BedrockApi::start(script(|_| Answer::Events(tool_events()))).await;
    let gw = gateway(&api, "").await;
    let mut request = stream_request(true);
    request["tools"] = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
                              {"type": "function", "function": {"name": "get_time"}}]);
    let (status, _, body) = gw.post_stream("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let (got, done) = chunks(&body);
    assert!(done);
    let deltas: Vec<Value> = got
        .iter()
        .filter(|c| !c["choices"].as_array().unwrap().is_empty())
        .map(|c| c["choices"][0]["delta"].clone())
        .collect();
    assert_eq!(deltas[1], json!({"content": "Checking."}));
    assert_eq!(
        deltas[2],
        json!({"tool_calls": [{"index": 0, "id": "tooluse_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]})
    );
    assert_eq!(
        deltas[3],
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]})
    );
    assert_eq!(
        deltas[4],
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]})
    );
    assert_eq!(deltas[5]["tool_calls"][0]["index"], 1);
    assert_eq!(deltas[5]["tool_calls"][0]["id"], "tooluse_2");
    let last_choice = got
        .iter()
        .rev()
        .find(|c| !c["choices"].as_array().unwrap().is_empty())
        .unwrap();
    assert_eq!(last_choice["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(got.last().unwrap()["usage"]["total_tokens"], 42);
    let arguments: String = deltas
        .iter()
        .filter_map(|d| d.pointer("/tool_calls/0").filter(|c| c["index"] == 0))
        .filter_map(|c| c.pointer("/function/arguments").and_then(Value::as_str))
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&arguments).unwrap(),
        json!({"city": "Paris"})
    );
}

#[tokio::test]
async fn json_mode_streams_the_answer_as_content() {
    let events = vec![
        Event::Event("messageStart", json!({"role": "assistant"})),
        Event::Event(
            "contentBlockStart",
            json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t", "name": "json_response"}}}),
        ),
        Event::Event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{\"city\": "}}}),
        ),
        Event::Event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": "\"Paris\"}"}}}),
        ),
        Event::Event("contentBlockStop", json!({"contentBlockIndex": 0})),
        Event::Event("messageStop", json!({"stopReason": "tool_use"})),
        Event::Event("metadata", json!({"usage": usage(5, 5)})),
    ];
    let api = BedrockApi::start(script(move |_| Answer::Events(events.clone()))).await;
    let gw = gateway(&api, "").await;
    let mut request = stream_request(false);
    request["response_format"] = json!({"type": "json_object"});
    let (_, _, body) = gw.post_stream("/v1/chat/completions", &request).await;
    let (got, done) = chunks(&body);
    assert!(done);
    let text: String = got
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "{\"city\": \"Paris\"}");
    assert!(!body.contains("tool_calls"));
    assert_eq!(got.last().unwrap()["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn frames_split_anywhere_in_the_byte_stream_are_reassembled() {
    let bytes: Vec<u8> = tool_events().iter().flat_map(frame).collect();
    for size in [1, 5, 13, 64] {
        let pieces: Vec<Vec<u8>> = bytes.chunks(size).map(<[u8]>::to_vec).collect();
        let whole = bytes.clone();
        let split_api = BedrockApi::start(script(move |_| Answer::Raw(pieces.clone()))).await;
        let whole_api = BedrockApi::start(script(move |_| Answer::Raw(vec![whole.clone()]))).await;
        let mut outputs = Vec::new();
        for api in [&split_api, &whole_api] {
            let gw = gateway(api, "").await;
            let (_, _, body) = gw
                .post_stream("/v1/chat/completions", &stream_request(true))
                .await;
            outputs.push(chunks(&body));
        }
        assert!(outputs[0].1, "size {size}");
        assert_eq!(outputs[0], outputs[1], "size {size}");
    }
}

#[tokio::test]
async fn exceptions_and_corrupt_frames_end_the_stream_with_an_error_event() {
    let first = text_events(&["Hel"], "end_turn")[..2].to_vec();
    let mut throttled = first.clone();
    throttled.push(Event::Exception(
        "throttlingException",
        "Too many tokens, please wait before trying again.".into(),
    ));
    let mut corrupt = frame(&first[1]);
    let n = corrupt.len();
    corrupt[n - 2] ^= 0x40;
    let cases = [
        (Answer::Events(throttled), "rate_limit_error"),
        (Answer::Raw(vec![frame(&first[0]), corrupt]), "server_error"),
    ];
    for (answer, kind) in cases {
        let answer = std::sync::Mutex::new(Some(answer));
        let api = BedrockApi::start(script(move |_| answer.lock().unwrap().take().unwrap())).await;
        let gw = gateway(&api, "").await;
        let (status, _, body) = gw
            .post_stream("/v1/chat/completions", &stream_request(false))
            .await;
        assert_eq!(status, 200);
        let data = sse_data(&body);
        let last: Value = serde_json::from_str(data.last().unwrap()).unwrap();
        assert_eq!(last["error"]["type"], kind, "{body}");
        assert!(!body.contains("[DONE]"));
        assert!(data[0].contains("\"role\":\"assistant\""), "{body}");
    }
}

#[tokio::test]
async fn an_error_before_the_stream_keeps_its_status() {
    let api = BedrockApi::start(script(|_| {
        Answer::Error(429, "ThrottlingException", "Rate exceeded".into())
    }))
    .await;
    let gw = gateway(&api, "").await;
    let (status, _, body) = gw
        .post_stream("/v1/chat/completions", &stream_request(false))
        .await;
    assert_eq!(status, 429, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert_eq!(body["error"]["message"], "Rate exceeded");
}
