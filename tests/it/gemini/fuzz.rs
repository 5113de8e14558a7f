//! The Gemini decoders under arbitrary input: they never panic, and the
//! stream decoder's output does not depend on how the bytes were split.

use proptest::prelude::*;
use serde_json::{Value, json};
use switchyard::api::wire::ApiRequest;
use switchyard::config::Deployment;
use switchyard::providers::{Dialect, Operation, ProviderKind};

fn deployment() -> std::sync::Arc<Deployment> {
    let yaml = "model_list:\n- model_name: g\n  litellm_params:\n    model: gemini/gemini-2.5-flash\n    api_key: k\n";
    switchyard::config::load_str(yaml, "fuzz.yaml")
        .unwrap()
        .config
        .deployments[0]
        .clone()
}

fn request(stream: bool, include_usage: bool, n: u64) -> ApiRequest {
    let body = json!({"model": "g", "stream": stream, "n": n, "stream_options": {"include_usage": include_usage},
                      "messages": [{"role": "user", "content": "x"}]});
    ApiRequest::parse(Operation::Chat, body.to_string().as_bytes()).unwrap()
}

fn dialect() -> &'static dyn Dialect {
    ProviderKind::Gemini.dialect()
}

/// Feeds `pieces` and returns the events (with `created` normalised) and
/// whether the decoder failed.
fn decode_stream(pieces: &[&[u8]], include_usage: bool, n: u64) -> (Vec<String>, bool) {
    let d = deployment();
    let mut decoder = dialect().stream_decoder(&d, &request(true, include_usage, n));
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
                    v.to_string()
                }
                Err(_) => text,
            }
        })
        .collect();
    (events, failed)
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-zA-Z_ ]{0,8}".prop_map(Value::String),
        prop::sample::select(vec![
            "STOP",
            "MAX_TOKENS",
            "SAFETY",
            "text",
            "functionCall",
            "candidates"
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop::sample::select(vec![
            "candidates",
            "content",
            "parts",
            "text",
            "functionCall",
            "name",
            "args",
            "finishReason",
            "index",
            "usageMetadata",
            "promptTokenCount",
            "promptFeedback",
            "blockReason",
            "error",
            "code",
            "thought",
            "embeddings",
            "values",
            "predictions",
            "responseId",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys, inner), 0..5).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

/// A well-formed stream: text, thoughts and function calls, every candidate
/// finishing at the end.
fn arb_stream() -> impl Strategy<Value = (Vec<Value>, u64)> {
    let part = prop_oneof![
        "\\PC{0,12}".prop_map(|t| json!({"text": t})),
        "\\PC{1,6}".prop_map(|t| json!({"text": t, "thought": true})),
        ("[a-z_]{1,8}", "[a-z]{0,6}")
            .prop_map(|(n, v)| json!({"functionCall": {"name": n, "args": {"v": v}}})),
    ];
    (1u64..=2, prop::collection::vec((prop::collection::vec(part, 0..3), 0u64..2), 0..6)).prop_map(
        |(n, steps)| {
            let mut events: Vec<Value> = steps
                .into_iter()
                .map(|(parts, c)| json!({"responseId": "p", "candidates": [{"index": c % n, "content": {"role": "model", "parts": parts}}]}))
                .collect();
            let finals: Vec<Value> = (0..n).map(|i| json!({"index": i, "finishReason": "STOP", "content": {"parts": []}})).collect();
            events.push(json!({"responseId": "p", "candidates": finals, "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2}}));
            (events, n)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn stream_output_does_not_depend_on_splitting(
        (events, n) in arb_stream(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        crlf in any::<bool>(),
        include_usage in any::<bool>(),
    ) {
        let sep = if crlf { "\r\n\r\n" } else { "\n\n" };
        let bytes: Vec<u8> = events.iter().flat_map(|e| format!("data: {e}{sep}").into_bytes()).collect();
        let pieces =
            switchyard::testing::split_at_points(&bytes, cuts.iter().map(|i| i.index(bytes.len() + 1)));
        let (whole, failed) = decode_stream(&[&bytes], include_usage, n);
        prop_assert!(!failed);
        let (split, failed) = decode_stream(&pieces, include_usage, n);
        prop_assert!(!failed);
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(whole.last().map(String::as_str), Some("data: [DONE]\n\n"));
    }

    #[test]
    fn stream_decoder_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400), n in 1u64..3) {
        let _ = decode_stream(&[&bytes], true, n);
        let framed = [b"data: ".as_slice(), &bytes, b"\n\n"].concat();
        let _ = decode_stream(&[&framed], false, n);
    }

    #[test]
    fn decoders_never_panic_on_json(value in arb_json(), status in 400u16..600) {
        let text = value.to_string();
        let _ = decode_stream(&[format!("data: {text}\n\n").as_bytes()], true, 1);
        let d = deployment();
        let _ = dialect().decode_body(&d, &request(false, false, 1), bytes::Bytes::from(text.clone()));
        let embeddings = ApiRequest::parse(Operation::Embeddings, br#"{"model": "g", "input": "x", "encoding_format": "base64"}"#).unwrap();
        let _ = dialect().decode_body(&d, &embeddings, bytes::Bytes::from(text.clone()));
        let _ = ProviderKind::VertexAi.dialect().decode_body(&d, &embeddings, bytes::Bytes::from(text.clone()));
        let status = reqwest::StatusCode::from_u16(status).unwrap();
        let e = dialect().decode_error(status, &reqwest::header::HeaderMap::new(), text.as_bytes());
        prop_assert!(e.status.is_client_error() || e.status.is_server_error());
    }

    #[test]
    fn encoders_never_panic_on_json(value in arb_json()) {
        let d = deployment();
        let body = json!({"model": "g", "messages": [{"role": "user", "content": "x"}, value.clone()],
                          "tools": [{"type": "function", "function": {"name": "f", "parameters": value.clone()}}],
                          "response_format": {"type": "json_schema", "json_schema": {"schema": value}}});
        if let Ok(request) = ApiRequest::parse(Operation::Chat, body.to_string().as_bytes()) {
            let _ = dialect().encode(&d, &request, &Default::default());
        }
    }
}
