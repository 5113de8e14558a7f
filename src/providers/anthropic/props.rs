//! Properties of the pure translators: the stream decoder never panics on
//! arbitrary bytes and gives the same output however a valid stream is
//! split; encode and decode never panic on arbitrary JSON.

use std::sync::Arc;

use proptest::prelude::*;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Map, Value, json};

use super::ANTHROPIC;
use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::providers::{Credentials, Dialect, Operation};

fn deployment() -> Arc<Deployment> {
    let yaml = "model_list:\n- model_name: claude\n  litellm_params:\n    model: anthropic/claude-sonnet-4-5\n    api_key: k\n";
    let loaded = crate::config::load_str(yaml, "t.yaml").unwrap_or_else(|e| panic!("{e}"));
    loaded.config.deployments[0].clone()
}

fn request(body: Map<String, Value>, stream: bool, include_usage: bool) -> ApiRequest {
    ApiRequest {
        op: Operation::Chat,
        model: "claude".into(),
        stream,
        include_usage,
        body,
    }
}

/// Feeds `pieces` to a fresh decoder: the events out (with `created`
/// removed: it is the clock's), and the error that ended them, if any.
fn decode(pieces: &[&[u8]], include_usage: bool) -> (Vec<String>, Option<String>) {
    let req = request(Map::new(), true, include_usage);
    let mut decoder = ANTHROPIC.stream_decoder(&deployment(), &req);
    let (mut out, mut failure) = (Vec::new(), None);
    for piece in pieces {
        if let Err(e) = decoder.feed(piece, &mut out) {
            failure = Some(e.message);
            break;
        }
    }
    let events = out
        .iter()
        .map(|b| {
            let text = String::from_utf8_lossy(b).into_owned();
            match serde_json::from_str::<Value>(text.trim_start_matches("data: ").trim_end()) {
                Ok(Value::Object(mut m)) => {
                    m.remove("created");
                    Value::Object(m).to_string()
                }
                _ => text,
            }
        })
        .collect();
    (events, failure)
}

fn event(name: &str, data: Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

fn block(index: u64, start: Value, deltas: &[Value]) -> Vec<String> {
    let mut out = vec![event(
        "content_block_start",
        json!({"type": "content_block_start", "index": index, "content_block": start}),
    )];
    for d in deltas {
        out.push(event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index, "delta": d}),
        ));
    }
    out.push(event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": index}),
    ));
    out
}

/// A stream with thinking, text and two tool calls (non-ASCII text, a
/// comment line), optionally failing with an `error` event near its end.
fn valid_stream(with_error: bool, crlf: bool) -> String {
    let json_delta = |p: &str| json!({"type": "input_json_delta", "partial_json": p});
    let mut events = vec![
        event(
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                "model": "claude-x", "content": [], "usage": {"input_tokens": 3, "output_tokens": 1, "cache_read_input_tokens": 2}}}),
        ),
        ": keep-alive\n\n".to_string(),
        event("ping", json!({"type": "ping"})),
    ];
    events.extend(block(
        0,
        json!({"type": "thinking", "thinking": ""}),
        &[json!({"type": "thinking_delta", "thinking": "Hmm… ünïcödé"})],
    ));
    events.extend(block(
        1,
        json!({"type": "text", "text": ""}),
        &[json!({"type": "text_delta", "text": "Checking."})],
    ));
    events.extend(block(
        2,
        json!({"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}),
        &[
            json_delta(""),
            json_delta("{\"ci"),
            json_delta("ty\": \"Bern\"}"),
        ],
    ));
    events.extend(block(
        3,
        json!({"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}}),
        &[json_delta("{}")],
    ));
    if with_error {
        events.push(event(
            "error",
            json!({"type": "error", "error": {"type": "api_error", "message": "boom"}}),
        ));
    }
    events.push(event(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 30}}),
    ));
    events.push(event("message_stop", json!({"type": "message_stop"})));
    let text = events.concat();
    if crlf {
        text.replace('\n', "\r\n")
    } else {
        text
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let words = prop::sample::select(vec![
        "user",
        "assistant",
        "tool",
        "system",
        "developer",
        "text",
        "image_url",
        "function",
        "json_schema",
        "json_object",
        "required",
        "auto",
        "high",
        "tool_use",
        "thinking",
        "data:image/png;base64,AA",
        "https://x.y/z.png",
        "{\"a\":1}",
        "",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        words.prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop::sample::select(vec![
            "role",
            "content",
            "type",
            "text",
            "tool_calls",
            "function",
            "arguments",
            "name",
            "id",
            "image_url",
            "url",
            "tool_call_id",
            "cache_control",
            "schema",
            "json_schema",
            "parameters",
            "input",
            "thinking",
            "usage",
            "input_tokens",
            "error",
            "message",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((keys, inner), 0..5).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

const PARAMS: &[&str] = &[
    "messages",
    "tools",
    "tool_choice",
    "response_format",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "reasoning_effort",
    "user",
    "n",
    "temperature",
    "parallel_tool_calls",
    "thinking",
    "top_k",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_stream_decoder_never_panics(
        pieces in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..16),
        include_usage in any::<bool>(),
    ) {
        let slices: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
        decode(&slices, include_usage);
    }

    #[test]
    fn the_stream_decoder_ignores_how_bytes_are_split(
        cuts in prop::collection::vec(any::<usize>(), 0..40),
        with_error in any::<bool>(),
        include_usage in any::<bool>(),
        crlf in any::<bool>(),
    ) {
        let whole = valid_stream(with_error, crlf);
        let bytes = whole.as_bytes();
        let pieces = crate::testing::split_at_points(bytes, cuts);
        let expected = decode(&[bytes], include_usage);
        prop_assert_eq!(expected.1.is_some(), with_error);
        prop_assert!(with_error || expected.0.last().is_some_and(|e| e == "data: [DONE]\n\n"));
        prop_assert_eq!(decode(&pieces, include_usage), expected);
    }

    #[test]
    fn encode_and_decode_never_panic(
        fields in prop::collection::vec((prop::sample::select(PARAMS), any_json()), 0..6),
        answer in any_json(),
        stream in any::<bool>(),
    ) {
        let d = deployment();
        let body: Map<String, Value> = fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let req = request(body, stream, false);
        let _ = ANTHROPIC.encode(&d, &req, &Credentials::default());
        let _ = ANTHROPIC.decode_body(&d, &req, answer.to_string().into());
        let wrapped = json!({"content": [answer.clone()], "usage": answer, "stop_reason": "tool_use"});
        let _ = ANTHROPIC.decode_body(&d, &req, wrapped.to_string().into());
        let status = StatusCode::from_u16(529).unwrap_or(StatusCode::BAD_GATEWAY);
        let _ = ANTHROPIC.decode_error(status, &HeaderMap::new(), wrapped.to_string().as_bytes());
    }
}

#[test]
fn a_valid_stream_decodes_to_the_expected_chunks() {
    let (events, failure) = decode(&[valid_stream(false, false).as_bytes()], true);
    assert_eq!(failure, None);
    let chunks: Vec<Value> = events
        .iter()
        .filter_map(|e| serde_json::from_str(e.trim_start_matches("data: ").trim_end()).ok())
        .collect();
    let deltas: Vec<Value> = chunks
        .iter()
        .filter_map(|c| c.pointer("/choices/0/delta").cloned())
        .collect();
    assert_eq!(deltas[0], json!({"role": "assistant", "content": ""}));
    assert_eq!(deltas[1], json!({"reasoning_content": "Hmm… ünïcödé"}));
    assert_eq!(deltas[2], json!({"content": "Checking."}));
    assert_eq!(deltas[3]["tool_calls"][0]["index"], 0);
    assert_eq!(deltas[6]["tool_calls"][0]["index"], 1);
    assert_eq!(chunks[8]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(chunks[9]["usage"]["prompt_tokens"], 5);
    assert_eq!(chunks[9]["usage"]["completion_tokens"], 30);
    assert_eq!(events.last().map(String::as_str), Some("data: [DONE]\n\n"));
}
