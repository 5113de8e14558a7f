//! Properties of the Ollama translators, through the public `Dialect`: the
//! NDJSON decoder never panics on arbitrary bytes and gives the same
//! output however a valid stream is split; encode, decode and
//! decode_error never panic on arbitrary JSON.

use std::sync::Arc;

use proptest::prelude::*;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Map, Value, json};
use switchyard::api::wire::ApiRequest;
use switchyard::config::Deployment;
use switchyard::providers::{Credentials, Dialect, Operation, ProviderKind};

fn dialect() -> &'static dyn Dialect {
    ProviderKind::Ollama.dialect()
}

fn deployment() -> Arc<Deployment> {
    let yaml = "model_list:\n- model_name: local\n  litellm_params:\n    model: ollama_chat/llama3.3\n    api_base: http://127.0.0.1:9\n";
    let loaded = switchyard::config::load_str(yaml, "t.yaml").unwrap_or_else(|e| panic!("{e}"));
    loaded.config.deployments[0].clone()
}

fn request(op: Operation, body: Map<String, Value>, stream: bool) -> ApiRequest {
    ApiRequest {
        op,
        model: "local".into(),
        stream,
        include_usage: stream,
        body,
    }
}

/// Feeds `pieces` to a fresh decoder: the events out, with what differs
/// between two decoders (the answer id, the clock, the tool call ids
/// derived from the id) normalised, and the error that ended them, if any.
fn decode(pieces: &[&[u8]], include_usage: bool) -> (Vec<String>, Option<String>) {
    let mut req = request(Operation::Chat, Map::new(), true);
    req.include_usage = include_usage;
    let mut decoder = dialect().stream_decoder(&deployment(), &req);
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
                    let id = m.remove("id");
                    assert!(
                        id.and_then(|i| i.as_str().map(|s| s.starts_with("chatcmpl-")))
                            == Some(true)
                    );
                    if let Some(call) = m
                        .get_mut("choices")
                        .and_then(|c| c.pointer_mut("/0/delta/tool_calls/0"))
                    {
                        assert!(call["id"].as_str().unwrap().starts_with("call_"));
                        call["id"] = json!("call_*");
                    }
                    Value::Object(m).to_string()
                }
                _ => text,
            }
        })
        .collect();
    (events, failure)
}

fn line(message: Value, done: bool) -> String {
    format!(
        "{}\n",
        json!({"model": "llama3.3", "created_at": "2025-07-07T20:22:19.184789Z", "message": message, "done": done})
    )
}

/// A stream with thinking, non-ASCII text, two tool calls in one line and
/// a blank line, optionally failing with an error line near its end.
fn valid_stream(with_error: bool, crlf: bool) -> String {
    let mut lines = vec![
        line(
            json!({"role": "assistant", "content": "", "thinking": "Hmm… ünïcödé"}),
            false,
        ),
        "\n".to_string(),
        line(
            json!({"role": "assistant", "content": "Checking 11°C."}),
            false,
        ),
        line(
            json!({"role": "assistant", "content": "", "tool_calls": [
                {"function": {"name": "get_weather", "arguments": {"city": "Bern"}}},
                {"function": {"name": "get_time", "arguments": {}}},
            ]}),
            false,
        ),
    ];
    if with_error {
        lines.push("{\"error\":\"an error was encountered while running the model\"}\n".into());
    }
    let mut last: Value =
        serde_json::from_str(&line(json!({"role": "assistant", "content": ""}), true)).unwrap();
    last["done_reason"] = json!("stop");
    last["prompt_eval_count"] = json!(5);
    last["eval_count"] = json!(30);
    lines.push(format!("{last}\n"));
    let text = lines.concat();
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
        "function",
        "text",
        "image_url",
        "json_schema",
        "json_object",
        "required",
        "auto",
        "none",
        "high",
        "low",
        "json",
        "data:image/png;base64,AA",
        "data:,x",
        "https://x.y/z.png",
        "{\"a\":1}",
        "5m",
        "",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
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
            "schema",
            "json_schema",
            "parameters",
            "message",
            "thinking",
            "done",
            "done_reason",
            "eval_count",
            "prompt_eval_count",
            "embeddings",
            "error",
            "reasoning_content",
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
    "n",
    "temperature",
    "parallel_tool_calls",
    "top_k",
    "num_ctx",
    "keep_alive",
    "think",
    "format",
    "options",
    "input",
    "dimensions",
    "truncate",
    "encoding_format",
    "drop_params",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_ndjson_decoder_never_panics(
        pieces in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..16),
        include_usage in any::<bool>(),
    ) {
        let slices: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
        decode(&slices, include_usage);
    }

    #[test]
    fn the_ndjson_decoder_ignores_how_bytes_are_split(
        cuts in prop::collection::vec(any::<usize>(), 0..40),
        with_error in any::<bool>(),
        include_usage in any::<bool>(),
        crlf in any::<bool>(),
    ) {
        let whole = valid_stream(with_error, crlf);
        let bytes = whole.as_bytes();
        let pieces = switchyard::testing::split_at_points(bytes, cuts);
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
        embeddings in any::<bool>(),
    ) {
        let d = deployment();
        let body: Map<String, Value> = fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let op = if embeddings { Operation::Embeddings } else { Operation::Chat };
        let req = request(op, body, stream);
        let _ = dialect().encode(&d, &req, &Credentials::default());
        let _ = dialect().decode_body(&d, &req, answer.to_string().into());
        let wrapped = json!({"message": answer.clone(), "embeddings": [answer.clone()], "done": true,
            "done_reason": answer.clone(), "prompt_eval_count": answer.clone(), "error": answer});
        let _ = dialect().decode_body(&d, &req, wrapped.to_string().into());
        for status in [400, 404, 429, 500, 503] {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            let _ = dialect().decode_error(status, &HeaderMap::new(), wrapped.to_string().as_bytes());
        }
    }
}

#[test]
fn a_valid_stream_decodes_to_the_expected_chunks() {
    let (events, failure) = decode(&[valid_stream(false, true).as_bytes()], true);
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
    assert_eq!(deltas[2], json!({"content": "Checking 11°C."}));
    assert_eq!(
        deltas[3]["tool_calls"],
        json!([{"index": 0, "id": "call_*", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Bern\"}"}}])
    );
    assert_eq!(deltas[4]["tool_calls"][0]["index"], 1);
    assert_eq!(chunks[5]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        chunks[6]["usage"],
        json!({"prompt_tokens": 5, "completion_tokens": 30, "total_tokens": 35})
    );
    assert_eq!(events.last().map(String::as_str), Some("data: [DONE]\n\n"));
    assert_eq!(events.len(), 8);
}

#[test]
fn nothing_counts_after_done_and_a_last_line_may_lack_its_newline() {
    let stream = valid_stream(false, false);
    let trimmed = stream.trim_end();
    let (events, _) = decode(&[trimmed.as_bytes()], false);
    assert_eq!(events.last().map(String::as_str), Some("data: [DONE]\n\n"));
    let after = format!("{stream}{}", line(json!({"content": "late"}), false));
    let (with_more, _) = decode(&[after.as_bytes()], false);
    assert_eq!(with_more, events);
}
