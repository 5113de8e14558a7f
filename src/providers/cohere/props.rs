//! Properties of the pure translators: the stream decoder never panics on
//! arbitrary bytes and gives the same output however a valid stream is
//! split; encode and decode never panic on arbitrary JSON, for chat,
//! embeddings and rerank.

use std::sync::Arc;

use proptest::prelude::*;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Map, Value, json};

use super::COHERE;
use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::providers::{Credentials, Dialect, Operation};

fn deployment() -> Arc<Deployment> {
    let yaml = "model_list:\n- model_name: command\n  litellm_params:\n    model: cohere/command-r-plus\n    api_key: co-k\n";
    let loaded = crate::config::load_str(yaml, "t.yaml").unwrap_or_else(|e| panic!("{e}"));
    loaded.config.deployments[0].clone()
}

fn request(op: Operation, body: Map<String, Value>, stream: bool, usage: bool) -> ApiRequest {
    ApiRequest {
        op,
        model: "command".into(),
        stream,
        include_usage: usage,
        body,
    }
}

/// Feeds `pieces` to a fresh decoder: the events out (with `created`
/// removed: it is the clock's), and the error that ended them, if any.
fn decode(pieces: &[&[u8]], include_usage: bool) -> (Vec<String>, Option<String>) {
    let req = request(Operation::Chat, Map::new(), true, include_usage);
    let mut decoder = COHERE.stream_decoder(&deployment(), &req);
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
    let mut data = data;
    data["type"] = json!(name);
    format!("event: {name}\ndata: {data}\n\n")
}

/// A stream with thinking, text, a tool plan and two tool calls (non-ASCII
/// text, a comment line), ending in an error when `with_error`.
fn valid_stream(with_error: bool, crlf: bool) -> String {
    let content = |t: &str| json!({"message": {"content": {"text": t}}});
    let call = |i: u64, id: &str, name: &str| {
        json!({"index": i, "delta": {"message": {"tool_calls": {"id": id, "type": "function",
            "function": {"name": name, "arguments": ""}}}}})
    };
    let args = |i: u64, a: &str| json!({"index": i, "delta": {"message": {"tool_calls": {"function": {"arguments": a}}}}});
    let events = [
        event(
            "message-start",
            json!({"id": "c-1", "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
        ),
        ": keep-alive\n\n".to_string(),
        event(
            "content-start",
            json!({"index": 0, "delta": {"message": {"content": {"type": "thinking", "thinking": ""}}}}),
        ),
        event(
            "content-delta",
            json!({"index": 0, "delta": {"message": {"content": {"thinking": "Hmm… ünïcödé"}}}}),
        ),
        event("content-end", json!({"index": 0})),
        event(
            "content-start",
            json!({"index": 1, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
        ),
        event(
            "content-delta",
            json!({"index": 1, "delta": content("Checking.")}),
        ),
        event("content-end", json!({"index": 1})),
        event(
            "tool-plan-delta",
            json!({"delta": {"message": {"tool_plan": " I will look it up."}}}),
        ),
        event("tool-call-start", call(0, "get_weather_1", "get_weather")),
        event("tool-call-delta", args(0, "{\"ci")),
        event("tool-call-delta", args(0, "ty\": \"Bern\"}")),
        event("tool-call-end", json!({"index": 0})),
        event("tool-call-start", call(1, "get_time_2", "get_time")),
        event("tool-call-delta", args(1, "{}")),
        event("tool-call-end", json!({"index": 1})),
        event("debug", json!({"prompt": "x"})),
        event(
            "message-end",
            if with_error {
                json!({"delta": {"finish_reason": "ERROR", "error": "boom"}})
            } else {
                json!({"delta": {"finish_reason": "TOOL_CALL", "usage": {"billed_units": {"input_tokens": 5, "output_tokens": 30},
                    "tokens": {"input_tokens": 500, "output_tokens": 31}}}})
            },
        ),
    ];
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
        "none",
        "COMPLETE",
        "TOOL_CALL",
        "ERROR",
        "MAX_TOKENS",
        "thinking",
        "data:image/png;base64,AA",
        "{\"a\":1}",
        "",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
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
            "tool_plan",
            "function",
            "arguments",
            "name",
            "id",
            "image_url",
            "url",
            "tool_call_id",
            "schema",
            "json_schema",
            "parameters",
            "message",
            "finish_reason",
            "usage",
            "billed_units",
            "input_tokens",
            "float",
            "index",
            "relevance_score",
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
    "top_p",
    "top_k",
    "n",
    "parallel_tool_calls",
    "input",
    "input_type",
    "dimensions",
    "encoding_format",
    "query",
    "documents",
    "top_n",
    "return_documents",
    "rank_fields",
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
        let wrapped = json!({"message": answer.clone(), "finish_reason": "COMPLETE", "usage": answer.clone(),
            "embeddings": {"float": [answer.clone()]}, "results": [answer.clone()], "meta": answer.clone()});
        for op in [Operation::Chat, Operation::Embeddings, Operation::Rerank] {
            let req = request(op, body.clone(), stream, false);
            let _ = COHERE.encode(&d, &req, &Credentials::default());
            let _ = COHERE.decode_body(&d, &req, answer.to_string().into());
            let _ = COHERE.decode_body(&d, &req, wrapped.to_string().into());
        }
        let _ = COHERE.decode_error(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), wrapped.to_string().as_bytes());
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
    assert_eq!(deltas[3], json!({"content": " I will look it up."}));
    assert_eq!(
        deltas[4]["tool_calls"][0],
        json!({"index": 0, "id": "get_weather_1", "type": "function",
               "function": {"name": "get_weather", "arguments": ""}})
    );
    assert_eq!(deltas[7]["tool_calls"][0]["index"], 1);
    assert_eq!(deltas[8]["tool_calls"][0]["function"]["arguments"], "{}");
    assert_eq!(chunks[9]["choices"][0]["finish_reason"], "tool_calls");
    assert!(chunks.iter().all(|c| c["id"] == "c-1"));
    assert_eq!(chunks[10]["usage"]["prompt_tokens"], 5);
    assert_eq!(chunks[10]["usage"]["completion_tokens"], 30);
    assert_eq!(events.last().map(String::as_str), Some("data: [DONE]\n\n"));
    let (_, failure) = decode(&[valid_stream(true, true).as_bytes()], false);
    assert!(failure.is_some_and(|m| m.contains("boom")));
}
