//! The Bedrock decoders under arbitrary input: the event-stream reader and
//! the stream translator never panic on any bytes, their output does not
//! depend on how the bytes were split, and the body, error and request
//! translators never panic on any JSON.

use proptest::prelude::*;
use serde_json::{Value, json};
use switchyard::api::wire::ApiRequest;
use switchyard::config::Deployment;
use switchyard::providers::{Dialect, Operation, ProviderKind};

use crate::support::bedrock_api::{Event, frame};

fn deployment(model: &str) -> std::sync::Arc<Deployment> {
    let yaml = format!(
        "model_list:\n- model_name: b\n  litellm_params:\n    model: bedrock/{model}\n    aws_region_name: eu-central-1\n    aws_access_key_id: AKIDTEST\n    aws_secret_access_key: secret\n    aws_session_token: token\n"
    );
    switchyard::config::load_str(&yaml, "fuzz.yaml")
        .unwrap()
        .config
        .deployments[0]
        .clone()
}

fn request(include_usage: bool, json_mode: bool) -> ApiRequest {
    let mut body = json!({"model": "b", "stream": true, "stream_options": {"include_usage": include_usage},
                          "messages": [{"role": "user", "content": "x"}]});
    if json_mode {
        body["response_format"] = json!({"type": "json_object"});
    }
    ApiRequest::parse(Operation::Chat, body.to_string().as_bytes()).unwrap()
}

fn dialect() -> &'static dyn Dialect {
    ProviderKind::Bedrock.dialect()
}

/// Feeds `pieces`; returns the events with `id` and `created` normalised,
/// whether the decoder failed, and whether it is done.
fn decode_stream(
    pieces: &[&[u8]],
    include_usage: bool,
    json_mode: bool,
) -> (Vec<String>, bool, bool) {
    let d = deployment("anthropic.claude-3-haiku-20240307-v1:0");
    let mut decoder = dialect().stream_decoder(&d, &request(include_usage, json_mode));
    let mut out = Vec::new();
    let mut failed = false;
    for p in pieces {
        if decoder.feed(p, &mut out).is_err() {
            failed = true;
            break;
        }
    }
    let events = out
        .iter()
        .map(|b| {
            let text = String::from_utf8(b.to_vec()).expect("events are UTF-8");
            assert!(
                text.starts_with("data: ") && text.ends_with("\n\n"),
                "{text:?}"
            );
            match serde_json::from_str::<Value>(&text[6..]) {
                Ok(mut v) => {
                    v["created"] = json!(0);
                    v["id"] = json!("x");
                    v.to_string()
                }
                Err(_) => text,
            }
        })
        .collect();
    (events, failed, decoder.is_done())
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-zA-Z_ ]{0,8}".prop_map(Value::String),
        prop::sample::select(vec![
            "end_turn",
            "tool_use",
            "max_tokens",
            "json_response",
            "float",
            "text"
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop::sample::select(vec![
            "output",
            "message",
            "content",
            "text",
            "toolUse",
            "toolUseId",
            "name",
            "input",
            "stopReason",
            "usage",
            "inputTokens",
            "outputTokens",
            "contentBlockIndex",
            "delta",
            "start",
            "embedding",
            "embeddings",
            "float",
            "message",
            "__type",
            "reasoningContent",
            "reasoningText",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys, inner), 0..5).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

/// A well-formed ConverseStream: text, reasoning and tool-use blocks, then
/// `messageStop` and `metadata`.
fn arb_events() -> impl Strategy<Value = Vec<Event>> {
    let block = prop_oneof![
        prop::collection::vec("\\PC{0,10}", 1..4).prop_map(|t| (0u8, String::new(), t)),
        prop::collection::vec("\\PC{1,6}", 1..3).prop_map(|t| (1u8, String::new(), t)),
        (
            "[a-z_]{1,8}|json_response",
            prop::collection::vec("[{}\":a-z0-9 ]{0,8}", 0..4)
        )
            .prop_map(|(n, t)| (2u8, n, t)),
    ];
    (prop::collection::vec(block, 0..5), prop::sample::select(vec!["end_turn", "tool_use", "max_tokens", "guardrail_intervened"]))
        .prop_map(|(blocks, stop)| {
            let mut events = vec![Event::Event("messageStart", json!({"role": "assistant"}))];
            for (i, (kind, name, pieces)) in blocks.into_iter().enumerate() {
                if kind == 2 {
                    events.push(Event::Event("contentBlockStart", json!({"contentBlockIndex": i, "start": {"toolUse": {"toolUseId": format!("t{i}"), "name": name}}})));
                }
                for piece in pieces {
                    let delta = match kind {
                        0 => json!({"text": piece}),
                        1 => json!({"reasoningContent": {"text": piece}}),
                        _ => json!({"toolUse": {"input": piece}}),
                    };
                    events.push(Event::Event("contentBlockDelta", json!({"contentBlockIndex": i, "delta": delta})));
                }
                events.push(Event::Event("contentBlockStop", json!({"contentBlockIndex": i})));
            }
            events.push(Event::Event("messageStop", json!({"stopReason": stop})));
            events.push(Event::Event("metadata", json!({"usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}})));
            events
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn stream_output_does_not_depend_on_splitting(
        events in arb_events(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..16),
        include_usage in any::<bool>(),
        json_mode in any::<bool>(),
    ) {
        let bytes: Vec<u8> = events.iter().flat_map(frame).collect();
        let pieces =
            switchyard::testing::split_at_points(&bytes, cuts.iter().map(|i| i.index(bytes.len() + 1)));
        let (whole, failed, done) = decode_stream(&[&bytes], include_usage, json_mode);
        prop_assert!(!failed && done);
        let (split, failed, done) = decode_stream(&pieces, include_usage, json_mode);
        prop_assert!(!failed && done);
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(whole.last().map(String::as_str), Some("data: [DONE]\n\n"));
        prop_assert!(whole[0].contains("\"role\":\"assistant\""));
    }

    #[test]
    fn stream_decoder_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600), flip in any::<prop::sample::Index>()) {
        let _ = decode_stream(&[&bytes], true, false);
        // A valid frame with one bit flipped is refused, never half-read.
        let mut framed = frame(&Event::Event("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"text": "hi"}})));
        let at = flip.index(framed.len());
        framed[at] ^= 0x10;
        let (events, failed, _) = decode_stream(&[&framed], true, false);
        prop_assert!(failed || events.is_empty());
    }

    #[test]
    fn decoders_never_panic_on_json(value in arb_json(), status in 400u16..600, kind in "[a-zA-Z]{0,20}") {
        let text = value.to_string();
        for event in ["messageStart", "contentBlockStart", "contentBlockDelta", "messageStop", "metadata"] {
            let _ = decode_stream(&[&frame(&Event::Event(event, value.clone()))], true, true);
        }
        let chat = deployment("anthropic.claude-3-haiku-20240307-v1:0");
        let _ = dialect().decode_body(&chat, &request(false, true), bytes::Bytes::from(text.clone()));
        for model in ["amazon.titan-embed-text-v2:0", "cohere.embed-english-v3"] {
            let embeddings = ApiRequest::parse(Operation::Embeddings, br#"{"model": "b", "input": "x", "encoding_format": "base64"}"#).unwrap();
            let _ = dialect().decode_body(&deployment(model), &embeddings, bytes::Bytes::from(text.clone()));
        }
        let mut headers = reqwest::header::HeaderMap::new();
        if let Ok(v) = reqwest::header::HeaderValue::from_str(&kind) {
            headers.insert("x-amzn-errortype", v);
        }
        let status = reqwest::StatusCode::from_u16(status).unwrap();
        let e = dialect().decode_error(status, &headers, text.as_bytes());
        prop_assert!(e.status.is_client_error() || e.status.is_server_error());
    }

    #[test]
    fn encoders_never_panic_on_json(value in arb_json()) {
        let d = deployment("anthropic.claude-3-haiku-20240307-v1:0");
        let body = json!({"model": "b", "messages": [{"role": "user", "content": "x"}, value.clone()],
                          "tools": [{"type": "function", "function": {"name": "f", "parameters": value.clone()}}],
                          "tool_choice": value.clone(),
                          "response_format": {"type": "json_schema", "json_schema": {"schema": value}}});
        if let Ok(request) = ApiRequest::parse(Operation::Chat, body.to_string().as_bytes()) {
            let _ = dialect().encode(&d, &request, &Default::default());
        }
    }
}
